/// The linear map u ↦ J·u of a function at a point, kept so it can be applied many times without evaluating the
/// function again; its transpose v ↦ vᵀJ; and its matrix J.
///
/// Made by ``linearize(of:at:)``. It holds the graph recorded while evaluating f once, with every value the
/// forward rules need (see ``memoryBytes``). Applying it runs only the primitives' forward (JVP) rules over that
/// graph, which are linear in the tangent; transposing runs one reverse pass over the same graph.
///
/// Shapes: the map takes tensors shaped like the input (``inputShape``) and returns tensors shaped like the output
/// (``outputShape``); its transpose goes the other way.
public struct LinearMap<Scalar: TensorScalar>: Sendable {
    /// The shape of the vectors the map takes: f's input shape.
    public let inputShape: [Int]
    /// The shape of the vectors the map returns: f's output shape.
    public let outputShape: [Int]
    private let input: GradNode
    private let output: AnyTensor

    init(input: GradNode, inputShape: [Int], output: AnyTensor) {
        self.input = input
        self.inputShape = inputShape
        self.outputShape = output.shape
        self.output = output
    }

    /// J·u: (J·u)ᵢ = Σⱼ ∂fᵢ/∂xⱼ uⱼ, shaped like the output. f is not evaluated again.
    /// - Throws: ``AutogradError/tangentShapeMismatch(input:tangentShape:inputShape:outputShapes:call:)`` if u is
    ///   not shaped like the input.
    public func callAsFunction(_ u: Tensor<Scalar>) throws -> Tensor<Scalar> {
        if u.shape != inputShape {
            throw AutogradError.tangentShapeMismatch(input: 0, tangentShape: u.shape, inputShape: inputShape,
                                                     outputShapes: [outputShape], call: "LinearMap.callAsFunction")
        }
        return Tensor(unchecked: push(u.base, batchShape: []))
    }

    /// vᵀJ: (vᵀJ)ⱼ = Σᵢ vᵢ ∂fᵢ/∂xⱼ, shaped like the input. One reverse pass over the kept graph.
    /// - Throws: ``AutogradError/cotangentShapeMismatch(output:cotangentShape:outputShape:inputShapes:call:)`` if v
    ///   is not shaped like the output.
    public func transpose(_ v: Tensor<Scalar>) throws -> Tensor<Scalar> {
        if v.shape != outputShape {
            throw AutogradError.cotangentShapeMismatch(output: 0, cotangentShape: v.shape, outputShape: outputShape,
                                                       inputShapes: [inputShape], call: "LinearMap.transpose")
        }
        return Tensor(unchecked: try pull(v.base, batchShape: []))
    }

    /// J itself, shape output shape + input shape, by pushing the identity through the map (or pulling it back
    /// through the transpose, whichever batch is smaller) in one batched pass.
    public func materialize() throws -> Tensor<Scalar> {
        let n = Shape.count(inputShape), m = Shape.count(outputShape)
        if n <= m {
            let columns = push(Jacobians.identity(Scalar.scalarType, inputShape), batchShape: [n])  // [n] + out
            return Tensor(unchecked: columns.value.reshaped([n, m]).permuted([1, 0]).reshaped(outputShape + inputShape))
        }
        let rows = try pull(Jacobians.identity(Scalar.scalarType, outputShape), batchShape: [m])    // [m] + in
        return Tensor(unchecked: rows.value.reshaped(outputShape + inputShape))
    }

    /// Bytes of tensor data the map keeps alive (the values recorded while evaluating f once).
    public var memoryBytes: Int {
        var seen = Set<ObjectIdentifier>()
        var bytes = 0
        walk { node in
            let saved = node.peekSaved()
            for x in saved.inputs where seen.insert(ObjectIdentifier(x.storage)).inserted {
                bytes += x.count * x.scalarType.byteCount
            }
            if let out = saved.output, seen.insert(ObjectIdentifier(out)).inserted {
                bytes += out.count * out.type.byteCount
            }
        }
        return bytes
    }

    /// Visits the recorded nodes in topological order, inputs first.
    private func walk(_ visit: (GradNode) -> Void) {
        guard let root = output.node else { return }
        var seen = Set<ObjectIdentifier>([ObjectIdentifier(root)])
        var stack: [(GradNode, Int)] = [(root, 0)]
        while let (node, next) = stack.last {
            if next < node.inputs.count {
                stack[stack.count - 1].1 += 1
                if let child = node.inputs[next].node, seen.insert(ObjectIdentifier(child)).inserted {
                    stack.append((child, 0))
                }
            } else {
                visit(node)
                stack.removeLast()
            }
        }
    }

    /// Runs the forward rules over the graph with `u` as the input's tangent.
    private func push(_ u: AnyTensor, batchShape: [Int]) -> AnyTensor {
        var tangents: [ObjectIdentifier: AnyTensor] = [ObjectIdentifier(input): u]
        withoutRecording {
            walk { node in
                guard !node.isLeaf else { return }
                let primitive = node.primitive
                let incoming = node.inputs.map { $0.node.flatMap { tangents[ObjectIdentifier($0)] } }
                guard incoming.contains(where: { $0 != nil }) else { return }
                let saved = node.peekSaved()
                let values = saved.inputs.map(\.value)
                let out = saved.output.map { AnyTensor(storage: $0, shape: node.outputShape) }
                let ctx = RuleContext(inputs: values, node: node, outputValue: out, outputShape: node.outputShape,
                                      batchShape: batchShape, needs: 0, isDifferentiable: false)
                if let t = primitive.jvp(ctx, incoming) { tangents[ObjectIdentifier(node)] = t }
            }
        }
        return output.node.flatMap { tangents[ObjectIdentifier($0)] }
            ?? Kernel.filled(Scalar.scalarType, batchShape + outputShape, 0)
    }

    /// One reverse pass over the kept graph from `v`.
    private func pull(_ v: AnyTensor, batchShape: [Int]) throws -> AnyTensor {
        guard let root = output.node else { return Kernel.filled(Scalar.scalarType, batchShape + inputShape, 0) }
        let r = try ReversePass.run(roots: [Root(node: root, cotangent: v)], targets: [input], batchShape: batchShape, retainGraph: true,
                                    createGraph: false, accumulateIntoLeaves: false)
        return r[0] ?? Kernel.filled(Scalar.scalarType, batchShape + inputShape, 0)
    }
}

/// Evaluates f once at x and returns its value with the linear map u ↦ J·u (J = ∂f/∂x), as JAX's `linearize`.
///
/// ```swift
/// let (y, J) = try linearize(of: f, at: x)
/// let ju = try J(u)                   // J·u, shaped like y: no new evaluation of f
/// let vj = try J.transpose(v)         // vᵀJ, shaped like x
/// let matrix = try J.materialize()    // J, shape y.shape + x.shape
/// ```
///
/// Use it when J·u is needed for many u at the same point (a Gauss–Newton or Krylov iteration): each product then
/// costs only the forward rules, not a forward evaluation. It keeps every intermediate value of f in memory
/// (``LinearMap/memoryBytes``) for as long as the map lives.
public func linearize<Scalar: TensorScalar>(
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>
) throws -> (value: Tensor<Scalar>, linearMap: LinearMap<Scalar>) {
    let leaf = GradNode(leafShape: x.shape, scalarType: x.scalarType, location: nil)
    let y = try ADScope.current.with(recording: true, savesEverything: true).run {
        try f(Tensor(unchecked: AnyTensor(storage: x.base.storage, shape: x.shape, node: leaf)))
    }
    return (y.detached(), LinearMap(input: leaf, inputShape: x.shape, output: y.base))
}

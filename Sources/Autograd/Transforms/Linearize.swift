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
    /// The derivative level of the `linearize` call that made the map (its input's leaf belongs to it).
    private let level: Int
    /// Whether the recorded graph depends on variables of other derivative levels: an enclosing call's variable
    /// (reverse history reaching a leaf of another level, or forward tangents on a recorded value). Then J itself
    /// depends on them, and applying or transposing the map runs the rules on the recorded values as they are, so
    /// an enclosing call can differentiate J·u and vᵀJ. Otherwise the rules run on plain values, recording nothing.
    private let dependsOnOtherLevels: Bool

    init(input: GradNode, inputShape: [Int], output: AnyTensor, level: Int) {
        self.input = input
        self.inputShape = inputShape
        self.outputShape = output.shape
        self.output = output
        self.level = level
        // One walk: a leaf of another level (reverse history reaching an enclosing call's variable) or a recorded
        // value carrying tangents makes J depend on other levels.
        var depends = output.hasTangents
        GraphWalk.postOrder(from: output.node.map { [$0] } ?? []) { node in
            if node.isLeaf && node.level != level { depends = true }
            let saved = node.peekSaved()
            if saved.outputHasTangents || saved.inputs.contains(where: { $0.hasTangents }) { depends = true }
        }
        self.dependsOnOtherLevels = depends
    }

    /// Whether the map's results can be differentiated by an enclosing derivative call (see
    /// `dependsOnOtherLevels`); then the value returned by `linearize` keeps its history too.
    var isDifferentiable: Bool { dependsOnOtherLevels }

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
            return Tensor(unchecked: columns.reshaped([n, m]).permuted([1, 0]).reshaped(outputShape + inputShape))
        }
        let rows = try pull(Jacobians.identity(Scalar.scalarType, outputShape), batchShape: [m])    // [m] + in
        return Tensor(unchecked: rows.reshaped(outputShape + inputShape))
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
        GraphWalk.postOrder(from: output.node.map { [$0] } ?? [], visit)
    }

    /// Runs the forward rules over the graph with `u` as the input's tangent. On plain values, recording nothing,
    /// unless the graph depends on other levels: then on the recorded values as they are (with their history and
    /// tangents), recording as the caller's scope says, so that J·u is differentiable in what J depends on.
    private func push(_ u: AnyTensor, batchShape: [Int]) -> AnyTensor {
        var tangents: [ObjectIdentifier: AnyTensor] = [ObjectIdentifier(input): u]
        let plain = !dependsOnOtherLevels
        func run() {
            walk { node in
                guard !node.isLeaf, node !== input else { return }
                let primitive = node.primitive
                let incoming = node.inputs.map { $0.node.flatMap { tangents[ObjectIdentifier($0)] } }
                guard incoming.contains(where: { $0 != nil }) else { return }
                let saved = node.peekSaved()
                let values = plain ? saved.inputs.map(\.value) : saved.inputs
                let out = saved.output.map {
                    plain ? AnyTensor(storage: $0, shape: node.outputShape)
                        : AnyTensor(storage: $0, shape: node.outputShape, node: node, tangents: saved.outputTangents)
                }
                let ctx = RuleContext(inputs: values, node: node, outputValue: out, outputShape: node.outputShape,
                                      batchShape: batchShape, needs: 0, isDifferentiable: !plain || u.hasDerivativeState)
                if let t = primitive.jvp(ctx, incoming) {
                    checkRuleShape(t, batch: batchShape, shape: node.outputShape, primitive.name, "JVP")
                    tangents[ObjectIdentifier(node)] = t
                }
            }
        }
        if plain && !u.hasDerivativeState { withoutRecording(run) } else { run() }
        return output.node.flatMap { tangents[ObjectIdentifier($0)] }
            ?? Kernel.filled(Scalar.scalarType, batchShape + outputShape, 0)
    }

    /// One reverse pass over the kept graph from `v`.
    private func pull(_ v: AnyTensor, batchShape: [Int]) throws -> AnyTensor {
        guard let root = output.node else { return Kernel.filled(Scalar.scalarType, batchShape + inputShape, 0) }
        let r = try ReversePass.run(roots: [Root(node: root, cotangent: v)], targets: [input], level: level,
                                    batchShape: batchShape, retainGraph: true, createGraph: false,
                                    accumulateIntoLeaves: false)
        return r.results[0] ?? Kernel.filled(Scalar.scalarType, batchShape + inputShape, 0)
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
    let level = Levels.next()
    let (input, y) = try ADScope.current.with(recording: true, savesEverything: true).run {
        let input = x.base.markedForReverse(level: level)
        return (input, try f(Tensor(unchecked: input)).base)
    }
    let map = LinearMap<Scalar>(input: input.node!, inputShape: x.shape, output: y, level: level)
    // The value keeps its history only when an enclosing call can differentiate it.
    return (Tensor(unchecked: map.isDifferentiable ? y : y.value), map)
}

/// Shared checks and plumbing of the reverse-mode calls.
enum Derivatives {
    /// Checks that there is one cotangent per output, and returns the leading batch dimensions the cotangents carry
    /// (nil unless `batched`: then every cotangent has shape B + its output's shape, and B is read off the first).
    static func cotangentBatchShape(_ cotangents: [AnyTensor]?, outputs: [AnyTensor], batched: Bool,
                                    call: String) throws -> [Int]? {
        if let cotangents, cotangents.count != outputs.count {
            throw AutogradError.countMismatch(what: "cotangents (one per output)", expected: outputs.count,
                                              actual: cotangents.count)
        }
        guard batched else { return nil }
        guard let first = cotangents?.first, let y = outputs.first else {
            throw AutogradError.missingCotangent(output: 0, outputShape: outputs.first?.shape ?? [], call: call)
        }
        return Array(first.shape.dropLast(y.rank))
    }

    /// Validates (or, for a one-element output, creates) the cotangent of output `index`.
    static func checkedCotangent(_ v: AnyTensor?, for y: AnyTensor, index: Int, batchShape: [Int]?,
                                 inputShapes: [[Int]], call: String) throws -> AnyTensor {
        guard let v else {
            if y.count != 1 || batchShape != nil {
                throw AutogradError.missingCotangent(output: index, outputShape: y.shape, call: call)
            }
            return Kernel.filled(y.scalarType, y.shape, 1)
        }
        if v.scalarType != y.scalarType {
            throw AutogradError.mixedScalarTypes(what: "the cotangent for output \(index)", expected: y.scalarType,
                                                 actual: v.scalarType)
        }
        let expected = (batchShape ?? []) + y.shape
        if v.shape != expected {
            if let batchShape, v.shape.count >= y.rank, Array(v.shape.suffix(y.rank)) == y.shape {
                throw AutogradError.batchShapeMismatch(what: "the cotangent for output \(index)",
                                                       expected: batchShape, actual: Array(v.shape.dropLast(y.rank)))
            }
            throw AutogradError.cotangentShapeMismatch(output: index, cotangentShape: v.shape, outputShape: y.shape,
                                                       inputShapes: inputShapes, call: call)
        }
        return v
    }

    /// The reverse-mode core behind every vᵀJ call: validates everything, then runs one reverse pass.
    static func reverse(outputs: [AnyTensor], inputs: [AnyTensor], cotangents: [AnyTensor]?, batched: Bool,
                        retainGraph: Bool, createGraph: Bool, allowUnused: Bool, call: String) throws -> [AnyTensor] {
        let batchShape = try cotangentBatchShape(cotangents, outputs: outputs, batched: batched, call: call)
        var targets: [GradNode] = []
        for (i, x) in inputs.enumerated() {
            guard let node = x.node else { throw AutogradError.inputNotRecorded(input: i, shape: x.shape) }
            targets.append(node)
        }
        var roots: [Root] = []
        for (k, y) in outputs.enumerated() {
            let v = try checkedCotangent(cotangents?[k], for: y, index: k, batchShape: batchShape,
                                         inputShapes: inputs.map(\.shape), call: call)
            guard let node = y.node else { throw AutogradError.outputNotRecorded(output: k, shape: y.shape) }
            roots.append(Root(node: node, cotangent: v))
        }
        let batch = batchShape ?? []
        // A leaf-style call works at level 0, the level of `requiringGradient()` leaves: it records itself when
        // asked, or when its graph reaches a variable of an enclosing functional call (see `ReversePass.records`).
        let pass = ReversePass(roots: roots.map(\.node), targets: targets, accumulateIntoLeaves: false, level: 0)
        if !allowUnused, let unused = pass.unreachableTargets.first {
            throw AutogradError.unusedInput(input: unused, shape: inputs[unused].shape)
        }
        let record = pass.records(createGraph: createGraph, roots: roots)
        let results = try pass.execute(roots: roots, batchShape: batch, retainGraph: retainGraph || record,
                                       createGraph: record)
        return zip(results, inputs).map { r, x in r ?? Kernel.filled(x.scalarType, batch + x.shape, 0) }
    }

}

/// Reverse mode: the vector-Jacobian products vᵀJ of `outputs` with respect to `inputs`.
///
/// For one output y and one input x, with J = ∂y/∂x (of shape y.shape + x.shape) and a cotangent v shaped like y:
///
///     result_j = Σᵢ vᵢ · ∂yᵢ/∂xⱼ        (vᵀJ, shaped like x)
///
/// Over several outputs the products are summed: result for input x = Σₖ vₖᵀ ∂yₖ/∂x. PyTorch calls this
/// `torch.autograd.grad(outputs, inputs, grad_outputs=v)`; `grad_outputs` is v.
///
/// - Parameters:
///   - outputs: tensors y computed from `inputs` (or from leaves the inputs depend on) while recording.
///   - inputs: tensors x to differentiate with respect to: leaves made by ``Tensor/requiringGradient(file:line:)``
///     or intermediate results.
///   - cotangents: one v per output, each shaped like its output (the same shape, not the input's). May be nil
///     only if every output has exactly one element; then v = 1 and the result is the ordinary gradient.
///     To push a vector u shaped like the input forward (J·u), use ``jvp(of:at:tangent:)`` instead.
///   - batched: each cotangent has extra leading batch dimensions B (shape B + y.shape); the result for input x
///     then has shape B + x.shape, computed in ONE reverse pass (PyTorch's `is_grads_batched`).
///   - retainGraph: keep the recorded graph for another reverse pass (otherwise each node's saved values are
///     released as soon as its rule has run).
///   - createGraph: record the reverse pass itself, so the results can be differentiated again (higher-order
///     derivatives); implies `retainGraph`.
///   - allowUnused: an input no output depends on gets zeros (batch + its shape) instead of an error.
/// - Returns: one tensor per input, shaped like that input (with the batch dimensions in front when `batched`).
/// - Throws: ``AutogradError`` when a cotangent has the wrong shape or type (the message says what v must look
///   like and, if v is shaped like the input, points to `jvp`), when one is missing for a non-scalar output, when
///   an input is unused or was never recorded, or when the graph was already released.
/// - Complexity: one reverse pass over the recorded graph, about 2–3 times the cost of computing the outputs,
///   whatever the number of inputs.
public func gradients<Scalar: TensorScalar>(
    of outputs: [Tensor<Scalar>], wrt inputs: [Tensor<Scalar>], cotangents: [Tensor<Scalar>]? = nil,
    batched: Bool = false, retainGraph: Bool = false, createGraph: Bool = false, allowUnused: Bool = false
) throws -> [Tensor<Scalar>] {
    try Derivatives.reverse(outputs: outputs.map(\.base), inputs: inputs.map(\.base),
                            cotangents: cotangents?.map(\.base), batched: batched, retainGraph: retainGraph,
                            createGraph: createGraph, allowUnused: allowUnused,
                            call: "gradients(of:wrt:cotangents:)").map { Tensor(unchecked: $0) }
}

/// Reverse mode over tensors of mixed element types (say a Float output and a Double parameter, connected by a
/// conversion). Same formula and rules as the typed form: result for input x = Σₖ vₖᵀ ∂yₖ/∂x, shaped like x, with
/// each cotangent vₖ shaped like, and of the same element type as, its output yₖ.
/// - Throws: ``AutogradError/mixedScalarTypes(what:expected:actual:)`` if a cotangent's element type differs from
///   its output's, and the errors of the typed form.
public func gradients(
    of outputs: [AnyTensor], wrt inputs: [AnyTensor], cotangents: [AnyTensor]? = nil, batched: Bool = false,
    retainGraph: Bool = false, createGraph: Bool = false, allowUnused: Bool = false
) throws -> [AnyTensor] {
    try Derivatives.reverse(outputs: outputs, inputs: inputs, cotangents: cotangents, batched: batched,
                            retainGraph: retainGraph, createGraph: createGraph, allowUnused: allowUnused,
                            call: "gradients(of:wrt:cotangents:)")
}

/// Reverse mode for one output and one input: vᵀJ, with J = ∂y/∂x.
///
///     result_j = Σᵢ vᵢ · ∂yᵢ/∂xⱼ
///
/// Shapes: `cotangent` v like the output y; the result like the input x. With `cotangent` omitted (allowed only
/// when y has one element) v = 1, the ordinary gradient ∇ₓy.
///
/// ```swift
/// let w = w0.requiringGradient()                  // [1, 2]
/// let losses = perExampleLosses(w)                 // [100]
/// let g = try gradient(of: losses, wrt: w, cotangent: v)   // v: [100] → g: [1, 2]
/// ```
/// This is *not* J·u for a u shaped like x: that is the Jacobian-vector product, ``jvp(of:at:tangent:)``. Passing
/// such a u here throws an error that says so.
/// - Complexity: one reverse pass (about 2–3 × computing y).
public func gradient<Scalar: TensorScalar>(
    of output: Tensor<Scalar>, wrt input: Tensor<Scalar>, cotangent: Tensor<Scalar>? = nil,
    retainGraph: Bool = false, createGraph: Bool = false, allowUnused: Bool = false
) throws -> Tensor<Scalar> {
    let r = try Derivatives.reverse(outputs: [output.base], inputs: [input.base],
                                    cotangents: cotangent.map { [$0.base] }, batched: false, retainGraph: retainGraph,
                                    createGraph: createGraph, allowUnused: allowUnused,
                                    call: "gradient(of:wrt:cotangent:)")
    return Tensor(unchecked: r[0])
}

/// The engines behind the functional calls (`gradient(at:of:)`, `vjp`, `jvp`, ...), on type-erased tensors.
enum Functional {
    /// Evaluates `f` at `points` and pulls cotangents back through one reverse pass: the engine of every
    /// functional reverse-mode call.
    ///
    /// The call is a derivative *level* of its own: its inputs get fresh leaves of a new level, so the derivative
    /// is with respect to exactly these arguments even if they also appear elsewhere (no perturbation confusion),
    /// and an input that already carries history (an enclosing call's variable) gets an `identity` node on top, so
    /// the enclosing call still sees through it. The reverse pass records itself exactly when its result depends
    /// on a variable of another level (see `ReversePass.records`), whatever kind of call encloses this one.
    /// `cotangents` builds the cotangent of each output from the outputs (nil: one-element outputs, v = 1).
    /// Outputs that do not depend on the inputs contribute zero; inputs that are unused get zeros (as in JAX).
    /// With `tangentsAt` a forward level (open, unbatched), the results are instead the tangents at that level of
    /// those derivatives, computed without their values where the rules allow (see `ReversePass.execute`).
    static func reverse(at points: [AnyTensor], batched: Bool, call: String, tangentsAt tangentLevel: Int? = nil,
                        cotangents: ([AnyTensor]) throws -> [AnyTensor]?,
                        _ f: ([AnyTensor]) throws -> [AnyTensor]) throws -> (values: [AnyTensor], results: [AnyTensor]) {
        let level = Levels.next()
        let (inputs, outputs) = try ADScope.current.with(recording: true).run { () throws -> ([AnyTensor], [AnyTensor]) in
            let inputs = points.map { $0.markedForReverse(level: level) }
            return (inputs, try f(inputs))
        }
        let vs = try cotangents(outputs)
        let batchShape = try Derivatives.cotangentBatchShape(vs, outputs: outputs, batched: batched, call: call)
        var roots: [Root] = []
        for (k, y) in outputs.enumerated() {
            let v = try Derivatives.checkedCotangent(vs?[k], for: y, index: k, batchShape: batchShape,
                                                     inputShapes: points.map(\.shape), call: call)
            if let node = y.node { roots.append(Root(node: node, cotangent: v)) }
        }
        let batch = batchShape ?? []
        let (results, recorded) = try ReversePass.run(roots: roots, targets: inputs.map { $0.node! }, level: level,
                                                      batchShape: batch, retainGraph: false, createGraph: false,
                                                      accumulateIntoLeaves: false, tangentsAt: tangentLevel)
        // The values keep their history when the pass recorded: they depend on an enclosing call's variables.
        let values = recorded ? outputs : outputs.map(\.withoutNode)
        return (values, zip(results, points).map { r, x in r ?? Kernel.filled(x.scalarType, batch + x.shape, 0) })
    }

    /// `reverse` with the cotangents given up front.
    static func reverse(at points: [AnyTensor], cotangents: [AnyTensor]?, batched: Bool, call: String,
                        tangentsAt tangentLevel: Int? = nil,
                        _ f: ([AnyTensor]) throws -> [AnyTensor]) throws -> (values: [AnyTensor], results: [AnyTensor]) {
        try reverse(at: points, batched: batched, call: call, tangentsAt: tangentLevel, cotangents: { _ in cotangents }, f)
    }

    /// Evaluates `f` at `points` with `tangents` attached at a new forward level: one forward pass giving the
    /// values and J·u. Checks the tangents first; a tangent shaped like an output gets an error pointing to vjp.
    static func forward(at points: [AnyTensor], tangents: [AnyTensor], batched: Bool, call: String,
                        _ f: ([AnyTensor]) throws -> [AnyTensor]) throws -> (values: [AnyTensor], tangents: [AnyTensor]) {
        let batchShape = try checkedTangentBatch(at: points, tangents: tangents, batched: batched, call: call, f)
        return try Levels.withLevel(batchShape: batchShape) { level in
            let inputs = zip(points, tangents).map { x, u in x.withTangent(u, level: level) }
            let outputs = try f(inputs)
            let values = outputs.map { $0.primal(below: level) }
            let pushed = outputs.map { y in y.tangent(at: level) ?? Kernel.filled(y.scalarType, batchShape + y.shape, 0) }
            return (values, pushed)
        }
    }

    /// Checks the tangents of a forward-mode call against its inputs (count, element type, shape: a tangent shaped
    /// like an output gets the error pointing to vjp) and returns the batch shape in front of them.
    static func checkedTangentBatch(at points: [AnyTensor], tangents: [AnyTensor], batched: Bool, call: String,
                                    _ f: ([AnyTensor]) throws -> [AnyTensor]) throws -> [Int] {
        if tangents.count != points.count {
            throw AutogradError.countMismatch(what: "tangents (one per input)", expected: points.count,
                                              actual: tangents.count)
        }
        var batchShape: [Int] = []
        if batched, let u = tangents.first, let x = points.first {
            batchShape = Array(u.shape.dropLast(x.rank))
        }
        for (i, (u, x)) in zip(tangents, points).enumerated() {
            if u.scalarType != x.scalarType {
                throw AutogradError.mixedScalarTypes(what: "the tangent for input \(i)", expected: x.scalarType,
                                                     actual: u.scalarType)
            }
            if u.shape != batchShape + x.shape {
                if batched, u.shape.count >= x.rank, Array(u.shape.suffix(x.rank)) == x.shape {
                    throw AutogradError.batchShapeMismatch(what: "the tangent for input \(i)", expected: batchShape,
                                                           actual: Array(u.shape.dropLast(x.rank)))
                }
                // Evaluate f once, without derivatives, to name the output shapes in the message.
                let outputs = (try? withoutRecording { try f(points.map(\.value)) }) ?? []
                throw AutogradError.tangentShapeMismatch(input: i, tangentShape: u.shape, inputShape: x.shape,
                                                         outputShapes: outputs.map(\.shape), call: call)
            }
        }
        return batchShape
    }
}

extension Functional {
    /// `forward` for one input and one output, the usual `jvp(of:at:tangent:)`: the same checks and the same pass,
    /// without the arrays of the general form (a well-shaped tangent goes straight to the level; anything else
    /// goes through `forward` for its error).
    static func forward(at x: AnyTensor, tangent u: AnyTensor, call: String,
                        _ f: (AnyTensor) throws -> AnyTensor) throws -> (value: AnyTensor, tangent: AnyTensor) {
        guard u.scalarType == x.scalarType, u.shape == x.shape else {
            let r = try forward(at: [x], tangents: [u], batched: false, call: call) { [try f($0[0])] }
            return (r.values[0], r.tangents[0])
        }
        return try Levels.withLevel(batchShape: []) { level in
            let input = AnyTensor(storage: x.storage, shape: x.shape, node: x.node,
                                  tangents: x.tangents(adding: u, level: level))
            var y = try f(input)
            // Usually the output carries exactly this level's tangent: take it off without rebuilding the output.
            if case .tangent(let buffer, let l) = y.state, l == level {
                y.state = .constant
                return (y, AnyTensor(storage: buffer, shape: y.shape))
            }
            return (y.primal(below: level), y.tangent(at: level) ?? Kernel.filled(y.scalarType, y.shape, 0))
        }
    }
}

// MARK: - Reverse mode, functional form

/// The gradient ∇f(x) of a function with a one-element output, by one reverse pass.
///
///     result_j = ∂f/∂x_j        (shaped like x)
///
/// `f` must return a tensor with exactly one element (a loss); for a vector-valued f use ``vjp(of:at:cotangent:)``
/// (vᵀJ) or ``jacobian(of:at:strategy:)``. Calls nest: a `gradient(at:of:)` inside another one is differentiated
/// by it (so a gradient of a gradient gives second derivatives).
/// - Complexity: one evaluation of f plus one reverse pass (about 3 × f in total).
public func gradient<Scalar: TensorScalar>(at x: Tensor<Scalar>,
                                           of f: (Tensor<Scalar>) throws -> Tensor<Scalar>) throws -> Tensor<Scalar> {
    try valueWithGradient(at: x, of: f).gradient
}

/// The value f(x) and the gradient ∇f(x) (shaped like x) of a function with a one-element output, from one
/// evaluation and one reverse pass.
public func valueWithGradient<Scalar: TensorScalar>(
    at x: Tensor<Scalar>, of f: (Tensor<Scalar>) throws -> Tensor<Scalar>
) throws -> (value: Tensor<Scalar>, gradient: Tensor<Scalar>) {
    let r = try Functional.reverse(at: [x.base], cotangents: nil, batched: false, call: "gradient(at:of:)") {
        [try f(Tensor(unchecked: $0[0])).base]
    }
    return (Tensor(unchecked: r.values[0]), Tensor(unchecked: r.results[0]))
}

/// The gradients of a function of several tensors with a one-element output: result i = ∂f/∂xᵢ, shaped like xᵢ.
/// One evaluation of f and one reverse pass, however many inputs.
public func gradients<Scalar: TensorScalar>(at xs: [Tensor<Scalar>],
                                            of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>) throws -> [Tensor<Scalar>] {
    try valueWithGradients(at: xs, of: f).gradients
}

/// The value of f and its gradients with respect to each of several tensors (see ``gradients(at:of:)``).
public func valueWithGradients<Scalar: TensorScalar>(
    at xs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
) throws -> (value: Tensor<Scalar>, gradients: [Tensor<Scalar>]) {
    let r = try Functional.reverse(at: xs.map(\.base), cotangents: nil, batched: false, call: "gradients(at:of:)") {
        [try f($0.map { Tensor(unchecked: $0) }).base]
    }
    return (Tensor(unchecked: r.values[0]), r.results.map { Tensor(unchecked: $0) })
}

/// The vector-Jacobian product of f at x: the value y = f(x) and vᵀJ with J = ∂f/∂x, from one evaluation and one
/// reverse pass.
///
///     result_j = Σᵢ vᵢ · ∂fᵢ/∂xⱼ
///
/// Shapes: `cotangent` v like the OUTPUT f(x); the result like the INPUT x. For the other product, J·u with u
/// shaped like the input, use ``jvp(of:at:tangent:)``.
/// - Complexity: about 3 × evaluating f, independent of the sizes of x and y.
public func vjp<Scalar: TensorScalar>(
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>, cotangent: Tensor<Scalar>
) throws -> (value: Tensor<Scalar>, vjp: Tensor<Scalar>) {
    let r = try Functional.reverse(at: [x.base], cotangents: [cotangent.base], batched: false,
                                   call: "vjp(of:at:cotangent:)") { [try f(Tensor(unchecked: $0[0])).base] }
    return (Tensor(unchecked: r.values[0]), Tensor(unchecked: r.results[0]))
}

/// Vector-Jacobian products of a function of several tensors returning several tensors: for each input xⱼ,
/// Σₖ vₖᵀ ∂fₖ/∂xⱼ (shaped like xⱼ), one cotangent vₖ per output shaped like that output.
/// With `batched`, every cotangent carries the same leading batch dimensions B (shape B + fₖ.shape) and each
/// result has shape B + xⱼ.shape: B products from ONE reverse pass.
public func vjp<Scalar: TensorScalar>(
    of f: ([Tensor<Scalar>]) throws -> [Tensor<Scalar>], at xs: [Tensor<Scalar>], cotangents: [Tensor<Scalar>],
    batched: Bool = false
) throws -> (values: [Tensor<Scalar>], vjps: [Tensor<Scalar>]) {
    let r = try Functional.reverse(at: xs.map(\.base), cotangents: cotangents.map(\.base), batched: batched,
                                   call: "vjp(of:at:cotangents:)") { try f($0.map { Tensor(unchecked: $0) }).map(\.base) }
    return (r.values.map { Tensor(unchecked: $0) }, r.results.map { Tensor(unchecked: $0) })
}

// MARK: - Forward mode

/// Forward mode: the value y = f(x) and the Jacobian-vector product J·u, from ONE forward pass.
///
///     (J·u)ᵢ = Σⱼ ∂fᵢ/∂xⱼ · uⱼ
///
/// Shapes: `tangent` u like the INPUT x; the result like the OUTPUT f(x). This is what a directional derivative
/// is: J·u = d/dε f(x + ε u) at ε = 0. No graph is recorded and no reverse pass runs: every operation carries the
/// tangent along with its value (its JVP rule), so the cost is a small constant times evaluating f (measured on
/// the motivating example in the README).
///
/// For the other product, vᵀJ with v shaped like the output, use ``vjp(of:at:cotangent:)`` or
/// ``gradient(of:wrt:cotangent:retainGraph:createGraph:allowUnused:)``. Passing a u shaped like the output throws
/// an error that says so.
///
/// Calls nest with each other and with reverse mode: `jvp` of a function that calls ``gradient(at:of:)`` gives a
/// Hessian-vector product (forward over reverse); a `gradient` of a function that calls `jvp` works too.
public func jvp<Scalar: TensorScalar>(
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>, tangent: Tensor<Scalar>
) throws -> (value: Tensor<Scalar>, tangent: Tensor<Scalar>) {
    let r = try Functional.forward(at: x.base, tangent: tangent.base, call: "jvp(of:at:tangent:)") {
        try f(Tensor(unchecked: $0)).base
    }
    return (Tensor(unchecked: r.value), Tensor(unchecked: r.tangent))
}

/// Forward mode for several inputs and outputs: for each output fₖ, Σⱼ (∂fₖ/∂xⱼ)·uⱼ (shaped like fₖ), one tangent
/// uⱼ per input shaped like that input, from one forward pass.
/// With `batched`, every tangent carries the same leading batch dimensions B (shape B + xⱼ.shape) and each result
/// has shape B + fₖ.shape: B Jacobian-vector products from ONE forward pass.
public func jvp<Scalar: TensorScalar>(
    of f: ([Tensor<Scalar>]) throws -> [Tensor<Scalar>], at xs: [Tensor<Scalar>], tangents: [Tensor<Scalar>],
    batched: Bool = false
) throws -> (values: [Tensor<Scalar>], tangents: [Tensor<Scalar>]) {
    let r = try Functional.forward(at: xs.map(\.base), tangents: tangents.map(\.base), batched: batched,
                                   call: "jvp(of:at:tangents:)") { try f($0.map { Tensor(unchecked: $0) }).map(\.base) }
    return (r.values.map { Tensor(unchecked: $0) }, r.tangents.map { Tensor(unchecked: $0) })
}

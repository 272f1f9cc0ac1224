/// How ``jacobian(of:at:strategy:)`` builds a Jacobian J of shape (output shape + input shape).
public enum JacobianStrategy: String, Sendable, CaseIterable {
    /// Forward mode: the n × n identity (n = input elements) flows through ONE forward pass as a batch of n
    /// tangents, giving the n columns J·eⱼ. Best when the input is smaller than the output.
    case forward
    /// Reverse mode: the m × m identity (m = output elements) flows through ONE reverse pass as a batch of m
    /// cotangents, giving the m rows eᵢᵀJ. Best when the output is smaller than the input.
    case reverse
    /// Forward when n ≤ m, reverse otherwise: the batch is then min(n, m) vectors.
    case automatic

    /// The strategy `.automatic` resolves to for `inputCount` input and `outputCount` output elements; other
    /// strategies resolve to themselves.
    public func resolved(inputCount: Int, outputCount: Int) -> JacobianStrategy {
        guard self == .automatic else { return self }
        return inputCount <= outputCount ? .forward : .reverse
    }
}

/// A Jacobian with the value it was computed at and the strategy that built it.
public struct JacobianResult<Scalar: TensorScalar>: Sendable {
    /// f(x), with the output shape (the leading part of the Jacobian's shape).
    public let value: Tensor<Scalar>
    /// J = ∂f/∂x, shape f(x).shape + x.shape: `jacobian[i…, j…] = ∂f(x)[i…] / ∂x[j…]`.
    public let jacobian: Tensor<Scalar>
    /// The strategy used (`.forward` or `.reverse`; never `.automatic`).
    public let strategy: JacobianStrategy
    /// How many vectors were pushed through the single pass (n for forward, m for reverse).
    public let batchSize: Int
}

/// The Jacobian J = ∂f/∂x of f at x, with shape **output shape + input shape**:
///
///     J[i…, j…] = ∂f(x)[i…] / ∂x[j…]
///
/// For the motivating example (100 per-example losses of weights w of shape [1, 2]) the Jacobian has shape
/// [100] + [1, 2] = [100, 1, 2]. Reshaped to [m, n] (m output elements, n input elements, row-major) it is the
/// usual matrix, and J·u = (J as [m, n]) · (u as [n]).
///
/// It never runs n or m separate passes: with `.forward` an identity of n tangents flows through ONE forward pass
/// (cost ≈ n × one JVP, vectorized); with `.reverse` an identity of m cotangents flows through ONE reverse pass;
/// `.automatic` (the default) picks the smaller batch. ``valueAndJacobian(of:at:strategy:)`` also reports which.
/// - Complexity: about min(n, m) times one JVP or VJP, done as one pass over batched tensors; memory for the
///   result (m · n elements) and a batch of that many vectors.
public func jacobian<Scalar: TensorScalar>(
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>, strategy: JacobianStrategy = .automatic
) throws -> Tensor<Scalar> {
    try valueAndJacobian(of: f, at: x, strategy: strategy).jacobian
}

/// f(x), the Jacobian ∂f/∂x (shape f(x).shape + x.shape) and the strategy that computed it, from one batched pass.
/// See ``jacobian(of:at:strategy:)``.
public func valueAndJacobian<Scalar: TensorScalar>(
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>, strategy: JacobianStrategy = .automatic
) throws -> JacobianResult<Scalar> {
    let r = try Jacobians.compute(at: [x.base], strategy: strategy) { [try f(Tensor(unchecked: $0[0])).base] }
    return JacobianResult(value: Tensor(unchecked: r.value), jacobian: Tensor(unchecked: r.jacobians[0]),
                          strategy: r.strategy, batchSize: r.batchSize)
}

/// The Jacobians of f with respect to each of several inputs: result j has shape f(x).shape + xⱼ.shape.
/// One batched pass for all of them (see ``jacobian(of:at:strategy:)``; n counts the elements of all inputs).
public func jacobians<Scalar: TensorScalar>(
    of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>, at xs: [Tensor<Scalar>], strategy: JacobianStrategy = .automatic
) throws -> [Tensor<Scalar>] {
    try Jacobians.compute(at: xs.map(\.base), strategy: strategy) { [try f($0.map { Tensor(unchecked: $0) }).base] }
        .jacobians.map { Tensor(unchecked: $0) }
}

enum Jacobians {
    struct Computed {
        let value: AnyTensor
        let jacobians: [AnyTensor]
        let strategy: JacobianStrategy
        let batchSize: Int
    }

    /// An identity batch: `count` one-hot vectors, shaped [count] + `shape` (count = elements of `shape`).
    static func identity(_ type: ScalarType, _ shape: [Int]) -> AnyTensor {
        let n = Shape.count(shape)
        let eye = Kernel.filled(type, [n * n], 0)
        switch type {
        case .float32: Kernel.launch("identity", eye.storage, n) { p, n in for i in 0..<n { p.f32(0)[i * (n + 1)] = 1 } }
        case .float64: Kernel.launch("identity", eye.storage, n) { p, n in for i in 0..<n { p.f64(0)[i * (n + 1)] = 1 } }
        case .bool, .int32: break
        }
        return AnyTensor(storage: eye.storage, shape: [n] + shape)
    }

    static func compute(at xs: [AnyTensor], strategy: JacobianStrategy,
                        _ f: ([AnyTensor]) throws -> [AnyTensor]) throws -> Computed {
        let type = xs[0].scalarType
        let n = xs.reduce(0) { $0 + $1.count }
        // The output's size decides the strategy; evaluating f once for it would double the cost, so the forward
        // strategy is tried first only when it is requested or likely; otherwise the reverse pass reveals m.
        switch strategy {
        case .forward:
            return try forward(xs, n, type, f)
        case .reverse:
            return try reverse(xs, type, f)
        case .automatic:
            // Evaluated as it is (recording as the caller's scope says): f may itself contain derivative calls
            // that need their own recording, leaf-style ones included.
            let m = try f(xs.map(\.value))[0].count
            return try strategy.resolved(inputCount: n, outputCount: m) == .forward ? forward(xs, n, type, f)
                                                                                  : reverse(xs, type, f)
        }
    }

    /// n tangents through one forward pass: input j's tangent batch is the slice of the [n, n] identity that
    /// belongs to it. The result [n] + y.shape is transposed to y.shape + x.shape.
    private static func forward(_ xs: [AnyTensor], _ n: Int, _ type: ScalarType,
                                _ f: ([AnyTensor]) throws -> [AnyTensor]) throws -> Computed {
        let eye = identity(type, [n]).value
        var offset = 0
        let tangents = xs.map { x -> AnyTensor in
            defer { offset += x.count }
            let columns = Kernel.gatherStrided(eye, shape: [n, x.count], strides: [n, 1], offset: offset)
            return AnyTensor(storage: columns.storage, shape: [n] + x.shape)
        }
        let r = try Functional.forward(at: xs, tangents: tangents, batched: true, call: "jacobian(of:at:)", f)
        let y = r.values[0], jy = r.tangents[0]
        // [n] + y.shape → [m, n] → split the n columns among the inputs.
        let matrix = jy.reshaped([n, y.count]).permuted([1, 0])
        offset = 0
        let parts = xs.map { x -> AnyTensor in
            defer { offset += x.count }
            let cols = matrix.sliced([.all(y.count), SliceAxis(start: offset, count: x.count, step: 1)])
            return cols.reshaped(y.shape + x.shape)
        }
        return Computed(value: y, jacobians: parts, strategy: .forward, batchSize: n)
    }

    /// m cotangents through one reverse pass: the [m] + y.shape identity; result j is [m] + xⱼ.shape. The
    /// identity needs y's shape, known only once f ran, so it is built from the output inside the reverse call.
    private static func reverse(_ xs: [AnyTensor], _ type: ScalarType,
                                _ f: ([AnyTensor]) throws -> [AnyTensor]) throws -> Computed {
        var yShape: [Int] = []
        let r = try Functional.reverse(at: xs, batched: true, call: "jacobian(of:at:)", cotangents: { outputs in
            yShape = outputs[0].shape
            return [identity(type, yShape)]
        }, { try [f($0)[0]] })
        let m = Shape.count(yShape)
        let parts = zip(r.results, xs).map { j, x in j.reshaped(yShape + x.shape) }
        return Computed(value: r.values[0], jacobians: parts, strategy: .reverse, batchSize: m)
    }
}

// MARK: - Hessians

/// The Hessian H = ∂²f/∂x² of a function with a one-element output, shape x.shape + x.shape:
///
///     H[i…, j…] = ∂²f / ∂x[i…] ∂x[j…]
///
/// Computed forward-over-reverse in ONE batched pass: the n × n identity (n = elements of x) is pushed as a batch
/// of tangents through the gradient computation, giving all n Hessian-vector products at once. Symmetric up to
/// rounding. For H·v alone use ``hvp(of:at:vector:)``, which never materializes H.
/// - Complexity: about n Hessian-vector products, done as one pass over batched tensors; memory n² elements.
public func hessian<Scalar: TensorScalar>(of f: (Tensor<Scalar>) throws -> Tensor<Scalar>,
                                          at x: Tensor<Scalar>) throws -> Tensor<Scalar> {
    let n = x.count
    let eye = Jacobians.identity(x.scalarType, x.shape)
    let r = try withoutActuallyEscaping(f) { f in
        try Functional.forward(at: [x.base], tangents: [eye], batched: true, call: "hessian(of:at:)") { xs in
            [try namingCall("hessian(of:at:)") { try gradient(at: Tensor<Scalar>(unchecked: xs[0]), of: f) }.base]
        }
    }
    // Row j of the batch is H eⱼ (column j); H is symmetric, so [n] + x.shape read as rows is H.
    return Tensor(unchecked: r.tangents[0].reshaped([n, n]).permuted([1, 0]).reshaped(x.shape + x.shape))
}

/// The Hessian-vector product H·v of a function with a one-element output, shaped like x:
///
///     (H·v)ᵢ = Σⱼ ∂²f/∂xᵢ∂xⱼ · vⱼ
///
/// Computed forward-over-reverse: one JVP (with tangent v) of the gradient computation, keeping only the tangents
/// (the gradient's own value is not formed where a matrix product feeds x). H is never materialized.
/// - Complexity: a small constant times one gradient evaluation (about 2.5 × on the benchmark MLP; see the article
///   "Jacobians and Hessians"), memory like one gradient.
public func hvp<Scalar: TensorScalar>(of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>,
                                      vector v: Tensor<Scalar>) throws -> Tensor<Scalar> {
    let call = "hvp(of:at:vector:)"
    let r = try namingCall(call, insteadOf: call) {
        try Functional.hessianVectorProducts(at: [x.base], vectors: [v.base], call: call) {
            try f(Tensor(unchecked: $0[0])).base
        }
    }
    return Tensor(unchecked: r[0])
}

/// The Hessian-vector products of a function of several tensors: for input i, Σⱼ ∂²f/∂xᵢ∂xⱼ · vⱼ (shaped like
/// xᵢ), one direction vⱼ per input. Forward over reverse, one pass.
public func hvp<Scalar: TensorScalar>(of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>, at xs: [Tensor<Scalar>],
                                      vectors: [Tensor<Scalar>]) throws -> [Tensor<Scalar>] {
    let call = "hvp(of:at:vectors:)"
    return try namingCall(call, insteadOf: call) {
        try Functional.hessianVectorProducts(at: xs.map(\.base), vectors: vectors.map(\.base), call: call) {
            try f($0.map { Tensor(unchecked: $0) }).base
        }
    }.map { Tensor(unchecked: $0) }
}

extension Functional {
    /// H·v for each input, forward over reverse: a forward level carrying the vectors, and inside it one reverse
    /// pass of f that returns only the tangents of the gradients at that level (the gradients' own values, which
    /// H·v does not need, are not formed where the rules allow: for a weight matrix, that is the product Xᵀ·ḡ).
    /// The same checks and results as `jvp` of `gradients`.
    static func hessianVectorProducts(at points: [AnyTensor], vectors: [AnyTensor], call: String,
                                      _ f: ([AnyTensor]) throws -> AnyTensor) throws -> [AnyTensor] {
        _ = try checkedTangentBatch(at: points, tangents: vectors, batched: false, call: call) { [try f($0)] }
        return try Levels.withLevel(batchShape: []) { level in
            let inputs = zip(points, vectors).map { x, v in x.withTangent(v, level: level) }
            return try reverse(at: inputs, cotangents: nil, batched: false, call: call, tangentsAt: level) {
                [try f($0)]
            }.results
        }
    }
}

/// The vector-Hessian product vᵀH of a function with a one-element output, shaped like x:
///
///     (vᵀH)ⱼ = Σᵢ vᵢ · ∂²f/∂xᵢ∂xⱼ
///
/// Computed reverse-over-reverse: the gradient of ⟨∇f(x), v⟩. Equal to ``hvp(of:at:vector:)`` for the symmetric
/// Hessians of smooth functions; provided for symmetry with PyTorch's `vhp` and for comparison.
/// - Complexity: one gradient whose reverse pass is recorded, then a reverse pass through it (about 3–4 × one
///   gradient), memory for both graphs.
public func vhp<Scalar: TensorScalar>(of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>,
                                      vector v: Tensor<Scalar>) throws -> Tensor<Scalar> {
    try withoutActuallyEscaping(f) { f in
        _ = try Functional.checkedTangentBatch(at: [x.base], tangents: [v.base], batched: false,
                                               call: "vhp(of:at:vector:)") { [try f(Tensor(unchecked: $0[0])).base] }
        return try namingCall("vhp(of:at:vector:)") {
            try gradient(at: x) { x in (try gradient(at: x, of: f) * v).sum() }
        }
    }
}

/// Runs `body`, reporting a misuse of the call it is built on (`inner`) as a misuse of `call`; a missing
/// cotangent becomes a function whose output is not one element, since these calls take no cotangent.
private func namingCall<R>(_ call: String, insteadOf inner: String = "gradient(at:of:)",
                           _ body: () throws -> R) throws -> R {
    do { return try body() } catch let error as AutogradError { throw error.naming(call, insteadOf: inner) }
}

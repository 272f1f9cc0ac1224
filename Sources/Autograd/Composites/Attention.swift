// Triangle masks, masked softmax, scaled dot-product attention and dropout: the pieces of a transformer that are
// not layers. All composites of primitives (where, exp, sum, divide, matmul, multiply), so their derivatives of
// every order come from those primitives' rules. The article "Attention and masks" explains the conventions:
// a mask is true where an element takes part; a fully masked row gives zeros, not NaN.

extension Tensor where Scalar == Bool {
    /// The [rows, columns] mask that is true on and below diagonal `diagonal` (where column − row ≤ diagonal),
    /// NumPy's `tril(ones)`: diagonal 0 is the main diagonal, 1 the one above it, −1 the one below.
    /// `lowerTriangle(rows: n, columns: n)` is the causal mask of attention (position i sees positions ≤ i).
    /// Stops if a size is negative. Cost: one pass over rows · columns elements.
    public static func lowerTriangle(rows: Int, columns: Int, diagonal: Int = 0, file: StaticString = #fileID,
                                     line: UInt = #line) -> Tensor<Bool> {
        triangle(rows, columns, "lowerTriangle(rows:columns:diagonal:)", file, line) { $1 - $0 <= diagonal }
    }

    /// The [rows, columns] mask that is true on and above diagonal `diagonal` (where column − row ≥ diagonal),
    /// NumPy's `triu(ones)`. `upperTriangle(rows: n, columns: n, diagonal: 1)` marks the future positions a
    /// causal model must not see (the complement of the causal mask). Stops if a size is negative.
    public static func upperTriangle(rows: Int, columns: Int, diagonal: Int = 0, file: StaticString = #fileID,
                                     line: UInt = #line) -> Tensor<Bool> {
        triangle(rows, columns, "upperTriangle(rows:columns:diagonal:)", file, line) { $1 - $0 >= diagonal }
    }

    private static func triangle(_ rows: Int, _ columns: Int, _ operation: String, _ file: StaticString,
                                 _ line: UInt, _ holds: (Int, Int) -> Bool) -> Tensor<Bool> {
        if rows < 0 || columns < 0 {
            operationFailure(operation, "sizes must not be negative, got rows \(rows) and columns \(columns)",
                             at: CallSite(file: file, line: line))
        }
        var s = [Bool]()
        s.reserveCapacity(rows * columns)
        for i in 0..<rows { for j in 0..<columns { s.append(holds(i, j)) } }
        return Tensor(shape: [rows, columns], scalars: s)
    }
}

extension Tensor where Scalar: TensorScalar {
    /// The lower triangle of the last two axes (NumPy's and PyTorch's `tril`): elements with column − row ≤
    /// `diagonal` kept, the others 0. Shape: unchanged, rank at least 2 (leading axes are a batch of matrices).
    /// Composite: `where` with ``Tensor/lowerTriangle(rows:columns:diagonal:file:line:)``, so the derivative
    /// passes through the kept elements and is 0 at the others. Stops if the rank is below 2.
    public func lowerTriangular(diagonal: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        triangular("lowerTriangular(diagonal:)", file, line) {
            Tensor<Bool>.lowerTriangle(rows: $0, columns: $1, diagonal: diagonal)
        }
    }

    /// The upper triangle of the last two axes (`triu`): elements with column − row ≥ `diagonal` kept, the
    /// others 0. Same shapes and derivative as ``lowerTriangular(diagonal:file:line:)``.
    public func upperTriangular(diagonal: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        triangular("upperTriangular(diagonal:)", file, line) {
            Tensor<Bool>.upperTriangle(rows: $0, columns: $1, diagonal: diagonal)
        }
    }

    private func triangular(_ operation: String, _ file: StaticString, _ line: UInt,
                            _ mask: (Int, Int) -> Tensor<Bool>) -> Tensor {
        if rank < 2 {
            operationFailure(operation, "the input has shape \(describe(shape)) but must have at least two axes "
                + "(a matrix, or a batch of them in front)", at: CallSite(file: file, line: line))
        }
        return Tensor.where(mask(shape[rank - 2], shape[rank - 1]), self, 0, file: file, line: line)
    }

    /// softmax over `axes` restricted to the elements where `mask` is true: yᵢ = mask ᵢ · e^(xᵢ − m) / Σⱼ mask ⱼ ·
    /// e^(xⱼ − m), m the largest unmasked element (detached), so large inputs do not overflow.
    ///
    /// Masked elements get exactly 0 and no derivative, whatever their values (NaN and ±∞ included). A row with
    /// no unmasked element (a *fully masked* row, such as a padded query) gives all zeros, not NaN, and passes no
    /// derivative: this library's choice, where filling with −∞ and calling softmax would give 0/0. `mask` must
    /// broadcast to x's shape (a causal [L, L] mask serves a [batch, heads, L, L] tensor).
    /// Along the last axis (the default), primitive `softmax(where:)`: three passes forward, and rules
    /// x̄ = y ⊙ (ȳ − Σ ȳ ⊙ y), ẏ = y ⊙ (ẋ − Σ ẋ ⊙ y) over the row, the Jacobian diag(y) − y yᵀ of softmax on the
    /// kept elements. Along other axes, the same formula as a composite of `where`, `max`, `subtract`, `exp`, `sum`
    /// and `divide`. Stops if the mask does not broadcast to x.
    public func softmax(where mask: Tensor<Bool>, alongAxes axes: [Int] = [-1], file: StaticString = #fileID,
                        line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        let operation = "softmax(where:alongAxes:)"
        if !Shape.broadcasts(mask.shape, to: shape) {
            operationFailure(operation, "the mask has shape \(describe(mask.shape)) but must broadcast to the input's "
                + "shape \(describe(shape)) (equal trailing sizes, or 1)", at: loc)
        }
        if rank == 0 {  // one element along an implicit axis, as softmax
            return reshaped(to: [1]).softmax(where: Tensor<Bool>(unchecked: mask.base.reshaped([1])), alongAxes: [0], file: file, line: line)
                .reshaped(to: [])
        }
        let a = Shape.axes(axes, rank: rank, operation, at: loc)
        if a == [rank - 1] { return Tensor(unchecked: maskedSoftmax(base, mask: mask.base, at: loc)) }
        // Other axes: the same formula as a composite.
        let z = Tensor.where(mask, self, -Scalar.infinity, file: file, line: line)
        let m0 = z.max(alongAxes: a, keepingDimensions: true, file: file, line: line).detached()
        let m = Tensor.where(m0.isFinite, m0, 0)
        let e = Autograd.exp(z - m, file: file, line: line)
        let total = e.sum(alongAxes: a, keepingDimensions: true, file: file, line: line)
        return e / Tensor.where(total .> 0, total, 1)
    }
}

/// Scaled dot-product attention: softmax(q kᵀ · scale, where: mask) · v, the core of a transformer's attention,
/// as PyTorch's `scaled_dot_product_attention`.
///
/// Shapes: `query` [..., Lq, d], `key` [..., Lk, d], `value` [..., Lk, dᵥ], the leading (batch, heads) axes
/// broadcasting as in ``matmul(_:_:transposeA:transposeB:file:line:)``; the result is [..., Lq, dᵥ]. `scale`
/// defaults to 1/√d. `mask`, when given, is true where query i may attend to key j and must broadcast to
/// [..., Lq, Lk]; `causal: true` adds the causal mask (key j ≤ query i, aligned at the top left as PyTorch's
/// `is_causal`). A query that may attend to nothing gets a zero row (see ``Tensor/softmax(where:alongAxes:file:line:)``).
/// Composite of two batched `matmul`s and the masked softmax; cost 2 · batch · Lq · Lk · (d + dᵥ) floating-point
/// operations plus a few passes over the [..., Lq, Lk] scores, the same again twice for a gradient.
/// Stops, naming the shapes, if they do not fit together.
public func scaledDotProductAttention<Scalar: TensorScalar>(
    query: Tensor<Scalar>, key: Tensor<Scalar>, value: Tensor<Scalar>, mask: Tensor<Bool>? = nil,
    causal: Bool = false, scale: Scalar? = nil, file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    let operation = "scaledDotProductAttention(query:key:value:mask:causal:scale:)"
    let shapes = "query \(describe(query.shape)), key \(describe(key.shape)), value \(describe(value.shape))"
    if query.rank < 2 || key.rank < 2 || value.rank < 2 {
        operationFailure(operation, "\(shapes): each must have at least two axes, [..., length, features]", at: loc)
    }
    let d = query.shape[query.rank - 1], lq = query.shape[query.rank - 2], lk = key.shape[key.rank - 2]
    if key.shape[key.rank - 1] != d {
        operationFailure(operation, "\(shapes): query and key must have the same last size (features per head)",
                         at: loc)
    }
    if value.shape[value.rank - 2] != lk {
        operationFailure(operation, "\(shapes): key and value must have the same length (their second-to-last "
            + "size), one value per key", at: loc)
    }
    let s = scale ?? 1 / Scalar(Swift.max(d, 1)).squareRoot()
    let scores = matmul(query, key, transposeB: true, file: file, line: line) * s
    var allowed = mask
    if causal {
        let triangle = Tensor<Bool>.lowerTriangle(rows: lq, columns: lk)
        allowed = allowed.map { $0 .& triangle } ?? triangle
    }
    let weights = scores.softmax(where: allowed ?? Tensor<Bool>(shape: [], scalars: [true]), alongAxes: [-1],
                                 file: file, line: line)
    return matmul(weights, value, file: file, line: line)
}

/// Dropout: in training, each element of x is kept with probability 1 − p and scaled by 1/(1 − p), else set to 0,
/// so the expected value is x; in inference (`training: false`), x unchanged.
///
/// The choices come from `generator`: one uniform draw per element, in row-major order, an element kept when its
/// draw is at least p (so a seeded generator gives the same mask on every run, and the same generator state
/// continues to the next call). p = 0 returns x without drawing; p = 1 returns zeros (derivative 0). The
/// derivative is the same mask times 1/(1 − p). Composite: one `multiply` by a constant mask.
/// Stops if p is outside [0, 1].
public func dropout<Scalar: TensorScalar, G: RandomNumberGenerator>(
    _ x: Tensor<Scalar>, probability p: Scalar, training: Bool = true, using generator: inout G,
    file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
    if !(p >= 0 && p <= 1) {
        operationFailure("dropout(_:probability:training:using:)", "the probability is \(p) but must be in [0, 1] "
            + "(the chance that an element is dropped; 0.1 is common)", at: CallSite(file: file, line: line))
    }
    if !training || p == 0 { return x }
    if p == 1 { return x * 0 }
    let keep = 1 / (1 - p), threshold = p.doubleValue
    var mask = [Scalar]()
    mask.reserveCapacity(x.count)
    for _ in 0..<x.count { mask.append(generator.nextUnitDouble() >= threshold ? keep : 0) }
    return x * Tensor(shape: x.shape, scalars: mask)
}

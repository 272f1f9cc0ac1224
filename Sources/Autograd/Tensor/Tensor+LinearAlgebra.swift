// Linear algebra on matrices held in the last two dimensions of a tensor ([..., n, n]); leading dimensions are batch
// dimensions. Factorizations run in the element type (Float or Double) with partial pivoting (LU) or none needed
// (Cholesky); their derivatives are matrix-calculus rules, written with these same operations, so they can be
// differentiated again. See the article "Linear algebra and its derivatives".

/// Stops unless `shape` holds square matrices ([..., n, n]).
private func checkSquare(_ shape: [Int], _ operation: String, _ what: String, at loc: CallSite) {
    if shape.count < 2 || shape[shape.count - 1] != shape[shape.count - 2] {
        operationFailure(operation, "\(what) has shape \(describe(shape)), but \(operation) needs square matrices in "
            + "its last two dimensions ([..., n, n], leading dimensions being a batch)", at: loc)
    }
}

/// The right-hand side of a solve as matrices: `b` itself ([..., n, k]), or a vector [n] as [n, 1]; checks that
/// its rows match A's n.
private func rightHandSide(_ a: AnyTensor, _ b: AnyTensor, _ operation: String, at loc: CallSite) -> AnyTensor {
    let n = a.shape[a.rank - 1]
    let matrices = b.rank == 1 ? b.reshaped([b.shape[0], 1], at: loc) : b
    if b.rank == 0 || matrices.shape[matrices.rank - 2] != n {
        operationFailure(operation, "shapes \(describe(a.shape)) and \(describe(b.shape)) do not fit: A is n×n with "
            + "n = \(n), so B must be a vector [\(n)] or matrices [..., \(n), k] (one column per right-hand side)",
            at: loc)
    }
    return matrices
}

/// The solution as `b` was given: a vector for a vector.
private func shapedLike(_ x: AnyTensor, _ b: AnyTensor, at loc: CallSite) -> AnyTensor {
    b.rank == 1 ? x.reshaped([x.shape[x.rank - 2]], at: loc) : x
}

/// The Cholesky factor: the lower-triangular L with positive diagonal and L·Lᵀ = S, for each symmetric
/// positive-definite matrix S of `s` ([..., n, n] → [..., n, n]).
///
/// It reads sym(S) = (S + Sᵀ)/2, which is S itself for a symmetric S. So the function is defined, and
/// differentiable, for every S whose symmetric part is positive definite, and its derivative with respect to S is
/// symmetric (PyTorch and JAX do the same).
///
/// Primitive `cholesky`. With Φ(X) the lower triangle of X with its diagonal halved:
/// L̇ = L·Φ(L⁻¹ sym(Ṡ) L⁻ᵀ), S̄ = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹), each two triangular solves and one matrix product.
/// Cost: n³/3 flops per matrix (a multiply and an add counting two); each rule about 4n³.
/// Stops, naming the failed pivot and the shape, if sym(S) is not positive definite (or holds a NaN).
public func cholesky<Scalar: TensorScalar>(_ s: Tensor<Scalar>, file: StaticString = #fileID,
                                           line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    checkSquare(s.shape, "cholesky", "the input", at: loc)
    return Tensor(unchecked: choleskyRecorded(s.base, at: loc))
}

/// Solves op(A)·X = B for X with A triangular: X = op(A)⁻¹·B, op(A) = A, or Aᵀ if `transpose`.
///
/// Shapes: A [..., n, n], B [..., n, k] or a vector [n] (then X is a vector [n]); batch dimensions broadcast, as in
/// `matmul`. Only the triangle of A that `lower` names is read (the other holds anything); with `unitDiagonal` the
/// diagonal is taken as ones and not read either, as for the L of an LU factorization.
///
/// Primitive `triangularSolve`: Ẋ = op(A)⁻¹(Ḃ − op(Ȧ)·X), B̄ = op(A)⁻ᵀ·X̄, Ā = −B̄·Xᵀ (or −X·B̄ᵀ when transposed),
/// restricted to the triangle read. Cost: n²·k flops per matrix (so does each rule, plus 2n²·k for the matrix
/// product of Ā). Stops, naming the entry, if a diagonal entry read is 0.
public func triangularSolve<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, lower: Bool = true,
                                                  transpose: Bool = false, unitDiagonal: Bool = false,
                                                  file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    checkSquare(a.shape, "triangularSolve", "the matrix A", at: loc)
    let rhs = rightHandSide(a.base, b.base, "triangularSolve", at: loc)
    let x = solveRecorded(a.base, rhs, .triangular(lower: lower, unitDiagonal: unitDiagonal), transpose: transpose,
                          at: loc)
    return Tensor(unchecked: shapedLike(x, b.base, at: loc))
}

/// Solves A·X = B for X: X = A⁻¹·B, by LU factorization with partial pivoting.
///
/// Shapes: A [..., n, n], B [..., n, k] or a vector [n] (then X is a vector [n]); batch dimensions broadcast, as in
/// `matmul`. Prefer `solve(a, b)` to `matmul(inverse(a), b)`: it is cheaper and more accurate.
///
/// Primitive `solve`: Ẋ = A⁻¹(Ḃ − Ȧ·X), B̄ = A⁻ᵀ·X̄, Ā = −B̄·Xᵀ (each rule factors A again).
/// Cost: 2n³/3 + 2n²·k flops per matrix; each rule about the same, plus a matrix product for Ā.
/// Stops, naming the column of the zero pivot and the shape, if A is singular (or holds a NaN); a matrix that is
/// nearly singular gives a large, inaccurate X, as in LAPACK.
public func solve<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, file: StaticString = #fileID,
                                        line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    checkSquare(a.shape, "solve", "the matrix A", at: loc)
    let rhs = rightHandSide(a.base, b.base, "solve", at: loc)
    return Tensor(unchecked: shapedLike(solveRecorded(a.base, rhs, .general, transpose: false, at: loc), b.base,
                                        at: loc))
}

/// The inverse A⁻¹ of each matrix of `a` ([..., n, n] → [..., n, n]), by LU factorization with partial pivoting.
///
/// Primitive `inverse`, with Y = A⁻¹: Ẏ = −Y·Ȧ·Y, Ā = −Yᵀ·Ȳ·Yᵀ (two matrix products each).
/// Cost: 8n³/3 flops per matrix. To apply A⁻¹ to a few vectors, `solve` is cheaper and more accurate.
/// Stops, naming the zero pivot and the shape, if A is singular.
public func inverse<Scalar: TensorScalar>(_ a: Tensor<Scalar>, file: StaticString = #fileID,
                                          line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    checkSquare(a.shape, "inverse", "the input", at: loc)
    return Tensor(unchecked: inverseRecorded(a.base, at: loc))
}

/// The determinant of each matrix of `a` ([..., n, n] → [...]), from LU with partial pivoting:
/// det A = ±Π Uᵢᵢ. A singular matrix gives 0.
///
/// Primitive `determinant`: ẏ = det A · tr(A⁻¹Ȧ), Ā = ȳ · det A · A⁻ᵀ.
/// Cost: 2n³/3 flops per matrix; each rule adds an inverse (8n³/3).
/// The derivative at a singular matrix (the transposed adjugate) is not computed: the rules stop there with an
/// error naming the zero pivot. For large n, det overflows or underflows long before log |det| does: prefer
/// ``logDeterminant(_:file:line:)``.
public func determinant<Scalar: TensorScalar>(_ a: Tensor<Scalar>, file: StaticString = #fileID,
                                              line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    checkSquare(a.shape, "determinant", "the input", at: loc)
    return Tensor(unchecked: determinantRecorded(a.base, logAbsolute: false, at: loc).0)
}

/// The sign and the logarithm of the absolute value of the determinant of each matrix of `a`
/// ([..., n, n] → two tensors of shape [...]): det A = sign · exp(logAbsoluteValue), from LU with partial pivoting.
/// A singular matrix gives sign 0 and log |det| = −∞.
///
/// Primitive `logDeterminant` (the sign is a constant, ±1 or 0, with no derivative):
/// ẏ = tr(A⁻¹Ȧ), Ā = ȳ · A⁻ᵀ. Cost: 2n³/3 flops per matrix; each rule adds an inverse (8n³/3).
/// For a symmetric positive-definite S, 2·Σ log Lᵢᵢ with L = ``cholesky(_:file:line:)`` is half the cost.
/// The derivative at a singular matrix does not exist (log |det| is −∞ there): the rules stop with an error.
public func logDeterminant<Scalar: TensorScalar>(_ a: Tensor<Scalar>, file: StaticString = #fileID,
                                                 line: UInt = #line)
    -> (sign: Tensor<Scalar>, logAbsoluteValue: Tensor<Scalar>) {
    let loc = CallSite(file: file, line: line)
    checkSquare(a.shape, "logDeterminant", "the input", at: loc)
    let (value, sign) = determinantRecorded(a.base, logAbsolute: true, at: loc)
    return (Tensor(unchecked: sign), Tensor(unchecked: value))
}

extension Tensor where Scalar: TensorScalar {
    /// The main diagonal of each matrix: [..., n, m] → [..., min(n, m)], element i being x[..., i, i].
    ///
    /// Composite: a `reshape` to [..., n·m] and a strided `slice` (every (m + 1)-th element), both linear, so
    /// ẏ = diagonal(ẋ) and x̄ = ȳ placed on the diagonal of zeros. Cost: min(n, m) copies per matrix.
    public func diagonal(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        if rank < 2 {
            operationFailure("diagonal()", "the tensor has shape \(describe(shape)); diagonal() needs matrices in the "
                + "last two dimensions ([..., n, m])", at: loc)
        }
        let n = shape[rank - 2], m = shape[rank - 1]
        let batch = Array(shape.dropLast(2))
        let flat = base.reshaped(batch + [n * m], at: loc)
        let d = flat.sliced(batch.map(SliceAxis.all) + [SliceAxis(start: 0, count: Swift.min(n, m), step: m + 1)],
                            at: loc)
        return Tensor(unchecked: d)
    }

    /// The trace of each matrix, the sum of its main diagonal: [..., n, m] → [...].
    ///
    /// Composite: `diagonal()` then a sum, so ẏ = tr(ẋ) and x̄ = ȳ · I. Cost: min(n, m) additions per matrix.
    public func trace(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        diagonal(file: file, line: line).sum(alongAxes: -1)
    }
}

/// The outer product of vectors: [..., m] and [..., n] → [..., m, n], element (i, j) being a[i]·b[j]; batch
/// dimensions broadcast.
///
/// Composite: `a` reshaped to [..., m, 1] times `b` reshaped to [..., 1, n] (a broadcast multiply), so
/// ẏ = ȧ·bᵀ + a·ḃᵀ, ā = ȳ·b, b̄ = ȳᵀ·a. Cost: m·n multiplications.
public func outer<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, file: StaticString = #fileID,
                                        line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    if a.rank == 0 || b.rank == 0 {
        operationFailure("outer", "shapes \(describe(a.shape)) and \(describe(b.shape)): outer needs vectors (rank 1 "
            + "or more, the last axis being the vector); to scale by a 0-d tensor use *", at: loc)
    }
    return a.unsqueezed(at: -1, file: file, line: line) * b.unsqueezed(at: -2, file: file, line: line)
}

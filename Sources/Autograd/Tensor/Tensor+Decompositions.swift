// Decompositions of the matrices in the last two dimensions of a tensor (leading dimensions are a batch): the
// symmetric eigendecomposition, the singular value decomposition, the QR factorization, and least squares through
// QR. Each factorization is one primitive whose rules are stated once (see `Primitives/Decompositions.swift`); the
// factors are slices of its packed output. See the article "Linear algebra and its derivatives".

/// Stops unless `shape` holds matrices ([..., m, n]), square ones when `square`.
private func checkMatrices(_ shape: [Int], _ operation: String, square: Bool, at loc: CallSite) {
    if shape.count < 2 {
        operationFailure(operation, "the input has shape \(describe(shape)), but \(operation) needs matrices in its "
            + "last two dimensions ([..., m, n], leading dimensions being a batch)", at: loc)
    }
    if square && shape[shape.count - 1] != shape[shape.count - 2] {
        operationFailure(operation, "the input has shape \(describe(shape)), but \(operation) needs square matrices "
            + "in its last two dimensions ([..., n, n]); for the singular values of a rectangular matrix use svd",
            at: loc)
    }
}

/// The eigenvalues, in ascending order, and orthonormal eigenvectors of each symmetric matrix of `a`:
/// [..., n, n] → eigenvalues [..., n] and eigenvectors [..., n, n] (column j belongs to eigenvalue j), with
/// sym(A) = V·diag(λ)·Vᵀ.
///
/// It reads sym(A) = (A + Aᵀ)/2, which is A itself for a symmetric A (as ``cholesky(_:file:line:)`` does; PyTorch
/// and LAPACK read one triangle instead). So the function is defined for every square A, and its derivative is
/// symmetric: the derivative with respect to a symmetric perturbation. Each eigenvector's largest-magnitude
/// component is positive (on a tie, to within a relative 10⁻¹², the first of them), which makes the result
/// reproducible.
///
/// Primitive `eigh`, with P = Vᵀ·sym(Ȧ)·V and F_ij = 1/(λⱼ − λᵢ): λ̇ = diag(P), V̇ = V·(F ∘ P),
/// Ā = sym(V·(diag(λ̄) + F ∘ (Vᵀ·V̄))·Vᵀ), three n×n products (6n³ flops) each. Where two eigenvalues are equal,
/// to within τ = 10·n·ε·max|λ|, F_ij is taken as 0: then the derivatives of the eigenvalues, and of every function
/// that does not change when the eigenvectors of a repeated eigenvalue are rotated among themselves (such as
/// tr g(A) = Σ g(λᵢ)), are exact and finite; for other functions of those eigenvectors, which are not
/// differentiable there, the part that would mix them is left out. Second derivatives there (a Hessian at a
/// repeated eigenvalue) lack the same part.
///
/// Cost: cyclic Jacobi in Double, a few sweeps (typically 7 to 10) of about 9n³ flops each per matrix; accurate to
/// a small multiple of n·ε·‖A‖ (relative to the element type). Stops, naming the element, if A holds a NaN or an
/// infinity.
public func eigh<Scalar: TensorScalar>(_ a: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line)
    -> (eigenvalues: Tensor<Scalar>, eigenvectors: Tensor<Scalar>) {
    let loc = CallSite(file: file, line: line)
    checkMatrices(a.shape, "eigh", square: true, at: loc)
    let n = a.shape[a.rank - 1]
    let packed = eighRecorded(a.base, at: loc)
    let values = matrixRows(packed, 0, 1).reshaped(Array(a.shape.dropLast()), at: loc)
    return (Tensor(unchecked: values), Tensor(unchecked: matrixRows(packed, 1, n)))
}

/// The reduced singular value decomposition of each matrix of `a`: [..., m, n] → U [..., m, k], the singular values
/// σ [..., k] in descending order and V [..., n, k] (not Vᵀ), k = min(m, n), with A = U·diag(σ)·Vᵀ.
///
/// Each column of U has its largest-magnitude component positive (the column of V flips with it). Where σⱼ = 0
/// (a rank-deficient A), column j of U is still an orthonormal completion of the others, chosen deterministically.
///
/// Primitive `svd`, with P = Uᵀ·Ȧ·V, Σ = diag(σ), F_ij = 1/(σⱼ² − σᵢ²):
/// σ̇ = diag(P), U̇ = U·(F ∘ (P·Σ + Σ·Pᵀ)) + (Ȧ·V − U·P)·Σ⁻¹, V̇ = V·(F ∘ (Σ·P + Pᵀ·Σ)) + (Ȧᵀ·U − V·Pᵀ)·Σ⁻¹
/// (the last terms only when m > k, respectively n > k), and the reverse rule their adjoint (in the article).
/// Degenerate points: F_ij is 0 where σᵢ and σⱼ are equal to within τ = 10·k·ε·max σ, and 1/σⱼ is 0 where σⱼ ≤ τ.
/// So the derivatives of the singular values, and of functions invariant under rotations of singular vectors that
/// share a singular value (such as the nuclear norm Σσᵢ), are exact; at σⱼ = 0, σⱼ itself has a kink
/// (σ̇ⱼ = uⱼᵀ·Ȧ·vⱼ, the derivative along the direction the vectors give), and the parts of U̇ and V̇ that would divide
/// by it are left out.
///
/// Cost: one-sided Jacobi in Double, a few sweeps of about 6·max(m, n)·k² flops each per matrix; each rule
/// O((m + n)·k²). Stops, naming the element, if A holds a NaN or an infinity.
public func svd<Scalar: TensorScalar>(_ a: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line)
    -> (u: Tensor<Scalar>, singularValues: Tensor<Scalar>, v: Tensor<Scalar>) {
    let loc = CallSite(file: file, line: line)
    checkMatrices(a.shape, "svd", square: false, at: loc)
    let m = a.shape[a.rank - 2], n = a.shape[a.rank - 1], k = Swift.min(m, n)
    let packed = svdRecorded(a.base, at: loc)
    let values = matrixRows(packed, 0, 1).reshaped(Array(a.shape.dropLast(2)) + [k], at: loc)
    return (Tensor(unchecked: matrixRows(packed, 1, m)), Tensor(unchecked: values),
            Tensor(unchecked: matrixRows(packed, 1 + m, n)))
}

/// The reduced QR factorization of each matrix of `a`: [..., m, n] → Q [..., m, k] with orthonormal columns and R
/// [..., k, n] upper triangular with a non-negative diagonal, k = min(m, n), A = Q·R (Householder reflections).
///
/// For m ≥ n this is primitive `qr`, with B = Ȧ·R⁻¹, C = Qᵀ·B and M = triu(C) + tril₋(C)ᵀ: Q̇ = B − Q·M,
/// Ṙ = M·R, and Ā = (Q̄ + Q·(triu(M̄) + tril₋(M̄ᵀ)))·R⁻ᵀ with M̄ = R̄·Rᵀ − Qᵀ·Q̄ (one triangular solve and a few
/// products each). For m < n, A = [X | Y] with X square: Q and R's first m columns are the QR of X, and the rest of R
/// is Qᵀ·Y, a composite whose derivatives follow from those rules.
///
/// The factorization is unique, and differentiable, where A has full rank k (R's diagonal then positive). At a
/// rank-deficient A the value is still computed (a zero on R's diagonal), but the derivative is not defined: the
/// rules stop with an error naming the zero on R's diagonal.
///
/// Cost: 2mn² − 2n³/3 flops per matrix for R and as many for Q (in Double); each rule about 4mn² + mn².
/// Stops, naming the element, if A holds a NaN or an infinity.
public func qr<Scalar: TensorScalar>(_ a: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line)
    -> (q: Tensor<Scalar>, r: Tensor<Scalar>) {
    let loc = CallSite(file: file, line: line)
    checkMatrices(a.shape, "qr", square: false, at: loc)
    let (q, r) = qrFactors(a.base, at: loc)
    return (Tensor(unchecked: q), Tensor(unchecked: r))
}

/// Q and R of A (any m, n), recorded.
private func qrFactors(_ a: AnyTensor, at loc: CallSite) -> (q: AnyTensor, r: AnyTensor) {
    let m = a.shape[a.rank - 2], n = a.shape[a.rank - 1]
    if m >= n {
        let packed = qrRecorded(a, at: loc)
        return (matrixRows(packed, 0, m), matrixRows(packed, m, n))
    }
    var left = a.shape.map(SliceAxis.all), right = left
    left[a.rank - 1] = SliceAxis(start: 0, count: m, step: 1)
    right[a.rank - 1] = SliceAxis(start: m, count: n - m, step: 1)
    let (q, r) = qrFactors(a.sliced(left, at: loc), at: loc)
    let rest = matmul(q, a.sliced(right, at: loc), transposeA: true)
    return (q, AnyTensor.concatenated([r, rest], axis: a.rank - 1, at: loc))
}

/// The least-squares solution X = argmin ‖A·X − B‖ (Frobenius norm) for A [..., m, n] with m ≥ n and full column
/// rank, and B [..., m, k] or a vector [m] (then X is a vector [n]); batch dimensions broadcast, as in `matmul`.
///
/// Composite, through ``qr(_:file:line:)``: X = R⁻¹·(Qᵀ·B), with a triangular solve. Its derivatives are those of
/// the primitives it is made of (the QR rules, a matrix product, a triangular solve), in every mode and to every
/// order. Accurate to about cond(A)·ε in the solution where the residual is small (it does not square the
/// condition number, as the normal equations AᵀA·X = AᵀB would).
///
/// Stops if m < n (an underdetermined system: for its minimum-norm solution take Q, R = qr(Aᵀ) and
/// X = Q·R⁻ᵀ·B), or if A is rank deficient to working precision: a diagonal entry |Rⱼⱼ| ≤ max(m, n)·ε·maxᵢ|Rᵢᵢ|
/// means column j is, to rounding, a combination of the columns before it; the message names the column.
///
/// Cost: the QR (about 4mn² flops per matrix), 2mnk for Qᵀ·B and n²k for the solve; the derivatives about as much
/// again per pass.
public func lstsq<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, file: StaticString = #fileID,
                                        line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    checkMatrices(a.shape, "lstsq", square: false, at: loc)
    let m = a.shape[a.rank - 2], n = a.shape[a.rank - 1]
    if m < n {
        operationFailure("lstsq", "A has shape \(describe(a.shape)): \(m) equations in \(n) unknowns is "
            + "underdetermined, and lstsq needs m ≥ n with full column rank. For the minimum-norm solution, factor Aᵀ "
            + "instead: (q, r) = qr(Aᵀ), then X = Q·R⁻ᵀ·B = matmul(q, triangularSolve(r, b, lower: false, "
            + "transpose: true)).",
            at: loc)
    }
    let matrices = b.rank == 1 ? b.base.reshaped([b.shape[0], 1], at: loc) : b.base
    if b.rank == 0 || matrices.shape[matrices.rank - 2] != m {
        operationFailure("lstsq", "shapes \(describe(a.shape)) and \(describe(b.shape)) do not fit: A is m×n with "
            + "m = \(m), so B must be a vector [\(m)] or matrices [..., \(m), k] (one column per right-hand side)",
            at: loc)
    }
    let (q, r) = qrFactors(a.base, at: loc)
    checkFullColumnRank(r, a.shape, at: loc)
    let x = solveRecorded(r, matmul(q, matrices, transposeA: true),
                          .triangular(lower: false, unitDiagonal: false), transpose: false, at: loc)
    return Tensor(unchecked: b.rank == 1 ? x.reshaped([n], at: loc) : x)
}

/// Stops if a diagonal entry of R (each [n, n] matrix of `r`) is at most max(m, n)·ε·maxᵢ|Rᵢᵢ|, naming the column.
private func checkFullColumnRank(_ r: AnyTensor, _ shape: [Int], at loc: CallSite) {
    let n = shape[shape.count - 1], m = shape[shape.count - 2]
    let batch = Array(shape.dropLast(2))
    let diagonal = doubleValues(r)
    let epsilon = machineEpsilon(r)
    for b in 0..<Shape.count(batch) {
        let d = (0..<n).map { Swift.abs(diagonal[b * n * n + $0 * n + $0]) }
        let largest = d.max() ?? 0
        let tolerance = Double(Swift.max(m, n)) * epsilon * largest
        if let j = d.firstIndex(where: { !($0 > tolerance) }) {
            let position = Kernel.batchPosition(b, batch)
            operationFailure("lstsq", "A of shape \(describe(shape)) is rank deficient\(position): column \(j) "
                + "(counting from 0) is, to working precision, a combination of the columns before it "
                + "(|R[\(j), \(j)]| = \(d[j]) ≤ \(tolerance) = max(m, n)·ε·max|Rᵢᵢ| in its QR factorization). "
                + "lstsq needs full column rank: remove or combine dependent columns, or regularize (append √λ·I "
                + "below A and zeros below B, which solves ridge regression).", at: loc)
        }
    }
}

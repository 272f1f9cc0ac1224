// Decompositions: the symmetric eigendecomposition, the singular value decomposition and the QR factorization.
// Each is one primitive whose output packs every factor into one tensor (see `Storage/DecompositionKernels.swift`);
// the public functions slice the factors out of it with recorded slices, so a rule receives the cotangents of all
// factors at once (zeros for the factors a function does not use) and states the derivative once. Every rule is
// written with differentiable operations (matrix products, triangular solves, elementwise arithmetic on the
// eigenvalues or singular values), so rules can be differentiated again.
//
// Notation as in `LinearAlgebra.swift`; ∘ is the elementwise product, diag(d) the diagonal matrix of d, I the
// identity, tril₋ / triu the strict lower / the upper triangle (with its diagonal).
//
// Degenerate points. Each eigenvector rule divides by eigenvalue gaps: F_ij = 1/(λⱼ − λᵢ) (i ≠ j), and for the SVD
// F_ij = 1/(σⱼ² − σᵢ²). Where |λᵢ − λⱼ| ≤ τ = 10·n·ε·maxₖ|λₖ| (ε of the element type; the same with σ), F_ij is
// taken as 0: the derivative of a function that does not change under rotations inside an eigenspace (the
// eigenvalues themselves, tr g(A) = Σ g(λᵢ) computed through V, ‖A‖) is then exact, because those functions put
// no weight on F_ij. For other functions of the eigenvectors, the result leaves out the part of the derivative
// that mixes the repeated eigenvalue's eigenvectors (which is not defined there). Likewise 1/σᵢ is taken as 0 where
// σᵢ ≤ τ.

/// y = eigh(A): the eigenvalues λ (ascending) and orthonormal eigenvectors V (columns) of sym(A), packed as
/// [..., n + 1, n] (row 0 λ, then V). With P = Vᵀ sym(Ȧ) V and F_ij = 1/(λⱼ − λᵢ) (0 on the diagonal and at
/// degenerate pairs):
///     λ̇ = diag(P);  V̇ = V (F ∘ P)
///     Ā = sym(V (diag(λ̄) + F ∘ (Vᵀ V̄)) Vᵀ)
/// (From Vᵀ Ȧ V = VᵀV̇ Λ − Λ VᵀV̇ + Λ̇ with VᵀV̇ antisymmetric; F is antisymmetric, which gives the reverse rule as
/// its adjoint, and sym because the function reads sym(A).) Each rule is three n×n matrix products (6n³ flops).
struct Eigh: Primitive {
    var name: String { "eigh" }
    var sparsity: SparsityRule { .perMatrix }
    var savesInputs: Bool { false }
    var savesOutput: Bool { true }

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let n = ctx.outputShape[ctx.outputShape.count - 1]
        let (lambda, v) = (matrixRows(ctx.output, 0, 1), matrixRows(ctx.output, 1, n))
        let (gl, gv) = (matrixRows(g, 0, 1), matrixRows(g, 1, n))
        let inner = gl * Kernel.identity(g.scalarType, n) + gapReciprocals(lambda) * matmul(v, gv, transposeA: true)
        return [symmetricPart(matmul(matmul(v, inner), v, transposeB: true))]
    }

    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        guard let ta = t[0] else { return nil }
        let n = ctx.outputShape[ctx.outputShape.count - 1]
        let (lambda, v) = (matrixRows(ctx.output, 0, 1), matrixRows(ctx.output, 1, n))
        let p = matmul(matmul(v, symmetricPart(ta), transposeA: true), v)
        let dl = diagonalRow(p)
        let dv = matmul(v, gapReciprocals(lambda) * p)
        return AnyTensor.concatenated([dl, dv], axis: p.rank - 2)
    }
}

/// y = svd(A) for A [..., m, n], k = min(m, n): σ (descending), U [m, k], V [n, k], A = U diag(σ) Vᵀ, packed as
/// [..., 1 + m + n, k]. With P = Uᵀ Ȧ V, F_ij = 1/(σⱼ² − σᵢ²) (0 on the diagonal and at degenerate pairs), Σ = diag(σ)
/// and Σ⁻¹ its inverse (0 where σ is 0):
///     σ̇ = diag(P)
///     U̇ = U (F ∘ (PΣ + ΣPᵀ)) + (Ȧ V − U P) Σ⁻¹          (the second term only when m > k)
///     V̇ = V (F ∘ (ΣP + PᵀΣ)) + (Ȧᵀ U − V Pᵀ) Σ⁻¹        (the second term only when n > k)
///     Ā = U [(F ∘ (UᵀŪ − ŪᵀU)) Σ + diag(σ̄) + Σ (F ∘ (VᵀV̄ − V̄ᵀV))] Vᵀ
///         + (Ū − U UᵀŪ) Σ⁻¹ Vᵀ + U Σ⁻¹ (V̄ − V VᵀV̄)ᵀ
/// Each rule is a handful of products of k×k, m×k and n×k matrices: O((m + n) k²) flops.
struct SingularValueDecomposition: Primitive {
    /// A's number of rows (the packed output does not say where U ends).
    let rows: Int
    var name: String { "svd" }
    var sparsity: SparsityRule { .perMatrix }
    var savesInputs: Bool { false }
    var savesOutput: Bool { true }

    private func factors(_ y: AnyTensor) -> (s: AnyTensor, u: AnyTensor, v: AnyTensor) {
        let m = rows, n = y.shape[y.rank - 2] - 1 - rows
        return (matrixRows(y, 0, 1), matrixRows(y, 1, m), matrixRows(y, 1 + m, n))
    }

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let (s, u, v) = factors(ctx.output), (gs, gu, gv) = factors(g)
        let k = s.shape[s.rank - 1], m = rows, n = v.shape[v.rank - 2]
        let f = gapReciprocals(s, squared: true), sInverse = reciprocalsAboveThreshold(s)
        let utgu = matmul(u, gu, transposeA: true), vtgv = matmul(v, gv, transposeA: true)
        let core = f * (utgu - utgu.transposedMatrices()) * s + gs * Kernel.identity(g.scalarType, k)
            + s.transposedMatrices() * (f * (vtgv - vtgv.transposedMatrices()))
        var ga = matmul(matmul(u, core), v, transposeB: true)
        if m > k { ga = ga + matmul((gu - matmul(u, utgu)) * sInverse, v, transposeB: true) }
        if n > k { ga = ga + matmul(u * sInverse, gv - matmul(v, vtgv), transposeB: true) }
        return [ga]
    }

    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        guard let ta = t[0] else { return nil }
        let (s, u, v) = factors(ctx.output)
        let k = s.shape[s.rank - 1], m = rows, n = v.shape[v.rank - 2]
        let f = gapReciprocals(s, squared: true), sInverse = reciprocalsAboveThreshold(s)
        let av = matmul(ta, v), p = matmul(u, av, transposeA: true), pt = p.transposedMatrices()
        let st = s.transposedMatrices()
        var du = matmul(u, f * (p * s + st * pt))
        if m > k { du = du + (av - matmul(u, p)) * sInverse }
        var dv = matmul(v, f * (st * p + pt * s))
        if n > k { dv = dv + (matmul(ta, u, transposeA: true) - matmul(v, pt)) * sInverse }
        return AnyTensor.concatenated([diagonalRow(p), du, dv], axis: p.rank - 2)
    }
}

/// y = qr(A) for A [..., m, n], m ≥ n: Q [m, n] with orthonormal columns and R [n, n] upper triangular with a
/// non-negative diagonal, A = Q R, packed as [..., m + n, n]. With B = Ȧ R⁻¹, C = QᵀB and M = triu(C) + tril₋(C)ᵀ
/// (so that QᵀQ̇ = C − M is antisymmetric and Ṙ R⁻¹ = M upper triangular):
///     Q̇ = B − Q M;  Ṙ = M R
///     M̄ = R̄ Rᵀ − QᵀQ̄;  Ā = (Q̄ + Q (triu(M̄) + tril₋(M̄ᵀ))) R⁻ᵀ
/// Each rule is one triangular solve with m right-hand sides and three products: about 4mn² + n²m flops. At a
/// rank-deficient A (a zero on R's diagonal) both rules stop with an error naming the entry.
struct QRDecomposition: Primitive {
    /// A's number of rows.
    let rows: Int
    var name: String { "qr" }
    var sparsity: SparsityRule { .perMatrix }
    var savesInputs: Bool { false }
    var savesOutput: Bool { true }

    private static let upper = Kernel.SolveStructure.triangular(lower: false, unitDiagonal: false)

    /// R of the packed output, after checking that its diagonal has no zero (where QR has no derivative).
    private func factorR(_ y: AnyTensor, _ n: Int) -> AnyTensor {
        let r = matrixRows(y, rows, n), values = doubleValues(r)
        let batch = Array(r.shape.dropLast(2))
        for b in 0..<Shape.count(batch) {
            for j in 0..<n where values[(b * n + j) * n + j] == 0 {
                operationFailure("the derivative of qr", "R has a zero at diagonal entry \(j) (counting from 0), for "
                    + "the input of shape \(describe(batch + [rows, n]))\(Kernel.batchPosition(b, batch)): column \(j) "
                    + "of A is a combination of the columns before it. There QR is not unique and has no derivative. "
                    + "Differentiate through a full-rank matrix (drop or combine the dependent column, or add a small "
                    + "multiple of another full-rank matrix).", at: nil)
            }
        }
        return r
    }

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let n = ctx.outputShape[ctx.outputShape.count - 1]
        let (q, r) = (matrixRows(ctx.output, 0, rows), factorR(ctx.output, n))
        let (gq, gr) = (matrixRows(g, 0, rows), matrixRows(g, rows, n))
        let mBar = matmul(gr, r, transposeB: true) - matmul(q, gq, transposeA: true)
        let cBar = mBar * triangleMask(n, lower: false, diagonal: 1, like: g)
            + mBar.transposedMatrices() * triangleMask(n, lower: true, diagonal: 0, like: g)
        let b = gq + matmul(q, cBar)
        // b R⁻ᵀ = (R⁻¹ bᵀ)ᵀ.
        return [solveRecorded(r, b.transposedMatrices(), Self.upper, transpose: false).transposedMatrices()]
    }

    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        guard let ta = t[0] else { return nil }
        let n = ctx.outputShape[ctx.outputShape.count - 1]
        let (q, r) = (matrixRows(ctx.output, 0, rows), factorR(ctx.output, n))
        // B = Ȧ R⁻¹ = (R⁻ᵀ Ȧᵀ)ᵀ.
        let b = solveRecorded(r, ta.transposedMatrices(), Self.upper, transpose: true).transposedMatrices()
        let c = matmul(q, b, transposeA: true)
        let mm = c * triangleMask(n, lower: false, diagonal: 1, like: c)
            + c.transposedMatrices() * triangleMask(n, lower: false, diagonal: 0, like: c)
        return AnyTensor.concatenated([b - matmul(q, mm), matmul(mm, r)], axis: b.rank - 2)
    }
}

// MARK: - Shared pieces of the rules

/// Rows `start..<start + count` of each matrix of `t` (a recorded slice of the second-to-last axis).
func matrixRows(_ t: AnyTensor, _ start: Int, _ count: Int) -> AnyTensor {
    var axes = t.shape.map(SliceAxis.all)
    axes[t.rank - 2] = SliceAxis(start: start, count: count, step: 1)
    return t.sliced(axes)
}

/// The diagonal of each k×k matrix of `p`, as a row [..., 1, k] (recorded: a product with I and a column sum).
private func diagonalRow(_ p: AnyTensor) -> AnyTensor {
    (p * Kernel.identity(p.scalarType, p.shape[p.rank - 1])).sum(axes: [p.rank - 2], keep: true)
}

/// The values of `t` (no derivative state) as Doubles, for the rank checks on R (which fail an open trace when R
/// depends on the traced function's inputs: the check would be frozen at the traced values).
func doubleValues(_ t: AnyTensor) -> [Double] {
    Trace.valueRead(t.storage, "the rank check on R (lstsq, the derivative of qr)")
    return switch t.scalarType {
    case .float32: UnsafeBufferPointer(start: t.storage.floats(), count: t.count).map(\.doubleValue)
    case .float64: Array(UnsafeBufferPointer(start: t.storage.doubles(), count: t.count))
    case .bool, .int32: Kernel.noKernel("the decomposition rules", t.scalarType)
    }
}

/// ε of `t`'s element type.
func machineEpsilon(_ t: AnyTensor) -> Double { t.scalarType == .float32 ? Double(Float.ulpOfOne) : .ulpOfOne }

/// For a row d [k] (eigenvalues or singular values) of one matrix: τ = 10·k·ε·maxᵢ|dᵢ|.
private func threshold<T: TensorScalar>(_ d: UnsafeMutablePointer<T>, _ k: Int, _ epsilon: Double) -> Double {
    10 * Double(k) * epsilon * (0..<k).reduce(0) { Swift.max($0, Swift.abs(d[$1].doubleValue)) }
}

/// F with F_ij = 1/(dⱼ − dᵢ) (or 1/(dⱼ² − dᵢ²) when `squared`) for each row d [..., 1, k] of `d`, 0 on the
/// diagonal and wherever |dᵢ − dⱼ| ≤ τ: shape [..., k, k], recorded as a function of d (so rules using it can be
/// differentiated again) with the mask a constant (computed by a kernel from d's values).
private func gapReciprocals(_ d: AnyTensor, squared: Bool = false) -> AnyTensor {
    let k = d.shape[d.rank - 1]
    let mask = Kernel.filled(d.scalarType, Array(d.shape.dropLast(2)) + [k, k], 0)
    let q = (d.count / Swift.max(k, 1), k, machineEpsilon(d))
    switch d.scalarType {
    case .float32: Kernel.launch("gap mask", d.value.storage, mask.storage, q) { gapMask($0.f32(0), $0.f32(1), $1) }
    case .float64: Kernel.launch("gap mask", d.value.storage, mask.storage, q) { gapMask($0.f64(0), $0.f64(1), $1) }
    case .bool, .int32: Kernel.noKernel("the decomposition rules", d.scalarType)
    }
    let e = squared ? d * d : d
    let gaps = e - e.transposedMatrices()      // (i, j) holds eⱼ − eᵢ
    return mask / (gaps + (1 - mask))
}

/// The loop of `gapReciprocals`' mask: 1 where |dᵢ − dⱼ| > τ, for q = (matrices, k, ε).
private func gapMask<T: TensorScalar>(_ d: UnsafeMutablePointer<T>, _ mask: UnsafeMutablePointer<T>,
                                      _ q: (Int, Int, Double)) {
    let (count, k, epsilon) = q
    for b in 0..<count {
        let t = threshold(d + b * k, k, epsilon)
        for i in 0..<k {
            for j in 0..<k where Swift.abs(d[b * k + i].doubleValue - d[b * k + j].doubleValue) > t {
                mask[(b * k + i) * k + j] = 1
            }
        }
    }
}

/// 1/dᵢ for each row d [..., 1, k] of `d`, 0 where dᵢ ≤ τ (recorded as a function of d).
private func reciprocalsAboveThreshold(_ d: AnyTensor) -> AnyTensor {
    let k = d.shape[d.rank - 1]
    let mask = Kernel.filled(d.scalarType, d.shape, 0)
    let q = (d.count / Swift.max(k, 1), k, machineEpsilon(d))
    switch d.scalarType {
    case .float32: Kernel.launch("threshold mask", d.value.storage, mask.storage, q) { aboveThreshold($0.f32(0), $0.f32(1), $1) }
    case .float64: Kernel.launch("threshold mask", d.value.storage, mask.storage, q) { aboveThreshold($0.f64(0), $0.f64(1), $1) }
    case .bool, .int32: Kernel.noKernel("the decomposition rules", d.scalarType)
    }
    return mask / (d + (1 - mask))
}

/// The loop of `reciprocalsAboveThreshold`'s mask: 1 where dᵢ > τ, for q = (matrices, k, ε).
private func aboveThreshold<T: TensorScalar>(_ d: UnsafeMutablePointer<T>, _ mask: UnsafeMutablePointer<T>,
                                             _ q: (Int, Int, Double)) {
    let (count, k, epsilon) = q
    for b in 0..<count {
        let t = threshold(d + b * k, k, epsilon)
        for i in 0..<k where d[b * k + i].doubleValue > t { mask[b * k + i] = 1 }
    }
}

// MARK: - Differentiable functions on AnyTensor

/// The packed eigendecomposition of sym(A), recorded.
func eighRecorded(_ a: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    record(Eigh(), a, Kernel.eigh(a, "eigh", at: loc), at: loc)
}

/// The packed reduced SVD, recorded.
func svdRecorded(_ a: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    record(SingularValueDecomposition(rows: a.shape[a.rank - 2]), a, Kernel.svd(a, "svd", at: loc), at: loc)
}

/// The packed reduced QR factorization of A with m ≥ n, recorded.
func qrRecorded(_ a: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    record(QRDecomposition(rows: a.shape[a.rank - 2]), a, Kernel.qr(a, "qr", at: loc), at: loc)
}

// Linear algebra: Cholesky, linear solves (general and triangular), inverse and determinants. Matrices are the last
// two dimensions; leading dimensions are batch dimensions (and broadcast, for the two operands of a solve). Every
// rule is written with differentiable operations, the new primitives among them (Cholesky's rules use triangular
// solves, the determinant's use the inverse), so rules can themselves be differentiated.
//
// Notation: op(A) = A or Aᵀ; sym(X) = (X + Xᵀ)/2; Φ(X) = the lower triangle of X with its diagonal halved;
// tril / triu the lower / upper triangle. Transposes apply to the last two dimensions.

/// X = op(A)⁻¹ B, A [..., n, n], B [..., n, k] (batch dimensions broadcast). For a triangular A, only the triangle
/// named is read (not the diagonal either, with a unit diagonal), so its derivative lives on that triangle: write
/// mask(·) for the projection onto it (the identity for a general A).
///     Ẋ = op(A)⁻¹ (Ḃ − op(mask Ȧ)·X)
///     B̄ = op(A)⁻ᵀ X̄;  Ā = −mask(B̄·Xᵀ) (or −mask(X·B̄ᵀ) when op is the transpose), each un-broadcast
struct Solve: Primitive {
    let structure: Kernel.SolveStructure
    let transpose: Bool
    var name: String { structure == .general ? "solve" : "triangularSolve" }
    var savesOutput: Bool { true }
    func savedInputs(_ inputs: [AnyTensor]) -> [AnyTensor] { [inputs[0]] }

    /// The projection onto the entries of A the solve reads.
    private func mask(_ t: AnyTensor, _ n: Int) -> AnyTensor {
        guard case let .triangular(lower, unit) = structure else { return t }
        return t * triangleMask(n, lower: lower, diagonal: unit ? 0 : 1, like: t)
    }

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let a = ctx.input(0), x = ctx.output
        let gb = solveRecorded(a, g, structure, transpose: !transpose)
        var ga: AnyTensor?
        if ctx.needs(0) {
            let outer = transpose ? matmul(x, gb, transposeB: true) : matmul(gb, x, transposeB: true)
            ga = ctx.unbroadcast(-mask(outer, a.shape[a.rank - 1]), toInput: 0)
        }
        return [ga, ctx.needs(1) ? ctx.unbroadcast(gb, toInput: 1) : nil]
    }

    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let a = ctx.input(0), x = ctx.output, r = ctx.outputShape.count
        let fromA = t[0].map { ta in
            -matmul(mask(ctx.aligned(ta, input: 0, rank: r), a.shape[a.rank - 1]), x, transposeA: transpose)
        }
        let fromB = t[1].map { ctx.aligned($0, input: 1, rank: r) }
        let rhs: AnyTensor
        switch (fromA, fromB) {
        case let (da?, db?): rhs = db + da
        case let (da?, nil): rhs = da
        case let (nil, db?): rhs = db
        case (nil, nil): return nil
        }
        return ctx.expandedToOutput(solveRecorded(a, rhs, structure, transpose: transpose))
    }
}

/// L = cholesky(S): lower triangular with L·Lᵀ = sym(S) (= S for a symmetric S; reading sym(S) makes the function,
/// and so its derivative, defined for every input, and the cotangent symmetric).
///     L̇ = L·Φ(L⁻¹ sym(Ṡ) L⁻ᵀ)
///     S̄ = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)
/// (From dS = dL·Lᵀ + L·dLᵀ: L⁻¹dS L⁻ᵀ = L⁻¹dL + (L⁻¹dL)ᵀ with L⁻¹dL lower triangular, so L⁻¹dL = Φ(L⁻¹dS L⁻ᵀ);
/// Φ is self-adjoint, which gives the reverse rule.) Each rule is two triangular solves and a product.
struct Cholesky: Primitive {
    var name: String { "cholesky" }
    var savesInputs: Bool { false }
    var savesOutput: Bool { true }

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let l = ctx.output
        let p = phi(matmul(l, g, transposeA: true))
        let y = solveRecorded(l, p, .lowerTriangular, transpose: true)                   // L⁻ᵀ P
        let z = solveRecorded(l, y.transposedMatrices(), .lowerTriangular, transpose: true) // (L⁻ᵀ P L⁻¹)ᵀ
        return [symmetricPart(z)]
    }

    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        guard let ts = t[0] else { return nil }
        let l = ctx.output
        let w = solveRecorded(l, symmetricPart(ts), .lowerTriangular, transpose: false)        // L⁻¹ sym(Ṡ)
        let m = solveRecorded(l, w.transposedMatrices(), .lowerTriangular, transpose: false)  // L⁻¹ sym(Ṡ) L⁻ᵀ
        return matmul(l, phi(m))
    }
}

/// Y = A⁻¹ (LU with partial pivoting, solved against the identity).
///     Ẏ = −Y·Ȧ·Y;  Ā = −Yᵀ·Ȳ·Yᵀ
struct Inverse: Primitive {
    var name: String { "inverse" }
    var savesInputs: Bool { false }
    var savesOutput: Bool { true }

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let y = ctx.output
        return [-matmul(matmul(y, g, transposeA: true), y, transposeB: true)]
    }

    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let y = ctx.output
        return t[0].map { -matmul(matmul(y, $0), y) }
    }
}

/// y = det A, or y = log |det A| (`logAbsolute`), one value per matrix of A [..., n, n]. With A⁻ᵀ = inverse(A)ᵀ:
///     det:        ẏ = y · Σᵢⱼ (A⁻ᵀ ⊙ Ȧ)ᵢⱼ = y · tr(A⁻¹Ȧ);   Ā = ȳ · y · A⁻ᵀ
///     log |det|:  ẏ = Σᵢⱼ (A⁻ᵀ ⊙ Ȧ)ᵢⱼ;                     Ā = ȳ · A⁻ᵀ
/// At a singular A both rules stop with an error (A⁻¹ does not exist; the derivative of det there is the
/// transposed adjugate, which this library does not compute).
struct Determinant: Primitive {
    let logAbsolute: Bool
    var name: String { logAbsolute ? "logDeterminant" : "determinant" }
    var savesOutput: Bool { !logAbsolute }

    private func inverseTransposed(_ ctx: RuleContext) -> AnyTensor {
        let hint = logAbsolute ? "The derivative of log |det A| at a singular matrix is not defined (log |det| is −∞ "
            + "there)." : "The derivative of det A at a singular matrix is the transposed adjugate, which this "
            + "library does not compute."
        return inverseRecorded(ctx.input(0), operation: "the derivative of \(name)", hint: hint).transposedMatrices()
    }

    /// `v` (shape `batch + [...]`) with two axes of length 1 appended, to scale matrices.
    private func asMatrices(_ v: AnyTensor) -> AnyTensor { v.reshaped(v.shape + [1, 1]) }

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let scale = logAbsolute ? g : g * ctx.output
        return [asMatrices(scale) * inverseTransposed(ctx)]
    }

    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        guard let ta = t[0] else { return nil }
        let trace = (ta * inverseTransposed(ctx)).sum(axes: [ta.rank - 2, ta.rank - 1], keep: false)
        return logAbsolute ? trace : trace * ctx.output
    }
}

// MARK: - Differentiable functions on AnyTensor

extension Kernel.SolveStructure {
    static var lowerTriangular: Self { .triangular(lower: true, unitDiagonal: false) }
}

/// op(A)⁻¹ B, recorded (shapes checked by the caller).
func solveRecorded(_ a: AnyTensor, _ b: AnyTensor, _ structure: Kernel.SolveStructure, transpose: Bool,
                   at loc: CallSite? = nil) -> AnyTensor {
    let p = Solve(structure: structure, transpose: transpose)
    return record(p, [a, b], Kernel.solve(a, b, structure, transpose: transpose, p.name, at: loc), at: loc)
}

/// The Cholesky factor, recorded.
func choleskyRecorded(_ s: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    record(Cholesky(), s, Kernel.cholesky(s, "cholesky", at: loc), at: loc)
}

/// A⁻¹, recorded. `operation` and `hint` are what a singular matrix's message names and adds.
func inverseRecorded(_ a: AnyTensor, operation: String = "inverse", hint: String = "",
                     at loc: CallSite? = nil) -> AnyTensor {
    let n = a.shape[a.rank - 1]
    let identity = Kernel.identity(a.scalarType, n)
    return record(Inverse(), a, Kernel.solve(a, identity, .general, transpose: false, operation, at: loc, hint: hint),
                  at: loc)
}

/// det A (or log |det A| with its sign, a constant), recorded.
func determinantRecorded(_ a: AnyTensor, logAbsolute: Bool, at loc: CallSite? = nil) -> (AnyTensor, sign: AnyTensor) {
    let p = Determinant(logAbsolute: logAbsolute)
    let (value, sign) = Kernel.determinant(a, logAbsolute: logAbsolute, p.name, at: loc)
    return (record(p, a, value, at: loc), sign)
}

extension Kernel {
    /// The n×n identity.
    static func identity(_ type: ScalarType, _ n: Int) -> AnyTensor {
        let y = filled(type, [n, n], 0)
        switch type {
        case .float32: launch("identity", y.storage, n) { p, n in for i in 0..<n { p.f32(0)[i * n + i] = 1 } }
        case .float64: launch("identity", y.storage, n) { p, n in for i in 0..<n { p.f64(0)[i * n + i] = 1 } }
        case .bool: launch("identity", y.storage, n) { p, n in for i in 0..<n { p.u8(0)[i * n + i] = 1 } }
        case .int32: launch("identity", y.storage, n) { p, n in for i in 0..<n { p.i32(0)[i * n + i] = 1 } }
        }
        return y
    }
}

/// A constant n×n mask: 1 strictly inside the triangle `lower` names, `diagonal` on the diagonal, 0 elsewhere.
/// Filled row by row (each row one run of ones), n² writes in all.
func triangleMask(_ n: Int, lower: Bool, diagonal: Double, like t: AnyTensor) -> AnyTensor {
    let m = Kernel.filled(t.scalarType, [n, n], 0)
    let q = (n, lower, diagonal)
    switch t.scalarType {
    case .float32: Kernel.launch("triangle mask", m.storage, q) { fillTriangle($0.f32(0), $1.0, $1.1, one: 1, diagonal: Float($1.2)) }
    case .float64: Kernel.launch("triangle mask", m.storage, q) { fillTriangle($0.f64(0), $1.0, $1.1, one: 1, diagonal: $1.2) }
    case .bool:
        Kernel.launch("triangle mask", m.storage, q) { fillTriangle($0.u8(0), $1.0, $1.1, one: 1, diagonal: $1.2 != 0 ? 1 : 0) }
    case .int32: Kernel.launch("triangle mask", m.storage, q) { fillTriangle($0.i32(0), $1.0, $1.1, one: 1, diagonal: Int32($1.2)) }
    }
    return m
}

/// The loop of `triangleMask`.
private func fillTriangle<T>(_ p: UnsafeMutablePointer<T>, _ n: Int, _ lower: Bool, one: T, diagonal: T) {
    for i in 0..<n {
        let row = p + i * n
        if lower { row.update(repeating: one, count: i) } else { (row + i + 1).update(repeating: one, count: n - i - 1) }
        row[i] = diagonal
    }
}

/// Φ(X): the lower triangle of each matrix of X, its diagonal halved.
func phi(_ x: AnyTensor) -> AnyTensor { x * triangleMask(x.shape[x.rank - 1], lower: true, diagonal: 0.5, like: x) }

/// sym(X) = (X + Xᵀ)/2 for each matrix of X.
func symmetricPart(_ x: AnyTensor) -> AnyTensor { (x + x.transposedMatrices()) * 0.5 }

extension AnyTensor {
    /// The last two dimensions swapped (a recorded `permute`).
    func transposedMatrices() -> AnyTensor {
        var p = Array(0..<rank)
        p.swapAt(rank - 2, rank - 1)
        return permuted(p)
    }
}

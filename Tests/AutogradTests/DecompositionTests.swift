import Foundation
import Testing
@testable import Autograd

/// eigh, svd, qr and lstsq: reconstruction and orthogonality, backward error on random and ill-conditioned matrices
/// in Float and Double, sign conventions, batches, the derivative contract at repeated eigenvalues and singular
/// values, and the errors. The derivative rules themselves are checked in every mode and route by the registry's
/// check rows (`autograd check`, and `PrimitiveCheckTests`).
@Suite struct DecompositionTests {
    // MARK: - Helpers

    /// The largest absolute entry.
    static func maxAbs(_ t: Tensor<Double>) -> Double { t.scalars.reduce(0) { Swift.max($0, Swift.abs($1)) } }

    /// ‖M‖_F.
    static func frobenius(_ t: Tensor<Double>) -> Double { t.scalars.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    /// ‖XᵀX − I‖_F for the columns of X [m, k].
    static func orthogonalityError(_ x: Tensor<Double>) -> Double {
        frobenius(matmul(x, x, transposeA: true) - Tensor<Double>(identity: x.shape[x.rank - 1]))
    }

    /// A random m×k matrix with orthonormal columns (Q of a normal matrix's QR).
    static func randomOrthonormal(_ m: Int, _ k: Int, using rng: inout SeededGenerator) -> Tensor<Double> {
        qr(Tensor<Double>(randomNormal: [m, k], using: &rng)).q
    }

    /// U·diag(σ)·Vᵀ with random orthonormal U, V.
    static func withSingularValues(_ sigma: [Double], rows m: Int, columns n: Int,
                                   using rng: inout SeededGenerator) -> Tensor<Double> {
        let k = sigma.count
        let u = randomOrthonormal(m, k, using: &rng), v = randomOrthonormal(n, k, using: &rng)
        return matmul(u * Tensor<Double>(shape: [1, k], scalars: sigma), v, transposeB: true)
    }

    /// The n×n Hilbert matrix 1/(i + j + 1) (condition 1.5·10¹⁰ for n = 8).
    static func hilbert(_ n: Int) -> Tensor<Double> {
        Tensor(shape: [n, n], scalars: (0..<(n * n)).map { 1 / Double($0 / n + $0 % n + 1) })
    }

    /// The bound on backward and orthogonality errors, in units of n·ε with Frobenius norms. Jacobi methods apply
    /// about 10n rotations to each column, so these errors grow like a few n·ε (up to 5 measured at n = 60);
    /// LAPACK's own tests accept ratios below 30.
    static let bound = 10.0

    // MARK: - eigh

    /// Backward error ‖A − VΛVᵀ‖_F/(n·ε·‖A‖_F) and orthogonality ‖VᵀV − I‖_F/(n·ε), measured in Double on the
    /// factors computed in S.
    static func eighErrors<S: TensorScalar>(_ a64: Tensor<Double>, _: S.Type)
        -> (backward: Double, orthogonal: Double) {
        let n = a64.shape[a64.rank - 1]
        let unit = Double(n) * Double(S.ulpOfOne)
        let a = Tensor<Double>(converting: Tensor<S>(converting: a64))
        let (l, v) = eigh(Tensor<S>(converting: a))
        let values = Tensor<Double>(converting: l), vectors = Tensor<Double>(converting: v)
        let rebuilt = matmul(vectors * values.unsqueezed(at: -2), vectors, transposeB: true)
        let sortedAscending = zip(values.scalars, values.scalars.dropFirst()).allSatisfy { $0 <= $1 }
        #expect(sortedAscending, "eigenvalues not ascending: \(values.scalars)")
        return (frobenius(a - rebuilt) / (unit * frobenius(a)), orthogonalityError(vectors) / unit)
    }

    @Test func eighReconstructsWithOrthonormalVectors() {
        var rng = SeededGenerator(seed: 17)
        for n in [1, 2, 5, 24, 60] {
            let x = Tensor<Double>(randomNormal: [n, n], using: &rng)
            let a = x + x.transposed()
            for e in [Self.eighErrors(a, Double.self), Self.eighErrors(a, Float.self)] {
                #expect(e.backward < Self.bound && e.orthogonal < Self.bound, "n = \(n): \(e)")
            }
        }
        // Ill-conditioned: the Hilbert matrix of order 8 (eigenvalues from 1.1·10⁻¹⁰ to 1.7), and a matrix with
        // eigenvalues 1 … 10⁻¹² (Double) or 1 … 10⁻⁶ (Float), both signs.
        let h = Self.hilbert(8)
        let e = Self.eighErrors(h, Double.self)
        #expect(e.backward < Self.bound && e.orthogonal < Self.bound, "Hilbert 8: \(e)")
        for (exponent, isFloat) in [(12.0, false), (6.0, true)] {
            let q = Self.randomOrthonormal(10, 10, using: &rng)
            let values = (0..<10).map { ($0 % 2 == 0 ? 1.0 : -1.0) * Foundation.pow(10, -exponent * Double($0) / 9) }
            let a = matmul(q * Tensor<Double>(shape: [1, 10], scalars: values), q, transposeB: true)
            let e = isFloat ? Self.eighErrors(a, Float.self) : Self.eighErrors(a, Double.self)
            #expect(e.backward < Self.bound && e.orthogonal < Self.bound, "eigenvalues to 1e-\(exponent): \(e)")
        }
        // The Hilbert matrix's eigenvalues are positive and its smallest is found to high relative accuracy.
        let smallest = eigh(h).eigenvalues.scalars[0]
        #expect(Swift.abs(smallest - 1.1115389663e-10) < 1e-6 * 1.1115389663e-10, "\(smallest)")
    }

    @Test func eighValuesAndSignConvention() {
        let (l, v) = eigh(Tensor<Double>([[2, 1], [1, 2]]))
        let r = 0.5.squareRoot()
        expectTensor(l, shape: [2], [1, 3], tolerance: 1e-15)
        // Each eigenvector's largest-magnitude component is positive (the first, on a tie).
        expectTensor(v, shape: [2, 2], [r, r, -r, r], tolerance: 1e-15)
        // A diagonal matrix: its eigenvalues sorted, unit vectors.
        let (d, e) = eigh(Tensor<Float>([[3, 0, 0], [0, -1, 0], [0, 0, 2]]))
        expectTensor(d, shape: [3], [-1, 2, 3])
        expectTensor(e, shape: [3, 3], [0, 0, 1, 1, 0, 0, 0, 1, 0])
        // It reads (A + Aᵀ)/2.
        expectTensor(eigh(Tensor<Double>([[2, 0], [2, 2]])).eigenvalues, shape: [2], [1, 3], tolerance: 1e-15)
    }

    @Test func decompositionsOfBatchesMatchSingleMatrices() {
        var rng = SeededGenerator(seed: 23)
        let x = Tensor<Double>(randomNormal: [2, 3, 4, 4], using: &rng)
        let s = x + x.transposed(-1, -2)
        let (l, v) = eigh(s)
        let (u, sigma, w) = svd(x)
        let (q, r) = qr(x[.all, .all, .all, 0..<3])
        #expect(l.shape == [2, 3, 4] && v.shape == [2, 3, 4, 4] && u.shape == [2, 3, 4, 4] && sigma.shape == [2, 3, 4])
        #expect(q.shape == [2, 3, 4, 3] && r.shape == [2, 3, 3, 3] && w.shape == [2, 3, 4, 4])
        for i in 0..<2 {
            for j in 0..<3 {
                let single = eigh(s[i, j])
                expectClose(l[i, j].scalars, single.eigenvalues.scalars, tolerance: 0)
                expectClose(v[i, j].scalars, single.eigenvectors.scalars, tolerance: 0)
                expectClose(sigma[i, j].scalars, svd(x[i, j]).singularValues.scalars, tolerance: 0)
                expectClose(r[i, j].scalars, qr(x[i, j, .all, 0..<3]).r.scalars, tolerance: 0)
            }
        }
    }

    /// eigh reads sym(A): its derivative at a non-symmetric A is symmetric, and equals the derivative at sym(A).
    @Test func eighDerivativeIsSymmetric() throws {
        let a = Tensor<Double>([[2, 1, 0], [3, 1, -1], [0.5, 0, -2]])
        let f: (Tensor<Double>) throws -> Tensor<Double> = { x in
            let (l, v) = eigh(x)
            return (l * l).sum() + v[0].sum() * v[1].sum()
        }
        let g = try gradient(at: a, of: f)
        expectClose(g.scalars, g.transposed().scalars, tolerance: 1e-13)
        expectClose(g.scalars, try gradient(at: (a + a.transposed()) / 2, of: f).scalars, tolerance: 1e-12)
    }

    @Test func emptyMatrices() {
        #expect(eigh(Tensor<Double>(zeros: [2, 0, 0])).eigenvectors.shape == [2, 0, 0])
        let (u, s, v) = svd(Tensor<Double>(zeros: [3, 0]))
        #expect(u.shape == [3, 0] && s.shape == [0] && v.shape == [0, 0])
        let (q, r) = qr(Tensor<Float>(zeros: [0, 2]))
        #expect(q.shape == [0, 0] && r.shape == [0, 2])
    }

    // MARK: - svd

    /// ‖A − UΣVᵀ‖_F/(k·ε·‖A‖_F), and the orthogonality of U and V in units of k·ε, measured in Double.
    static func svdErrors<S: TensorScalar>(_ a64: Tensor<Double>, _: S.Type)
        -> (backward: Double, u: Double, v: Double, sigma: [Double]) {
        let a = Tensor<S>(converting: a64)
        let a2 = Tensor<Double>(converting: a)
        let unit = Double(Swift.max(a64.shape[0], a64.shape[1])) * Double(S.ulpOfOne)
        let (u, s, v) = svd(a)
        let (u2, s2, v2) = (Tensor<Double>(converting: u), Tensor<Double>(converting: s), Tensor<Double>(converting: v))
        let rebuilt = matmul(u2 * s2.unsqueezed(at: -2), v2, transposeB: true)
        let descending = zip(s2.scalars, s2.scalars.dropFirst()).allSatisfy { $0 >= $1 }
        #expect(descending && s2.scalars.allSatisfy { $0 >= 0 }, "σ not descending and ≥ 0: \(s2.scalars)")
        return (frobenius(a2 - rebuilt) / (unit * frobenius(a2)), orthogonalityError(u2) / unit,
                orthogonalityError(v2) / unit, s2.scalars)
    }

    @Test func svdReconstructsWithOrthonormalFactors() {
        var rng = SeededGenerator(seed: 29)
        for (m, n) in [(1, 1), (5, 3), (3, 5), (6, 6), (40, 25), (25, 40)] {
            let a = Tensor<Double>(randomNormal: [m, n], using: &rng)
            for e in [Self.svdErrors(a, Double.self), Self.svdErrors(a, Float.self)] {
                #expect(e.backward < Self.bound && e.u < Self.bound && e.v < Self.bound, "[\(m), \(n)]: \(e)")
            }
        }
        // Singular values 1 … 10⁻¹² (Double) and 1 … 10⁻⁶ (Float): each found to within a small multiple of
        // n·ε·σ₁, as the backward error allows.
        for (exponent, isFloat) in [(12.0, false), (6.0, true)] {
            let sigma = (0..<8).map { Foundation.pow(10, -exponent * Double($0) / 7) }
            let a = Self.withSingularValues(sigma, rows: 12, columns: 8, using: &rng)
            let e = isFloat ? Self.svdErrors(a, Float.self) : Self.svdErrors(a, Double.self)
            #expect(e.backward < Self.bound && e.u < Self.bound && e.v < Self.bound, "σ to 1e-\(exponent): \(e)")
            let unit = 12 * (isFloat ? Double(Float.ulpOfOne) : Double.ulpOfOne)
            for (found, exact) in zip(e.sigma, sigma) {
                #expect(Swift.abs(found - exact) < unit, "σ = \(exact) found as \(found)")
            }
        }
        // Hilbert 8 (condition 1.5·10¹⁰).
        let e = Self.svdErrors(Self.hilbert(8), Double.self)
        #expect(e.backward < Self.bound && e.u < Self.bound && e.v < Self.bound, "Hilbert 8: \(e)")
    }

    @Test func svdOfARankDeficientMatrixCompletesU() {
        // Rank one: σ = (‖a‖‖b‖, 0, 0), and U is still orthonormal.
        let a = outer(Tensor<Double>([1, 2, 2, 4]), Tensor<Double>([3, 0, 4]))
        let (u, s, v) = svd(a)
        expectTensor(s, shape: [3], [5 * 5, 0, 0], tolerance: 1e-14)
        #expect(Self.orthogonalityError(u) < 1e-14 && Self.orthogonalityError(v) < 1e-14)
        let rebuilt = matmul(u * s.unsqueezed(at: -2), v, transposeB: true)
        #expect(Self.maxAbs(rebuilt - a) < 1e-13)
        // The zero matrix.
        let (uz, sz, _) = svd(Tensor<Float>(zeros: [3, 2]))
        expectTensor(sz, shape: [2], [0, 0])
        #expect(Self.orthogonalityError(Tensor<Double>(converting: uz)) < 1e-6)
    }

    // MARK: - qr

    @Test func qrReconstructsWithOrthonormalQAndPositiveUpperR() {
        var rng = SeededGenerator(seed: 31)
        let sigma = (0..<8).map { Foundation.pow(10, -12 * Double($0) / 7) }
        let cases: [Tensor<Double>] = [
            Tensor(randomNormal: [5, 3], using: &rng), Tensor(randomNormal: [6, 6], using: &rng),
            Tensor(randomNormal: [3, 5], using: &rng), Tensor(randomNormal: [60, 40], using: &rng),
            Self.withSingularValues(sigma, rows: 12, columns: 8, using: &rng), Self.hilbert(8),
        ]
        for a64 in cases {
            for isFloat in [false, true] {
                let (m, n) = (a64.shape[0], a64.shape[1])
                let eps = isFloat ? Double(Float.ulpOfOne) : Double.ulpOfOne
                let (q, r): (Tensor<Double>, Tensor<Double>)
                let a: Tensor<Double>
                if isFloat {
                    let af = Tensor<Float>(converting: a64)
                    let f = qr(af)
                    (a, q, r) = (Tensor(converting: af), Tensor(converting: f.q), Tensor(converting: f.r))
                } else {
                    (a, (q, r)) = (a64, qr(a64))
                }
                let k = Swift.min(m, n)
                #expect(q.shape == [m, k] && r.shape == [k, n])
                let unit = Double(Swift.max(m, n)) * eps
                #expect(Self.frobenius(a - matmul(q, r)) < unit * Self.frobenius(a), "[\(m), \(n)] float \(isFloat)")
                #expect(Self.orthogonalityError(q) < unit, "[\(m), \(n)] float \(isFloat)")
                for i in 0..<k {
                    #expect(r[i, i].scalar >= 0)
                    for j in 0..<i { #expect(r[i, j].scalar == 0) }
                }
            }
        }
    }

    // MARK: - lstsq

    @Test func lstsqSolvesLeastSquares() {
        var rng = SeededGenerator(seed: 37)
        let a = Tensor<Double>(randomNormal: [7, 3], using: &rng), b = Tensor<Double>(randomNormal: [7, 2], using: &rng)
        let x = lstsq(a, b)
        #expect(x.shape == [3, 2])
        // The residual is orthogonal to A's columns, and the normal equations agree.
        #expect(Self.maxAbs(matmul(a, matmul(a, x) - b, transposeA: true)) < 1e-13)
        expectClose(x.scalars, solve(matmul(a, a, transposeA: true), matmul(a, b, transposeA: true)).scalars,
                    tolerance: 1e-12)
        // A vector right-hand side gives a vector; batches broadcast.
        let v = lstsq(a, b[.all, 0])
        #expect(v.shape == [3])
        expectClose(v.scalars, x[.all, 0].scalars, tolerance: 1e-14)
        let batched = lstsq(Tensor<Double>(stacking: [a, a * 2]), b)
        expectClose(batched[1].scalars, (x / 2).scalars, tolerance: 1e-13)
        // Square and consistent: the exact solution. Ill-conditioned (σ 1 … 10⁻¹⁰): the solution of a consistent
        // system to about cond · ε, where the normal equations would lose twice the digits.
        let sigma = (0..<6).map { Foundation.pow(10, -10 * Double($0) / 5) }
        let ill = Self.withSingularValues(sigma, rows: 9, columns: 6, using: &rng)
        let truth = Tensor<Double>(randomNormal: [6], using: &rng)
        let found = lstsq(ill, matmul(ill, truth))
        let error = Self.maxAbs(found - truth) / Self.maxAbs(truth)
        #expect(error < 1e10 * Double.ulpOfOne * 50, "forward error \(error)")
    }

    // MARK: - Derivatives at degenerate points

    @Test func eigenvalueDerivativesAtRepeatedEigenvaluesAreExact() throws {
        var rng = SeededGenerator(seed: 41)
        let q = Self.randomOrthonormal(3, 3, using: &rng)
        let repeated = matmul(q * Tensor<Double>([[1, 1, 2]]), q, transposeB: true)
        for a in [Tensor<Double>(identity: 3), repeated] {
            // ∇ Σλ = I.
            let g = try gradient(at: a) { eigh($0).eigenvalues.sum() }
            expectTensor(g, shape: [3, 3], Tensor<Double>(identity: 3).scalars, tolerance: 1e-13)
            // tr exp(A) through the eigenvectors: tr(V·diag(exp λ)·Vᵀ), whose gradient is exp(A).
            let h = try gradient(at: a) { x in
                let (l, v) = eigh(x)
                return matmul(v * exp(l).unsqueezed(at: -2), v, transposeB: true).trace()
            }
            let (l, v) = eigh(a)
            let expA = matmul(v * exp(l).unsqueezed(at: -2), v, transposeB: true)
            #expect(h.scalars.allSatisfy { $0.isFinite })
            expectClose(h.scalars, expA.scalars, tolerance: 1e-12)
            // J·u of the eigenvalues along a symmetric direction inside the repeated eigenspace: finite.
            let (_, jl) = try jvp(of: { eigh($0).eigenvalues }, at: a, tangent: Tensor<Double>(identity: 3))
            expectTensor(jl, shape: [3], [1, 1, 1], tolerance: 1e-13)
        }
        // The nuclear norm Σσ at the identity: ∇ = U·Vᵀ = I.
        let g = try gradient(at: Tensor<Double>(identity: 3)) { svd($0).singularValues.sum() }
        expectTensor(g, shape: [3, 3], Tensor<Double>(identity: 3).scalars, tolerance: 1e-13)
    }

    /// The Hessian of f(A) = Σ λᵢ³ at a matrix with distinct eigenvalues, through the rules (forward over reverse),
    /// against finite differences of the gradient, which is 3·V·diag(λ²)·Vᵀ = 3·sym(A)².
    @Test func hessianThroughEigenvalues() throws {
        var rng = SeededGenerator(seed: 43)
        let x = Tensor<Double>(randomNormal: [3, 3], using: &rng)
        let a = x + x.transposed()
        let f: (Tensor<Double>) throws -> Tensor<Double> = { pow(eigh($0).eigenvalues, 3).sum() }
        let g = try gradient(at: a, of: f)
        let sa = (a + a.transposed()) / 2
        expectClose(g.scalars, (matmul(sa, sa) * 3).scalars, tolerance: 1e-12)
        let h = try hessian(of: f, at: a).reshaped(to: [9, 9])
        for column in 0..<9 {
            let e = Tensor<Double>(shape: [3, 3], scalars: (0..<9).map { $0 == column ? 1e-6 : 0 })
            let difference = ((try gradient(at: a + e, of: f)) - (try gradient(at: a - e, of: f))) / 2e-6
            expectClose((0..<9).map { h.scalars[$0 * 9 + column] }, difference.scalars, tolerance: 1e-6)
        }
    }

    // MARK: - Errors

    static func stderr(of result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func eighOfANonSquareMatrixStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = eigh(Tensor<Double>(zeros: [2, 3]))
        }
        #expect(Self.stderr(of: r).contains("eigh: the input has shape [2, 3], but eigh needs square matrices"))
    }

    @Test func decompositionsOfNaNStop() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = svd(Tensor<Float>([[1, 0], [0, .nan], [1, 1]]))
        }
        #expect(Self.stderr(of: r).contains("svd: the input of shape [3, 2] holds nan at row 1, column 1"))
        let e = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = eigh(Tensor<Double>([[[1, 0], [0, 1]], [[1, .infinity], [0, 1]]]))
        }
        #expect(Self.stderr(of: e).contains("eigh: the input of shape [2, 2, 2] holds inf at row 0, column 1 (the "
            + "matrix at batch index [1])"))
    }

    @Test func lstsqOfARankDeficientMatrixNamesTheColumn() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = lstsq(Tensor<Double>([[1, 2, 1], [1, 2, 0], [1, 2, 3], [0, 0, 1]]), Tensor<Double>([1, 2, 3, 4]))
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("lstsq: A of shape [4, 3] is rank deficient: column 1 (counting from 0) is, to working "
            + "precision, a combination of the columns before it"), "\(text)")
        #expect(text.contains("DecompositionTests.swift"), "the caller's file:line: \(text)")
        let wide = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = lstsq(Tensor<Double>(zeros: [2, 3]), Tensor<Double>(zeros: [2]))
        }
        #expect(Self.stderr(of: wide).contains("lstsq: A has shape [2, 3]: 2 equations in 3 unknowns is "
            + "underdetermined"))
        let rows = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = lstsq(Tensor<Double>(zeros: [4, 2]), Tensor<Double>(zeros: [3]))
        }
        #expect(Self.stderr(of: rows).contains("lstsq: shapes [4, 2] and [3] do not fit"))
    }

    @Test func qrDerivativeAtARankDeficientMatrixStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try gradient(at: Tensor<Double>([[1, 0], [2, 0], [0, 0]])) { qr($0).r.sum() }
        }
        #expect(Self.stderr(of: r).contains("the derivative of qr: R has a zero at diagonal entry 1 (counting from 0), "
            + "for the input of shape [3, 2]: column 1 of A is a combination of the columns before it"),
                "\(Self.stderr(of: r))")
    }
}

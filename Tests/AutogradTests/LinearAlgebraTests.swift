import Foundation
import Testing
@testable import Autograd

/// Linear algebra, norms and cumulative sums: every operation's derivatives in every mode (reverse and forward
/// against finite differences, the dot-product test), in Double and Float, batched and broadcast, to second order;
/// values; accuracy on random and ill-conditioned matrices; the degenerate inputs and the errors they stop with.
@Suite struct LinearAlgebraTests {
    /// How a check draws an input.
    enum Domain: Sendable {
        /// Standard normal entries.
        case normal
        /// Symmetric positive definite: X·Xᵀ/n + I for a normal X.
        case positiveDefinite
        /// Well conditioned: 2I + N/(2√n) (singular values near 2); the triangles a triangular solve ignores are
        /// as random as the rest.
        case wellConditioned
        /// Well conditioned with its first two rows swapped (a negative determinant).
        case negativeDeterminant
    }

    /// The functions checked (a switch, since a closure cannot be generic over the scalar type).
    enum Body: Sendable {
        case cholesky, triangularLower, triangularUpperTransposed, triangularUnitTransposed, triangularVector
        case solve, solveVector, inverse, determinant, logDeterminant, diagonal, trace, outer
        case norm, normAlongAxisKeeping, normP3, normP1, normInfinity, frobeniusNorm
        case cumulativeSum, cumulativeSumReverse
        case choleskyLogDeterminantLoss
        case secondOrderNorm, secondOrderCumulativeSum, secondOrderCholesky, secondOrderTriangular, secondOrderSolve
        case secondOrderDeterminants

        func evaluate<S: TensorScalar>(_ x: [Tensor<S>]) throws -> Tensor<S> {
            switch self {
            case .cholesky: return Autograd.cholesky(x[0])
            case .triangularLower: return triangularSolve(x[0], x[1])
            case .triangularUpperTransposed: return triangularSolve(x[0], x[1], lower: false, transpose: true)
            case .triangularUnitTransposed:
                return triangularSolve(x[0], x[1], lower: true, transpose: true, unitDiagonal: true)
            case .triangularVector: return triangularSolve(x[0], x[1], lower: false)
            case .solve, .solveVector: return Autograd.solve(x[0], x[1])
            case .inverse: return Autograd.inverse(x[0])
            case .determinant: return Autograd.determinant(x[0])
            case .logDeterminant: return Autograd.logDeterminant(x[0]).logAbsoluteValue
            case .diagonal: return x[0].diagonal()
            case .trace: return x[0].trace()
            case .outer: return Autograd.outer(x[0], x[1])
            case .norm: return x[0].norm()
            case .normAlongAxisKeeping: return x[0].norm(alongAxes: [1], keepingDimensions: true)
            case .normP3: return x[0].norm(p: 3, alongAxes: [0])
            case .normP1: return x[0].norm(p: 1, alongAxes: [-1])
            case .normInfinity: return x[0].norm(p: .infinity, alongAxes: [-1])
            case .frobeniusNorm: return x[0].frobeniusNorm()
            case .cumulativeSum: return x[0].cumulativeSum(alongAxis: 1)
            case .cumulativeSumReverse: return x[0].cumulativeSum(alongAxis: 0, reverse: true)
            case .secondOrderNorm:
                return try gradient(at: x[0]) { v in v.norm() * v.sum() + v.norm(p: 3, alongAxes: [1]).squared().sum() }
            case .secondOrderCumulativeSum:
                return try gradient(at: x[0]) { v in sin(v.cumulativeSum(alongAxis: -1)).sum() }
            case .choleskyLogDeterminantLoss:
                // The cholesky-logdet-grad workload: S = A·Aᵀ/n + I, f = logdet S + ‖S⁻¹B‖² through L.
                return LinearAlgebraTests.workloadLoss(x[0], x[1])
            case .secondOrderCholesky:
                return try gradient(at: x[0]) { s in
                    let l = Autograd.cholesky(s)
                    return l.squared().sum() + log(l.diagonal()).sum()
                }
            case .secondOrderTriangular:
                let b = Tensor<S>(shape: [3, 2], scalars: [1, -2, 0.5, 1, -1, 2])
                return try gradient(at: x[0]) { a in
                    triangularSolve(a, b).squared().sum() + triangularSolve(a, b, lower: false, transpose: true).sum()
                }
            case .secondOrderSolve:
                let b = Tensor<S>(shape: [3, 2], scalars: [1, -2, 0.5, 1, -1, 2])
                return try gradient(at: x[0]) { a in Autograd.solve(a, b).squared().sum() }
            case .secondOrderDeterminants:
                return try gradient(at: x[0]) { a in
                    Autograd.determinant(a) + Autograd.logDeterminant(a).logAbsoluteValue
                        + Autograd.inverse(a).squared().sum() * 0.1
                }
            }
        }
    }

    /// One check: a name, input shapes with their domains, and the function.
    struct Case: TensorFunction, CustomTestStringConvertible, Sendable {
        let name: String
        let inputs: [Input]
        let body: Body
        struct Input: Sendable {
            let shape: [Int]
            let domain: Domain
        }
        init(_ name: String, _ inputs: [([Int], Domain)], _ body: Body) {
            self.name = name
            self.inputs = inputs.map { Input(shape: $0.0, domain: $0.1) }
            self.body = body
        }
        func callAsFunction<S: TensorScalar>(_ x: [Tensor<S>]) throws -> Tensor<S> { try body.evaluate(x) }
        var testDescription: String { name }

        /// The inputs, drawn in Double from a seed of the name, then converted.
        func points<S: TensorScalar>(_: S.Type) -> [Tensor<S>] {
            var rng = SeededGenerator(seed: 2026 &+ name.hashValueStable)
            return inputs.map { Tensor<S>(converting: LinearAlgebraTests.draw($0.shape, $0.domain, using: &rng)) }
        }
    }

    static func draw(_ shape: [Int], _ domain: Domain, using rng: inout SeededGenerator) -> Tensor<Double> {
        let x = Tensor<Double>(randomNormal: shape, using: &rng)
        guard domain != .normal else { return x }
        let n = shape[shape.count - 1]
        let eye = Tensor<Double>(identity: n)
        switch domain {
        case .normal: return x
        case .positiveDefinite: return matmul(x, x, transposeB: true) / Double(n) + eye
        case .wellConditioned: return eye * 2 + x / (2 * Double(n).squareRoot())
        case .negativeDeterminant:
            let a = eye * 2 + x / (2 * Double(n).squareRoot())
            var order = Array(0..<n)
            order.swapAt(0, 1)
            return a.gathering(atIndices: order, alongAxis: -2)
        }
    }

    static let cases: [Case] = [
        Case("cholesky [4,4]", [([4, 4], .positiveDefinite)], .cholesky),
        Case("cholesky batched [2,3,3]", [([2, 3, 3], .positiveDefinite)], .cholesky),
        Case("triangularSolve lower [4,4]·[4,2]", [([4, 4], .wellConditioned), ([4, 2], .normal)], .triangularLower),
        Case("triangularSolve upper, transposed [3,3]·[3,2]", [([3, 3], .wellConditioned), ([3, 2], .normal)],
             .triangularUpperTransposed),
        Case("triangularSolve unit diagonal, transposed [3,3]·[3,2]", [([3, 3], .wellConditioned), ([3, 2], .normal)],
             .triangularUnitTransposed),
        Case("triangularSolve broadcast [2,3,3]·[3,2]", [([2, 3, 3], .wellConditioned), ([3, 2], .normal)],
             .triangularLower),
        Case("triangularSolve upper, vector [3,3]·[3]", [([3, 3], .wellConditioned), ([3], .normal)],
             .triangularVector),
        Case("solve [4,4]·[4,3]", [([4, 4], .wellConditioned), ([4, 3], .normal)], .solve),
        Case("solve broadcast [3,3]·[2,3,2]", [([3, 3], .wellConditioned), ([2, 3, 2], .normal)], .solve),
        Case("solve batched [2,3,3]·[2,3,1]", [([2, 3, 3], .negativeDeterminant), ([2, 3, 1], .normal)], .solve),
        Case("solve vector [3,3]·[3]", [([3, 3], .wellConditioned), ([3], .normal)], .solveVector),
        Case("inverse [3,3]", [([3, 3], .wellConditioned)], .inverse),
        Case("inverse batched [2,3,3]", [([2, 3, 3], .negativeDeterminant)], .inverse),
        Case("determinant [3,3]", [([3, 3], .wellConditioned)], .determinant),
        Case("determinant batched, negative [2,3,3]", [([2, 3, 3], .negativeDeterminant)], .determinant),
        Case("logDeterminant [3,3]", [([3, 3], .wellConditioned)], .logDeterminant),
        Case("logDeterminant batched, negative [2,3,3]", [([2, 3, 3], .negativeDeterminant)], .logDeterminant),
        Case("diagonal [3,4]", [([3, 4], .normal)], .diagonal),
        Case("diagonal batched [2,3,3]", [([2, 3, 3], .normal)], .diagonal),
        Case("trace [2,3,3]", [([2, 3, 3], .normal)], .trace),
        Case("outer [3]·[4]", [([3], .normal), ([4], .normal)], .outer),
        Case("outer broadcast [2,3]·[4]", [([2, 3], .normal), ([4], .normal)], .outer),
        Case("norm (all) [3,4]", [([3, 4], .normal)], .norm),
        Case("norm (axis 1, keeping) [2,3,4]", [([2, 3, 4], .normal)], .normAlongAxisKeeping),
        Case("norm p = 3 (axis 0) [3,4]", [([3, 4], .normal)], .normP3),
        Case("norm p = 1 (last axis) [3,4]", [([3, 4], .normal)], .normP1),
        Case("norm p = ∞ (last axis) [3,4]", [([3, 4], .normal)], .normInfinity),
        Case("frobeniusNorm [2,3,3]", [([2, 3, 3], .normal)], .frobeniusNorm),
        Case("cumulativeSum (axis 1) [3,4]", [([3, 4], .normal)], .cumulativeSum),
        Case("cumulativeSum reverse (axis 0) [3,2,2]", [([3, 2, 2], .normal)], .cumulativeSumReverse),
        Case("cholesky-logdet loss [5,5], [5,2]", [([5, 5], .normal), ([5, 2], .normal)],
             .choleskyLogDeterminantLoss),
        Case("second order: norm (p = 2, p = 3)", [([2, 3], .normal)], .secondOrderNorm),
        Case("second order: cumulativeSum", [([2, 3], .normal)], .secondOrderCumulativeSum),
        Case("second order: cholesky, diagonal", [([3, 3], .positiveDefinite)], .secondOrderCholesky),
        Case("second order: triangularSolve", [([3, 3], .wellConditioned)], .secondOrderTriangular),
        Case("second order: solve", [([3, 3], .wellConditioned)], .secondOrderSolve),
        Case("second order: determinant, logDeterminant, inverse", [([3, 3], .wellConditioned)],
             .secondOrderDeterminants),
    ]

    /// f = logdet S + ‖S⁻¹B‖² with S = A·Aᵀ/n + I, through the Cholesky factor (the cholesky-logdet-grad workload).
    static func workloadLoss<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> {
        let n = a.shape[0]
        let s = matmul(a, a, transposeB: true) / S(n) + Tensor<S>(identity: n)
        let l = cholesky(s)
        let x = triangularSolve(l, triangularSolve(l, b), transpose: true)
        return log(l.diagonal()).sum() * 2 + x.squared().sum()
    }

    // MARK: - Derivatives in every mode

    @Test(arguments: cases) func derivativesInDouble(_ c: Case) throws {
        for row in try checkDerivatives(of: c, at: c.points(Double.self), name: c.name) {
            #expect(row.passed, "\(row)")
        }
    }

    @Test(arguments: cases) func derivativesInFloat(_ c: Case) throws {
        for row in try checkDerivatives(of: c, at: c.points(Float.self), name: c.name) {
            #expect(row.passed, "\(row)")
        }
    }

    /// Every primitive of this file is exercised by the checks.
    @Test func checksExerciseEveryPrimitive() throws {
        let trace = PrimitiveTrace()
        try ADScope.current.with(trace: .some(trace)).run {
            for c in Self.cases { _ = try checkDerivatives(of: c, at: c.points(Double.self), modes: [.dotProduct]) }
        }
        for name in ["Cholesky", "Solve", "Inverse", "Determinant", "Norm", "CumulativeSum"] {
            #expect(trace.seen.contains(name), "\(name) not exercised: \(trace.seen.sorted())")
        }
    }

    // MARK: - Values

    @Test func choleskyFactorsAndIsLowerTriangular() {
        let s = Tensor<Double>([[4, 2, -2], [2, 10, 5], [-2, 5, 11]])
        // L by hand: 2; 1, 3; −1, 2, √6.
        expectTensor(cholesky(s), shape: [3, 3], [2, 0, 0, 1, 3, 0, -1, 2, 6.0.squareRoot()], tolerance: 1e-14)
    }

    @Test func choleskyReadsTheSymmetricPart() {
        let s = Tensor<Double>([[4, 1], [3, 5]])   // symmetric part [[4, 2], [2, 5]]
        expectTensor(cholesky(s), shape: [2, 2], [2, 0, 1, 2], tolerance: 1e-14)
    }

    @Test func solvesInverseAndDeterminants() {
        let a = Tensor<Double>([[0, 2, 1], [1, 1, 0], [3, 0, 1]])   // needs a row swap; det = 1·(−1)... see below
        // det = 0·(1·1 − 0·0) − 2·(1·1 − 0·3) + 1·(1·0 − 1·3) = −2 − 3 = −5
        expectTensor(determinant(a), shape: [], [-5], tolerance: 1e-14)
        let (sign, logAbs) = logDeterminant(a)
        expectTensor(sign, shape: [], [-1])
        expectTensor(logAbs, shape: [], [Foundation.log(5.0)], tolerance: 1e-14)
        let b = Tensor<Double>([3, 2, 4])
        let x = solve(a, b)
        #expect(x.shape == [3])
        expectTensor(matmul(a, x), shape: [3], [3, 2, 4], tolerance: 1e-14)
        expectTensor(matmul(a, inverse(a)), shape: [3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1], tolerance: 1e-14)
        let upper = Tensor<Double>([[2, 1], [99, 4]])   // 99 sits in the triangle not read
        expectTensor(triangularSolve(upper, Tensor([3, 8]), lower: false), shape: [2], [0.5, 2], tolerance: 1e-15)
        expectTensor(triangularSolve(upper, Tensor([4, 9]), lower: false, transpose: true, unitDiagonal: true),
                     shape: [2], [4, 5], tolerance: 1e-15)
    }

    @Test func diagonalTraceAndOuter() {
        let x = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        expectTensor(x.diagonal(), shape: [2], [1, 5])
        expectTensor(x.trace(), shape: [], [6])
        expectTensor(outer(Tensor<Double>([1, 2]), Tensor([3, 4, 5])), shape: [2, 3], [3, 4, 5, 6, 8, 10])
    }

    /// A batch gives what each matrix gives alone; batch dimensions broadcast.
    @Test func batchesMatchSingleMatrices() {
        var rng = SeededGenerator(seed: 7)
        let s = Self.draw([3, 4, 4], .positiveDefinite, using: &rng)
        let a = Self.draw([3, 4, 4], .wellConditioned, using: &rng)
        let b = Tensor<Double>(randomNormal: [4, 2], using: &rng)
        let l = cholesky(s), x = solve(a, b), t = triangularSolve(a, b, lower: false)
        let det = determinant(a), inv = inverse(a)
        for i in 0..<3 {
            expectClose(l[i].scalars, cholesky(s[i]).scalars, tolerance: 0)
            expectClose(x[i].scalars, solve(a[i], b).scalars, tolerance: 0)
            expectClose(t[i].scalars, triangularSolve(a[i], b, lower: false).scalars, tolerance: 0)
            expectClose(inv[i].scalars, inverse(a[i]).scalars, tolerance: 0)
            expectClose([det.scalars[i]], determinant(a[i]).scalars, tolerance: 0)
        }
    }

    /// Whole Jacobians push a batch of tangents (forward) or pull a batch of cotangents (reverse) through each rule
    /// at once (`batchShape` in front of every tangent and cotangent), with batched and broadcast operands; both
    /// strategies must give the same J, and the Hessian (forward over reverse) must be symmetric.
    @Test(arguments: cases.filter { $0.inputs.count == 1 || $0.body == .solve || $0.body == .triangularLower })
    func jacobianStrategiesAgree(_ c: Case) throws {
        let points = c.points(Double.self)
        let first = points[0], rest = Array(points.dropFirst())
        let f: (Tensor<Double>) throws -> Tensor<Double> = { try c([$0] + rest) }
        let forward = try jacobian(of: f, at: first, strategy: .forward)
        let reverse = try jacobian(of: f, at: first, strategy: .reverse)
        expectClose(forward.scalars, reverse.scalars, tolerance: 1e-10)
    }

    @Test func hessiansAreSymmetric() throws {
        var rng = SeededGenerator(seed: 5)
        let s = Self.draw([2, 3, 3], .positiveDefinite, using: &rng)
        let a = Self.draw([3, 3], .wellConditioned, using: &rng)
        let b = Tensor<Double>(randomNormal: [2, 3, 2], using: &rng)
        let functions: [(Tensor<Double>) throws -> Tensor<Double>] = [
            { log(cholesky($0).diagonal()).sum() + cholesky($0).squared().sum() },
            { solve($0, b).squared().sum() + logDeterminant($0).logAbsoluteValue.sum() },
            { triangularSolve($0, b, lower: false, transpose: true).squared().sum() + inverse($0).sum() },
            { determinant($0).sum() + $0.norm(p: 3, alongAxes: [-1]).sum()
                + $0.cumulativeSum(alongAxis: -1).squared().sum() },
        ]
        for (i, f) in functions.enumerated() {
            let x = i == 0 ? s : a
            let h = try hessian(of: f, at: x)
            let n = x.count
            let flat = h.reshaped(to: [n, n])
            expectClose(flat.scalars, flat.transposed().scalars, tolerance: 1e-9)
            // One column against a finite difference of the gradient.
            let e = Tensor<Double>(shape: x.shape, scalars: (0..<n).map { $0 == 1 ? 1e-6 : 0 })
            let gPlus = try gradient(at: x + e, of: f), gMinus = try gradient(at: x - e, of: f)
            let column = ((gPlus - gMinus) / 2e-6).scalars
            expectClose((0..<n).map { flat.scalars[$0 * n + 1] }, column, tolerance: 1e-6)
        }
    }

    // MARK: - The workload's gradient against its closed form

    /// ∂f/∂A = 2·(S⁻¹ − S⁻¹XXᵀ − XXᵀS⁻¹)·A/n for f = logdet S + ‖S⁻¹B‖², S = A·Aᵀ/n + I, X = S⁻¹B.
    @Test func choleskyLogDeterminantGradientMatchesClosedForm() throws {
        var rng = SeededGenerator(seed: 401)
        let n = 24
        let a = Tensor<Double>(randomNormal: [n, n], using: &rng), b = Tensor<Double>(randomNormal: [n, 8], using: &rng)
        let (value, g) = try valueWithGradient(at: a) { Self.workloadLoss($0, b) }
        let s = matmul(a, a, transposeB: true) / Double(n) + Tensor<Double>(identity: n)
        let sInv = inverse(s), x = solve(s, b)
        let xxT = matmul(x, x, transposeB: true)
        let closed = matmul((sInv - matmul(sInv, xxT) - matmul(xxT, sInv)) * 2, a) / Double(n)
        expectClose(g.scalars, closed.scalars, tolerance: 1e-11)
        let direct = logDeterminant(s).logAbsoluteValue + x.squared().sum()
        expectClose(value.scalars, direct.scalars, tolerance: 1e-12)
    }

    // MARK: - Accuracy

    /// ‖M‖ as the largest absolute row sum (the ∞-norm).
    static func normInf(_ m: Tensor<Double>) -> Double {
        let n = m.shape[m.rank - 1]
        let v = m.scalars
        return stride(from: 0, to: v.count, by: n).map { v[$0..<($0 + n)].reduce(0) { $0 + Swift.abs($1) } }.max() ?? 0
    }

    /// The n×n Hilbert matrix 1/(i + j + 1): symmetric positive definite, condition 4.8·10⁸ for n = 7.
    static func hilbert(_ n: Int) -> Tensor<Double> {
        Tensor(shape: [n, n], scalars: (0..<(n * n)).map { 1 / Double($0 / n + $0 % n + 1) })
    }

    /// Backward errors, in units of n·ε: ‖S − LLᵀ‖/‖S‖ for Cholesky, ‖AX − B‖/(‖A‖‖X‖ + ‖B‖) for the solves.
    static func backwardErrors<S: TensorScalar>(_ a64: Tensor<Double>, _ s64: Tensor<Double>, _: S.Type)
        -> (cholesky: Double, solve: Double, triangular: Double, inverse: Double) {
        let n = a64.shape[0]
        let unit = Double(n) * Double(S.ulpOfOne)
        let a = Tensor<S>(converting: a64), s = Tensor<S>(converting: s64)
        // Residuals in Double, of the factors and solutions as computed in S.
        let a2 = Tensor<Double>(converting: a), s2 = Tensor<Double>(converting: s)
        var rng = SeededGenerator(seed: 3)
        let b2 = Tensor<Double>(converting: Tensor<S>(converting: Tensor<Double>(randomNormal: [n, 3], using: &rng)))
        let b = Tensor<S>(converting: b2)
        let l = Tensor<Double>(converting: cholesky(s))
        let chol = normInf(s2 - matmul(l, l, transposeB: true)) / normInf(s2) / unit
        func solveError(_ m: Tensor<Double>, _ x: Tensor<Double>) -> Double {
            normInf(matmul(m, x) - b2) / (normInf(m) * normInf(x) + normInf(b2)) / unit
        }
        let x = Tensor<Double>(converting: solve(a, b))
        let lower = Tensor<Double>(converting: triangularSolve(s, b))
        let tril = s2 * Tensor<Double>(converting: Tensor<S>(unchecked: triangleMask(n, lower: true, diagonal: 1,
                                                                                      like: s.base)))
        let inv = Tensor<Double>(converting: inverse(a))
        let invError = normInf(matmul(a2, inv) - Tensor(identity: n)) / (normInf(a2) * normInf(inv)) / unit
        return (chol, solveError(a2, x), solveError(tril, lower), invError)
    }

    @Test func backwardErrorIsASmallMultipleOfNEpsilon() {
        var rng = SeededGenerator(seed: 11)
        for n in [8, 64, 150] {
            let a = Tensor<Double>(randomNormal: [n, n], using: &rng)
            let s = matmul(a, a, transposeB: true) / Double(n) + Tensor<Double>(identity: n) * 1e-3
            for e in [Self.backwardErrors(a, s, Double.self), Self.backwardErrors(a, s, Float.self)] {
                #expect(e.cholesky < 1 && e.solve < 1 && e.triangular < 1 && e.inverse < 4, "n = \(n): \(e)")
            }
        }
        // Ill-conditioned: Hilbert (condition 4.8·10⁸) in Double.
        let h = Self.hilbert(7)
        let e = Self.backwardErrors(h, h, Double.self)
        #expect(e.cholesky < 1 && e.solve < 1 && e.triangular < 1 && e.inverse < 4, "Hilbert 7: \(e)")
    }

    /// At sizes where the factorization and the solves run by blocks (a ragged last block, every triangle and
    /// transpose, many right-hand sides), the backward errors stay below n·ε: ‖S − LLᵀ‖/‖S‖ for Cholesky and
    /// ‖op(T)X − B‖/(‖T‖‖X‖ + ‖B‖) for the triangular solves.
    @Test(arguments: [false, true]) func blockedKernelsAreBackwardStableAtLargeN(inFloat: Bool) {
        let n = 333, k = 70
        var rng = SeededGenerator(seed: 29)
        let a = Tensor<Double>(randomNormal: [n, n], using: &rng)
        let s64 = matmul(a, a, transposeB: true) / Double(n) + Tensor<Double>(identity: n) * 1e-2
        let b64 = Tensor<Double>(randomNormal: [n, k], using: &rng)
        func errors<S: TensorScalar>(_: S.Type) -> [Double] {
            let unit = Double(n) * Double(S.ulpOfOne)
            let s = Tensor<S>(converting: s64), b = Tensor<S>(converting: b64)
            let s2 = Tensor<Double>(converting: s), b2 = Tensor<Double>(converting: b)
            let l = cholesky(s)
            let l2 = Tensor<Double>(converting: l)
            var result = [Self.normInf(s2 - matmul(l2, l2, transposeB: true)) / Self.normInf(s2) / unit]
            for lower in [true, false] {
                let t = lower ? l : l.transposed()
                let t2 = Tensor<Double>(converting: t)
                for transpose in [false, true] {
                    let x = Tensor<Double>(converting: triangularSolve(t, b, lower: lower, transpose: transpose))
                    let op = transpose ? t2.transposed() : t2
                    result.append(Self.normInf(matmul(op, x) - b2)
                        / (Self.normInf(op) * Self.normInf(x) + Self.normInf(b2)) / unit)
                }
            }
            return result
        }
        let e = inFloat ? errors(Float.self) : errors(Double.self)
        #expect(e.allSatisfy { $0 < 1 }, "in units of n·ε: Cholesky, then the four triangular solves: \(e)")
        // L is lower triangular with a positive diagonal.
        let l = cholesky(s64).scalars
        #expect((0..<n).allSatisfy { i in l[i * n + i] > 0 && ((i + 1)..<n).allSatisfy { l[i * n + $0] == 0 } })
    }

    /// On the Hilbert matrix of order 7 (condition 4.8·10⁸), Cholesky-based and LU-based solves of H·x = H·1
    /// recover x = 1 to about condition × ε, and log det agrees between Cholesky and LU.
    @Test func illConditionedSolvesAreAsAccurateAsTheConditionAllows() {
        let h = Self.hilbert(7)
        let ones = Tensor<Double>(ones: [7])
        let b = matmul(h, ones)
        let l = cholesky(h)
        let viaCholesky = triangularSolve(l, triangularSolve(l, b), transpose: true)
        let viaLU = solve(h, b)
        for x in [viaCholesky, viaLU] {
            let error = x.scalars.map { Swift.abs($0 - 1) }.max()!
            #expect(error < 4.8e8 * Double.ulpOfOne * 10, "forward error \(error)")
        }
        let logdetCholesky = (log(l.diagonal()).sum() * 2).scalar
        let logdetLU = logDeterminant(h).logAbsoluteValue.scalar
        #expect(Swift.abs(logdetCholesky - logdetLU) < 1e-8 * Swift.abs(logdetLU), "\(logdetCholesky) vs \(logdetLU)")
    }

    // MARK: - Degenerate inputs

    @Test func singularMatricesHaveZeroDeterminant() {
        let a = Tensor<Double>([[1, 2], [2, 4]])
        expectTensor(determinant(a), shape: [], [0])
        let (sign, logAbs) = logDeterminant(a)
        expectTensor(sign, shape: [], [0])
        #expect(logAbs.scalar == -.infinity)
    }

    @Test func emptyMatrices() throws {
        let e = Tensor<Double>(zeros: [2, 0, 0])
        #expect(cholesky(e).shape == [2, 0, 0])
        #expect(solve(e, Tensor<Double>(zeros: [2, 0, 3])).shape == [2, 0, 3])
        #expect(inverse(e).shape == [2, 0, 0])
        expectTensor(determinant(e), shape: [2], [1, 1])
        expectTensor(logDeterminant(e).logAbsoluteValue, shape: [2], [0, 0])
        expectTensor(try gradient(at: e) { determinant($0).sum() }, shape: [2, 0, 0], [])
    }

    // MARK: - Norms and cumulative sums

    @Test func normsAndTheirValues() {
        let x = Tensor<Double>([[3, -4], [0, 0]])
        expectTensor(x.norm(alongAxes: [1]), shape: [2], [5, 0])
        expectTensor(x.norm(p: 1), shape: [], [7])
        expectTensor(x.norm(p: .infinity, alongAxes: [0], keepingDimensions: true), shape: [1, 2], [3, 4])
        expectTensor(x.norm(p: 3, alongAxes: [1]), shape: [2], [Foundation.pow(91.0, 1.0 / 3), 0], tolerance: 1e-15)
        expectTensor(x.frobeniusNorm(), shape: [], [5])
        // Scaled by the largest magnitude: no overflow in Float, no underflow in Double.
        expectTensor(Tensor<Float>([3e30, 4e30]).norm(), shape: [], [5e30], tolerance: 1e-6)
        expectTensor(Tensor<Double>([3e-200, 4e-200]).norm(), shape: [], [5e-200], tolerance: 1e-15)
        expectTensor(Tensor<Double>(zeros: [2, 0]).norm(alongAxes: [1]), shape: [2], [0, 0])
    }

    /// At zero every norm's derivative is 0 (the subgradient of smallest norm), in reverse and forward mode.
    @Test func normDerivativeAtZeroIsZero() throws {
        let zero = Tensor<Double>(zeros: [2, 3])
        for p in [1, 1.5, 2, 3, Double.infinity] {
            let g = try gradient(at: zero) { $0.norm(p: p, alongAxes: [1]).sum() }
            expectTensor(g, shape: [2, 3], [0, 0, 0, 0, 0, 0])
            let t = try jvp(of: { $0.norm(p: p) }, at: zero, tangent: Tensor(ones: [2, 3])).tangent
            expectTensor(t, shape: [], [0])
        }
        // One row zero, one not: the zero row gets 0, the other x/‖x‖.
        let x = Tensor<Double>([[0, 0], [3, 4]])
        expectTensor(try gradient(at: x) { $0.norm(alongAxes: [1]).sum() }, shape: [2, 2], [0, 0, 0.6, 0.8])
    }

    @Test func cumulativeSums() {
        let x = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        expectTensor(x.cumulativeSum(alongAxis: 1), shape: [2, 3], [1, 3, 6, 4, 9, 15])
        expectTensor(x.cumulativeSum(alongAxis: 0, reverse: true), shape: [2, 3], [5, 7, 9, 4, 5, 6])
        expectTensor(x.cumulativeSum(alongAxis: -1, reverse: true), shape: [2, 3], [6, 5, 3, 15, 11, 6])
    }

    // MARK: - Errors

    static func stderr(of result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func choleskyOfAnIndefiniteMatrixNamesThePivot() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = cholesky(Tensor<Double>([[[4, 0, 0], [0, 1, 0], [0, 0, 1]], [[1, 2, 0], [2, 1, 0], [0, 0, 1]]]))
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("cholesky: the matrix is not positive definite: pivot 1 (row and column 1, counting "
            + "from 0) is -3.0, not > 0, in the input of shape [2, 3, 3] (the matrix at batch index [1])"), "\(text)")
        #expect(text.contains("S + εI"))
        #expect(text.contains("LinearAlgebraTests.swift"), "the caller's file:line: \(text)")
    }

    @Test func choleskyOfANaNStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = cholesky(Tensor<Float>([[1, 0], [0, .nan]]))
        }
        #expect(Self.stderr(of: r).contains("cholesky: the input of shape [2, 2] holds nan at row 1, column 1"))
    }

    @Test func solveWithASingularMatrixNamesThePivot() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = solve(Tensor<Double>([[1, 2, 3], [2, 4, 6], [1, 0, 1]]), Tensor<Double>([1, 2, 3]))
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("solve: the matrix is singular: LU with partial pivoting found no nonzero pivot in "
            + "column 2 (counting from 0), in the input of shape [3, 3]"), "\(text)")
    }

    @Test func inverseOfASingularMatrixStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = inverse(Tensor<Float>([[1, 2], [2, 4]]))
        }
        #expect(Self.stderr(of: r).contains("inverse: the matrix is singular"))
    }

    @Test func triangularSolveWithAZeroDiagonalStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = triangularSolve(Tensor<Double>([[1, 0], [5, 0]]), Tensor<Double>([1, 2]))
        }
        #expect(Self.stderr(of: r).contains("triangularSolve: the matrix is singular: its diagonal entry 1 "
            + "(counting from 0) is 0, in the input of shape [2, 2]"))
    }

    @Test func derivativeOfTheDeterminantAtASingularMatrixStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try gradient(at: Tensor<Double>([[1, 2], [2, 4]])) { determinant($0) }
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("the derivative of determinant: the matrix is singular"), "\(text)")
        #expect(text.contains("transposed adjugate"))
    }

    @Test func shapesThatDoNotFitStop() async {
        let square = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = inverse(Tensor<Double>(zeros: [2, 3]))
        }
        #expect(Self.stderr(of: square).contains("inverse: the input has shape [2, 3], but inverse needs square "
            + "matrices"))
        let rows = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = solve(Tensor<Double>(identity: 3), Tensor<Double>(zeros: [4, 2]))
        }
        #expect(Self.stderr(of: rows).contains("solve: shapes [3, 3] and [4, 2] do not fit"))
        let batch = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = solve(Tensor<Double>(zeros: [2, 3, 3]), Tensor<Double>(zeros: [4, 3, 1]))
        }
        #expect(Self.stderr(of: batch).contains("solve (batch dimensions): shapes [2] and [4] do not broadcast"))
        let order = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>(ones: [3]).norm(p: 0.5)
        }
        #expect(Self.stderr(of: order).contains("norm(p:alongAxes:): p = 0.5 is not a norm order"))
    }
}

import Testing
@testable import Autograd

/// Division by a scalar and the mean round as IEEE division does: each element equals Swift's own `/`.
@Suite struct DivisionTests {
    /// Numbers of every kind: small integers, fractions, huge and tiny, subnormal, negative, zero.
    static func values<S: BinaryFloatingPoint>(_: S.Type) -> [S] {
        var rng = SeededGenerator(seed: 11)
        var xs: [S] = [0, -0.0, 1, 3, 7, 10, 49, 100, 332, 1e-3, 0.1, 1 / 3, S.greatestFiniteMagnitude,
                       S.leastNormalMagnitude, S.leastNonzeroMagnitude, S.leastNormalMagnitude / 3, S.ulpOfOne]
        xs += (0..<1000).map { S($0) }
        for _ in 0..<2000 {
            let mantissa = S(Double.random(in: 1..<2, using: &rng))
            let exponent = Int.random(in: -160...160, using: &rng)
            xs.append((Bool.random(using: &rng) ? 1 : -1) * mantissa * S(sign: .plus, exponent: S.Exponent(exponent), significand: 1))
        }
        return xs
    }

    static func divisors<S: BinaryFloatingPoint>(_: S.Type) -> [S] {
        [1, 2, 3, 7, 10, 3.7, -6, 0.1, 1e-20, 1e20, S.leastNormalMagnitude, S.leastNonzeroMagnitude,
         S.leastNonzeroMagnitude * 7, S.leastNormalMagnitude / 4, S.greatestFiniteMagnitude, 0, .infinity]
    }

    func checkDivision<S: TensorScalar & BinaryFloatingPoint>(_ type: S.Type) {
        let xs = Self.values(S.self), t = Tensor<S>(xs)
        for d in Self.divisors(S.self) {
            let quotients = (t / d).scalars, reversed = (d / t).scalars
            for (i, x) in xs.enumerated() {
                let q = x / d, r = d / x
                if !(quotients[i] == q || (q.isNaN && quotients[i].isNaN)) {
                    Issue.record("\(S.self): \(x) / \(d) gave \(quotients[i]), Swift's / gives \(q)"); return
                }
                if !(reversed[i] == r || (r.isNaN && reversed[i].isNaN)) {
                    Issue.record("\(S.self): \(d) / \(x) gave \(reversed[i]), Swift's / gives \(r)"); return
                }
            }
        }
    }

    @Test func divisionByAScalarIsSwiftsDivision() {
        checkDivision(Float.self)
        checkDivision(Double.self)
        #expect((Tensor<Float>([49]) / 7).scalars == [7])
        // 1e-310 is subnormal, so the nearest Double is not exactly 1e-310: the quotient is 1e10 to 14 digits
        // (the reciprocal, 1e310, overflows: multiplying by it gave infinity).
        let tiny = Double("1e-310")!, quotient = (Tensor<Double>([1e-300]) / tiny).scalar
        #expect(quotient == 1e-300 / tiny && Swift.abs(quotient - 1e10) < 1e-3)
        var x = Tensor<Float>([49, 332])
        x /= 7
        #expect(x.scalars == [7, Float(332) / 7])
    }

    @Test func meanRoundsAsADivision() {
        #expect(Tensor<Float>([Float](repeating: 7, count: 7)).mean().scalar == 7)
        let thirds = Tensor<Float>((0..<1000).map(Float.init)).reshaped(to: [1000, 1]).mean(alongAxes: 1)
        #expect(thirds.scalars == (0..<1000).map(Float.init))
        // 332 of the numbers 0..<1000, in three equal parts: each part's mean is its sum / 332 exactly.
        let parts = Tensor<Float>((0..<996).map(Float.init)).reshaped(to: [3, 332]).mean(alongAxes: 1)
        let sums = Tensor<Float>((0..<996).map(Float.init)).reshaped(to: [3, 332]).sum(alongAxes: 1).scalars
        #expect(parts.scalars == sums.map { $0 / 332 })
        #expect(Tensor<Float>([1, 2, 3]).mean().scalar == Float(6) / 3)
    }

    @Test func theDerivativeOfADivisionByAScalarIsExactToo() throws {
        let g = try gradient(at: Tensor<Float>([1, 2])) { ($0 / 7).sum() }
        #expect(g.scalars == [Float(1) / 7, Float(1) / 7])
        let r = try gradient(at: Tensor<Double>([2])) { (3 / $0).sum() }
        #expect(Swift.abs(r.scalar - (-0.75)) < 1e-15)
    }
}

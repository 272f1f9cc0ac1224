import CAutogradKernels
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

func unaryF32(_ op: ag_unary_op, _ x: [Float]) -> [Float] {
    var y = [Float](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer { py in
        ag_unary_f32(op, Int64(x.count), px.baseAddress!, py.baseAddress!)
    } }
    return y
}

func unaryF64(_ op: ag_unary_op, _ x: [Double]) -> [Double] {
    var y = [Double](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer { py in
        ag_unary_f64(op, Int64(x.count), px.baseAddress!, py.baseAddress!)
    } }
    return y
}

/// Error of a float result in units in the last place of the exact result `r` (computed in double).
/// Overflow to infinity is exact when r itself rounds to infinity; the sign of zero must match.
func ulpError(_ y: Float, _ r: Double) -> Double {
    if r.isNaN { return y.isNaN ? 0 : .infinity }
    if y.isNaN { return .infinity }
    if y.isInfinite || r.isInfinite { return Float(r) == y ? 0 : .infinity }
    if y == 0 && r == 0 { return y.sign == r.sign ? 0 : .infinity }
    let e = min(max(Int(r.exponent) - 23, -149), 104)
    return abs(Double(y) - r) / Double(sign: .plus, exponent: e, significand: 1)
}

/// The transcendental float maps and their double-precision references.
let transcendental: [(String, ag_unary_op, @Sendable (Double) -> Double)] = [
    ("exp", AG_UNARY_EXP, { exp($0) }),
    ("log", AG_UNARY_LOG, { log($0) }),
    ("log1p", AG_UNARY_LOG1P, { log1p($0) }),
    ("expm1", AG_UNARY_EXPM1, { expm1($0) }),
    ("sqrt", AG_UNARY_SQRT, { sqrt($0) }),
    ("sin", AG_UNARY_SIN, { sin($0) }),
    ("cos", AG_UNARY_COS, { cos($0) }),
    ("tanh", AG_UNARY_TANH, { tanh($0) }),
    ("sigmoid", AG_UNARY_SIGMOID, { $0 >= 0 ? 1 / (1 + exp(-$0)) : exp($0) / (1 + exp($0)) }),
    ("softplus", AG_UNARY_SOFTPLUS, { max($0, 0) + log1p(exp(-abs($0))) }),
    ("reciprocal", AG_UNARY_RECIPROCAL, { 1 / $0 }),
    ("square", AG_UNARY_SQUARE, { $0 * $0 }),
]

/// Test inputs for one function: a dense sweep of its interesting range, random bit patterns (the whole float
/// range, both signs, subnormals, infinities and NaNs) and the special values.
func unaryInputs(_ name: String, count: Int = 12000, seed: UInt64) -> [Float] {
    var rng = TestRNG(seed: seed)
    let ranges: [String: (Float, Float)] = [
        "exp": (-104, 89), "expm1": (-20, 89), "log": (0, 4), "log1p": (-1, 3), "sqrt": (0, 100),
        "sin": (-100, 100), "cos": (-100, 100), "tanh": (-10, 10), "sigmoid": (-110, 110),
        "softplus": (-110, 110), "reciprocal": (-4, 4), "square": (-4, 4),
    ]
    let (lo, hi) = ranges[name] ?? (-10, 10)
    var x = (0..<count).map { lo + (hi - lo) * Float($0) / Float(count) }
    x += (0..<count).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)) }
    // Small magnitudes everywhere (accuracy near 0 matters for log1p, expm1, tanh, sin).
    x += (0..<count / 4).map { _ in Float(sign: .plus, exponent: Int.random(in: -140 ... 2, using: &rng),
                                         significand: rng.float(1, 2)) * (Bool.random(using: &rng) ? 1 : -1) }
    return x + specialFloats
}

extension KernelTests {
    @Suite struct Unary {
        /// Every transcendental f32 map stays within 4 ulp of the correctly rounded result at every CPU level.
        @Test func f32WithinFourUlp() {
            forEachLevel { level in
                for (t, (name, op, ref)) in transcendental.enumerated() {
                    var log = FailureLog("\(name) level \(level)")
                    let x = unaryInputs(name, seed: UInt64(t))
                    let y = unaryF32(op, x)
                    var worst = 0.0
                    for i in x.indices {
                        let e = ulpError(y[i], ref(Double(x[i])))
                        worst = max(worst, e)
                        if !(e <= 4) { log.fail("\(name)(\(x[i])) = \(y[i]), expected \(ref(Double(x[i]))) (\(e) ulp)") }
                    }
                }
            }
        }

        /// Exact results at the special values and thresholds the header promises.
        @Test func f32SpecialValues() {
            let inf = Float.infinity
            let cases: [(ag_unary_op, Float, Float)] = [
                (AG_UNARY_EXP, inf, inf), (AG_UNARY_EXP, -inf, 0), (AG_UNARY_EXP, 0, 1), (AG_UNARY_EXP, 88.73, inf),
                (AG_UNARY_EXP, -104, 0), (AG_UNARY_EXP, -103.9, Float(exp(-103.9 as Double))),
                (AG_UNARY_LOG, 0, -inf), (AG_UNARY_LOG, -0.0, -inf), (AG_UNARY_LOG, inf, inf), (AG_UNARY_LOG, 1, 0),
                (AG_UNARY_LOG, .leastNonzeroMagnitude, Float(log(Double(Float.leastNonzeroMagnitude)))),
                (AG_UNARY_LOG1P, -1, -inf), (AG_UNARY_LOG1P, -0.0, -0.0), (AG_UNARY_LOG1P, inf, inf),
                (AG_UNARY_LOG1P, 1e-30, 1e-30), (AG_UNARY_EXPM1, -0.0, -0.0), (AG_UNARY_EXPM1, -inf, -1),
                (AG_UNARY_EXPM1, inf, inf), (AG_UNARY_EXPM1, 1e-30, 1e-30), (AG_UNARY_EXPM1, 100, inf),
                (AG_UNARY_EXPM1, -100, -1), (AG_UNARY_TANH, inf, 1), (AG_UNARY_TANH, -inf, -1), (AG_UNARY_TANH, 9.1, 1),
                (AG_UNARY_TANH, -9.1, -1), (AG_UNARY_TANH, 20, 1), (AG_UNARY_TANH, -0.0, -0.0), (AG_UNARY_TANH, 1e-30, 1e-30),
                (AG_UNARY_SIGMOID, 1000, 1), (AG_UNARY_SIGMOID, -1000, 0), (AG_UNARY_SIGMOID, inf, 1),
                (AG_UNARY_SIGMOID, -inf, 0), (AG_UNARY_SIGMOID, 0, 0.5), (AG_UNARY_SIGMOID, 1e30, 1),
                (AG_UNARY_SOFTPLUS, 1000, 1000), (AG_UNARY_SOFTPLUS, -1000, 0), (AG_UNARY_SOFTPLUS, inf, inf),
                (AG_UNARY_SOFTPLUS, -inf, 0), (AG_UNARY_SOFTPLUS, 1e30, 1e30), (AG_UNARY_SOFTPLUS, -1e30, 0),
                (AG_UNARY_SIN, -0.0, -0.0), (AG_UNARY_SIN, 0, 0), (AG_UNARY_COS, 0, 1), (AG_UNARY_COS, -0.0, 1),
                (AG_UNARY_SQRT, -0.0, -0.0), (AG_UNARY_SQRT, inf, inf), (AG_UNARY_RECIPROCAL, -0.0, -inf),
            ]
            let nanCases: [(ag_unary_op, Float)] = [
                (AG_UNARY_LOG, -1), (AG_UNARY_LOG, -inf), (AG_UNARY_LOG1P, -2), (AG_UNARY_LOG1P, -inf),
                (AG_UNARY_SIN, inf), (AG_UNARY_SIN, -inf), (AG_UNARY_COS, inf), (AG_UNARY_SQRT, -1),
            ]
            forEachLevel { level in
                var log = FailureLog("special values level \(level)", limit: 20)
                for (op, x, expected) in cases {
                    // Also in the middle of a longer buffer, so the vector path (not only the tail) is tested.
                    let input = [Float](repeating: 0.5, count: 21) + [x] + [Float](repeating: 0.5, count: 20)
                    let y = unaryF32(op, input)
                    if !sameFloat(y[21], expected) { log.fail("op \(op.rawValue)(\(x)) = \(y[21]), expected \(expected)") }
                    if !sameFloat(unaryF32(op, [x])[0], expected) { log.fail("op \(op.rawValue)(\(x)) alone") }
                }
                for (op, x) in nanCases where !unaryF32(op, [x])[0].isNaN { log.fail("op \(op.rawValue)(\(x)) not NaN") }
                for op in 0..<AG_UNARY_COUNT.rawValue where !unaryF32(ag_unary_op(op), [.nan, 1, .nan])[2].isNaN {
                    log.fail("op \(op) does not propagate NaN")
                }
            }
        }

        /// Exact ops (and all f64 ops) give the same bits as the portable code at every level, for all lengths.
        @Test func exactOpsMatchPortable() {
            var rng = TestRNG(seed: 9)
            let x32 = rng.floats(300, -3, 3) + specialFloats
            let x64 = rng.doubles(300, -3, 3) + specialDoubles
            let exact32 = [AG_UNARY_NEG, AG_UNARY_ABS, AG_UNARY_SIGN, AG_UNARY_RELU, AG_UNARY_SQUARE,
                           AG_UNARY_RECIPROCAL, AG_UNARY_SQRT]
            var log = FailureLog("exact unary ops")
            for n in [0, 1, 7, 8, 15, 16, 17, 33, x32.count] {
                let xs = Array(x32.prefix(n)), xd = Array(x64.prefix(n))
                for op in exact32 {
                    let expected = atLevel(0) { unaryF32(op, xs) }
                    forEachLevel { level in
                        let y = unaryF32(op, xs)
                        for i in 0..<n where !sameFloat(y[i], expected[i]) {
                            log.fail("f32 op \(op.rawValue) level \(level) n \(n): \(xs[i]) -> \(y[i]), expected \(expected[i])")
                        }
                    }
                }
                for op in 0..<AG_UNARY_COUNT.rawValue {
                    let expected = atLevel(0) { unaryF64(ag_unary_op(op), xd) }
                    forEachLevel { level in
                        let y = unaryF64(ag_unary_op(op), xd)
                        for i in xd.indices where !sameDouble(y[i], expected[i]) {
                            log.fail("f64 op \(op) level \(level): \(xd[i]) -> \(y[i]), expected \(expected[i])")
                        }
                    }
                }
            }
        }

        /// In place (y == x) works.
        @Test func inPlace() {
            var rng = TestRNG(seed: 10)
            let x = rng.floats(100, -2, 2)
            let expected = unaryF32(AG_UNARY_TANH, x)
            var y = x
            y.withUnsafeMutableBufferPointer { p in ag_unary_f32(AG_UNARY_TANH, 100, p.baseAddress!, p.baseAddress!) }
            let same = y == expected
            #expect(same)
        }

        @Test func affine() {
            var rng = TestRNG(seed: 11)
            let x = rng.floats(203, -5, 5), xd = rng.doubles(203, -5, 5)
            for n in [0, 1, 16, 17, 203] {
                var expected = [Float](repeating: 0, count: n), expectedD = [Double](repeating: 0, count: n)
                atLevel(0) {
                    ag_affine_f32(Int64(n), x, 1.7, -0.3, &expected)
                    ag_affine_f64(Int64(n), xd, 1.7, -0.3, &expectedD)
                }
                forEachLevel { level in
                    var y = [Float](repeating: 0, count: n), yd = [Double](repeating: 0, count: n)
                    ag_affine_f32(Int64(n), x, 1.7, -0.3, &y)
                    ag_affine_f64(Int64(n), xd, 1.7, -0.3, &yd)
                    let same = y == expected, sameD = yd == expectedD
                    #expect(same, "affine f32 level \(level) n \(n)")
                    #expect(sameD, "affine f64 level \(level) n \(n)")
                    for i in 0..<n { #expect(abs(y[i] - (1.7 * x[i] - 0.3)) <= 1e-5) }
                }
            }
        }

        @Test func binaryCrossEntropy() {
            var rng = TestRNG(seed: 12)
            var p = rng.floats(500, 0, 1), t = rng.floats(500, 0, 1)
            p += [0, 1, 0, 1, 1e-30, 1 - 1e-7, 0.5]
            t += [1, 0, 0, 1, 1, 0, 0.5]
            let expected = atLevel(0) { () -> [Float] in
                var l = [Float](repeating: 0, count: p.count)
                ag_bce_f32(Int64(p.count), p, t, &l)
                return l
            }
            #expect(expected[500] == 100 && expected[501] == 100, "log clamped at -100")
            forEachLevel { level in
                var l = [Float](repeating: 0, count: p.count)
                ag_bce_f32(Int64(p.count), p, t, &l)
                for i in p.indices where !(abs(l[i] - expected[i]) <= 4e-6 * max(1, abs(expected[i]))) {
                    Issue.record("bce level \(level): p \(p[i]) t \(t[i]) -> \(l[i]), expected \(expected[i])")
                }
                var ld = [Double](repeating: 0, count: 3)
                ag_bce_f64(3, [0.25, 0, 1], [1, 1, 1], &ld)
                #expect(abs(ld[0] + log(0.25)) < 1e-15 && ld[1] == 100 && ld[2] == 0)
            }
        }
    }
}

import CAutogradKernels
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The exact GELU x Φ(x) and its derivative Φ(x) + x φ(x), in Double (the references of the float kernels).
private func geluReference(_ x: Double) -> Double { 0.5 * x * erfc(-x / 2.0.squareRoot()) }
private func geluTerms(_ x: Double) -> (Double, Double) {
    (0.5 * erfc(-x / 2.0.squareRoot()), x * exp(-0.5 * x * x) / (2 * Double.pi).squareRoot())
}

extension KernelTests {
    @Suite struct Gelu {
        /// Inputs: a dense sweep over [−16, 16] (the tail of Φ down to the subnormal range on the left, rounding to
        /// x on the right), random bit patterns of the whole float range and the special values.
        private func inputs() -> [Float] {
            var rng = TestRNG(seed: 41)
            let sweep = (0..<40000).map { -16 + 32 * Float($0) / 40000 }
            let bits = (0..<8000).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)) }
            return sweep + bits + specialFloats
        }

        /// gelu within 6 ulp of the correctly rounded x Φ(x) at every CPU level, including the far left tail
        /// (x Φ(x) for x = −12 is −2e-32: a relative, not an absolute, accuracy).
        @Test func valueWithinSixUlp() {
            let x = inputs()
            forEachLevel { level in
                var log = FailureLog("gelu level \(level)")
                let y = unaryF32(AG_UNARY_GELU, x)
                for i in x.indices {
                    let r = geluReference(Double(x[i]))
                    let e = ulpError(y[i], r)
                    if !(e <= 6) { log.fail("gelu(\(x[i])) = \(y[i]), expected \(r) (\(e) ulp)") }
                }
            }
        }

        /// The derivative within 6 ulp of the larger of its two terms Φ(x) and x φ(x) (they cancel near
        /// x = −0.75, where f′ crosses 0, so a bound relative to f′ itself cannot hold there).
        @Test func derivativeWithinSixUlpOfItsTerms() {
            let x = inputs()
            forEachLevel { level in
                var log = FailureLog("gelu derivative level \(level)")
                let d = unaryF32(AG_UNARY_GELU_DERIVATIVE, x)
                for i in x.indices {
                    let v = Double(x[i])
                    let (phi, density) = geluTerms(v)
                    let r = phi + density
                    if r.isNaN || v.isInfinite {
                        // ±∞ give NaN (∞ · 0 in x φ(x)), as the Double formula.
                        if !(d[i].isNaN == r.isNaN && (r.isNaN || Double(d[i]) == r)) {
                            log.fail("gelu′(\(x[i])) = \(d[i]), expected \(r)")
                        }
                        continue
                    }
                    let scale = max(abs(phi), abs(density))
                    let unit = scale == 0 ? Double(Float.leastNonzeroMagnitude)
                        : Double(sign: .plus, exponent: max(Int(scale.exponent) - 23, -149), significand: 1)
                    if !(abs(Double(d[i]) - r) <= 6 * unit) {
                        log.fail("gelu′(\(x[i])) = \(d[i]), expected \(r) (\(abs(Double(d[i]) - r) / unit) units)")
                    }
                }
            }
        }

        /// Special values: gelu(±0) = ±0, gelu(∞) = ∞, gelu(−∞) = NaN (−∞ · 0, as x Φ(x)); f′(0) = ½, f′ → 1 and 0
        /// far out, and f′(±∞) = NaN (∞ · 0 in x φ(x), as the formula in Double).
        @Test func specialValues() {
            forEachLevel { level in
                let y = unaryF32(AG_UNARY_GELU, [0, -0.0, .infinity, -.infinity, .nan])
                #expect(y[0] == 0 && y[0].sign == .plus && y[1] == 0 && y[1].sign == .minus, "level \(level)")
                #expect(y[2] == .infinity && y[3].isNaN && y[4].isNaN, "level \(level)")
                let d = unaryF32(AG_UNARY_GELU_DERIVATIVE, [0, .infinity, 30, -30, .nan])
                #expect(d[0] == 0.5 && d[1].isNaN && d[2] == 1 && d[3] == 0 && d[4].isNaN, "level \(level): \(d)")
            }
        }
    }
}

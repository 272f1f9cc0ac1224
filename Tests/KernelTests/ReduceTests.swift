import CAutogradKernels
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension KernelTests {
    @Suite struct Reduce {
        static let shapes: [(Int, Int, Int)] = [
            (1, 1, 1), (1, 0, 5), (3, 0, 1), (1, 1000, 1), (3, 1023, 1), (2, 4097, 1), (5, 17, 1), (1, 300, 33),
            (4, 31, 7), (2, 50, 520), (1, 5, 1), (7, 3, 2), (1, 16, 16), (2, 256, 1), (1, 70000, 1),
        ]

        @Test func sumsAreAccurate() {
            var rng = TestRNG(seed: 30)
            for (outer, r, inner) in Self.shapes {
                let x = rng.floats(outer * r * inner, -1, 1)
                let xd = rng.doubles(outer * r * inner, -1, 1)
                forEachLevel { level in
                    var log = FailureLog("sum level \(level) [\(outer), \(r), \(inner)]")
                    var y = [Float](repeating: .nan, count: outer * inner), yd = [Double](repeating: .nan, count: outer * inner)
                    ag_reduce_f32(AG_REDUCE_SUM, Int64(outer), Int64(r), Int64(inner), x, &y)
                    ag_reduce_f64(AG_REDUCE_SUM, Int64(outer), Int64(r), Int64(inner), xd, &yd)
                    for o in 0..<outer {
                        for i in 0..<inner {
                            var s = 0.0, sa = 0.0, sd = 0.0, sda = 0.0, c = 0.0
                            for p in 0..<r {
                                let v = Double(x[(o * r + p) * inner + i])
                                s += v
                                sa += abs(v)
                                // Compensated reference for the double sums.
                                let w = xd[(o * r + p) * inner + i], t = sd + w
                                c += abs(sd) >= abs(w) ? (sd - t) + w : (w - t) + sd
                                sd = t
                                sda += abs(w)
                            }
                            sd += c
                            let got = Double(y[o * inner + i])
                            // float: a few float ulps of sum|x| plus the final rounding.
                            if !(abs(got - s) <= 4 * Double(Float.ulpOfOne) * sa + Double(abs(Float(s)).ulp)) {
                                log.fail("f32 y[\(o),\(i)] = \(got), expected \(s)")
                            }
                            // double: error must grow like log(r) at most (here with a generous 2 + log2(r)).
                            let bound = (2 + log2(Double(max(r, 1)))) * Double.ulpOfOne * sda + abs(sd).ulp
                            if !(abs(yd[o * inner + i] - sd) <= bound) {
                                log.fail("f64 y[\(o),\(i)] = \(yd[o * inner + i]), expected \(sd)")
                            }
                        }
                    }
                }
            }
        }

        /// A sum that naive float accumulation gets badly wrong (1 + many tiny values), in both layouts.
        @Test func sumsDoNotDrift() {
            let r = 1 << 20
            var x = [Float](repeating: 1e-8, count: r)
            x[0] = 1
            forEachLevel { level in
                var y: Float = 0
                ag_reduce_f32(AG_REDUCE_SUM, 1, Int64(r), 1, x, &y)
                #expect(abs(Double(y) - (1 + 1e-8 * Double(r - 1))) < 1e-6, "level \(level): \(y)")
                var col = [Float](repeating: 0, count: 2)
                let x2 = x.flatMap { [$0, $0] }
                ag_reduce_f32(AG_REDUCE_SUM, 1, Int64(r), 2, x2, &col)
                #expect(abs(Double(col[1]) - (1 + 1e-8 * Double(r - 1))) < 1e-6, "level \(level): \(col)")
            }
        }

        @Test func maxAndMinMatchPortable() {
            var rng = TestRNG(seed: 31)
            for (outer, r, inner) in Self.shapes {
                var x = mixedFloats(outer * r * inner, &rng)
                if x.count > 3 && Bool.random(using: &rng) {  // some rows without NaN at all
                    x = x.map { $0.isNaN ? 0.5 : $0 }
                }
                let xd = x.map(Double.init)
                for op in [AG_REDUCE_MAX, AG_REDUCE_MIN] {
                    func run() -> ([Float], [Double]) {
                        var y = [Float](repeating: 7, count: outer * inner), yd = [Double](repeating: 7, count: outer * inner)
                        ag_reduce_f32(op, Int64(outer), Int64(r), Int64(inner), x, &y)
                        ag_reduce_f64(op, Int64(outer), Int64(r), Int64(inner), xd, &yd)
                        return (y, yd)
                    }
                    let (e, ed) = atLevel(0) { run() }
                    forEachLevel { level in
                        let (y, yd) = run()
                        // Equal as numbers (a max of +0 and -0 may be either), NaN where portable has NaN.
                        for i in y.indices where !(y[i] == e[i] || (y[i].isNaN && e[i].isNaN)) {
                            Issue.record("op \(op.rawValue) level \(level) [\(outer),\(r),\(inner)] y[\(i)] = \(y[i]), expected \(e[i])")
                        }
                        for i in yd.indices where !(yd[i] == ed[i] || (yd[i].isNaN && ed[i].isNaN)) {
                            Issue.record("f64 op \(op.rawValue) level \(level) y[\(i)] = \(yd[i]), expected \(ed[i])")
                        }
                    }
                }
            }
            forEachLevel { _ in
                var y: [Float] = [0, 0]
                ag_reduce_f32(AG_REDUCE_MAX, 2, 0, 1, [], &y)
                #expect(y == [-.infinity, -.infinity])
                ag_reduce_f32(AG_REDUCE_MIN, 1, 0, 2, [], &y)
                #expect(y == [.infinity, .infinity])
            }
        }

        @Test func dotProducts() {
            var rng = TestRNG(seed: 32)
            for n in [0, 1, 7, 16, 31, 32, 33, 100, 1000, 4099] {
                let a = rng.floats(n), b = rng.floats(n)
                let ad = rng.doubles(n), bd = rng.doubles(n)
                var ref = 0.0, refAbs = 0.0, refD = 0.0, refDAbs = 0.0
                for i in 0..<n {
                    ref += Double(a[i]) * Double(b[i])
                    refAbs += abs(Double(a[i]) * Double(b[i]))
                    refD += ad[i] * bd[i]
                    refDAbs += abs(ad[i] * bd[i])
                }
                forEachLevel { level in
                    let d = ag_dot_f32(Int64(n), a, b), dd = ag_dot_f64(Int64(n), ad, bd)
                    // Accumulated in double: error ~ n double ulps at worst.
                    #expect(abs(d - ref) <= Double(n + 1) * Double.ulpOfOne * refAbs, "dot f32 level \(level) n \(n)")
                    #expect(abs(dd - refD) <= Double(2 * n + 2) * Double.ulpOfOne * refDAbs, "dot f64 level \(level) n \(n)")
                }
            }
        }
    }
}

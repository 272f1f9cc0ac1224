import CAutogradKernels
import Testing

/// A broadcasting pattern: the index space and each operand's strides (0 = broadcast).
struct Pattern: CustomStringConvertible {
    var shape: [Int]
    var sa: [Int]
    var sb: [Int]
    var sc: [Int]? = nil  // condition strides for where (default: contiguous)
    var description: String { "shape \(shape) sa \(sa) sb \(sb)" }

    var count: Int { shape.reduce(1, *) }
    static func contiguous(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 0, count: shape.count), acc = 1
        for d in shape.indices.reversed() { s[d] = acc; acc *= shape[d] }
        return s
    }
    /// Elements an operand with these strides needs.
    func extent(_ strides: [Int]) -> Int {
        if shape.contains(0) { return 1 }
        return 1 + zip(shape, strides).reduce(0) { $0 + ($1.0 - 1) * $1.1 }
    }
}

let broadcastPatterns: [Pattern] = {
    var p: [Pattern] = []
    let c = Pattern.contiguous
    p.append(Pattern(shape: [37, 53], sa: c([37, 53]), sb: c([37, 53])))                 // same shape
    p.append(Pattern(shape: [13, 67], sa: c([13, 67]), sb: [0, 1]))                      // bias add
    p.append(Pattern(shape: [13, 67], sa: [0, 1], sb: c([13, 67])))                      // bias first
    p.append(Pattern(shape: [13, 67], sa: c([13, 67]), sb: [1, 0]))                      // row broadcast
    p.append(Pattern(shape: [13, 67], sa: [1, 0], sb: c([13, 67])))
    p.append(Pattern(shape: [5, 7, 9], sa: c([5, 7, 9]), sb: [0, 0, 0]))                 // scalar
    p.append(Pattern(shape: [5, 7, 9], sa: [0, 0, 0], sb: c([5, 7, 9])))
    p.append(Pattern(shape: [4, 5, 6], sa: c([4, 5, 6]), sb: [6, 0, 1]))                 // middle broadcast
    p.append(Pattern(shape: [4, 5, 6], sa: [0, 6, 1], sb: [5, 1, 0]))                    // both broadcast
    p.append(Pattern(shape: [53, 13], sa: [1, 53], sb: c([53, 13])))                     // transposed a
    p.append(Pattern(shape: [1, 7, 1, 9], sa: [63, 9, 9, 1], sb: [0, 1, 0, 0]))          // size-1 dims
    p.append(Pattern(shape: [], sa: [], sb: []))                                          // one element
    p.append(Pattern(shape: [3, 0, 4], sa: [0, 4, 1], sb: [0, 4, 1]))                    // empty
    p.append(Pattern(shape: [1001], sa: [1], sb: [1]))                                    // long, odd
    p.append(Pattern(shape: [17], sa: [2], sb: [3]))                                      // strided slices
    p.append(Pattern(shape: [6, 17], sa: [40, 2], sb: [0, 1]))
    p.append(Pattern(shape: [3, 4, 5, 2, 3], sa: c([3, 4, 5, 2, 3]), sb: [0, 15, 3, 0, 1]))
    return p
}()

/// Random values with a sprinkling of NaN, infinities and signed zeros (min/max and compares must agree on them).
func mixedFloats(_ n: Int, _ rng: inout TestRNG) -> [Float] {
    (0..<n).map { _ in
        switch Int.random(in: 0..<20, using: &rng) {
        case 0: return .nan
        case 1: return -0.0
        case 2: return 0
        case 3: return Bool.random(using: &rng) ? .infinity : -.infinity
        case 4: return Float(Int.random(in: -2...2, using: &rng))  // repeats, for equality compares
        default: return rng.float(-3, 3)
        }
    }
}

extension KernelTests {
    @Suite struct Broadcasting {
        @Test func binaryMatchesPortable() {
            var rng = TestRNG(seed: 20)
            for (t, p) in broadcastPatterns.enumerated() {
                let a = mixedFloats(p.extent(p.sa), &rng), b = mixedFloats(p.extent(p.sb), &rng)
                let ad = a.map(Double.init), bd = b.map(Double.init)
                for op in 0..<AG_BINARY_COUNT.rawValue {
                    let bop = ag_binary_op(op)
                    func run() -> ([Float], [Double]) {
                        var y = [Float](repeating: 7, count: max(p.count, 1)), yd = [Double](repeating: 7, count: max(p.count, 1))
                        ag_binary_f32(bop, Int32(p.shape.count), p.shape.i64, a, p.sa.i64, b, p.sb.i64, &y)
                        ag_binary_f64(bop, Int32(p.shape.count), p.shape.i64, ad, p.sa.i64, bd, p.sb.i64, &yd)
                        return (y, yd)
                    }
                    let (expected, expectedD) = atLevel(0) { run() }
                    forEachLevel { level in
                        var log = FailureLog("binary op \(op) level \(level) pattern \(t) \(p)")
                        let (y, yd) = run()
                        for i in y.indices where !sameFloat(y[i], expected[i]) { log.fail("y[\(i)] = \(y[i]), expected \(expected[i])") }
                        for i in yd.indices where !sameDouble(yd[i], expectedD[i]) { log.fail("f64 y[\(i)] = \(yd[i]), expected \(expectedD[i])") }
                    }
                }
            }
        }

        @Test func compareAndWhereMatchPortable() {
            var rng = TestRNG(seed: 21)
            for (t, p) in broadcastPatterns.enumerated() {
                let a = mixedFloats(p.extent(p.sa), &rng), b = mixedFloats(p.extent(p.sb), &rng)
                let ad = a.map(Double.init), bd = b.map(Double.init)
                // The condition broadcasts like b, or is contiguous.
                for condStrides in [Pattern.contiguous(p.shape), p.sb] {
                    let cond = (0..<p.extent(condStrides)).map { _ in UInt8.random(in: 0...2, using: &rng) }
                    func run() -> [[Double]] {
                        var results: [[Double]] = []
                        for op in 0...5 {
                            var y = [UInt8](repeating: 9, count: max(p.count, 1)), yd = y
                            ag_compare_f32(ag_compare_op(UInt32(op)), Int32(p.shape.count), p.shape.i64, a, p.sa.i64, b, p.sb.i64, &y)
                            ag_compare_f64(ag_compare_op(UInt32(op)), Int32(p.shape.count), p.shape.i64, ad, p.sa.i64, bd, p.sb.i64, &yd)
                            results += [y.map(Double.init), yd.map(Double.init)]
                        }
                        var w = [Float](repeating: 7, count: max(p.count, 1)), wd = [Double](repeating: 7, count: max(p.count, 1))
                        ag_where_f32(Int32(p.shape.count), p.shape.i64, cond, condStrides.i64, a, p.sa.i64, b, p.sb.i64, &w)
                        ag_where_f64(Int32(p.shape.count), p.shape.i64, cond, condStrides.i64, ad, p.sa.i64, bd, p.sb.i64, &wd)
                        return results + [w.map(Double.init), wd]
                    }
                    let expected = atLevel(0) { run() }
                    forEachLevel { level in
                        let got = run()
                        for (r, (g, e)) in zip(got, expected).enumerated() where !zip(g, e).allSatisfy({ sameDouble($0, $1) }) {
                            Issue.record("compare/where result \(r) level \(level) pattern \(t) \(p) differs")
                        }
                    }
                }
            }
        }

        /// Spot checks against hand-computed values (the portable oracle itself).
        @Test func knownValues() {
            var y = [Float](repeating: 0, count: 6)
            ag_binary_f32(AG_BINARY_ADD, 2, [2, 3], [1, 2, 3, 4, 5, 6], [3, 1], [10, 20, 30], [0, 1], &y)
            #expect(y == [11, 22, 33, 14, 25, 36])
            ag_binary_f32(AG_BINARY_MUL, 2, [2, 3], [1, 2, 3, 4, 5, 6], [3, 1], [10, 100], [1, 0], &y)
            #expect(y == [10, 20, 30, 400, 500, 600])
            var m = [Float](repeating: 0, count: 3)
            ag_binary_f32(AG_BINARY_MAX, 1, [3], [1, .nan, -0.0], [1], [2, 0, 0], [1], &m)
            #expect(m[0] == 2 && m[1].isNaN && m[2] == 0)
        }
    }
}

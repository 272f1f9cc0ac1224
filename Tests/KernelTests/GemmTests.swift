import CAutogradKernels
import Testing

/// Float and Double, with their kernel entry points, so the tests are written once.
protocol KernelFloat: BinaryFloatingPoint & Sendable where RawSignificand: FixedWidthInteger {
    static func gemm(_ m: Int, _ n: Int, _ k: Int, _ alpha: Self, _ a: UnsafePointer<Self>, _ rsa: Int, _ csa: Int,
                     _ b: UnsafePointer<Self>, _ rsb: Int, _ csb: Int, _ beta: Self, _ c: UnsafeMutablePointer<Self>,
                     _ ldc: Int)
    static func gemmBatched(_ batch: Int, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Self>, _ ao: [Int64],
                            _ rsa: Int, _ csa: Int, _ b: UnsafePointer<Self>, _ bo: [Int64], _ rsb: Int, _ csb: Int,
                            _ c: UnsafeMutablePointer<Self>)
}

extension Float: KernelFloat {
    static func gemm(_ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: UnsafePointer<Float>, _ rsa: Int, _ csa: Int,
                     _ b: UnsafePointer<Float>, _ rsb: Int, _ csb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>,
                     _ ldc: Int) {
        ag_gemm_f32(Int64(m), Int64(n), Int64(k), alpha, a, Int64(rsa), Int64(csa), b, Int64(rsb), Int64(csb), beta, c,
                    Int64(ldc))
    }
    static func gemmBatched(_ batch: Int, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ ao: [Int64],
                            _ rsa: Int, _ csa: Int, _ b: UnsafePointer<Float>, _ bo: [Int64], _ rsb: Int, _ csb: Int,
                            _ c: UnsafeMutablePointer<Float>) {
        ag_gemm_batched_f32(Int64(batch), Int64(m), Int64(n), Int64(k), a, ao, Int64(rsa), Int64(csa), b, bo,
                            Int64(rsb), Int64(csb), c)
    }
}

extension Double: KernelFloat {
    static func gemm(_ m: Int, _ n: Int, _ k: Int, _ alpha: Double, _ a: UnsafePointer<Double>, _ rsa: Int,
                     _ csa: Int, _ b: UnsafePointer<Double>, _ rsb: Int, _ csb: Int, _ beta: Double,
                     _ c: UnsafeMutablePointer<Double>, _ ldc: Int) {
        ag_gemm_f64(Int64(m), Int64(n), Int64(k), alpha, a, Int64(rsa), Int64(csa), b, Int64(rsb), Int64(csb), beta, c,
                    Int64(ldc))
    }
    static func gemmBatched(_ batch: Int, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Double>, _ ao: [Int64],
                            _ rsa: Int, _ csa: Int, _ b: UnsafePointer<Double>, _ bo: [Int64], _ rsb: Int, _ csb: Int,
                            _ c: UnsafeMutablePointer<Double>) {
        ag_gemm_batched_f64(Int64(batch), Int64(m), Int64(n), Int64(k), a, ao, Int64(rsa), Int64(csa), b, bo,
                            Int64(rsb), Int64(csb), c)
    }
}

/// A matrix stored with arbitrary strides inside a larger buffer: row-major, transposed (column-major), or
/// every other element of a wider row-major buffer (a strided slice).
enum Layout: CaseIterable, CustomStringConvertible {
    case rowMajor, transposed, strided
    var description: String { "\(self == .rowMajor ? "N" : self == .transposed ? "T" : "S")" }

    /// (row stride, column stride, buffer size) for a rows x cols matrix.
    func strides(_ rows: Int, _ cols: Int) -> (Int, Int, Int) {
        switch self {
        case .rowMajor: return (cols, 1, max(rows * cols, 1))
        case .transposed: return (1, rows, max(rows * cols, 1))
        case .strided: return (2 * cols + 3, 2, max(rows * (2 * cols + 3), 1))
        }
    }
}

struct GemmCase: CustomStringConvertible {
    var m, n, k: Int
    var la: Layout, lb: Layout
    var alpha: Double = 1, beta: Double = 0
    var description: String { "m=\(m) n=\(n) k=\(k) A:\(la) B:\(lb) alpha=\(alpha) beta=\(beta)" }
}

/// One product with its inputs and a double-accumulated reference, checked at any number of CPU levels and
/// thread counts. The error bound grows with k: |C - ref| <= (2k + 8) eps (|alpha| sum|a||b| + |beta c|).
/// beta == 0 fills C with NaN first (C must not be read); C's padding columns must stay untouched.
struct GemmProblem<T: KernelFloat> {
    let g: GemmCase
    let a, b, c0: [T]
    let rsa, csa, rsb, csb, ldc: Int
    var ref: [Double] = [], tol: [Double] = []
    let sentinel = T(12345)

    init(_ g: GemmCase, seed: UInt64) {
        self.g = g
        var rng = TestRNG(seed: seed)
        var na = 0, nb = 0
        (rsa, csa, na) = g.la.strides(g.m, g.k)
        (rsb, csb, nb) = g.lb.strides(g.k, g.n)
        a = (0..<na).map { _ in T(rng.double()) }
        b = (0..<nb).map { _ in T(rng.double()) }
        ldc = g.n + 3
        var c = [T](repeating: sentinel, count: max(g.m * ldc, 1))
        for i in 0..<g.m { for j in 0..<g.n { c[i * ldc + j] = g.beta == 0 ? T.nan : T(rng.double()) } }
        c0 = c
        let eps = Double(T.ulpOfOne)
        for i in 0..<g.m {
            for j in 0..<g.n {
                var s = 0.0, sa = 0.0
                for p in 0..<g.k {
                    let t = Double(a[i * rsa + p * csa]) * Double(b[p * rsb + j * csb])
                    s += t
                    sa += abs(t)
                }
                let cin = g.beta == 0 ? 0 : Double(c0[i * ldc + j])
                ref.append(g.alpha * s + g.beta * cin)
                tol.append(Double(2 * g.k + 8) * eps * (abs(g.alpha) * sa + abs(g.beta * cin)) + 1e-300)
            }
        }
    }

    /// Runs the product at the current CPU level and thread count, records mismatches, returns C.
    @discardableResult
    func check(_ log: inout FailureLog) -> [T] {
        var c = c0
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            T.gemm(g.m, g.n, g.k, T(g.alpha), pa.baseAddress!, rsa, csa, pb.baseAddress!, rsb, csb, T(g.beta),
                   pc.baseAddress!, ldc)
        } } }
        for i in 0..<g.m {
            for j in 0..<g.n {
                let got = Double(c[i * ldc + j]), r = ref[i * g.n + j]
                if !(abs(got - r) <= tol[i * g.n + j]) {
                    log.fail("\(g) C[\(i),\(j)] = \(got), expected \(r) (tol \(tol[i * g.n + j]))")
                }
            }
            for j in g.n..<ldc where c[i * ldc + j] != sentinel { log.fail("\(g) wrote padding C[\(i),\(j)]") }
        }
        return c
    }
}

/// Checks every case at every CPU level.
func checkGemmCases(_ cases: [GemmCase], double: Bool, seed: UInt64, label: String) {
    if double {
        let problems = cases.enumerated().map { GemmProblem<Double>($1, seed: seed + UInt64($0)) }
        forEachLevel { level in
            var log = FailureLog("\(label) f64 level \(level)")
            for p in problems { p.check(&log) }
        }
    } else {
        let problems = cases.enumerated().map { GemmProblem<Float>($1, seed: seed + UInt64($0)) }
        forEachLevel { level in
            var log = FailureLog("\(label) f32 level \(level)")
            for p in problems { p.check(&log) }
        }
    }
}

extension KernelTests {
    @Suite struct Gemm {
        static let edgeSizes = [0, 1, 2, 3, 5, 7, 8, 9, 11, 12, 13, 15, 16, 17, 31, 32, 33, 47, 65]

        @Test(arguments: [false, true])
        func edgeShapesAllLayouts(double: Bool) {
            var rng = TestRNG(seed: 1)
            var cases: [GemmCase] = []
            for la in Layout.allCases {
                for lb in Layout.allCases {
                    for _ in 0..<14 {
                        let m = Self.edgeSizes.randomElement(using: &rng)!, n = Self.edgeSizes.randomElement(using: &rng)!
                        let k = Self.edgeSizes.randomElement(using: &rng)!
                        cases.append(GemmCase(m: m, n: n, k: k, la: la, lb: lb))
                    }
                }
            }
            // Degenerate and special shapes: vectors, k = 0, alpha/beta variants.
            cases += [
                GemmCase(m: 100, n: 1, k: 2, la: .rowMajor, lb: .rowMajor),
                GemmCase(m: 1, n: 2, k: 100, la: .rowMajor, lb: .rowMajor),
                GemmCase(m: 1, n: 37, k: 19, la: .transposed, lb: .transposed),
                GemmCase(m: 37, n: 1, k: 19, la: .transposed, lb: .transposed),
                GemmCase(m: 70, n: 1, k: 300, la: .transposed, lb: .strided),
                GemmCase(m: 9, n: 9, k: 0, la: .rowMajor, lb: .rowMajor, alpha: 1, beta: 0),
                GemmCase(m: 9, n: 9, k: 0, la: .rowMajor, lb: .rowMajor, alpha: 1, beta: 0.5),
                GemmCase(m: 40, n: 50, k: 30, la: .rowMajor, lb: .transposed, alpha: 0.5, beta: 1),
                GemmCase(m: 40, n: 50, k: 30, la: .transposed, lb: .rowMajor, alpha: -2, beta: 0.25),
                GemmCase(m: 3, n: 70, k: 30, la: .strided, lb: .rowMajor, alpha: 0, beta: 2),
                GemmCase(m: 21, n: 45, k: 33, la: .strided, lb: .strided, alpha: 1.5, beta: -1),
            ]
            checkGemmCases(cases, double: double, seed: 0, label: "gemm edge shapes")
        }

        /// Shapes that cross the cache blocks (k > KC, n > NC, m > MC) and the MLP shapes.
        @Test(arguments: [false, true])
        func blockedShapes(double: Bool) {
            let cases = [
                GemmCase(m: 30, n: 50, k: 800, la: .rowMajor, lb: .rowMajor, alpha: 1, beta: 0.5),
                GemmCase(m: 20, n: 900, k: 20, la: .rowMajor, lb: .transposed),
                GemmCase(m: 1700, n: 20, k: 8, la: .transposed, lb: .rowMajor, alpha: 1, beta: 1),
                GemmCase(m: 128, n: 10, k: 96, la: .rowMajor, lb: .rowMajor),
                GemmCase(m: 70, n: 10, k: 300, la: .rowMajor, lb: .rowMajor, alpha: 0.5, beta: 2),  // dot path
                GemmCase(m: 33, n: 3, k: 100, la: .rowMajor, lb: .transposed),                     // dot path
                GemmCase(m: 21, n: 2, k: 257, la: .rowMajor, lb: .strided),                        // dot path
                GemmCase(m: 96, n: 64, k: 128, la: .transposed, lb: .rowMajor),
                GemmCase(m: 64, n: 96, k: 80, la: .rowMajor, lb: .transposed),
                GemmCase(m: 131, n: 77, k: 401, la: .strided, lb: .transposed, alpha: -1, beta: 0),
                // A small C with a long k (a convolution's weight cotangent): threads take single micro-panels.
                GemmCase(m: 16, n: 25, k: 3000, la: .rowMajor, lb: .transposed),
                GemmCase(m: 40, n: 70, k: 700, la: .transposed, lb: .rowMajor, alpha: 0.5, beta: 1),
            ]
            checkGemmCases(cases, double: double, seed: 100, label: "gemm blocked shapes")
        }

        /// Splitting the work between threads changes nothing: results are bitwise identical for 1, 2 and 3 threads.
        @Test func threadCountsGiveIdenticalResults() {
            let cases = [
                GemmCase(m: 200, n: 190, k: 150, la: .rowMajor, lb: .rowMajor),
                GemmCase(m: 300, n: 20, k: 200, la: .transposed, lb: .rowMajor, alpha: 1, beta: 0.5),
                GemmCase(m: 40, n: 333, k: 120, la: .rowMajor, lb: .transposed),
                GemmCase(m: 300, n: 4, k: 600, la: .rowMajor, lb: .rowMajor),            // dot-product path
                GemmCase(m: 1100, n: 1, k: 600, la: .rowMajor, lb: .rowMajor),           // threaded matrix-vector
                GemmCase(m: 1, n: 1000, k: 700, la: .rowMajor, lb: .rowMajor, alpha: 2, beta: 1),
            ]
            let saved = ag_num_threads()
            defer { ag_set_num_threads(saved) }
            let problems = cases.enumerated().map { GemmProblem<Float>($1, seed: 200 + UInt64($0)) }
            forEachLevel { level in
                var log = FailureLog("gemm threads level \(level)")
                for p in problems {
                    var results: [[Float]] = []
                    for threads: Int32 in [1, 2, 3] {
                        ag_set_num_threads(threads)
                        results.append(p.check(&log))
                    }
                    for r in results.dropFirst() where !zip(r, results[0]).allSatisfy({ sameFloat($0, $1) }) {
                        log.fail("\(p.g): results differ between thread counts")
                    }
                }
            }
        }

        /// Many threads calling gemm at once (as parallel derivative tasks do) get correct results.
        @Test func concurrentCallers() async {
            let g = GemmCase(m: 150, n: 140, k: 130, la: .rowMajor, lb: .transposed)
            let problem = GemmProblem<Float>(g, seed: 7)
            var log = FailureLog("serial")
            let expected = problem.check(&log)
            let ok = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var log = FailureLog("concurrent")
                        var same = true
                        for _ in 0..<3 {
                            let c = problem.check(&log)
                            same = same && zip(c, expected).allSatisfy { sameFloat($0, $1) }
                        }
                        return same && log.count == 0
                    }
                }
                var all = true
                for await r in group { all = all && r }
                return all
            }
            #expect(ok)
        }

        @Test(arguments: [false, true])
        func batched(double: Bool) {
            // (batch, m, n, k, layout A, layout B, broadcast A)
            let cases: [(Int, Int, Int, Int, Layout, Layout, Bool)] = [
                (100, 1, 1, 2, .rowMajor, .rowMajor, false),
                (100, 1, 2, 2, .rowMajor, .transposed, true),
                (7, 33, 17, 20, .transposed, .rowMajor, false),
                (3, 130, 120, 110, .rowMajor, .transposed, true),
                (0, 4, 4, 4, .rowMajor, .rowMajor, false),
                (5, 6, 7, 0, .rowMajor, .rowMajor, false),
            ]
            forEachLevel { level in
                var log = FailureLog("gemm batched level \(level)")
                for (t, (batch, m, n, k, la, lb, broadcastA)) in cases.enumerated() {
                    var rng = TestRNG(seed: UInt64(300 + t))
                    let (rsa, csa, na) = la.strides(m, k)
                    let (rsb, csb, nb) = lb.strides(k, n)
                    let aCount = broadcastA ? 1 : max(batch, 1)
                    let ao = (0..<batch).map { Int64(broadcastA ? 0 : $0 * na) }
                    let bo = (0..<batch).map { Int64($0 * nb) }
                    if double {
                        let a = rng.doubles(na * aCount), b = rng.doubles(nb * max(batch, 1))
                        var c = [Double](repeating: .nan, count: max(batch * m * n, 1))
                        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                            Double.gemmBatched(batch, m, n, k, pa.baseAddress!, ao, rsa, csa, pb.baseAddress!, bo, rsb, csb,
                                               pc.baseAddress!)
                        } } }
                        for s in 0..<batch { for i in 0..<m { for j in 0..<n {
                            var ref = 0.0, sa = 0.0
                            for p in 0..<k {
                                let x = a[Int(ao[s]) + i * rsa + p * csa] * b[Int(bo[s]) + p * rsb + j * csb]
                                ref += x
                                sa += abs(x)
                            }
                            let got = c[(s * m + i) * n + j]
                            if !(abs(got - ref) <= Double(2 * k + 8) * Double.ulpOfOne * sa) {
                                log.fail("batch case \(t) item \(s) C[\(i),\(j)] = \(got), expected \(ref)")
                            }
                        } } }
                    } else {
                        let a = rng.floats(na * aCount), b = rng.floats(nb * max(batch, 1))
                        var c = [Float](repeating: .nan, count: max(batch * m * n, 1))
                        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                            Float.gemmBatched(batch, m, n, k, pa.baseAddress!, ao, rsa, csa, pb.baseAddress!, bo, rsb, csb,
                                              pc.baseAddress!)
                        } } }
                        for s in 0..<batch { for i in 0..<m { for j in 0..<n {
                            var ref = 0.0, sa = 0.0
                            for p in 0..<k {
                                let x = Double(a[Int(ao[s]) + i * rsa + p * csa]) * Double(b[Int(bo[s]) + p * rsb + j * csb])
                                ref += x
                                sa += abs(x)
                            }
                            let got = Double(c[(s * m + i) * n + j])
                            if !(abs(got - ref) <= Double(2 * k + 8) * Double(Float.ulpOfOne) * sa) {
                                log.fail("batch case \(t) item \(s) C[\(i),\(j)] = \(got), expected \(ref)")
                            }
                        } } }
                    }
                }
            }
        }
    }
}

import CAutogradKernels
import Testing

extension KernelTests {
    @Suite struct DataMovement {
        /// (shape, strides of the strided view), for gathers into and scatters out of a contiguous buffer.
        static let views: [([Int], [Int])] = [
            ([37, 53], [53, 1]),                  // contiguous
            ([53, 37], [1, 53]),                  // transpose
            ([4, 33, 17], [561, 1, 33]),          // batched transpose
            ([5, 6, 7], [1, 5, 30]),              // reversed permutation
            ([3, 4, 5], [0, 5, 1]),               // broadcast outer (gather only)
            ([3, 4, 5], [20, 5, 0]),              // broadcast inner (gather only)
            ([10, 9], [40, 3]),                   // stepped slice
            ([], []),                             // one element
            ([2, 0, 3], [0, 3, 1]),               // empty
            ([1, 1000, 1], [5, 1, 9]),
            ([100, 3], [1, 100]),                 // tall transpose with short rows
        ]

        @Test(arguments: [1, 2, 4, 8, 3])
        func stridedCopiesMatchPortable(elementSize: Int) {
            var rng = TestRNG(seed: 40 + UInt64(elementSize))
            for (v, (shape, strides)) in Self.views.enumerated() {
                let p = Pattern(shape: shape, sa: strides, sb: strides)
                let count = p.count
                let source = (0..<(p.extent(strides) * elementSize)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let gathered: ([UInt8]) = atLevel(0) {
                    var y = [UInt8](repeating: 0, count: max(count, 1) * elementSize)
                    ag_copy_strided(Int64(elementSize), Int32(shape.count), shape.i64, source, strides.i64, &y)
                    return y
                }
                let overlapping = strides.contains(0) && !shape.contains(0)
                let flat = (0..<(max(count, 1) * elementSize)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let scattered: [UInt8] = atLevel(0) {
                    var y = [UInt8](repeating: 0, count: source.count)
                    ag_copy_into_strided(Int64(elementSize), Int32(shape.count), shape.i64, flat, &y, strides.i64)
                    return y
                }
                forEachLevel { level in
                    var y = [UInt8](repeating: 0, count: max(count, 1) * elementSize)
                    ag_copy_strided(Int64(elementSize), Int32(shape.count), shape.i64, source, strides.i64, &y)
                    let same = y == gathered
                    #expect(same, "copy_strided es \(elementSize) level \(level) view \(v)")
                    if !overlapping {
                        var z = [UInt8](repeating: 0, count: source.count)
                        ag_copy_into_strided(Int64(elementSize), Int32(shape.count), shape.i64, flat, &z, strides.i64)
                        let same = z == scattered
                        #expect(same, "copy_into_strided es \(elementSize) level \(level) view \(v)")
                    }
                }
            }
        }

        @Test func gatherAndScatterAdd() {
            var rng = TestRNG(seed: 50)
            for (outer, n, inner, count) in [(1, 10, 1, 25), (3, 7, 5, 9), (2, 100, 64, 30), (1, 5, 3, 0), (4, 1, 2, 6)] {
                let idx = (0..<count).map { _ in Int64.random(in: 0..<Int64(n), using: &rng) }  // with repeats
                let x = rng.floats(outer * n * inner), xd = rng.doubles(outer * n * inner)
                let src = rng.floats(outer * count * inner), srcd = rng.doubles(outer * count * inner)
                for es in [4, 8, 1, 2] {
                    let bytes = (0..<(outer * n * inner * es)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    func gather() -> [UInt8] {
                        var y = [UInt8](repeating: 0, count: max(outer * count * inner * es, 1))
                        ag_gather(Int64(es), Int64(outer), Int64(n), Int64(inner), bytes, idx, Int64(count), &y)
                        return y
                    }
                    let expected = atLevel(0) { gather() }
                    forEachLevel { level in
                        let same = gather() == expected
                        #expect(same, "gather es \(es) level \(level)")
                    }
                }
                func scatter() -> ([Float], [Double]) {
                    var y = x, yd = xd
                    ag_scatter_add_f32(Int64(outer), Int64(n), Int64(inner), src, idx, Int64(count), &y)
                    ag_scatter_add_f64(Int64(outer), Int64(n), Int64(inner), srcd, idx, Int64(count), &yd)
                    return (y, yd)
                }
                let (e, ed) = atLevel(0) { scatter() }
                // Independent check of the oracle on the first element of every row.
                for o in 0..<outer {
                    for j in 0..<n {
                        var s = x[(o * n + j) * inner]
                        for (t, k) in idx.enumerated() where k == j { s += src[(o * count + t) * inner] }
                        #expect(s == e[(o * n + j) * inner])
                    }
                }
                forEachLevel { level in
                    let (y, yd) = scatter()
                    let same = y == e && yd == ed
                    #expect(same, "scatter_add level \(level)")
                }
            }
        }

        @Test func conversionsAndFills() {
            var rng = TestRNG(seed: 60)
            for n in [0, 1, 15, 16, 17, 100, 1027] {
                let f = rng.floats(n, -1e6, 1e6) , d = rng.doubles(n, -1e40, 1e40) + [], u = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
                func run() -> [[Double]] {
                    var a = [Double](repeating: 0, count: n), b = [Float](repeating: 0, count: n)
                    var c = [Float](repeating: 0, count: n), e = [Double](repeating: 0, count: n)
                    var g = [Float](repeating: 0, count: n), h = [Double](repeating: 0, count: n)
                    ag_convert_f32_to_f64(Int64(n), f, &a)
                    ag_convert_f64_to_f32(Int64(n), d, &b)
                    ag_convert_u8_to_f32(Int64(n), u, &c)
                    ag_convert_u8_to_f64(Int64(n), u, &e)
                    ag_fill_f32(Int64(n), -2.5, &g)
                    ag_fill_f64(Int64(n), .pi, &h)
                    return [a, b.map(Double.init), c.map(Double.init), e, g.map(Double.init), h]
                }
                let expected = atLevel(0) { run() }
                #expect(expected[4].allSatisfy { $0 == -2.5 } && expected[2] == u.map(Double.init))
                forEachLevel { level in
                    let got = run()
                    for (k, (g, e)) in zip(got, expected).enumerated() where !zip(g, e).allSatisfy({ sameDouble($0, $1) }) {
                        Issue.record("conversion/fill \(k) level \(level) n \(n) differs")
                    }
                }
            }
        }
    }
}

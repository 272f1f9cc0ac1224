import CAutogradKernels
import Testing

/// Elementwise operations of at least 32768 elements are split across the thread pool. Each element must come out
/// exactly as on one thread: checked bit for bit against the same operation done in pieces below the threshold
/// (each piece runs on the calling thread alone), for the flat, bias-add, row-broadcast and transposed patterns.
@Suite struct ParallelElementwiseTests {
    /// Deterministic values in roughly [-2, 2] (no zeros, so division and pow stay finite).
    static func values(_ n: Int, seed: Int) -> [Float] {
        (0..<n).map { i in
            let v = Float((i * 7919 + seed * 104_729) % 4001) / 1000 - 2
            return v == 0 ? 0.5 : v
        }
    }

    static func same(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    @Test func flatBinaryOperations() {
        let n = 100_003
        let a = Self.values(n, seed: 1), b = Self.values(n, seed: 2).map { abs($0) }
        for op in 0..<AG_BINARY_COUNT.rawValue {
            var whole = [Float](repeating: 0, count: n), pieces = whole
            var shape = [Int64(n)], unit: [Int64] = [1]
            ag_binary_f32(ag_binary_op(op), 1, &shape, a, &unit, b, &unit, &whole)
            // Pieces of 16384 elements (a multiple of 64, below the threshold) on this thread.
            for start in stride(from: 0, to: n, by: 16384) {
                var len = [Int64(min(16384, n - start))]
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
                    pieces.withUnsafeMutableBufferPointer { py in
                        ag_binary_f32(ag_binary_op(op), 1, &len, pa.baseAddress! + start, &unit, pb.baseAddress! + start,
                                      &unit, py.baseAddress! + start)
                    }
                } }
            }
            #expect(Self.same(whole, pieces), "binary op \(op), flat [\(n)]")
        }
    }

    @Test func broadcastBinaryOperations() {
        // (rows, columns, strides of a, strides of b): bias add, row broadcast, transposed a.
        let patterns: [(Int, Int, [Int64], [Int64])] = [
            (300, 257, [257, 1], [0, 1]),
            (257, 300, [300, 1], [1, 0]),
            (400, 123, [1, 400], [123, 1]),
        ]
        for (rows, columns, sa, sb) in patterns {
            let a = Self.values(rows * columns, seed: 3), b = Self.values(rows * columns, seed: 4)
            for op in [AG_BINARY_ADD, AG_BINARY_MUL, AG_BINARY_DIV, AG_BINARY_MAX] {
                var whole = [Float](repeating: 0, count: rows * columns), pieces = whole
                var shape = [Int64(rows), Int64(columns)], sa = sa, sb = sb
                ag_binary_f32(op, 2, &shape, a, &sa, b, &sb, &whole)
                // One row at a time (each below the threshold) on this thread.
                for r in 0..<rows {
                    var row = [Int64(1), Int64(columns)]
                    a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
                        pieces.withUnsafeMutableBufferPointer { py in
                            ag_binary_f32(op, 2, &row, pa.baseAddress! + r * Int(sa[0]), &sa,
                                          pb.baseAddress! + r * Int(sb[0]), &sb, py.baseAddress! + r * columns)
                        }
                    } }
                }
                #expect(Self.same(whole, pieces), "binary op \(op.rawValue), [\(rows), \(columns)] sa \(sa) sb \(sb)")
            }
        }
    }

    @Test func unaryAndAffineMaps() {
        let n = 70_001
        let x = Self.values(n, seed: 5).map { $0 * 3 }
        func inPieces(_ body: (Int, Int) -> Void) { for s in stride(from: 0, to: n, by: 16384) { body(s, min(16384, n - s)) } }
        for op in 0..<AG_UNARY_COUNT.rawValue {
            var whole = [Float](repeating: 0, count: n), pieces = whole
            ag_unary_f32(ag_unary_op(op), Int64(n), x, &whole)
            x.withUnsafeBufferPointer { px in pieces.withUnsafeMutableBufferPointer { py in
                inPieces { s, len in ag_unary_f32(ag_unary_op(op), Int64(len), px.baseAddress! + s, py.baseAddress! + s) }
            } }
            #expect(Self.same(whole, pieces), "unary op \(op), [\(n)]")
        }
        var whole = [Float](repeating: 0, count: n), pieces = whole
        ag_affine_f32(Int64(n), x, 1.0001, 0.001, &whole)
        x.withUnsafeBufferPointer { px in pieces.withUnsafeMutableBufferPointer { py in
            inPieces { s, len in ag_affine_f32(Int64(len), px.baseAddress! + s, 1.0001, 0.001, py.baseAddress! + s) }
        } }
        #expect(Self.same(whole, pieces), "affine f32")
        let xd = x.map(Double.init)
        var wholeD = [Double](repeating: 0, count: n), piecesD = wholeD
        ag_affine_f64(Int64(n), xd, -0.75, 2, &wholeD)
        xd.withUnsafeBufferPointer { px in piecesD.withUnsafeMutableBufferPointer { py in
            inPieces { s, len in ag_affine_f64(Int64(len), px.baseAddress! + s, -0.75, 2, py.baseAddress! + s) }
        } }
        #expect(zip(wholeD, piecesD).allSatisfy { $0.bitPattern == $1.bitPattern }, "affine f64")
    }
}

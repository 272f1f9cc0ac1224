import CAutogradKernels
import Testing

extension KernelTests {
    /// im2col against its definition, col2im as its transpose (⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩), and max pooling's
    /// positions, on shapes that cross the threading threshold and ones that do not.
    @Suite struct Convolution {
        /// outer, images, channels, h, w, kh, kw, sh, sw, pt, pl, dh, dw (padding after is what the output size
        /// leaves); x is [outer, images, channels, h, w].
        static let geometries: [[Int]] = [
            [3, 1, 1, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1],
            [1, 2, 1, 7, 5, 2, 3, 2, 3, 0, 2, 1, 1],
            [2, 3, 2, 8, 8, 3, 2, 1, 2, 2, 1, 2, 3],  // images side by side, several outer blocks
            [1, 8, 8, 28, 28, 5, 5, 1, 1, 2, 2, 1, 1],  // large enough for several threads
            [1, 1, 1, 1, 4, 1, 4, 1, 1, 0, 0, 1, 1],  // kernel = input
        ]

        static func outputSize(_ g: [Int]) -> (Int, Int) {
            ((g[3] + 2 * g[9] - g[11] * (g[5] - 1) - 1) / g[7] + 1,
             (g[4] + 2 * g[10] - g[12] * (g[6] - 1) - 1) / g[8] + 1)
        }

        @Test(arguments: geometries) func im2colAndCol2imAreTransposes(_ g: [Int]) {
            let (oh, ow) = Self.outputSize(g)
            let (outer, images, channels, h, w, kh, kw) = (g[0], g[1], g[2], g[3], g[4], g[5], g[6])
            let planes = outer * images * channels
            var rng = TestRNG(seed: UInt64(g.reduce(0, +)))
            let x = (0..<(planes * h * w)).map { _ in Double.random(in: -1...1, using: &rng) }
            let c = (0..<(planes * kh * kw * oh * ow)).map { _ in Double.random(in: -1...1, using: &rng) }
            var cols = [Double](repeating: .nan, count: c.count), back = [Double](repeating: .nan, count: x.count)
            let i64 = g.map(Int64.init)
            ag_im2col_f64(i64[0], i64[1], i64[2], i64[3], i64[4], i64[5], i64[6], Int64(oh), Int64(ow), i64[7], i64[8],
                          i64[9], i64[10], i64[11], i64[12], x, &cols)
            ag_col2im_f64(i64[0], i64[1], i64[2], i64[3], i64[4], i64[5], i64[6], Int64(oh), Int64(ow), i64[7], i64[8],
                          i64[9], i64[10], i64[11], i64[12], c, &back)
            // cols is [outer, channels·kh·kw, images·oh·ow].
            for o in 0..<outer { for n in 0..<images { for ch in 0..<channels {
                let p = (o * images + n) * channels + ch
                for i in 0..<kh { for j in 0..<kw { for oy in 0..<oh { for ox in 0..<ow {
                    let iy = oy * g[7] - g[9] + i * g[11], ix = ox * g[8] - g[10] + j * g[12]
                    let expected = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[(p * h + iy) * w + ix] : 0
                    let row = o * channels * kh * kw + (ch * kh + i) * kw + j
                    let at = row * images * oh * ow + (n * oh + oy) * ow + ox
                    if cols[at] != expected {
                        Issue.record("im2col \(g): entry \(at) is \(cols[at]), expected \(expected)")
                        return
                    }
                } } } }
            } } }
            let forward = zip(cols, c).reduce(0) { $0 + $1.0 * $1.1 }, adjoint = zip(x, back).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(Swift.abs(forward - adjoint) <= 1e-12 * Double(c.count))
        }

        @Test func maxPoolPositionsAreTheFirstMaxima() {
            // One plane [3, 4] with ties, 2 × 2 windows at stride 2 (the fixed-bounds path) and 3 × 3 at stride 1
            // with padding 1 (the general one).
            let x: [Float] = [1, 3, 3, 0,
                              3, 2, 1, 5,
                              0, 4, 4, 4]
            var y = [Float](repeating: 0, count: 2), positions = [Int64](repeating: 0, count: 2)
            ag_max_pool_f32(1, 3, 4, 2, 2, 1, 2, 2, 2, 0, 0, x, &y, &positions)
            #expect(y == [3, 5] && positions == [1, 7])
            var y2 = [Float](repeating: 0, count: 12), p2 = [Int64](repeating: 0, count: 12)
            ag_max_pool_f32(1, 3, 4, 3, 3, 3, 4, 1, 1, 1, 1, x, &y2, &p2)
            #expect(y2 == [3, 3, 5, 5, 4, 4, 5, 5, 4, 4, 5, 5])
            #expect(p2 == [1, 1, 7, 7, 9, 9, 7, 7, 9, 9, 7, 7])
        }
    }
}

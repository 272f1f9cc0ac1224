import Foundation
import Testing
@testable import Autograd

/// layerNorm's primitive (one kernel forward, one for each rule) against the formula computed independently in
/// Double, at a size the kernels split across threads, and its rules against the same formula's derivatives.
@Suite struct LayerNormPrimitiveTests {
    /// (x − μ) / √(σ² + ε) per row of n, in Double.
    private func reference(_ x: [Double], n: Int, epsilon: Double) -> [Double] {
        var y = [Double](repeating: 0, count: x.count)
        for start in stride(from: 0, to: x.count, by: n) {
            let row = x[start..<(start + n)]
            let mean = row.reduce(0, +) / Double(n)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
            for i in 0..<n { y[start + i] = (x[start + i] - mean) / (variance + epsilon).squareRoot() }
        }
        return y
    }

    @Test func valuesMatchTheFormulaInFloatAtSize() {
        var rng = SeededGenerator(seed: 21)
        // 600 rows of 128, a large mean against a small spread in the odd rows (the two-pass variance).
        let base = Tensor<Double>(randomNormal: [600, 128], using: &rng)
        let offsets = Tensor<Double>(shape: [600, 1], scalars: (0..<600).map { $0 % 2 == 0 ? 0 : 1e4 })
        let x = base + offsets
        let xf = Tensor<Float>(shape: x.shape, scalars: x.scalars.map { Float($0) })
        let expected = reference(xf.scalars.map(Double.init), n: 128, epsilon: 1e-5)
        let y = layerNorm(xf)
        var worst = 0.0
        for i in expected.indices { worst = max(worst, Swift.abs(Double(y.scalars[i]) - expected[i])) }
        #expect(worst < 1e-4, "largest error \(worst)")
        let yd = layerNorm(x, epsilon: 0)
        let expectedD = reference(x.scalars, n: 128, epsilon: 0)
        #expect(zip(yd.scalars, expectedD).allSatisfy { Swift.abs($0 - $1) < 1e-10 })
    }

    /// The VJP with a batch of rows is the closed form r (ȳ − mean ȳ − ŷ mean(ȳ ⊙ ŷ)), written out in Double.
    @Test func vjpIsTheClosedForm() throws {
        var rng = SeededGenerator(seed: 22)
        let x = Tensor<Double>(randomNormal: [300, 2, 64], using: &rng)
        let v = Tensor<Double>(randomNormal: [300, 2, 64], using: &rng)
        let g = try vjp(of: { layerNorm($0, epsilon: 1e-3) }, at: x, cotangent: v).1
        let yhat = reference(x.scalars, n: 64, epsilon: 1e-3)
        var worst = 0.0
        for start in stride(from: 0, to: x.count, by: 64) {
            let row = x.scalars[start..<(start + 64)]
            let mean = row.reduce(0, +) / 64
            let r = 1 / (row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 64 + 1e-3).squareRoot()
            let mv = v.scalars[start..<(start + 64)].reduce(0, +) / 64
            var mvy = 0.0
            for i in start..<(start + 64) { mvy += v.scalars[i] * yhat[i] / 64 }
            for i in start..<(start + 64) {
                worst = max(worst, Swift.abs(g.scalars[i] - r * (v.scalars[i] - mv - yhat[i] * mvy)))
            }
        }
        #expect(worst < 1e-12, "largest error \(worst)")
    }

    /// A row of one element normalizes to 0 and passes no derivative; empty inputs give empty results.
    @Test func edgeCases() throws {
        let one = Tensor<Float>([[3], [-2]])
        #expect(layerNorm(one).scalars == [0, 0])
        #expect(try gradient(at: one) { (layerNorm($0) * 5).sum() }.scalars == [0, 0])
        #expect(layerNorm(Tensor<Double>(zeros: [0, 4])).shape == [0, 4])
        #expect(layerNorm(Tensor<Double>(zeros: [3, 0])).shape == [3, 0])
    }
}

import Foundation
import Testing
@testable import Autograd

/// Triangle masks, masked softmax, scaled dot-product attention and dropout: values worked out by hand, the
/// fully-masked-row convention, edge cases and errors.
@Suite struct AttentionTests {
    @Test func triangleMasks() {
        #expect(Tensor<Bool>.lowerTriangle(rows: 2, columns: 3).scalars == [true, false, false, true, true, false])
        #expect(Tensor<Bool>.lowerTriangle(rows: 2, columns: 3, diagonal: 1).scalars
            == [true, true, false, true, true, true])
        #expect(Tensor<Bool>.upperTriangle(rows: 3, columns: 2, diagonal: -1).scalars
            == [true, true, true, true, false, true])
        #expect(Tensor<Bool>.upperTriangle(rows: 0, columns: 4).shape == [0, 4])
        let x = Tensor<Double>([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
        expectTensor(x.lowerTriangular(), shape: [3, 3], [1, 0, 0, 4, 5, 0, 7, 8, 9])
        expectTensor(x.upperTriangular(diagonal: 1), shape: [3, 3], [0, 2, 3, 0, 0, 6, 0, 0, 0])
        // Batched: the last two axes.
        let batch = Tensor<Double>(ones: [2, 2, 2]).lowerTriangular(diagonal: -1)
        expectTensor(batch, shape: [2, 2, 2], [0, 0, 1, 0, 0, 0, 1, 0])
    }

    @Test func maskedSoftmaxValuesAndFullyMaskedRows() throws {
        let x = Tensor<Double>([[1, 2, 3], [1000, .nan, 1001], [5, 6, 7]])
        let mask = Tensor<Bool>(shape: [3, 3], scalars: [true, false, true, true, false, true, false, false, false])
        let y = x.softmax(where: mask)
        let e = Foundation.exp(2.0), p = 1 / (1 + e)
        // Row 0: softmax of (1, 3); row 1: of (1000, 1001), stable; row 2: fully masked, zeros.
        expectTensor(y, shape: [3, 3], [p, 0, 1 - p, 1 / (1 + Foundation.exp(1)), 0, 1 - 1 / (1 + Foundation.exp(1)),
                                        0, 0, 0], tolerance: 1e-14)
        // Masked elements (even NaN) and fully masked rows pass no derivative; none is NaN.
        let g = try gradient(at: x) { ($0.softmax(where: mask) * Tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])).sum() }
        #expect(g.scalars.allSatisfy { $0.isFinite })
        #expect(g[0, 1].scalar == 0 && g[1, 1].scalar == 0 && g[2].scalars == [0, 0, 0])
        // With everything unmasked it is softmax.
        let z = Tensor<Float>([[0.5, -1, 2]])
        expectClose(z.softmax(where: Tensor<Bool>(shape: [1], scalars: [true])).scalars, z.softmax().scalars,
                    tolerance: 1e-6)
    }

    @Test func attentionMatchesTheFormula() {
        var rng = SeededGenerator(seed: 11)
        let q = Tensor<Double>(randomNormal: [2, 3, 4], using: &rng)
        let k = Tensor<Double>(randomNormal: [2, 5, 4], using: &rng)
        let v = Tensor<Double>(randomNormal: [2, 5, 2], using: &rng)
        let y = scaledDotProductAttention(query: q, key: k, value: v)
        let reference = matmul((matmul(q, k, transposeB: true) / 2).softmax(), v)
        #expect(y.shape == [2, 3, 2])
        expectClose(y.scalars, reference.scalars, tolerance: 1e-14)
        // An explicit mask equals −∞ scores in plain softmax (no row fully masked here).
        let mask = Tensor<Bool>(shape: [5], scalars: [true, false, true, true, false])
        let masked = scaledDotProductAttention(query: q, key: k, value: v, mask: mask, scale: 0.3)
        let scores = Tensor.where(mask, matmul(q, k, transposeB: true) * 0.3, -Double.infinity)
        expectClose(masked.scalars, matmul(scores.softmax(), v).scalars, tolerance: 1e-14)
    }

    @Test func causalAttention() {
        var rng = SeededGenerator(seed: 12)
        let q = Tensor<Double>(randomNormal: [1, 2, 3, 4], using: &rng)
        let k = Tensor<Double>(randomNormal: [1, 2, 3, 4], using: &rng)
        let v = Tensor<Double>(randomNormal: [1, 2, 3, 2], using: &rng)
        let y = scaledDotProductAttention(query: q, key: k, value: v, causal: true)
        // The first position sees only itself: its output is the first value row, in each head.
        expectClose(y[0, 0, 0].scalars, v[0, 0, 0].scalars, tolerance: 1e-15)
        expectClose(y[0, 1, 0].scalars, v[0, 1, 0].scalars, tolerance: 1e-15)
        // The same as the explicit lower-triangle mask.
        let explicit = scaledDotProductAttention(query: q, key: k, value: v,
                                                 mask: Tensor<Bool>.lowerTriangle(rows: 3, columns: 3))
        expectClose(y.scalars, explicit.scalars, tolerance: 0)
        // A query that may attend to nothing (causal and a mask hiding key 0) gets zeros, not NaN.
        let hidden = scaledDotProductAttention(query: q, key: k, value: v,
                                               mask: Tensor<Bool>(shape: [3], scalars: [false, true, true]), causal: true)
        #expect(hidden[0, 0, 0].scalars == [0, 0])
        #expect(hidden.scalars.allSatisfy { $0.isFinite })
    }

    @Test func zeroSizeAttention() throws {
        // No keys: every query attends to nothing and gets zeros.
        let q = Tensor<Double>(ones: [2, 3, 4]), none = Tensor<Double>(zeros: [2, 0, 4])
        let y = scaledDotProductAttention(query: q, key: none, value: Tensor(zeros: [2, 0, 5]))
        #expect(y.shape == [2, 3, 5] && y.scalars.allSatisfy { $0 == 0 })
        #expect(try gradient(at: q) { scaledDotProductAttention(query: $0, key: none, value: none).sum() }.shape
            == [2, 3, 4])
        // No queries, and causal attention over an empty sequence.
        let empty = Tensor<Double>(zeros: [1, 0, 4])
        #expect(scaledDotProductAttention(query: empty, key: empty, value: empty, causal: true).shape == [1, 0, 4])
        #expect(Tensor<Double>(zeros: [0, 3]).softmax(where: Tensor<Bool>.lowerTriangle(rows: 0, columns: 3)).shape
            == [0, 3])
        #expect(Tensor<Float>(2).softmax(where: Tensor<Bool>(shape: [], scalars: [true])).scalars == [1])
        #expect(Tensor<Float>(2).softmax(where: Tensor<Bool>(shape: [], scalars: [false])).scalars == [0])
    }

    @Test func attentionBadShapesStop() async {
        await #expect(processExitsWith: .failure) {
            _ = scaledDotProductAttention(query: Tensor<Double>(zeros: [2, 3]), key: Tensor(zeros: [2, 4]),
                                          value: Tensor(zeros: [2, 3]))
        }
        await #expect(processExitsWith: .failure) {
            _ = scaledDotProductAttention(query: Tensor<Double>(zeros: [2, 3]), key: Tensor(zeros: [2, 3]),
                                          value: Tensor(zeros: [4, 3]))
        }
        await #expect(processExitsWith: .failure) {
            _ = Tensor<Double>(zeros: [2, 3]).softmax(where: Tensor<Bool>(shape: [2], scalars: [true, false]))
        }
    }

    @Test func dropoutKeepsTheExpectationAndIsReproducible() throws {
        let x = Tensor<Double>(ones: [1000])
        var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 5)
        let y = dropout(x, probability: 0.25, using: &a)
        #expect(y.scalars == dropout(x, probability: 0.25, using: &b).scalars)
        // Kept elements are scaled by 1/(1 − p); about 75 % are kept.
        #expect(y.scalars.allSatisfy { $0 == 0 || $0 == 4.0 / 3 })
        let kept = y.scalars.filter { $0 != 0 }.count
        #expect(kept > 700 && kept < 800)
        // The derivative is the same mask.
        var c = SeededGenerator(seed: 5)
        let g = try gradient(at: x) { dropout($0, probability: 0.25, using: &c).sum() }
        #expect(g.scalars == y.scalars)
    }

    @Test func dropoutEdgeCases() async throws {
        var rng = SeededGenerator(seed: 1)
        let x = Tensor<Float>([1, 2, 3])
        #expect(dropout(x, probability: 0, using: &rng).scalars == [1, 2, 3])
        #expect(dropout(x, probability: 0.5, training: false, using: &rng).scalars == [1, 2, 3])
        #expect(dropout(x, probability: 1, using: &rng).scalars == [0, 0, 0])
        #expect(try gradient(at: x) { dropout($0, probability: 1, using: &rng).sum() }.scalars == [0, 0, 0])
        #expect(dropout(Tensor<Float>(zeros: [0, 2]), probability: 0.5, using: &rng).shape == [0, 2])
        await #expect(processExitsWith: .failure) {
            var rng = SeededGenerator(seed: 1)
            _ = dropout(Tensor<Float>([1]), probability: 1.5, using: &rng)
        }
    }
}

import Foundation
import Testing
@testable import Autograd

/// Variance, standard deviation and the normalizations against values worked out by hand (the numbers PyTorch's
/// `var`, `std`, `layer_norm`, `rms_norm`, `group_norm` and `batch_norm` give for the same inputs), their edge cases,
/// and their errors.
@Suite struct NormalizationTests {
    let rows = Tensor<Double>([[1, 2, 3, 4], [2, 4, 6, 8]])

    @Test func varianceAndStandardDeviation() {
        expectTensor(rows.variance(alongAxes: 1), shape: [2], [5.0 / 3, 20.0 / 3], tolerance: 1e-15)
        expectTensor(rows.variance(alongAxes: 1, correction: 0), shape: [2], [1.25, 5], tolerance: 1e-15)
        expectTensor(rows.variance(alongAxes: [0], correction: 0, keepingDimensions: true), shape: [1, 4],
                     [0.25, 1, 2.25, 4], tolerance: 1e-15)
        expectTensor(rows.standardDeviation(alongAxes: 1, correction: 0), shape: [2], [Double(1.25).squareRoot(), Double(5).squareRoot()],
                     tolerance: 1e-15)
        expectTensor(Tensor<Double>([2, 4, 4, 4, 5, 5, 7, 9]).standardDeviation(correction: 0), shape: [], [2])
        // Two passes: a large mean does not swamp a small spread.
        expectTensor(Tensor<Float>([1e6 + 1, 1e6 + 2, 1e6 + 3]).variance(), shape: [], [1], tolerance: 1e-6)
        // One element with correction 1: 0 / 0 = NaN, as PyTorch.
        #expect(Tensor<Double>([3]).variance().scalar.isNaN)
        #expect(Tensor<Double>([3]).variance(correction: 0).scalar == 0)
    }

    @Test func varianceGradientIsTheClosedForm() throws {
        // ∂/∂xᵢ Σ(x − x̄)²/(n − c) = 2 (xᵢ − x̄) / (n − c).
        let x = Tensor<Double>([1, 2, 3, 4])
        expectTensor(try gradient(at: x) { $0.variance() }, shape: [4], [-1, -1.0 / 3, 1.0 / 3, 1], tolerance: 1e-15)
    }

    @Test func layerNormValues() {
        let expected = [-1.3416354199689269, -0.447211806656309, 0.447211806656309, 1.3416354199689269]
        // The second row is the first times 2: the same normalized values (up to ε's effect).
        let y = layerNorm(rows)
        expectClose(Array(y.scalars[0..<4]), expected, tolerance: 1e-12)
        expectClose(Array(y.scalars[4..<8]), expected, tolerance: 1e-5)
        let scaled = layerNorm(rows, scale: Tensor([1, 2, 3, 4]), offset: Tensor([0, 0, 1, 1]))
        expectClose(Array(scaled.scalars[0..<4]), [expected[0], 2 * expected[1], 3 * expected[2] + 1, 4 * expected[3] + 1],
                    tolerance: 1e-12)
        // Over both axes: one mean and variance for the whole matrix.
        let both = layerNorm(rows, trailingAxes: 2, epsilon: 0)
        let flat = rows.flattened()
        let reference = (flat - flat.mean()) / flat.standardDeviation(correction: 0)
        expectClose(both.scalars, reference.scalars, tolerance: 1e-14)
        // Float: each row has mean 0 and variance 1 (to ε).
        let f = layerNorm(Tensor<Float>([[10, 20, 30], [-1, 0, 5]]))
        expectClose(f.mean(alongAxes: 1).scalars, [0, 0], tolerance: 1e-6)
        expectClose(f.variance(alongAxes: 1, correction: 0).scalars, [1, 1], tolerance: 1e-4)
    }

    @Test func layerNormGradientSumsToZeroAndIsOrthogonalToTheOutput() throws {
        // y is invariant to shifting a row and to scaling it (up to ε), so J·1 = 0 and J·x ≈ 0; hence vᵀJ sums
        // to 0 for any v.
        let x = Tensor<Double>([[0.3, -1.2, 2.0, 0.7]])
        let v = Tensor<Double>([[1, -2, 0.5, 3]])
        let g = try vjp(of: { layerNorm($0, epsilon: 0) }, at: x, cotangent: v).1
        #expect(Swift.abs(g.sum().scalar) < 1e-14)
        let (_, shifted) = try jvp(of: { layerNorm($0, epsilon: 0) }, at: x, tangent: Tensor(ones: [1, 4]))
        #expect(shifted.scalars.allSatisfy { Swift.abs($0) < 1e-14 })
    }

    @Test func rmsNormValues() {
        let y = rmsNorm(Tensor<Double>([[1, 2, 3, 4]]), scale: Tensor([1, 1, 1, 2]))
        expectTensor(y, shape: [1, 4], [0.3651483473268884, 0.7302966946537768, 1.0954450419806652,
                                        2 * 1.4605933893075536], tolerance: 1e-14)
        // All zeros: 0 / √ε = 0, not NaN.
        #expect(rmsNorm(Tensor<Float>(zeros: [2, 3])).scalars.allSatisfy { $0 == 0 })
    }

    @Test func groupNormIsLayerNormOverEachGroup() {
        var rng = SeededGenerator(seed: 7)
        let x = Tensor<Double>(randomNormal: [2, 6, 3], using: &rng)
        let y = groupNorm(x, groups: 3)
        let reference = layerNorm(x.reshaped(to: [2, 3, 6]), trailingAxes: 1).reshaped(to: [2, 6, 3])
        expectClose(y.scalars, reference.scalars, tolerance: 1e-14)
        // Scale and offset per channel.
        let gamma = Tensor<Double>([1, 2, 3, 4, 5, 6]), beta = Tensor<Double>([0, 1, 0, 1, 0, 1])
        let affine = groupNorm(x, groups: 3, scale: gamma, offset: beta)
        let expected = y * gamma.reshaped(to: [6, 1]) + beta.reshaped(to: [6, 1])
        expectClose(affine.scalars, expected.scalars, tolerance: 1e-14)
        // No spatial axes: [N, C].
        #expect(groupNorm(Tensor<Float>(ones: [2, 4]), groups: 2).shape == [2, 4])
    }

    @Test func batchNormTrainingAndInference() {
        let x = Tensor<Double>([[1, 2], [3, 6]])
        let r = batchNorm(x, runningMean: Tensor(zeros: [2]), runningVariance: Tensor(ones: [2]), training: true)
        let a = 0.9999950000374997, b = 0.49999937500117186   // 1/√(1 + ε), 2/√(4 + ε)
        expectTensor(r.output, shape: [2, 2], [-a, -2 * b, a, 2 * b], tolerance: 1e-14)
        // running ← 0.9 running + 0.1 batch, with the unbiased variances 2 and 8.
        expectTensor(r.runningMean, shape: [2], [0.2, 0.4], tolerance: 1e-15)
        expectTensor(r.runningVariance, shape: [2], [1.1, 1.7], tolerance: 1e-15)
        // Inference: the running statistics, unchanged.
        let i = batchNorm(x, runningMean: Tensor([1, 2]), runningVariance: Tensor([4, 16]), scale: Tensor([2, 1]),
                          offset: Tensor([0, 1]), training: false, epsilon: 0)
        expectTensor(i.output, shape: [2, 2], [0, 1, 2, 2], tolerance: 1e-15)
        expectTensor(i.runningMean, shape: [2], [1, 2])
        // [N, C, L]: statistics over N and L.
        let x3 = Tensor<Double>([[[1, 3], [0, 0]], [[5, 7], [2, 2]]])
        let r3 = batchNorm(x3, runningMean: Tensor(zeros: [2]), runningVariance: Tensor(ones: [2]), training: true,
                           momentum: 1, epsilon: 0)
        expectTensor(r3.runningMean, shape: [2], [4, 1])
        expectTensor(r3.runningVariance, shape: [2], [20.0 / 3, 4.0 / 3], tolerance: 1e-15)
        let s5 = Double(5).squareRoot()
        expectClose(r3.output.scalars, [-3 / s5, -1 / s5, -1, -1, 1 / s5, 3 / s5, 1, 1], tolerance: 1e-14)
    }

    @Test func batchNormRunningStatisticsCarryNoDerivative() throws {
        let x = Tensor<Double>([[1, 2], [3, 5], [0, 1]])
        let g = try gradient(at: x) { x in
            batchNorm(x, runningMean: Tensor(zeros: [2]), runningVariance: Tensor(ones: [2]), training: true)
                .runningMean.sum() + x.sum() * 0
        }
        #expect(g.scalars.allSatisfy { $0 == 0 })
    }

    @Test func zeroSizeInputs() {
        #expect(layerNorm(Tensor<Double>(zeros: [0, 3])).shape == [0, 3])
        #expect(rmsNorm(Tensor<Float>(zeros: [2, 0])).shape == [2, 0])
        #expect(groupNorm(Tensor<Double>(zeros: [0, 4, 2]), groups: 2).shape == [0, 4, 2])
        let r = batchNorm(Tensor<Double>(zeros: [2, 3, 0]), runningMean: Tensor(zeros: [3]),
                          runningVariance: Tensor(ones: [3]), training: false)
        #expect(r.output.shape == [2, 3, 0])
        #expect(Tensor<Double>(zeros: [0, 3]).variance(alongAxes: 1).shape == [0])
    }

    @Test func batchNormOnOneExampleInTrainingStops() async {
        await #expect(processExitsWith: .failure) {
            _ = batchNorm(Tensor<Double>([[1, 2, 3]]), runningMean: Tensor(zeros: [3]),
                          runningVariance: Tensor(ones: [3]), training: true)
        }
    }

    @Test func badShapesStop() async {
        await #expect(processExitsWith: .failure) { _ = layerNorm(Tensor<Double>([1, 2]), scale: Tensor([1, 2, 3])) }
        await #expect(processExitsWith: .failure) { _ = groupNorm(Tensor<Double>(zeros: [2, 6]), groups: 4) }
        await #expect(processExitsWith: .failure) {
            _ = batchNorm(Tensor<Double>(zeros: [2, 3]), runningMean: Tensor(zeros: [2]),
                          runningVariance: Tensor(ones: [3]), training: false)
        }
        await #expect(processExitsWith: .failure) { _ = rmsNorm(Tensor<Double>(1)) }
    }
}

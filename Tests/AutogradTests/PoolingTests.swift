import Foundation
import Testing
@testable import Autograd

@Suite struct PoolingTests {
    /// 4 × 4 plane 0 … 15 with a few entries changed.
    static let plane = Tensor<Double>(shape: [1, 1, 4, 4], scalars: [1, 5, 2, 0,
                                                                     3, 4, 7, 7,
                                                                     -1, -2, -3, -4,
                                                                     -5, -6, -8, -7])

    @Test func maxPoolClosedFormAndItsGradient() throws {
        let y = maxPool2d(Self.plane, kernelSize: 2)
        expectTensor(y, shape: [1, 1, 2, 2], [5, 7, -1, -3])
        // The cotangent goes to the position of each maximum; with the tie 7, 7 to the first one.
        let g = try gradient(at: Self.plane) { x in (maxPool2d(x, kernelSize: 2) * Tensor([[1, 2], [3, 4]])).sum() }
        expectTensor(g, shape: [1, 1, 4, 4], [0, 1, 0, 0,
                                              0, 0, 2, 0,
                                              3, 0, 4, 0,
                                              0, 0, 0, 0])
        // A tangent is read at the maxima.
        let t = try jvp(of: { maxPool2d($0, kernelSize: 2) }, at: Self.plane,
                        tangent: Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map(Double.init))).tangent
        expectTensor(t, shape: [1, 1, 2, 2], [1, 6, 8, 10])
    }

    /// Padding counts as −∞: a border window of negative numbers still takes its largest element, not 0.
    @Test func maxPoolPaddingIsMinusInfinity() {
        let y = maxPool2d(Self.plane, kernelSize: 3, stride: 2, padding: 1)
        // Windows rows {−1, 0, 1} / {1, 2, 3} × columns {−1, 0, 1} / {1, 2, 3}.
        expectTensor(y, shape: [1, 1, 2, 2], [5, 7, 4, 7])
        let negative = maxPool2d(-Self.plane, kernelSize: 2, stride: 2, padding: 1)
        expectTensor(negative, shape: [1, 1, 3, 3], [-1, -2, 0, 1, 3, 4, 5, 8, 7])
    }

    @Test func maxPoolNaNPropagates() {
        let x = Tensor<Float>(shape: [1, 2, 2], scalars: [1, .nan, 3, 2])
        #expect(maxPool2d(x, kernelSize: 2).scalars[0].isNaN)
    }

    @Test func avgPoolCountsThePadding() {
        let y = avgPool2d(Self.plane, kernelSize: 2)
        expectTensor(y, shape: [1, 1, 2, 2], [13.0 / 4, 16.0 / 4, -14.0 / 4, -22.0 / 4])
        // With padding 1 the corner window holds one element and three zeros, and is divided by 4.
        let padded = avgPool2d(Self.plane, kernelSize: 2, stride: 3, padding: 1)
        expectTensor(padded, shape: [1, 1, 2, 2], [1.0 / 4, 2.0 / 4, -6.0 / 4, -22.0 / 4])
    }

    @Test func adaptiveAveragePoolingIsThePlaneMean() throws {
        var rng = SeededGenerator(seed: 3)
        let x = Tensor<Double>(randomNormal: [2, 3, 4, 5], using: &rng)
        let y = adaptiveAvgPool2d(x)
        #expect(y.shape == [2, 3, 1, 1])
        expectClose(y.scalars, (0..<6).map { p in x.scalars[(p * 20)..<(p * 20 + 20)].reduce(0, +) / 20 },
                    tolerance: 1e-12)
        let g = try gradient(at: x) { adaptiveAvgPool2d($0).sum() }
        expectClose(g.scalars, [Double](repeating: 1.0 / 20, count: 120), tolerance: 1e-15)
    }

    @Test func constantPadding() throws {
        let x = Tensor<Double>([[1, 2], [3, 4]])
        let y = x.padded([(1, 0), (0, 2)], value: -1)
        expectTensor(y, shape: [3, 4], [-1, -1, -1, -1,
                                        1, 2, -1, -1,
                                        3, 4, -1, -1])
        let g = try gradient(at: x) { ($0.padded([(1, 1), (1, 1)], value: 7) * Tensor<Double>(shape: [4, 4], scalars: (0..<16).map(Double.init))).sum() }
        expectTensor(g, shape: [2, 2], [5, 6, 9, 10])
        #expect(Tensor<Float>(zeros: [0, 2]).padded([(1, 1), (0, 0)]).shape == [2, 2])
    }

    @Test func poolingPaddingLargerThanHalfTheKernel() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = maxPool2d(Tensor<Float>(zeros: [1, 1, 4, 4]), kernelSize: 2, padding: 2)
        }
        #expect(OperationErrorTests.stderr(of: r).contains("maxPool2d: input [1, 1, 4, 4], kernel 2: padding 2 must be "
            + "between 0 and half the kernel size"))
    }

    @Test func poolingKernelLargerThanTheInput() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = avgPool2d(Tensor<Float>(zeros: [1, 1, 2, 5]), kernelSize: 3)
        }
        #expect(OperationErrorTests.stderr(of: r).contains("the kernel spans 3 along the height"))
    }

    @Test func paddingWithTheWrongNumberOfPairs() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3]).padded([(1, 1)])
        }
        #expect(OperationErrorTests.stderr(of: r).contains("needs 2 (before, after) pairs, one per axis, got 1"))
    }
}

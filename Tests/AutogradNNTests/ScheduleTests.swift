import Foundation
import Testing
import Autograd
@testable import AutogradNN

/// Learning-rate schedules against their formulas, gradient clipping by global norm, and the activation layers.
@Suite struct ScheduleTests {
    @Test func stepDecay() {
        let s = StepDecay<Double>(initial: 1, stepSize: 3, factor: 0.5)
        #expect((0..<7).map { s($0) } == [1, 1, 1, 0.5, 0.5, 0.5, 0.25])
    }

    @Test func cosineDecay() {
        let s = CosineDecay<Double>(initial: 1, minimum: 0.1, totalSteps: 4)
        expectClose([s(0), s(2), s(4), s(10)], [1, 0.55, 0.1, 0.1], tolerance: 1e-15)
        expectClose([s(1)], [0.1 + 0.9 * (1 + Foundation.cos(Double.pi / 4)) / 2], tolerance: 1e-15)
    }

    @Test func warmupThenCosine() {
        let s = LinearWarmup(steps: 4, then: CosineDecay<Float>(initial: 0.1, totalSteps: 10))
        expectClose((0..<5).map { s($0) }, [0.025, 0.05, 0.075, 0.1, 0.1], tolerance: 1e-6)
        expectClose([s(14)], [0], tolerance: 1e-7)
        #expect(LinearWarmup(steps: 0, then: StepDecay<Float>(initial: 2, stepSize: 1))(0) == 2)
    }

    @Test func clippingByGlobalNorm() {
        let g = [Tensor<Double>([3, 0]), Tensor<Double>([[4]])]   // ‖g‖ = 5
        let (clipped, norm) = clippedByGlobalNorm(g, maxNorm: 1)
        #expect(norm == 5)
        expectClose(clipped.flatMap(\.scalars), [3, 0, 4].map { $0 / (5 + 1e-6) }, tolerance: 1e-15)
        #expect(clipped.map(\.shape) == [[2], [1, 1]])
        let (unchanged, _) = clippedByGlobalNorm(g, maxNorm: 10)
        #expect(unchanged.flatMap(\.scalars) == [3, 0, 4])
        #expect(clippedByGlobalNorm([Tensor<Float>]([]), maxNorm: 1).norm == 0)
    }

    @Test func badSettingsStop() async {
        await #expect(processExitsWith: .failure) { _ = StepDecay<Float>(initial: 1, stepSize: 0) }
        await #expect(processExitsWith: .failure) { _ = CosineDecay<Float>(initial: 1, totalSteps: 0) }
        await #expect(processExitsWith: .failure) { _ = clippedByGlobalNorm([Tensor<Float>([1])], maxNorm: -1) }
    }

    @Test func activationLayers() {
        let x = Tensor<Double>([-1, 0.5, 2])
        #expect(GELU<Double>()(x).scalars == gelu(x).scalars)
        #expect(GELU<Double>(approximation: .tanh)(x).scalars == gelu(x, approximation: .tanh).scalars)
        #expect(SiLU<Double>()(x).scalars == silu(x).scalars)
        #expect(LeakyReLU<Double>(negativeSlope: 0.2)(x).scalars == [-0.2, 0.5, 2])
    }
}

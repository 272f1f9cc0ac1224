import Foundation
import Testing
import Autograd
@testable import AutogradNN

@Suite struct ScheduleTests {
    @Test func stepDecay() {
        let s = StepDecay(initialRate: 1, stepSize: 10, factor: 0.5)
        #expect([0, 9, 10, 19, 20, 35].map { s.rate(atStep: $0) } == [1, 1, 0.5, 0.5, 0.25, 0.125])
    }

    @Test func cosineDecayStartsAtTheInitialRateAndEndsAtTheFinalRate() {
        let s = CosineDecay(initialRate: 0.1, totalSteps: 100, finalRate: 0.01)
        #expect(s.rate(atStep: 0) == 0.1)
        #expect(abs(s.rate(atStep: 50) - 0.055) < 1e-15)
        #expect(abs(s.rate(atStep: 100) - 0.01) < 1e-15 && s.rate(atStep: 500) == s.rate(atStep: 100))
        let rates = (0...100).map { s.rate(atStep: $0) }
        #expect(zip(rates, rates.dropFirst()).allSatisfy { $0 >= $1 })
    }

    @Test func warmUpRampsLinearlyThenFollowsTheSchedule() {
        let s = WarmUp(steps: 4, then: CosineDecay(initialRate: 0.8, totalSteps: 10))
        #expect((0..<4).map { s.rate(atStep: $0) } == [0.2, 0.4, 0.6000000000000001, 0.8])
        #expect(s.rate(atStep: 4) == 0.8 && s.rate(atStep: 14) < 1e-15)
        #expect(WarmUp(steps: 0, then: ConstantRate(0.3)).rate(atStep: 0) == 0.3)
    }
}

@Suite struct GradientClippingTests {
    @Test func aLargeGlobalNormIsScaledDownToTheMaximum() {
        let g = [Tensor<Double>([3, 0]), Tensor<Double>(shape: [1, 1], scalars: [4])]   // norm 5
        let (clipped, norm) = clippedByGlobalNorm(g, maxNorm: 1)
        #expect(norm == 5)
        let newNorm = clipped.flatMap(\.scalars).reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(newNorm - 1) < 1e-6)
        #expect(clipped[1].shape == [1, 1] && abs(clipped[0].scalars[0] / clipped[1].scalars[0] - 0.75) < 1e-12)
    }

    @Test func aSmallNormIsLeftUnchanged() {
        let g = [Tensor<Float>([0.3, 0.4])]
        let (clipped, norm) = clippedByGlobalNorm(g, maxNorm: 1)
        #expect(abs(norm - 0.5) < 1e-7 && clipped[0].scalars == g[0].scalars)
    }
}

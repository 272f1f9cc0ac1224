import Foundation
import Testing
import Autograd
import AutogradNN
@testable import AutogradTool

/// `autograd train dpsgd`: the clipped per-example sums of both routes, the accountant, and a short run.
@Suite struct DPSGDTests {
    static func batch(_ count: Int) throws -> (x: Tensor<Float>, labels: [Int]) {
        let data: LabeledDataset<Float> = try Digits.load()
        let part = data.selecting(Array(0..<count))
        return (part.features / 16, part.labels.scalars.map { Int($0) })
    }

    /// Reverse mode (vmap of the gradient), forward mode and the per-example loop give the same norms and the same
    /// clipped sum, with some examples clipped and some not.
    @Test(arguments: [PerExampleRoute.reverse, .forward])
    func vectorizedRoutesClipAndSumAsTheLoop(route: PerExampleRoute) throws {
        let (x, labels) = try Self.batch(12)
        var rng = SeededGenerator(seed: 5)
        let model = DigitsMLP(hidden: 8, using: &rng)
        let vectorized = try DPSGDRun.clippedSum(model, x, labels, clipNorm: 2.6, route: route)
        let loop = try DPSGDRun.clippedSum(model, x, labels, clipNorm: 2.6, route: .loop)
        #expect(vectorized.norms.count == 12)
        #expect(vectorized.norms.contains { $0 > 2.6 } && vectorized.norms.contains { $0 < 2.6 },
                "\(vectorized.norms)")
        for (a, b) in zip(vectorized.norms, loop.norms) { #expect(Swift.abs(a - b) <= 1e-5 * b) }
        for (a, b) in zip(vectorized.sum, loop.sum) {
            #expect(a.shape == b.shape)
            let top = b.scalars.map { Swift.abs($0) }.max()!
            for (u, v) in zip(a.scalars, b.scalars) { #expect(Swift.abs(u - v) <= 1e-5 * top) }
        }
    }

    /// Without clipping the sum is the gradient of the summed losses; with a tiny C it is a sum of B vectors of
    /// norm C, so its norm is at most B·C.
    @Test func clippingBoundsEachExample() throws {
        let (x, labels) = try Self.batch(10)
        var rng = SeededGenerator(seed: 6)
        let model = DigitsMLP(hidden: 8, using: &rng)
        let unclipped = try DPSGDRun.clippedSum(model, x, labels, clipNorm: .infinity, route: .reverse)
        let batchGradient = try gradients(at: model) { m in
            crossEntropy(logits: m(x), labels: labels, reduction: .sum)
        }
        for (a, b) in zip(unclipped.sum, batchGradient) {
            let top = b.scalars.map { Swift.abs($0) }.max()!
            for (u, v) in zip(a.scalars, b.scalars) { #expect(Swift.abs(u - v) <= 1e-5 * top) }
        }
        let c = 1e-3
        let tiny = try DPSGDRun.clippedSum(model, x, labels, clipNorm: c, route: .reverse)
        let norm = tiny.sum.reduce(0.0) { $0 + Double($1.squared().sum().scalar) }.squareRoot()
        #expect(norm <= 10 * c * (1 + 1e-5) && norm > 0)
        let empty = try DPSGDRun.clippedSum(model, x[0..<0], [], clipNorm: 1, route: .reverse)
        #expect(empty.norms.isEmpty && empty.sum.allSatisfy { $0.scalars.allSatisfy { $0 == 0 } })
    }

    /// The accountant against closed forms: q = 1 is the Gaussian mechanism, α/(2σ²); order 2 is
    /// log(1 + q²(exp(1/σ²) − 1)); q = 0 costs nothing; more noise or more steps move ε the right way.
    @Test func accountantMatchesClosedForms() {
        for sigma in [0.8, 1.0, 2.5] {
            for alpha in [2, 5, 32] {
                let cost = PrivacyAccountant.renyiCost(order: alpha, samplingRate: 1, noiseMultiplier: sigma)
                let exact = Double(alpha) / (2 * sigma * sigma)
                #expect(Swift.abs(cost - exact) <= 1e-9 * exact)
            }
            for q in [0.01, 0.3] {
                let cost = PrivacyAccountant.renyiCost(order: 2, samplingRate: q, noiseMultiplier: sigma)
                let exact = Foundation.log(1 + q * q * (Foundation.exp(1 / (sigma * sigma)) - 1))
                #expect(Swift.abs(cost - exact) <= 1e-9 * exact)
            }
        }
        #expect(PrivacyAccountant.renyiCost(order: 8, samplingRate: 0, noiseMultiplier: 1) == 0)
        #expect(PrivacyAccountant.renyiCost(order: 8, samplingRate: 0.1, noiseMultiplier: 0) == .infinity)
        let base = PrivacyAccountant.epsilon(steps: 400, samplingRate: 0.05, noiseMultiplier: 1, delta: 1e-5)
        let noisier = PrivacyAccountant.epsilon(steps: 400, samplingRate: 0.05, noiseMultiplier: 2, delta: 1e-5)
        let longer = PrivacyAccountant.epsilon(steps: 1600, samplingRate: 0.05, noiseMultiplier: 1, delta: 1e-5)
        #expect(base.epsilon.isFinite && noisier.epsilon < base.epsilon && longer.epsilon > base.epsilon)
        // Subsampling amplifies privacy: far less than T steps of the full-batch Gaussian mechanism.
        let full = PrivacyAccountant.epsilon(steps: 400, samplingRate: 1, noiseMultiplier: 1, delta: 1e-5)
        #expect(base.epsilon < full.epsilon / 10)
    }

    /// A short run: both routes train the same model (same batches and noise), it learns, and the JSON has the
    /// settings and the result.
    @Test func aShortRunAgreesWithTheLoopAndReportsItsFields() throws {
        var options = DPSGDOptions()
        options.epochs = 3
        options.trainingLimit = 256
        options.expectedBatchSize = 32
        let run = try DPSGDRun(options: options)
        #expect(run.steps == 3 * 8 && run.trainingCount == 256 && run.testCount == 359)
        let difference = try #require(run.parameterDifference)
        #expect(difference < 1e-4, "θ differ by \(difference)")
        #expect(run.loop?.testAccuracy == run.vectorized.testAccuracy)
        #expect(run.vectorized.testAccuracy > 0.3 && run.nonPrivateAccuracy > 0.3,
                "\(run.vectorized.testAccuracy), \(run.nonPrivateAccuracy)")
        #expect(run.epsilon.isFinite && run.epsilon > 0)
        let json = run.json
        for key in ["test_accuracy", "clip_norm", "noise_multiplier", "epsilon", "delta", "loop", "parameter_difference"] {
            #expect(json[key] != nil, "\(key)")
        }
        #expect(JSONSerialization.isValidJSONObject(json))
    }
}

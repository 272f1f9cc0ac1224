import Foundation
import Testing
import Autograd
@testable import AutogradNN

/// Three steps of each optimizer from θ₀ = [1, −2] with the fixed gradients g₁ = [0.5, −1], g₂ = [0.2, 0.4],
/// g₃ = [−0.3, 0.1], against values computed by hand from PyTorch's documented update rules.
@Suite struct OptimizerTests {
    static let start = Tensor<Double>([1, -2])
    static let steps = [Tensor<Double>([0.5, -1]), Tensor([0.2, 0.4]), Tensor([-0.3, 0.1])]

    /// θ after each of the three steps.
    static func run<O: Optimizer>(_ optimizer: O) -> [[Double]] where O.Scalar == Double {
        var optimizer = optimizer
        var parameters = [start]
        return steps.map { g in
            optimizer.update(&parameters, along: [g])
            return parameters[0].scalars
        }
    }

    static func expectSteps(_ actual: [[Double]], _ expected: [[Double]], tolerance: Double = 1e-12,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        for (a, e) in zip(actual, expected) { expectClose(a, e, tolerance: tolerance, sourceLocation: sourceLocation) }
    }

    @Test func plainGradientDescent() {
        // θ ← θ − γ g:  [1, −2] − 0.1 [0.5, −1] = [0.95, −1.9], then − 0.1 [0.2, 0.4], then − 0.1 [−0.3, 0.1].
        Self.expectSteps(Self.run(SGD(learningRate: 0.1)), [[0.95, -1.9], [0.93, -1.94], [0.96, -1.95]])
    }

    @Test func momentumWithWeightDecay() {
        // Step 1: g = g₁ + 0.01 θ₀ = [0.51, −1.02]; b = g; θ₁ = θ₀ − 0.1 b = [0.949, −1.898].
        // Step 2: g = g₂ + 0.01 θ₁ = [0.20949, 0.38102]; b = 0.9 b + g = [0.66849, −0.53698];
        //         θ₂ = θ₁ − 0.1 b = [0.882151, −1.844302].
        let sgd = SGD<Double>(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        Self.expectSteps(Self.run(sgd), [[0.949, -1.898], [0.882151, -1.844302], [0.851104749, -1.804129498]])
    }

    @Test func dampeningSkipsTheFirstStep() {
        // PyTorch starts the buffer at b = g₁ undamped; later b = μ b + (1 − τ) g:
        // b₂ = 0.9 [0.5, −1] + 0.5 [0.2, 0.4] = [0.55, −0.7], θ₂ = [0.95, −1.9] − 0.1 b₂ = [0.895, −1.83].
        let sgd = SGD<Double>(learningRate: 0.1, momentum: 0.9, dampening: 0.5)
        Self.expectSteps(Self.run(sgd), [[0.95, -1.9], [0.895, -1.83], [0.8605, -1.772]])
    }

    @Test func nesterov() {
        // Step 1: b = g₁, g = g₁ + 0.9 b = [0.95, −1.9], θ₁ = [0.905, −1.81].
        let sgd = SGD<Double>(learningRate: 0.1, momentum: 0.9, nesterov: true)
        Self.expectSteps(Self.run(sgd), [[0.905, -1.81], [0.8265, -1.805], [0.83085, -1.7835]])
    }

    @Test func adam() {
        // Step 1: m = 0.1 g₁, v = 0.001 g₁², so m̂ = g₁ and v̂ = g₁²: θ₁ = θ₀ − 0.1 g₁ / (|g₁| + ε)
        //         = [1 − 0.1 · 0.5/(0.5 + 10⁻⁸), −2 + 0.1 · 1/(1 + 10⁻⁸)] = [0.900000002, −1.900000001].
        Self.expectSteps(Self.run(Adam<Double>(learningRate: 0.1)),
                         [[0.900000002, -1.900000001], [0.8101424839029282, -1.865439416662626],
                          [0.7805871509237353, -1.8447499006515093]])
    }

    @Test func adamWithL2WeightDecay() {
        // The decay enters the gradient: g₁ = [0.5 + 0.1 · 1, −1 + 0.1 · (−2)] = [0.6, −1.2]; step 1 again moves each
        // coordinate by almost exactly γ = 0.1 (g/|g|), the difference shows from step 2 on.
        Self.expectSteps(Self.run(Adam<Double>(learningRate: 0.1, weightDecay: 0.1)),
                         [[0.9000000016666666, -1.9000000008333333], [0.8072814605072346, -1.846831886458653],
                          [0.7591889719520595, -1.80139767437706]])
    }

    @Test func adamW() {
        // Step 1: θ ← θ (1 − γλ) = [0.99, −1.98], then the Adam step of g₁: [0.890000002, −1.880000001].
        Self.expectSteps(Self.run(AdamW<Double>(learningRate: 0.1, weightDecay: 0.1)),
                         [[0.890000002, -1.880000001], [0.7912424838829282, -1.826639416652626],
                          [0.753774726064906, -1.7876835064749832]])
    }

    @Test func floatAgreesWithDouble() {
        var float = Adam<Float>(learningRate: 0.1), double = Adam<Double>(learningRate: 0.1)
        var pf = [Tensor<Float>(converting: Self.start)], pd = [Self.start]
        for g in Self.steps {
            float.update(&pf, along: [Tensor<Float>(converting: g)])
            double.update(&pd, along: [g])
        }
        expectClose(pf[0].scalars.map(Double.init), pd[0].scalars, tolerance: 1e-6)
        #expect(float.moments.step == 3 && float.moments.first?.count == 1)
    }

    @Test func updatesAModelAndRecordsNothing() throws {
        var rng = SeededGenerator(seed: 4)
        var model = Linear<Double>(inputSize: 3, outputSize: 1, using: &rng)
        let x = Tensor<Double>(randomNormal: [8, 3], using: &rng)
        let y = Tensor<Double>(randomNormal: [8, 1], using: &rng)
        var optimizer = SGD<Double>(learningRate: 0.1)
        func loss(_ m: Linear<Double>) -> Tensor<Double> { meanSquaredError(predictions: m(x), targets: y) }
        let before = loss(model).scalar
        // Gradients taken PyTorch style through recorded leaves: the update must not extend their graph.
        let leaves = model.replacingParameters(with: model.parameters.map { $0.requiringGradient() })
        let g = try gradients(of: [loss(leaves)], wrt: leaves.parameters)
        optimizer.update(&model, along: g)
        #expect(model.parameters.allSatisfy { !$0.isRecorded })
        #expect(loss(model).scalar < before)
        let expected = zip(leaves.parameters, g).map { ($0.detached() - $1 * 0.1).scalars }
        #expect(model.parameters.map(\.scalars) == expected)
    }

    @Test func trainsALinearRegressionToItsSolution() throws {
        // y = 2x₁ − 3x₂ + 1 exactly: full-batch Adam finds the coefficients.
        var rng = SeededGenerator(seed: 8)
        let x = Tensor<Double>(randomNormal: [64, 2], using: &rng)
        let y = matmul(x, Tensor<Double>([[2], [-3]])) + 1
        var model = Linear<Double>(inputSize: 2, outputSize: 1, using: &rng)
        var optimizer = Adam<Double>(learningRate: 0.05)
        for _ in 0..<600 {
            let g = try gradients(at: model) { meanSquaredError(predictions: $0(x), targets: y) }
            optimizer.update(&model, along: g)
        }
        expectClose(model.weight.scalars, [2, -3], tolerance: 1e-3)
        expectClose(model.bias!.scalars, [1], tolerance: 1e-3)
    }

    @Test func mismatchedGradientsStop() async {
        let count = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var sgd = SGD<Float>(learningRate: 0.1)
            var p = [Tensor<Float>(zeros: [2]), Tensor<Float>(zeros: [3])]
            sgd.update(&p, along: [Tensor(zeros: [2])])
        }
        #expect(stderr(of: count).contains("SGD.update(_:along:): got 1 gradients for 2 parameters"))
        let shape = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var adam = Adam<Float>()
            var p = [Tensor<Float>(zeros: [2])]
            adam.update(&p, along: [Tensor(zeros: [1, 2])])
        }
        #expect(stderr(of: shape).contains("gradient 0 has shape [1, 2] but parameter 0 has shape [2]"))
        let otherModel = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var adam = AdamW<Float>()
            var p = [Tensor<Float>(zeros: [2])]
            adam.update(&p, along: [Tensor(zeros: [2])])
            var q = [Tensor<Float>(zeros: [3])]
            adam.update(&q, along: [Tensor(zeros: [3])])
        }
        #expect(stderr(of: otherModel).contains("use one optimizer per model"))
    }

    @Test func badSettingsStop() async {
        let nesterov = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = SGD<Float>(learningRate: 0.1, nesterov: true)
        }
        #expect(stderr(of: nesterov).contains("Nesterov momentum needs momentum > 0 and dampening 0"))
        let beta = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Adam<Float>(beta2: 1)
        }
        #expect(stderr(of: beta).contains("Adam: beta2 must lie in [0, 1), got 1.0"))
    }
}

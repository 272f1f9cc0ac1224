import Testing
import Autograd
import AutogradNN

/// A layer or an optimizer called with the wrong shapes stops naming the caller's file and line.
@Suite struct CallerLocationTests {
    @Test func aLinearLayerNamesTheCaller() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rng = SeededGenerator(seed: 1)
            let layer = Linear<Float>(inputSize: 3, outputSize: 2, using: &rng)
            _ = layer(Tensor<Float>(zeros: [4, 5]))
        }
        let text = stderr(of: r)
        #expect(text.contains("Linear(3 → 2): the input has shape [4, 5]"))
        #expect(text.contains("[called at AutogradNNTests/CallerLocationTests.swift:"), "\(text)")
    }

    @Test func anOptimizerNamesTheCaller() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rng = SeededGenerator(seed: 1)
            var layer = Linear<Float>(inputSize: 3, outputSize: 2, using: &rng)
            var sgd = SGD<Float>(learningRate: 0.1)
            sgd.update(&layer, along: [Tensor(zeros: [2, 3])])
        }
        let text = stderr(of: r)
        #expect(text.contains("got 1 gradients for 2 parameters"))
        #expect(text.contains("[called at AutogradNNTests/CallerLocationTests.swift:"), "\(text)")
    }

    @Test func anOptimizerGivenParameterArraysNamesTheCaller() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var parameters = [Tensor<Float>(zeros: [2, 3])]
            var adam = Adam<Float>(learningRate: 0.1)
            adam.update(&parameters, along: [Tensor(zeros: [3, 2])])
        }
        let text = stderr(of: r)
        #expect(text.contains("gradient 0 has shape [3, 2] but parameter 0 has shape [2, 3]"))
        #expect(text.contains("[called at AutogradNNTests/CallerLocationTests.swift:"), "\(text)")
    }

    @Test func aLayerWithNoInputsIsEmpty() {
        var rng = SeededGenerator(seed: 1)
        let layer = Linear<Float>(inputSize: 0, outputSize: 2, using: &rng)
        #expect(layer.weight.shape == [2, 0] && layer.bias?.scalars == [0, 0])
    }
}

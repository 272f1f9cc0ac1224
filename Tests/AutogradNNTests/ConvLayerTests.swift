import Foundation
import Testing
import Autograd
@testable import AutogradNN

@Suite struct ConvLayerTests {
    @Test func conv2dInitializationAndForward() {
        var rng = SeededGenerator(seed: 5)
        let layer = Conv2d<Float>(inChannels: 4, outChannels: 6, kernelSize: [3, 2], padding: 1, groups: 2,
                                  using: &rng)
        #expect(layer.weight.shape == [6, 2, 3, 2] && layer.bias?.shape == [6])
        #expect(layer.parameterNames == ["weight", "bias"])
        let bound: Float = 1 / Float(2 * 3 * 2).squareRoot()
        #expect((layer.weight.scalars + layer.bias!.scalars).allSatisfy { $0 >= -bound && $0 < bound })
        let x = Tensor<Float>(randomNormal: [2, 4, 5, 5], using: &rng)
        let y = layer(x)
        #expect(y.shape == [2, 6, 5, 6])
        let direct = conv2d(x, weight: layer.weight, bias: layer.bias, padding: 1, groups: 2)
        #expect(y.scalars == direct.scalars)
        let noBias = Conv2d<Double>(inChannels: 1, outChannels: 2, kernelSize: 3, bias: false, using: &rng)
        #expect(noBias.parameterNames == ["weight"])
    }

    @Test func conv1dForward() {
        var rng = SeededGenerator(seed: 6)
        let layer = Conv1d<Double>(inChannels: 3, outChannels: 2, kernelSize: 3, stride: 2, padding: 1, using: &rng)
        let x = Tensor<Double>(randomNormal: [4, 3, 9], using: &rng)
        let y = layer(x)
        #expect(y.shape == [4, 2, 5])
        expectClose(y.scalars, conv1d(x, weight: layer.weight, bias: layer.bias, stride: 2, padding: 1).scalars)
    }

    /// A small LeNet-style model from the layers, trained for a few steps: the loss falls, and its gradient agrees
    /// with finite differences (Double).
    @Test func aSmallCNNTrains() throws {
        var rng = SeededGenerator(seed: 7)
        let model = Sequential {
            Conv2d<Double>(inChannels: 1, outChannels: 3, kernelSize: 3, padding: .same, using: &rng)
            ReLU<Double>()
            MaxPool2d<Double>(kernelSize: 2)
            Conv2d<Double>(inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, using: &rng)
            AvgPool2d<Double>(kernelSize: 2)
            Flatten<Double>()
            Linear<Double>(inputSize: 4 * 2 * 2, outputSize: 3, using: &rng)
        }
        let x = Tensor<Double>(randomNormal: [5, 1, 8, 8], using: &rng)
        let labels = [0, 2, 1, 1, 0]
        func loss(_ m: some Layer<Double>) -> Tensor<Double> { crossEntropy(logits: m(x), labels: labels) }
        #expect(model(x).shape == [5, 3])
        let result = try checkGradients(of: { p in loss(model.replacingParameters(with: p)) }, at: model.parameters)
        #expect(result.passed, "\(result)")
        var trained = model
        var optimizer = SGD<Double>(learningRate: 0.1)
        let before = loss(trained).scalar
        for _ in 0..<20 {
            let g = try gradients(at: trained) { loss($0) }
            optimizer.update(&trained, along: g)
        }
        #expect(loss(trained).scalar < before)
    }

    @Test func flattenKeepsTheBatchAxis() {
        let x = Tensor<Float>(zeros: [3, 2, 4, 5])
        #expect(Flatten<Float>()(x).shape == [3, 40])
        #expect(Flatten<Float>()(Tensor<Float>(zeros: [0, 2, 2])).shape == [0, 4])
        #expect(MaxPool2d<Float>(kernelSize: 2, stride: 1)(x).shape == [3, 2, 3, 4])
        #expect(AvgPool2d<Float>(kernelSize: [2, 5])(x).shape == [3, 2, 2, 1])
    }

    @Test func badGroups() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rng = SeededGenerator(seed: 1)
            _ = Conv2d<Float>(inChannels: 3, outChannels: 4, kernelSize: 3, groups: 2, using: &rng)
        }
        #expect(stderr(of: r).contains("must be multiples of groups = 2"))
    }
}

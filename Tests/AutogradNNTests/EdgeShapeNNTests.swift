import Foundation
import Testing
import Autograd
@testable import AutogradNN

/// Empty batches and zero-size layers go through the neural-network pieces: layers, losses, derivatives with
/// respect to a model, and optimizer steps.
@Suite struct EdgeShapeNNTests {
    static func model() -> Sequential<Chain<Chain<Linear<Double>, ReLU<Double>>, Linear<Double>>> {
        var rng = SeededGenerator(seed: 1)
        return Sequential {
            Linear<Double>(inputSize: 3, outputSize: 4, using: &rng)
            ReLU<Double>()
            Linear<Double>(inputSize: 4, outputSize: 1, using: &rng)
        }
    }

    @Test func anEmptyBatch() throws {
        var model = Self.model()
        let x = Tensor<Double>(zeros: [0, 3]), y = Tensor<Double>(zeros: [0])
        #expect(model(x).shape == [0, 1])
        // A sum over no examples is 0 and so is its gradient; the mean over none is NaN, as 0 / 0.
        let (loss, g) = try valueWithGradients(at: model) { m in
            binaryCrossEntropy(logits: m(x).flattened(), targets: y, reduction: .sum)
        }
        #expect(loss.scalar == 0)
        #expect(zip(g, model.parameters).allSatisfy { $0.shape == $1.shape && $0.scalars.allSatisfy { $0 == 0 } })
        #expect(binaryCrossEntropy(logits: model(x).flattened(), targets: y).scalar.isNaN)
        #expect(crossEntropy(logits: Tensor<Double>(zeros: [0, 5]), labels: [], reduction: .none).shape == [0])
        #expect(crossEntropy(logits: Tensor<Double>(zeros: [0, 5]), labels: [], reduction: .sum).scalar == 0)
        #expect(meanSquaredError(predictions: y, targets: y, reduction: .sum).scalar == 0)
        #expect(binaryCrossEntropy(probabilities: y, targets: y, weights: y, reduction: .none).shape == [0])
        // Optimizer steps with zero gradients leave the parameters as they were.
        let before = model.parameters.map(\.scalars)
        var adam = Adam<Double>(learningRate: 0.1)
        adam.update(&model, along: g)
        var sgd = SGD<Double>(learningRate: 0.1, momentum: 0.9)
        sgd.update(&model, along: g)
        #expect(model.parameters.map(\.scalars) == before)
        #expect(binaryAccuracy(logits: y, targets: y) == 0)
    }

    @Test func zeroSizeLayers() throws {
        var rng = SeededGenerator(seed: 2)
        let empty = Linear<Float>(inputSize: 3, outputSize: 0, using: &rng)
        #expect(empty(Tensor<Float>(ones: [2, 3])).shape == [2, 0])
        let g = try gradients(at: empty) { m in m(Tensor<Float>(ones: [2, 3])).sum() }
        #expect(g.map(\.shape) == [[0, 3], [0]])
        // No inputs: the output is the bias alone (initialized to 0, as PyTorch does for fan-in 0).
        let noInputs = Linear<Float>(weight: Tensor(zeros: [2, 0]), bias: Tensor([1, 2]))
        #expect(noInputs(Tensor<Float>(zeros: [4, 0])).scalars == [1, 2, 1, 2, 1, 2, 1, 2])
        #expect(Linear<Float>(inputSize: 0, outputSize: 2, using: &rng)(Tensor(zeros: [1, 0])).scalars == [0, 0])
        var adam = Adam<Float>()
        var parameters = [Tensor<Float>(zeros: [0, 3])]
        adam.update(&parameters, along: [Tensor(zeros: [0, 3])])
        #expect(parameters[0].shape == [0, 3])
    }

    @Test func zeroDimensionalLosses() throws {
        // One prediction as a 0-d tensor.
        let z = Tensor<Double>(0.3), t = Tensor<Double>(1)
        let l = binaryCrossEntropy(logits: z, targets: t, reduction: .none)
        #expect(l.shape == [] && Swift.abs(l.scalar - Foundation.log1p(Foundation.exp(-0.3))) < 1e-15)
        let g = try gradient(at: z) { binaryCrossEntropy(logits: $0, targets: t) }
        #expect(Swift.abs(g.scalar - (1 / (1 + Foundation.exp(-0.3)) - 1)) < 1e-15)
        #expect(meanSquaredError(predictions: z, targets: t).scalar == (0.3 - 1) * (0.3 - 1))
    }
}

import Foundation
import Testing
import Autograd
@testable import AutogradNN

/// A model written as a plain struct of layers, as a user would.
struct TwoLayerModel: Layer {
    typealias Scalar = Double
    var hidden: Linear<Double>
    var output: Linear<Double>

    var parameterPaths: [ParameterPath<TwoLayerModel>] {
        parameterPaths(of: \.hidden, named: "hidden") + parameterPaths(of: \.output, named: "output")
    }

    func callAsFunction(_ x: Tensor<Double>) -> Tensor<Double> { output(tanh(hidden(x))) }
}

@Suite struct LinearTests {
    @Test func pytorchDefaultInitializationBoundsAndReproducibility() {
        var rng = SeededGenerator(seed: 3)
        let layer = Linear<Float>(inputSize: 25, outputSize: 40, using: &rng)
        #expect(layer.weight.shape == [40, 25] && layer.bias?.shape == [40])
        let bound: Float = 1 / 5   // 1/√25
        let all = layer.weight.scalars + layer.bias!.scalars
        #expect(all.allSatisfy { $0 >= -bound && $0 < bound })
        // Spread over the whole interval: U(−k, k) has mean 0 and variance k²/3.
        let mean = all.reduce(0, +) / Float(all.count)
        let variance = all.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(all.count)
        #expect(Swift.abs(mean) < 0.02 && Swift.abs(variance - bound * bound / 3) < 0.002)
        #expect(all.max()! > 0.9 * bound && all.min()! < -0.9 * bound)
        // The weight is drawn first, then the bias, from the given generator.
        var again = SeededGenerator(seed: 3)
        let w = Tensor<Float>(randomUniform: [40, 25], in: -bound..<bound, using: &again)
        let b = Tensor<Float>(randomUniform: [40], in: -bound..<bound, using: &again)
        #expect(layer.weight.scalars == w.scalars && layer.bias!.scalars == b.scalars)
    }

    @Test func forwardIsXTimesWTransposedPlusBias() {
        let layer = Linear(weight: Tensor<Double>([[1, 2, 3], [4, 5, 6]]), bias: Tensor([10, 20]))
        let x = Tensor<Double>([[1, 0, -1], [2, 1, 0]])
        expectTensor(layer(x), shape: [2, 2], [1 - 3 + 10, 4 - 6 + 20, 2 + 2 + 10, 8 + 5 + 20])
        // A single vector and extra batch dimensions.
        expectTensor(layer(Tensor<Double>([1, 1, 1])), shape: [2], [16, 35])
        #expect(layer(Tensor<Double>(zeros: [4, 5, 3])).shape == [4, 5, 2])
    }

    @Test func withoutBias() {
        var rng = SeededGenerator(seed: 1)
        let layer = Linear<Double>(inputSize: 3, outputSize: 2, bias: false, using: &rng)
        #expect(layer.bias == nil && layer.parameterNames == ["weight"] && layer.parameterScalarCount == 6)
        let x = Tensor<Double>([[1, 2, 3]])
        expectTensor(layer(x), shape: [1, 2], matmul(x, layer.weight.transposed()).scalars)
    }

    @Test func parametersReadAndWriteThroughKeyPaths() {
        var rng = SeededGenerator(seed: 1)
        var layer = Linear<Double>(inputSize: 2, outputSize: 1, using: &rng)
        #expect(layer.parameterNames == ["weight", "bias"])
        layer.parameters = [Tensor([[3, 4]]), Tensor([5])]
        #expect(layer.weight.scalars == [3, 4] && layer.bias!.scalars == [5])
        #expect(layer.parameters.map(\.scalars) == [[3, 4], [5]])
    }

    @Test func wrongInputWidthStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rng = SeededGenerator(seed: 1)
            _ = Linear<Float>(inputSize: 30, outputSize: 1, using: &rng)(Tensor(zeros: [4, 29]))
        }
        #expect(stderr(of: r).contains("Linear(30 → 1): the input has shape [4, 29] but its last dimension must be 30"))
    }

    @Test func replacingParametersChecksCountAndShape() async {
        let count = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rng = SeededGenerator(seed: 1)
            _ = Linear<Float>(inputSize: 2, outputSize: 1, using: &rng).replacingParameters(with: [Tensor(zeros: [1, 2])])
        }
        #expect(stderr(of: count).contains("got 1 tensors for a model with 2 parameters (weight, bias)"))
        let shape = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rng = SeededGenerator(seed: 1)
            var layer = Linear<Float>(inputSize: 2, outputSize: 1, using: &rng)
            layer.parameters = [Tensor(zeros: [2, 1]), Tensor(zeros: [1])]
        }
        #expect(stderr(of: shape).contains("parameter 'weight' has shape [1, 2] but the new value has shape [2, 1]"))
    }
}

@Suite struct CompositionTests {
    @Test func sequentialNamesLayersByPositionAsPyTorchDoes() {
        var rng = SeededGenerator(seed: 0)
        let model = Sequential {
            Linear<Float>(inputSize: 4, outputSize: 3, using: &rng)
            ReLU<Float>()
            Linear<Float>(inputSize: 3, outputSize: 3, bias: false, using: &rng)
            Tanh<Float>()
            Linear<Float>(inputSize: 3, outputSize: 1, using: &rng)
            Sigmoid<Float>()
        }
        #expect(model.parameterNames == ["0.weight", "0.bias", "2.weight", "4.weight", "4.bias"])
        #expect(model.parameterScalarCount == 12 + 3 + 9 + 3 + 1)
        let x = Tensor<Float>(randomNormal: [5, 4], using: &rng)
        let b = model.body
        let layers = (b.first.first.first.first.first, b.first.first.first.second, b.first.second)
        let manual = sigmoid(layers.2(tanh(layers.1(relu(layers.0(x))))))
        #expect(model(x).scalars == manual.scalars)
    }

    @Test func singleLayerAndNestedSequential() {
        var rng = SeededGenerator(seed: 0)
        let one = Sequential { Linear<Double>(inputSize: 2, outputSize: 2, using: &rng) }
        #expect(one.parameterNames == ["0.weight", "0.bias"])
        let nested = Sequential {
            Sequential {
                Linear<Double>(inputSize: 2, outputSize: 2, using: &rng)
                ReLU<Double>()
            }
            Linear<Double>(inputSize: 2, outputSize: 1, using: &rng)
        }
        #expect(nested.parameterNames == ["0.0.weight", "0.0.bias", "1.weight", "1.bias"])
    }

    @Test func structModelCollectsItsChildrensParameters() {
        var rng = SeededGenerator(seed: 2)
        var model = TwoLayerModel(hidden: Linear(inputSize: 3, outputSize: 4, using: &rng),
                                  output: Linear(inputSize: 4, outputSize: 1, bias: false, using: &rng))
        #expect(model.parameterNames == ["hidden.weight", "hidden.bias", "output.weight"])
        // Each path's combined key path reaches the same tensor, for reading and writing.
        for (path, value) in zip(model.parameterPaths, model.parameters) {
            #expect(model[keyPath: path.keyPath].scalars == value.scalars)
        }
        model[keyPath: model.parameterPaths[1].keyPath] = Tensor([9, 8, 7, 6])
        #expect(model.hidden.bias!.scalars == [9, 8, 7, 6])
        let zeros = model.parameters.map { Tensor<Double>(zerosLike: $0) }
        model.parameters = zeros
        #expect(model.hidden.weight.scalars.allSatisfy { $0 == 0 } && model.output.weight.scalars.allSatisfy { $0 == 0 })
    }

    @Test func gradientsWithRespectToAModelMatchTheArrayForm() throws {
        var rng = SeededGenerator(seed: 5)
        let model = TwoLayerModel(hidden: Linear(inputSize: 3, outputSize: 4, using: &rng),
                                  output: Linear(inputSize: 4, outputSize: 1, using: &rng))
        let x = Tensor<Double>(randomNormal: [6, 3], using: &rng)
        let (value, g) = try valueWithGradients(at: model) { m in m(x).squared().mean() }
        let reference = try valueWithGradients(at: model.parameters) { p in
            let h = tanh(matmul(x, p[0].transposed()) + p[1])
            return (matmul(h, p[2].transposed()) + p[3]).squared().mean()
        }
        #expect(value.scalar == reference.value.scalar)
        #expect(g.map(\.shape) == model.parameters.map(\.shape))
        for (a, b) in zip(g, reference.gradients) { expectClose(a.scalars, b.scalars, tolerance: 1e-12) }
        // The same gradients from the derivative checker's point of view: reverse mode against finite differences.
        let check = try checkGradients(of: { p in model.replacingParameters(with: p)(x).squared().mean() },
                                       at: model.parameters)
        #expect(check.passed, "\(check)")
    }

    @Test func jvpWithRespectToAModel() throws {
        var rng = SeededGenerator(seed: 6)
        let model = Linear<Double>(inputSize: 3, outputSize: 1, using: &rng)
        let x = Tensor<Double>(randomNormal: [5, 3], using: &rng)
        let u = model.parameters.map { Tensor<Double>(randomNormal: $0.shape, using: &rng) }
        let r = try jvp(of: { m in m(x).flattened() }, at: model, tangents: u)
        // The model is linear in its parameters, so J·u is the model with parameters u, applied to x.
        expectTensor(r.tangent, shape: [5], model.replacingParameters(with: u)(x).flattened().scalars,
                     tolerance: 1e-12)
    }
}

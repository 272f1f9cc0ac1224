import Foundation
import Testing
import Autograd
@testable import AutogradNN

/// LayerNorm, BatchNorm, Dropout, MultiHeadAttention, TransformerBlock, the layer mode and the initializers.
@Suite struct TransformerLayerTests {
    static func sequence(_ shape: [Int], seed: UInt64 = 3) -> Tensor<Double> {
        var rng = SeededGenerator(seed: seed)
        return Tensor(randomNormal: shape, using: &rng)
    }

    @Test func layerModeDefaultsToTrainingAndNests() {
        #expect(LayerMode.current == .training)
        withLayerMode(.inference) {
            #expect(LayerMode.current == .inference)
            withLayerMode(.training) { #expect(LayerMode.current == .training) }
            #expect(LayerMode.current == .inference)
        }
    }

    @Test func layerNormLayer() {
        var norm = LayerNorm<Double>(featureCount: 3)
        #expect(norm.parameterNames == ["weight", "bias"])
        norm.weight = Tensor([1, 2, 3])
        norm.bias = Tensor([0, 1, 0])
        let x = Tensor<Double>([[1, 2, 3]])
        let expected = layerNorm(x, scale: Tensor([1, 2, 3]), offset: Tensor([0, 1, 0]))
        #expect(norm(x).scalars == expected.scalars)
    }

    @Test func dropoutLayerFollowsTheMode() {
        let layer = Dropout<Double>(probability: 0.5, seed: 9)
        let x = Tensor<Double>(ones: [100])
        let trained = layer(x)
        #expect(trained.scalars.contains(0) && trained.scalars.contains(2))
        // The next call continues the generator: another mask.
        #expect(layer(x).scalars != trained.scalars)
        // A new layer with the same seed repeats the first mask.
        #expect(Dropout<Double>(probability: 0.5, seed: 9)(x).scalars == trained.scalars)
        #expect(withLayerMode(.inference) { layer(x) }.scalars == x.scalars)
        #expect(layer.parameterNames.isEmpty)
    }

    @Test func batchNormLayerUpdatesRunningStatisticsOnlyInTraining() throws {
        let layer = BatchNorm<Double>(featureCount: 2)
        let x = Tensor<Double>([[1, 2], [3, 6]])
        _ = layer(x)
        expectTensor(layer.runningMean, shape: [2], [0.2, 0.4], tolerance: 1e-15)
        expectTensor(layer.runningVariance, shape: [2], [1.1, 1.7], tolerance: 1e-15)
        let inferred = withLayerMode(.inference) { layer(x) }
        expectTensor(layer.runningMean, shape: [2], [0.2, 0.4], tolerance: 1e-15)
        let expected = (x - Tensor([0.2, 0.4])) / sqrt(Tensor([1.1, 1.7]) + 1e-5)
        expectClose(inferred.scalars, expected.scalars, tolerance: 1e-14)
        // One example: fine in inference.
        #expect(withLayerMode(.inference) { layer(Tensor<Double>([[1, 2]])) }.shape == [1, 2])
        // Gradients reach weight and bias.
        let g = try gradients(at: layer) { $0(x).squared().sum() }
        #expect(g.map(\.shape) == [[2], [2]])
        layer.setRunningStatistics(mean: Tensor([0, 0]), variance: Tensor([1, 1]))
        #expect(layer.runningMean.scalars == [0, 0])
    }

    @Test func batchNormLayerOnOneExampleInTrainingStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = BatchNorm<Float>(featureCount: 3)(Tensor<Float>([[1, 2, 3]]))
        }
        let message = stderr(of: result)
        #expect(message.contains("batchNorm") && message.contains("[1, 3]") && message.contains("inference"))
    }

    @Test func multiHeadAttentionMatchesPerHeadAttention() {
        var rng = SeededGenerator(seed: 21)
        let attention = MultiHeadAttention<Double>(width: 4, headCount: 2, causal: true, using: &rng)
        #expect(attention.parameterNames == ["query.weight", "query.bias", "key.weight", "key.bias", "value.weight",
                                             "value.bias", "output.weight", "output.bias"])
        let x = Self.sequence([2, 3, 4])
        let y = attention(x)
        #expect(y.shape == [2, 3, 4])
        // Head h uses features 2h ..< 2h + 2 of the projections.
        let q = attention.query(x), k = attention.key(x), v = attention.value(x)
        var heads: [Tensor<Double>] = []
        for h in 0..<2 {
            let part = { (t: Tensor<Double>) in t[.all, .all, (2 * h)..<(2 * h + 2)] }
            heads.append(scaledDotProductAttention(query: part(q), key: part(k), value: part(v), causal: true))
        }
        let expected = attention.output(Tensor(concatenating: heads, alongAxis: 2))
        expectClose(y.scalars, expected.scalars, tolerance: 1e-14)
        // Causal: the first position's output does not depend on later positions.
        var changed = x.scalars
        for i in 4..<12 { changed[i] += 1 }
        let y2 = attention(Tensor(shape: [2, 3, 4], scalars: changed))
        expectClose(Array(y2.scalars[0..<4]), Array(y.scalars[0..<4]), tolerance: 1e-14)
        // An unbatched sequence [L, width].
        #expect(attention(x[0]).shape == [3, 4])
    }

    @Test func transformerBlockIsPreNorm() throws {
        var rng = SeededGenerator(seed: 5)
        let block = TransformerBlock<Double>(width: 4, headCount: 2, hiddenSize: 6, causal: true, using: &rng)
        #expect(block.parameterNames.count == 4 + 8 + 4)
        #expect(block.hidden.outputSize == 6)
        let x = Self.sequence([2, 3, 4])
        let h = x + block.attention(block.attentionNorm(x))
        let expected = h + block.projection(gelu(block.hidden(block.mlpNorm(h))))
        expectClose(block(x).scalars, expected.scalars, tolerance: 1e-14)
        // The derivatives with respect to every parameter pass the checker (reverse and forward mode).
        let results = try checkDerivatives(of: { ps in block.replacingParameters(with: ps)(x).squared().sum() },
                                           at: block.parameters, modes: [.reverse, .forward])
        expectAllPassed(results)
    }

    @Test func transformerTrainsInFloat() throws {
        var rng = SeededGenerator(seed: 8)
        var block = TransformerBlock<Float>(width: 8, headCount: 2, causal: true, using: &rng)
        let x = Tensor<Float>(randomNormal: [2, 5, 8], using: &rng)
        let target = Tensor<Float>(randomNormal: [2, 5, 8], using: &rng)
        var optimizer = Adam<Float>(learningRate: 1e-2)
        func loss(_ b: TransformerBlock<Float>) -> Tensor<Float> { (b(x) - target).squared().mean() }
        let first = loss(block).scalar
        for _ in 0..<20 { optimizer.update(&block, along: try gradients(at: block, of: loss)) }
        #expect(loss(block).scalar < first * 0.8)
    }

    @Test func badShapesStop() async {
        await #expect(processExitsWith: .failure) {
            var rng = SeededGenerator(seed: 1)
            _ = MultiHeadAttention<Float>(width: 6, headCount: 4, using: &rng)
        }
        await #expect(processExitsWith: .failure) {
            var rng = SeededGenerator(seed: 1)
            _ = MultiHeadAttention<Float>(width: 4, headCount: 2, using: &rng)(Tensor(zeros: [2, 3, 5]))
        }
        await #expect(processExitsWith: .failure) { _ = Dropout<Float>(probability: -0.1) }
        await #expect(processExitsWith: .failure) {
            var rng = SeededGenerator(seed: 1)
            _ = Tensor<Float>(xavierUniform: [3], using: &rng)
        }
    }

    @Test func initializersHaveTheirBoundsAndSpreads() {
        var rng = SeededGenerator(seed: 2)
        let xavier = Tensor<Double>(xavierUniform: [200, 300], using: &rng)
        let bound = (6.0 / 500).squareRoot()
        #expect(xavier.scalars.allSatisfy { Swift.abs($0) < bound })
        #expect(Swift.abs(xavier.variance().scalar - bound * bound / 3) < 0.05 * bound * bound / 3)
        let kaiming = Tensor<Double>(kaimingNormal: [100, 50, 2], using: &rng)   // fanIn = 100
        #expect(Swift.abs(kaiming.standardDeviation().scalar - (2.0 / 100).squareRoot()) < 0.01)
        let uniform = Tensor<Float>(kaimingUniform: [64, 16], gain: 1, using: &rng)
        #expect(uniform.scalars.allSatisfy { Swift.abs($0) < (3 / Float(16)).squareRoot() })
        let normal = Tensor<Double>(xavierNormal: [300, 100], gain: 2, using: &rng)
        #expect(Swift.abs(normal.standardDeviation().scalar - 2 * (2.0 / 400).squareRoot()) < 0.01)
    }
}

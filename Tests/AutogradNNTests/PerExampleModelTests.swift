import Testing
import Autograd
import AutogradNN

/// Per-example gradients of a model from a loss written for one example: reverse mode for a model with more
/// weights than examples, equal to one gradient per example.
@Suite struct PerExampleModelTests {
    @Test func modelOverloadMatchesOneGradientPerExample() throws {
        var rng = SeededGenerator(seed: 31)
        let model = Sequential {
            Linear<Double>(inputSize: 4, outputSize: 6, using: &rng)
            Tanh<Double>()
            Linear<Double>(inputSize: 6, outputSize: 3, using: &rng)
        }
        let x = Tensor<Double>(randomNormal: [5, 4], using: &rng)
        let labels = [2, 0, 1, 1, 2]
        let oneHot = Tensor<Double>(shape: [5, 3], scalars: labels.flatMap { l in (0..<3).map { $0 == l ? 1 : 0 } })
        func loss(_ m: some Layer<Double>, _ xi: Tensor<Double>, _ yi: Tensor<Double>) -> Tensor<Double> {
            let z = m(xi)
            return -(logSoftmax(z) * yi).sum()
        }
        let r = try perExampleGradients(of: { m, example in loss(m, example[0], example[1]) }, at: model,
                                        over: [x, oneHot])
        #expect(r.mode == .reverse)
        #expect(r.gradients.count == model.parameters.count)
        for i in 0..<5 {
            let g = try gradients(at: model) { m in loss(m, x[i], oneHot[i]) }
            for (k, gk) in g.enumerated() {
                #expect(r.gradients[k].shape == [5] + gk.shape)
                let row = r.gradients[k][i]
                let difference = zip(row.scalars, gk.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
                #expect(difference < 1e-12)
            }
            #expect(Swift.abs(r.losses[i].scalar - loss(model, x[i], oneHot[i]).scalar) < 1e-12)
        }
    }
}

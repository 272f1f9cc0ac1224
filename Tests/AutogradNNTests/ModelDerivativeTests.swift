import Testing
import Autograd
@testable import AutogradNN

/// perExampleGradients, hvp and hessian taken with respect to a model's parameters equal the core calls on the
/// parameter list.
@Suite struct ModelDerivativeTests {
    static let x = Tensor<Double>([[1, 2], [0.5, -1], [3, 0.25]])
    static let y = Tensor<Double>([1, 0, 1])
    static func model() -> Linear<Double> {
        var rng = SeededGenerator(seed: 4)
        return Linear(inputSize: 2, outputSize: 1, using: &rng)
    }
    static func losses(_ m: Linear<Double>) -> Tensor<Double> {
        binaryCrossEntropy(logits: m(x).flattened(), targets: y, reduction: .none)
    }
    static func loss(_ m: Linear<Double>) -> Tensor<Double> { losses(m).mean() }
    static func lossOfParameters(_ ps: [Tensor<Double>]) -> Tensor<Double> {
        loss(model().replacingParameters(with: ps))
    }

    @Test func perExampleGradientsOfAModel() throws {
        let m = Self.model()
        let byModel = try perExampleGradients(of: Self.losses, at: m)
        let byList = try perExampleGradients(of: { Self.losses(m.replacingParameters(with: $0)) }, at: m.parameters)
        #expect(byModel.map(\.shape) == [[3, 1, 2], [3, 1]])
        #expect(byModel.map(\.scalars) == byList.map(\.scalars))
    }

    @Test func hvpOfAModel() throws {
        let m = Self.model()
        let v = [Tensor<Double>([[1, -2]]), Tensor<Double>([0.5])]
        let byModel = try hvp(of: Self.loss, at: m, vectors: v)
        let byList = try hvp(of: Self.lossOfParameters, at: m.parameters, vectors: v)
        #expect(byModel.map(\.scalars) == byList.map(\.scalars))
    }

    @Test func hessianOfAModelIsTheFlattenedParametersHessian() throws {
        let m = Self.model()
        let h = try hessian(of: Self.loss, at: m)
        #expect(h.shape == [3, 3])
        // Column j of H is H·eⱼ, with eⱼ split into one vector per parameter.
        for j in 0..<3 {
            var e = [Double](repeating: 0, count: 3)
            e[j] = 1
            let column = try hvp(of: Self.loss, at: m, vectors: [Tensor(shape: [1, 2], scalars: Array(e[0..<2])),
                                                                 Tensor([e[2]])])
            let expected = column.flatMap(\.scalars)
            for i in 0..<3 { #expect(Swift.abs(h[scalarAt: i, j] - expected[i]) < 1e-12) }
        }
    }
}

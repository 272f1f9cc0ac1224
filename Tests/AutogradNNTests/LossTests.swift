import Foundation
import Testing
import Autograd
@testable import AutogradNN

/// ln σ(z) and ln(1 − σ(z)) in plain Double, stable for any z: the independent oracle for the logits losses.
private func logSigmoid(_ z: Double) -> Double { z >= 0 ? -Foundation.log1p(Foundation.exp(-z)) : z - Foundation.log1p(Foundation.exp(z)) }
private func bceOnLogits(_ z: Double, _ t: Double) -> Double { -(t * logSigmoid(z) + (1 - t) * logSigmoid(-z)) }

@Suite struct BinaryCrossEntropyOnLogitsTests {
    @Test func valuesAgreeWithTheDefinition() {
        let z: [Double] = [0, 2, -3, 0.5, 20, -20, 7]
        let t: [Double] = [1, 0, 1, 0.3, 1, 0, 0]
        let losses = binaryCrossEntropy(logits: Tensor(z), targets: Tensor(t), reduction: .none)
        expectTensor(losses, shape: [7], zip(z, t).map(bceOnLogits), tolerance: 1e-14)
        // A confident correct prediction keeps its small loss (no cancellation): ln(1 + e⁻²⁰) ≈ 2.06e-9.
        #expect(Swift.abs(losses.scalars[4] - Foundation.log1p(Foundation.exp(-20))) < 1e-22)
    }

    @Test func stableForLogitsOfMagnitudeOneThousand() {
        for z in [Tensor<Float>([1000, -1000, 1000, -1000]), Tensor<Float>([1e30, -1e30, 1e30, -1e30])] {
            let t = Tensor<Float>([1, 0, 0, 1])
            let losses = binaryCrossEntropy(logits: z, targets: t, reduction: .none)
            let big = z.scalars[0]
            #expect(losses.scalars == [0, 0, big, big], "\(losses)")
            let g = try? gradient(at: z) { binaryCrossEntropy(logits: $0, targets: t, reduction: .sum) }
            #expect(g?.scalars == [0, 0, 1, -1])
        }
    }

    @Test func derivativeAtZeroIsSigmoidMinusTarget() throws {
        // At z = 0 (a zero-initialized logistic regression) the derivative must be σ(0) − t = ½ − t; the textbook
        // form max(z, 0) − z·t + ln(1 + e^−|z|), differentiated through relu and abs, would give −t.
        let t = Tensor<Double>([0, 1, 0.25])
        let g = try gradient(at: Tensor<Double>(zeros: [3])) { binaryCrossEntropy(logits: $0, targets: t, reduction: .sum) }
        expectTensor(g, shape: [3], [0.5, -0.5, 0.25], tolerance: 1e-15)
        let ju = try jvp(of: { binaryCrossEntropy(logits: $0, targets: t, reduction: .none) },
                         at: Tensor<Double>(zeros: [3]), tangent: Tensor<Double>(ones: [3]))
        expectTensor(ju.tangent, shape: [3], [0.5, -0.5, 0.25], tolerance: 1e-15)
    }

    @Test func agreesWithTheLossOnProbabilities() {
        var rng = SeededGenerator(seed: 11)
        let z = Tensor<Double>(randomNormal: [4, 5], standardDeviation: 3, using: &rng)
        let t = Tensor<Double>(randomUniform: [4, 5], using: &rng)
        let a = binaryCrossEntropy(logits: z, targets: t, reduction: .none)
        let b = binaryCrossEntropy(probabilities: sigmoid(z), targets: t, reduction: .none)
        expectClose(a.scalars, b.scalars, tolerance: 1e-12)
    }

    @Test func derivativesInBothModes() throws {
        var rng = SeededGenerator(seed: 12)
        let z = Tensor<Double>(randomNormal: [6], standardDeviation: 2, using: &rng)
        let t = Tensor<Double>(randomUniform: [6], using: &rng)
        let w = Tensor<Double>(randomUniform: [6], in: 0.5..<2, using: &rng)
        for reduction in Reduction.allCases {
            // With respect to logits, targets and weights at once.
            expectAllPassed(try checkDerivatives(of: { binaryCrossEntropy(logits: $0[0], targets: $0[1], weights: $0[2],
                                                                         reduction: reduction) },
                                                 at: [z, t, w], name: "bceLogits/\(reduction)"))
        }
        struct Loss: TensorFunction {
            func callAsFunction<S: TensorScalar>(_ x: [Tensor<S>]) throws -> Tensor<S> {
                binaryCrossEntropy(logits: x[0], targets: Tensor<S>([0, 1, 1, 0, 0.5, 1]))
            }
        }
        expectAllPassed(try checkDerivatives(of: Loss(), at: [Tensor<Float>(converting: z)], name: "bceLogits/Float"))
    }
}

@Suite struct WeightsAndReductionTests {
    let losses = Tensor<Double>([1, 2, 3, 4])
    let weights = Tensor<Double>([0, 1, 2, 0.5])

    @Test func reductions() {
        expectTensor(Reduction.none.apply(to: losses, weights: weights), shape: [4], [0, 2, 6, 2])
        expectTensor(Reduction.sum.apply(to: losses, weights: weights), shape: [], [10])
        // The weighted mean divides by N = 4, not by Σw = 3.5 (PyTorch's `weight` argument does the same).
        expectTensor(Reduction.mean.apply(to: losses, weights: weights), shape: [], [2.5])
        expectTensor(Reduction.mean.apply(to: losses), shape: [], [2.5])
        expectTensor(Reduction.sum.apply(to: losses), shape: [], [10])
    }

    @Test func weightsBroadcastToTheLosses() {
        let z = Tensor<Double>(zeros: [2, 3]), t = Tensor<Double>(ones: [2, 3])
        let perRow = binaryCrossEntropy(logits: z, targets: t, weights: Tensor([[1], [3]]), reduction: .none)
        let ln2 = Foundation.log(2.0)
        expectTensor(perRow, shape: [2, 3], [ln2, ln2, ln2, 3 * ln2, 3 * ln2, 3 * ln2], tolerance: 1e-15)
    }

    @Test func weightedLossOnProbabilities() {
        let p = Tensor<Double>([0.9, 0.2, 0.5]), t = Tensor<Double>([1, 0, 1]), w = Tensor<Double>([2, 1, 0])
        let expected = [-2 * Foundation.log(0.9), -Foundation.log(0.8), 0]
        expectTensor(binaryCrossEntropy(probabilities: p, targets: t, weights: w, reduction: .none), shape: [3], expected)
        expectTensor(binaryCrossEntropy(probabilities: p, targets: t, weights: w), shape: [], [expected.reduce(0, +) / 3])
        expectTensor(binaryCrossEntropy(probabilities: p, targets: t, weights: w, reduction: .sum), shape: [],
                     [expected.reduce(0, +)])
    }

    @Test func weightedLossOnProbabilitiesDerivatives() throws {
        let t = Tensor<Double>([1, 0, 0.3])
        expectAllPassed(try checkDerivatives(of: { binaryCrossEntropy(probabilities: $0[0], targets: t, weights: $0[1]) },
                                             at: [Tensor([0.9, 0.2, 0.6]), Tensor([2, 1, 0.5])], name: "bceWeighted"))
    }

    @Test func weightsOfTheWrongShapeStop() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = meanSquaredError(predictions: Tensor<Float>(zeros: [4]), targets: Tensor(zeros: [4]),
                                 weights: Tensor(ones: [3]))
        }
        #expect(stderr(of: r).contains("meanSquaredError(predictions:targets:): weights have shape [3] but the "
            + "per-example losses have shape [4]"))
    }
}

@Suite struct CrossEntropyTests {
    @Test func valuesByHand() {
        let z = Tensor<Double>([[1, 2, 3], [1, 1, 1], [0, 0, 10]])
        let expected = [Foundation.log(Foundation.exp(1) + Foundation.exp(2) + Foundation.exp(3)) - 3,
                        Foundation.log(3.0),
                        Foundation.log(2 + Foundation.exp(10.0))]
        expectTensor(crossEntropy(logits: z, labels: [2, 0, 1], reduction: .none), shape: [3], expected, tolerance: 1e-14)
        expectTensor(crossEntropy(logits: z, labels: [2, 0, 1]), shape: [], [expected.reduce(0, +) / 3], tolerance: 1e-14)
        let w = Tensor<Double>([1, 0, 2])
        expectTensor(crossEntropy(logits: z, labels: [2, 0, 1], weights: w, reduction: .sum), shape: [],
                     [expected[0] + 2 * expected[2]], tolerance: 1e-14)
    }

    @Test func stableForLargeScores() {
        let z = Tensor<Float>([[1000, 0], [-1000, 1000]])
        expectTensor(crossEntropy(logits: z, labels: [0, 0], reduction: .none), shape: [2], [0, 2000])
    }

    @Test func gradientIsSoftmaxMinusOneHot() throws {
        let z = Tensor<Double>([[1, 2, 3], [0.5, -1, 0]])
        let g = try gradient(at: z) { crossEntropy(logits: $0, labels: [0, 2], reduction: .sum) }
        let s = z.softmax(alongAxes: 1).scalars
        expectTensor(g, shape: [2, 3], [s[0] - 1, s[1], s[2], s[3], s[4], s[5] - 1], tolerance: 1e-14)
    }

    @Test func derivativesInBothModes() throws {
        var rng = SeededGenerator(seed: 13)
        let z = Tensor<Double>(randomNormal: [5, 4], using: &rng)
        let w = Tensor<Double>(randomUniform: [5], using: &rng)
        for reduction in Reduction.allCases {
            expectAllPassed(try checkDerivatives(of: { crossEntropy(logits: $0[0], labels: [3, 0, 1, 1, 2], weights: $0[1],
                                                                   reduction: reduction) },
                                                 at: [z, w], name: "crossEntropy/\(reduction)"))
        }
    }

    @Test func labelOutOfRangeStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = crossEntropy(logits: Tensor<Float>(zeros: [4, 3]), labels: [0, 2, 3, 1])
        }
        let text = stderr(of: r)
        #expect(text.contains("crossEntropy(logits:labels:): label 3 at position 2 is outside the valid range 0..<3"))
        #expect(text.contains("LossTests.swift:"), "the caller's line: \(text)")
        let negative = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = crossEntropy(logits: Tensor<Float>(zeros: [2, 5]), labels: [-1, 0])
        }
        #expect(stderr(of: negative).contains("label -1 at position 0 is outside the valid range 0..<5"))
        let count = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = crossEntropy(logits: Tensor<Float>(zeros: [2, 5]), labels: [0])
        }
        #expect(stderr(of: count).contains("got 1 labels for 2 rows of logits"))
    }
}

@Suite struct MeanSquaredErrorTests {
    @Test func values() {
        let p = Tensor<Double>([1, 2, 4]), t = Tensor<Double>([0, 2, 1])
        expectTensor(meanSquaredError(predictions: p, targets: t, reduction: .none), shape: [3], [1, 0, 9])
        expectTensor(meanSquaredError(predictions: p, targets: t), shape: [], [10.0 / 3])
        expectTensor(meanSquaredError(predictions: p, targets: t, weights: Tensor([2, 5, 1]), reduction: .sum), shape: [], [11])
    }

    @Test func derivativesInBothModes() throws {
        var rng = SeededGenerator(seed: 14)
        let p = Tensor<Double>(randomNormal: [3, 2], using: &rng), t = Tensor<Double>(randomNormal: [3, 2], using: &rng)
        for reduction in Reduction.allCases {
            expectAllPassed(try checkDerivatives(of: { meanSquaredError(predictions: $0[0], targets: $0[1],
                                                                       weights: $0[2], reduction: reduction) },
                                                 at: [p, t, Tensor([[1], [2], [0.5]])], name: "mse/\(reduction)"))
        }
    }

    @Test func shapeMismatchStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = meanSquaredError(predictions: Tensor<Float>(zeros: [4, 1]), targets: Tensor(zeros: [4]))
        }
        #expect(stderr(of: r).contains("predictions have shape [4, 1] but targets have shape [4]; they must match exactly"))
    }
}

@Suite struct BadTargetTests {
    @Test func probabilitiesOutsideTheUnitIntervalStop() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = binaryCrossEntropy(probabilities: Tensor<Float>([0.5, 1.5]), targets: Tensor([1, 0]),
                                   weights: Tensor([1, 1]))
        }
        #expect(stderr(of: r).contains("probabilities must lie in [0, 1], but element 1 is 1.5"))
    }

    @Test func targetsOutsideTheUnitIntervalStop() async {
        let probabilities = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = binaryCrossEntropy(probabilities: Tensor<Float>([0.5, 0.5]), targets: Tensor([-1, 0]),
                                   weights: Tensor([1, 1]))
        }
        #expect(stderr(of: probabilities).contains("targets must lie in [0, 1], but element 0 is -1.0"))
        let logits = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = binaryCrossEntropy(logits: Tensor<Float>([3, 4]), targets: Tensor([0, 2]))
        }
        let text = stderr(of: logits)
        #expect(text.contains("binaryCrossEntropy(logits:targets:): targets must lie in [0, 1], but element 1 is 2.0"))
    }

    @Test func logitsAndTargetsOfDifferentShapesStop() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = binaryCrossEntropy(logits: Tensor<Float>(zeros: [4, 1]), targets: Tensor(zeros: [4]))
        }
        #expect(stderr(of: r).contains("logits have shape [4, 1] but targets have shape [4]"))
    }
}

@Suite struct AccuracyTests {
    @Test func countsSignAgreement() {
        #expect(binaryAccuracy(logits: Tensor<Float>([2, -1, 0.5, -3]), targets: Tensor([1, 0, 0, 1])) == 0.5)
        #expect(binaryAccuracy(logits: Tensor<Float>(zeros: [0]), targets: Tensor(zeros: [0])) == 0)
    }
}

import Foundation
import Testing
import Autograd
import AutogradNN
@testable import AutogradTool

/// `autograd train` with its default settings (about two seconds in a debug build), checked against what the
/// issue asks for and against an independent computation of J·u.
@Suite struct TrainTests {
    static let run = try! TrainingRun()

    @Test func bothModelsReachNinetyFivePercentOnTheTestSet() {
        let r = Self.run
        #expect(r.training.count == 455 && r.test.count == 114)
        #expect(r.logistic.epochs == 30 && r.mlp.epochs == 30)
        #expect(r.logistic.testAccuracy >= 0.95, "logistic \(r.logistic.testAccuracy)")
        #expect(r.mlp.testAccuracy >= 0.95, "mlp \(r.mlp.testAccuracy)")
        for report in [r.logistic, r.mlp] {
            #expect(report.history.last!.loss < report.history.first!.loss / 2, "\(report.name) did not learn")
        }
        #expect(r.logistic.parameterCount == 31 && r.mlp.parameterCount == 30 * 16 + 16 + 16 + 1)
    }

    @Test func featuresAreStandardizedWithTrainingStatistics() {
        let x = Self.run.training.features
        expectClose(x.mean(alongAxes: 0).scalars.map(Double.init), [Double](repeating: 0, count: 30), tolerance: 1e-5)
        expectClose(sqrt(x.squared().mean(alongAxes: 0)).scalars.map(Double.init), [Double](repeating: 1, count: 30),
                    tolerance: 1e-4)
    }

    @Test func jvpAgreesWithTheClosedForm() {
        // ℓᵢ = bce(σ(zᵢ), tᵢ) with zᵢ = xᵢ·w + b, so (J·u)ᵢ = (σ(zᵢ) − tᵢ)(xᵢ·u_w + u_b), in plain Double.
        let r = Self.run, m = r.reweighting
        let x = r.training.features.scalars.map(Double.init), t = r.training.labels.scalars.map(Double.init)
        let w = r.logisticModel.weight.scalars.map(Double.init), b = Double(r.logisticModel.bias!.scalar)
        let uw = m.direction[0].scalars.map(Double.init), ub = Double(m.direction[1].scalar)
        var expected: [Double] = [], losses: [Double] = []
        for i in 0..<r.training.count {
            let row = x[(30 * i)..<(30 * i + 30)]
            let z = zip(row, w).map(*).reduce(b, +)
            let s = 1 / (1 + Foundation.exp(-z))
            expected.append((s - t[i]) * zip(row, uw).map(*).reduce(ub, +))
            // −(t ln σ(z) + (1 − t) ln(1 − σ(z))) with ln σ(z) = −ln(1 + e⁻ᶻ), written to stay finite when σ(z)
            // rounds to 1 (some training examples are fit that confidently).
            let logSigmoid = { (v: Double) in
                v >= 0 ? -Foundation.log1p(Foundation.exp(-v)) : v - Foundation.log1p(Foundation.exp(v))
            }
            losses.append(-(t[i] * logSigmoid(z) + (1 - t[i]) * logSigmoid(-z)))
        }
        expectClose(m.jvp.scalars.map(Double.init), expected, tolerance: 1e-4)
        expectClose(m.losses.scalars.map(Double.init), losses, tolerance: 1e-4)
        let norm = expected.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(Swift.abs(m.jvpNorm - norm) < 1e-4 * norm)
        // u has unit norm over all parameters.
        let uNorm = (uw.map { $0 * $0 }.reduce(0, +) + ub * ub).squareRoot()
        #expect(Swift.abs(uNorm - 1) < 1e-6)
    }

    @Test func reweightedLossAndItsDirectionalDerivative() {
        let m = Self.run.reweighting
        let l: [Double] = m.losses.scalars.map(Double.init), w: [Double] = m.weights.scalars.map(Double.init)
        let meanWeight: Double = w.reduce(0, +) / Double(w.count)
        #expect(Swift.abs(meanWeight - 1) < 1e-5)
        let expected: Double = zip(w, l).map(*).reduce(0, +) / Double(l.count)
        #expect(Swift.abs(m.reweightedLoss - expected) < 1e-5 * expected)
        #expect(m.reweightedLoss > m.meanLoss)
        #expect(Swift.abs(m.reweightedDirectionalDerivative - m.reweightedDirectionalDerivativeDirect)
            < 1e-5 * (1 + Swift.abs(m.reweightedDirectionalDerivative)))
    }

    @Test func jsonHasTheDocumentedKeys() throws {
        let text = JSON.string(Self.run.json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        for model in ["logistic", "mlp"] {
            let entry = try #require(object[model] as? [String: Any], "missing \(model)")
            #expect((entry["test_accuracy"] as? Double).map { $0 >= 0.95 } == true)
            #expect(entry["epochs"] as? Int == 30)
        }
        #expect((object["jvp_norm"] as? Double).map { $0 > 0 } == true)
    }

    @Test func theCommandSavesParametersThatLoadBack() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var command = try AutogradCommand.parseAsRoot(["train", "--json", "--logistic-epochs", "2", "--mlp-epochs", "2",
                                                       "--save-to", directory.path])
        try command.run()
        var rng = SeededGenerator(seed: 99)
        var logistic = Linear<Float>(inputSize: 30, outputSize: 1, using: &rng)
        try logistic.loadParameters(contentsOf: directory.appendingPathComponent("logistic.safetensors"))
        var mlp = Sequential {
            Linear<Float>(inputSize: 30, outputSize: 16, using: &rng)
            ReLU<Float>()
            Linear<Float>(inputSize: 16, outputSize: 1, using: &rng)
        }
        try mlp.loadParameters(contentsOf: directory.appendingPathComponent("mlp.safetensors"))
        // The same two-epoch training again gives exactly the saved values.
        var options = TrainingOptions()
        options.logisticEpochs = 2
        options.mlpEpochs = 2
        let again = try TrainingRun(options: options)
        #expect(logistic.parameters.map(\.scalars) == again.logisticModel.parameters.map(\.scalars))
        #expect(mlp.parameters.map(\.scalars) == again.mlpModel.parameters.map(\.scalars))
        // A file of the other model is refused.
        #expect(throws: ParameterFileError.missingParameter(name: "weight", shape: [1, 30])) {
            try logistic.loadParameters(contentsOf: directory.appendingPathComponent("mlp.safetensors"))
        }
    }

    @Test func epochsMustBePositive() {
        #expect(throws: (any Error).self) { try AutogradCommand.parseAsRoot(["train", "--mlp-epochs", "0"]) }
    }
}

/// Asserts two arrays of numbers agree within `tolerance` (absolute + relative), naming the first difference.
private func expectClose(_ a: [Double], _ b: [Double], tolerance: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "lengths differ: \(a.count) vs \(b.count)", sourceLocation: sourceLocation)
    for (i, (x, y)) in zip(a, b).enumerated() where !(Swift.abs(x - y) <= tolerance * (1 + Swift.abs(y))) {
        Issue.record("element \(i): \(x) vs \(y) (tolerance \(tolerance))", sourceLocation: sourceLocation)
        return
    }
}

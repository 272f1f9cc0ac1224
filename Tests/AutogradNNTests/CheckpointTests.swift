import Foundation
import Testing
import Autograd
@testable import AutogradNN

/// Checkpoints: stopping after some steps and resuming from the file continues exactly as the uninterrupted run.
@Suite struct CheckpointTests {
    typealias Model = Sequential<Chain<Chain<Linear<Double>, Tanh<Double>>, Linear<Double>>>

    static func model() -> Model {
        var rng = SeededGenerator(seed: 3)
        return Sequential {
            Linear<Double>(inputSize: 3, outputSize: 4, using: &rng)
            Tanh<Double>()
            Linear<Double>(inputSize: 4, outputSize: 1, using: &rng)
        }
    }

    static let x = Tensor<Double>(shape: [5, 3], scalars: (0..<15).map { sin(Double($0)) })
    static let y = Tensor<Double>((0..<5).map { cos(Double($0)) })

    /// `steps` training steps of `optimizer` on `model`.
    static func train<O: StatefulOptimizer>(_ model: inout Model, _ optimizer: inout O, steps: Int) throws
    where O.Scalar == Double {
        for _ in 0..<steps {
            let g = try gradients(at: model) { m in ((m(x).reshaped(to: [5]) - y).squared()).mean() }
            optimizer.update(&model, along: g)
        }
    }

    /// Trains 3 + 3 steps straight, and 3 steps, a checkpoint, a fresh model and optimizer loaded from it, 3 more.
    static func resumesExactly<O: StatefulOptimizer>(_ make: () -> O) throws where O.Scalar == Double {
        var straight = model(), straightOptimizer = make()
        try train(&straight, &straightOptimizer, steps: 6)

        var first = model(), firstOptimizer = make()
        try train(&first, &firstOptimizer, steps: 3)
        let data = first.checkpointData(optimizer: firstOptimizer)
        var resumed = model(), resumedOptimizer = make()
        try resumed.loadCheckpoint(from: data, optimizer: &resumedOptimizer)
        #expect(resumedOptimizer.state.step == 3)
        try train(&resumed, &resumedOptimizer, steps: 3)
        #expect(resumed.parameters.map(\.scalars) == straight.parameters.map(\.scalars))
        #expect(resumedOptimizer.state.step == 6)
    }

    @Test func adamResumesExactly() throws { try Self.resumesExactly { Adam<Double>(learningRate: 0.05) } }
    @Test func adamWResumesExactly() throws { try Self.resumesExactly { AdamW<Double>(learningRate: 0.05) } }
    @Test func sgdWithMomentumResumesExactly() throws {
        try Self.resumesExactly { SGD<Double>(learningRate: 0.1, momentum: 0.9, nesterov: true) }
    }

    @Test func withoutTheOptimizerStateTheRunDiffers() throws {
        // The test above can fail: a fresh Adam after 3 steps does not continue the straight run.
        var straight = Self.model(), optimizer = Adam<Double>(learningRate: 0.05)
        try Self.train(&straight, &optimizer, steps: 6)
        var restarted = Self.model(), early = Adam<Double>(learningRate: 0.05)
        try Self.train(&restarted, &early, steps: 3)
        var fresh = Adam<Double>(learningRate: 0.05)
        try Self.train(&restarted, &fresh, steps: 3)
        #expect(restarted.parameters.map(\.scalars) != straight.parameters.map(\.scalars))
    }

    @Test func aCheckpointLoadsAsAParameterFileAndTheFileRoundTrips() throws {
        var trained = Self.model(), optimizer = Adam<Double>(learningRate: 0.05)
        try Self.train(&trained, &optimizer, steps: 2)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try trained.saveCheckpoint(to: url, optimizer: optimizer)
        var parametersOnly = Self.model()
        try parametersOnly.loadParameters(contentsOf: url)
        #expect(parametersOnly.parameters.map(\.scalars) == trained.parameters.map(\.scalars))
        var again = Self.model(), resumed = Adam<Double>(learningRate: 0.05)
        try again.loadCheckpoint(contentsOf: url, optimizer: &resumed)
        #expect(resumed.moments.first?.map(\.scalars) == optimizer.moments.first?.map(\.scalars))
        #expect(resumed.moments.second?.map(\.scalars) == optimizer.moments.second?.map(\.scalars))
    }

    @Test func mismatchesAreRefusedAndChangeNothing() throws {
        var trained = Self.model(), adam = Adam<Double>(learningRate: 0.05)
        try Self.train(&trained, &adam, steps: 1)
        let checkpoint = trained.checkpointData(optimizer: adam)

        // Another kind of optimizer.
        var model = Self.model(), sgd = SGD<Double>(learningRate: 0.1, momentum: 0.9)
        let before = model.parameters.map(\.scalars)
        do {
            try model.loadCheckpoint(from: checkpoint, optimizer: &sgd)
            Issue.record("an Adam checkpoint loaded into SGD")
        } catch let error as ParameterFileError {
            guard case .optimizerMismatch(let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("Adam") && reason.contains("SGD"))
        }
        #expect(model.parameters.map(\.scalars) == before && sgd.state.step == 0)

        // A plain parameter file has no optimizer state.
        var fresh = Adam<Double>(learningRate: 0.05)
        #expect(throws: ParameterFileError.self) {
            try model.loadCheckpoint(from: trained.parameterFileData(), optimizer: &fresh)
        }
        #expect(fresh.state.step == 0)
    }
}

import Foundation
import Testing
@testable import AutogradTool

/// `autograd train transformer` on a tiny model (the full run is for release builds: see the README).
@Suite struct TrainTransformerTests {
    @Test func aTinyRunLearnsSamplesAndReportsItsFields() throws {
        var options = TransformerTrainingOptions()
        options.steps = 20
        options.batchSize = 8
        options.context = 16
        options.width = 16
        options.headCount = 2
        options.blockCount = 1
        options.sampleLength = 30
        var calls = 0
        let run = try TransformerTrainingRun(options: options) { _, _, _ in calls += 1 }
        #expect(calls == 20)
        // Before training the model guesses about uniformly among 75 characters: ln 75 ≈ 4.3.
        #expect(run.initialValidationLoss > 3.5)
        #expect(run.validationLoss < run.initialValidationLoss)
        // The unigram baseline of this text: about 3.1 nats per character.
        #expect(run.unigramLoss > 2.9 && run.unigramLoss < 3.3)
        #expect(run.sample.hasPrefix(TransformerTrainingRun.prompt))
        #expect(run.sample.count == TransformerTrainingRun.prompt.count + 30)
        for key in ["validation_loss", "unigram_loss", "sample", "steps", "seconds"] {
            #expect(run.json[key] != nil, "\(key)")
        }
        #expect(JSONSerialization.isValidJSONObject(run.json))
        #expect(run.svg.hasPrefix("<svg") && run.svg.contains("unigram baseline"))
    }
}

import Foundation
import Testing
@testable import AutogradTool

/// `autograd train cnn` on a few images (the full run is for release builds: see the README).
@Suite struct TrainCNNTests {
    @Test func aShortRunLearnsAndReportsItsFields() throws {
        var options = CNNTrainingOptions()
        options.epochs = 2
        options.trainingLimit = 256
        var batchesSeen = 0
        let run = try CNNTrainingRun(options: options, progress: { _, _, _, _ in batchesSeen += 1 })
        #expect(run.history.count == 2 && batchesSeen == 2 * 8)
        #expect(run.trainingCount == 256 && run.testCount == 359)
        // Ten classes: chance is 10 %; two epochs on 256 images already do much better.
        #expect(run.testAccuracy > 0.5)
        #expect(run.history[1].loss < run.history[0].loss)
        let json = run.json
        for key in ["test_accuracy", "epochs", "seconds", "history"] { #expect(json[key] != nil, "\(key)") }
        #expect(JSONSerialization.isValidJSONObject(json))
    }

    @Test func thePlotIsAnSVGWithBothPanels() throws {
        var options = CNNTrainingOptions()
        options.epochs = 2
        options.trainingLimit = 64
        let svg = try CNNTrainingRun(options: options).svg
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("Test accuracy") && svg.contains("Loss (cross-entropy)"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 3)
        #expect(svg.components(separatedBy: "<g>").count == svg.components(separatedBy: "</g>").count)
    }
}

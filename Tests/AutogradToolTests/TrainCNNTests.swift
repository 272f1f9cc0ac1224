import Foundation
import Testing
@testable import AutogradTool

/// `autograd train cnn` on a few images (the full run is for release builds: see the README).
@Suite struct TrainCNNTests {
    @Test func aShortRunLearnsAndReportsItsFields() throws {
        var options = CNNTrainingOptions()
        options.epochs = 3
        options.trainingLimit = 512
        options.maximumShift = 0
        var batchesSeen = 0
        let run = try CNNTrainingRun(options: options, progress: { _, _, _, _ in batchesSeen += 1 })
        #expect(run.history.count == 3 && batchesSeen == 3 * 16)
        #expect(run.trainingCount == 512 && run.testCount == 359)
        // Ten classes: chance is 10 %; three epochs on 512 images already do much better.
        #expect(run.testAccuracy > 0.5, "\(run.history.map(\.testAccuracy))")
        #expect(run.history[2].loss < run.history[0].loss)
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

import ArgumentParser
import Autograd
import AutogradNN
import Foundation

/// `autograd train cnn`: a convolutional network on the handwritten digits.
struct TrainCNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnn",
        abstract: "Train a small convolutional network on the handwritten digits shipped with AutogradNN.",
        discussion: """
            Data: Optical Recognition of Handwritten Digits (UCI, CC BY 4.0), 1 797 images of 8 × 8 pixels, \
            shipped with AutogradNN (Resources/DATA.md gives source and license). A fixed seeded split puts 1 438 \
            images in training and 359 in test. Network: \(CNNTrainingRun.architecture); mean cross-entropy, Adam \
            with a cosine-decaying learning rate, minibatches of 32 in a new seeded order each epoch.
            """
    )

    @Flag(help: "Print one JSON object: {\"test_accuracy\", \"epochs\", \"seconds\", \"history\", ...}.")
    var json = false

    @Option(help: "Passes over the training set.")
    var epochs = CNNTrainingOptions().epochs

    @Option(help: "Seed of the train/test split.")
    var splitSeed = CNNTrainingOptions().splitSeed

    @Option(help: "Seed of the initial parameters and the minibatch order.")
    var modelSeed = CNNTrainingOptions().modelSeed

    @Option(help: ArgumentHelp("Write the loss and accuracy curves to FILE as SVG.", valueName: "file"))
    var plot: String?

    func validate() throws {
        if epochs < 1 { throw ValidationError("--epochs must be at least 1") }
    }

    func run() throws {
        var options = CNNTrainingOptions()
        options.epochs = epochs
        options.splitSeed = splitSeed
        options.modelSeed = modelSeed
        let bar = ProgressBar(enabled: !json && isatty(STDOUT_FILENO) != 0)
        if !json {
            print("Handwritten digits: 1 797 images of 8 × 8 pixels, split 1 438 / 359 (seed \(splitSeed)).")
            print("Network: \(CNNTrainingRun.architecture).\n")
        }
        let run = try CNNTrainingRun(options: options, progress: { epoch, batch, batches, loss in
            bar.show("epoch \(epoch)/\(options.epochs)", done: batch, of: batches,
                     String(format: "loss %.4f", loss))
        }, epochDone: { record in
            guard !json else { return }
            bar.clear()
            print(String(format: "epoch %2d/%d  loss %.4f  test loss %.4f  test accuracy %5.1f%%  %5.1f s",
                         record.epoch, options.epochs, record.loss, record.testLoss, 100 * record.testAccuracy,
                         record.seconds))
        })
        if let plot {
            try run.svg.write(to: URL(fileURLWithPath: plot), atomically: true, encoding: .utf8)
        }
        if json {
            print(JSON.string(run.json))
            return
        }
        print(String(format: "\nTest accuracy %.1f%% (%d of %d images) after %d epochs, %.1f s of training, %d parameters.",
                     100 * run.testAccuracy, Int((run.testAccuracy * Double(run.testCount)).rounded()), run.testCount,
                     run.history.count, run.seconds, run.parameterCount))
        if let plot { print("Wrote the loss and accuracy curves to \(plot).") }
    }
}

/// A one-line progress bar redrawn in place with a carriage return; draws nothing when not on a terminal.
final class ProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    /// `label [#####.....] done/total  detail`.
    func show(_ label: String, done: Int, of total: Int, _ detail: String) {
        guard enabled, total > 0 else { return }
        let width = 30, filled = width * done / total
        let line = "\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            + "] \(done)/\(total)  \(detail)"
        FileHandle.standardOutput.write(Data(("\r" + line + "\u{1B}[K").utf8))
        drawn = true
    }

    /// Erases the bar so that the next line prints in its place.
    func clear() {
        guard enabled, drawn else { return }
        FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8))
        drawn = false
    }
}

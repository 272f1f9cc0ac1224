import ArgumentParser
import Autograd
import AutogradNN
import Foundation

/// `autograd train transformer`: a character-level language model on *Pride and Prejudice*.
struct TrainTransformer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transformer",
        abstract: "Train a small causal transformer on Pride and Prejudice to predict the next character.",
        discussion: """
            Data: Jane Austen, Pride and Prejudice (1813, public domain), shipped with AutogradNN \
            (Resources/DATA.md gives the source); the first 90 % of its characters train, the last 10 % validate. \
            Model: token and learned position embeddings, pre-norm causal transformer blocks (multi-head \
            attention, GELU MLP), a final layer norm and a linear map to the 75 characters' logits; Adam with a \
            linear warm-up and cosine decay, gradients clipped to norm 1, random windows each step. Reports the \
            validation loss against the unigram baseline (the validation text under the training text's character \
            frequencies), in nats per character, and samples text.
            """
    )

    @Flag(help: "Print one JSON object: {\"validation_loss\", \"unigram_loss\", \"sample\", ...}.")
    var json = false

    @Option(help: "Gradient steps.")
    var steps = TransformerTrainingOptions().steps

    @Option(help: "Seed of the parameters, the windows and the sample.")
    var seed = TransformerTrainingOptions().seed

    @Option(help: ArgumentHelp("Write the loss curve to FILE as SVG.", valueName: "file"))
    var plot: String?

    func validate() throws {
        if steps < 1 { throw ValidationError("--steps must be at least 1") }
    }

    func run() throws {
        var options = TransformerTrainingOptions()
        options.steps = steps
        options.seed = seed
        let bar = ProgressBar(enabled: !json && isatty(STDOUT_FILENO) != 0)
        if !json {
            print("Pride and Prejudice, 684 768 characters (75 distinct): 90 % training, 10 % validation.")
            print("Model: \(options.blockCount) causal transformer blocks of width \(options.width), "
                + "\(options.headCount) heads, context \(options.context); batches of \(options.batchSize) windows.\n")
        }
        var window: [Double] = []
        let run = try TransformerTrainingRun(options: options) { step, total, loss in
            window = Array((window + [loss]).suffix(20))
            bar.show("step", done: step, of: total, String(format: "loss %.3f", window.reduce(0, +) / Double(window.count)))
            if !json && step % 50 == 0 {
                bar.clear()
                print(String(format: "step %4d/%d  training loss %.3f (mean of the last 20 steps)", step, total,
                             window.reduce(0, +) / Double(window.count)))
            }
        }
        bar.clear()
        if let plot { try run.svg.write(to: URL(fileURLWithPath: plot), atomically: true, encoding: .utf8) }
        if json {
            print(JSON.string(run.json))
            return
        }
        print(String(format: """

            Validation loss %.3f nats per character (%.3f before training); unigram baseline %.3f.
            %d steps in %.1f s, %d parameters.

            Sample (temperature 0.8, after the prompt "%@"):
            """, run.validationLoss, run.initialValidationLoss, run.unigramLoss, run.options.steps, run.seconds,
            run.parameterCount, TransformerTrainingRun.prompt))
        print(run.sample)
        if let plot { print("\nWrote the loss curve to \(plot).") }
    }
}

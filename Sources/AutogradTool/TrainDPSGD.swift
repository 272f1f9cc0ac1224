import ArgumentParser
import Autograd
import AutogradNN
import Foundation

/// `autograd train dpsgd`: differentially private SGD on the handwritten digits.
struct TrainDPSGD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpsgd",
        abstract: "Train a small network on the handwritten digits with differentially private SGD: per-example "
            + "gradients clipped to a norm, Gaussian noise, and the privacy spent.",
        discussion: """
            Data: the handwritten digits shipped with AutogradNN (1 797 images of 8 × 8 pixels), split 1 438 / 359 \
            by a fixed seed. Network: linear 64 → hidden, tanh, linear hidden → 10, cross-entropy. Each step takes \
            every training image with probability q = B/N (Poisson sampling; B the expected batch size), computes \
            each example's gradient with respect to all parameters, scales it down to norm at most C (the \
            clipping norm), sums, adds Gaussian noise of standard deviation σ·C (σ the noise multiplier) from a \
            seeded generator, divides by B and takes a step of SGD with momentum 0.9.

            The per-example gradients come from one perExampleGradients(of:at:over:mode:) call per batch, in \
            reverse mode (vmap of the gradient: one batched forward and reverse pass); the same training \
            is then repeated with one gradients(at:of:) call per example (the per-example loop), with the same \
            batches and noise, and the two are compared: test accuracy, time and the largest parameter difference. \
            A third run without clipping and noise gives the accuracy that privacy costs. The privacy spent is \
            (ε, δ) from the Rényi accountant of the sampled Gaussian mechanism.
            """
    )

    @Flag(help: "Print one JSON object: {\"test_accuracy\", \"epsilon\", \"clip_norm\", \"noise_multiplier\", \"loop\", ...}.")
    var json = false

    @Option(help: "Passes over the training set (N/B steps each).")
    var epochs = DPSGDOptions().epochs

    @Option(help: "C: each example's gradient is scaled down to at most this norm.")
    var clipNorm = DPSGDOptions().clipNorm

    @Option(help: "σ: the noise's standard deviation is σ·C.")
    var noiseMultiplier = DPSGDOptions().noiseMultiplier

    @Option(help: "B: the expected number of images per step (each is taken with probability B/N).")
    var batchSize = DPSGDOptions().expectedBatchSize

    @Option(help: "SGD's learning rate (momentum 0.9).")
    var learningRate = DPSGDOptions().learningRate

    @Option(help: "δ of the reported (ε, δ).")
    var delta = DPSGDOptions().delta

    @Option(help: "Seed of the batches and the noise.")
    var noiseSeed = DPSGDOptions().noiseSeed

    @Flag(help: "Skip the comparison with the per-example loop.")
    var noLoop = false

    func validate() throws {
        if epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if !(clipNorm > 0) { throw ValidationError("--clip-norm must be positive, got \(clipNorm)") }
        if !(noiseMultiplier >= 0) { throw ValidationError("--noise-multiplier must be 0 or more, got \(noiseMultiplier)") }
        if batchSize < 1 || batchSize > 1438 { throw ValidationError("--batch-size must lie in 1...1438, got \(batchSize)") }
        if !(delta > 0 && delta < 1) { throw ValidationError("--delta must lie in (0, 1), got \(delta)") }
        if !(learningRate > 0) { throw ValidationError("--learning-rate must be positive, got \(learningRate)") }
    }

    func run() throws {
        var options = DPSGDOptions()
        options.epochs = epochs
        options.clipNorm = clipNorm
        options.noiseMultiplier = noiseMultiplier
        options.expectedBatchSize = batchSize
        options.learningRate = learningRate
        options.delta = delta
        options.noiseSeed = noiseSeed
        options.compareWithLoop = !noLoop
        if !json {
            print("Handwritten digits: 1 797 images of 8 × 8 pixels, split 1 438 / 359 (seed \(options.splitSeed)).")
            print("Network: \(DPSGDRun.architecture(hidden: options.hidden)).")
            print("DP-SGD: clipping norm C = \(clipNorm), noise multiplier σ = \(noiseMultiplier), expected batch "
                + "\(batchSize), \(epochs) epochs. Training...\n")
        }
        let run = try DPSGDRun(options: options)
        if json {
            print(JSON.string(run.json))
            return
        }
        func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
        func seconds(_ x: Double) -> String { String(format: "%8.2f s", x) }
        func pad(_ s: String) -> String { s + String(repeating: " ", count: Swift.max(1, 36 - s.count)) }
        let v = run.vectorized
        print("""
            \(run.steps) steps, sampling rate q = \(String(format: "%.4f", run.samplingRate)), \(run.parameterCount) \
            parameters. Per-example gradient norms: median \(String(format: "%.3f", run.medianNorm)), \
            \(percent(run.clippedFraction)) clipped to C.

            Test accuracy \(percent(v.testAccuracy)) (without privacy: \(percent(run.nonPrivateAccuracy)))
            Privacy: (ε, δ) = (\(String(format: "%.2f", run.epsilon)), \(delta)), Rényi order \(run.order)

            per-example gradients                   training  of which per-example gradients and clipping
              \(pad("perExampleGradients, reverse mode"))\(seconds(v.seconds))  \(seconds(v.perExampleSeconds))
            """)
        if let loop = run.loop, let difference = run.parameterDifference {
            print("""
                  \(pad("one gradients call per example"))\(seconds(loop.seconds))  \(seconds(loop.perExampleSeconds))  \
                (test accuracy \(percent(loop.testAccuracy)))
                Largest parameter difference between the two: \(String(format: "%.1e", difference)) of the largest \
                parameter.
                """)
        }
    }
}

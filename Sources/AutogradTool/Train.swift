import ArgumentParser
import Autograd
import AutogradNN
import Foundation

/// `autograd train`: real training runs. With no subcommand, `tabular` (the Breast Cancer data); `cnn` trains a
/// convolutional network on the handwritten digits.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train models on real data shipped with the library.",
        subcommands: [TrainTabular.self, TrainCNN.self, TrainTransformer.self, TrainDPSGD.self],
        defaultSubcommand: TrainTabular.self
    )
}

/// `autograd train tabular` (the default of `autograd train`): logistic regression and a small MLP on the Breast
/// Cancer Wisconsin data, then per-example losses, J·u and a reweighted loss on the trained logistic regression.
struct TrainTabular: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tabular",
        abstract: "Train logistic regression and a small MLP on real data, then compute J·u of the per-example "
            + "losses and a reweighted loss.",
        discussion: """
            Data: Breast Cancer Wisconsin (Diagnostic), 569 examples, 30 features, malignant (1) or benign (0), \
            shipped with AutogradNN (Resources/DATA.md gives source and license). A fixed seeded split puts 455 \
            examples in training and 114 in test; features are standardized with the training set's mean and \
            standard deviation. Both models end in one logit and train with binary cross-entropy on logits in \
            mini-batches of 32: logistic regression with SGD (momentum 0.9), the MLP with Adam.

            Then, on the trained logistic regression and the training set: the per-example losses ℓ (reduction \
            .none), their Jacobian-vector product J·u along a seeded unit direction u in parameter space (one \
            forward pass), and a reweighted loss Σ wᵢ ℓᵢ / N with wᵢ = ℓᵢ / mean(ℓ), whose derivative along u is \
            Σ wᵢ (J·u)ᵢ / N. This is what `autograd train` runs; `autograd train cnn` trains a convolutional             network on handwritten digits instead.
            """
    )

    @Flag(help: "Print one JSON object: {\"logistic\": {\"test_accuracy\", \"epochs\", ...}, \"mlp\": {...}, \"jvp_norm\", ...}.")
    var json = false

    @Option(help: "Epochs of logistic regression.")
    var logisticEpochs = TrainingOptions().logisticEpochs

    @Option(help: "Epochs of the MLP.")
    var mlpEpochs = TrainingOptions().mlpEpochs

    @Option(help: "Seed of the train/test split.")
    var splitSeed = TrainingOptions().splitSeed

    @Option(help: "Seed of the initial parameters and the mini-batch order.")
    var modelSeed = TrainingOptions().modelSeed

    @Option(help: ArgumentHelp("Write the trained parameters to DIR/logistic.safetensors and DIR/mlp.safetensors "
        + "(safetensors format).", valueName: "dir"))
    var saveTo: String?

    func validate() throws {
        if logisticEpochs < 1 || mlpEpochs < 1 { throw ValidationError("epochs must be at least 1") }
    }

    func run() throws {
        var options = TrainingOptions()
        options.logisticEpochs = logisticEpochs
        options.mlpEpochs = mlpEpochs
        options.splitSeed = splitSeed
        options.modelSeed = modelSeed
        let quiet = json
        if !quiet {
            print("Breast Cancer Wisconsin (Diagnostic): 569 examples, 30 features. Split 455 / 114 (seed \(splitSeed));")
            print("features standardized with the training set's mean and standard deviation.\n")
        }
        let run = try TrainingRun(options: options) { setup, record in
            guard !quiet else { return }
            if record.epoch == 1 {
                let title = setup.name == "logistic" ? "Logistic regression" : "\nMLP"
                print("\(title): \(setup.architecture), \(setup.optimizer)")
            }
            print(String(format: "  epoch %3d/%d  loss %.4f  train accuracy %5.1f%%", record.epoch, setup.epochs,
                         record.loss, 100 * record.trainingAccuracy))
        }
        if let saveTo {
            let directory = URL(fileURLWithPath: saveTo, isDirectory: true)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try run.logisticModel.saveParameters(to: directory.appendingPathComponent("logistic.safetensors"))
            try run.mlpModel.saveParameters(to: directory.appendingPathComponent("mlp.safetensors"))
        }
        if json {
            print(JSON.string(run.json))
            return
        }
        let r = run.reweighting
        func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
        print("""

        Test accuracy (\(run.test.count) held-out examples):
          logistic regression  \(percent(run.logistic.testAccuracy))  after \(run.logistic.epochs) epochs \
        (\(String(format: "%.1f", run.logistic.seconds)) s)
          MLP                  \(percent(run.mlp.testAccuracy))  after \(run.mlp.epochs) epochs \
        (\(String(format: "%.1f", run.mlp.seconds)) s)

        Per-example losses of the trained logistic regression on the \(r.count) training examples:
          ℓ = binaryCrossEntropy(logits: model(x), targets: y, reduction: .none)      shape [\(r.count)]
          mean(ℓ) = \(String(format: "%.4f", r.meanLoss)); \(r.misclassified) examples misclassified

        J·u: how every loss changes when the parameters (weight [1, 30], bias [1]) move along a seeded unit
        direction u, in one forward pass:
          let (ℓ, Ju) = try jvp(of: losses, at: model, tangents: u)                    Ju: [\(r.count)]
          ‖J·u‖ = \(String(format: "%.6f", r.jvpNorm))

        Reweighted loss: wᵢ = ℓᵢ / mean(ℓ) weights each example by how badly it is fit (the weights average 1;
        the \(r.misclassified) misclassified examples carry \(percent(r.misclassifiedWeightShare)) of the total weight):
          L_w = Σ wᵢ ℓᵢ / N = \(String(format: "%.4f", r.reweightedLoss))   (plain mean \(String(format: "%.4f", r.meanLoss)))
          dL_w/dε along u = Σ wᵢ (J·u)ᵢ / N = \(String(format: "%.6f", r.reweightedDirectionalDerivative)) \
        (a separate jvp of L_w gives \(String(format: "%.6f", r.reweightedDirectionalDerivativeDirect)))
        Any fixed reweighting's derivative along u is a dot product with J·u: one forward pass serves them all.
        """)
        if let saveTo { print("\nSaved the parameters to \(saveTo)/logistic.safetensors and \(saveTo)/mlp.safetensors.") }
    }
}

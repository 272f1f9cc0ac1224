import Autograd
import AutogradNN
import Foundation

/// The settings of `autograd train`. The defaults are what the command runs.
public struct TrainingOptions: Sendable {
    /// Seed of the fixed train/test split (80 % / 20 %: 455 and 114 examples).
    public var splitSeed: UInt64 = 0
    /// Seed of the models' initial parameters and of the mini-batch order.
    public var modelSeed: UInt64 = 1
    /// Passes over the training set for logistic regression.
    public var logisticEpochs = 30
    /// Passes over the training set for the MLP.
    public var mlpEpochs = 30
    /// Examples per gradient step (the last batch of an epoch may be smaller).
    public var batchSize = 32
    /// Width of the MLP's hidden layer.
    public var hiddenUnits = 16
    /// Seed of the direction u of the Jacobian-vector product.
    public var directionSeed: UInt64 = 2024

    /// The defaults.
    public init() {}
}

/// One epoch of training, as the progress line reports it.
public struct EpochRecord: Sendable {
    /// 1-based epoch number.
    public let epoch: Int
    /// The mean training loss over the epoch's mini-batches (each batch's mean loss weighted by its size).
    public let loss: Double
    /// Accuracy on the whole training set after the epoch.
    public let trainingAccuracy: Double
}

/// Which model is trained, how, and for how long.
public struct ModelSetup: Sendable {
    /// "logistic" or "mlp".
    public let name: String
    /// The architecture in words.
    public let architecture: String
    /// The optimizer and its settings in words.
    public let optimizer: String
    /// The number of epochs to train.
    public let epochs: Int
}

/// What training one model produced.
public struct ModelReport: Sendable {
    /// The model and how it was trained.
    public let setup: ModelSetup
    /// The number of trainable numbers.
    public let parameterCount: Int
    /// One record per epoch.
    public let history: [EpochRecord]
    /// Accuracy on the held-out test set after the last epoch.
    public let testAccuracy: Double
    /// Mean binary cross-entropy on the test set after the last epoch.
    public let testLoss: Double
    /// Wall-clock seconds spent training.
    public let seconds: Double

    /// The number of epochs trained.
    public var epochs: Int { history.count }
    /// "logistic" or "mlp".
    public var name: String { setup.name }
}

/// The computation the library was built for, on the trained logistic regression and the training set.
///
/// With per-example losses ℓᵢ(θ) (θ = the weight [1, 30] and bias [1]) and a direction u in parameter space:
/// - J·u, the Jacobian-vector product of the losses along u: (J·u)ᵢ = dℓᵢ(θ + εu)/dε at ε = 0, one forward pass;
/// - a reweighted loss L_w = Σᵢ wᵢ ℓᵢ / N with wᵢ = ℓᵢ / mean(ℓ) (held constant): examples weighted by how
///   badly the model does on them relative to the average, so the weights average 1, well-fit examples count
///   little and misfit ones a lot (the idea behind focal losses and hard-example mining);
/// - its directional derivative along u, which J·u gives for free for ANY fixed weights: dL_w/dε = Σᵢ wᵢ (J·u)ᵢ / N.
public struct ReweightingReport: Sendable {
    /// N, the number of per-example losses.
    public let count: Int
    /// The per-example losses ℓ, [N].
    public let losses: Tensor<Float>
    /// The direction u, one tensor per parameter of the logistic model (weight [1, 30], bias [1]), of unit norm
    /// over all of them, standard normal before normalizing, from `SeededGenerator(seed: directionSeed)`.
    public let direction: [Tensor<Float>]
    /// J·u, [N].
    public let jvp: Tensor<Float>
    /// ‖J·u‖₂.
    public let jvpNorm: Double
    /// The weights w, [N] (mean 1).
    public let weights: Tensor<Float>
    /// mean(ℓ).
    public let meanLoss: Double
    /// L_w = Σ wᵢ ℓᵢ / N.
    public let reweightedLoss: Double
    /// Σ wᵢ (J·u)ᵢ / N, from J·u.
    public let reweightedDirectionalDerivative: Double
    /// The same derivative by a separate forward pass through the reweighted loss (a check).
    public let reweightedDirectionalDerivativeDirect: Double
    /// Training examples the model misclassifies, and the share of the total weight they carry.
    public let misclassified: Int
    /// Σ of wᵢ over misclassified examples / Σ wᵢ.
    public let misclassifiedWeightShare: Double
}

/// Everything `autograd train` computes, so the text, the JSON and the tests read the same numbers.
public struct TrainingRun: Sendable {
    /// The settings used.
    public let options: TrainingOptions
    /// The training set (455 examples), standardized.
    public let training: LabeledDataset<Float>
    /// The test set (114 examples), standardized with the training set's statistics.
    public let test: LabeledDataset<Float>
    /// Logistic regression: Linear(30 → 1) on standardized features.
    public let logistic: ModelReport
    /// The trained logistic regression.
    public let logisticModel: Linear<Float>
    /// A small MLP: Linear(30 → hidden), ReLU, Linear(hidden → 1).
    public let mlp: ModelReport
    /// The trained MLP.
    public let mlpModel: MLP
    /// Per-example losses, J·u and the reweighted loss on the trained logistic regression.
    public let reweighting: ReweightingReport

    /// The MLP's type: `Sequential { Linear; ReLU; Linear }`.
    public typealias MLP = Sequential<Chain<Chain<Linear<Float>, ReLU<Float>>, Linear<Float>>>

    /// Loads the data, trains both models and runs the reweighting computation. `progress` is called after every
    /// epoch with the model being trained and that epoch's record.
    public init(options: TrainingOptions = TrainingOptions(),
                progress: (ModelSetup, EpochRecord) -> Void = { _, _ in }) throws {
        self.options = options
        let data: LabeledDataset<Float> = try BreastCancer.load()
        let (rawTraining, rawTest) = data.split(trainingFraction: 0.8, seed: options.splitSeed)
        let standardize = Standardizer(fittingTo: rawTraining.features)
        let training = standardize(rawTraining), test = standardize(rawTest)
        self.training = training
        self.test = test

        var rng = SeededGenerator(seed: options.modelSeed)
        var linear = Linear<Float>(inputSize: data.featureNames.count, outputSize: 1, using: &rng)
        var sgd = SGD<Float>(learningRate: 0.05, momentum: 0.9)
        let logisticSetup = ModelSetup(name: "logistic", architecture: "Linear(30 → 1)",
                                       optimizer: "SGD(learningRate: 0.05, momentum: 0.9)",
                                       epochs: options.logisticEpochs)
        logistic = try Self.train(&linear, logisticSetup, optimizer: &sgd, training: training, test: test,
                                  batchSize: options.batchSize, rng: &rng, progress: progress)
        logisticModel = linear

        let h = options.hiddenUnits
        var network = Sequential {
            Linear<Float>(inputSize: data.featureNames.count, outputSize: h, using: &rng)
            ReLU<Float>()
            Linear<Float>(inputSize: h, outputSize: 1, using: &rng)
        }
        var adam = Adam<Float>(learningRate: 0.01)
        let mlpSetup = ModelSetup(name: "mlp", architecture: "Linear(30 → \(h)), ReLU, Linear(\(h) → 1)",
                                  optimizer: "Adam(learningRate: 0.01)", epochs: options.mlpEpochs)
        mlp = try Self.train(&network, mlpSetup, optimizer: &adam, training: training, test: test,
                             batchSize: options.batchSize, rng: &rng, progress: progress)
        mlpModel = network

        reweighting = try Self.reweight(linear, on: training, directionSeed: options.directionSeed)
    }

    /// Mini-batch training with binary cross-entropy on logits; each epoch visits the examples in a new seeded
    /// order.
    static func train<Model: Layer, O: Optimizer>(
        _ model: inout Model, _ setup: ModelSetup, optimizer: inout O, training: LabeledDataset<Float>,
        test: LabeledDataset<Float>, batchSize: Int, rng: inout SeededGenerator,
        progress: (ModelSetup, EpochRecord) -> Void
    ) throws -> ModelReport where Model.Scalar == Float, O.Scalar == Float {
        func logits(_ m: Model, _ x: Tensor<Float>) -> Tensor<Float> { m(x).reshaped(to: [x.shape[0]]) }
        let start = Timing.now()
        var history: [EpochRecord] = []
        for epoch in stride(from: 1, through: setup.epochs, by: 1) {
            let order = randomPermutation(count: training.count, using: &rng)
            var total = 0.0
            for begin in stride(from: 0, to: order.count, by: batchSize) {
                let batch = training.selecting(Array(order[begin..<Swift.min(begin + batchSize, order.count)]))
                let (loss, g) = try valueWithGradients(at: model) { m in
                    binaryCrossEntropy(logits: logits(m, batch.features), targets: batch.labels)
                }
                optimizer.update(&model, along: g)
                total += Double(loss.scalar) * Double(batch.count)
            }
            let accuracy = withoutRecording {
                binaryAccuracy(logits: logits(model, training.features), targets: training.labels)
            }
            let record = EpochRecord(epoch: epoch, loss: total / Double(training.count), trainingAccuracy: accuracy)
            history.append(record)
            progress(setup, record)
        }
        let seconds = Timing.now() - start
        let (accuracy, loss) = withoutRecording {
            let z = logits(model, test.features)
            return (binaryAccuracy(logits: z, targets: test.labels),
                    Double(binaryCrossEntropy(logits: z, targets: test.labels).scalar))
        }
        return ModelReport(setup: setup, parameterCount: model.parameterScalarCount, history: history, testAccuracy: accuracy,
                           testLoss: loss, seconds: seconds)
    }

    /// Per-example losses of `model` on `data`, J·u along a seeded unit direction, and the reweighted loss.
    static func reweight(_ model: Linear<Float>, on data: LabeledDataset<Float>,
                         directionSeed: UInt64) throws -> ReweightingReport {
        func losses(_ m: Linear<Float>) -> Tensor<Float> {
            binaryCrossEntropy(logits: m(data.features).reshaped(to: [data.count]), targets: data.labels,
                               reduction: .none)
        }
        var rng = SeededGenerator(seed: directionSeed)
        let raw = model.parameters.map { Tensor<Float>(randomNormal: $0.shape, using: &rng) }
        let norm = raw.map { $0.squared().sum().scalar }.reduce(0, +).squareRoot()
        let u = raw.map { $0 / norm }

        // One forward pass: the losses and how each changes along u.
        let (l, ju) = try jvp(of: losses, at: model, tangents: u)
        let weights = l / l.mean()
        let reweighted = Reduction.mean.apply(to: l, weights: weights)
        let derivative = Reduction.mean.apply(to: ju, weights: weights)
        let direct = try jvp(of: { m in Reduction.mean.apply(to: losses(m), weights: weights) }, at: model,
                             tangents: u).tangent

        let wrong = zip(model(data.features).scalars, data.labels.scalars).map { ($0 > 0) != ($1 > 0.5) }
        let w = weights.scalars
        let wrongWeight = zip(w, wrong).filter(\.1).map(\.0).reduce(0, +)
        return ReweightingReport(
            count: l.count, losses: l, direction: u, jvp: ju, jvpNorm: Double(ju.squared().sum().scalar.squareRoot()),
            weights: weights, meanLoss: Double(l.mean().scalar), reweightedLoss: Double(reweighted.scalar),
            reweightedDirectionalDerivative: Double(derivative.scalar),
            reweightedDirectionalDerivativeDirect: Double(direct.scalar), misclassified: wrong.filter { $0 }.count,
            misclassifiedWeightShare: Double(wrongWeight / w.reduce(0, +)))
    }

    /// The JSON object of `autograd train --json`.
    public var json: [String: Any] {
        func model(_ r: ModelReport) -> [String: Any] {
            ["test_accuracy": r.testAccuracy, "epochs": r.epochs, "test_loss": r.testLoss,
             "final_training_loss": r.history.last?.loss ?? 0,
             "final_training_accuracy": r.history.last?.trainingAccuracy ?? 0, "train_seconds": r.seconds,
             "parameters": r.parameterCount, "architecture": r.setup.architecture, "optimizer": r.setup.optimizer]
        }
        let r = reweighting
        return [
            "logistic": model(logistic), "mlp": model(mlp), "jvp_norm": r.jvpNorm,
            "split": ["training": training.count, "test": test.count, "seed": options.splitSeed],
            "per_example_losses": ["count": r.count, "mean_loss": r.meanLoss, "reweighted_loss": r.reweightedLoss,
                                   "reweighted_directional_derivative": r.reweightedDirectionalDerivative,
                                   "misclassified": r.misclassified,
                                   "misclassified_weight_share": r.misclassifiedWeightShare],
        ]
    }
}

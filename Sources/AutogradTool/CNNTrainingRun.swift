import Autograd
import AutogradNN
import Foundation

/// The settings of `autograd train cnn`. The defaults are what the command runs.
public struct CNNTrainingOptions: Sendable {
    /// Seed of the fixed train/test split (80 % / 20 %: 1 438 and 359 images).
    public var splitSeed: UInt64 = 0
    /// Seed of the initial parameters and the mini-batch order.
    public var modelSeed: UInt64 = 1
    /// Passes over the training set.
    public var epochs = 30
    /// Images per gradient step (the last batch of an epoch is kept, smaller).
    public var batchSize = 32
    /// Adam's learning rate at the start; it follows a cosine decay to zero over the run.
    public var learningRate = 3e-3
    /// Shift each training batch by up to this many pixels in each direction (a seeded draw per batch; zeros come
    /// in at the border), so that the network sees the digits in slightly different places each epoch.
    public var maximumShift = 1
    /// Use only the first this many training images (nil: all), for quick runs such as the tests.
    public var trainingLimit: Int? = nil

    /// The defaults.
    public init() {}
}

/// One epoch of `autograd train cnn`.
public struct CNNEpoch: Sendable {
    /// 1-based epoch number.
    public let epoch: Int
    /// The mean training loss over the epoch's batches (weighted by batch size).
    public let loss: Double
    /// Accuracy on the test images after the epoch.
    public let testAccuracy: Double
    /// Mean cross-entropy on the test images after the epoch.
    public let testLoss: Double
    /// Seconds since training started.
    public let seconds: Double
}

/// A small convolutional network trained on the handwritten digits shipped with AutogradNN, with the library's
/// convolution, pooling, cross-entropy and Adam, in minibatches; what `autograd train cnn` prints.
///
/// Network (the images are [N, 1, 8, 8], pixels scaled to [0, 1]):
///
///     conv 3×3, 1 → 16, padding 1, relu      [N, 16, 8, 8]
///     conv 3×3, 16 → 32, padding 1, relu     [N, 32, 8, 8]
///     max-pool 2×2                            [N, 32, 4, 4]
///     flatten, linear 512 → 64, relu, linear 64 → 10 (logits)
public struct CNNTrainingRun: Sendable {
    /// The settings used.
    public let options: CNNTrainingOptions
    /// One record per epoch.
    public let history: [CNNEpoch]
    /// Test accuracy after the last epoch.
    public var testAccuracy: Double { history.last?.testAccuracy ?? 0 }
    /// Wall-clock seconds of training (evaluation after each epoch included).
    public let seconds: Double
    /// The number of training and test images.
    public let trainingCount: Int, testCount: Int
    /// The number of trainable numbers.
    public let parameterCount: Int
    /// The network in words.
    public static let architecture = "conv 3×3 1→16, relu, conv 3×3 16→32, relu, max-pool 2×2, linear 512→64, relu, "
        + "linear 64→10"

    /// Trains and evaluates. `progress(epoch, batch, batches, loss so far)` is called after every batch and
    /// `epochDone` after every epoch.
    public init(options: CNNTrainingOptions = CNNTrainingOptions(),
                progress: (Int, Int, Int, Double) -> Void = { _, _, _, _ in },
                epochDone: (CNNEpoch) -> Void = { _ in }) throws {
        self.options = options
        let data: LabeledDataset<Float> = try Digits.load()
        var (training, test) = data.split(trainingFraction: 0.8, seed: options.splitSeed)
        if let limit = options.trainingLimit, limit < training.count { training = training.selecting(Array(0..<limit)) }
        let testImages = Digits.images(test.features)
        let testLabels = test.labels.scalars.map { Int($0) }

        var rng = SeededGenerator(seed: options.modelSeed)
        var model = Sequential {
            Conv2d<Float>(inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1, using: &rng)
            ReLU<Float>()
            Conv2d<Float>(inChannels: 16, outChannels: 32, kernelSize: 3, padding: 1, using: &rng)
            ReLU<Float>()
            MaxPool2d<Float>(kernelSize: 2)
            Flatten<Float>()
            Linear<Float>(inputSize: 512, outputSize: 64, using: &rng)
            ReLU<Float>()
            Linear<Float>(inputSize: 64, outputSize: 10, using: &rng)
        }
        var optimizer = Adam<Float>(learningRate: Float(options.learningRate))
        let batchesPerEpoch = (training.count + options.batchSize - 1) / options.batchSize
        let schedule = CosineDecay(initial: Float(options.learningRate),
                                   totalSteps: Swift.max(1, options.epochs * batchesPerEpoch))

        let start = Timing.now()
        var history: [CNNEpoch] = []
        var step = 0
        for epoch in 1...Swift.max(1, options.epochs) {
            var total = 0.0, seen = 0
            let batches = training.minibatches(ofSize: options.batchSize, shuffledBy: &rng)
            for (b, batch) in batches.enumerated() {
                let images = Self.shifted(Digits.images(batch.features), by: options.maximumShift, using: &rng)
                let labels = batch.labels.scalars.map { Int($0) }
                let (loss, g) = try valueWithGradients(at: model) { m in crossEntropy(logits: m(images), labels: labels) }
                optimizer.learningRate = schedule(step)
                optimizer.update(&model, along: g)
                step += 1
                total += Double(loss.scalar) * Double(batch.count)
                seen += batch.count
                progress(epoch, b + 1, batches.count, total / Double(seen))
            }
            let (accuracy, testLoss) = withoutRecording { () -> (Double, Double) in
                let logits = model(testImages)
                let predicted = logits.argmax(alongAxis: 1).scalars.map(Int.init)
                let correct = zip(predicted, testLabels).filter { $0 == $1 }.count
                return (Double(correct) / Double(testLabels.count),
                        Double(crossEntropy(logits: logits, labels: testLabels).scalar))
            }
            let record = CNNEpoch(epoch: epoch, loss: total / Double(Swift.max(seen, 1)), testAccuracy: accuracy,
                                  testLoss: testLoss, seconds: Timing.now() - start)
            history.append(record)
            epochDone(record)
        }
        self.history = history
        self.seconds = Timing.now() - start
        self.trainingCount = training.count
        self.testCount = test.count
        self.parameterCount = model.parameterScalarCount
    }

    /// `images` [N, 1, 8, 8] moved by (dy, dx) pixels, each drawn uniformly from −m ... m: padded by m zeros on
    /// every side, then the 8 × 8 window at offset (m + dy, m + dx) cut out.
    static func shifted(_ images: Tensor<Float>, by m: Int, using rng: inout SeededGenerator) -> Tensor<Float> {
        guard m > 0 else { return images }
        let dy = Int(rng.next() % UInt64(2 * m + 1)), dx = Int(rng.next() % UInt64(2 * m + 1))
        let side = Digits.side
        return images.padded([(0, 0), (0, 0), (m, m), (m, m)])[.all, .all, dy..<(dy + side), dx..<(dx + side)]
    }

    /// The JSON object of `autograd train cnn --json`.
    public var json: [String: Any] {
        ["test_accuracy": testAccuracy, "epochs": history.count, "seconds": seconds,
         "test_loss": history.last?.testLoss ?? 0, "final_training_loss": history.last?.loss ?? 0,
         "training_images": trainingCount, "test_images": testCount, "parameters": parameterCount,
         "architecture": Self.architecture, "batch_size": options.batchSize,
         "history": history.map { ["epoch": $0.epoch, "loss": $0.loss, "test_accuracy": $0.testAccuracy,
                                   "test_loss": $0.testLoss, "seconds": $0.seconds] }]
    }

    /// The loss and accuracy curves as an SVG document (two panels).
    public var svg: String {
        let epochs = history.map { Double($0.epoch) }
        return SVGChart(panels: [
            .init(title: "Loss (cross-entropy)", xLabel: "epoch", yLabel: "loss", series: [
                .init(name: "training", points: Array(zip(epochs, history.map(\.loss))), color: "#1f77b4"),
                .init(name: "test", points: Array(zip(epochs, history.map(\.testLoss))), color: "#d62728"),
            ]),
            .init(title: "Test accuracy", xLabel: "epoch", yLabel: "accuracy", series: [
                .init(name: "test", points: Array(zip(epochs, history.map(\.testAccuracy))), color: "#2ca02c"),
            ]),
        ]).svg
    }
}

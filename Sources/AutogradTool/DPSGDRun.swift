import Autograd
import AutogradNN
import Foundation

/// The settings of `autograd train dpsgd`. The defaults are what the command runs.
public struct DPSGDOptions: Sendable {
    /// Seed of the fixed train/test split (80 % / 20 %: 1 438 and 359 images).
    public var splitSeed: UInt64 = 0
    /// Seed of the initial parameters.
    public var modelSeed: UInt64 = 1
    /// Seed of the batch sampling and of the Gaussian noise.
    public var noiseSeed: UInt64 = 2
    /// Passes over the training set: each has N / B steps (N training images, B the expected batch size).
    public var epochs = 20
    /// B, the expected batch size: each step takes every training image independently with probability q = B / N
    /// (Poisson sampling, which the privacy accounting assumes).
    public var expectedBatchSize = 64
    /// C, the clipping norm: each example's gradient (all parameters together) is scaled down to norm at most C.
    public var clipNorm = 1.0
    /// σ, the noise multiplier: the noise added to the sum of clipped gradients has standard deviation σ·C.
    public var noiseMultiplier = 1.0
    /// SGD's learning rate (momentum 0.9).
    public var learningRate = 0.2
    /// Width of the hidden tanh layer.
    public var hidden = 32
    /// The δ of the (ε, δ) guarantee reported.
    public var delta = 1e-5
    /// Also train with the per-example loop (one `gradients(at:of:)` call per example) and compare.
    public var compareWithLoop = true
    /// Use only the first this many training images (nil: all), for quick runs such as the tests.
    public var trainingLimit: Int? = nil

    /// The defaults.
    public init() {}
}

/// The network of `autograd train dpsgd`: 64 pixels → hidden, tanh → 10 logits.
public struct DigitsMLP: Layer, Sendable {
    /// Float.
    public typealias Scalar = Float
    /// The hidden layer, 64 → hidden.
    public var hidden: Linear<Float>
    /// The output layer, hidden → 10.
    public var output: Linear<Float>

    /// Random initial parameters (``Linear``'s initialization) from `rng`.
    public init(hidden width: Int, using rng: inout SeededGenerator) {
        hidden = Linear(inputSize: Digits.featureCount, outputSize: width, using: &rng)
        output = Linear(inputSize: width, outputSize: Digits.classCount, using: &rng)
    }

    /// `hidden.weight`, `hidden.bias`, `output.weight`, `output.bias`.
    public var parameterPaths: [ParameterPath<DigitsMLP>] {
        parameterPaths(of: \.hidden, named: "hidden") + parameterPaths(of: \.output, named: "output")
    }

    /// Logits [N, 10] of pixel rows [N, 64] scaled to [0, 1].
    public func callAsFunction(_ input: Tensor<Float>) -> Tensor<Float> { output(tanh(hidden(input))) }
}

/// How a DP-SGD step gets the per-example gradients.
public enum PerExampleRoute: String, Sendable, CaseIterable {
    /// One call of `perExampleGradients(of:at:over:mode:)` in reverse mode for the whole batch, the loss written
    /// for one example: one batched forward and reverse pass (`vmap` of the gradient).
    case reverse
    /// One call of `perExampleGradients(of:at:)` with the batch's N losses: forward mode, one tangent per
    /// parameter element.
    case forward
    /// One ``gradients(at:of:)`` call per example.
    case loop
}

/// One DP-SGD step's privatized gradient before noise: the per-example gradients gᵢ (all parameters together),
/// each clipped to norm at most C, summed.
public struct ClippedSum: Sendable {
    /// Σᵢ gᵢ·min(1, C/‖gᵢ‖), one tensor per parameter (shaped like it).
    public var sum: [Tensor<Float>]
    /// ‖gᵢ‖ of each example before clipping, [B].
    public var norms: [Double]
}

/// Differentially private SGD (Abadi et al., 2016) on the handwritten digits: per-example gradients, each clipped
/// to norm C, summed, Gaussian noise of standard deviation σ·C added, divided by the expected batch size B, then a
/// step of SGD; what `autograd train dpsgd` prints.
///
/// Each step samples its batch by taking every training image with probability q = B/N, and draws the noise from a
/// seeded generator: the same seeds give the same batches and noise whichever route computes the per-example
/// gradients, so the vectorized route and the per-example loop train the same model (up to rounding) and their
/// results can be compared. The privacy spent is reported as (ε, δ) from the Rényi accountant of the sampled
/// Gaussian mechanism (``PrivacyAccountant``).
public struct DPSGDRun: Sendable {
    /// One trained model and what it cost.
    public struct Result: Sendable {
        /// How the per-example gradients were computed.
        public let route: PerExampleRoute
        /// Accuracy on the test images.
        public let testAccuracy: Double
        /// Seconds of training (evaluation excluded).
        public let seconds: Double
        /// Seconds spent computing per-example gradients and clipping them.
        public let perExampleSeconds: Double
        /// The trained parameters.
        public let parameters: [Tensor<Float>]
    }

    /// The settings used.
    public let options: DPSGDOptions
    /// The training with ``PerExampleRoute/reverse``.
    public let vectorized: Result
    /// The training with ``PerExampleRoute/loop`` (nil unless ``DPSGDOptions/compareWithLoop``).
    public let loop: Result?
    /// Steps taken (epochs · N/B).
    public let steps: Int
    /// The sampling rate q = B/N.
    public let samplingRate: Double
    /// ε of the (ε, δ) guarantee after all steps (δ = ``DPSGDOptions/delta``), and the Rényi order that gave it.
    public let epsilon: Double, order: Int
    /// The median, over all examples of all steps, of the per-example gradient norm, and the fraction clipped.
    public let medianNorm: Double, clippedFraction: Double
    /// The number of training and test images, and of trainable numbers.
    public let trainingCount: Int, testCount: Int, parameterCount: Int
    /// Test accuracy of the same network trained without privacy (no clipping, no noise) with the same batches.
    public let nonPrivateAccuracy: Double

    /// The largest |θ_vectorized − θ_loop| over all parameters, relative to the largest |θ_loop|.
    public var parameterDifference: Double? {
        guard let loop else { return nil }
        var difference = 0.0, scale = 0.0
        for (a, b) in zip(vectorized.parameters, loop.parameters) {
            for (x, y) in zip(a.scalars, b.scalars) {
                difference = Swift.max(difference, Double(Swift.abs(x - y)))
                scale = Swift.max(scale, Double(Swift.abs(y)))
            }
        }
        return difference / Swift.max(scale, .leastNormalMagnitude)
    }

    /// The network in words.
    public static func architecture(hidden: Int) -> String { "linear 64→\(hidden), tanh, linear \(hidden)→10" }

    /// Trains with the vectorized route, then (if asked) with the per-example loop and without privacy.
    public init(options: DPSGDOptions = DPSGDOptions()) throws {
        self.options = options
        let data: LabeledDataset<Float> = try Digits.load()
        var (training, test) = data.split(trainingFraction: 0.8, seed: options.splitSeed)
        if let limit = options.trainingLimit, limit < training.count { training = training.selecting(Array(0..<limit)) }
        let n = training.count
        samplingRate = Swift.min(1, Double(options.expectedBatchSize) / Double(n))
        steps = options.epochs * Swift.max(1, (n + options.expectedBatchSize / 2) / options.expectedBatchSize)
        trainingCount = n
        testCount = test.count

        var statistics: [Double] = []
        vectorized = try Self.train(options, training, test, route: .reverse, steps: steps, norms: &statistics)
        var ignored: [Double] = []
        loop = options.compareWithLoop
            ? try Self.train(options, training, test, route: .loop, steps: steps, norms: &ignored) : nil
        var plain = options
        plain.noiseMultiplier = 0
        plain.clipNorm = .infinity
        nonPrivateAccuracy = try Self.train(plain, training, test, route: .reverse, steps: steps,
                                            norms: &ignored).testAccuracy
        statistics.sort()
        medianNorm = statistics.isEmpty ? 0 : statistics[statistics.count / 2]
        clippedFraction = Double(statistics.filter { $0 > options.clipNorm }.count) / Double(Swift.max(statistics.count, 1))
        (epsilon, order) = PrivacyAccountant.epsilon(steps: steps, samplingRate: samplingRate,
                                                     noiseMultiplier: options.noiseMultiplier, delta: options.delta)
        var rng = SeededGenerator(seed: options.modelSeed)
        parameterCount = DigitsMLP(hidden: options.hidden, using: &rng).parameterScalarCount
    }

    /// One training run; appends every per-example norm it sees to `norms`.
    static func train(_ options: DPSGDOptions, _ training: LabeledDataset<Float>, _ test: LabeledDataset<Float>,
                      route: PerExampleRoute, steps: Int, norms: inout [Double]) throws -> Result {
        var rng = SeededGenerator(seed: options.modelSeed)
        var model = DigitsMLP(hidden: options.hidden, using: &rng)
        var draws = SeededGenerator(seed: options.noiseSeed)
        var optimizer = SGD<Float>(learningRate: Float(options.learningRate), momentum: 0.9)
        let pixels = training.features / 16
        let labels = training.labels.scalars.map { Int($0) }
        let q = Swift.min(1, Double(options.expectedBatchSize) / Double(training.count))
        let scale = Float(1 / Double(options.expectedBatchSize))
        let start = Timing.now()
        var perExampleSeconds = 0.0
        for _ in 0..<steps {
            let batch = labels.indices.filter { _ in Double(draws.next() >> 11) * 0x1p-53 < q }
            let clipStart = Timing.now()
            let clipped = try clippedSum(model, pixels.gathering(atIndices: batch, alongAxis: 0),
                                         batch.map { labels[$0] }, clipNorm: options.clipNorm, route: route)
            perExampleSeconds += Timing.now() - clipStart
            norms += clipped.norms
            let sigma = Float(options.noiseMultiplier * options.clipNorm)
            let gradient = clipped.sum.map { s -> Tensor<Float> in
                let noise = Tensor<Float>(randomNormal: s.shape, using: &draws)
                return sigma > 0 ? (s + noise * sigma) * scale : s * scale
            }
            optimizer.update(&model, along: gradient)
        }
        let seconds = Timing.now() - start
        let logits = model(test.features / 16)
        let predicted = logits.argmax(alongAxis: 1).scalars.map(Int.init)
        let correct = zip(predicted, test.labels.scalars.map { Int($0) }).filter { $0 == $1 }.count
        return Result(route: route, testAccuracy: Double(correct) / Double(Swift.max(test.count, 1)), seconds: seconds,
                      perExampleSeconds: perExampleSeconds, parameters: model.parameters)
    }

    /// Σᵢ gᵢ·min(1, C/‖gᵢ‖) for the examples `x` [B, 64] with `labels`, gᵢ the gradient of example i's
    /// cross-entropy with respect to every parameter of `model`, ‖gᵢ‖ its norm over all parameters together.
    /// An empty batch gives zeros.
    public static func clippedSum(_ model: DigitsMLP, _ x: Tensor<Float>, _ labels: [Int], clipNorm: Double,
                                  route: PerExampleRoute) throws -> ClippedSum {
        let b = labels.count
        guard b > 0 else { return ClippedSum(sum: model.parameters.map { Tensor(zerosLike: $0) }, norms: []) }
        switch route {
        case .reverse, .forward:
            // G_k [B] + θₖ.shape for each parameter; ‖gᵢ‖² = Σₖ Σ G_k[i, …]².
            let g = route == .reverse
                ? try perExampleGradients(of: { m, example in
                    // one example: pixels [64], one-hot label [10]
                    -(m(example[0].reshaped(to: [1, 64])).logSoftmax(alongAxes: 1)
                        * example[1].reshaped(to: [1, 10])).sum()
                }, at: model, over: [x, oneHot(Tensor<Int32>(labels.map { Int32($0) }), classes: 10)],
                mode: .reverse).gradients
                : try perExampleGradients(of: { m in crossEntropy(logits: m(x), labels: labels, reduction: .none) },
                                          at: model)
            let flat = g.map { $0.reshaped(to: [b, -1]) }
            let squares = flat.map { $0.squared().sum(alongAxes: 1) }.reduce(Tensor<Float>(zeros: [b]), +)
            let norms = squares.scalars.map { Double($0).squareRoot() }
            let factors = Tensor<Float>(shape: [1, b], scalars: norms.map { Float(clipFactor($0, clipNorm)) })
            let sum = zip(flat, model.parameters).map { matmul(factors, $0).reshaped(to: $1.shape) }
            return ClippedSum(sum: sum, norms: norms)
        case .loop:
            var sum = model.parameters.map { Tensor<Float>(zerosLike: $0) }
            var norms: [Double] = []
            for i in 0..<b {
                let g = try gradients(at: model) { m in crossEntropy(logits: m(x[i..<(i + 1)]), labels: [labels[i]]) }
                let norm = g.reduce(0.0) { $0 + Double($1.squared().sum().scalar) }.squareRoot()
                norms.append(norm)
                let factor = Float(clipFactor(norm, clipNorm))
                sum = zip(sum, g).map { $0 + $1 * factor }
            }
            return ClippedSum(sum: sum, norms: norms)
        }
    }

    /// min(1, C/‖g‖): the factor that brings a gradient of norm ‖g‖ to norm at most C (1 for C = ∞ or ‖g‖ = 0).
    static func clipFactor(_ norm: Double, _ clipNorm: Double) -> Double {
        norm > clipNorm ? clipNorm / norm : 1
    }

    /// The JSON object of `autograd train dpsgd --json`.
    public var json: [String: Any] {
        var object: [String: Any] = [
            "test_accuracy": vectorized.testAccuracy, "seconds": vectorized.seconds,
            "per_example_seconds": vectorized.perExampleSeconds, "clip_norm": options.clipNorm,
            "noise_multiplier": options.noiseMultiplier, "expected_batch_size": options.expectedBatchSize,
            "sampling_rate": samplingRate, "steps": steps, "epochs": options.epochs, "epsilon": epsilon,
            "delta": options.delta, "renyi_order": order, "learning_rate": options.learningRate,
            "median_gradient_norm": medianNorm, "clipped_fraction": clippedFraction,
            "non_private_test_accuracy": nonPrivateAccuracy, "training_images": trainingCount,
            "test_images": testCount, "parameters": parameterCount,
            "architecture": Self.architecture(hidden: options.hidden),
        ]
        if let loop, let difference = parameterDifference {
            object["loop"] = ["test_accuracy": loop.testAccuracy, "seconds": loop.seconds,
                              "per_example_seconds": loop.perExampleSeconds]
            object["parameter_difference"] = difference
        }
        return object
    }
}

/// The privacy of DP-SGD by the Rényi accountant of the sampled Gaussian mechanism (Mironov, Talwar and Zhang,
/// 2019): each step adds N(0, σ²C²) noise to a sum of gradients clipped to norm C over a batch in which every
/// example is present with probability q.
///
/// At an integer Rényi order α ≥ 2 one step costs
///
///     R(α) = log(A_α)/(α − 1),   A_α = Σ_{k=0…α} C(α, k)·(1 − q)^(α−k)·q^k·exp((k² − k)/(2σ²))
///
/// (for q = 1 this is the Gaussian mechanism's α/(2σ²)); T steps cost T·R(α), and the run is (ε, δ)-private with
/// ε = min over α of T·R(α) + log(1/δ)/(α − 1).
public enum PrivacyAccountant {
    /// R(α) of one step, in nats. Infinite for σ = 0 and q > 0; 0 for q = 0. Computed in log space.
    public static func renyiCost(order alpha: Int, samplingRate q: Double, noiseMultiplier sigma: Double) -> Double {
        precondition(alpha >= 2, "PrivacyAccountant.renyiCost: the order α is \(alpha); it must be an integer ≥ 2")
        precondition(q >= 0 && q <= 1, "PrivacyAccountant.renyiCost: the sampling rate q is \(q); it must lie in [0, 1]")
        if q == 0 { return 0 }
        if sigma <= 0 { return .infinity }
        var terms: [Double] = []
        for k in 0...alpha {
            if q == 1 && k < alpha { continue }   // (1 − q)^(α−k) = 0
            let binomial = Foundation.lgamma(Double(alpha + 1)) - Foundation.lgamma(Double(k + 1))
                - Foundation.lgamma(Double(alpha - k + 1))
            let sampling = (k > 0 ? Double(k) * Foundation.log(q) : 0)
                + (alpha > k ? Double(alpha - k) * Foundation.log1p(-q) : 0)
            terms.append(binomial + sampling + Double(k * k - k) / (2 * sigma * sigma))
        }
        let top = terms.max()!
        let logA = top + Foundation.log(terms.reduce(0) { $0 + Foundation.exp($1 - top) })
        return Swift.max(0, logA) / Double(alpha - 1)
    }

    /// ε after `steps` steps at δ, minimized over the integer orders 2…256, and the order that gave it.
    public static func epsilon(steps: Int, samplingRate q: Double, noiseMultiplier sigma: Double,
                               delta: Double) -> (epsilon: Double, order: Int) {
        precondition(delta > 0 && delta < 1, "PrivacyAccountant.epsilon: δ is \(delta); it must lie in (0, 1)")
        var best = (epsilon: Double.infinity, order: 2)
        for alpha in 2...256 {
            let e = Double(steps) * renyiCost(order: alpha, samplingRate: q, noiseMultiplier: sigma)
                + Foundation.log(1 / delta) / Double(alpha - 1)
            if e < best.epsilon { best = (e, alpha) }
        }
        return best
    }
}

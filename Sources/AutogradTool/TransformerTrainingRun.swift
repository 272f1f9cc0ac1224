import Autograd
import AutogradNN
import Foundation

/// The settings of `autograd train transformer`. The defaults are what the command runs.
public struct TransformerTrainingOptions: Sendable {
    /// Gradient steps.
    public var steps = 400
    /// Windows per step.
    public var batchSize = 32
    /// Characters of context (the window length).
    public var context = 64
    /// Width of the token vectors.
    public var width = 64
    /// Attention heads per block.
    public var headCount = 4
    /// Transformer blocks.
    public var blockCount = 2
    /// Adam's peak learning rate (after a linear warm-up of 5 % of the steps, a cosine decay to zero).
    public var learningRate = 3e-3
    /// Seed of the initial parameters, the windows drawn and the sample.
    public var seed: UInt64 = 1
    /// Characters sampled after training.
    public var sampleLength = 240

    /// The defaults.
    public init() {}
}

/// A character-level language model: token and position embeddings, pre-norm causal transformer blocks, a final
/// layer norm and a linear map to the characters' logits.
struct CharacterModel: Parameterized, Sendable {
    typealias Scalar = Float
    var tokens: Embedding<Float>
    var positions: Tensor<Float>
    var blocks: [TransformerBlock<Float>]
    var norm: LayerNorm<Float>
    var head: Linear<Float>

    init(vocabulary: Int, options: TransformerTrainingOptions, using rng: inout SeededGenerator) {
        let d = options.width
        tokens = Embedding(weight: Tensor<Float>(randomNormal: [vocabulary, d], using: &rng) * 0.1)
        positions = Tensor<Float>(randomNormal: [options.context, d], using: &rng) * 0.1
        blocks = (0..<options.blockCount).map { _ in
            TransformerBlock(width: d, headCount: options.headCount, causal: true, using: &rng)
        }
        norm = LayerNorm(featureCount: d)
        head = Linear(inputSize: d, outputSize: vocabulary, using: &rng)
    }

    var parameterPaths: [ParameterPath<CharacterModel>] {
        var paths = parameterPaths(of: \.tokens, named: "tokens")
        paths.append(ParameterPath("positions", \.positions))
        for b in blocks.indices { paths += parameterPaths(of: \.blocks[b], named: "blocks.\(b)") }
        return paths + parameterPaths(of: \.norm, named: "norm") + parameterPaths(of: \.head, named: "head")
    }

    /// Logits [B, T, V] for token windows [B, T] (T ≤ context).
    func callAsFunction(_ x: Tensor<Int32>) -> Tensor<Float> {
        let t = x.shape[1]
        var h = tokens(x) + positions[0..<t]
        for block in blocks { h = block(h) }
        return head(norm(h))
    }
}

/// `autograd train transformer`: a small causal transformer trained on *Pride and Prejudice* (shipped with
/// AutogradNN) to predict each next character; the validation loss is compared with the unigram baseline (the
/// cross-entropy of the validation text under the training text's character frequencies), and text is sampled.
public struct TransformerTrainingRun: Sendable {
    /// The settings used.
    public let options: TransformerTrainingOptions
    /// Mean cross-entropy (nats per character) on the validation windows after training.
    public let validationLoss: Double
    /// The same before training (about ln V).
    public let initialValidationLoss: Double
    /// The unigram baseline on the validation text, nats per character.
    public let unigramLoss: Double
    /// The mean training loss of the last 20 steps.
    public let trainingLoss: Double
    /// Text sampled after training, from the prompt.
    public let sample: String
    /// The prompt the sample continues.
    public static let prompt = "Elizabeth"
    /// Wall-clock seconds of training.
    public let seconds: Double
    /// The number of trainable numbers.
    public let parameterCount: Int
    /// Training loss every 20 steps: (step, loss).
    public let history: [(step: Int, loss: Double)]

    /// Trains, evaluates and samples. `progress(step, steps, loss)` is called after every step.
    public init(options: TransformerTrainingOptions = TransformerTrainingOptions(),
                progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws {
        self.options = options
        let text = try PrideAndPrejudice.text()
        let vocabulary = CharacterVocabulary(text)
        let codes = vocabulary.encode(text)
        let split = codes.count * 9 / 10
        let (training, validation) = (Array(codes[..<split]), Array(codes[split...]))
        let t = options.context, v = vocabulary.count

        // The unigram baseline: validation characters under the training text's frequencies (add-one smoothed).
        var counts = [Double](repeating: 1, count: v)
        for c in training { counts[c] += 1 }
        let total = counts.reduce(0, +)
        unigramLoss = validation.reduce(0.0) { $0 - Foundation.log(counts[$1] / total) } / Double(validation.count)

        var rng = SeededGenerator(seed: options.seed)
        var model = CharacterModel(vocabulary: v, options: options, using: &rng)
        parameterCount = model.parameterScalarCount

        func batch(_ source: [Int], starts: [Int]) -> (Tensor<Int32>, [Int]) {
            var inputs: [Int] = [], targets: [Int] = []
            for s in starts {
                inputs += source[s..<(s + t)]
                targets += source[(s + 1)...(s + t)]
            }
            return (Tensor<Int32>(shape: [starts.count, t], scalars: inputs), targets)
        }
        func loss(_ m: CharacterModel, _ x: Tensor<Int32>, _ y: [Int]) -> Tensor<Float> {
            crossEntropy(logits: m(x).reshaped(to: [y.count, v]), labels: y)
        }
        // Fixed validation windows, evenly spaced.
        let windows = 32
        let stride = (validation.count - t - 1) / windows
        let (vx, vy) = batch(validation, starts: (0..<windows).map { $0 * stride })
        func validate(_ m: CharacterModel) -> Double {
            withLayerMode(.inference) { withoutRecording { Double(loss(m, vx, vy).scalar) } }
        }
        initialValidationLoss = validate(model)

        var optimizer = Adam<Float>(learningRate: Float(options.learningRate))
        let schedule = LinearWarmup(steps: Swift.max(1, options.steps / 20),
                                    then: CosineDecay(initial: Float(options.learningRate),
                                                      totalSteps: Swift.max(1, options.steps - options.steps / 20)))
        let start = Timing.now()
        var recent: [Double] = [], history: [(step: Int, loss: Double)] = []
        for step in 0..<options.steps {
            let starts = (0..<options.batchSize).map { _ in Int(rng.next() % UInt64(training.count - t - 1)) }
            let (x, y) = batch(training, starts: starts)
            let (value, g) = try valueWithGradients(at: model) { m in loss(m, x, y) }
            optimizer.learningRate = schedule(step)
            optimizer.update(&model, along: clippedByGlobalNorm(g, maxNorm: 1).gradients)
            let l = Double(value.scalar)
            recent = Array((recent + [l]).suffix(20))
            if (step + 1) % 20 == 0 { history.append((step + 1, recent.reduce(0, +) / Double(recent.count))) }
            progress(step + 1, options.steps, l)
        }
        seconds = Timing.now() - start
        trainingLoss = recent.isEmpty ? initialValidationLoss : recent.reduce(0, +) / Double(recent.count)
        self.history = history
        validationLoss = validate(model)

        // Sampling at temperature 0.8, the last `context` characters as the window.
        var generated = vocabulary.encode(Self.prompt)
        withLayerMode(.inference) {
            withoutRecording {
                for _ in 0..<options.sampleLength {
                    let window = Array(generated.suffix(t))
                    let logits = model(Tensor<Int32>(shape: [1, window.count], scalars: window))
                    let last = Array(logits.scalars.suffix(v)).map { Double($0) / 0.8 }
                    let top = last.max() ?? 0
                    let weights = last.map { Foundation.exp($0 - top) }
                    var u = Double(rng.next() >> 11) * 0x1p-53 * weights.reduce(0, +)
                    var pick = v - 1
                    for (k, w) in weights.enumerated() {
                        u -= w
                        if u < 0 { pick = k; break }
                    }
                    generated.append(pick)
                }
            }
        }
        sample = vocabulary.decode(generated)
    }

    /// The JSON object of `autograd train transformer --json`.
    public var json: [String: Any] {
        ["validation_loss": validationLoss, "unigram_loss": unigramLoss, "sample": sample,
         "initial_validation_loss": initialValidationLoss, "training_loss": trainingLoss, "steps": options.steps,
         "seconds": seconds, "parameters": parameterCount, "context": options.context, "width": options.width,
         "blocks": options.blockCount, "heads": options.headCount,
         "history": history.map { ["step": $0.step, "loss": $0.loss] }]
    }

    /// The training loss curve, with the unigram baseline and the final validation loss, as SVG.
    public var svg: String {
        let steps = history.map { Double($0.step) }
        let last = Double(options.steps)
        return SVGChart(panels: [
            .init(title: "Character-level language model", xLabel: "step", yLabel: "nats per character", series: [
                .init(name: "training (20-step mean)", points: Array(zip(steps, history.map(\.loss))), color: "#1f77b4"),
                .init(name: "unigram baseline", points: [(0, unigramLoss), (last, unigramLoss)], color: "#7f7f7f"),
                .init(name: "validation, end", points: [(last, validationLoss)], color: "#d62728", dots: true),
            ]),
        ], panelWidth: 640).svg
    }
}

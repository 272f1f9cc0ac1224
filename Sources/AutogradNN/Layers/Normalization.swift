import Autograd
import Synchronization

/// Layer normalization over the last axis with a learned scale and offset, as PyTorch's `nn.LayerNorm(d)`:
/// y = (x − μ) / √(σ² + ε) · weight + bias, μ and σ² the mean and population variance of each row.
///
/// Shapes: input [..., featureCount], output the same; `weight` and `bias` [featureCount], initialized to ones
/// and zeros. Computes the same in training and inference. Cost: a few passes over the input (see the core's
/// `layerNorm`).
public struct LayerNorm<Scalar: TensorScalar>: Layer, Sendable {
    /// The scale γ, shape [featureCount].
    public var weight: Tensor<Scalar>
    /// The offset β, shape [featureCount].
    public var bias: Tensor<Scalar>
    /// ε, added to the variance before the square root.
    public let epsilon: Scalar

    /// A layer for rows of `featureCount` features: weight ones, bias zeros. Stops if `featureCount` is negative.
    public init(featureCount: Int, epsilon: Scalar = 1e-5, file: StaticString = #fileID, line: UInt = #line) {
        if featureCount < 0 {
            operationFailure("LayerNorm(featureCount:)", "featureCount is \(featureCount) but must not be negative",
                             at: CallSite(file: file, line: line))
        }
        weight = Tensor(ones: [featureCount])
        bias = Tensor(zeros: [featureCount])
        self.epsilon = epsilon
    }

    /// `weight`, then `bias`.
    public var parameterPaths: [ParameterPath<LayerNorm>] {
        [ParameterPath("weight", read: { $0.weight }, write: { $0.weight = $1 }, keyPath: { \.weight }),
         ParameterPath("bias", read: { $0.bias }, write: { $0.bias = $1 }, keyPath: { \.bias })]
    }

    /// The normalized input, shaped like it. Stops, naming the shapes, if its last axis is not featureCount.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        layerNorm(input, scale: weight, offset: bias, epsilon: epsilon)
    }
}

/// Batch normalization over the features of [N, C] inputs (or the channels of [N, C, L]), as PyTorch's
/// `nn.BatchNorm1d(C)`: y = (x − μ) / √(σ² + ε) · weight + bias per channel.
///
/// In ``LayerMode/training`` (the default), μ and σ² are the batch's statistics and each call updates the
/// running statistics: running ← (1 − momentum) · running + momentum · batch (the unbiased variance, as PyTorch).
/// In ``LayerMode/inference``, μ and σ² are the running statistics, unchanged. A training call on a batch with
/// one value per channel stops, naming the shapes (its variance is undefined): use inference mode for single
/// examples.
///
/// The running statistics are state, not parameters: they are not in ``parameterPaths`` (an optimizer does not
/// change them) and carry no derivative. They live in a shared reference, so copies of a layer (the model an
/// optimizer returns, a closure's capture) update the same statistics; make a new layer for independent ones.
public struct BatchNorm<Scalar: TensorScalar>: Layer, Sendable {
    /// The scale γ, shape [featureCount], initialized to ones.
    public var weight: Tensor<Scalar>
    /// The offset β, shape [featureCount], initialized to zeros.
    public var bias: Tensor<Scalar>
    /// The weight of the newest batch in the running statistics (PyTorch's default 0.1).
    public let momentum: Scalar
    /// ε, added to the variance before the square root.
    public let epsilon: Scalar
    private let statistics: RunningStatistics<Scalar>

    /// A layer for `featureCount` features: weight ones, bias zeros, running mean zeros, running variance ones.
    /// Stops if `featureCount` is negative or `momentum` is outside [0, 1].
    public init(featureCount: Int, momentum: Scalar = 0.1, epsilon: Scalar = 1e-5, file: StaticString = #fileID,
                line: UInt = #line) {
        if featureCount < 0 || !(momentum >= 0 && momentum <= 1) {
            operationFailure("BatchNorm(featureCount:momentum:epsilon:)", "featureCount is \(featureCount) and "
                + "momentum \(momentum), but featureCount must not be negative and momentum must be in [0, 1]",
                at: CallSite(file: file, line: line))
        }
        weight = Tensor(ones: [featureCount])
        bias = Tensor(zeros: [featureCount])
        self.momentum = momentum
        self.epsilon = epsilon
        statistics = RunningStatistics(mean: Tensor(zeros: [featureCount]), variance: Tensor(ones: [featureCount]))
    }

    /// The running mean, shape [featureCount].
    public var runningMean: Tensor<Scalar> { statistics.state.withLock { $0.mean } }
    /// The running variance, shape [featureCount].
    public var runningVariance: Tensor<Scalar> { statistics.state.withLock { $0.variance } }

    /// Replaces the running statistics (for example with ones read from a file). Stops if a shape is not
    /// [featureCount].
    public func setRunningStatistics(mean: Tensor<Scalar>, variance: Tensor<Scalar>, file: StaticString = #fileID,
                                     line: UInt = #line) {
        let c = weight.count
        if mean.shape != [c] || variance.shape != [c] {
            operationFailure("BatchNorm.setRunningStatistics(mean:variance:)", "got mean \(describe(mean.shape)) and "
                + "variance \(describe(variance.shape)) but the layer has \(c) features, so both must be [\(c)]",
                at: CallSite(file: file, line: line))
        }
        statistics.state.withLock { $0 = (mean.detached(), variance.detached()) }
    }

    /// `weight`, then `bias`.
    public var parameterPaths: [ParameterPath<BatchNorm>] {
        [ParameterPath("weight", read: { $0.weight }, write: { $0.weight = $1 }, keyPath: { \.weight }),
         ParameterPath("bias", read: { $0.bias }, write: { $0.bias = $1 }, keyPath: { \.bias })]
    }

    /// The normalized input, shaped like it ([N, C] or [N, C, L]), in the current ``LayerMode``.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        let training = LayerMode.current == .training
        return statistics.state.withLock { state in
            let r = batchNorm(input, runningMean: state.mean, runningVariance: state.variance, scale: weight,
                              offset: bias, training: training, momentum: momentum, epsilon: epsilon)
            state = (r.runningMean, r.runningVariance)
            return r.output
        }
    }
}

/// Batch normalization's running mean and variance, shared by copies of a layer.
final class RunningStatistics<Scalar: TensorScalar>: Sendable {
    let state: Mutex<(mean: Tensor<Scalar>, variance: Tensor<Scalar>)>
    init(mean: Tensor<Scalar>, variance: Tensor<Scalar>) { state = Mutex((mean, variance)) }
}

/// Dropout as a layer, as PyTorch's `nn.Dropout(p)`: in ``LayerMode/training`` each element is dropped (set to
/// 0) with probability p and the others scaled by 1/(1 − p); in ``LayerMode/inference`` the input unchanged.
///
/// The masks come from a seeded generator the layer owns, so a run is reproducible: the n-th call of a layer
/// made with a given seed draws the same mask. Copies of the layer share the generator (and so continue one
/// sequence). No parameters. Shapes: output shaped like input.
public struct Dropout<Scalar: TensorScalar>: Layer, Sendable {
    /// p, the probability that an element is dropped.
    public let probability: Scalar
    private let generator: SharedGenerator

    /// A layer that drops with probability `probability`, its masks drawn from a generator seeded with `seed`.
    /// Stops if the probability is outside [0, 1].
    public init(probability: Scalar, seed: UInt64 = 0, file: StaticString = #fileID, line: UInt = #line) {
        if !(probability >= 0 && probability <= 1) {
            operationFailure("Dropout(probability:seed:)", "the probability is \(probability) but must be in [0, 1] "
                + "(the chance that an element is dropped; 0.1 is common)", at: CallSite(file: file, line: line))
        }
        self.probability = probability
        generator = SharedGenerator(seed: seed)
    }

    /// None.
    public var parameterPaths: [ParameterPath<Dropout>] { [] }

    /// The input with dropout applied in training mode; the input itself in inference mode.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        guard LayerMode.current == .training, probability > 0 else { return input }
        return generator.state.withLock { dropout(input, probability: probability, using: &$0) }
    }
}

/// A seeded generator shared by copies of a ``Dropout`` layer.
final class SharedGenerator: Sendable {
    let state: Mutex<SeededGenerator>
    init(seed: UInt64) { state = Mutex(SeededGenerator(seed: seed)) }
}

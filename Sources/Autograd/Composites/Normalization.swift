// Statistics (variance, standard deviation) and the normalizations of neural networks (layer, RMS, group and batch
// normalization). All are composites of primitives (sum, subtract, multiply, pow, ...), so their derivatives of
// every order, in both modes, come from those primitives' rules; each is written with one mean and one mean of
// squares (two reductions), the fewest passes that keep the variance's two-pass accuracy. The article
// "Normalization" gives the formulas and the modes of batch normalization.

extension Tensor where Scalar: TensorScalar {
    /// The variance along the given axes, Σ (x − x̄)² / (n − correction), n the number of elements reduced.
    ///
    /// `correction` 1 (the default, as PyTorch's `var`) gives the unbiased sample variance; 0 gives the population
    /// variance (NumPy's default, `ddof=0`). When n ≤ correction the division is by zero or a negative number:
    /// the result is NaN (n = correction = 1 gives 0/0, as PyTorch). Two passes (the mean, then the squares of the
    /// deviations), so it is accurate even when the mean is large against the spread.
    /// Composite of `mean`, `subtract`, `pow` and `sum`. Shape: the input's with the axes removed (or kept as 1).
    public func variance(alongAxes axes: [Int], correction: Int = 1, keepingDimensions: Bool = false,
                         file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let a = Shape.axes(axes, rank: rank, "variance(alongAxes:)", at: CallSite(file: file, line: line))
        let n = a.reduce(1) { $0 * shape[$1] }
        let deviation = self - mean(alongAxes: a, keepingDimensions: true, file: file, line: line)
        return deviation.squared().sum(alongAxes: a, keepingDimensions: keepingDimensions, file: file, line: line)
            / Scalar(n - correction)
    }

    /// The variance along the given axes (variadic form).
    public func variance(alongAxes axes: Int..., correction: Int = 1, keepingDimensions: Bool = false,
                         file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        variance(alongAxes: axes, correction: correction, keepingDimensions: keepingDimensions, file: file, line: line)
    }

    /// The variance of all elements, a 0-d tensor (see ``variance(alongAxes:correction:keepingDimensions:file:line:)-([Int],_,_,_,_)``).
    public func variance(correction: Int = 1) -> Tensor { variance(alongAxes: Array(0..<rank), correction: correction) }

    /// The standard deviation along the given axes, √variance (same `correction` as
    /// ``variance(alongAxes:correction:keepingDimensions:file:line:)-([Int],_,_,_,_)``). Composite of `variance`
    /// and `sqrt`; its derivative is infinite where all the elements are equal (as √ at 0).
    public func standardDeviation(alongAxes axes: [Int], correction: Int = 1, keepingDimensions: Bool = false,
                                  file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.sqrt(variance(alongAxes: axes, correction: correction, keepingDimensions: keepingDimensions,
                               file: file, line: line), file: file, line: line)
    }

    /// The standard deviation along the given axes (variadic form).
    public func standardDeviation(alongAxes axes: Int..., correction: Int = 1, keepingDimensions: Bool = false,
                                  file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        standardDeviation(alongAxes: axes, correction: correction, keepingDimensions: keepingDimensions,
                          file: file, line: line)
    }

    /// The standard deviation of all elements, a 0-d tensor.
    public func standardDeviation(correction: Int = 1) -> Tensor {
        standardDeviation(alongAxes: Array(0..<rank), correction: correction)
    }

    /// (x − mean) / √(variance + ε) over the axes `a` (kept), the population variance: the core of every
    /// normalization here.
    func standardized(_ a: [Int], epsilon: Scalar, file: StaticString, line: UInt) -> Tensor {
        let deviation = self - mean(alongAxes: a, keepingDimensions: true, file: file, line: line)
        let v = deviation.squared().mean(alongAxes: a, keepingDimensions: true, file: file, line: line)
        return deviation * Autograd.pow(v + epsilon, -0.5, file: file, line: line)
    }
}

/// Checks that an optional affine parameter (`scale` γ or `offset` β) has the shape the normalization needs.
private func checkAffine<Scalar: TensorScalar>(_ t: Tensor<Scalar>?, _ what: String, expected: [Int],
                                               _ operation: String, input: [Int], _ loc: CallSite) {
    guard let t, t.shape != expected else { return }
    operationFailure(operation, "the \(what) has shape \(describe(t.shape)) but the input \(describe(input)) "
        + "needs a \(what) of shape \(describe(expected)), one value per normalized feature", at: loc)
}

/// Layer normalization: y = (x − μ) / √(σ² + ε) · γ + β, with μ and σ² the mean and the (population) variance of
/// each example over its last `trailingAxes` axes, as PyTorch's `layer_norm` with `normalized_shape` the last
/// `trailingAxes` dimensions.
///
/// Shapes: x [..., d₁, …, dₖ] (k = `trailingAxes`); `scale` γ and `offset` β, when given, [d₁, …, dₖ];
/// the result is shaped like x. A row of one element normalizes to 0 (then β). Zero-size inputs give zero-size
/// results. Stops if x has fewer than k axes or γ, β have other shapes.
/// The normalization is one primitive (`layerNorm`: three passes over each row forward, two for each rule), then
/// `multiply` by γ and `add` β.
public func layerNorm<Scalar: TensorScalar>(_ x: Tensor<Scalar>, scale: Tensor<Scalar>? = nil,
                                            offset: Tensor<Scalar>? = nil, trailingAxes: Int = 1,
                                            epsilon: Scalar = 1e-5, file: StaticString = #fileID,
                                            line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    let operation = "layerNorm(_:scale:offset:trailingAxes:epsilon:)"
    if trailingAxes < 1 || trailingAxes > x.rank {
        operationFailure(operation, "trailingAxes is \(trailingAxes) but the input \(describe(x.shape)) has "
            + "\(x.rank) axes; normalize over 1 to \(x.rank) of its last axes (1, the feature axis, is usual)",
            at: loc)
    }
    let features = Array(x.shape.suffix(trailingAxes))
    checkAffine(scale, "scale", expected: features, operation, input: x.shape, loc)
    checkAffine(offset, "offset", expected: features, operation, input: x.shape, loc)
    // The primitive normalizes the last axis: the trailing axes flattened into one.
    let rowShape = Array(x.shape.prefix(x.rank - trailingAxes)) + [features.reduce(1, *)]
    var y = Tensor<Scalar>(unchecked: layerNormalized(x.base.reshaped(rowShape, at: loc), epsilon: epsilon.doubleValue,
                                              at: loc))
        .reshaped(to: x.shape, file: file, line: line)
    if let scale { y = y * scale }
    if let offset { y = y + offset }
    return y
}

/// Root-mean-square normalization: y = x / √(mean(x²) + ε) · γ, the mean over the last axis (no centring, no
/// offset), as PyTorch's `rms_norm` over the last dimension and LLaMA's RMSNorm.
///
/// Shapes: x [..., d]; `scale` γ, when given, [d]; the result is shaped like x. Stops if x is 0-d or γ has
/// another shape. ε defaults to 10⁻⁶. Composite (square, mean, add, pow, multiply).
public func rmsNorm<Scalar: TensorScalar>(_ x: Tensor<Scalar>, scale: Tensor<Scalar>? = nil, epsilon: Scalar = 1e-6,
                                          file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    let operation = "rmsNorm(_:scale:epsilon:)"
    if x.rank == 0 {
        operationFailure(operation, "the input is 0-d but must have a feature axis (its last); reshape it to [1]",
                         at: loc)
    }
    checkAffine(scale, "scale", expected: [x.shape[x.rank - 1]], operation, input: x.shape, loc)
    let meanSquare = x.squared().mean(alongAxes: [-1], keepingDimensions: true, file: file, line: line)
    let y = x * pow(meanSquare + epsilon, -0.5, file: file, line: line)
    return scale.map { y * $0 } ?? y
}

/// Group normalization: the channels of each example split into `groups` groups of C / groups channels, each
/// group normalized over its channels and every position, y = (x − μ) / √(σ² + ε) · γ + β, as PyTorch's
/// `group_norm`.
///
/// Shapes: x [N, C, ...] (any number of spatial axes, including none); `scale` γ and `offset` β, when given, [C]
/// (one per channel, applied after normalizing); the result is shaped like x. `groups` 1 is layer normalization
/// over everything but the batch axis; `groups` C is instance normalization. Stops if x has fewer than two axes,
/// C is not a multiple of `groups`, or γ, β have other shapes. Composite, as ``layerNorm(_:scale:offset:trailingAxes:epsilon:file:line:)``.
public func groupNorm<Scalar: TensorScalar>(_ x: Tensor<Scalar>, groups: Int, scale: Tensor<Scalar>? = nil,
                                            offset: Tensor<Scalar>? = nil, epsilon: Scalar = 1e-5,
                                            file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    let operation = "groupNorm(_:groups:scale:offset:epsilon:)"
    if x.rank < 2 {
        operationFailure(operation, "the input has shape \(describe(x.shape)) but must be [N, C, ...] (a batch "
            + "axis, then channels)", at: loc)
    }
    let c = x.shape[1]
    if groups < 1 || c % groups != 0 {
        operationFailure(operation, "groups is \(groups) but must be a positive divisor of the \(c) channels of "
            + "the input \(describe(x.shape))", at: loc)
    }
    checkAffine(scale, "scale", expected: [c], operation, input: x.shape, loc)
    checkAffine(offset, "offset", expected: [c], operation, input: x.shape, loc)
    let n = x.shape[0], perGroup = x.count / Swift.max(n * groups, 1)
    var y = x.reshaped(to: [n, groups, perGroup], file: file, line: line)
        .standardized([2], epsilon: epsilon, file: file, line: line)
        .reshaped(to: x.shape, file: file, line: line)
    let channelShape = [c] + [Int](repeating: 1, count: x.rank - 2)
    if let scale { y = y * scale.reshaped(to: channelShape) }
    if let offset { y = y + offset.reshaped(to: channelShape) }
    return y
}

/// Batch normalization's functional form: y = (x − μ) / √(σ² + ε) · γ + β per channel (axis 1), with its
/// statistics and updated running statistics, as PyTorch's `batch_norm`.
///
/// - In training (`training: true`), μ and σ² are the mean and the population variance of the batch over every
///   axis but the channel axis, so derivatives flow through them. The running statistics returned are
///   (1 − momentum) · running + momentum · batch statistic, with the *unbiased* variance (as PyTorch), detached:
///   they carry no derivative.
/// - In inference (`training: false`), μ and σ² are `runningMean` and `runningVariance`, and the running
///   statistics are returned unchanged.
///
/// Shapes: x [N, C] or [N, C, L, ...]; `runningMean`, `runningVariance`, `scale` γ and `offset` β [C]; the output
/// is shaped like x. Stops, naming the shapes, if they do not fit, or in training when each channel has only one
/// value (N · L = 1): its variance is undefined, so use inference mode for a single example, or a larger batch.
/// Composite, as ``layerNorm(_:scale:offset:trailingAxes:epsilon:file:line:)``.
public func batchNorm<Scalar: TensorScalar>(
    _ x: Tensor<Scalar>, runningMean: Tensor<Scalar>, runningVariance: Tensor<Scalar>, scale: Tensor<Scalar>? = nil,
    offset: Tensor<Scalar>? = nil, training: Bool, momentum: Scalar = 0.1, epsilon: Scalar = 1e-5,
    file: StaticString = #fileID, line: UInt = #line
) -> (output: Tensor<Scalar>, runningMean: Tensor<Scalar>, runningVariance: Tensor<Scalar>) {
    let loc = CallSite(file: file, line: line)
    let operation = "batchNorm(_:runningMean:runningVariance:scale:offset:training:momentum:epsilon:)"
    if x.rank < 2 {
        operationFailure(operation, "the input has shape \(describe(x.shape)) but must be [N, C] or [N, C, L, ...] "
            + "(a batch axis, then channels); for one example of C features, reshape it to [1, C]", at: loc)
    }
    let c = x.shape[1]
    for (t, what) in [(runningMean, "running mean"), (runningVariance, "running variance")] where t.shape != [c] {
        operationFailure(operation, "the \(what) has shape \(describe(t.shape)) but the input \(describe(x.shape)) "
            + "has \(c) channels (axis 1), so it must be [\(c)]", at: loc)
    }
    checkAffine(scale, "scale", expected: [c], operation, input: x.shape, loc)
    checkAffine(offset, "offset", expected: [c], operation, input: x.shape, loc)
    let axes = [0] + Array(2..<x.rank)
    let perChannel = axes.reduce(1) { $0 * x.shape[$1] }
    let channelShape = [c] + [Int](repeating: 1, count: x.rank - 2)
    var y: Tensor<Scalar>
    var newMean = runningMean, newVariance = runningVariance
    if training {
        if perChannel == 1 {
            operationFailure(operation, "in training mode each channel needs more than one value, but the input "
                + "\(describe(x.shape)) has one per channel, so its batch variance is undefined; train with a "
                + "batch of two or more examples, or use inference mode (training: false, the running statistics) "
                + "for a single example", at: loc)
        }
        let mean = x.mean(alongAxes: axes, keepingDimensions: true, file: file, line: line)
        let deviation = x - mean
        let v = deviation.squared().mean(alongAxes: axes, keepingDimensions: true, file: file, line: line)
        y = deviation * pow(v + epsilon, -0.5, file: file, line: line)
        if perChannel > 0 {
            let batchMean = mean.detached().reshaped(to: [c])
            let unbiased = v.detached().reshaped(to: [c]) * (Scalar(perChannel) / Scalar(perChannel - 1))
            newMean = runningMean.detached() * (1 - momentum) + batchMean * momentum
            newVariance = runningVariance.detached() * (1 - momentum) + unbiased * momentum
        }
    } else {
        y = (x - runningMean.reshaped(to: channelShape))
            * pow(runningVariance.reshaped(to: channelShape) + epsilon, -0.5, file: file, line: line)
    }
    if let scale { y = y * scale.reshaped(to: channelShape) }
    if let offset { y = y + offset.reshaped(to: channelShape) }
    return (y, newMean, newVariance)
}

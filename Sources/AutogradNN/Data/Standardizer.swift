import Autograd

/// Feature scaling to zero mean and unit variance, fitted on one set of examples (the training set) and then
/// applied unchanged to any other (the test set), as scikit-learn's `StandardScaler`:
///
///     x′ᵢⱼ = (xᵢⱼ − μⱼ) / σⱼ,   μⱼ = mean of column j,   σⱼ = √(mean of (xᵢⱼ − μⱼ)²)
///
/// σ is the population standard deviation (dividing by N); a constant column gets σ = 1, so it maps to 0
/// instead of NaN. Shapes: fitted on [N, F]; μ and σ are [F]; applies to [M, F] (any M).
public struct Standardizer<Scalar: TensorScalar>: Sendable {
    /// μ, the mean of each feature over the fitted examples, [F].
    public let mean: Tensor<Scalar>
    /// σ, the standard deviation of each feature over the fitted examples (1 for a constant feature), [F].
    public let standardDeviation: Tensor<Scalar>

    /// Fits μ and σ to `features` [N, F] (N ≥ 1). The statistics are constants: no derivative flows into them.
    public init(fittingTo features: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) {
        if features.rank != 2 || features.shape[0] == 0 {
            operationFailure("Standardizer(fittingTo:)", "features have shape \(describe(features.shape)) but must be "
                + "[N, F] with at least one example", at: CallSite(file: file, line: line))
        }
        let x = features.detached()
        let mu = x.mean(alongAxes: 0)
        let sigma = sqrt((x - mu).squared().mean(alongAxes: 0))
        mean = mu
        standardDeviation = Tensor.where(sigma .== 0, 1, sigma)
    }

    /// (x − μ) / σ for `features` [M, F], shaped like them. Stops if F differs from the fitted data's.
    public func callAsFunction(_ features: Tensor<Scalar>, file: StaticString = #fileID,
                               line: UInt = #line) -> Tensor<Scalar> {
        if features.rank != 2 || features.shape[1] != mean.count {
            operationFailure("Standardizer", "features have shape \(describe(features.shape)) but the standardizer was "
                + "fitted to \(mean.count) features, so they must be [M, \(mean.count)]",
                at: CallSite(file: file, line: line))
        }
        return (features - mean) / standardDeviation
    }

    /// The data set with its features standardized (labels and names unchanged).
    public func callAsFunction(_ data: LabeledDataset<Scalar>) -> LabeledDataset<Scalar> {
        LabeledDataset(features: self(data.features), labels: data.labels, featureNames: data.featureNames,
                       labelName: data.labelName, classCount: data.classCount)
    }
}

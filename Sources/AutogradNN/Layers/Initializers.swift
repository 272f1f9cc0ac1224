import Autograd

// Weight initializers, as PyTorch's `nn.init` functions. The fans come from the shape the way PyTorch computes
// them: for a weight [out, in, k₁, k₂, …], fanIn = in · k₁ · k₂ ⋯ and fanOut = out · k₁ · k₂ ⋯ (a ``Linear``
// weight [out, in] has fanIn = in, fanOut = out).

extension Tensor where Scalar: TensorScalar {
    /// Samples from U(−a, a) with a = gain · √(6 / (fanIn + fanOut)): Glorot and Bengio's (Xavier) uniform
    /// initialization, as PyTorch's `xavier_uniform_`. Keeps the variance of activations and gradients about
    /// the same across a layer with a symmetric activation (tanh). Stops if `shape` has fewer than two axes.
    public init<G: RandomNumberGenerator>(xavierUniform shape: [Int], gain: Scalar = 1, using generator: inout G,
                                          file: StaticString = #fileID, line: UInt = #line) {
        let (fanIn, fanOut) = fans(shape, "Tensor(xavierUniform:gain:using:)", file, line)
        let a = gain * (6 / Scalar(Swift.max(fanIn + fanOut, 1))).squareRoot()
        self = Tensor.uniform(shape, bound: a, &generator)
    }

    /// Samples from N(0, σ²) with σ = gain · √(2 / (fanIn + fanOut)): Xavier normal initialization, as PyTorch's
    /// `xavier_normal_`. Stops if `shape` has fewer than two axes.
    public init<G: RandomNumberGenerator>(xavierNormal shape: [Int], gain: Scalar = 1, using generator: inout G,
                                          file: StaticString = #fileID, line: UInt = #line) {
        let (fanIn, fanOut) = fans(shape, "Tensor(xavierNormal:gain:using:)", file, line)
        let sigma = gain * (2 / Scalar(Swift.max(fanIn + fanOut, 1))).squareRoot()
        self.init(randomNormal: shape, standardDeviation: sigma, using: &generator)
    }

    /// Samples from U(−b, b) with b = gain · √(3 / fanIn): He's (Kaiming) uniform initialization in PyTorch's
    /// `fan_in` mode, `kaiming_uniform_`. The default gain √2 suits ReLU layers (it keeps the variance of the
    /// activations through the layer). Stops if `shape` has fewer than two axes.
    public init<G: RandomNumberGenerator>(kaimingUniform shape: [Int], gain: Scalar = Scalar(2).squareRoot(),
                                          using generator: inout G, file: StaticString = #fileID, line: UInt = #line) {
        let (fanIn, _) = fans(shape, "Tensor(kaimingUniform:gain:using:)", file, line)
        self = Tensor.uniform(shape, bound: gain * (3 / Scalar(Swift.max(fanIn, 1))).squareRoot(), &generator)
    }

    /// Samples from N(0, σ²) with σ = gain / √fanIn: Kaiming normal initialization (`fan_in` mode), as PyTorch's
    /// `kaiming_normal_`; the default gain √2 suits ReLU layers. Stops if `shape` has fewer than two axes.
    public init<G: RandomNumberGenerator>(kaimingNormal shape: [Int], gain: Scalar = Scalar(2).squareRoot(),
                                          using generator: inout G, file: StaticString = #fileID, line: UInt = #line) {
        let (fanIn, _) = fans(shape, "Tensor(kaimingNormal:gain:using:)", file, line)
        self.init(randomNormal: shape, standardDeviation: gain / Scalar(Swift.max(fanIn, 1)).squareRoot(),
                  using: &generator)
    }

    private static func uniform<G: RandomNumberGenerator>(_ shape: [Int], bound: Scalar, _ generator: inout G)
        -> Tensor {
        bound > 0 ? Tensor(randomUniform: shape, in: -bound ..< bound, using: &generator) : Tensor(zeros: shape)
    }
}

/// (fanIn, fanOut) of a weight of this shape, as PyTorch computes them.
private func fans(_ shape: [Int], _ operation: String, _ file: StaticString, _ line: UInt) -> (Int, Int) {
    if shape.count < 2 {
        operationFailure(operation, "the shape \(describe(shape)) has fewer than two axes, so it has no fan-in and "
            + "fan-out; a weight is [outputSize, inputSize, ...] (initialize a bias with zeros or uniformly)",
            at: CallSite(file: file, line: line))
    }
    let receptive = shape.dropFirst(2).reduce(1, *)
    return (shape[1] * receptive, shape[0] * receptive)
}

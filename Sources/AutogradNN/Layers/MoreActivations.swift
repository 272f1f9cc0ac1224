import Autograd

// Activation layers for transformers and modern networks, each applying the core library's function of the same
// name (an elementwise primitive). None has parameters. Shapes: output shaped like input.

/// GELU elementwise, x Φ(x) (the core's `gelu`), exact or in its tanh approximation.
public struct GELU<Scalar: TensorScalar>: Layer, Sendable {
    /// Which form to compute.
    public let approximation: GELUApproximation
    /// The layer (no parameters); the exact form by default, as PyTorch's `nn.GELU()`.
    public init(approximation: GELUApproximation = .exact) { self.approximation = approximation }
    /// None.
    public var parameterPaths: [ParameterPath<GELU>] { [] }
    /// gelu(x), shaped like x.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> { gelu(input, approximation: approximation) }
}

/// x σ(x) elementwise (the core's `silu`, also called swish).
public struct SiLU<Scalar: TensorScalar>: Layer, Sendable {
    /// The layer (no parameters).
    public init() {}
    /// None.
    public var parameterPaths: [ParameterPath<SiLU>] { [] }
    /// silu(x), shaped like x.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> { silu(input) }
}

/// Leaky ReLU elementwise: x for x > 0, else `negativeSlope` · x (the core's `leakyRelu`).
public struct LeakyReLU<Scalar: TensorScalar>: Layer, Sendable {
    /// The slope for negative inputs.
    public let negativeSlope: Scalar
    /// The layer (no parameters), PyTorch's default slope 0.01.
    public init(negativeSlope: Scalar = 0.01) { self.negativeSlope = negativeSlope }
    /// None.
    public var parameterPaths: [ParameterPath<LeakyReLU>] { [] }
    /// leakyRelu(x), shaped like x.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        leakyRelu(input, negativeSlope: negativeSlope)
    }
}

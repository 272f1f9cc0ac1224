import Autograd

// Activation functions as layers, for use in `Sequential` and as fields of models. Each applies the core library's
// elementwise function of the same name (a primitive with its own derivative rules); in plain code, call the
// function directly: `relu(x)`, `tanh(x)`, `sigmoid(x)`. None has parameters. Shapes: output shaped like input.

/// max(x, 0) elementwise (the core's `relu`, whose derivative at 0 is taken as 0, as PyTorch and JAX do).
public struct ReLU<Scalar: TensorScalar>: Layer, Sendable {
    /// The layer (no parameters).
    public init() {}
    /// None.
    public var parameterPaths: [ParameterPath<ReLU>] { [] }
    /// relu(x), shaped like x.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> { relu(input) }
}

/// tanh x elementwise (the core's `tanh`; derivative 1 − tanh²x).
public struct Tanh<Scalar: TensorScalar>: Layer, Sendable {
    /// The layer (no parameters).
    public init() {}
    /// None.
    public var parameterPaths: [ParameterPath<Tanh>] { [] }
    /// tanh(x), shaped like x.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> { tanh(input) }
}

/// The logistic function σ(x) = 1/(1 + e⁻ˣ) elementwise (the core's `sigmoid`, computed without overflow).
///
/// To train a binary classifier, end the model with its logits and use ``binaryCrossEntropy(logits:targets:weights:reduction:file:line:)``,
/// which is more accurate than a `Sigmoid` layer followed by the loss on probabilities.
public struct Sigmoid<Scalar: TensorScalar>: Layer, Sendable {
    /// The layer (no parameters).
    public init() {}
    /// None.
    public var parameterPaths: [ParameterPath<Sigmoid>] { [] }
    /// σ(x), shaped like x.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> { sigmoid(input) }
}

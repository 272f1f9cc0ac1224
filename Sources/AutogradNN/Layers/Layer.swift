import Autograd

/// A differentiable function of one tensor with trainable parameters: the building block of models.
///
/// A layer maps an input tensor to an output tensor with operations of the core library, so derivatives of
/// anything computed from its output, in either mode, come for free. It lists its parameters as a
/// ``Parameterized`` value does (a layer without parameters returns `[]`).
///
/// Layers compose as plain structs (a field per sub-layer, see ``Parameterized``) or with ``Sequential``:
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let model = Sequential {
///     Linear<Float>(inputSize: 30, outputSize: 16, using: &rng)
///     ReLU<Float>()
///     Linear<Float>(inputSize: 16, outputSize: 1, using: &rng)
/// }
/// let logits = model(x)                       // x: [N, 30] → [N, 1]
/// ```
///
/// A function that returns a model spells its type with the element type, `some Layer<Float>`: a bare
/// `some Layer` hides the type of the tensors the model takes, so nothing could be passed to it. See the article
/// "A training loop".
public protocol Layer<Scalar>: Parameterized {
    /// Applies the layer. Shapes are the layer's to document; layers here accept leading batch dimensions.
    func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar>
}

import Autograd

/// Per-example gradients with respect to every parameter of a model, from a loss written for ONE example:
///
///     ℓᵢ = loss(model, examplesᵢ)        gradients[k][i] = ∂ℓᵢ/∂θₖ        shape [N] + θₖ.shape
///
/// in ``Parameterized/parameterPaths`` order; examplesᵢ is slice i along axis 0 of every tensor in `examples`.
/// This is the core library's `perExampleGradients(of:at:over:mode:)` applied to `model.parameters`, with the
/// model rebuilt from them inside: reverse mode (one batched forward and reverse pass, the example axis kept in
/// every parameter's cotangent) when the model has more parameter elements than there are examples, forward mode
/// otherwise; the result's `mode` says which ran. The loss must return one element and must not read the values
/// of the example tensors (pass class labels as one-hot rows).
/// - Complexity: reverse mode, a small multiple of one gradient of the batch's loss.
public func perExampleGradients<Model: Parameterized>(
    of loss: (_ model: Model, _ example: [Tensor<Model.Scalar>]) throws -> Tensor<Model.Scalar>, at model: Model,
    over examples: [Tensor<Model.Scalar>], mode: PerExampleMode = .automatic
) throws -> PerExampleGradients<Model.Scalar> {
    try perExampleGradients(of: { parameters, example in
        try loss(model.replacingParameters(with: parameters), example)
    }, at: model.parameters, over: examples, mode: mode)
}

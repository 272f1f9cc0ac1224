/// Per-example gradients: for a function that returns one loss per example, ℓ = f(w) with shape [N], the gradient
/// of each example's loss with respect to the parameters, stacked:
///
///     result[i, …] = ∂ℓᵢ/∂w[…]        shape [N] + w.shape
///
/// This is the Jacobian ∂ℓ/∂w (for the motivating example: [100] + [1, 2] = [100, 1, 2]). It is computed in ONE
/// forward pass that carries one tangent per parameter (the columns of the identity): every number computed is an
/// entry of some ∂ℓᵢ/∂w, none is spent on cross-example blocks ∂ℓᵢ/∂(data of example k ≠ i) that are zero by
/// construction. Reverse mode would push N one-hot cotangents back through every layer, and for one-loss-per-example
/// functions all but one block of each is zero.
///
/// Cost: about P forward evaluations' worth of arithmetic (P = number of parameters), vectorized into one pass —
/// ideal when P is small next to N (a few weights, many examples, as in the motivating problem). For models with
/// very many parameters, write the loss for one example and use ``perExampleGradients(of:at:over:mode:)``, which
/// works in reverse mode (`vmap` of the gradient) and knows the example axis, which this batch form cannot.
/// - Throws: ``AutogradError/outputShapeMismatch(call:expected:actual:)`` if f's output is not one-dimensional.
public func perExampleGradients<Scalar: TensorScalar>(
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at w: Tensor<Scalar>
) throws -> Tensor<Scalar> {
    try perExampleGradients(of: { try f($0[0]) }, at: [w])[0]
}

/// Per-example gradients with respect to several parameter tensors: result j has shape [N] + wⱼ.shape, with
/// result j[i, …] = ∂ℓᵢ/∂wⱼ[…]. One forward pass carrying one tangent per scalar parameter (see the single-tensor
/// form for when this is the right tool).
public func perExampleGradients<Scalar: TensorScalar>(
    of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>, at parameters: [Tensor<Scalar>]
) throws -> [Tensor<Scalar>] {
    let call = "perExampleGradients(of:at:)"
    let r = try Jacobians.compute(at: parameters.map(\.base), strategy: .forward) { xs in
        let y = try f(xs.map { Tensor(unchecked: $0) }).base
        if y.rank != 1 {
            throw AutogradError.outputShapeMismatch(call: call, expected: "one loss per example, shape [N]",
                                                    actual: y.shape)
        }
        return [y]
    }
    return r.jacobians.map { Tensor(unchecked: $0) }
}

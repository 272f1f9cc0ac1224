/// How per-example gradients are computed (see ``perExampleGradients(of:at:over:mode:)``).
public enum PerExampleMode: String, Sendable, CaseIterable {
    /// Reverse mode when the parameters have more elements than there are examples, forward mode otherwise.
    case automatic
    /// One batched forward and one batched reverse pass (`vmap` of `gradient`): the example axis stays in every
    /// parameter's cotangent, so a dense layer's weight gradient is one outer product per example, never summed.
    /// Cost: a small multiple of one gradient of the batch, whatever the number of parameters.
    case reverse
    /// One forward pass carrying one tangent per parameter element through the batched losses (a forward-mode
    /// Jacobian of the N losses). Cost: about P evaluations of the batch's losses for P parameter elements.
    case forward
}

/// Per-example losses and gradients, and the mode that computed them.
public struct PerExampleGradients<Scalar: TensorScalar>: Sendable {
    /// ℓᵢ, the loss of each example: shape [N].
    public let losses: Tensor<Scalar>
    /// One tensor per parameter, shape [N] + the parameter's shape: gradients[j][i] = ∂ℓᵢ/∂θⱼ.
    public let gradients: [Tensor<Scalar>]
    /// The mode used: ``PerExampleMode/reverse`` or ``PerExampleMode/forward`` (never `.automatic`).
    public let mode: PerExampleMode
}

/// Per-example gradients of a loss written for ONE example: for examples i = 0 ..< N (slice i along axis 0 of
/// every tensor in `examples`),
///
///     ℓᵢ = loss(θ, examplesᵢ)        gradients[j][i] = ∂ℓᵢ/∂θⱼ        shape [N] + θⱼ.shape
///
/// `loss` receives the parameters and one example (each example tensor without its leading axis) and returns a
/// one-element tensor. Class labels are passed as tensors too (one-hot rows, or any encoding computed with tensor
/// operations): `loss` must not read values of the example tensors (see ``vmap(over:inAxes:outAxes:of:)-([AnyTensor],_,_,_)``).
///
/// `mode` `.automatic` picks ``PerExampleMode/reverse`` when the parameters have more elements than there are
/// examples (models), ``PerExampleMode/forward`` otherwise (a few parameters, many examples); the result says
/// which ran. Reverse mode is `vmap` of `valueWithGradients`: one trace of the loss at one example's size, then one
/// batched forward and reverse pass. Forward mode is the forward-mode Jacobian of the vectorized losses.
///
/// Use this form when the loss is naturally written per example; ``perExampleGradients(of:at:)-(_,[Tensor<Scalar>])``
/// takes a function of the whole batch returning N losses and always works in forward mode.
///
/// ```swift
/// let r = try perExampleGradients(of: { p, ex in loss(p, ex[0], ex[1]) }, at: parameters, over: [x, oneHot])
/// // r.gradients[0]: [N] + parameters[0].shape;  r.mode == .reverse for a model with many weights
/// ```
/// - Throws: ``AutogradError/vmapMisuse(reason:)`` if the example tensors do not have the same leading size, and
///   ``AutogradError/outputShapeMismatch(call:expected:actual:)`` if `loss` does not return one element.
public func perExampleGradients<Scalar: TensorScalar>(
    of loss: (_ parameters: [Tensor<Scalar>], _ example: [Tensor<Scalar>]) throws -> Tensor<Scalar>,
    at parameters: [Tensor<Scalar>], over examples: [Tensor<Scalar>], mode: PerExampleMode = .automatic
) throws -> PerExampleGradients<Scalar> {
    let call = "perExampleGradients(of:at:over:)"
    let p = parameters.count, m = examples.count
    let n = examples.first?.shape.first ?? 0
    let chosen: PerExampleMode = mode != .automatic ? mode
        : (parameters.reduce(0) { $0 + $1.count } > n ? .reverse : .forward)
    func checked(_ y: Tensor<Scalar>) throws -> AnyTensor {
        guard y.count == 1 else {
            throw AutogradError.outputShapeMismatch(call: call, expected: "a one-element loss for one example",
                                                    actual: y.shape)
        }
        return y.base.reshaped([])
    }
    let inAxes: [Int?] = [Int?](repeating: 0, count: m) + [Int?](repeating: nil, count: p)
    if chosen == .reverse {
        let r = try VMap.run(inputs: examples.map(\.base) + parameters.map(\.base), inAxes: inAxes, outAxes: nil,
                             unmappedOutputs: .broadcast) { xs in
            let example = xs[..<m].map { Tensor<Scalar>(unchecked: $0) }
            let theta = xs[m...].map { Tensor<Scalar>(unchecked: $0) }
            var value: AnyTensor?
            let g = try gradients(at: theta) { t in
                let y = try loss(t, example)
                value = try checked(y)
                return y
            }
            return [value!] + g.map(\.base)
        }
        return PerExampleGradients(losses: Tensor(unchecked: r.outputs[0]),
                                   gradients: r.outputs.dropFirst().map { Tensor(unchecked: $0) }, mode: .reverse)
    }
    let r = try Jacobians.compute(at: parameters.map(\.base), strategy: .forward) { theta in
        try VMap.run(inputs: examples.map(\.base) + theta, inAxes: inAxes, outAxes: [0],
                     unmappedOutputs: .broadcast) { xs in
            let example = xs[..<m].map { Tensor<Scalar>(unchecked: $0) }
            return [try checked(try loss(xs[m...].map { Tensor(unchecked: $0) }, example))]
        }.outputs
    }
    return PerExampleGradients(losses: Tensor(unchecked: r.value.value), gradients: r.jacobians.map { Tensor(unchecked: $0) },
                               mode: .forward)
}

import Autograd

/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight decay, following
/// PyTorch's `torch.optim.SGD` step for step. At step t, for each parameter θ with gradient g:
///
///     g ← g + λ θ                                   if weightDecay λ ≠ 0   (L2 penalty λ/2 ‖θ‖²)
///     b ← g                                         at t = 1               if momentum μ ≠ 0
///     b ← μ b + (1 − τ) g                           at t > 1               (τ = dampening)
///     g ← g + μ b   (nesterov)   or   g ← b         (otherwise)
///     θ ← θ − γ g                                                          (γ = learningRate)
///
/// With μ = 0 this is plain gradient descent, θ ← θ − γ (g + λθ). State: one momentum buffer b per parameter
/// (when μ ≠ 0). Cost per step: a few elementwise operations per parameter element.
public struct SGD<Scalar: TensorScalar>: Optimizer {
    /// γ, the step size.
    public var learningRate: Scalar
    /// μ, the momentum factor (0: none).
    public let momentum: Scalar
    /// τ, the fraction of each new gradient left out of the momentum buffer (0: none).
    public let dampening: Scalar
    /// Whether to use Nesterov momentum (g + μ b instead of b).
    public let nesterov: Bool
    /// λ, the L2 penalty coefficient added to the gradient as λθ (0: none).
    public let weightDecay: Scalar
    /// The momentum buffers b, one per parameter, after the last step (nil before the first, or without momentum).
    public private(set) var momentumBuffers: [Tensor<Scalar>]?
    /// The number of steps taken.
    public private(set) var step = 0

    /// An optimizer with PyTorch's defaults except the learning rate, which must be given. Nesterov momentum needs
    /// μ > 0 and τ = 0, and no setting may be negative (as in PyTorch; the program stops otherwise).
    public init(learningRate: Scalar, momentum: Scalar = 0, dampening: Scalar = 0, nesterov: Bool = false,
                weightDecay: Scalar = 0, file: StaticString = #fileID, line: UInt = #line) {
        let loc = CallSite(file: file, line: line)
        for (name, value) in [("learningRate", learningRate), ("momentum", momentum), ("weightDecay", weightDecay)]
        where !(value >= 0) {
            operationFailure("SGD", "\(name) must be 0 or more, got \(value)", at: loc)
        }
        if nesterov && (momentum <= 0 || dampening != 0) {
            operationFailure("SGD", "Nesterov momentum needs momentum > 0 and dampening 0, got momentum \(momentum) and "
                + "dampening \(dampening)", at: loc)
        }
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    /// One SGD step on every parameter (formulas above).
    /// (The requirement of ``Optimizer``; named calls use the extension's form, which reports the caller's line.)
    @_disfavoredOverload
    public mutating func update(_ parameters: inout [Tensor<Scalar>], along gradients: [Tensor<Scalar>]) {
        checkStep("SGD.update(_:along:)", parameters, gradients, state: momentumBuffers)
        step += 1
        withoutRecording {
            var buffers: [Tensor<Scalar>] = []
            for k in parameters.indices {
                let theta = parameters[k].detached()
                var g = gradients[k].detached()
                if weightDecay != 0 { g = g + theta * weightDecay }
                if momentum != 0 {
                    let b = momentumBuffers.map { $0[k] * momentum + g * (1 - dampening) } ?? g
                    buffers.append(b)
                    g = nesterov ? g + b * momentum : b
                }
                parameters[k] = (theta - g * learningRate).detached()
            }
            if momentum != 0 { momentumBuffers = buffers }
        }
    }
}

extension SGD: StatefulOptimizer {
    /// Kind `"SGD"`, the step count and, with momentum, slot `"momentum"`: the buffers b.
    public var state: OptimizerState<Scalar> {
        OptimizerState(kind: Self.kindName, step: step, slots: momentumBuffers.map { ["momentum": $0] } ?? [:])
    }

    /// Restores the step count and the momentum buffers (required once a step with momentum was taken).
    public mutating func restore(_ state: OptimizerState<Scalar>) throws {
        let buffers = try stateSlot(state, "momentum", kind: Self.kindName, required: momentum != 0 && state.step > 0)
        step = state.step
        momentumBuffers = momentum != 0 ? buffers : nil
    }
}

import Autograd
import Foundation

/// Adam (Kingma & Ba, 2015) with optional L2 weight decay, following PyTorch's `torch.optim.Adam` (without
/// `amsgrad`). At step t = 1, 2, …, for each parameter θ with gradient g:
///
///     g ← g + λ θ                                   if weightDecay λ ≠ 0 (an L2 penalty, added to the gradient)
///     m ← β₁ m + (1 − β₁) g                         (m₀ = 0)
///     v ← β₂ v + (1 − β₂) g²                        (v₀ = 0)
///     θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// The last line is PyTorch's arrangement of θ ← θ − γ m̂ / (√v̂ + ε) with the bias-corrected moments
/// m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ); the bias corrections are computed in Double. Because λθ goes through
/// the moments, large-gradient parameters are decayed less; ``AdamW`` decouples the decay instead.
/// State: m and v per parameter. Cost per step: about ten elementwise operations per parameter element.
public struct Adam<Scalar: TensorScalar>: Optimizer {
    /// γ, the step size.
    public var learningRate: Scalar
    /// β₁, the decay rate of the first-moment (mean) estimate.
    public let beta1: Scalar
    /// β₂, the decay rate of the second-moment (uncentered variance) estimate.
    public let beta2: Scalar
    /// ε, added to the denominator for numerical stability.
    public let epsilon: Scalar
    /// λ, the L2 penalty coefficient added to the gradient as λθ (0: none).
    public let weightDecay: Scalar
    /// The moment estimates and the step count.
    public private(set) var moments = AdamMoments<Scalar>()

    /// An optimizer with PyTorch's defaults: γ = 10⁻³, β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸, λ = 0. Stops if a setting is
    /// out of range (γ, ε, λ ≥ 0 and 0 ≤ β < 1, as PyTorch requires).
    public init(learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8,
                weightDecay: Scalar = 0, file: StaticString = #fileID, line: UInt = #line) {
        checkAdamSettings("Adam", learningRate, beta1, beta2, epsilon, weightDecay, at: CallSite(file: file, line: line))
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// One Adam step on every parameter (formulas above).
    /// (The requirement of ``Optimizer``; named calls use the extension's form, which reports the caller's line.)
    @_disfavoredOverload
    public mutating func update(_ parameters: inout [Tensor<Scalar>], along gradients: [Tensor<Scalar>]) {
        checkStep("Adam.update(_:along:)", parameters, gradients, state: moments.first)
        let decay = weightDecay
        let gradients = decay == 0 ? gradients : withoutRecording {
            zip(gradients, parameters).map { $0.detached() + $1.detached() * decay }
        }
        moments.step(&parameters, gradients, learningRate, beta1, beta2, epsilon)
    }
}

/// AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, following PyTorch's `torch.optim.AdamW`.
/// At step t, for each parameter θ with gradient g:
///
///     θ ← θ − γ λ θ                                 (decay applied to the parameter, not the gradient)
///     m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
///     θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// Every parameter shrinks by the same factor (1 − γλ) per step, whatever its gradient, unlike ``Adam``'s L2
/// term. State and cost as Adam.
public struct AdamW<Scalar: TensorScalar>: Optimizer {
    /// γ, the step size.
    public var learningRate: Scalar
    /// β₁, the decay rate of the first-moment estimate.
    public let beta1: Scalar
    /// β₂, the decay rate of the second-moment estimate.
    public let beta2: Scalar
    /// ε, added to the denominator for numerical stability.
    public let epsilon: Scalar
    /// λ, the decoupled weight decay: each step multiplies θ by (1 − γλ) first.
    public let weightDecay: Scalar
    /// The moment estimates and the step count.
    public private(set) var moments = AdamMoments<Scalar>()

    /// An optimizer with PyTorch's defaults: γ = 10⁻³, β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸, λ = 10⁻². Stops if a setting
    /// is out of range (as for ``Adam``).
    public init(learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8,
                weightDecay: Scalar = 1e-2, file: StaticString = #fileID, line: UInt = #line) {
        checkAdamSettings("AdamW", learningRate, beta1, beta2, epsilon, weightDecay,
                          at: CallSite(file: file, line: line))
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// One AdamW step on every parameter (formulas above).
    /// (The requirement of ``Optimizer``; named calls use the extension's form, which reports the caller's line.)
    @_disfavoredOverload
    public mutating func update(_ parameters: inout [Tensor<Scalar>], along gradients: [Tensor<Scalar>]) {
        checkStep("AdamW.update(_:along:)", parameters, gradients, state: moments.first)
        if weightDecay != 0 {
            let shrink = 1 - learningRate * weightDecay
            parameters = withoutRecording { parameters.map { ($0.detached() * shrink).detached() } }
        }
        moments.step(&parameters, gradients, learningRate, beta1, beta2, epsilon)
    }
}

/// The state Adam and AdamW share: first and second moment estimates per parameter and the step count.
public struct AdamMoments<Scalar: TensorScalar>: Sendable {
    /// m, the running mean of the gradients, one per parameter (nil before the first step).
    public private(set) var first: [Tensor<Scalar>]?
    /// v, the running mean of the squared gradients, one per parameter (nil before the first step).
    public private(set) var second: [Tensor<Scalar>]?
    /// t, the number of steps taken.
    public private(set) var step = 0

    /// No steps taken.
    init() {}

    /// The moments of a saved state (see ``OptimizerState``): slots `"first"` and `"second"`, required after a step.
    init(_ state: OptimizerState<Scalar>, kind: String) throws {
        let first = try stateSlot(state, "first", kind: kind, required: state.step > 0)
        let second = try stateSlot(state, "second", kind: kind, required: state.step > 0)
        self.first = first
        self.second = second
        self.step = state.step
    }

    /// The state Adam and AdamW save: the step count and slots `"first"` (m) and `"second"` (v).
    func state(kind: String) -> OptimizerState<Scalar> {
        var slots: [String: [Tensor<Scalar>]] = [:]
        if let first { slots["first"] = first }
        if let second { slots["second"] = second }
        return OptimizerState(kind: kind, step: step, slots: slots)
    }

    /// The moment updates and the bias-corrected step (shared by Adam and AdamW).
    mutating func step(_ parameters: inout [Tensor<Scalar>], _ gradients: [Tensor<Scalar>], _ lr: Scalar,
                       _ beta1: Scalar, _ beta2: Scalar, _ epsilon: Scalar) {
        step += 1
        let t = Double(step)
        let correction1 = 1 - Foundation.pow(Double(beta1), t)
        let correction2Root = (1 - Foundation.pow(Double(beta2), t)).squareRoot()
        let stepSize = Scalar(Double(lr) / correction1)
        withoutRecording {
            var m: [Tensor<Scalar>] = [], v: [Tensor<Scalar>] = []
            for k in parameters.indices {
                let g = gradients[k].detached()
                let mk = (first.map { $0[k] * beta1 } ?? Tensor(zerosLike: g)) + g * (1 - beta1)
                let vk = (second.map { $0[k] * beta2 } ?? Tensor(zerosLike: g)) + g.squared() * (1 - beta2)
                let denominator = sqrt(vk) / Scalar(correction2Root) + epsilon
                parameters[k] = (parameters[k].detached() - mk / denominator * stepSize).detached()
                m.append(mk.detached())
                v.append(vk.detached())
            }
            first = m
            second = v
        }
    }
}

/// Stops unless the Adam settings are in PyTorch's accepted ranges.
func checkAdamSettings<Scalar: TensorScalar>(_ op: String, _ lr: Scalar, _ beta1: Scalar, _ beta2: Scalar,
                                             _ epsilon: Scalar, _ weightDecay: Scalar, at loc: CallSite) {
    for (name, value) in [("learningRate", lr), ("epsilon", epsilon), ("weightDecay", weightDecay)]
    where !(value >= 0) {
        operationFailure(op, "\(name) must be 0 or more, got \(value)", at: loc)
    }
    for (name, value) in [("beta1", beta1), ("beta2", beta2)] where !(value >= 0 && value < 1) {
        operationFailure(op, "\(name) must lie in [0, 1), got \(value)", at: loc)
    }
}

extension Adam: StatefulOptimizer {
    /// Kind `"Adam"`, the step count t and slots `"first"` (m) and `"second"` (v).
    public var state: OptimizerState<Scalar> { moments.state(kind: Self.kindName) }
    /// Restores t, m and v.
    public mutating func restore(_ state: OptimizerState<Scalar>) throws {
        moments = try AdamMoments(state, kind: Self.kindName)
    }
}

extension AdamW: StatefulOptimizer {
    /// Kind `"AdamW"`, the step count t and slots `"first"` (m) and `"second"` (v).
    public var state: OptimizerState<Scalar> { moments.state(kind: Self.kindName) }
    /// Restores t, m and v.
    public mutating func restore(_ state: OptimizerState<Scalar>) throws {
        moments = try AdamMoments(state, kind: Self.kindName)
    }
}

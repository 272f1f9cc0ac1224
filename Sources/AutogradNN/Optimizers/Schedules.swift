import Autograd
import Foundation

/// A learning rate as a function of the step number (0 for the first update), set on an optimizer before each
/// step:
///
///     optimizer.learningRate = schedule(step)
///
/// Schedules are plain values; ``LinearWarmup`` wraps another one. The formulas are PyTorch's `StepLR`,
/// `CosineAnnealingLR` (its closed form) and a linear warm-up (`LinearLR` from a start factor to 1).
public protocol LearningRateSchedule<Scalar>: Sendable {
    /// The element type of the learning rate.
    associatedtype Scalar: TensorScalar
    /// The learning rate for step `step` (0, 1, 2, …).
    func callAsFunction(_ step: Int) -> Scalar
}

/// ηₜ = η₀ · factor^⌊t / stepSize⌋: the rate multiplied by `factor` every `stepSize` steps (PyTorch's `StepLR`).
public struct StepDecay<Scalar: TensorScalar>: LearningRateSchedule {
    /// η₀, the rate of the first `stepSize` steps.
    public let initial: Scalar
    /// The number of steps between two decays.
    public let stepSize: Int
    /// The factor applied at each decay (0.1 is common).
    public let factor: Scalar

    /// A schedule starting at `initial`, multiplied by `factor` every `stepSize` steps. Stops if `stepSize` is
    /// not positive.
    public init(initial: Scalar, stepSize: Int, factor: Scalar = 0.1, file: StaticString = #fileID,
                line: UInt = #line) {
        if stepSize < 1 {
            operationFailure("StepDecay(initial:stepSize:factor:)", "stepSize is \(stepSize) but must be at least 1",
                             at: CallSite(file: file, line: line))
        }
        self.initial = initial
        self.stepSize = stepSize
        self.factor = factor
    }

    /// η₀ · factor^⌊step / stepSize⌋.
    public func callAsFunction(_ step: Int) -> Scalar {
        initial * Scalar(Foundation.pow(factor.doubleValue, Double(Swift.max(step, 0) / stepSize)))
    }
}

/// ηₜ = η_min + ½ (η₀ − η_min) (1 + cos(π t / T)) for t ≤ T, then η_min: a half cosine from `initial` down to
/// `minimum` over `totalSteps` steps (the closed form of PyTorch's `CosineAnnealingLR`, without restarts).
public struct CosineDecay<Scalar: TensorScalar>: LearningRateSchedule {
    /// η₀, the rate at step 0.
    public let initial: Scalar
    /// η_min, the rate from step `totalSteps` on.
    public let minimum: Scalar
    /// T, the number of steps of the decay.
    public let totalSteps: Int

    /// A schedule from `initial` to `minimum` over `totalSteps` steps. Stops if `totalSteps` is not positive.
    public init(initial: Scalar, minimum: Scalar = 0, totalSteps: Int, file: StaticString = #fileID,
                line: UInt = #line) {
        if totalSteps < 1 {
            operationFailure("CosineDecay(initial:minimum:totalSteps:)", "totalSteps is \(totalSteps) but must be "
                + "at least 1", at: CallSite(file: file, line: line))
        }
        self.initial = initial
        self.minimum = minimum
        self.totalSteps = totalSteps
    }

    /// η_min + ½ (η₀ − η_min) (1 + cos(π · min(step, T) / T)).
    public func callAsFunction(_ step: Int) -> Scalar {
        let t = Double(Swift.min(Swift.max(step, 0), totalSteps)) / Double(totalSteps)
        return minimum + (initial - minimum) * Scalar((1 + Foundation.cos(Double.pi * t)) / 2)
    }
}

/// A linear warm-up in front of another schedule: for t < W steps, ηₜ = after(0) · (t + 1) / W, rising to the
/// wrapped schedule's first rate; from step W on, after(t − W).
public struct LinearWarmup<After: LearningRateSchedule>: LearningRateSchedule {
    /// The element type of the learning rate.
    public typealias Scalar = After.Scalar
    /// W, the number of warm-up steps.
    public let steps: Int
    /// The schedule after the warm-up, started at its step 0.
    public let after: After

    /// `steps` steps of linear warm-up, then `after`. Stops if `steps` is negative.
    public init(steps: Int, then after: After, file: StaticString = #fileID, line: UInt = #line) {
        if steps < 0 {
            operationFailure("LinearWarmup(steps:then:)", "steps is \(steps) but must not be negative",
                             at: CallSite(file: file, line: line))
        }
        self.steps = steps
        self.after = after
    }

    /// after(0) · (step + 1) / W during the warm-up, then after(step − W).
    public func callAsFunction(_ step: Int) -> Scalar {
        step < steps ? after(0) * Scalar(Swift.max(step, 0) + 1) / Scalar(steps) : after(step - steps)
    }
}

/// Gradients rescaled so that their global norm ‖g‖ = √(Σₖ Σ gₖ²), over every tensor together, is at most
/// `maxNorm`: each multiplied by maxNorm / (‖g‖ + 10⁻⁶) when ‖g‖ exceeds maxNorm, unchanged otherwise (PyTorch's
/// `clip_grad_norm_`). Returns the gradients and their norm before clipping (worth logging: a growing norm warns
/// of divergence). A NaN or infinite norm leaves the gradients unchanged and is returned for the caller to act
/// on. Values only: nothing is recorded. Stops if `maxNorm` is negative or NaN.
public func clippedByGlobalNorm<Scalar: TensorScalar>(
    _ gradients: [Tensor<Scalar>], maxNorm: Scalar, file: StaticString = #fileID, line: UInt = #line
) -> (gradients: [Tensor<Scalar>], norm: Scalar) {
    if !(maxNorm >= 0) {
        operationFailure("clippedByGlobalNorm(_:maxNorm:)", "maxNorm is \(maxNorm) but must be a non-negative "
            + "number (1 is common)", at: CallSite(file: file, line: line))
    }
    return withoutRecording {
        let squares = gradients.reduce(0.0) { $0 + $1.detached().squared().sum().scalar.doubleValue }
        let norm = squares.squareRoot()
        guard norm.isFinite, norm > maxNorm.doubleValue else {
            return (gradients.map { $0.detached() }, Scalar(norm))
        }
        let factor = Scalar(maxNorm.doubleValue / (norm + 1e-6))
        return (gradients.map { $0.detached() * factor }, Scalar(norm))
    }
}

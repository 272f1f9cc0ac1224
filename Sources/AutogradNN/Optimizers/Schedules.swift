import Autograd
import Foundation

/// A learning rate that changes with the step count: set `optimizer.learningRate` from ``rate(atStep:)`` before each
/// step. Schedules are values (no hidden state), so a resumed run recomputes its rate from the step count alone.
///
/// ```swift
/// let schedule = WarmUp(steps: 100, then: CosineDecay(initialRate: 1e-3, totalSteps: 5_000))
/// for step in 0..<5_000 {
///     optimizer.learningRate = Float(schedule.rate(atStep: step))
///     optimizer.update(&model, along: try gradients(at: model, of: loss))
/// }
/// ```
public protocol LearningRateSchedule: Sendable {
    /// The learning rate for step `step` (0 for the first step).
    func rate(atStep step: Int) -> Double
}

/// Multiplies the rate by `factor` every `stepSize` steps (PyTorch's `StepLR`):
///
///     rate(t) = initialRate · factor^⌊t / stepSize⌋
public struct StepDecay: LearningRateSchedule {
    /// The rate of the first `stepSize` steps.
    public let initialRate: Double
    /// How many steps each rate lasts.
    public let stepSize: Int
    /// The factor applied after each `stepSize` steps (0.1 is usual).
    public let factor: Double

    /// Stops unless `stepSize` ≥ 1, the rate ≥ 0 and the factor in (0, 1].
    public init(initialRate: Double, stepSize: Int, factor: Double = 0.1, file: StaticString = #fileID,
                line: UInt = #line) {
        if stepSize < 1 || !(initialRate >= 0) || !(factor > 0 && factor <= 1) {
            operationFailure("StepDecay", "got initialRate \(initialRate), stepSize \(stepSize), factor \(factor); "
                + "it needs a rate ≥ 0, a step size ≥ 1 and a factor in (0, 1]", at: CallSite(file: file, line: line))
        }
        self.initialRate = initialRate
        self.stepSize = stepSize
        self.factor = factor
    }

    /// initialRate · factor^⌊t / stepSize⌋.
    public func rate(atStep step: Int) -> Double {
        initialRate * Foundation.pow(factor, Double(Swift.max(step, 0) / stepSize))
    }
}

/// Cosine annealing from `initialRate` down to `finalRate` over `totalSteps` (PyTorch's `CosineAnnealingLR`
/// without restarts), then constant:
///
///     rate(t) = finalRate + (initialRate − finalRate) · (1 + cos(π · min(t, T) / T)) / 2
public struct CosineDecay: LearningRateSchedule {
    /// The rate at step 0.
    public let initialRate: Double
    /// T, the step at which the rate reaches ``finalRate``.
    public let totalSteps: Int
    /// The rate from step T on.
    public let finalRate: Double

    /// Stops unless `totalSteps` ≥ 1 and 0 ≤ finalRate ≤ initialRate.
    public init(initialRate: Double, totalSteps: Int, finalRate: Double = 0, file: StaticString = #fileID,
                line: UInt = #line) {
        if totalSteps < 1 || !(finalRate >= 0 && finalRate <= initialRate) {
            operationFailure("CosineDecay", "got initialRate \(initialRate), totalSteps \(totalSteps), finalRate "
                + "\(finalRate); it needs totalSteps ≥ 1 and 0 ≤ finalRate ≤ initialRate",
                at: CallSite(file: file, line: line))
        }
        self.initialRate = initialRate
        self.totalSteps = totalSteps
        self.finalRate = finalRate
    }

    /// finalRate + (initialRate − finalRate) · (1 + cos(π · min(t, T) / T)) / 2.
    public func rate(atStep step: Int) -> Double {
        let t = Double(Swift.min(Swift.max(step, 0), totalSteps)) / Double(totalSteps)
        return finalRate + (initialRate - finalRate) * (1 + Foundation.cos(Double.pi * t)) / 2
    }
}

/// Linear warm-up: the rate grows from `schedule`'s first rate / `steps` to its full value over the first `steps`
/// steps, then follows `schedule`, shifted so that it starts where the warm-up ends:
///
///     rate(t) = schedule.rate(0) · (t + 1) / steps     for t < steps
///     rate(t) = schedule.rate(t − steps)               after
public struct WarmUp<Schedule: LearningRateSchedule>: LearningRateSchedule {
    /// The number of warm-up steps.
    public let steps: Int
    /// The schedule that follows.
    public let schedule: Schedule

    /// Stops unless `steps` ≥ 0.
    public init(steps: Int, then schedule: Schedule, file: StaticString = #fileID, line: UInt = #line) {
        if steps < 0 {
            operationFailure("WarmUp", "got \(steps) warm-up steps; it needs 0 or more", at: CallSite(file: file, line: line))
        }
        self.steps = steps
        self.schedule = schedule
    }

    /// The warm-up ramp, then the schedule (formulas above).
    public func rate(atStep step: Int) -> Double {
        step < steps ? schedule.rate(atStep: 0) * Double(step + 1) / Double(steps) : schedule.rate(atStep: step - steps)
    }
}

/// A constant rate (for ``WarmUp`` into a constant rate).
public struct ConstantRate: LearningRateSchedule {
    /// The rate at every step.
    public let rate: Double
    /// A schedule that always returns `rate`.
    public init(_ rate: Double) { self.rate = rate }
    /// `rate`.
    public func rate(atStep step: Int) -> Double { rate }
}

/// Scales gradients so that their global norm is at most `maxNorm` (PyTorch's `clip_grad_norm_`):
///
///     n = sqrt(Σₖ ‖gₖ‖²)          over every tensor and element
///     gₖ ← gₖ · maxNorm / (n + 1e-6)    if n > maxNorm, else unchanged
///
/// Returns the (possibly scaled) gradients and n, the norm before clipping (log it: spikes show instability).
/// Cost: one pass over the gradients for the norm and one to scale. Values only: nothing is recorded. Stops if
/// `maxNorm` is not positive; a non-finite norm leaves the gradients unchanged and is returned as it is (check it
/// to skip such a step).
public func clippedByGlobalNorm<Scalar: TensorScalar>(_ gradients: [Tensor<Scalar>], maxNorm: Double,
                                                     file: StaticString = #fileID, line: UInt = #line)
    -> (gradients: [Tensor<Scalar>], norm: Double) {
    if !(maxNorm > 0) {
        operationFailure("clippedByGlobalNorm(_:maxNorm:)", "maxNorm is \(maxNorm); it must be positive",
                         at: CallSite(file: file, line: line))
    }
    return withoutRecording {
        var sum = 0.0
        for g in gradients { for x in g.detached().scalars { sum += Double(x) * Double(x) } }
        let norm = sum.squareRoot()
        guard norm > maxNorm, norm.isFinite else { return (gradients, norm) }
        let scale = Scalar(maxNorm / (norm + 1e-6))
        return (gradients.map { ($0.detached() * scale).detached() }, norm)
    }
}

import Autograd
import Foundation

/// The problem this library was built for, with its data from a fixed seed.
///
/// Per-example losses of a one-layer network: x is [100, 2] data, w is [1, 2] weights,
/// Linear(2 → 1, no bias) → sigmoid → binary cross-entropy without reduction, so 100 losses.
/// x and w are standard normal, the targets y uniform in (0, 1), and the two probe vectors are standard normal:
/// v [100] (shaped like the output, for vᵀJ) and u [1, 2] (shaped like the input, for J·u).
public struct MotivatingProblem: Sendable {
    /// Data, [100, 2].
    public let x: Tensor<Float>
    /// Weights, [1, 2].
    public let w: Tensor<Float>
    /// Targets in (0, 1), [100].
    public let y: Tensor<Float>
    /// A cotangent shaped like the losses, [100].
    public let v: Tensor<Float>
    /// A tangent shaped like the weights, [1, 2].
    public let u: Tensor<Float>

    /// The data drawn, in this order, from `SeededGenerator(seed:)`: x, w, y, v, u.
    public init(seed: UInt64 = 42) {
        var rng = SeededGenerator(seed: seed)
        x = Tensor(randomNormal: [100, 2], using: &rng)
        w = Tensor(randomNormal: [1, 2], using: &rng)
        y = Tensor(randomUniform: [100], using: &rng)
        v = Tensor(randomNormal: [100], using: &rng)
        u = Tensor(randomNormal: [1, 2], using: &rng)
    }

    /// ℓ(w) = bce(σ(x · wᵀ) flattened, y), no reduction: shape [100], one loss per example.
    public func losses(_ w: Tensor<Float>) -> Tensor<Float> {
        binaryCrossEntropy(probabilities: sigmoid(matmul(x, w.transposed())).flattened(), targets: y,
                           reduction: .none)
    }
}

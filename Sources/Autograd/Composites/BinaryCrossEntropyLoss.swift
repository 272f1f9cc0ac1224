/// How a loss turns per-element losses into its result.
public enum Reduction: String, Sendable, CaseIterable {
    /// No reduction: one loss per element, shaped like the input.
    case none
    /// The mean of the per-element losses (a 0-d tensor).
    case mean
    /// The sum of the per-element losses (a 0-d tensor).
    case sum
}

/// Binary cross-entropy between predicted probabilities p and targets t, elementwise:
///
///     ℓᵢ = −(tᵢ · ln pᵢ + (1 − tᵢ) · ln(1 − pᵢ))
///
/// with each logarithm clamped at −100 as PyTorch does, so p = 0 or 1 gives a large finite loss rather than
/// infinity. `reduction` then keeps the elements (`.none`, shape of p), or takes their `.mean` or `.sum` (shape []).
///
/// Shapes: `probabilities` and `targets` must have the same shape. Both must lie in [0, 1] (targets may be soft
/// labels); values outside stop the program with a message naming the first offending element, as PyTorch
/// raises an error. For raw scores (logits) use a sigmoid first, or the numerically safer logits form in the
/// neural-network module.
///
/// Primitive `binaryCrossEntropy`: ∂ℓ/∂p = (p − t) / (p(1 − p)), ∂ℓ/∂t = ln(1 − p) − ln p, each logarithm's
/// term dropped (a constant) where it is clamped, so the derivative is finite at p = 0 and p = 1.
public func binaryCrossEntropy<Scalar: TensorScalar>(
    probabilities p: Tensor<Scalar>, targets t: Tensor<Scalar>, reduction: Reduction = .mean,
    file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    let name = "binaryCrossEntropy(probabilities:targets:)"
    if p.shape != t.shape {
        operationFailure(name, "probabilities have shape \(describe(p.shape)) but targets have shape "
            + "\(describe(t.shape)); they must match exactly (reshape the targets, e.g. with "
            + "reshaped(to: \(describe(p.shape))))", at: loc)
    }
    requireUnitInterval(t.base, "targets", operation: name,
                        hint: "Targets are probabilities of the positive class (0 or 1, or soft labels in between).",
                        at: loc)
    requireUnitInterval(p.base, "probabilities", operation: name,
                        hint: "Pass probabilities (e.g. sigmoid(logits)), not raw scores.", at: loc)
    let losses = Tensor<Scalar>(unchecked: binaryCrossEntropy(p.base, t.base, at: loc))
    switch reduction {
    case .none: return losses
    case .mean: return losses.mean()
    case .sum: return losses.sum()
    }
}

/// Stops unless every element of `x` lies in [0, 1] (NaN fails), naming the first that does not. One pass over the
/// buffer in concrete Float or Double code.
package func requireUnitInterval(_ x: AnyTensor, _ what: String, operation: String, hint: String, at loc: CallSite?) {
    func firstOutside<T: BinaryFloatingPoint>(_ p: UnsafeMutablePointer<T>) -> (Int, Double)? {
        for i in 0..<x.count where !(p[i] >= 0 && p[i] <= 1) { return (i, Double(p[i])) }
        return nil
    }
    let bad: (Int, Double)? = switch x.scalarType {
    case .float32: firstOutside(x.storage.floats())
    case .float64: firstOutside(x.storage.doubles())
    case .bool, .int32: nil
    }
    if let (i, v) = bad {
        operationFailure(operation, "\(what) must lie in [0, 1], but element \(i) is \(v) (shape "
            + "\(describe(x.shape))). \(hint)", at: loc)
    }
}

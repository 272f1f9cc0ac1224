import Autograd

// Loss functions. Each computes one loss ℓᵢ per element (per example), multiplies by optional weights wᵢ and then
// reduces:
//
//     .none   ℓᵢ · wᵢ            shaped like the per-element losses
//     .sum    Σᵢ wᵢ ℓᵢ           a 0-d tensor
//     .mean   Σᵢ wᵢ ℓᵢ / N       a 0-d tensor; N = the number of per-element losses, NOT Σᵢ wᵢ (NaN for N = 0)
//
// The weighted mean divides by N, as PyTorch's `weight` argument of BCELoss and BCEWithLogitsLoss does (a weight
// rescales an element's loss; weights of 1 give the plain mean). For the normalized average Σ wᵢ ℓᵢ / Σ wᵢ (what
// PyTorch's CrossEntropyLoss does with class weights), use `.sum` and divide by the sum of the weights.
// Weights must have the losses' shape or broadcast to it without enlarging it; they are ordinary tensors, so a
// derivative with respect to them (∂ℓ/∂wᵢ = ℓᵢ, or ℓᵢ/N for the mean) is available too.
//
// Every loss is a composite of core primitives, so it is differentiable in both modes and to any order.

extension Reduction {
    /// Weights and reduces elementwise losses: ℓ ⊙ w, then none, Σ, or Σ / N (N = `losses.count`), as described
    /// above. `weights` (optional) must broadcast to `losses.shape` without enlarging it. Use it to give a loss of
    /// your own the same interface as the ones here.
    public func apply<Scalar: TensorScalar>(to losses: Tensor<Scalar>, weights: Tensor<Scalar>? = nil,
                                            file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
        reduce(losses, weights: weights, "Reduction.apply(to:weights:)", at: CallSite(file: file, line: line))
    }

    /// `apply(to:weights:)`, naming the loss `op` in the error for weights of the wrong shape.
    func reduce<Scalar: TensorScalar>(_ losses: Tensor<Scalar>, weights: Tensor<Scalar>?, _ op: String,
                                      at loc: CallSite) -> Tensor<Scalar> {
        var weighted = losses
        if let weights {
            let w = weights.shape, shape = losses.shape
            if !Shape.broadcasts(w, to: shape) {
                operationFailure(op, "weights have shape \(describe(w)) but the per-example losses have shape "
                    + "\(describe(shape)); weights must have the losses' shape or broadcast to it (aligned at the "
                    + "right, each dimension equal or 1)", at: loc)
            }
            weighted = losses * weights
        }
        switch self {
        case .none: return weighted
        case .sum: return weighted.sum()
        case .mean: return weighted.sum() / Scalar(losses.count)
        }
    }
}

/// Stops unless every element of `x` lies in [0, 1], naming the first that does not.
func checkUnitInterval<Scalar: TensorScalar>(_ x: Tensor<Scalar>, _ what: String, _ op: String, hint: String,
                                             at loc: CallSite) {
    requireUnitInterval(x.base, what, operation: op, hint: hint, at: loc)
}

/// Binary cross-entropy on probabilities with per-example weights:
///
///     ℓᵢ = −wᵢ (tᵢ ln pᵢ + (1 − tᵢ) ln(1 − pᵢ))
///
/// then reduced (`.mean` is Σ wᵢℓᵢ / N; see the top of this file). The unweighted form is the core library's
/// `binaryCrossEntropy(probabilities:targets:reduction:)`, which this calls: logarithms are clamped at −100 as in
/// PyTorch, and probabilities or targets outside [0, 1] stop the program with a message naming the first bad
/// element. Shapes: p and t equal; w broadcasts to them; result p's shape (`.none`) or [].
/// For raw scores prefer ``binaryCrossEntropy(logits:targets:weights:reduction:file:line:)``: it is exact where
/// σ(z) rounds to 0 or 1.
public func binaryCrossEntropy<Scalar: TensorScalar>(
    probabilities p: Tensor<Scalar>, targets t: Tensor<Scalar>, weights: Tensor<Scalar>,
    reduction: Reduction = .mean, file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
    let losses = binaryCrossEntropy(probabilities: p, targets: t, reduction: .none, file: file, line: line)
    return reduction.reduce(losses, weights: weights, "binaryCrossEntropy(probabilities:targets:weights:)",
                            at: CallSite(file: file, line: line))
}

/// Binary cross-entropy on logits (PyTorch's `BCEWithLogitsLoss`), the loss of σ(z) against t computed without
/// ever forming σ(z):
///
///     ℓᵢ = −wᵢ (tᵢ ln σ(zᵢ) + (1 − tᵢ) ln(1 − σ(zᵢ))) = wᵢ (tᵢ softplus(−zᵢ) + (1 − tᵢ) softplus(zᵢ))
///     ∂ℓᵢ/∂zᵢ = wᵢ (σ(zᵢ) − tᵢ)
///
/// with softplus(x) = ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|) (the core's stable primitive). This equals the
/// textbook stable form max(z, 0) − z·t + ln(1 + e^−|z|) but has no cancellation for confident correct
/// predictions (z = 20, t = 1 gives 2.1·10⁻⁹, not 0), stays finite for any finite z (|z| = 1000 and beyond), and
/// has the exact derivative σ(z) − t everywhere: the textbook form, differentiated through `relu` and `abs`,
/// would give −t at z = 0, the point where a zero-initialized logistic regression starts.
///
/// Shapes: z and t equal; w (optional) broadcasts to them; result z's shape (`.none`) or []. Targets must lie
/// in [0, 1] (soft labels allowed); otherwise the program stops naming the first bad element.
/// Composite of `softplus`, `multiply`, `add`; differentiable in both modes with respect to z, t and w.
/// Cost: two softplus evaluations per element.
public func binaryCrossEntropy<Scalar: TensorScalar>(
    logits z: Tensor<Scalar>, targets t: Tensor<Scalar>, weights: Tensor<Scalar>? = nil,
    reduction: Reduction = .mean, file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    let name = "binaryCrossEntropy(logits:targets:)"
    if z.shape != t.shape {
        operationFailure(name, "logits have shape \(describe(z.shape)) but targets have shape \(describe(t.shape)); they "
            + "must match exactly (reshape one, e.g. logits.reshaped(to: \(describe(t.shape))))", at: loc)
    }
    checkUnitInterval(t, "targets", name, hint: "Targets are probabilities of the positive class (0 or 1, or "
        + "soft labels in between).", at: loc)
    let losses = t * softplus(-z, file: file, line: line) + (1 - t) * softplus(z, file: file, line: line)
    return reduction.reduce(losses, weights: weights, name, at: loc)
}

/// Cross-entropy of class scores against class indices (PyTorch's `CrossEntropyLoss` with integer targets):
///
///     ℓᵢ = −wᵢ log softmax(zᵢ)[yᵢ] = wᵢ (logSumExp(zᵢ) − zᵢ,yᵢ)
///
/// Shapes: logits z [N, C] (one row of C unnormalized scores per example), `labels` N integers in 0 ..< C,
/// weights (optional, one per example) [N]; result [N] (`.none`) or []. `.mean` is Σ wᵢℓᵢ / N (per-example
/// weights; see the top of this file for how that differs from PyTorch's per-class weights).
/// Stable for scores of any magnitude (the core's `logSoftmax`). A label outside 0 ..< C, or a label count that is
/// not N, stops the program with a message naming the label, its position and the valid range.
/// Composite of `logSoftmax`, `reshape` and `gather` (the entries i·C + yᵢ of the flattened log-probabilities);
/// derivative ∂ℓᵢ/∂zᵢ = wᵢ (softmax(zᵢ) − onehot(yᵢ)). Cost: O(N·C).
public func crossEntropy<Scalar: TensorScalar>(
    logits z: Tensor<Scalar>, labels: [Int], weights: Tensor<Scalar>? = nil, reduction: Reduction = .mean,
    file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    let name = "crossEntropy(logits:labels:)"
    if z.rank != 2 {
        operationFailure(name, "logits have shape \(describe(z.shape)) but must be [N, C]: one row of class scores per "
            + "example (for one example, use logits.reshaped(to: [1, -1]))", at: loc)
    }
    let (n, c) = (z.shape[0], z.shape[1])
    if labels.count != n {
        operationFailure(name, "got \(labels.count) labels for \(n) rows of logits (shape \(describe(z.shape))); give one "
            + "class index per example", at: loc)
    }
    if let i = labels.firstIndex(where: { $0 < 0 || $0 >= c }) {
        operationFailure(name, "label \(labels[i]) at position \(i) is outside the valid range 0..<\(c) (the logits have "
            + "shape \(describe(z.shape)), so \(c) classes); labels are class indices starting at 0", at: loc)
    }
    let logProbabilities = z.logSoftmax(alongAxes: 1, file: file, line: line).reshaped(to: [n * c])
    let losses = -logProbabilities.gathering(atIndices: labels.enumerated().map { $0.offset * c + $0.element },
                                             file: file, line: line)
    return reduction.reduce(losses, weights: weights, name, at: loc)
}

/// Squared error (PyTorch's `MSELoss`):
///
///     ℓᵢ = wᵢ (ŷᵢ − yᵢ)²
///
/// so `.mean` (the default) is the mean squared error Σ wᵢ (ŷᵢ − yᵢ)² / N. Shapes: predictions and targets equal
/// (no silent broadcasting: [N, 1] against [N] would compare every pair); weights (optional) broadcast to them;
/// result their shape (`.none`) or []. Derivative ∂ℓᵢ/∂ŷᵢ = 2wᵢ(ŷᵢ − yᵢ). Composite of `subtract` and `pow`.
public func meanSquaredError<Scalar: TensorScalar>(
    predictions: Tensor<Scalar>, targets: Tensor<Scalar>, weights: Tensor<Scalar>? = nil,
    reduction: Reduction = .mean, file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    let name = "meanSquaredError(predictions:targets:)"
    if predictions.shape != targets.shape {
        operationFailure(name, "predictions have shape \(describe(predictions.shape)) "
            + "but targets have shape \(describe(targets.shape)); they must match exactly (broadcasting [N, 1] "
            + "against [N] would compare every prediction with every target)", at: loc)
    }
    return reduction.reduce((predictions - targets).squared(), weights: weights, name, at: loc)
}

/// The fraction of examples a binary classifier gets right: prediction zᵢ > 0 (σ(zᵢ) > ½) against target
/// tᵢ > ½. Shapes: logits and targets equal (any shape); result in [0, 1] (0 for no examples). Not
/// differentiable (a count). Cost: O(N).
public func binaryAccuracy<Scalar: TensorScalar>(logits: Tensor<Scalar>, targets: Tensor<Scalar>,
                                                 file: StaticString = #fileID, line: UInt = #line) -> Double {
    if logits.shape != targets.shape {
        operationFailure("binaryAccuracy(logits:targets:)", "logits have shape \(describe(logits.shape)) but targets have "
            + "shape \(describe(targets.shape)); they must match exactly", at: CallSite(file: file, line: line))
    }
    if logits.count == 0 { return 0 }
    let correct = zip(logits.scalars, targets.scalars).filter { ($0 > 0) == ($1 > 0.5) }.count
    return Double(correct) / Double(logits.count)
}

import CAutogradKernels

/// Binary cross-entropy on probabilities, elementwise, as PyTorch defines it (logarithms clamped at −100 so that
/// p = 0 or 1 gives a large finite loss, not infinity):
///     ℓ(p, t) = −(t · max(ln p, −100) + (1 − t) · max(ln(1 − p), −100))
///
/// A primitive rather than a composite of `log`, because the composite's derivative at p ∈ {0, 1} would be 0 / 0.
/// The rules are the exact derivatives of ℓ as computed, a clamped logarithm being a constant:
///     ∂ℓ/∂p = −t/p + (1 − t)/(1 − p), each term dropped where its logarithm is clamped; where neither is, the same
///             as (p − t) / (p (1 − p)), the form used there because it keeps its accuracy when p ≈ t
///     ∂ℓ/∂t = max(ln(1 − p), −100) − max(ln p, −100)
///     ẏ = ṗ ∂ℓ/∂p + ṫ ∂ℓ/∂t;   p̄ = ȳ ∂ℓ/∂p,  t̄ = ȳ ∂ℓ/∂t.
/// (PyTorch's rule, (p − t) / max(p (1 − p), 10⁻¹²), gives −t·10¹² instead of 1 − t at p = 0, and for
/// 0 < p < 10⁻¹² only p / 10⁻¹² of the true derivative, although the loss is not clamped there.)
struct BinaryCrossEntropy: Primitive {
    var name: String { "binaryCrossEntropy" }
    var sparsity: SparsityRule { .broadcast(operands: nil) }

    /// p, t, and where ln p and ln(1 − p) are not clamped (constant masks, from the values).
    private func parts(_ ctx: RuleContext) -> (p: AnyTensor, t: AnyTensor, inP: AnyTensor, inQ: AnyTensor) {
        let p = ctx.input(0), floor = AnyTensor.filled(-100, like: p, shape: [])
        let name = self.name
        let inP = valueFunction(name + " mask", [p]) { v, _ in
            Kernel.compare(AG_COMPARE_GE, Kernel.unary(AG_UNARY_LOG, v[0]), floor, name, at: nil)
        }
        let inQ = valueFunction(name + " mask", [p]) { v, _ in
            Kernel.compare(AG_COMPARE_GE, Kernel.unary(AG_UNARY_LOG1P, Kernel.unary(AG_UNARY_NEG, v[0])), floor, name,
                           at: nil)
        }
        return (p, ctx.input(1), inP, inQ)
    }

    /// p and 1 − p, each replaced by 1 where its logarithm is clamped: no branch below divides by zero (its NaN
    /// would reach second derivatives through `where`, whose unselected side still gets a zero cotangent).
    private func safe(_ p: AnyTensor, _ inP: AnyTensor, _ inQ: AnyTensor) -> (AnyTensor, AnyTensor) {
        let one = AnyTensor.filled(1, like: p, shape: [])
        return (select(inP, p, one), select(inQ, 1 - p, one))
    }

    /// The partial derivatives ∂ℓ/∂p and ∂ℓ/∂t (the one statement of them; nil where not wanted), as
    /// differentiable expressions of the inputs.
    private func partials(_ ctx: RuleContext, p wantP: Bool, t wantT: Bool) -> (AnyTensor?, AnyTensor?) {
        let (p, t, inP, inQ) = parts(ctx)
        let (ps, qs) = safe(p, inP, inQ)
        var dp: AnyTensor?, dt: AnyTensor?
        if wantP {
            let bothOrP = select(inQ, (p - t) / (ps * qs), -t / ps)
            dp = select(inP, bothOrP, select(inQ, (1 - t) / qs, .zero(like: p)))
        }
        if wantT {
            let floor = AnyTensor.filled(-100, like: p, shape: [])
            dt = select(inQ, log(qs), floor) - select(inP, log(ps), floor)
        }
        return (dp, dt)
    }

    /// Whether the fused kernel may stand in for `partials`: the rule's result is not differentiated, and the
    /// route is allowed (see `Route.fused`; the checks compare the two).
    private func usesFusedKernel(_ ctx: RuleContext) -> Bool { !ctx.isDifferentiable && Routes.take(.fused, self) }

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        if usesFusedKernel(ctx) {
            let (a, b) = FusedBinaryCrossEntropy.apply(p: ctx.input(0), t: ctx.input(1), scaleP: ctx.needs(0) ? g : nil,
                                                       scaleT: ctx.needs(1) ? g : nil)
            return [a, b]
        }
        let (dp, dt) = partials(ctx, p: ctx.needs(0), t: ctx.needs(1))
        return [dp.map { g * $0 }, dt.map { g * $0 }]
    }
    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        if usesFusedKernel(ctx) { return fusedJVP(ctx.input(0), ctx.input(1), t[0], t[1]) }
        let (dp, dt) = partials(ctx, p: t[0] != nil, t: t[1] != nil)
        switch (t[0].map { $0 * dp! }, t[1].map { $0 * dt! }) {
        case let (a?, b?): return a + b
        case let (a?, nil): return a
        case let (nil, b?): return b
        case (nil, nil): return nil
        }
    }
}

extension BinaryCrossEntropy {
    /// ṗ ∂ℓ/∂p + ṫ ∂ℓ/∂t with the fused kernel, on constants.
    private func fusedJVP(_ p: AnyTensor, _ t: AnyTensor, _ tp: AnyTensor?, _ tt: AnyTensor?) -> AnyTensor? {
        let (a, b) = FusedBinaryCrossEntropy.apply(p: p, t: t, scaleP: tp, scaleT: tt)
        guard let a else { return b }
        return b.map { Kernel.binary(AG_BINARY_ADD, a, $0, name, at: nil) } ?? a
    }
    func plainJVP(_ p: AnyTensor, _ t: AnyTensor, _ tp: AnyTensor?, _ tt: AnyTensor?, _ y: AnyTensor,
                  batchShape: [Int]) -> AnyTensor? {
        guard Routes.take(.fused, self) else { return generalJVP([p, t], [tp, tt], y, batchShape: batchShape) }
        return fusedJVP(p, t, tp, tt)
    }
}

/// Elementwise binary cross-entropy of same-shaped probabilities and targets (validated by the public API).
func binaryCrossEntropy(_ p: AnyTensor, _ t: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    record(BinaryCrossEntropy(), p, t, Kernel.binaryCrossEntropy(p, t), at: loc)
}

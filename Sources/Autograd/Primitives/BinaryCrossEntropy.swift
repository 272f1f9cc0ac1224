import CAutogradKernels

/// Binary cross-entropy on probabilities, elementwise, as PyTorch defines it (logarithms clamped at −100 so that
/// p = 0 or 1 gives a large finite loss, not infinity):
///     ℓ(p, t) = −(t · max(ln p, −100) + (1 − t) · max(ln(1 − p), −100))
///
/// A primitive rather than a composite of `log`, because the composite's derivative at p ∈ {0, 1} would be 0 / 0.
/// The rules use PyTorch's guarded form:
///     ∂ℓ/∂p = (p − t) / max(p (1 − p), ε),  ε = 10⁻¹²
///     ∂ℓ/∂t = max(ln(1 − p), −100) − max(ln p, −100)
///     ẏ = ṗ ∂ℓ/∂p + ṫ ∂ℓ/∂t;   p̄ = ȳ ∂ℓ/∂p,  t̄ = ȳ ∂ℓ/∂t.
struct BinaryCrossEntropy: Primitive {
    var name: String { "binaryCrossEntropy" }

    private func dp(_ ctx: RuleContext) -> AnyTensor {
        let p = ctx.input(0), t = ctx.input(1)
        return (p - t) / maximum(p * (1 - p), .filled(1e-12, like: p, shape: []))
    }
    private func dt(_ ctx: RuleContext) -> AnyTensor {
        let p = ctx.input(0)
        let floor = AnyTensor.filled(-100, like: p, shape: [])
        return maximum(log1p(-p), floor) - maximum(log(p), floor)
    }
    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        if !ctx.isDifferentiable {
            let (a, b) = FusedBinaryCrossEntropy.apply(p: ctx.input(0), t: ctx.input(1), scaleP: ctx.needs(0) ? g : nil,
                                                       scaleT: ctx.needs(1) ? g : nil)
            return [a, b]
        }
        return [ctx.needs(0) ? g * dp(ctx) : nil, ctx.needs(1) ? g * dt(ctx) : nil]
    }
    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        if !ctx.isDifferentiable {
            let (a, b) = FusedBinaryCrossEntropy.apply(p: ctx.input(0), t: ctx.input(1), scaleP: t[0], scaleT: t[1])
            guard let a else { return b }
            return b.map { Kernel.binary(AG_BINARY_ADD, a, $0, name, at: nil) } ?? a
        }
        switch (t[0].map { $0 * dp(ctx) }, t[1].map { $0 * dt(ctx) }) {
        case let (a?, b?): return a + b
        case let (a?, nil): return a
        case let (nil, b?): return b
        case (nil, nil): return nil
        }
    }
}

/// Elementwise binary cross-entropy of same-shaped probabilities and targets (validated by the public API).
func binaryCrossEntropy(_ p: AnyTensor, _ t: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    record(BinaryCrossEntropy(), [p, t], Kernel.binaryCrossEntropy(p, t), at: loc)
}

import CAutogradKernels

// The p-norm along axes, for 1 < p < ∞ (p = 1 and p = ∞ are composites of abs with sum and max, whose rules already
// take the subgradient 0 at 0). A primitive rather than `sqrt(sum(x²))`, whose derivative at x = 0 is 0/0 = NaN.

/// y = ‖x‖ₚ = (Σ_axes |xᵢ|ᵖ)^(1/p), 1 < p < ∞. With ŷ = y, or 1 where y = 0 (x is zero there), and
/// g = sign(x) ⊙ (|x| / ŷ)^(p−1)  (= x / ŷ for p = 2):
///     ẏ = Σ_axes g ⊙ ẋ;   x̄ = g ⊙ ȳ (ȳ broadcast back over the axes)
/// At x = 0 both are 0: the subgradient of smallest norm (the derivative does not exist there).
struct Norm: Primitive {
    let p: Double
    let axes: [Int]
    let keep: Bool
    var name: String { "norm" }
    var savesOutput: Bool { true }

    /// g, shaped like x.
    private func direction(_ ctx: RuleContext) -> AnyTensor {
        let x = ctx.input(0)
        let y = ctx.output.reshaped(keptShape(ctx.inputShape(0), axes))
        let name = self.name
        let isZero = valueFunction("norm mask", [y]) { v, _ in
            Kernel.compare(AG_COMPARE_EQ, v[0], .zero(like: v[0]), name, at: nil)
        }
        let safe = select(isZero, .filled(1, like: y, shape: []), y)
        if p == 2 { return x / safe }
        return (abs(x) / safe).pow(p - 1) * valueFunction("sign", [x]) { v, _ in Kernel.unary(AG_UNARY_SIGN, v[0]) }
    }

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        [g.reshaped(ctx.batchShape + keptShape(ctx.inputShape(0), axes)) * direction(ctx)]
    }

    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let b = ctx.batchShape.count
        return t[0].map { ($0 * direction(ctx)).sum(axes: axes.map { $0 + b }, keep: keep) }
    }
}

extension Kernel {
    /// (Σ_axes |x|ᵖ)^(1/p), computed as m · (Σ (|x|/m)ᵖ)^(1/p) with m = max |x|, so that |x|ᵖ neither overflows nor
    /// underflows (a zero or empty slice gives 0).
    static func norm(_ x: AnyTensor, p: Double, axes: [Int], keep: Bool) -> AnyTensor {
        let a = unary(AG_UNARY_ABS, x)
        let m = reduce(AG_REDUCE_MAX, a, axes: axes, keep: true)
        let zero = filled(x.scalarType, [], 0), one = filled(x.scalarType, [], 1)
        let scale = select(compare(AG_COMPARE_GT, m, zero, "norm", at: nil), m, one, "norm", at: nil)
        let r = binary(AG_BINARY_DIV, a, scale, "norm", at: nil)
        func power(_ t: AnyTensor, _ e: Double) -> AnyTensor {
            binary(AG_BINARY_POW, t, filled(x.scalarType, [], e), "norm", at: nil)
        }
        let s = reduce(AG_REDUCE_SUM, p == 2 ? unary(AG_UNARY_SQUARE, r) : power(r, p), axes: axes, keep: true)
        let root = p == 2 ? unary(AG_UNARY_SQRT, s) : power(s, 1 / p)
        let y = binary(AG_BINARY_MUL, root, scale, "norm", at: nil)
        if keep { return y }
        let kept = x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        return AnyTensor(storage: y.storage, shape: kept)
    }
}

extension AnyTensor {
    /// ‖x‖ₚ over normalized `axes`, 1 < p < ∞, recorded.
    func norm(p: Double, axes: [Int], keep: Bool, at loc: CallSite? = nil) -> AnyTensor {
        record(Norm(p: p, axes: axes, keep: keep), self, Kernel.norm(self, p: p, axes: axes, keep: keep), at: loc)
    }
}

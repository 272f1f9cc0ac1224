// The derivative product of an elementwise primitive, y = v ⊙ f′(s), as a primitive of its own.
//
// Every elementwise rule computes v ⊙ f′(s): the VJP with v = ȳ, the JVP with v = ẋ, and s the saved input or
// output f′ is read from (tanh′ = 1 − y², from its output y). Written with general operations that is three or
// more kernels, buffers and, when the result is itself differentiated (forward over reverse, second derivatives),
// as many recorded nodes. As one primitive it is one fused kernel and one node — PyTorch's `tanh_backward`, for
// every elementwise function — and its own rules make it differentiable to any order.
//
// Its derivative in s needs f″, which is not written anywhere: it is the JVP of the function's own f′ expression
// (`ElementwisePrimitive.derivative`), so f′ is stated once and the fused kernel is only a faster route to it.

/// y = v ⊙ f′(s), where v may carry leading batch dimensions in front of s's shape.
///     ∂y/∂v = f′(s)           (linear in v)
///     ∂y/∂s = v ⊙ f″(s)       (f″(s) ⊙ w is the JVP of the f′ expression at s along w)
///     ẏ = v̇ ⊙ f′(s) + v ⊙ f″(s) ⊙ ṡ;   v̄ = ȳ ⊙ f′(s),  s̄ = f″(s) ⊙ Σ_batch ȳ ⊙ v.
struct DerivativeProduct: Primitive {
    /// The elementwise function whose derivative this is (it has a fused kernel).
    let function: any ElementwisePrimitive
    var kind: FusedDerivative { function.fused! }
    var name: String { "derivative(\(kind))" }
    var sparsity: SparsityRule { .broadcast(operands: nil) }

    /// f″(s) ⊙ w for w shaped `batch + s.shape`: the tangent of `function.derivative(s)` along w, on a forward
    /// level of its own (so it is differentiable in turn, by every outer derivative). Nil where f′ is piecewise
    /// constant (its expression reads only s's value, so the tangent is zero).
    private func secondDerivativeProduct(_ s: AnyTensor, along w: AnyTensor, batchShape: [Int]) -> AnyTensor? {
        Levels.withLevel(batchShape: batchShape) { level in
            function.derivative(s.withTangent(w, level: level)).tangent(at: level)
        }
    }

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let v = ctx.input(0), s = ctx.input(1)
        let dv = ctx.needs(0) ? derivativeProduct(g, s, function) : nil
        var ds: AnyTensor?
        if ctx.needs(1) {
            ds = secondDerivativeProduct(s, along: ctx.unbroadcast(g * v, toInput: 1), batchShape: ctx.batchShape)
        }
        return [dv, ds]
    }

    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let v = ctx.input(0), s = ctx.input(1)
        var terms: [AnyTensor] = []
        if let dv = t[0] { terms.append(derivativeProduct(dv, s, function)) }
        if let ds = t[1], let f2ds = secondDerivativeProduct(s, along: ds, batchShape: ctx.batchShape) {
            terms.append(v * ctx.aligned(f2ds, input: 1, rank: ctx.inputShape(0).count))
        }
        guard var total = terms.first else { return nil }
        for term in terms.dropFirst() { total = total + term }
        return ctx.expandedToOutput(total)
    }
}

/// v ⊙ f′(s) in one kernel (`function`'s fused derivative), recorded as one node.
func derivativeProduct(_ v: AnyTensor, _ s: AnyTensor, _ function: any ElementwisePrimitive) -> AnyTensor {
    record(DerivativeProduct(function: function), v, s, function.fused!.apply(v.value, s.value))
}

// The derivative product of an elementwise primitive, y = v ⊙ f′(s), as a primitive of its own.
//
// Every elementwise rule computes v ⊙ f′(s): the VJP with v = ȳ, the JVP with v = ẋ, and s the saved input or
// output f′ is read from (tanh′ = 1 − y², from its output y). Written with general operations that is three or
// more kernels, buffers and, when the result is itself differentiated (forward over reverse, second derivatives),
// as many recorded nodes. As one primitive it is one fused kernel and one node — PyTorch's `tanh_backward`, for
// every elementwise function — and its own rules make it differentiable to any order.

/// y = v ⊙ f′(s), where v may carry leading batch dimensions in front of s's shape.
///     ∂y/∂v = f′(s)           (linear in v)
///     ∂y/∂s = v ⊙ f″(s)       (f″ = d f′/ds, summed over v's extra leading dimensions)
///     ẏ = v̇ ⊙ f′(s) + v ⊙ f″(s) ⊙ ṡ;   v̄ = ȳ ⊙ f′(s),  s̄ = Σ_batch ȳ ⊙ v ⊙ f″(s).
struct DerivativeProduct: Primitive {
    let kind: FusedDerivative
    var name: String { "derivative(\(kind))" }

    /// f″(s) = d f′(s)/ds, written with differentiable operations (used only by derivatives of third order and up).
    private func secondFactor(_ s: AnyTensor) -> AnyTensor? {
        switch kind {
        case .tanhOfOutput: return s * -2                                  // f′ = 1 − s²
        case .sigmoidOfOutput: return 1 - s * 2                            // f′ = s(1 − s)
        case .identityOfOutput: return .filled(1, like: s, shape: [])      // f′ = s
        case .reciprocalOfInput: return -(s * s).reciprocal()              // f′ = 1/s
        case .log1pOfInput: return -((s + 1) * (s + 1)).reciprocal()       // f′ = 1/(1 + s)
        case .sqrtOfOutput: return (s * s).reciprocal() * -0.5             // f′ = 0.5/s
        case .cosOfInput: return -sin(s)                                   // f′ = cos s
        case .negativeSinOfInput: return -cos(s)                           // f′ = −sin s
        case .signOfInput, .stepOfInput: return nil                        // f′ piecewise constant
        case .sigmoidOfInput:                                              // f′ = σ(s)
            let sig = sigmoid(s)
            return sig * (1 - sig)
        }
    }

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let v = ctx.input(0), s = ctx.input(1)
        let dv = ctx.needs(0) ? derivativeProduct(g, s, kind) : nil
        var ds: AnyTensor?
        if ctx.needs(1), let f2 = secondFactor(s) { ds = ctx.unbroadcast(g * v * f2, toInput: 1) }
        return [dv, ds]
    }

    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let v = ctx.input(0), s = ctx.input(1)
        var terms: [AnyTensor] = []
        if let dv = t[0] { terms.append(derivativeProduct(dv, s, kind)) }
        if let ds = t[1], let f2 = secondFactor(s) {
            terms.append(v * f2 * ctx.aligned(ds, input: 1, rank: ctx.inputShape(0).count))
        }
        guard var total = terms.first else { return nil }
        for term in terms.dropFirst() { total = total + term }
        return ctx.expandedToOutput(total)
    }
}

/// v ⊙ f′(s) in one kernel, recorded as one node.
func derivativeProduct(_ v: AnyTensor, _ s: AnyTensor, _ kind: FusedDerivative) -> AnyTensor {
    record(DerivativeProduct(kind: kind), v, s, kind.apply(v.value, s.value))
}

import CAutogradKernels

// Broadcasting binary primitives. Inputs a and b broadcast (NumPy rules) to the output's shape; every VJP ends by
// summing its cotangent back to the input's shape (`ctx.unbroadcast`), and every JVP first lines a tangent up with
// the output's rank (`ctx.aligned`) so batch dimensions never mix with broadcast ones.

/// y = a + b. Linear: ẏ = ȧ + ḃ;  ā = unbroadcast(ȳ), b̄ = unbroadcast(ȳ).
struct Add: LinearPrimitive {
    var name: String { "add" }
    var sparsity: SparsityRule { .broadcast(operands: nil) }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let r = ctx.outputShape.count
        switch (t[0], t[1]) {
        case let (a?, b?): return ctx.aligned(a, input: 0, rank: r) + ctx.aligned(b, input: 1, rank: r)
        case let (a?, nil): return ctx.expandedToOutput(ctx.aligned(a, input: 0, rank: r))
        case let (nil, b?): return ctx.expandedToOutput(ctx.aligned(b, input: 1, rank: r))
        case (nil, nil): return nil
        }
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        [ctx.needs(0) ? ctx.unbroadcast(g, toInput: 0) : nil, ctx.needs(1) ? ctx.unbroadcast(g, toInput: 1) : nil]
    }
}

/// y = a − b. Linear: ẏ = ȧ − ḃ;  ā = unbroadcast(ȳ), b̄ = −unbroadcast(ȳ).
struct Subtract: LinearPrimitive {
    var name: String { "subtract" }
    var sparsity: SparsityRule { .broadcast(operands: nil) }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let r = ctx.outputShape.count
        switch (t[0], t[1]) {
        case let (a?, b?): return ctx.aligned(a, input: 0, rank: r) - ctx.aligned(b, input: 1, rank: r)
        case let (a?, nil): return ctx.expandedToOutput(ctx.aligned(a, input: 0, rank: r))
        case let (nil, b?): return -ctx.expandedToOutput(ctx.aligned(b, input: 1, rank: r))
        case (nil, nil): return nil
        }
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        [ctx.needs(0) ? ctx.unbroadcast(g, toInput: 0) : nil, ctx.needs(1) ? -ctx.unbroadcast(g, toInput: 1) : nil]
    }
}

/// Sums tangent terms that may be missing (nil = zero); a lone term is broadcast to the output's full shape.
private func sumTerms(_ terms: [AnyTensor?], _ ctx: RuleContext) -> AnyTensor? {
    let present = terms.compactMap { $0 }
    guard var total = present.first else { return nil }
    for t in present.dropFirst() { total = total + t }
    return ctx.expandedToOutput(total)
}

/// y = a ⊙ b.  ẏ = ȧ ⊙ b + a ⊙ ḃ;  ā = unbroadcast(ȳ ⊙ b), b̄ = unbroadcast(ȳ ⊙ a).
struct Multiply: Primitive {
    var name: String { "multiply" }
    var sparsity: SparsityRule { .broadcast(operands: nil) }
    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        [ctx.needs(0) ? ctx.unbroadcast(g * ctx.input(1), toInput: 0) : nil,
         ctx.needs(1) ? ctx.unbroadcast(g * ctx.input(0), toInput: 1) : nil]
    }
    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let r = ctx.outputShape.count
        return sumTerms([t[0].map { ctx.aligned($0, input: 0, rank: r) * ctx.input(1) },
                         t[1].map { ctx.input(0) * ctx.aligned($0, input: 1, rank: r) }], ctx)
    }
}

/// y = a / b.  ẏ = (ȧ − y ⊙ ḃ) / b;  ā = unbroadcast(ȳ / b), b̄ = unbroadcast(−ȳ ⊙ a / b²).
struct Divide: Primitive {
    var name: String { "divide" }
    var sparsity: SparsityRule { .broadcast(operands: nil) }
    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let a = ctx.input(0), b = ctx.input(1)
        return [ctx.needs(0) ? ctx.unbroadcast(g / b, toInput: 0) : nil,
                ctx.needs(1) ? ctx.unbroadcast(-(g * a) / (b * b), toInput: 1) : nil]
    }
    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let r = ctx.outputShape.count
        let b = ctx.input(1)
        return sumTerms([t[0].map { ctx.aligned($0, input: 0, rank: r) / b },
                         t[1].map { -(ctx.output * ctx.aligned($0, input: 1, rank: r)) / b }], ctx)
    }
}

/// y = aᵇ (both tensors).  ∂y/∂a = b aᵇ⁻¹,  ∂y/∂b = y ln a (taken as 0 where a = 0, as PyTorch does, so a zero
/// base with a constant-in-practice exponent does not produce NaN).
///     ẏ = ȧ ⊙ b aᵇ⁻¹ + ḃ ⊙ y ln a;   ā = unbroadcast(ȳ ⊙ b aᵇ⁻¹),  b̄ = unbroadcast(ȳ ⊙ y ln a).
struct Pow: Primitive {
    var name: String { "pow" }
    var sparsity: SparsityRule { .broadcast(operands: nil) }
    var savesOutput: Bool { true }
    private func da(_ ctx: RuleContext) -> AnyTensor { ctx.input(1) * power(ctx.input(0), ctx.input(1) - 1) }
    private func db(_ ctx: RuleContext) -> AnyTensor {
        let a = ctx.input(0)
        let isZero = valueFunction("pow mask", [a]) { v, _ in
            Kernel.compare(AG_COMPARE_EQ, v[0], .zero(like: v[0]), "pow", at: nil)
        }
        let safeLog = select(isZero, .zero(like: a), log(a))
        return ctx.output * safeLog
    }
    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        [ctx.needs(0) ? ctx.unbroadcast(g * da(ctx), toInput: 0) : nil,
         ctx.needs(1) ? ctx.unbroadcast(g * db(ctx), toInput: 1) : nil]
    }
    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let r = ctx.outputShape.count
        return sumTerms([t[0].map { ctx.aligned($0, input: 0, rank: r) * da(ctx) },
                         t[1].map { ctx.aligned($0, input: 1, rank: r) * db(ctx) }], ctx)
    }
}

/// y = max(a, b) or min(a, b) elementwise.  The derivative goes to the operand that is chosen; at a tie
/// (a = b) it is split evenly, ½ to each, which is also what a central finite difference measures there.
///     wₐ = 1 where a wins, ½ at ties, 0 elsewhere;  w_b = 1 − wₐ
///     ẏ = wₐ ȧ + w_b ḃ;   ā = unbroadcast(wₐ ȳ),  b̄ = unbroadcast(w_b ȳ).
struct Extremum: Primitive {
    let isMaximum: Bool
    var name: String { isMaximum ? "maximum" : "minimum" }
    var sparsity: SparsityRule { .broadcast(operands: nil) }
    private func weights(_ ctx: RuleContext) -> (AnyTensor, AnyTensor) {
        let (name, isMaximum) = (self.name, self.isMaximum)
        let wa = valueFunction(name + " weights", [ctx.input(0), ctx.input(1)]) { v, _ in
            let (a, b) = (v[0], v[1])
            let wins = Kernel.convert(Kernel.compare(isMaximum ? AG_COMPARE_GT : AG_COMPARE_LT, a, b, name, at: nil),
                                      to: a.scalarType)
            let ties = Kernel.convert(Kernel.compare(AG_COMPARE_EQ, a, b, name, at: nil), to: a.scalarType)
            return Kernel.binary(AG_BINARY_ADD, wins, Kernel.affine(ties, 0.5, 0), name, at: nil)
        }
        return (wa, valueFunction(name + " weights", [wa]) { v, _ in Kernel.affine(v[0], -1, 1) })
    }
    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let (wa, wb) = weights(ctx)
        return [ctx.needs(0) ? ctx.unbroadcast(g * wa, toInput: 0) : nil,
                ctx.needs(1) ? ctx.unbroadcast(g * wb, toInput: 1) : nil]
    }
    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let (wa, wb) = weights(ctx)
        let r = ctx.outputShape.count
        return sumTerms([t[0].map { ctx.aligned($0, input: 0, rank: r) * wa },
                         t[1].map { ctx.aligned($0, input: 1, rank: r) * wb }], ctx)
    }
}

/// y = condition ? a : b, with a constant Bool `condition` (input 0, no derivative) broadcast with a and b (inputs
/// 1 and 2). Linear in (a, b):
///     ẏ = select(c, ȧ, ḃ);   ā = unbroadcast(select(c, ȳ, 0)),  b̄ = unbroadcast(select(c, 0, ȳ)).
/// The condition is an input rather than a stored property so that the node keeps it only until the rule has run,
/// like any saved tensor (a property would keep it as long as the graph).
struct Select: LinearPrimitive {
    var name: String { "where" }
    var sparsity: SparsityRule { .broadcast(operands: [1, 2]) }  // the condition has no derivative
    func savedInputs(_ inputs: [AnyTensor]) -> [AnyTensor] { [inputs[0]] }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let r = ctx.outputShape.count
        guard t[1] != nil || t[2] != nil else { return nil }
        let zero = AnyTensor.zero(like: (t[1] ?? t[2])!)
        let full = select(ctx.input(0), t[1].map { ctx.aligned($0, input: 1, rank: r) } ?? zero,
                          t[2].map { ctx.aligned($0, input: 2, rank: r) } ?? zero)
        let target = ctx.batchShape + ctx.outputShape
        return full.shape == target ? full : full.expanded(to: target)
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let zero = AnyTensor.zero(like: g), condition = ctx.input(0)
        return [nil, ctx.needs(1) ? ctx.unbroadcast(select(condition, g, zero), toInput: 1) : nil,
                ctx.needs(2) ? ctx.unbroadcast(select(condition, zero, g), toInput: 2) : nil]
    }
}

// MARK: - Differentiable functions on AnyTensor

@inline(__always)
private func binaryOp<P: Primitive>(_ p: P, _ op: ag_binary_op, _ a: AnyTensor, _ b: AnyTensor,
                                    _ loc: CallSite?) -> AnyTensor {
    record(p, a, b, Kernel.binary(op, a, b, p.name, at: loc), at: loc)
}

extension AnyTensor {
    static func + (a: AnyTensor, b: AnyTensor) -> AnyTensor { binaryOp(Add(), AG_BINARY_ADD, a, b, nil) }
    static func - (a: AnyTensor, b: AnyTensor) -> AnyTensor { binaryOp(Subtract(), AG_BINARY_SUB, a, b, nil) }
    static func * (a: AnyTensor, b: AnyTensor) -> AnyTensor { binaryOp(Multiply(), AG_BINARY_MUL, a, b, nil) }
    static func / (a: AnyTensor, b: AnyTensor) -> AnyTensor { binaryOp(Divide(), AG_BINARY_DIV, a, b, nil) }
}

func power(_ a: AnyTensor, _ b: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    binaryOp(Pow(), AG_BINARY_POW, a, b, loc)
}
func maximum(_ a: AnyTensor, _ b: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    binaryOp(Extremum(isMaximum: true), AG_BINARY_MAX, a, b, loc)
}
func minimum(_ a: AnyTensor, _ b: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    binaryOp(Extremum(isMaximum: false), AG_BINARY_MIN, a, b, loc)
}
/// condition ? a : b; `condition` is a Bool tensor (constant).
func select(_ condition: AnyTensor, _ a: AnyTensor, _ b: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    // The condition keeps reverse history only when it is a value a vmap trace recorded (see `ValueFunction`).
    record(Select(), [condition.node != nil ? condition : condition.value, a, b],
           Kernel.select(condition, a, b, "where", at: loc), at: loc)
}

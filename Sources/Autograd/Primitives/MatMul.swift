import CAutogradKernels

// The matrix product: the one bilinear primitive. Operands have rank ≥ 2 (vectors are handled by the public
// `matmul` composite, which inserts and removes axes as NumPy does); leading dimensions are batch dimensions and
// broadcast. `transposeA` / `transposeB` read an operand's last two dimensions transposed, through strides, with
// no copy; the rules use them so that no derivative ever materializes a transpose.

/// y = op(a) · op(b), with op = transpose of the last two dimensions where asked. Writing A = op(a), B = op(b):
///     ẏ = op(ȧ) · B + A · op(ḃ)
///     Ā = ȳ · Bᵀ,  B̄ = Aᵀ · ȳ;  ā = op(Ā), b̄ = op(B̄), each un-broadcast over batch dimensions.
struct MatMul: Primitive {
    let transposeA: Bool
    let transposeB: Bool
    var name: String { "matmul" }
    var sparsity: SparsityRule { .matmul(transposeA: transposeA, transposeB: transposeB) }

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let a = ctx.input(0), b = ctx.input(1)
        var da: AnyTensor?, db: AnyTensor?
        if ctx.needs(0) {
            da = transposeA ? matmul(b, g, transposeA: transposeB, transposeB: true)
                            : matmul(g, b, transposeA: false, transposeB: !transposeB)
            da = ctx.unbroadcast(da!, toInput: 0)
        }
        if ctx.needs(1) {
            if let folded = sharedRightGradient(ctx, g) {
                db = folded
            } else {
                db = transposeB ? matmul(g, a, transposeA: true, transposeB: transposeA)
                                : matmul(a, g, transposeA: !transposeA, transposeB: false)
                db = ctx.unbroadcast(db!, toInput: 1)
            }
        }
        return [da, db]
    }

    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let r = ctx.outputShape.count
        let fromA = t[0].map {
            matmul(ctx.aligned($0, input: 0, rank: r), ctx.input(1), transposeA: transposeA, transposeB: transposeB)
        }
        let fromB = t[1].map {
            matmul(ctx.input(0), ctx.aligned($0, input: 1, rank: r), transposeA: transposeA, transposeB: transposeB)
        }
        switch (fromA, fromB) {
        case let (a?, b?): return ctx.expandedToOutput(a + b)
        case let (a?, nil): return ctx.expandedToOutput(a)
        case let (nil, b?): return ctx.expandedToOutput(b)
        case (nil, nil): return nil
        }
    }
}

extension MatMul {
    /// B̄ when a batch of matrices a [..., m, k] (not transposed) meets one shared matrix b (a layer's weight):
    /// the sum over the batch of aᵢᵀ ȳᵢ (or ȳᵢᵀ aᵢ for a transposed b) is one product over the batch folded into
    /// the inner dimension, (a as [N·m, k])ᵀ · (ȳ as [N·m, n]), instead of N products and a sum over them. Nil when
    /// the shapes are not of that kind (or the cotangent carries batch dimensions); `vjp` then takes its general
    /// form.
    private func sharedRightGradient(_ ctx: RuleContext, _ g: AnyTensor) -> AnyTensor? {
        let shapeA = ctx.inputShape(0)
        guard !transposeA, ctx.batchShape.isEmpty, ctx.inputShape(1).count == 2, shapeA.count > 2,
              g.shape.dropLast(2) == shapeA.dropLast(2) else { return nil }
        let rows = shapeA.dropLast().reduce(1, *)
        let a = ctx.input(0).reshaped([rows, shapeA[shapeA.count - 1]])
        let gFlat = g.reshaped([rows, g.shape[g.rank - 1]])
        return transposeB ? matmul(gFlat, a, transposeA: true) : matmul(a, gFlat, transposeA: true)
    }

    /// The tangent of Ā or B̄ alone, for `hvp`: each is a product P·Q of two of a, b and ȳ (see `vjp`), whose
    /// tangent is Ṗ·Q + P·Q̇, so the product P·Q itself (the gradient's value, which hvp discards) is never
    /// formed.
    /// Offered in the plain case: matrices (no batch dimensions, nothing to un-broadcast), no batch of
    /// cotangents, and tangents only at `level` and unbatched. (A tangent's own reverse node, if the forward pass
    /// recorded one, does not matter here: nothing records, so only values are read.)
    func vjpTangent(_ ctx: RuleContext, _ g: AnyTensor, input i: Int, level: Int) -> AnyTensor? {
        guard ctx.batchShape.isEmpty, ctx.inputShape(0).count == 2, ctx.inputShape(1).count == 2 else { return nil }
        let a = ctx.input(0), b = ctx.input(1)
        guard let ta = soleTangent(a, level), let tb = soleTangent(b, level), let tg = soleTangent(g, level)
        else { return nil }
        // The factors of the product that `vjp` forms for input i, with their transposes.
        let (p, tp, q, tq, transposeP, transposeQ) = i == 0
            ? (transposeA ? (b, tb, g, tg, transposeB, true) : (g, tg, b, tb, false, !transposeB))
            : (transposeB ? (g, tg, a, ta, true, transposeA) : (a, ta, g, tg, !transposeA, false))
        let fromP = tp.map { Kernel.matmul($0, q, transposeA: transposeP, transposeB: transposeQ, name, at: nil) }
        let fromQ = tq.map { Kernel.matmul(p, $0, transposeA: transposeP, transposeB: transposeQ, name, at: nil) }
        guard let fromP else { return fromQ }  // nil when neither factor moves: the general path handles it
        return fromQ.map { Kernel.binary(AG_BINARY_ADD, fromP, $0, name, at: nil) } ?? fromP
    }

    /// x's tangent at `level` as a rank-2 value: `.some(nil)` if x carries none, nil if x carries other levels
    /// or a batch of tangents.
    private func soleTangent(_ x: AnyTensor, _ level: Int) -> AnyTensor?? {
        switch x.tangents {
        case .none: return .some(nil)
        case .single(let buffer, let l):
            return l == level && x.rank == 2 ? .some(AnyTensor(storage: buffer, shape: x.shape)) : nil
        case .list(let ts):
            guard ts.next == nil, ts.level == level, !ts.tangent.hasTangents, ts.tangent.rank == 2 else { return nil }
            return .some(ts.tangent)
        }
    }

    /// Without batched tangents, op(ȧ) · B and A · op(ḃ) already have the output's shape (the batch dimensions
    /// of ȧ are a's, which broadcast against b's as in the value): two kernel products and a sum.
    func plainJVP(_ a: AnyTensor, _ b: AnyTensor, _ ta: AnyTensor?, _ tb: AnyTensor?, _ y: AnyTensor,
                  batchShape: [Int]) -> AnyTensor? {
        guard batchShape.isEmpty else { return generalJVP([a, b], [ta, tb], y, batchShape: batchShape) }
        // Unbatched, each tangent has its operand's shape, so both products have y's.
        let fromA = ta.map {
            Kernel.matmul($0, b, transposeA: transposeA, transposeB: transposeB, name, at: nil, shape: y.shape)
        }
        let fromB = tb.map {
            Kernel.matmul(a, $0, transposeA: transposeA, transposeB: transposeB, name, at: nil, shape: y.shape)
        }
        guard let fromA else { return fromB }
        return fromB.map { Kernel.binary(AG_BINARY_ADD, fromA, $0, name, at: nil) } ?? fromA
    }
}

/// op(a) · op(b) for operands of rank ≥ 2 (batched, broadcasting), recorded.
func matmul(_ a: AnyTensor, _ b: AnyTensor, transposeA: Bool = false, transposeB: Bool = false,
            at loc: CallSite? = nil) -> AnyTensor {
    record(MatMul(transposeA: transposeA, transposeB: transposeB), a, b,
           Kernel.matmul(a, b, transposeA: transposeA, transposeB: transposeB, "matmul", at: loc), at: loc)
}

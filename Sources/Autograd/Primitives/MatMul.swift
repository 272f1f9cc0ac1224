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

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let a = ctx.input(0), b = ctx.input(1)
        var da: AnyTensor?, db: AnyTensor?
        if ctx.needs(0) {
            da = transposeA ? matmul(b, g, transposeA: transposeB, transposeB: true)
                            : matmul(g, b, transposeA: false, transposeB: !transposeB)
            da = ctx.unbroadcast(da!, toInput: 0)
        }
        if ctx.needs(1) {
            db = transposeB ? matmul(g, a, transposeA: true, transposeB: transposeA)
                            : matmul(a, g, transposeA: !transposeA, transposeB: false)
            db = ctx.unbroadcast(db!, toInput: 1)
        }
        return [da, db]
    }

    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let r = ctx.outputShape.count
        var terms: [AnyTensor] = []
        if let ta = t[0] {
            terms.append(matmul(ctx.aligned(ta, input: 0, rank: r), ctx.input(1), transposeA: transposeA,
                                transposeB: transposeB))
        }
        if let tb = t[1] {
            terms.append(matmul(ctx.input(0), ctx.aligned(tb, input: 1, rank: r), transposeA: transposeA,
                                transposeB: transposeB))
        }
        guard var total = terms.first else { return nil }
        for term in terms.dropFirst() { total = total + term }
        return ctx.expandedToOutput(total)
    }
}

/// op(a) · op(b) for operands of rank ≥ 2 (batched, broadcasting), recorded.
func matmul(_ a: AnyTensor, _ b: AnyTensor, transposeA: Bool = false, transposeB: Bool = false,
            at loc: CallSite? = nil) -> AnyTensor {
    record(MatMul(transposeA: transposeA, transposeB: transposeB), [a, b],
           Kernel.matmul(a, b, transposeA: transposeA, transposeB: transposeB, "matmul", at: loc), at: loc)
}

import CAutogradKernels

// Softmax over the last axis restricted to a mask, as one primitive: the attention scores of a transformer are its
// largest elementwise work, and the composite (where, max, subtract, exp, sum, divide) costs about ten passes
// forward and a dozen for a gradient, this one three passes forward and four for a gradient. Its rules read only the
// saved output y, which is 0 at masked elements and in fully masked rows, so the mask itself is not needed after
// the forward pass:
//     VJP  x̄ = y ⊙ (ȳ − Σⱼ ȳⱼ yⱼ)        JVP  ẏ = y ⊙ (ẋ − Σⱼ ẋⱼ yⱼ)        (sums over the row, the last axis)
// Both are written with differentiable operations on y, so higher derivatives follow.

/// y = softmax of each row (last axis) of x over the elements the mask keeps; 0 at masked elements and in rows
/// with no kept element. Inputs: x, and the Bool mask (broadcasting to x's shape; no derivative), an input so that
/// a batching rule sees each example's mask.
struct MaskedSoftmax: Primitive {
    var name: String { "softmax(where:)" }
    var sparsity: SparsityRule { .wholeLine(axis: -1) }
    var savesInputs: Bool { false }
    var savesOutput: Bool { true }

    /// y ⊙ (v − Σ_row v ⊙ y), for v a tangent or cotangent with leading batch dimensions. When the rule's result
    /// is not differentiated, one kernel computes it (`Route.fused`; the checks run both ways).
    private func apply(_ ctx: RuleContext, _ v: AnyTensor) -> AnyTensor {
        let y = ctx.output
        if !ctx.isDifferentiable && Routes.take(.fused, self) { return fusedApply(y.value, v.value) }
        return y * (v - (v * y).sum(axes: [v.rank - 1], keep: true))
    }
    func vjp(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?] { [apply(ctx, cotangent), nil] }
    func jvp(_ ctx: RuleContext, _ tangents: [AnyTensor?]) -> AnyTensor? { tangents[0].map { apply(ctx, $0) } }

    /// `apply` on values, one pass over each row of v.
    private func fusedApply(_ y: AnyTensor, _ v: AnyTensor) -> AnyTensor {
        let out = AnyTensor(uninitialized: v.scalarType, shape: v.shape)
        let n = y.shape[y.rank - 1], rows = n == 0 ? 0 : y.count / n
        let batch = y.count == 0 ? 0 : v.count / y.count
        switch v.scalarType {
        case .float32:
            Kernel.launch("softmax map", y.storage, v.storage, out.storage, (Int64(rows), Int64(n), Int64(batch))) {
                ag_softmax_map_f32($1.0, $1.1, $1.2, $0.f32(0), $0.f32(1), $0.f32(2))
            }
        case .float64:
            Kernel.launch("softmax map", y.storage, v.storage, out.storage, (Int64(rows), Int64(n), Int64(batch))) {
                ag_softmax_map_f64($1.0, $1.1, $1.2, $0.f64(0), $0.f64(1), $0.f64(2))
            }
        case .bool, .int32: Kernel.noKernel("softmax(where:)", v.scalarType)
        }
        return out
    }
}

/// The masked softmax of x's rows; `mask` (Bool) broadcasts to x's shape, which has at least one axis.
func maskedSoftmax(_ x: AnyTensor, mask: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    let keep = Kernel.expand(mask, to: x.shape)
    let y = AnyTensor(uninitialized: x.scalarType, shape: x.shape)
    let n = x.shape[x.rank - 1], rows = n == 0 ? 0 : x.count / n
    switch x.scalarType {
    case .float32:
        Kernel.launch("masked softmax", x.storage, keep.storage, y.storage, (rows, n)) { p, q in
            maskedSoftmaxRows(p.f32(0), p.u8(1), p.f32(2), rows: q.0, n: q.1) { ag_unary_f32(AG_UNARY_EXP, Int64($2), $0, $1) }
        }
    case .float64:
        Kernel.launch("masked softmax", x.storage, keep.storage, y.storage, (rows, n)) { p, q in
            maskedSoftmaxRows(p.f64(0), p.u8(1), p.f64(2), rows: q.0, n: q.1) { ag_unary_f64(AG_UNARY_EXP, Int64($2), $0, $1) }
        }
    case .bool, .int32: Kernel.noKernel("softmax(where:)", x.scalarType)
    }
    return record(MaskedSoftmax(), [x, mask], y, at: loc)
}

/// Three passes: each row's largest kept element m (0 if none is finite), y = x − m where kept and −∞ elsewhere;
/// y = eʸ for all elements at once (the vectorized kernel); then each row divided by its sum (by 1 for a row
/// whose sum is 0, which leaves its zeros; a NaN among the kept elements makes its row NaN, as in softmax).
private func maskedSoftmaxRows<T: BinaryFloatingPoint>(
    _ x: UnsafeMutablePointer<T>, _ keep: UnsafeMutablePointer<UInt8>, _ y: UnsafeMutablePointer<T>, rows: Int,
    n: Int, _ exp: (UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, Int) -> Void
) {
    for r in 0..<rows {
        let o = r * n
        var m = -T.infinity
        for i in 0..<n where keep[o + i] != 0 && x[o + i] > m { m = x[o + i] }
        if !m.isFinite { m = 0 }
        for i in 0..<n { y[o + i] = keep[o + i] != 0 ? x[o + i] - m : -T.infinity }
    }
    exp(y, y, rows * n)
    for r in 0..<rows {
        let o = r * n
        var total: T = 0
        for i in 0..<n { total += y[o + i] }
        let scale = total == 0 ? 1 : 1 / total
        for i in 0..<n { y[o + i] *= scale }
    }
}

import CAutogradKernels

// The core of layer normalization as one primitive: each row (the last axis) standardized,
//     ŷ = (x − μ) r,   μ = mean of the row,   r = 1 / √(σ² + ε),   σ² = mean of (x − μ)² (the population variance).
// On a row of n elements its Jacobian is symmetric, J = r (I − 𝟙𝟙ᵀ/n − ŷŷᵀ/n), so both rules are one map of v:
//     VJP  x̄ = r (ȳ − mean ȳ − ŷ mean(ȳ ⊙ ŷ))        JVP  ẏ = r (ẋ − mean ẋ − ŷ mean(ẋ ⊙ ŷ))    (means over the row)
// stated once (`apply`) with differentiable operations on x, so derivatives of every order follow. When the rule's
// result is not differentiated, the fused kernel computes the same map in one pass over each row from the saved ŷ
// and r (`Route.fused`; the checks run both ways). As a composite of mean, subtract, square, add, pow and multiply
// it cost about eight passes forward and as many again for a gradient; here it is three forward and two back.

/// ŷ = (x − mean) / √(variance + ε) over the last axis.
struct LayerNormalization: Primitive {
    let epsilon: Double
    /// r per row, from the forward kernel (rows of x in order), for the fused rule.
    let rstd: AnyTensor
    var name: String { "layerNorm" }
    var sparsity: SparsityRule { .wholeLine(axis: -1) }
    var savesOutput: Bool { true }

    /// r (v − mean v − ŷ mean(v ⊙ ŷ)) over each row, for v a tangent or cotangent with leading batch dimensions.
    private func apply(_ ctx: RuleContext, _ v: AnyTensor) -> AnyTensor {
        if !ctx.isDifferentiable && Routes.take(.fused, self) { return fusedApply(ctx.output.value, v.value) }
        let x = ctx.input(0)
        let n = Double(x.shape[x.rank - 1]), last = [x.rank - 1], vLast = [v.rank - 1]
        let deviation = x - x.sum(axes: last, keep: true) * (1 / n)
        let r = ((deviation * deviation).sum(axes: last, keep: true) * (1 / n) + epsilon).pow(-0.5)
        let yhat = deviation * r
        return r * (v - v.sum(axes: vLast, keep: true) * (1 / n) - yhat * (v * yhat).sum(axes: vLast, keep: true) * (1 / n))
    }

    func vjp(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?] { [apply(ctx, cotangent)] }
    func jvp(_ ctx: RuleContext, _ tangents: [AnyTensor?]) -> AnyTensor? { tangents[0].map { apply(ctx, $0) } }

    /// The map on values, one kernel: v may carry leading batch dimensions in front of ŷ's shape.
    private func fusedApply(_ yhat: AnyTensor, _ v: AnyTensor) -> AnyTensor {
        let out = AnyTensor(uninitialized: v.scalarType, shape: v.shape)
        let n = yhat.shape[yhat.rank - 1], rows = n == 0 ? 0 : yhat.count / n
        let batch = yhat.count == 0 ? 0 : v.count / yhat.count
        switch v.scalarType {
        case .float32:
            Kernel.launch("layer norm map", yhat.storage, rstd.storage, v.storage, out.storage,
                          (Int64(rows), Int64(n), Int64(batch))) {
                ag_layer_norm_map_f32($1.0, $1.1, $1.2, $0.f32(0), $0.f32(1), $0.f32(2), $0.f32(3))
            }
        case .float64:
            Kernel.launch("layer norm map", yhat.storage, rstd.storage, v.storage, out.storage,
                          (Int64(rows), Int64(n), Int64(batch))) {
                ag_layer_norm_map_f64($1.0, $1.1, $1.2, $0.f64(0), $0.f64(1), $0.f64(2), $0.f64(3))
            }
        case .bool, .int32: Kernel.noKernel("layerNorm", v.scalarType)
        }
        return out
    }
}

/// Layer normalization of x's rows (its last axis, of at least one element), recorded: the kernel's ŷ and r.
func layerNormalized(_ x: AnyTensor, epsilon: Double, at loc: CallSite? = nil) -> AnyTensor {
    let y = AnyTensor(uninitialized: x.scalarType, shape: x.shape)
    let n = x.shape[x.rank - 1], rows = n == 0 ? 0 : x.count / n
    let rstd = AnyTensor(uninitialized: x.scalarType, shape: [rows])
    switch x.scalarType {
    case .float32:
        Kernel.launch("layer norm", x.storage, y.storage, rstd.storage, writes: 2,
                      (Int64(rows), Int64(n), Float(epsilon))) {
            ag_layer_norm_f32($1.0, $1.1, $0.f32(0), $1.2, $0.f32(1), $0.f32(2))
        }
    case .float64:
        Kernel.launch("layer norm", x.storage, y.storage, rstd.storage, writes: 2, (Int64(rows), Int64(n), epsilon)) {
            ag_layer_norm_f64($1.0, $1.1, $0.f64(0), $1.2, $0.f64(1), $0.f64(2))
        }
    case .bool, .int32: Kernel.noKernel("layerNorm", x.scalarType)
    }
    return record(LayerNormalization(epsilon: epsilon, rstd: rstd), x, y, at: loc)
}

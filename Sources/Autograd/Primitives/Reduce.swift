import CAutogradKernels

// Reductions over chosen axes. `axes` are normalized (0 ..< rank of the input, ascending); rules shift them by
// the batch rank, since tangents and cotangents carry batch dimensions in front.

/// y = Σ over `axes` of x (axes removed unless `keep`). Linear:
///     ẏ = Σ_axes ẋ;   x̄ = ȳ with the summed axes reinserted as size 1, then broadcast to x's shape.
struct Sum: LinearPrimitive {
    let axes: [Int]
    let keep: Bool
    var name: String { "sum" }
    var sparsity: SparsityRule { .targets }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let b = ctx.batchShape.count
        return t[0].map { $0.sum(axes: axes.map { $0 + b }, keep: keep) }
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        [g.reshaped(ctx.batchShape + keptShape(ctx.inputShape(0), axes)).expanded(to: ctx.batched(ctx.inputShape(0)))]
    }
}

/// `shape` with `axes` set to 1 (the shape of a reduction that keeps dimensions).
func keptShape(_ shape: [Int], _ axes: [Int]) -> [Int] {
    var s = shape
    for a in axes { s[a] = 1 }
    return s
}

/// y = max (or min) over `axes` of x. The derivative goes to the elements that attain the extreme; when several
/// tie, it is split evenly among them (mask / count), so the result is the average of the one-sided choices.
///     m = (x == y, broadcast) / count;   ẏ = Σ_axes (m ⊙ ẋ);   x̄ = m ⊙ broadcast(ȳ).
struct ReduceExtremum: Primitive {
    let axes: [Int]
    let keep: Bool
    let isMaximum: Bool
    var name: String { isMaximum ? "max" : "min" }
    var sparsity: SparsityRule { .reduction(axes: axes, keep: keep) }
    var savesOutput: Bool { true }
    private func weights(_ ctx: RuleContext) -> AnyTensor {
        let (axes, name) = (self.axes, self.name)
        return valueFunction(name + " weights", [ctx.input(0), ctx.output]) { v, b in
            let x = v[0]
            let y = v[1].reshaped(Array(x.shape.prefix(b)) + keptShape(Array(x.shape.dropFirst(b)), axes))
            let mask = Kernel.convert(Kernel.compare(AG_COMPARE_EQ, x, y, name, at: nil), to: x.scalarType)
            let count = Kernel.reduce(AG_REDUCE_SUM, mask, axes: axes.map { $0 + b }, keep: true)
            return Kernel.binary(AG_BINARY_DIV, mask, count, name, at: nil)
        }
    }
    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let kept = g.reshaped(ctx.batchShape + keptShape(ctx.inputShape(0), axes))
        return [kept * weights(ctx)]
    }
    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let b = ctx.batchShape.count
        return t[0].map { ($0 * weights(ctx)).sum(axes: axes.map { $0 + b }, keep: keep) }
    }
}

extension AnyTensor {
    /// Σ over normalized `axes`.
    func sum(axes: [Int], keep: Bool, at loc: CallSite? = nil) -> AnyTensor {
        if axes.isEmpty { return self }
        return record(Sum(axes: axes, keep: keep), self, Kernel.reduce(AG_REDUCE_SUM, self, axes: axes, keep: keep),
                      at: loc)
    }

    /// Σ over all elements (a 0-d tensor).
    func sum() -> AnyTensor { sum(axes: Array(0..<rank), keep: false) }

    func extremum(axes: [Int], keep: Bool, maximum: Bool, at loc: CallSite? = nil) -> AnyTensor {
        record(ReduceExtremum(axes: axes, keep: keep, isMaximum: maximum), self,
               Kernel.reduce(maximum ? AG_REDUCE_MAX : AG_REDUCE_MIN, self, axes: axes, keep: keep), at: loc)
    }

    /// Sums a tensor shaped `batch + s` (s broadcast from `shape`) back to `batch + shape`: the sum over the axes
    /// broadcasting added (leading ones after the batch, and those where `shape` has 1).
    func unbroadcast(to shape: [Int], batchRank: Int) -> AnyTensor {
        let target = Array(self.shape.prefix(batchRank)) + shape
        if self.shape == target { return self }
        let extra = rank - batchRank - shape.count
        var axes = Array(batchRank..<(batchRank + extra))
        for (i, d) in shape.enumerated() where d == 1 && self.shape[batchRank + extra + i] != 1 {
            axes.append(batchRank + extra + i)
        }
        return sum(axes: axes, keep: true).reshaped(target)
    }
}

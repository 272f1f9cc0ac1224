// Primitives that move data without arithmetic: all linear, so each needs only `apply` (its forward rule is itself)
// and its transpose. Pairs that are each other's transpose: reshape ↔ reshape, permute ↔ inverse permute,
// expand ↔ sum (un-broadcast), slice ↔ embed (pad with zeros), gather ↔ scatter-add, concatenate ↔ slices.
// Axes are normalized to the input's rank; rules shift them past the batch dimensions.

/// y = x with a new shape of the same element count (shares the buffer; no copy).
///     ẏ = reshape(ẋ);  x̄ = reshape(ȳ) back to x's shape.
struct Reshape: LinearPrimitive {
    let shape: [Int]
    var name: String { "reshape" }
    var sparsity: SparsityRule { .sources }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? { t[0].map { $0.reshaped(ctx.batched(shape)) } }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] { [g.reshaped(ctx.batched(ctx.inputShape(0)))] }
    func plainJVP(_ x: AnyTensor, _ t: AnyTensor, _ y: AnyTensor, batchShape: [Int]) -> AnyTensor? {
        AnyTensor(storage: t.storage, shape: batchShape.isEmpty ? shape : batchShape + shape)
    }
    func plainJVP(_ x: AnyTensor, tangentBuffer: Storage, _ y: AnyTensor) -> Storage? { tangentBuffer }
}

/// y = x with its axes reordered: y's axis i is x's axis `permutation[i]`.
///     ẏ = permute(ẋ);  x̄ = inverse-permute(ȳ).
struct Permute: LinearPrimitive {
    let permutation: [Int]
    var name: String { "permute" }
    var sparsity: SparsityRule { .sources }
    private func shifted(_ p: [Int], _ b: Int) -> [Int] { b == 0 ? p : Array(0..<b) + p.map { $0 + b } }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        t[0].map { $0.permuted(shifted(permutation, ctx.batchShape.count)) }
    }
    func plainJVP(_ x: AnyTensor, _ t: AnyTensor, _ y: AnyTensor, batchShape: [Int]) -> AnyTensor? {
        // Unbatched, ṫ has x's shape, so the result has y's.
        batchShape.isEmpty ? Kernel.permute(t, permutation, shape: y.shape)
            : Kernel.permute(t, shifted(permutation, batchShape.count))
    }
    /// Moving only axes of length 1 keeps every element in place: ẏ is ẋ's buffer (see `Kernel.permute`).
    func plainJVP(_ x: AnyTensor, tangentBuffer: Storage, _ y: AnyTensor) -> Storage? {
        Kernel.permutationKeepsOrder(x.shape, permutation) ? tangentBuffer
            : plainJVPOnTensors(x, tangentBuffer: tangentBuffer, y)
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        var inverse = [Int](repeating: 0, count: permutation.count)
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return [g.permuted(shifted(inverse, ctx.batchShape.count))]
    }
}

/// y = x broadcast to a larger shape (NumPy rules), materialized.
///     ẏ = broadcast(ẋ);  x̄ = un-broadcast(ȳ) (sum over the broadcast axes).
struct Expand: LinearPrimitive {
    let shape: [Int]
    var name: String { "expand" }
    var sparsity: SparsityRule { .sources }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        t[0].map { ctx.aligned($0, input: 0, rank: shape.count).expanded(to: ctx.batchShape + shape) }
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] { [ctx.unbroadcast(g, toInput: 0)] }
}

/// One axis of a slice: `count` elements starting at `start`, every `step`-th.
struct SliceAxis: Sendable, Equatable {
    var start: Int
    var count: Int
    var step: Int
    static func all(_ n: Int) -> SliceAxis { SliceAxis(start: 0, count: n, step: 1) }
}

/// y = a strided sub-block of x (one `SliceAxis` per axis of x).
///     ẏ = slice(ẋ);  x̄ = embed(ȳ): zeros of x's shape with ȳ written at the sliced positions.
struct Slice: LinearPrimitive {
    let axes: [SliceAxis]
    var name: String { "slice" }
    var sparsity: SparsityRule { .sources }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        t[0].map { $0.sliced(ctx.batchShape.map(SliceAxis.all) + axes) }
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        [g.embedded(into: ctx.batched(ctx.inputShape(0)), at: ctx.batchShape.map(SliceAxis.all) + axes)]
    }
}

/// y = zeros of `shape` with x written at the positions `axes` select: the transpose of `Slice`.
///     ẏ = embed(ẋ);  x̄ = slice(ȳ).
struct Embed: LinearPrimitive {
    let shape: [Int]
    let axes: [SliceAxis]
    var name: String { "embed" }
    var sparsity: SparsityRule { .sources }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        t[0].map { $0.embedded(into: ctx.batchShape + shape, at: ctx.batchShape.map(SliceAxis.all) + axes) }
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        [g.sliced(ctx.batchShape.map(SliceAxis.all) + axes)]
    }
}

/// y = x indexed along `axis` by a list of integer positions (NumPy `take`): y[…, j, …] = x[…, indices[j], …].
///     ẏ = gather(ẋ);  x̄ = scatter-add(ȳ): zeros with ȳ's slices added at `indices` (repeats accumulate).
struct Gather: LinearPrimitive {
    let axis: Int
    let indices: [Int]
    var name: String { "gather" }
    var sparsity: SparsityRule { .sources }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        t[0].map { $0.gathered(axis: axis + ctx.batchShape.count, indices: indices) }
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        [g.scatterAdded(axis: axis + ctx.batchShape.count, indices: indices, size: ctx.inputShape(0)[axis])]
    }
}

/// y = zeros of length `size` along `axis` with x's slices added at `indices`: the transpose of `Gather`.
///     ẏ = scatter-add(ẋ);  x̄ = gather(ȳ).
struct ScatterAdd: LinearPrimitive {
    let axis: Int
    let indices: [Int]
    let size: Int
    var name: String { "scatter-add" }
    var sparsity: SparsityRule { .targets }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        t[0].map { $0.scatterAdded(axis: axis + ctx.batchShape.count, indices: indices, size: size) }
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        [g.gathered(axis: axis + ctx.batchShape.count, indices: indices)]
    }
}

/// y = inputs joined along `axis`.
///     ẏ = concatenate(ẋ₁, ẋ₂, …) (zeros for missing tangents);  x̄ᵢ = the slice of ȳ where xᵢ sits.
struct Concatenate: LinearPrimitive {
    let axis: Int
    var name: String { "concatenate" }
    var sparsity: SparsityRule { .targets }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        guard let some = t.first(where: { $0 != nil }) ?? nil else { return nil }
        let parts = t.enumerated().map { i, ti in
            ti ?? AnyTensor.filled(0, like: some, shape: ctx.batchShape + ctx.inputShape(i))
        }
        return AnyTensor.concatenated(parts, axis: axis + ctx.batchShape.count)
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let b = ctx.batchShape.count
        var start = 0
        return (0..<ctx.inputCount).map { i in
            let shape = ctx.inputShape(i)
            defer { start += shape[axis] }
            guard ctx.needs(i) else { return nil }
            var axes = g.shape.map(SliceAxis.all)
            axes[axis + b] = SliceAxis(start: start, count: shape[axis], step: 1)
            return g.sliced(axes)
        }
    }
}

// MARK: - Differentiable functions on AnyTensor

extension AnyTensor {
    /// Same elements, new shape (element counts must match; checked by the public API).
    func reshaped(_ newShape: [Int], at loc: CallSite? = nil) -> AnyTensor {
        if newShape == shape { return self }
        return record(Reshape(shape: newShape), self, AnyTensor(storage: storage, shape: newShape), at: loc)
    }

    func permuted(_ permutation: [Int], at loc: CallSite? = nil) -> AnyTensor {
        if permutation.indices.allSatisfy({ permutation[$0] == $0 }) && permutation.count == rank { return self }
        return record(Permute(permutation: permutation), self, Kernel.permute(self, permutation), at: loc)
    }

    func expanded(to newShape: [Int], at loc: CallSite? = nil) -> AnyTensor {
        if newShape == shape { return self }
        return record(Expand(shape: newShape), self, Kernel.expand(self, to: newShape), at: loc)
    }

    func sliced(_ axes: [SliceAxis], at loc: CallSite? = nil) -> AnyTensor {
        if axes == shape.map(SliceAxis.all) { return self }
        let strides = Shape.strides(shape)
        var offset = 0
        for (d, a) in axes.enumerated() where a.count > 0 { offset += a.start * strides[d] }
        let y = Kernel.gatherStrided(self, shape: axes.map(\.count),
                                     strides: zip(axes, strides).map { $0.step * $1 }, offset: offset)
        return record(Slice(axes: axes), self, y, at: loc)
    }

    func embedded(into fullShape: [Int], at axes: [SliceAxis], at loc: CallSite? = nil) -> AnyTensor {
        let y = Kernel.filled(scalarType, fullShape, 0)
        let strides = Shape.strides(fullShape)
        var offset = 0
        for (d, a) in axes.enumerated() where a.count > 0 { offset += a.start * strides[d] }
        Kernel.scatterStrided(self, into: y, shape: shape, strides: zip(axes, strides).map { $0.step * $1 },
                              offset: offset)
        return record(Embed(shape: fullShape, axes: axes), self, y, at: loc)
    }

    func gathered(axis: Int, indices: [Int], at loc: CallSite? = nil) -> AnyTensor {
        record(Gather(axis: axis, indices: indices), self, Kernel.gather(self, axis: axis, indices: indices), at: loc)
    }

    func scatterAdded(axis: Int, indices: [Int], size: Int, at loc: CallSite? = nil) -> AnyTensor {
        record(ScatterAdd(axis: axis, indices: indices, size: size), self,
               Kernel.scatterAdd(self, axis: axis, indices: indices, size: size), at: loc)
    }

    static func concatenated(_ xs: [AnyTensor], axis: Int, at loc: CallSite? = nil) -> AnyTensor {
        if xs.count == 1 { return xs[0] }
        return record(Concatenate(axis: axis), xs, Kernel.concatenate(xs, axis: axis), at: loc)
    }
}

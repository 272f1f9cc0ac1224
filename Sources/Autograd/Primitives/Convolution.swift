// Convolution and pooling. Two linear primitives, each the other's transpose, carry all of it:
//
//     unfold (im2col): x [..., N, C, H, W] → columns [..., C·kh·kw, N·OH·OW], zeros where a window lies in the
//                      padding, the N images side by side along each row
//     fold (col2im):   columns → x, each column entry added where unfold reads it from
//
// A convolution is then one matrix product of the weight with the unfolded batch (groups as a batch dimension of
// that product) and a permutation of its [O, N, OH·OW] result into [N, O, OH, OW]; a transposed convolution is a
// matrix product followed by a fold, average pooling a mean over the unfolded taps, and
// max pooling a gather at the positions of the window maxima. Their derivatives, of every order and in every mode,
// come from the rules of unfold, fold, matmul and gather: nothing here states a derivative of a convolution.
// The kernels accept any leading dimensions (all merged into planes), so batches of tangents or cotangents need
// nothing special.

/// y = unfold(x): the im2col map of `window`, x [..., N, C, H, W] → y [..., C·kh·kw, N·OH·OW]:
///     y[c·kh·kw + i·kw + j, n·OH·OW + oy·OW + ox] = x[n, c, oy·sh − top + i·dh, ox·sw − left + j·dw]
///     (0 in the padding).
///     ẏ = unfold(ẋ);  x̄ = fold(ȳ).
struct Unfold: LinearPrimitive {
    let window: Window2d
    var name: String { "unfold" }
    var sparsity: SparsityRule { .sources }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? { t[0].map { $0.unfolded(window) } }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let x = ctx.inputShape(0)
        return [g.folded(window, images: x[x.count - 4])]
    }
}

/// y = fold(x): the col2im map of `window`, x [..., C·kh·kw, N·OH·OW] → y [..., N, C, H, W] (N = `images`): the
/// transpose of `Unfold`.
///     ẏ = fold(ẋ);  x̄ = unfold(ȳ).
struct Fold: LinearPrimitive {
    let window: Window2d
    let images: Int
    var name: String { "fold" }
    var sparsity: SparsityRule { .targets }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        t[0].map { $0.folded(window, images: images) }
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] { [g.unfolded(window)] }
}

/// y = x read at the positions of its window maxima: x [..., P..., H, W] → y [..., P..., OH, OW], where the
/// pooled shape `inputShape` = [P..., H, W] and `outputShape` = [P..., OH, OW] are the trailing axes and any
/// leading ones (batches of tangents or cotangents) are carried along. The positions (flat in `inputShape`, one per
/// output, an Int32 tensor computed by the max-pool kernel) are found on the pooled value when the operation runs;
/// y is linear in x for them.
///     ẏ = ẋ at the positions;  x̄ = max-pool-scatter(ȳ): ȳ added at the positions, zeros elsewhere.
/// Its sparsity rule is the whole window (which element is the maximum depends on the point).
struct MaxPoolGather: LinearPrimitive {
    let window: Window2d
    let positions: AnyTensor
    let inputShape: [Int], outputShape: [Int]
    var name: String { "max-pool" }
    var sparsity: SparsityRule { .window(self, scatter: false) }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? { t[0].map { $0.maxPoolGathered(self) } }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] { [g.maxPoolScattered(self)] }
}

/// The transpose of `MaxPoolGather`: y [..., inputShape] is zeros with x [..., outputShape] added at the positions.
///     ẏ = max-pool-scatter(ẋ);  x̄ = ȳ at the positions.
struct MaxPoolScatter: LinearPrimitive {
    let gather: MaxPoolGather
    var name: String { "max-pool-scatter" }
    var sparsity: SparsityRule { .window(gather, scatter: true) }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? { t[0].map { $0.maxPoolScattered(gather) } }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] { [g.maxPoolGathered(gather)] }
}

extension AnyTensor {
    /// im2col over the last four axes [N, C, H, W] into [C·kh·kw, N·OH·OW] (rank ≥ 4; checked by the public API).
    func unfolded(_ window: Window2d, at loc: CallSite? = nil) -> AnyTensor {
        record(Unfold(window: window), self, Kernel.unfold(self, window), at: loc)
    }

    /// col2im over the last two axes [C·kh·kw, N·OH·OW] into [N, C, H, W], N = `images` (rank ≥ 2; checked by the
    /// public API).
    func folded(_ window: Window2d, images: Int, at loc: CallSite? = nil) -> AnyTensor {
        record(Fold(window: window, images: images), self, Kernel.fold(self, window, images: images), at: loc)
    }

    /// The 2-d convolution (cross-correlation) of x [N, C, H, W] with weight [O, C/G, kh, kw] over `window`, in
    /// `groups` groups, plus bias [O]: y [N, O, OH, OW]. Arguments are checked by the public API.
    func convolved2d(weight: AnyTensor, bias: AnyTensor?, window g: Window2d, groups: Int,
                     at loc: CallSite? = nil) -> AnyTensor {
        let n = shape[0], c = shape[1], o = weight.shape[0]
        let k = c / groups * g.taps
        let cols = unfolded(g, at: loc)                                                  // [C·kh·kw, N·L]
        var y: AnyTensor
        if groups == 1 {
            y = matmul(weight.reshaped([o, k], at: loc), cols, at: loc)                      // [O, N·L]
        } else {
            y = matmul(weight.reshaped([groups, o / groups, k], at: loc),
                       cols.reshaped([groups, k, n * g.positions], at: loc), at: loc)        // [G, O/G, N·L]
                .reshaped([o, n * g.positions], at: loc)
        }
        if let bias { y = y + bias.reshaped([o, 1], at: loc) }
        // [O, N, L] → [N, O, L]: one copy.
        return y.reshaped([o, n, g.outHeight, g.outWidth], at: loc).permuted([1, 0, 2, 3], at: loc)
    }

    /// The transposed convolution: the adjoint in x of `convolved2d` with the same weight [Cin, Cout/G, kh, kw] and
    /// `window` (whose input plane is this result's, whose output plane is x's), plus bias [Cout]:
    /// x [N, Cin, H, W] → y [N, Cout, window.height, window.width].
    func convolvedTransposed2d(weight: AnyTensor, bias: AnyTensor?, window g: Window2d, groups: Int,
                               at loc: CallSite? = nil) -> AnyTensor {
        let n = shape[0], cin = shape[1], cout = weight.shape[1] * groups
        let k = cout / groups * g.taps
        // x [N, Cin, L] → [Cin, N·L] (one copy), so that one product per group gives all the images' columns.
        let batch = reshaped([n, cin, g.positions], at: loc).permuted([1, 0, 2], at: loc)
        let cols = matmul(weight.reshaped([groups, cin / groups, k], at: loc),
                          batch.reshaped([groups, cin / groups, n * g.positions], at: loc), transposeA: true, at: loc)
        var y = cols.reshaped([cout * g.taps, n * g.positions], at: loc).folded(g, images: n, at: loc)
        if let bias { y = y + bias.reshaped([cout, 1, 1], at: loc) }
        return y
    }

    /// Average pooling of x [..., C, H, W] over the windows of `g` (padding counted as zeros in the average).
    func averagePooled2d(_ g: Window2d, at loc: CallSite? = nil) -> AnyTensor {
        let lead = Array(shape.dropLast(2))
        let planes = Shape.count(lead)
        let cols = reshaped([1, planes, g.height, g.width], at: loc).unfolded(g, at: loc)  // [P·kh·kw, L]
        let mean = cols.reshaped([planes, g.taps, g.positions], at: loc).sum(axes: [1], keep: false, at: loc)
            * (1 / Double(g.taps))
        return mean.reshaped(lead + [g.outHeight, g.outWidth], at: loc)
    }

    /// Max pooling of x [..., H, W] over the windows of `g` (padding as −∞): x gathered at the positions of the
    /// window maxima, found on the value; every window must hold an element of x (checked by the public API).
    func maxPooled2d(_ g: Window2d, at loc: CallSite? = nil) -> AnyTensor {
        VMapTracing.noteValueDependence(self, "max pooling")
        let (values, positions) = Kernel.maxPool(value, g)
        return record(MaxPoolGather(window: g, positions: positions, inputShape: shape, outputShape: values.shape),
                      self, values, at: loc)
    }

    /// `MaxPoolGather` applied to [..., inputShape] (leading axes carried along).
    func maxPoolGathered(_ p: MaxPoolGather) -> AnyTensor {
        let lead = Array(shape.dropLast(p.inputShape.count))
        let y = Kernel.gatherPositions(self, outer: Shape.count(lead), n: Shape.count(p.inputShape),
                                       positions: p.positions)
        return record(p, self, AnyTensor(storage: y.storage, shape: lead + p.outputShape))
    }

    /// `MaxPoolScatter` applied to [..., outputShape] (leading axes carried along).
    func maxPoolScattered(_ p: MaxPoolGather) -> AnyTensor {
        let lead = Array(shape.dropLast(p.outputShape.count))
        let y = Kernel.scatterAddPositions(self, outer: Shape.count(lead), n: Shape.count(p.inputShape),
                                           positions: p.positions)
        return record(MaxPoolScatter(gather: p), self, AnyTensor(storage: y.storage, shape: lead + p.inputShape))
    }
}

// Batching rules (`vmap`): each primitive applied to a batch of examples at once. A rule receives the inputs with
// the example axis first where they are mapped (`BatchingContext.mapped`) and returns the output with the example
// axis first, computed with the same differentiable operations the primitive's own function uses, so derivatives
// (and enclosing vmaps) see through the batched program as through the original one.
//
// Most primitives belong to a family with one shared rule:
// - elementwise of one input: the same operation on the batched input (its shape does not matter);
// - broadcasting (binary operations, `where`): each mapped input gets size-1 axes after its example axis so that
//   it lines up with the per-example output's rank; NumPy broadcasting then pairs examples with examples and
//   repeats unmapped inputs;
// - reductions, scans and movement along axes: the same operation with every axis shifted by one;
// - the matrix product: the example axis folded into the rows when only the left operand is mapped, a batched
//   product otherwise, and a broadcast multiplication (an outer product, each output element written once) when
//   the inner dimension is 1, the per-example weight gradient of a dense layer.
// - primitives already batched over leading axes (solves, factorizations, convolution windows, gathers along an
//   axis with shared positions, masked softmax, layer normalization, linear recurrences): the same operation, the
//   example axis one more leading axis.
// Primitives without a rule (custom operations) make `vmap` loop, and so do programs whose course depends on the
// mapped values (sorts, argmax, max pooling: their positions are read from one example's values
// when the trace runs, and a rule would need every example's, which the recorded program does not recompute).

/// What a batching rule sees: the inputs (mapped ones with the example axis first), which are mapped, and the
/// per-example shapes of the inputs and the output.
struct BatchingContext {
    let inputs: [AnyTensor]
    let mapped: [Bool]
    /// The shape of each input for one example (without the example axis).
    let inputShapes: [[Int]]
    /// The shape of the output for one example.
    let outputShape: [Int]
    /// The number of examples, N.
    let batchSize: Int

    /// Input i lined up for broadcasting against outputs of the per-example output's rank: a mapped input shaped
    /// `[N] + s` becomes `[N, 1, …, 1] + s` (rank 1 + output rank); an unmapped one is returned as it is.
    func aligned(_ i: Int) -> AnyTensor {
        let s = inputShapes[i], r = outputShape.count
        guard mapped[i], s.count < r else { return inputs[i] }
        return inputs[i].reshaped([batchSize] + [Int](repeating: 1, count: r - s.count) + s)
    }

    /// Input i broadcast to `[N] + outputShape` (materialized), for operations that need equal shapes.
    func full(_ i: Int) -> AnyTensor {
        let x = mapped[i] ? aligned(i) : inputs[i]
        return x.expanded(to: [batchSize] + outputShape)
    }

    /// Input i with the example axis first, repeated N times if it is not mapped.
    func stacked(_ i: Int) -> AnyTensor {
        mapped[i] ? inputs[i] : inputs[i].reshaped([1] + inputShapes[i]).expanded(to: [batchSize] + inputShapes[i])
    }

    /// Axes of one example shifted past the example axis.
    static func shifted(_ axes: [Int]) -> [Int] { axes.map { $0 + 1 } }

    /// `axes` of one example's slicing with the example axis (taken whole) in front.
    func withExampleAxis(_ axes: [SliceAxis]) -> [SliceAxis] { [.all(batchSize)] + axes }
}

// MARK: - Elementwise of one input

extension Exp { func batched(_ c: BatchingContext) -> AnyTensor? { exp(c.inputs[0]) } }
extension Log { func batched(_ c: BatchingContext) -> AnyTensor? { log(c.inputs[0]) } }
extension Log1p { func batched(_ c: BatchingContext) -> AnyTensor? { log1p(c.inputs[0]) } }
extension Sqrt { func batched(_ c: BatchingContext) -> AnyTensor? { sqrt(c.inputs[0]) } }
extension Sin { func batched(_ c: BatchingContext) -> AnyTensor? { sin(c.inputs[0]) } }
extension Cos { func batched(_ c: BatchingContext) -> AnyTensor? { cos(c.inputs[0]) } }
extension Tanh { func batched(_ c: BatchingContext) -> AnyTensor? { tanh(c.inputs[0]) } }
extension Sigmoid { func batched(_ c: BatchingContext) -> AnyTensor? { sigmoid(c.inputs[0]) } }
extension Abs { func batched(_ c: BatchingContext) -> AnyTensor? { abs(c.inputs[0]) } }
extension Relu { func batched(_ c: BatchingContext) -> AnyTensor? { relu(c.inputs[0]) } }
extension Softplus { func batched(_ c: BatchingContext) -> AnyTensor? { softplus(c.inputs[0]) } }
extension PowScalar { func batched(_ c: BatchingContext) -> AnyTensor? { c.inputs[0].pow(exponent) } }
extension Affine {
    func batched(_ c: BatchingContext) -> AnyTensor? { c.inputs[0].affine(scale: scale, shift: shift) }
}
extension Negate { func batched(_ c: BatchingContext) -> AnyTensor? { -c.inputs[0] } }
extension Convert { func batched(_ c: BatchingContext) -> AnyTensor? { c.inputs[0].converted(to: to) } }
extension Identity { func batched(_ c: BatchingContext) -> AnyTensor? { c.inputs[0].identity() } }
extension Erf { func batched(_ c: BatchingContext) -> AnyTensor? { erf(c.inputs[0]) } }
extension Gelu { func batched(_ c: BatchingContext) -> AnyTensor? { gelu(c.inputs[0]) } }
extension GeluTanh { func batched(_ c: BatchingContext) -> AnyTensor? { geluTanh(c.inputs[0]) } }
extension Silu { func batched(_ c: BatchingContext) -> AnyTensor? { silu(c.inputs[0]) } }
extension LeakyRelu { func batched(_ c: BatchingContext) -> AnyTensor? { leakyRelu(c.inputs[0], slope: slope) } }
extension Elu { func batched(_ c: BatchingContext) -> AnyTensor? { elu(c.inputs[0], alpha: alpha) } }
extension LogSigmoid { func batched(_ c: BatchingContext) -> AnyTensor? { logSigmoid(c.inputs[0]) } }

// MARK: - Broadcasting

extension Add { func batched(_ c: BatchingContext) -> AnyTensor? { c.aligned(0) + c.aligned(1) } }
extension Subtract { func batched(_ c: BatchingContext) -> AnyTensor? { c.aligned(0) - c.aligned(1) } }
extension Multiply { func batched(_ c: BatchingContext) -> AnyTensor? { c.aligned(0) * c.aligned(1) } }
extension Divide { func batched(_ c: BatchingContext) -> AnyTensor? { c.aligned(0) / c.aligned(1) } }
extension Pow { func batched(_ c: BatchingContext) -> AnyTensor? { power(c.aligned(0), c.aligned(1)) } }
extension Extremum {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        isMaximum ? maximum(c.aligned(0), c.aligned(1)) : minimum(c.aligned(0), c.aligned(1))
    }
}
extension Select {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        let y = select(c.aligned(0), c.aligned(1), c.aligned(2))
        return y.shape == [c.batchSize] + c.outputShape ? y : y.expanded(to: [c.batchSize] + c.outputShape)
    }
}
extension BinaryCrossEntropy {
    func batched(_ c: BatchingContext) -> AnyTensor? { binaryCrossEntropy(c.full(0), c.full(1)) }
}

/// v ⊙ f′(s), where v may have more leading axes than s: mapped together, the example axes line up; with only v
/// mapped, its example axis is one more leading axis; with only s mapped, v is repeated per example.
extension DerivativeProduct {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        let sv = c.inputShapes[0], ss = c.inputShapes[1]
        if !c.mapped[1] { return derivativeProduct(c.inputs[0], c.inputs[1], function) }
        guard sv == ss else { return nil }
        return derivativeProduct(c.stacked(0), c.inputs[1], function)
    }
}

// MARK: - Reductions and scans along axes

extension Sum {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        c.inputs[0].sum(axes: BatchingContext.shifted(axes), keep: keep)
    }
}
extension ReduceExtremum {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        c.inputs[0].extremum(axes: BatchingContext.shifted(axes), keep: keep, maximum: isMaximum)
    }
}
extension Norm {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        c.inputs[0].norm(p: p, axes: BatchingContext.shifted(axes), keep: keep)
    }
}
extension CumulativeSum {
    func batched(_ c: BatchingContext) -> AnyTensor? { c.inputs[0].cumulativeSum(axis: axis + 1, reverse: reverse) }
}
/// The axis is counted from the end, so it stays; the coefficients' shape must stay a suffix of the values' shape,
/// so mapped coefficients are broadcast to the values' shape and unmapped values are repeated per example.
extension LinearRecurrence {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        (c.mapped[0] ? c.full(0) : c.inputs[0]).recurrence(c.stacked(1), axisFromEnd: axisFromEnd, reverse: reverse)
    }
}

/// Softmax over the last axis: the batched rows with the mask lined up (an unmapped x is repeated per example).
extension MaskedSoftmax {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        maskedSoftmax(c.mapped[0] ? c.inputs[0] : c.full(0), mask: c.aligned(1))
    }
}

// MARK: - Movement

extension Reshape { func batched(_ c: BatchingContext) -> AnyTensor? { c.inputs[0].reshaped([c.batchSize] + shape) } }
extension Permute {
    func batched(_ c: BatchingContext) -> AnyTensor? { c.inputs[0].permuted([0] + BatchingContext.shifted(permutation)) }
}
extension Expand {
    func batched(_ c: BatchingContext) -> AnyTensor? { c.aligned(0).expanded(to: [c.batchSize] + shape) }
}
extension Slice { func batched(_ c: BatchingContext) -> AnyTensor? { c.inputs[0].sliced(c.withExampleAxis(axes)) } }
extension Embed {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        c.inputs[0].embedded(into: [c.batchSize] + shape, at: c.withExampleAxis(axes))
    }
}
extension Gather {
    func batched(_ c: BatchingContext) -> AnyTensor? { c.inputs[0].gathered(axis: axis + 1, indices: indices) }
}
extension ScatterAdd {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        c.inputs[0].scatterAdded(axis: axis + 1, indices: indices, size: size)
    }
}
extension Concatenate {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        AnyTensor.concatenated(c.inputs.indices.map { c.stacked($0) }, axis: axis + 1)
    }
}

/// Index tensors (positions, not inputs) are shared by the examples; the kernels reuse them over leading axes.
extension GatherAlong {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        c.inputs[0].gatheredAlong(axis: axis + 1, indices: indices, fromValues: fromValues)
    }
}
extension ScatterAddAlong {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        c.inputs[0].scatterAddedAlong(axis: axis + 1, indices: indices, size: size, fromValues: fromValues)
    }
}

// MARK: - Convolution windows

/// Unfold and fold act on the trailing image (or column) axes and merge any leading ones into planes, so the
/// example axis joins the image batch N; the rest of a convolution (matrix products, reshapes) has its own rules,
/// mapped weights included (a batched product per example).
extension Unfold { func batched(_ c: BatchingContext) -> AnyTensor? { c.inputs[0].unfolded(window) } }
extension Fold {
    func batched(_ c: BatchingContext) -> AnyTensor? { c.inputs[0].folded(window, images: images) }
}
extension LayerNormalization {
    func batched(_ c: BatchingContext) -> AnyTensor? { layerNormalized(c.inputs[0], epsilon: epsilon) }
}

// MARK: - Matrix product

extension MatMul {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        let a = c.inputs[0], b = c.inputs[1], sa = c.inputShapes[0], sb = c.inputShapes[1], n = c.batchSize
        let inner = transposeA ? sa[sa.count - 2] : sa[sa.count - 1]
        if c.mapped[0] && c.mapped[1] && inner == 1 && sa.count == 2 && sb.count == 2 {
            // One outer product per example: op(a) is a column, op(b) a row; a broadcast multiplication writes
            // each output element once (a product with inner dimension 1 would spend its time packing).
            let rows = transposeA ? sa[1] : sa[0], columns = transposeB ? sb[0] : sb[1]
            return a.reshaped([n, rows, 1]) * b.reshaped([n, 1, columns])
        }
        if c.mapped[0] && !c.mapped[1] && !transposeA && sb.count == 2 {
            // A batch times one matrix: the examples' rows stacked into one product.
            let rows = n * sa.dropLast().reduce(1, *)
            return matmul(a.reshaped([rows, inner]), b, transposeA: false, transposeB: transposeB)
                .reshaped([n] + c.outputShape)
        }
        let y = matmul(c.aligned(0), c.aligned(1), transposeA: transposeA, transposeB: transposeB)
        return y.shape == [n] + c.outputShape ? y : y.expanded(to: [n] + c.outputShape)
    }
}

// MARK: - Linear algebra and factorizations (already batched over leading axes: the example axis is one more)

extension Solve {
    func batched(_ c: BatchingContext) -> AnyTensor? {
        let y = solveRecorded(c.aligned(0), c.aligned(1), structure, transpose: transpose)
        return y.shape == [c.batchSize] + c.outputShape ? y : y.expanded(to: [c.batchSize] + c.outputShape)
    }
}
extension Cholesky { func batched(_ c: BatchingContext) -> AnyTensor? { choleskyRecorded(c.inputs[0]) } }
extension Inverse { func batched(_ c: BatchingContext) -> AnyTensor? { inverseRecorded(c.inputs[0]) } }
extension Determinant {
    func batched(_ c: BatchingContext) -> AnyTensor? { determinantRecorded(c.inputs[0], logAbsolute: logAbsolute).0 }
}
extension Eigh { func batched(_ c: BatchingContext) -> AnyTensor? { eighRecorded(c.inputs[0]) } }
extension SingularValueDecomposition { func batched(_ c: BatchingContext) -> AnyTensor? { svdRecorded(c.inputs[0]) } }
extension QRDecomposition { func batched(_ c: BatchingContext) -> AnyTensor? { qrRecorded(c.inputs[0]) } }

// MARK: - Values read by rules

/// A constant a rule computes from values with kernels (a mask, a sign, the weights of ties): it has no derivative,
/// but it differs between examples. While a `vmap` trace is in progress it is recorded as this primitive, so the
/// batched program recomputes it from every example's values instead of keeping example 0's; otherwise it is just
/// the kernels' result.
///     y = compute(inputs' values);  no derivative (VJP and JVP zero).
struct ValueFunction: Primitive {
    let name: String
    /// The value from the inputs' values, each with `leading` example axes in front of its per-example shape.
    let compute: @Sendable (_ values: [AnyTensor], _ leading: Int) -> AnyTensor
    var savesInputs: Bool { false }
    func vjp(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?] {
        [AnyTensor?](repeating: nil, count: ctx.inputCount)
    }
    func jvp(_ ctx: RuleContext, _ tangents: [AnyTensor?]) -> AnyTensor? { nil }
    func batched(_ c: BatchingContext) -> AnyTensor? {
        let y = compute(c.inputs.indices.map { c.aligned($0).value }, 1)
        return y.shape == [c.batchSize] + c.outputShape ? y : y.expanded(to: [c.batchSize] + c.outputShape)
    }
}

/// `compute` applied to the inputs' values (no leading example axes), recorded as a `ValueFunction` while a vmap
/// trace is in progress and some input has reverse history (see there).
func valueFunction(_ name: String, _ inputs: [AnyTensor],
                   _ compute: @escaping @Sendable (_ values: [AnyTensor], _ leading: Int) -> AnyTensor) -> AnyTensor {
    let y = compute(inputs.map(\.value), 0)
    guard VMapTracing.active.load(ordering: .relaxed) > 0, inputs.contains(where: { $0.node != nil }) else { return y }
    return record(ValueFunction(name: name, compute: compute), inputs, y)
}

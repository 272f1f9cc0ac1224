// Convolutions, pooling and constant padding on NCHW tensors with OIHW weights, as PyTorch lays them out. Every
// function here is a composite of the primitives `unfold`, `fold`, `matmul`, `gather`, `embed` and elementwise
// arithmetic (see Primitives/Convolution.swift), so its derivatives of every order come from theirs. The article
// "Convolution and pooling" gives the shape formulas and the costs.

/// A size per spatial axis (height, width): one integer for both (`stride: 2`) or one per axis (`stride: [2, 1]`).
public struct Size2d: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral,
    CustomStringConvertible {
    /// The size along the height axis (the second-to-last axis).
    public var height: Int
    /// The size along the width axis (the last axis).
    public var width: Int

    /// A size per axis.
    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    /// The same size along both axes.
    public init(_ both: Int) { self.init(height: both, width: both) }

    /// The same size along both axes: `stride: 2`.
    public init(integerLiteral value: Int) { self.init(value) }

    /// `[height, width]`, or `[both]`. Any other count stops when the size is used, naming the operation.
    public init(arrayLiteral values: Int...) {
        switch values.count {
        case 1: self.init(values[0])
        case 2: self.init(height: values[0], width: values[1])
        default: self.init(height: -1, width: -1)  // rejected by every operation, with the operation's name
        }
    }

    /// `2` when both sizes are equal, else `[2, 1]`.
    public var description: String { height == width ? "\(height)" : "[\(height), \(width)]" }
}

/// The zeros added around the spatial axes of a convolution's input.
///
/// An integer or an array literal gives explicit amounts, the same on both sides of an axis: `padding: 1` (every
/// axis), `padding: [1, 2]` (height, width). `.valid` adds none; `.same` adds what keeps the output the size of the
/// input with stride 1: d·(k − 1) zeros per axis, half before and the rest after (one more after when that is odd,
/// as PyTorch does for even kernels).
public enum ConvolutionPadding: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    /// The same number of zeros on both sides of each spatial axis: one amount for every axis, or one per axis.
    case zeros([Int])
    /// No padding.
    case valid
    /// The output has the input's size (stride 1 only).
    case same

    /// `.zeros([value])`: the same amount on every side.
    public init(integerLiteral value: Int) { self = .zeros([value]) }
    /// `.zeros(values)`: one amount per spatial axis.
    public init(arrayLiteral values: Int...) { self = .zeros(values) }
}

// MARK: - Checking arguments

/// The window of one spatial axis, checked: the padding before and after, and the output length.
private struct AxisWindow {
    var before: Int, after: Int, output: Int
}

/// Resolves and checks one spatial axis of a convolution or pooling; stops with the operation, the shapes and the
/// fix when the padded input is shorter than the dilated kernel or a size is not positive.
private func axisWindow(_ operation: String, axis: String, input: Int, kernel: Int, stride: Int, dilation: Int,
                        padding: ConvolutionPadding, paddingIndex: Int, spatialAxes: Int, shapes: String,
                        at loc: CallSite) -> AxisWindow {
    if kernel < 1 || stride < 1 || dilation < 1 {
        operationFailure(operation, "\(shapes): kernel size, stride and dilation must be 1 or more along each axis "
            + "(the \(axis) has kernel \(kernel), stride \(stride), dilation \(dilation))", at: loc)
    }
    let span = dilation * (kernel - 1) + 1
    var before = 0, after = 0
    switch padding {
    case .valid: break
    case .same:
        if stride != 1 {
            operationFailure(operation, "\(shapes): padding .same needs stride 1 (the \(axis) has stride \(stride)); "
                + "give the padding explicitly, e.g. padding: \((span - 1) / 2)", at: loc)
        }
        before = (span - 1) / 2
        after = span - 1 - before
    case .zeros(let amounts):
        if amounts.count != 1 && amounts.count != spatialAxes {
            operationFailure(operation, "\(shapes): padding \(amounts) must give one amount for every spatial axis "
                + "or one per axis (\(spatialAxes))", at: loc)
        }
        before = amounts.count == 1 ? amounts[0] : amounts[paddingIndex]
        after = before
        if before < 0 {
            operationFailure(operation, "\(shapes): padding must be 0 or more (the \(axis) has \(before))", at: loc)
        }
    }
    let padded = input + before + after
    if span > padded {
        operationFailure(operation, "\(shapes): the kernel spans \(span) along the \(axis) (size \(kernel), "
            + "dilation \(dilation)) but the padded input has only \(padded) (\(input) + padding \(before + after)); "
            + "use a smaller kernel or dilation, or more padding", at: loc)
    }
    return AxisWindow(before: before, after: after, output: (padded - span) / stride + 1)
}

/// The window of a 2-d operation over inputs [..., H, W], checked.
private func window2d(_ operation: String, height: Int, width: Int, kernel: Size2d, stride: Size2d,
                      dilation: Size2d, padding: ConvolutionPadding, shapes: String, at loc: CallSite) -> Window2d {
    for (what, s) in [("kernel size", kernel), ("stride", stride), ("dilation", dilation)]
    where s.height < 0 && s.width < 0 {
        operationFailure(operation, "\(shapes): the \(what) must be one integer or two ([height, width])", at: loc)
    }
    let h = axisWindow(operation, axis: "height", input: height, kernel: kernel.height, stride: stride.height,
                       dilation: dilation.height, padding: padding, paddingIndex: 0, spatialAxes: 2, shapes: shapes,
                       at: loc)
    let w = axisWindow(operation, axis: "width", input: width, kernel: kernel.width, stride: stride.width,
                       dilation: dilation.width, padding: padding, paddingIndex: 1, spatialAxes: 2, shapes: shapes,
                       at: loc)
    return Window2d(kernelH: kernel.height, kernelW: kernel.width, strideH: stride.height, strideW: stride.width,
                    top: h.before, left: w.before, dilationH: dilation.height, dilationW: dilation.width,
                    height: height, width: width, outHeight: h.output, outWidth: w.output)
}

/// Checks the operands of a convolution: x [N, C, spatial...], weight [O, C/groups, kernel...], bias [O].
private func checkConvolution(_ operation: String, x: [Int], weight: [Int], bias: [Int]?, groups: Int,
                              spatialAxes: Int, shapes: String, at loc: CallSite) {
    let rank = spatialAxes + 2
    let layout = spatialAxes == 1 ? "[N, C, L]" : "[N, C, H, W]"
    let weightLayout = spatialAxes == 1 ? "[O, C / groups, k]" : "[O, C / groups, kh, kw]"
    if x.count != rank {
        operationFailure(operation, "\(shapes): the input must have rank \(rank), \(layout)"
            + (x.count == rank - 1 ? "; for a single example add the batch axis with unsqueezed(at: 0)" : ""),
            at: loc)
    }
    if weight.count != rank {
        operationFailure(operation, "\(shapes): the weight must have rank \(rank), \(weightLayout)", at: loc)
    }
    if groups < 1 {
        operationFailure(operation, "\(shapes): groups must be 1 or more, got \(groups)", at: loc)
    }
    let c = x[1], o = weight[0]
    if c % groups != 0 || o % groups != 0 {
        operationFailure(operation, "\(shapes): groups = \(groups) must divide both the input channels (\(c)) and "
            + "the output channels (\(o)); choose a common divisor of \(c) and \(o)", at: loc)
    }
    if weight[1] * groups != c {
        operationFailure(operation, "\(shapes): the input has \(c) channels but the weight \(weightLayout) expects "
            + "\(weight[1]) per group × \(groups) group\(groups == 1 ? "" : "s") = \(weight[1] * groups); "
            + "use a weight of shape [\(o), \(c / groups), ...], or check that the input is NCHW (channels second)",
            at: loc)
    }
    if let bias, bias != [o] {
        operationFailure(operation, "\(shapes): the bias must have shape [\(o)] (one per output channel), got "
            + "\(describe(bias))", at: loc)
    }
}

// MARK: - Convolutions

/// The 2-d convolution of `x` [N, C, H, W] with `weight` [O, C/groups, kh, kw], plus `bias` [O]: PyTorch's
/// `conv2d` (a cross-correlation: the kernel is not flipped).
///
///     y[n, o, i, j] = bias[o] + Σ_{c, p, q} weight[o, c, p, q] · x[n, g·C/G + c, i·s − pt + p·d, j·s − pl + q·d]
///
/// for output channel o in group g = o / (O/G), with x = 0 outside the image. The output is [N, O, OH, OW] with
/// OH = ⌊(H + pt + pb − d·(kh − 1) − 1) / s⌋ + 1 (likewise OW). `padding` is explicit zeros per axis, `.valid`
/// or `.same` (stride 1; for an even kernel the extra zero goes after, as in PyTorch).
///
/// A composite: `unfold` (im2col) of the batch into [C·kh·kw, N·OH·OW], then one `matmul` with the weight as
/// [G, O/G, C/G·kh·kw] (groups a batch dimension), the bias, and a copy of [O, N, OH, OW] into [N, O, OH, OW].
/// Cost: 2·N·O·(C/G)·kh·kw·OH·OW flops in the matrix product, and N·C·kh·kw·OH·OW elements written by the
/// unfold; each derivative about the same again.
/// Stops, naming the shapes and the fix, if the channels do not match the weight, `groups` does not divide the
/// channels, or the kernel is larger than the padded input.
public func conv2d<Scalar: TensorScalar>(_ x: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil,
                                         stride: Size2d = 1, padding: ConvolutionPadding = 0, dilation: Size2d = 1,
                                         groups: Int = 1, file: StaticString = #fileID,
                                         line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    let shapes = "input \(describe(x.shape)), weight \(describe(weight.shape))"
    checkConvolution("conv2d", x: x.shape, weight: weight.shape, bias: bias?.shape, groups: groups, spatialAxes: 2,
                     shapes: shapes, at: loc)
    let g = window2d("conv2d", height: x.shape[2], width: x.shape[3],
                     kernel: Size2d(height: weight.shape[2], width: weight.shape[3]), stride: stride,
                     dilation: dilation, padding: padding, shapes: shapes, at: loc)
    return Tensor(unchecked: x.base.convolved2d(weight: weight.base, bias: bias?.base, window: g, groups: groups,
                                                at: loc))
}

/// The 1-d convolution of `x` [N, C, L] with `weight` [O, C/groups, k], plus `bias` [O]: PyTorch's `conv1d`.
///
///     y[n, o, i] = bias[o] + Σ_{c, q} weight[o, c, q] · x[n, g·C/G + c, i·s − p + q·d]
///
/// The output is [N, O, OL] with OL = ⌊(L + 2p − d·(k − 1) − 1) / s⌋ + 1 (`.same`: OL = L, stride 1).
/// A composite: `conv2d` on [N, C, 1, L] (two reshapes around it); cost and errors as there.
public func conv1d<Scalar: TensorScalar>(_ x: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil,
                                         stride: Int = 1, padding: ConvolutionPadding = 0, dilation: Int = 1,
                                         groups: Int = 1, file: StaticString = #fileID,
                                         line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    let shapes = "input \(describe(x.shape)), weight \(describe(weight.shape))"
    checkConvolution("conv1d", x: x.shape, weight: weight.shape, bias: bias?.shape, groups: groups, spatialAxes: 1,
                     shapes: shapes, at: loc)
    let widthPadding: ConvolutionPadding
    if case .zeros(let amounts) = padding {
        if amounts.count != 1 {
            operationFailure("conv1d", "\(shapes): padding \(amounts) must be one amount (conv1d has one spatial "
                + "axis)", at: loc)
        }
        widthPadding = .zeros([0, amounts[0]])
    } else {
        widthPadding = padding
    }
    let g = window2d("conv1d", height: 1, width: x.shape[2], kernel: Size2d(height: 1, width: weight.shape[2]),
                     stride: Size2d(height: 1, width: stride), dilation: Size2d(height: 1, width: dilation),
                     padding: widthPadding, shapes: shapes, at: loc)
    let (n, c, l) = (x.shape[0], x.shape[1], x.shape[2]), o = weight.shape[0]
    let y = x.base.reshaped([n, c, 1, l], at: loc).convolved2d(
        weight: weight.base.reshaped([o, weight.shape[1], 1, weight.shape[2]], at: loc), bias: bias?.base,
        window: g, groups: groups, at: loc)
    return Tensor(unchecked: y.reshaped([n, o, g.outWidth], at: loc))
}

/// The transposed 2-d convolution of `x` [N, Cin, H, W] with `weight` [Cin, Cout/groups, kh, kw], plus `bias`
/// [Cout]: PyTorch's `conv_transpose2d`, the adjoint (in x) of `conv2d` with the same weight, stride, padding,
/// dilation and groups, which maps an image of the output's size to one of x's size.
///
/// The output is [N, Cout, OH, OW] with OH = (H − 1)·s − 2p + d·(kh − 1) + outputPadding + 1 (likewise OW);
/// `outputPadding` (less than the stride or the dilation) picks among the sizes that `conv2d` maps to H.
///
/// A composite: one `matmul` with the weight transposed ([G, Cin/G, Cout/G·kh·kw]ᵀ), then `fold` (col2im) into
/// the output. Cost: 2·N·Cin·(Cout/G)·kh·kw·H·W flops. Stops, naming the shapes and the fix, if the channels do not
/// match the weight, `groups` does not divide them, or `outputPadding` is too large.
public func conv2dTransposed<Scalar: TensorScalar>(_ x: Tensor<Scalar>, weight: Tensor<Scalar>,
                                                   bias: Tensor<Scalar>? = nil, stride: Size2d = 1,
                                                   padding: Size2d = 0, outputPadding: Size2d = 0,
                                                   dilation: Size2d = 1, groups: Int = 1,
                                                   file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    let operation = "conv2dTransposed"
    let shapes = "input \(describe(x.shape)), weight \(describe(weight.shape))"
    if x.rank != 4 || weight.rank != 4 {
        operationFailure(operation, "\(shapes): the input must be [N, Cin, H, W] and the weight [Cin, Cout / groups, "
            + "kh, kw] (rank 4 both)", at: loc)
    }
    if groups < 1 || x.shape[1] % groups != 0 {
        operationFailure(operation, "\(shapes): groups = \(groups) must be 1 or more and divide the input channels "
            + "(\(x.shape[1]))", at: loc)
    }
    if weight.shape[0] != x.shape[1] {
        operationFailure(operation, "\(shapes): the input has \(x.shape[1]) channels but the weight [Cin, Cout / "
            + "groups, kh, kw] has \(weight.shape[0]) in its first axis; a transposed convolution's weight has the "
            + "layout of the convolution it transposes (its input channels first)", at: loc)
    }
    let cout = weight.shape[1] * groups
    if let bias, bias.shape != [cout] {
        operationFailure(operation, "\(shapes): the bias must have shape [\(cout)] (one per output channel), got "
            + "\(describe(bias.shape))", at: loc)
    }
    let kernel = Size2d(height: weight.shape[2], width: weight.shape[3])
    var sizes: [Int] = []
    for (axis, input, k, s, p, op, d) in [("height", x.shape[2], kernel.height, stride.height, padding.height,
                                           outputPadding.height, dilation.height),
                                          ("width", x.shape[3], kernel.width, stride.width, padding.width,
                                           outputPadding.width, dilation.width)] {
        if s < 1 || d < 1 || p < 0 || op < 0 {
            operationFailure(operation, "\(shapes): stride and dilation must be 1 or more, padding and output "
                + "padding 0 or more (the \(axis) has stride \(s), dilation \(d), padding \(p), output padding "
                + "\(op))", at: loc)
        }
        if op >= Swift.max(s, d) {
            operationFailure(operation, "\(shapes): output padding \(op) along the \(axis) must be less than the "
                + "stride (\(s)) or the dilation (\(d))", at: loc)
        }
        let size = (input - 1) * s - 2 * p + d * (k - 1) + op + 1
        if size < 1 && input > 0 {
            operationFailure(operation, "\(shapes): the output would have \(size) positions along the \(axis) "
                + "((\(input) − 1)·\(s) − 2·\(p) + \(d)·(\(k) − 1) + \(op) + 1); use less padding", at: loc)
        }
        sizes.append(Swift.max(size, 0))
    }
    let g = Window2d(kernelH: kernel.height, kernelW: kernel.width, strideH: stride.height, strideW: stride.width,
                     top: padding.height, left: padding.width, dilationH: dilation.height, dilationW: dilation.width,
                     height: sizes[0], width: sizes[1], outHeight: x.shape[2], outWidth: x.shape[3])
    return Tensor(unchecked: x.base.convolvedTransposed2d(weight: weight.base, bias: bias?.base, window: g,
                                                          groups: groups, at: loc))
}

// MARK: - Pooling

/// The window of a pooling over x [..., H, W] (rank ≥ 2), checked; padding at most half the kernel (as PyTorch), so
/// that every window holds an element of x.
private func poolWindow(_ operation: String, _ shape: [Int], kernel: Size2d, stride: Size2d?, padding: Size2d,
                        at loc: CallSite) -> Window2d {
    let shapes = "input \(describe(shape)), kernel \(kernel)"
    if shape.count < 2 {
        operationFailure(operation, "\(shapes): the input needs two spatial axes, [..., H, W] ([N, C, H, W] as a "
            + "rule)", at: loc)
    }
    let stride = stride ?? kernel
    if padding.height < 0 || padding.width < 0 || 2 * padding.height > kernel.height
        || 2 * padding.width > kernel.width {
        operationFailure(operation, "\(shapes): padding \(padding) must be between 0 and half the kernel size, so "
            + "that every window holds an element of the input", at: loc)
    }
    return window2d(operation, height: shape[shape.count - 2], width: shape[shape.count - 1], kernel: kernel,
                    stride: stride, dilation: 1, padding: .zeros([padding.height, padding.width]), shapes: shapes,
                    at: loc)
}

/// Max pooling over the last two axes: x [..., H, W] → [..., OH, OW], each output the largest element of its
/// kernel-sized window, with OH = ⌊(H + 2p − k) / s⌋ + 1 (likewise OW); `stride` defaults to the kernel size;
/// padding counts as −∞ (at most half the kernel). PyTorch's `max_pool2d`.
///
/// A composite: the positions of the maxima are found on the value (the first in row-major order on ties; a NaN
/// wins), then x is gathered at them (primitive `gather`, linear): the derivative sends each output's cotangent to
/// the position of its maximum, and a tangent is read there. Cost: one pass over each window, and the positions
/// kept (one Int per output) while the result is differentiated.
public func maxPool2d<Scalar: TensorScalar>(_ x: Tensor<Scalar>, kernelSize: Size2d, stride: Size2d? = nil,
                                            padding: Size2d = 0, file: StaticString = #fileID,
                                            line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    let g = poolWindow("maxPool2d", x.shape, kernel: kernelSize, stride: stride, padding: padding, at: loc)
    return Tensor(unchecked: x.base.maxPooled2d(g, at: loc))
}

/// Average pooling over the last two axes: x [..., H, W] → [..., OH, OW], each output the mean of its
/// kernel-sized window, with OH = ⌊(H + 2p − k) / s⌋ + 1 (likewise OW); `stride` defaults to the kernel size.
/// Padding counts as zeros in the mean, which always divides by kh·kw (PyTorch's default,
/// `count_include_pad=True`).
///
/// A composite: `unfold` of each plane, then a sum over the taps times 1/(kh·kw); linear in x. Cost: kh·kw reads
/// per output.
public func avgPool2d<Scalar: TensorScalar>(_ x: Tensor<Scalar>, kernelSize: Size2d, stride: Size2d? = nil,
                                            padding: Size2d = 0, file: StaticString = #fileID,
                                            line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    let g = poolWindow("avgPool2d", x.shape, kernel: kernelSize, stride: stride, padding: padding, at: loc)
    return Tensor(unchecked: x.base.averagePooled2d(g, at: loc))
}

/// Adaptive average pooling to 1 × 1: x [..., H, W] → [..., 1, 1], the mean of each plane (PyTorch's
/// `adaptive_avg_pool2d(x, 1)`, the global average pooling before a classifier). A composite: `mean` over the
/// last two axes, kept. Stops if x has fewer than two axes.
public func adaptiveAvgPool2d<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID,
                                                    line: UInt = #line) -> Tensor<Scalar> {
    if x.rank < 2 {
        operationFailure("adaptiveAvgPool2d", "input \(describe(x.shape)): the input needs two spatial axes, "
            + "[..., H, W]", at: CallSite(file: file, line: line))
    }
    let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
    let sum = x.base.sum(axes: [x.rank - 2, x.rank - 1], keep: true)
    return Tensor(unchecked: h * w == 0 ? sum : sum * (1 / Double(h * w)))
}

// MARK: - Padding

extension Tensor where Scalar: TensorScalar {
    /// This tensor with `padding[d].before` elements of `value` added before axis d and `padding[d].after` after it,
    /// for each axis d (one pair per axis): PyTorch's `F.pad` with mode "constant", its pairs given per axis in
    /// order. Shape: [n₀ + b₀ + a₀, n₁ + b₁ + a₁, ...].
    ///
    /// A composite: primitive `embed` (x written into zeros; linear, x̄ = the slice of ȳ where x sits), plus a
    /// constant for a nonzero `value`. Stops if the number of pairs is not the rank or an amount is negative.
    public func padded(_ padding: [(before: Int, after: Int)], value: Scalar = 0, file: StaticString = #fileID,
                       line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        if padding.count != rank {
            operationFailure("padded(_:value:)", "a tensor of shape \(describe(shape)) needs \(rank) (before, after) "
                + "pairs, one per axis, got \(padding.count); use (0, 0) for axes left as they are", at: loc)
        }
        if padding.contains(where: { $0.before < 0 || $0.after < 0 }) {
            operationFailure("padded(_:value:)", "shape \(describe(shape)): padding amounts must be 0 or more, got "
                + "\(padding.map { [$0.before, $0.after] }); use slicing (x[a..<b]) to remove elements", at: loc)
        }
        let full = zip(shape, padding).map { $0 + $1.before + $1.after }
        let axes = zip(shape, padding).map { SliceAxis(start: $1.before, count: $0, step: 1) }
        let embedded = base.embedded(into: full, at: axes, at: loc)
        if value == 0 { return Tensor(unchecked: embedded) }
        // The constant border: `value` everywhere, zeros where x sits.
        let border = Kernel.filled(scalarType, full, value.doubleValue)
        let strides = Shape.strides(full)
        var offset = 0
        for (d, a) in axes.enumerated() where a.count > 0 { offset += a.start * strides[d] }
        Kernel.scatterStrided(Kernel.filled(scalarType, shape, 0), into: border, shape: shape, strides: strides,
                              offset: offset)
        return Tensor(unchecked: embedded + border)
    }
}

import Autograd

// Convolution and pooling layers on NCHW tensors (and NCL for Conv1d), as PyTorch's `nn.Conv2d`, `nn.Conv1d`,
// `nn.MaxPool2d`, `nn.AvgPool2d` and `nn.Flatten`. Each applies the core library's function of the same name; see
// the core article "Convolution and pooling" for the shape formulas and costs.

/// A 2-d convolution layer, y = conv2d(x, W) + b, as PyTorch's `nn.Conv2d`.
///
/// Shapes: weight W [outChannels, inChannels/groups, kh, kw] (OIHW), bias b [outChannels] (absent when made with
/// `bias: false`); input [N, inChannels, H, W], output [N, outChannels, OH, OW] with
/// OH = ⌊(H + 2p − d·(kh − 1) − 1)/s⌋ + 1 (likewise OW).
/// Cost: 2·N·outChannels·(inChannels/groups)·kh·kw·OH·OW floating-point operations.
public struct Conv2d<Scalar: TensorScalar>: Layer, Sendable {
    /// W, shape [outChannels, inChannels/groups, kh, kw].
    public var weight: Tensor<Scalar>
    /// b, shape [outChannels], or nil for a layer without bias.
    public var bias: Tensor<Scalar>?
    /// The step between windows along (height, width).
    public var stride: Size2d
    /// The zeros added around the input (explicit, `.valid` or `.same`).
    public var padding: ConvolutionPadding
    /// The spacing between kernel taps along (height, width).
    public var dilation: Size2d
    /// The number of channel groups (both channel counts are multiples of it).
    public var groups: Int

    /// A layer with the given weight [O, C/groups, kh, kw] and optional bias [O]. Stops if the shapes do not fit.
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil, stride: Size2d = 1,
                padding: ConvolutionPadding = 0, dilation: Size2d = 1, groups: Int = 1, file: StaticString = #fileID,
                line: UInt = #line) {
        let loc = CallSite(file: file, line: line)
        if weight.rank != 4 {
            operationFailure("Conv2d(weight:)", "the weight has shape \(describe(weight.shape)) but must be "
                + "[outChannels, inChannels / groups, kh, kw]", at: loc)
        }
        if let bias, bias.shape != [weight.shape[0]] {
            operationFailure("Conv2d(weight:)", "the bias has shape \(describe(bias.shape)) but the weight "
                + "\(describe(weight.shape)) has \(weight.shape[0]) output channels, so the bias must be "
                + "[\(weight.shape[0])]", at: loc)
        }
        if groups < 1 || weight.shape[0] % groups != 0 {
            operationFailure("Conv2d(weight:)", "groups = \(groups) must be 1 or more and divide the output channels "
                + "(\(weight.shape[0]))", at: loc)
        }
        (self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups) =
            (weight, bias, stride, padding, dilation, groups)
    }

    /// A layer initialized as PyTorch initializes `nn.Conv2d`: every weight and bias element drawn independently
    /// from U(−k, k) with k = 1/√(inChannels/groups · kh · kw) (the weight first, then the bias, from `generator`).
    /// Stops if `groups` does not divide both channel counts.
    public init<G: RandomNumberGenerator>(inChannels: Int, outChannels: Int, kernelSize: Size2d, stride: Size2d = 1,
                                          padding: ConvolutionPadding = 0, dilation: Size2d = 1, groups: Int = 1,
                                          bias: Bool = true, using generator: inout G, file: StaticString = #fileID,
                                          line: UInt = #line) {
        if groups < 1 || inChannels % groups != 0 || outChannels % groups != 0 || inChannels < 0 || outChannels < 0
            || kernelSize.height < 1 || kernelSize.width < 1 {
            operationFailure("Conv2d(inChannels:outChannels:kernelSize:)", "inChannels \(inChannels) and outChannels "
                + "\(outChannels) must be multiples of groups = \(groups) (1 or more), and the kernel size "
                + "\(kernelSize) positive", at: CallSite(file: file, line: line))
        }
        let fanIn = inChannels / groups * kernelSize.height * kernelSize.width
        let k = fanIn > 0 ? 1 / Scalar(fanIn).squareRoot() : 0
        let shape = [outChannels, inChannels / groups, kernelSize.height, kernelSize.width]
        let w = k > 0 ? Tensor<Scalar>(randomUniform: shape, in: -k ..< k, using: &generator) : Tensor(zeros: shape)
        let b = bias ? (k > 0 ? Tensor<Scalar>(randomUniform: [outChannels], in: -k ..< k, using: &generator)
                              : Tensor(zeros: [outChannels])) : nil
        self.init(weight: w, bias: b, stride: stride, padding: padding, dilation: dilation, groups: groups,
                  file: file, line: line)
    }

    /// `weight`, then `bias` if there is one.
    public var parameterPaths: [ParameterPath<Conv2d>] {
        let weight = ParameterPath<Conv2d>("weight", read: { $0.weight }, write: { $0.weight = $1 },
                                           keyPath: { \.weight })
        guard bias != nil else { return [weight] }
        return [weight, ParameterPath("bias", read: { $0.bias! }, write: { $0.bias = $1 }, keyPath: { \.bias! })]
    }

    /// conv2d(x, W) + b: [N, inChannels, H, W] → [N, outChannels, OH, OW]. Stops, naming the shapes, if the input
    /// does not fit the layer (see the core's `conv2d`).
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        conv2d(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
               groups: groups)
    }
}

/// A 1-d convolution layer, y = conv1d(x, W) + b, as PyTorch's `nn.Conv1d`.
///
/// Shapes: weight W [outChannels, inChannels/groups, k], bias b [outChannels] (absent with `bias: false`); input
/// [N, inChannels, L], output [N, outChannels, OL] with OL = ⌊(L + 2p − d·(k − 1) − 1)/s⌋ + 1.
/// Cost: 2·N·outChannels·(inChannels/groups)·k·OL floating-point operations.
public struct Conv1d<Scalar: TensorScalar>: Layer, Sendable {
    /// W, shape [outChannels, inChannels/groups, k].
    public var weight: Tensor<Scalar>
    /// b, shape [outChannels], or nil for a layer without bias.
    public var bias: Tensor<Scalar>?
    /// The step between windows.
    public var stride: Int
    /// The zeros added at both ends (one amount, `.valid` or `.same`).
    public var padding: ConvolutionPadding
    /// The spacing between kernel taps.
    public var dilation: Int
    /// The number of channel groups.
    public var groups: Int

    /// A layer initialized as PyTorch initializes `nn.Conv1d`: weight and bias drawn from U(−k, k) with
    /// k = 1/√(inChannels/groups · kernelSize) (the weight first, then the bias, from `generator`).
    /// Stops if `groups` does not divide both channel counts.
    public init<G: RandomNumberGenerator>(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1,
                                          padding: ConvolutionPadding = 0, dilation: Int = 1, groups: Int = 1,
                                          bias: Bool = true, using generator: inout G, file: StaticString = #fileID,
                                          line: UInt = #line) {
        if groups < 1 || inChannels % groups != 0 || outChannels % groups != 0 || inChannels < 0 || outChannels < 0
            || kernelSize < 1 {
            operationFailure("Conv1d(inChannels:outChannels:kernelSize:)", "inChannels \(inChannels) and outChannels "
                + "\(outChannels) must be multiples of groups = \(groups) (1 or more), and the kernel size "
                + "\(kernelSize) positive", at: CallSite(file: file, line: line))
        }
        let fanIn = inChannels / groups * kernelSize
        let k = fanIn > 0 ? 1 / Scalar(fanIn).squareRoot() : 0
        let shape = [outChannels, inChannels / groups, kernelSize]
        weight = k > 0 ? Tensor<Scalar>(randomUniform: shape, in: -k ..< k, using: &generator) : Tensor(zeros: shape)
        self.bias = bias ? (k > 0 ? Tensor<Scalar>(randomUniform: [outChannels], in: -k ..< k, using: &generator)
                                  : Tensor(zeros: [outChannels])) : nil
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    /// `weight`, then `bias` if there is one.
    public var parameterPaths: [ParameterPath<Conv1d>] {
        let weight = ParameterPath<Conv1d>("weight", read: { $0.weight }, write: { $0.weight = $1 },
                                           keyPath: { \.weight })
        guard bias != nil else { return [weight] }
        return [weight, ParameterPath("bias", read: { $0.bias! }, write: { $0.bias = $1 }, keyPath: { \.bias! })]
    }

    /// conv1d(x, W) + b: [N, inChannels, L] → [N, outChannels, OL].
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        conv1d(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
               groups: groups)
    }
}

/// Max pooling over the last two axes, as PyTorch's `nn.MaxPool2d`: [..., H, W] → [..., OH, OW] with
/// OH = ⌊(H + 2p − k)/s⌋ + 1; `stride` defaults to the kernel size, padding counts as −∞. No parameters.
public struct MaxPool2d<Scalar: TensorScalar>: Layer, Sendable {
    /// The window size (height, width).
    public var kernelSize: Size2d
    /// The step between windows; nil means the kernel size.
    public var stride: Size2d?
    /// The −∞ padding around the input, at most half the kernel.
    public var padding: Size2d
    /// A pooling layer.
    public init(kernelSize: Size2d, stride: Size2d? = nil, padding: Size2d = 0) {
        (self.kernelSize, self.stride, self.padding) = (kernelSize, stride, padding)
    }
    /// None.
    public var parameterPaths: [ParameterPath<MaxPool2d>] { [] }
    /// The window maxima (see the core's `maxPool2d`).
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        maxPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// Average pooling over the last two axes, as PyTorch's `nn.AvgPool2d` with its default `count_include_pad=True`
/// (padding counts as zeros in each mean): [..., H, W] → [..., OH, OW] with OH = ⌊(H + 2p − k)/s⌋ + 1; `stride`
/// defaults to the kernel size. No parameters.
public struct AvgPool2d<Scalar: TensorScalar>: Layer, Sendable {
    /// The window size (height, width).
    public var kernelSize: Size2d
    /// The step between windows; nil means the kernel size.
    public var stride: Size2d?
    /// The zero padding around the input, at most half the kernel.
    public var padding: Size2d
    /// A pooling layer.
    public init(kernelSize: Size2d, stride: Size2d? = nil, padding: Size2d = 0) {
        (self.kernelSize, self.stride, self.padding) = (kernelSize, stride, padding)
    }
    /// None.
    public var parameterPaths: [ParameterPath<AvgPool2d>] { [] }
    /// The window means (see the core's `avgPool2d`).
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        avgPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// Flattens every axis after the first, as PyTorch's `nn.Flatten()`: [N, d₁, d₂, …] → [N, d₁·d₂·…], in row-major
/// order (for NCHW, feature c·H·W + y·W + x). A reshape: no copy, no parameters. A 0-d or 1-d input is returned
/// as [1, count] or [N, 1].
public struct Flatten<Scalar: TensorScalar>: Layer, Sendable {
    /// The layer.
    public init() {}
    /// None.
    public var parameterPaths: [ParameterPath<Flatten>] { [] }
    /// The input reshaped to [N, rest].
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        if input.rank == 0 { return input.reshaped(to: [1, 1]) }
        let n = input.shape[0]
        return input.reshaped(to: [n, input.shape.dropFirst().reduce(1, *)])
    }
}

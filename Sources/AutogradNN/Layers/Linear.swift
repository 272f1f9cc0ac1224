import Autograd

/// A fully connected (affine) layer, y = x · Wᵀ + b, as PyTorch's `nn.Linear`.
///
/// Shapes: weight W is [outputSize, inputSize] (PyTorch's layout), bias b is [outputSize] (absent when made with
/// `bias: false`); the input is [..., inputSize] with any leading batch dimensions (or a single vector
/// [inputSize]) and the output [..., outputSize].
/// Cost: 2 · batch · inputSize · outputSize floating-point operations.
public struct Linear<Scalar: TensorScalar>: Layer, Sendable {
    /// W, shape [outputSize, inputSize].
    public var weight: Tensor<Scalar>
    /// b, shape [outputSize], or nil for a layer without bias (y = x · Wᵀ).
    public var bias: Tensor<Scalar>?

    /// A layer with the given weight [out, in] and optional bias [out]. Stops if the shapes do not fit together.
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil, file: StaticString = #fileID, line: UInt = #line) {
        let loc = CallSite(file: file, line: line)
        if weight.rank != 2 {
            operationFailure("Linear(weight:bias:)", "the weight has shape \(describe(weight.shape)) but must be a matrix "
                + "[outputSize, inputSize]", at: loc)
        }
        if let bias, bias.shape != [weight.shape[0]] {
            operationFailure("Linear(weight:bias:)", "the bias has shape \(describe(bias.shape)) but the weight "
                + "\(describe(weight.shape)) has \(weight.shape[0]) outputs, so the bias must be [\(weight.shape[0])]",
                at: loc)
        }
        self.weight = weight
        self.bias = bias
    }

    /// A layer initialized as PyTorch initializes `nn.Linear`: every weight and bias element drawn independently
    /// from U(−k, k) with k = 1/√inputSize (PyTorch's `kaiming_uniform_(a: √5)` works out to exactly this bound
    /// for the weight, and the bias uses the same bound). The weight is drawn first, row by row, then the bias, all
    /// from `generator`, so a seeded generator gives the same layer on every run.
    /// A layer with no inputs (`inputSize` 0) has an empty weight and a zero bias.
    public init<G: RandomNumberGenerator>(inputSize: Int, outputSize: Int, bias: Bool = true,
                                          using generator: inout G, file: StaticString = #fileID, line: UInt = #line) {
        if inputSize < 0 || outputSize < 0 {
            operationFailure("Linear(inputSize:outputSize:)", "sizes must not be negative, got inputSize \(inputSize) and "
                + "outputSize \(outputSize)", at: CallSite(file: file, line: line))
        }
        guard inputSize > 0 else {
            self.init(weight: Tensor(zeros: [outputSize, 0]), bias: bias ? Tensor(zeros: [outputSize]) : nil)
            return
        }
        let k = 1 / Scalar(inputSize).squareRoot()
        let w = Tensor<Scalar>(randomUniform: [outputSize, inputSize], in: -k ..< k, using: &generator)
        let b = bias ? Tensor<Scalar>(randomUniform: [outputSize], in: -k ..< k, using: &generator) : nil
        self.init(weight: w, bias: b)
    }

    /// The size of the last input dimension (`weight.shape[1]`).
    public var inputSize: Int { weight.shape[1] }
    /// The size of the last output dimension (`weight.shape[0]`).
    public var outputSize: Int { weight.shape[0] }

    /// `weight`, then `bias` if there is one (key paths `\.weight` and `\.bias!`).
    public var parameterPaths: [ParameterPath<Linear>] {
        let weight = ParameterPath<Linear>("weight", read: { $0.weight }, write: { $0.weight = $1 },
                                           keyPath: { \.weight })
        guard bias != nil else { return [weight] }
        return [weight, ParameterPath("bias", read: { $0.bias! }, write: { $0.bias = $1 }, keyPath: { \.bias! })]
    }

    /// y = x · Wᵀ + b. Input [..., inputSize] → output [..., outputSize]. Composite of `permute`, `matmul` and
    /// `add`. Stops, naming the layer's sizes and the caller's file and line, if the input's last dimension is not
    /// `inputSize`.
    public func callAsFunction(_ input: Tensor<Scalar>, file: StaticString = #fileID,
                               line: UInt = #line) -> Tensor<Scalar> {
        apply(input, at: CallSite(file: file, line: line))
    }

    /// y = x · Wᵀ + b, as ``callAsFunction(_:file:line:)``: the form the ``Layer`` protocol calls (through
    /// `Sequential`), which has no caller's location to report.
    @_disfavoredOverload
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> { apply(input, at: nil) }

    private func apply(_ input: Tensor<Scalar>, at loc: CallSite?) -> Tensor<Scalar> {
        if input.rank == 0 || input.shape[input.rank - 1] != inputSize {
            operationFailure("Linear(\(inputSize) → \(outputSize))", "the input has shape \(describe(input.shape)) but its "
                + "last dimension must be \(inputSize), the layer's inputSize", at: loc)
        }
        let y = loc.map { matmul(input, weight, transposeB: true, file: $0.file, line: $0.line) }
            ?? matmul(input, weight, transposeB: true)
        return bias.map { y + $0 } ?? y
    }
}

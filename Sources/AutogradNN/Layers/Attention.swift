import Autograd

/// Multi-head self-attention, as PyTorch's `nn.MultiheadAttention(width, headCount, batch_first=True)` applied
/// to one sequence as query, key and value.
///
/// The input [..., L, width] is projected to queries, keys and values (three ``Linear`` layers), each split into
/// `headCount` heads of width / headCount features ([..., headCount, L, width / headCount]); each head attends
/// with the core's `scaledDotProductAttention(query:key:value:mask:causal:scale:)` (the causal mask when
/// ``causal`` is true: position i sees positions ≤ i); the heads are joined and projected by ``output``.
/// The result is shaped like the input. Cost: 8 · L · width² for the projections plus 4 · L² · width for the
/// attention, per sequence, floating-point operations.
public struct MultiHeadAttention<Scalar: TensorScalar>: Layer, Sendable {
    /// The query projection, [width] → [width].
    public var query: Linear<Scalar>
    /// The key projection, [width] → [width].
    public var key: Linear<Scalar>
    /// The value projection, [width] → [width].
    public var value: Linear<Scalar>
    /// The projection of the joined heads, [width] → [width].
    public var output: Linear<Scalar>
    /// The number of heads (a divisor of the width).
    public let headCount: Int
    /// Whether each position attends only to itself and earlier positions (a decoder's mask).
    public var causal: Bool

    /// A layer of the given width and number of heads, its four projections initialized as ``Linear``'s
    /// (query, key, value, output, in that order, from `generator`). Stops if `headCount` does not divide
    /// `width`.
    public init<G: RandomNumberGenerator>(width: Int, headCount: Int, causal: Bool = false, using generator: inout G,
                                          file: StaticString = #fileID, line: UInt = #line) {
        if width < 1 || headCount < 1 || width % headCount != 0 {
            operationFailure("MultiHeadAttention(width:headCount:)", "width is \(width) and headCount \(headCount), "
                + "but the width must be a positive multiple of the number of heads (each head gets "
                + "width / headCount features)", at: CallSite(file: file, line: line))
        }
        query = Linear(inputSize: width, outputSize: width, using: &generator)
        key = Linear(inputSize: width, outputSize: width, using: &generator)
        value = Linear(inputSize: width, outputSize: width, using: &generator)
        output = Linear(inputSize: width, outputSize: width, using: &generator)
        self.headCount = headCount
        self.causal = causal
    }

    /// The width of the input and output features.
    public var width: Int { query.inputSize }

    /// The projections' parameters: `query.weight`, `query.bias`, then key, value, output.
    public var parameterPaths: [ParameterPath<MultiHeadAttention>] {
        func paths(_ name: String, _ read: @escaping (Self) -> Linear<Scalar>,
                   _ modify: @escaping (inout Self, (inout Linear<Scalar>) -> Void) -> Void,
                   _ keyPath: @escaping () -> WritableKeyPath<Self, Linear<Scalar>>) -> [ParameterPath<Self>] {
            read(self).parameterPaths.map { $0.nested(prefix: name, read: read, modify: modify, keyPath: keyPath) }
        }
        return paths("query", { $0.query }, { $1(&$0.query) }, { \.query })
            + paths("key", { $0.key }, { $1(&$0.key) }, { \.key })
            + paths("value", { $0.value }, { $1(&$0.value) }, { \.value })
            + paths("output", { $0.output }, { $1(&$0.output) }, { \.output })
    }

    /// Self-attention of the sequence `input` [..., L, width] (at least two axes); the result has the same
    /// shape. Stops, naming the shapes, if the last axis is not the layer's width.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        if input.rank < 2 || input.shape[input.rank - 1] != width {
            operationFailure("MultiHeadAttention(width: \(width), headCount: \(headCount))", "the input has shape "
                + "\(describe(input.shape)) but must be [..., length, \(width)]: a sequence of vectors of the "
                + "layer's width", at: nil)
        }
        let r = input.rank, length = input.shape[r - 2], headWidth = width / headCount
        let batch = Array(input.shape.dropLast(2))
        // [..., L, width] → [..., L, heads, headWidth] → [..., heads, L, headWidth]
        let toHeads = Array(0..<(r - 2)) + [r - 1, r - 2, r]
        func split(_ t: Tensor<Scalar>) -> Tensor<Scalar> {
            t.reshaped(to: batch + [length, headCount, headWidth]).permuted(toHeads)
        }
        let attended = scaledDotProductAttention(query: split(query(input)), key: split(key(input)),
                                                 value: split(value(input)), causal: causal)
        let joined = attended.permuted(toHeads).reshaped(to: batch + [length, width])
        return output(joined)
    }
}

/// A pre-norm transformer block, as in GPT-2: x + attention(LN(x)), then x + MLP(LN(x)), the MLP a
/// ``Linear`` to `hiddenSize` features, exact GELU, and a ``Linear`` back to the width.
///
/// Shapes: input [..., L, width] (at least two axes), output the same. No dropout inside (add ``Dropout``
/// layers around the block if you want it). Cost per sequence: about 8 · L · width² (attention projections)
/// + 4 · L² · width (attention) + 4 · L · width · hiddenSize (MLP) floating-point operations.
public struct TransformerBlock<Scalar: TensorScalar>: Layer, Sendable {
    /// The normalization before the attention.
    public var attentionNorm: LayerNorm<Scalar>
    /// The self-attention.
    public var attention: MultiHeadAttention<Scalar>
    /// The normalization before the MLP.
    public var mlpNorm: LayerNorm<Scalar>
    /// The MLP's first layer, [width] → [hiddenSize].
    public var hidden: Linear<Scalar>
    /// The MLP's second layer, [hiddenSize] → [width].
    public var projection: Linear<Scalar>

    /// A block of the given width and heads, with an MLP of `hiddenSize` features (4 · width when nil, as GPT-2),
    /// its layers initialized from `generator` in the order attention, hidden, projection. Stops if `headCount`
    /// does not divide `width`.
    public init<G: RandomNumberGenerator>(width: Int, headCount: Int, hiddenSize: Int? = nil, causal: Bool = false,
                                          using generator: inout G, file: StaticString = #fileID, line: UInt = #line) {
        attentionNorm = LayerNorm(featureCount: width)
        attention = MultiHeadAttention(width: width, headCount: headCount, causal: causal, using: &generator,
                                       file: file, line: line)
        mlpNorm = LayerNorm(featureCount: width)
        hidden = Linear(inputSize: width, outputSize: hiddenSize ?? 4 * width, using: &generator, file: file,
                        line: line)
        projection = Linear(inputSize: hiddenSize ?? 4 * width, outputSize: width, using: &generator)
    }

    /// Parameters named `attentionNorm.weight`, `attention.query.weight`, …, `projection.bias`.
    public var parameterPaths: [ParameterPath<TransformerBlock>] {
        parameterPaths(of: \.attentionNorm, named: "attentionNorm") + parameterPaths(of: \.attention, named: "attention")
            + parameterPaths(of: \.mlpNorm, named: "mlpNorm") + parameterPaths(of: \.hidden, named: "hidden")
            + parameterPaths(of: \.projection, named: "projection")
    }

    /// x + attention(LN(x)), then x + projection(gelu(hidden(LN(x)))); shaped like the input.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        let x = input + attention(attentionNorm(input))
        return x + projection(gelu(hidden(mlpNorm(x))))
    }
}

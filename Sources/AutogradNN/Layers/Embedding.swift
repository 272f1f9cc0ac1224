import Autograd

/// A lookup table of learned vectors, one per token: y[..., :] = weight[indices[...], :] (PyTorch's
/// `nn.Embedding`).
///
/// Shapes: weight [vocabularySize, width]; indices `Tensor<Int32>` of any shape, each in 0 ..< vocabularySize;
/// result indices.shape + [width]. The lookup is the core's `gathering(atIndices:alongAxis:)` on axis 0, a linear
/// primitive: the weight's gradient scatter-adds each output row's cotangent into the row it came from (rows
/// looked up twice receive both). Cost: one copy of the result; the gradient touches only the rows looked up.
///
/// Not a ``Layer`` (its input is integers, which are never differentiated): call it on an index tensor. A
/// negative index or one ≥ vocabularySize stops the program naming its position, its value and the bound (the core's
/// gather would read a negative index from the end; an embedding never should).
public struct Embedding<Scalar: TensorScalar>: Parameterized, Sendable {
    /// The table, [vocabularySize, width]: row t is token t's vector.
    public var weight: Tensor<Scalar>

    /// The number of rows: tokens 0 ..< vocabularySize.
    public var vocabularySize: Int { weight.shape[0] }
    /// The length of each vector.
    public var width: Int { weight.shape[1] }

    /// A table with the given rows. Stops unless `weight` is [vocabularySize, width].
    public init(weight: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) {
        if weight.rank != 2 {
            operationFailure("Embedding(weight:)", "the weight has shape \(describe(weight.shape)); it must be "
                + "[vocabularySize, width]", at: CallSite(file: file, line: line))
        }
        self.weight = weight
    }

    /// A table initialized as PyTorch initializes `nn.Embedding`: every element drawn from N(0, 1).
    public init<G: RandomNumberGenerator>(vocabularySize: Int, width: Int, using generator: inout G,
                                          file: StaticString = #fileID, line: UInt = #line) {
        if vocabularySize < 1 || width < 0 {
            operationFailure("Embedding(vocabularySize:width:)", "got vocabularySize \(vocabularySize) and width "
                + "\(width); it needs at least one token and a width of 0 or more", at: CallSite(file: file, line: line))
        }
        self.init(weight: Tensor(randomNormal: [vocabularySize, width], using: &generator))
    }

    /// `weight`.
    public var parameterPaths: [ParameterPath<Embedding>] {
        [ParameterPath("weight", read: { $0.weight }, write: { $0.weight = $1 }, keyPath: { \.weight })]
    }

    /// The rows of the table at `indices`: indices.shape + [width].
    public func callAsFunction(_ indices: Tensor<Int32>, file: StaticString = #fileID, line: UInt = #line)
        -> Tensor<Scalar> {
        let v = Int32(vocabularySize)
        if let k = indices.scalars.firstIndex(where: { $0 < 0 || $0 >= v }) {
            operationFailure("Embedding", "index \(k) of the index tensor (shape \(describe(indices.shape))) is "
                + "\(indices.scalars[k]), outside 0 ..< \(vocabularySize) (the table's vocabularySize); tokens are "
                + "numbered from 0", at: CallSite(file: file, line: line))
        }
        return weight.gathering(atIndices: indices, alongAxis: 0, file: file, line: line)
    }
}

import Autograd

/// One epoch of a data set in minibatches: the examples in a fixed order (shuffled or not), cut into consecutive
/// batches of ``batchSize`` examples. The last batch holds the remainder, N mod batchSize examples, and is kept
/// or dropped as asked (kept by default, like PyTorch's `DataLoader`).
///
/// A collection of ``LabeledDataset`` values: batch i is built when it is read (a gather of its rows, O(batch
/// size × F)), so an epoch never copies the whole data set at once. Make a new one per epoch with the same
/// generator to get a new order each epoch; the same seed gives the same epochs on every machine.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// for epoch in 0..<10 {
///     for batch in training.minibatches(ofSize: 64, shuffledBy: &generator) {
///         // batch.features: [64, F] (the last batch may be smaller), batch.labels: [64]
///     }
/// }
/// ```
public struct Minibatches<Scalar: TensorScalar>: RandomAccessCollection, Sendable {
    /// The data set the batches are taken from.
    public let data: LabeledDataset<Scalar>
    /// The number of examples in each batch but possibly the last.
    public let batchSize: Int
    /// The order of the examples in this epoch: batch i holds `order[i·batchSize ..< (i + 1)·batchSize]`.
    public let order: [Int]
    /// Whether a last batch smaller than ``batchSize`` is part of the epoch.
    public let keepsPartialBatch: Bool

    /// Batches of `batchSize` examples taken in `order`. Stops unless `batchSize` ≥ 1 and `order` holds valid
    /// example indices.
    public init(_ data: LabeledDataset<Scalar>, batchSize: Int, order: [Int], keepingPartialBatch: Bool = true,
                file: StaticString = #fileID, line: UInt = #line) {
        let loc = CallSite(file: file, line: line)
        if batchSize < 1 {
            operationFailure("minibatches(ofSize:)", "the batch size is \(batchSize); it must be at least 1", at: loc)
        }
        if let bad = order.first(where: { $0 < 0 || $0 >= data.count }) {
            operationFailure("Minibatches(_:batchSize:order:)", "the order holds example \(bad), but the data set has "
                + "\(data.count) examples (valid indices 0 ..< \(data.count))", at: loc)
        }
        self.data = data
        self.batchSize = batchSize
        self.order = order
        self.keepsPartialBatch = keepingPartialBatch
    }

    /// 0.
    public var startIndex: Int { 0 }
    /// The number of batches: ⌈N / batchSize⌉ when the partial batch is kept, ⌊N / batchSize⌋ when it is dropped.
    public var endIndex: Int {
        keepsPartialBatch ? (order.count + batchSize - 1) / batchSize : order.count / batchSize
    }

    /// Batch i: the examples `order[i·batchSize ..< min((i + 1)·batchSize, N)]`, features [B, F] and labels [B].
    public subscript(i: Int) -> LabeledDataset<Scalar> {
        precondition(i >= 0 && i < endIndex, "minibatch \(i) is out of range 0 ..< \(endIndex)")
        let start = i * batchSize
        return data.selecting(Array(order[start..<Swift.min(start + batchSize, order.count)]))
    }
}

extension LabeledDataset {
    /// This data set's examples in a random order drawn from `generator` (``randomPermutation(count:using:)``), in
    /// batches of `size`; the last batch holds the remainder unless `keepingPartialBatch` is false. Call it once per
    /// epoch with the same generator for a new order each epoch. See ``Minibatches``.
    public func minibatches<G: RandomNumberGenerator>(ofSize size: Int, shuffledBy generator: inout G,
                                                      keepingPartialBatch: Bool = true, file: StaticString = #fileID,
                                                      line: UInt = #line) -> Minibatches<Scalar> {
        Minibatches(self, batchSize: size, order: randomPermutation(count: count, using: &generator),
                    keepingPartialBatch: keepingPartialBatch, file: file, line: line)
    }

    /// This data set's examples in their stored order, in batches of `size` (for evaluation, where the order does
    /// not matter). See ``Minibatches``.
    public func minibatches(ofSize size: Int, keepingPartialBatch: Bool = true, file: StaticString = #fileID,
                            line: UInt = #line) -> Minibatches<Scalar> {
        Minibatches(self, batchSize: size, order: Array(0..<count), keepingPartialBatch: keepingPartialBatch,
                    file: file, line: line)
    }
}

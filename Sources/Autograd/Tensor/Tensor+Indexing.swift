/// One entry of a tensor subscript: a position, a range (optionally strided), every position, or a new axis.
///
/// Integers and Swift ranges convert automatically: `x[2]`, `x[1..<3]`, `x[..<2, 0]`, `x[.all, 1]`,
/// `x[stride(from: 0, to: 10, by: 2)]`, `x[.newAxis, .all]`.
public enum TensorIndex: Sendable, Equatable {
    /// One position; removes the axis (as in NumPy). Negative counts from the end.
    case index(Int)
    /// Positions `lower, lower + step, …` below `upper` (nil bounds mean the ends); keeps the axis.
    /// Negative bounds count from the end. `step` must be positive.
    case range(lower: Int?, upper: Int?, step: Int)
    /// Every position of the axis (written `.all` in a subscript).
    case wholeAxis
    /// Inserts a new axis of size 1 here (written `.newAxis` in a subscript).
    case insertedAxis
}

/// A value usable in a tensor subscript: `Int`, ranges of `Int`, `StrideTo<Int>` and ``TensorIndex``.
public protocol TensorIndexConvertible {
    /// The subscript entry this value stands for.
    var tensorIndex: TensorIndex { get }
}

extension TensorIndex: TensorIndexConvertible {
    /// Itself.
    public var tensorIndex: TensorIndex { self }
}
extension Int: TensorIndexConvertible {
    /// `.index(self)`.
    public var tensorIndex: TensorIndex { .index(self) }
}
extension Range<Int>: TensorIndexConvertible {
    /// `.range(lower: lowerBound, upper: upperBound, step: 1)`.
    public var tensorIndex: TensorIndex { .range(lower: lowerBound, upper: upperBound, step: 1) }
}
extension ClosedRange<Int>: TensorIndexConvertible {
    /// `.range(lower: lowerBound, upper: upperBound + 1, step: 1)`.
    public var tensorIndex: TensorIndex { .range(lower: lowerBound, upper: upperBound + 1, step: 1) }
}
extension PartialRangeFrom<Int>: TensorIndexConvertible {
    /// `.range(lower: lowerBound, upper: nil, step: 1)`.
    public var tensorIndex: TensorIndex { .range(lower: lowerBound, upper: nil, step: 1) }
}
extension PartialRangeUpTo<Int>: TensorIndexConvertible {
    /// `.range(lower: nil, upper: upperBound, step: 1)`.
    public var tensorIndex: TensorIndex { .range(lower: nil, upper: upperBound, step: 1) }
}
extension PartialRangeThrough<Int>: TensorIndexConvertible {
    /// `.range(lower: nil, upper: upperBound + 1, step: 1)`.
    public var tensorIndex: TensorIndex { .range(lower: nil, upper: upperBound + 1, step: 1) }
}
extension StrideTo<Int>: TensorIndexConvertible {
    /// The positions of the stride (its start, end and positive step).
    public var tensorIndex: TensorIndex {
        var it = makeIterator()
        let first = it.next()
        let second = it.next()
        guard let first else { return .range(lower: 0, upper: 0, step: 1) }
        let step = second.map { $0 - first } ?? 1
        return .range(lower: first, upper: underestimatedCount == 1 ? first + 1 : first + underestimatedCount * step - step + 1,
                      step: Swift.max(step, 1))
    }
}

extension TensorIndexConvertible where Self == TensorIndex {
    /// Every position of an axis (NumPy's `:`).
    public static var all: TensorIndex { .wholeAxis }
    /// A new axis of size 1 (NumPy's `None` / `newaxis`).
    public static var newAxis: TensorIndex { .insertedAxis }
}

extension Tensor {
    /// Basic indexing as in NumPy: one entry per leading axis (missing trailing entries mean "all"). An integer
    /// picks one position and removes the axis; a range keeps the axis. Copies the selected elements.
    /// Composite of the primitives `slice` (linear: x̄ = ȳ embedded into zeros of x's shape) and `reshape`.
    ///
    /// ```swift
    /// let m = Tensor<Float>(shape: [3, 4], scalars: (0..<12).map(Float.init))
    /// let row = m[1]                 // row 1, shape [4]
    /// let column = m[.all, 2]        // column 2, shape [3]
    /// let block = m[0..<2, 1...]     // shape [2, 3]
    /// ```
    ///
    /// An index out of range stops the program with a message naming the caller's file and line.
    public subscript(_ entries: any TensorIndexConvertible..., file file: StaticString = #fileID,
                     line line: UInt = #line) -> Tensor {
        indexed(entries.map(\.tensorIndex), at: CallSite(file: file, line: line))
    }

    private func indexed(_ entries: [TensorIndex], at loc: CallSite) -> Tensor {
        let (axes, result) = selection(entries, "subscript", at: loc)
        return Tensor(unchecked: base.sliced(axes).reshaped(result))
    }

    /// What subscript entries select: one slice per axis, and the shape of the result (integer entries removed,
    /// inserted axes added). Stops, naming `name`, on an index out of range or a bad step.
    func selection(_ entries: [TensorIndex], _ name: String, at loc: CallSite) -> (axes: [SliceAxis], shape: [Int]) {
        let consumed = entries.filter { $0 != .insertedAxis }.count
        if consumed > rank {
            operationFailure(name, "\(consumed) indices for a tensor of rank \(rank) (shape \(describe(shape)))",
                             at: loc)
        }
        var axes: [SliceAxis] = []
        var result: [Int] = []
        var axis = 0
        for e in entries {
            switch e {
            case .insertedAxis:
                result.append(1)
            case .wholeAxis:
                axes.append(.all(shape[axis])); result.append(shape[axis]); axis += 1
            case .index(let i):
                let n = shape[axis]
                let j = i < 0 ? i + n : i
                if j < 0 || j >= n {
                    operationFailure(name, "index \(i) is out of range for axis \(axis) of size \(n) (tensor shape "
                        + "\(describe(shape)))", at: loc)
                }
                axes.append(SliceAxis(start: j, count: 1, step: 1)); axis += 1
            case let .range(lower, upper, step):
                let n = shape[axis]
                if step <= 0 { operationFailure(name, "a range step must be positive, got \(step)", at: loc) }
                func clamp(_ v: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + n : v, 0), n) }
                let lo = clamp(lower ?? 0), hi = clamp(upper ?? n)
                let c = hi > lo ? (hi - lo + step - 1) / step : 0
                axes.append(SliceAxis(start: lo, count: c, step: step)); result.append(c); axis += 1
            }
        }
        while axis < rank { axes.append(.all(shape[axis])); result.append(shape[axis]); axis += 1 }
        return (axes, result)
    }
}

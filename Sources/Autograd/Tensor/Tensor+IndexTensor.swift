import CAutogradKernels

// Integer index tensors, `Tensor<Int32>`: the positions that `argmax`, `argsort` and `topK` return and that
// `gathering(alongAxis:indices:)`, `scatterAdding(_:alongAxis:indices:)` and `oneHot` read. Int32 is an element type
// but not a `TensorScalar`: index tensors are never differentiated (a position has no derivative), and they take
// part in the shape operations that only move elements (reshape, permute, slice, concatenate, gather), nothing else.

extension Tensor where Scalar == Int32 {
    /// A 1-d index tensor from `Int` values (shape `[values.count]`). Stops if a value does not fit in `Int32`.
    public init(_ values: [Int], file: StaticString = #fileID, line: UInt = #line) {
        self.init(shape: [values.count], scalars: values, file: file, line: line)
    }

    /// An index tensor of the given shape from `Int` values in row-major order. Stops if the count does not match
    /// the shape or a value does not fit in `Int32` (−2³¹ ..< 2³¹).
    public init(shape: [Int], scalars values: [Int], file: StaticString = #fileID, line: UInt = #line) {
        let narrowed = values.enumerated().map { i, v -> Int32 in
            guard let w = Int32(exactly: v) else {
                operationFailure("Tensor<Int32>(shape:scalars:)", "value \(v) at position \(i) does not fit in Int32 "
                    + "(\(Int32.min) ... \(Int32.max))", at: CallSite(file: file, line: line))
            }
            return w
        }
        self.init(shape: shape, scalars: narrowed, file: file, line: line)
    }

    /// The positions `start, start + stride, …` below `end` (above it for a negative stride), as a 1-d index
    /// tensor (NumPy `arange` with integers): shape `[⌈(end − start) / stride⌉]`, or `[0]` if that is negative.
    /// Stops if the stride is 0 or a position does not fit in Int32.
    public init(rangeFrom start: Int, to end: Int, stride: Int = 1, file: StaticString = #fileID, line: UInt = #line) {
        if stride == 0 {
            operationFailure("Tensor<Int32>(rangeFrom:to:stride:)", "stride must be nonzero",
                             at: CallSite(file: file, line: line))
        }
        self.init(Array(Swift.stride(from: start, to: end, by: stride)), file: file, line: line)
    }

    /// Whole numbers from a floating-point tensor, rounded toward zero (as `Int32(x)` rounds one value). Stops,
    /// naming the first offending element, if a value is NaN, infinite or outside Int32's range. Not differentiable
    /// (the result holds positions, not quantities). Cost: one pass.
    public init<S: TensorScalar>(truncating x: Tensor<S>, file: StaticString = #fileID, line: UInt = #line) {
        for (i, v) in x.scalars.enumerated() where !(v.doubleValue > -2_147_483_649 && v.doubleValue < 2_147_483_648) {
            operationFailure("Tensor<Int32>(truncating:)", "element \(i) of the \(S.self) tensor of shape "
                + "\(describe(x.shape)) is \(v), which has no Int32 value (it must be finite and lie in "
                + "\(Int32.min) ... \(Int32.max))", at: CallSite(file: file, line: line))
        }
        self.init(unchecked: Kernel.convert(x.base.value, to: .int32))
    }

    /// Whether two index tensors have the same shape and the same elements.
    public static func == (a: Tensor, b: Tensor) -> Bool { a.shape == b.shape && a.scalars == b.scalars }

    /// Whether two index tensors differ in shape or in some element.
    public static func != (a: Tensor, b: Tensor) -> Bool { !(a == b) }

    /// a == b elementwise, broadcasting; a Bool mask.
    public static func .== (a: Tensor, b: Tensor) -> Tensor<Bool> {
        Tensor<Bool>(unchecked: Kernel.compare(AG_COMPARE_EQ, a.base, b.base, ".==", at: nil))
    }

    /// a != b elementwise, broadcasting; a Bool mask.
    public static func .!= (a: Tensor, b: Tensor) -> Tensor<Bool> {
        Tensor<Bool>(unchecked: Kernel.compare(AG_COMPARE_NE, a.base, b.base, ".!=", at: nil))
    }
}

extension Tensor where Scalar: TensorScalar {
    /// An index tensor converted to numbers (exact: every Int32 is a Double, and a Float up to 2²⁴). A constant:
    /// positions carry no derivative.
    public init(_ indices: Tensor<Int32>) { self.init(unchecked: Kernel.convert(indices.base, to: Scalar.scalarType)) }

    /// The position of the largest element along `axis` (NumPy `argmax`, PyTorch `argmax(dim:)`): an index tensor
    /// shaped like this one without that axis (or with it kept as 1). Ties go to the first position; a NaN counts
    /// as larger than every number (so the first NaN wins, as in NumPy). Not differentiable (its values are
    /// positions); to differentiate the maximum itself, use ``max(alongAxes:keepingDimensions:file:line:)-([Int],_,_,_)``
    /// or gather with the positions. Cost: one pass. Stops if the axis is empty or out of range.
    public func argmax(alongAxis axis: Int, keepingDimensions: Bool = false,
                       file: StaticString = #fileID, line: UInt = #line) -> Tensor<Int32> {
        argExtremum(axis, keepingDimensions, largest: true, "argmax(alongAxis:)", CallSite(file: file, line: line))
    }

    /// The position of the smallest element along `axis` (ties: the first; a NaN counts as smaller than every
    /// number). See ``argmax(alongAxis:keepingDimensions:file:line:)``.
    public func argmin(alongAxis axis: Int, keepingDimensions: Bool = false,
                       file: StaticString = #fileID, line: UInt = #line) -> Tensor<Int32> {
        argExtremum(axis, keepingDimensions, largest: false, "argmin(alongAxis:)", CallSite(file: file, line: line))
    }

    /// The flat (row-major) position of the largest element, a 0-d index tensor (ties: the first).
    public func argmax(file: StaticString = #fileID, line: UInt = #line) -> Tensor<Int32> {
        reshaped(to: [count]).argmax(alongAxis: 0, file: file, line: line)
    }

    /// The flat (row-major) position of the smallest element, a 0-d index tensor (ties: the first).
    public func argmin(file: StaticString = #fileID, line: UInt = #line) -> Tensor<Int32> {
        reshaped(to: [count]).argmin(alongAxis: 0, file: file, line: line)
    }

    private func argExtremum(_ axis: Int, _ keep: Bool, largest: Bool, _ name: String,
                             _ loc: CallSite) -> Tensor<Int32> {
        VMapTracing.noteValueDependence(base, name)
        let a = Shape.axis(axis, rank: rank, name, at: loc)
        let n = shape[a]
        if n == 0 {
            operationFailure(name, "axis \(axis) of shape \(describe(shape)) is empty: an empty line has no "
                + "position to return", at: loc)
        }
        let outer = Shape.count(Array(shape[..<a])), inner = Shape.count(Array(shape[(a + 1)...]))
        var result = [Int32](repeating: 0, count: outer * inner)
        withUnsafeBufferPointer { x in
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = 0, bestValue = x[o * n * inner + i]
                    for j in 1..<n {
                        let v = x[(o * n + j) * inner + i]
                        if bestValue.isNaN { break }
                        if v.isNaN || (largest ? v > bestValue : v < bestValue) { best = j; bestValue = v }
                    }
                    result[o * inner + i] = Int32(best)
                }
            }
        }
        var out = shape
        if keep { out[a] = 1 } else { out.remove(at: a) }
        return Tensor<Int32>(shape: out, scalars: result)
    }
}

/// One-hot vectors: for an index tensor of shape `s`, the tensor of shape `s + [classes]` with 1 at position
/// `indices[i]` of row i and 0 elsewhere (PyTorch `one_hot`, as numbers of the result's type). A constant.
/// Negative indices count from the end (−1 is the last class). Cost: one pass over the result.
/// Stops, naming the position, the value and the bound, if an index is outside `-classes ..< classes`.
///
/// ```swift
/// let labels = Tensor<Int32>([2, 0, 1])
/// let targets: Tensor<Float> = oneHot(labels, classes: 3)   // [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
/// ```
public func oneHot<S: TensorScalar>(_ indices: Tensor<Int32>, classes: Int, file: StaticString = #fileID,
                                    line: UInt = #line) -> Tensor<S> {
    let loc = CallSite(file: file, line: line)
    if classes < 0 {
        operationFailure("oneHot(_:classes:)", "classes must be 0 or more, got \(classes)", at: loc)
    }
    let positions = checkedIndices(indices.base, bound: classes, "oneHot(_:classes:)", what: "classes =", at: loc)
    var scalars = [S](repeating: 0, count: positions.count * classes)
    for (i, p) in positions.enumerated() { scalars[i * classes + p] = 1 }
    return Tensor(shape: indices.shape + [classes], scalars: scalars)
}

/// The elements of an index tensor as `Int`s, negative ones counted from the end (`i + bound`); stops at the first
/// element outside `-bound ..< bound`, naming the operation, its position (a multi-index), its value and the bound.
func checkedIndices(_ indices: AnyTensor, bound: Int, _ operation: String, what: String,
                    at loc: CallSite?) -> [Int] {
    precondition(indices.scalarType == .int32)
    // The positions are checked and kept as Swift values: an index tensor computed from a traced function's inputs
    // would be frozen at the traced positions.
    Trace.valueRead(indices.storage, "the index tensor of \(operation), checked in Swift code")
    let p = indices.storage.int32s()
    return (0..<indices.count).map { i in
        let v = Int(p[i]), j = v < 0 ? v + bound : v
        if j < 0 || j >= bound {
            var position = [Int](repeating: 0, count: indices.rank), rest = i
            for d in stride(from: indices.rank - 1, through: 0, by: -1) {
                position[d] = rest % indices.shape[d]
                rest /= indices.shape[d]
            }
            operationFailure(operation, "index \(v) at position \(position) of the index tensor (shape "
                + "\(describe(indices.shape))) is out of range for \(what) \(bound): indices must lie in "
                + "\(-bound) ..< \(bound) (negative ones count from the end)", at: loc)
        }
        return j
    }
}

/// An n-dimensional array of `Float`, `Double` (or `Bool`, for masks), with value semantics.
///
/// A tensor is a shape and a shared, row-major buffer: copying a tensor shares the buffer, and writing an element
/// copies it first if it is shared (copy-on-write). Tensors are `Sendable` and can cross tasks freely.
///
/// ```swift
/// let x = Tensor<Float>([[1, 2, 3], [4, 5, 6]])   // shape [2, 3]
/// let y = (x * 2 + 1).sum(alongAxes: 1)           // shape [2]: [15, 33]
/// ```
///
/// Operations follow NumPy's broadcasting rules. Each is either a *primitive* (differentiated by its own rule) or a
/// *composite* built from primitives (differentiated through them); each operation's documentation says which.
/// A tensor records how it was computed only when a derivative is wanted of something it depends on: mark an input
/// with ``requiringGradient(file:line:)`` or use a functional call such as ``gradient(at:of:)``.
public struct Tensor<Scalar: TensorElement>: Sendable {
    /// The type-erased representation this tensor views.
    public internal(set) var base: AnyTensor

    /// Views a type-erased tensor; stops if its element type is not `Scalar`.
    public init(_ base: AnyTensor) {
        precondition(base.scalarType == Scalar.scalarType,
                     "Tensor<\(Scalar.self)>: the AnyTensor holds \(base.scalarType) elements; "
                     + "use Tensor<\(base.scalarType)>(_:) or convert with Tensor(converting:)")
        self.base = base
    }

    @inline(__always) init(unchecked base: AnyTensor) { self.base = base }

    /// The size of each dimension; `[]` for a 0-d tensor (a single element).
    @inline(__always) public var shape: [Int] { base.shape }
    /// The number of dimensions (`shape.count`).
    @inline(__always) public var rank: Int { base.rank }
    /// The number of elements (the product of `shape`; 1 for a 0-d tensor).
    @inline(__always) public var count: Int { base.count }
    /// The element type as a run-time value.
    public var scalarType: ScalarType { Scalar.scalarType }

    /// Declares that Swift code reads this tensor's values (`what` names the read) to the transforms that cannot
    /// follow values: a `vmap` trace stops if they depend on a mapped input (or, when `stopsUnderVMap` is false, falls
    /// back to its loop), and a compiled function's trace fails. Outside both, two relaxed atomic loads.
    @inline(__always) private func noteValueRead(_ what: String, stopsUnderVMap: Bool = true) {
        if stopsUnderVMap { VMapTracing.checkRead(base, what) } else { VMapTracing.noteValueDependence(base, what) }
        Trace.valueRead(base.storage, what)
    }

    /// All elements in row-major order (the last axis varies fastest). O(count) copy.
    public var scalars: [Scalar] {
        noteValueRead(".scalars")
        let p = base.storage.base.assumingMemoryBound(to: Scalar.self)
        return Array(UnsafeBufferPointer(start: p, count: count))
    }

    /// The single element of a tensor with one element (any shape, e.g. `[]` or `[1, 1]`). Stops otherwise; a
    /// property cannot take its caller's location, so the message names `.scalar` and the shape, and the crash
    /// report's backtrace shows your line.
    public var scalar: Scalar {
        if count != 1 {
            operationFailure("scalar", "the tensor has shape \(describe(shape)) (\(count) elements), but .scalar "
                + "needs exactly one element; use .scalars for all of them, or reduce first (sum(), mean())", at: nil)
        }
        noteValueRead(".scalar")
        return base.storage.base.assumingMemoryBound(to: Scalar.self)[0]
    }

    /// Calls `body` with the elements in row-major order, without copying.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        noteValueRead("withUnsafeBufferPointer", stopsUnderVMap: false)
        return try body(UnsafeBufferPointer(start: base.storage.base.assumingMemoryBound(to: Scalar.self), count: count))
    }

    /// The element at a full multi-index (one index per axis, each in `0 ..< shape[axis]`).
    ///
    /// Setting an element copies the buffer first if it is shared. A tensor that records derivatives cannot be
    /// written (its history would no longer describe it): write into a `detached()` copy instead.
    /// An index out of range stops the program with a message naming the caller's file and line.
    public subscript(scalarAt indices: Int..., file file: StaticString = #fileID, line line: UInt = #line) -> Scalar {
        get {
            noteValueRead("subscript(scalarAt:)")
            return base.storage.base.assumingMemoryBound(to: Scalar.self)[flatIndex(indices, CallSite(file: file, line: line))]
        }
        set {
            let loc = CallSite(file: file, line: line)
            if base.hasDerivativeState {
                operationFailure("subscript(scalarAt:)", "cannot assign an element of a tensor that records "
                    + "derivatives (it was computed from a tensor marked requiringGradient(), or is one); its "
                    + "recorded history would no longer match its value. Assign into detached() instead. See the "
                    + "article \"Recording and leaves\".", at: loc)
            }
            let i = flatIndex(indices, loc)
            if !isKnownUniquelyReferenced(&base.storage) { base.storage = base.storage.copy() }
            Trace.unsupported("assigning an element with subscript(scalarAt:)", advice: "build the tensor with "
                + "operations (Tensor.where(_:_:_:), a mask, concatenation) or assign before calling the function")
            base.storage.base.assumingMemoryBound(to: Scalar.self)[i] = newValue
        }
    }

    private func flatIndex(_ indices: [Int], _ loc: CallSite) -> Int {
        if indices.count != rank {
            operationFailure("subscript(scalarAt:)", "got \(indices.count) indices \(indices) for a tensor of shape "
                + "\(describe(shape)); an element needs exactly \(rank), one per axis", at: loc)
        }
        var flat = 0
        for (axis, i) in indices.enumerated() {
            if i < 0 || i >= shape[axis] {
                operationFailure("subscript(scalarAt:)", "index \(i) is out of range for axis \(axis) of size "
                    + "\(shape[axis]) (tensor shape \(describe(shape)), indices \(indices))", at: loc)
            }
            flat = flat * shape[axis] + i
        }
        return flat
    }
}

extension AnyTensor {
    /// Erases a tensor's element type.
    public init<Scalar>(_ tensor: Tensor<Scalar>) { self = tensor.base }
}

extension Tensor where Scalar: TensorScalar {
    /// Whether this tensor carries derivative state: reverse-mode history (it is a leaf marked with
    /// ``requiringGradient(file:line:)`` or was computed from one) or forward-mode tangents.
    public var isRecorded: Bool { base.hasDerivativeState }
}

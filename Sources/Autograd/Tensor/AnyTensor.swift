/// A tensor whose element type is known at run time: the representation behind every ``Tensor``.
///
/// `Tensor<Float>` and `Tensor<Double>` are thin typed views of this value. Use `AnyTensor` when one collection
/// holds tensors of different element types, for example to ask for derivatives with respect to a `Float` and a
/// `Double` parameter in one call (``gradients(of:wrt:cotangents:retainGraph:createGraph:allowUnused:)-(([AnyTensor],_,_,_,_,_)``).
///
/// Layout: a shared contiguous ``Storage`` buffer (row-major), the shape, and optional derivative state (the node
/// that recorded how the tensor was made, and forward-mode tangents). Constants carry no derivative state, so an
/// operation on them costs only its kernel.
public struct AnyTensor: Sendable {
    @usableFromInline var storage: Storage
    /// The size of each dimension; `[]` for a 0-d tensor (one element).
    public internal(set) var shape: [Int]
    @usableFromInline var ad: ADState?

    @usableFromInline
    init(storage: Storage, shape: [Int], ad: ADState? = nil) {
        self.storage = storage
        self.shape = shape
        self.ad = ad
    }

    /// The element type.
    public var scalarType: ScalarType { storage.type }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Number of elements (the product of the shape).
    public var count: Int { storage.count }

    /// This tensor's value without derivative state: a constant that shares the same buffer.
    @inline(__always) var value: AnyTensor { AnyTensor(storage: storage, shape: shape) }
    /// The reverse-mode node that recorded this tensor, if any.
    @inline(__always) var node: GradNode? { ad?.node }

    /// A new uninitialized tensor of the given type and shape (internal: kernels fill it).
    init(uninitialized type: ScalarType, shape: [Int]) {
        self.init(storage: Storage(type: type, count: Shape.count(shape)), shape: shape)
    }
}

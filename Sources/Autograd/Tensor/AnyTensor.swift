/// A tensor whose element type is known at run time: the representation behind every ``Tensor``.
///
/// `Tensor<Float>` and `Tensor<Double>` are thin typed views of this value. Use `AnyTensor` when one collection
/// holds tensors of different element types, for example to ask for derivatives with respect to a `Float` and a
/// `Double` parameter in one call (``gradients(of:wrt:cotangents:batched:retainGraph:createGraph:allowUnused:)->[AnyTensor]``).
///
/// Layout: a shared contiguous `Storage` buffer (row-major), the shape, and the derivative state: the node that
/// recorded how the tensor was made (reverse mode) and its tangents (forward mode). Constants carry neither, so an
/// operation on them costs only its kernel.
public struct AnyTensor: Sendable {
    @usableFromInline nonisolated(unsafe) var storage: Storage
    /// The size of each dimension; `[]` for a 0-d tensor (one element).
    public internal(set) var shape: [Int]
    /// The reverse-mode node that produced this tensor (an operation, or a leaf derivatives are taken for).
    @usableFromInline var node: GradNode?
    /// Forward-mode tangents, one per open forward level the tensor is perturbed at (see ``Tangents``).
    @usableFromInline var tangents: Tangents

    @usableFromInline
    init(storage: Storage, shape: [Int], node: GradNode? = nil, tangents: Tangents = .none) {
        self.storage = storage
        self.shape = shape
        self.node = node
        self.tangents = tangents
    }

    /// The element type.
    public var scalarType: ScalarType { storage.type }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Number of elements (the product of the shape).
    public var count: Int { storage.count }

    /// Whether this tensor carries reverse history or forward tangents.
    @inline(__always) var hasDerivativeState: Bool { node != nil || hasTangents }
    /// This tensor's value without derivative state: a constant that shares the same buffer.
    @inline(__always) var value: AnyTensor { AnyTensor(storage: storage, shape: shape) }

    /// A new uninitialized tensor of the given type and shape (internal: kernels fill it).
    init(uninitialized type: ScalarType, shape: [Int]) {
        self.init(storage: Storage.make(type: type, count: Shape.count(shape)), shape: shape)
    }
}

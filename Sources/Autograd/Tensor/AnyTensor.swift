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
    /// The derivative state: reverse-mode node and forward-mode tangents, in one field (see `DerivativeState`).
    @usableFromInline nonisolated(unsafe) var state: DerivativeState

    @usableFromInline
    init(storage: Storage, shape: [Int], node: GradNode? = nil, tangents: Tangents = .none) {
        self.storage = storage
        self.shape = shape
        self.state = DerivativeState(node: node, tangents: tangents, shape: shape)
    }

    /// The reverse-mode node that produced this tensor (an operation, or a leaf derivatives are taken for).
    @inline(__always) @usableFromInline var node: GradNode? {
        get {
            switch state {
            case .reverse(let node), .reverseAndTangents(let node, _): node
            default: nil
            }
        }
        set { state = DerivativeState(node: newValue, tangents: tangents, shape: shape) }
    }

    /// Forward-mode tangents, one per open forward level the tensor is perturbed at (see ``Tangents``).
    @inline(__always) @usableFromInline var tangents: Tangents {
        get {
            switch state {
            case .tangent(let buffer, let level): .single(buffer, level: level)
            case .tangents(let list), .reverseAndTangents(_, let list): .list(list)
            default: .none
            }
        }
        set { state = DerivativeState(node: node, tangents: newValue, shape: shape) }
    }

    /// The element type.
    public var scalarType: ScalarType { storage.type }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Number of elements (the product of the shape).
    public var count: Int { storage.count }

    /// Whether this tensor carries reverse history or forward tangents.
    @inline(__always) var hasDerivativeState: Bool { if case .constant = state { false } else { true } }
    /// This tensor's value without derivative state: a constant that shares the same buffer.
    @inline(__always) var value: AnyTensor { AnyTensor(storage: storage, shape: shape) }

    /// A new uninitialized tensor of the given type and shape (internal: kernels fill it).
    init(uninitialized type: ScalarType, shape: [Int]) {
        self.init(storage: Storage.make(type: type, count: Shape.count(shape)), shape: shape)
    }
}

/// A tensor's derivative state in one field of two words, so that a tensor is four words (buffer, shape, state):
/// copying one stays cheap, which matters most in reverse mode. Its cases are the combinations that occur, the
/// common ones without an object of their own:
/// - `constant`: no derivative state (most tensors);
/// - `reverse`: reverse-mode history only (every recorded operation in a gradient);
/// - `tangent`: forward mode's usual single constant tangent and its level, as the bare buffer (every operation
///   in a `jvp`);
/// - `tangents` and `reverseAndTangents`: anything else (several levels, batched tangents, tangents with their own
///   state, or history and tangents together, as in forward over reverse), with the tangents in a list.
@usableFromInline
enum DerivativeState: @unchecked Sendable {  // unchecked: `Storage` (see there)
    case constant
    case reverse(GradNode)
    case tangent(Storage, level: Int)
    case tangents(TangentList)
    case reverseAndTangents(GradNode, TangentList)

    /// The state of a tensor of shape `shape` with this node and these tangents. (History and a single tangent
    /// together keep the tangent in a one-entry list, whose entry needs the shape.)
    @inline(__always) init(node: GradNode?, tangents: Tangents, shape: [Int]) {
        switch (node, tangents) {
        case (nil, .none): self = .constant
        case (let node?, .none): self = .reverse(node)
        case (nil, .single(let buffer, let level)): self = .tangent(buffer, level: level)
        case (nil, .list(let list)): self = .tangents(list)
        case (let node?, .single(let buffer, let level)):
            self = .reverseAndTangents(node, TangentList(level: level, tangent: AnyTensor(storage: buffer, shape: shape)))
        case (let node?, .list(let list)): self = .reverseAndTangents(node, list)
        }
    }
}

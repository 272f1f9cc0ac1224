import Synchronization

/// Derivative levels. Every derivative call in progress is a level with a fresh id from one counter: each `jvp`
/// opens a forward level (its tangents are live only while it is open), each functional reverse-mode call
/// (`gradient(at:of:)`, `vjp`, `jacobian`, `linearize`, ...) marks its inputs with leaves of its level, and
/// `requiringGradient()` leaves belong to level 0 (the leaf-style calls). See the article "How derivative calls
/// nest".
enum Levels {
    private static let counter = Atomic<Int>(0)

    /// A new level id, larger than every id handed out before (so nested levels compare as inner > outer). Ids
    /// start at 1: 0 is never a level.
    static func next() -> Int { counter.add(1, ordering: .relaxed).newValue }

    /// Runs `body` with a new forward level open; returns the level's id with the body's result.
    static func withLevel<R>(batchShape: [Int], _ body: (Int) throws -> R) rethrows -> R {
        let id = next()
        let scope = ADScope.reusedForLevel(ForwardLevel(id: id, batchShape: batchShape))
        defer { scope.keepAsSpare() }
        return try scope.run { try body(id) }
    }
}

extension AnyTensor {
    /// This tensor carrying `tangent` at forward level `level` (in addition to what it already carries).
    func withTangent(_ tangent: AnyTensor, level: Int) -> AnyTensor {
        AnyTensor(storage: storage, shape: shape, node: node, tangents: tangents(adding: tangent, level: level))
    }

    /// This tensor as the input of the functional call at derivative level `level`: a new node derivatives are
    /// taken for. If it already has history (an enclosing call's variable, or something computed from one), the new
    /// node is an `identity` recorded on top, so the enclosing call still sees through it; otherwise it is a new leaf
    /// of that level. Forward tangents are kept.
    func markedForReverse(level: Int) -> AnyTensor {
        if node != nil { return identity() }
        let leaf = GradNode(leafShape: shape, scalarType: scalarType, location: nil, level: level)
        return AnyTensor(storage: storage, shape: shape, node: leaf, tangents: tangents)
    }

    /// This tensor without its reverse-mode node (forward tangents kept).
    var withoutNode: AnyTensor {
        AnyTensor(storage: storage, shape: shape, node: nil, tangents: tangents)
    }
}

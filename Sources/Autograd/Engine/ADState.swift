/// The derivative state attached to a tensor: its reverse-mode history and its forward-mode tangents.
///
/// Immutable once made, so tensors that carry it stay `Sendable`. A tensor with no derivative state has `ad == nil`.
@usableFromInline
final class ADState: Sendable {
    /// The reverse-mode node that produced this tensor (an operation, or a leaf the user asked derivatives for).
    let node: GradNode?
    /// Forward-mode tangents, one per open forward level this tensor is perturbed at, in ascending level order.
    let tangents: [LevelTangent]

    init(node: GradNode?, tangents: [LevelTangent]) {
        self.node = node
        self.tangents = tangents
    }
}

/// A tangent (shaped like the tensor, with the level's batch dimensions in front) at one forward level.
struct LevelTangent: Sendable {
    let level: Int
    let tangent: AnyTensor
}

/// One open forward-mode level: a `jvp` in progress. Tangents of levels that are no longer open are ignored.
struct ForwardLevel: Sendable {
    /// Unique, increasing: a level opened inside another has a larger id.
    let id: Int
    /// Leading dimensions of every tangent at this level (empty unless tangents are batched).
    let batchShape: [Int]
}

/// Per-task derivative settings. Task-local, so derivatives computed in parallel tasks never see each other's
/// recording switches or forward levels.
struct ADScope: Sendable {
    /// Whether operations record reverse-mode history (false inside `withoutRecording`).
    var recording = true
    /// Open forward-mode levels, innermost last.
    var levels: [ForwardLevel] = []
    /// How many functional reverse-mode calls (`gradient(at:of:)` and friends) enclose this point; a nested one
    /// builds a differentiable result so the outer one can differentiate it.
    var reverseDepth = 0
    /// Where NaN and infinity reports go while anomaly detection is on (nil when it is off).
    var anomalies: AnomalyLog?
    /// Collects the primitives that record derivative state (used to prove the checks cover every primitive).
    var trace: PrimitiveTrace?

    @TaskLocal static var current = ADScope()

    func isOpen(_ level: Int) -> Bool { levels.contains { $0.id == level } }
    func level(_ id: Int) -> ForwardLevel? { levels.first { $0.id == id } }
}

extension AnyTensor {
    /// The tangent at forward level `level`, if this tensor carries one.
    func tangent(at level: Int) -> AnyTensor? {
        guard let tangents = ad?.tangents else { return nil }
        for t in tangents where t.level == level { return t.tangent }
        return nil
    }

    /// This tensor seen from inside level `level`'s rule: the same value and reverse node, with the tangents of
    /// `level` and of every level opened after it removed (a tangent formula must not perturb itself).
    func primal(below level: Int) -> AnyTensor {
        guard let ad, ad.tangents.contains(where: { $0.level >= level }) else { return self }
        let kept = ad.tangents.filter { $0.level < level }
        if ad.node == nil && kept.isEmpty { return value }
        return AnyTensor(storage: storage, shape: shape, ad: ADState(node: ad.node, tangents: kept))
    }
}

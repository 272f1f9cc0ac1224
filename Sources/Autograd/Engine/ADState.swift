import CAutogradKernels
/// A tangent (shaped like its tensor, with the level's batch dimensions in front) at one forward level.
@usableFromInline
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
/// recording switches or forward levels. A class, so that reading it costs one reference, not a copy per field.
final class ADScope: Sendable {
    /// Whether operations record reverse-mode history (false inside `withoutRecording`).
    let recording: Bool
    /// Open forward-mode levels, innermost last.
    let levels: [ForwardLevel]
    /// How many functional reverse-mode calls (`gradient(at:of:)` and friends) enclose this point; a nested one
    /// builds a differentiable result so the outer one can differentiate it.
    let reverseDepth: Int
    /// Where NaN and infinity reports go while anomaly detection is on (nil when it is off).
    let anomalies: AnomalyLog?
    /// Collects the primitives that record derivative state (used to prove the checks cover every primitive).
    let trace: PrimitiveTrace?
    /// Nodes keep every input and output value, not just what their reverse rule needs (for `linearize`, whose
    /// linear map runs the forward rules over the recorded graph).
    let savesEverything: Bool
    /// The one open forward level when it is the only derivative machinery that can apply to an operation whose
    /// inputs have no reverse history: exactly one level open, no anomaly log, no trace. Then `record` pushes
    /// tangents forward without the general bookkeeping (see `recordForward`). Nil otherwise.
    let plainForwardLevel: ForwardLevel?

    init(recording: Bool = true, levels: [ForwardLevel] = [], reverseDepth: Int = 0, anomalies: AnomalyLog? = nil,
         trace: PrimitiveTrace? = nil, savesEverything: Bool = false) {
        self.recording = recording
        self.levels = levels
        self.reverseDepth = reverseDepth
        self.anomalies = anomalies
        self.trace = trace
        self.savesEverything = savesEverything
        self.plainForwardLevel = levels.count == 1 && anomalies == nil && trace == nil ? levels[0] : nil
    }

    /// The settings in effect: those of the innermost `run` on this thread, else the task's (task-local, so a
    /// task started inside a derivative call inherits them), else the defaults.
    ///
    /// `run` takes a synchronous body, which stays on one thread from start to end, so for its extent it also
    /// records its scope in a per-thread slot; operations read that slot (a few instructions) instead of looking
    /// up the task-local value (a lookup and a retain-release pair per operation). Threads that never entered
    /// `run` (other tasks, dispatch queues) find the slot empty and use the task-local value, exactly as before.
    static var current: ADScope {
        if let slot = ag_thread_slot() { return Unmanaged<ADScope>.fromOpaque(slot).takeUnretainedValue() }
        return taskScope
    }
    @TaskLocal private static var taskScope = ADScope()

    /// A copy with some settings changed.
    func with(recording: Bool? = nil, levels: [ForwardLevel]? = nil, reverseDepth: Int? = nil,
              anomalies: AnomalyLog?? = nil, trace: PrimitiveTrace?? = nil, savesEverything: Bool? = nil) -> ADScope {
        ADScope(recording: recording ?? self.recording, levels: levels ?? self.levels,
                reverseDepth: reverseDepth ?? self.reverseDepth, anomalies: anomalies ?? self.anomalies,
                trace: trace ?? self.trace, savesEverything: savesEverything ?? self.savesEverything)
    }

    /// Runs `body` with this scope as the current one.
    func run<R>(_ body: () throws -> R) rethrows -> R {
        let outer = ag_thread_slot()
        ag_set_thread_slot(Unmanaged.passUnretained(self).toOpaque())
        defer { ag_set_thread_slot(outer) }
        return try ADScope.$taskScope.withValue(self, operation: body)
    }

    func isOpen(_ level: Int) -> Bool { levels.contains { $0.id == level } }
    func level(_ id: Int) -> ForwardLevel? { levels.first { $0.id == id } }
}

extension AnyTensor {
    /// The tangent at forward level `level`, if this tensor carries one.
    func tangent(at level: Int) -> AnyTensor? {
        guard let tangents else { return nil }
        for t in tangents where t.level == level { return t.tangent }
        return nil
    }

    /// This tensor seen from inside level `level`'s rule: the same value and reverse node, with the tangents of
    /// `level` and of every level opened after it removed (a tangent formula must not perturb itself).
    func primal(below level: Int) -> AnyTensor {
        guard let tangents, tangents.contains(where: { $0.level >= level }) else { return self }
        let kept = tangents.filter { $0.level < level }
        return AnyTensor(storage: storage, shape: shape, node: node, tangents: kept.isEmpty ? nil : kept)
    }
}

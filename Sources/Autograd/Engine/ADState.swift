import CAutogradKernels
/// The forward-mode tangents of a tensor that carries more than the usual single constant tangent (see
/// ``Tangents``), one per level it is perturbed at, ascending by level: an immutable list held by one reference.
/// Each tangent is shaped like its tensor, with the level's batch dimensions in front.
///
/// A class rather than an array of (level, tangent) pairs: creating one is the same single allocation, but
/// releasing it runs this type's own deinitializer instead of the generic per-element teardown of an array.
@usableFromInline
final class TangentList: Sendable, Sequence {
    @usableFromInline typealias Element = TangentList
    let level: Int
    let tangent: AnyTensor
    /// The tangents of later (inner) levels.
    let next: TangentList?

    init(level: Int, tangent: AnyTensor, next: TangentList? = nil) {
        self.level = level
        self.tangent = tangent
        self.next = next
    }

    /// This list without the tangents of `level` and later levels (shares the entries it keeps).
    func keeping(below level: Int) -> TangentList? {
        guard self.level < level else { return nil }  // ascending: every later entry is at least `level` too
        let rest = next?.keeping(below: level)
        return rest === next ? self : TangentList(level: self.level, tangent: tangent, next: rest)
    }

    /// This list with `tangent` at `level` (later than all of this list's levels) appended.
    func appending(level: Int, tangent: AnyTensor) -> TangentList {
        let rest = next?.appending(level: level, tangent: tangent) ?? TangentList(level: level, tangent: tangent)
        return TangentList(level: self.level, tangent: self.tangent, next: rest)
    }

    /// Iterates over the entries (each with its `level` and `tangent`), ascending.
    @usableFromInline
    struct Iterator: IteratorProtocol {
        var current: TangentList?
        @usableFromInline
        mutating func next() -> TangentList? {
            defer { current = current?.next }
            return current
        }
    }

    @usableFromInline
    func makeIterator() -> Iterator { Iterator(current: self) }
}

/// The forward-mode tangents a tensor carries.
///
/// Almost every tangent is the usual case: one `jvp` level open, the tangent a constant shaped exactly like its
/// tensor. That case holds just the tangent's buffer and its level (`single`), so carrying a tangent through an
/// operation costs the tangent's buffer and nothing else. Everything else (several levels, batched tangents,
/// tangents with their own reverse history or tangents) is a ``TangentList``.
@usableFromInline
enum Tangents: @unchecked Sendable {  // unchecked: `Storage` (see there)
    /// No tangent.
    case none
    /// The usual case: one constant tangent at `level`, shaped exactly like its tensor, held as its bare buffer.
    case single(Storage, level: Int)
    /// Any other set of tangents, ascending by level.
    case list(TangentList)

    /// The tangent `t` at `level` of a tensor shaped like `t` (`t` a constant): its bare buffer.
    @inline(__always) static func single(_ t: consuming AnyTensor, level: Int) -> Tangents {
        assert(!t.hasDerivativeState, "a single tangent is a constant; others belong in a TangentList")
        return .single(t.storage, level: level)
    }

    @inline(__always) var isEmpty: Bool { if case .none = self { true } else { false } }
    /// The level of the single tangent; 0 (never a level) if there is none or the tangents are a list.
    @inline(__always) var singleLevel: Int { if case .single(_, let level) = self { level } else { 0 } }
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
///
/// `@unchecked Sendable`: the settings never change while anything but this thread's spare slot refers to the
/// object (see `reusedForLevel`); to every reader they are constants.
final class ADScope: @unchecked Sendable {
    /// Whether operations record reverse-mode history (false inside `withoutRecording`).
    let recording: Bool
    /// The innermost open forward-mode level (nil if none is open) and the levels open around it, outermost
    /// first. Kept apart so that opening the usual single level builds no array.
    private(set) var innermostLevel: ForwardLevel?
    let outerLevels: [ForwardLevel]
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
    private(set) var plainForwardLevel: ForwardLevel?
    /// The id of `plainForwardLevel` when its tangents are unbatched (the usual `jvp`), else 0 (never an id).
    private(set) var plainUnbatchedLevel: Int

    init(recording: Bool = true, innermostLevel: ForwardLevel? = nil, outerLevels: [ForwardLevel] = [],
         anomalies: AnomalyLog? = nil, trace: PrimitiveTrace? = nil,
         savesEverything: Bool = false) {
        self.recording = recording
        self.innermostLevel = innermostLevel
        self.outerLevels = outerLevels
        self.anomalies = anomalies
        self.trace = trace
        self.savesEverything = savesEverything
        self.plainForwardLevel = nil
        self.plainUnbatchedLevel = 0
        derivePlainLevel()
    }

    /// Sets `plainForwardLevel` and `plainUnbatchedLevel` from the other settings.
    private func derivePlainLevel() {
        plainForwardLevel = outerLevels.isEmpty && anomalies == nil && trace == nil ? innermostLevel : nil
        plainUnbatchedLevel = plainForwardLevel.map { $0.batchShape.isEmpty ? $0.id : 0 } ?? 0
    }

    /// The settings in effect: those of the innermost `run` on this thread, else the task's (task-local, so a
    /// task started inside a derivative call inherits them), else the defaults.
    ///
    /// `run` takes a synchronous body, which stays on one thread from start to end, so for its extent it also
    /// records its scope in a per-thread slot; operations read that slot (a few instructions) instead of looking
    /// up the task-local value (a lookup and a retain-release pair per operation). Threads that never entered
    /// `run` (other tasks, dispatch queues) find the slot empty and use the task-local value, exactly as before.
    static var current: ADScope {
        if let slot = ThreadSlot.current.get() { return Unmanaged<ADScope>.fromOpaque(slot).takeUnretainedValue() }
        return taskScope
    }
    @TaskLocal private static var taskScope = ADScope()

    /// Calls `body` with the settings in effect (`current`) without retaining them: the per-operation paths use
    /// this, since the scope outlives any operation run inside it.
    @inline(__always)
    static func withCurrent<R>(_ body: (ADScope) throws -> R) rethrows -> R {
        if let slot = ThreadSlot.current.get() { return try Unmanaged<ADScope>.fromOpaque(slot)._withUnsafeGuaranteedRef(body) }
        return try body(taskScope)
    }

    /// A copy with some settings changed.
    func with(recording: Bool? = nil, anomalies: AnomalyLog?? = nil,
              trace: PrimitiveTrace?? = nil, savesEverything: Bool? = nil) -> ADScope {
        ADScope(recording: recording ?? self.recording, innermostLevel: innermostLevel, outerLevels: outerLevels,
                anomalies: anomalies ?? self.anomalies,
                trace: trace ?? self.trace, savesEverything: savesEverything ?? self.savesEverything)
    }

    /// A copy with `level` opened inside the levels open here.
    func opening(_ level: ForwardLevel) -> ADScope {
        ADScope(recording: recording, innermostLevel: level,
                outerLevels: innermostLevel.map { outerLevels + [$0] } ?? [],
                anomalies: anomalies, trace: trace, savesEverything: savesEverything)
    }

    /// Whether these are the default settings (recording on, nothing else): the usual place a `jvp` starts from.
    var isDefault: Bool { innermostLevel == nil && isDefaultBesidesOneLevel }

    /// Whether these are the default settings with at most one forward level open (what a spare may be).
    private var isDefaultBesidesOneLevel: Bool {
        recording && outerLevels.isEmpty && anomalies == nil && trace == nil && !savesEverything
    }

    /// The current settings with `level` opened inside them, as `opening` makes them. From the default settings,
    /// this thread's spare object from an earlier call is reused when nothing else refers to it any more (a task
    /// started inside that call may still hold it: then it is left to that task and a new one is made). Saves an
    /// allocation per `jvp`; `keepAsSpare` returns the object after the call. The spare of a thread that ends is
    /// not freed (one small object per thread).
    static func reusedForLevel(_ level: ForwardLevel) -> ADScope {
        withCurrent { outer in
            guard outer.isDefault else { return outer.opening(level) }
            if let slot = ThreadSlot.spare.get() {
                ThreadSlot.spare.set(nil)
                var spare = Unmanaged<ADScope>.fromOpaque(slot).takeRetainedValue()
                if isKnownUniquelyReferenced(&spare) {
                    spare.innermostLevel = level
                    spare.derivePlainLevel()
                    return spare
                }
            }
            return outer.opening(level)
        }
    }

    /// Keeps a scope made by `reusedForLevel` from the default settings for this thread's next call.
    func keepAsSpare() {
        guard ThreadSlot.spare.get() == nil, isDefaultBesidesOneLevel else { return }
        ThreadSlot.spare.set(Unmanaged.passRetained(self).toOpaque())
    }

    /// Runs `body` with this scope as the current one.
    func run<R>(_ body: () throws -> R) rethrows -> R {
        let outer = ThreadSlot.current.get()
        ThreadSlot.current.set(Unmanaged.passUnretained(self).toOpaque())
        defer { ThreadSlot.current.set(outer) }
        return try ADScope.$taskScope.withValue(self, operation: body)
    }

    /// Whether some forward level is open.
    var hasLevels: Bool { innermostLevel != nil }
    func isOpen(_ level: Int) -> Bool { self.level(level) != nil }
    func level(_ id: Int) -> ForwardLevel? {
        if let l = innermostLevel, l.id == id { return l }
        return outerLevels.first { $0.id == id }
    }
}

extension AnyTensor {
    /// Whether this tensor carries a forward-mode tangent at some level.
    @inline(__always) var hasTangents: Bool {
        !tangents.isEmpty
    }

    /// The tangent at forward level `level`, if this tensor carries one.
    func tangent(at level: Int) -> AnyTensor? {
        switch tangents {
        case .none: return nil
        case .single(let buffer, let l): return l == level ? AnyTensor(storage: buffer, shape: shape) : nil
        case .list(let list):
            for entry in list where entry.level == level { return entry.tangent }
            return nil
        }
    }

    /// Calls `body` with each level this tensor carries a tangent at, ascending.
    @inline(__always) func forEachTangentLevel(_ body: (Int) -> Void) {
        switch tangents {
        case .none: return
        case .single(_, let level): body(level)
        case .list(let list): for entry in list { body(entry.level) }
        }
    }

    /// Whether this tensor carries a tangent at `level` or a later (inner) level.
    func hasTangent(atOrAfter level: Int) -> Bool {
        var found = false
        forEachTangentLevel { if $0 >= level { found = true } }
        return found
    }

    /// This tensor seen from inside level `level`'s rule: the same value and reverse node, with the tangents of
    /// `level` and of every level opened after it removed (a tangent formula must not perturb itself).
    func primal(below level: Int) -> AnyTensor {
        switch tangents {
        case .none: return self
        case .single(_, let l):
            return l < level ? self : AnyTensor(storage: storage, shape: shape, node: node)
        case .list(let list):
            guard let kept = list.keeping(below: level) else {
                return AnyTensor(storage: storage, shape: shape, node: node)
            }
            return kept === list ? self : AnyTensor(storage: storage, shape: shape, node: node, tangents: .list(kept))
        }
    }

    /// This tensor's tangents with `tangent` at `level` (later than every level it carries) added.
    func tangents(adding tangent: consuming AnyTensor, level: Int) -> Tangents {
        switch tangents {
        case .none:
            // The usual case, a single constant tangent shaped like the tensor, is held as its bare buffer.
            if !tangent.hasDerivativeState && tangent.shape == shape { return .single(consume tangent, level: level) }
            return .list(TangentList(level: level, tangent: tangent))
        case .single(let buffer, let l):
            let first = TangentList(level: l, tangent: AnyTensor(storage: buffer, shape: shape))
            return .list(first.appending(level: level, tangent: tangent))
        case .list(let list):
            return .list(list.appending(level: level, tangent: tangent))
        }
    }
}

/// The engine's per-thread slots (pointers in C thread-local storage, one load to read): `current` holds the scope
/// of the innermost synchronous derivative call on this thread (see `ADScope.current`), `spare` a scope object kept
/// for the next `jvp` on this thread (see `ADScope.reusedForLevel`).
enum ThreadSlot: Int32 {
    case current = 0, spare = 1
    @inline(__always) func get() -> UnsafeMutableRawPointer? { ag_thread_pointer(rawValue) }
    @inline(__always) func set(_ value: UnsafeMutableRawPointer?) { ag_set_thread_pointer(rawValue, value) }
}

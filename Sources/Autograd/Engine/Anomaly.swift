import Synchronization
#if os(Linux) && canImport(Runtime)
import Runtime
#else
import Foundation
#endif

/// How many ``withAnomalyDetection(_:)`` scopes are open in the whole process, in any task.
///
/// Operations on constants (no input carries derivative state) return from `record` without reading the task-local
/// scope; that fast path reads this counter instead, with one relaxed atomic load, and looks for the task's anomaly
/// log only when some scope is open somewhere. A task that opened a scope increments the counter before its body
/// runs, so its own operations always see it.
enum AnomalyDetection {
    private static let openScopes = Atomic<Int>(0)

    /// Whether any task has anomaly detection on (then the task-local scope says whether this one does).
    @inline(__always) static var isOnAnywhere: Bool { openScopes.load(ordering: .relaxed) != 0 }

    /// Runs `body` with the process-wide count raised by one.
    static func counting<R>(_ body: () throws -> R) rethrows -> R {
        openScopes.add(1, ordering: .relaxed)
        defer { openScopes.subtract(1, ordering: .relaxed) }
        return try body()
    }
}

/// Collects the first NaN or infinity seen while anomaly detection is on, and the forward call stacks of the
/// operations recorded meanwhile.
///
/// Operations cannot throw, so the forward pass notes the first anomaly here and execution continues; the reverse
/// pass throws at once. ``withAnomalyDetection(_:)`` throws what was noted when its body ends.
///
/// Where an operation's call captured no file and line (operators, and operations inside composites called without
/// one), the log keeps its call stack instead: captured when a forward-pass anomaly is found, and, for the reverse
/// pass, when each such operation's node is recorded (return addresses only, about 6 µs; they are turned into
/// function names, files and lines only for the error that is reported).
@usableFromInline
final class AnomalyLog: Sendable {
    private let first = Mutex<AutogradError?>(nil)
    /// Call stacks of recorded nodes without a call site, by node identity; the weak reference tells a node that
    /// is gone (and whose address may be reused) from the one asked about.
    private let stacks = Mutex<StackTable>(StackTable())

    /// Node identities → call stacks. A new node often reuses a freed node's address and so replaces its entry;
    /// the others, of nodes that are gone, are dropped whenever the table has doubled since the last sweep, so a long
    /// loop inside one scope keeps about as many stacks as there are live nodes (amortized O(1) per node).
    private struct StackTable {
        var entries: [ObjectIdentifier: (node: WeakNode, stack: CallStack)] = [:]
        var sweepAt = 1024
    }

    enum Pass: String { case forward = "forward pass", tangent = "forward-mode tangent", reverse = "reverse pass" }

    /// Notes `t` if it holds a NaN or an infinity and nothing was noted before. `inputs` are the operation's
    /// operands (to say whether one already held such a value); `node` is the recorded node whose rule produced a
    /// reverse-pass cotangent (for its call stack).
    func check(_ t: AnyTensor, operation: String, pass: Pass, at location: CallSite?, inputs: [AnyTensor] = [],
               node: GradNode? = nil) {
        guard error == nil, let bad = t.firstNonFinite() else { return }
        var stack: [String] = []
        if location == nil {
            if let node {
                stack = stacks.withLock { $0.entries[ObjectIdentifier(node)] }
                    .flatMap { $0.node.value === node ? $0.stack : nil }?.userFrames() ?? []
            } else {
                stack = CallStack.capture().userFrames()
            }
        }
        let error = AutogradError.anomaly(
            operation: operation, pass: pass.rawValue, value: bad.value, index: bad.index, shape: t.shape,
            location: location?.description, callStack: stack,
            carriedByInput: inputs.firstIndex { $0.firstNonFinite() != nil })
        first.withLock { if $0 == nil { $0 = error } }
    }

    /// Keeps the call stack of a node recorded without a call site.
    func noteCreation(of node: GradNode) {
        let stack = CallStack.capture()
        stacks.withLock { table in
            table.entries[ObjectIdentifier(node)] = (WeakNode(value: node), stack)
            if table.entries.count >= table.sweepAt {
                table.entries = table.entries.filter { $0.value.node.value != nil }
                table.sweepAt = Swift.max(1024, 2 * table.entries.count)
            }
        }
    }

    /// The first anomaly noted, if any.
    var error: AutogradError? { first.withLock { $0 } }
}

/// A reference to a node that does not keep it alive.
private struct WeakNode: @unchecked Sendable {
    weak var value: GradNode?
}

/// Operations on constants go through here while some task has anomaly detection on: their values are checked
/// if this task has it on. Kept out of line so that the fast path of `record` stays a load and a branch.
@inline(never)
func checkConstant(_ primitive: some Primitive, _ inputs: [AnyTensor], _ value: AnyTensor, _ location: CallSite?) {
    ADScope.current.anomalies?.check(value, operation: primitive.name, pass: .forward, at: location, inputs: inputs)
}

/// The return addresses of a call stack, captured cheaply and turned into readable frames only when reported.
struct CallStack: Sendable {
    #if os(Linux) && canImport(Runtime)
    private let backtrace: Backtrace?
    /// The loaded images, read once: capturing them with every backtrace would cost 50 times more.
    private static let images = ImageMap.capture()

    static func capture() -> CallStack {
        CallStack(backtrace: try? Backtrace.capture(algorithm: .fast, limit: 48, images: images))
    }

    /// The frames of the user's code, innermost first: frames of this library and of AutogradNN, thunks, shared and
    /// system libraries, and macro-generated code are left out. Each reads `function at file:line:column` where the
    /// program has debug information, else `function in program`.
    func userFrames(limit: Int = 6) -> [String] {
        guard let frames = backtrace?.symbolicated(with: ImageMap.capture())?.frames else { return [] }
        var result: [String] = []
        for frame in frames where !frame.isSystem && !frame.isSwiftThunk {
            guard let symbol = frame.symbol, !Self.isLibrary(symbol.rawName) else { continue }
            if let source = symbol.sourceLocation {
                // Code generated by macros (a test framework's entry points, for example) is nobody's source.
                if source.path.contains("/swift-generated-sources/") { continue }
                result.append("\(symbol.name) at \(source.path):\(source.line):\(source.column)")
            } else if !symbol.imageName.contains(".so") {
                // Without debug information: the function and the program it is in (shared libraries are not
                // the user's code).
                result.append("\(symbol.name) in \(symbol.imageName)")
            }
            if result.count == limit { break }
        }
        return result
    }
    #else
    /// Elsewhere (the Runtime module's backtraces are used on Linux): Foundation's symbolized frames, mangled.
    private let symbols: [String]

    static func capture() -> CallStack { CallStack(symbols: Thread.callStackSymbols) }

    func userFrames(limit: Int = 6) -> [String] {
        Array(symbols.filter { !$0.contains("$s8Autograd") && !$0.contains("$s10AutogradNN")
            && !$0.contains("callStackSymbols") }.prefix(limit))
    }
    #endif

    /// Whether a mangled name is a function of this library or of AutogradNN (Swift manglings start with the
    /// module name, length-prefixed: `$s8Autograd…`, `$s10AutogradNN…`).
    private static func isLibrary(_ mangled: String) -> Bool {
        mangled.hasPrefix("$s8Autograd") || mangled.hasPrefix("$s10AutogradNN")
    }
}

extension AnyTensor {
    /// The first element that is NaN or infinite (a NaN as the positive NaN), with its multi-index.
    func firstNonFinite() -> (value: Double, index: [Int])? {
        let n = count
        var flat = -1
        var v = 0.0
        switch scalarType {
        case .float32:
            let p = storage.floats()
            for i in 0..<n where !p[i].isFinite { flat = i; v = Double(p[i]); break }
        case .float64:
            let p = storage.doubles()
            for i in 0..<n where !p[i].isFinite { flat = i; v = p[i]; break }
        case .bool, .int32:
            return nil
        }
        if flat < 0 { return nil }
        if v.isNaN { v = .nan }     // a NaN's sign means nothing; print it as "nan", not "-nan"
        var index = [Int](repeating: 0, count: rank)
        var rest = flat
        for d in stride(from: rank - 1, through: 0, by: -1) where shape[d] > 0 {
            index[d] = rest % shape[d]
            rest /= shape[d]
        }
        return (v, index)
    }
}

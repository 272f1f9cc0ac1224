import Foundation
import Synchronization

// Tracing at the kernel level.
//
// A compiled function is traced by running it once, eagerly, with a trace open. Every kernel that writes a buffer
// goes through `Kernel.launch`, which runs the kernel and, while a trace is open, appends it to the trace as an
// instruction: the kernel's body (a function of its operands' pointers and of parameters fixed at the call), and
// the buffers it reads and writes. Derivative calls (gradient, vjp, jvp, hvp, jacobian, nested ones, custom
// operations) end in kernels like everything else, so the trace holds them with no work per primitive; replaying
// the instructions in order runs the same kernels on the same kind of buffers, so replay equals eager bit for bit.
//
// Why the kernel level rather than the primitive level: a primitive-level trace would have to replay the engine's
// own bookkeeping (accumulating cotangents, seeding, levels), which is Swift code around the kernels; at the kernel
// level there is nothing but kernels left, and every buffer's size and lifetime is known, which is what a buffer
// plan needs.
//
// What a trace cannot see, it must not bake in silently. Every buffer made while a trace is open is noted; a buffer
// made during the trace and then read by a kernel, or returned, without a traced kernel having written it, was
// computed by code outside the traced kernels, and the trace fails naming the kernel that read it. Reading a
// value that depends on the inputs (`.scalars`, `.scalar`, `==` on tensors, printing) fails the trace too: Swift
// control flow on such a value would be frozen into the program.

/// Pointers to the buffers of one kernel call: the buffers it reads, then the buffers it writes, in the order the
/// kernel lists them.
struct KernelOperands {
    let pointers: UnsafePointer<UnsafeMutableRawPointer>
    @inline(__always) subscript(i: Int) -> UnsafeMutableRawPointer { pointers[i] }
    @inline(__always) func f32(_ i: Int) -> UnsafeMutablePointer<Float> { pointers[i].assumingMemoryBound(to: Float.self) }
    @inline(__always) func f64(_ i: Int) -> UnsafeMutablePointer<Double> { pointers[i].assumingMemoryBound(to: Double.self) }
    @inline(__always) func u8(_ i: Int) -> UnsafeMutablePointer<UInt8> { pointers[i].assumingMemoryBound(to: UInt8.self) }
    @inline(__always) func i32(_ i: Int) -> UnsafeMutablePointer<Int32> { pointers[i].assumingMemoryBound(to: Int32.self) }
}

/// One kernel call of a traced program.
struct TracedInstruction: @unchecked Sendable {  // unchecked: the body captures only values (parameters)
    /// The kernel's name, for `explain`.
    let name: String
    /// Buffer ids: the reads, then the `writes` written buffers.
    var operands: [Int]
    let writes: Int
    let body: (KernelOperands) -> Void
    /// The element count of the first written buffer (for `explain`).
    let elements: Int
}

/// Why a trace could not be turned into a program.
enum TraceFailure: Sendable {
    /// A value that depends on the inputs was read by Swift code (`what` names the read).
    case valueRead(what: String)
    /// A kernel read a buffer computed during the trace by code outside the traced kernels.
    case untracedBuffer(readBy: String)
    /// Something the trace cannot hold (`what`), with the fix (`advice`).
    case unsupported(what: String, advice: String)
    /// A traced kernel wrote into a buffer that the function did not create (an input or a captured tensor).
    case wroteOutside(kernel: String)
}

/// Where a traced buffer comes from.
enum BufferOrigin {
    /// The function's input at this position.
    case input(Int)
    /// A buffer the function read but did not compute: captured tensors, literals.
    case constant
    /// Written by the traced kernels.
    case computed
}

/// A buffer seen by a trace.
struct TracedBuffer {
    let storage: Storage
    let origin: BufferOrigin
}

/// An open trace: the instructions and buffers recorded so far. Owned by the task that runs the traced function.
final class Trace: @unchecked Sendable {  // unchecked: all state is behind `lock`
    /// The trace open in this task, if any.
    @TaskLocal static var current: Trace?
    /// How many traces are open in the whole process. While none is, every hook costs one relaxed atomic load.
    static let openCount = Atomic<Int>(0)

    /// The open trace of this task, if any; a single atomic load when no trace is open anywhere.
    @inline(__always) static var active: Trace? {
        openCount.load(ordering: .relaxed) == 0 ? nil : current
    }

    struct State {
        var ids: [ObjectIdentifier: Int] = [:]
        var buffers: [TracedBuffer] = []
        /// Buffers made during the trace and not yet written by a traced kernel (kept alive so that their
        /// identities are not reused).
        var born: [ObjectIdentifier: Storage] = [:]
        var instructions: [TracedInstruction] = []
        var failure: TraceFailure?
    }
    let lock = Locked(State())

    /// A trace whose inputs are `inputs` (buffer ids 0, 1, … in order; an input sharing an earlier input's buffer
    /// gets that input's id).
    init(inputs: [AnyTensor]) {
        lock.withLock { s in
            for (k, x) in inputs.enumerated() where s.ids[ObjectIdentifier(x.storage)] == nil {
                s.ids[ObjectIdentifier(x.storage)] = s.buffers.count
                s.buffers.append(TracedBuffer(storage: x.storage, origin: .input(k)))
            }
        }
    }

    /// Runs `body` with this trace open in the current task.
    func run<R>(_ body: () throws -> R) rethrows -> R {
        Trace.openCount.add(1, ordering: .relaxed)
        defer { Trace.openCount.subtract(1, ordering: .relaxed) }
        return try Trace.$current.withValue(self, operation: body)
    }

    /// Records the first failure (later ones are consequences of it).
    func fail(_ failure: TraceFailure) {
        lock.withLock { s in if s.failure == nil { s.failure = failure } }
    }

    /// Notes a buffer made while the trace is open.
    func noteBorn(_ storage: Storage) {
        lock.withLock { s in s.born[ObjectIdentifier(storage)] = storage }
    }

    /// Notes that `storage`, made during the trace, holds values that do not depend on the inputs (a literal).
    func noteConstant(_ storage: Storage) {
        lock.withLock { s in
            let key = ObjectIdentifier(storage)
            guard s.born.removeValue(forKey: key) != nil, s.ids[key] == nil else { return }
            s.ids[key] = s.buffers.count
            s.buffers.append(TracedBuffer(storage: storage, origin: .constant))
        }
    }

    /// Notes Swift code reading the values of `storage` (`what` names the read); fails the trace if they depend on
    /// the inputs.
    func noteValueRead(_ storage: Storage, _ what: String) {
        lock.withLock { s in
            guard s.failure == nil, let id = s.ids[ObjectIdentifier(storage)] else { return }
            if case .constant = s.buffers[id].origin { return }
            s.failure = .valueRead(what: what)
        }
    }

    /// The id of `storage` as an operand of kernel `name`, registering it if new.
    private static func operand(_ storage: Storage, written: Bool, _ name: String, _ s: inout State) -> Int {
        let key = ObjectIdentifier(storage)
        if let id = s.ids[key] {
            if written, case .computed = s.buffers[id].origin {} else if written {
                if s.failure == nil { s.failure = .wroteOutside(kernel: name) }
            }
            return id
        }
        let origin: BufferOrigin
        if s.born.removeValue(forKey: key) != nil {
            if !written && s.failure == nil { s.failure = .untracedBuffer(readBy: name) }
            origin = .computed
        } else {
            if written && s.failure == nil { s.failure = .wroteOutside(kernel: name) }
            origin = .constant
        }
        s.ids[key] = s.buffers.count
        s.buffers.append(TracedBuffer(storage: storage, origin: origin))
        return s.buffers.count - 1
    }

    /// Appends a kernel call: it read `storages` except the last `writes`, which it wrote.
    func record(_ name: String, _ storages: [Storage], writes: Int, _ body: @escaping (KernelOperands) -> Void) {
        lock.withLock { s in
            var operands: [Int] = []
            operands.reserveCapacity(storages.count)
            for (k, storage) in storages.enumerated() {
                operands.append(Trace.operand(storage, written: k >= storages.count - writes, name, &s))
            }
            let elements = writes > 0 ? storages[storages.count - writes].count : 0
            s.instructions.append(TracedInstruction(name: name, operands: operands, writes: writes, body: body,
                                                    elements: elements))
        }
    }

    /// The id of an output's buffer (registering a constant the function returned as it is).
    func outputID(_ storage: Storage) -> Int {
        lock.withLock { s in Trace.operand(storage, written: false, "the function's result", &s) }
    }
}

// MARK: - Hooks

extension Trace {
    /// Called by every path that hands tensor values to Swift code: fails an open trace if the values depend on
    /// the traced function's inputs.
    @inline(__always) static func valueRead(_ storage: Storage, _ what: @autoclosure () -> String) {
        if let trace = active { trace.noteValueRead(storage, what()) }
    }

    /// Called where a buffer is filled from values known before the call (literals, ranges, identity matrices).
    @inline(__always) static func constant(_ storage: Storage) {
        if let trace = active { trace.noteConstant(storage) }
    }

    /// Called by operations a trace cannot hold: fails an open trace with `what` and the fix.
    @inline(__always) static func unsupported(_ what: @autoclosure () -> String, advice: @autoclosure () -> String) {
        if let trace = active { trace.fail(.unsupported(what: what(), advice: advice())) }
    }
}

// MARK: - Launching kernels

extension Kernel {
    /// Runs a kernel on the buffers `s0…` (the reads, then the last `writes` written buffers) and, while a trace is
    /// open, records it. `body` must capture nothing: what it needs besides the buffers comes in `parameters`, so
    /// that an eager call allocates nothing for the closure.
    @inline(__always)
    static func launch<P>(_ name: StaticString, _ s0: Storage, writes: Int = 1, _ parameters: P,
                          _ body: @escaping (KernelOperands, P) -> Void) {
        var pointers = s0.base
        withUnsafePointer(to: &pointers) { body(KernelOperands(pointers: $0), parameters) }
        if let trace = Trace.active { trace.record("\(name)", [s0], writes: writes) { body($0, parameters) } }
    }

    @inline(__always)
    static func launch<P>(_ name: StaticString, _ s0: Storage, _ s1: Storage, writes: Int = 1, _ parameters: P,
                          _ body: @escaping (KernelOperands, P) -> Void) {
        var pointers = (s0.base, s1.base)
        withUnsafeBytes(of: &pointers) {
            body(KernelOperands(pointers: $0.baseAddress!.assumingMemoryBound(to: UnsafeMutableRawPointer.self)),
                 parameters)
        }
        if let trace = Trace.active { trace.record("\(name)", [s0, s1], writes: writes) { body($0, parameters) } }
    }

    @inline(__always)
    static func launch<P>(_ name: StaticString, _ s0: Storage, _ s1: Storage, _ s2: Storage, writes: Int = 1,
                          _ parameters: P, _ body: @escaping (KernelOperands, P) -> Void) {
        var pointers = (s0.base, s1.base, s2.base)
        withUnsafeBytes(of: &pointers) {
            body(KernelOperands(pointers: $0.baseAddress!.assumingMemoryBound(to: UnsafeMutableRawPointer.self)),
                 parameters)
        }
        if let trace = Trace.active { trace.record("\(name)", [s0, s1, s2], writes: writes) { body($0, parameters) } }
    }

    @inline(__always)
    static func launch<P>(_ name: StaticString, _ s0: Storage, _ s1: Storage, _ s2: Storage, _ s3: Storage,
                          writes: Int = 1, _ parameters: P, _ body: @escaping (KernelOperands, P) -> Void) {
        var pointers = (s0.base, s1.base, s2.base, s3.base)
        withUnsafeBytes(of: &pointers) {
            body(KernelOperands(pointers: $0.baseAddress!.assumingMemoryBound(to: UnsafeMutableRawPointer.self)),
                 parameters)
        }
        if let trace = Trace.active {
            trace.record("\(name)", [s0, s1, s2, s3], writes: writes) { body($0, parameters) }
        }
    }

    /// The same for any number of buffers (allocates an array: for kernels with many operands).
    static func launch<P>(_ name: StaticString, _ storages: [Storage], writes: Int = 1, _ parameters: P,
                          _ body: @escaping (KernelOperands, P) -> Void) {
        let pointers = storages.map(\.base)
        pointers.withUnsafeBufferPointer { body(KernelOperands(pointers: $0.baseAddress!), parameters) }
        if let trace = Trace.active { trace.record("\(name)", storages, writes: writes) { body($0, parameters) } }
    }
}

/// A value behind a lock. (The standard library's `Mutex` asks for `sending` values; the states here hold
/// buffers and closures that are only ever touched under the lock.)
final class Locked<State>: @unchecked Sendable {
    private var state: State
    private let mutex = NSLock()

    init(_ state: State) { self.state = state }

    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        mutex.lock()
        defer { mutex.unlock() }
        return try body(&state)
    }
}

import Foundation

/// A value made of tensors that a compiled function can take or return: a tensor, an array of them, or your own
/// type that lists its tensors in a fixed order.
///
/// A compiled function's trace is keyed by the shapes and element types of these tensors; everything else about
/// an argument (its Swift fields that are not tensors) is taken as it was when the function was traced.
public protocol CompilableValue {
    /// The tensors of this value, in a fixed order.
    var compilableTensors: [AnyTensor] { get }
    /// A value like `template` whose tensors are taken, in the order of ``compilableTensors``, from the front of
    /// `tensors` (which this initializer advances).
    init(compilableTensors tensors: inout ArraySlice<AnyTensor>, like template: Self)
}

extension AnyTensor: CompilableValue {
    /// The tensor itself.
    public var compilableTensors: [AnyTensor] { [self] }
    /// The first tensor of `tensors`.
    public init(compilableTensors tensors: inout ArraySlice<AnyTensor>, like template: AnyTensor) {
        self = tensors.removeFirst()
    }
}

extension Tensor: CompilableValue {
    /// The tensor itself.
    public var compilableTensors: [AnyTensor] { [base] }
    /// The first tensor of `tensors`.
    public init(compilableTensors tensors: inout ArraySlice<AnyTensor>, like template: Tensor) {
        self.init(unchecked: tensors.removeFirst())
    }
}

extension Array: CompilableValue where Element: CompilableValue {
    /// The tensors of every element, in order.
    public var compilableTensors: [AnyTensor] { flatMap(\.compilableTensors) }
    /// As many elements as `template` has, each like the template's element at its position.
    public init(compilableTensors tensors: inout ArraySlice<AnyTensor>, like template: [Element]) {
        self = template.map { Element(compilableTensors: &tensors, like: $0) }
    }
}

/// What decides whether a trace can be replayed: each input tensor's element type and shape, and which earlier
/// input shares its buffer (a function traced with `f(x, x)` is not the function of `f(x, y)`).
struct TraceKey: Hashable {
    struct Input: Hashable {
        let type: ScalarType
        let shape: [Int]
        let sharesBufferWith: Int?
    }
    let inputs: [Input]

    init(_ tensors: [AnyTensor]) {
        var seen: [ObjectIdentifier: Int] = [:]
        inputs = tensors.enumerated().map { k, x in
            let id = ObjectIdentifier(x.storage)
            defer { if seen[id] == nil { seen[id] = k } }
            return Input(type: x.scalarType, shape: x.shape, sharesBufferWith: seen[id])
        }
    }
}

/// A function of tensors that is traced once for each new input signature and replayed after that.
///
/// Made by ``compiled(maximumTraces:_:)``. The first call with given input shapes and element types runs the
/// function eagerly with a trace open: every kernel it runs, including those of every derivative call inside it
/// (`gradient`, `vjp`, `jvp`, `hvp`, `jacobian`, nested ones, custom operations), is recorded. The recording becomes
/// a straight-line program over planned buffers, checked once against the eager result; later calls with the same
/// signature run the program: the same kernels in the same order, so the results are bitwise equal to eager ones,
/// without building any graph. Cost of a replay: the kernels, plus about 10 ns per kernel call and one allocation
/// per result.
///
/// Safe to call from several tasks at once: replays share nothing mutable, and traces are made one at a time.
/// Called on tensors that record derivatives (inside a derivative call of your own, with respect to an input), it
/// runs the function eagerly, so that derivatives flow through it.
public final class CompiledFunction<each Input: CompilableValue, Output: CompilableValue>: @unchecked Sendable {
    // unchecked: `body` is only called, and the caches are behind locks.
    private let body: (repeat each Input) throws -> Output
    /// The most programs kept; the least recently made is dropped first.
    public let maximumTraces: Int

    private struct Entry {
        let program: CompiledProgram
        let template: Output
    }
    private struct Cache {
        var entries: [TraceKey: Entry] = [:]
        var order: [TraceKey] = []
        var traces = 0
    }
    private let cache = Locked(Cache())
    /// Held while tracing, so that two calls with a new signature trace it once.
    private let tracing = Locked(())

    init(maximumTraces: Int, _ body: @escaping (repeat each Input) throws -> Output) {
        precondition(maximumTraces >= 1, "compiled(maximumTraces:_:): maximumTraces is \(maximumTraces); keep at "
            + "least 1 trace")
        self.maximumTraces = maximumTraces
        self.body = body
    }

    /// How many traces this function has made so far (one per new input signature, again after a signature's
    /// program was dropped from the cache).
    public var traceCount: Int { cache.withLock { $0.traces } }

    /// How many programs are cached now (at most ``maximumTraces``).
    public var cachedPrograms: Int { cache.withLock { $0.entries.count } }

    /// Calls the function: replays its program for these input shapes and types, tracing it first if there is
    /// none. Throws what the function throws, or ``AutogradError/untraceable(what:fix:)`` when the function cannot
    /// be traced (it reads values that depend on its inputs, or runs an operation a trace cannot hold).
    public func callAsFunction(_ input: repeat each Input) throws -> Output {
        var tensors: [AnyTensor] = []
        for value in repeat each input { tensors += value.compilableTensors }
        // Inside another trace, the function is part of that trace; on recorded tensors it must record too.
        if Trace.active != nil || tensors.contains(where: \.hasDerivativeState) {
            return try body(repeat each input)
        }
        let key = TraceKey(tensors)
        if let entry = cache.withLock({ $0.entries[key] }) {
            return Self.rebuild(entry.program.run(tensors), like: entry.template)
        }
        return try tracing.withLock { _ in
            if let entry = cache.withLock({ $0.entries[key] }) {
                return Self.rebuild(entry.program.run(tensors), like: entry.template)
            }
            let (output, entry) = try trace(tensors, repeat each input)
            cache.withLock { c in
                c.traces += 1
                c.entries[key] = entry
                c.order.append(key)
                while c.order.count > maximumTraces { c.entries[c.order.removeFirst()] = nil }
            }
            return output
        }
    }

    /// The program for these inputs (traced now if it is not cached), as text: each instruction with the buffers it
    /// reads and writes, and the buffer plan. Does not count as a call, but a trace it makes is counted.
    public func explain(_ input: repeat each Input) throws -> String {
        var tensors: [AnyTensor] = []
        for value in repeat each input { tensors += value.compilableTensors }
        let key = TraceKey(tensors)
        if cache.withLock({ $0.entries[key] }) == nil { _ = try callAsFunction(repeat each input) }
        guard let entry = cache.withLock({ $0.entries[key] }) else {
            return "the function runs eagerly for these inputs (they record derivatives), so it has no program"
        }
        return entry.program.listing()
    }

    /// Runs the function with a trace open and turns the trace into a program, checked against the eager result.
    private func trace(_ tensors: [AnyTensor], _ input: repeat each Input) throws -> (Output, Entry) {
        let trace = Trace(inputs: tensors)
        let output = try trace.run { try body(repeat each input) }
        let results = output.compilableTensors
        if let r = results.firstIndex(where: \.hasDerivativeState) {
            throw AutogradError.untraceable(
                what: "result \(r) of the function records derivatives of a tensor it did not take as an input (a "
                    + "tensor captured from an enclosing derivative call), which a program cannot carry",
                fix: "pass that tensor to the compiled function as an input, or take the derivative inside the "
                    + "compiled function")
        }
        let ids = results.map { trace.outputID($0.storage) }
        let state = trace.lock.withLock { $0 }
        if let failure = state.failure { throw AutogradError(failure) }
        let program = CompiledProgram(trace: state, outputs: zip(ids, results).map { ($0, $1.shape) })
        // The check: the program run on the same inputs gives the eager results bit for bit. A kernel outside the
        // traced ones that changed a traced buffer in place would show here.
        let replayed = program.run(tensors)
        for (k, (a, b)) in zip(replayed, results).enumerated()
        where memcmp(a.storage.base, b.storage.base, b.count * b.scalarType.byteCount) != 0 {
            throw AutogradError.untraceable(
                what: "replaying the trace gave a different result \(k) than the eager call: an operation in the "
                    + "function changes a tensor's values outside the kernels a trace records",
                fix: "run that operation outside the compiled function and pass its result in")
        }
        return (output, Entry(program: program, template: output))
    }

    private static func rebuild(_ tensors: [AnyTensor], like template: Output) -> Output {
        var slice = tensors[...]
        return Output(compilableTensors: &slice, like: template)
    }
}

/// Compiles `function`: the result is a function with the same arguments and result that traces `function` once
/// for each new signature (input shapes and element types) and replays the traced program after that.
///
/// ```swift
/// let step = compiled { (w: Tensor<Float>, x: Tensor<Float>) in
///     try gradient(at: w) { w in tanh(matmul(x, w)).sum() }
/// }
/// let g = try step(w, x)        // traces (1 trace), then checks the program against the eager result
/// let h = try step(w2, x2)      // same shapes: replays the program
/// ```
///
/// - What is traced: the kernels the function runs for these inputs, including those of any derivative calls
///   inside it. Swift values the function captures or computes without tensors (sizes, flags, index arrays)
///   become part of the program; tensors it captures become constants, taken as they were at the trace.
/// - What breaks a trace: reading a value computed from the inputs in Swift (`.scalar`, `.scalars`, `==`,
///   printing), which would freeze the branch taken; random tensors drawn inside the function (draw them outside
///   and pass them in). These throw ``AutogradError/untraceable(what:fix:)`` at the first call.
/// - The cache: one program per signature, at most `maximumTraces`, the oldest dropped first; see
///   ``CompiledFunction/traceCount``.
///
/// - Parameters:
///   - maximumTraces: the most programs kept (16 by default).
///   - function: a function of tensors (or arrays of them, or ``CompilableValue`` types).
public func compiled<each Input: CompilableValue, Output: CompilableValue>(
    maximumTraces: Int = 16, _ function: @escaping (repeat each Input) throws -> Output
) -> CompiledFunction<repeat each Input, Output> {
    CompiledFunction(maximumTraces: maximumTraces, function)
}

extension AutogradError {
    init(_ failure: TraceFailure) {
        switch failure {
        case let .valueRead(what):
            self = .untraceable(
                what: "the function read the values of a tensor computed from its inputs (\(what)) while it was "
                    + "traced; Swift control flow on such a value would be frozen into the program for these values "
                    + "only",
                fix: "compute both branches and choose with Tensor.where(_:_:_:) or a mask; or compile the parts "
                    + "before and after the read separately and read the value between them; or, if the value is "
                    + "fixed, capture it as a Swift value instead of passing a tensor")
        case let .untracedBuffer(kernel):
            self = .untraceable(
                what: "the kernel \(kernel) read a tensor that the function computed with an operation a trace "
                    + "cannot record",
                fix: "run that operation outside the compiled function and pass its result in")
        case let .unsupported(what, advice):
            self = .untraceable(what: what, fix: advice)
        case let .wroteOutside(kernel):
            self = .untraceable(
                what: "the kernel \(kernel) wrote into a tensor the function did not create (an input or a captured "
                    + "tensor)",
                fix: "return new tensors instead of changing tensors from outside the function")
        }
    }
}

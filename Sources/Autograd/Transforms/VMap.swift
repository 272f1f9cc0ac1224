import Synchronization

// MARK: - Public API

/// Vectorizing map: f applied to every example along an axis of its inputs, computed for the whole batch at once.
///
///     result[…, i (at outAxes[k]), …] = f(x₀[i], x₁[i], …)[k]      xⱼ[i]: slice i of input j along inAxes[j]
///
/// An input whose in-axis is nil is not mapped: every example sees it whole. Each output k gets the example axis at
/// `outAxes[k]`; nil means the output is not mapped (it must not depend on the mapped inputs, and is returned once).
/// Axes may be negative (counted from the end; an out-axis −1 puts the example axis last).
///
/// Shapes: mapped input j has shape s with s[inAxes[j]] = N for the same N for all of them; f sees it without that
/// axis. Output k of f with shape t becomes t with N inserted at `outAxes[k]`.
///
/// How: f is run once at the shapes of one example, recording its primitive operations (including those of
/// derivative calls inside f), and that program is then evaluated once on the whole batch, each primitive through
/// its batching rule (the matrix product of a batch by a shared matrix is one larger product; a per-example outer
/// product is one broadcast multiplication). Everything composes: `vmap` inside or outside `gradient`, `jvp`,
/// `hvp`, `jacobian` and itself. A program containing an operation without a batching rule (a custom operation,
/// a factorization), or one whose course depends on the mapped values (a comparison, `detached()`), is instead
/// evaluated by a loop over the examples, with the same result. See the article "Vectorizing with vmap".
///
/// Cost: one evaluation of f at one example's size, plus one batched evaluation (about the cost of f on the
/// batch); the loop fallback costs N evaluations of f.
/// - Throws: ``AutogradError/vmapMisuse(reason:)`` if the in-axes or out-axes do not match the inputs and outputs,
///   the mapped sizes differ, nothing is mapped, or an output with an out-axis does not depend on any mapped input.
/// - Precondition: f does not read the values of a tensor that depends on a mapped input (`scalars`, `scalar`,
///   `==`): the program stops with a message that says so.
public func vmap(
    over inputs: [AnyTensor], inAxes: [Int?]? = nil, outAxes: [Int?]? = nil,
    of f: ([AnyTensor]) throws -> [AnyTensor]
) throws -> [AnyTensor] {
    try VMap.run(inputs: inputs, inAxes: inAxes, outAxes: outAxes, unmappedOutputs: .reject, f).outputs
}

/// ``vmap(over:inAxes:outAxes:of:)-([AnyTensor],_,_,_)`` for tensors of one element type.
public func vmap<Scalar: TensorScalar>(
    over inputs: [Tensor<Scalar>], inAxes: [Int?]? = nil, outAxes: [Int?]? = nil,
    of f: ([Tensor<Scalar>]) throws -> [Tensor<Scalar>]
) throws -> [Tensor<Scalar>] {
    try VMap.run(inputs: inputs.map(\.base), inAxes: inAxes, outAxes: outAxes, unmappedOutputs: .reject) { xs in
        try f(xs.map { Tensor(unchecked: $0) }).map(\.base)
    }.outputs.map { Tensor(unchecked: $0) }
}

/// f applied to every slice of x along `inAxis`, the results stacked along `outAxis`:
///
///     result[…, i (at outAxis), …] = f(x[i along inAxis])
///
/// Shapes: x [.., N (at inAxis), ..] → f sees x without that axis → output t becomes t with N inserted at
/// `outAxis`. The single-input form of ``vmap(over:inAxes:outAxes:of:)-([Tensor<Scalar>],_,_,_)``, with the same
/// method, cost and errors.
///
/// ```swift
/// // per-example gradients of a loss, vectorized: [N, D] → [N, D]
/// let g = try vmap(over: examples) { x in try gradient(at: x) { ($0 * $0).sum() } }
/// ```
public func vmap<Scalar: TensorScalar>(
    over x: Tensor<Scalar>, inAxis: Int = 0, outAxis: Int = 0,
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>
) throws -> Tensor<Scalar> {
    try vmap(over: [x], inAxes: [inAxis], outAxes: [outAxis]) { [try f($0[0])] }[0]
}

// MARK: - Engine

/// The machinery of `vmap`: trace once at one example's shapes, then evaluate the traced program on the batch.
enum VMap {
    /// What to do with an output that has an out-axis but does not depend on any mapped input.
    enum UnmappedOutputs {
        /// Throw (public `vmap`).
        case reject
        /// Repeat it along the example axis (per-example results that happen to be the same for every example).
        case broadcast
    }

    /// The result of a map: the outputs, and whether the program was vectorized (else it ran as a loop).
    struct Result {
        var outputs: [AnyTensor]
        var vectorized: Bool
        /// Why the loop ran, when it did.
        var loopReason: String?
    }

    static func run(inputs: [AnyTensor], inAxes: [Int?]?, outAxes: [Int?]?, unmappedOutputs: UnmappedOutputs,
                    forceLoop: Bool = false, _ f: ([AnyTensor]) throws -> [AnyTensor]) throws -> Result {
        let inAxes = inAxes ?? Array(repeating: 0, count: inputs.count)
        guard inAxes.count == inputs.count else {
            throw AutogradError.vmapMisuse(reason: "got \(inAxes.count) in-axes for \(inputs.count) inputs; give one "
                + "per input (nil for an input that is not mapped)")
        }
        var batchSize: Int?
        var front: [AnyTensor] = []  // the inputs with their mapped axis moved to the front
        var mapped: [Bool] = []
        for (j, (x, axis)) in zip(inputs, inAxes).enumerated() {
            guard let axis else { front.append(x); mapped.append(false); continue }
            let a = axis < 0 ? axis + x.rank : axis
            guard a >= 0 && a < x.rank else {
                throw AutogradError.vmapMisuse(reason: "in-axis \(axis) of input \(j) is out of range for its shape "
                    + "\(describe(x.shape)) (rank \(x.rank)); use an axis in -\(x.rank)..<\(x.rank), or nil to not map it")
            }
            let n = x.shape[a]
            if let b = batchSize, b != n {
                throw AutogradError.vmapMisuse(reason: "input \(j) (shape \(describe(x.shape))) has \(n) examples along "
                    + "its in-axis \(axis), but an earlier mapped input has \(b); every mapped input needs the same "
                    + "number of examples")
            }
            batchSize = n
            front.append(moveAxis(x, from: a, to: 0))
            mapped.append(true)
        }
        guard let n = batchSize else {
            throw AutogradError.vmapMisuse(reason: "no input is mapped (every in-axis is nil); give at least one input "
                + "an axis to map over")
        }
        guard n > 0 else {
            throw AutogradError.vmapMisuse(reason: "the mapped axis has size 0: there is no example to map over")
        }

        // Trace f at example 0.
        let trace = try Trace.record(front, mapped: mapped, f)
        let outAxes = outAxes ?? Array(repeating: 0, count: trace.outputs.count)
        guard outAxes.count == trace.outputs.count else {
            throw AutogradError.vmapMisuse(reason: "got \(outAxes.count) out-axes for the \(trace.outputs.count) outputs "
                + "of the function; give one per output (nil for an output that is not mapped)")
        }
        // Where the course of f depends on the mapped values (the loop runs then), an output may differ between
        // examples without recording how: every output with an out-axis is then taken per example.
        let valueDependent = trace.loopReason != nil
        let dependent = trace.outputs.map { trace.dependsOnMapped($0) }
        for (k, axis) in outAxes.enumerated() {
            let rank = trace.outputs[k].rank + 1
            if let axis, axis < -rank || axis >= rank {
                throw AutogradError.vmapMisuse(reason: "out-axis \(axis) of output \(k) is out of range: the output has "
                    + "shape \(describe(trace.outputs[k].shape)) per example, so the mapped result has rank \(rank)")
            }
            if axis == nil && dependent[k] {
                throw AutogradError.vmapMisuse(reason: "output \(k) (shape \(describe(trace.outputs[k].shape)) per "
                    + "example) depends on a mapped input, so it differs between examples; give it an out-axis")
            }
            if axis != nil && !dependent[k] && !valueDependent && unmappedOutputs == .reject {
                throw AutogradError.vmapMisuse(reason: "output \(k) (shape \(describe(trace.outputs[k].shape))) does "
                    + "not depend on any mapped input, so it is the same for every example; give it the out-axis nil "
                    + "to get it once, or repeat it yourself (expand) if you want it per example")
            }
        }

        var batched: [AnyTensor]?
        var reason = forceLoop ? "asked for" : trace.loopReason
        if reason == nil {
            do {
                batched = try Replay(trace: trace, inputs: front, batchSize: n).outputs()
            } catch let missing as Replay.NoRule {
                reason = missing.reason
            }
        }
        let results: [AnyTensor]
        if let batched {
            results = batched
        } else {
            results = try loop(front, mapped: mapped, batchSize: n,
                               dependent: valueDependent ? outAxes.map { $0 != nil } : dependent, f)
        }
        var outputs: [AnyTensor] = []
        for (k, y) in results.enumerated() {
            guard let axis = outAxes[k] else { outputs.append(trace.outputs[k]); continue }
            var yb = y
            if !dependent[k] && (batched != nil || !valueDependent) {
                yb = y.reshaped([1] + y.shape).expanded(to: [n] + y.shape)
            }
            let a = axis < 0 ? axis + yb.rank : axis
            outputs.append(moveAxis(yb, from: 0, to: a))
        }
        return Result(outputs: outputs, vectorized: batched != nil, loopReason: reason)
    }

    /// The fallback: f once per example, the results stacked along a new leading axis (outputs that do not depend
    /// on the mapped inputs are returned from the first example, unstacked).
    static func loop(_ front: [AnyTensor], mapped: [Bool], batchSize n: Int, dependent: [Bool],
                     _ f: ([AnyTensor]) throws -> [AnyTensor]) throws -> [AnyTensor] {
        var perExample: [[AnyTensor]] = []
        for i in 0..<n {
            let args = zip(front, mapped).map { x, m in m ? example(x, i) : x }
            let ys = try f(args)
            if ys.count != dependent.count {
                throw AutogradError.vmapMisuse(reason: "the function returned \(ys.count) outputs for example \(i) but "
                    + "\(dependent.count) for example 0; it must return the same outputs for every example")
            }
            perExample.append(ys)
        }
        return dependent.indices.map { k in
            if !dependent[k] { return perExample[0][k] }
            let parts = perExample.map { $0[k].reshaped([1] + $0[k].shape) }
            return parts.count == 1 ? parts[0] : AnyTensor.concatenated(parts, axis: 0)
        }
    }

    /// Slice i of x along axis 0, without that axis (recorded, so derivatives flow through it).
    static func example(_ x: AnyTensor, _ i: Int) -> AnyTensor {
        let axes = [SliceAxis(start: i, count: 1, step: 1)] + x.shape.dropFirst().map { SliceAxis.all($0) }
        return x.sliced(axes).reshaped(Array(x.shape.dropFirst()))
    }

    /// x with axis `from` moved to position `to` (the others keep their order).
    static func moveAxis(_ x: AnyTensor, from: Int, to: Int) -> AnyTensor {
        if from == to { return x }
        var order = Array(0..<x.rank)
        order.remove(at: from)
        order.insert(from, at: to)
        // A move that only shifts an axis of size 1 keeps the element order: a reshape, not a copy.
        var shape = x.shape
        let size = shape.remove(at: from)
        shape.insert(size, at: to)
        if size == 1 || x.shape.enumerated().allSatisfy({ $0.offset == from || $0.element == 1 }) {
            return x.reshaped(shape)
        }
        return x.permuted(order)
    }
}

// MARK: - Tracing

/// The vmap trace in progress on this task, for the checks that a traced function does not read mapped values.
enum VMapTracing {
    /// How many traces are in progress in the process: the checks cost one atomic load when none is.
    static let active = Atomic<Int>(0)
    @TaskLocal static var current: VMap.Trace?

    /// A public read of x's values (`scalars`, `scalar`, ...): stops the program if x depends on a mapped input of
    /// the trace in progress.
    @inline(__always) static func checkRead(_ x: AnyTensor, _ operation: String) {
        guard active.load(ordering: .relaxed) > 0, x.node != nil else { return }
        checkReadSlow(x, operation)
    }

    @inline(never) private static func checkReadSlow(_ x: AnyTensor, _ operation: String) {
        guard let trace = current, trace.dependsOnMapped(x) else { return }
        operationFailure("vmap", "the mapped function reads the values of a tensor computed from a mapped input "
            + "(with \(operation)); inside vmap such a tensor stands for every example at once, so it has no values "
            + "to read. Compute with tensor operations only (where(_:_:_:) instead of an if on a value), or loop "
            + "over the examples yourself", at: nil)
    }

    /// A value computed from the inputs' values without recording how (a comparison's mask, `detached()`, a mask
    /// converted to numbers): while a trace is in progress and some input depends on a mapped input, it is recorded
    /// as a `ValueFunction` with no derivative, so the batched program recomputes it for every example. Nil
    /// otherwise: the caller then computes it as usual.
    @inline(__always) static func traced(_ name: String, _ inputs: [AnyTensor],
                                         _ compute: @escaping @Sendable ([AnyTensor], Int) -> AnyTensor) -> AnyTensor? {
        guard active.load(ordering: .relaxed) > 0, inputs.contains(where: { $0.node != nil }) else { return nil }
        return tracedSlow(name, inputs, compute)
    }

    @inline(never) private static func tracedSlow(_ name: String, _ inputs: [AnyTensor],
                                                  _ compute: @escaping @Sendable ([AnyTensor], Int) -> AnyTensor)
        -> AnyTensor? {
        guard let trace = current, inputs.contains(where: { trace.dependsOnMapped($0) }) else { return nil }
        return record(ValueFunction(name: name, compute: compute), inputs, compute(inputs.map(\.value), 0))
    }

    /// An operation whose result depends on x's values without recording how (a comparison's mask, `detached()`):
    /// the trace is then evaluated by the loop, which gives each example its own values.
    @inline(__always) static func noteValueDependence(_ x: AnyTensor, _ operation: String) {
        guard active.load(ordering: .relaxed) > 0, x.node != nil else { return }
        noteSlow(x, operation)
    }

    @inline(never) private static func noteSlow(_ x: AnyTensor, _ operation: String) {
        guard let trace = current, trace.dependsOnMapped(x) else { return }
        trace.noteLoop("the function uses \(operation) on a value computed from a mapped input")
    }
}

extension VMap {
    /// The program recorded by running f once at example 0's shapes.
    final class Trace: @unchecked Sendable {
        /// The level of the trace's leaves (the mapped inputs).
        let level: Int
        /// The leaf of each mapped input (nil for an unmapped one).
        private(set) var leaves: [GradNode?] = []
        private(set) var outputs: [AnyTensor] = []
        private let reason = Mutex<String?>(nil)
        /// Memo of `dependsOnMapped` by node (the nodes are alive as long as the outputs are).
        private var memo: [ObjectIdentifier: Bool] = [:]
        private let memoLock = Mutex<Void>(())

        init(level: Int) { self.level = level }

        var loopReason: String? { reason.withLock { $0 } }
        func noteLoop(_ why: String) { reason.withLock { if $0 == nil { $0 = why } } }

        /// Runs f on example 0 of each mapped input, as a fresh leaf of a new level, with every value saved.
        static func record(_ front: [AnyTensor], mapped: [Bool],
                           _ f: ([AnyTensor]) throws -> [AnyTensor]) throws -> Trace {
            let trace = Trace(level: Levels.next())
            VMapTracing.active.add(1, ordering: .relaxed)
            defer { VMapTracing.active.subtract(1, ordering: .relaxed) }
            try ADScope.current.with(recording: true, savesEverything: true).run {
                try VMapTracing.$current.withValue(trace) {
                    var args: [AnyTensor] = []
                    for (x, m) in zip(front, mapped) {
                        guard m else { args.append(x); trace.leaves.append(nil); continue }
                        let slice = Kernel.gatherStrided(x.value, shape: Array(x.shape.dropFirst()),
                                                         strides: Array(Shape.strides(x.shape).dropFirst()))
                        let leaf = GradNode(leafShape: slice.shape, scalarType: x.scalarType, location: nil,
                                            level: trace.level)
                        args.append(AnyTensor(storage: slice.storage, shape: slice.shape, node: leaf))
                        trace.leaves.append(leaf)
                    }
                    trace.outputs = try f(args)
                }
            }
            return trace
        }

        /// Whether x depends on a mapped input (its history reaches one of the trace's leaves).
        func dependsOnMapped(_ x: AnyTensor) -> Bool {
            guard let node = x.node else { return false }
            return dependsOnMapped(node)
        }

        func dependsOnMapped(_ root: GradNode) -> Bool {
            memoLock.withLock { _ in
                var result = false
                GraphWalk.postOrder(from: [root]) { node in
                    let id = ObjectIdentifier(node)
                    if let known = memo[id] { if node === root { result = known }; return }
                    var d = node.isLeaf && node.level == level
                    if !d {
                        for j in node.inputs.indices {
                            if let input = node.inputs[j].node, memo[ObjectIdentifier(input)] == true { d = true; break }
                        }
                    }
                    memo[id] = d
                    if node === root { result = d }
                }
                return result
            }
        }

        /// Whether `node` is known to depend on a mapped input (after `dependsOnMapped` walked it).
        func isDependent(_ node: GradNode) -> Bool { memoLock.withLock { _ in memo[ObjectIdentifier(node)] ?? false } }
    }

    /// The traced program evaluated on the batch, primitive by primitive, through the batching rules.
    struct Replay {
        /// A primitive of the program has no batching rule (or its saved values are gone): loop instead.
        struct NoRule: Error { let reason: String }

        let trace: Trace
        let inputs: [AnyTensor]
        let batchSize: Int

        func outputs() throws -> [AnyTensor] {
            var values: [ObjectIdentifier: AnyTensor] = [:]
            for (leaf, x) in zip(trace.leaves, inputs) { if let leaf { values[ObjectIdentifier(leaf)] = x } }
            var strip: [ObjectIdentifier: Bool] = [:]
            let roots = trace.outputs.compactMap { y in trace.dependsOnMapped(y) ? y.node : nil }
            var failure: String?
            GraphWalk.postOrder(from: roots) { node in
                guard failure == nil, trace.isDependent(node) else { return }
                let id = ObjectIdentifier(node)
                if values[id] != nil { return }
                if node.isLeaf { failure = "a leaf of the trace without a value"; return }
                let saved = node.peekSaved()
                guard !saved.released, saved.inputs.count == node.inputs.count else {
                    failure = "the values of '\(node.name)' were not kept"
                    return
                }
                var args: [AnyTensor] = []
                var mapped: [Bool] = []
                for j in node.inputs.indices {
                    if let input = node.inputs[j].node, trace.isDependent(input) {
                        args.append(values[ObjectIdentifier(input)]!)
                        mapped.append(true)
                    } else {
                        args.append(constant(saved.inputs[j], &strip))
                        mapped.append(false)
                    }
                }
                let ctx = BatchingContext(inputs: args, mapped: mapped, inputShapes: node.inputs.indices.map {
                    node.inputs.shape($0)
                }, outputShape: node.outputShape, batchSize: batchSize)
                guard let y = node.primitive.batched(ctx) else {
                    failure = "'\(node.name)' has no batching rule"
                    return
                }
                precondition(y.shape == [batchSize] + node.outputShape,
                             "Autograd: the batching rule of '\(node.name)' returned shape \(describe(y.shape)), "
                             + "expected \(describe([batchSize] + node.outputShape)); please report this")
                values[id] = y
            }
            if let failure { throw NoRule(reason: failure) }
            return trace.outputs.map { y in
                guard let node = y.node, trace.isDependent(node) else { return y }
                return values[ObjectIdentifier(node)]!
            }
        }

        /// A value the program reads that does not depend on the mapped inputs, as the batched program sees it:
        /// itself, without history that leads only to derivative calls made (and finished) inside the trace.
        private func constant(_ x: AnyTensor, _ memo: inout [ObjectIdentifier: Bool]) -> AnyTensor {
            guard let node = x.node else { return x }
            var keep = false
            GraphWalk.postOrder(from: [node]) { n in
                let id = ObjectIdentifier(n)
                if let known = memo[id] { if known { keep = true }; return }
                var k = n.isLeaf && n.level < trace.level
                if !k {
                    for j in n.inputs.indices {
                        if let input = n.inputs[j].node, memo[ObjectIdentifier(input)] == true { k = true; break }
                    }
                }
                memo[id] = k
                if k { keep = true }
            }
            return keep ? x : x.withoutNode
        }
    }
}

import Foundation
import Synchronization

/// Where a reverse pass starts: an output's node and the cotangent pulled back from it.
struct Root {
    let node: GradNode
    let cotangent: AnyTensor
}

/// The reverse walk: pulls cotangents from outputs back to inputs through the recorded graph.
///
/// 1. **Plan.** Collect every node reachable from the outputs in post-order, with an iterative depth-first search
///    (`GraphWalk`), and mark the nodes that lead
///    to a requested input; the others are skipped. Unused inputs are known here, before any rule runs.
/// 2. **Execute.** Visit nodes in reverse post-order (a topological order: a node before the nodes of its inputs),
///    run each rule once on the sum of the cotangents that reached it, add the results into its inputs' slots,
///    and drop the node's saved values and cotangent right after (unless the graph is retained).
struct ReversePass {
    // Nodes are held unretained: the roots keep the whole graph alive for as long as a pass runs (`execute` keeps
    // them alive explicitly), and skipping a retain/release pair per visit is a large part of the cost of walking
    // graphs of small tensors.
    private let order: [Unmanaged<GradNode>]
    private let edgeStart: [Int]
    private let edgeIndex: [Int]
    private let needed: [Bool]
    /// For each node, the first target it is (or −1); `nextTarget` chains repeated targets.
    private let firstTarget: [Int]
    private let nextTarget: [Int]
    private let table: NodeTable
    private let targetCount: Int
    private let accumulateIntoLeaves: Bool
    private let roots: [GradNode]
    /// Whether the walked graph reaches a leaf of another derivative level than the pass's own: then what the
    /// pass computes depends on variables that an enclosing derivative call (or a later `backward()`) may
    /// differentiate, so the pass must record itself (see `records(createGraph:roots:)`).
    let dependsOnOtherLevels: Bool

    /// Plans a pass from `roots` to `targets` (or, with `accumulateIntoLeaves`, to every leaf reached), for the
    /// derivative call at `level` (0: the leaf-style calls, `backward()` and `gradients(of:wrt:)`).
    /// The size of the most recent plan: the next table starts that large (training repeats the same graph), so
    /// it is not rehashed as it fills. One plan of a very different size corrects it.
    private static let recentSize = Atomic<Int>(0)

    init(roots: [GradNode], targets: [GradNode], accumulateIntoLeaves: Bool, level: Int) {
        let expected = Swift.min(Swift.max(64, ReversePass.recentSize.load(ordering: .relaxed)), 1 << 20)
        var table = NodeTable(capacity: expected)
        var order: [Unmanaged<GradNode>] = []
        var edgeStart: [Int] = []
        var edgeIndex: [Int] = []
        var needed: [Bool] = []
        order.reserveCapacity(expected)
        edgeStart.reserveCapacity(expected + 1)
        edgeIndex.reserveCapacity(2 * expected)
        needed.reserveCapacity(expected)
        var otherLevels = false
        let targetSet = NodeTable(nodes: targets)
        // Post-order: a node is visited after all its inputs, so its inputs' positions are known by then and the
        // edge list and the "leads to a target" flag can be filled in the same walk.
        GraphWalk.postOrder(from: roots, table: &table) { node, table in
            let position = order.count
            table.update(node, position)
            edgeStart.append(edgeIndex.count)
            if node.isLeaf && node.level != level { otherLevels = true }
            var leads = targetSet.get(node) != nil || (accumulateIntoLeaves && node.isLeaf)
            for j in 0..<node.inputs.count {
                var k = -1
                if let input = node.inputs[j].node { k = table.get(input)! }
                edgeIndex.append(k)
                if k >= 0 && needed[k] { leads = true }
            }
            needed.append(leads)
            order.append(.passUnretained(node))
        }
        edgeStart.append(edgeIndex.count)
        ReversePass.recentSize.store(order.count, ordering: .relaxed)
        var firstTarget = [Int](repeating: -1, count: order.count)
        var nextTarget = [Int](repeating: -1, count: targets.count)
        for t in stride(from: targets.count - 1, through: 0, by: -1) {
            if let i = table.get(targets[t]) {
                nextTarget[t] = firstTarget[i]
                firstTarget[i] = t
            }
        }
        self.order = order
        self.edgeStart = edgeStart
        self.edgeIndex = edgeIndex
        self.needed = needed
        self.firstTarget = firstTarget
        self.nextTarget = nextTarget
        self.table = table
        self.targetCount = targets.count
        self.accumulateIntoLeaves = accumulateIntoLeaves
        self.roots = roots
        self.dependsOnOtherLevels = otherLevels
    }

    /// Whether the pass must record its own operations so that its results can be differentiated: when asked
    /// (`createGraph`), when the graph depends on a leaf of another level (an enclosing call's variable, or a
    /// `requiringGradient()` leaf that a later `backward()` may differentiate through), or when a cotangent it
    /// starts from carries reverse history. This one rule is what lets every derivative call nest in every other:
    /// an inner call never decides by the kind of call around it, only by what its result depends on.
    /// Inside `withoutRecording`, only `createGraph` does.
    func records(createGraph: Bool, roots: [Root]) -> Bool {
        createGraph || ADScope.withCurrent { $0.recording }
            && (dependsOnOtherLevels || roots.contains { $0.cotangent.node != nil })
    }

    /// Targets no root depends on (their derivatives are zero).
    var unreachableTargets: [Int] {
        var reached = [Bool](repeating: false, count: targetCount)
        for i in order.indices {
            var t = firstTarget[i]
            while t >= 0 { reached[t] = true; t = nextTarget[t] }
        }
        return reached.indices.filter { !reached[$0] }
    }

    /// Runs the planned pass. `cotangents` pairs with the `roots` of the plan; their leading `batchShape`
    /// dimensions are a batch that flows through unchanged. Returns the cotangent of each target (nil if zero).
    /// With `createGraph` the rules' operations are recorded (see `records(createGraph:roots:)`).
    ///
    /// With `tangentsAt` a forward level, returns instead each target cotangent's tangent at that level (nil if
    /// zero), the cotangents' values being unwanted (`hvp`; see `TangentSlots`).
    func execute(roots: [Root], batchShape: [Int], retainGraph: Bool, createGraph: Bool,
                 tangentsAt tangentLevel: Int? = nil) throws -> [AnyTensor?] {
        let outer = ADScope.current
        let anomalies = outer.anomalies
        let tangentSlots = TangentSlots(self, level: tangentLevel,
                                        enabled: !createGraph && anomalies == nil && !accumulateIntoLeaves)
        var slots = [AnyTensor?](repeating: nil, count: order.count)
        for root in roots {
            let i = table.get(root.node)!
            guard let v = tangentSlots.value(root.cotangent, forSlot: i) else { continue }
            slots[i] = slots[i].map { $0 + v } ?? v
        }
        var results = [AnyTensor?](repeating: nil, count: targetCount)
        // Rules run with anomaly detection off: their own operations are not the user's; what they return is checked.
        try outer.with(recording: createGraph, anomalies: .some(nil)).run {
            for i in stride(from: order.count - 1, through: 0, by: -1) {
                // Slots are moved out and in (take), not copied: a copy of a tensor costs a retain and a release
                // per reference it holds, per node.
                guard needed[i], let g = slots[i].take() else { continue }
                let node = order[i].takeUnretainedValue()
                var t = firstTarget[i]
                while t >= 0 { results[t] = g; t = nextTarget[t] }
                if node.isLeaf {
                    if accumulateIntoLeaves { accumulate(g, into: node, recorded: createGraph) }
                    continue
                }
                let edges = edgeStart[i]..<edgeStart[i + 1]
                var needs: UInt64 = 0
                for j in edges where edgeIndex[j] >= 0 && needed[edgeIndex[j]] {
                    needs |= j - edges.lowerBound < 64 ? 1 << UInt64(j - edges.lowerBound) : .max
                }
                if needs == 0 { continue }
                guard let saved = node.takeSaved(retain: retainGraph) else {
                    throw AutogradError.graphReleased(operation: node.name)
                }
                let output = saved.output.map {
                    AnyTensor(storage: $0, shape: node.outputShape, node: createGraph ? node : nil,
                              tangents: saved.outputTangents)
                }
                let differentiable = createGraph || g.hasTangents || saved.outputHasTangents
                    || saved.inputs.contains { $0.hasTangents }
                var ctx = RuleContext(inputs: saved.inputs, node: node, outputValue: output,
                                      outputShape: node.outputShape, batchShape: batchShape, needs: needs,
                                      isDifferentiable: differentiable)
                try pull(consume g, through: node, &ctx, edges: edges, tangentSlots) { k, input, r in
                    checkRuleShape(r, batch: batchShape, shape: node.inputs.shape(input), node.name, "VJP")
                    if let anomalies {
                        anomalies.check(r, operation: node.name, pass: .reverse, at: node.location, node: node)
                        if let error = anomalies.error { throw error }
                    }
                    if let earlier = slots[k].take() { slots[k] = earlier + r } else { slots[k] = r }
                }
            }
        }
        return tangentSlots.finish(results)
    }

    /// Runs `node`'s reverse rule on its cotangent `g` and hands each needed input's result to
    /// `deliver(slot, input, result)`. A one-input rule gets the cotangent handed over (its last use), so it may
    /// reuse its buffer, and returns its single result without an array.
    @inline(__always)
    private func pull(_ g: consuming AnyTensor, through node: GradNode, _ ctx: inout RuleContext, edges: Range<Int>,
                      _ tangentSlots: TangentSlots, _ deliver: (Int, Int, AnyTensor) throws -> Void) rethrows {
        var offered = tangentSlots.offers(node, &ctx, g, edges: edges)
        if edges.count == 1 {
            let k = edgeIndex[edges.lowerBound]
            let result = offered.isEmpty || offered[0] == nil
                ? tangentSlots.value(ctx.needsMask != 0 ? node.primitive.vjpOfOneInput(ctx, consume g) : nil, forSlot: k)
                : offered[0]
            if let result { try deliver(k, 0, result) }
            return
        }
        var pulled = ctx.needsMask != 0 ? node.primitive.vjp(ctx, g) : []
        for j in edges {
            let k = edgeIndex[j], input = j - edges.lowerBound
            guard k >= 0, needed[k] else { continue }
            let result = offered.isEmpty ? nil : offered[input].take()
            if let r = result ?? tangentSlots.value(pulled.isEmpty ? nil : pulled[input].take(), forSlot: k) {
                try deliver(k, input, r)
            }
        }
    }

    /// Adds a leaf's cotangent into its stored gradient (`backward()`).
    private func accumulate(_ g: AnyTensor, into node: GradNode, recorded: Bool) {
        if recorded && g.node != nil { GradientCycleWarning.noteOnce() }
        // Not recording, the gradient is a constant for reverse mode; forward tangents it carries (a backward pass
        // inside a jvp) stay.
        node.accumulate(recorded ? g : g.withoutNode)
    }

    /// Plans and executes in one call, for the derivative call at `level`. The pass records itself when
    /// `records(createGraph:roots:)` says so, and then also keeps the graph (an enclosing pass walks it again).
    static func run(roots: [Root], targets: [GradNode], level: Int, batchShape: [Int], retainGraph: Bool,
                    createGraph: Bool, accumulateIntoLeaves: Bool, tangentsAt tangentLevel: Int? = nil) throws
        -> (results: [AnyTensor?], recorded: Bool) {
        let pass = ReversePass(roots: roots.map(\.node), targets: targets, accumulateIntoLeaves: accumulateIntoLeaves,
                               level: level)
        let record = pass.records(createGraph: createGraph, roots: roots)
        let results = try pass.execute(roots: roots, batchShape: batchShape, retainGraph: retainGraph || record,
                                       createGraph: record, tangentsAt: tangentLevel)
        return (results, record)
    }
}

// MARK: - Tangent-only slots (hvp)

extension ReversePass {
    /// `hvp`'s bookkeeping: with `tangentsAt` a forward level, the pass returns the tangents of the targets'
    /// cotangents at that level, and the cotangents' own values are unwanted. Then the slots of target leaves hold
    /// those tangents instead of cotangents, and the rules that feed them are asked for the tangent alone
    /// (`vjpTangent`), so the products that would form the discarded values are skipped; a rule that does not offer
    /// it runs as usual and its result's tangent is taken. Only when nothing records and nothing checks values (no
    /// rule's value is wanted); otherwise every slot holds cotangents and `finish` takes the tangents at the end.
    struct TangentSlots {
        let level: Int?
        /// Per slot: whether it holds a tangent (empty when no slot does).
        let holds: [Bool]
        let plan: ReversePass

        init(_ plan: ReversePass, level: Int?, enabled: Bool) {
            self.plan = plan
            self.level = level
            var holds = [Bool](repeating: false, count: level == nil ? 0 : plan.order.count)
            if level != nil && enabled {
                for i in plan.order.indices
                where plan.firstTarget[i] >= 0 && plan.order[i]._withUnsafeGuaranteedRef({ $0.isLeaf }) {
                    holds[i] = true
                }
            }
            self.holds = holds
        }

        @inline(__always) private func holdsTangent(_ slot: Int) -> Bool { !holds.isEmpty && holds[slot] }

        /// What slot `k` takes from a full cotangent `v`: `v` itself, or its tangent if the slot holds tangents.
        @inline(__always) func value(_ v: consuming AnyTensor?, forSlot k: Int) -> AnyTensor? {
            holdsTangent(k) ? v?.tangent(at: level!) : v
        }

        /// For each input of `node` whose slot holds tangents, the tangent its rule offers directly (nil where it
        /// offers none); inputs offered are taken out of `ctx`'s needs. Empty when no input's slot holds tangents.
        func offers(_ node: GradNode, _ ctx: inout RuleContext, _ g: AnyTensor, edges: Range<Int>) -> [AnyTensor?] {
            guard !holds.isEmpty else { return [] }
            var offered: [AnyTensor?] = []
            for j in edges where plan.edgeIndex[j] >= 0 && holds[plan.edgeIndex[j]] && j - edges.lowerBound < 64 {
                let input = j - edges.lowerBound
                guard ctx.needs(input) else { continue }
                if offered.isEmpty { offered = [AnyTensor?](repeating: nil, count: edges.count) }
                guard let t = node.primitive.vjpTangent(ctx, g, input: input, level: level!),
                      Routes.take(.tangentHVP, node.primitive) else { continue }
                offered[input] = t
                ctx.needsMask &= ~(1 << UInt64(input))
            }
            return offered
        }

        /// The results: for targets whose slot held cotangents, their tangents at the level.
        func finish(_ results: [AnyTensor?]) -> [AnyTensor?] {
            guard let level else { return results }
            var results = results
            for i in plan.order.indices where !holdsTangent(i) {
                var t = plan.firstTarget[i]
                while t >= 0 { results[t] = results[t]?.tangent(at: level); t = plan.nextTarget[t] }
            }
            return results
        }
    }
}

/// The one-time warning of `backward()` storing a gradient that records history in a leaf.
///
/// Such a gradient's history refers back to the leaf (through the operations that read it), so the leaf and its
/// gradient keep each other alive: a loop that makes new leaves and never clears their gradients keeps every step's
/// graph. PyTorch has the same cycle and warns the same way; `clearGradient()` breaks it, and
/// `gradients(of:wrt:createGraph:)` or `gradient(at:of:)` return the gradients instead of storing them.
enum GradientCycleWarning {
    private static let warned = Atomic<Bool>(false)
    /// Whether the warning was printed in this process.
    static var wasPrinted: Bool { warned.load(ordering: .relaxed) }

    static func noteOnce() {
        guard !warned.exchange(true, ordering: .relaxed) else { return }
        let message = "Autograd warning: backward(createGraph: true) stored a gradient that records history in a "
            + "leaf. That history refers back to the leaf, so the leaf and its gradient keep each other alive until "
            + "you call clearGradient() on the leaf (do it after each step), or use gradients(of:wrt:createGraph:) or "
            + "gradient(at:of:), which return the gradients instead of storing them. (Printed once.)\n"
        FileHandle.standardError.write(Data(message.utf8))
    }
}

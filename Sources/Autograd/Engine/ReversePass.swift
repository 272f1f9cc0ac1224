import Synchronization

/// The reverse walk: pulls cotangents from outputs back to inputs through the recorded graph.
///
/// 1. **Plan.** Collect every node reachable from the outputs in post-order, with an iterative depth-first search
///    (graphs hundreds of thousands of operations deep do not touch the call stack), and mark the nodes that lead
///    to a requested input; the others are skipped. Unused inputs are known here, before any rule runs.
/// 2. **Execute.** Visit nodes in reverse post-order (a topological order: a node before the nodes of its inputs),
///    run each rule once on the sum of the cotangents that reached it, add the results into its inputs' slots,
///    and drop the node's saved values and cotangent right after (unless the graph is retained).
/// Where a reverse pass starts: an output's node and the cotangent pulled back from it.
struct Root {
    let node: GradNode
    let cotangent: AnyTensor
}

/// A node on the depth-first stack, with the index of the next input to visit.
private struct Frame {
    let node: Unmanaged<GradNode>
    var next: Int
}

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

    /// Plans a pass from `roots` to `targets` (or, with `accumulateIntoLeaves`, to every leaf reached).
    /// The size of the most recent plan: the next table starts that large (training repeats the same graph), so
    /// it is not rehashed as it fills. One plan of a very different size corrects it.
    private static let recentSize = Atomic<Int>(0)

    init(roots: [GradNode], targets: [GradNode], accumulateIntoLeaves: Bool) {
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
        var stack: [Frame] = []
        let targetSet = NodeTable(nodes: targets)
        // Post-order: a node is appended after all its inputs, so its inputs' positions are known by then and the
        // edge list and the "leads to a target" flag can be filled in the same walk.
        for root in roots where table.insert(root, -1) {
            stack.append(Frame(node: .passUnretained(root), next: 0))
            while !stack.isEmpty {
                let top = stack[stack.count - 1]
                let child: Unmanaged<GradNode>?? = top.node._withUnsafeGuaranteedRef { node in
                    guard top.next < node.inputs.count else { return .none }
                    return .some(node.inputs[top.next].node.map { .passUnretained($0) })
                }
                if let child {
                    stack[stack.count - 1].next += 1
                    if let child, child._withUnsafeGuaranteedRef({ table.insert($0, -1) }) {
                        stack.append(Frame(node: child, next: 0))
                    }
                    continue
                }
                stack.removeLast()
                let position = order.count
                top.node._withUnsafeGuaranteedRef { node in
                    table.update(node, position)
                    edgeStart.append(edgeIndex.count)
                    var leads = targetSet.get(node) != nil || (accumulateIntoLeaves && node.isLeaf)
                    for j in 0..<node.inputs.count {
                        var k = -1
                        if let input = node.inputs[j].node { k = table.get(input)! }
                        edgeIndex.append(k)
                        if k >= 0 && needed[k] { leads = true }
                    }
                    needed.append(leads)
                }
                order.append(top.node)
            }
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
    ///
    /// With `tangentsAt` a forward level, returns instead each target cotangent's tangent at that level (nil if
    /// zero), the cotangents' values being unwanted (`hvp`). Then a target that is a leaf collects only tangents:
    /// the rules that feed it are asked for the tangent alone (`vjpTangent`), so the products that would form the
    /// discarded values are skipped; a rule that does not offer it runs as usual and its result's tangent is taken.
    func execute(roots: [Root], batchShape: [Int], retainGraph: Bool, createGraph: Bool,
                 tangentsAt tangentLevel: Int? = nil) throws -> [AnyTensor?] {
        let outer = ADScope.current
        let anomalies = outer.anomalies
        // Slots of target leaves that hold tangents instead of cotangents (only when nothing records and nothing
        // checks values, so that no rule's value is wanted).
        var holdsTangent = [Bool](repeating: false, count: tangentLevel == nil ? 0 : order.count)
        if tangentLevel != nil && !createGraph && anomalies == nil && !accumulateIntoLeaves {
            for i in order.indices where firstTarget[i] >= 0 && order[i]._withUnsafeGuaranteedRef({ $0.isLeaf }) {
                holdsTangent[i] = true
            }
        }
        var slots = [AnyTensor?](repeating: nil, count: order.count)
        for root in roots {
            let i = table.get(root.node)!
            guard let v = holdsTangent.isEmpty || !holdsTangent[i] ? root.cotangent
                    : root.cotangent.tangent(at: tangentLevel!) else { continue }
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
                    if accumulateIntoLeaves { node.accumulate(createGraph ? g : g.value) }
                    continue
                }
                let start = edgeStart[i], end = edgeStart[i + 1]
                var needs: UInt64 = 0
                var tangentEdges: UInt64 = 0  // edges into slots that hold tangents
                for j in start..<end where edgeIndex[j] >= 0 && needed[edgeIndex[j]] {
                    let bit: UInt64 = j - start < 64 ? 1 << UInt64(j - start) : .max
                    needs |= bit
                    if !holdsTangent.isEmpty && holdsTangent[edgeIndex[j]] && j - start < 64 { tangentEdges |= bit }
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
                // Tangent-only edges first: what the rule offers needs no cotangent from `vjp`.
                var offered: [AnyTensor?] = []
                if tangentEdges != 0 {
                    offered = [AnyTensor?](repeating: nil, count: end - start)
                    for input in 0..<(end - start) where tangentEdges & (1 << UInt64(input)) != 0 {
                        guard let t = node.primitive.vjpTangent(ctx, g, input: input, level: tangentLevel!),
                              Routes.take(.tangentHVP, node.primitive) else { continue }
                        offered[input] = t
                        ctx.needsMask &= ~(1 << UInt64(input))
                    }
                }
                // One input (most operations): the rule's single result, without an array. The cotangent is
                // handed over (its last use here), so the rule may reuse its buffer.
                var single: AnyTensor?
                var pulled: [AnyTensor?] = []
                if ctx.needsMask != 0 {
                    if end - start == 1 { single = node.primitive.vjpOfOneInput(ctx, consume g) }
                    else { pulled = node.primitive.vjp(ctx, g) }
                }
                for j in start..<end {
                    let k = edgeIndex[j], input = j - start
                    guard k >= 0, needed[k] else { continue }
                    let result: AnyTensor?
                    if !offered.isEmpty, let t = offered[input].take() {
                        result = t
                    } else if !holdsTangent.isEmpty && holdsTangent[k] {
                        // A rule's full cotangent for a slot that holds tangents: keep its tangent.
                        result = (end - start == 1 ? single.take() : pulled[input].take())?.tangent(at: tangentLevel!)
                    } else {
                        result = end - start == 1 ? single.take() : pulled[input].take()
                    }
                    guard let r = result else { continue }
                    checkRuleShape(r, batch: batchShape, shape: node.inputs.shape(input), node.name, "VJP")
                    if let anomalies {
                        anomalies.check(r, operation: node.name, pass: .reverse, at: node.location, node: node)
                        if let error = anomalies.error { throw error }
                    }
                    if let earlier = slots[k].take() { slots[k] = earlier + r } else { slots[k] = r }
                }
            }
        }
        // Targets whose slot held cotangents (not leaves, or tangent-only collection was off): their tangents.
        if let tangentLevel {
            for i in order.indices where holdsTangent.isEmpty || !holdsTangent[i] {
                var t = firstTarget[i]
                while t >= 0 { results[t] = results[t]?.tangent(at: tangentLevel); t = nextTarget[t] }
            }
        }
        return results
    }

    /// Plans and executes in one call.
    static func run(roots: [Root], targets: [GradNode], batchShape: [Int], retainGraph: Bool, createGraph: Bool,
                    accumulateIntoLeaves: Bool, tangentsAt tangentLevel: Int? = nil) throws -> [AnyTensor?] {
        try ReversePass(roots: roots.map(\.node), targets: targets, accumulateIntoLeaves: accumulateIntoLeaves)
            .execute(roots: roots, batchShape: batchShape, retainGraph: retainGraph, createGraph: createGraph,
                     tangentsAt: tangentLevel)
    }
}

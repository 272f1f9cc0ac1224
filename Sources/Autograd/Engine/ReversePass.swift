/// The reverse walk: pulls cotangents from outputs back to inputs through the recorded graph.
///
/// 1. Collect every node reachable from the outputs in post-order, with an iterative depth-first search (graphs
///    thousands of operations deep do not touch the call stack).
/// 2. Mark the nodes that lead to a requested input; others are skipped (their rules never run).
/// 3. Visit nodes in reverse post-order (a topological order: a node before the nodes of its inputs), run each
///    rule once on the sum of the cotangents that reached it, add the results into its inputs' slots, and drop
///    the node's saved values and cotangent right after (unless the graph is retained).
enum ReversePass {
    /// Cotangents for `targets` (nil where a target was not reached). `batchRank` leading dimensions of every
    /// cotangent are a batch that flows through the pass unchanged.
    static func run(roots: [(node: GradNode, cotangent: AnyTensor)], targets: [GradNode], batchShape: [Int],
                    retainGraph: Bool, createGraph: Bool, accumulateIntoLeaves: Bool) throws -> [AnyTensor?] {
        // 1. Post-order of the reachable graph.
        var index: [ObjectIdentifier: Int] = [:]
        var order: [GradNode] = []
        var stack: [(node: GradNode, next: Int)] = []
        for (root, _) in roots where index[ObjectIdentifier(root)] == nil {
            index[ObjectIdentifier(root)] = -1
            stack.append((root, 0))
            while let top = stack.last {
                if top.next < top.node.edges.count {
                    stack[stack.count - 1].next += 1
                    if let child = top.node.edges[top.next], index[ObjectIdentifier(child)] == nil {
                        index[ObjectIdentifier(child)] = -1
                        stack.append((child, 0))
                    }
                } else {
                    index[ObjectIdentifier(top.node)] = order.count
                    order.append(top.node)
                    stack.removeLast()
                }
            }
        }

        // 2. Which nodes lead to a target.
        var targetSlot = [Int: [Int]]()
        for (t, node) in targets.enumerated() {
            if let i = index[ObjectIdentifier(node)] { targetSlot[i, default: []].append(t) }
        }
        var needed = [Bool](repeating: false, count: order.count)
        for (i, node) in order.enumerated() {
            needed[i] = targetSlot[i] != nil || (accumulateIntoLeaves && node.isLeaf)
                || node.edges.contains { $0.map { needed[index[ObjectIdentifier($0)]!] } ?? false }
        }

        // 3. Walk back.
        var slots = [AnyTensor?](repeating: nil, count: order.count)
        for (root, cotangent) in roots {
            let i = index[ObjectIdentifier(root)]!
            slots[i] = slots[i].map { $0 + cotangent } ?? cotangent
        }
        var results = [AnyTensor?](repeating: nil, count: targets.count)
        var scope = ADScope.current
        scope.recording = createGraph
        try ADScope.$current.withValue(scope) {
            for i in stride(from: order.count - 1, through: 0, by: -1) {
                guard needed[i], let g = slots[i] else { continue }
                slots[i] = nil
                let node = order[i]
                if let ts = targetSlot[i] { for t in ts { results[t] = g } }
                if node.isLeaf {
                    if accumulateIntoLeaves { node.accumulate(createGraph ? g : g.value) }
                    continue
                }
                let needs = node.edges.map { $0.map { needed[index[ObjectIdentifier($0)]!] } ?? false }
                if !needs.contains(true) { continue }
                guard let saved = node.takeSaved(retain: retainGraph) else {
                    throw AutogradError.graphReleased(operation: node.name)
                }
                let output = saved.output.map {
                    AnyTensor(storage: $0, shape: node.outputShape,
                              ad: createGraph || !saved.outputTangents.isEmpty
                                ? ADState(node: createGraph ? node : nil, tangents: saved.outputTangents) : nil)
                }
                let ctx = RuleContext(inputs: saved.inputs, inputShapes: node.inputShapes, outputValue: output,
                                      outputShape: node.outputShape, batchShape: batchShape, needs: needs)
                let pulled = node.primitive!.vjp(ctx, g)
                for (j, edge) in node.edges.enumerated() where needs[j] {
                    guard let edge, let r = pulled[j] else { continue }
                    checkRuleShape(r, expected: batchShape + node.inputShapes[j], node.name, "VJP")
                    if let log = scope.anomalies {
                        log.check(r, operation: node.name, pass: .reverse, at: node.location)
                        if let error = log.error { throw error }
                    }
                    let k = index[ObjectIdentifier(edge)]!
                    slots[k] = slots[k].map { $0 + r } ?? r
                }
            }
        }
        return results
    }
}

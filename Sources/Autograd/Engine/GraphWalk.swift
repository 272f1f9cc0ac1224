/// The one walk over a recorded graph, shared by the reverse pass's plan, `linearize` and the graph export.
///
/// An iterative depth-first search from `roots` that visits each reachable node once, after every node it reads
/// (post-order, a topological order: inputs first). The explicit stack keeps the call stack flat, so graphs
/// hundreds of thousands of operations deep are walked without recursion.
enum GraphWalk {
    /// A node on the depth-first stack, with the index of the next input to visit. Held unretained: the roots keep
    /// the whole graph alive while it is walked.
    private struct Frame {
        let node: Unmanaged<GradNode>
        var next: Int
    }

    /// Visits every node reachable from `roots` once, in post-order. `table` records the nodes seen (each mapped
    /// to −1 until `visit`, which gets the table, assigns its value), as the reverse pass's plan uses it.
    @inline(__always)
    static func postOrder(from roots: [GradNode], table: inout NodeTable,
                          _ visit: (GradNode, inout NodeTable) -> Void) {
        var stack: [Frame] = []
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
                top.node._withUnsafeGuaranteedRef { visit($0, &table) }
            }
        }
    }

    /// `postOrder(from:table:_:)` with a table of its own.
    static func postOrder(from roots: [GradNode], _ visit: (GradNode) -> Void) {
        var table = NodeTable()
        postOrder(from: roots, table: &table) { node, _ in visit(node) }
    }
}

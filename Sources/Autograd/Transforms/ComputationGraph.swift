/// A recorded computation as plain data: which operations ran, in what order, on what shapes, and which result
/// fed which. Made by ``computationGraph(of:at:)`` or ``Tensor/recordedGraph()``; read by
/// ``explain(_:of:at:inputName:outputName:)`` and exported for Graphviz by ``dot``.
///
/// Only what depends on a recorded input is in the graph: an operand that carries no history (data, targets, a
/// detached value) is a *constant* and appears as an ``Edge`` whose ``Edge/source`` is nil. Node ids are positions
/// in ``nodes``, which lists every node after the nodes it reads (a topological order, the order in which the
/// operations ran), so a reverse pass visits them from the last id to the first and a forward pass from the first
/// to the last.
///
/// ```
/// #0 x                   [1, 2]
/// #1 permute             [2, 1]     ← #0
/// #2 matmul              [100, 1]   ← constant [100, 2], #1
/// ...
/// ```
public struct ComputationGraph: Sendable, CustomStringConvertible {
    /// One operand of an operation: the node that produced it (nil for a constant) and its shape.
    public struct Edge: Sendable, Equatable {
        /// The id of the node that produced this operand, or nil if it is a constant (it carries no history).
        public let source: Int?
        /// The operand's shape, as the operation received it.
        public let shape: [Int]
    }

    /// One recorded operation, or an input that derivatives are taken with respect to.
    public struct Node: Sendable {
        /// The node's position in ``ComputationGraph/nodes``.
        public let id: Int
        /// The primitive's name (`"matmul"`, `"sigmoid"`, `"reshape"`, …) or, for an input, `"input"`.
        public let operation: String
        /// The shape of the tensor this node produced (for an input, its shape).
        public let shape: [Int]
        /// The operands, in the order the operation takes them; empty for an input.
        public let inputs: [Edge]
        /// Whether this node is an input (a leaf): a tensor derivatives are taken with respect to.
        public var isInput: Bool { operation == ComputationGraph.inputName }
    }

    static let inputName = "input"

    /// Every node, each after the nodes it reads (inputs first, the output last).
    public let nodes: [Node]
    /// The ids of the nodes whose tensors were asked for (the graph's outputs).
    public let outputs: [Int]

    /// The ids of the input nodes (leaves), in id order.
    public var inputs: [Int] { nodes.filter(\.isInput).map(\.id) }

    /// The ids of the operations that read node `id`'s tensor, once per use (an operation that reads it twice, as
    /// `x * x` does, is listed twice). A reverse pass adds the cotangents of all uses before it goes further back.
    public func users(of id: Int) -> [Int] {
        nodes.flatMap { node in node.inputs.filter { $0.source == id }.map { _ in node.id } }
    }

    /// The number of operations (nodes that are not inputs).
    public var operationCount: Int { nodes.count - inputs.count }

    /// Collects the graph reachable from `roots`, iteratively (no recursion, whatever the depth). Nodes in
    /// `leading` (inputs) come first, in their order.
    init(roots: [GradNode], leading: [GradNode] = []) {
        var ids: [ObjectIdentifier: Int] = [:]
        var order: [GradNode] = []
        var table = NodeTable()
        for node in leading where table.insert(node, order.count) {
            ids[ObjectIdentifier(node)] = order.count
            order.append(node)
        }
        GraphWalk.postOrder(from: roots, table: &table) { node, _ in
            ids[ObjectIdentifier(node)] = order.count
            order.append(node)
        }
        nodes = order.enumerated().map { id, node in
            Node(id: id, operation: (node.isLeaf ? ComputationGraph.inputName : node.primitive.name), shape: node.outputShape,
                 inputs: node.inputs.map { Edge(source: $0.node.map { ids[ObjectIdentifier($0)]! }, shape: $0.shape) })
        }
        outputs = roots.map { ids[ObjectIdentifier($0)]! }
    }

    /// The graph as Graphviz DOT text: one box per operation labelled `#id name` and its output shape, an ellipse per
    /// input, a dashed box per constant operand, and an arrow per operand, labelled with its shape, pointing the way
    /// values flow (cotangents flow against the arrows). The outputs are drawn with a double border.
    ///
    /// Render it with Graphviz: `autograd explain --dot | dot -Tsvg > graph.svg`.
    /// - Complexity: O(nodes + edges).
    public var dot: String { dot(inputNames: [:]) }

    /// DOT text with chosen names for some input nodes (by id), as ``explain(_:of:at:inputName:outputName:)``
    /// names its input.
    func dot(inputNames: [Int: String]) -> String {
        // A DOT string literal: backslashes and quotes escaped, line breaks as \n.
        func quoted(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        var lines = ["digraph computation {",
                     "  node [shape=box, style=rounded, fontname=\"Helvetica\"];",
                     "  edge [fontname=\"Helvetica\", fontsize=10];"]
        var constants = 0
        var edges: [String] = []
        let outputSet = Set(outputs)
        for node in nodes {
            var attributes: [String]
            if node.isInput {
                let name = inputNames[node.id] ?? "input"
                attributes = ["label=\(quoted("#\(node.id) \(name)\n\(describe(node.shape))"))", "shape=ellipse"]
            } else {
                attributes = ["label=\(quoted("#\(node.id) \(node.operation)\n\(describe(node.shape))"))"]
            }
            if outputSet.contains(node.id) { attributes.append("peripheries=2") }
            lines.append("  n\(node.id) [\(attributes.joined(separator: ", "))];")
            for edge in node.inputs {
                let from: String
                if let source = edge.source {
                    from = "n\(source)"
                } else {
                    from = "c\(constants)"
                    lines.append("  c\(constants) [label=\(quoted("constant\n\(describe(edge.shape))")), "
                        + "style=\"rounded,dashed\"];")
                    constants += 1
                }
                edges.append("  \(from) -> n\(node.id) [label=\(quoted(describe(edge.shape)))];")
            }
        }
        return (lines + edges + ["}"]).joined(separator: "\n") + "\n"
    }

    /// One line per node: `#id operation shape ← operands` (constants shown by their shape).
    public var description: String {
        let width = nodes.map { "#\($0.id) \($0.operation)".count }.max() ?? 0
        let shapeWidth = nodes.map { describe($0.shape).count }.max() ?? 0
        return nodes.map { node in
            let head = "#\(node.id) \(node.operation)"
            var line = head + String(repeating: " ", count: width - head.count + 2) + describe(node.shape)
            if !node.inputs.isEmpty {
                line += String(repeating: " ", count: shapeWidth - describe(node.shape).count + 2) + "← "
                    + node.inputs.map { $0.source.map { "#\($0)" } ?? "constant \(describe($0.shape))" }
                        .joined(separator: ", ")
            }
            return line
        }.joined(separator: "\n")
    }
}

extension Tensor where Scalar: TensorScalar {
    /// The recorded computation that produced this tensor: every operation between the leaves marked with
    /// ``requiringGradient(file:line:)`` and this tensor, or nil if it records no history (a constant).
    ///
    /// ```swift
    /// let w = w0.requiringGradient()
    /// print(losses(w).recordedGraph()!.dot)     // Graphviz DOT text
    /// ```
    /// - Complexity: O(recorded operations); the graph itself is not changed.
    public func recordedGraph() -> ComputationGraph? {
        base.node.map { ComputationGraph(roots: [$0]) }
    }
}

/// Evaluates f once at x while recording, and returns the computation as a graph whose node 0 is x.
///
/// Nothing is differentiated; the graph is what ``vjp(of:at:cotangent:)`` would walk back and what
/// ``jvp(of:at:tangent:)`` pushes a tangent through. ``ComputationGraph/dot`` renders it for Graphviz.
/// - Complexity: one evaluation of f (recording, about the cost of a forward pass in reverse mode).
public func computationGraph<Scalar: TensorScalar>(
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>
) throws -> ComputationGraph {
    try RecordedFunction(f, at: x).graph
}

/// f evaluated once at x with x as a fresh leaf, so the graph starts at x (node 0) whatever x carried before.
struct RecordedFunction<Scalar: TensorScalar> {
    let output: Tensor<Scalar>
    let graph: ComputationGraph

    init(_ f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>) throws {
        let leaf = GradNode(leafShape: x.shape, scalarType: x.scalarType, location: nil, level: Levels.next())
        let y = try ADScope.current.with(recording: true).run {
            try f(Tensor(unchecked: AnyTensor(storage: x.base.storage, shape: x.shape, node: leaf)))
        }
        output = y
        // x is node 0 even if f reads it late, or not at all (then the graph has no output).
        graph = ComputationGraph(roots: y.base.node.map { [$0] } ?? [], leading: [leaf])
    }
}

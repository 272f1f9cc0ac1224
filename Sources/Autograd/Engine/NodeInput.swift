/// What a node remembers about one input: the node that produced it and its shape.
struct NodeInput {
    var node: GradNode?
    let shape: [Int]
}

/// A node's edges, one per input. Most operations have one input; its edge is stored inline, so making such a node
/// allocates no array (and freeing it frees none). Operations with other input counts keep an array.
struct NodeInputs: RandomAccessCollection, MutableCollection, ExpressibleByArrayLiteral {
    /// The edge of a one-input node (then `many` is empty).
    private var single: NodeInput?
    /// The edges of a node with zero or several inputs.
    private var many: [NodeInput]

    init(_ edges: [NodeInput]) {
        if edges.count == 1 { single = edges[0]; many = [] } else { single = nil; many = edges }
    }
    init(arrayLiteral edges: NodeInput...) { self.init(edges) }
    /// The edges of a one-input node.
    init(one edge: NodeInput) {
        single = edge
        many = []
    }

    /// The shape of input `i` (without copying the rest of its edge).
    @inline(__always)
    func shape(_ i: Int) -> [Int] { single?.shape ?? many[i].shape }

    var startIndex: Int { 0 }
    var endIndex: Int { single == nil ? many.count : 1 }
    subscript(i: Int) -> NodeInput {
        get {
            assert(single == nil || i == 0, "edge index out of range")
            return single ?? many[i]
        }
        set { if single != nil { single = newValue } else { many[i] = newValue } }
    }
}

/// What a node remembers about one input: the node that produced it and its shape.
struct NodeInput {
    var node: GradNode?
    let shape: [Int]
}

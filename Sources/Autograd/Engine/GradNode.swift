import Synchronization

/// One recorded operation (or a leaf) in the reverse-mode graph.
///
/// A node knows the primitive that ran, the nodes that produced its inputs (its edges), the shapes involved and
/// the values its VJP rule needs. Those saved values are released as soon as the rule has used them unless the
/// graph is retained, so memory falls as the reverse pass walks back.
@usableFromInline
final class GradNode: @unchecked Sendable {
    /// The primitive that produced this node's tensor; nil for a leaf.
    let primitive: (any Primitive)?
    /// For each input, the node that produced it, or nil if that input carries no reverse history.
    /// (Mutable only so that `deinit` can hand the children over to `GraphTeardown`.)
    private(set) var edges: [GradNode?]
    let inputShapes: [[Int]]
    let outputShape: [Int]
    let scalarType: ScalarType
    /// Where the user called the operation, when the call could capture it (named methods do, operators cannot).
    let location: CallSite?

    struct Saved {
        var inputs: [AnyTensor]
        var output: Storage?
        var outputTangents: [LevelTangent]
        var released = false
    }
    private let saved: Mutex<Saved>
    /// Gradient accumulated by `backward()` (leaves only).
    private let accumulated = Mutex<AnyTensor?>(nil)

    /// A node for an operation.
    init(primitive: any Primitive, edges: [GradNode?], inputs: [AnyTensor], output: AnyTensor,
         location: CallSite?) {
        self.primitive = primitive
        self.edges = edges
        self.inputShapes = inputs.map(\.shape)
        self.outputShape = output.shape
        self.scalarType = output.scalarType
        self.location = location
        self.saved = Mutex(Saved(inputs: primitive.savesInputs ? inputs : [],
                                 output: primitive.savesOutput ? output.storage : nil,
                                 outputTangents: []))
    }

    /// A leaf: a tensor the user asked derivatives for.
    init(leafShape shape: [Int], scalarType: ScalarType, location: CallSite?) {
        primitive = nil
        edges = []
        inputShapes = []
        outputShape = shape
        self.scalarType = scalarType
        self.location = location
        saved = Mutex(Saved(inputs: [], output: nil, outputTangents: []))
    }

    deinit {
        // Move the children out first, so that this node no longer owns them when the teardown loop frees them.
        guard !edges.isEmpty else { return }
        var children: [GradNode?] = []
        swap(&children, &edges)
        let savedValues = saved.withLock { s in
            let old = s
            s = Saved(inputs: [], output: nil, outputTangents: [], released: true)
            return old
        }
        GraphTeardown.release((consume children, consume savedValues))
    }

    var isLeaf: Bool { primitive == nil }
    var name: String { primitive?.name ?? "leaf" }

    /// The node that forward-mode tangent formulas see for this operation's output: same primitive, edges and
    /// saved inputs, but it does not own the output's tangents. (If the real node owned them while the tangents'
    /// own history pointed back at it, the two would keep each other alive.)
    func twin() -> GradNode {
        let s = saved.withLock { $0 }
        let twin = GradNode(primitive: primitive!, edges: edges, inputShapes: inputShapes, outputShape: outputShape,
                            scalarType: scalarType, location: location, saved: s)
        return twin
    }

    private init(primitive: any Primitive, edges: [GradNode?], inputShapes: [[Int]], outputShape: [Int],
                 scalarType: ScalarType, location: CallSite?, saved: Saved) {
        self.primitive = primitive
        self.edges = edges
        self.inputShapes = inputShapes
        self.outputShape = outputShape
        self.scalarType = scalarType
        self.location = location
        self.saved = Mutex(Saved(inputs: saved.inputs, output: saved.output, outputTangents: []))
    }

    func setOutputTangents(_ tangents: [LevelTangent]) {
        saved.withLock { $0.outputTangents = tangents }
    }

    /// The values the VJP rule needs; releases them unless `retain`. Nil if they were already released.
    func takeSaved(retain: Bool) -> Saved? {
        saved.withLock { s in
            if s.released { return nil }
            let copy = s
            if !retain { s = Saved(inputs: [], output: nil, outputTangents: [], released: true) }
            return copy
        }
    }

    /// Adds a cotangent into this leaf's stored gradient (`backward()`).
    func accumulate(_ g: AnyTensor) {
        accumulated.withLock { acc in
            acc = acc.map { $0 + g } ?? g
        }
    }

    /// The gradient accumulated by `backward()`, if any.
    var accumulatedGradient: AnyTensor? { accumulated.withLock { $0 } }

    func clearAccumulatedGradient() { accumulated.withLock { $0 = nil } }
}

import Synchronization

/// One recorded operation (or a leaf) in the reverse-mode graph.
///
/// A node knows the primitive that ran, the nodes that produced its inputs (its edges), the shapes involved and
/// the values its VJP rule needs. Those saved values are released as soon as the rule has used them unless the
/// graph is retained, so memory falls as the reverse pass walks back.
@usableFromInline
final class GradNode: @unchecked Sendable {
    /// The primitive that produced this node's tensor (`LeafMarker` for a leaf). Not optional: calling a method on
    /// an optional existential copies it out of the node first.
    let primitive: any Primitive
    /// Whether this node is a leaf (a tensor derivatives are taken for) rather than an operation.
    let isLeaf: Bool
    /// For a leaf, the derivative call it belongs to: 0 for leaves made by `requiringGradient()` (the ambient,
    /// leaf-style level that `backward()` and `gradients(of:wrt:)` work at), or the level id of the functional call
    /// (`gradient(at:of:)`, `linearize`, ...) that made it for its input. A reverse pass records itself when the
    /// graph it walks reaches a leaf of any other level (see `ReversePass.dependsOnOtherLevels`). 0 for operations.
    let level: Int
    /// For each input, the node that produced it (nil if that input carries no reverse history) and its shape.
    /// (Mutable only so that `deinit` can unlink the nodes; see there.)
    @exclusivity(unchecked) private(set) var inputs: NodeInputs
    let outputShape: [Int]
    let scalarType: ScalarType
    /// Where the user called the operation, when the call could capture it (named methods do, operators cannot).
    let location: CallSite?

    /// `@unchecked Sendable` because of `Storage`: a buffer is written only before it is shared (or after a
    /// uniqueness check), so sharing one across threads is safe, but `ManagedBuffer` cannot declare that.
    struct Saved: @unchecked Sendable {
        var inputs: [AnyTensor]
        var output: Storage?
        var outputTangents: Tangents
        var released = false
        var outputHasTangents: Bool { !outputTangents.isEmpty }
    }
    /// Guards `saved` and `accumulated` (a reverse pass may run on another thread than the forward pass, and two
    /// passes may share leaves). Held for a few instructions at a time, so a spin lock suffices.
    private let lock = Atomic<Bool>(false)
    @exclusivity(unchecked) private var saved: Saved
    /// Gradient accumulated by `backward()` (leaves only).
    @exclusivity(unchecked) private var accumulated: AnyTensor?

    @inline(__always) private func locked<R>(_ body: () throws -> R) rethrows -> R {
        while !lock.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {}
        defer { lock.store(false, ordering: .releasing) }
        return try body()
    }

    /// A node for an operation.
    init(primitive: any Primitive, inputs: [AnyTensor], output: AnyTensor, location: CallSite?,
         savesEverything: Bool = false) {
        self.primitive = primitive
        self.isLeaf = false
        self.level = 0
        self.inputs = NodeInputs(inputs.map { NodeInput(node: $0.node, shape: $0.shape) })
        self.outputShape = output.shape
        self.scalarType = output.scalarType
        self.location = location
        self.saved = Saved(inputs: savesEverything ? inputs : primitive.savedInputs(inputs),
                           output: primitive.savesOutput || savesEverything ? output.storage : nil,
                           outputTangents: .none)
    }

    /// A node for a one-input operation (the same node as `init(primitive:inputs:…)` with `[input]`, without
    /// building that array unless the rule saves the input).
    init(primitive: some Primitive, input: AnyTensor, output: AnyTensor, location: CallSite?, savesEverything: Bool) {
        self.primitive = primitive
        self.isLeaf = false
        self.level = 0
        self.inputs = NodeInputs(one: NodeInput(node: input.node, shape: input.shape))
        self.outputShape = output.shape
        self.scalarType = output.scalarType
        self.location = location
        let savedInputs = savesEverything ? [input] : primitive.savesInputs ? primitive.savedInputs([input]) : []
        self.saved = Saved(inputs: savedInputs, output: primitive.savesOutput || savesEverything ? output.storage : nil,
                           outputTangents: .none)
    }

    /// A leaf: a tensor derivatives are taken for, belonging to derivative level `level` (0: leaf-style).
    init(leafShape shape: [Int], scalarType: ScalarType, location: CallSite?, level: Int = 0) {
        primitive = LeafMarker()
        isLeaf = true
        self.level = level
        inputs = []
        outputShape = shape
        self.scalarType = scalarType
        self.location = location
        saved = Saved(inputs: [], output: nil, outputTangents: .none)
    }

    private init(twinOf other: GradNode, saved: Saved, outputTangents: Tangents) {
        primitive = other.primitive
        isLeaf = other.isLeaf
        level = other.level
        inputs = other.inputs
        outputShape = other.outputShape
        scalarType = other.scalarType
        location = other.location
        self.saved = Saved(inputs: saved.inputs, output: saved.output, outputTangents: outputTangents)
    }

    /// Frees long graphs without deep recursion. Releasing the output of a chain of 100,000 operations would
    /// otherwise free each node from inside the deinitializer of the next, 100,000 calls deep, and overflow the
    /// stack. Instead each dying node first drops its saved values (so its inputs' nodes are owned only through
    /// its edges), then unlinks the input nodes it owns alone into a local stack and frees them one by one, after
    /// unlinking theirs in turn: the recursion depth stays constant, whatever the graph.
    deinit {
        if inputs.isEmpty { return }
        var pending: [GradNode] = []
        unlinkOwnedInputs(into: &pending)
        while var node = pending.popLast() {
            if isKnownUniquelyReferenced(&node) { node.unlinkOwnedInputs(into: &pending) }
        }
    }

    private func unlinkOwnedInputs(into pending: inout [GradNode]) {
        // No lock: this node is dying or held only by the caller's pending list, so no other thread can reach it.
        saved = Saved(inputs: [], output: nil, outputTangents: .none, released: true)
        // The edges are moved out first, so that clearing them edits this node's own array in place.
        var edges: NodeInputs = []
        swap(&edges, &inputs)
        for i in edges.indices {
            guard var input = edges[i].node else { continue }
            edges[i].node = nil
            if isKnownUniquelyReferenced(&input) { pending.append(input) }
        }
    }

    var name: String { primitive.name }

    /// The node that the tangent formula of one forward level sees for this operation's output: same primitive,
    /// edges and saved inputs, holding as the output's tangents only those of the levels pushed before it
    /// (`outputTangents`), which a reverse pass through the formula needs when a rule reads the output (exp, tanh).
    /// It does not own the tangent being computed: if a node owned tangents whose own history pointed back at it,
    /// the two would keep each other alive.
    func twin(outputTangents: Tangents) -> GradNode {
        GradNode(twinOf: self, saved: locked { saved }, outputTangents: outputTangents)
    }

    func setOutputTangents(_ tangents: Tangents) {
        locked { saved.outputTangents = tangents }
    }

    /// The values the VJP rule needs; releases them unless `retain`. Nil if they were already released.
    func takeSaved(retain: Bool) -> Saved? {
        locked {
            if saved.released { return nil }
            if retain { return saved }
            var taken = Saved(inputs: [], output: nil, outputTangents: .none, released: true)
            swap(&taken, &saved)
            return taken
        }
    }

    /// The saved values without releasing them (for `linearize`).
    func peekSaved() -> Saved { locked { saved } }

    /// Adds a cotangent into this leaf's stored gradient (`backward()`). The sum is computed outside the lock.
    func accumulate(_ g: AnyTensor) {
        while true {
            let current = locked { accumulated }
            let sum = current.map { $0 + g } ?? g
            let stored: Bool = locked {
                guard accumulated?.storage === current?.storage else { return false }
                accumulated = sum
                return true
            }
            if stored { return }
        }
    }

    /// The gradient accumulated by `backward()`, if any.
    var accumulatedGradient: AnyTensor? { locked { accumulated } }

    func clearAccumulatedGradient() { locked { accumulated = nil } }
}

/// The primitive of a leaf node: a leaf is not computed by an operation, so its rules are never called.
struct LeafMarker: Primitive {
    var name: String { "leaf" }
    var savesInputs: Bool { false }
    func vjp(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?] { [] }
    func jvp(_ ctx: RuleContext, _ tangents: [AnyTensor?]) -> AnyTensor? { nil }
}

/// Attaches derivative state to the value an operation computed.
///
/// Every primitive's forward function computes its value with a kernel and then calls `record`. If no input carries
/// derivative state, the value is returned untouched (the common, fast case). Otherwise:
/// - **reverse mode**: if recording is on and some input has a node, a node is made that remembers the primitive,
///   the input nodes and what the VJP rule needs;
/// - **forward mode**: for every open forward level some input is perturbed at (innermost last), the JVP rule maps
///   the inputs' tangents to the output's tangent. The rule sees the inputs with that level (and any inner one)
///   removed, so a tangent never perturbs itself, while outer levels and reverse history stay, which is what makes
///   forward-over-forward, forward-over-reverse and reverse-over-forward compose.
@inline(__always)
func record<P: Primitive>(_ primitive: P, _ inputs: [AnyTensor], _ value: AnyTensor,
                          at location: CallSite? = nil) -> AnyTensor {
    for x in inputs where x.ad != nil {
        return recordWithState(primitive, inputs, value, location)
    }
    return value
}

@inline(never)
func recordWithState(_ primitive: any Primitive, _ inputs: [AnyTensor], _ value: AnyTensor,
                     _ location: CallSite?) -> AnyTensor {
    let scope = ADScope.current
    scope.trace?.note(primitive)
    var node: GradNode?
    if scope.recording && inputs.contains(where: { $0.node != nil }) {
        node = GradNode(primitive: primitive, edges: inputs.map(\.node), inputs: inputs, output: value,
                        location: location)
    }

    var levelIDs: [Int] = []
    for x in inputs {
        guard let tangents = x.ad?.tangents else { continue }
        for t in tangents where !levelIDs.contains(t.level) && scope.isOpen(t.level) { levelIDs.append(t.level) }
    }
    var tangents: [LevelTangent] = []
    if !levelIDs.isEmpty {
        levelIDs.sort()
        let twin = node?.twin()
        for id in levelIDs {
            let level = scope.level(id)!
            let outputView = AnyTensor(storage: value.storage, shape: value.shape,
                                       ad: twin == nil && tangents.isEmpty ? nil : ADState(node: twin, tangents: tangents))
            let ctx = RuleContext(inputs: inputs.map { $0.primal(below: id) }, inputShapes: inputs.map(\.shape),
                                  outputValue: outputView, outputShape: value.shape, batchShape: level.batchShape,
                                  needs: [])
            guard let t = primitive.jvp(ctx, inputs.map { $0.tangent(at: id) }) else { continue }
            checkRuleShape(t, expected: level.batchShape + value.shape, primitive.name, "JVP")
            scope.anomalies?.check(t, operation: primitive.name, pass: .tangent, at: location)
            tangents.append(LevelTangent(level: id, tangent: t))
        }
        node?.setOutputTangents(tangents)
    }
    scope.anomalies?.check(value, operation: primitive.name, pass: .forward, at: location)
    if node == nil && tangents.isEmpty { return value }
    return AnyTensor(storage: value.storage, shape: value.shape, ad: ADState(node: node, tangents: tangents))
}

/// A rule that returns the wrong shape is a bug in that rule; stop and name it.
@inline(__always)
func checkRuleShape(_ t: AnyTensor, expected: [Int], _ name: String, _ rule: String) {
    if t.shape != expected {
        fatalError("Autograd internal error: the \(rule) rule of \(name) returned shape \(describe(t.shape)), "
            + "expected \(describe(expected)). Please report this.")
    }
}

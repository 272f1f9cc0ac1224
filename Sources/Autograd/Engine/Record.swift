/// Attaches derivative state to the value an operation computed.
///
/// Every primitive's forward function computes its value with a kernel and then calls `record`. If no input carries
/// derivative state, the value is returned untouched (the common, fast case, with no allocation; while some task has
/// anomaly detection on, the value is checked too). Otherwise:
/// - **reverse mode**: if recording is on and some input has a node, a node is made that remembers the primitive,
///   the input nodes and what the VJP rule needs;
/// - **forward mode**: for every open forward level some input is perturbed at (innermost last), the JVP rule maps
///   the inputs' tangents to the output's tangent. The rule sees the inputs with that level (and any inner one)
///   removed, so a tangent never perturbs itself, while outer levels and reverse history stay, which is what makes
///   forward-over-forward, forward-over-reverse and reverse-over-forward compose.
/// The usual cases of each mode (`recordReverse`, `recordForward`) take lean paths with the same results.
@inline(__always)
func record<P: Primitive>(_ primitive: P, _ x: AnyTensor, _ value: __owned AnyTensor,
                          at location: CallSite? = nil) -> AnyTensor {
    if x.hasDerivativeState {
        if x.node == nil { return recordForward(primitive, x, value, location) }
        return x.hasTangents ? recordWithState(primitive, [x], value, location)
            : recordReverse(primitive, x, value, location)
    }
    if AnomalyDetection.isOnAnywhere { checkConstant(primitive, [x], value, location) }
    return value
}

@inline(__always)
func record<P: Primitive>(_ primitive: P, _ a: AnyTensor, _ b: AnyTensor, _ value: __owned AnyTensor,
                          at location: CallSite? = nil) -> AnyTensor {
    if a.hasDerivativeState || b.hasDerivativeState {
        return a.node == nil && b.node == nil ? recordForward(primitive, a, b, value, location)
            : recordWithState(primitive, [a, b], value, location)
    }
    if AnomalyDetection.isOnAnywhere { checkConstant(primitive, [a, b], value, location) }
    return value
}

@inline(__always)
func record<P: Primitive>(_ primitive: P, _ inputs: [AnyTensor], _ value: __owned AnyTensor,
                          at location: CallSite? = nil) -> AnyTensor {
    for x in inputs where x.hasDerivativeState {
        return inputs.allSatisfy { $0.node == nil } ? recordForward(primitive, inputs, value, location)
            : recordWithState(primitive, inputs, value, location)
    }
    if AnomalyDetection.isOnAnywhere { checkConstant(primitive, inputs, value, location) }
    return value
}

@inline(never)
func recordWithState(_ primitive: some Primitive, _ inputs: [AnyTensor], _ value: AnyTensor,
                     _ location: CallSite?) -> AnyTensor {
    let scope = ADScope.current
    scope.trace?.note(primitive)
    var node: GradNode?
    if scope.recording && inputs.contains(where: { $0.node != nil }) {
        node = GradNode(primitive: primitive, inputs: inputs, output: value, location: location,
                        savesEverything: scope.savesEverything)
        if location == nil, let anomalies = scope.anomalies { anomalies.noteCreation(of: node!) }
    }
    // Checked before the JVP rules run: an operation's own value comes first.
    scope.anomalies?.check(value, operation: primitive.name, pass: .forward, at: location, inputs: inputs)

    var tangents = Tangents.none
    if scope.hasLevels && inputs.contains(where: { $0.hasTangents }) {
        tangents = pushForward(primitive, inputs, value, node, scope, location)
    }
    if node == nil && tangents.isEmpty { return value }
    return AnyTensor(storage: value.storage, shape: value.shape, node: node, tangents: tangents)
}

/// Reverse mode's usual case for a one-input operation, kept lean: the input has reverse history and no tangents,
/// and neither anomaly detection nor a trace is on. The node is made without building an input array.
@inline(never)
func recordReverse(_ primitive: some Primitive, _ x: AnyTensor, _ value: __owned AnyTensor,
                   _ location: CallSite?) -> AnyTensor {
    // The settings are read first and the rest runs outside the closure, so that `value` is moved into the
    // result rather than copied.
    let (lean, recording, savesEverything) = ADScope.withCurrent {
        ($0.anomalies == nil && $0.trace == nil, $0.recording, $0.savesEverything)
    }
    guard lean else { return recordWithState(primitive, [x], value, location) }
    guard recording else { return value }
    let node = GradNode(primitive: primitive, input: x, output: value, location: location,
                        savesEverything: savesEverything)
    var result = consume value
    result.node = node
    return result
}

/// Forward mode's usual case, kept lean: the inputs have no reverse history, one forward level is open (no anomaly
/// log, no trace) and each input's tangent, if any, is a constant at that level. Then the JVP rule runs once on the
/// plain values, with nothing to record, no level lookups and no rule context beyond the one call; anything else
/// goes the general way (`recordWithState`), which gives the same result.
///
/// Most often the level is unbatched and every tangent is held as its bare buffer (`Tangents.single`); that case
/// is handled first, outside any closure, so that `value` is moved into the result rather than copied.
@inline(never)
func recordForward(_ primitive: some Primitive, _ x: AnyTensor, _ value: __owned AnyTensor,
                   _ location: CallSite?) -> AnyTensor {
    if case .tangent(let buffer, let level) = x.state, level == ADScope.withCurrent({ $0.plainUnbatchedLevel }),
       Routes.take(.bufferJVP, primitive) {
        guard let t = primitive.plainJVP(x, tangentBuffer: buffer, value) else { return value }
        var result = consume value
        result.state = .tangent(t, level: level)
        return result
    }
    return ADScope.withCurrent { scope in
        guard let level = scope.plainForwardLevel, let tangent = plainTangent(x, level.id) ?? nil,
              Routes.take(.tensorJVP, primitive) else {
            return recordWithState(primitive, [x], value, location)
        }
        let t = primitive.plainJVP(x, tangent, value, batchShape: level.batchShape)
        return withPlainTangent(t, value, level: level.id, batchShape: level.batchShape, primitive.name)
    }
}

/// `recordForward` for several inputs (none with reverse history).
@inline(never)
func recordForward(_ primitive: some Primitive, _ inputs: [AnyTensor], _ value: AnyTensor,
                   _ location: CallSite?) -> AnyTensor {
    if inputs.count == 1 { return recordForward(primitive, inputs[0], value, location) }
    if inputs.count == 2 { return recordForward(primitive, inputs[0], inputs[1], value, location) }
    let scope = ADScope.current
    guard let level = scope.plainForwardLevel else { return recordWithState(primitive, inputs, value, location) }
    var plain = true
    let tin = inputs.map { x -> AnyTensor? in
        guard let t = plainTangent(x, level.id) else { plain = false; return nil }
        return t
    }
    guard plain, Routes.take(.tensorJVP, primitive) else { return recordWithState(primitive, inputs, value, location) }
    return withPlainTangent(primitive.generalJVP(inputs, tin, value, batchShape: level.batchShape),
                            value, level: level.id, batchShape: level.batchShape, primitive.name)
}

/// `recordForward` for two inputs (neither with reverse history).
@inline(never)
func recordForward(_ primitive: some Primitive, _ a: AnyTensor, _ b: AnyTensor, _ value: __owned AnyTensor,
                   _ location: CallSite?) -> AnyTensor {
    let level = ADScope.withCurrent { $0.plainUnbatchedLevel }
    if level != 0, let ta = plainTangent(a, level), let tb = plainTangent(b, level),
       Routes.take(.twoInputJVP, primitive) {
        let t = primitive.plainJVP(a, b, ta, tb, value, batchShape: [])
        return withPlainTangent(t, value, level: level, batchShape: [], primitive.name)
    }
    return ADScope.withCurrent { scope in
        guard let level = scope.plainForwardLevel, let ta = plainTangent(a, level.id),
              let tb = plainTangent(b, level.id), Routes.take(.twoInputJVP, primitive)
        else { return recordWithState(primitive, [a, b], value, location) }
        let t = primitive.plainJVP(a, b, ta, tb, value, batchShape: level.batchShape)
        return withPlainTangent(t, value, level: level.id, batchShape: level.batchShape, primitive.name)
    }
}

/// An input's tangent in the plain case: `.some(nil)` if it has none, `.some(t)` for a constant tangent at
/// level `level` alone, nil if the input needs the general path.
@inline(__always)
private func plainTangent(_ x: AnyTensor, _ level: Int) -> AnyTensor?? {
    switch x.tangents {
    case .none: return .some(nil)
    case .single(let buffer, let l): return l == level ? .some(AnyTensor(storage: buffer, shape: x.shape)) : nil
    case .list(let ts):
        guard ts.next == nil, ts.level == level, !ts.tangent.hasDerivativeState else { return nil }
        return .some(ts.tangent)
    }
}

/// The value carrying the tangent a plain rule returned at `level` (checked for shape), or the bare value if it is
/// zero. Unbatched, the tangent has the value's shape and is a constant (a plain rule's result): the usual single
/// tangent, held as its bare buffer.
@inline(__always)
private func withPlainTangent(_ t: consuming AnyTensor?, _ value: consuming AnyTensor, level: Int,
                              batchShape: [Int], _ name: String) -> AnyTensor {
    guard let t = t.take() else { return value }  // taken, so that the buffer's only holder is `t`
    checkRuleShape(t, batch: batchShape, shape: value.shape, name, "JVP")
    var result = consume value
    result.tangents = batchShape.isEmpty ? .single(consume t, level: level)
        : .list(TangentList(level: level, tangent: t))
    return result
}

/// Runs the JVP rule once per open level that some input is perturbed at, innermost last.
private func pushForward(_ primitive: some Primitive, _ inputs: [AnyTensor], _ value: AnyTensor, _ node: GradNode?,
                         _ scope: ADScope, _ location: CallSite?) -> Tangents {
    // The open levels present, ascending. Almost always one: find it without building a list.
    var first = Int.max
    var more = false
    for x in inputs {
        x.forEachTangentLevel { level in
            guard scope.isOpen(level) else { return }
            if first == Int.max { first = level } else if level != first { more = true }
        }
    }
    if first == Int.max { return .none }
    // The output's tangents, ascending by level, as they are computed (a value, so the rule sees them as they
    // stand when it runs).
    var output = AnyTensor(storage: value.storage, shape: value.shape)
    func push(level id: Int) {
        let level = scope.level(id)!
        let twin = node?.twin(outputTangents: output.tangents)
        let outputView = AnyTensor(storage: value.storage, shape: value.shape, node: twin, tangents: output.tangents)
        // The inputs seen from this level: unchanged unless some carry tangents of this or an inner level.
        let primals = inputs.contains { $0.hasTangent(atOrAfter: id) } ? inputs.map { $0.primal(below: id) } : inputs
        let tin = inputs.map { $0.tangent(at: id) }
        // The tangent formula is itself differentiated if it records (reverse over forward) or if its operands
        // carry tangents of outer levels (forward over forward).
        let differentiable = (scope.recording && (node != nil || tin.contains { $0?.node != nil }))
            || primals.contains { $0.hasTangents } || tin.contains { $0?.hasTangents ?? false } || output.hasTangents
        let ctx = RuleContext(inputs: primals, node: nil, outputValue: outputView,
                              outputShape: value.shape, batchShape: level.batchShape, needs: 0,
                              isDifferentiable: differentiable)
        // With anomaly detection on, the rule's own operations are not checked (they are not the user's); its result is.
        // (The rule is called directly when it is off: a closure stored in a local would be boxed on the heap, with
        // a copy of the context, for every operation.)
        let t: AnyTensor?
        if scope.anomalies == nil {
            t = primitive.jvp(ctx, tin)
        } else {
            t = scope.with(anomalies: .some(nil)).run { primitive.jvp(ctx, tin) }
        }
        guard let t else { return }
        checkRuleShape(t, batch: level.batchShape, shape: value.shape, primitive.name, "JVP")
        scope.anomalies?.check(t, operation: primitive.name, pass: .tangent, at: location,
                               inputs: tin.map { $0 ?? .zero(like: value) })
        output.tangents = output.tangents(adding: consume t, level: id)
    }
    if more {
        var levelIDs: [Int] = []
        for x in inputs {
            x.forEachTangentLevel { level in
                if !levelIDs.contains(level) && scope.isOpen(level) { levelIDs.append(level) }
            }
        }
        for id in levelIDs.sorted() { push(level: id) }
    } else {
        push(level: first)  // the usual case: one level, no list built
    }
    if output.tangents.isEmpty { return .none }
    node?.setOutputTangents(output.tangents)
    return output.tangents
}

/// A rule that returns the wrong shape is a bug in that rule; stop and name it. The expected shape is
/// `batch + shape`, compared without building it.
@inline(__always)
func checkRuleShape(_ t: AnyTensor, batch: [Int], shape: [Int], _ name: String, _ rule: String) {
    let s = t.shape
    var ok = s.count == batch.count + shape.count
    if ok {
        for i in batch.indices where s[i] != batch[i] { ok = false }
        for i in shape.indices where s[batch.count + i] != shape[i] { ok = false }
    }
    if !ok {
        fatalError("Autograd: the \(rule) rule of '\(name)' returned shape \(describe(s)), expected "
            + "\(describe(batch + shape)) (batch dimensions \(describe(batch)) followed by the shape of the input (VJP) "
            + "or the output (JVP) it belongs to). If '\(name)' is a custom operation, check that rule: see the "
            + "article \"Custom operations\". Otherwise please report this.")
    }
}

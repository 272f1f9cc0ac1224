extension Tensor where Scalar: TensorScalar {
    /// This tensor as a *leaf* that derivatives can be taken with respect to: operations on it (and on anything
    /// computed from it) record what they did, and ``gradients(of:wrt:cotangents:batched:retainGraph:createGraph:allowUnused:)->[Tensor<Scalar>]``
    /// or ``backward(cotangent:retainGraph:createGraph:)`` walk that record back. Shares the buffer (no copy).
    ///
    /// The result is a new leaf: if this tensor was itself computed from recorded tensors, that earlier history is
    /// not followed through the result (as with PyTorch's `x.detach().requires_grad_()`).
    public func requiringGradient(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let leaf = GradNode(leafShape: shape, scalarType: scalarType, location: CallSite(file: file, line: line))
        return Tensor(unchecked: AnyTensor(storage: base.storage, shape: shape, node: leaf, tangents: base.tangents))
    }

    /// The same value with no derivative state: a constant. Derivatives do not flow through it (PyTorch's
    /// `detach()`, JAX's `stop_gradient`). Shares the buffer (no copy).
    public func detached() -> Tensor {
        if let t = VMapTracing.traced("detached", [base], { v, _ in v[0] }) { return Tensor(unchecked: t) }
        return Tensor(unchecked: base.value)
    }

    /// Whether derivatives can be taken with respect to this tensor directly: it is a leaf made by
    /// ``requiringGradient(file:line:)``.
    public var isLeaf: Bool { base.node?.isLeaf ?? false }

    /// The gradient accumulated into this leaf by ``backward(cotangent:retainGraph:createGraph:)`` (the sum over all
    /// backward calls since the last ``clearGradient()``), shaped like this tensor; nil before any backward call
    /// reached it, and always nil for tensors that are not leaves.
    public var gradient: Tensor? {
        guard let node = base.node, node.isLeaf, let g = node.accumulatedGradient else { return nil }
        return Tensor(unchecked: g)
    }

    /// Resets the gradient accumulated by `backward()` (PyTorch's `zero_grad`), so the next backward starts at zero.
    public func clearGradient() { base.node?.clearAccumulatedGradient() }

    /// Reverse mode into leaves: computes vᵀJ for every leaf this tensor depends on and *adds* it to that leaf's
    /// ``gradient`` (as PyTorch's `backward()`; gradients accumulate across calls until ``clearGradient()``).
    ///
    /// For this tensor y and a leaf x: x.gradient += vᵀJ, i.e. gradient_j += Σᵢ vᵢ ∂yᵢ/∂xⱼ, shaped like x.
    /// `cotangent` (v) must have y's shape; it may be omitted only when y has one element (then v = 1).
    /// Cost: one reverse pass, about 2–3 times the forward computation.
    /// - Parameters:
    ///   - cotangent: v, shaped like this tensor; nil only when it has one element (then v = 1).
    ///   - retainGraph: keep the recorded graph so it can be walked again (otherwise it is released as it is walked).
    ///   - createGraph: record the backward computation itself, so the accumulated gradients can be differentiated
    ///     again (implies `retainGraph`). Such a gradient's history refers back to its leaf, so the two keep each
    ///     other alive: call ``clearGradient()`` after each step (a warning says so once per process), or use
    ///     ``gradients(of:wrt:cotangents:batched:retainGraph:createGraph:allowUnused:)->[Tensor<Scalar>]``, which
    ///     returns the gradients instead of storing them.
    ///
    /// Inside another derivative call (say a loss with this backward pass inside, differentiated by
    /// ``gradient(at:of:)``), the pass records itself whenever its gradients depend on that call's variable, with or
    /// without `createGraph`: see the article "How derivative calls nest".
    /// - Throws: ``AutogradError`` if y records no history, or v is missing or misshapen.
    public func backward(cotangent: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) throws {
        let call = "backward(cotangent:)"
        guard let node = base.node else { throw AutogradError.outputNotRecorded(output: 0, shape: shape) }
        let v = try Derivatives.checkedCotangent(cotangent?.base, for: base, index: 0, batchShape: nil,
                                                 inputShapes: [], call: call)
        _ = try ReversePass.run(roots: [Root(node: node, cotangent: v)], targets: [], level: 0, batchShape: [],
                                retainGraph: retainGraph, createGraph: createGraph, accumulateIntoLeaves: true)
    }
}

/// Runs `body` with recording turned off: operations inside compute values only, record no history and build no
/// graph (PyTorch's `torch.no_grad()`). Forward-mode tangents still propagate. Use it for evaluation and for
/// optimizer updates.
public func withoutRecording<R>(_ body: () throws -> R) rethrows -> R {
    try ADScope.current.with(recording: false).run(body)
}

/// Runs `body` with anomaly detection (PyTorch's `detect_anomaly`): every operation's value, every forward-mode
/// tangent and every reverse-mode cotangent is checked for NaN and infinity, and the first one found is thrown as
/// ``AutogradError/anomaly(operation:pass:value:index:shape:location:callStack:carriedByInput:)``.
///
/// The error names the operation, the pass, the first bad value with its index, and where the operation was called:
/// the file and line its call captured (named functions and methods capture one), or else the innermost frames of
/// your code on the call stack, with file and line where the program has debug information (operators such as `+`
/// capture none). For an anomaly in the reverse pass that is the call stack of the forward operation whose VJP rule
/// produced it, kept when the operation was recorded. If an input of the operation already held the bad value, the
/// error says so: it came from the data or from outside the checked computation.
///
/// A reverse pass inside `body` throws as soon as a rule returns such a value; a forward-pass anomaly is thrown when
/// `body` returns (operations cannot throw). Operations on constants are checked too. Derivative rules' own
/// operations are not: what they return is.
///
/// Cost while on: a scan of every result, plus about 6 µs per recorded operation that has no call site (to keep its
/// call stack). Off, it costs one relaxed atomic load per operation on constants (a process-wide count of open
/// scopes), and nothing per recorded operation. Scopes are per task: other tasks are not checked.
public func withAnomalyDetection<R>(_ body: () throws -> R) throws -> R {
    let log = AnomalyLog()
    let result = try AnomalyDetection.counting { try ADScope.current.with(anomalies: .some(log)).run(body) }
    if let error = log.error { throw error }
    return result
}

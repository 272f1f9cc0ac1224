/// J·u computed with two reverse passes instead of forward mode: the "double-backward trick".
///
/// PyTorch users long computed Jacobian-vector products this way (`torch.autograd.functional.jvp` still does). It
/// is here for comparison and teaching; use ``jvp(of:at:tangent:)`` in real code.
///
/// **Why it works.** For a dummy cotangent v (shaped like the output), the reverse pass gives g(v) = vᵀJ, a
/// function that is *linear* in v. Its own vector-Jacobian product with u (shaped like the input) is
///
///     uᵀ · ∂g/∂v = uᵀ Jᵀ = (J·u)ᵀ,
///
/// so differentiating ⟨g(v), u⟩ with respect to v gives exactly J·u, whatever v is (v = 0 here).
///
/// **Why it costs more.** It needs one forward pass that records a graph, a first reverse pass that itself records
/// a graph (so it can be differentiated), and a second reverse pass through that graph: three passes and two
/// recorded graphs in memory, against forward mode's single pass with nothing recorded. Measured on the motivating
/// example by `autograd tour`.
///
/// Shapes: `tangent` u like x; the result like f(x). Same formula as ``jvp(of:at:tangent:)``:
/// (J·u)ᵢ = Σⱼ ∂fᵢ/∂xⱼ · uⱼ.
public func jvpByDoubleBackward<Scalar: TensorScalar>(
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>, tangent u: Tensor<Scalar>
) throws -> (value: Tensor<Scalar>, tangent: Tensor<Scalar>) {
    let call = "jvpByDoubleBackward(of:at:tangent:)"
    if u.shape != x.shape || u.scalarType != x.scalarType {
        let y = try withoutRecording { try f(x.detached()) }
        throw AutogradError.tangentShapeMismatch(input: 0, tangentShape: u.shape, inputShape: x.shape,
                                                 outputShapes: [y.shape], call: call)
    }
    // One level for the whole computation: x's leaf and the dummy cotangent's leaf belong to it, so both passes
    // record themselves exactly when the result depends on an enclosing call's variables (then the result can be
    // differentiated again, like every derivative call's).
    let level = Levels.next()
    let (input, y) = try ADScope.current.with(recording: true).run {
        let input = x.base.markedForReverse(level: level)
        return (input, try f(Tensor(unchecked: input)).base)
    }
    guard let yNode = y.node else { return (Tensor(unchecked: y), Tensor(zeros: y.shape)) }
    // First reverse pass, recorded: g(v) = vᵀJ for a dummy cotangent v = 0 that is itself a leaf of this level.
    let v = AnyTensor(storage: Kernel.filled(y.scalarType, y.shape, 0).storage, shape: y.shape,
                      node: GradNode(leafShape: y.shape, scalarType: y.scalarType, location: nil, level: level))
    let first = ReversePass(roots: [yNode], targets: [input.node!], accumulateIntoLeaves: false, level: level)
    let gs = try first.execute(roots: [Root(node: yNode, cotangent: v)], batchShape: [], retainGraph: true,
                               createGraph: true)
    // The value keeps its history only when it depends on an enclosing call's variables.
    let value = first.dependsOnOtherLevels ? y : y.withoutNode
    guard let g = gs[0],
          let gu = ADScope.current.with(recording: true).run({ (g * u.base).sum() }).node else {
        return (Tensor(unchecked: value), Tensor(zeros: y.shape))
    }
    // Second reverse pass: ∂⟨g(v), u⟩/∂v = J·u (recorded when J·u depends on an enclosing call's variables).
    let ju = try ReversePass.run(roots: [Root(node: gu, cotangent: Kernel.filled(y.scalarType, [], 1))],
                                 targets: [v.node!], level: level, batchShape: [], retainGraph: false,
                                 createGraph: false, accumulateIntoLeaves: false).results[0]
    return (Tensor(unchecked: value), ju.map { Tensor(unchecked: $0) } ?? Tensor(zeros: y.shape))
}

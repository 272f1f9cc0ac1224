/// A user-defined primitive: its value and its derivative rules, differentiated by the same engine, the same way,
/// as the library's own primitives.
///
/// Conform a type and call it like a function:
///
/// ```swift
/// /// log(1 + eˣ), finite for every x (the naive formula overflows for x > 88 in Float).
/// struct LogOnePlusExp: CustomOperation {
///     var name: String { "logOnePlusExp" }
///     func forward(_ x: [Tensor<Float>]) -> Tensor<Float> {
///         maximum(x[0], 0) + log1p(exp(-abs(x[0])))
///     }
///     // d/dx log(1 + eˣ) = σ(x)
///     func vjp(_ c: CustomOperationContext<Float>, cotangent: Tensor<Float>) -> [Tensor<Float>?] {
///         [cotangent * sigmoid(c.inputs[0])]
///     }
///     func jvp(_ c: CustomOperationContext<Float>, tangents: [Tensor<Float>?]) -> Tensor<Float>? {
///         tangents[0].map { $0 * sigmoid(c.inputs[0]) }
///     }
/// }
/// let y = LogOnePlusExp()(x)
/// ```
///
/// **Rules.** `vjp` maps the output's cotangent ȳ (shape `batch + y.shape`) to each input's cotangent (shape
/// `batch + xᵢ.shape`, nil for zero); `jvp` maps the inputs' tangents (nil for zero) to the output's tangent.
/// Write them with differentiable tensor operations, so that derivatives of derivatives work, and accept the
/// extra leading batch dimensions `context.batchShape` (broadcasting against the unbatched input values does this
/// for elementwise rules; ``CustomOperationContext/unbroadcast(_:toInput:)`` sums a cotangent back to an input's
/// shape). Provide both rules, or only one: the default `jvp` derives J·u from `vjp` (by differentiating the
/// linear map v ↦ vᵀJ, two reverse steps), and the default `vjp` derives vᵀJ from `jvp` (by transposing the linear
/// map u ↦ J·u with one reverse step); a derived rule costs about two to three times a hand-written one.
/// Verify a custom operation with ``checkDerivatives(of:at:modes:name:options:)-(F,_,_,_,_)``.
///
/// `forward` computes the value only: it runs without recording, whatever the inputs carry.
public protocol CustomOperation: Sendable {
    /// The element type the operation computes in.
    associatedtype Scalar: TensorScalar
    /// A name for errors, `explain` and graph exports.
    var name: String { get }
    /// The value y = f(x₁, x₂, …).
    func forward(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar>
    /// Reverse rule: ȳ (shape `batch + y.shape`) ↦ x̄ᵢ = ȳᵀ ∂y/∂xᵢ (shape `batch + xᵢ.shape`), nil for zero.
    func vjp(_ context: CustomOperationContext<Scalar>, cotangent: Tensor<Scalar>) -> [Tensor<Scalar>?]
    /// Forward rule: ẋᵢ (shape `batch + xᵢ.shape`, nil for zero) ↦ ẏ = Σᵢ ∂y/∂xᵢ · ẋᵢ (shape `batch + y.shape`).
    func jvp(_ context: CustomOperationContext<Scalar>, tangents: [Tensor<Scalar>?]) -> Tensor<Scalar>?
}

/// What a custom operation's rules see: the input and output values and the batch dimensions of the tangents or
/// cotangents flowing through.
public struct CustomOperationContext<Scalar: TensorScalar> {
    /// The input values x₁, x₂, … (differentiable: they carry whatever derivative state the rule needs).
    public let inputs: [Tensor<Scalar>]
    /// The output value y, shape y.shape (no batch dimensions: those are on tangents and cotangents only).
    public let output: Tensor<Scalar>
    /// Leading dimensions of the tangents or cotangents (empty unless a batch of them flows through one pass).
    public let batchShape: [Int]

    /// Sums a cotangent of shape `batch + s`, where `s` is the broadcast of input `i`'s shape, back to
    /// `batch + inputs[i].shape`: the last step of the reverse rule of any broadcasting operation.
    public func unbroadcast(_ cotangent: Tensor<Scalar>, toInput i: Int) -> Tensor<Scalar> {
        Tensor(unchecked: cotangent.base.unbroadcast(to: inputs[i].shape, batchRank: batchShape.count))
    }
}

extension CustomOperation {
    /// Applies the operation, recording it for reverse mode and pushing tangents through it in forward mode.
    public func callAsFunction(_ inputs: Tensor<Scalar>...) -> Tensor<Scalar> { apply(inputs) }

    /// Applies the operation to an array of inputs (see ``callAsFunction(_:)``).
    public func apply(_ inputs: [Tensor<Scalar>], file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
        let value = withoutRecording { forward(inputs.map { $0.detached() }) }.base.value
        return Tensor(unchecked: record(CustomPrimitive(operation: self), inputs.map(\.base), value,
                                        at: CallSite(file: file, line: line)))
    }

    /// The default forward rule: ``derivedJVP(_:tangents:)``.
    public func jvp(_ context: CustomOperationContext<Scalar>, tangents: [Tensor<Scalar>?]) -> Tensor<Scalar>? {
        derivedJVP(context, tangents: tangents)
    }

    /// The default reverse rule: ``derivedVJP(_:cotangent:)``.
    public func vjp(_ context: CustomOperationContext<Scalar>, cotangent: Tensor<Scalar>) -> [Tensor<Scalar>?] {
        derivedVJP(context, cotangent: cotangent)
    }

    /// J·u derived from the reverse rule: v ↦ vᵀJ is linear, and the reverse-mode derivative of ⟨vᵀJ, u⟩ with
    /// respect to v is J·u. Costs a recorded reverse rule plus one reverse pass over it.
    public func derivedJVP(_ context: CustomOperationContext<Scalar>, tangents: [Tensor<Scalar>?]) -> Tensor<Scalar>? {
        guard tangents.contains(where: { $0 != nil }) else { return nil }
        let batch = context.batchShape
        let v = Tensor<Scalar>(zeros: batch + context.output.shape).requiringGradient()
        // ⟨vᵀJ, u⟩ summed per batch entry: with v batched alike, each batch entry's J·uₖ lands in row k of ∂/∂v.
        let total: Tensor<Scalar>? = ADScope.current.with(recording: true).run {
            var total: Tensor<Scalar>?
            for (x̄, u) in zip(vjp(context, cotangent: v), tangents) {
                guard let x̄, let u else { continue }
                let term = (x̄ * u).sum()
                total = total.map { $0 + term } ?? term
            }
            return total
        }
        guard let total, total.base.node != nil else { return Tensor(zeros: batch + context.output.shape) }
        let r = derivedRulePass(name, "JVP") {
            try ReversePass.run(roots: [Root(node: total.base.node!, cotangent: Kernel.filled(Scalar.scalarType, [], 1))],
                                targets: [v.base.node!], batchShape: [], retainGraph: false,
                                createGraph: ADScope.current.recording, accumulateIntoLeaves: false)
        }
        return r[0].map { Tensor(unchecked: $0) } ?? Tensor(zeros: batch + context.output.shape)
    }

    /// vᵀJ derived from the forward rule: u ↦ J·u is linear, and the reverse-mode derivative of ⟨v, J·u⟩ with
    /// respect to u is vᵀJ. Costs a recorded forward rule plus one reverse pass over it.
    public func derivedVJP(_ context: CustomOperationContext<Scalar>, cotangent: Tensor<Scalar>) -> [Tensor<Scalar>?] {
        let batch = context.batchShape
        let us = context.inputs.map { Tensor<Scalar>(zeros: batch + $0.shape).requiringGradient() }
        let product = ADScope.current.with(recording: true).run { jvp(context, tangents: us).map { ($0 * cotangent).sum() } }
        guard let root = product?.base.node else { return us.map { _ in nil } }
        let r = derivedRulePass(name, "VJP") {
            try ReversePass.run(roots: [Root(node: root, cotangent: Kernel.filled(Scalar.scalarType, [], 1))],
                                targets: us.map { $0.base.node! }, batchShape: [], retainGraph: false,
                                createGraph: ADScope.current.recording, accumulateIntoLeaves: false)
        }
        return r.map { $0.map { Tensor(unchecked: $0) } }
    }
}

/// The reverse pass a derived rule runs. Rules cannot throw, and a derived rule's pass has nothing that should
/// throw (its graph is fresh and anomaly checks are off inside rules): an error here is a bug, so it stops with a
/// message instead of turning into a silent zero derivative.
private func derivedRulePass(_ operation: String, _ rule: String,
                             _ pass: () throws -> [AnyTensor?]) -> [AnyTensor?] {
    do {
        return try pass()
    } catch {
        fatalError("Autograd: the \(rule) rule of custom operation '\(operation)', derived from its other rule, "
            + "failed: \(error). Please report this.")
    }
}

/// The engine-side primitive that wraps a ``CustomOperation``.
struct CustomPrimitive<Op: CustomOperation>: Primitive {
    let operation: Op
    var name: String { operation.name }
    var savesInputs: Bool { true }
    var savesOutput: Bool { true }

    private func context(_ ctx: RuleContext) -> CustomOperationContext<Op.Scalar> {
        CustomOperationContext(inputs: ctx.inputs.map { Tensor(unchecked: $0) }, output: Tensor(unchecked: ctx.output),
                               batchShape: ctx.batchShape)
    }

    func vjp(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?] {
        let results = operation.vjp(context(ctx), cotangent: Tensor(unchecked: cotangent))
        precondition(results.count == ctx.inputCount, "the VJP rule of custom operation '\(name)' returned "
            + "\(results.count) cotangents for \(ctx.inputCount) inputs; return one per input (nil for zero). See the "
            + "article \"Custom operations\".")
        return results.map { $0?.base }
    }

    func jvp(_ ctx: RuleContext, _ tangents: [AnyTensor?]) -> AnyTensor? {
        operation.jvp(context(ctx), tangents: tangents.map { $0.map { Tensor(unchecked: $0) } })?.base
    }
}

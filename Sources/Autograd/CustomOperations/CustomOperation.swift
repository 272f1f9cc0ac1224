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
        let zero = Tensor<Scalar>(zeros: batch + context.output.shape)
        return CustomRuleDerivation.derive(name, rule: "JVP") { level in
            // A dummy cotangent v: a leaf of this derivation's own level.
            let v = zero.base.markedForReverse(level: level)
            // ⟨vᵀJ, u⟩ summed per batch entry: with v batched alike, each batch entry's J·uₖ lands in row k of ∂/∂v.
            var total: AnyTensor?
            for (x̄, u) in zip(vjp(context, cotangent: Tensor(unchecked: v)), tangents) {
                guard let x̄, let u else { continue }
                let term = (x̄ * u).sum().base
                total = total.map { $0 + term } ?? term
            }
            return (total, [v])
        }[0] ?? zero
    }

    /// vᵀJ derived from the forward rule: u ↦ J·u is linear, and the reverse-mode derivative of ⟨v, J·u⟩ with
    /// respect to u is vᵀJ. Costs a recorded forward rule plus one reverse pass over it.
    public func derivedVJP(_ context: CustomOperationContext<Scalar>, cotangent: Tensor<Scalar>) -> [Tensor<Scalar>?] {
        let batch = context.batchShape
        return CustomRuleDerivation.derive(name, rule: "VJP") { level in
            let us = context.inputs.map { Tensor<Scalar>(zeros: batch + $0.shape).base.markedForReverse(level: level) }
            let product = jvp(context, tangents: us.map { Tensor(unchecked: $0) }).map { ($0 * cotangent).sum().base }
            return (product, us)
        }
    }
}

/// How a custom operation's missing rule is derived from the other: one reverse pass over the rule that exists.
enum CustomRuleDerivation {
    /// The operations being derived on this thread right now (name and rule), to catch an operation that defines
    /// neither rule: each default then calls the other, forever.
    @TaskLocal private static var inProgress: [String] = []

    /// Runs `build` (which evaluates the existing rule on dummy leaves of a new level and returns the scalar
    /// product to differentiate and those leaves) and returns the derivative of that product for each leaf (nil
    /// for zero). The pass records itself when the result depends on variables of enclosing derivative calls.
    static func derive<Scalar: TensorScalar>(_ name: String, rule: String,
                                             _ build: (Int) -> (AnyTensor?, [AnyTensor])) -> [Tensor<Scalar>?] {
        let other = rule == "JVP" ? "VJP" : "JVP"
        if inProgress.contains("\(name).\(other)") {
            fatalError("Autograd: custom operation '\(name)' defines neither a VJP nor a JVP rule, so each default "
                + "rule tries to derive itself from the other. Implement at least one of vjp(_:cotangent:) and "
                + "jvp(_:tangents:); see the article \"Custom operations\".")
        }
        let level = Levels.next()
        let (product, leaves) = $inProgress.withValue(inProgress + ["\(name).\(rule)"]) {
            ADScope.current.with(recording: true).run { build(level) }
        }
        guard let root = product?.node else { return leaves.map { _ in nil } }
        do {
            let r = try ReversePass.run(roots: [Root(node: root, cotangent: Kernel.filled(Scalar.scalarType, [], 1))],
                                        targets: leaves.map { $0.node! }, level: level, batchShape: [],
                                        retainGraph: false, createGraph: false, accumulateIntoLeaves: false)
            return r.results.map { $0.map { Tensor(unchecked: $0) } }
        } catch {
            // The pass runs on a graph just recorded, so nothing it throws (a released graph, an anomaly) can be
            // the caller's to handle: a derivative silently zeroed would be worse than stopping here.
            fatalError("Autograd: deriving the \(rule) rule of custom operation '\(name)' failed: \(error)")
        }
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

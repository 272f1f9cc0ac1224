import Synchronization

/// A primitive operation: one the engine differentiates by rule, not by decomposition.
///
/// Each primitive's forward computation (a kernel call), its reverse rule (VJP) and its forward rule (JVP) live
/// together in one file under `Primitives/`, each rule a few lines of tensor math written with differentiable
/// operations, so a rule can itself be differentiated (derivatives of derivatives).
///
/// Notation used in every rule's comment: `x` an input, `y` the output, `ẋ` a tangent (shaped like `x`),
/// `ȳ` a cotangent (shaped like `y`). Rules accept extra *leading* dimensions on tangents and cotangents
/// (a batch of them, `ctx.batchShape`), which is what lets a whole Jacobian flow through one pass.
protocol Primitive: Sendable {
    /// The name shown in errors, `explain` and graph exports, e.g. `"exp"`, `"matmul"`.
    var name: String { get }
    /// Whether the VJP rule reads the inputs' values (then they are kept until the rule has run).
    var savesInputs: Bool { get }
    /// The inputs the node keeps for the VJP rule, released with the node's other saved values after the rule has
    /// run (all of them if `savesInputs`, else none). A rule that reads only some returns those, first ones first:
    /// it then sees them as `ctx.input(0)`, `ctx.input(1)`, ...
    func savedInputs(_ inputs: [AnyTensor]) -> [AnyTensor]
    /// Whether the VJP rule reads the output's value.
    var savesOutput: Bool { get }
    /// Reverse rule: given `ȳ` (shape `batch + y.shape`), the cotangent of each input (shape `batch + x.shape`),
    /// or nil where it is zero or where `ctx.needs(i)` is false.
    func vjp(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?]
    /// `vjp` for a primitive applied to one input: its only result, without the array (the reverse pass calls
    /// this for every one-input node). The cotangent is handed over (owned): when nothing differentiates the
    /// result and no one else holds its buffer, a rule may write its result into that buffer instead of a new one.
    /// The default takes it from `vjp`.
    func vjpOfOneInput(_ ctx: RuleContext, _ cotangent: consuming AnyTensor) -> AnyTensor?
    /// For `hvp`, which keeps only the tangents of a gradient: the tangent at forward level `level` of input `i`'s
    /// cotangent (what `vjp` returns for input i, differentiated along that level's direction), computed without
    /// that cotangent's value; nil if the rule does not offer it, and then the reverse pass runs `vjp` and takes
    /// the tangent off its result. Called only when nothing records (no `createGraph`) and no anomaly log is open.
    /// The default returns nil.
    func vjpTangent(_ ctx: RuleContext, _ cotangent: AnyTensor, input i: Int, level: Int) -> AnyTensor?
    /// Forward rule: given each input's tangent (shape `batch + x.shape`, nil meaning zero), the output's tangent
    /// (shape `batch + y.shape`), or nil if it is zero.
    func jvp(_ ctx: RuleContext, _ tangents: [AnyTensor?]) -> AnyTensor?
    /// The forward rule of a one-input primitive in forward mode's usual case (see `recordForward`): the tangent
    /// `ẋ` and the output `y` are constants and `x` has no reverse history (it still carries `ẋ`, which the rule
    /// ignores: passing `x` as it is saves copying it), so the rule may compute `ẏ` with kernels on the values
    /// directly, without a rule context. Must equal `jvp` there; the default calls it (see `generalJVP`).
    func plainJVP(_ x: AnyTensor, _ tangent: AnyTensor, _ y: AnyTensor, batchShape: [Int]) -> AnyTensor?
    /// `plainJVP` for a two-input primitive: tangents `ȧ`, `ḃ` (nil meaning zero, not both nil).
    func plainJVP(_ a: AnyTensor, _ b: AnyTensor, _ ta: AnyTensor?, _ tb: AnyTensor?, _ y: AnyTensor,
                  batchShape: [Int]) -> AnyTensor?
    /// `plainJVP` on bare buffers, for the leanest case of all: an unbatched level, `tangent` holding ẋ (x's
    /// shape). Returns the buffer of ẏ (y's shape): a new one, or `tangent` itself for an operation that only
    /// reshapes; nil for zero. Saves wrapping each buffer in a tensor (a shape reference to take and drop per
    /// operation). The default does the wrapping and calls `plainJVP` (see `plainJVPOnTensors`).
    func plainJVP(_ x: AnyTensor, tangentBuffer: Storage, _ y: AnyTensor) -> Storage?
    /// Which operand elements each output element may depend on: the family of the primitive's sparsity rule
    /// (see `SparsityRule`), stated once beside the VJP and JVP rules. The default, `.dense`, is always safe
    /// (every output element may depend on everything); every `ElementwisePrimitive` is `.elementwise`.
    var sparsity: SparsityRule { get }
    /// Vectorization (`vmap`): the primitive applied to a batch of examples at once, the example axis first in
    /// every mapped input and in the result (shape `[N] + outputShape`), written with differentiable operations so
    /// that derivatives see through it; nil if it has none (then `vmap` loops over the examples). Stated once
    /// beside the rules, mostly as a family's shared rule (see `BatchingContext`). The default is nil.
    func batched(_ ctx: BatchingContext) -> AnyTensor?
}

extension Primitive {
    var sparsity: SparsityRule { .dense }
    func batched(_ ctx: BatchingContext) -> AnyTensor? { nil }
    var savesInputs: Bool { true }
    var savesOutput: Bool { false }
    func savedInputs(_ inputs: [AnyTensor]) -> [AnyTensor] { savesInputs ? inputs : [] }
    func vjpOfOneInput(_ ctx: RuleContext, _ cotangent: consuming AnyTensor) -> AnyTensor? {
        let results = vjp(ctx, cotangent)
        return results.isEmpty ? nil : results[0]
    }
    func vjpTangent(_ ctx: RuleContext, _ cotangent: AnyTensor, input i: Int, level: Int) -> AnyTensor? { nil }
    func plainJVP(_ x: AnyTensor, _ tangent: AnyTensor, _ y: AnyTensor, batchShape: [Int]) -> AnyTensor? {
        generalJVP([x], [tangent], y, batchShape: batchShape)
    }
    func plainJVP(_ a: AnyTensor, _ b: AnyTensor, _ ta: AnyTensor?, _ tb: AnyTensor?, _ y: AnyTensor,
                  batchShape: [Int]) -> AnyTensor? {
        generalJVP([a, b], [ta, tb], y, batchShape: batchShape)
    }
    func plainJVP(_ x: AnyTensor, tangentBuffer: Storage, _ y: AnyTensor) -> Storage? {
        plainJVPOnTensors(x, tangentBuffer: tangentBuffer, y)
    }
    /// `plainJVP(_:tangentBuffer:_:)` through the tensor form: ẋ wrapped with x's shape, ẏ checked for y's shape.
    func plainJVPOnTensors(_ x: AnyTensor, tangentBuffer: Storage, _ y: AnyTensor) -> Storage? {
        guard let t = plainJVP(x, AnyTensor(storage: tangentBuffer, shape: x.shape), y, batchShape: []) else {
            return nil
        }
        checkRuleShape(t, batch: [], shape: y.shape, name, "JVP")
        return t.storage
    }
    /// The forward rule `jvp` called on the inputs' values (their tangents removed: the context of the plain case,
    /// see `recordForward`).
    func generalJVP(_ inputs: [AnyTensor], _ tangents: [AnyTensor?], _ y: AnyTensor, batchShape: [Int]) -> AnyTensor? {
        jvp(RuleContext(inputs: inputs.map(\.value), node: nil, outputValue: y, outputShape: y.shape,
                        batchShape: batchShape, needs: 0, isDifferentiable: false), tangents)
    }
}

/// A primitive that is linear in its inputs: `f(x)` for a single input, or jointly linear like `a + b`.
///
/// Its forward rule is the operation itself applied to the tangents, so it needs only `apply` (used for both the
/// value and the JVP) and its transpose (the VJP): one rule, not two.
protocol LinearPrimitive: Primitive {
    /// The operation on (possibly batched) arguments; nil arguments are zero. Must accept `ctx.batchShape` leading
    /// dimensions.
    func apply(_ ctx: RuleContext, _ arguments: [AnyTensor?]) -> AnyTensor?
    /// The transpose (adjoint) map: `ȳ ↦ (x̄₁, x̄₂, …)`.
    func transpose(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?]
}

extension LinearPrimitive {
    var savesInputs: Bool { false }
    func vjp(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?] { transpose(ctx, cotangent) }
    func jvp(_ ctx: RuleContext, _ tangents: [AnyTensor?]) -> AnyTensor? { apply(ctx, tangents) }
}

/// What a rule sees: the inputs' and output's values, their shapes, the batch dimensions in front of tangents and
/// cotangents, and which inputs need a cotangent.
struct RuleContext {
    /// Input values (for a VJP, the saved inputs; empty if the primitive does not save them).
    let inputs: [AnyTensor]
    /// Where the input shapes come from: the node (VJP) or the operands themselves (JVP).
    private let node: GradNode?
    /// The output value, when the primitive saves it (VJP) or always (JVP).
    let outputValue: AnyTensor?
    let outputShape: [Int]
    /// Leading dimensions of the tangents or cotangents flowing through this rule.
    let batchShape: [Int]
    /// For a VJP: bit i is set if input i needs its cotangent (rules may skip work where it does not).
    var needsMask: UInt64
    /// Whether the rule's result may itself be differentiated (a recorded reverse pass, or tangents on the values
    /// it reads). When false, a rule may compute its result with fused kernels instead of recorded operations.
    let isDifferentiable: Bool

    init(inputs: [AnyTensor], node: GradNode?, outputValue: AnyTensor?, outputShape: [Int], batchShape: [Int],
         needs: UInt64, isDifferentiable: Bool) {
        self.inputs = inputs
        self.node = node
        self.outputValue = outputValue
        self.outputShape = outputShape
        self.batchShape = batchShape
        self.needsMask = needs
        self.isDifferentiable = isDifferentiable
    }

    /// For a VJP: whether input `i` needs its cotangent.
    @inline(__always) func needs(_ i: Int) -> Bool { i >= 64 || needsMask & (1 << UInt64(i)) != 0 }

    func input(_ i: Int) -> AnyTensor { inputs[i] }
    /// The shape of input `i`.
    func inputShape(_ i: Int) -> [Int] { node?.inputs.shape(i) ?? inputs[i].shape }
    /// The number of inputs.
    var inputCount: Int { node?.inputs.count ?? inputs.count }
    var output: AnyTensor { outputValue! }

    /// `batch + shape` (no new array when there is no batch).
    @inline(__always) func batched(_ shape: [Int]) -> [Int] { batchShape.isEmpty ? shape : batchShape + shape }

    /// `t` broadcast to `batch + outputShape` unless it already has that shape.
    @inline(__always) func expandedToOutput(_ t: AnyTensor) -> AnyTensor {
        hasFullShape(t) ? t : t.expanded(to: batchShape + outputShape)
    }

    /// Whether `t` already has the shape `batch + outputShape` (checked without building that array).
    @inline(__always) func hasFullShape(_ t: AnyTensor) -> Bool {
        let s = t.shape
        guard s.count == batchShape.count + outputShape.count else { return false }
        for i in batchShape.indices where s[i] != batchShape[i] { return false }
        for i in outputShape.indices where s[batchShape.count + i] != outputShape[i] { return false }
        return true
    }

    /// Sums a cotangent shaped `batch + s` (with `s` broadcast from input `i`'s shape) back to
    /// `batch + inputShape(i)`: the un-broadcasting step that ends every rule of a broadcasting primitive.
    func unbroadcast(_ cotangent: AnyTensor, toInput i: Int) -> AnyTensor {
        cotangent.unbroadcast(to: inputShape(i), batchRank: batchShape.count)
    }

    /// Reshapes a tangent shaped `batch + inputShape(i)` to `batch + [1, …, 1] + inputShape(i)` with `rank`
    /// dimensions after the batch, so that it broadcasts against values of that rank aligned at the right.
    func aligned(_ tangent: AnyTensor, input i: Int, rank: Int) -> AnyTensor {
        let shape = inputShape(i)
        if batchShape.isEmpty || shape.count >= rank { return tangent }
        return tangent.reshaped(batchShape + [Int](repeating: 1, count: rank - shape.count) + shape)
    }
}

/// Records which primitive types ran with derivative state.
final class PrimitiveTrace: Sendable {
    private let names = Mutex<Set<String>>([])
    func note(_ p: any Primitive) { _ = names.withLock { $0.insert(String(describing: type(of: p))) } }
    var seen: Set<String> { names.withLock { $0 } }
}

import CAutogradKernels

// Elementwise primitives of one input. Each states only f′, as an expression of s, the saved input x (or the output
// y, for those that save it); both rules follow from it, and so do second derivatives (see `DerivativeProduct`):
//     VJP  x̄ = ȳ ⊙ f′(s)        JVP  ẏ = f′(s) ⊙ ẋ
// Both broadcast f′(s) (shape x) against a tangent or cotangent with leading batch dimensions.

/// An elementwise function of one input, `y = f(x)`. Both rules follow from the derivative `f′`:
/// `x̄ = ȳ ⊙ f′` and `ẏ = f′ ⊙ ẋ`, so it states only `derivative`, once.
///
/// `fused`, where present, is a faster route to the same products (one kernel instead of the expression's several;
/// see `Route.fused`): the derivative checker runs every elementwise check both ways, so the two must agree.
protocol ElementwisePrimitive: Primitive {
    /// `f′`, shaped like `s`, written with differentiable operations on `s`: the input x, or the output y when the
    /// primitive saves its output (`savesOutput`). The single statement of the derivative: the rules, the fused
    /// kernel's checks and the second derivatives (the JVP of this expression) all come from it.
    func derivative(_ s: AnyTensor) -> AnyTensor
    /// The same derivative as one fused kernel: then both rules are the single primitive `DerivativeProduct`
    /// (one kernel and one node, differentiable in turn) instead of the expression.
    var fused: FusedDerivative? { get }
}

extension ElementwisePrimitive {
    var fused: FusedDerivative? { nil }
    var sparsity: SparsityRule { .elementwise }

    /// The value f′ reads: the output if the primitive saves it, else the input.
    func derivativeSource(_ ctx: RuleContext) -> AnyTensor { savesOutput ? ctx.output : ctx.input(0) }

    /// The fused kernel, when it exists and the route is allowed.
    private var fusedRoute: FusedDerivative? {
        guard let fused, Routes.take(.fused, self) else { return nil }
        return fused
    }

    /// v ⊙ f′(s).
    private func scale(_ v: AnyTensor, _ ctx: RuleContext) -> AnyTensor {
        if fusedRoute != nil { return derivativeProduct(v, derivativeSource(ctx), self) }
        return v * derivative(derivativeSource(ctx))
    }
    func vjp(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?] { [scale(cotangent, ctx)] }
    /// ȳ ⊙ f′, written into ȳ's own buffer when the rule's result is not differentiated and the buffer is not
    /// shared (the usual case in a gradient: the cotangent was made by the rule before and passed on), else new.
    func vjpOfOneInput(_ ctx: RuleContext, _ cotangent: consuming AnyTensor) -> AnyTensor? {
        guard let fused, !ctx.isDifferentiable else { return scale(cotangent, ctx) }
        var g = cotangent
        if Routes.attempt(.inPlace, self, { fused.applyInPlace(&g, derivativeSource(ctx)) }) { return g }
        return scale(g, ctx)
    }
    func jvp(_ ctx: RuleContext, _ tangents: [AnyTensor?]) -> AnyTensor? { tangents[0].map { scale($0, ctx) } }
    /// ẋ ⊙ f′ as one kernel on the constants (the derivative-product primitive's value, nothing to record).
    func plainJVP(_ x: AnyTensor, _ tangent: AnyTensor, _ y: AnyTensor, batchShape: [Int]) -> AnyTensor? {
        guard let fused = fusedRoute else { return generalJVP([x], [tangent], y, batchShape: batchShape) }
        return fused.apply(tangent, savesOutput ? y : x)
    }
    func plainJVP(_ x: AnyTensor, tangentBuffer: Storage, _ y: AnyTensor) -> Storage? {
        guard let fused = fusedRoute else { return plainJVPOnTensors(x, tangentBuffer: tangentBuffer, y) }
        return fused.apply(tangentBuffer, savesOutput ? y : x)
    }
}

/// y = eˣ.  f′(x) = eˣ = y.
struct Exp: ElementwisePrimitive {
    var name: String { "exp" }
    var savesInputs: Bool { false }
    var savesOutput: Bool { true }
    var fused: FusedDerivative? { .identityOfOutput }
    func derivative(_ y: AnyTensor) -> AnyTensor { y }
}

/// y = ln x.  f′(x) = 1 / x.
struct Log: ElementwisePrimitive {
    var name: String { "log" }
    var fused: FusedDerivative? { .reciprocalOfInput }
    func derivative(_ x: AnyTensor) -> AnyTensor { x.reciprocal() }
}

/// y = ln(1 + x), accurate for small x.  f′(x) = 1 / (1 + x).
struct Log1p: ElementwisePrimitive {
    var name: String { "log1p" }
    var fused: FusedDerivative? { .log1pOfInput }
    func derivative(_ x: AnyTensor) -> AnyTensor { (x + 1).reciprocal() }
}

/// y = √x.  f′(x) = 1 / (2√x) = 0.5 / y (infinite at 0, as the true derivative).
struct Sqrt: ElementwisePrimitive {
    var name: String { "sqrt" }
    var savesInputs: Bool { false }
    var savesOutput: Bool { true }
    var fused: FusedDerivative? { .sqrtOfOutput }
    func derivative(_ y: AnyTensor) -> AnyTensor { y.reciprocal() * 0.5 }
}

/// y = sin x.  f′(x) = cos x.
struct Sin: ElementwisePrimitive {
    var name: String { "sin" }
    var fused: FusedDerivative? { .cosOfInput }
    func derivative(_ x: AnyTensor) -> AnyTensor { cos(x) }
}

/// y = cos x.  f′(x) = −sin x.
struct Cos: ElementwisePrimitive {
    var name: String { "cos" }
    var fused: FusedDerivative? { .negativeSinOfInput }
    func derivative(_ x: AnyTensor) -> AnyTensor { -sin(x) }
}

/// y = tanh x.  f′(x) = 1 − y².
struct Tanh: ElementwisePrimitive {
    var name: String { "tanh" }
    var savesInputs: Bool { false }
    var savesOutput: Bool { true }
    var fused: FusedDerivative? { .tanhOfOutput }
    func derivative(_ y: AnyTensor) -> AnyTensor { 1 - y * y }
}

/// y = σ(x) = 1 / (1 + e⁻ˣ).  f′(x) = y (1 − y).
struct Sigmoid: ElementwisePrimitive {
    var name: String { "sigmoid" }
    var savesInputs: Bool { false }
    var savesOutput: Bool { true }
    var fused: FusedDerivative? { .sigmoidOfOutput }
    func derivative(_ y: AnyTensor) -> AnyTensor { y * (1 - y) }
}

/// y = |x|.  f′(x) = sign x, taken as 0 at x = 0 (the subgradient PyTorch and JAX also use).
struct Abs: ElementwisePrimitive {
    var name: String { "abs" }
    var fused: FusedDerivative? { .signOfInput }
    /// Piecewise constant: a kernel on x's value, so its own derivative (f″) is zero.
    func derivative(_ x: AnyTensor) -> AnyTensor { valueFunction("sign", [x]) { v, _ in Kernel.unary(AG_UNARY_SIGN, v[0]) } }
}

/// y = max(x, 0).  f′(x) = 1 for x > 0, else 0; at x = 0 the derivative is taken as 0 (as in PyTorch and JAX),
/// so a unit that is exactly at the kink passes no gradient.
struct Relu: ElementwisePrimitive {
    var name: String { "relu" }
    var fused: FusedDerivative? { .stepOfInput }
    /// Piecewise constant: kernels on x's value, so its own derivative (f″) is zero.
    func derivative(_ x: AnyTensor) -> AnyTensor {
        valueFunction("relu′", [x]) { v, _ in
            Kernel.convert(Kernel.compare(AG_COMPARE_GT, v[0], .zero(like: v[0]), "relu", at: nil), to: v[0].scalarType)
        }
    }
}

/// y = ln(1 + eˣ), computed stably as max(x, 0) + ln(1 + e^−|x|).  f′(x) = σ(x).
struct Softplus: ElementwisePrimitive {
    var name: String { "softplus" }
    var fused: FusedDerivative? { .sigmoidOfInput }
    func derivative(_ x: AnyTensor) -> AnyTensor { sigmoid(x) }
}

/// y = xᵖ for a constant exponent p.  f′(x) = p xᵖ⁻¹ (p = 0 gives 0; p = 1 gives 1).
struct PowScalar: ElementwisePrimitive {
    let exponent: Double
    var name: String { "pow(scalar)" }
    func derivative(_ x: AnyTensor) -> AnyTensor {
        if exponent == 0 { return .zero(like: x) }
        if exponent == 1 { return .filled(1, like: x, shape: []) }
        if exponent == 2 { return x * 2 }  // 2x, without a power kernel
        return x.pow(exponent - 1) * exponent
    }
}

/// y = α x + β for constants α, β (scaling and shifting by scalars).  f′(x) = α.
/// VJP x̄ = α ȳ and JVP ẏ = α ẋ are themselves affine maps, one kernel each.
struct Affine: Primitive {
    let scale: Double
    let shift: Double
    var name: String { scale == 1 ? "add(scalar)" : (shift == 0 ? "multiply(scalar)" : "affine") }
    var sparsity: SparsityRule { .elementwise }
    var savesInputs: Bool { false }
    func vjp(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?] { [cotangent * scale] }
    /// α ȳ, in ȳ's own buffer when nothing differentiates the result and the buffer is not shared.
    func vjpOfOneInput(_ ctx: RuleContext, _ cotangent: consuming AnyTensor) -> AnyTensor? {
        var g = cotangent
        if !ctx.isDifferentiable && Routes.attempt(.inPlace, self, { Kernel.affineInPlace(&g, scale, 0) }) { return g }
        return g * scale
    }
    func jvp(_ ctx: RuleContext, _ tangents: [AnyTensor?]) -> AnyTensor? { tangents[0].map { $0 * scale } }
}

/// y = −x. Linear: JVP ẏ = −ẋ, VJP x̄ = −ȳ.
struct Negate: LinearPrimitive {
    var name: String { "negate" }
    var sparsity: SparsityRule { .elementwise }
    func apply(_ ctx: RuleContext, _ arguments: [AnyTensor?]) -> AnyTensor? { arguments[0].map { -$0 } }
    func transpose(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?] { [-cotangent] }
}

/// y = x converted to another element type (Float ↔ Double). Linear: the transpose converts back.
struct Convert: LinearPrimitive {
    let from: ScalarType
    let to: ScalarType
    var name: String { "convert(\(from)→\(to))" }
    var sparsity: SparsityRule { .elementwise }
    func apply(_ ctx: RuleContext, _ arguments: [AnyTensor?]) -> AnyTensor? { arguments[0].map { $0.converted(to: to) } }
    func transpose(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?] { [cotangent.converted(to: from)] }
}

/// y = x as a new recorded value (used to give a function's input its own node). Linear: ẏ = ẋ, x̄ = ȳ.
struct Identity: LinearPrimitive {
    var name: String { "identity" }
    var sparsity: SparsityRule { .elementwise }
    func apply(_ ctx: RuleContext, _ arguments: [AnyTensor?]) -> AnyTensor? { arguments[0] }
    func transpose(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?] { [cotangent] }
}

// MARK: - Differentiable functions on AnyTensor (used by rules and by the typed API)

@inline(__always)
private func unaryOp<P: Primitive>(_ p: P, _ op: ag_unary_op, _ x: AnyTensor, _ loc: CallSite?) -> AnyTensor {
    record(p, x, Kernel.unary(op, x), at: loc)
}

func exp(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor { unaryOp(Exp(), AG_UNARY_EXP, x, loc) }
func log(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor { unaryOp(Log(), AG_UNARY_LOG, x, loc) }
func log1p(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor { unaryOp(Log1p(), AG_UNARY_LOG1P, x, loc) }
func sqrt(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor { unaryOp(Sqrt(), AG_UNARY_SQRT, x, loc) }
func sin(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor { unaryOp(Sin(), AG_UNARY_SIN, x, loc) }
func cos(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor { unaryOp(Cos(), AG_UNARY_COS, x, loc) }
func tanh(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor { unaryOp(Tanh(), AG_UNARY_TANH, x, loc) }
func sigmoid(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor { unaryOp(Sigmoid(), AG_UNARY_SIGMOID, x, loc) }
func abs(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor { unaryOp(Abs(), AG_UNARY_ABS, x, loc) }
func relu(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor { unaryOp(Relu(), AG_UNARY_RELU, x, loc) }
func softplus(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor { unaryOp(Softplus(), AG_UNARY_SOFTPLUS, x, loc) }

extension AnyTensor {
    /// α x + β.
    func affine(scale: Double, shift: Double, at loc: CallSite? = nil) -> AnyTensor {
        record(Affine(scale: scale, shift: shift), self, Kernel.affine(self, scale, shift), at: loc)
    }

    func pow(_ exponent: Double, at loc: CallSite? = nil) -> AnyTensor {
        if exponent == 2 {
            return record(PowScalar(exponent: 2), self, Kernel.unary(AG_UNARY_SQUARE, self), at: loc)
        }
        let p = AnyTensor.filled(exponent, like: self, shape: [])
        return record(PowScalar(exponent: exponent), self, Kernel.binary(AG_BINARY_POW, self, p, "pow", at: loc),
                      at: loc)
    }

    /// 1 / x, as x^−1.
    func reciprocal() -> AnyTensor {
        record(PowScalar(exponent: -1), self, Kernel.unary(AG_UNARY_RECIPROCAL, self))
    }

    func converted(to type: ScalarType, at loc: CallSite? = nil) -> AnyTensor {
        if type == scalarType { return self }
        return record(Convert(from: scalarType, to: type), self, Kernel.convert(self, to: type), at: loc)
    }

    /// The same value recorded as a new node (reverse mode then has a distinct input to differentiate for).
    func identity() -> AnyTensor { record(Identity(), self, value) }

    static prefix func - (x: AnyTensor) -> AnyTensor { record(Negate(), x, Kernel.unary(AG_UNARY_NEG, x)) }
    static func * (x: AnyTensor, s: Double) -> AnyTensor { s == 1 ? x : x.affine(scale: s, shift: 0) }
    static func * (s: Double, x: AnyTensor) -> AnyTensor { x * s }
    static func + (x: AnyTensor, s: Double) -> AnyTensor { s == 0 ? x : x.affine(scale: 1, shift: s) }
    static func + (s: Double, x: AnyTensor) -> AnyTensor { x + s }
    static func - (x: AnyTensor, s: Double) -> AnyTensor { x + (-s) }
    static func - (s: Double, x: AnyTensor) -> AnyTensor { x.affine(scale: -1, shift: s) }
    static func / (x: AnyTensor, s: Double) -> AnyTensor { x * (1 / s) }

    /// A 0-d (or `shape`-shaped) tensor filled with `value`, of `like`'s element type.
    static func filled(_ value: Double, like: AnyTensor, shape: [Int]) -> AnyTensor {
        Kernel.filled(like.scalarType, shape, value)
    }

    /// A 0-d zero of `like`'s element type.
    static func zero(like: AnyTensor) -> AnyTensor { filled(0, like: like, shape: []) }

    /// Zeros shaped like `like`.
    static func zeros(like: AnyTensor) -> AnyTensor { filled(0, like: like, shape: like.shape) }
}

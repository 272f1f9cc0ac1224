import Foundation
import Testing
import Autograd

// Support for `NestingTests`: every derivative call of the public API as an operator D that takes a function of
// one scalar variable and returns its derivative at a point, so that any call can be put inside any other.

/// A function of one scalar variable (a 0-d tensor in, a 0-d tensor out).
typealias ScalarFunction = (Tensor<Double>) throws -> Tensor<Double>

/// A nesting test's own failure (not an `AutogradError`): a result of the wrong shape, a missing leaf gradient.
struct NestingFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One derivative call of the public API, used as an operator: `derivative(of: φ, at: p)` is φ⁽ᵒʳᵈᵉʳ⁾(p), a 0-d
/// tensor that must carry every derivative state φ captured (so that an enclosing call can differentiate it).
///
/// First-order calls return φ′(p). The calls that compute second derivatives natively come twice: as a first-order
/// operator through a mixed partial (`…MixedPartial`: the Hessian of ψ(q) = φ(q₀)·q₁ at q = (p, 1) is
/// [[φ″, φ′], [φ′, 0]], and its off-diagonal entry is φ′(p)), and natively with `order` 2 (`hessian`, `hvp`,
/// `vhp` of φ itself: φ″(p)).
///
/// Leaf-style calls (`gradientOfWrt…`, `gradientsOfWrt…`, `backward…`) differentiate with respect to a fresh leaf
/// made from the point by `requiringGradient()`, so their point must be a constant (it is in the matrix; the
/// triples use only the functional calls, whose points depend on the enclosing variables).
enum Call: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case jvp                                   // jvp(of:at:tangent:)
    case jvpSeveralInputs                      // jvp(of:at:tangents:), two inputs and two outputs
    case jvpBatched                            // jvp(of:at:tangents:batched: true), a batch of two tangents
    case gradientAtOf                          // gradient(at:of:)
    case gradientsAtOf                         // gradients(at:of:), two inputs
    case gradientOfWrt                         // gradient(of:wrt:), leaf-style, createGraph: false
    case gradientOfWrtCreatingGraph            // gradient(of:wrt:createGraph: true)
    case gradientsOfWrtCreatingGraph           // gradients(of:wrt:createGraph: true), two leaves
    case backward                              // y.backward(), then leaf.gradient
    case backwardCreatingGraph                 // y.backward(createGraph: true), then leaf.gradient
    case vjp                                   // vjp(of:at:cotangent:), a two-element output
    case jacobianForward                       // jacobian(of:at:strategy: .forward), [2] → [2]
    case jacobianReverse                       // jacobian(of:at:strategy: .reverse), [2] → [2]
    case jacobianAutomaticToForward            // .automatic with 1 input element, 2 output elements
    case jacobianAutomaticToReverse            // .automatic with 2 input elements, 1 output element
    case hessianMixedPartial                   // hessian(of:at:) of φ(q₀)·q₁, entry [0, 1]
    case hvpMixedPartial                       // hvp(of:at:vector: e₁) of φ(q₀)·q₁
    case vhpMixedPartial                       // vhp(of:at:vector: e₁) of φ(q₀)·q₁
    case linearizeApply                        // linearize(of:at:), then J(1)
    case linearizeTranspose                    // linearize(of:at:), then J.transpose(1)
    case linearizeMaterialize                  // linearize(of:at:), then J.materialize()
    case jvpByDoubleBackward                   // jvpByDoubleBackward(of:at:tangent:)
    case perExampleGradients                   // perExampleGradients(of:at:), two "examples", w of shape [1]
    case hessian                               // hessian(of:at:) of φ, w of shape [1]: φ″
    case hvp                                   // hvp(of:at:vector: 1): φ″
    case vhp                                   // vhp(of:at:vector: 1): φ″

    var testDescription: String { rawValue }

    /// 1 for φ′, 2 for φ″.
    var order: Int {
        switch self {
        case .hessian, .hvp, .vhp: 2
        default: 1
        }
    }

    /// Leaf-style reverse calls: the function is evaluated by the caller, outside any derivative call, and then
    /// differentiated with respect to a leaf.
    var isLeafStyle: Bool {
        switch self {
        case .gradientOfWrt, .gradientOfWrtCreatingGraph, .gradientsOfWrtCreatingGraph, .backward,
             .backwardCreatingGraph: true
        default: false
        }
    }

    /// Leaf-style calls told not to record their reverse pass (createGraph: false).
    var declinesToRecord: Bool { self == .gradientOfWrt || self == .backward }

    /// φ⁽ᵒʳᵈᵉʳ⁾(point) as a 0-d tensor.
    func derivative(of φ: ScalarFunction, at point: Tensor<Double>) throws -> Tensor<Double> {
        let one = Tensor<Double>(1.0)
        let result: Tensor<Double>
        switch self {
        case .jvp:
            result = try Autograd.jvp(of: φ, at: point, tangent: one).tangent
        case .jvpSeveralInputs:
            // φ(a + b) at a + b = point, tangents 0.25 and 0.75: φ′ · (0.25 + 0.75). A second output rides along.
            let r = try Autograd.jvp(of: { xs in [try φ(xs[0] + xs[1]), xs[0] * xs[1]] },
                                     at: [point - 0.5, Tensor(0.5)], tangents: [Tensor(0.25), Tensor(0.75)])
            result = r.tangents[0]
        case .jvpBatched:
            // Tangents 2 and −1 in one batch: [2φ′, −φ′], summed.
            let r = try Autograd.jvp(of: { xs in [try φ(xs[0])] }, at: [point], tangents: [Tensor([2.0, -1.0])],
                                     batched: true)
            try Self.expectShape(r.tangents[0], [2], "jvp(batched:) tangent")
            result = r.tangents[0].sum()
        case .gradientAtOf:
            result = try Autograd.gradient(at: point, of: φ)
        case .gradientsAtOf:
            let g = try Autograd.gradients(at: [point - 0.5, Tensor(0.5)]) { xs in try φ(xs[0] + xs[1]) }
            result = 0.25 * g[0] + 0.75 * g[1]
        case .gradientOfWrt, .gradientOfWrtCreatingGraph:
            let y = point.requiringGradient()
            result = try Autograd.gradient(of: try φ(y), wrt: y, createGraph: self == .gradientOfWrtCreatingGraph)
        case .gradientsOfWrtCreatingGraph:
            let a = (point - 0.5).requiringGradient(), b = Tensor<Double>(0.5).requiringGradient()
            let g = try Autograd.gradients(of: [try φ(a + b)], wrt: [a, b], createGraph: true)
            result = 0.25 * g[0] + 0.75 * g[1]
        case .backward, .backwardCreatingGraph:
            let y = point.requiringGradient()
            let out = try φ(y)
            // As a training loop does (zero_grad, then backward): a `backward` inside φ accumulates into every leaf
            // it reaches, this one included, which is by definition of `backward` and not what is measured here.
            y.clearGradient()
            try out.backward(createGraph: self == .backwardCreatingGraph)
            guard let g = y.gradient else { throw NestingFailure("backward() left no gradient in the leaf") }
            result = g
        case .vjp:
            // φ(p)·[1, 3] with cotangent [0.25, 0.25]: φ′ · (0.25 + 0.75).
            result = try Autograd.vjp(of: { try φ($0) * Tensor([1.0, 3.0]) }, at: point,
                                      cotangent: Tensor([0.25, 0.25])).vjp
        case .jacobianForward, .jacobianReverse:
            // v ↦ φ(mean v)·[1, 3] at v = [p, p]: J = [[φ′/2, φ′/2], [3φ′/2, 3φ′/2]], whose sum is 4φ′.
            let strategy: JacobianStrategy = self == .jacobianForward ? .forward : .reverse
            let r = try Autograd.valueAndJacobian(of: { v in try φ(v.mean()) * Tensor([1.0, 3.0]) },
                                                  at: point * Tensor([1.0, 1.0]), strategy: strategy)
            try Self.expectShape(r.jacobian, [2, 2], "jacobian")
            result = r.jacobian.sum() * 0.25
        case .jacobianAutomaticToForward:
            let r = try Autograd.valueAndJacobian(of: { try φ($0) * Tensor([1.0, 3.0]) }, at: point,
                                                  strategy: .automatic)
            if r.strategy != .forward { throw NestingFailure(".automatic resolved to \(r.strategy), not .forward") }
            try Self.expectShape(r.jacobian, [2], "jacobian")
            result = (r.jacobian * Tensor([0.25, 0.25])).sum()
        case .jacobianAutomaticToReverse:
            let r = try Autograd.valueAndJacobian(of: { v in try φ(v.mean()) }, at: point * Tensor([1.0, 1.0]),
                                                  strategy: .automatic)
            if r.strategy != .reverse { throw NestingFailure(".automatic resolved to \(r.strategy), not .reverse") }
            try Self.expectShape(r.jacobian, [2], "jacobian")
            result = r.jacobian.sum()
        case .hessianMixedPartial:
            let h = try Autograd.hessian(of: { q in try Self.lift(φ, q) }, at: Self.liftedPoint(point))
            try Self.expectShape(h, [2, 2], "hessian")
            result = (h * Tensor([[0.0, 0.5], [0.5, 0.0]])).sum()
        case .hvpMixedPartial:
            // H·e₁ = [φ′, 0].
            let r = try Autograd.hvp(of: { q in try Self.lift(φ, q) }, at: Self.liftedPoint(point),
                                     vector: Tensor([0.0, 1.0]))
            try Self.expectShape(r, [2], "hvp")
            result = r.sum()
        case .vhpMixedPartial:
            // e₁ᵀH = [φ′, 0].
            let r = try Autograd.vhp(of: { q in try Self.lift(φ, q) }, at: Self.liftedPoint(point),
                                     vector: Tensor([0.0, 1.0]))
            try Self.expectShape(r, [2], "vhp")
            result = r.sum()
        case .linearizeApply:
            result = try Autograd.linearize(of: φ, at: point).linearMap(one)
        case .linearizeTranspose:
            result = try Autograd.linearize(of: φ, at: point).linearMap.transpose(one)
        case .linearizeMaterialize:
            result = try Autograd.linearize(of: φ, at: point).linearMap.materialize()
        case .jvpByDoubleBackward:
            result = try Autograd.jvpByDoubleBackward(of: φ, at: point, tangent: one).tangent
        case .perExampleGradients:
            // Two "examples" φ(w)·[1, 3] of a parameter w of shape [1]: [[φ′], [3φ′]].
            let r = try Autograd.perExampleGradients(of: { w in try φ(w.reshaped(to: [])) * Tensor([1.0, 3.0]) },
                                                     at: point.reshaped(to: [1]))
            try Self.expectShape(r, [2, 1], "perExampleGradients")
            result = r.sum() * 0.25
        case .hessian:
            let h = try Autograd.hessian(of: { w in try φ(w.reshaped(to: [])) }, at: point.reshaped(to: [1]))
            try Self.expectShape(h, [1, 1], "hessian")
            result = h
        case .hvp:
            result = try Autograd.hvp(of: φ, at: point, vector: one)
        case .vhp:
            result = try Autograd.vhp(of: φ, at: point, vector: one)
        }
        guard result.count == 1 else { throw NestingFailure("\(rawValue) returned shape \(result.shape)") }
        return result.reshaped(to: [])
    }

    /// The same, with the function last (for a trailing closure).
    func derivative(at point: Tensor<Double>, of φ: ScalarFunction) throws -> Tensor<Double> {
        try derivative(of: φ, at: point)
    }

    /// ψ(q) = φ(q₀)·q₁, whose Hessian at (p, 1) is [[φ″(p), φ′(p)], [φ′(p), 0]].
    static func lift(_ φ: ScalarFunction, _ q: Tensor<Double>) throws -> Tensor<Double> {
        try φ((q * Tensor([1.0, 0.0])).sum()) * (q * Tensor([0.0, 1.0])).sum()
    }

    /// (p, 1), differentiable in p.
    static func liftedPoint(_ p: Tensor<Double>) -> Tensor<Double> {
        p * Tensor([1.0, 0.0]) + Tensor([0.0, 1.0])
    }

    static func expectShape(_ t: Tensor<Double>, _ shape: [Int], _ what: String) throws {
        if t.shape != shape { throw NestingFailure("\(what) has shape \(t.shape), expected \(shape)") }
    }
}

// MARK: - The functions of the matrix and their closed forms

/// sin, with both rules written out.
struct NestingSine: CustomOperation {
    var name: String { "nestingSine" }
    func forward(_ x: [Tensor<Double>]) -> Tensor<Double> { sin(x[0]) }
    func vjp(_ c: CustomOperationContext<Double>, cotangent: Tensor<Double>) -> [Tensor<Double>?] {
        [cotangent * cos(c.inputs[0])]
    }
    func jvp(_ c: CustomOperationContext<Double>, tangents: [Tensor<Double>?]) -> Tensor<Double>? {
        tangents[0].map { $0 * cos(c.inputs[0]) }
    }
}

/// exp, with only its reverse rule (the forward rule is derived from it).
struct NestingExponential: CustomOperation {
    var name: String { "nestingExponential" }
    func forward(_ x: [Tensor<Double>]) -> Tensor<Double> { exp(x[0]) }
    func vjp(_ c: CustomOperationContext<Double>, cotangent: Tensor<Double>) -> [Tensor<Double>?] {
        [cotangent * exp(c.inputs[0])]
    }
}

/// a · b, with only its forward rule (the reverse rule is derived from it).
struct NestingProduct: CustomOperation {
    var name: String { "nestingProduct" }
    func forward(_ x: [Tensor<Double>]) -> Tensor<Double> { x[0] * x[1] }
    func jvp(_ c: CustomOperationContext<Double>, tangents: [Tensor<Double>?]) -> Tensor<Double>? {
        let a = tangents[0].map { $0 * c.inputs[1] }, b = tangents[1].map { $0 * c.inputs[0] }
        switch (a, b) {
        case let (a?, b?): return a + b
        case let (a?, nil): return a
        case let (nil, b?): return b
        case (nil, nil): return nil
        }
    }
}

/// A function h(x, y) of the outer variable x and the inner variable y, with the closed forms of
///
///     g_q(x) = ∂^q h/∂y^q (x, y₀)        (q = 1: a first-order inner call; q = 2: hessian, hvp or vhp inside)
///
/// and of its first two derivatives in x. The matrix differentiates F(x) = x · g_q(x) with the outer call:
///
///     order 1:  F′(x)  = g_q(x) + x g_q′(x)
///     order 2:  F″(x)  = 2 g_q′(x) + x g_q″(x)
///
/// Were the inner derivative a constant (the outer variable lost inside it), an order-1 outer call would give
/// g_q(x₀) and an order-2 one 0.
struct NestingFunction: Sendable, CustomTestStringConvertible {
    enum Kind: String, Sendable, CaseIterable {
        /// The example: h = x·y, d/dx [x · ∂h/∂y (x, 2)] = 2x = 3 at x = 1.5. For a second-order inner
        /// call, h = x·y²/2, whose ∂²h/∂y² = x gives the same F(x) = x².
        case product
        /// h = sin(x·y)·exp(y) at (0.7, 0.4).
        case sineExponential
        /// The same with the custom operations above (product: forward rule only; sine: both; exp: reverse only).
        case sineExponentialCustom
        /// h = exp(x·y) at (0.9, 0.6): a rule that reuses its output (exp) on a value that depends on both
        /// variables, which a second-order outer call over an inner forward-mode call must differentiate through.
        case exponential
    }

    let kind: Kind
    var testDescription: String { kind.rawValue }
    static let all = Kind.allCases.map(NestingFunction.init)

    var x0: Double {
        switch kind {
        case .product: 1.5
        case .sineExponential, .sineExponentialCustom: 0.7
        case .exponential: 0.9
        }
    }

    var y0: Double {
        switch kind {
        case .product: 2
        case .sineExponential, .sineExponentialCustom: 0.4
        case .exponential: 0.6
        }
    }

    func h(_ x: Tensor<Double>, _ y: Tensor<Double>, innerOrder: Int) -> Tensor<Double> {
        switch kind {
        case .product: innerOrder == 1 ? x * y : x * y * y * 0.5
        case .sineExponential: sin(x * y) * exp(y)
        case .sineExponentialCustom:
            NestingProduct()(NestingSine()(NestingProduct()(x, y)), NestingExponential()(y))
        case .exponential: exp(x * y)
        }
    }

    /// h in plain Double arithmetic (to check the closed forms by finite differences).
    func plainH(_ x: Double, _ y: Double, innerOrder: Int) -> Double {
        switch kind {
        case .product: innerOrder == 1 ? x * y : x * y * y / 2
        case .sineExponential, .sineExponentialCustom: Foundation.sin(x * y) * Foundation.exp(y)
        case .exponential: Foundation.exp(x * y)
        }
    }

    /// g_q(x), g_q′(x), g_q″(x), written out by hand.
    func inner(order q: Int, at x: Double) -> (g: Double, dg: Double, d2g: Double) {
        switch kind {
        case .product:
            return (x, 1, 0)                                   // ∂h/∂y = x (h = xy); ∂²h/∂y² = x (h = xy²/2)
        case .exponential:
            let y = y0, e = Foundation.exp(x * y0)
            if q == 1 { return (x * e, e * (1 + x * y), e * (2 * y + x * y * y)) }     // ∂h/∂y = x e^{xy}
            return (x * x * e, e * (2 * x + x * x * y), e * (2 + 4 * x * y + x * x * y * y))  // ∂²h/∂y² = x² e^{xy}
        case .sineExponential, .sineExponentialCustom:
            let y = y0, e = Foundation.exp(y0), s = Foundation.sin(x * y0), c = Foundation.cos(x * y0)
            if q == 1 {
                // ∂h/∂y = eʸ (x cos xy + sin xy)
                return (e * (x * c + s),
                        e * ((1 + y) * c - x * y * s),
                        e * (-y * (2 + y) * s - x * y * y * c))
            }
            // ∂²h/∂y² = eʸ (2x cos xy + (1 − x²) sin xy)
            return (e * (2 * x * c + (1 - x * x) * s),
                    e * (2 * c - 2 * x * y * s - 2 * x * s + (1 - x * x) * y * c),
                    e * (-4 * y * s - 2 * s - (1 - x * x) * y * y * s - 2 * x * y * y * c - 4 * x * y * c))
        }
    }

    /// The closed form of (outer ∘ inner) at x₀.
    func expected(outerOrder p: Int, innerOrder q: Int) -> Double {
        let (g, dg, d2g) = inner(order: q, at: x0)
        return p == 1 ? g + x0 * dg : 2 * dg + x0 * d2g
    }

    /// What (outer ∘ inner) gives when the inner derivative is held constant (the outer variable lost inside it).
    func withInnerHeldConstant(outerOrder p: Int, innerOrder q: Int) -> Double {
        p == 1 ? inner(order: q, at: x0).g : 0
    }
}

/// Third-derivative functions for the triples, with f‴ written out.
struct TripleFunction: Sendable, CustomTestStringConvertible {
    let name: String
    let x0: Double
    let f: @Sendable (Tensor<Double>) -> Tensor<Double>
    let third: @Sendable (Double) -> Double
    var testDescription: String { name }

    static let all = [
        // f = exp(sin x): f‴ = cos x (cos² x − 3 sin x − 1) e^{sin x}
        TripleFunction(name: "exp(sin x)", x0: 0.6, f: { exp(sin($0)) }, third: { x in
            let s = Foundation.sin(x), c = Foundation.cos(x)
            return c * (c * c - 3 * s - 1) * Foundation.exp(s)
        }),
        // f = log(1 + x²): f‴ = (4x³ − 12x) / (1 + x²)³
        TripleFunction(name: "log(1 + x²)", x0: 0.8, f: { log1p($0 * $0) }, third: { x in
            (4 * x * x * x - 12 * x) / Foundation.pow(1 + x * x, 3)
        }),
        // f = tanh x: f‴ = −2 (1 − tanh² x)(1 − 3 tanh² x)
        TripleFunction(name: "tanh x", x0: 0.5, f: { tanh($0) }, third: { x in
            let t = Foundation.tanh(x)
            return -2 * (1 - t * t) * (1 - 3 * t * t)
        }),
    ]
}

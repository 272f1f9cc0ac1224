import CAutogradKernels
import Foundation

// The activation functions of neural networks, as elementwise primitives of one input (see `ElementwisePrimitive`
// in Elementwise.swift). Each states f′ once, as an expression of its saved input x written with differentiable
// operations, so both rules and every higher derivative follow from it:
//     VJP  x̄ = ȳ ⊙ f′(x)        JVP  ẏ = f′(x) ⊙ ẋ
// Their values are computed by one loop over the elements with the C library's scalar functions (`erf`, `exp`,
// `expm1`, `log1p`, `tanh`), in the element type itself, so Float results are as accurate as Float allows; the
// exact GELU, the activation of transformers, by a vectorized kernel (its f′ too, as a fused derivative).
// Where an activation has a kink (leaky ReLU, ELU with α ≠ 1, at 0) the derivative there is PyTorch's choice,
// stated on the primitive.

/// y = erf x = (2/√π) ∫₀ˣ e^(−t²) dt.  f′(x) = (2/√π) e^(−x²).
struct Erf: ElementwisePrimitive {
    var name: String { "erf" }
    func derivative(_ x: AnyTensor) -> AnyTensor { exp(x.pow(2) * -1) * (2 / Double.pi.squareRoot()) }
}

/// y = x Φ(x) = ½ x erfc(−x/√2), the exact GELU (Φ the standard normal distribution function).
/// f′(x) = Φ(x) + x φ(x) = ½ (1 + erf(x/√2)) + x e^(−x²/2) / √(2π).
struct Gelu: ElementwisePrimitive {
    var name: String { "gelu" }
    var fused: FusedDerivative? { .geluOfInput }
    func derivative(_ x: AnyTensor) -> AnyTensor {
        (erf(x * (1 / 2.0.squareRoot())) + 1) * 0.5 + x * exp(x.pow(2) * -0.5) * (1 / (2 * Double.pi).squareRoot())
    }
}

/// y = ½ x (1 + tanh u), u = √(2/π) (x + 0.044715 x³): GELU's tanh approximation.
/// f′(x) = ½ (1 + tanh u) + ½ x (1 − tanh² u) √(2/π) (1 + 3 · 0.044715 x²).
struct GeluTanh: ElementwisePrimitive {
    static let c = (2 / Double.pi).squareRoot(), k = 0.044715
    var name: String { "gelu(tanh)" }
    func derivative(_ x: AnyTensor) -> AnyTensor {
        let t = tanh((x + x.pow(3) * Self.k) * Self.c)
        return (t + 1) * 0.5 + x * (1 - t.pow(2)) * (x.pow(2) * (3 * Self.k * Self.c) + Self.c) * 0.5
    }
}

/// y = x σ(x) (SiLU, also called swish).  f′(x) = σ(x) (1 + x (1 − σ(x))).
struct Silu: ElementwisePrimitive {
    var name: String { "silu" }
    func derivative(_ x: AnyTensor) -> AnyTensor {
        let s = sigmoid(x)
        return s * (x * (1 - s) + 1)
    }
}

/// y = x for x > 0, else s x (leaky ReLU with negative slope s).  f′(x) = 1 for x > 0, else s; at x = 0 the
/// derivative is s, as in PyTorch.
struct LeakyRelu: ElementwisePrimitive {
    let slope: Double
    var name: String { "leakyRelu" }
    /// Piecewise constant: kernels on x's value, so its own derivative (f″) is zero.
    func derivative(_ x: AnyTensor) -> AnyTensor {
        let (name, slope) = (self.name, self.slope)
        return valueFunction(name + "′", [x]) { v, _ in
            let positive = Kernel.compare(AG_COMPARE_GT, v[0], .zero(like: v[0]), name, at: nil)
            return Kernel.select(positive, .filled(1, like: v[0], shape: []), .filled(slope, like: v[0], shape: []),
                                 name, at: nil)
        }
    }
}

/// y = x for x > 0, else α (eˣ − 1) (ELU).  f′(x) = 1 for x > 0, else α eˣ; at x = 0 the derivative is α, as in
/// PyTorch (continuous when α = 1). The exponential is taken of min(x, 0) so that it never overflows where it is
/// not used (an infinity there would turn a zero second derivative into NaN).
struct Elu: ElementwisePrimitive {
    let alpha: Double
    var name: String { "elu" }
    func derivative(_ x: AnyTensor) -> AnyTensor {
        let name = self.name
        let positive = valueFunction("elu mask", [x]) { v, _ in
            Kernel.compare(AG_COMPARE_GT, v[0], .zero(like: v[0]), name, at: nil)
        }
        let negativePart = select(positive, .zero(like: x), x)
        return select(positive, .filled(1, like: x, shape: []), exp(negativePart) * alpha)
    }
}

/// y = ln σ(x) = −softplus(−x), computed stably as min(x, 0) − ln(1 + e^−|x|).  f′(x) = σ(−x) = 1 − σ(x).
struct LogSigmoid: ElementwisePrimitive {
    var name: String { "logSigmoid" }
    func derivative(_ x: AnyTensor) -> AnyTensor { sigmoid(-x) }
}

// MARK: - Values

/// y = f(x) elementwise, one loop in x's element type (`f32` for Float, `f64` for Double).
private func mapElements(_ x: AnyTensor, _ f32: @escaping (Float) -> Float,
                         _ f64: @escaping (Double) -> Double) -> AnyTensor {
    let y = AnyTensor(uninitialized: x.scalarType, shape: x.shape)
    let n = x.count
    switch x.scalarType {
    case .float32:
        Kernel.launch("activation", x.storage, y.storage, (n, f32)) { p, q in
            let s = p.f32(0), d = p.f32(1)
            for i in 0..<q.0 { d[i] = q.1(s[i]) }
        }
    case .float64:
        Kernel.launch("activation", x.storage, y.storage, (n, f64)) { p, q in
            let s = p.f64(0), d = p.f64(1)
            for i in 0..<q.0 { d[i] = q.1(s[i]) }
        }
    case .bool, .int32: Kernel.noKernel("an activation function", x.scalarType)
    }
    return y
}

/// The scalar formulas, written once for both element types.
private enum ScalarActivation {
    static func geluTanh<T: BinaryFloatingPoint>(_ x: T, _ tanh: (T) -> T) -> T {
        let u = T(GeluTanh.c) * (x + T(GeluTanh.k) * x * x * x)
        return x * (1 + tanh(u)) / 2
    }
    static func silu<T: BinaryFloatingPoint>(_ x: T, _ exp: (T) -> T) -> T { x / (1 + exp(-x)) }
    static func elu<T: BinaryFloatingPoint>(_ x: T, _ alpha: T, _ expm1: (T) -> T) -> T { x > 0 ? x : alpha * expm1(x) }
    static func logSigmoid<T: BinaryFloatingPoint>(_ x: T, _ exp: (T) -> T, _ log1p: (T) -> T) -> T {
        Swift.min(x, 0) - log1p(exp(-Swift.abs(x)))
    }
}

func erf(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    record(Erf(), x, mapElements(x, { Foundation.erf($0) }, { Foundation.erf($0) }), at: loc)
}

/// The exact GELU's values come from the vectorized kernel (Float: within 6 ulp, the tail Φ(x) for x < 0 to its
/// relative accuracy; Double: the C library's erfc).
func gelu(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    record(Gelu(), x, Kernel.unary(AG_UNARY_GELU, x), at: loc)
}

func geluTanh(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    record(GeluTanh(), x, mapElements(x, { ScalarActivation.geluTanh($0) { Foundation.tanh($0) } },
                                      { ScalarActivation.geluTanh($0) { Foundation.tanh($0) } }), at: loc)
}

func silu(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    record(Silu(), x, mapElements(x, { ScalarActivation.silu($0) { Foundation.exp($0) } },
                                  { ScalarActivation.silu($0) { Foundation.exp($0) } }), at: loc)
}

func leakyRelu(_ x: AnyTensor, slope: Double, at loc: CallSite? = nil) -> AnyTensor {
    let s32 = Float(slope)
    return record(LeakyRelu(slope: slope), x, mapElements(x, { $0 > 0 ? $0 : s32 * $0 }, { $0 > 0 ? $0 : slope * $0 }),
                  at: loc)
}

func elu(_ x: AnyTensor, alpha: Double, at loc: CallSite? = nil) -> AnyTensor {
    let a32 = Float(alpha)
    return record(Elu(alpha: alpha), x, mapElements(x, { ScalarActivation.elu($0, a32) { Foundation.expm1($0) } },
                                                    { ScalarActivation.elu($0, alpha) { Foundation.expm1($0) } }),
                  at: loc)
}

func logSigmoid(_ x: AnyTensor, at loc: CallSite? = nil) -> AnyTensor {
    record(LogSigmoid(), x, mapElements(x, { ScalarActivation.logSigmoid($0, { Foundation.exp($0) }, { Foundation.log1p($0) }) },
                                        { ScalarActivation.logSigmoid($0, { Foundation.exp($0) }, { Foundation.log1p($0) }) }),
           at: loc)
}

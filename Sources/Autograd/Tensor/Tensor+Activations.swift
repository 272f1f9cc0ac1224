// Activation functions of neural networks. Each is an elementwise primitive whose rules follow from f′(x):
//     VJP  x̄ = ȳ ⊙ f′(x)        JVP  ẏ = f′(x) ⊙ ẋ
// Same conventions as Tensor+Elementwise.swift: a free function that records the caller's file and line, a method
// spelling, and (for those without parameters) a plain form that can be passed as a `(Tensor) -> Tensor` value.
// Cost of each: one pass over the elements for the value, a few elementwise kernels for a derivative.

/// The form of GELU to compute: the exact one, x Φ(x), or PyTorch's `approximate="tanh"`.
public enum GELUApproximation: Sendable, Hashable {
    /// x Φ(x) = ½ x (1 + erf(x/√2)), Φ the standard normal distribution function (PyTorch's default,
    /// `approximate="none"`).
    case exact
    /// ½ x (1 + tanh(√(2/π) (x + 0.044715 x³))), within about 5·10⁻⁴ of the exact form (GPT-2's and BERT's).
    case tanh
}

/// The error function erf x = (2/√π) ∫₀ˣ e^(−t²) dt elementwise, accurate to the C library's `erf` (a few ulps in
/// Float and Double). Primitive `erf`; f′(x) = (2/√π) e^(−x²).
public func erf<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID,
                                      line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: erf(x.base, at: CallSite(file: file, line: line)))
}

/// The Gaussian error linear unit elementwise: exact, gelu(x) = x Φ(x) = ½ x erfc(−x/√2), or its tanh
/// approximation. Primitive `gelu` or `gelu(tanh)`; exact f′(x) = Φ(x) + x φ(x), φ the standard normal density.
/// The exact form stays accurate for large negative x (its tiny tail keeps its relative accuracy): in Float a
/// vectorized kernel within 6 ulp, for the value and for f′ (one fused kernel in a gradient); in Double `erfc`.
public func gelu<Scalar: TensorScalar>(_ x: Tensor<Scalar>, approximation: GELUApproximation = .exact,
                                       file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    switch approximation {
    case .exact: return Tensor(unchecked: gelu(x.base, at: loc))
    case .tanh: return Tensor(unchecked: geluTanh(x.base, at: loc))
    }
}

/// The sigmoid linear unit (swish) silu(x) = x σ(x) = x / (1 + e⁻ˣ) elementwise. Primitive `silu`;
/// f′(x) = σ(x) (1 + x (1 − σ(x))).
public func silu<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID,
                                       line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: silu(x.base, at: CallSite(file: file, line: line)))
}

/// Leaky ReLU elementwise: x for x > 0, `negativeSlope` · x otherwise (PyTorch's default slope 0.01).
/// Primitive `leakyRelu`; f′(x) = 1 for x > 0, else the slope (also at 0, as PyTorch).
public func leakyRelu<Scalar: TensorScalar>(_ x: Tensor<Scalar>, negativeSlope: Scalar = 0.01,
                                            file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: leakyRelu(x.base, slope: negativeSlope.doubleValue, at: CallSite(file: file, line: line)))
}

/// The exponential linear unit elementwise: x for x > 0, α (eˣ − 1) otherwise (computed with `expm1`).
/// Primitive `elu`; f′(x) = 1 for x > 0, else α eˣ (α at 0, as PyTorch). Stops if α is not finite.
public func elu<Scalar: TensorScalar>(_ x: Tensor<Scalar>, alpha: Scalar = 1, file: StaticString = #fileID,
                                      line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    if !alpha.isFinite {
        operationFailure("elu(_:alpha:)", "alpha is \(alpha) but must be a finite number (1 is the usual choice)",
                         at: loc)
    }
    return Tensor(unchecked: elu(x.base, alpha: alpha.doubleValue, at: loc))
}

/// ln σ(x) elementwise, computed stably as min(x, 0) − ln(1 + e^−|x|): finite for every finite x (−1000 gives
/// −1000, where ln of a computed σ would give −∞). Primitive `logSigmoid`; f′(x) = σ(−x).
public func logSigmoid<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID,
                                             line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: logSigmoid(x.base, at: CallSite(file: file, line: line)))
}

/// `erf` as a value of type `(Tensor) -> Tensor`, for passing to a transform. Named calls use
/// ``erf(_:file:line:)``, which records the caller's location.
@_disfavoredOverload
public func erf<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> { Tensor(unchecked: erf(x.base, at: nil)) }

/// Exact `gelu` as a value of type `(Tensor) -> Tensor`, for passing to a transform. Named calls use
/// ``gelu(_:approximation:file:line:)``.
@_disfavoredOverload
public func gelu<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> { Tensor(unchecked: gelu(x.base, at: nil)) }

/// `silu` as a value of type `(Tensor) -> Tensor`, for passing to a transform. Named calls use
/// ``silu(_:file:line:)``.
@_disfavoredOverload
public func silu<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> { Tensor(unchecked: silu(x.base, at: nil)) }

/// `logSigmoid` as a value of type `(Tensor) -> Tensor`, for passing to a transform. Named calls use
/// ``logSigmoid(_:file:line:)``.
@_disfavoredOverload
public func logSigmoid<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor(unchecked: logSigmoid(x.base, at: nil))
}

extension Tensor where Scalar: TensorScalar {
    /// erf x elementwise: the method spelling of ``erf(_:file:line:)``.
    public func erf(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.erf(self, file: file, line: line)
    }

    /// GELU elementwise: the method spelling of ``gelu(_:approximation:file:line:)``.
    public func gelu(approximation: GELUApproximation = .exact, file: StaticString = #fileID,
                     line: UInt = #line) -> Tensor {
        Autograd.gelu(self, approximation: approximation, file: file, line: line)
    }

    /// x σ(x) elementwise: the method spelling of ``silu(_:file:line:)``.
    public func silu(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.silu(self, file: file, line: line)
    }

    /// Leaky ReLU elementwise: the method spelling of ``leakyRelu(_:negativeSlope:file:line:)``.
    public func leakyRelu(negativeSlope: Scalar = 0.01, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.leakyRelu(self, negativeSlope: negativeSlope, file: file, line: line)
    }

    /// ELU elementwise: the method spelling of ``elu(_:alpha:file:line:)``.
    public func elu(alpha: Scalar = 1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.elu(self, alpha: alpha, file: file, line: line)
    }

    /// ln σ(x) elementwise: the method spelling of ``logSigmoid(_:file:line:)``.
    public func logSigmoid(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.logSigmoid(self, file: file, line: line)
    }
}

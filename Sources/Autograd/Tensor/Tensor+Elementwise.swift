// Elementwise functions. Each is a primitive whose two rules follow from its derivative f′(x):
//     VJP  x̄ = ȳ ⊙ f′(x)        JVP  ẏ = f′(x) ⊙ ẋ
// Each takes the caller's file and line, reported if anomaly detection finds a NaN or infinity there.
// Each has both spellings, `exp(x)` and `x.exp()`, and a plain form without the file and line, so that the function
// itself can be passed where a `(Tensor) -> Tensor` is wanted (`gradient(at: x, of: sin)`). Calls made by name
// prefer the form that captures the caller's location (the plain one is `@_disfavoredOverload`).

/// eˣ elementwise. Primitive `exp`; f′(x) = eˣ. Overflows to +∞ above about 88.7 (Float) or 709.8 (Double).
public func exp<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: exp(x.base, at: CallSite(file: file, line: line)))
}

/// Natural logarithm ln x elementwise (−∞ at 0, NaN below). Primitive `log`; f′(x) = 1/x.
public func log<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: log(x.base, at: CallSite(file: file, line: line)))
}

/// ln(1 + x) elementwise, accurate for small |x|. Primitive `log1p`; f′(x) = 1/(1 + x).
public func log1p<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: log1p(x.base, at: CallSite(file: file, line: line)))
}

/// √x elementwise. Primitive `sqrt`; f′(x) = 1/(2√x), infinite at 0.
public func sqrt<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: sqrt(x.base, at: CallSite(file: file, line: line)))
}

/// sin x elementwise (radians). Primitive `sin`; f′(x) = cos x.
public func sin<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: sin(x.base, at: CallSite(file: file, line: line)))
}

/// cos x elementwise (radians). Primitive `cos`; f′(x) = −sin x.
public func cos<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: cos(x.base, at: CallSite(file: file, line: line)))
}

/// tanh x elementwise. Primitive `tanh`; f′(x) = 1 − tanh²x (computed from the saved output).
public func tanh<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: tanh(x.base, at: CallSite(file: file, line: line)))
}

/// The logistic function σ(x) = 1/(1 + e⁻ˣ) elementwise, computed without overflow for any x.
/// Primitive `sigmoid`; f′(x) = σ(x)(1 − σ(x)) (computed from the saved output).
public func sigmoid<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: sigmoid(x.base, at: CallSite(file: file, line: line)))
}

/// max(x, 0) elementwise. Primitive `relu`; f′(x) = 1 for x > 0 and 0 for x < 0. At x = 0, where relu has no
/// derivative, this library uses 0 (as PyTorch and JAX do): a unit exactly at the kink passes no gradient.
public func relu<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: relu(x.base, at: CallSite(file: file, line: line)))
}

/// ln(1 + eˣ) elementwise, computed stably as max(x, 0) + ln(1 + e^−|x|) (finite for every finite x).
/// Primitive `softplus`; f′(x) = σ(x).
public func softplus<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: softplus(x.base, at: CallSite(file: file, line: line)))
}

/// |x| elementwise. Primitive `abs`; f′(x) = sign x, with f′(0) = 0 (the subgradient PyTorch and JAX use).
public func abs<Scalar: TensorScalar>(_ x: Tensor<Scalar>, file: StaticString = #fileID, line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: abs(x.base, at: CallSite(file: file, line: line)))
}

/// xᵖ elementwise for a constant exponent. Primitive `pow(scalar)`; f′(x) = p xᵖ⁻¹.
/// For negative x, non-integer p gives NaN (as the C library's `pow`).
public func pow<Scalar: TensorScalar>(_ x: Tensor<Scalar>, _ exponent: Scalar, file: StaticString = #fileID,
                                      line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: x.base.pow(exponent.doubleValue, at: CallSite(file: file, line: line)))
}

/// aᵇ elementwise, broadcasting. Primitive `pow`: ∂/∂a = b aᵇ⁻¹, ∂/∂b = aᵇ ln a (taken as 0 where a = 0).
public func pow<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, file: StaticString = #fileID,
                                      line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: power(a.base, b.base, at: CallSite(file: file, line: line)))
}

/// The elementwise maximum of two tensors, broadcasting. Primitive `maximum`: the derivative goes to the larger
/// operand; at a tie it is split ½ and ½ (which is what a central finite difference measures).
public func maximum<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, file: StaticString = #fileID,
                                          line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: maximum(a.base, b.base, at: CallSite(file: file, line: line)))
}

/// The elementwise minimum of two tensors, broadcasting. Primitive `minimum`; ties split the derivative ½ and ½.
public func minimum<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, file: StaticString = #fileID,
                                          line: UInt = #line) -> Tensor<Scalar> {
    Tensor(unchecked: minimum(a.base, b.base, at: CallSite(file: file, line: line)))
}

/// max(x, s) elementwise for a constant s. Primitive `maximum` against a 0-d constant.
public func maximum<Scalar: TensorScalar>(_ x: Tensor<Scalar>, _ s: Scalar, file: StaticString = #fileID,
                                          line: UInt = #line) -> Tensor<Scalar> {
    maximum(x, Tensor(s), file: file, line: line)
}

/// min(x, s) elementwise for a constant s. Primitive `minimum` against a 0-d constant.
public func minimum<Scalar: TensorScalar>(_ x: Tensor<Scalar>, _ s: Scalar, file: StaticString = #fileID,
                                          line: UInt = #line) -> Tensor<Scalar> {
    minimum(x, Tensor(s), file: file, line: line)
}

extension Tensor where Scalar: TensorScalar {
    /// Limits every element to `[lower, upper]`. Composite of `where`: elements inside the interval (including
    /// the bounds) pass their derivative through unchanged (1), elements outside get 0, as PyTorch's `clamp`.
    public func clamped(min lower: Scalar, max upper: Scalar, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        if lower > upper {
            operationFailure("clamped(min:max:)", "lower bound \(lower) is above upper bound \(upper)",
                             at: CallSite(file: file, line: line))
        }
        let lo = Tensor(lower), hi = Tensor(upper)
        return Tensor.where(self .< lo, lo, Tensor.where(self .> hi, hi, self))
    }

    /// x², elementwise. Primitive `pow(scalar)` with p = 2.
    public func squared() -> Tensor { Tensor(unchecked: base.pow(2)) }
}

// MARK: - Functions as values and method spellings

/// `exp` as a value of type `(Tensor) -> Tensor`, for passing to a transform (`gradient(at: x, of: exp)`).
/// The same as ``exp(_:file:line:)``; named calls use that form, which records the caller's location.
@_disfavoredOverload
public func exp<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor(unchecked: exp(x.base, at: nil))
}

/// `log` as a value of type `(Tensor) -> Tensor`, for passing to a transform (`gradient(at: x, of: log)`).
/// The same as ``log(_:file:line:)``; named calls use that form, which records the caller's location.
@_disfavoredOverload
public func log<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor(unchecked: log(x.base, at: nil))
}

/// `log1p` as a value of type `(Tensor) -> Tensor`, for passing to a transform (`gradient(at: x, of: log1p)`).
/// The same as ``log1p(_:file:line:)``; named calls use that form, which records the caller's location.
@_disfavoredOverload
public func log1p<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor(unchecked: log1p(x.base, at: nil))
}

/// `sqrt` as a value of type `(Tensor) -> Tensor`, for passing to a transform (`gradient(at: x, of: sqrt)`).
/// The same as ``sqrt(_:file:line:)``; named calls use that form, which records the caller's location.
@_disfavoredOverload
public func sqrt<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor(unchecked: sqrt(x.base, at: nil))
}

/// `sin` as a value of type `(Tensor) -> Tensor`, for passing to a transform (`gradient(at: x, of: sin)`).
/// The same as ``sin(_:file:line:)``; named calls use that form, which records the caller's location.
@_disfavoredOverload
public func sin<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor(unchecked: sin(x.base, at: nil))
}

/// `cos` as a value of type `(Tensor) -> Tensor`, for passing to a transform (`gradient(at: x, of: cos)`).
/// The same as ``cos(_:file:line:)``; named calls use that form, which records the caller's location.
@_disfavoredOverload
public func cos<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor(unchecked: cos(x.base, at: nil))
}

/// `tanh` as a value of type `(Tensor) -> Tensor`, for passing to a transform (`gradient(at: x, of: tanh)`).
/// The same as ``tanh(_:file:line:)``; named calls use that form, which records the caller's location.
@_disfavoredOverload
public func tanh<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor(unchecked: tanh(x.base, at: nil))
}

/// `sigmoid` as a value of type `(Tensor) -> Tensor`, for passing to a transform (`gradient(at: x, of: sigmoid)`).
/// The same as ``sigmoid(_:file:line:)``; named calls use that form, which records the caller's location.
@_disfavoredOverload
public func sigmoid<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor(unchecked: sigmoid(x.base, at: nil))
}

/// `relu` as a value of type `(Tensor) -> Tensor`, for passing to a transform (`gradient(at: x, of: relu)`).
/// The same as ``relu(_:file:line:)``; named calls use that form, which records the caller's location.
@_disfavoredOverload
public func relu<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor(unchecked: relu(x.base, at: nil))
}

/// `softplus` as a value of type `(Tensor) -> Tensor`, for passing to a transform (`gradient(at: x, of: softplus)`).
/// The same as ``softplus(_:file:line:)``; named calls use that form, which records the caller's location.
@_disfavoredOverload
public func softplus<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor(unchecked: softplus(x.base, at: nil))
}

/// `abs` as a value of type `(Tensor) -> Tensor`, for passing to a transform (`gradient(at: x, of: abs)`).
/// The same as ``abs(_:file:line:)``; named calls use that form, which records the caller's location.
@_disfavoredOverload
public func abs<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    Tensor(unchecked: abs(x.base, at: nil))
}

extension Tensor where Scalar: TensorScalar {
    /// eˣ elementwise: the method spelling of ``exp(_:file:line:)`` (`x.exp()` is `exp(x)`).
    public func exp(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.exp(self, file: file, line: line)
    }

    /// ln x elementwise: the method spelling of ``log(_:file:line:)`` (`x.log()` is `log(x)`).
    public func log(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.log(self, file: file, line: line)
    }

    /// ln(1 + x) elementwise: the method spelling of ``log1p(_:file:line:)`` (`x.log1p()` is `log1p(x)`).
    public func log1p(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.log1p(self, file: file, line: line)
    }

    /// √x elementwise: the method spelling of ``sqrt(_:file:line:)`` (`x.sqrt()` is `sqrt(x)`).
    public func sqrt(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.sqrt(self, file: file, line: line)
    }

    /// sin x elementwise: the method spelling of ``sin(_:file:line:)`` (`x.sin()` is `sin(x)`).
    public func sin(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.sin(self, file: file, line: line)
    }

    /// cos x elementwise: the method spelling of ``cos(_:file:line:)`` (`x.cos()` is `cos(x)`).
    public func cos(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.cos(self, file: file, line: line)
    }

    /// tanh x elementwise: the method spelling of ``tanh(_:file:line:)`` (`x.tanh()` is `tanh(x)`).
    public func tanh(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.tanh(self, file: file, line: line)
    }

    /// σ(x) elementwise: the method spelling of ``sigmoid(_:file:line:)`` (`x.sigmoid()` is `sigmoid(x)`).
    public func sigmoid(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.sigmoid(self, file: file, line: line)
    }

    /// max(x, 0) elementwise: the method spelling of ``relu(_:file:line:)`` (`x.relu()` is `relu(x)`).
    public func relu(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.relu(self, file: file, line: line)
    }

    /// ln(1 + eˣ) elementwise: the method spelling of ``softplus(_:file:line:)`` (`x.softplus()` is `softplus(x)`).
    public func softplus(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.softplus(self, file: file, line: line)
    }

    /// |x| elementwise: the method spelling of ``abs(_:file:line:)`` (`x.abs()` is `abs(x)`).
    public func abs(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Autograd.abs(self, file: file, line: line)
    }
}

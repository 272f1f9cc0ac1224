// Arithmetic operators. All broadcast their operands with NumPy's rules: shapes are aligned at the right, and each
// pair of dimensions must be equal or one of them 1 (a missing dimension counts as 1). The result has the
// broadcast shape; derivatives are summed back to each operand's own shape.

extension Tensor where Scalar: TensorScalar {
    /// Elementwise sum a + b, broadcasting. Primitive `add` (linear): ā = ȳ, b̄ = ȳ, each summed to its shape.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { Tensor(unchecked: lhs.base + rhs.base) }
    /// Elementwise difference a − b, broadcasting. Primitive `subtract` (linear): ā = ȳ, b̄ = −ȳ.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { Tensor(unchecked: lhs.base - rhs.base) }
    /// Elementwise (Hadamard) product a ⊙ b, broadcasting; not the matrix product (see ``Autograd/matmul(_:_:transposeA:transposeB:file:line:)``).
    /// Primitive `multiply`: ā = ȳ ⊙ b, b̄ = ȳ ⊙ a; ẏ = ȧ ⊙ b + a ⊙ ḃ.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { Tensor(unchecked: lhs.base * rhs.base) }
    /// Elementwise quotient a / b, broadcasting. Primitive `divide`: ā = ȳ / b, b̄ = −ȳ ⊙ a / b².
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { Tensor(unchecked: lhs.base / rhs.base) }
    /// Elementwise negation −x. Primitive `negate` (linear).
    public static prefix func - (x: Tensor) -> Tensor { Tensor(unchecked: -x.base) }

    /// x + s for every element. Primitive `affine` (y = αx + β with α = 1): x̄ = ȳ.
    public static func + (lhs: Tensor, rhs: Scalar) -> Tensor { Tensor(unchecked: lhs.base + rhs.doubleValue) }
    /// s + x for every element; shaped like x. Primitive `affine` (α = 1, β = s): x̄ = ȳ, ẏ = ẋ.
    public static func + (lhs: Scalar, rhs: Tensor) -> Tensor { rhs + lhs }
    /// x − s for every element; shaped like x. Primitive `affine` (α = 1, β = −s): x̄ = ȳ, ẏ = ẋ.
    public static func - (lhs: Tensor, rhs: Scalar) -> Tensor { Tensor(unchecked: lhs.base - rhs.doubleValue) }
    /// s − x for every element. Primitive `affine` with α = −1: x̄ = −ȳ.
    public static func - (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(unchecked: lhs.doubleValue - rhs.base) }
    /// x · s for every element. Primitive `affine` (α = s): x̄ = s ȳ.
    public static func * (lhs: Tensor, rhs: Scalar) -> Tensor { Tensor(unchecked: lhs.base * rhs.doubleValue) }
    /// s · x for every element; shaped like x. Primitive `affine` (α = s): x̄ = s ȳ, ẏ = s ẋ.
    public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { rhs * lhs }
    /// x / s for every element (multiplication by 1/s); shaped like x. Primitive `affine` (α = 1/s): x̄ = ȳ / s.
    public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { Tensor(unchecked: lhs.base * (1 / rhs.doubleValue)) }
    /// s / x for every element. Composite: s · x⁻¹ (primitive `pow(scalar)` then `affine`).
    public static func / (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(unchecked: rhs.base.reciprocal() * lhs.doubleValue) }

    /// lhs = lhs + rhs: a new value assigned to `lhs` (tensors are values; nothing is modified in place), recorded
    /// like `+`. Broadcasts, so `lhs` takes the broadcast shape.
    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs = lhs + rhs }
    /// lhs = lhs − rhs (a new value, recorded like `-`; `lhs` takes the broadcast shape).
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs - rhs }
    /// lhs = lhs ⊙ rhs, elementwise (a new value, recorded like `*`; `lhs` takes the broadcast shape).
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs * rhs }
    /// lhs = lhs / rhs, elementwise (a new value, recorded like `/`; `lhs` takes the broadcast shape).
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs / rhs }
    /// lhs = lhs + s for every element (a new value, recorded like `+`).
    public static func += (lhs: inout Tensor, rhs: Scalar) { lhs = lhs + rhs }
    /// lhs = lhs − s for every element (a new value, recorded like `-`).
    public static func -= (lhs: inout Tensor, rhs: Scalar) { lhs = lhs - rhs }
    /// lhs = lhs · s for every element (a new value, recorded like `*`).
    public static func *= (lhs: inout Tensor, rhs: Scalar) { lhs = lhs * rhs }
    /// lhs = lhs / s for every element (a new value, recorded like `/`).
    public static func /= (lhs: inout Tensor, rhs: Scalar) { lhs = lhs / rhs }
}

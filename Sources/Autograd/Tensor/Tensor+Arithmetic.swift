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
    /// x / s for every element; shaped like x. Primitive `divide` by a 0-d constant: each element is rounded
    /// as IEEE division rounds x / s (exactly Swift's `/` on the scalars), not as x · (1/s), which is off by an ulp
    /// for many s (`Tensor<Float>([49]) / 7` is exactly 7) and overflows when 1/s does. x̄ = ȳ / s.
    public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { Tensor(unchecked: lhs.base / Tensor(rhs).base) }
    /// s / x for every element; shaped like x. Primitive `divide` with a 0-d constant numerator (rounded as Swift's
    /// `/` on the scalars): x̄ = −ȳ ⊙ s / x².
    public static func / (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(unchecked: Tensor(lhs).base / rhs.base) }

    // Compound assignment. On most tensors `x op= y` is `x = x op y`: a new value (tensors are values; nothing
    // else sees the change), recorded like `op`. On a leaf (a tensor made by `requiringGradient()`) it is the
    // parameter update of a training loop, and follows `torch.no_grad()`: inside `withoutRecording` the leaf's value
    // is replaced and it stays the same leaf (its accumulated gradient too); while recording it stops with a
    // message, since the result would silently be a recorded value that is no longer a leaf (its `gradient` would
    // stay nil). See the article "Recording and leaves".

    /// lhs = lhs + rhs, elementwise. A new value recorded like `+` (`lhs` takes the broadcast shape); on a leaf,
    /// inside ``withoutRecording(_:)``, an update of the leaf's value that keeps it the same leaf (its shape must not
    /// change). Stops on a leaf while recording is on.
    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs.assign("+=") { $0 + rhs } }
    /// lhs = lhs − rhs, elementwise: `w -= lr * w.gradient!` inside ``withoutRecording(_:)`` updates the leaf w in
    /// place (it stays a leaf). Otherwise as `+=`.
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs.assign("-=") { $0 - rhs } }
    /// lhs = lhs ⊙ rhs, elementwise. As `+=`.
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs.assign("*=") { $0 * rhs } }
    /// lhs = lhs / rhs, elementwise. As `+=`.
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs.assign("/=") { $0 / rhs } }
    /// lhs = lhs + s for every element. As `+=`.
    public static func += (lhs: inout Tensor, rhs: Scalar) { lhs.assign("+=") { $0 + rhs } }
    /// lhs = lhs − s for every element. As `+=`.
    public static func -= (lhs: inout Tensor, rhs: Scalar) { lhs.assign("-=") { $0 - rhs } }
    /// lhs = lhs · s for every element. As `+=`.
    public static func *= (lhs: inout Tensor, rhs: Scalar) { lhs.assign("*=") { $0 * rhs } }
    /// lhs = lhs / s for every element. As `+=`.
    public static func /= (lhs: inout Tensor, rhs: Scalar) { lhs.assign("/=") { $0 / rhs } }

    /// `self = operation(self)`, or, on a leaf made by `requiringGradient()`, the leaf update described above.
    private mutating func assign(_ name: String, _ operation: (Tensor) -> Tensor) {
        guard let node = base.node, node.isLeaf else { self = operation(self); return }
        if ADScope.current.recording {
            // Leaves made by the functional calls (no call site) are their inputs; updating one is ordinary math.
            if node.location == nil { self = operation(self); return }
            operationFailure(name, "the left side is a leaf (made by requiringGradient() at \(node.location!)) and "
                + "recording is on, so `\(name)` would replace it with a recorded result that is no longer a leaf, "
                + "and its gradient would stay nil after the next backward(). To update a parameter, write the update "
                + "inside withoutRecording { } (PyTorch's torch.no_grad()): the tensor's value changes and it stays "
                + "the same leaf. To compute a new recorded value from the leaf, write "
                + "`let y = w \(name.dropLast()) …`. See the article \"Recording and leaves\".", at: nil)
        }
        let updated = operation(detached())
        if updated.shape != shape {
            operationFailure(name, "updating a leaf of shape \(describe(shape)) in place would give it shape "
                + "\(describe(updated.shape)) (the operands broadcast to a larger shape); a leaf keeps its shape",
                at: nil)
        }
        base = AnyTensor(storage: updated.base.storage, shape: shape, node: node, tangents: base.tangents)
    }
}

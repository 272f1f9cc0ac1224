// Norms and cumulative sums: reductions and scans whose derivatives need care at zero (a norm) or are a scan in the
// other direction (a cumulative sum).

extension Tensor where Scalar: TensorScalar {
    /// The p-norm of the elements along `axes` (all of them when nil): ‖x‖ₚ = (Σ|xᵢ|ᵖ)^(1/p) for 1 ≤ p < ∞, and
    /// max |xᵢ| for p = ∞. Shape: the input's with those axes removed (or kept as 1).
    ///
    /// Derivative: ∂‖x‖ₚ/∂xᵢ = sign(xᵢ)·(|xᵢ|/‖x‖ₚ)^(p−1) for 1 < p < ∞ (xᵢ/‖x‖ for p = 2); sign(xᵢ) for p = 1; for
    /// p = ∞ it goes to the elements of largest |x|, split evenly among ties. Where x is zero along the axes, every
    /// p gives 0, the subgradient of smallest norm (`sqrt((x * x).sum())` gives NaN there, 0/0).
    /// Primitive `norm` for 1 < p < ∞, computed as m·(Σ(|xᵢ|/m)ᵖ)^(1/p) with m = max |xᵢ| so that nothing
    /// overflows; composites of `abs` with `sum` (p = 1) or `max` (p = ∞). Cost: a few passes over x.
    /// Stops if p < 1 (then it is not a norm) or an axis is out of range.
    public func norm(p: Double = 2, alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false,
                     file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        if !(p >= 1) {
            operationFailure("norm(p:alongAxes:)", "p = \(p) is not a norm order: p must be ≥ 1 (1, 2, or .infinity "
                + "for the largest absolute value)", at: loc)
        }
        let a = Shape.axes(axes ?? Array(0..<rank), rank: rank, "norm(p:alongAxes:)", at: loc)
        if p == 1 || p == .infinity {
            let magnitudes = Autograd.abs(self, file: file, line: line)
            return p == 1 ? magnitudes.sum(alongAxes: a, keepingDimensions: keepingDimensions, file: file, line: line)
                : magnitudes.max(alongAxes: a, keepingDimensions: keepingDimensions, file: file, line: line)
        }
        return Tensor(unchecked: base.norm(p: p, axes: a, keep: keepingDimensions, at: loc))
    }

    /// The Frobenius norm of each matrix, ‖X‖_F = (Σᵢⱼ Xᵢⱼ²)^(1/2): [..., n, m] → [...] (or [..., 1, 1] keeping
    /// dimensions). The 2-norm along the last two axes (see ``norm(p:alongAxes:keepingDimensions:file:line:)``):
    /// X̄ = ȳ·X/‖X‖_F, and 0 at X = 0.
    public func frobeniusNorm(keepingDimensions: Bool = false, file: StaticString = #fileID,
                              line: UInt = #line) -> Tensor {
        if rank < 2 {
            operationFailure("frobeniusNorm()", "the tensor has shape \(describe(shape)); the Frobenius norm needs "
                + "matrices in the last two dimensions ([..., n, m]); for a vector use norm()",
                at: CallSite(file: file, line: line))
        }
        return norm(p: 2, alongAxes: [-2, -1], keepingDimensions: keepingDimensions, file: file, line: line)
    }

    /// Running sums along `axis`: yᵢ = Σ_{j ≤ i} xⱼ, or Σ_{j ≥ i} xⱼ when `reverse` (NumPy `cumsum`, PyTorch
    /// `cumsum`). Same shape as the input.
    ///
    /// Primitive `cumulativeSum` (linear): ẏ = cumulativeSum(ẋ), x̄ = ȳ summed in the opposite direction.
    /// Cost: one addition per element.
    public func cumulativeSum(alongAxis axis: Int, reverse: Bool = false, file: StaticString = #fileID,
                              line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        let a = Shape.axis(axis, rank: rank, "cumulativeSum(alongAxis:)", at: loc)
        return Tensor(unchecked: base.cumulativeSum(axis: a, reverse: reverse, at: loc))
    }
}

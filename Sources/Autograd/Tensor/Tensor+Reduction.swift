// Reductions over all elements or chosen axes. Axes may be negative (counted from the end, as in NumPy).
// Without `keepingDimensions` the reduced axes are removed; with it they stay as size 1, so the result broadcasts
// against the input (handy for `x - x.max(alongAxes: -1, keepingDimensions: true)`).

extension Tensor where Scalar: TensorScalar {
    private func axes(_ axes: [Int], _ op: String, _ file: StaticString, _ line: UInt) -> [Int] {
        Shape.axes(axes, rank: rank, op, at: CallSite(file: file, line: line))
    }

    /// The sum of all elements, a 0-d tensor. Primitive `sum` (linear): x̄ = ȳ broadcast to x's shape.
    public func sum() -> Tensor { Tensor(unchecked: base.sum()) }

    /// Sums along the given axes. Primitive `sum` (linear): ẏ = Σ ẋ over the axes; x̄ = ȳ broadcast back.
    /// Shape: the input's with those axes removed (or kept as 1).
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false,
                    file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let a = self.axes(axes, "sum(alongAxes:)", file, line)
        return Tensor(unchecked: base.sum(axes: a, keep: keepingDimensions, at: CallSite(file: file, line: line)))
    }

    /// Sums along the given axes (variadic form).
    public func sum(alongAxes axes: Int..., keepingDimensions: Bool = false,
                    file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        sum(alongAxes: axes, keepingDimensions: keepingDimensions, file: file, line: line)
    }

    /// The arithmetic mean of all elements, a 0-d tensor (NaN for an empty tensor). Composite: sum / count, the
    /// division rounded as IEEE division (the mean of seven 7s is exactly 7).
    public func mean() -> Tensor { sum() / Scalar(count) }

    /// The mean along the given axes. Composite: sum along the axes / the number of elements summed (an IEEE
    /// division, as Swift's `/`).
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false,
                     file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let a = self.axes(axes, "mean(alongAxes:)", file, line)
        let n = a.reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: a, keepingDimensions: keepingDimensions, file: file, line: line) / Scalar(n)
    }

    /// The mean along the given axes (variadic form).
    public func mean(alongAxes axes: Int..., keepingDimensions: Bool = false,
                     file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        mean(alongAxes: axes, keepingDimensions: keepingDimensions, file: file, line: line)
    }

    /// The largest element, a 0-d tensor (−∞ for an empty tensor; NaN if any element is NaN).
    /// Primitive `max`: the derivative goes to the element that attains the maximum; if several tie, it is split
    /// evenly among them.
    public func max() -> Tensor { max(alongAxes: Array(0..<rank)) }

    /// The maximum along the given axes. Primitive `max` (ties share the derivative evenly).
    public func max(alongAxes axes: [Int], keepingDimensions: Bool = false,
                    file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let a = self.axes(axes, "max(alongAxes:)", file, line)
        return Tensor(unchecked: base.extremum(axes: a, keep: keepingDimensions, maximum: true,
                                               at: CallSite(file: file, line: line)))
    }

    /// The maximum along the given axes (variadic form).
    public func max(alongAxes axes: Int..., keepingDimensions: Bool = false,
                    file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        max(alongAxes: axes, keepingDimensions: keepingDimensions, file: file, line: line)
    }

    /// The smallest element, a 0-d tensor. Primitive `min` (ties share the derivative evenly).
    public func min() -> Tensor { min(alongAxes: Array(0..<rank)) }

    /// The minimum along the given axes. Primitive `min` (ties share the derivative evenly).
    public func min(alongAxes axes: [Int], keepingDimensions: Bool = false,
                    file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let a = self.axes(axes, "min(alongAxes:)", file, line)
        return Tensor(unchecked: base.extremum(axes: a, keep: keepingDimensions, maximum: false,
                                               at: CallSite(file: file, line: line)))
    }

    /// The minimum along the given axes (variadic form).
    public func min(alongAxes axes: Int..., keepingDimensions: Bool = false,
                    file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        min(alongAxes: axes, keepingDimensions: keepingDimensions, file: file, line: line)
    }

    /// ln Σ eˣ over all elements, a 0-d tensor, computed stably (see ``logSumExp(alongAxes:keepingDimensions:file:line:)-([Int],_,_,_)``).
    public func logSumExp() -> Tensor { logSumExp(alongAxes: Array(0..<rank)) }

    /// ln Σ eˣ along the given axes, computed without overflow as m + ln Σ e^(x − m) with m the (detached)
    /// maximum, so it is finite whenever the true value is (inputs of magnitude 1000 and more are fine), and
    /// accurate to a few rounding errors even when one element dominates (ln(e⁰ + e⁻³⁰) = 9.4·10⁻¹⁴, not 0).
    /// Composite of `max`, `exp`, `where`, `sum`, `log`, `log1p`; its derivative is softmax along the axes.
    public func logSumExp(alongAxes axes: [Int], keepingDimensions: Bool = false,
                          file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let a = self.axes(axes, "logSumExp(alongAxes:)", file, line)
        let (m, rest) = logSumExpParts(a, file: file, line: line)
        let lse = m + rest
        return keepingDimensions ? lse : lse.squeezed(alongAxes: a)
    }

    /// ln Σ eˣ along normalized axes `a` (kept as size 1), in two parts, lse = m + r, so that `logSoftmax` can
    /// subtract m from x exactly and r from the difference.
    ///
    /// m is the detached maximum (0 where it is not finite: a row that is empty, all −∞, or holds +∞ or NaN, whose
    /// result ±∞ or NaN then comes out of r). r = ln Σ e^(x − m) is computed as ln T + ln(1 + S/T), where T sums
    /// the terms of the elements equal to the maximum (each e⁰ = 1, so T is their count) and S the terms of the
    /// others (each below 1). Taking ln(1 + S/T) with `log1p` keeps r accurate when S is tiny; the plain
    /// ln(T + S) would round 1 + e⁻³⁰ to 1 and return 0 for a loss of 9.4·10⁻¹⁴, and would pass the rounding
    /// error of m + ln 2 (an ulp of m) on to softmax. T and S are sums of the same exponentials, so derivatives
    /// flow to every element, ties included: ∂r/∂xᵢ = e^(xᵢ − m) / (T + S), the softmax.
    /// Cost: about a dozen elementwise kernels and three reductions.
    func logSumExpParts(_ a: [Int], file: StaticString, line: UInt) -> (shift: Tensor, rest: Tensor) {
        let m0 = max(alongAxes: a, keepingDimensions: true).detached()
        let m = Tensor.where(m0.isFinite, m0, 0)
        let e = Autograd.exp(self - m, file: file, line: line)
        let isTop = self .== m0
        let top = Tensor.where(isTop, e, 0).sum(alongAxes: a, keepingDimensions: true)
        let others = Tensor.where(isTop, 0, e).sum(alongAxes: a, keepingDimensions: true)
        // T is 0 only for a row that is empty or all −∞; S is 0 there too, and r = ln 0 + ln(1 + 0) = −∞.
        let safeTop = Tensor.where(top .> 0, top, 1)
        return (m, Autograd.log(top, file: file, line: line) + Autograd.log1p(others / safeTop, file: file, line: line))
    }

    /// ln Σ eˣ along the given axes (variadic form).
    public func logSumExp(alongAxes axes: Int..., keepingDimensions: Bool = false,
                          file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        logSumExp(alongAxes: axes, keepingDimensions: keepingDimensions, file: file, line: line)
    }
}

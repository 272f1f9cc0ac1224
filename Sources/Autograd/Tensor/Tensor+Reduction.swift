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

    /// The arithmetic mean of all elements, a 0-d tensor (NaN for an empty tensor). Composite: sum / count.
    public func mean() -> Tensor { sum() / Scalar(count) }

    /// The mean along the given axes. Composite: sum along the axes / the number of elements summed.
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
    /// maximum, so it is finite whenever the true value is (inputs of magnitude 1000 and more are fine).
    /// Composite of `max`, `exp`, `sum`, `log`; its derivative is softmax along the axes.
    public func logSumExp(alongAxes axes: [Int], keepingDimensions: Bool = false,
                          file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let a = self.axes(axes, "logSumExp(alongAxes:)", file, line)
        let m0 = max(alongAxes: a, keepingDimensions: true).detached()
        // A row that is all −∞ (or has +∞) would make x − m NaN; shift by 0 there instead.
        let m = Tensor.where(m0.isFinite, m0, 0)
        let lse = log(exp(self - m).sum(alongAxes: a, keepingDimensions: true)) + m
        return keepingDimensions ? lse : lse.squeezed(alongAxes: a)
    }

    /// ln Σ eˣ along the given axes (variadic form).
    public func logSumExp(alongAxes axes: Int..., keepingDimensions: Bool = false,
                          file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        logSumExp(alongAxes: axes, keepingDimensions: keepingDimensions, file: file, line: line)
    }
}

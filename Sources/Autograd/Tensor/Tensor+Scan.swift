// Scans and products along axes: cumulative products, log-cumulative-sum-exp, and products. All three are built
// on the `linearRecurrence` primitive (zᵢ = cᵢ·zᵢ₋₁ + aᵢ), whose rules run the same recurrence again and never
// divide, so their derivatives are right where the input has zeros and cost O(n) per line.

extension Tensor where Scalar: TensorScalar {
    /// Running products along `axis`: yᵢ = Π_{j ≤ i} xⱼ, or Π_{j ≥ i} xⱼ when `reverse` (NumPy `cumprod`, PyTorch
    /// `cumprod`). Same shape as the input.
    ///
    /// The recurrence yᵢ = xᵢ·yᵢ₋₁ (primitive `linearRecurrence` with c = x, driven by x's first element). Its
    /// derivative ∂yᵢ/∂xₖ = Π_{j ≤ i, j ≠ k} xⱼ is computed without dividing by x: the VJP runs the recurrence
    /// backward, wₖ = ȳₖ + xₖ₊₁·wₖ₊₁, and x̄ₖ = wₖ·yₖ₋₁ (y₋₁ = 1); the JVP runs it forward on ẋᵢ·yᵢ₋₁. So it is
    /// exact with one zero or several, and second derivatives come from the same rules.
    /// Cost: one multiply-add per element for the value, about three passes for each derivative.
    public func cumulativeProduct(alongAxis axis: Int, reverse: Bool = false, file: StaticString = #fileID,
                                  line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        let a = Shape.axis(axis, rank: rank, "cumulativeProduct(alongAxis:)", at: loc)
        return Tensor(unchecked: base.cumulativeProduct(axis: a, reverse: reverse, at: loc))
    }

    /// ln Σ_{j ≤ i} e^{xⱼ} along `axis` (Σ_{j ≥ i} when `reverse`; PyTorch `logcumsumexp`), computed without
    /// overflow or underflow: with mᵢ the running maximum, sᵢ = Σ_{j ≤ i} e^{xⱼ − mᵢ} obeys
    /// sᵢ = e^{mᵢ₋₁ − mᵢ}·sᵢ₋₁ + e^{xᵢ − mᵢ} (every factor at most 1), and yᵢ = mᵢ + ln sᵢ. Inputs of magnitude 1000
    /// and early elements far below later ones are fine; −∞ elements contribute nothing.
    ///
    /// Composite of `exp`, the primitive `linearRecurrence` (with the constant coefficients e^{mᵢ₋₁ − mᵢ}), and
    /// `log`; the running maximum is a constant. Derivative: ∂yᵢ/∂xⱼ = e^{xⱼ − yᵢ} for j ≤ i (a softmax over each
    /// prefix). Cost: about five passes.
    public func logCumulativeSumExp(alongAxis axis: Int, reverse: Bool = false, file: StaticString = #fileID,
                                    line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        let a = Shape.axis(axis, rank: rank, "logCumulativeSumExp(alongAxis:)", at: loc)
        // Under a vmap trace the running maximum is recorded as a value function, recomputed for every example.
        let fromEnd = rank - a
        let m0 = Tensor(unchecked: VMapTracing.traced("running maximum", [base]) { v, _ in
            Self.runningMaximum(v[0], axisFromEnd: fromEnd, reverse: reverse)
        } ?? Self.runningMaximum(base.value, axisFromEnd: fromEnd, reverse: reverse))
        let m = Tensor.where(m0.isFinite, m0, 0)
        let decay = Autograd.exp(Tensor(unchecked: m.base.shifted(axis: a, towardEnd: !reverse)) - m)
        let c = Tensor.where(decay.isFinite, decay, 0)   // only the first coefficient can be infinite, and it is unused
        let terms = Autograd.exp(self - m, file: file, line: line)
        let s = Tensor(unchecked: c.base.recurrence(terms.base, axisFromEnd: rank - a, reverse: reverse, at: loc))
        return m + Autograd.log(s, file: file, line: line)
    }

    /// The product of all elements, a 0-d tensor (1 for an empty tensor). See
    /// ``product(alongAxes:keepingDimensions:file:line:)-([Int],_,_,_)``.
    public func product(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        product(alongAxes: Array(0..<rank), file: file, line: line)
    }

    /// The product along the given axes (1 where they are empty). Shape: the input's with those axes removed (or
    /// kept as 1).
    ///
    /// The last entry of a cumulative product over the reduced elements (see
    /// ``cumulativeProduct(alongAxis:reverse:file:line:)``), so ∂y/∂xₖ = Π_{j ≠ k} xⱼ is computed without dividing
    /// by x: exact with one zero (only that element's derivative is nonzero) or several (all zero). Composite of
    /// `permute`, `reshape`, the primitive `linearRecurrence` and `slice`. Cost: a copy and a pass over x.
    public func product(alongAxes axes: [Int], keepingDimensions: Bool = false, file: StaticString = #fileID,
                        line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        let a = Shape.axes(axes, rank: rank, "product(alongAxes:)", at: loc)
        if a.isEmpty { return self }
        let kept = (0..<rank).filter { !a.contains($0) }
        let keptShape = kept.map { shape[$0] }
        let n = a.reduce(1) { $0 * shape[$1] }
        let resultShape = keepingDimensions ? shape.indices.map { a.contains($0) ? 1 : shape[$0] } : keptShape
        if n == 0 { return Tensor(ones: resultShape) }
        let lines = base.permuted(kept + a, at: loc).reshaped(keptShape + [n], at: loc)
        let running = lines.cumulativeProduct(axis: kept.count, reverse: false, at: loc)
        var last = running.shape.map(SliceAxis.all)
        last[kept.count] = SliceAxis(start: n - 1, count: 1, step: 1)
        return Tensor(unchecked: running.sliced(last, at: loc).reshaped(resultShape, at: loc))
    }

    /// The product along the given axes (variadic form).
    public func product(alongAxes axes: Int..., keepingDimensions: Bool = false, file: StaticString = #fileID,
                        line: UInt = #line) -> Tensor {
        product(alongAxes: axes, keepingDimensions: keepingDimensions, file: file, line: line)
    }

    /// The running maximum of x's values along the axis `axisFromEnd` from the end (a NaN stays once met), as a
    /// constant (no derivative recorded); leading axes are independent lines. One launched kernel, so compiled
    /// functions replay it.
    private static func runningMaximum(_ x: AnyTensor, axisFromEnd: Int, reverse: Bool) -> AnyTensor {
        let shape = x.shape, axis = x.rank - axisFromEnd
        let n = shape[axis], inner = Shape.count(Array(shape[(axis + 1)...]))
        let outer = n * inner == 0 ? 0 : x.count / (n * inner)
        let y = AnyTensor(uninitialized: x.scalarType, shape: x.shape)
        if y.count == 0 { return y }
        Kernel.launch("running maximum", x.storage, y.storage, (outer, n, inner, reverse, x.count)) { p, q in
            let (outer, n, inner, reverse, count) = q
            let out = p[1].assumingMemoryBound(to: Scalar.self)
            out.update(from: p[0].assumingMemoryBound(to: Scalar.self), count: count)
            for o in 0..<outer {
                for step in 1..<Swift.max(n, 1) {
                    let i = reverse ? n - 1 - step : step, previous = reverse ? i + 1 : i - 1
                    for k in 0..<inner {
                        let p = out[(o * n + previous) * inner + k], v = out[(o * n + i) * inner + k]
                        if p.isNaN || p > v { out[(o * n + i) * inner + k] = p }
                    }
                }
            }
        }
        return y
    }
}

extension AnyTensor {
    /// Running products along a normalized axis: the recurrence yᵢ = xᵢ·yᵢ₋₁ started at x's first element.
    func cumulativeProduct(axis: Int, reverse: Bool, at loc: CallSite?) -> AnyTensor {
        let n = shape[axis]
        var first = shape.map(SliceAxis.all)
        first[axis] = SliceAxis(start: reverse ? Swift.max(n - 1, 0) : 0, count: Swift.min(n, 1), step: 1)
        let drive = sliced(first, at: loc).embedded(into: shape, at: first, at: loc)
        return recurrence(drive, axisFromEnd: rank - axis, reverse: reverse, at: loc)
    }
}

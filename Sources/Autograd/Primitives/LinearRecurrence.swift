// The first-order linear recurrence along one axis, zᵢ = cᵢ·zᵢ₋₁ + aᵢ: the scan behind `cumulativeProduct`,
// `product` and `logCumulativeSumExp`. Its rules are the same recurrence run again (forward for the tangent,
// backward for the cotangent) with shifts and products, never a division, so they hold where c has zeros (a
// cumulative product through zeros), cost O(n) per line, and can be differentiated again to any order.

/// z = the solution of zᵢ = cᵢ·zᵢ₋₁ + aᵢ along an axis, with z₋₁ = 0 (from the end when `reverse`:
/// zᵢ = cᵢ·zᵢ₊₁ + aᵢ). c's shape is a suffix of a's (c broadcasts over a's leading axes); z has a's shape.
/// Written with S, the shift by one step in the recurrence's direction ((S z)ᵢ = zᵢ₋₁, zero at the start), Sᵀ the
/// shift the other way, and R(c, a) the recurrence itself (R′ the recurrence run in the other direction):
///     ż = R(c, ȧ + ċ ⊙ S z)                      (the product rule on cᵢ·zᵢ₋₁)
///     ā = R′(Sᵀ c, z̄);   c̄ = ā ⊙ S z, summed over a's extra leading axes
/// (z = (I − diag(c)·S)⁻¹ a, so ā = (I − Sᵀ·diag(c))⁻¹ z̄, which is R′ with coefficients moved by one.)
struct LinearRecurrence: Primitive {
    /// The axis counted from the end (1 = the last axis): the same for c, a, z and any batch in front.
    let axisFromEnd: Int
    let reverse: Bool
    var name: String { "linearRecurrence" }
    var sparsity: SparsityRule { .scan(axisFromEnd: axisFromEnd, reverse: reverse) }

    /// S t: t moved one step along the axis in the recurrence's direction (toward the end unless `reverse`),
    /// a zero entering at the start; `backward` moves it the other way (Sᵀ).
    private func shifted(_ t: AnyTensor, backward: Bool = false) -> AnyTensor {
        t.shifted(axis: t.rank - axisFromEnd, towardEnd: reverse == backward)
    }

    func vjp(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        let c = ctx.input(0), a = ctx.input(1)
        let w = shifted(c, backward: true).recurrence(g, axisFromEnd: axisFromEnd, reverse: !reverse)
        let cBar = ctx.needs(0) ? ctx.unbroadcast(w * shifted(c.recurrence(a, axisFromEnd: axisFromEnd,
                                                                              reverse: reverse)), toInput: 0) : nil
        return [cBar, ctx.needs(1) ? w : nil]
    }

    func jvp(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        let c = ctx.input(0), a = ctx.input(1)
        var drive = t[1]
        if let dc = t[0] {
            let z = c.recurrence(a, axisFromEnd: axisFromEnd, reverse: reverse)
            let term = ctx.aligned(dc, input: 0, rank: a.rank) * shifted(z)
            drive = drive.map { $0 + term } ?? term
        }
        return drive.map { c.recurrence(ctx.hasFullShape($0) ? $0 : ctx.expandedToOutput($0),
                                        axisFromEnd: axisFromEnd, reverse: reverse) }
    }
}

extension Kernel {
    /// zᵢ = cᵢ·zᵢ₋₁ + aᵢ along the axis `axisFromEnd` from the end (see `LinearRecurrence`), c's shape a suffix of
    /// a's. One multiply-add per element.
    static func linearRecurrence(_ c: AnyTensor, _ a: AnyTensor, axisFromEnd: Int, reverse: Bool) -> AnyTensor {
        let z = AnyTensor(uninitialized: a.scalarType, shape: a.shape)
        if a.count == 0 { return z }
        let axis = a.rank - axisFromEnd
        let n = a.shape[axis], inner = Shape.count(Array(a.shape[(axis + 1)...]))
        let outer = a.count / (n * inner), period = c.count
        let q = (outer, n, inner, period, reverse)
        switch a.scalarType {
        case .float32:
            launch("linear recurrence", c.storage, a.storage, z.storage, q) { linearRecurrenceLoop($0.f32(0), $0.f32(1), $0.f32(2), $1) }
        case .float64:
            launch("linear recurrence", c.storage, a.storage, z.storage, q) { linearRecurrenceLoop($0.f64(0), $0.f64(1), $0.f64(2), $1) }
        case .bool, .int32: noKernel("linearRecurrence", a.scalarType)
        }
        return z
    }

    /// The loop of `linearRecurrence`: q = (outer, n, inner, period, reverse).
    private static func linearRecurrenceLoop<T: TensorScalar>(_ c: UnsafeMutablePointer<T>, _ a: UnsafeMutablePointer<T>,
                                                              _ z: UnsafeMutablePointer<T>,
                                                              _ q: (Int, Int, Int, Int, Bool)) {
        let (outer, n, inner, period, reverse) = q
        for o in 0..<outer {
            let base = o * n * inner, cBase = base % period
            for step in 0..<n {
                let i = reverse ? n - 1 - step : step
                let row = base + i * inner, cRow = cBase + i * inner
                if step == 0 {
                    for k in 0..<inner { z[row + k] = a[row + k] }
                } else {
                    let previous = base + (reverse ? i + 1 : i - 1) * inner
                    for k in 0..<inner { z[row + k] = c[cRow + k] * z[previous + k] + a[row + k] }
                }
            }
        }
    }
}

extension AnyTensor {
    /// The recurrence zᵢ = selfᵢ·zᵢ₋₁ + aᵢ along the axis `axisFromEnd` from the end (self the coefficients, its
    /// shape a suffix of a's), recorded.
    func recurrence(_ a: AnyTensor, axisFromEnd: Int, reverse: Bool, at loc: CallSite? = nil) -> AnyTensor {
        record(LinearRecurrence(axisFromEnd: axisFromEnd, reverse: reverse), self, a,
               Kernel.linearRecurrence(self, a, axisFromEnd: axisFromEnd, reverse: reverse), at: loc)
    }

    /// This tensor moved one position along `axis` (toward the end, or toward the start), the vacated position
    /// zero: a slice and an embedding, both linear primitives.
    func shifted(axis: Int, towardEnd: Bool) -> AnyTensor {
        let n = shape[axis]
        if n == 0 { return self }
        var from = shape.map(SliceAxis.all), to = from
        from[axis] = SliceAxis(start: towardEnd ? 0 : 1, count: n - 1, step: 1)
        to[axis] = SliceAxis(start: towardEnd ? 1 : 0, count: n - 1, step: 1)
        return sliced(from).embedded(into: shape, at: to)
    }
}

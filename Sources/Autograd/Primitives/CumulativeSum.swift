// The cumulative sum along one axis: linear, so it needs only itself (the forward rule) and its transpose, which is
// the cumulative sum taken in the other direction.

/// y = running sums of x along `axis` (from the end when `reverse`): yᵢ = Σ_{j ≤ i} xⱼ (or Σ_{j ≥ i} xⱼ). Linear:
///     ẏ = cumsum(ẋ);   x̄ = cumsum(ȳ) in the opposite direction.
struct CumulativeSum: LinearPrimitive {
    let axis: Int
    let reverse: Bool
    var name: String { "cumulativeSum" }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        t[0].map { $0.cumulativeSum(axis: axis + ctx.batchShape.count, reverse: reverse) }
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        [g.cumulativeSum(axis: axis + ctx.batchShape.count, reverse: !reverse)]
    }
}

extension Kernel {
    /// Running sums along `axis` (normalized), in the element type, n − 1 additions per line.
    static func cumulativeSum(_ x: AnyTensor, axis: Int, reverse: Bool) -> AnyTensor {
        let y = AnyTensor(uninitialized: x.scalarType, shape: x.shape)
        let n = x.shape[axis]
        let inner = Shape.count(Array(x.shape[(axis + 1)...]))
        let outer = Shape.count(Array(x.shape[..<axis]))
        let q = (outer, n, inner, reverse)
        switch x.scalarType {
        case .float32: launch("cumulative sum", x.storage, y.storage, q) { cumulativeSumLoop($0.f32(0), $0.f32(1), $1) }
        case .float64: launch("cumulative sum", x.storage, y.storage, q) { cumulativeSumLoop($0.f64(0), $0.f64(1), $1) }
        case .bool, .int32: Kernel.noKernel("cumulativeSum", x.scalarType)
        }
        return y
    }

    /// The loop of `cumulativeSum`: q = (outer, n, inner, reverse).
    private static func cumulativeSumLoop<T: TensorScalar>(_ src: UnsafeMutablePointer<T>,
                                                           _ dst: UnsafeMutablePointer<T>, _ q: (Int, Int, Int, Bool)) {
        let (outer, n, inner, reverse) = q
        for o in 0..<outer {
            let base = o * n * inner
            for step in 0..<n {
                let i = reverse ? n - 1 - step : step
                let row = base + i * inner, previous = base + (reverse ? i + 1 : i - 1) * inner
                for c in 0..<inner { dst[row + c] = step == 0 ? src[row + c] : dst[previous + c] + src[row + c] }
            }
        }
    }
}

extension AnyTensor {
    /// Running sums along a normalized axis, recorded.
    func cumulativeSum(axis: Int, reverse: Bool, at loc: CallSite? = nil) -> AnyTensor {
        record(CumulativeSum(axis: axis, reverse: reverse), self,
               Kernel.cumulativeSum(self, axis: axis, reverse: reverse), at: loc)
    }
}

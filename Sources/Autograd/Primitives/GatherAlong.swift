// Gathering and scatter-adding along an axis with an index tensor (NumPy `take_along_axis`, PyTorch `gather` and
// `scatter_add`): a pair of linear primitives, each the other's transpose. `sorted`, `topK` and
// `scatterAdding(_:alongAxis:indices:)` are built on them. The index tensor (Int32, already checked and made
// non-negative) is part of the primitive, not an input: positions have no derivative.
//
// Notation: o runs over the axes before `axis`, i over those after it, j along it; idx has the gathered shape.

/// y = x picked along `axis` by an index tensor shaped like y: y[o, j, i] = x[o, idx[o, j, i], i]. Linear:
///     ẏ = gatherAlong(ẋ);   x̄ = scatterAddAlong(ȳ): zeros of x's shape, x̄[o, idx[o, j, i], i] += ȳ[o, j, i]
/// (positions picked several times accumulate).
struct GatherAlong: LinearPrimitive {
    /// The axis, normalized to x's rank.
    let axis: Int
    /// Int32 positions in 0 ..< size, of y's shape.
    let indices: AnyTensor
    /// x's length along the axis.
    let size: Int
    /// Whether the positions were computed from the values (a sort order): then they change from point to point,
    /// and the sparsity rule lets each output depend on its whole line.
    let fromValues: Bool
    var name: String { "gatherAlong" }
    var sparsity: SparsityRule { fromValues ? .wholeLine(axis: axis) : .sources }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        t[0].map { $0.gatheredAlong(axis: axis + ctx.batchShape.count, indices: indices, fromValues: fromValues) }
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        [g.scatterAddedAlong(axis: axis + ctx.batchShape.count, indices: indices, size: size, fromValues: fromValues)]
    }
}

/// y = zeros with x's shape except `size` along `axis`, x's elements added at the positions an index tensor of x's
/// shape names: y[o, idx[o, j, i], i] += x[o, j, i]. The transpose of `GatherAlong`. Linear:
///     ẏ = scatterAddAlong(ẋ);   x̄ = gatherAlong(ȳ).
struct ScatterAddAlong: LinearPrimitive {
    let axis: Int
    let indices: AnyTensor
    let size: Int
    let fromValues: Bool
    var name: String { "scatterAddAlong" }
    /// A sort order's positions move with the values: then every output may take any element of its line.
    var sparsity: SparsityRule { fromValues ? .wholeLine(axis: axis) : .targets }
    func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
        t[0].map {
            $0.scatterAddedAlong(axis: axis + ctx.batchShape.count, indices: indices, size: size, fromValues: fromValues)
        }
    }
    func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
        [g.gatheredAlong(axis: axis + ctx.batchShape.count, indices: indices, fromValues: fromValues)]
    }
}

extension Kernel {
    /// The loop bounds shared by both kernels, for a tensor `t` whose trailing axes match the index tensor's except
    /// along `axis` (t may have extra leading axes: a batch, which reuses the same positions). Returns the number of
    /// (o) lines of t, the number of such lines the index tensor holds, and the length after the axis.
    private static func along(_ t: [Int], axis: Int, indices: AnyTensor) -> (outer: Int, indexOuter: Int, inner: Int) {
        let inner = Shape.count(Array(t[(axis + 1)...]))
        let extra = t.count - indices.rank
        return (Shape.count(Array(t[..<axis])), Shape.count(Array(indices.shape[..<(axis - extra)])), inner)
    }

    /// y[o, j, i] = x[o, idx[o, j, i], i]; y has x's leading (batch) axes followed by idx's shape. Any element type
    /// (it copies elements).
    static func gatherAlong(_ x: AnyTensor, axis: Int, indices: AnyTensor) -> AnyTensor {
        let extra = x.rank - indices.rank
        let y = AnyTensor(uninitialized: x.scalarType, shape: Array(x.shape[..<extra]) + indices.shape)
        if y.count == 0 { return y }
        let (outer, indexOuter, inner) = along(x.shape, axis: axis, indices: indices)
        let n = x.shape[axis], m = indices.shape[axis - extra]
        let q = (outer, indexOuter, inner, n, m)
        switch x.scalarType.byteCount {
        case 1: launch("gather along", x.storage, indices.storage, y.storage, q) { gatherAlongLoop($0.u8(0), $0.i32(1), $0.u8(2), $1) }
        case 4: launch("gather along", x.storage, indices.storage, y.storage, q) { gatherAlongLoop($0.i32(0), $0.i32(1), $0.i32(2), $1) }
        default: launch("gather along", x.storage, indices.storage, y.storage, q) { gatherAlongLoop($0.f64(0), $0.i32(1), $0.f64(2), $1) }
        }
        return y
    }

    /// The transpose of `gatherAlong`: zeros of x's shape with `size` along `axis`, y[o, idx[o, j, i], i] +=
    /// x[o, j, i].
    static func scatterAddAlong(_ x: AnyTensor, axis: Int, indices: AnyTensor, size n: Int) -> AnyTensor {
        var shape = x.shape
        shape[axis] = n
        let y = filled(x.scalarType, shape, 0)
        if x.count == 0 { return y }
        let (outer, indexOuter, inner) = along(x.shape, axis: axis, indices: indices)
        let m = x.shape[axis]
        let q = (outer, indexOuter, inner, n, m)
        switch x.scalarType {
        case .float32:
            launch("scatter-add along", x.storage, indices.storage, y.storage, q) { scatterAddAlongLoop($0.f32(0), $0.i32(1), $0.f32(2), $1) }
        case .float64:
            launch("scatter-add along", x.storage, indices.storage, y.storage, q) { scatterAddAlongLoop($0.f64(0), $0.i32(1), $0.f64(2), $1) }
        case .bool, .int32: noKernel("scatter-add", x.scalarType)
        }
        return y
    }

    /// The loop of `gatherAlong`: q = (outer, indexOuter, inner, n, m), n the length of x's axis, m the index's.
    private static func gatherAlongLoop<T>(_ src: UnsafeMutablePointer<T>, _ idx: UnsafeMutablePointer<Int32>,
                                           _ dst: UnsafeMutablePointer<T>, _ q: (Int, Int, Int, Int, Int)) {
        let (outer, indexOuter, inner, n, m) = q
        for o in 0..<outer {
            let io = (o % indexOuter) * m * inner
            for j in 0..<m {
                for i in 0..<inner {
                    dst[(o * m + j) * inner + i] = src[(o * n + Int(idx[io + j * inner + i])) * inner + i]
                }
            }
        }
    }

    /// The loop of `scatterAddAlong`: q = (outer, indexOuter, inner, n, m), n the length of y's axis, m x's.
    private static func scatterAddAlongLoop<T: TensorScalar>(_ src: UnsafeMutablePointer<T>,
                                                             _ idx: UnsafeMutablePointer<Int32>,
                                                             _ dst: UnsafeMutablePointer<T>,
                                                             _ q: (Int, Int, Int, Int, Int)) {
        let (outer, indexOuter, inner, n, m) = q
        for o in 0..<outer {
            let io = (o % indexOuter) * m * inner
            for j in 0..<m {
                for i in 0..<inner {
                    dst[(o * n + Int(idx[io + j * inner + i])) * inner + i] += src[(o * m + j) * inner + i]
                }
            }
        }
    }
}

extension AnyTensor {
    /// Gathers along a normalized axis with checked, non-negative Int32 positions (see `GatherAlong`), recorded.
    func gatheredAlong(axis: Int, indices: AnyTensor, fromValues: Bool = false, at loc: CallSite? = nil) -> AnyTensor {
        record(GatherAlong(axis: axis, indices: indices, size: shape[axis], fromValues: fromValues), self,
               Kernel.gatherAlong(self, axis: axis, indices: indices), at: loc)
    }

    /// Scatter-adds along a normalized axis into zeros of length `size` there (see `ScatterAddAlong`), recorded.
    func scatterAddedAlong(axis: Int, indices: AnyTensor, size: Int, fromValues: Bool = false,
                           at loc: CallSite? = nil) -> AnyTensor {
        record(ScatterAddAlong(axis: axis, indices: indices, size: size, fromValues: fromValues), self,
               Kernel.scatterAddAlong(self, axis: axis, indices: indices, size: size), at: loc)
    }
}

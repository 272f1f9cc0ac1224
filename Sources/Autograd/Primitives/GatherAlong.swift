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
        let idx = indices.storage.int32s()
        func run<T>(_ src: UnsafeMutablePointer<T>, _ dst: UnsafeMutablePointer<T>) {
            for o in 0..<outer {
                let io = (o % indexOuter) * m * inner
                for j in 0..<m {
                    for i in 0..<inner {
                        dst[(o * m + j) * inner + i] = src[(o * n + Int(idx[io + j * inner + i])) * inner + i]
                    }
                }
            }
        }
        switch x.scalarType.byteCount {
        case 1: run(x.storage.bytes(), y.storage.bytes())
        case 4: run(x.storage.int32s(), y.storage.int32s())
        default: run(x.storage.doubles(), y.storage.doubles())
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
        let idx = indices.storage.int32s()
        func run<T: TensorScalar>(_ src: UnsafeMutablePointer<T>, _ dst: UnsafeMutablePointer<T>) {
            for o in 0..<outer {
                let io = (o % indexOuter) * m * inner
                for j in 0..<m {
                    for i in 0..<inner {
                        dst[(o * n + Int(idx[io + j * inner + i])) * inner + i] += src[(o * m + j) * inner + i]
                    }
                }
            }
        }
        switch x.scalarType {
        case .float32: run(x.storage.floats(), y.storage.floats())
        case .float64: run(x.storage.doubles(), y.storage.doubles())
        case .bool, .int32: noKernel("scatter-add", x.scalarType)
        }
        return y
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

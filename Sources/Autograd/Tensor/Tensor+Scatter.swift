// Reading and writing with index tensors, and the functional slice update. Each is a linear primitive or a
// composite of them, so derivatives flow to every floating-point operand: what a gather reads is scatter-added
// back, what a scatter-add adds is gathered back, and a slice update splits the cotangent between the tensor
// (outside the slice) and the update (inside it).

extension Tensor {
    /// Picks elements along `axis` with an index tensor of the same rank (NumPy `take_along_axis`, PyTorch
    /// `gather(dim:index:)`): y[o, j, i] = x[o, indices[o, j, i], i], where o stands for the axes before `axis` and
    /// i for those after. The result has the index tensor's shape, which must equal this tensor's except along
    /// `axis` (any length there, 0 included). Negative indices count from the end.
    ///
    /// Primitive `gatherAlong` (linear): ẏ = gatherAlong(ẋ); x̄ = ȳ scatter-added back to the positions read
    /// (a position read twice receives both cotangents). Cost: one pass over the result.
    /// Stops, naming the position, value and bound, for an index outside `-n ..< n` (n = `shape[axis]`).
    ///
    /// ```swift
    /// let scores = Tensor<Float>([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
    /// let picked = scores.gathering(alongAxis: 1, indices: Tensor<Int32>(shape: [2, 1], scalars: [1, 0]))
    /// // [[0.7], [0.5]]
    /// ```
    public func gathering(alongAxis axis: Int, indices: Tensor<Int32>, file: StaticString = #fileID,
                          line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line), name = "gathering(alongAxis:indices:)"
        let a = Shape.axis(axis, rank: rank, name, at: loc)
        checkAlongShapes(indices.shape, other: shape, axis: a, name, "the index tensor", "the tensor", at: loc)
        let positions = checkedIndices(indices.base, bound: shape[a], name, what: "an axis of length", at: loc)
        return Tensor(unchecked: base.gatheredAlong(axis: a, indices: indexTensor(positions, indices.shape), at: loc))
    }

    /// Selects whole slices along `axis` by the positions in an index tensor of any shape (NumPy `take`, PyTorch
    /// `index_select` for a 1-d index): the result's shape is this tensor's with `axis` replaced by the index
    /// tensor's shape. Negative indices count from the end.
    ///
    /// Primitive `gather` (linear): x̄ = ȳ's slices scatter-added back (repeated positions accumulate).
    /// Cost: one copy of the result. Stops, naming the position, value and bound, for an index out of range.
    public func gathering(atIndices indices: Tensor<Int32>, alongAxis axis: Int = 0, file: StaticString = #fileID,
                          line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line), name = "gathering(atIndices:alongAxis:)"
        let a = Shape.axis(axis, rank: rank, name, at: loc)
        let positions = checkedIndices(indices.base, bound: shape[a], name, what: "an axis of length", at: loc)
        let picked = base.gathered(axis: a, indices: positions, at: loc)
        return Tensor(unchecked: picked.reshaped(Array(shape[..<a]) + indices.shape + Array(shape[(a + 1)...])))
    }
}

extension Tensor where Scalar: TensorScalar {
    /// Adds `source`'s elements at the positions an index tensor names along `axis` (PyTorch `scatter_add`):
    /// y = x, then y[o, indices[o, j, i], i] += source[o, j, i] for every element of `source` (o the axes before
    /// `axis`, i those after). `indices` has `source`'s shape, which must equal this tensor's except along `axis`.
    /// Positions named twice receive both additions. Negative indices count from the end.
    ///
    /// Composite of the primitive `scatterAddAlong` (linear) and `+`: x̄ = ȳ, and sourcē = ȳ gathered at the
    /// same positions (sourcē[o, j, i] = ȳ[o, indices[o, j, i], i]). Cost: a copy of x and one pass over source.
    /// Stops for mismatched shapes or an index out of range (naming its position, value and the bound).
    public func scatterAdding(_ source: Tensor, alongAxis axis: Int, indices: Tensor<Int32>,
                              file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line), name = "scatterAdding(_:alongAxis:indices:)"
        let a = Shape.axis(axis, rank: rank, name, at: loc)
        if indices.shape != source.shape {
            operationFailure(name, "the index tensor has shape \(describe(indices.shape)) but the source has "
                + "\(describe(source.shape)); each source element needs its own position, so the shapes must be "
                + "equal", at: loc)
        }
        checkAlongShapes(source.shape, other: shape, axis: a, name, "the source", "the tensor", at: loc)
        let positions = checkedIndices(indices.base, bound: shape[a], name, what: "an axis of length", at: loc)
        let added = source.base.scatterAddedAlong(axis: a, indices: indexTensor(positions, indices.shape),
                                                  size: shape[a], at: loc)
        return self + Tensor(unchecked: added)
    }

    /// Adds whole slices of `source` along `axis` at the positions of a 1-d index tensor (PyTorch `index_add`):
    /// y = x, then y[o, indices[j], i] += source[o, j, i]. `source` has this tensor's shape except along `axis`,
    /// where its length is `indices.count`. Repeated positions accumulate; negative ones count from the end.
    ///
    /// Composite of the primitive `scatter-add` (linear) and `+`: x̄ = ȳ, sourcē[o, j, i] = ȳ[o, indices[j], i].
    /// Cost: a copy of x and one pass over source. Stops for mismatched shapes or an index out of range.
    public func indexAdding(_ source: Tensor, alongAxis axis: Int, indices: Tensor<Int32>,
                            file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line), name = "indexAdding(_:alongAxis:indices:)"
        let a = Shape.axis(axis, rank: rank, name, at: loc)
        if indices.rank != 1 || source.rank != rank || indices.count != source.shape[a] {
            operationFailure(name, "expected a 1-d index tensor with one position per slice of the source along "
                + "axis \(axis); got indices of shape \(describe(indices.shape)) and a source of shape "
                + "\(describe(source.shape)) for a tensor of shape \(describe(shape))", at: loc)
        }
        checkAlongShapes(source.shape, other: shape, axis: a, name, "the source", "the tensor", at: loc)
        let positions = checkedIndices(indices.base, bound: shape[a], name, what: "an axis of length", at: loc)
        return self + Tensor(unchecked: source.base.scatterAdded(axis: a, indices: positions, size: shape[a], at: loc))
    }

    /// A copy of this tensor with the selected block replaced by `update` (a functional `x[entries] = update`;
    /// JAX's `x.at[entries].set(update)`). The entries are those of the subscript (integers, ranges, `.all`, strided
    /// ranges), and `update` must have the shape `x[entries]` has, or broadcast to it.
    ///
    /// ```swift
    /// let grid = Tensor<Float>(zeros: [4, 3])
    /// let filled = grid.updating(at: 1..<3, with: Tensor<Float>(ones: [2, 3]))   // rows 1 and 2 are ones
    /// ```
    ///
    /// Differentiable in both: x̄ = ȳ with the block set to zero, and ū = ȳ's block (summed over broadcast axes).
    /// Composite of `expand`, `reshape`, `embed` and `where`. Cost: three passes over x.
    public func updating(at entries: any TensorIndexConvertible..., with update: Tensor,
                         file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line), name = "updating(at:with:)"
        let (axes, selected) = selection(entries.map(\.tensorIndex), name, at: loc)
        if !Shape.broadcasts(update.shape, to: selected) {
            operationFailure(name, "the update has shape \(describe(update.shape)) but the selected block has shape "
                + "\(describe(selected)); the update must have that shape or broadcast to it", at: loc)
        }
        let block = update.broadcasted(to: selected, file: file, line: line).base.reshaped(axes.map(\.count))
        let placed = block.embedded(into: shape, at: axes, at: loc)
        let mask = Kernel.filled(.bool, axes.map(\.count), 1).embedded(into: shape, at: axes)
        return Tensor(unchecked: select(mask, placed, base, at: loc))
    }
}

/// Stops unless `shape` equals `other` on every axis but `axis` (and has its rank), naming both.
func checkAlongShapes(_ shape: [Int], other: [Int], axis: Int, _ name: String, _ what: String, _ otherWhat: String,
                      at loc: CallSite) {
    var s = shape, o = other
    if s.count == o.count { s[axis] = 0; o[axis] = 0 }
    if s != o {
        operationFailure(name, "\(what) has shape \(describe(shape)) but \(otherWhat) has \(describe(other)); they "
            + "must have the same rank and agree on every axis except axis \(axis) (broadcast \(what) first if you "
            + "meant to repeat it)", at: loc)
    }
}

/// A constant Int32 index tensor of `shape` from non-negative positions.
func indexTensor(_ positions: [Int], _ shape: [Int]) -> AnyTensor {
    Tensor<Int32>(shape: shape, scalars: positions.map { Int32($0) }).base
}

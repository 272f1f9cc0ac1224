// Shape operations. All are linear primitives (or composites of them) that move elements without arithmetic:
// their derivatives move cotangents back the same way (reshape back, inverse permutation, sum over broadcast
// axes, embed a slice into zeros, scatter-add a gather).

extension Tensor {
    /// The same elements in row-major order with a new shape; one dimension may be −1 and is then inferred.
    /// Shares the buffer (no copy). Primitive `reshape` (linear): x̄ = ȳ reshaped back.
    /// Stops if the element counts differ.
    public func reshaped(to newShape: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        var target = newShape
        let unknown = newShape.indices.filter { newShape[$0] == -1 }
        if unknown.count > 1 {
            operationFailure("reshaped(to:)", "only one dimension may be -1 (inferred), got \(describe(newShape))",
                             at: loc)
        }
        if let u = unknown.first {
            var rest = newShape
            rest[u] = 1
            let known = Shape.elementCount(rest, "reshaped(to:)", at: loc)
            if known == 0 || count % known != 0 {
                operationFailure("reshaped(to:)", "cannot infer the -1 in \(describe(newShape)) for a tensor of "
                    + "shape \(describe(shape)) (\(count) elements): \(count) is not a multiple of \(known)", at: loc)
            }
            target[u] = count / known
        }
        let n = Shape.elementCount(target, "reshaped(to:)", at: loc)
        if n != count {
            operationFailure("reshaped(to:)", "cannot reshape a tensor of shape \(describe(shape)) (\(count) "
                + "elements) to \(describe(target)) (\(n) elements): a reshape keeps the number of elements. Use -1 "
                + "for one dimension to have it inferred.", at: loc)
        }
        return Tensor(unchecked: base.reshaped(target, at: loc))
    }

    /// The same elements as a 1-d tensor of shape `[count]`. Primitive `reshape`.
    public func flattened() -> Tensor { reshaped(to: [count]) }

    /// Reorders the axes: the result's axis i is this tensor's axis `permutation[i]` (negative axes allowed).
    /// Copies the elements. Primitive `permute` (linear): x̄ = ȳ permuted by the inverse permutation.
    public func permuted(_ permutation: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        if permutation.count != rank {
            operationFailure("permuted(_:)", "a permutation of a rank-\(rank) tensor (shape \(describe(shape))) "
                + "needs \(rank) axes, got \(permutation)", at: loc)
        }
        let p = permutation.map { Shape.axis($0, rank: rank, "permuted(_:)", at: loc) }
        if !isPermutation(p) {
            operationFailure("permuted(_:)", "\(permutation) is not a permutation of the axes 0 ..< \(rank): each "
                + "axis must appear exactly once", at: loc)
        }
        return Tensor(unchecked: base.permuted(p, at: loc))
    }

    /// Reorders the axes (variadic form).
    public func permuted(_ permutation: Int..., file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        permuted(permutation, file: file, line: line)
    }

    /// The transpose: all axes reversed (for a matrix [m, n], the [n, m] matrix Aᵀ). Primitive `permute`.
    public func transposed() -> Tensor { permuted(Array((0..<rank).reversed())) }

    /// Swaps two axes (negative axes allowed). Primitive `permute`.
    public func transposed(_ axis1: Int, _ axis2: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        let a = Shape.axis(axis1, rank: rank, "transposed(_:_:)", at: loc)
        let b = Shape.axis(axis2, rank: rank, "transposed(_:_:)", at: loc)
        var p = Array(0..<rank)
        p.swapAt(a, b)
        return permuted(p, file: file, line: line)
    }

    /// Broadcasts to a larger shape with NumPy's rules (NumPy `broadcast_to`, PyTorch `expand`), materializing the
    /// repeated elements. Primitive `expand` (linear): x̄ = ȳ summed over the broadcast axes.
    public func broadcasted(to newShape: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        _ = Shape.elementCount(newShape, "broadcasted(to:)", at: loc)
        if !Shape.broadcasts(shape, to: newShape) {
            operationFailure("broadcasted(to:)", "shape \(describe(shape)) cannot be broadcast to "
                + "\(describe(newShape)): aligned at the right, each dimension must equal the target's or be 1, "
                + "and the target needs at least as many dimensions. See the article \"Broadcasting and "
                + "un-broadcasting\".", at: loc)
        }
        return Tensor(unchecked: base.expanded(to: newShape, at: loc))
    }

    /// Removes the given axes, each of which must have size 1 (no axes given: every size-1 axis).
    /// Primitive `reshape`.
    public func squeezed(alongAxes axes: [Int]? = nil, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        let remove = axes.map { Shape.axes($0, rank: rank, "squeezed(alongAxes:)", at: loc) }
            ?? shape.indices.filter { shape[$0] == 1 }
        for a in remove where shape[a] != 1 {
            operationFailure("squeezed(alongAxes:)", "axis \(a) of shape \(describe(shape)) has size \(shape[a]); "
                + "only axes of size 1 can be removed", at: loc)
        }
        let kept = shape.indices.filter { !remove.contains($0) }.map { shape[$0] }
        return Tensor(unchecked: base.reshaped(kept, at: loc))
    }

    /// Removes the given size-1 axes (variadic form).
    public func squeezed(alongAxes axes: Int..., file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        squeezed(alongAxes: axes, file: file, line: line)
    }

    /// Inserts an axis of size 1 at `axis` (in `-(rank + 1) ... rank`; negative counts from the end of the result).
    /// Primitive `reshape`.
    public func unsqueezed(at axis: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        // The new axis may go at any of rank + 1 positions; the message speaks of this tensor's own rank.
        let a = axis < 0 ? axis + rank + 1 : axis
        if a < 0 || a > rank {
            operationFailure("unsqueezed(at:)", "position \(axis) is out of range for a tensor of rank \(rank): the "
                + "new axis of size 1 can go at positions \(-(rank + 1)) ..< \(rank + 1) (0 in front, \(rank) or -1 "
                + "at the end)", at: loc)
        }
        var s = shape
        s.insert(1, at: a)
        return Tensor(unchecked: base.reshaped(s, at: loc))
    }

    /// Selects entries along one axis by integer position (NumPy `take`): the result's axis `axis` has
    /// `indices.count` entries, entry j being the input's entry `indices[j]`. Indices may repeat, and may be
    /// negative (counted from the end). Primitive `gather` (linear): x̄ = ȳ scatter-added back to the positions
    /// (repeated indices accumulate).
    public func gathering(atIndices indices: [Int], alongAxis axis: Int = 0,
                          file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        let a = Shape.axis(axis, rank: rank, "gathering(atIndices:alongAxis:)", at: loc)
        let n = shape[a]
        let normalized = indices.map { i -> Int in
            let j = i < 0 ? i + n : i
            if j < 0 || j >= n {
                operationFailure("gathering(atIndices:alongAxis:)", "index \(i) is out of range for axis \(axis) of "
                    + "size \(n) (tensor shape \(describe(shape)))", at: loc)
            }
            return j
        }
        return Tensor(unchecked: base.gathered(axis: a, indices: normalized, at: loc))
    }

    /// Joins tensors along an existing axis; all other dimensions must match. Primitive `concatenate` (linear):
    /// each input's cotangent is its slice of ȳ.
    public init(concatenating tensors: [Tensor], alongAxis axis: Int = 0,
                file: StaticString = #fileID, line: UInt = #line) {
        let loc = CallSite(file: file, line: line)
        guard let first = tensors.first else {
            operationFailure("Tensor(concatenating:)", "needs at least one tensor", at: loc)
        }
        let a = Shape.axis(axis, rank: first.rank, "Tensor(concatenating:)", at: loc)
        for (i, t) in tensors.enumerated() {
            var s1 = t.shape, s0 = first.shape
            if s1.count == s0.count { s1[a] = 0; s0[a] = 0 }
            if s1 != s0 {
                operationFailure("Tensor(concatenating:)", "tensor \(i) has shape \(describe(t.shape)) but tensor 0 "
                    + "has \(describe(first.shape)); concatenating along axis \(axis) needs every other dimension to "
                    + "match", at: loc)
            }
        }
        self.init(unchecked: AnyTensor.concatenated(tensors.map(\.base), axis: a, at: loc))
    }

    /// Stacks tensors of equal shape along a new axis (`axis` in `-(rank + 1) ... rank`). Composite:
    /// `unsqueezed(at:)` on each, then concatenation.
    public init(stacking tensors: [Tensor], alongAxis axis: Int = 0, file: StaticString = #fileID, line: UInt = #line) {
        let loc = CallSite(file: file, line: line)
        guard let first = tensors.first else { operationFailure("Tensor(stacking:)", "needs at least one tensor", at: loc) }
        if let bad = tensors.firstIndex(where: { $0.shape != first.shape }) {
            operationFailure("Tensor(stacking:)", "tensor \(bad) has shape \(describe(tensors[bad].shape)) but tensor 0 "
                + "has \(describe(first.shape)); stacking needs equal shapes", at: loc)
        }
        let a = Shape.axis(axis, rank: first.rank + 1, "Tensor(stacking:)", at: loc)
        self.init(concatenating: tensors.map { $0.unsqueezed(at: a) }, alongAxis: a, file: file, line: line)
    }
}

/// Whether `p` holds each of 0 ..< p.count exactly once (its entries already lie in that range).
func isPermutation(_ p: [Int]) -> Bool {
    if p.count > 64 { return Set(p).count == p.count }
    var seen: UInt64 = 0
    for axis in p { seen |= 1 << UInt64(axis) }
    return seen.nonzeroBitCount == p.count
}

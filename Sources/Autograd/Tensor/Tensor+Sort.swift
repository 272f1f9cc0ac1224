// Sorting along an axis. The order itself is an index tensor (`argsort`, never differentiated); the sorted values
// are those elements gathered along the axis (the `gatherAlong` primitive), so their derivative moves each
// cotangent back through the permutation.

extension Tensor where Scalar: TensorScalar {
    /// The positions that sort each line along `axis` (NumPy `argsort(kind: "stable")`, PyTorch
    /// `argsort(stable: true)`): an index tensor of this tensor's shape. Stable: equal elements keep their order, in
    /// both directions. NaN counts as larger than every number (last in ascending order, first in descending).
    /// Not differentiable (positions). Cost: O(n log n) per line.
    public func argsort(alongAxis axis: Int = -1, descending: Bool = false, file: StaticString = #fileID,
                        line: UInt = #line) -> Tensor<Int32> {
        let a = Shape.axis(axis, rank: rank, "argsort(alongAxis:)", at: CallSite(file: file, line: line))
        return Tensor<Int32>(unchecked: sortOrder(axis: a, descending: descending))
    }

    /// Each line along `axis` sorted, ascending unless `descending`; equal elements keep their order (stable),
    /// NaN counts as the largest. Same shape as the input.
    ///
    /// Composite: ``argsort(alongAxis:descending:file:line:)`` then the primitive `gatherAlong` (linear):
    /// ẏ = ẋ in sorted order; x̄ = ȳ put back where each element came from (a scatter through the permutation).
    /// Ties get the cotangent of the position they were sorted to. Cost: O(n log n) per line.
    public func sorted(alongAxis axis: Int = -1, descending: Bool = false, file: StaticString = #fileID,
                       line: UInt = #line) -> Tensor {
        let loc = CallSite(file: file, line: line)
        let a = Shape.axis(axis, rank: rank, "sorted(alongAxis:)", at: loc)
        return Tensor(unchecked: base.gatheredAlong(axis: a, indices: sortOrder(axis: a, descending: descending),
                                                    fromValues: true, at: loc))
    }

    /// The k largest elements of each line along `axis` (the k smallest when `largest` is false), in order
    /// (largest first, or smallest first), and their positions (PyTorch `topk(sorted: true)`). Ties are taken in
    /// order of position. Both results have this tensor's shape with k along `axis`.
    ///
    /// The values are differentiable: composite of a stable sort and the primitive `gatherAlong`, so x̄ is ȳ
    /// scattered to the chosen positions (zero elsewhere). Cost: O(n log n) per line.
    /// Stops if k is negative or larger than the axis.
    public func topK(_ k: Int, alongAxis axis: Int = -1, largest: Bool = true, file: StaticString = #fileID,
                     line: UInt = #line) -> (values: Tensor, indices: Tensor<Int32>) {
        let loc = CallSite(file: file, line: line)
        let a = Shape.axis(axis, rank: rank, "topK(_:alongAxis:)", at: loc)
        if k < 0 || k > shape[a] {
            operationFailure("topK(_:alongAxis:)", "k = \(k) is out of range for axis \(axis) of length \(shape[a]) "
                + "(shape \(describe(shape))); k must lie in 0 ... \(shape[a])", at: loc)
        }
        var first = shape.map(SliceAxis.all)
        first[a] = SliceAxis(start: 0, count: k, step: 1)
        let order = sortOrder(axis: a, descending: largest).sliced(first)
        let values = base.gatheredAlong(axis: a, indices: order, fromValues: true, at: loc)
        return (Tensor(unchecked: values), Tensor<Int32>(unchecked: order))
    }

    /// The stable sorting permutation of each line along a normalized axis, as an Int32 tensor of this shape.
    private func sortOrder(axis: Int, descending: Bool) -> AnyTensor {
        VMapTracing.noteValueDependence(base, "a sort")
        let n = shape[axis], inner = Shape.count(Array(shape[(axis + 1)...]))
        let outer = n * inner == 0 ? 0 : count / (n * inner)
        let result = AnyTensor(uninitialized: .int32, shape: shape)
        if count == 0 { return result }
        let x = base.value
        Kernel.launch("sort order", x.storage, result.storage, (n, inner, outer, descending)) { p, q in
            let (n, inner, outer, descending) = q
            let x = p[0].assumingMemoryBound(to: Scalar.self), result = p.i32(1)
            var order = [Int](repeating: 0, count: n)
            for o in 0..<outer {
                for k in 0..<inner {
                    let start = o * n * inner + k
                    for j in 0..<n { order[j] = j }
                    // A total order: by value (NaN largest), then by position, so the sort is stable whatever
                    // algorithm the standard library uses.
                    order.sort { i, j in
                        let u = x[start + i * inner], v = x[start + j * inner]
                        if u.isNaN || v.isNaN {
                            if u.isNaN && v.isNaN { return i < j }
                            return descending ? u.isNaN : v.isNaN
                        }
                        if u != v { return descending ? u > v : u < v }
                        return i < j
                    }
                    for j in 0..<n { result[start + j * inner] = Int32(order[j]) }
                }
            }
        }
        return result
    }
}

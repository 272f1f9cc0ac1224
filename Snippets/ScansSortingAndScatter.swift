// Index tensors, gathering and scatter-adding, the functional slice update, scans and products through zeros,
// sorting, einsum and kron: each value checked, and the derivatives the article states.
import Autograd

// snippet.hide
func same(_ a: [Float], _ b: [Float], _ what: String) {
    precondition(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(what): \(a) vs \(b)")
}
// snippet.show
// snippet.indices
// Index tensors hold Int32 positions; argmax, argsort and topK return them,
// gathering and oneHot read them.
let scores = Tensor<Float>([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
let best = scores.argmax(alongAxis: 1)                // [1, 0], Tensor<Int32>
let picked = scores.gathering(alongAxis: 1, indices: Tensor<Int32>(shape: [2, 1], scalars: [1, 0]))
// [[0.7], [0.5]]
let labels = Tensor<Int32>([2, 0, 1])
let targets: Tensor<Float> = oneHot(labels, classes: 3)   // [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
// snippet.end
precondition(best.scalars == [1, 0])
same(picked.scalars, [0.7, 0.5], "gathering")
same(targets.scalars, [0, 0, 1, 1, 0, 0, 0, 1, 0], "oneHot")

// snippet.scatter
// Scatter-adds and the functional slice update are differentiable in every
// floating-point operand.
let counts = Tensor<Float>(zeros: [3]).indexAdding(Tensor<Float>([1, 1, 1, 1]), alongAxis: 0,
                                                   indices: Tensor<Int32>([0, 2, 2, 1]))   // [1, 1, 2]
let grid = Tensor<Float>(zeros: [4, 3])
let filled = grid.updating(at: 1..<3, with: Tensor<Float>(ones: [2, 3]))   // rows 1 and 2 are ones
let weights = Tensor<Float>(rangeFrom: 0, to: 12).reshaped(to: [4, 3])
let g = try gradients(at: [grid, Tensor<Float>(ones: [2, 3])]) { t in
    (t[0].updating(at: 1..<3, with: t[1]) * weights).sum()
}   // g[0]: the weights outside the block, zeros inside; g[1]: the weights of the block
// snippet.end
same(counts.scalars, [1, 1, 2], "indexAdding")
same(filled.scalars, [0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0], "updating")
let (gGrid, gBlock) = (g[0], g[1])
same(gGrid.scalars, [0, 1, 2, 0, 0, 0, 0, 0, 0, 9, 10, 11], "x̄ of updating")
same(gBlock.scalars, [3, 4, 5, 6, 7, 8], "ū of updating")

// snippet.zeros
// Products through zeros: ∂/∂xₖ Π x = Π_{j≠k} xⱼ, never a division by x.
let x = Tensor<Float>([2, 0, 3])
let gProduct = try gradient(at: x) { $0.product() }                         // [0, 6, 0]
let gRunning = try gradient(at: x) { $0.cumulativeProduct(alongAxis: 0).sum() } // [1, 8, 0]
let stable = Tensor<Float>([-1000, 0, 1000]).logCumulativeSumExp(alongAxis: 0)   // [-1000, 0, 1000]
// snippet.end
same(gProduct.scalars, [0, 6, 0], "gradient of product")
same(gRunning.scalars, [1, 8, 0], "gradient of cumulativeProduct")
same(stable.scalars, [-1000, 0, 1000], "logCumulativeSumExp")

// snippet.sorting
// Sorting is stable; the sorted values are differentiable (the cotangent goes
// back through the permutation), the order is an index tensor.
let v = Tensor<Float>([3, 1, 3, 2])
let order = v.argsort()                               // [1, 3, 0, 2]
let (top, where2) = v.topK(2)                          // [3, 3] at [0, 2]
let gSorted = try gradient(at: v) { ($0.sorted() * Tensor<Float>([1, 2, 3, 4])).sum() }   // [3, 1, 4, 2]
// snippet.end
precondition(order.scalars == [1, 3, 0, 2] && where2.scalars == [0, 2])
same(top.scalars, [3, 3], "topK")
same(gSorted.scalars, [3, 1, 4, 2], "gradient of sorted")

// snippet.einsum
let p = Tensor<Float>([[1, 2], [3, 4]]), q = Tensor<Float>([[5, 6], [7, 8]])
let product = einsum("ij,jk->ik", p, q)         // matmul(p, q)
let outerProduct = einsum("i,j->ij", p[0], q[0]) // [2, 2]
let trace = einsum("ii", p)                     // 5
let blocks = kron(p, Tensor<Float>(identity: 2))  // [4, 4]
// snippet.end
same(product.scalars, matmul(p, q).scalars, "einsum matmul")
same(outerProduct.scalars, [5, 6, 10, 12], "einsum outer")
same(trace.scalars, [5], "einsum trace")
same(blocks.scalars, [1, 0, 2, 0, 0, 1, 0, 2, 3, 0, 4, 0, 0, 3, 0, 4], "kron")

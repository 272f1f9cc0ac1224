// Jacobians (both strategies), Hessians, Hessian-vector products.
import Autograd

// snippet.hide
func close(_ a: Tensor<Double>, _ b: Tensor<Double>, _ what: String) {
    precondition(a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) < 1e-10 }, what)
}
// snippet.show
// snippet.strategies
// f: [3] → [2]. J has shape [2] + [3] = [2, 3].
func f(_ x: Tensor<Double>) -> Tensor<Double> {
    Tensor(stacking: [(x * x).sum(), sin(x).sum() * x[0]])
}
let x = Tensor<Double>([0.5, -1, 2])

// m = 2 < n = 3: pulls 2 cotangents back
let automatic = try valueAndJacobian(of: f, at: x)
print(automatic.strategy, automatic.batchSize)               // reverse 2
// pushes 3 tangents forward instead:
let forward = try jacobian(of: f, at: x, strategy: .forward)
print(forward.shape)                                          // [2, 3]
// snippet.end
precondition(automatic.strategy == .reverse && automatic.batchSize == 2)
close(automatic.jacobian, forward, "both strategies give the same J")

// snippet.hessian
// A scalar function of x [3]: the Hessian has shape [3] + [3].
func energy(_ x: Tensor<Double>) -> Tensor<Double> {
    (x * x * x).sum() + (x[0] * x[1])
}
// forward over reverse, one batched pass
let H = try hessian(of: energy, at: x)
// 6·diag(x) + the x₀x₁ coupling
print(H)
// snippet.end
close(H, Tensor([[3, 1, 0], [1, -6, 0], [0, 0, 12]]), "H")

// snippet.hvp
let direction = Tensor<Double>([1, 0, -1])
// H·v without forming H
let Hv = try hvp(of: energy, at: x, vector: direction)
// vᵀH, reverse over reverse: equal for a symmetric H
let vH = try vhp(of: energy, at: x, vector: direction)
print(Hv)                                                     // [3, 1, -12]
// snippet.end
close(Hv, Tensor([3, 1, -12]), "H·v")
close(vH, Hv, "vᵀH = H·v")
close(Hv, matmul(H, direction), "H·v = H times v")

// snippet.several
// Several inputs: one Jacobian per input, each output shape + that input's
// shape.
let (a, b) = (Tensor<Double>([1, 2]), Tensor<Double>([[3, 4, 5]]))
let product = { (xs: [Tensor<Double>]) in
    matmul(xs[0].unsqueezed(at: 1), xs[1])
}
let parts = try jacobians(of: product, at: [a, b])
// [[2, 3, 2], [2, 3, 1, 3]]
print(parts.map(\.shape))
// snippet.end
precondition(parts.map(\.shape) == [[2, 3, 2], [2, 3, 1, 3]])

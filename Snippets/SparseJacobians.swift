// Sparse Jacobians: detect the pattern, colour it, compute J in one pass of a few tangents.
import Autograd

// snippet.detect
// A 5-point stencil on an [n, n] grid with zero boundary values (the Bratu residual).
let n = 30
func residual(_ u: Tensor<Double>) -> Tensor<Double> {
    let row = Tensor<Double>(zeros: [1, n]), column = Tensor<Double>(zeros: [n, 1])
    let north = Tensor(concatenating: [row, u[0..<(n - 1), .all]], alongAxis: 0)
    let south = Tensor(concatenating: [u[1..<n, .all], row], alongAxis: 0)
    let west = Tensor(concatenating: [column, u[.all, 0..<(n - 1)]], alongAxis: 1)
    let east = Tensor(concatenating: [u[.all, 1..<n], column], alongAxis: 1)
    let h2 = Double((n + 1) * (n + 1))
    return (u * 4 - (north + south + west + east)) * h2 - exp(u) * 6
}
let u0 = Tensor<Double>(zeros: [n, n])
let pattern = try jacobianSparsity(of: residual, at: u0)
// 900 × 900 pattern, 4380 non-zeros
print(pattern)
let coloring = JacobianColoring(pattern: pattern)
// forward 5: five tangents instead of 900
print(coloring.direction, coloring.colorCount)
// snippet.end
precondition(pattern.nonzeroCount == 5 * n * n - 4 * n && coloring.colorCount == 5)

// snippet.compute
let r = try sparseJacobian(of: residual, at: u0, pattern: pattern)
let J = r.jacobian                  // SparseMatrix<Double>, CSR
// 4380 3838.0 -961.0
print(J.nonzeroCount, J[0, 0], J[0, 1])
let Jv = J.multiplied(by: [Double](repeating: 1, count: n * n))
// snippet.end
let dense = try jacobian(of: residual, at: u0).reshaped(to: [n * n, n * n])
precondition(J.dense.scalars == dense.scalars && Jv.count == n * n)

// snippet.plan
// Newton's method: detect and colour once, then one pass per iterate.
let plan = try prepareSparseJacobian(of: residual, at: u0)
var u = u0
for _ in 0..<5 {
    let step = try plan.jacobian(of: residual, at: u)
    // ... solve J·δ = −F(u) with step.jacobian, then u = u + δ
    _ = step
    u = u + 0.01
}
// snippet.end

// snippet.explain
// What one call of the plan does and saves: non-zeros, colours, direction, vectors saved.
print(plan)
// Sparse Jacobian of an input of shape [30, 30]: J is 900 × 900
//   pattern: 4380 non-zeros (0.541% of 810000), at most 5 in a row and 5 in a column
//   colouring: 5 colours of the columns (forward mode: one tangent per colour); chosen automatically: …
//   one call: ONE forward pass of 5 tangents instead of 900 for the dense Jacobian: 895 saved, 180× fewer
//   …
// snippet.end
precondition(plan.vectorsSaved == n * n - 5 && plan.otherDirectionColorCount == 5)

// snippet.local
// The pattern at one point only: the inactive side of a relu, a where or a maximum drops out.
let x = Tensor<Double>([0.5, -1.5, 2.0, -0.25])
let g: (Tensor<Double>) -> Tensor<Double> = { x in relu(x) + maximum(x, x.reversedPairs()) }
let everywhere = try jacobianSparsity(of: g, at: x)                // valid at every point
let here = try jacobianSparsity(of: g, at: x, kind: .local)        // valid at x only
// 8 4
print(everywhere.nonzeroCount, here.nonzeroCount)
// snippet.end
precondition(everywhere.nonzeroCount == 8 && here.nonzeroCount == 4)

extension Tensor where Scalar == Double {
    /// [x₁, x₀, x₃, x₂]: neighbours swapped in pairs.
    func reversedPairs() -> Tensor { gathering(atIndices: [1, 0, 3, 2]) }
}

// linearize: evaluate f once, then apply J (and Jᵀ) as often as needed.
import Autograd

// snippet.linearize
// [2, 3] → [4]
func f(_ x: Tensor<Double>) -> Tensor<Double> {
    tanh(matmul(x, x.transposed())).flattened()
}
let x = Tensor<Double>([[0.3, -0.5, 1.2], [0.7, 0.1, -0.9]])

let (y, J) = try linearize(of: f, at: x)
let u = Tensor<Double>([[1, 0, 0], [0, 1, 0]])
// J·u, shaped like y [4]: f is not evaluated again
let Ju = try J(u)
// vᵀJ, shaped like x [2, 3]
let vJ = try J.transpose(Tensor<Double>([1, 0, 0, 1]))
let matrix = try J.materialize()         // J, shape [4] + [2, 3]
// [4] [4] [2, 3] [4, 2, 3]
print(y.shape, Ju.shape, vJ.shape, matrix.shape)
// what the map keeps alive: f's intermediate values
print(J.memoryBytes)
// snippet.end
let direct = try jvp(of: f, at: x, tangent: u).tangent
precondition(zip(Ju.scalars, direct.scalars).allSatisfy { abs($0 - $1) < 1e-12 })
precondition(matrix.shape == [4, 2, 3] && J.memoryBytes > 0)

// snippet.many
// Many directions at the same point: each costs only the forward rules, not
// an evaluation of f.
var rng = SeededGenerator(seed: 3)
let directions = (0..<10).map { _ in
    Tensor<Double>(randomNormal: [2, 3], using: &rng)
}
let products = try directions.map { try J($0) }
// snippet.end
precondition(products.count == 10)

// Linear algebra with derivatives: a Gaussian-process likelihood through Cholesky, its gradient and Hessian, and
// the same quantity through solve and logDeterminant; a norm's derivative at zero; eigh at a repeated eigenvalue
// and least squares.
import Autograd

// snippet.hide
func close(_ a: Tensor<Double>, _ b: Tensor<Double>, _ tolerance: Double, _ what: String) {
    precondition(a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) <= tolerance },
                 "\(what): \(a) vs \(b)")
}
// snippet.show
// snippet.likelihood
// Covariance K = A·Aᵀ/n + 0.1·I and data y: the negative log marginal
// likelihood ½ yᵀK⁻¹y + ½ log det K, through the Cholesky factor K = L·Lᵀ
// (yᵀK⁻¹y = ‖L⁻¹y‖², log det K = 2 Σ log Lᵢᵢ).
func negativeLogLikelihood(_ a: Tensor<Double>, _ y: Tensor<Double>) -> Tensor<Double> {
    let n = a.shape[0]
    let k = matmul(a, a, transposeB: true) / Double(n) + Tensor(identity: n) * 0.1
    let l = cholesky(k)
    let alpha = triangularSolve(l, y)                  // L⁻¹y
    return alpha.squared().sum() / 2 + log(l.diagonal()).sum()
}
let a = Tensor<Double>([[1, 0.5, 0], [0.2, 1, 0.3], [0, -0.4, 1]])
let y = Tensor<Double>([1, -1, 0.5])
let g = try gradient(at: a) { negativeLogLikelihood($0, y) }   // [3, 3]
// snippet.end

// snippet.general
// The same function through LU: solve and logDeterminant work for any
// invertible matrix, at twice Cholesky's cost.
func throughLU(_ a: Tensor<Double>, _ y: Tensor<Double>) -> Tensor<Double> {
    let n = a.shape[0]
    let k = matmul(a, a, transposeB: true) / Double(n) + Tensor(identity: n) * 0.1
    let quadratic = (y * solve(k, y)).sum()
    return quadratic / 2 + logDeterminant(k).logAbsoluteValue / 2
}
let gLU = try gradient(at: a) { throughLU($0, y) }     // equals g
// snippet.end
close(g, gLU, 1e-12, "Cholesky and LU give the same gradient")

// snippet.hessian
// Rules are written with differentiable operations, so second derivatives
// work too: the Hessian of the likelihood, shape [3, 3] + [3, 3].
let H = try hessian(of: { negativeLogLikelihood($0, y) }, at: a)
// snippet.end
let flat = H.reshaped(to: [9, 9])
close(flat, flat.transposed(), 1e-10, "the Hessian is symmetric")

// snippet.norm
// The derivative of a norm where x is zero is 0, for every p.
let origin = Tensor<Double>(zeros: [2, 3])
let atOrigin = try gradient(at: origin) { $0.norm(alongAxes: [1]).sum() }
print(atOrigin)                                     // zeros, shape [2, 3]
let v = Tensor<Double>([[3, 4], [0, 0]])
let rows = try gradient(at: v) { $0.norm(alongAxes: [1]).sum() }
print(rows)                                         // [[0.6, 0.8], [0, 0]]
// snippet.end
precondition(atOrigin.scalars == [0, 0, 0, 0, 0, 0] && rows.scalars == [0.6, 0.8, 0, 0])

// snippet.decompositions
// eigh at a repeated eigenvalue: tr exp(S) = Σ exp(λᵢ), computed through the
// eigenvectors, has the gradient exp(S), finite and exact even at S = I.
let s = Tensor<Double>(identity: 3)
let gExp = try gradient(at: s) { x in
    let (lambda, vectors) = eigh(x)
    return matmul(vectors * exp(lambda).unsqueezed(at: -2), vectors, transposeB: true).trace()
}                                                   // e · I
// Least squares through QR: the slope and intercept of a line, and how they
// move with the data.
let design = Tensor<Double>([[1, 1], [2, 1], [3, 1], [4, 1]])
let observed = Tensor<Double>([2.1, 3.9, 6.2, 7.8])
let fit = lstsq(design, observed)                   // [slope, intercept]
let sensitivity = try gradient(at: observed) { lstsq(design, $0)[0] }
// snippet.end
close(gExp, Tensor<Double>(identity: 3) * 2.718281828459045, 1e-12, "∇ tr exp(S) at I")
close(fit, Tensor<Double>([1.94, 0.15]), 1e-12, "the fitted line")
close(sensitivity, Tensor<Double>([-0.3, -0.1, 0.1, 0.3]), 1e-12, "∂slope/∂y")

// The log marginal likelihood of a Gaussian process with a trend and a seasonal kernel, written with cholesky,
// triangularSolve and diagonal, as `autograd example gp` computes it; its gradient and Hessian with respect to the
// six log hyperparameters, and a Newton step.
import Autograd
import Foundation

// snippet.hide
// A small stand-in for the CO₂ record: a rising trend, a yearly cycle and noise, in standardized units.
var rng = SeededGenerator(seed: 5)
let times = (0..<40).map { Double($0) * 0.3 }
let noise = Tensor<Double>(randomNormal: [40], standardDeviation: 0.05, using: &rng).scalars
let targets = zip(times, noise).map { t, e in 0.1 * t - 0.6 + 0.3 * sin(2 * Double.pi * t) + e }
// snippet.show
// snippet.kernel
// Constant matrices d² and 2 sin²(πd) of the differences d = tᵢ − tⱼ (years); the
// hyperparameters θ = (log σ₁, log ℓ₁, log σ₂, log ℓₚ, log ℓ₂, log σₙ) are the variable.
let n = times.count
let d = times.flatMap { s in times.map { s - $0 } }
let squared = Tensor<Double>(shape: [n, n], scalars: d.map { $0 * $0 })
let periodic = Tensor<Double>(shape: [n, n], scalars: d.map { 2 * sin(Double.pi * $0) * sin(Double.pi * $0) })
let y = Tensor<Double>(targets)

// k = σ₁² exp(−d²/2ℓ₁²) + σ₂² exp(−2 sin²(πd)/ℓₚ² − d²/2ℓ₂²) + σₙ² I
func covariance(_ theta: Tensor<Double>) -> Tensor<Double> {
    let trend = exp(theta[0] * 2 - squared * (exp(theta[1] * -2) * 0.5))
    let seasonal = exp(theta[2] * 2 - periodic * exp(theta[3] * -2) - squared * (exp(theta[4] * -2) * 0.5))
    return trend + seasonal + Tensor(identity: n) * (exp(theta[5] * 2) + 1e-6)
}

// log p(y | θ) = −½ yᵀK⁻¹y − ½ log det K − (n/2) log 2π, through K = L·Lᵀ:
// yᵀK⁻¹y = ‖L⁻¹y‖² and ½ log det K = Σ log Lᵢᵢ.
func logMarginalLikelihood(_ theta: Tensor<Double>) -> Tensor<Double> {
    let l = cholesky(covariance(theta))
    let z = triangularSolve(l, y)                         // L⁻¹y
    return -(z.squared().sum() / 2) - log(l.diagonal()).sum() - Double(n) / 2 * log(2 * Double.pi)
}
// snippet.end

// snippet.newton
// Newton's method with the Hessian (6 × 6, through Cholesky's rules
// differentiated again): θ ← θ − H⁻¹∇ log p, the step halved until log p
// increases (far from the maximum, H need not be negative definite).
var theta = Tensor<Double>([0, log(20), log(0.3), 0, log(50), log(0.05)])
let start = logMarginalLikelihood(theta).scalar
for _ in 0..<4 {
    let g = try gradient(at: theta, of: logMarginalLikelihood)
    let h = try hessian(of: logMarginalLikelihood, at: theta)
    var step = -solve(h, g)
    let current = logMarginalLikelihood(theta).scalar
    while logMarginalLikelihood(theta + step).scalar < current { step = step / 2 }
    theta = theta + step
}
print(logMarginalLikelihood(theta))                   // larger than at the start
// snippet.end
let end = logMarginalLikelihood(theta).scalar
precondition(end > start, "Newton steps increase log p: \(start) → \(end)")
// The gradient against central differences.
let g = try gradient(at: theta, of: logMarginalLikelihood).scalars
for i in 0..<6 {
    var plus = theta.scalars, minus = theta.scalars
    plus[i] += 1e-5
    minus[i] -= 1e-5
    let difference = (logMarginalLikelihood(Tensor(plus)).scalar - logMarginalLikelihood(Tensor(minus)).scalar) / 2e-5
    precondition(abs(difference - g[i]) <= 1e-5 * (1 + abs(difference)), "∂/∂θ\(i): \(g[i]) vs \(difference)")
}

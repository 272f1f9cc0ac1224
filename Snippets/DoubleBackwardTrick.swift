// J·u two ways: forward mode, and the "double-backward trick" built from two reverse passes.
import Autograd

var rng = SeededGenerator(seed: 42)
let x = Tensor<Double>(randomNormal: [100, 2], using: &rng)
let w = Tensor<Double>(randomNormal: [1, 2], using: &rng)
let y = Tensor<Double>(randomUniform: [100], using: &rng)
func losses(_ w: Tensor<Double>) -> Tensor<Double> {
    binaryCrossEntropy(probabilities: sigmoid(matmul(x, w.transposed())).flattened(), targets: y, reduction: .none)
}
let u = Tensor<Double>([[0.6, -0.8]])

// snippet.forward
// one forward pass
let (_, forward) = try jvp(of: losses, at: w, tangent: u)
// snippet.end

// snippet.byHand
// g(v) = vᵀJ is linear in v, so the gradient of ⟨g(v), u⟩ with respect to v
// is J·u, whatever v is (0 here).
let byHand = try gradient(at: Tensor<Double>(zeros: [100])) { v in
    // first reverse pass, itself recorded: g = vᵀJ [1, 2]
    let g = try vjp(of: losses, at: w, cotangent: v).vjp
    // ⟨g(v), u⟩; the outer reverse pass gives J·u [100]
    return (g * u).sum()
}
// snippet.end
precondition(zip(forward.scalars, byHand.scalars).allSatisfy { abs($0 - $1) < 1e-12 })

// snippet.builtIn
// three passes, two graphs
let (_, twice) = try jvpByDoubleBackward(of: losses, at: w, tangent: u)
// 0 up to rounding: the same J·u
print(zip(forward.scalars, twice.scalars).map { abs($0 - $1) }.max()!)
// snippet.end
precondition(zip(forward.scalars, twice.scalars).allSatisfy { abs($0 - $1) < 1e-12 })

// Per-example gradients of the motivating losses: the Jacobian [100] + [1, 2], in one forward pass.
import Autograd

var rng = SeededGenerator(seed: 42)
let x = Tensor<Float>(randomNormal: [100, 2], using: &rng)
let w = Tensor<Float>(randomNormal: [1, 2], using: &rng)
let y = Tensor<Float>(randomUniform: [100], using: &rng)
func losses(_ w: Tensor<Float>) -> Tensor<Float> {
    binaryCrossEntropy(probabilities: sigmoid(matmul(x, w.transposed())).flattened(), targets: y, reduction: .none)
}

// snippet.perExample
// [100, 1, 2]: row i is ∂ℓᵢ/∂w
let perExample = try perExampleGradients(of: losses, at: w)
print(perExample.shape)

// The closed form (σ(xᵢ·w) − yᵢ) xᵢ agrees:
let s = sigmoid(matmul(x, w.transposed())).flattened()
let closedForm = ((s - y).unsqueezed(at: 1) * x).reshaped(to: [100, 1, 2])
print(abs(perExample - closedForm).max())                    // ~1e-8
// snippet.end
precondition(perExample.shape == [100, 1, 2])
precondition(abs(perExample - closedForm).max().scalar < 1e-5)

// snippet.batchedVJP
// The other way: a batch of 100 one-hot cotangents through ONE reverse pass
// (PyTorch's is_grads_batched).
let wLeaf = w.requiringGradient()
let eye = Tensor<Float>(identity: 100)
let rows = try gradients(of: [losses(wLeaf)], wrt: [wLeaf], cotangents: [eye],
                         batched: true)[0]                  // [100] + [1, 2]
// snippet.end
precondition(rows.shape == [100, 1, 2] && abs(rows - perExample).max().scalar < 1e-5)

// snippet.norms
// Per-example gradient norms, e.g. for clipping or to find the examples that
// pull hardest:
let norms = sqrt(perExample.squared().sum(alongAxes: 1, 2))     // [100]
// snippet.end
precondition(norms.shape == [100])

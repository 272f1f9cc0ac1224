import Autograd

var rng = SeededGenerator(seed: 42)
let x = Tensor<Float>(randomNormal: [100, 2], using: &rng)      // data
let w = Tensor<Float>(randomNormal: [1, 2], using: &rng)        // weights
let y = Tensor<Float>(randomUniform: [100], using: &rng)        // targets in (0, 1)

func losses(_ w: Tensor<Float>) -> Tensor<Float> {              // [100]: one loss per example
    binaryCrossEntropy(probabilities: sigmoid(matmul(x, w.transposed())).flattened(), targets: y, reduction: .none)
}

// vᵀJ: v shaped like the output [100]; the result is shaped like w [1, 2].
let v = Tensor<Float>(ones: [100])
let (_, g) = try vjp(of: losses, at: w, cotangent: v)

// J·u: u shaped like the input [1, 2]; the result is shaped like the output [100]. One forward pass.
let u = Tensor<Float>([[1, 0]])
let (_, ju) = try jvp(of: losses, at: w, tangent: u)

// The whole Jacobian, shape [100] + [1, 2], built in one batched forward pass.
let J = try jacobian(of: losses, at: w)

// PyTorch style: mark a leaf, compute, walk back.
let wLeaf = w.requiringGradient()
let mean = losses(wLeaf).mean()
try mean.backward()
print(wLeaf.gradient!)          // ∂mean/∂w, shape [1, 2]

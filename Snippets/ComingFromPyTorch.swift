// PyTorch's autograd calls, one by one, in this library.
import Autograd

var rng = SeededGenerator(seed: 42)
let x = Tensor<Double>(randomNormal: [100, 2], using: &rng)
let w0 = Tensor<Double>(randomNormal: [1, 2], using: &rng)
let y = Tensor<Double>(randomUniform: [100], using: &rng)
func losses(_ w: Tensor<Double>) -> Tensor<Double> {
    binaryCrossEntropy(probabilities: sigmoid(matmul(x, w.transposed())).flattened(), targets: y, reduction: .none)
}
let v = Tensor<Double>(randomNormal: [100], using: &rng)
let u = Tensor<Double>([[0.6, -0.8]])

// snippet.grad
// torch.autograd.grad(outputs=ℓ, inputs=w, grad_outputs=v)
// w = w0.detach().requires_grad_()
let w = w0.requiringGradient()
let l = losses(w)
// vᵀJ, shaped like w
let g = try gradients(of: [l], wrt: [w], cotangents: [v])[0]
// snippet.end
precondition(g.shape == [1, 2])

// snippet.options
// retain_graph=True, create_graph=True, allow_unused=True (materialize_grads:
// unused inputs always get zeros)
let b = Tensor<Double>([0.5]).requiringGradient()     // not used by l
let h = try gradients(of: [losses(w)], wrt: [w, b], cotangents: [v],
                      retainGraph: true, createGraph: true, allowUnused: true)
// [0.]: zeros shaped like b, never None
print(h[1])
// snippet.end
precondition(h[1].scalars == [0])

// snippet.batched
// is_grads_batched=True: leading batch dimensions on every cotangent, ONE
// reverse pass
let eye = Tensor<Double>(identity: 100)               // 100 cotangents [100]
let rows = try gradients(of: [losses(w)], wrt: [w], cotangents: [eye],
                         batched: true)[0]
// [100, 1, 2]: the Jacobian, row by row
print(rows.shape)
// snippet.end
precondition(rows.shape == [100, 1, 2])

// snippet.backward
// loss.backward(); w.grad; w.grad.zero_()
let loss = losses(w).mean()
try loss.backward()
// ∂loss/∂w, accumulated into the leaf
print(w.gradient!)
w.clearGradient()
// snippet.end

// snippet.noGrad
// with torch.no_grad(): ... and tensor.detach()
let evaluated = withoutRecording { losses(w) }       // records nothing
// the same values, no history
let constant = w.detached()
print(evaluated.isRecorded, constant.isRecorded)      // false false
// snippet.end
precondition(!evaluated.isRecorded && !constant.isRecorded)

// snippet.update
// with torch.no_grad(): w -= lr * w.grad; then w.grad.zero_()
var weights = w0.requiringGradient()
for _ in 0..<100 {
    try losses(weights).mean().backward()
    // the value changes in place; weights stays the same leaf
    withoutRecording { weights -= 0.5 * weights.gradient! }
    weights.clearGradient()
}
print(weights.isLeaf)                                   // true
// snippet.end
precondition(weights.isLeaf && losses(weights).mean().scalar < losses(w0).mean().scalar)

// snippet.func
// torch.func.jvp(f, (w,), (u,)); torch.func.vjp(f, w)[1](v);
// jacrev / jacfwd; hessian
let (_, ju) = try jvp(of: losses, at: w0, tangent: u)
let (_, vj) = try vjp(of: losses, at: w0, cotangent: v)
let jRev = try jacobian(of: losses, at: w0, strategy: .reverse)
let jFwd = try jacobian(of: losses, at: w0, strategy: .forward)
let H = try hessian(of: { losses($0).mean() }, at: w0)
// snippet.end
precondition(ju.shape == [100] && vj.shape == [1, 2] && jRev.shape == [100, 1, 2] && jFwd.shape == [100, 1, 2])
precondition(H.shape == [1, 2, 1, 2])

// snippet.functionalJVP
// torch.autograd.functional.jvp(f, w, u): the double-backward trick; same
// numbers, three passes
let (_, ju2) = try jvpByDoubleBackward(of: losses, at: w0, tangent: u)
// snippet.end
precondition(zip(ju.scalars, ju2.scalars).allSatisfy { abs($0 - $1) < 1e-12 })

// snippet.anomaly
// with torch.autograd.detect_anomaly(): ...
let checked = try withAnomalyDetection {
    try gradient(at: w0) { losses($0).mean() }
}
// snippet.end
precondition(checked.shape == [1, 2])

// snippet.perSample
// vmap(grad(loss_of_one_example)) has no equivalent (no vmap); per-example
// gradients come from forward mode, [100, 1, 2]:
let perExample = try perExampleGradients(of: losses, at: w0)
// snippet.end
precondition(perExample.shape == [100, 1, 2])

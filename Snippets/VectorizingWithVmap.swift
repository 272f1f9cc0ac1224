// vmap: a function written for one example, applied to a batch at once; its pairings with derivative calls.
import Autograd

var rng = SeededGenerator(seed: 7)
let x = Tensor<Double>(randomNormal: [5, 3], using: &rng)      // 5 examples of 3 features
let w = Tensor<Double>(randomNormal: [3, 2], using: &rng)

// snippet.basic
// f is written for ONE example: x [3] → [2].
func f(_ xi: Tensor<Double>) -> Tensor<Double> { tanh(matmul(xi, w)) }
let ys = try vmap(over: x, of: f)                                  // [5, 3] → [5, 2]
// The same as a loop over the examples, stacked:
let looped = Tensor(stacking: (0..<5).map { f(x[$0]) }, alongAxis: 0)
print(abs(ys - looped).max())                                      // 0
// snippet.end
precondition(ys.shape == [5, 2] && abs(ys - looped).max().scalar < 1e-12)

// snippet.axes
// Map x along axis 1 (examples in columns), keep w whole (nil), put the example axis last.
let columns = x.transposed()                                       // [3, 5]
let outputs = try vmap(over: [columns, w], inAxes: [1, nil], outAxes: [-1]) { t in
    [tanh(matmul(t[0], t[1]))]                                     // t[0]: [3], t[1]: [3, 2]
}
print(outputs[0].shape)                                            // [2, 5]
// snippet.end
precondition(outputs[0].shape == [2, 5] && abs(outputs[0].transposed() - ys).max().scalar < 1e-12)

// snippet.vmapOfGradient
// Per-example gradients: vmap of gradient. ∇_w of each example's loss, [5] + [3, 2].
let perExample = try vmap(over: [x, w], inAxes: [0, nil]) { t in
    [try gradient(at: t[1]) { w in tanh(matmul(t[0], w)).sum() }]
}[0]
print(perExample.shape)                                            // [5, 3, 2]
// snippet.end
precondition(perExample.shape == [5, 3, 2])

// snippet.gradientOfVmap
// gradient of vmap: the derivative sees through the batched program.
let g = try gradient(at: w) { w in
    try vmap(over: x) { xi in tanh(matmul(xi, w)).sum() }.sum()
}
print(abs(g - perExample.sum(alongAxes: 0)).max())                 // ~1e-16: the sum of the per-example gradients
// snippet.end
precondition(abs(g - perExample.sum(alongAxes: 0)).max().scalar < 1e-12)

// snippet.perExampleGradients
// The same per-example gradients, with the mode chosen and reported: reverse here (6 weights > 5 examples).
let targets = Tensor<Double>(randomNormal: [5, 2], using: &rng)
let result = try perExampleGradients(of: { p, example in
    ((tanh(matmul(example[0], p[0])) - example[1]).squared()).sum()
}, at: [w], over: [x, targets])
print(result.mode, result.gradients[0].shape, result.losses.shape)  // reverse [5, 3, 2] [5]
// snippet.end
precondition(result.mode == .reverse && result.gradients[0].shape == [5, 3, 2])

// snippet.errors
// Mapped inputs must agree on the number of examples.
do {
    _ = try vmap(over: [x, Tensor<Double>(zeros: [4, 2])], inAxes: [0, 0]) { t in [t[0].sum() + t[1].sum()] }
} catch {
    print(error)   // vmap: input 1 (shape [4, 2]) has 4 examples along its in-axis 0, but an earlier ...
}
// snippet.end

// The samples of the API reference, compiled and run here.
do {
    let examples = x
    // per-example gradients of a loss, vectorized: [N, D] → [N, D]
    let g = try vmap(over: examples) { x in try gradient(at: x) { ($0 * $0).sum() } }
    precondition(abs(g - 2 * examples).max().scalar < 1e-12)
}
do {
    let parameters = [w], oneHot = targets
    func loss(_ p: [Tensor<Double>], _ x: Tensor<Double>, _ y: Tensor<Double>) -> Tensor<Double> {
        (tanh(matmul(x, p[0])) - y).squared().sum()
    }
    let r = try perExampleGradients(of: { p, ex in loss(p, ex[0], ex[1]) }, at: parameters, over: [x, oneHot])
    // r.gradients[0]: [N] + parameters[0].shape;  r.mode == .reverse for a model with many weights
    precondition(abs(r.gradients[0] - result.gradients[0]).max().scalar < 1e-12)
}

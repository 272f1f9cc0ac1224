// Convolution and pooling: a small convolutional block, its gradient in the weight, and a transposed convolution
// as the adjoint of a convolution.
import Autograd

// snippet.block
// A batch of 2 single-channel 8 × 8 images, 4 filters of 3 × 3 ("same" padding keeps 8 × 8), then 2 × 2 max
// pooling: [2, 1, 8, 8] → [2, 4, 8, 8] → [2, 4, 4, 4].
var rng = SeededGenerator(seed: 1)
let images = Tensor<Float>(randomNormal: [2, 1, 8, 8], using: &rng)
let weight = Tensor<Float>(randomNormal: [4, 1, 3, 3], standardDeviation: 1.0 / 3, using: &rng)
func block(_ w: Tensor<Float>) -> Tensor<Float> {
    maxPool2d(relu(conv2d(images, weight: w, padding: .same)), kernelSize: 2)
}
let pooled = block(weight)                                         // [2, 4, 4, 4]
let g = try gradient(at: weight) { block($0).squared().mean() }    // [4, 1, 3, 3]
// snippet.end
precondition(pooled.shape == [2, 4, 4, 4] && g.shape == weight.shape)

// snippet.adjoint
// conv2dTransposed with the same weight is the adjoint of conv2d in x:
// ⟨conv2d(x), y⟩ = ⟨x, conv2dTransposed(y)⟩.
let x = Tensor<Double>(randomNormal: [1, 3, 7, 7], using: &rng)
let w = Tensor<Double>(randomNormal: [5, 3, 3, 3], using: &rng)
let y = Tensor<Double>(randomNormal: [1, 5, 4, 4], using: &rng)
let forward = (conv2d(x, weight: w, stride: 2, padding: 1) * y).sum()
let adjoint = (x * conv2dTransposed(y, weight: w, stride: 2, padding: 1, outputPadding: 0)).sum()
// snippet.end
precondition(abs(forward.scalar - adjoint.scalar) < 1e-10 * (1 + abs(forward.scalar)))

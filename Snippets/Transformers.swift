// A pre-norm transformer block: a gradient step, inference mode, and an initializer.
import Autograd
import AutogradNN

// snippet.hide
var setup = SeededGenerator(seed: 1)
let x = Tensor<Float>(randomNormal: [2, 6, 16], using: &setup)
let target = Tensor<Float>(randomNormal: [2, 6, 16], using: &setup)
// snippet.show

// snippet.block
var rng = SeededGenerator(seed: 0)
var block = TransformerBlock<Float>(width: 16, headCount: 4, causal: true, using: &rng)
let y = block(x)                                   // x: [batch, length, 16] → the same shape
let g = try gradients(at: block) { b in (b(x) - target).squared().mean() }
// snippet.end
precondition(y.shape == [2, 6, 16] && g.count == block.parameterNames.count)

// snippet.mode
let model = Sequential {
    Linear<Float>(inputSize: 16, outputSize: 16, using: &rng)
    Dropout<Float>(probability: 0.1, seed: 7)
}
let logits = withLayerMode(.inference) { model(x) }   // no dropout; batch norm uses its running statistics
// snippet.end
precondition(logits.scalars == model.body.first(x).scalars)

// snippet.initializer
var layer = Linear<Float>(inputSize: 64, outputSize: 32, using: &rng)
layer.weight = Tensor(kaimingNormal: [32, 64], using: &rng)
// snippet.end
precondition(layer.weight.shape == [32, 64])

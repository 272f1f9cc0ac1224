// DP-SGD on the handwritten digits: per-example gradients, clipping, noise, a step; checked against a loop.
import Autograd
import AutogradNN

let data: LabeledDataset<Float> = try Digits.load()
let (training, _) = data.split(trainingFraction: 0.8, seed: 0)

// snippet.model
struct MLP: Layer {
    typealias Scalar = Float
    var hidden: Linear<Float>
    var output: Linear<Float>
    var parameterPaths: [ParameterPath<MLP>] {
        parameterPaths(of: \.hidden, named: "hidden") + parameterPaths(of: \.output, named: "output")
    }
    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { output(tanh(hidden(x))) }
}
var rng = SeededGenerator(seed: 1)
var model = MLP(hidden: Linear(inputSize: 64, outputSize: 32, using: &rng),
                output: Linear(inputSize: 32, outputSize: 10, using: &rng))
// snippet.end

// snippet.perExample
// A batch of B = 32 images: pixels [32, 64] in [0, 1], their digits, and
// the digits as one-hot rows [32, 10].
let batch = training.selecting(Array(0..<32))
let x = batch.features / 16
let labels = batch.labels.scalars.map { Int($0) }
let y: Tensor<Float> = oneHot(Tensor<Int32>(labels.map { Int32($0) }), classes: 10)

// The loss of ONE example (pixels [64], one-hot label [10]); the call maps
// it over the batch. g[k] has shape [32] + θₖ.shape.
let g = try perExampleGradients(of: { m, example in
    let logits = m(example[0].reshaped(to: [1, 64]))                // [1, 10]
    return -(logits.logSoftmax(alongAxes: 1) * example[1].reshaped(to: [1, 10])).sum()
}, at: model, over: [x, y], mode: .reverse).gradients
// snippet.end
precondition(g.map(\.shape) == [[32, 32, 64], [32, 32], [32, 10, 32], [32, 10]])

// snippet.clip
// ‖gᵢ‖ over all parameters together, then the factors min(1, C/‖gᵢ‖).
let clipNorm: Float = 1
let flat = g.map { $0.reshaped(to: [32, -1]) }                 // [32, Pₖ]
let norms = sqrt(flat.map { $0.squared().sum(alongAxes: 1) }
    .reduce(Tensor<Float>(zeros: [32]), +))                    // [32]
let factors = minimum(clipNorm / norms, 1).reshaped(to: [1, 32])
// Σᵢ factorᵢ·gᵢ for each parameter: one [1, B]·[B, Pₖ] product.
let clippedSum = zip(flat, model.parameters).map { g, θ in
    matmul(factors, g).reshaped(to: θ.shape)
}
// snippet.end

// snippet.loop
// The same clipped sum from one gradient call per example: B calls instead
// of one, and the same numbers.
var loopSum = model.parameters.map { Tensor<Float>(zerosLike: $0) }
for i in 0..<32 {
    let gi = try gradients(at: model) { m in
        crossEntropy(logits: m(x[i..<(i + 1)]), labels: [labels[i]])
    }
    let norm = sqrt(gi.map { $0.squared().sum() }.reduce(Tensor<Float>(0), +))
    let factor = minimum(clipNorm / norm, 1)
    loopSum = zip(loopSum, gi).map { $0 + $1 * factor }
}
// snippet.end
for (a, b) in zip(clippedSum, loopSum) {
    precondition(abs(a - b).max().scalar <= 1e-5 * abs(b).max().scalar)
}

// snippet.step
// Gaussian noise of standard deviation σ·C from a seeded generator, then the
// mean over the batch and a step of SGD.
let noiseMultiplier: Float = 1
var noiseGenerator = SeededGenerator(seed: 2)
let privateGradient = clippedSum.map { s in
    (s + Tensor<Float>(randomNormal: s.shape, using: &noiseGenerator) * (noiseMultiplier * clipNorm)) / 32
}
var optimizer = SGD<Float>(learningRate: 0.2, momentum: 0.9)
optimizer.update(&model, along: privateGradient)
// snippet.end

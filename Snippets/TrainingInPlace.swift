import Autograd
import AutogradNN

let data: LabeledDataset<Float> = try BreastCancer.load()
let (rawTraining, rawTest) = data.split(trainingFraction: 0.8, seed: 0)        // 455 / 114
let standardize = Standardizer(fittingTo: rawTraining.features)
let (training, test) = (standardize(rawTraining), standardize(rawTest))

var rng = SeededGenerator(seed: 1)
var model = Sequential {
    Linear<Float>(inputSize: 30, outputSize: 16, using: &rng)
    ReLU<Float>()
    Linear<Float>(inputSize: 16, outputSize: 1, using: &rng)
}
var optimizer = Adam<Float>(learningRate: 0.01)
for _ in 0..<100 {
    let g = try gradients(at: model) { m in                                     // one per parameter
        binaryCrossEntropy(logits: m(training.features).flattened(), targets: training.labels)
    }
    optimizer.update(&model, along: g)
}
print(binaryAccuracy(logits: model(test.features).flattened(), targets: test.labels))

// J·u of the per-example losses with respect to the parameters, u one tangent per parameter:
let u = model.parameters.map { Tensor<Float>(randomNormal: $0.shape, using: &rng) }
let (losses, ju) = try jvp(of: { m in
    binaryCrossEntropy(logits: m(training.features).flattened(), targets: training.labels, reduction: .none)
}, at: model, tangents: u)                                                     // both [455]

// A training loop on the Breast Cancer data: load, split, standardize, build a model, train, evaluate, save.
import Autograd
import AutogradNN
import Foundation

// snippet.data
// 569 examples of 30 features; labels 1 (malignant) and 0 (benign)
let data: LabeledDataset<Float> = try BreastCancer.load()
let (rawTraining, rawTest) = data.split(trainingFraction: 0.8, seed: 0)        // 455 / 114
// the training set's mean and deviation, applied to both sets
let standardize = Standardizer(fittingTo: rawTraining.features)
let (training, test) = (standardize(rawTraining), standardize(rawTest))
// snippet.end
precondition(training.count == 455 && test.count == 114)

// snippet.model
// A function returning a model names its element type: `some Layer<Float>`
// (a bare `some Layer` hides the type the model takes and returns, so nothing
// could be passed to it).
func makeModel(hidden: Int, using rng: inout SeededGenerator) -> some Layer<Float> {
    Sequential {
        Linear<Float>(inputSize: 30, outputSize: hidden, using: &rng)
        ReLU<Float>()
        Linear<Float>(inputSize: hidden, outputSize: 1, using: &rng)
    }
}
var rng = SeededGenerator(seed: 1)
var model = makeModel(hidden: 16, using: &rng)
// snippet.end

// snippet.train
func loss(_ m: some Layer<Float>, _ set: LabeledDataset<Float>) -> Tensor<Float> {
    binaryCrossEntropy(logits: m(set.features).flattened(), targets: set.labels)
}
var optimizer = Adam<Float>(learningRate: 0.01)
for epoch in 0..<100 {
    // one gradient per parameter, in parameterPaths order
    let (value, g) = try valueWithGradients(at: model) { m in loss(m, training) }
    optimizer.update(&model, along: g)
    if epoch % 25 == 0 { print("epoch \(epoch): loss \(value.scalar)") }
}
// snippet.end

// snippet.evaluate
let accuracy = binaryAccuracy(logits: model(test.features).flattened(), targets: test.labels)
print("test accuracy \(accuracy)")      // about 0.97
// snippet.end
precondition(accuracy > 0.9, "accuracy \(accuracy)")

// snippet.save
let url = FileManager.default.temporaryDirectory.appendingPathComponent("breast-cancer.safetensors")
try model.saveParameters(to: url)
var restored = makeModel(hidden: 16, using: &rng)      // other initial values
try restored.loadParameters(contentsOf: url)         // now equal to model's
// snippet.end
precondition(restored.parameters.map(\.scalars) == model.parameters.map(\.scalars))
try? FileManager.default.removeItem(at: url)

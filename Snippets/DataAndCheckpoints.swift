// The shipped data sets, minibatches, and a checkpoint that resumes training exactly.
import Autograd
import AutogradNN
import Foundation

// snippet.digits
let data: LabeledDataset<Float> = try Digits.load()
let (training, test) = data.split(trainingFraction: 0.8, seed: 0)      // 1 438 and 359 images
let images = Digits.images(training.features)                           // [1438, 1, 8, 8], values in [0, 1]
// snippet.end
precondition(training.count == 1438 && test.count == 359 && images.shape == [1438, 1, 8, 8])

// snippet.minibatches
var generator = SeededGenerator(seed: 0)
for epoch in 0..<10 {
    for batch in training.minibatches(ofSize: 64, shuffledBy: &generator) {
        // batch.features: [64, F] (the last batch may be smaller), batch.labels: [64]
        precondition(batch.count == 64 || batch.count == 1438 % 64, "epoch \(epoch)")
    }
}
// snippet.end

// snippet.text
let text = try PrideAndPrejudice.text()
let vocabulary = CharacterVocabulary(text)          // 75 characters
let codes = vocabulary.encode(text)                 // [Int], one per character
// snippet.end
precondition(vocabulary.count == 75 && vocabulary.decode(Array(codes.prefix(5))) == "PRIDE")

// A small model and loss for the checkpoint below.
func makeModel() -> Sequential<Chain<Chain<Linear<Float>, ReLU<Float>>, Linear<Float>>> {
    var rng = SeededGenerator(seed: 1)
    return Sequential {
        Linear<Float>(inputSize: 64, outputSize: 16, using: &rng)
        ReLU<Float>()
        Linear<Float>(inputSize: 16, outputSize: 10, using: &rng)
    }
}
let batch = training.selecting(Array(0..<64))
let labels = batch.labels.scalars.map { Int($0) }
func step(_ model: inout some Layer<Float>, _ optimizer: inout Adam<Float>) throws {
    let g = try gradients(at: model) { m in crossEntropy(logits: m(batch.features / 16), labels: labels) }
    optimizer.update(&model, along: g)
}
let url = FileManager.default.temporaryDirectory.appendingPathComponent("digits-\(UUID()).safetensors")
defer { try? FileManager.default.removeItem(at: url) }
var model = makeModel()
var optimizer = Adam<Float>(learningRate: 1e-3)
for _ in 0..<3 { try step(&model, &optimizer) }

// snippet.checkpoint
try model.saveCheckpoint(to: url, optimizer: optimizer)             // after some epochs

var resumedModel = makeModel()                                      // later, in a new process
var resumedOptimizer = Adam<Float>(learningRate: 1e-3)              // the same hyperparameters as before
try resumedModel.loadCheckpoint(contentsOf: url, optimizer: &resumedOptimizer)
// snippet.end

// The next step is the same, number for number, as the uninterrupted run's.
try step(&model, &optimizer)
try step(&resumedModel, &resumedOptimizer)
precondition(model.parameters.map(\.scalars) == resumedModel.parameters.map(\.scalars))
print("resumed exactly after \(resumedOptimizer.state.step) steps")

// The code samples of the `///` comments in Sources/AutogradNN, compiled and run here (the documentation tests
// check that every sample appears in a snippet).
import Autograd
import AutogradNN

// snippet.hide
var seeds = SeededGenerator(seed: 7)
let x = Tensor<Float>(randomNormal: [8, 30], using: &seeds)
let y = Tensor<Float>(randomUniform: [8, 1], using: &seeds)
// snippet.show

do {    // BreastCancer
    let data: LabeledDataset<Float> = try BreastCancer.load()
    let (training, test) = data.split(trainingFraction: 0.8, seed: 0)     // 455 and 114 examples
    precondition(training.count == 455 && test.count == 114)
}

do {    // Layer
    var rng = SeededGenerator(seed: 0)
    let model = Sequential {
        Linear<Float>(inputSize: 30, outputSize: 16, using: &rng)
        ReLU<Float>()
        Linear<Float>(inputSize: 16, outputSize: 1, using: &rng)
    }
    let logits = model(x)                       // x: [N, 30] → [N, 1]
    precondition(logits.shape == [8, 1])
}

do {    // Sequential
    var rng = SeededGenerator(seed: 0)
    let mlp = Sequential {
        Linear<Float>(inputSize: 30, outputSize: 16, using: &rng)
        ReLU<Float>()
        Linear<Float>(inputSize: 16, outputSize: 1, using: &rng)
    }
    precondition(mlp.parameterNames == ["0.weight", "0.bias", "2.weight", "2.bias"])
    print(mlp.parameterNames)   // ["0.weight", "0.bias", "2.weight", "2.bias"], as PyTorch names them
}

// Parameterized (a type declared at the top level, as in the documentation)
// snippet.struct
struct MLP: Layer {
    typealias Scalar = Float        // name it: Swift cannot infer it from the paths below
    var hidden: Linear<Float>
    var output: Linear<Float>

    var parameterPaths: [ParameterPath<MLP>] {
        parameterPaths(of: \.hidden, named: "hidden") + parameterPaths(of: \.output, named: "output")
    }
    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { output(relu(hidden(x))) }
}
// mlp.parameterNames == ["hidden.weight", "hidden.bias", "output.weight", "output.bias"]
// snippet.end

do {    // Optimizer
    var rng = SeededGenerator(seed: 0)
    var model = MLP(hidden: Linear(inputSize: 30, outputSize: 4, using: &rng),
                    output: Linear(inputSize: 4, outputSize: 1, using: &rng))
    precondition(model.parameterNames == ["hidden.weight", "hidden.bias", "output.weight", "output.bias"])
    var optimizer = Adam<Float>(learningRate: 1e-3)
    for _ in 0..<100 {
        let g = try gradients(at: model) { m in binaryCrossEntropy(logits: m(x), targets: y) }
        optimizer.update(&model, along: g)
    }
}

// Memory of the reverse pass, retainGraph, and when forward mode wins.
import Autograd

var rng = SeededGenerator(seed: 1)
let weights = (0..<20).map { _ in Tensor<Float>(randomNormal: [256, 256], standardDeviation: 0.06, using: &rng) }
let input = Tensor<Float>(randomNormal: [64, 256], using: &rng)
func network(_ x: Tensor<Float>) -> Tensor<Float> {
    weights.reduce(x) { h, w in tanh(matmul(h, w)) }
}

// snippet.released
// Each rule's saved values are released as soon as the rule has run, so
// memory falls during the pass. (Counting buffers is off unless turned on.)
StorageStatistics.isEnabled = true
let before = StorageStatistics.liveBytes
let x = input.requiringGradient()
let loss = network(x).squared().mean()
// what the graph saved for the reverse pass
let recorded = StorageStatistics.liveBytes - before
try loss.backward()
// after: only the gradient and the values still in use
print(recorded, StorageStatistics.liveBytes - before)
// snippet.end
precondition(StorageStatistics.liveBytes - before < recorded)

// snippet.retain
let x2 = input.requiringGradient()
let loss2 = network(x2).squared().mean()
// keep the saved values
_ = try gradient(of: loss2, wrt: x2, retainGraph: true)
// a second pass over the same graph, then released
_ = try gradient(of: loss2, wrt: x2)
do {
    // a third: the graph is gone
    _ = try gradient(of: loss2, wrt: x2)
} catch {
    // ... was released by an earlier reverse pass ...
    print(error)
}
// snippet.end

// snippet.evaluation
// Evaluation needs no graph at all:
let predictions = withoutRecording { network(input.requiringGradient()) }
// false: nothing was saved
print(predictions.isRecorded)
// snippet.end
precondition(!predictions.isRecorded)

import Foundation
import Testing
import Autograd
import AutogradNN

/// A long training loop's memory stays flat: every step's graph, saved tensors, gradients and the previous
/// parameters are released, so the live buffers and bytes after step 200 are those after step 10, and the peak of
/// a step does not grow. Counted in a child process of its own (an exit test): tests running in parallel in one
/// process allocate too. The child prints its figures on standard output.
@Suite struct TrainingMemoryTests {
    /// Figures of one training run, measured in the child and printed as `key=value` lines.
    static func train<O: Optimizer>(_ optimizer: O, steps: Int) throws -> [String: Int] where O.Scalar == Float {
        StorageStatistics.isEnabled = true
        var rng = SeededGenerator(seed: 3)
        let x = Tensor<Float>(randomNormal: [128, 20], using: &rng)
        let y = Tensor<Float>((x.sum(alongAxes: 1) .> 0))           // a learnable rule
        var model = Sequential {
            Linear<Float>(inputSize: 20, outputSize: 32, using: &rng)
            ReLU<Float>()
            Linear<Float>(inputSize: 32, outputSize: 16, using: &rng)
            Tanh<Float>()
            Linear<Float>(inputSize: 16, outputSize: 1, using: &rng)
        }
        var optimizer = optimizer
        var figures: [String: Int] = [:]
        var firstLoss: Float = 0, lastLoss: Float = 0
        for step in 1...steps {
            if step == 10 || step == 11 { StorageStatistics.resetPeak() }
            let (loss, g) = try valueWithGradients(at: model) { m in
                binaryCrossEntropy(logits: m(x).flattened(), targets: y)
            }
            optimizer.update(&model, along: g)
            if step == 1 { firstLoss = loss.scalar }
            lastLoss = loss.scalar
            // Measured at the same point of steps 10 and `steps`: this step's loss and gradients still held.
            if step == 10 || step == steps {
                figures["buffers\(step)"] = StorageStatistics.liveBuffers
                figures["bytes\(step)"] = StorageStatistics.liveBytes
                figures[step == 10 ? "peak10" : "peak11to\(step)"] = StorageStatistics.peakBytes
            }
        }
        if !(lastLoss < firstLoss * 0.7) { print("FAIL training did not progress: \(firstLoss) → \(lastLoss)") }
        return figures
    }

    @Test func memoryStaysFlatOverTwoHundredSteps() async throws {
        // The child prints its figures, and a FAIL line for each problem (a failed exit test returns no output).
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            for (name, figures) in [("Adam", try TrainingMemoryTests.train(Adam<Float>(learningRate: 0.01), steps: 200)),
                                    ("SGD+momentum", try TrainingMemoryTests.train(
                                        SGD<Float>(learningRate: 0.05, momentum: 0.9), steps: 200))] {
                print("\(name): " + figures.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                    .joined(separator: " "))
                if figures["buffers10"] != figures["buffers200"] { print("FAIL \(name): live buffers changed") }
                if figures["bytes10"] != figures["bytes200"] { print("FAIL \(name): live bytes changed") }
                if figures["peak11to200"]! > figures["peak10"]! { print("FAIL \(name): the peak of a step grew") }
            }
        }
        let output = String(decoding: result?.standardOutputContent ?? [], as: UTF8.self)
        for line in output.split(separator: "\n") where line.hasPrefix("FAIL") { Issue.record("\(line)\n\(output)") }
        #expect(output.contains("Adam: ") && output.contains("SGD+momentum: "), "\(output)")
    }
}

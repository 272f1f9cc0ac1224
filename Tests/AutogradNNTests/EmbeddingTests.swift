import Foundation
import Testing
import Autograd
@testable import AutogradNN

@Suite struct EmbeddingTests {
    @Test func looksUpRowsAndKeepsTheIndexShape() {
        let table = Embedding(weight: Tensor<Double>(shape: [4, 2], scalars: [0, 1, 10, 11, 20, 21, 30, 31]))
        let y = table(Tensor<Int32>(shape: [2, 3], scalars: [3, 0, 3, 1, 2, 0]))
        #expect(y.shape == [2, 3, 2])
        #expect(y.scalars == [30, 31, 0, 1, 30, 31, 10, 11, 20, 21, 0, 1])
        #expect(table.vocabularySize == 4 && table.width == 2)
    }

    @Test func theGradientAccumulatesIntoTheRowsLookedUp() throws {
        let table = Embedding(weight: Tensor<Double>(shape: [4, 2], scalars: (0..<8).map(Double.init)))
        let tokens = Tensor<Int32>([1, 3, 1])
        // loss = Σ over looked-up rows of (row · [1, 2]): each look-up adds [1, 2] to its row's gradient.
        let g = try gradients(at: table) { t in (t(tokens) * Tensor<Double>([1, 2])).sum() }
        #expect(g.count == 1 && g[0].shape == [4, 2])
        #expect(g[0].scalars == [0, 0, 2, 4, 0, 0, 1, 2])
    }

    @Test func initializationIsSeededAndStandardNormal() {
        var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 5)
        let e1 = Embedding<Float>(vocabularySize: 100, width: 50, using: &a)
        let e2 = Embedding<Float>(vocabularySize: 100, width: 50, using: &b)
        #expect(e1.weight.scalars == e2.weight.scalars && e1.weight.shape == [100, 50])
        let values = e1.weight.scalars.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        #expect(abs(mean) < 0.1 && abs(variance - 1) < 0.1)
    }

    @Test func anIndexOutsideTheTableStopsNamingIt() async {
        await #expect(processExitsWith: .failure) {
            let table = Embedding(weight: Tensor<Float>(zeros: [3, 2]))
            _ = table(Tensor<Int32>([0, -1]))
        }
    }
}

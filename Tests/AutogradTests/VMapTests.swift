import Foundation
import Testing
import Autograd

/// `vmap` against loops over the examples and closed forms, in every pairing with the derivative calls.
@Suite struct VMapTests {
    static func random(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
        var rng = SeededGenerator(seed: seed)
        return Tensor<Double>(randomNormal: shape, using: &rng)
    }

    static func maxDifference(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
        #expect(a.shape == b.shape)
        guard a.shape == b.shape else { return .infinity }
        return zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    /// The loop vmap stands for: f per example, stacked along a new axis 0.
    static func loop(_ x: Tensor<Double>, _ f: (Tensor<Double>) throws -> Tensor<Double>) rethrows -> Tensor<Double> {
        let rows = try (0..<x.shape[0]).map { i in try f(x[i]) }
        return Tensor(stacking: rows, alongAxis: 0)
    }

    @Test func elementwiseAndMatmulMatchTheLoop() throws {
        let x = Self.random([5, 3], seed: 1), w = Self.random([3, 4], seed: 2)
        let f: (Tensor<Double>) -> Tensor<Double> = { xi in tanh(matmul(xi, w)).sum() * xi.sum() + exp(xi).mean() }
        let batched = try vmap(over: x, of: f)
        #expect(Self.maxDifference(batched, Self.loop(x, f)) < 1e-12)
    }

    @Test func vmapOfGradientIsPerExampleGradients() throws {
        let x = Self.random([6, 3], seed: 3), w = Self.random([3, 2], seed: 4)
        // ∇_w of sum(tanh(x w)) per example, against one gradient per example.
        let g = try vmap(over: [x, w], inAxes: [0, nil]) { t in
            [try gradient(at: t[1]) { w in tanh(matmul(t[0].reshaped(to: [1, 3]), w)).sum() }]
        }[0]
        let expected = try Tensor(stacking: (0..<6).map { i in
            try gradient(at: w) { w in tanh(matmul(x[i].reshaped(to: [1, 3]), w)).sum() }
        }, alongAxis: 0)
        #expect(g.shape == [6, 3, 2])
        #expect(Self.maxDifference(g, expected) < 1e-12)
    }

    @Test func perExampleGradientsReverseAndForwardAgree() throws {
        let x = Self.random([4, 3], seed: 5), w = Self.random([3, 2], seed: 6), b = Self.random([2], seed: 7)
        let loss: ([Tensor<Double>], [Tensor<Double>]) -> Tensor<Double> = { p, ex in
            (tanh(matmul(ex[0].reshaped(to: [1, 3]), p[0]) + p[1]) * ex[1]).sum()
        }
        let y = Self.random([4, 2], seed: 8)
        let reverse = try perExampleGradients(of: loss, at: [w, b], over: [x, y], mode: .reverse)
        let forward = try perExampleGradients(of: loss, at: [w, b], over: [x, y], mode: .forward)
        let automatic = try perExampleGradients(of: loss, at: [w, b], over: [x, y])
        #expect(reverse.mode == .reverse && forward.mode == .forward && automatic.mode == .reverse)
        for j in 0..<2 {
            #expect(Self.maxDifference(reverse.gradients[j], forward.gradients[j]) < 1e-12)
            let loopG = try Tensor(stacking: (0..<4).map { i in
                try gradients(at: [w, b]) { p in loss(p, [x[i], y[i]]) }[j]
            }, alongAxis: 0)
            #expect(Self.maxDifference(reverse.gradients[j], loopG) < 1e-12)
        }
        let losses = Tensor(stacking: (0..<4).map { i in loss([w, b], [x[i], y[i]]) }, alongAxis: 0)
        #expect(Self.maxDifference(reverse.losses, losses) < 1e-12)
        #expect(Self.maxDifference(forward.losses, losses) < 1e-12)
    }
}

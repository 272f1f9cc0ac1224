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

    // MARK: - Pairings with the derivative calls, against loops and closed forms

    @Test func gradientOfVmapIsTheSumOfPerExampleGradients() throws {
        let x = Self.random([4, 3], seed: 11), w = Self.random([3, 2], seed: 12)
        let g = try gradient(at: w) { w in try vmap(over: x) { xi in sin(matmul(xi, w)).sum() }.sum() }
        let expected = try (0..<4).map { i in try gradient(at: w) { w in sin(matmul(x[i], w)).sum() } }
            .reduce(Tensor(zeros: [3, 2]), +)
        #expect(Self.maxDifference(g, expected) < 1e-12)
    }

    @Test func jacobianThroughVmap() throws {
        let x = Self.random([3, 2], seed: 13)
        // f(w) = vmap over rows of x of (xᵢ · w)² : [3]; J[i, j] = 2 (xᵢ·w) xᵢⱼ.
        let w = Self.random([2], seed: 14)
        let j = try jacobian(of: { w in try vmap(over: x) { xi in (xi * w).sum().squared() } }, at: w)
        let dots = (x * w).sum(alongAxes: 1)
        let expected = 2 * dots.unsqueezed(at: 1) * x
        #expect(Self.maxDifference(j, expected) < 1e-12)
    }

    @Test func vmapOfVmapCoversBothAxes() throws {
        let x = Self.random([3, 4, 2], seed: 15)
        let f: (Tensor<Double>) -> Tensor<Double> = { v in exp(v).sum() * v }
        let nested = try vmap(over: x) { row in try vmap(over: row, of: f) }
        var expected: [Tensor<Double>] = []
        for i in 0..<3 { expected.append(Tensor(stacking: (0..<4).map { f(x[i, $0]) }, alongAxis: 0)) }
        #expect(Self.maxDifference(nested, Tensor(stacking: expected, alongAxis: 0)) < 1e-12)
        // Mapped along different axes: the inner map over axis 1 of each [4, 2] slice, its results placed last.
        let swapped = try vmap(over: x) { row in try vmap(over: row, inAxis: 1, outAxis: -1) { c in c * c.sum() } }
        let expectedSwapped = x * x.sum(alongAxes: 1).unsqueezed(at: 1)
        #expect(Self.maxDifference(swapped, expectedSwapped) < 1e-12)
    }

    @Test func vmapOfJVPAndOfHVP() throws {
        let x = Self.random([5, 3], seed: 16), u = Self.random([5, 3], seed: 17)
        // jvp of f(x) = sin(x)·x along a per-example direction: (cos(x)·x + sin(x)) ⊙ u.
        let t = try vmap(over: [x, u]) { a in
            [try jvp(of: { sin($0) * $0 }, at: a[0], tangent: a[1]).tangent]
        }[0]
        #expect(Self.maxDifference(t, (cos(x) * x + sin(x)) * u) < 1e-12)
        // hvp of Σ xᵢ³ at each example along u: 6 x ⊙ u.
        let h = try vmap(over: [x, u]) { a in [try hvp(of: { ($0 * $0 * $0).sum() }, at: a[0], vector: a[1])] }[0]
        #expect(Self.maxDifference(h, 6 * x * u) < 1e-12)
    }

    /// d/dx [x · d/dy (x·y)] at y₀ = 2x per example: the inner derivative depends on the mapped input.
    @Test func innerDerivativeDependingOnTheMappedInput() throws {
        let x = Self.random([4], seed: 18), y0 = Tensor<Double>(0.7)
        let outer = try vmap(over: x) { xi in
            try gradient(at: xi) { xv in xv * (try gradient(at: y0) { y in xv * y }) }
        }
        #expect(Self.maxDifference(outer, 2 * x) < 1e-12)
        // The inner call with respect to the mapped input itself: d/dx (x · d/dx x²) = d/dx 2x² = 4x.
        let second = try vmap(over: x) { xi in
            try gradient(at: xi) { xv in xv * (try gradient(at: xv) { $0 * $0 }) }
        }
        #expect(Self.maxDifference(second, 4 * x) < 1e-12)
        // And outside: the gradient of a vmap of gradients, d/dw Σᵢ d/dxᵢ (w xᵢ²) = d/dw Σᵢ 2 w xᵢ = 2 Σᵢ xᵢ.
        let w = Tensor<Double>(1.3)
        let g = try gradient(at: w) { w in
            try vmap(over: x) { xi in try gradient(at: xi) { xv in w * xv * xv } }.sum()
        }
        #expect(Swift.abs(g.scalar - 2 * x.sum().scalar) < 1e-12)
    }

    @Test func reluAndMaxDerivativesArePerExample() throws {
        // The masks of relu′ and of max's tie weights come from each example's values, not the first one's.
        let x = Self.random([6, 5], seed: 19)
        let g = try vmap(over: x) { xi in try gradient(at: xi) { (relu($0) * $0).sum() + $0.max() } }
        let expected = try Self.loop(x) { xi in try gradient(at: xi) { (relu($0) * $0).sum() + $0.max() } }
        #expect(Self.maxDifference(g, expected) < 1e-12)
    }

    @Test func customOperationsAndValueReadsLoop() throws {
        let x = Self.random([4, 3], seed: 20)
        let g = try vmap(over: x) { xi in try gradient(at: xi) { NestingSine()($0).sum() } }
        #expect(Self.maxDifference(g, cos(x)) < 1e-12)
        // A comparison on a mapped value: the loop gives each example its own mask.
        let masked = try vmap(over: x) { xi in Tensor.where(xi .> 0, xi, xi * 0.5) }
        #expect(Self.maxDifference(masked, Tensor.where(x .> 0, x, x * 0.5)) < 1e-12)
    }

    // MARK: - Primitives batched over leading axes

    @Test func maskedSoftmaxWithPerExampleMasks() throws {
        // The mask comes from each example's values: a batching rule must see every example's mask.
        let x = Self.random([5, 2, 4], seed: 23)
        let f: (Tensor<Double>) -> Tensor<Double> = { xi in xi.softmax(where: xi .> 0) * xi }
        #expect(Self.maxDifference(try vmap(over: x, of: f), Self.loop(x, f)) < 1e-12)
        let g = try vmap(over: x) { xi in try gradient(at: xi) { (f($0) * $0).sum() } }
        let expected = try Self.loop(x) { xi in try gradient(at: xi) { (f($0) * $0).sum() } }
        #expect(Self.maxDifference(g, expected) < 1e-12)
    }

    @Test func solvesAndFactorizationsPerExample() throws {
        let a = Self.random([4, 3, 3], seed: 24), b = Self.random([3, 2], seed: 25)
        let f: (Tensor<Double>) -> Tensor<Double> = { ai in
            let s = matmul(ai, ai.transposed()) + Tensor<Double>(identity: 3) * 3
            let factors = matmul(cholesky(s), inverse(s)).sum() + eigh(s).eigenvalues.sum()
                + logDeterminant(s).logAbsoluteValue + determinant(ai) + qr(ai).r.sum() + svd(ai).singularValues.sum()
            return solve(ai + Tensor<Double>(identity: 3) * 4, b) + factors
        }
        #expect(Self.maxDifference(try vmap(over: a, of: f), Self.loop(a, f)) < 1e-10)
        let g = try vmap(over: a) { ai in try gradient(at: ai) { f($0).sum() } }
        let expected = try Self.loop(a) { ai in try gradient(at: ai) { f($0).sum() } }
        #expect(Self.maxDifference(g, expected) < 1e-9)
    }

    @Test func convolutionWithMappedImagesAndMappedWeights() throws {
        let x = Self.random([3, 2, 2, 5, 5], seed: 26), w = Self.random([4, 2, 3, 3], seed: 27)
        let shared: (Tensor<Double>) -> Tensor<Double> = { xi in
            avgPool2d(conv2d(xi, weight: w, padding: 1), kernelSize: 2).cumulativeProduct(alongAxis: 1)
        }
        #expect(Self.maxDifference(try vmap(over: x, of: shared), Self.loop(x, shared)) < 1e-12)
        // Per-example weights (as in per-example gradients of a convolution's weight), grouped and not.
        let ws = Self.random([3, 4, 1, 3, 3], seed: 28), image = Self.random([2, 2, 5, 5], seed: 29)
        let perWeight: (Tensor<Double>) -> Tensor<Double> = { wi in conv2d(image, weight: wi, groups: 2) }
        #expect(Self.maxDifference(try vmap(over: ws, of: perWeight), Self.loop(ws, perWeight)) < 1e-12)
        let g = try vmap(over: x) { xi in try gradient(at: w) { conv2d(xi, weight: $0).sum() } }
        let expected = try Self.loop(x) { xi in try gradient(at: w) { conv2d(xi, weight: $0).sum() } }
        #expect(Self.maxDifference(g, expected) < 1e-12)
    }

    @Test func logCumulativeSumExpWithPerExampleRunningMaxima() throws {
        // The running maximum that keeps it stable comes from each example's values; large values would overflow
        // with example 0's maximum.
        let x = Self.random([4, 6], seed: 30) * Tensor<Double>([1, 300, 1, 600]).reshaped(to: [4, 1])
        let f: (Tensor<Double>) -> Tensor<Double> = { $0.logCumulativeSumExp(alongAxis: 0, reverse: true) }
        #expect(Self.maxDifference(try vmap(over: x, of: f), Self.loop(x, f)) < 1e-9)
        let g = try vmap(over: x) { xi in try gradient(at: xi) { f($0).sum() } }
        #expect(Self.maxDifference(g, try Self.loop(x) { xi in try gradient(at: xi) { f($0).sum() } }) < 1e-12)
    }

    @Test func theseRulesVectorizeInTheCheckRows() throws {
        // The check rows record whether each mapped program ran through the batching rules or looped.
        let rows = try PrimitiveChecks.vmapRows()
        #expect(rows.allSatisfy { $0.passed })
        for name in ["softmax (where", "cholesky", "solve", "determinant", "inverse", "eigh", "svd", "qr", "conv2d",
                     "avgPool", "gather", "scatter", "cumulativeSum", "logCumulativeSumExp"] {
            let mine = rows.filter { $0.operation.contains(name) }
            #expect(!mine.isEmpty, "no vmap row for \(name)")
            #expect(mine.allSatisfy { $0.route == "vectorized" }, "\(name) loops")
        }
    }

    // MARK: - Errors

    @Test func mismatchedSizesAndUnmappedOutputsThrow() throws {
        let a = Self.random([4, 2], seed: 21), b = Self.random([3, 2], seed: 22)
        #expect(throws: AutogradError.self) { try vmap(over: [a, b]) { [$0[0] + $0[1]] } }
        #expect(throws: AutogradError.self) { try vmap(over: [a], inAxes: [2]) { $0 } }
        #expect(throws: AutogradError.self) { try vmap(over: [a], inAxes: [nil]) { $0 } }
        // An output that does not depend on the mapped input, with an out-axis: an error; with nil: returned once.
        #expect(throws: AutogradError.self) { try vmap(over: [a, b], inAxes: [0, nil]) { [$0[1] * 2] } }
        let once = try vmap(over: [a, b], inAxes: [0, nil], outAxes: [0, nil]) { [$0[0] * 2, $0[1] * 2] }
        #expect(once[1].shape == [3, 2] && Self.maxDifference(once[1], b * 2) == 0)
        do {
            _ = try vmap(over: [a, b]) { [$0[0] + $0[1]] }
        } catch let error as AutogradError {
            #expect("\(error)".contains("4 examples") || "\(error)".contains("3 examples"))
        }
    }
}


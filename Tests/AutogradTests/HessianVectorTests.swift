import Testing
@testable import Autograd

/// `hvp` collects only the tangents of the gradient and, for a matrix product feeding a weight, forms the tangent
/// of that weight's gradient without its value. These tests compare it with the general way of computing the same
/// thing (`jvp` of `gradients`, which forms everything) and with finite differences of the gradient, on the shapes
/// where the shortcut applies and on those where it must step aside.
@Suite struct HessianVectorTests {
    static let data: Tensor<Double> = {
        var rng = SeededGenerator(seed: 31)
        return Tensor(randomNormal: [6, 4], using: &rng)
    }()

    /// A two-layer network's loss in its weights and biases: every weight gradient is a product Xᵀ·ḡ or hᵀ·ḡ.
    static func loss(_ p: [Tensor<Double>]) -> Tensor<Double> {
        let h = tanh(matmul(data, p[0]) + p[1])
        return (sigmoid(matmul(h, p[2]) + p[3]) * matmul(h, p[2].transposed().transposed())).sum()
    }

    static func point(seed: UInt64) -> [Tensor<Double>] {
        var rng = SeededGenerator(seed: seed)
        return [Tensor(randomNormal: [4, 5], using: &rng), Tensor(randomNormal: [5], using: &rng),
                Tensor(randomNormal: [5, 3], using: &rng), Tensor(randomNormal: [3], using: &rng)]
    }

    /// H·v the general way: a JVP of the gradient, values and all.
    static func reference(_ f: ([Tensor<Double>]) -> Tensor<Double>, _ p: [Tensor<Double>],
                          _ v: [Tensor<Double>]) throws -> [Tensor<Double>] {
        try jvp(of: { try gradients(at: $0, of: f) }, at: p, tangents: v).tangents
    }

    /// (∇f(p + εv) − ∇f(p − εv)) / 2ε.
    static func finiteDifference(_ f: ([Tensor<Double>]) -> Tensor<Double>, _ p: [Tensor<Double>],
                                 _ v: [Tensor<Double>]) throws -> [Tensor<Double>] {
        let eps = 1e-5
        let plus = try gradients(at: zip(p, v).map { $0 + eps * $1 }, of: f)
        let minus = try gradients(at: zip(p, v).map { $0 - eps * $1 }, of: f)
        return zip(plus, minus).map { ($0 - $1) / (2 * eps) }
    }

    @Test func matchesTheGeneralWayAndFiniteDifferences() throws {
        let p = Self.point(seed: 1), v = Self.point(seed: 2)
        let hv = try hvp(of: Self.loss, at: p, vectors: v)
        let general = try Self.reference(Self.loss, p, v)
        let fd = try Self.finiteDifference(Self.loss, p, v)
        for k in p.indices {
            #expect(hv[k].shape == p[k].shape)
            expectClose(hv[k].scalars, general[k].scalars, tolerance: 1e-12)
            expectClose(hv[k].scalars, fd[k].scalars, tolerance: 1e-6)
        }
    }

    /// A weight used by two products: its slot sums two tangent-only contributions.
    @Test func aWeightUsedTwice() throws {
        let f = { (p: [Tensor<Double>]) -> Tensor<Double> in
            let h = tanh(matmul(Self.data, p[0]))
            return (matmul(h, p[1]) * matmul(tanh(matmul(h, p[1])), p[1].transposed())).sum()
        }
        var rng = SeededGenerator(seed: 5)
        let p = [Tensor<Double>(randomNormal: [4, 3], using: &rng), Tensor<Double>(randomNormal: [3, 3], using: &rng)]
        let v = [Tensor<Double>(randomNormal: [4, 3], using: &rng), Tensor<Double>(randomNormal: [3, 3], using: &rng)]
        let hv = try hvp(of: f, at: p, vectors: v)
        for (a, b) in zip(hv, try Self.reference(f, p, v)) { expectClose(a.scalars, b.scalars, tolerance: 1e-12) }
    }

    /// A batched product with a broadcast weight steps aside (the general way); the matrix-vector product beside it
    /// takes the shortcut for its matrix and not for its vector (reshaped first): the same results either way.
    @Test func batchedAndBroadcastProductsTakeTheGeneralWay() throws {
        let f = { (p: [Tensor<Double>]) -> Tensor<Double> in
            let batched = matmul(tanh(p[0]), p[1])                // [2, 3, 4] · [4, 2]: broadcast weight
            return (sigmoid(batched) * batched).sum() + tanh(matmul(p[1], p[2])).sum()  // [4, 2] · [2]: a vector
        }
        var rng = SeededGenerator(seed: 6)
        func draw() -> [Tensor<Double>] {
            [Tensor(randomNormal: [2, 3, 4], using: &rng), Tensor(randomNormal: [4, 2], using: &rng),
             Tensor(randomNormal: [2], using: &rng)]
        }
        let p = draw(), v = draw()
        let hv = try hvp(of: f, at: p, vectors: v)
        let fd = try Self.finiteDifference(f, p, v)
        for (k, (a, b)) in zip(hv, try Self.reference(f, p, v)).enumerated() {
            expectClose(a.scalars, b.scalars, tolerance: 1e-12)
            expectClose(a.scalars, fd[k].scalars, tolerance: 1e-6)
        }
    }

    /// Nested in a reverse pass (a third derivative): the inner pass records, so it forms everything.
    @Test func insideAGradient() throws {
        let w = Tensor<Double>([[0.3, -0.2], [0.5, 0.1]])
        let v = Tensor<Double>([[1, 0.5], [-0.4, 2]])
        let f = { (w: Tensor<Double>) -> Tensor<Double> in tanh(matmul(w, w)).sum() }
        let nested = try gradient(at: w) { try hvp(of: f, at: $0, vector: v).sum() }
        let general = try gradient(at: w) { try jvp(of: { try gradient(at: $0, of: f) }, at: $0, tangent: v).tangent.sum() }
        expectClose(nested.scalars, general.scalars, tolerance: 1e-12)
    }

    /// An input the loss does not use gets a zero H·v; a wrongly shaped vector is refused, naming hvp.
    @Test func unusedInputsAndMisshapenVectors() throws {
        let f = { (p: [Tensor<Double>]) -> Tensor<Double> in (p[0] * p[0]).sum() }
        let hv = try hvp(of: f, at: [Tensor([1, 2]), Tensor([3])], vectors: [Tensor([1, 1]), Tensor([5])])
        expectClose(hv[0].scalars, [2, 2], tolerance: 0)
        expectClose(hv[1].scalars, [0], tolerance: 0)
        #expect(throws: AutogradError.self) {
            try hvp(of: f, at: [Tensor([1, 2]), Tensor([3])], vectors: [Tensor([1, 1, 1]), Tensor([5])])
        }
    }
}

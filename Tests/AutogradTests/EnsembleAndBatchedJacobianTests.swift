import Foundation
import Testing
import Autograd

/// Uses of `vmap` beyond one model: an ensemble of K models with stacked parameters evaluated and trained at once,
/// and Jacobians of a function at many points; each against the loop it stands for.
@Suite struct EnsembleAndBatchedJacobianTests {
    /// K = 4 MLPs 5 → 8 tanh → 3, their parameters stacked along a new axis 0: W1 [K, 5, 8], b1 [K, 8],
    /// W2 [K, 8, 3], b2 [K, 3]; one shared batch x [16, 5] with one-hot labels y [16, 3].
    static let k = 4
    static func random(_ shape: [Int], seed: UInt64, scale: Double = 1) -> Tensor<Double> {
        var rng = SeededGenerator(seed: seed)
        return Tensor<Double>(randomNormal: shape, using: &rng) * scale
    }
    static let stacked = [random([k, 5, 8], seed: 1, scale: 0.5), random([k, 8], seed: 2, scale: 0.1),
                          random([k, 8, 3], seed: 3, scale: 0.4), random([k, 3], seed: 4, scale: 0.1)]
    static let x = random([16, 5], seed: 5)
    static let y: Tensor<Double> = oneHot(Tensor<Int32>((0..<16).map { Int32(($0 * 7) % 3) }), classes: 3)

    /// One member's mean cross-entropy on the batch.
    static func loss(_ p: [Tensor<Double>], _ x: Tensor<Double>, _ y: Tensor<Double>) -> Tensor<Double> {
        let z = matmul(tanh(matmul(x, p[0]) + p[1]), p[2]) + p[3]
        return -(z.logSoftmax(alongAxes: 1) * y).sum() / Double(x.shape[0])
    }

    /// Member k's parameters, sliced out of the stack.
    static func member(_ stacked: [Tensor<Double>], _ k: Int) -> [Tensor<Double>] { stacked.map { $0[k] } }

    /// The losses [K] and gradients [K] + shape of every member, in one vmapped call.
    static func valuesAndGradients(_ stacked: [Tensor<Double>]) throws -> [Tensor<Double>] {
        try vmap(over: stacked + [x, y], inAxes: [0, 0, 0, 0, nil, nil]) { t in
            let (value, g) = try valueWithGradients(at: Array(t[0..<4])) { p in loss(p, t[4], t[5]) }
            return [value] + g
        }
    }

    static func maxDifference(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
        #expect(a.shape == b.shape)
        guard a.shape == b.shape else { return .infinity }
        return zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    @Test func oneVmappedStepEqualsKSeparateFirstSteps() throws {
        let r = try Self.valuesAndGradients(Self.stacked)
        #expect(r.map(\.shape) == [[4], [4, 5, 8], [4, 8], [4, 8, 3], [4, 3]])
        let rate = 0.5
        let stepped = zip(Self.stacked, r[1...]).map { $0 - $1 * rate }
        for k in 0..<Self.k {
            let p = Self.member(Self.stacked, k)
            let (value, g) = try valueWithGradients(at: p) { Self.loss($0, Self.x, Self.y) }
            #expect(Swift.abs(r[0][k].scalar - value.scalar) < 1e-12)
            for j in 0..<4 {
                #expect(Self.maxDifference(r[j + 1][k], g[j]) < 1e-12)
                #expect(Self.maxDifference(stepped[j][k], p[j] - g[j] * rate) < 1e-12)
            }
        }
    }

    /// Twenty steps of the whole ensemble at once: every member's loss falls, and the result is that of K separate
    /// trainings; the ensemble's averaged prediction comes from one vmapped evaluation.
    @Test func theEnsembleTrainsAsKSeparateModels() throws {
        var stacked = Self.stacked
        var separate = (0..<Self.k).map { Self.member(Self.stacked, $0) }
        var first: Tensor<Double>?, last: Tensor<Double>?
        for _ in 0..<20 {
            let r = try Self.valuesAndGradients(stacked)
            if first == nil { first = r[0] }
            last = r[0]
            stacked = zip(stacked, r[1...]).map { $0 - $1 * 0.5 }
            for k in 0..<Self.k {
                let g = try gradients(at: separate[k]) { Self.loss($0, Self.x, Self.y) }
                separate[k] = zip(separate[k], g).map { $0 - $1 * 0.5 }
            }
        }
        for k in 0..<Self.k {
            #expect(last![k].scalar < first![k].scalar, "member \(k): \(first![k].scalar) → \(last![k].scalar)")
            for j in 0..<4 { #expect(Self.maxDifference(stacked[j][k], separate[k][j]) < 1e-10) }
        }
        // Evaluation: logits of every member at once, [K, 16, 3], then the mean of the members' probabilities.
        let logits = try vmap(over: stacked + [Self.x], inAxes: [0, 0, 0, 0, nil]) { t in
            [matmul(tanh(matmul(t[4], t[0]) + t[1]), t[2]) + t[3]]
        }[0]
        #expect(logits.shape == [4, 16, 3])
        for k in 0..<Self.k {
            let p = separate[k]
            let expected = matmul(tanh(matmul(Self.x, p[0]) + p[1]), p[2]) + p[3]
            #expect(Self.maxDifference(logits[k], expected) < 1e-10)
        }
        let averaged = logits.softmax(alongAxes: 2).mean(alongAxes: 0)
        #expect(averaged.shape == [16, 3])
        #expect(Swift.abs(averaged.sum().scalar - 16) < 1e-10)
    }

    /// f: R³ → R², f(x) = A·tanh(x) + ‖x‖²; its Jacobian A·diag(1 − tanh²x) + 2·1·xᵀ at 50 points, as one vmapped
    /// call, against 50 separate calls and the closed form.
    @Test func batchedJacobiansMatchTheLoopAndTheClosedForm() throws {
        let a = Self.random([2, 3], seed: 11)
        let points = Self.random([50, 3], seed: 12)
        let f = { (x: Tensor<Double>) in matmul(a, tanh(x)) + x.squared().sum() }
        let jacobians = try vmap(over: points) { x in try jacobian(of: f, at: x) }
        #expect(jacobians.shape == [50, 2, 3])
        for i in 0..<50 {
            let x = points[i]
            #expect(Self.maxDifference(jacobians[i], try jacobian(of: f, at: x)) < 1e-12)
            let t = tanh(x)
            let closed = a * (1 - t.squared()).reshaped(to: [1, 3]) + (x * 2).reshaped(to: [1, 3])
            #expect(Self.maxDifference(jacobians[i], closed) < 1e-12)
        }
    }
}

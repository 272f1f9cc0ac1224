import Foundation
import Synchronization
import Testing
@testable import Autograd

@Suite struct TransformCheckTests {
    static let rows = try! TransformChecks.run()

    @Test func everyTransformCheckPasses() {
        for row in Self.rows { #expect(row.passed, "\(row)") }
        let ops = Set(Self.rows.map(\.operation))
        for name in ["jacobian", "hessian", "hvp", "linearize", "perExampleGradients"] { #expect(ops.contains(name)) }
        #expect(ops.contains { $0.contains("custom") })
    }
}

/// A user-defined operation through the public API: the clamp-free "smooth absolute value" √(x² + ε).
struct SmoothAbs<Scalar: TensorScalar>: CustomOperation {
    var name: String { "smoothAbs" }
    var wrong = false
    func forward(_ x: [Tensor<Scalar>]) -> Tensor<Scalar> { sqrt(x[0].squared() + 0.01) }
    func vjp(_ c: CustomOperationContext<Scalar>, cotangent: Tensor<Scalar>) -> [Tensor<Scalar>?] {
        [cotangent * c.inputs[0] / c.output * (wrong ? 1.1 : 1)]
    }
    func jvp(_ c: CustomOperationContext<Scalar>, tangents: [Tensor<Scalar>?]) -> Tensor<Scalar>? {
        tangents[0].map { $0 * c.inputs[0] / c.output }
    }
}

/// A binary custom operation with broadcasting, written with only its reverse rule.
struct ScaledProduct<Scalar: TensorScalar>: CustomOperation {
    var name: String { "scaledProduct" }
    func forward(_ x: [Tensor<Scalar>]) -> Tensor<Scalar> { x[0] * x[1] * 3 }
    func vjp(_ c: CustomOperationContext<Scalar>, cotangent: Tensor<Scalar>) -> [Tensor<Scalar>?] {
        [c.unbroadcast(cotangent * c.inputs[1] * 3, toInput: 0), c.unbroadcast(cotangent * c.inputs[0] * 3, toInput: 1)]
    }
}

@Suite struct CustomOperationTests {
    struct Through<Op: CustomOperation>: TensorFunction where Op.Scalar == Double {
        let op: Op
        func callAsFunction<S: TensorScalar>(_ x: [Tensor<S>]) throws -> Tensor<S> {
            Tensor<S>(converting: op.apply(x.map { Tensor<Double>(converting: $0) }))
        }
    }

    @Test func checkerVerifiesACustomOperation() throws {
        let x = Tensor<Double>([-1.5, -0.2, 0.05, 0.7, 2])
        let good = try checkDerivatives(of: Through(op: SmoothAbs<Double>()), at: [x])
        #expect(good.filter { !$0.passed }.isEmpty, "\(good)")
        let bad = try checkDerivatives(of: Through(op: SmoothAbs<Double>(wrong: true)), at: [x])
        #expect(bad.first { $0.mode == "reverse" }?.passed == false)
        #expect(bad.first { $0.mode == "dot-product" }?.passed == false)   // the two rules disagree
    }

    @Test func derivedForwardRuleWithBroadcasting() throws {
        let a = Tensor<Double>([[1, 2, 3], [4, 5, 6]]), b = Tensor<Double>([0.5, -1, 2])
        let rows = try checkDerivatives(of: Through(op: ScaledProduct<Double>()), at: [a, b])
        #expect(rows.filter { !$0.passed }.isEmpty, "\(rows)")
    }

    @Test func higherOrderThroughACustomOperation() throws {
        // d²/dx² √(x² + ε) = ε / (x² + ε)^{3/2}
        let x = 0.3
        let second = try gradient(at: Tensor<Double>(x)) { x in try gradient(at: x) { SmoothAbs<Double>()($0) } }
        #expect(Swift.abs(second.scalar - 0.01 / Foundation.pow(x * x + 0.01, 1.5)) < 1e-10)
        let hv = try hvp(of: { SmoothAbs<Double>()($0).sum() }, at: Tensor<Double>([x]), vector: Tensor([1]))
        #expect(Swift.abs(hv.scalars[0] - second.scalar) < 1e-12)
    }
}

@Suite struct LinearizeTests {
    @Test func appliesWithoutEvaluatingAgain() throws {
        let evaluations = Atomic<Int>(0)
        let f: (Tensor<Double>) -> Tensor<Double> = { x in
            evaluations.add(1, ordering: .relaxed)
            return softplus(matmul(x, x.transposed())).logSoftmax() * x.sum()
        }
        let x = Tensor<Double>([[0.2, -0.4], [1.1, 0.5], [-0.3, 0.8]])
        let (value, linear) = try linearize(of: f, at: x)
        #expect(evaluations.load(ordering: .relaxed) == 1)
        #expect(value.shape == [3, 3] && linear.inputShape == [3, 2] && linear.outputShape == [3, 3])
        var rng = SeededGenerator(seed: 2)
        for _ in 0..<5 {
            let u = Tensor<Double>(randomNormal: [3, 2], using: &rng), v = Tensor<Double>(randomNormal: [3, 3], using: &rng)
            let ju = try linear(u), vj = try linear.transpose(v)
            let before = evaluations.load(ordering: .relaxed)
            expectClose(ju.scalars, try jvp(of: f, at: x, tangent: u).tangent.scalars, tolerance: 1e-12)
            expectClose(vj.scalars, try vjp(of: f, at: x, cotangent: v).vjp.scalars, tolerance: 1e-12)
            #expect(evaluations.load(ordering: .relaxed) == before + 2)   // only the two reference calls evaluated f
        }
        let j = try linear.materialize()
        expectClose(j.scalars, try jacobian(of: f, at: x).scalars, tolerance: 1e-12)
        #expect(linear.memoryBytes > 0 && linear.memoryBytes < 4096)
        #expect(throws: AutogradError.self) { try linear(Tensor<Double>(ones: [3, 3])) }
        #expect(throws: AutogradError.self) { try linear.transpose(Tensor<Double>(ones: [3, 2])) }
    }
}

@Suite struct PerExampleTests {
    @Test func oneGradientPerExample() throws {
        var rng = SeededGenerator(seed: 3)
        let x = Tensor<Double>(randomNormal: [8, 3], using: &rng)
        let w = Tensor<Double>(randomNormal: [3, 2], using: &rng), b = Tensor<Double>(randomNormal: [2], using: &rng)
        let losses: ([Tensor<Double>]) -> Tensor<Double> = { p in tanh(matmul(x, p[0]) + p[1]).squared().sum(alongAxes: 1) }
        let g = try perExampleGradients(of: losses, at: [w, b])
        #expect(g[0].shape == [8, 3, 2] && g[1].shape == [8, 2])
        for i in 0..<8 {
            let single = try gradients(at: [w, b]) { p in tanh(matmul(x[i], p[0]) + p[1]).squared().sum() }
            expectClose(g[0][i].scalars, single[0].scalars, tolerance: 1e-12)
            expectClose(g[1][i].scalars, single[1].scalars, tolerance: 1e-12)
        }
        #expect(throws: AutogradError.self) { try perExampleGradients(of: { $0.sum() }, at: w) }
    }
}

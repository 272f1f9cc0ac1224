import Foundation
import Testing
@testable import Autograd

@Suite struct ForwardModeTests {
    @Test func jvpIsTheDirectionalDerivative() throws {
        // f(x) = A·tanh(x): J = A diag(1 − tanh²x), J·u = A (u ⊙ (1 − tanh² x)).
        let a = Tensor<Double>([[1, 2, 0], [0, -1, 3]])
        let x = Tensor<Double>([0.1, -0.4, 0.8]), u = Tensor<Double>([1, 0.5, -2])
        let (value, ju) = try jvp(of: { matmul(a, tanh($0)) }, at: x, tangent: u)
        expectClose(value.scalars, matmul(a, tanh(x)).scalars)
        let expected = matmul(a, u * (1 - tanh(x).squared()))
        expectTensor(ju, shape: [2], expected.scalars, tolerance: 1e-12)
    }

    @Test func severalInputsAndOutputs() throws {
        let x = Tensor<Double>([1, 2]), y = Tensor<Double>([3, 4])
        let (values, tangents) = try jvp(of: { [$0[0] * $0[1], $0[0].sum()] }, at: [x, y],
                                         tangents: [Tensor([1, 0]), Tensor([0, 1])])
        expectTensor(values[0], shape: [2], [3, 8])
        expectTensor(tangents[0], shape: [2], [3, 2])   // ẋ·y + x·ẏ
        expectTensor(tangents[1], shape: [], [1])
    }

    @Test func batchedTangentsGiveManyProductsInOnePass() throws {
        let x = Tensor<Double>([0.3, -0.2, 0.9])
        let f: (Tensor<Double>) -> Tensor<Double> = { (exp($0) * $0.sum()).softmax() }
        let u = Tensor<Double>([[1, 0, 0], [0, 1, 0], [0.5, 0.5, 2]])
        let batched = try jvp(of: { [f($0[0])] }, at: [x], tangents: [u], batched: true).tangents[0]
        #expect(batched.shape == [3, 3])
        for i in 0..<3 {
            expectClose(batched[i].scalars, try jvp(of: f, at: x, tangent: u[i]).tangent.scalars, tolerance: 1e-12)
        }
    }

    @Test func doubleBackwardAgreesWithForwardMode() throws {
        var rng = SeededGenerator(seed: 5)
        let x = Tensor<Double>(randomNormal: [4, 3], using: &rng), w = Tensor<Double>(randomNormal: [3, 2], using: &rng)
        let f: (Tensor<Double>) -> Tensor<Double> = { sigmoid(matmul(x, $0)).logSoftmax() }
        let u = Tensor<Double>(randomNormal: [3, 2], using: &rng)
        let forward = try jvp(of: f, at: w, tangent: u)
        let twice = try jvpByDoubleBackward(of: f, at: w, tangent: u)
        expectClose(forward.tangent.scalars, twice.tangent.scalars, tolerance: 1e-12)
        expectClose(forward.value.scalars, twice.value.scalars)
        #expect(throws: AutogradError.self) { try jvpByDoubleBackward(of: f, at: w, tangent: Tensor(ones: [4, 2])) }
    }

    @Test func forwardModeRecordsNothing() throws {
        let (value, tangent) = try jvp(of: { exp($0) * 2 }, at: Tensor<Double>([1]), tangent: Tensor([1]))
        #expect(!value.isRecorded && !tangent.isRecorded)
    }

    /// Nested forward levels must not confuse their tangents (Siskind & Pearlmutter's example):
    /// d/dx [x · d/dy (x + y)] = d/dx [x · 1] = 1, not 2.
    @Test func nestedLevelsDoNotConfuseTangents() throws {
        let outer = try jvp(of: { x in
            x * (try! jvp(of: { y in x + y }, at: Tensor<Double>(1), tangent: Tensor(1)).tangent)
        }, at: Tensor<Double>(1), tangent: Tensor(1)).tangent
        #expect(outer.scalar == 1)
        // Forward over forward: d²/dx² sin x = −sin x.
        let second = try jvp(of: { x in try! jvp(of: { sin($0) }, at: x, tangent: Tensor(1)).tangent },
                             at: Tensor<Double>(0.7), tangent: Tensor(1)).tangent
        #expect(Swift.abs(second.scalar + Foundation.sin(0.7)) < 1e-12)
    }

    /// A tensor's single tangent is held as its bare buffer with its level beside it, in the tensor's derivative
    /// state (see `Tangents`), and a tensor stays four words. Buffers carry nothing of derivatives: the same buffer
    /// can be a value and a tangent, or the tangent of two nested levels, and a tangent that escapes its call is a
    /// constant in the next one.
    @Test func singleTangentsAreBareBuffersBesideTheirLevel() throws {
        #expect(MemoryLayout<AnyTensor>.stride == 4 * MemoryLayout<Int>.stride)
        let x = Tensor<Double>([0.5, -1.5]), u = Tensor<Double>([2, 3])
        // Operations that pass a tangent on unchanged (identity, reshape, adding a constant) share its buffer.
        let r = try jvp(of: { ($0.reshaped(to: [2, 1]) + 1).flattened() }, at: x, tangent: u)
        #expect(r.tangent.scalars == u.scalars)
        #expect(!r.value.isRecorded && !r.tangent.isRecorded)
        // The same u at two levels: d/dε [(x + εu) ⊙ u] = u ⊙ u.
        let nested = try jvp(of: { x in try jvp(of: { y in x * y }, at: x, tangent: u).tangent }, at: x, tangent: u)
        #expect(nested.tangent.scalars == (u * u).scalars)
        #expect(nested.value.scalars == (x * u).scalars)
        // The value itself as its own tangent: d/dε (x + εx)² = 2x², for u sharing x's buffer.
        let own = try jvp(of: { $0 * $0 }, at: x, tangent: x)
        #expect(own.tangent.scalars == (2 * x * x).scalars)
        // A tensor that escapes its jvp carrying a tangent is a constant in a later one.
        var escaped: Tensor<Double>?
        _ = try jvp(of: { x in
            let y = exp(x)
            escaped = y
            return y
        }, at: x, tangent: u)
        let later = try jvp(of: { $0 * escaped! }, at: x, tangent: u)
        #expect(later.tangent.scalars == (u * exp(x)).scalars)
        // The representation: one constant tangent is the bare buffer with its level; with history it is a list.
        let t = Tangents.single(Tensor<Double>([1, 2]).base, level: 7)
        #expect(t.singleLevel == 7)
        let withNode = AnyTensor(storage: x.base.storage, shape: [2], node: Tensor<Double>([1, 2]).requiringGradient().base.node,
                                 tangents: t)
        if case .reverseAndTangents(_, let list) = withNode.state {
            #expect(list.level == 7 && list.tangent.shape == [2])
        } else {
            Issue.record("history and a tangent together should keep the tangent in a list")
        }
    }

    @Test func modesCompose() throws {
        let f: (Tensor<Double>) -> Tensor<Double> = { (exp($0) * sin($0)).sum() }
        let x = Tensor<Double>([0.2, -0.7]), v = Tensor<Double>([1, -0.5])
        // Forward over reverse.
        let fr = try jvp(of: { try gradient(at: $0, of: f) }, at: x, tangent: v).tangent
        // Reverse over forward: ∇ₓ ⟨∇f, v⟩ = H v as well (H symmetric), via gradient of a jvp.
        let rf = try gradient(at: x) { x in try jvp(of: f, at: x, tangent: v).tangent }
        // Closed form: f'' = 2 eˣ cos x per coordinate (diagonal Hessian).
        let expected = zip(x.scalars, v.scalars).map { 2 * Foundation.exp($0) * Foundation.cos($0) * $1 }
        expectClose(fr.scalars, expected, tolerance: 1e-12)
        expectClose(rf.scalars, expected, tolerance: 1e-12)
    }
}

@Suite struct TransformTests {
    let x = Tensor<Double>([[0.3, -0.5, 1.2], [0.7, 0.1, -0.9]])
    func f(_ x: Tensor<Double>) -> Tensor<Double> { tanh(matmul(x, x.transposed())).flattened() * 2 + x.sum() }
    func scalar(_ x: Tensor<Double>) -> Tensor<Double> { (exp(x * 0.5) * sin(x)).sum() + x.squared().sum().squared() }

    @Test func jacobianStrategiesAgreeWithFiniteDifferences() throws {
        let forward = try valueAndJacobian(of: f, at: x, strategy: .forward)
        let reverse = try valueAndJacobian(of: f, at: x, strategy: .reverse)
        let auto = try valueAndJacobian(of: f, at: x)
        #expect(forward.jacobian.shape == [4, 2, 3] && forward.strategy == .forward && forward.batchSize == 6)
        #expect(reverse.strategy == .reverse && reverse.batchSize == 4 && auto.strategy == .reverse)
        expectClose(forward.jacobian.scalars, reverse.jacobian.scalars, tolerance: 1e-12)
        // Column j by central differences.
        let h = 1e-6
        for j in 0..<6 {
            var plus = x.scalars, minus = x.scalars
            plus[j] += h; minus[j] -= h
            let fd = zip(f(Tensor(shape: [2, 3], scalars: plus)).scalars, f(Tensor(shape: [2, 3], scalars: minus)).scalars)
                .map { ($0 - $1) / (2 * h) }
            let column = (0..<4).map { forward.jacobian.reshaped(to: [4, 6])[scalarAt: $0, j] }
            expectClose(column, fd, tolerance: 1e-7)
        }
        #expect(JacobianStrategy.automatic.resolved(inputCount: 2, outputCount: 100) == .forward)
    }

    @Test func motivatingJacobianShape() throws {
        var rng = SeededGenerator(seed: 0)
        let data = Tensor<Double>(randomNormal: [100, 2], using: &rng), w = Tensor<Double>(randomNormal: [1, 2], using: &rng)
        let y = Tensor<Double>(randomUniform: [100], using: &rng)
        let r = try valueAndJacobian(of: {
            binaryCrossEntropy(probabilities: sigmoid(matmul(data, $0.transposed())).flattened(), targets: y, reduction: .none)
        }, at: w)
        #expect(r.jacobian.shape == [100, 1, 2] && r.strategy == .forward && r.batchSize == 2)
        // Closed form: ∂ℓᵢ/∂w = (σ(xᵢ·w) − yᵢ) xᵢ.
        let s = sigmoid(matmul(data, w.transposed())).flattened()
        let closed = ((s - y).unsqueezed(at: 1) * data).reshaped(to: [100, 1, 2])
        expectClose(r.jacobian.scalars, closed.scalars, tolerance: 1e-12)
    }

    @Test func hessianIsSymmetricAndMatchesHVP() throws {
        let h = try hessian(of: scalar, at: x)
        #expect(h.shape == [2, 3, 2, 3])
        let m = h.reshaped(to: [6, 6])
        expectClose(m.scalars, m.transposed().scalars, tolerance: 1e-12)
        let v = Tensor<Double>([[1, -2, 0.5], [0, 0.3, 1]])
        let hv = try hvp(of: scalar, at: x, vector: v)
        expectClose(hv.scalars, matmul(m, v.flattened()).scalars, tolerance: 1e-12)
        expectClose(try vhp(of: scalar, at: x, vector: v).scalars, hv.scalars, tolerance: 1e-12)
        // Against the Jacobian of the gradient, computed in reverse mode.
        let jg = try jacobian(of: { try! gradient(at: $0, of: scalar) }, at: x, strategy: .reverse)
        expectClose(jg.scalars, h.scalars, tolerance: 1e-12)
    }

    @Test func hessianOfAQuadraticIsItsMatrix() throws {
        let a = Tensor<Double>([[2, 1], [1, 3]])
        let h = try hessian(of: { 0.5 * matmul($0, matmul(a, $0)) }, at: Tensor<Double>([0.4, -1]))
        expectTensor(h, shape: [2, 2], [2, 1, 1, 3], tolerance: 1e-14)
    }
}

import Testing
import Foundation
@testable import Autograd

@Test func smoke() throws {
    let x = Tensor<Double>([1, 2, 3]).requiringGradient()
    let y = (exp(x) * x).sum()
    let g = try gradient(of: y, wrt: x)
    // d/dx (x e^x) = e^x (1 + x)
    let expected = [1.0, 2, 3].map { Foundation.exp($0) * (1 + $0) }
    for (a, b) in zip(g.scalars, expected) { #expect(abs(a - b) < 1e-12) }

    let (v, t) = try jvp(of: { sin($0) * $0 }, at: Tensor<Double>([0.5, 1.0]), tangent: Tensor<Double>([1, 2]))
    let e = [0.5, 1.0].map { Foundation.cos($0) * $0 + Foundation.sin($0) }
    #expect(abs(t.scalars[0] - e[0]) < 1e-12 && abs(t.scalars[1] - 2 * e[1]) < 1e-12)
    #expect(abs(v.scalars[0] - Foundation.sin(0.5) * 0.5) < 1e-15)

    // Nested: d/dx [ d/dy (x*y) at y = x ] = 1
    let outer = try gradient(at: Tensor<Double>(3.0)) { x in try gradient(at: x) { y in x * y } }
    #expect(outer.scalar == 1)
    // Second derivative of x^3 at 2: 12
    let second = try gradient(at: Tensor<Double>(2.0)) { x in try gradient(at: x) { x in x * x * x } }
    #expect(abs(second.scalar - 12) < 1e-12)
    // Forward over reverse: d/de grad(x^3)(x + e u) = 6 x u
    let (_, hv) = try jvp(of: { x in try! gradient(at: x) { ($0 * $0 * $0).sum() } }, at: Tensor<Double>([2.0]), tangent: Tensor<Double>([1.0]))
    #expect(abs(hv.scalars[0] - 12) < 1e-12)
    // Reverse over forward: grad of (J u) for f = x^3: d/dx (3x^2 u) = 6 x u
    let rof = try gradient(at: Tensor<Double>([2.0])) { x in try jvp(of: { $0 * $0 * $0 }, at: x, tangent: Tensor<Double>([1.0])).tangent.sum() }
    #expect(abs(rof.scalars[0] - 12) < 1e-12)
    // forward over forward: second derivative of sin at 1 via nested jvp
    let ff = try jvp(of: { x in try! jvp(of: { sin($0) }, at: x, tangent: Tensor<Double>([1.0])).tangent }, at: Tensor<Double>([1.0]), tangent: Tensor<Double>([1.0])).tangent
    #expect(abs(ff.scalars[0] + Foundation.sin(1.0)) < 1e-12)
    // perturbation confusion (forward): d/dx [x * (d/dy (x + y) at y=1)] = 1
    let pc = try jvp(of: { x in x * (try! jvp(of: { y in x + y }, at: Tensor<Double>(1.0), tangent: Tensor<Double>(1.0)).tangent) }, at: Tensor<Double>(1.0), tangent: Tensor<Double>(1.0)).tangent
    #expect(pc.scalar == 1)
}

@Test func motivatingError() throws {
    var rng = SeededGenerator(seed: 0)
    let x = Tensor<Float>(randomNormal: [100, 2], using: &rng)
    let w = Tensor<Float>(randomNormal: [1, 2], using: &rng).requiringGradient()
    let y = Tensor<Float>(randomUniform: [100], using: &rng)
    let losses = binaryCrossEntropy(probabilities: sigmoid(matmul(x, w.transposed())).flattened(), targets: y, reduction: .none)
    let u = Tensor<Float>(randomNormal: [1, 2], using: &rng)
    do {
        _ = try gradient(of: losses, wrt: w, cotangent: u)
        Issue.record("expected an error")
    } catch let e as AutogradError {
        print(e)
        #expect(e.description.contains("jvp(of:at:tangent:)"))
    }
}

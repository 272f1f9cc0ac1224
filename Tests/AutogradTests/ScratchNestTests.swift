import Testing
@testable import Autograd

@Suite struct ScratchNest {
    func inner(_ x: Tensor<Double>) throws -> Tensor<Double> {
        x * (try gradient(at: Tensor<Double>(2)) { y in x * y })
    }
    @Test func leafOuter() throws {
        let x = Tensor<Double>(1.5).requiringGradient()
        let g = try gradient(of: try inner(x), wrt: x)
        #expect(g.scalar == 3)
    }
    @Test func backwardOuter() throws {
        let x = Tensor<Double>(1.5).requiringGradient()
        try inner(x).backward()
        #expect(x.gradient?.scalar == 3)
    }
    @Test func linearizeOuter() throws {
        let (_, J) = try linearize(of: inner, at: Tensor<Double>(1.5))
        #expect(try J.materialize().scalar == 3)
        let (_, J2) = try linearize(of: { x in try gradient(at: x) { ($0 * $0 * $0).sum() } }, at: Tensor<Double>([1.5]))
        #expect(try J2.materialize().scalars == [9])
    }
    @Test func doubleBackwardOuter() throws {
        let r = try jvpByDoubleBackward(of: inner, at: Tensor<Double>(1.5), tangent: Tensor<Double>(1))
        #expect(r.tangent.scalar == 3)
        // third derivative through it: d/dx of jvpByDoubleBackward(x^4)' = 12x^2 ... d/dx (4x^3) = 12 x^2
        let t = try gradient(at: Tensor<Double>(1.5)) { x in
            try jvpByDoubleBackward(of: { $0 * $0 * $0 * $0 }, at: x, tangent: Tensor<Double>(1)).tangent
        }
        #expect(abs(t.scalar - 12 * 2.25) < 1e-9)
    }
    @Test func linearizeInner() throws {
        let g = try gradient(at: Tensor<Double>(1.5)) { x in
            let (_, J) = try linearize(of: { y in x * y * y }, at: Tensor<Double>(2))
            return try J(Tensor<Double>(1)) * x   // J = 2xy = 4x; x*J = 4x^2 → 8x = 12
        }
        #expect(g.scalar == 12)
        let h = try jvp(of: { x in try linearize(of: { y in x * y * y }, at: Tensor<Double>(2)).linearMap.transpose(Tensor<Double>(1)) * x }, at: Tensor<Double>(1.5), tangent: Tensor<Double>(1))
        #expect(h.tangent.scalar == 12)
    }
    @Test func penalty() throws {
        let w = Tensor<Double>([0.5, -1]).requiringGradient()
        let x = Tensor<Double>([2, 3])
        // loss = sum(w*w) + |d/dx sum(sin(w*x))|^2 = sum w^2 + sum (w cos(w x))^2
        let gx = try gradient(at: x) { x in sin(w * x).sum() }
        let loss = (w * w).sum() + (gx * gx).sum()
        try loss.backward()
        let ref = try gradient(at: w.detached()) { w in
            let gx = w * cos(w * x)
            return (w * w).sum() + (gx * gx).sum()
        }
        #expect(zip(w.gradient!.scalars, ref.scalars).allSatisfy { abs($0 - $1) < 1e-12 })
    }
    @Test func vhpShape() throws {
        #expect(throws: AutogradError.self) {
            try vhp(of: { ($0 * $0).sum() }, at: Tensor<Double>([[1, 2]]), vector: Tensor<Double>([[1], [2]]))
        }
    }
}

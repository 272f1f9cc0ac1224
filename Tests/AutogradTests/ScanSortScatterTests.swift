import Foundation
import Testing
@testable import Autograd

/// Scans (cumulative products, logCumulativeSumExp, products), sorting (sorted, argsort, topK), scatter-adds, the
/// functional slice update, einsum and kron: values against direct computations, derivatives against finite
/// differences and the dot-product test, and the edge cases (zeros in products, ties, empty axes, bad input).
@Suite struct ScanSortScatterTests {
    /// Every mode of `checkDerivatives` passes for `f` at `x`.
    func expectDerivatives(_ name: String, at x: [Tensor<Double>],
                           _ f: @escaping ([Tensor<Double>]) -> Tensor<Double>) throws {
        for r in try checkDerivatives(of: f, at: x, name: name) { #expect(r.passed, "\(r)") }
    }

    @Test func cumulativeProductValues() {
        let x = Tensor<Double>([[1, 2, 3], [0, 4, 5]])
        #expect(x.cumulativeProduct(alongAxis: 1).scalars == [1, 2, 6, 0, 0, 0])
        #expect(x.cumulativeProduct(alongAxis: 1, reverse: true).scalars == [6, 6, 3, 0, 20, 5])
        #expect(x.cumulativeProduct(alongAxis: 0).scalars == [1, 2, 3, 0, 8, 15])
        #expect(Tensor<Double>(zeros: [2, 0]).cumulativeProduct(alongAxis: 1).shape == [2, 0])
    }

    /// ∂yᵢ/∂xₖ = Π_{j ≤ i, j ≠ k} xⱼ: with one zero, only the zero's own derivative survives beyond it; with two,
    /// everything after the second is flat. Checked against the closed form, not only finite differences.
    @Test func cumulativeProductGradientWithZeros() throws {
        let oneZero = Tensor<Double>([2, 0, 3, 4])
        let g = try gradient(at: oneZero) { $0.cumulativeProduct(alongAxis: 0).sum() }
        // y = [2, 0, 0, 0]; ∂Σy/∂x₀ = 1, ∂/∂x₁ = 2 + 2·3 + 2·3·4 = 32, ∂/∂x₂ = ∂/∂x₃ = 0.
        #expect(g.scalars == [1, 32, 0, 0])
        let twoZeros = Tensor<Double>([2, 0, 3, 0, 5])
        let h = try gradient(at: twoZeros) { $0.cumulativeProduct(alongAxis: 0).sum() }
        #expect(h.scalars == [1, 8, 0, 0, 0])
        for x in [oneZero, twoZeros, Tensor<Double>([0, 0, 1.5])] {
            try expectDerivatives("cumulativeProduct", at: [x]) { $0[0].cumulativeProduct(alongAxis: 0) }
            try expectDerivatives("cumulativeProduct reverse", at: [x]) {
                $0[0].cumulativeProduct(alongAxis: 0, reverse: true)
            }
        }
    }

    @Test func productHandlesZeros() throws {
        let x = Tensor<Double>([[2, 0, 3], [1, 4, 5]])
        #expect(x.product().scalar == 0)
        #expect(x.product(alongAxes: 1).scalars == [0, 20])
        #expect(x.product(alongAxes: [0], keepingDimensions: true).shape == [1, 3])
        #expect(Tensor<Double>(zeros: [3, 0]).product(alongAxes: 1).scalars == [1, 1, 1])
        let g = try gradient(at: x) { $0.product(alongAxes: 1).sum() }
        #expect(g.scalars == [0, 6, 0, 20, 5, 4])
        let two = try gradient(at: Tensor<Double>([0, 3, 0])) { $0.product() }
        #expect(two.scalars == [0, 0, 0])
        try expectDerivatives("product with zeros", at: [x]) { $0[0].product(alongAxes: 1) }
        try expectDerivatives("product second order", at: [Tensor<Double>([0, 2, 3])]) { x in
            (try? gradient(at: x[0]) { $0.product() }) ?? x[0]
        }
    }

    @Test func logCumulativeSumExpIsStable() throws {
        let x = Tensor<Double>([-1000, 0, 1000, 1000])
        let y = x.logCumulativeSumExp(alongAxis: 0).scalars
        #expect(y[0] == -1000 && y[1] == 0 && y[2] == 1000 && abs(y[3] - (1000 + log(2.0))) < 1e-12)
        let z = Tensor<Double>([-.infinity, 1, 2]).logCumulativeSumExp(alongAxis: 0).scalars
        #expect(z[0] == -.infinity && abs(z[2] - log(exp(1.0) + exp(2.0))) < 1e-12)
        var rng = SeededGenerator(seed: 5)
        let r = Tensor<Double>(randomNormal: [3, 4], using: &rng) * 3
        let naive = log(exp(r).cumulativeSum(alongAxis: 1))
        #expect((r.logCumulativeSumExp(alongAxis: 1) - naive).scalars.allSatisfy { abs($0) < 1e-12 })
        try expectDerivatives("logCumulativeSumExp", at: [r]) { $0[0].logCumulativeSumExp(alongAxis: 1, reverse: true) }
    }

    @Test func sortingIsStable() throws {
        let x = Tensor<Double>([3, 1, 3, 2, 1])
        #expect(x.argsort().scalars == [1, 4, 3, 0, 2])
        #expect(x.argsort(descending: true).scalars == [0, 2, 3, 1, 4])
        #expect(x.sorted().scalars == [1, 1, 2, 3, 3])
        #expect(Tensor<Double>([2, .nan, 1]).argsort().scalars == [2, 0, 1])
        let m = Tensor<Double>([[3, 1], [2, 5], [1, 4]])
        #expect(m.sorted(alongAxis: 0).scalars == [1, 1, 2, 4, 3, 5])
        #expect(Tensor<Double>(zeros: [2, 0]).sorted().shape == [2, 0])
        // The cotangent goes back through the permutation: position 2 (sorted to the end) gets weight 5.
        let weights = Tensor<Double>([1, 2, 3, 4, 5])
        let g = try gradient(at: x) { ($0.sorted() * weights).sum() }
        #expect(g.scalars == [4, 1, 5, 3, 2])
        try expectDerivatives("sorted", at: [Tensor<Double>([0.3, -1, 2, 0.5])]) { $0[0].sorted(descending: true) }
    }

    @Test func topKValuesAndIndices() throws {
        let x = Tensor<Double>([[1, 9, 3, 9], [4, 2, 8, 6]])
        let (v, i) = x.topK(2)
        #expect(v.scalars == [9, 9, 8, 6] && i.scalars == [1, 3, 2, 3])
        let (small, where_) = x.topK(1, alongAxis: 1, largest: false)
        #expect(small.scalars == [1, 2] && where_.scalars == [0, 1])
        #expect(x.topK(0).values.shape == [2, 0])
        let g = try gradient(at: x) { $0.topK(2).values.sum() }
        #expect(g.scalars == [0, 1, 0, 1, 0, 0, 1, 1])
    }

    @Test func scatterAddingAndIndexAdding() throws {
        let x = Tensor<Double>(zeros: [3, 2])
        let source = Tensor<Double>([[1, 2], [3, 4]])
        let i = Tensor<Int32>(shape: [2, 2], scalars: [2, 0, 2, 2])
        #expect(x.scatterAdding(source, alongAxis: 0, indices: i).scalars == [0, 2, 0, 0, 4, 4])
        let added = x.indexAdding(source, alongAxis: 0, indices: Tensor<Int32>([1, 1]))
        #expect(added.scalars == [0, 0, 4, 6, 0, 0])
        let (gx, gs) = try gradients(at: [x, source]) { t in
            (t[0].scatterAdding(t[1], alongAxis: 0, indices: i) * Tensor<Double>([[1, 2], [3, 4], [5, 6]])).sum()
        }.pair
        #expect(gx.scalars == [1, 2, 3, 4, 5, 6] && gs.scalars == [5, 2, 5, 6])
        var rng = SeededGenerator(seed: 9)
        let a = Tensor<Double>(randomNormal: [3, 2], using: &rng), b = Tensor<Double>(randomNormal: [2, 2], using: &rng)
        try expectDerivatives("scatterAdding", at: [a, b]) { $0[0].scatterAdding($0[1], alongAxis: 0, indices: i) }
        try expectDerivatives("indexAdding", at: [a, b]) {
            $0[0].indexAdding($0[1], alongAxis: 0, indices: Tensor<Int32>([2, 2]))
        }
    }

    @Test func updatingASlice() throws {
        let x = Tensor<Double>(shape: [4, 3], scalars: (0..<12).map(Double.init))
        let y = x.updating(at: 1..<3, with: Tensor<Double>(repeating: -1, shape: [2, 3]))
        #expect(y.scalars == [0, 1, 2, -1, -1, -1, -1, -1, -1, 9, 10, 11])
        let z = x.updating(at: .all, 2, with: Tensor<Double>([7]))   // broadcast into column 2
        #expect(z.scalars == [0, 1, 7, 3, 4, 7, 6, 7, 7, 9, 10, 7])
        #expect(x.updating(at: 2..<2, with: Tensor<Double>(zeros: [0, 3])).scalars == x.scalars)
        // x̄ = ȳ outside the block, ū = ȳ's block.
        let u = Tensor<Double>(zeros: [2, 3])
        let w = Tensor<Double>(shape: [4, 3], scalars: (1...12).map(Double.init))
        let (gx, gu) = try gradients(at: [x, u]) { ($0[0].updating(at: 1..<3, with: $0[1]) * w).sum() }.pair
        #expect(gx.scalars == [1, 2, 3, 0, 0, 0, 0, 0, 0, 10, 11, 12] && gu.scalars == [4, 5, 6, 7, 8, 9])
        try expectDerivatives("updating", at: [x, Tensor<Double>([1, 2])]) {
            $0[0].updating(at: stride(from: 0, to: 4, by: 2), 1, with: $0[1])
        }
    }

    @Test func einsumMatchesDirectComputations() throws {
        var rng = SeededGenerator(seed: 1)
        let a = Tensor<Double>(randomNormal: [3, 4], using: &rng), b = Tensor<Double>(randomNormal: [4, 2], using: &rng)
        func close(_ p: Tensor<Double>, _ q: Tensor<Double>) -> Bool {
            p.shape == q.shape && zip(p.scalars, q.scalars).allSatisfy { abs($0 - $1) < 1e-12 }
        }
        #expect(close(einsum("ij,jk->ik", a, b), matmul(a, b)))
        #expect(close(einsum("ij,jk", a, b), matmul(a, b)))             // implicit: i, k
        #expect(close(einsum("ij->ji", a), a.transposed()))
        #expect(close(einsum("ij,ij->", a, a), (a * a).sum()))
        #expect(close(einsum("ij->j", a), a.sum(alongAxes: 0)))
        #expect(close(einsum("i,j->ij", a[0], b[.all, 0]), a[0].unsqueezed(at: 1) * b[.all, 0]))
        let s = Tensor<Double>(randomNormal: [3, 3], using: &rng)
        #expect(close(einsum("ii", s), s.diagonal().sum()))
        #expect(close(einsum("ii->i", s), s.diagonal()))
        let q = Tensor<Double>(randomNormal: [2, 3, 4, 5], using: &rng), k = Tensor<Double>(randomNormal: [2, 3, 6, 5], using: &rng)
        #expect(close(einsum("bhqd,bhkd->bhqk", q, k), matmul(q, k.transposed(-1, -2))))
        #expect(close(einsum("bhqd,bhkd->bqhk", q, k), matmul(q, k.transposed(-1, -2)).permuted(0, 2, 1, 3)))
        try expectDerivatives("einsum ij,jk->ik", at: [a, b]) { einsum("ij,jk->ik", $0[0], $0[1]) }
        try expectDerivatives("einsum ii->i", at: [s]) { einsum("ii->i", $0[0]) }
    }

    @Test func kronecker() throws {
        let a = Tensor<Double>([[1, 2], [3, 4]]), b = Tensor<Double>([[0, 1], [1, 0]])
        #expect(kron(a, b).scalars == [0, 1, 0, 2, 1, 0, 2, 0, 0, 3, 0, 4, 3, 0, 4, 0])
        #expect(kron(Tensor<Double>([1, 2]), Tensor<Double>([1, 10, 100])).scalars == [1, 10, 100, 2, 20, 200])
        try expectDerivatives("kron", at: [a, Tensor<Double>([[0.5, -1, 2]])]) { kron($0[0], $0[1]) }
    }

    @Test func sparsityPatternsOfTheNewPrimitives() throws {
        let x = Tensor<Double>([1, 2, 3, 4])
        let pattern = try jacobianSparsity(of: { $0.cumulativeProduct(alongAxis: 0) }, at: x)
        // Lower triangular: yᵢ depends on x₀ … xᵢ.
        #expect(pattern.nonzeroCount == 10 && pattern.columnIndices == [0, 0, 1, 0, 1, 2, 0, 1, 2, 3])
        let gather = try jacobianSparsity(of: { $0.gathering(alongAxis: 0, indices: Tensor<Int32>([3, 3, 0])) }, at: x)
        #expect(gather.columnIndices == [3, 3, 0])
        let scatter = try jacobianSparsity(of: {
            Tensor<Double>(zeros: [2]).scatterAdding($0, alongAxis: 0, indices: Tensor<Int32>([1, 0, 1, 1]))
        }, at: x)
        #expect(scatter.columnIndices == [1, 0, 2, 3])
    }

    /// Zero-size axes go through every new operation and both modes without stopping.
    @Test func emptyAxesDifferentiate() throws {
        let empty = Tensor<Double>(zeros: [2, 0])
        let functions: [(String, (Tensor<Double>) -> Tensor<Double>)] = [
            ("cumulativeProduct", { $0.cumulativeProduct(alongAxis: 1) }),
            ("logCumulativeSumExp", { $0.logCumulativeSumExp(alongAxis: 1) }),
            ("product", { $0.product(alongAxes: 1) }),
            ("sorted", { $0.sorted() }),
            ("topK", { $0.topK(0).values }),
            ("gathering", { $0.gathering(alongAxis: 1, indices: Tensor<Int32>(shape: [2, 0], scalars: [Int]())) }),
            ("updating", { $0.updating(at: .all, 0..<0, with: Tensor<Double>(zeros: [2, 0])) }),
            ("einsum", { einsum("ij,kj->ik", $0, $0) }),
        ]
        for (name, f) in functions {
            let y = f(empty)
            let (_, g) = try vjp(of: f, at: empty, cotangent: Tensor(zeros: y.shape))
            let (_, t) = try jvp(of: f, at: empty, tangent: empty)
            #expect(g.shape == [2, 0] && t.shape == y.shape, "\(name)")
        }
        #expect(einsum("ij,kj->ik", empty, empty).scalars == [0, 0, 0, 0])
    }

    static func stderr(of result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func einsumErrorsNameTheLetter() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = einsum("ij,jk->ik", Tensor<Float>(zeros: [2, 3]), Tensor<Float>(zeros: [4, 2]))
        }
        #expect(Self.stderr(of: r).contains("letter 'j' has size 3 in operand 0 (axis 1) but 4 in operand 1"))
        let s = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = einsum("ij->iz", Tensor<Float>(zeros: [2, 3]))
        }
        #expect(Self.stderr(of: s).contains("output letter 'z' appears in no operand's term"))
    }

    @Test func topKOutOfRange() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3]).topK(4)
        }
        #expect(Self.stderr(of: r).contains("topK(_:alongAxis:): k = 4 is out of range for axis -1 of length 3"))
    }

    @Test func scatterIndexOutOfRange() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [3]).indexAdding(Tensor<Float>(ones: [2]), alongAxis: 0, indices: Tensor<Int32>([0, -4]))
        }
        #expect(Self.stderr(of: r).contains("indexAdding(_:alongAxis:indices:): index -4 at position [1]"))
    }
}

private extension Array {
    /// The two elements of a two-element array.
    var pair: (Element, Element) { (self[0], self[1]) }
}

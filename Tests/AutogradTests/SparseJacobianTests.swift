import Foundation
import Testing
@testable import Autograd

/// The 5-point Laplacian stencil of an [n, n] grid with zero boundary values, from slices and concatenation:
/// 4u − (north + south + west + east).
private func laplacian(_ u: Tensor<Double>) -> Tensor<Double> {
    let n = u.shape[0]
    let row = Tensor<Double>(zeros: [1, n]), column = Tensor<Double>(zeros: [n, 1])
    let north = Tensor(concatenating: [row, u[0..<(n - 1), .all]], alongAxis: 0)
    let south = Tensor(concatenating: [u[1..<n, .all], row], alongAxis: 0)
    let west = Tensor(concatenating: [column, u[.all, 0..<(n - 1)]], alongAxis: 1)
    let east = Tensor(concatenating: [u[.all, 1..<n], column], alongAxis: 1)
    return u * 4 - (north + south + west + east)
}

/// Functions with sparse Jacobians, each with a point to evaluate it at.
private let sparseFunctions: [(name: String, x: Tensor<Double>, f: @Sendable (Tensor<Double>) -> Tensor<Double>)] = [
    ("elementwise", Tensor([0.3, -1.2, 0.8, 2.0, -0.1]), { exp($0) * $0 + sin($0) }),
    ("banded", Tensor([0.5, -0.2, 1.1, 0.7, -0.9, 0.3, 0.4]), { x in
        let n = x.count
        let left = x[0..<(n - 2)], middle = x[1..<(n - 1)], right = x[2..<n]
        return (left - middle * 2 + right * right).squared()
    }),
    ("block-diagonal with matmul", Tensor(shape: [4, 3], scalars: (0..<12).map { sin(Double($0)) }), { x in
        let w = Tensor<Double>([[1, 2, 0], [0.5, -1, 3], [2, 0, 1]])
        return tanh(matmul(x, w)) * x
    }),
    ("stencil", Tensor(shape: [5, 5], scalars: (0..<25).map { cos(Double($0)) / 3 }), { u in
        laplacian(u) * 36 - exp(u) * 6
    }),
    ("reductions and broadcasting", Tensor(shape: [3, 4], scalars: (0..<12).map { Double($0) / 7 - 0.6 }), { x in
        x.sum(alongAxes: [1], keepingDimensions: true) * x + relu(x).max(alongAxes: [0], keepingDimensions: true)
    }),
    ("movement", Tensor(shape: [2, 3], scalars: [0.1, 0.9, -0.4, 0.6, -0.2, 0.3]), { x in
        let g = x.gathering(atIndices: [2, 0, 2], alongAxis: 1).permuted(1, 0).reshaped(to: [6])
        return maximum(g, x.flattened().squared()) + g.broadcasted(to: [2, 6]).sum(alongAxes: [0])
    }),
]

@Suite struct SparseJacobianTests {
    @Test func sparseMatrixConversionsProductAndTranspose() {
        let a = SparseMatrix<Double>(rowCount: 3, columnCount: 4, entries: [
            (row: 2, column: 1, value: 5), (row: 0, column: 3, value: 2), (row: 0, column: 0, value: 1),
            (row: 2, column: 1, value: 1), (row: 1, column: 2, value: -3),
        ])
        #expect(a.rowStart == [0, 2, 3, 4])
        #expect(a.columnIndices == [0, 3, 2, 1])
        #expect(a.values == [1, 2, -3, 6])
        #expect(a[2, 1] == 6 && a[1, 1] == 0)
        expectTensor(a.dense, shape: [3, 4], [1, 0, 0, 2, 0, 0, -3, 0, 0, 6, 0, 0])
        #expect(SparseMatrix(dense: a.dense) == a)
        #expect(a.multiplied(by: [1, 2, 3, 4]) == [9, -9, 12])
        let t = a.transposed()
        expectTensor(t.dense, shape: [4, 3], a.dense.transposed().scalars)
        #expect(t.transposed() == a)
        #expect(a.entries.map(\.value) == a.values)
    }

    @Test func coloringsAreValidAndTheDirectionIsTheCheaperOne() {
        // Two rows each summing half of ten inputs: columns of a row all differ (5 colours), rows share no column.
        let halves = SparsityPattern(rowCount: 2, columnCount: 10, rows: [Array(0..<5), Array(5..<10)])
        let forward = JacobianColoring(pattern: halves, direction: .forward)
        let reverse = JacobianColoring(pattern: halves, direction: .reverse)
        #expect(forward.colorCount == 5 && reverse.colorCount == 1)
        #expect(forward.isValid(for: halves) && reverse.isValid(for: halves))
        #expect(JacobianColoring(pattern: halves).direction == .reverse)
        // An invalid colouring is recognised as such.
        let tridiagonal = SparsityPattern(rowCount: 6, columnCount: 6,
                                          rows: (0..<6).map { i in (max(i - 1, 0)...min(i + 1, 5)).map { $0 } })
        let c = JacobianColoring(pattern: tridiagonal)
        #expect(c.direction == .forward && c.colorCount == 3 && c.isValid(for: tridiagonal))
        #expect(!JacobianColoring(pattern: tridiagonal, direction: .forward).isValid(for: halves.transposed()))
    }

    @Test(arguments: sparseFunctions.indices)
    func sparseEqualsDenseAndPatternCoversTheNonzeros(_ index: Int) throws {
        let (name, x, f) = sparseFunctions[index]
        let pattern = try jacobianSparsity(of: f, at: x)
        let m = f(x).count, n = x.count
        #expect(pattern.rowCount == m && pattern.columnCount == n, "\(name)")
        // Detected patterns hold every non-zero of the dense Jacobian at several random points.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<4 {
            let point = Tensor<Double>(randomNormal: x.shape, using: &rng)
            let dense = try jacobian(of: f, at: point).reshaped(to: [m, n]).scalars
            for i in 0..<m {
                for j in 0..<n where dense[i * n + j] != 0 {
                    #expect(pattern.contains(row: i, column: j), "\(name): ∂y\(i)/∂x\(j) missing")
                }
            }
        }
        // The sparse Jacobian equals the dense one, in both directions.
        let dense = try jacobian(of: f, at: x).reshaped(to: [m, n])
        for direction in [JacobianStrategy.forward, .reverse, .automatic] {
            let plan = try prepareSparseJacobian(of: f, at: x, direction: direction)
            #expect(plan.coloring.isValid(for: pattern), "\(name)")
            let r = try plan.jacobian(of: f, at: x)
            expectClose(r.value.scalars, f(x).scalars)
            expectClose(r.jacobian.dense.scalars, dense.scalars, tolerance: 1e-12)
        }
    }

    /// Every case of the library's derivative checks (every primitive, broadcasting, second-order cases), its
    /// inputs joined into one vector: the detected pattern holds the non-zeros of the dense Jacobian at random
    /// points, and the sparse Jacobian equals the dense one.
    @Test(arguments: PrimitiveChecks.cases.indices)
    func detectedPatternsCoverEveryPrimitive(_ index: Int) throws {
        let c = PrimitiveChecks.cases[index]
        let f = PrimitiveChecks.joined(c)
        var rng = SeededGenerator(seed: UInt64(index + 1))
        func point() -> Tensor<Double> { PrimitiveChecks.joinedPoint(c, using: &rng) }
        let x = point()
        let pattern = try jacobianSparsity(of: f, at: x)
        let m = try f(x).count, n = x.count
        for p in [x, point(), point()] {
            let dense = try jacobian(of: f, at: p).reshaped(to: [m, n]).scalars
            for i in 0..<m {
                for j in 0..<n where dense[i * n + j] != 0 && !pattern.contains(row: i, column: j) {
                    Issue.record("\(c.name): ∂y\(i)/∂x\(j) = \(dense[i * n + j]) is outside the pattern")
                    return
                }
            }
        }
        let sparse = try sparseJacobian(of: f, at: x, pattern: pattern)
        expectClose(sparse.jacobian.dense.scalars, try jacobian(of: f, at: x).scalars, tolerance: 1e-12)
    }

    /// `autograd check`'s sparsity rows: one per check case, every one passing.
    @Test func sparsityRowsOfTheChecker() throws {
        let rows = try PrimitiveChecks.sparsityRows()
        #expect(rows.count == PrimitiveChecks.cases.count)
        for row in rows where !row.passed { Issue.record("\(row)") }
        #expect(rows.allSatisfy { $0.mode == "sparsity" })
    }

    /// Local patterns: at a point, relu below its kink, the unselected side of `where`, the smaller side of
    /// `maximum` and the non-maximal elements of `max` drop out; the result holds exactly the dense Jacobian's
    /// non-zeros at that point, and is inside the global pattern.
    @Test func localPatternsPickTheActiveSideAtThePoint() throws {
        let x = Tensor<Double>([0.5, -1.5, 2.0, -0.25, 1.0, 3.0])
        let functions: [(String, (Tensor<Double>) -> Tensor<Double>)] = [
            ("relu", { relu($0) * 2 }),
            ("where", { x in Tensor.where(x .> 0, x.squared(), exp(x[0..<1]).broadcasted(to: [6])) }),
            ("maximum", { x in maximum(x[0..<3], x[3..<6]) }),
            ("max reduction", { x in x.reshaped(to: [2, 3]).max(alongAxes: [1]) }),
            ("abs and minimum", { x in minimum(abs(x), x.sum().broadcasted(to: [6]) * 0 + 1) }),
        ]
        for (name, f) in functions {
            let global = try jacobianSparsity(of: f, at: x)
            let local = try jacobianSparsity(of: f, at: x, kind: .local)
            let m = f(x).count, n = x.count
            let dense = try jacobian(of: f, at: x).reshaped(to: [m, n]).scalars
            let nonzeros = SparsityPattern(rowCount: m, columnCount: n, positions: (0..<(m * n))
                .filter { dense[$0] != 0 }.map { (row: $0 / n, column: $0 % n) })
            #expect(local == nonzeros, "\(name): local \(local), dense non-zeros \(nonzeros)")
            #expect(local.nonzeroCount < global.nonzeroCount, "\(name)")
            for i in 0..<m { for j in local.columns(inRow: i) { #expect(global.contains(row: i, column: j), "\(name)") } }
        }
        // Valid only at its point: at another point the relu's active set differs and the local pattern misses it.
        let local = try jacobianSparsity(of: { relu($0) }, at: x, kind: .local)
        let elsewhere = try jacobian(of: { relu($0) }, at: -x)
        #expect(!local.contains(row: 1, column: 1) && elsewhere.scalars[1 * 6 + 1] != 0)
        // A smooth function's local pattern is its global one.
        let smooth: (Tensor<Double>) -> Tensor<Double> = { exp($0) * $0.sum() }
        #expect(try jacobianSparsity(of: smooth, at: x, kind: .local) == jacobianSparsity(of: smooth, at: x))
    }

    /// The plan reports its direction, how it was chosen, and the vectors saved; automatic picks the fewer colours.
    @Test func planExplainsItsColoursAndDirection() throws {
        // An arrow: y₀ = Σ x, yᵢ = xᵢ². Forward needs n colours (row 0 meets every column), reverse needs 2.
        let n = 8
        let f: (Tensor<Double>) -> Tensor<Double> = { x in
            Tensor(concatenating: [x.sum().reshaped(to: [1]), x[1..<n].squared()])
        }
        let x = Tensor<Double>(shape: [n], scalars: (0..<n).map { Double($0) / 3 })
        let plan = try prepareSparseJacobian(of: f, at: x)
        #expect(plan.coloring.direction == .reverse && plan.coloring.colorCount == 2)
        #expect(plan.requestedDirection == .automatic && plan.otherDirectionColorCount == n)
        #expect(plan.denseVectorCount == n && plan.vectorsSaved == n - 2)
        let text = plan.description
        for piece in ["J is 8 × 8", "15 non-zeros", "2 colours of the rows (reverse mode",
                      "chosen automatically: the column colouring for forward mode needs 8",
                      "ONE reverse pass of 2 cotangents instead of 8", "6 saved, 4× fewer"] {
            #expect(text.contains(piece), "missing \"\(piece)\" in \(text)")
        }
        let forced = try prepareSparseJacobian(of: f, at: x, direction: .forward)
        #expect(forced.otherDirectionColorCount == nil && forced.description.contains("direction as requested"))
        expectClose(try plan.jacobian(of: f, at: x).jacobian.dense.scalars, try jacobian(of: f, at: x).scalars)
    }

    @Test func stencilPatternIsExact() throws {
        let n = 6
        let x = Tensor<Double>(shape: [n, n], scalars: (0..<(n * n)).map { sin(Double($0)) })
        let pattern = try jacobianSparsity(of: { laplacian($0) - exp($0) }, at: x)
        let expected = SparsityPattern(rowCount: n * n, columnCount: n * n, rows: (0..<(n * n)).map { k in
            let i = k / n, j = k % n
            return [(i, j), (i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)]
                .filter { (0..<n).contains($0.0) && (0..<n).contains($0.1) }.map { $0.0 * n + $0.1 }
        })
        #expect(pattern == expected)
        #expect(pattern.nonzeroCount == 5 * n * n - 4 * n)
        // The optimum, 5 colours, found by the greedy colouring and given by hand as (i + 2j) mod 5.
        let greedy = JacobianColoring(pattern: pattern)
        #expect(greedy.colorCount == 5 && greedy.isValid(for: pattern))
        let optimal = JacobianColoring(colors: (0..<(n * n)).map { ($0 / n + 2 * ($0 % n)) % 5 }, direction: .forward)
        #expect(optimal.colorCount == 5 && optimal.isValid(for: pattern))
        let r = try SparseJacobianPlan(pattern: pattern, inputShape: [n, n], coloring: optimal)
            .jacobian(of: { laplacian($0) - exp($0) }, at: x)
        expectClose(r.jacobian.dense.scalars, try jacobian(of: { laplacian($0) - exp($0) }, at: x).scalars)
    }

    @Test func aPatternForAnotherOutputSizeIsAnError() {
        let pattern = SparsityPattern(rowCount: 2, columnCount: 3, rows: [[0], [1, 2]])
        for direction in [JacobianStrategy.forward, .reverse] {
            let plan = SparseJacobianPlan(pattern: pattern, inputShape: [3], direction: direction)
            #expect(throws: AutogradError.self) { try plan.jacobian(of: { $0 * 2 }, at: Tensor<Double>([1, 2, 3])) }
        }
    }

    @Test func planChecksThatThePatternStillHolds() throws {
        // A function whose Swift code branches on the value: diagonal for a positive first element, else coupled.
        let f: (Tensor<Double>) -> Tensor<Double> = { x in
            x.scalars[0] > 0 ? x.squared() : x * x.sum()
        }
        let plan = try prepareSparseJacobian(of: f, at: Tensor([1, 2, 3]))
        #expect(plan.pattern.nonzeroCount == 3)
        #expect(try plan.patternHolds(for: f, at: Tensor([2, -1, 0])))
        #expect(try !plan.patternHolds(for: f, at: Tensor([-2, -1, 0])))
    }

    /// An elementwise custom operation, which the sparsity rules do not know.
    private struct Softsign: CustomOperation {
        var name: String { "softsign" }
        func forward(_ x: [Tensor<Double>]) -> Tensor<Double> { x[0] / (abs(x[0]) + 1) }
        func vjp(_ c: CustomOperationContext<Double>, cotangent: Tensor<Double>) -> [Tensor<Double>?] {
            [cotangent / (abs(c.inputs[0]) + 1).squared()]
        }
        func jvp(_ c: CustomOperationContext<Double>, tangents: [Tensor<Double>?]) -> Tensor<Double>? {
            tangents[0].map { $0 / (abs(c.inputs[0]) + 1).squared() }
        }
    }

    @Test func denseFallbackAndConstantsAreConservative() throws {
        // A custom operation gets the conservative rule: every output element may depend on every input element.
        let x = Tensor<Double>([1, -2, 3])
        let custom = try jacobianSparsity(of: { Softsign()($0) + $0 }, at: x)
        #expect(custom.nonzeroCount == 9)
        let r = try sparseJacobian(of: { Softsign()($0) + $0 }, at: x, pattern: custom)
        expectClose(r.jacobian.dense.scalars, try jacobian(of: { Softsign()($0) + $0 }, at: x).scalars)
        // A function whose output does not depend on x has an empty pattern.
        let none = try jacobianSparsity(of: { _ in Tensor<Double>([4, 5]) }, at: x)
        #expect(none.nonzeroCount == 0 && none.rowCount == 2)
        // A full matrix product couples everything.
        let full = try jacobianSparsity(of: { matmul(Tensor<Double>([[1, 2, 3], [4, 5, 6]]), $0) }, at: x)
        #expect(full.nonzeroCount == 6)
    }

    @Test func sparseHessianEqualsDense() throws {
        // A chain: f = Σ (x_{i+1} − x_i²)² + Σ x_i⁴ has a tridiagonal Hessian.
        let x = Tensor<Double>([0.3, -0.7, 1.1, 0.4, -0.2, 0.9])
        let f: (Tensor<Double>) -> Tensor<Double> = { x in
            let n = x.count
            return (x[1..<n] - x[0..<(n - 1)].squared()).squared().sum() + x.squared().squared().sum()
        }
        let pattern = try hessianSparsity(of: f, at: x)
        #expect(pattern.nonzeroCount == 6 + 2 * 5)
        let r = try sparseHessian(of: f, at: x)
        #expect(r.coloring.colorCount == 3)
        expectClose(r.value.scalars, [f(x).scalar])
        expectClose(r.jacobian.dense.scalars, try hessian(of: f, at: x).scalars, tolerance: 1e-10)
    }

    @Test func starColoringUsesTheSymmetry() throws {
        // An arrow: x₀ meets every xᵢ, the others only themselves. A distance-2 colouring needs n colours, a star
        // colouring 2 (x₀ alone, all others together; the entries (i, 0) are read from their mirror (0, i)).
        let n = 12
        let x = Tensor<Double>(shape: [n], scalars: (0..<n).map { sin(Double($0) + 1) })
        let f: (Tensor<Double>) -> Tensor<Double> = { x in (x[0..<1] * exp(x[1..<n])).sum() + x.squared().squared().sum() }
        let pattern = try hessianSparsity(of: f, at: x)
        #expect(pattern.nonzeroCount == n + 2 * (n - 1))
        #expect(JacobianColoring(pattern: pattern).colorCount == n)
        let star = JacobianColoring(starColoringOf: pattern)
        #expect(star.colorCount == 2)
        let r = try sparseHessian(of: f, at: x, pattern: pattern)
        expectClose(r.jacobian.dense.scalars, try hessian(of: f, at: x).scalars, tolerance: 1e-10)
    }

    /// Star colourings of random symmetric patterns recover random symmetric matrices exactly.
    @Test func starColoringsRecoverRandomSymmetricMatrices() throws {
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<20 {
            let n = Int.random(in: 5...30, using: &rng)
            var rows = (0..<n).map { [$0] }
            for _ in 0..<(2 * n) {
                let i = Int.random(in: 0..<n, using: &rng), j = Int.random(in: 0..<n, using: &rng)
                rows[i].append(j)
                rows[j].append(i)
            }
            let pattern = SparsityPattern(rowCount: n, columnCount: n, rows: rows)
            // f(x) = ½ xᵀAx with A symmetric on the pattern: H = A.
            var a = [Double](repeating: 0, count: n * n)
            for i in 0..<n { for j in pattern.columns(inRow: i) where j >= i {
                let v = Double.random(in: -1...1, using: &rng)
                a[i * n + j] = v
                a[j * n + i] = v
            } }
            let matrix = Tensor<Double>(shape: [n, n], scalars: a)
            let f: (Tensor<Double>) -> Tensor<Double> = { x in (x * matmul(matrix, x)).sum() * 0.5 }
            let r = try sparseHessian(of: f, at: Tensor(zeros: [n]), pattern: pattern)
            expectClose(r.jacobian.dense.scalars, a, tolerance: 1e-12)
        }
    }
}

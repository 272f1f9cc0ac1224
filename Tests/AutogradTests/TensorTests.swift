import Foundation
import Testing
@testable import Autograd

@Suite struct TensorCreationTests {
    @Test func shapesAndScalars() {
        let t = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(t.shape == [2, 3] && t.rank == 2 && t.count == 6)
        #expect(t.scalars == [1, 2, 3, 4, 5, 6])
        #expect(t[scalarAt: 1, 2] == 6)
        let s = Tensor<Double>(2.5)
        #expect(s.shape == [] && s.count == 1 && s.scalar == 2.5)
        #expect(Tensor<Double>([[1, 2], [3, 4]]).shape == [2, 2])
        #expect(Tensor<Double>([[[1], [2]], [[3], [4]]]).shape == [2, 2, 1])
        #expect(Tensor<Float>(zeros: [2, 0, 3]).count == 0)
    }

    @Test func constructors() {
        expectTensor(Tensor<Double>(zeros: [2]), shape: [2], [0, 0])
        expectTensor(Tensor<Double>(ones: [1, 2]), shape: [1, 2], [1, 1])
        expectTensor(Tensor<Float>(repeating: 7, shape: [3]), shape: [3], [7, 7, 7])
        expectTensor(Tensor<Double>(rangeFrom: 0, to: 1, stride: 0.25), shape: [4], [0, 0.25, 0.5, 0.75])
        expectTensor(Tensor<Double>(rangeFrom: 5, to: 0, stride: -2), shape: [3], [5, 3, 1])
        expectTensor(Tensor<Double>(linearSpaceFrom: 0, to: 1, count: 5), shape: [5], [0, 0.25, 0.5, 0.75, 1])
        expectTensor(Tensor<Double>(identity: 2), shape: [2, 2], [1, 0, 0, 1])
    }

    @Test func randomIsReproducibleAndWellDistributed() {
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7), c = SeededGenerator(seed: 8)
        let x = Tensor<Double>(randomNormal: [10_000], using: &a)
        #expect(x.scalars == Tensor<Double>(randomNormal: [10_000], using: &b).scalars)
        #expect(x.scalars != Tensor<Double>(randomNormal: [10_000], using: &c).scalars)
        let mean = x.mean().scalar
        let variance = (x - mean).squared().mean().scalar
        #expect(Swift.abs(mean) < 0.05 && Swift.abs(variance - 1) < 0.05)
        let u = Tensor<Float>(randomUniform: [10_000], in: 2..<3, using: &a)
        #expect(u.scalars.allSatisfy { $0 >= 2 && $0 < 3 })
        #expect(Swift.abs(u.mean().scalar - 2.5) < 0.02)
    }

    @Test func copyOnWrite() {
        let a = Tensor<Double>([1, 2, 3])
        var b = a
        b[scalarAt: 0] = 10
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [10, 2, 3])
        var c = a.reshaped(to: [3, 1])
        c[scalarAt: 2, 0] = -1
        #expect(a.scalars == [1, 2, 3] && c.scalars == [1, 2, -1])
        // Permutations that move only length-1 axes share the buffer too (no copy), and stay values.
        let row = Tensor<Double>([[1, 2, 3]])
        var column = row.transposed()
        #expect(column.shape == [3, 1] && column.scalars == [1, 2, 3])
        column[scalarAt: 1, 0] = 20
        #expect(row.scalars == [1, 2, 3] && column.scalars == [1, 20, 3])
        let moved = Tensor<Double>(rangeFrom: 0, to: 6, stride: 1).reshaped(to: [2, 1, 3]).permuted(1, 0, 2)
        #expect(moved.shape == [1, 2, 3] && moved.scalars == [0, 1, 2, 3, 4, 5])
        let swapped = Tensor<Double>(rangeFrom: 0, to: 6, stride: 1).reshaped(to: [2, 1, 3]).permuted(2, 1, 0)
        #expect(swapped.shape == [3, 1, 2] && swapped.scalars == [0, 3, 1, 4, 2, 5])
    }

    @Test func printingLooksLikeNumPy() {
        let t = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, -5, 6])
        #expect(t.description == "Tensor<Float> [2, 3]\n[[ 1.,  2.,  3.],\n [ 4., -5.,  6.]]")
        #expect(Tensor<Double>([0.5, 1.25]).description == "Tensor<Double> [2]\n[0.5000, 1.2500]")
        #expect(Tensor<Double>(3).description == "Tensor<Double> [] 3.")
        #expect(Tensor<Double>([1e-9, 1]).description.contains("1.0000e-09"))
        let big = Tensor<Float>(zeros: [40, 40])
        #expect(big.description.contains("..."))
        #expect(big.description.split(separator: "\n").count < 12)
        let mask = Tensor<Double>([1, -1]) .> Tensor<Double>(0)
        #expect(mask.description == "Tensor<Bool> [2]\n[true, false]")
        #expect(Tensor<Double>([1]).requiringGradient().description.contains("leaf"))
    }

    @Test func conversion() {
        let d = Tensor<Double>([0.1, 0.2])
        let f = Tensor<Float>(converting: d)
        #expect(f.scalars == [Float(0.1), Float(0.2)])
        #expect(Tensor<Double>(converting: f).scalarType == .float64)
        #expect(AnyTensor(f).scalarType == .float32)
    }
}

@Suite struct OperationValueTests {
    @Test func broadcastingArithmetic() {
        let a = Tensor<Double>(shape: [2, 1], scalars: [1, 2])
        let b = Tensor<Double>([10, 20, 30])
        expectTensor(a + b, shape: [2, 3], [11, 21, 31, 12, 22, 32])
        expectTensor(a * b - 1, shape: [2, 3], [9, 19, 29, 19, 39, 59])
        expectTensor(b / a, shape: [2, 3], [10, 20, 30, 5, 10, 15])
        expectTensor(2 - a, shape: [2, 1], [1, 0])
        expectTensor(6 / a, shape: [2, 1], [6, 3])
        expectTensor(-a, shape: [2, 1], [-1, -2])
        var c = a
        c += 1; c *= 3
        expectTensor(c, shape: [2, 1], [6, 9])
    }

    @Test func elementwiseFunctions() {
        let x = Tensor<Double>([-2, -0.5, 0, 0.5, 2])
        let xs = x.scalars
        expectTensor(exp(x), shape: [5], xs.map(Foundation.exp))
        expectTensor(tanh(x), shape: [5], xs.map(Foundation.tanh))
        expectTensor(sigmoid(x), shape: [5], xs.map { 1 / (1 + Foundation.exp(-$0)) })
        expectTensor(relu(x), shape: [5], [0, 0, 0, 0.5, 2])
        expectTensor(abs(x), shape: [5], [2, 0.5, 0, 0.5, 2])
        expectTensor(softplus(x), shape: [5], xs.map { Foundation.log(1 + Foundation.exp($0)) }, tolerance: 1e-12)
        expectTensor(sin(x), shape: [5], xs.map(Foundation.sin))
        expectTensor(cos(x), shape: [5], xs.map(Foundation.cos))
        let p = Tensor<Double>([0.25, 1, 4])
        expectTensor(sqrt(p), shape: [3], [0.5, 1, 2])
        expectTensor(log(p), shape: [3], p.scalars.map(Foundation.log))
        expectTensor(log1p(p), shape: [3], p.scalars.map(Foundation.log1p))
        expectTensor(pow(p, 1.5), shape: [3], [0.125, 1, 8])
        expectTensor(pow(p, Tensor<Double>([2, 0, 0.5])), shape: [3], [0.0625, 1, 2])
        expectTensor(maximum(x, 0.25), shape: [5], [0.25, 0.25, 0.25, 0.5, 2])
        expectTensor(minimum(x, Tensor<Double>([0])), shape: [5], [-2, -0.5, 0, 0, 0])
        expectTensor(x.clamped(min: -1, max: 1), shape: [5], [-1, -0.5, 0, 0.5, 1])
    }

    @Test func comparisonsAndWhere() {
        let x = Tensor<Double>([1, 2, 3])
        #expect((x .> 1.5).scalars == [false, true, true])
        #expect((x .== Tensor<Double>([1, 0, 3])).scalars == [true, false, true])
        #expect((x .<= 2).scalars == [true, true, false])
        expectTensor(Tensor.where(x .> 1.5, x, -x), shape: [3], [-1, 2, 3])
        expectTensor(Tensor.where(x .< 2, 0, x), shape: [3], [0, 2, 3])
        #expect((!(x .> 1.5)).scalars == [true, false, false])
        #expect(((x .> 1) .& (x .< 3)).scalars == [false, true, false])
        #expect((x .> 2).any() && !(x .> 2).all() && (x .> 0).trueCount == 3)
        #expect(Tensor<Double>([1, .nan, .infinity]).isFinite.scalars == [true, false, false])
    }

    @Test func reductions() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, 5, 3, 4, 2, 6])
        #expect(x.sum().scalar == 21)
        expectTensor(x.sum(alongAxes: 0), shape: [3], [5, 7, 9])
        expectTensor(x.sum(alongAxes: -1, keepingDimensions: true), shape: [2, 1], [9, 12])
        expectTensor(x.mean(alongAxes: 1), shape: [2], [3, 4])
        expectTensor(x.max(alongAxes: 1), shape: [2], [5, 6])
        expectTensor(x.min(alongAxes: 0), shape: [3], [1, 2, 3])
        #expect(x.max().scalar == 6 && x.min().scalar == 1)
        let lse = x.logSumExp(alongAxes: 1).scalars
        expectClose(lse, [Foundation.log(Foundation.exp(1) + Foundation.exp(5) + Foundation.exp(3)),
                          Foundation.log(Foundation.exp(4) + Foundation.exp(2) + Foundation.exp(6))], tolerance: 1e-12)
        let sm = x.softmax()
        expectClose(sm.sum(alongAxes: 1).scalars, [1, 1], tolerance: 1e-12)
        expectClose(x.logSoftmax().scalars, log(sm).scalars, tolerance: 1e-12)
        let three = Tensor<Double>(shape: [2, 3, 4], scalars: (0..<24).map(Double.init))
        expectTensor(three.sum(alongAxes: 0, 2), shape: [3], [60, 92, 124])
        #expect(Tensor<Double>(zeros: [0]).sum().scalar == 0)
    }

    @Test func matmulMatchesNaiveProduct() {
        var rng = SeededGenerator(seed: 3)
        for (m, k, n) in [(1, 1, 1), (3, 4, 5), (17, 33, 9), (64, 65, 66)] {
            let a = Tensor<Double>(randomNormal: [m, k], using: &rng), b = Tensor<Double>(randomNormal: [k, n], using: &rng)
            var expected = [Double](repeating: 0, count: m * n)
            for i in 0..<m { for j in 0..<n { for p in 0..<k { expected[i * n + j] += a[scalarAt: i, p] * b[scalarAt: p, j] } } }
            expectTensor(matmul(a, b), shape: [m, n], expected, tolerance: 1e-12)
        }
        let a = Tensor<Double>(randomNormal: [2, 3, 4], using: &rng), b = Tensor<Double>(randomNormal: [4, 5], using: &rng)
        let batched = matmul(a, b)
        #expect(batched.shape == [2, 3, 5])
        expectClose(batched[1].scalars, matmul(a[1], b).scalars, tolerance: 1e-12)
        let v = Tensor<Double>([1, 2, 3, 4])
        #expect(matmul(v, b).shape == [5])
        #expect(matmul(a, v).shape == [2, 3])
        #expect(matmul(v, v).shape == [] && matmul(v, v).scalar == 30)
        expectClose(matmul(a[0], b).transposed().scalars, matmul(b.transposed(), a[0].transposed()).scalars, tolerance: 1e-12)
    }

    @Test func shapeOperations() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5])
        expectTensor(x.reshaped(to: [3, -1]), shape: [3, 2], [0, 1, 2, 3, 4, 5])
        expectTensor(x.transposed(), shape: [3, 2], [0, 3, 1, 4, 2, 5])
        expectTensor(x.unsqueezed(at: 0).permuted(2, 0, 1), shape: [3, 1, 2], [0, 3, 1, 4, 2, 5])
        expectTensor(x.unsqueezed(at: -1).squeezed(), shape: [2, 3], [0, 1, 2, 3, 4, 5])
        expectTensor(Tensor<Double>([1, 2]).broadcasted(to: [2, 2]), shape: [2, 2], [1, 2, 1, 2])
        expectTensor(x[1], shape: [3], [3, 4, 5])
        expectTensor(x[.all, 1], shape: [2], [1, 4])
        expectTensor(x[0..<1, 1...], shape: [1, 2], [1, 2])
        expectTensor(x[.all, stride(from: 0, to: 3, by: 2)], shape: [2, 2], [0, 2, 3, 5])
        expectTensor(x[-1, ..<2], shape: [2], [3, 4])
        expectTensor(x[.newAxis, 1], shape: [1, 3], [3, 4, 5])
        expectTensor(x.gathering(atIndices: [2, 0, 2], alongAxis: 1), shape: [2, 3], [2, 0, 2, 5, 3, 5])
        expectTensor(Tensor(concatenating: [x, x[0..<1]], alongAxis: 0), shape: [3, 3], [0, 1, 2, 3, 4, 5, 0, 1, 2])
        expectTensor(Tensor(stacking: [x[0], x[1]], alongAxis: 1), shape: [3, 2], [0, 3, 1, 4, 2, 5])
        expectTensor(x.flattened(), shape: [6], [0, 1, 2, 3, 4, 5])
    }

    @Test func binaryCrossEntropyValues() {
        let p = Tensor<Double>([0.2, 0.9, 0, 1]), t = Tensor<Double>([0, 1, 1, 0])
        let l = binaryCrossEntropy(probabilities: p, targets: t, reduction: .none).scalars
        expectClose(l, [-Foundation.log(0.8), -Foundation.log(0.9), 100, 100], tolerance: 1e-12)
        let mean = binaryCrossEntropy(probabilities: p, targets: t).scalar
        #expect(Swift.abs(mean - l.reduce(0, +) / 4) < 1e-12)
        #expect(binaryCrossEntropy(probabilities: p, targets: t, reduction: .sum).shape == [])
        // Finite derivatives even at p = 0 and 1.
        let g = try? gradient(at: p) { binaryCrossEntropy(probabilities: $0, targets: t, reduction: .sum) }
        #expect(g?.scalars.allSatisfy(\.isFinite) == true)
    }
}

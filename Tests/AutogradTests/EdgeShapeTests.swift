import Foundation
import Testing
@testable import Autograd

/// Zero-size dimensions and 0-d tensors go through every operation and every derivative call: values have the
/// right shapes, reverse mode (vᵀJ), forward mode (J·u) and the checker all work, and nothing stops.
@Suite struct EdgeShapeTests {
    /// One operation at one set of input shapes: the expected output shape and the function (in both scalar types).
    struct Case: TensorFunction, CustomTestStringConvertible, Sendable {
        let name: String
        let inputs: [[Int]]
        let output: [Int]
        let body: @Sendable (_ x: [AnyTensor]) -> AnyTensor

        func callAsFunction<S: TensorScalar>(_ x: [Tensor<S>]) throws -> Tensor<S> {
            Tensor(unchecked: body(x.map(\.base)))
        }
        var testDescription: String { "\(name) \(inputs.map(describe).joined(separator: ", "))" }
    }

    static let cases: [Case] = {
        var cases: [Case] = []
        func add(_ name: String, _ inputs: [[Int]], _ output: [Int],
                 _ f: @escaping @Sendable ([Tensor<Double>]) -> Tensor<Double>) {
            // Evaluate in Double; for Float inputs convert through Double (differentiable both ways).
            cases.append(Case(name: name, inputs: inputs, output: output) { x in
                if x[0].scalarType == .float64 { return f(x.map { Tensor(unchecked: $0) }).base }
                return f(x.map { Tensor<Double>(converting: Tensor<Float>(unchecked: $0)) }).base.converted(to: .float32)
            })
        }
        let elementwise: [(String, @Sendable (Tensor<Double>) -> Tensor<Double>)] = [
            ("exp", { exp($0) }), ("log", { log($0 * $0 + 1) }), ("log1p", { log1p($0 * $0) }),
            ("sqrt", { sqrt($0 * $0 + 1) }), ("sin", { sin($0) }), ("cos", { cos($0) }), ("tanh", { tanh($0) }),
            ("sigmoid", { sigmoid($0) }), ("abs", { abs($0) }), ("relu", { relu($0) }), ("softplus", { softplus($0) }),
            ("negate", { -$0 }), ("affine", { $0 * 2 + 1 }), ("pow", { pow($0, 3) }), ("squared", { $0.squared() }),
            ("reciprocal", { 1 / ($0 * $0 + 1) }), ("clamped", { $0.clamped(min: -0.5, max: 0.5) }),
            ("maximum(scalar)", { maximum($0, 0.1) }),
        ]
        for shape in [[0], [0, 3], [3, 0], [2, 0, 3], []] {
            for (name, f) in elementwise { add(name, [shape], shape) { f($0[0]) } }
        }
        // Broadcasting binary operations with zero-size and 0-d operands.
        let binary: [(String, @Sendable (Tensor<Double>, Tensor<Double>) -> Tensor<Double>)] = [
            ("add", { $0 + $1 }), ("subtract", { $0 - $1 }), ("multiply", { $0 * $1 }),
            ("divide", { $0 / ($1 * $1 + 1) }), ("pow", { pow($0 * $0 + 1, $1) }), ("maximum", { maximum($0, $1) }),
            ("minimum", { minimum($0, $1) }), ("where", { Tensor.where($0 .> $1, $0, $1) }),
        ]
        let pairs: [([Int], [Int], [Int])] = [
            ([0, 3], [3], [0, 3]), ([0, 3], [1, 3], [0, 3]), ([3, 0], [3, 1], [3, 0]), ([], [0], [0]),
            ([0], [], [0]), ([], [], []), ([2, 1], [0], [2, 0]), ([], [2, 3], [2, 3]),
        ]
        for (a, b, y) in pairs { for (name, f) in binary { add(name, [a, b], y) { f($0[0], $0[1]) } } }
        // Reductions over zero-size axes (sums are 0; max is −∞; logSumExp is ln 0 = −∞) and over 0-d tensors.
        add("sum()", [[0, 3]], []) { $0[0].sum() }
        add("sum(axis 0)", [[0, 3]], [3]) { $0[0].sum(alongAxes: 0) }
        add("sum(axis 1)", [[0, 3]], [0]) { $0[0].sum(alongAxes: 1) }
        add("sum(axis 1, keep)", [[3, 0]], [3, 1]) { $0[0].sum(alongAxes: [1], keepingDimensions: true) }
        add("sum() of 0-d", [[]], []) { $0[0].sum() }
        add("sum(no axes) of 0-d", [[]], []) { $0[0].sum(alongAxes: []) }
        add("mean(axis 0)", [[0, 3]], [3]) { $0[0].mean(alongAxes: 0) }
        add("mean() of 0-d", [[]], []) { $0[0].mean() }
        add("max(axis 1)", [[0, 3]], [0]) { $0[0].max(alongAxes: 1) }
        add("max(axis 1) over size 0", [[3, 0]], [3]) { $0[0].max(alongAxes: 1) }
        add("max() of 0-d", [[]], []) { $0[0].max() }
        add("min() of 0-d", [[]], []) { $0[0].min() }
        add("logSumExp(axis 1)", [[0, 3]], [0]) { $0[0].logSumExp(alongAxes: 1) }
        add("logSumExp(axis 1) over size 0", [[3, 0]], [3]) { $0[0].logSumExp(alongAxes: 1) }
        add("logSumExp() of 0-d", [[]], []) { $0[0].logSumExp() }
        add("softmax", [[0, 3]], [0, 3]) { $0[0].softmax() }
        add("softmax over size 0", [[3, 0]], [3, 0]) { $0[0].softmax() }
        add("logSoftmax(axis 0)", [[0, 3]], [0, 3]) { $0[0].logSoftmax(alongAxes: 0) }
        add("softmax of 0-d", [[]], []) { $0[0].softmax() }
        add("logSoftmax of 0-d", [[]], []) { $0[0].logSoftmax() }
        // Matrix products with zero-size dimensions (k = 0 gives zeros).
        add("matmul [0,3]·[3,4]", [[0, 3], [3, 4]], [0, 4]) { matmul($0[0], $0[1]) }
        add("matmul [2,0]·[0,3]", [[2, 0], [0, 3]], [2, 3]) { matmul($0[0], $0[1]) }
        add("matmul [2,3]·[3,0]", [[2, 3], [3, 0]], [2, 0]) { matmul($0[0], $0[1]) }
        add("matmul [0]·[0]", [[0], [0]], []) { matmul($0[0], $0[1]) }
        add("matmul [0]·[0,2]", [[0], [0, 2]], [2]) { matmul($0[0], $0[1]) }
        add("matmul batched [0,2,3]·[3,4]", [[0, 2, 3], [3, 4]], [0, 2, 4]) { matmul($0[0], $0[1]) }
        add("matmul batched [2,2,0]·[2,0,4]", [[2, 2, 0], [2, 0, 4]], [2, 2, 4]) { matmul($0[0], $0[1]) }
        add("matmul transposeB [2,0]·[3,0]ᵀ", [[2, 0], [3, 0]], [2, 3]) { matmul($0[0], $0[1], transposeB: true) }
        // Movement.
        add("reshaped [0,3]→[3,0]", [[0, 3]], [3, 0]) { $0[0].reshaped(to: [3, 0]) }
        add("reshaped 0-d→[1,1]", [[]], [1, 1]) { $0[0].reshaped(to: [1, 1]) }
        add("reshaped [1]→0-d", [[1]], []) { $0[0].reshaped(to: []) }
        add("flattened [2,0]", [[2, 0]], [0]) { $0[0].flattened() }
        add("flattened 0-d", [[]], [1]) { $0[0].flattened() }
        add("permuted", [[2, 0, 3]], [3, 2, 0]) { $0[0].permuted(2, 0, 1) }
        add("transposed 0-d", [[]], []) { $0[0].transposed() }
        add("transposed [0,3]", [[0, 3]], [3, 0]) { $0[0].transposed() }
        add("broadcasted [1,3]→[0,3]", [[1, 3]], [0, 3]) { $0[0].broadcasted(to: [0, 3]) }
        add("broadcasted 0-d→[2,3]", [[]], [2, 3]) { $0[0].broadcasted(to: [2, 3]) }
        add("broadcasted 0-d→[0]", [[]], [0]) { $0[0].broadcasted(to: [0]) }
        add("slice x[0..<0]", [[3, 2]], [0, 2]) { $0[0][0..<0] }
        add("slice x[1...] of [0,3]", [[0, 3]], [0, 3]) { $0[0][1...] }
        add("index x[.all, 1] of [0,3]", [[0, 3]], [0]) { $0[0][.all, 1] }
        add("newAxis of 0-d", [[]], [1]) { $0[0][.newAxis] }
        add("gathering no indices", [[3, 2]], [0, 2]) { $0[0].gathering(atIndices: []) }
        add("gathering from [0,3] along 1", [[0, 3]], [0, 2]) { $0[0].gathering(atIndices: [2, 0], alongAxis: 1) }
        add("concatenating [0,3] [2,3]", [[0, 3], [2, 3]], [2, 3]) { Tensor(concatenating: [$0[0], $0[1]]) }
        add("concatenating [2,0] [2,0]", [[2, 0], [2, 0]], [2, 0]) { Tensor(concatenating: $0, alongAxis: 1) }
        add("stacking 0-d", [[], []], [2]) { Tensor(stacking: $0) }
        add("stacking [0]", [[0], [0]], [2, 0]) { Tensor(stacking: $0) }
        add("unsqueezed 0-d", [[]], [1]) { $0[0].unsqueezed(at: 0) }
        add("squeezed [1,0,1]", [[1, 0, 1]], [0]) { $0[0].squeezed() }
        add("converting", [[0, 2]], [0, 2]) { Tensor<Double>(converting: Tensor<Float>(converting: $0[0])) }
        add("binaryCrossEntropy", [[0, 2], [0, 2]], [0, 2]) {
            binaryCrossEntropy(probabilities: sigmoid($0[0]), targets: sigmoid($0[1]), reduction: .none)
        }
        add("binaryCrossEntropy of 0-d", [[], []], []) {
            binaryCrossEntropy(probabilities: sigmoid($0[0]), targets: sigmoid($0[1]), reduction: .sum)
        }
        return cases
    }()

    static func input<S: TensorScalar>(_ shape: [Int], _ seed: UInt64, _: S.Type) -> Tensor<S> {
        var rng = SeededGenerator(seed: seed)
        return Tensor(randomNormal: shape, using: &rng)
    }

    @Test(arguments: cases)
    func valuesAndDerivatives(_ c: Case) throws {
        try run(c, Double.self)
        try run(c, Float.self)
    }

    private func run<S: TensorScalar>(_ c: Case, _ type: S.Type) throws {
        let xs = c.inputs.enumerated().map { Self.input($0.element, UInt64($0.offset + 1), S.self) }
        let y = try c(xs)
        #expect(y.shape == c.output, "value shape")
        // Reverse mode: vᵀJ for v = ones shaped like the output, one result per input, shaped like it.
        let (value, g) = try vjp(of: { [try c($0)] }, at: xs, cotangents: [Tensor(ones: y.shape)])
        #expect(value[0].shape == c.output)
        #expect(zip(g, xs).allSatisfy { $0.shape == $1.shape }, "vjp shapes \(g.map(\.shape))")
        // Forward mode: J·u for u = ones shaped like each input, shaped like the output.
        let (_, t) = try jvp(of: { [try c($0)] }, at: xs, tangents: xs.map { Tensor(ones: $0.shape) })
        #expect(t[0].shape == c.output)
        // Batched reverse mode with a zero-size batch, and the full Jacobian.
        let none = try vjp(of: { try [c($0)] }, at: xs, cotangents: [Tensor(zeros: [0] + y.shape)], batched: true)
        #expect(zip(none.vjps, xs).allSatisfy { $0.shape == [0] + $1.shape })
        if xs.count == 1 {
            let j = try jacobian(of: { try c([$0]) }, at: xs[0])
            #expect(j.shape == c.output + xs[0].shape)
        }
        // The derivative checker (finite differences, dot-product test). Values may be ±∞ (max over an empty
        // axis) whose derivative is zero: skip the checker there, the shapes above are what matters.
        if y.scalars.allSatisfy({ $0.isFinite }) {
            for row in try checkDerivatives(of: c, at: xs, name: c.testDescription) { #expect(row.passed, "\(row)") }
        }
    }

    @Test func zeroSizeValues() throws {
        // Sums over nothing are 0, products over an empty inner dimension are zero matrices.
        #expect(Tensor<Double>(zeros: [0, 3]).sum(alongAxes: 0).scalars == [0, 0, 0])
        #expect(matmul(Tensor<Float>(zeros: [2, 0]), Tensor<Float>(zeros: [0, 3])).scalars == [Float](repeating: 0, count: 6))
        #expect(matmul(Tensor<Double>(zeros: [0]), Tensor<Double>(zeros: [0])).scalar == 0)
        #expect(Tensor<Double>(zeros: [3, 0]).max(alongAxes: 1).scalars == [-.infinity, -.infinity, -.infinity])
        #expect(Tensor<Double>(zeros: [3, 0]).logSumExp(alongAxes: 1).scalars == [-.infinity, -.infinity, -.infinity])
        // The gradient of a sum over an empty tensor is an empty tensor; of an empty-axis max, zeros.
        let g = try gradient(at: Tensor<Double>(zeros: [0, 3])) { $0.sum() }
        #expect(g.shape == [0, 3])
        #expect(Tensor<Double>(7).softmax().scalar == 1)
        #expect(Tensor<Double>(7).logSoftmax().scalar == 0)
    }

    @Test func creationAndPrinting() {
        var rng = SeededGenerator(seed: 3)
        let made: [Tensor<Float>] = [
            Tensor(zeros: [0]), Tensor(ones: [2, 0]), Tensor(repeating: 1, shape: [0, 0]), Tensor([Float]()),
            Tensor([[Float]]()), Tensor([[], []] as [[Float]]), Tensor(identity: 0), Tensor(rangeFrom: 1, to: 1),
            Tensor(linearSpaceFrom: 0, to: 1, count: 0), Tensor(randomNormal: [3, 0], using: &rng),
            Tensor(randomUniform: [0], using: &rng), Tensor(shape: [0, 5], scalars: []),
        ]
        #expect(made.map(\.shape) == [[0], [2, 0], [0, 0], [0], [0, 0], [2, 0], [0, 0], [0], [0], [3, 0], [0], [0, 5]])
        #expect(made.allSatisfy { $0.count == 0 && $0.scalars.isEmpty })
        #expect(Tensor<Float>(zeros: [2, 0]).description == "Tensor<Float> [2, 0]\n[[],\n []]")
        #expect(Tensor<Double>(2.5).description == "Tensor<Double> [] 2.5000")
        #expect(Tensor<Float>(zeros: [0]).description == "Tensor<Float> [0]\n[]")
        #expect((Tensor<Double>(zeros: [0]) .> 0).description == "Tensor<Bool> [0]\n[]")
        #expect((Tensor<Double>(zeros: [0, 2]) .< 1).trueCount == 0 && (Tensor<Double>(zeros: [0]) .< 1).all())
    }

    @Test func transformsOfZeroSizeAnd0dInputs() throws {
        let empty = Tensor<Double>(zeros: [0, 2]), scalar = Tensor<Double>(1.5)
        for strategy in [JacobianStrategy.forward, .reverse, .automatic] {
            #expect(try jacobian(of: { exp($0) }, at: empty, strategy: strategy).shape == [0, 2, 0, 2])
            #expect(try jacobian(of: { $0.sum(alongAxes: 0) }, at: empty, strategy: strategy).scalars == [])
            #expect(try jacobian(of: { $0 * $0 }, at: scalar, strategy: strategy).scalar == 3)
        }
        #expect(try hessian(of: { ($0 * $0).sum() }, at: empty).shape == [0, 2, 0, 2])
        #expect(try hessian(of: { $0 * $0 * $0 }, at: scalar).scalar == 9)
        #expect(try hvp(of: { ($0 * $0).sum() }, at: empty, vector: empty).shape == [0, 2])
        let (value, map) = try linearize(of: { sin($0) }, at: empty)
        #expect(try value.shape == [0, 2] && map(empty).shape == [0, 2])
        #expect(try perExampleGradients(of: { $0.sum(alongAxes: 1) * 2 }, at: empty).shape == [0, 0, 2])
        #expect(try perExampleGradients(of: { w in Tensor<Double>(zeros: [0]) * w }, at: scalar).shape == [0])
        // backward() on an empty loss: the leaf's gradient is an empty tensor of its shape.
        let leaf = empty.requiringGradient()
        try (leaf * 3).sum().backward()
        #expect(leaf.gradient?.shape == [0, 2])
    }
}

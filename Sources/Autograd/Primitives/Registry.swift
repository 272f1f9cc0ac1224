/// A primitive and the derivative checks that exercise it: one entry per primitive type. The list of primitives
/// (`allPrimitiveTypes`) and the checks (`PrimitiveChecks.cases`, the table `autograd check` prints) both come from
/// here, so a new primitive needs its file, its kernel if it has one, and its entry, nothing else.
struct PrimitiveEntry {
    /// The primitive type.
    let type: any Primitive.Type
    /// The fast routes the primitive implements itself (an override of `plainJVP`, `vjpOfOneInput` or
    /// `vjpTangent`, a fused kernel), besides those the engine takes for every primitive of its arity. The tests
    /// check that its checks exercise each of them.
    let routes: RouteSet
    /// Its check rows (in table order). Empty for a primitive that only appears inside other primitives' rules;
    /// the comment on the entry says which checks reach it (the tests prove that some check does).
    let checks: [CheckCase]

    init(_ type: any Primitive.Type, routes: [Route] = [], checks: [CheckCase]) {
        self.type = type
        self.routes = RouteSet(routes)
        self.checks = checks
    }
}

/// Every primitive type of the library, from the registry. The tests check that the derivative checks exercise
/// each one.
let allPrimitiveTypes: [any Primitive.Type] = primitiveRegistry.map(\.type)

/// The fast routes of an elementwise function with a fused derivative kernel: the kernel in every rule, in place
/// on an owned cotangent, and on the plain tangent (tensor and buffer forms).
private let elementwise: [Route] = [.fused, .inPlace, .tensorJVP, .bufferJVP]

// Shorthands for the check rows below: `n` a normal draw, `pos` in [0.5, 2), `unit` in [0.05, 0.95),
// `aboveMinusOne` in [−0.5, 2).
private let s34: [Int] = [3, 4]
private func n(_ shape: [Int]) -> CheckCase.Input { (shape, .normal) }
private func pos(_ shape: [Int]) -> CheckCase.Input { (shape, .positive) }

/// The public `matmul`, which adds the reshapes around the primitive for vectors.
private func matmulChecked(_ x: [AnyTensor]) -> AnyTensor {
    func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { matmul(x[0], x[1]) }
    return typed(x, f, f)
}

/// Every primitive, with its checks. Functions are written on type-erased tensors with the library's internal
/// operations (one closure serves Float and Double); `typed(_:_:_:)` reaches the typed public API.
let primitiveRegistry: [PrimitiveEntry] = [
    // Elementwise functions of one input (Elementwise.swift).
    PrimitiveEntry(Exp.self, routes: elementwise, checks: [CheckCase("exp", [n(s34)]) { exp($0[0]) }]),
    PrimitiveEntry(Log.self, routes: elementwise, checks: [CheckCase("log", [pos(s34)]) { log($0[0]) }]),
    PrimitiveEntry(Log1p.self, routes: elementwise, checks: [
        CheckCase("log1p", [(s34, .aboveMinusOne)]) { log1p($0[0]) },
    ]),
    PrimitiveEntry(Sqrt.self, routes: elementwise, checks: [CheckCase("sqrt", [pos(s34)]) { sqrt($0[0]) }]),
    PrimitiveEntry(Sin.self, routes: elementwise, checks: [CheckCase("sin", [n(s34)]) { sin($0[0]) }]),
    PrimitiveEntry(Cos.self, routes: elementwise, checks: [CheckCase("cos", [n(s34)]) { cos($0[0]) }]),
    PrimitiveEntry(Tanh.self, routes: elementwise, checks: [CheckCase("tanh", [n(s34)]) { tanh($0[0]) }]),
    PrimitiveEntry(Sigmoid.self, routes: elementwise, checks: [CheckCase("sigmoid", [n(s34)]) { sigmoid($0[0]) }]),
    PrimitiveEntry(Abs.self, routes: elementwise, checks: [CheckCase("abs", [n(s34)]) { abs($0[0]) }]),
    PrimitiveEntry(Relu.self, routes: elementwise, checks: [CheckCase("relu", [n(s34)]) { relu($0[0]) }]),
    PrimitiveEntry(Softplus.self, routes: elementwise, checks: [CheckCase("softplus", [n(s34)]) { softplus($0[0]) }]),
    // Activation functions (Activations.swift); their second derivatives come from their f′ expressions.
    PrimitiveEntry(Erf.self, checks: [
        CheckCase("erf", [n(s34)]) { erf($0[0]) },
        .secondOrder("second order: erf, gelu, gelu(tanh), silu, logSigmoid", [n([4])]) { x in
            let smooth: AnyTensor = erf(x) * x + gelu(x) * sin(x)
            let gates: AnyTensor = geluTanh(x).pow(2) + silu(x) * cos(x)
            return (smooth + gates + logSigmoid(x) * x).sum()
        },
    ]),
    PrimitiveEntry(Gelu.self, routes: elementwise, checks: [CheckCase("gelu", [n(s34)]) { gelu($0[0]) }]),
    PrimitiveEntry(GeluTanh.self, checks: [CheckCase("gelu (tanh)", [n(s34)]) { geluTanh($0[0]) }]),
    PrimitiveEntry(Silu.self, checks: [CheckCase("silu", [n(s34)]) { silu($0[0]) }]),
    PrimitiveEntry(LeakyRelu.self, checks: [
        CheckCase("leakyRelu (slope 0.1)", [n(s34)]) { leakyRelu($0[0], slope: 0.1) },
    ]),
    PrimitiveEntry(Elu.self, checks: [
        CheckCase("elu (α 1.5)", [n(s34)]) { elu($0[0], alpha: 1.5) },
        .secondOrder("second order: elu, leakyRelu", [n([4])]) { x in
            let e: AnyTensor = elu(x, alpha: 1.5) * x
            return (e + leakyRelu(x, slope: 0.1) * sin(x)).sum()
        },
    ]),
    PrimitiveEntry(LogSigmoid.self, checks: [CheckCase("logSigmoid", [n(s34)]) { logSigmoid($0[0]) }]),
    PrimitiveEntry(Negate.self, checks: [CheckCase("negate", [n(s34)]) { -$0[0] }]),
    PrimitiveEntry(Affine.self, routes: [.inPlace], checks: [
        CheckCase("affine (x * 2.5 + 1)", [n(s34)]) { $0[0] * 2.5 + 1 },
    ]),
    PrimitiveEntry(PowScalar.self, checks: [
        CheckCase("pow (x ^ 3)", [n(s34)]) { $0[0].pow(3) },
        CheckCase("pow (x ^ 2.5)", [pos(s34)]) { $0[0].pow(2.5) },
        CheckCase("reciprocal (1 / x)", [pos(s34)]) { $0[0].reciprocal() },
        CheckCase("squared", [n(s34)]) { $0[0].pow(2) },
    ]),
    // Broadcasting binary primitives (Binary.swift).
    PrimitiveEntry(Add.self, checks: [
        CheckCase("add", [n(s34), n(s34)]) { $0[0] + $0[1] },
        CheckCase("add (broadcast [3,1] + [4])", [n([3, 1]), n([4])]) { $0[0] + $0[1] },
    ]),
    PrimitiveEntry(Subtract.self, checks: [
        CheckCase("subtract (broadcast [2,3,4] - [3,1])", [n([2, 3, 4]), n([3, 1])]) { $0[0] - $0[1] },
    ]),
    PrimitiveEntry(Multiply.self, checks: [
        CheckCase("multiply", [n(s34), n(s34)]) { $0[0] * $0[1] },
        CheckCase("multiply (broadcast [4] * [3,4])", [n([4]), n(s34)]) { $0[0] * $0[1] },
    ]),
    PrimitiveEntry(Divide.self, checks: [
        CheckCase("divide", [n(s34), pos(s34)]) { $0[0] / $0[1] },
        CheckCase("divide (broadcast [3,4] / [3,1])", [n(s34), pos([3, 1])]) { $0[0] / $0[1] },
    ]),
    PrimitiveEntry(Pow.self, checks: [
        CheckCase("pow (tensor ^ tensor)", [pos(s34), n(s34)]) { power($0[0], $0[1]) },
        CheckCase("pow (broadcast [3,4] ^ [4])", [pos(s34), n([4])]) { power($0[0], $0[1]) },
    ]),
    PrimitiveEntry(Extremum.self, checks: [
        CheckCase("maximum", [n(s34), n(s34)]) { maximum($0[0], $0[1]) },
        CheckCase("minimum (broadcast [3,4], [1,4])", [n(s34), n([1, 4])]) { minimum($0[0], $0[1]) },
    ]),
    PrimitiveEntry(Select.self, checks: [
        CheckCase("where (broadcast [3,4], [4])", [n(s34), n([4])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                let pattern = Tensor<S>(shape: [3, 4], scalars: (0..<12).map { S(($0 * 7) % 5) - 2 })
                return Tensor.where(pattern .> 0, x[0], x[1])
            }
            return typed(x, f, f)
        },
    ]),
    // Reductions (Reduce.swift).
    PrimitiveEntry(Sum.self, checks: [
        CheckCase("sum (all)", [n(s34)]) { $0[0].sum() },
        CheckCase("sum (axes 0, 2)", [n([2, 3, 4])]) { $0[0].sum(axes: [0, 2], keep: false) },
        CheckCase("sum (keeping dimensions)", [n(s34)]) { $0[0].sum(axes: [1], keep: true) * $0[0] },
    ]),
    PrimitiveEntry(ReduceExtremum.self, checks: [
        CheckCase("max (axis 1)", [n([3, 5])]) { $0[0].extremum(axes: [1], keep: false, maximum: true) },
        CheckCase("min (all)", [n([3, 5])]) { $0[0].extremum(axes: [0, 1], keep: false, maximum: false) },
    ]),
    // Movement (Movement.swift).
    PrimitiveEntry(Reshape.self, routes: [.tensorJVP, .bufferJVP], checks: [
        CheckCase("reshaped", [n(s34), n([4, 3])]) { $0[0].reshaped([4, 3]) * $0[1] },
    ]),
    PrimitiveEntry(Permute.self, routes: [.tensorJVP, .bufferJVP], checks: [
        CheckCase("permuted", [n([2, 3, 4])]) { $0[0].permuted([2, 0, 1]) },
        CheckCase("transposed", [n(s34), n([4, 3])]) { $0[0].permuted([1, 0]) * $0[1] },
    ]),
    PrimitiveEntry(Expand.self, checks: [
        CheckCase("broadcasted ([3,1] to [2,3,4])", [n([3, 1])]) { $0[0].expanded(to: [2, 3, 4]) },
    ]),
    PrimitiveEntry(Slice.self, checks: [
        CheckCase("slice (x[1..<3, 0..<5 by 2])", [n([4, 5])]) {
            $0[0].sliced([SliceAxis(start: 1, count: 2, step: 1), SliceAxis(start: 0, count: 3, step: 2)])
        },
    ]),
    // Reached by the transpose of `Slice` (second order: slice, index).
    PrimitiveEntry(Embed.self, checks: []),
    PrimitiveEntry(Gather.self, checks: [
        CheckCase("gathering (repeated indices)", [n([2, 3, 2])]) { $0[0].gathered(axis: 1, indices: [2, 0, 2, 1]) },
    ]),
    // Reached by the transpose of `Gather` (second order: gathering).
    PrimitiveEntry(ScatterAdd.self, checks: []),
    PrimitiveEntry(Concatenate.self, checks: [
        CheckCase("concatenating", [n([2, 3]), n([2, 2])]) { AnyTensor.concatenated($0, axis: 1) },
    ]),
    // Convolution and pooling (Convolution.swift): unfold and fold, each the other's transpose. The convolutions
    // are composites of unfold (or fold) and matmul; their rows check the whole composite.
    PrimitiveEntry(Unfold.self, checks: convolutionChecks),
    PrimitiveEntry(Fold.self, checks: transposedConvolutionChecks),
    PrimitiveEntry(MaxPoolGather.self, checks: [
        CheckCase("maxPool2d 2×2", [n([2, 2, 4, 5])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { maxPool2d(x[0], kernelSize: 2) }
            return typed(x, f, f)
        },
        CheckCase("maxPool2d 3×3, stride 2, padding 1", [n([1, 2, 5, 6])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                maxPool2d(x[0], kernelSize: 3, stride: 2, padding: 1)
            }
            return typed(x, f, f)
        },
        .secondOrder("second order: maxPool2d, squared", [n([1, 1, 4, 4])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { maxPool2d(x[0], kernelSize: 2).squared().sum() }
            return typed([x], f, f)
        },
    ]),
    // Reached by the transpose of `MaxPoolGather` (second order: maxPool2d).
    PrimitiveEntry(MaxPoolScatter.self, checks: []),
    // Matrix products (MatMul.swift).
    PrimitiveEntry(MatMul.self, routes: [.twoInputJVP, .tangentHVP], checks: [
        CheckCase("matmul [3,4]·[4,5]", [n(s34), n([4, 5])]) { matmulChecked($0) },
        CheckCase("matmul batched [2,3,4]·[4,5]", [n([2, 3, 4]), n([4, 5])]) { matmulChecked($0) },
        CheckCase("matmul batched·shared transposed [2,3,4]·[5,4]ᵀ", [n([2, 3, 4]), n([5, 4])]) {
            matmul($0[0], $0[1], transposeB: true)
        },
        CheckCase("matmul broadcast [2,1,3,4]·[3,4,2]", [n([2, 1, 3, 4]), n([3, 4, 2])]) { matmulChecked($0) },
        CheckCase("matmul vector·matrix [4]·[4,5]", [n([4]), n([4, 5])]) { matmulChecked($0) },
        CheckCase("matmul matrix·vector [3,4]·[4]", [n(s34), n([4])]) { matmulChecked($0) },
        CheckCase("matmul dot [4]·[4]", [n([4]), n([4])]) { matmulChecked($0) },
        .secondOrder("second order: matmul, tanh", [n([2, 3])]) { w in tanh(matmul(w, w.permuted([1, 0]))).sum() },
    ]),
    PrimitiveEntry(BinaryCrossEntropy.self, routes: [.twoInputJVP, .fused], checks: [
        CheckCase("binaryCrossEntropy", [(s34, .unit), (s34, .unit)]) { binaryCrossEntropy($0[0], $0[1]) },
    ]),
    PrimitiveEntry(Convert.self, checks: [
        CheckCase("converting (Float ↔ Double)", [n(s34)]) { x in
            (x[0].converted(to: .float64) * 1.5).converted(to: x[0].scalarType) * x[0]
        },
    ]),
    // Linear algebra (LinearAlgebra.swift): factorizations and solves.
    PrimitiveEntry(Cholesky.self, checks: [
        CheckCase("cholesky [4,4]", [([4, 4], .positiveDefinite)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { cholesky(x[0]) }
            return typed(x, f, f)
        },
        CheckCase("cholesky batched [2,3,3]", [([2, 3, 3], .positiveDefinite)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { cholesky(x[0]) }
            return typed(x, f, f)
        },
        .secondOrder("second order: cholesky, diagonal", [([3, 3], .positiveDefinite)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { let l = cholesky(x[0]); return l.squared().sum() + log(l.diagonal()).sum() }
            return typed([x], f, f)
        },
    ]),
    PrimitiveEntry(Solve.self, checks: [
        CheckCase("triangularSolve lower [4,4]·[4,2]", [([4, 4], .wellConditioned), n([4, 2])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { triangularSolve(x[0], x[1]) }
            return typed(x, f, f)
        },
        CheckCase("triangularSolve upper, transposed [3,3]·[3,2]", [([3, 3], .wellConditioned), n([3, 2])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { triangularSolve(x[0], x[1], lower: false, transpose: true) }
            return typed(x, f, f)
        },
        CheckCase("triangularSolve unit diagonal, transposed [3,3]·[3,2]", [([3, 3], .wellConditioned), n([3, 2])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { triangularSolve(x[0], x[1], transpose: true, unitDiagonal: true) }
            return typed(x, f, f)
        },
        CheckCase("triangularSolve broadcast [2,3,3]·[3,2]", [([2, 3, 3], .wellConditioned), n([3, 2])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { triangularSolve(x[0], x[1]) }
            return typed(x, f, f)
        },
        CheckCase("solve [4,4]·[4,3]", [([4, 4], .wellConditioned), n([4, 3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { solve(x[0], x[1]) }
            return typed(x, f, f)
        },
        CheckCase("solve broadcast [3,3]·[2,3,2]", [([3, 3], .wellConditioned), n([2, 3, 2])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { solve(x[0], x[1]) }
            return typed(x, f, f)
        },
        CheckCase("solve batched [2,3,3]·[2,3,1]", [([2, 3, 3], .negativeDeterminant), n([2, 3, 1])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { solve(x[0], x[1]) }
            return typed(x, f, f)
        },
        CheckCase("solve vector [3,3]·[3]", [([3, 3], .wellConditioned), n([3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { solve(x[0], x[1]) }
            return typed(x, f, f)
        },
        .secondOrder("second order: solve", [([3, 3], .wellConditioned)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { solve(x[0], Tensor(shape: [3, 2], scalars: [1, -2, 0.5, 1, -1, 2])).squared().sum() }
            return typed([x], f, f)
        },
    ]),
    PrimitiveEntry(Inverse.self, checks: [
        CheckCase("inverse [3,3]", [([3, 3], .wellConditioned)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { inverse(x[0]) }
            return typed(x, f, f)
        },
        CheckCase("inverse batched [2,3,3]", [([2, 3, 3], .negativeDeterminant)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { inverse(x[0]) }
            return typed(x, f, f)
        },
    ]),
    PrimitiveEntry(Determinant.self, checks: [
        CheckCase("determinant [3,3]", [([3, 3], .wellConditioned)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { determinant(x[0]) }
            return typed(x, f, f)
        },
        CheckCase("determinant batched, negative [2,3,3]", [([2, 3, 3], .negativeDeterminant)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { determinant(x[0]) }
            return typed(x, f, f)
        },
        CheckCase("logDeterminant batched, negative [2,3,3]", [([2, 3, 3], .negativeDeterminant)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { logDeterminant(x[0]).logAbsoluteValue }
            return typed(x, f, f)
        },
        .secondOrder("second order: determinant, logDeterminant, inverse", [([3, 3], .wellConditioned)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { determinant(x[0]) + logDeterminant(x[0]).logAbsoluteValue + inverse(x[0]).squared().sum() * 0.1 }
            return typed([x], f, f)
        },
    ]),
    PrimitiveEntry(Norm.self, checks: [
        CheckCase("norm (all) [3,4]", [n(s34)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].norm() }
            return typed(x, f, f)
        },
        CheckCase("norm p = 3 (axis 0) [3,4]", [n(s34)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].norm(p: 3, alongAxes: [0]) }
            return typed(x, f, f)
        },
        CheckCase("norm p = 1 (last axis) [3,4]", [n(s34)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].norm(p: 1, alongAxes: [-1]) }
            return typed(x, f, f)
        },
        CheckCase("norm p = ∞ (last axis) [3,4]", [n(s34)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].norm(p: .infinity, alongAxes: [-1]) }
            return typed(x, f, f)
        },
        CheckCase("frobeniusNorm [2,3,3]", [n([2, 3, 3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].frobeniusNorm() }
            return typed(x, f, f)
        },
    ]),
    PrimitiveEntry(CumulativeSum.self, checks: [
        CheckCase("cumulativeSum (axis 1) [3,4]", [n(s34)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].cumulativeSum(alongAxis: 1) }
            return typed(x, f, f)
        },
        CheckCase("cumulativeSum reverse (axis 0) [3,2,2]", [n([3, 2, 2])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].cumulativeSum(alongAxis: 0, reverse: true) }
            return typed(x, f, f)
        },
    ]),
    // Decompositions (Decompositions.swift): the symmetric input of eigh is composed inside each check, with a
    // diagonal spread so that random draws have well-separated eigenvalues.
    PrimitiveEntry(Eigh.self, checks: [
        CheckCase("eigh eigenvalues [4,4]", [n([4, 4])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { eigh(symmetricSpread(x[0])).eigenvalues }
            return typed(x, f, f)
        },
        CheckCase("eigh eigenvectors [4,4]", [n([4, 4])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { eigh(symmetricSpread(x[0])).eigenvectors }
            return typed(x, f, f)
        },
        CheckCase("eigh batched [2,3,3]", [n([2, 3, 3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                let (l, v) = eigh(symmetricSpread(x[0]))
                return v * l.unsqueezed(at: -2)
            }
            return typed(x, f, f)
        },
        .secondOrder("second order: eigh", [n([3, 3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                let (l, v) = eigh(symmetricSpread(x[0]))
                return (l * l * l).sum() * 0.1 + (v[0] * v[1]).sum() + sin(l).sum()
            }
            return typed([x], f, f)
        },
    ]),
    PrimitiveEntry(SingularValueDecomposition.self, checks: [
        CheckCase("svd singular values [4,3]", [n([4, 3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { svd(x[0]).singularValues }
            return typed(x, f, f)
        },
        CheckCase("svd U, tall [4,3]", [n([4, 3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { svd(x[0]).u }
            return typed(x, f, f)
        },
        CheckCase("svd V, wide [3,4]", [n([3, 4])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { svd(x[0]).v }
            return typed(x, f, f)
        },
        CheckCase("svd batched, wide [2,2,3]", [n([2, 2, 3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                let (u, s, v) = svd(x[0])
                return matmul(u * s.unsqueezed(at: -2), v.squared(), transposeB: true)
            }
            return typed(x, f, f)
        },
        .secondOrder("second order: svd", [n([3, 2])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                let (u, s, v) = svd(x[0])
                return (s * s * s).sum() * 0.1 + (u[0] * u[1]).sum() + v[0, 0] * s[1]
            }
            return typed([x], f, f)
        },
    ]),
    PrimitiveEntry(QRDecomposition.self, checks: [
        CheckCase("qr Q [4,3]", [n([4, 3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { qr(x[0]).q }
            return typed(x, f, f)
        },
        CheckCase("qr R [4,3]", [n([4, 3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { qr(x[0]).r }
            return typed(x, f, f)
        },
        CheckCase("qr batched [2,3,3]", [n([2, 3, 3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { let (q, r) = qr(x[0]); return q * 2 + r }
            return typed(x, f, f)
        },
        CheckCase("qr wide [2,4] (composite)", [n([2, 4])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { let (q, r) = qr(x[0]); return matmul(q, r) + r }
            return typed(x, f, f)
        },
        .secondOrder("second order: qr", [n([3, 2])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                let (q, r) = qr(x[0])
                return (q[0] * q[1]).sum() + (r * r * r).sum() * 0.1
            }
            return typed([x], f, f)
        },
    ]),
    // Index tensors (GatherAlong.swift): take-along-axis and its transpose; sorting gathers with its permutation.
    PrimitiveEntry(GatherAlong.self, checks: [
        CheckCase("gathering along axis 1 (repeated indices) [3,4]", [n(s34)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                x[0].gathering(alongAxis: 1, indices: Tensor<Int32>(shape: [3, 2], scalars: [3, 0, 1, 1, -1, 2]))
            }
            return typed(x, f, f)
        },
        CheckCase("sorted (axis 0, descending) [3,4]", [n(s34)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].sorted(alongAxis: 0, descending: true) }
            return typed(x, f, f)
        },
        CheckCase("topK (k = 2, last axis) [3,4]", [n(s34)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].topK(2).values }
            return typed(x, f, f)
        },
    ]),
    PrimitiveEntry(ScatterAddAlong.self, checks: [
        CheckCase("scatterAdding along axis 0 [3,4] ← [2,4]", [n(s34), n([2, 4])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                x[0].scatterAdding(x[1], alongAxis: 0, indices: Tensor<Int32>(shape: [2, 4], scalars: [0, 2, 2, 1, 2, 2, 0, 1]))
            }
            return typed(x, f, f)
        },
        .secondOrder("second order: gathering along, scatterAdding", [n([3, 2])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                let i = Tensor<Int32>(shape: [2, 2], scalars: [2, 0, 2, 1])
                let g = x[0].gathering(alongAxis: 0, indices: i)
                return (g * g).sum() * x[0].scatterAdding(g, alongAxis: 0, indices: i).sum()
            }
            return typed([x], f, f)
        },
    ]),
    // Scans (LinearRecurrence.swift): the recurrence itself, and the cumulative product, product and
    // logCumulativeSumExp built on it (zeros in the products: the `normalWithZeros` domain).
    PrimitiveEntry(LinearRecurrence.self, checks: [
        CheckCase("linearRecurrence (c [4] broadcast over [3,4], axis 1)", [n([4]), n(s34)]) {
            $0[0].recurrence($0[1], axisFromEnd: 1, reverse: false)
        },
        CheckCase("linearRecurrence reverse (axis 0) [3,2]", [n([3, 2]), n([3, 2])]) {
            $0[0].recurrence($0[1], axisFromEnd: 2, reverse: true)
        },
        CheckCase("cumulativeProduct with zeros (axis 1) [3,4]", [(s34, .normalWithZeros)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].cumulativeProduct(alongAxis: 1) }
            return typed(x, f, f)
        },
        CheckCase("cumulativeProduct reverse (axis 0) [3,2]", [n([3, 2])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].cumulativeProduct(alongAxis: 0, reverse: true) }
            return typed(x, f, f)
        },
        CheckCase("product (axes 0, 2) with zeros [2,3,2]", [([2, 3, 2], .normalWithZeros)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].product(alongAxes: 0, 2) }
            return typed(x, f, f)
        },
        CheckCase("product (all) [2,3]", [n([2, 3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].product() }
            return typed(x, f, f)
        },
        CheckCase("logCumulativeSumExp (axis 1) [3,4]", [n(s34)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].logCumulativeSumExp(alongAxis: 1) }
            return typed(x, f, f)
        },
        CheckCase("logCumulativeSumExp reverse (axis 0) [3,2]", [n([3, 2])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].logCumulativeSumExp(alongAxis: 0, reverse: true) }
            return typed(x, f, f)
        },
        .secondOrder("second order: cumulativeProduct, product with zeros", [([5], .normalWithZeros)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                x[0].cumulativeProduct(alongAxis: 0).sum() + x[0].product() + x[0].logCumulativeSumExp(alongAxis: 0).sum()
            }
            return typed([x], f, f)
        },
    ]),
    // Layer normalization's core (LayerNormalization.swift); the composite rows of layerNorm reach it too.
    PrimitiveEntry(LayerNormalization.self, routes: [.fused], checks: [
        CheckCase("layerNorm rows [3, 5]", [n([3, 5])]) { layerNormalized($0[0], epsilon: 1e-5) },
        CheckCase("layerNorm rows of one [4, 1]", [n([4, 1])]) { layerNormalized($0[0], epsilon: 1e-5) },
        .secondOrder("second order: layerNorm rows", [n([2, 4])]) { x in
            (layerNormalized(x, epsilon: 1e-3) * x).sum()
        },
    ]),
    // Softmax over the last axis restricted to a mask (MaskedSoftmax.swift); attention's checks reach it too.
    PrimitiveEntry(MaskedSoftmax.self, routes: [.fused], checks: [
        CheckCase("softmax (where: mask, a fully masked row)", [n(s34)]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                let mask = Tensor<Bool>(shape: [3, 4], scalars: [true, false, true, true, false, false, false, false,
                                                                  true, true, false, true])
                return x[0].softmax(where: mask)
            }
            return typed(x, f, f)
        },
        CheckCase("softmax (where: causal mask broadcast to [2, 3, 3])", [n([2, 3, 3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                x[0].softmax(where: Tensor<Bool>.lowerTriangle(rows: 3, columns: 3))
            }
            return typed(x, f, f)
        },
        .secondOrder("second order: softmax (where:)", [n([2, 3])]) { x in
            func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
                let y = x[0].softmax(where: Tensor<Bool>(shape: [3], scalars: [true, false, true]))
                return (y * x[0]).sum()
            }
            return typed([x], f, f)
        },
    ]),
    // Reached whenever a functional reverse call is nested in another (the second-order checks).
    PrimitiveEntry(Identity.self, checks: []),
    // The derivative product of the elementwise functions with a fused derivative (their fused route; its own
    // rules follow from their f′ expressions): their second derivatives.
    PrimitiveEntry(DerivativeProduct.self, checks: [
        .secondOrder("second order: exp, sin, tanh", [n([4])]) { (exp($0) * sin($0) + tanh($0) * $0).sum() },
        .secondOrder("second order: log, sqrt, log1p, cos, sigmoid, softplus, 1/x", [pos([4])]) { x in
            let smooth = log(x) * sqrt(x) + log1p(x) * cos(x)
            return (smooth + sigmoid(x) * softplus(x) + x.reciprocal()).sum()
        },
        .secondOrder("second order: abs, relu", [n([4])]) { x in (abs(x) * x + relu(x) * sin(x)).sum() },
    ]),
]

/// The check rows of `unfold`: convolutions (with each option), average pooling and unfold itself, in Double and
/// Float, small shapes.
private let convolutionChecks: [CheckCase] = [
    CheckCase("conv2d [2,3,5,5]·[4,3,3,3] + bias", [n([2, 3, 5, 5]), n([4, 3, 3, 3]), n([4])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { conv2d(x[0], weight: x[1], bias: x[2]) }
        return typed(x, f, f)
    },
    CheckCase("conv2d stride 2, padding 1", [n([1, 2, 5, 6]), n([3, 2, 3, 3])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { conv2d(x[0], weight: x[1], stride: 2, padding: 1) }
        return typed(x, f, f)
    },
    CheckCase("conv2d dilation 2, padding [2, 1]", [n([1, 2, 6, 5]), n([2, 2, 3, 2])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            conv2d(x[0], weight: x[1], padding: [2, 1], dilation: 2)
        }
        return typed(x, f, f)
    },
    CheckCase("conv2d groups 2", [n([2, 4, 4, 4]), n([6, 2, 3, 3]), n([6])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            conv2d(x[0], weight: x[1], bias: x[2], padding: 1, groups: 2)
        }
        return typed(x, f, f)
    },
    CheckCase("conv2d padding same, even kernel [2,4]", [n([1, 2, 4, 5]), n([2, 2, 2, 4])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { conv2d(x[0], weight: x[1], padding: .same) }
        return typed(x, f, f)
    },
    CheckCase("conv1d stride 2, padding 1, dilation 2", [n([2, 3, 9]), n([2, 3, 3]), n([2])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            conv1d(x[0], weight: x[1], bias: x[2], stride: 2, padding: 1, dilation: 2)
        }
        return typed(x, f, f)
    },
    CheckCase("avgPool2d 3×3, stride 2, padding 1", [n([2, 2, 5, 6])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { avgPool2d(x[0], kernelSize: 3, stride: 2, padding: 1) }
        return typed(x, f, f)
    },
    .secondOrder("second order: conv2d, tanh", [n([1, 2, 4, 4])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            let w = Tensor<S>(shape: [2, 2, 2, 2], scalars: (0..<16).map { S(($0 * 5) % 7) / 4 - 0.7 })
            return tanh(conv2d(x[0], weight: w, padding: 1)).squared().sum()
        }
        return typed([x], f, f)
    },
    .secondOrder("second order: conv2d in its weight", [n([2, 1, 3, 3])]) { w in
        func f<S: TensorScalar>(_ w: [Tensor<S>]) -> Tensor<S> {
            let x = Tensor<S>(shape: [1, 1, 4, 4], scalars: (0..<16).map { S(($0 * 3) % 5) / 2 - 1 })
            return sin(conv2d(x, weight: w[0], stride: [1, 2])).sum()
        }
        return typed([w], f, f)
    },
]

/// The check rows of `fold`: transposed convolutions.
private let transposedConvolutionChecks: [CheckCase] = [
    CheckCase("conv2dTransposed stride 2, padding 1, output padding 1", [n([2, 3, 3, 3]), n([3, 2, 3, 3]), n([2])]) {
        x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            conv2dTransposed(x[0], weight: x[1], bias: x[2], stride: 2, padding: 1, outputPadding: 1)
        }
        return typed(x, f, f)
    },
    CheckCase("conv2dTransposed groups 2, dilation 2", [n([1, 4, 3, 2]), n([4, 1, 2, 2])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            conv2dTransposed(x[0], weight: x[1], dilation: 2, groups: 2)
        }
        return typed(x, f, f)
    },
]

/// Checks of composites (built from primitives, no rule of their own) and of second derivatives through movement
/// primitives, written with the typed public API.
let compositeChecks: [CheckCase] = [
    CheckCase("clamped", [n(s34)]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].clamped(min: -0.5, max: 0.7) }
        return typed(x, f, f)
    },
    CheckCase("mean (axis 0)", [n(s34)]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].mean(alongAxes: 0) }
        return typed(x, f, f)
    },
    CheckCase("logSumExp (axis 1)", [n(s34)]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].logSumExp(alongAxes: 1) }
        return typed(x, f, f)
    },
    CheckCase("softmax", [n(s34)]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].softmax() }
        return typed(x, f, f)
    },
    CheckCase("logSoftmax (axis 0)", [n(s34)]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].logSoftmax(alongAxes: 0) }
        return typed(x, f, f)
    },
    CheckCase("index (x[1], x[:, 2])", [n([3, 3])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0][1] * x[0][.all, 2] }
        return typed(x, f, f)
    },
    CheckCase("stacking", [n([2, 3]), n([2, 3])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { Tensor(stacking: [x[0], x[1]], alongAxis: -1) }
        return typed(x, f, f)
    },
    CheckCase("squeezed / unsqueezed", [n([1, 4])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].unsqueezed(at: 1).squeezed(alongAxes: 0) * 2 }
        return typed(x, f, f)
    },
    // Statistics and normalizations (Normalization.swift).
    CheckCase("variance (axis 1, correction 1)", [n(s34)]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].variance(alongAxes: 1) }
        return typed(x, f, f)
    },
    CheckCase("standardDeviation (axis 0, correction 0, kept)", [n(s34)]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            x[0].standardDeviation(alongAxes: 0, correction: 0, keepingDimensions: true)
        }
        return typed(x, f, f)
    },
    CheckCase("layerNorm (scale, offset)", [n([2, 3, 4]), n([4]), n([4])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { layerNorm(x[0], scale: x[1], offset: x[2]) }
        return typed(x, f, f)
    },
    CheckCase("layerNorm (last two axes)", [n([2, 3, 2])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { layerNorm(x[0], trailingAxes: 2) }
        return typed(x, f, f)
    },
    CheckCase("rmsNorm (scale)", [n(s34), n([4])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { rmsNorm(x[0], scale: x[1]) }
        return typed(x, f, f)
    },
    CheckCase("groupNorm (2 groups of [2, 4, 3])", [n([2, 4, 3]), n([4]), n([4])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { groupNorm(x[0], groups: 2, scale: x[1], offset: x[2]) }
        return typed(x, f, f)
    },
    CheckCase("batchNorm (training) [4, 3, 2]", [n([4, 3, 2]), n([3]), n([3])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            batchNorm(x[0], runningMean: Tensor(zeros: [3]), runningVariance: Tensor(ones: [3]), scale: x[1],
                      offset: x[2], training: true).output
        }
        return typed(x, f, f)
    },
    CheckCase("batchNorm (inference) [4, 3]", [n([4, 3]), n([3]), pos([3])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            batchNorm(x[0], runningMean: x[1], runningVariance: x[2], training: false).output
        }
        return typed(x, f, f)
    },
    .secondOrder("second order: layerNorm, rmsNorm", [n([2, 4])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            (layerNorm(x[0]) * x[0]).sum() + rmsNorm(x[0]).squared().sum() * 0.5
        }
        return typed([x], f, f)
    },
    // Masks, masked softmax, attention and dropout (Attention.swift).
    CheckCase("lowerTriangular / upperTriangular", [n([2, 3, 4])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            x[0].lowerTriangular(diagonal: 1) * 2 + x[0].upperTriangular()
        }
        return typed(x, f, f)
    },
    CheckCase("softmax (where: mask, axis 0)", [n([4, 3])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            x[0].softmax(where: Tensor<Bool>.lowerTriangle(rows: 4, columns: 3, diagonal: -1), alongAxes: [0])
        }
        return typed(x, f, f)
    },
    CheckCase("scaledDotProductAttention (causal, [2, 3, 4])", [n([2, 3, 4]), n([2, 3, 4]), n([2, 3, 2])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            scaledDotProductAttention(query: x[0], key: x[1], value: x[2], causal: true)
        }
        return typed(x, f, f)
    },
    CheckCase("scaledDotProductAttention (mask, heads broadcast)", [n([2, 2, 3, 4]), n([2, 1, 3, 4]), n([3, 4])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            let mask = Tensor<Bool>(shape: [1, 3], scalars: [true, false, true])
            return scaledDotProductAttention(query: x[0], key: x[1], value: x[2], mask: mask, scale: 0.7)
        }
        return typed(x, f, f)
    },
    CheckCase("dropout (p 0.5, seeded)", [n(s34)]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            var rng = SeededGenerator(seed: 3)
            return dropout(x[0], probability: 0.5, using: &rng)
        }
        return typed(x, f, f)
    },
    .secondOrder("second order: scaledDotProductAttention (causal), gelu", [n([3, 2])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            gelu(scaledDotProductAttention(query: x[0], key: x[0] * 0.5, value: x[0], causal: true)).sum()
        }
        return typed([x], f, f)
    },
    .secondOrder("second order: slice, index", [n([4, 3])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            x[0][1..<3].squared().sum() + x[0][0].squared().sum() * x[0][.all, 1].sum()
        }
        return typed([x], f, f)
    },
    .secondOrder("second order: gathering", [n([3, 2])]) { x in
        x.gathered(axis: 0, indices: [0, 2, 2]).pow(2).sum()
    },
    CheckCase("lstsq [5,3]·[5,2]", [n([5, 3]), n([5, 2])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { lstsq(x[0], x[1]) }
        return typed(x, f, f)
    },
    CheckCase("lstsq vector [4,2]·[4]", [n([4, 2]), n([4])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { lstsq(x[0], x[1]) }
        return typed(x, f, f)
    },
    CheckCase("gathering at an index tensor [2,2] (axis 1) [3,4]", [n(s34)]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            x[0].gathering(atIndices: Tensor<Int32>(shape: [2, 2], scalars: [3, 0, -1, 0]), alongAxis: 1)
        }
        return typed(x, f, f)
    },
    CheckCase("indexAdding (axis 1) [3,4] ← [3,3]", [n(s34), n([3, 3])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            x[0].indexAdding(x[1], alongAxis: 1, indices: Tensor<Int32>([2, 0, 2]))
        }
        return typed(x, f, f)
    },
    CheckCase("updating (x[1..<3] = u, u broadcast [4])", [n(s34), n([4])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].updating(at: 1..<3, with: x[1]) * x[0] }
        return typed(x, f, f)
    },
    CheckCase("updating (x[:, 0..<4 by 2] = u)", [n(s34), n([3, 2])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].updating(at: .all, stride(from: 0, to: 4, by: 2), with: x[1]) }
        return typed(x, f, f)
    },
    CheckCase("einsum bij,bjk->bik", [n([2, 3, 4]), n([2, 4, 2])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { einsum("bij,bjk->bik", x[0], x[1]) }
        return typed(x, f, f)
    },
    CheckCase("einsum bhqd,bhkd->bhqk", [n([1, 2, 3, 2]), n([1, 2, 4, 2])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { einsum("bhqd,bhkd->bhqk", x[0], x[1]) }
        return typed(x, f, f)
    },
    CheckCase("einsum i,j->ij and ij,ij-> and ii", [n([3]), n([4]), n([3, 3])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
            let outer = einsum("i,j->ij", x[0], x[1])
            return outer * einsum("ij,ij->", outer, outer) + einsum("ii", x[2]) + einsum("ij->j", x[2]).sum()
        }
        return typed(x, f, f)
    },
    CheckCase("kron [2,2] ⊗ [3,2]", [n([2, 2]), n([3, 2])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { kron(x[0], x[1]) }
        return typed(x, f, f)
    },
    CheckCase("adaptiveAvgPool2d (to 1×1)", [n([2, 3, 3, 4])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { adaptiveAvgPool2d(x[0]) }
        return typed(x, f, f)
    },
    CheckCase("padded (value 1.5)", [n([2, 3])]) { x in
        func f<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> { x[0].padded([(1, 0), (2, 1)], value: 1.5) * x[0].sum() }
        return typed(x, f, f)
    },
]

/// A + Aᵀ + diag(0, 2, 4, …) for each matrix of `a`: symmetric, with eigenvalues kept apart by the spread (the
/// input of the eigh checks).
private func symmetricSpread<S: TensorScalar>(_ a: Tensor<S>) -> Tensor<S> {
    let n = a.shape[a.rank - 1]
    let spread = Tensor<S>(shape: [n, n], scalars: (0..<(n * n)).map { $0 / n == $0 % n ? S(2 * ($0 / n)) : 0 })
    return a + a.transposed(-1, -2) + spread
}

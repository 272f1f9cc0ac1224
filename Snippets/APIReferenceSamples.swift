// The code samples of the `///` comments in Sources/Autograd, compiled and run here (the documentation tests
// check that every sample appears in a snippet). Each sample is in its own scope.
import Autograd

// snippet.hide
var rng = SeededGenerator(seed: 42)
let w0 = Tensor<Float>(randomNormal: [1, 2], using: &rng)
let data = Tensor<Float>(randomNormal: [100, 2], using: &rng)
let targets = Tensor<Float>(randomUniform: [100], using: &rng)
let v = Tensor<Float>(randomNormal: [100], using: &rng)
func perExampleLosses(_ w: Tensor<Float>) -> Tensor<Float> {
    binaryCrossEntropy(probabilities: sigmoid(matmul(data, w.transposed())).flattened(), targets: targets,
                       reduction: .none)
}
func losses(_ w: Tensor<Float>) -> Tensor<Float> { perExampleLosses(w) }
// snippet.show

do {    // Tensor
    let x = Tensor<Float>([[1, 2, 3], [4, 5, 6]])   // shape [2, 3]
    let y = (x * 2 + 1).sum(alongAxes: 1)           // shape [2]: [15, 33]
    precondition(y.scalars == [15, 33])
}

do {    // SeededGenerator
    var rng = SeededGenerator(seed: 42)
    let x = Tensor<Double>(randomNormal: [100, 2], using: &rng)   // the same numbers on every run
    precondition(x.shape == [100, 2])
}

do {    // Tensor subscript
    let m = Tensor<Float>(shape: [3, 4], scalars: (0..<12).map(Float.init))
    let row = m[1]                 // row 1, shape [4]
    let column = m[.all, 2]        // column 2, shape [3]
    let block = m[0..<2, 1...]     // shape [2, 3]
    precondition(row.shape == [4] && column.shape == [3] && block.shape == [2, 3])
}

do {    // gradient(of:wrt:cotangent:)
    let w = w0.requiringGradient()                  // [1, 2]
    let losses = perExampleLosses(w)                 // [100]
    let g = try gradient(of: losses, wrt: w, cotangent: v)   // v: [100] → g: [1, 2]
    precondition(g.shape == [1, 2])
}

do {    // Tensor.recordedGraph()
    let w = w0.requiringGradient()
    print(losses(w).recordedGraph()!.dot)     // Graphviz DOT text
}

do {    // explain(_:of:at:)
    let w = w0
    let e = try explain(.vjp, of: losses, at: w)
    print(e)          // the text `autograd explain` prints
    print(e.resultShape)    // [1, 2]: shaped like w
}

do {    // linearize(of:at:)
    let f = perExampleLosses, x = w0, u = Tensor<Float>([[1, 0]])
    let (y, J) = try linearize(of: f, at: x)
    let ju = try J(u)                   // J·u, shaped like y: no new evaluation of f
    let vj = try J.transpose(v)         // vᵀJ, shaped like x
    let matrix = try J.materialize()    // J, shape y.shape + x.shape
    precondition(ju.shape == y.shape && vj.shape == x.shape && matrix.shape == [100, 1, 2])
}

do {    // TensorFunction and checkGradients
    struct SoftplusSum: TensorFunction {
        func callAsFunction<Scalar: TensorScalar>(_ x: [Tensor<Scalar>]) throws -> Tensor<Scalar> {
            softplus(x[0] * x[1])
        }
    }
    let a = Tensor<Double>([[0.5, -1], [2, 0.25]]), b = Tensor<Double>([1, -2])
    let checks = try checkDerivatives(of: SoftplusSum(), at: [a, b])
    precondition(checks.allSatisfy(\.passed))
    let result = try checkGradients(of: { x in (x[0] * sin(x[1])).sum() }, at: [a, b])
    precondition(result.passed)
}

// CustomOperation (a type declared at the top level, as in the documentation)
/// log(1 + eˣ), finite for every x (the naive formula overflows for x > 88 in Float).
struct LogOnePlusExp: CustomOperation {
    var name: String { "logOnePlusExp" }
    func forward(_ x: [Tensor<Float>]) -> Tensor<Float> {
        maximum(x[0], 0) + log1p(exp(-abs(x[0])))
    }
    // d/dx log(1 + eˣ) = σ(x)
    func vjp(_ c: CustomOperationContext<Float>, cotangent: Tensor<Float>) -> [Tensor<Float>?] {
        [cotangent * sigmoid(c.inputs[0])]
    }
    func jvp(_ c: CustomOperationContext<Float>, tangents: [Tensor<Float>?]) -> Tensor<Float>? {
        tangents[0].map { $0 * sigmoid(c.inputs[0]) }
    }
}
do {
    let x = Tensor<Float>([-100, 0, 100])
    let y = LogOnePlusExp()(x)
    precondition(y.scalars.allSatisfy(\.isFinite))
}

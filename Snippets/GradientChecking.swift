// Checking derivatives: a correct function passes, a wrong rule fails loudly.
import Autograd

// snippet.checkGradients
let a = Tensor<Double>([[0.5, -1.5], [2, 0.3]]), b = Tensor<Double>([1, -0.5])
let result = try checkGradients(of: { x in (x[0] * sin(x[1])).sum() },
                                at: [a, b])
// f [reverse, Double]: max error 1e-10 or so (tolerance 1e-06) PASS
print(result)
// snippet.end
precondition(result.passed)

// snippet.bothTypes
// A function written once for Float and Double: derivatives in Float, finite
// differences in Double.
struct SoftplusOfProduct: TensorFunction {
    func callAsFunction<Scalar: TensorScalar>(
        _ x: [Tensor<Scalar>]
    ) throws -> Tensor<Scalar> {
        softplus(x[0] * x[1])
    }
}
let inputs = [Tensor<Float>([[1, 2], [3, 4]]), Tensor<Float>([0.5, -0.25])]
let inFloat = try checkDerivatives(of: SoftplusOfProduct(), at: inputs)
// reverse, forward, dot-product in Float: tolerances 1e-3 and 1e-4
for r in inFloat { print(r) }
// snippet.end
precondition(inFloat.allSatisfy(\.passed))

// snippet.wrongRule
/// sin x with a wrong reverse rule (the sign of the derivative flipped) and a
/// right forward rule.
struct WrongSine: CustomOperation {
    var name: String { "wrongSine" }
    func forward(_ x: [Tensor<Double>]) -> Tensor<Double> { sin(x[0]) }
    func vjp(_ c: CustomOperationContext<Double>,
             cotangent: Tensor<Double>) -> [Tensor<Double>?] {
        // wrong: should be +
        [-cotangent * cos(c.inputs[0])]
    }
    func jvp(_ c: CustomOperationContext<Double>,
             tangents: [Tensor<Double>?]) -> Tensor<Double>? {
        tangents[0].map { $0 * cos(c.inputs[0]) }
    }
}
let checks = try checkDerivatives(of: { x in WrongSine()(x[0]) },
                                  at: [Tensor<Double>([0.1, 0.7, 2])],
                                  name: "wrongSine")
// reverse FAIL (error of order 1), forward PASS, dot-product FAIL
for r in checks { print(r) }
// snippet.end
precondition(checks.map(\.passed) == [false, true, false])

// snippet.options
var options = CheckOptions()
// a larger step for a function with rounding noise of its own
options.step = 1e-5
options.tolerance = 1e-5
// finite differences on at most 50 coordinates per input
options.maxCoordinates = 50
let loose = try checkGradients(of: { x in exp(x[0]).sum() },
                               at: [Tensor<Double>(ones: [200])],
                               options: options)
// snippet.end
precondition(loose.passed)

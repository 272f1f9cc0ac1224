// A custom operation with both rules, one with a derived rule, and the checker run on both.
import Autograd

// snippet.operation
/// log(1 + eˣ), finite for every x (the naive formula overflows for x > 88 in
/// Float).
struct LogOnePlusExp: CustomOperation {
    var name: String { "logOnePlusExp" }
    func forward(_ x: [Tensor<Double>]) -> Tensor<Double> {
        maximum(x[0], 0) + log1p(exp(-abs(x[0])))
    }
    // d/dx log(1 + eˣ) = σ(x)
    func vjp(_ c: CustomOperationContext<Double>,
             cotangent: Tensor<Double>) -> [Tensor<Double>?] {
        [cotangent * sigmoid(c.inputs[0])]
    }
    func jvp(_ c: CustomOperationContext<Double>,
             tangents: [Tensor<Double>?]) -> Tensor<Double>? {
        tangents[0].map { $0 * sigmoid(c.inputs[0]) }
    }
}

let x = Tensor<Double>([-1000, -1, 0, 1, 1000])
let y = LogOnePlusExp()(x)
// [0, 0.3133, 0.6931, 1.3133, 1000]
print(y)
// σ(x) = [0, 0.2689, 0.5, 0.7311, 1]
print(try gradient(at: x) { LogOnePlusExp()($0).sum() })
// snippet.end
precondition(y.scalars.allSatisfy(\.isFinite))

// snippet.broadcasting
/// a · b with broadcasting, only the reverse rule written: the forward rule
/// is derived from it.
struct ScaledBy: CustomOperation {
    var name: String { "scaledBy" }
    func forward(_ x: [Tensor<Double>]) -> Tensor<Double> { x[0] * x[1] }
    func vjp(_ c: CustomOperationContext<Double>,
             cotangent: Tensor<Double>) -> [Tensor<Double>?] {
        // ȳ has the broadcast shape (plus batch dimensions): sum it back to
        // each input's own shape.
        [c.unbroadcast(cotangent * c.inputs[1], toInput: 0),
         c.unbroadcast(cotangent * c.inputs[0], toInput: 1)]
    }
}
// snippet.end

// snippet.check
// The checker compares both rules with finite differences and with each other
// (the dot-product test).
let a = Tensor<Double>([[0.5, -2, 3], [1, 0.25, -1]])
let b = Tensor<Double>([2, -1, 0.5])
func g(_ xs: [Tensor<Double>]) -> Tensor<Double> {
    LogOnePlusExp()(xs[0] * 3) * ScaledBy()(xs[0], xs[1])
}
for result in try checkDerivatives(of: g, at: [a, b]) {
    // reverse, forward, dot-product: PASS
    print(result)
    // snippet.hide
    precondition(result.passed, "\(result)")
    // snippet.show
}
// snippet.end

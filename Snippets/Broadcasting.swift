// Broadcasting forward, summing back in reverse.
import Autograd

// snippet.bias
let x = Tensor<Double>([[1, 2, 3], [4, 5, 6]])          // [2, 3]
// [3]: broadcast to [2, 3]
let b = Tensor<Double>([10, 20, 30])
let gb = try gradient(at: b) { b in (x + b).squared().sum() }
// [50, 94, 138]: shaped like b [3], summed over the broadcast axis 0
print(gb)
// snippet.end
precondition(gb.shape == [3] && gb.scalars == [50, 94, 138])

// snippet.column
// [2, 1]: broadcast along axis 1
let c = Tensor<Double>([[1], [-1]])
let ones = Tensor<Double>(ones: [2, 3])
let gc = try vjp(of: { c in x * c }, at: c, cotangent: ones).vjp
// [2, 1]: [[6], [15]], the row sums of x
print(gc)
// snippet.end
precondition(gc.shape == [2, 1] && gc.scalars == [6, 15])

// snippet.forward
// Forward mode broadcasts the tangent the same way the value was broadcast.
let direction = Tensor<Double>([1, 0, 0])
let (_, tangent) = try jvp(of: { b in x + b }, at: b, tangent: direction)
// [2, 3]: [[1, 0, 0], [1, 0, 0]]
print(tangent)
// snippet.end
precondition(tangent.shape == [2, 3] && tangent.scalars == [1, 0, 0, 1, 0, 0])

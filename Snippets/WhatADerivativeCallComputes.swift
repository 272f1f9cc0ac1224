// The motivating problem, small enough to work by hand: three examples, two features, weights at zero.
import Autograd

// snippet.hide
func expect(_ t: Tensor<Double>, _ shape: [Int], _ values: [Double], _ what: String) {
    precondition(t.shape == shape, "\(what): shape \(t.shape), expected \(shape)")
    for (a, b) in zip(t.scalars, values) { precondition(abs(a - b) < 1e-12, "\(what): \(t.scalars) != \(values)") }
}
// snippet.show
// snippet.setup
let x = Tensor<Double>([[1, 2], [3, -1], [0, 1]])      // data [3, 2]
let y = Tensor<Double>([1, 0, 1])                       // targets [3]
let w = Tensor<Double>([[0, 0]])                        // weights [1, 2]

// [3]: one loss per example
func losses(_ w: Tensor<Double>) -> Tensor<Double> {
    let p = sigmoid(matmul(x, w.transposed())).flattened()   // [N]
    return binaryCrossEntropy(probabilities: p, targets: y, reduction: .none)
}
// snippet.end

// snippet.vjp
// vᵀJ: v is shaped like the OUTPUT [3];
// the result is shaped like the INPUT w [1, 2].
let v = Tensor<Double>([1, 2, 3])
let (_, vJ) = try vjp(of: losses, at: w, cotangent: v)
print(vJ)                                               // [[2.5, -3.5]]
// snippet.end
expect(vJ, [1, 2], [2.5, -3.5], "vᵀJ")

// snippet.jvp
// J·u: u is shaped like the INPUT [1, 2];
// the result is shaped like the OUTPUT [3].
let u = Tensor<Double>([[1, 1]])
let (_, Ju) = try jvp(of: losses, at: w, tangent: u)
print(Ju)                                               // [-1.5, 1, -0.5]
// snippet.end
expect(Ju, [3], [-1.5, 1, -0.5], "J·u")

// snippet.jacobian
// J itself: output shape + input shape = [3] + [1, 2] = [3, 1, 2].
let J = try jacobian(of: losses, at: w)
print(J.shape)                                          // [3, 1, 2]

// As the usual m × n matrix (m = 3 outputs, n = 2 inputs), both products
// are ordinary matrix products:
let matrix = J.reshaped(to: [3, 2])
print(matmul(v, matrix))                    // vᵀJ = [2.5, -3.5]
print(matmul(matrix, u.flattened()))        // J·u = [-1.5, 1, -0.5]
// snippet.end
expect(J, [3, 1, 2], [-0.5, -1, 1.5, -0.5, 0, -0.5], "J")
expect(matmul(v, matrix), [2], [2.5, -3.5], "vᵀJ from J")
expect(matmul(matrix, u.flattened()), [3], [-1.5, 1, -0.5], "J·u from J")

// snippet.gradient
// A gradient is vᵀJ with v = 1 for a one-element output. For the mean of
// the losses, that means each loss counts 1/3:
let g = try gradient(at: w) { losses($0).mean() }
print(g)                                    // [[0.3333, -0.6667]] = ⅓·[1, -2]
// snippet.end
expect(g, [1, 2], [1.0 / 3, -2.0 / 3], "gradient of the mean")

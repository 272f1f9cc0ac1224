// The derivatives this library takes at kinks, ties, clamps and logarithms of zero.
import Autograd

// snippet.hide
func expect(_ t: Tensor<Double>, _ values: [Double], _ what: String) {
    precondition(t.scalars == values, "\(what): \(t.scalars) != \(values)")
}
// snippet.show
// snippet.kinks
let zero = Tensor<Double>([0])
print(try gradient(at: zero) { relu($0).sum() })         // [0]: relu′(0) = 0
print(try gradient(at: zero) { abs($0).sum() })          // [0]: |x|′ at 0 = 0
// snippet.end
expect(try gradient(at: zero) { relu($0).sum() }, [0], "relu")
expect(try gradient(at: zero) { abs($0).sum() }, [0], "abs")

// snippet.ties
let tied = Tensor<Double>([3, 1, 3])
// [0.5, 0, 0.5]
print(try gradient(at: tied) { $0.max() })
// [0.5]
let two = Tensor<Double>([2])
print(try gradient(at: two) { maximum($0, two).sum() })
// snippet.end
expect(try gradient(at: tied) { $0.max() }, [0.5, 0, 0.5], "max ties")
expect(try gradient(at: Tensor<Double>([2])) { maximum($0, Tensor([2])).sum() }, [0.5], "maximum tie")

// snippet.clamp
let atBounds = Tensor<Double>([-1, 0, 1, 2])
// [1, 1, 1, 0]
print(try gradient(at: atBounds) { $0.clamped(min: -1, max: 1).sum() })
// snippet.end
expect(try gradient(at: atBounds) { $0.clamped(min: -1, max: 1).sum() }, [1, 1, 1, 0], "clamp")

// snippet.bce
// Probability 0 for a positive example: ln 0 is clamped at −100, so the loss
// is 100, not infinity.
let p = Tensor<Double>([0, 0.5, 1]), t = Tensor<Double>([1, 1, 1])
// [100, 0.6931, 0]
print(binaryCrossEntropy(probabilities: p, targets: t, reduction: .none))
print(try gradient(at: p) {
    binaryCrossEntropy(probabilities: $0, targets: t, reduction: .sum)
})
// [-1e12, -2, 0]: (p − t) / max(p(1 − p), 1e-12), large but finite
// snippet.end
let bceGrad = try gradient(at: p) { binaryCrossEntropy(probabilities: $0, targets: t, reduction: .sum) }
precondition(bceGrad.scalars.allSatisfy(\.isFinite) && bceGrad.scalars[1] == -2)

// snippet.pow
// aᵇ at a = 0: ∂/∂b = aᵇ ln a is 0 · (−∞); taken as 0.
let base = Tensor<Double>([0])
let exponentGradient = try gradient(at: Tensor<Double>([2])) { b in
    pow(base, b).sum()
}
print(exponentGradient)                                 // [0], not NaN
// snippet.end
expect(exponentGradient, [0], "pow")

// snippet.anomaly
// A NaN, by contrast, is an error to find: anomaly detection names the
// operation that made it.
do {
    _ = try withAnomalyDetection {
        try gradient(at: Tensor<Double>([-1])) { sqrt($0).sum() }
    }
} catch {
    // anomaly detected in the forward pass: 'sqrt' produced nan ...
    print(error)
}
// snippet.end

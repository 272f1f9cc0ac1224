// vmap beyond one model: an ensemble trained at once over stacked parameters, and Jacobians at many points.
import Autograd

var rng = SeededGenerator(seed: 3)
let x = Tensor<Double>(randomNormal: [32, 4], using: &rng)
let y: Tensor<Double> = oneHot(Tensor<Int32>((0..<32).map { Int32($0 % 3) }), classes: 3)

// snippet.ensemble
// K = 5 networks 4 → 16 tanh → 3, each parameter stacked along a new axis 0.
let k = 5
var stacked = [Tensor<Double>(randomNormal: [k, 4, 16], standardDeviation: 0.5, using: &rng),
               Tensor<Double>(zeros: [k, 16]),
               Tensor<Double>(randomNormal: [k, 16, 3], standardDeviation: 0.25, using: &rng),
               Tensor<Double>(zeros: [k, 3])]
func loss(_ p: [Tensor<Double>], _ x: Tensor<Double>, _ y: Tensor<Double>) -> Tensor<Double> {
    let logits = matmul(tanh(matmul(x, p[0]) + p[1]), p[2]) + p[3]
    return -(logits.logSoftmax(alongAxes: 1) * y).sum() / Double(x.shape[0])
}
// Map over the members' axis of the parameters; x and y (in-axis nil) are
// shared. Out: the K losses [K] and the K gradients, [K] + each shape.
func lossesAndGradients(_ stacked: [Tensor<Double>]) throws -> [Tensor<Double>] {
    try vmap(over: stacked + [x, y], inAxes: [0, 0, 0, 0, nil, nil]) { t in
        let (value, g) = try valueWithGradients(at: Array(t[0..<4])) { p in
            loss(p, t[4], t[5])
        }
        return [value] + g
    }
}
// snippet.end
var alone = stacked.map { $0[2] }       // member 2, to be trained by itself

// snippet.train
for _ in 0..<50 {
    let r = try lossesAndGradients(stacked)
    stacked = zip(stacked, r[1...]).map { $0 - $1 * 0.5 }   // K steps at once
}
// snippet.end

// Member 2 trained alone takes the same steps.
for _ in 0..<50 {
    let g = try gradients(at: alone) { loss($0, x, y) }
    alone = zip(alone, g).map { $0 - $1 * 0.5 }
}
for j in 0..<4 { precondition(abs(stacked[j][2] - alone[j]).max().scalar < 1e-9) }

// snippet.predict
// Every member's logits at once, [K, 32, 3]; the ensemble averages the
// members' probabilities.
let logits = try vmap(over: stacked + [x], inAxes: [0, 0, 0, 0, nil]) { t in
    [matmul(tanh(matmul(t[4], t[0]) + t[1]), t[2]) + t[3]]
}[0]
let ensemble = logits.softmax(alongAxes: 2).mean(alongAxes: 0)         // [32, 3]
// snippet.end
precondition(logits.shape == [5, 32, 3] && ensemble.shape == [32, 3])

// snippet.jacobians
// f: R³ → R², and its Jacobian [2, 3] at each of 100 points: [100, 2, 3].
let a = Tensor<Double>(randomNormal: [2, 3], using: &rng)
func f(_ x: Tensor<Double>) -> Tensor<Double> { matmul(a, tanh(x)) + x.squared().sum() }
let points = Tensor<Double>(randomNormal: [100, 3], using: &rng)
let jacobians = try vmap(over: points) { x in try jacobian(of: f, at: x) }
// snippet.end
precondition(jacobians.shape == [100, 2, 3])
for i in [0, 57, 99] {
    let alone = try jacobian(of: f, at: points[i])
    precondition(abs(jacobians[i] - alone).max().scalar < 1e-12)
}

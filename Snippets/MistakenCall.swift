// The mistaken call of the motivating problem, the error it gets, and the fix.
import Autograd

// snippet.setup
var rng = SeededGenerator(seed: 42)
let x = Tensor<Float>(randomNormal: [100, 2], using: &rng)
let w = Tensor<Float>(randomNormal: [1, 2], using: &rng)
let y = Tensor<Float>(randomUniform: [100], using: &rng)
func losses(_ w: Tensor<Float>) -> Tensor<Float> {
    let p = sigmoid(matmul(x, w.transposed())).flattened()   // [N]
    return binaryCrossEntropy(probabilities: p, targets: y, reduction: .none)
}
// snippet.end
// snippet.hide
var caught: [AutogradError] = []
// snippet.show

// snippet.mistake
// shaped like w [1, 2]: a direction in weight space
let u = Tensor<Float>([[1, 0]])
do {
    let wLeaf = w.requiringGradient()
    // reverse mode wants v shaped like the losses
    _ = try gradient(of: losses(wLeaf), wrt: wLeaf, cotangent: u)
} catch {
    print(error)
    // snippet.hide
    caught.append(error as! AutogradError)
    // snippet.show
}
// snippet.end
precondition(caught.last == .cotangentShapeMismatch(output: 0, cotangentShape: [1, 2], outputShape: [100],
                                                     inputShapes: [[1, 2]], call: "gradient(of:wrt:cotangent:)"))

// snippet.fix
// J·u: one forward pass
let (_, ju) = try jvp(of: losses, at: w, tangent: u)
// [100]: how each loss moves along u
print(ju.shape)
// snippet.end
precondition(ju.shape == [100])

// snippet.missing
do {
    let wLeaf = w.requiringGradient()
    // 100 outputs and no cotangent
    _ = try gradient(of: losses(wLeaf), wrt: wLeaf)
} catch {
    print(error)
    // snippet.hide
    caught.append(error as! AutogradError)
    // snippet.show
}
// snippet.end
precondition(caught.last == .missingCotangent(output: 0, outputShape: [100], call: "gradient(of:wrt:cotangent:)"))

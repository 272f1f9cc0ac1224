// The mistaken call of the motivating problem, the error it gets, and the fix.
import Autograd

// snippet.setup
var rng = SeededGenerator(seed: 42)
let x = Tensor<Float>(randomNormal: [100, 2], using: &rng)
let w = Tensor<Float>(randomNormal: [1, 2], using: &rng)
let y = Tensor<Float>(randomUniform: [100], using: &rng)
func losses(_ w: Tensor<Float>) -> Tensor<Float> {
    binaryCrossEntropy(probabilities: sigmoid(matmul(x, w.transposed())).flattened(), targets: y, reduction: .none)
}
// snippet.end
// snippet.hide
var caught: [AutogradError] = []
// snippet.show

// snippet.mistake
let u = Tensor<Float>([[1, 0]])                 // shaped like w [1, 2]: a direction in weight space
do {
    let wLeaf = w.requiringGradient()
    _ = try gradient(of: losses(wLeaf), wrt: wLeaf, cotangent: u)     // reverse mode wants v shaped like the losses
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
let (_, ju) = try jvp(of: losses, at: w, tangent: u)         // J·u: one forward pass
print(ju.shape)                                               // [100]: how each loss moves along u
// snippet.end
precondition(ju.shape == [100])

// snippet.missing
do {
    let wLeaf = w.requiringGradient()
    _ = try gradient(of: losses(wLeaf), wrt: wLeaf)          // 100 outputs and no cotangent
} catch {
    print(error)
    // snippet.hide
    caught.append(error as! AutogradError)
    // snippet.show
}
// snippet.end
precondition(caught.last == .missingCotangent(output: 0, outputShape: [100], call: "gradient(of:wrt:cotangent:)"))

// explain: what a call computes, before computing it; and the recorded computation as a Graphviz graph.
import Autograd

var rng = SeededGenerator(seed: 42)
let x = Tensor<Float>(randomNormal: [100, 2], using: &rng)
let w = Tensor<Float>(randomNormal: [1, 2], using: &rng)
let y = Tensor<Float>(randomUniform: [100], using: &rng)
func losses(_ w: Tensor<Float>) -> Tensor<Float> {
    binaryCrossEntropy(probabilities: sigmoid(matmul(x, w.transposed())).flattened(), targets: y, reduction: .none)
}

// snippet.explain
let e = try explain(.vjp, of: losses, at: w, inputName: "w", outputName: "losses")
// the formula with [100] and [1, 2], the five steps back, the cost
print(e)
print(e.resultShape)     // [1, 2]: shaped like w
// [100]: shaped like the losses
print(try explain(.jvp, of: losses, at: w).resultShape)
// forward: 2 tangents beat 100 cotangents
print(try explain(.jacobian(), of: losses, at: w).mode)
// snippet.end
precondition(e.resultShape == [1, 2])

// snippet.dot
// Graphviz DOT text of the recorded computation; render it with `dot -Tsvg`.
let graph = try computationGraph(of: losses, at: w)
// one line per node: "#2 matmul  [100, 1]  ← constant [100, 2], #1", …
print(graph)
print(graph.dot)

// The same for tensors recorded the PyTorch way:
let leaf = w.requiringGradient()
let recorded = losses(leaf).recordedGraph()!
// snippet.end
precondition(recorded.operationCount == 5 && graph.dot.hasPrefix("digraph"))

// compiled: trace a function of tensors once per input signature, then replay its program.
import Autograd

var rng = SeededGenerator(seed: 5)
let w = Tensor<Float>(randomNormal: [3, 4], using: &rng)
let x = Tensor<Float>(randomNormal: [8, 3], using: &rng)
let w2 = Tensor<Float>(randomNormal: [3, 4], using: &rng)
let x2 = Tensor<Float>(randomNormal: [8, 3], using: &rng)

// snippet.basic
let step = compiled { (w: Tensor<Float>, x: Tensor<Float>) in
    try gradient(at: w) { w in tanh(matmul(x, w)).sum() }
}
let g = try step(w, x)        // traces (1 trace), then checks the program against the eager result
let h = try step(w2, x2)      // same shapes: replays the program
// 1: the second call replayed the program
print(step.traceCount)
// snippet.end
let eager = try gradient(at: w2) { w in tanh(matmul(x2, w)).sum() }
precondition(h.scalars == eager.scalars && g.shape == [3, 4] && step.traceCount == 1)

// snippet.branch
// A branch on a value computed from the input cannot be traced:
let clipped = compiled { (x: Tensor<Float>) -> Tensor<Float> in
    x.sum().scalar > 0 ? x : -x
}
do {
    _ = try clipped(x)
} catch {
    // compiled function: the function read the values of a tensor computed from
    // its inputs (.scalar) while it was traced; ...
    print(error)
}
// Both branches as tensor operations, chosen elementwise, trace fine:
let clippedWhere = compiled { (x: Tensor<Float>) -> Tensor<Float> in
    let positive = x.sum() .> 0
    return Tensor.where(positive, x, -x)
}
print(try clippedWhere(x).shape)
// snippet.end
precondition(clipped.traceCount == 0 && clippedWhere.traceCount == 1)

// snippet.explain
// The program of one signature: its kernels, the buffer plan, the bytes
let program = try step.explain(w, x)
print(program.split(separator: "\n").prefix(2).joined(separator: "\n"))
// snippet.end
precondition(program.contains("buffer plan"))

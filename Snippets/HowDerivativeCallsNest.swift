// Derivative calls nested in each other: every combination differentiates the inner call.
import Autograd

// snippet.hide
func expect(_ value: Double, _ expected: Double, _ what: String) {
    precondition(abs(value - expected) < 1e-12, "\(what): \(value) != \(expected)")
}
// snippet.show
// snippet.functional
// d/dx [x · ∂/∂y (x·y) at y = 2] = d/dx [x · x] = 2x, at x = 1.5: 3.
let outer = try gradient(at: Tensor<Double>(1.5)) { x in
    x * (try gradient(at: Tensor<Double>(2)) { y in x * y })
}
print(outer)   // 3.0
// snippet.end
expect(outer.scalar, 3, "functional in functional")

// snippet.mixed
// The same with a leaf-style outer call: the inner pass records itself because
// its result depends on x, a variable it does not own.
let x = Tensor<Double>(1.5).requiringGradient()
let inner = try gradient(at: Tensor<Double>(2)) { y in x * y }   // = x, with history
try (x * inner).backward()
print(x.gradient!)   // 3.0
// snippet.end
expect(x.gradient!.scalar, 3, "functional in leaf-style")

// snippet.penalty
// A gradient penalty: a loss that contains a gradient, trained with backward().
let w = Tensor<Double>([0.5, -1]).requiringGradient()
let data = Tensor<Double>([2, 3])
let gx = try gradient(at: data) { d in sin(w * d).sum() }     // ∂/∂d, depends on w
let loss = (w * w).sum() + (gx * gx).sum()
try loss.backward()
print(w.gradient!)   // includes the penalty's derivative
// snippet.end
let reference = try gradient(at: w.detached()) { w in
    let g = w * cos(w * data)
    return (w * w).sum() + (g * g).sum()
}
for (a, b) in zip(w.gradient!.scalars, reference.scalars) { expect(a, b, "gradient penalty") }

// snippet.sameLevel
// Two leaf-style calls share a level: the inner one records only when asked.
let a = Tensor<Double>(1.5).requiringGradient()
let b = Tensor<Double>(2).requiringGradient()
let db = try gradient(of: a * b, wrt: b, createGraph: true)   // = a, with history
print(try gradient(of: a * db, wrt: a))   // 3.0 (without createGraph: 1.5)
// snippet.end
let c = Tensor<Double>(1.5).requiringGradient()
let dc = try gradient(of: c * b, wrt: b, createGraph: true)
expect(try gradient(of: c * dc, wrt: c).scalar, 3, "leaf-style in leaf-style with createGraph")

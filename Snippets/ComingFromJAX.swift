// JAX's transformations, one by one, in this library.
import Autograd

func f(_ x: Tensor<Double>) -> Tensor<Double> { (sin(x) * x).sum() }          // a scalar function
func g(_ x: Tensor<Double>) -> Tensor<Double> { tanh(x) * x[0] }                // a vector function
let x = Tensor<Double>([0.5, -1, 2])

// snippet.grad
// jax.grad(f)(x), jax.value_and_grad(f)(x)
let df = try gradient(at: x, of: f)
let (value, df2) = try valueWithGradient(at: x, of: f)
// snippet.end
precondition(df.scalars == df2.scalars && value.shape == [])

// snippet.vjpJvp
// y, vjp_fun = jax.vjp(g, x); vjp_fun(v)
// y, ju = jax.jvp(g, (x,), (u,))
let v = Tensor<Double>([1, 0, -1]), u = Tensor<Double>([0, 1, 0])
let (_, vJ) = try vjp(of: g, at: x, cotangent: v)
let (_, Ju) = try jvp(of: g, at: x, tangent: u)
// snippet.end
precondition(vJ.shape == [3] && Ju.shape == [3])

// snippet.linearize
// y, f_jvp = jax.linearize(g, x); f_jvp(u)
// jax.linear_transpose(f_jvp, x)(v)
let (_, linear) = try linearize(of: g, at: x)
let Ju2 = try linear(u)
let vJ2 = try linear.transpose(v)
// snippet.end
precondition(zip(Ju.scalars, Ju2.scalars).allSatisfy { abs($0 - $1) < 1e-12 })
precondition(zip(vJ.scalars, vJ2.scalars).allSatisfy { abs($0 - $1) < 1e-12 })

// snippet.jacobians
// jax.jacfwd(g)(x), jax.jacrev(g)(x), jax.hessian(f)(x)
let Jf = try jacobian(of: g, at: x, strategy: .forward)
let Jr = try jacobian(of: g, at: x, strategy: .reverse)
let H = try hessian(of: f, at: x)
// snippet.end
precondition(Jf.shape == [3, 3] && Jr.shape == [3, 3] && H.shape == [3, 3])

// snippet.stopGradient
// jax.lax.stop_gradient(x)
let d = try gradient(at: x) { x in (x * x.detached()).sum() }   // = x, not 2x
// snippet.end
precondition(d.scalars == x.scalars)

// snippet.nested
// jax.grad(jax.grad(h)): calls nest
let second = try gradient(at: Tensor<Double>(1.5)) { x in
    try gradient(at: x) { pow($0, 3) }
}
print(second)                                         // d²/dx² x³ = 6x = 9
// snippet.end
precondition(second.scalar == 9)

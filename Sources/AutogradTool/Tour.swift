import ArgumentParser
import Autograd
import Foundation

/// Everything the tour computes, so the text, the JSON and the tests read the same numbers.
public struct TourResults: Sendable {
    /// The problem and its data.
    public let problem: MotivatingProblem
    /// ℓ(w), [100].
    public let losses: Tensor<Float>
    /// vᵀJ, [1, 2].
    public let vjp: Tensor<Float>
    /// J = ∂ℓ/∂w, [100, 1, 2].
    public let jacobian: Tensor<Float>
    /// The strategy `jacobian` chose.
    public let jacobianStrategy: JacobianStrategy
    /// J·u by forward mode, [100].
    public let jvp: Tensor<Float>
    /// J·u by two reverse passes, [100].
    public let jvpDoubleBackward: Tensor<Float>
    /// J·u as the full Jacobian times u, [100].
    public let jvpFromJacobian: Tensor<Float>
    /// The message of the error the mistaken call gets.
    public let mistakenCallError: String
    /// Median seconds per call of: the plain evaluation, jvp, jvpByDoubleBackward, jacobian, gradient.
    public let timings: [String: Double]

    /// Runs every step of the tour (`measure`: also time each way, which takes about a second).
    public init(measure: Bool = true) throws {
        let p = MotivatingProblem()
        problem = p
        losses = p.losses(p.w)
        let w = p.w.requiringGradient()
        vjp = try gradient(of: p.losses(w), wrt: w, cotangent: p.v)
        let jr = try valueAndJacobian(of: p.losses, at: p.w)
        jacobian = jr.jacobian
        jacobianStrategy = jr.strategy
        jvp = try Autograd.jvp(of: p.losses, at: p.w, tangent: p.u).tangent
        jvpDoubleBackward = try jvpByDoubleBackward(of: p.losses, at: p.w, tangent: p.u).tangent
        jvpFromJacobian = matmul(jacobian.reshaped(to: [100, 2]), p.u.reshaped(to: [2]))
        do {
            let w = p.w.requiringGradient()
            _ = try gradient(of: p.losses(w), wrt: w, cotangent: p.u)
            mistakenCallError = "(no error)"
        } catch {
            mistakenCallError = "\(error)"
        }
        var t: [String: Double] = [:]
        if measure {
            // Every way times the same function value f, made once: the evaluation calls it, the derivative calls
            // take it. (Writing `p.losses` inside a timed loop would also time building a closure that copies p.)
            let f = p.losses
            t["evaluate"] = Timing.median { _ = f(p.w) }
            t["jvp"] = Timing.median { _ = try? Autograd.jvp(of: f, at: p.w, tangent: p.u) }
            t["jvp_double_backward"] = Timing.median { _ = try? jvpByDoubleBackward(of: f, at: p.w, tangent: p.u) }
            t["jacobian_times_u"] = Timing.median {
                if let j = try? Autograd.jacobian(of: f, at: p.w) { _ = matmul(j.reshaped(to: [100, 2]), p.u.reshaped(to: [2])) }
            }
            t["vjp"] = Timing.median {
                let w = p.w.requiringGradient()
                _ = try? gradient(of: p.losses(w), wrt: w, cotangent: p.v)
            }
        }
        timings = t
    }

    /// The JSON object of `autograd tour --json`.
    public var json: [String: Any] {
        [
            "x": JSON.nested(problem.x), "w": JSON.nested(problem.w), "y": JSON.nested(problem.y),
            "v": JSON.nested(problem.v), "u": JSON.nested(problem.u), "losses": JSON.nested(losses),
            "vjp": JSON.nested(vjp), "jacobian": JSON.nested(jacobian), "jacobian_strategy": jacobianStrategy.rawValue,
            "jvp": JSON.nested(jvp), "jvp_double_backward": JSON.nested(jvpDoubleBackward),
            "jvp_from_jacobian": JSON.nested(jvpFromJacobian), "mistaken_call_error": mistakenCallError,
            "timings_seconds": timings,
        ]
    }
}

/// Wall-clock timing: the median over repeats of a loop long enough (> 20 ms) to measure.
enum Timing {
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    static func median(repeats: Int = 7, minimum: Double = 0.02, _ body: () -> Void) -> Double {
        body()
        var n = 1
        while true {
            let t0 = now()
            for _ in 0..<n { body() }
            if now() - t0 > minimum { break }
            n *= 2
        }
        var samples: [Double] = []
        for _ in 0..<repeats {
            let t0 = now()
            for _ in 0..<n { body() }
            samples.append((now() - t0) / Double(n))
        }
        return samples.sorted()[repeats / 2]
    }

    static func format(_ seconds: Double) -> String {
        seconds < 1e-3 ? String(format: "%.1f µs", seconds * 1e6) : String(format: "%.2f ms", seconds * 1e3)
    }
}

/// `autograd tour`: the motivating problem, step by step.
struct Tour: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Walk through the problem this library was built for: vᵀJ, J·u three ways, the Jacobian, and "
            + "the mistaken call with the error it now gets."
    )

    @Flag(help: "Print one JSON object (keys x, w, y, v, u, losses, vjp, jacobian, jvp, jvp_double_backward, mistaken_call_error, ...) instead of the walk-through.")
    var json = false

    func run() throws {
        let r = try TourResults(measure: true)
        if json {
            print(JSON.string(r.json))
            return
        }
        let p = r.problem
        func row(_ t: Tensor<Float>, _ n: Int = 5) -> String {
            t.scalars.prefix(n).map { String(format: "%.4f", $0) }.joined(separator: ", ")
        }
        let t = r.timings
        let agree = zip(r.jvp.scalars, r.jvpDoubleBackward.scalars).map { abs($0 - $1) }.max() ?? 0
        let agreeJ = zip(r.jvp.scalars, r.jvpFromJacobian.scalars).map { abs($0 - $1) }.max() ?? 0
        let sig = sigmoid(matmul(p.x, p.w.transposed())).flattened()
        let closed = ((sig - p.y) * p.v).unsqueezed(at: 1) * p.x
        let closedForm = closed.sum(alongAxes: 0)
        print("""
        Autograd tour: the problem this library was built for
        ======================================================

        A researcher has per-example losses of a one-layer network:
          x       [100, 2]  100 examples, 2 features (standard normal, seed 42)
          w       [1, 2]    weights of Linear(2 → 1, no bias)
          y       [100]     targets in (0, 1)
          losses  [100]     binaryCrossEntropy(sigmoid(x · wᵀ), y, reduction: .none): one loss per example

          losses[0..<5] = [\(row(r.losses))]

        Their derivative with respect to w is the Jacobian J = ∂losses/∂w. It has one row per loss and one column
        per weight: shape [100] + [1, 2] = [100, 1, 2] (output shape, then input shape), a 100 × 2 matrix.
        Two products with J answer different questions, and each needs a vector on a different side:

        1. Reverse mode: vᵀJ, with v shaped like the OUTPUT ([100])
           let g = try gradient(of: losses, wrt: w, cotangent: v)      // g: [1, 2]
           g_j = Σ_i v_i · ∂losses_i/∂w_j  — how a weighted sum of the losses changes with each weight.
           vᵀJ          = [\(row(r.vjp))]
           closed form  = [\(row(closedForm))]   (Σ_i v_i (σ(x_i·w) − y_i) x_i)
           Cost: one forward pass that records, one reverse pass (\(Timing.format(t["vjp"] ?? 0)) here).

        2. The whole Jacobian
           let J = try jacobian(of: losses, at: w)                     // J: [100, 1, 2]
           Built in ONE \(r.jacobianStrategy.rawValue) pass: strategy .automatic chose .\(r.jacobianStrategy.rawValue) because \
        the input has 2 elements and the output 100, so pushing the 2 columns of the identity forward is cheaper than \
        pulling the 100 rows back.
           J[0] = [\(row(r.jacobian[0].flattened(), 2))],  J[1] = [\(row(r.jacobian[1].flattened(), 2))], …

        3. Forward mode: J·u, with u shaped like the INPUT ([1, 2]) — what the researcher wanted
           (J·u)_i = Σ_j ∂losses_i/∂w_j · u_j  — how each loss changes if w moves in direction u.
           a. jvp(of:at:tangent:)          one forward pass, nothing recorded       \(Timing.format(t["jvp"] ?? 0))
           b. jvpByDoubleBackward(...)     forward + two reverse passes, two graphs \(Timing.format(t["jvp_double_backward"] ?? 0))
           c. jacobian(...) · u            the whole Jacobian, then a product        \(Timing.format(t["jacobian_times_u"] ?? 0))
           J·u[0..<5] = [\(row(r.jvp))]
           The three agree: largest difference \(String(format: "%.1e", max(agree, agreeJ))).
           Evaluating the losses alone takes \(Timing.format(t["evaluate"] ?? 0)); jvp costs \
        \(String(format: "%.2f", (t["jvp"] ?? 0) / max(t["evaluate"] ?? 1, 1e-12)))× that.\(buildNote)

        4. The mistaken call
           The researcher called the reverse-mode function with u, which is shaped like the input:
             try gradient(of: losses, wrt: w, cotangent: u)             // u: [1, 2]
           PyTorch answered: "Mismatch in shape: grad_output[0] has a shape of [2] and output[0] has a shape of [100]".
           Autograd answers:
             \(r.mistakenCallError)

        Next: `autograd explain` says what each of these calls computes, step by step, with its shapes;
        `autograd check` verifies every derivative rule; the README lists the calls and the documentation.
        """)
    }
}

/// A reminder under the timings when they come from a debug build (what `swift run` builds by default), which is
/// many times slower than a release build.
private var buildNote: String {
    #if DEBUG
    "\n   (Times from a debug build; `swift run -c release autograd tour` shows release speed.)"
    #else
    ""
    #endif
}

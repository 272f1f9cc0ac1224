import ArgumentParser
import Autograd
import Foundation

/// The 2-D Bratu problem on an n × n grid (the workload `sparse-jacobian`), solved by Newton's method with sparse
/// Jacobians: the residual written with tensor operations, its pattern detected, coloured once, and the Jacobian
/// computed at every iterate by one batched forward pass of one tangent per colour.
///
///     F_k(u) = (4·u_{i,j} − u_{i−1,j} − u_{i+1,j} − u_{i,j−1} − u_{i,j+1})·(n + 1)² − λ·exp(u_{i,j})
///
/// with u = 0 outside the grid. J = (n + 1)²·L − λ·diag(exp u), L the 5-point Laplacian: symmetric, and positive
/// definite while λ·exp(u) stays below the smallest eigenvalue of (n + 1)²·L (about 2π²) on average, which holds
/// along Newton's path from u = 0 to the lower solution branch for λ = 6 < λ* ≈ 6.81. So each Newton step solves
/// J·δ = −F by conjugate gradients (which stops with an error should J turn out not to be positive definite).
public struct BratuResults: Sendable {
    /// Grid side n (n² unknowns).
    public let gridSize: Int
    /// λ.
    public let lambda: Double
    /// Whether ‖F(u)‖₂ fell below the tolerance.
    public let converged: Bool
    /// Newton iterations taken.
    public let newtonIterations: Int
    /// Conjugate-gradient iterations, summed over the Newton steps.
    public let cgIterations: Int
    /// Colours of the Jacobian's pattern: tangents per Jacobian pass (instead of n²).
    public let colors: Int
    /// The colouring direction (`forward` or `reverse`).
    public let direction: String
    /// Non-zeros of the detected pattern (49 600 for n = 100).
    public let nonzeros: Int
    /// Colours the other direction needed (the direction is chosen by the number of colours).
    public let otherDirectionColors: Int?
    /// Tangents per Jacobian a dense forward pass would carry (n²).
    public let denseVectors: Int
    /// The prepared plan's explanation (``SparseJacobianPlan/description``): non-zeros, colours, vectors saved.
    public let planDescription: String
    /// ‖F(u)‖₂ at the last iterate.
    public let residualNorm: Double
    /// ‖F(u)‖₂ after each Newton step, starting with u = 0.
    public let residualHistory: [Double]
    /// max u at the solution.
    public let maximum: Double
    /// Median seconds of one sparse Jacobian at the solution (nil unless measured).
    public let jacobianSeconds: Double?

    /// The residual F(u) for u of shape [n, n], from slices and concatenations (zero boundary), shape [n, n]:
    /// each neighbour is u shifted by one step, with a row or column of zeros where it leaves the grid.
    public static func residual<Scalar: TensorScalar>(_ u: Tensor<Scalar>, lambda: Double) -> Tensor<Scalar> {
        let n = u.shape[0]
        let row = Tensor<Scalar>(zeros: [1, n]), column = Tensor<Scalar>(zeros: [n, 1])
        let north = Tensor(concatenating: [row, u[0..<(n - 1), .all]], alongAxis: 0)
        let south = Tensor(concatenating: [u[1..<n, .all], row], alongAxis: 0)
        let west = Tensor(concatenating: [column, u[.all, 0..<(n - 1)]], alongAxis: 1)
        let east = Tensor(concatenating: [u[.all, 1..<n], column], alongAxis: 1)
        let scale = Scalar((n + 1) * (n + 1))
        return (u * 4 - (north + south + west + east)) * scale - exp(u) * Scalar(lambda)
    }

    /// Solves F(u) = 0 from u = 0: Newton steps J·δ = −F (conjugate gradients to a relative residual of 10⁻¹⁰)
    /// until ‖F‖₂ ≤ `tolerance` or `maxIterations` steps. `measure` also times one sparse Jacobian.
    public init(gridSize n: Int = 100, lambda: Double = 6, tolerance: Double = 1e-7, maxIterations: Int = 20,
                measure: Bool = false) throws {
        let f: (Tensor<Double>) -> Tensor<Double> = { BratuResults.residual($0, lambda: lambda) }
        var u = Tensor<Double>(zeros: [n, n])
        let plan = try prepareSparseJacobian(of: f, at: u)
        var history: [Double] = []
        var iterations = 0, cgTotal = 0
        var fu = f(u).scalars
        while true {
            let norm = fu.reduce(0) { $0 + $1 * $1 }.squareRoot()
            history.append(norm)
            if norm <= tolerance || iterations == maxIterations { break }
            let j = try plan.jacobian(of: f, at: u).jacobian
            let (delta, steps) = try conjugateGradients(j, fu.map { -$0 }, relativeTolerance: 1e-10)
            cgTotal += steps
            u = Tensor(shape: [n, n], scalars: zip(u.scalars, delta).map(+))
            fu = f(u).scalars
            iterations += 1
        }
        gridSize = n
        self.lambda = lambda
        converged = history.last! <= tolerance
        newtonIterations = iterations
        cgIterations = cgTotal
        colors = plan.coloring.colorCount
        direction = plan.coloring.direction.rawValue
        nonzeros = plan.pattern.nonzeroCount
        otherDirectionColors = plan.otherDirectionColorCount
        denseVectors = plan.denseVectorCount
        planDescription = plan.description
        residualNorm = history.last!
        residualHistory = history
        maximum = u.scalars.max() ?? 0
        let solution = u
        jacobianSeconds = measure ? Timing.median(repeats: 5) { _ = try? plan.jacobian(of: f, at: solution) } : nil
    }

    /// The result as a JSON object.
    public var json: [String: Any] {
        var object: [String: Any] = [
            "converged": converged, "newton_iterations": newtonIterations, "cg_iterations": cgIterations,
            "colors": colors, "direction": direction, "nonzeros": nonzeros, "residual_norm": residualNorm,
            "residual_history": residualHistory, "grid_size": gridSize, "lambda": lambda, "max_u": maximum,
            "dense_vectors": denseVectors, "vectors_saved": denseVectors - colors,
        ]
        if let otherDirectionColors { object["other_direction_colors"] = otherDirectionColors }
        if let jacobianSeconds { object["jacobian_seconds"] = jacobianSeconds }
        return object
    }
}

/// What went wrong in the linear solve of a Newton step.
struct SolveError: Error, CustomStringConvertible {
    let description: String
}

/// Conjugate gradients for A·x = b with A symmetric positive definite, from x = 0, until ‖r‖ ≤ tol·‖b‖ (or 10·size
/// iterations). Throws if a search direction p has pᵀAp ≤ 0 (A not positive definite).
func conjugateGradients(_ a: SparseMatrix<Double>, _ b: [Double],
                        relativeTolerance: Double) throws -> (x: [Double], iterations: Int) {
    func dot(_ x: [Double], _ y: [Double]) -> Double { zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } }
    var x = [Double](repeating: 0, count: b.count), r = b, p = b
    var rr = dot(r, r)
    let target = relativeTolerance * relativeTolerance * rr
    var k = 0
    while rr > target && k < 10 * b.count {
        let ap = a.multiplied(by: p)
        let pap = dot(p, ap)
        guard pap > 0 else { throw SolveError(description: "conjugate gradients: the Jacobian is not positive definite") }
        let alpha = rr / pap
        for i in x.indices {
            x[i] += alpha * p[i]
            r[i] -= alpha * ap[i]
        }
        let next = dot(r, r)
        let beta = next / rr
        rr = next
        for i in p.indices { p[i] = r[i] + beta * p[i] }
        k += 1
    }
    return (x, k)
}

/// `autograd example`: worked examples.
struct Example: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Worked examples: `bratu`, the 2-D Bratu problem solved by Newton's method with sparse Jacobians; "
            + "`gp`, Gaussian-process regression of the Mauna Loa CO₂ record.",
        subcommands: [Bratu.self, GP.self]
    )

    /// `autograd example bratu [--json]`.
    struct Bratu: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Solve the 2-D Bratu problem (100 × 100 grid, λ = 6) by Newton's method, each Jacobian sparse: "
                + "its pattern detected and coloured once, then one batched forward pass of one tangent per colour."
        )

        @Flag(help: "Print one JSON object (keys converged, newton_iterations, colors, residual_norm, nonzeros, ...).")
        var json = false

        @Option(help: "Grid side n (n² unknowns).")
        var gridSize = 100

        func run() throws {
            let r = try BratuResults(gridSize: gridSize, measure: true)
            if json {
                print(JSON.string(r.json))
                return
            }
            let n = r.gridSize
            print("""
            2-D Bratu problem, \(n) × \(n) grid, λ = \(r.lambda)
            \(r.planDescription)
            Newton from u = 0: \(r.newtonIterations) iterations (\(r.cgIterations) conjugate-gradient steps), \
            \(r.converged ? "converged" : "NOT converged")
            ‖F(u)‖₂ per iteration: \(r.residualHistory.map { String(format: "%.3e", $0) }.joined(separator: ", "))
            max u = \(String(format: "%.6f", r.maximum))
            """)
            if let s = r.jacobianSeconds { print(String(format: "One sparse Jacobian: %.2f ms", s * 1000)) }
        }
    }
}

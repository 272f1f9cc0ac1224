import ArgumentParser
import Autograd

/// `autograd explain`: what each derivative call computes on the motivating problem, in words and shapes.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Say what a derivative call computes on the motivating problem: formula, shapes, steps, cost.",
        discussion: """
            With no options, explains the three calls of the motivating problem (100 per-example losses of \
            weights w [1, 2]): vᵀJ by vjp(of:at:cotangent:), J·u by jvp(of:at:tangent:), and the whole Jacobian \
            by jacobian(of:at:). Each explanation gives the formula with the concrete shapes, the recorded \
            operations the cotangent (or tangent) passes through with its shape at each step, and the passes the \
            call costs. --dot prints the recorded computation as a Graphviz graph instead:
              autograd explain --dot | dot -Tsvg > losses.svg

            --call sparse-jacobian explains a sparse Jacobian instead, that of the 2-D Bratu residual on a \
            100 × 100 grid (the example `autograd example bratu` and the workload sparse-jacobian): the detected \
            pattern's non-zeros, the colours and the direction chosen, and the passes saved compared with a dense \
            Jacobian.
            """
    )

    /// The calls `--call` accepts.
    enum Call: String, ExpressibleByArgument, CaseIterable {
        case vjp, jvp, jacobian, gradient, all
        case sparseJacobian = "sparse-jacobian"
    }

    @Option(help: ArgumentHelp("Which call to explain: vjp, jvp, jacobian, gradient (of the mean loss), all, or "
        + "sparse-jacobian (of the Bratu residual)."))
    var call: Call = .all

    @Flag(help: "Print the recorded computation of the losses as Graphviz DOT text instead.")
    var dot = false

    func run() throws {
        print(try Self.text(call: call, dot: dot), terminator: "")
    }

    /// What the command prints.
    static func text(call: Call, dot: Bool, gridSize: Int = 100) throws -> String {
        if call == .sparseJacobian { return try sparseText(gridSize: gridSize) }
        let p = MotivatingProblem()
        if dot { return try explain(.vjp, of: p.losses, at: p.w, inputName: "w", outputName: "losses").dot }
        var parts: [String] = []
        if call == .all {
            parts.append("""
                The motivating problem: 100 per-example losses of weights w [1, 2]
                  losses(w) = binaryCrossEntropy(sigmoid(x · wᵀ), y, reduction: .none)
                  with data x [100, 2] and targets y [100]
                Three calls, three different products with J = ∂losses/∂w [100, 1, 2]:
                """)
        }
        let calls: [DerivativeCall] = switch call {
        case .vjp: [.vjp]
        case .jvp: [.jvp]
        case .jacobian: [.jacobian()]
        case .gradient: [.gradient]
        case .all: [.vjp, .jvp, .jacobian()]
        case .sparseJacobian: []
        }
        for c in calls {
            if c == .gradient {
                parts.append("Of the mean loss, losses(w).mean() (one element):\n"
                    + "\(try explain(c, of: { p.losses($0).mean() }, at: p.w, inputName: "w", outputName: "mean"))")
            } else {
                parts.append("\(try explain(c, of: p.losses, at: p.w, inputName: "w", outputName: "losses"))")
            }
        }
        return parts.joined(separator: "\n\n") + "\n"
    }

    /// The explanation of the Bratu residual's prepared sparse Jacobian on an n × n grid.
    static func sparseText(gridSize n: Int) throws -> String {
        let f = { (u: Tensor<Double>) in BratuResults.residual(u, lambda: 6) }
        let plan = try prepareSparseJacobian(of: f, at: Tensor<Double>(zeros: [n, n]))
        return """
            The 2-D Bratu residual F(u) on a \(n) × \(n) grid (5-point Laplacian, zero boundary, λ = 6):
              let plan = try prepareSparseJacobian(of: F, at: u)   // the pattern detected and coloured once
              let J = try plan.jacobian(of: F, at: u).jacobian      // at each point: CSR, \(n * n) × \(n * n)
            \(plan)

            """
    }
}

import ArgumentParser
import Autograd
import Foundation

/// `autograd check`: runs the derivative checker over every primitive and prints the results.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every primitive's derivatives against finite differences and each other.",
        discussion: """
            For every primitive (and the main composites), at random points in Float and Double:
              reverse      vᵀJ by reverse mode vs. central finite differences in Double
              forward      J·u by forward mode vs. central finite differences in Double
              dot-product  ⟨v, J·u⟩ = ⟨vᵀJ, u⟩ between the two modes
              sparsity     the detected Jacobian pattern holds every non-zero of dense Jacobians (Double)
            Each check runs through every route the engine takes for it, one row per route and mode:
              general           the rules as stated, every fast path off
              tensor, buffer    forward mode's plain forms (on tensors, on bare buffers)
              two-input         the plain forward form of a two-input primitive
              fused             fused derivative kernels instead of f′ written as an expression
              in-place          a VJP written into its cotangent's own buffer
              batched           three tangents or cotangents in one pass (worst slice)
              tangent-only HVP  hvp's reverse step that forms only a cotangent's tangent
            The transform checks that follow run as the engine chooses (route "default").
            Exits with a failure status if any check fails.
            """
    )

    @Flag(help: "Print the rows as a JSON array of {\"op\", \"mode\", \"route\", \"type\", \"max_error\", \"tolerance\", \"passed\"}.")
    var json = false

    @Option(help: "Element type: float, double or both.")
    var type: String = "both"

    func run() throws {
        let types: [ScalarType] = switch type {
        case "float": [.float32]
        case "double": [.float64]
        default: [.float32, .float64]
        }
        var rows = try PrimitiveChecks.run(types: types)
        rows += try TransformChecks.run(types: types)
        rows += try PrimitiveChecks.sparsityRows()
        rows += try PrimitiveChecks.vmapRows()
        
        if json {
            let objects: [[String: Any]] = rows.map {
                ["op": $0.operation, "mode": $0.mode, "route": $0.route, "type": $0.scalarType, "max_error": $0.maxError,
                 "tolerance": $0.tolerance, "passed": $0.passed]
            }
            print(JSON.string(objects))
        } else {
            let width = max(9, rows.map(\.operation.count).max() ?? 0)
            func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
            print(pad("operation", width), pad("mode", 21), pad("route", 16), pad("type", 7), pad("max error", 10),
                  "pass")
            print(String(repeating: "-", count: width + 63))
            for r in rows {
                print(pad(r.operation, width), pad(r.mode, 21), pad(r.route, 16), pad(r.scalarType, 7),
                      pad(String(format: "%.2e", r.maxError), 10), r.passed ? "yes" : "NO")
            }
            let failed = rows.filter { !$0.passed }.count
            print("\n\(rows.count) checks, \(rows.count - failed) passed, \(failed) failed.")
        }
        if rows.contains(where: { !$0.passed }) { throw ExitCode.failure }
    }
}

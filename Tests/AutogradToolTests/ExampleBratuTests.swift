import Foundation
import Testing
import Autograd
@testable import AutogradTool

/// `autograd example bratu`: Newton's method with sparse Jacobians converges, and the Jacobian of the workload's
/// size has the stated pattern, colours and entries.
@Suite struct ExampleBratuTests {
    @Test func newtonConvergesWithFiveColours() throws {
        let n = 20  // (the greedy colouring needs 6 colours when n mod 5 = 4; see the article)
        let r = try BratuResults(gridSize: n)
        #expect(r.converged && r.residualNorm <= 1e-7)
        #expect(r.newtonIterations >= 3 && r.newtonIterations <= 8)
        #expect(r.colors == 5 && r.direction == "forward")
        #expect(r.nonzeros == 5 * n * n - 4 * n)
        // Quadratic convergence: each of the last steps at least squares the relative residual, roughly.
        let h = r.residualHistory
        #expect(h[h.count - 1] < 1e-3 * h[h.count - 2])
        // The JSON carries the keys the issue asks for.
        let object = try JSONSerialization.jsonObject(with: Data(JSON.string(r.json).utf8)) as! [String: Any]
        for key in ["converged", "newton_iterations", "colors", "residual_norm"] { #expect(object[key] != nil, "\(key)") }
    }

    @Test func workloadJacobianHasTheStencilEntries() throws {
        let n = 100
        let u = Tensor<Double>(zeros: [n, n])
        let f: (Tensor<Double>) -> Tensor<Double> = { BratuResults.residual($0, lambda: 6) }
        let plan = try prepareSparseJacobian(of: f, at: u)
        #expect(plan.pattern.nonzeroCount == 49_600 && plan.coloring.colorCount == 5)
        let r = try plan.jacobian(of: f, at: u)
        let j = r.jacobian
        #expect(j[0, 0] == 40_798 && j[0, 1] == -10_201 && j[0, n] == -10_201 && j[5050, 4950] == -10_201)
        let diagonal: Double = 40_798 * 10_000, offDiagonal: Double = -10_201 * 39_600
        #expect(j.values.reduce(0, +) == diagonal + offDiagonal)
        #expect(r.value.scalars.allSatisfy { $0 == -6 })
    }

    @Test func commandPrintsJSON() throws {
        var command = try AutogradCommand.parseAsRoot(["example", "bratu", "--json", "--grid-size", "12"])
        try command.run()
    }
}

import Testing
@testable import AutogradTool

/// `autograd explain`: with no options it explains the motivating problem's three calls; `--dot` prints a graph.
@Suite struct ExplainCommandTests {
    @Test func withoutOptionsItExplainsTheThreeCalls() throws {
        let text = try Explain.text(call: .all, dot: false)
        for piece in ["vjp(of:at:cotangent:): the vector-Jacobian product vᵀJ",
                      "jvp(of:at:tangent:): the Jacobian-vector product J·u",
                      "jacobian(of:at:strategy: .automatic): the whole Jacobian J",
                      "v: [100], shaped like the OUTPUT y  →  result: [1, 2], shaped like the INPUT x",
                      "u: [1, 2], shaped like the INPUT x  →  result: [100], shaped like the OUTPUT y",
                      "[100] + [1, 2] = [100, 1, 2]", ".automatic chose .forward because n = 2 ≤ m = 100"] {
            #expect(text.contains(piece), "missing \"\(piece)\"")
        }
        #expect(!text.contains("gradient(at:of:)"))
    }

    @Test func oneCallAtATime() throws {
        let gradient = try Explain.text(call: .gradient, dot: false)
        #expect(gradient.contains("gradient(at:of:): the gradient ∇f(x)") && !gradient.contains("J·u,"))
        let jvp = try Explain.text(call: .jvp, dot: false)
        #expect(jvp.contains("by forward mode") && !jvp.contains("by reverse mode"))
    }

    @Test func dotPrintsTheRecordedLosses() throws {
        let dot = try Explain.text(call: .all, dot: true)
        #expect(dot.hasPrefix("digraph computation {") && dot.hasSuffix("}\n"))
        #expect(dot.contains("n4 -> n5") && dot.contains("binaryCrossEntropy"))
    }
}

import Testing
@testable import AutogradTool

/// `autograd explain`: with no options it explains the motivating problem's three calls; `--dot` prints a graph.
/// Whether `text` contains `piece`, with runs of whitespace collapsed (the explanations wrap long lines).
private func says(_ text: String, _ piece: String) -> Bool {
    func collapse(_ s: String) -> String { s.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
    return collapse(text).contains(collapse(piece))
}

@Suite struct ExplainCommandTests {
    @Test func withoutOptionsItExplainsTheThreeCalls() throws {
        let text = try Explain.text(call: .all, dot: false)
        for piece in ["vjp(of:at:cotangent:): the vector-Jacobian product vᵀJ",
                      "jvp(of:at:tangent:): the Jacobian-vector product J·u",
                      "jacobian(of:at:strategy: .automatic): the whole Jacobian J",
                      "v: [100], like the OUTPUT losses  →  result: [1, 2], like the INPUT w",
                      "u: [1, 2], like the INPUT w  →  result: [100], like the OUTPUT losses",
                      "f maps w [1, 2] to losses [100]", "J = ∂losses/∂w has shape",
                      "[100] + [1, 2] = [100, 1, 2]", ".automatic chose .forward because n = 2 ≤ m = 100"] {
            #expect(says(text, piece), "missing \"\(piece)\"")
        }
        #expect(!says(text, "gradient(at:of:)"))
        // In this problem x is the data and y the targets: the explanation uses the problem's names instead.
        #expect(!says(text, "like the INPUT x") && !says(text, "f maps x"))
    }

    @Test func oneCallAtATime() throws {
        let gradient = try Explain.text(call: .gradient, dot: false)
        #expect(says(gradient, "gradient(at:of:): the gradient ∇f(w)") && !says(gradient, "J·u,"))
        let jvp = try Explain.text(call: .jvp, dot: false)
        #expect(says(jvp, "by forward mode") && !says(jvp, "by reverse mode"))
    }

    @Test func dotPrintsTheRecordedLosses() throws {
        let dot = try Explain.text(call: .all, dot: true)
        #expect(dot.hasPrefix("digraph computation {") && dot.hasSuffix("}\n"))
        #expect(says(dot, "n4 -> n5") && says(dot, "binaryCrossEntropy") && says(dot, "#0 w"))
    }

    @Test func sparseJacobianReportsNonzerosColoursAndSavings() throws {
        let text = try Explain.text(call: .sparseJacobian, dot: false, gridSize: 10)
        for piece in ["J is 100 × 100", "460 non-zeros", "at most 5 in a row and 5 in a column",
                      "5 colours of the columns (forward mode", "chosen automatically",
                      "ONE forward pass of 5 tangents instead of 100 for the dense Jacobian: 95 saved, 20× fewer"] {
            #expect(says(text, piece), "missing \"\(piece)\" in \(text)")
        }
    }
}

import Foundation
import Testing
@testable import Autograd

/// `explain` and the graph export, on the motivating problem's shapes and on graphs with branches.
/// Whether `text` contains `piece`, comparing with runs of whitespace (line breaks included) collapsed to one space:
/// the explanations wrap long lines.
func says(_ text: String, _ piece: String) -> Bool {
    func collapse(_ s: String) -> String { s.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
    return collapse(text).contains(collapse(piece))
}

@Suite struct ExplainTests {
    /// The motivating problem: 100 per-example losses of weights w [1, 2].
    struct Problem {
        let x: Tensor<Double>, w: Tensor<Double>, y: Tensor<Double>
        init() {
            var rng = SeededGenerator(seed: 42)
            x = Tensor(randomNormal: [100, 2], using: &rng)
            w = Tensor(randomNormal: [1, 2], using: &rng)
            y = Tensor(randomUniform: [100], using: &rng)
        }
        func losses(_ w: Tensor<Double>) -> Tensor<Double> {
            binaryCrossEntropy(probabilities: sigmoid(matmul(x, w.transposed())).flattened(), targets: y,
                               reduction: .none)
        }
    }
    let p = Problem()

    @Test func vjpNamesTheShapesAndTheStepsBackward() throws {
        let e = try explain(.vjp, of: p.losses, at: p.w)
        #expect(e.mode == .reverse && e.batchSize == 1)
        #expect(e.inputShape == [1, 2] && e.outputShape == [100] && e.jacobianShape == [100, 1, 2])
        #expect(e.vectorShape == [100] && e.resultShape == [1, 2])
        #expect(e.matrixSize == (rows: 100, columns: 2))
        #expect(e.steps.map { e.graph.nodes[$0].operation }
                == ["binaryCrossEntropy", "reshape", "sigmoid", "matmul", "permute"])
        #expect(e.steps.map { e.graph.nodes[$0].shape } == [[100], [100], [100, 1], [100, 1], [2, 1]])
        let text = e.description
        for piece in ["vector-Jacobian product vᵀJ", "result_j = Σ_i v_i · ∂y_i/∂x_j",
                      "[100] + [1, 2] = [100, 1, 2] (as a matrix, 100 × 2)",
                      "v: [100], like the OUTPUT y  →  result: [1, 2], like the INPUT x",
                      "use jvp(of:at:tangent:)", "backward through 5 recorded operations",
                      "#2 matmul              [100, 1]  →  [2, 1] to #1", "operand 0 [100, 2] is a constant",
                      "#1 permute             [2, 1]    →  [1, 2] to x", "ONE reverse pass"] {
            #expect(says(text, piece), "missing \"\(piece)\" in:\n\(text)")
        }
    }

    @Test func jvpWalksForwardWithTheTangentShapes() throws {
        let e = try explain(.jvp, of: p.losses, at: p.w)
        #expect(e.mode == .forward && e.vectorShape == [1, 2] && e.resultShape == [100])
        #expect(e.steps.map { e.graph.nodes[$0].operation }
                == ["permute", "matmul", "sigmoid", "reshape", "binaryCrossEntropy"])
        let text = e.description
        for piece in ["Jacobian-vector product J·u", "(J·u)_i = Σ_j ∂y_i/∂x_j · u_j",
                      "u: [1, 2], like the INPUT x  →  result: [100], like the OUTPUT y",
                      "#2 matmul              [2, 1] from #1    →  [100, 1]", "nothing is recorded",
                      "use vjp(of:at:cotangent:)"] {
            #expect(says(text, piece), "missing \"\(piece)\" in:\n\(text)")
        }
    }

    @Test func jacobianSaysWhichStrategyAndWhy() throws {
        let e = try explain(.jacobian(), of: p.losses, at: p.w)
        #expect(e.mode == .forward && e.batchSize == 2 && e.resultShape == [100, 1, 2])
        #expect(says(e.description, ".automatic chose .forward because n = 2 ≤ m = 100"))
        #expect(says(e.description, "[2] + [100], rearranged to J [100, 1, 2]"))
        // Many inputs, few outputs: reverse, with a batch of m cotangents.
        let r = try explain(.jacobian(), of: { (v: Tensor<Double>) in v.reshaped(to: [2, 3]).sum(alongAxes: 1) },
                            at: Tensor<Double>(ones: [6]))
        #expect(r.mode == .reverse && r.batchSize == 2 && r.jacobianShape == [2, 6])
        #expect(says(r.description, "n = 6 > m = 2") && says(r.description, "batch of 2 cotangents"))
        // An explicit strategy is taken as given.
        let forced = try explain(.jacobian(strategy: .reverse), of: p.losses, at: p.w)
        #expect(forced.mode == .reverse && forced.batchSize == 100 && !says(forced.description, ".automatic chose"))
    }

    @Test func gradientNeedsAOneElementOutput() throws {
        let e = try explain(.gradient, of: { p.losses($0).mean() }, at: p.w)
        #expect(e.outputShape == [] && e.resultShape == [1, 2] && e.vectorShape == nil)
        #expect(e.steps.map { e.graph.nodes[$0].operation }.prefix(2) == ["divide", "sum"])   // mean = sum / count
        #expect(throws: AutogradError.self) { try explain(.gradient, of: p.losses, at: p.w) }
    }

    @Test func branchesAndBroadcastingAreNamed() throws {
        // x [3] is used twice, and broadcast against a [2, 3] constant.
        let e = try explain(.vjp, of: { (x: Tensor<Double>) in (x * Tensor(ones: [2, 3])) + sin(x) },
                            at: Tensor<Double>([1, 2, 3]))
        let text = e.description
        #expect(e.graph.users(of: 0).count == 2)
        #expect(says(text, "[3] to x (summed over broadcast axes)"), "\(text)")
        #expect(says(text, "x is used by 2 operations: their cotangents are added"), "\(text)")
        let forward = try explain(.jvp, of: { (x: Tensor<Double>) in (x * Tensor(ones: [2, 3])) + sin(x) },
                                  at: Tensor<Double>([1, 2, 3])).description
        #expect(says(forward, "broadcast to [2, 3]"), "\(forward)")
        // A value used twice by one operation: both uses are counted.
        let square = try explain(.vjp, of: { (x: Tensor<Double>) in let s = sin(x); return s * s },
                                 at: Tensor<Double>([1, 2]))
        #expect(says(square.description, "its 2 uses' cotangents are added first"))
    }

    @Test func aFunctionThatIgnoresItsInputHasNoSteps() throws {
        let e = try explain(.vjp, of: { (_: Tensor<Double>) in Tensor<Double>([1, 2]) }, at: Tensor<Double>([3]))
        #expect(e.steps.isEmpty && e.graph.nodes.count == 1 && e.graph.outputs.isEmpty)
        #expect(says(e.description, "y does not depend on x"))
    }

    // MARK: - Graph export

    /// A small reader of the DOT language subset a graph needs: `digraph name { statements }`, node statements
    /// `id [attr=value, ...];` and edge statements `a -> b [...];`, with quoted strings and their escapes. It
    /// rejects anything else, so the export must be well-formed DOT.
    struct DOTGraph {
        var nodes: [String: [String: String]] = [:]
        var edges: [(from: String, to: String, attributes: [String: String])] = []

        enum ParseError: Error { case unexpected(String) }

        init(parsing text: String) throws {
            var tokens: [String] = []
            var chars = Array(text)[...]
            while let c = chars.first {
                if c.isWhitespace { chars = chars.dropFirst(); continue }
                if c == "\"" {
                    var s = "\""
                    chars = chars.dropFirst()
                    while let d = chars.first, d != "\"" {
                        if d == "\\", chars.count > 1 { s.append(d); chars = chars.dropFirst() }
                        s.append(chars.first!); chars = chars.dropFirst()
                    }
                    guard !chars.isEmpty else { throw ParseError.unexpected("unterminated string") }
                    chars = chars.dropFirst()
                    tokens.append(s + "\"")
                } else if c == "-", chars.dropFirst().first == ">" {
                    tokens.append("->"); chars = chars.dropFirst(2)
                } else if "{}[];=,".contains(c) {
                    tokens.append(String(c)); chars = chars.dropFirst()
                } else if c.isLetter || c.isNumber || c == "_" {
                    let word = chars.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
                    tokens.append(String(word)); chars = chars.dropFirst(word.count)
                } else {
                    throw ParseError.unexpected(String(c))
                }
            }
            var i = 0
            func next() throws -> String {
                guard i < tokens.count else { throw ParseError.unexpected("end of input") }
                defer { i += 1 }
                return tokens[i]
            }
            func expect(_ t: String) throws { let n = try next(); if n != t { throw ParseError.unexpected(n) } }
            func attributes() throws -> [String: String] {
                var result: [String: String] = [:]
                guard i < tokens.count, tokens[i] == "[" else { return result }
                i += 1
                while tokens[i] != "]" {
                    let key = try next()
                    try expect("=")
                    var value = try next()
                    if value.hasPrefix("\"") { value = String(value.dropFirst().dropLast()) }
                    result[key] = value
                    if tokens[i] == "," { i += 1 }
                }
                i += 1
                return result
            }
            try expect("digraph")
            _ = try next()
            try expect("{")
            while tokens[i] != "}" {
                let id = try next()
                if tokens[i] == "->" {
                    i += 1
                    let to = try next()
                    edges.append((id, to, try attributes()))
                } else {
                    let a = try attributes()
                    if id != "node" && id != "edge" { nodes[id] = a }
                }
                try expect(";")
            }
            i += 1
            if i != tokens.count { throw ParseError.unexpected("text after the graph") }
        }
    }

    @Test func dotOfTheMotivatingProblemParsesWithTheRightNodesAndEdges() throws {
        let dot = try explain(.vjp, of: p.losses, at: p.w).dot
        let g = try DOTGraph(parsing: dot)
        #expect(g.nodes.count == 8)   // x, 5 operations, 2 constants
        #expect(g.nodes["n0"]?["label"] == "#0 x\\n[1, 2]")
        #expect(g.nodes["n2"]?["label"] == "#2 matmul\\n[100, 1]")
        #expect(g.nodes["n5"]?["peripheries"] == "2")
        let pairs = Set(g.edges.map { "\($0.from)->\($0.to)" })
        #expect(pairs == ["n0->n1", "n1->n2", "c0->n2", "n2->n3", "n3->n4", "n4->n5", "c1->n5"])
        #expect(g.edges.first { $0.from == "c0" }?.attributes["label"] == "[100, 2]")
        for e in g.edges { #expect(g.nodes[e.from] != nil && g.nodes[e.to] != nil) }
    }

    @Test func recordedGraphOfLeavesMarkedByHand() throws {
        let a = Tensor<Double>([1, 2]).requiringGradient(), b = Tensor<Double>([3, 4]).requiringGradient()
        let y = (a * b + a).sum()
        let graph = try #require(y.recordedGraph())
        #expect(graph.inputs.count == 2 && graph.operationCount == 3)
        #expect(graph.nodes.map(\.operation) == ["input", "input", "multiply", "add", "sum"])
        #expect(graph.users(of: 0) == [2, 3])
        #expect(graph.outputs == [4])
        #expect(says(graph.description, "#3 add") && says(graph.description, "← #2, #0"))
        let g = try DOTGraph(parsing: graph.dot)
        #expect(g.nodes.count == 5 && g.edges.count == 5)
        #expect(Tensor<Double>([1]).recordedGraph() == nil)
        // The graph is only read: the derivatives still come out.
        #expect(try gradient(of: y, wrt: a).scalars == [4, 5])
    }

    @Test func longChainsDoNotOverflowTheStack() throws {
        let graph = try computationGraph(of: { (x: Tensor<Double>) in
            var y = x
            for _ in 0..<20_000 { y = y * 1.0001 }
            return y
        }, at: Tensor<Double>([1]))
        #expect(graph.operationCount == 20_000 && graph.nodes.last?.id == 20_000)
    }
}

import Foundation

/// A derivative call that ``explain(_:of:at:inputName:outputName:)`` can describe.
public enum DerivativeCall: Sendable, Equatable {
    /// ``gradient(at:of:)``: ∇f(x), for an f with a one-element output (vᵀJ with v = 1).
    case gradient
    /// ``vjp(of:at:cotangent:)`` (and ``gradient(of:wrt:cotangent:retainGraph:createGraph:allowUnused:)``):
    /// vᵀJ with v shaped like the output, by one reverse pass.
    case vjp
    /// ``jvp(of:at:tangent:)``: J·u with u shaped like the input, by one forward pass.
    case jvp
    /// ``jacobian(of:at:strategy:)``: the whole J, by one batched pass in the direction `strategy` chooses.
    case jacobian(strategy: JacobianStrategy = .automatic)

    /// The call's name as written in code.
    public var name: String {
        switch self {
        case .gradient: "gradient(at:of:)"
        case .vjp: "vjp(of:at:cotangent:)"
        case .jvp: "jvp(of:at:tangent:)"
        case .jacobian(let strategy): "jacobian(of:at:strategy: .\(strategy.rawValue))"
        }
    }
}

/// What a derivative call computes, in words and shapes: the formula with the concrete shapes, the operations the
/// cotangent (or tangent) passes through with the shape at each step, and the passes it costs.
///
/// Made by ``explain(_:of:at:inputName:outputName:)``; `description` is the text `autograd explain` prints. The
/// properties hold the same facts as values, for tests and tools.
public struct DerivativeExplanation: Sendable, CustomStringConvertible {
    /// Which way the vectors flow.
    public enum Mode: String, Sendable {
        /// Cotangents flow from the output back to the input (vᵀJ).
        case reverse
        /// Tangents flow from the input forward to the output (J·u).
        case forward
    }

    /// The call explained.
    public let call: DerivativeCall
    /// The shape of x.
    public let inputShape: [Int]
    /// The shape of f(x).
    public let outputShape: [Int]
    /// The shape of J = ∂f/∂x: output shape + input shape.
    public let jacobianShape: [Int]
    /// The shape of the vector the call takes: v (like the output) for `.vjp`, u (like the input) for `.jvp`,
    /// nil for `.gradient` (v = 1 is implied) and `.jacobian` (the identity is pushed instead).
    public let vectorShape: [Int]?
    /// The shape of what the call returns.
    public let resultShape: [Int]
    /// The formula of one entry of the result, e.g. `result_j = Σ_i v_i · ∂y_i/∂x_j`.
    public let formula: String
    /// The direction of the one pass the call runs.
    public let mode: Mode
    /// How many vectors travel through that pass together: 1, or for a Jacobian n (forward) or m (reverse).
    public let batchSize: Int
    /// The recorded computation of f at x (node 0 is x).
    public let graph: ComputationGraph
    /// What the text calls the input and the output (`x` and `y` unless ``explain(_:of:at:inputName:outputName:)``
    /// was given the problem's own names, such as `w` and `losses`).
    public let inputName: String, outputName: String
    /// The operations in the order the pass visits them: last to first for reverse mode, first to last for
    /// forward mode (ids into ``graph``).
    public let steps: [Int]

    /// The number of elements of the output (m) and of the input (n): J is an m × n matrix.
    public var matrixSize: (rows: Int, columns: Int) { (count(outputShape), count(inputShape)) }

    private func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// The explanation as text: the call and its formula with shapes, the steps with their shapes, the cost.
    public var description: String {
        let (m, n) = matrixSize
        let x = describe(inputShape), y = describe(outputShape), xn = inputName, yn = outputName
        var text: [String] = []
        let jacobian = "  J = ∂\(yn)/∂\(xn) has shape \(y) + \(x) = \(describe(jacobianShape)) (as a matrix, \(m) × \(n))"
        switch call {
        case .gradient:
            text.append("\(call.name): the gradient ∇f(\(xn)), by reverse mode")
            text.append("  f maps \(xn) \(x) to \(yn) \(y), one element")
            text.append(jacobian)
            text.append("  \(formula)")
            text.append("  v = 1 (implied)  →  result: \(describe(resultShape)), like the INPUT \(xn)")
        case .vjp:
            text.append("\(call.name): the vector-Jacobian product vᵀJ, by reverse mode")
            text.append("  f maps \(xn) \(x) to \(yn) \(y)")
            text.append(jacobian)
            text.append("  \(formula)")
            text.append("  v: \(y), like the OUTPUT \(yn)  →  result: \(describe(resultShape)), like the INPUT \(xn)")
            text.append("  (for J·u with u shaped like the input, \(x), use jvp(of:at:tangent:))")
        case .jvp:
            text.append("\(call.name): the Jacobian-vector product J·u, by forward mode")
            text.append("  f maps \(xn) \(x) to \(yn) \(y)")
            text.append(jacobian)
            text.append("  \(formula)")
            text.append("  u: \(x), like the INPUT \(xn)  →  result: \(describe(resultShape)), like the OUTPUT \(yn)")
            text.append("  (for vᵀJ with v shaped like the output, \(y), use vjp(of:at:cotangent:))")
        case .jacobian(let strategy):
            text.append("\(call.name): the whole Jacobian J, by one batched \(mode.rawValue) pass")
            text.append("  f maps \(xn) \(x) to \(yn) \(y)")
            text.append(jacobian)
            text.append("  \(formula)")
            let how = mode == .forward
                ? "the \(n) columns J·e_j: the [\(n), \(n)] identity goes forward as a batch of \(n) tangents"
                : "the \(m) rows e_iᵀJ: the [\(m), \(m)] identity goes backward as a batch of \(m) cotangents"
            text.append("  It builds \(how).")
            if strategy == .automatic {
                text.append("  .automatic chose .\(mode.rawValue) because n = \(n) \(mode == .forward ? "≤" : ">") m = \(m) "
                    + "(n input elements, m output elements).")
            }
        }
        text.append("")
        let ops = graph.operationCount
        if steps.isEmpty {
            text.append("  \(yn) does not depend on \(xn): every derivative is zero and no pass runs.")
            return text.joined(separator: "\n")
        }
        let batchNote = batchSize > 1 ? " (each shape below has [\(batchSize)] in front: one slice per vector)" : ""
        if mode == .reverse {
            text.append("  The cotangent flows backward through \(ops) recorded operation\(ops == 1 ? "" : "s"), last "
                + "to first\(batchNote):")
        } else {
            text.append("  The tangent flows forward through \(ops) operation\(ops == 1 ? "" : "s"), alongside the "
                + "values\(batchNote):")
        }
        text += stepLines()
        text.append("")
        text.append("  Cost: " + cost)
        return text.flatMap { wrapped($0) }.joined(separator: "\n")
    }

    /// Splits a long line at spaces into lines of at most `width` characters, continuing at the line's indentation
    /// plus two spaces.
    private func wrapped(_ line: String, width: Int = 78) -> [String] {
        if line.count <= width { return [line] }
        let lead = String(line.prefix { $0 == " " })
        var lines: [String] = []
        var current = lead
        for word in line.dropFirst(lead.count).split(separator: " ") {
            if current.count > lead.count && current.count + 1 + word.count > width {
                lines.append(current)
                current = lead + "  " + word
            } else {
                current += (current.count > lead.count ? " " : "") + word
            }
        }
        lines.append(current)
        return lines
    }

    /// One line per step: `#id name  in-shapes → out-shapes`, with constants, un-broadcasting and fan-out noted.
    private func stepLines() -> [String] {
        let width = steps.map { "#\($0) \(graph.nodes[$0].operation)".count }.max() ?? 0
        func name(_ id: Int) -> String { graph.nodes[id].isInput ? inputName : "#\(id)" }
        var rows: [(head: String, from: String, to: String, note: String)] = []
        for id in steps {
            let node = graph.nodes[id]
            let head = "#\(id) \(node.operation)"
            var notes: [String] = []
            let constants = node.inputs.enumerated().filter { $0.element.source == nil }
            if !constants.isEmpty {
                notes.append(constants.map { "operand \($0.offset) \(describe($0.element.shape)) is a constant" }
                    .joined(separator: ", "))
            }
            let recorded = node.inputs.filter { $0.source != nil }
            if mode == .reverse {
                let uses = graph.users(of: id).count
                if uses > 1 { notes.append("its \(uses) uses' cotangents are added first") }
                let to = recorded.map { e in
                    describe(e.shape) + " to \(name(e.source!))"
                        + (e.shape != node.shape && isBroadcasting(node.operation) ? " (summed over broadcast axes)" : "")
                }.joined(separator: ", ")
                rows.append((head, describe(node.shape), to, notes.joined(separator: "; ")))
            } else {
                let from = recorded.map { describe($0.shape) + " from \(name($0.source!))" }.joined(separator: ", ")
                if recorded.contains(where: { $0.shape != node.shape }) && isBroadcasting(node.operation) {
                    notes.append("broadcast to \(describe(node.shape))")
                }
                rows.append((head, from, describe(node.shape), notes.joined(separator: "; ")))
            }
        }
        let fromWidth = rows.map(\.from.count).max() ?? 0
                func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: Swift.max(0, n - s.count)) }
        // A note goes on its own line under the step, so that steps stay narrow enough for an 80-column terminal.
        var lines: [String] = []
        for row in rows {
            lines.append("    " + pad(row.head, width) + "  " + pad(row.from, fromWidth) + "  →  " + row.to)
            if !row.note.isEmpty { lines.append(String(repeating: " ", count: 6 + width) + "(" + row.note + ")") }
        }
        let xUses = graph.users(of: 0).count
        if mode == .reverse {
            lines.append("    = the result, shaped like \(inputName) \(describe(inputShape))"
                + (xUses > 1 ? " (\(inputName) is used by \(xUses) operations: their cotangents are added)" : ""))
        } else {
            lines.append("    = the result, shaped like \(outputName) \(describe(outputShape))")
        }
        if case .jacobian = call {
            let (m, n) = matrixSize
            lines[lines.count - 1] = mode == .forward
                ? "    = J·e_j for each j: [\(n)] + \(describe(outputShape)), rearranged to J \(describe(jacobianShape))"
                : "    = e_iᵀJ for each i: [\(m)] + \(describe(inputShape)), reshaped to J \(describe(jacobianShape))"
        }
        return lines
    }

    private func isBroadcasting(_ operation: String) -> Bool {
        ["add", "subtract", "multiply", "divide", "pow", "maximum", "minimum", "where"].contains(operation)
    }

    /// The passes the call runs, in words.
    public var cost: String {
        let ops = graph.operationCount
        let (m, n) = matrixSize
        switch call {
        case .gradient, .vjp:
            return "one evaluation of f that records \(ops) operation\(ops == 1 ? "" : "s"), then ONE reverse pass "
                + "that runs their VJP rules (about 2–3 × evaluating f, whatever the sizes of \(inputName) and "
                + "\(outputName))."
        case .jvp:
            return "ONE forward pass that runs each operation's JVP rule next to its value; nothing is recorded and "
                + "no reverse pass runs (a small constant times evaluating f)."
        case .jacobian:
            if mode == .forward {
                return "ONE forward pass carrying \(n) tangents at once (the arithmetic of \(n) JVPs, vectorized); "
                    + "the reverse strategy would pull \(m) cotangents back instead. Memory: the result, \(m * n) "
                    + "elements."
            }
            return "one evaluation of f that records \(ops) operations, then ONE reverse pass carrying \(m) "
                + "cotangents at once (the arithmetic of \(m) VJPs, vectorized); the forward strategy would push \(n) "
                + "tangents instead. Memory: the result, \(m * n) elements."
        }
    }

    /// The recorded computation as Graphviz DOT text, with the input named ``inputName`` (see
    /// ``ComputationGraph/dot``).
    public var dot: String { graph.dot(inputNames: [0: inputName]) }
}

/// Says what a derivative call will compute for f at x, without computing any derivative: the formula with the
/// concrete shapes, the operations the cotangent (reverse mode) or tangent (forward mode) passes through with its
/// shape at each step, and how many passes of which mode the call costs.
///
/// ```swift
/// let e = try explain(.vjp, of: losses, at: w)
/// print(e)          // the text `autograd explain` prints
/// print(e.resultShape)    // [1, 2]: shaped like w
/// ```
///
/// `inputName` and `outputName` are what the text calls x and f(x); give the problem's own names (`inputName: "w",
/// outputName: "losses"`) when x is not the data. f is evaluated once, recording (to learn the operations and
/// shapes); nothing is differentiated.
/// - Throws: ``AutogradError/outputShapeMismatch(call:expected:actual:)`` for `.gradient` when f's output has
///   more than one element (the call itself would throw too), and whatever f throws.
/// - Complexity: one recorded evaluation of f.
public func explain<Scalar: TensorScalar>(
    _ call: DerivativeCall, of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>,
    inputName: String = "x", outputName: String = "y"
) throws -> DerivativeExplanation {
    let (xn, yn) = (inputName, outputName)
    let recorded = try RecordedFunction(f, at: x)
    let graph = recorded.graph
    let xShape = x.shape, yShape = recorded.output.shape
    let n = x.count, m = recorded.output.count
    let operations = graph.nodes.filter { !$0.isInput }.map(\.id)
    let forwardOrder = graph.outputs.isEmpty ? [] : operations
    let reverseOrder = Array(forwardOrder.reversed())
    let jacobianFormula = "J[i…, j…] = ∂\(yn)[i…]/∂\(xn)[j…]"
    switch call {
    case .gradient:
        if m != 1 {
            throw AutogradError.outputShapeMismatch(call: call.name, expected: "a one-element output (a loss)",
                                                    actual: yShape)
        }
        return DerivativeExplanation(call: call, inputShape: xShape, outputShape: yShape,
                                     jacobianShape: yShape + xShape, vectorShape: nil, resultShape: xShape,
                                     formula: "result_j = ∂\(yn)/∂\(xn)_j  (vᵀJ with v = 1)", mode: .reverse, batchSize: 1,
                                     graph: graph, inputName: xn, outputName: yn, steps: reverseOrder)
    case .vjp:
        return DerivativeExplanation(call: call, inputShape: xShape, outputShape: yShape,
                                     jacobianShape: yShape + xShape, vectorShape: yShape, resultShape: xShape,
                                     formula: "result_j = Σ_i v_i · ∂\(yn)_i/∂\(xn)_j", mode: .reverse, batchSize: 1,
                                     graph: graph, inputName: xn, outputName: yn, steps: reverseOrder)
    case .jvp:
        return DerivativeExplanation(call: call, inputShape: xShape, outputShape: yShape,
                                     jacobianShape: yShape + xShape, vectorShape: xShape, resultShape: yShape,
                                     formula: "(J·u)_i = Σ_j ∂\(yn)_i/∂\(xn)_j · u_j", mode: .forward, batchSize: 1,
                                     graph: graph, inputName: xn, outputName: yn, steps: forwardOrder)
    case .jacobian(let strategy):
        let resolved = strategy.resolved(inputCount: n, outputCount: m)
        let forward = resolved == .forward
        return DerivativeExplanation(call: call, inputShape: xShape, outputShape: yShape,
                                     jacobianShape: yShape + xShape, vectorShape: nil, resultShape: yShape + xShape,
                                     formula: jacobianFormula, mode: forward ? .forward : .reverse,
                                     batchSize: forward ? n : m, graph: graph, inputName: xn,
                                     outputName: yn, steps: forward ? forwardOrder : reverseOrder)
    }
}

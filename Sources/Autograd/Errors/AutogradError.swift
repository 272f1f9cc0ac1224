/// A misuse of a derivative call, reported as a value: each case carries the shapes and positions involved, and
/// its `description` is the message a user reads: what was wrong, what the call computes, and the likely fix.
///
/// Errors inside operations (shapes that do not broadcast, a bad axis) stop the program instead, with a message
/// naming the operation, both shapes and the rule broken, as an out-of-range array index does in Swift.
public enum AutogradError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A cotangent's shape differs from its output's. `call` names the derivative call that was made.
    case cotangentShapeMismatch(output: Int, cotangentShape: [Int], outputShape: [Int], inputShapes: [[Int]],
                                call: String)
    /// A tangent's shape differs from its input's. `outputShape` is known when the function was evaluated.
    case tangentShapeMismatch(input: Int, tangentShape: [Int], inputShape: [Int], outputShapes: [[Int]],
                              call: String)
    /// No cotangent was given for an output with more (or fewer) than one element.
    case missingCotangent(output: Int, outputShape: [Int], call: String)
    /// An input the outputs do not depend on (and `allowUnused` was false).
    case unusedInput(input: Int, shape: [Int])
    /// The reverse pass reached a node whose saved values an earlier pass released.
    case graphReleased(operation: String)
    /// An input that carries no recorded history, so no derivative can be taken with respect to it.
    case inputNotRecorded(input: Int, shape: [Int])
    /// An output that depends on no recorded tensor.
    case outputNotRecorded(output: Int, shape: [Int])
    /// Tensors of different element types where one type is needed.
    case mixedScalarTypes(what: String, expected: ScalarType, actual: ScalarType)
    /// A list of the wrong length (cotangents for outputs, tangents for inputs, ...).
    case countMismatch(what: String, expected: Int, actual: Int)
    /// A NaN or infinity found by anomaly detection: the operation whose value (`pass` "forward pass"),
    /// forward-mode tangent ("forward-mode tangent") or VJP rule result ("reverse pass") first held one, the value
    /// and its index in a tensor of `shape`; where the operation was called: the file and line its call captured
    /// (`location`), else the innermost frames of the user's code on the call stack (`callStack`, each
    /// "function at file:line:column"); and, if an input of the operation already held such a value
    /// (`carriedByInput`), which one.
    case anomaly(operation: String, pass: String, value: Double, index: [Int], shape: [Int], location: String?,
                 callStack: [String] = [], carriedByInput: Int? = nil)
    /// Batched cotangents or tangents whose leading (batch) dimensions disagree.
    case batchShapeMismatch(what: String, expected: [Int], actual: [Int])
    /// A function whose output does not have the shape a call needs.
    case outputShapeMismatch(call: String, expected: String, actual: [Int])
    /// A `vmap` (or per-example call) whose axes, mapped sizes or outputs do not fit; `reason` says which and how
    /// to fix it.
    case vmapMisuse(reason: String)
    /// A compiled function that cannot be traced: `what` happened while tracing it, and `fix` says what to do.
    case untraceable(what: String, fix: String)

    /// The same error with `call` named instead of `inner` (a call made inside the one the user made, such as the
    /// `gradient(at:of:)` a Hessian is built on); a missing cotangent becomes an output of the wrong shape, since
    /// the outer call takes none.
    func naming(_ call: String, insteadOf inner: String) -> AutogradError {
        switch self {
        case let .cotangentShapeMismatch(output, v, y, inputs, c) where c == inner:
            return .cotangentShapeMismatch(output: output, cotangentShape: v, outputShape: y, inputShapes: inputs,
                                           call: call)
        case let .tangentShapeMismatch(input, u, x, outputs, c) where c == inner:
            return .tangentShapeMismatch(input: input, tangentShape: u, inputShape: x, outputShapes: outputs,
                                         call: call)
        case let .missingCotangent(_, y, c) where c == inner:
            // The outer call takes no cotangent: its function must have a one-element output.
            return .outputShapeMismatch(call: call, expected: "a one-element output", actual: y)
        case let .outputShapeMismatch(c, expected, actual) where c == inner:
            return .outputShapeMismatch(call: call, expected: expected, actual: actual)
        default:
            return self
        }
    }

    /// The message: what was wrong, what the call computes, and the likely fix.
    public var description: String {
        switch self {
        case let .cotangentShapeMismatch(output, v, y, inputs, call):
            var text = "cotangent for output \(output) has shape \(describe(v)) but the output has shape "
                + "\(describe(y)). \(call) computes the vector-Jacobian product vᵀJ: v must be shaped like the "
                + "output (\(describe(y))) and the result is shaped like "
                + (inputs.isEmpty ? "each leaf it is added to (its gradient)"
                    : inputs.count == 1 ? "the input (\(describe(inputs[0])))"
                    : "the inputs (\(inputs.map(describe).joined(separator: ", ")))")
                + "."
            if inputs.contains(v) {
                text += " Your v is shaped like the input: for the Jacobian-vector product J·v, use "
                    + "jvp(of:at:tangent:)."
            } else {
                text += " Pass a cotangent of shape \(describe(y)) (for example ones for the gradient of the sum)."
            }
            return text + " See the article \"What a derivative call computes\"."
        case let .tangentShapeMismatch(input, u, x, _, call) where call.hasPrefix("hvp"):
            return "vector for input \(input) has shape \(describe(u)) but the input has shape \(describe(x)). "
                + "\(call) computes the Hessian-vector product H·v: v must be shaped like the input "
                + "(\(describe(x))), and so is the result. Pass a vector of shape \(describe(x)). See the article "
                + "\"Jacobians and Hessians\"."
        case let .tangentShapeMismatch(input, u, x, outputs, call):
            var text = "tangent for input \(input) has shape \(describe(u)) but the input has shape \(describe(x)). "
                + "\(call) computes the Jacobian-vector product J·u: u must be shaped like the input "
                + "(\(describe(x))) and the result is shaped like the output"
            if outputs.count == 1 { text += " (\(describe(outputs[0])))" }
            text += "."
            if outputs.contains(u) {
                text += " Your u is shaped like the output: for the vector-Jacobian product vᵀJ, use "
                    + "vjp(of:at:cotangent:) or gradient(of:wrt:cotangent:)."
            } else {
                text += " Pass a tangent of shape \(describe(x))."
            }
            return text + " See the article \"What a derivative call computes\"."
        case let .missingCotangent(output, y, call):
            let n = Shape.count(y)
            return "output \(output) has shape \(describe(y)) (\(n) element\(n == 1 ? "" : "s")), so \(call) needs a "
                + "cotangent v shaped like it: the result is vᵀJ, result_j = Σ_i v_i ∂y_i/∂x_j. A cotangent may "
                + "be omitted only for a one-element output (then v = 1). Passing v = ones(\(describe(y))) would "
                + "compute the gradient of the sum of the \(n) outputs: it silently adds their derivatives "
                + "together. If that is what you want, differentiate y.sum() instead; for each output's own "
                + "derivative use jacobian(of:at:); for J·u with u shaped like the input use jvp(of:at:tangent:). "
                + "See the article \"What a derivative call computes\"."
        case let .unusedInput(input, shape):
            return "input \(input) (shape \(describe(shape))) is not used to compute the outputs, so every derivative "
                + "with respect to it is zero. If that is expected, pass allowUnused: true (its result is then zeros "
                + "of shape \(describe(shape))). Otherwise check that the outputs were computed from this very "
                + "tensor, not from a copy made before requiringGradient() or inside withoutRecording. See the article "
                + "\"Recording and leaves\"."
        case let .graphReleased(operation):
            return "the reverse pass reached '\(operation)', whose saved values were released by an earlier reverse "
                + "pass over the same graph. A recorded graph can be walked once; to walk it again, pass "
                + "retainGraph: true to the earlier call (createGraph: true also retains it), or recompute the "
                + "outputs. See the article \"Performance and memory\"."
        case let .inputNotRecorded(input, shape):
            return "input \(input) (shape \(describe(shape))) has no recorded history, so nothing was recorded about "
                + "how the outputs depend on it. Mark it before computing the outputs: "
                + "let x = x.requiringGradient(); or use the functional form gradient(at:of:), which does this "
                + "for you. A tensor created inside withoutRecording, or passed through detached(), is a constant. "
                + "See the article \"Recording and leaves\"."
        case let .outputNotRecorded(output, shape):
            return "output \(output) (shape \(describe(shape))) does not depend on any tensor that records history, "
                + "so it is a constant and has no derivative. Mark the inputs with requiringGradient() before "
                + "computing the output from them (and not inside withoutRecording), or use gradient(at:of:). See the "
                + "article \"Recording and leaves\"."
        case let .mixedScalarTypes(what, expected, actual):
            return "\(what) has element type \(actual) but \(expected) is needed: derivatives keep each tensor's "
                + "element type. Convert it with Tensor<\(expected)>(converting:). See the article \"What a derivative "
                + "call computes\"."
        case let .countMismatch(what, expected, actual):
            return "expected \(expected) \(what), got \(actual): give exactly one for each. See the article "
                + "\"What a derivative call computes\"."
        case let .anomaly(operation, pass, value, index, shape, location, callStack, input):
            let what = pass == "reverse pass" ? "the VJP rule of '\(operation)' returned" : "'\(operation)' produced"
            let tensor = pass == "reverse pass" ? "cotangent" : pass == "forward-mode tangent" ? "tangent" : "value"
            var text = "anomaly detected in the \(pass): \(what) \(value) at index \(index) of a \(tensor) of shape "
                + "\(describe(shape))"
            if let location {
                text += ", for the operation called at \(location)."
            } else if !callStack.isEmpty {
                text += ". The operation was called from (innermost first):\n"
                    + callStack.map { "    \($0)\n" }.joined()
            } else {
                text += pass == "reverse pass"
                    ? " (the operation was recorded without a call site and outside withAnomalyDetection, so its call "
                        + "stack is unknown; run the forward pass inside withAnomalyDetection to get it)."
                    : " (no call site or call stack is available)."
            }
            if let input {
                text += (text.hasSuffix("\n") ? "" : " ") + "Its input \(input) already held a NaN or an infinity, so "
                    + "it came from outside the checked operations: from the data, or from a tensor computed before "
                    + "withAnomalyDetection."
            }
            return text + (text.hasSuffix("\n") ? "" : " ") + "Look for a division by zero, a logarithm of 0 or a "
                + "negative number, a square root of a negative number, or an overflow in exp. See the article "
                + "\"Derivatives at non-differentiable points\"."
        case let .outputShapeMismatch(call, expected, actual):
            return "\(call) needs a function returning \(expected), but it returned shape \(describe(actual)). "
                + "For the derivatives of a function of any output shape use jacobian(of:at:); for a one-element "
                + "loss use gradient(at:of:). See the article \"What a derivative call computes\"."
        case let .untraceable(what, fix):
            return "compiled function: \(what). Instead, \(fix). See the article \"Compiled functions\"."
        case let .batchShapeMismatch(what, expected, actual):
            return "\(what) has batch dimensions \(describe(actual)) but \(describe(expected)) was expected: every "
                + "batched cotangent (or tangent) needs the same leading dimensions in front of its own shape. See the "
                + "article \"Vector-Jacobian or Jacobian-vector product?\"."
        case let .vmapMisuse(reason):
            return "vmap: \(reason). See the article \"Vectorizing with vmap\"."
        }
    }
}

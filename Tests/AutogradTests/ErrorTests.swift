import Foundation
import Testing
@testable import Autograd

// The catalogue of misuse: each test checks the kind of error and that its message names the shapes or values
// involved. Misused derivative calls throw an `AutogradError` (first suite); errors inside operations stop the
// program with a message (second suite, exit tests). Zero-size and 0-d tensors, which are not misuse, have their
// own tests in EdgeShapeTests.

/// Misuse of the derivative calls throws an `AutogradError` whose message names the shapes and the fix.
@Suite struct DerivativeCallErrorTests {
    let problem: (x: Tensor<Float>, w: Tensor<Float>, y: Tensor<Float>) = {
        var rng = SeededGenerator(seed: 1)
        return (Tensor(randomNormal: [100, 2], using: &rng), Tensor(randomNormal: [1, 2], using: &rng),
                Tensor(randomUniform: [100], using: &rng))
    }()

    func losses(_ w: Tensor<Float>) -> Tensor<Float> {
        binaryCrossEntropy(probabilities: sigmoid(matmul(problem.x, w.transposed())).flattened(), targets: problem.y,
                           reduction: .none)
    }

    @Test func cotangentShapedLikeTheInputPointsToJVP() throws {
        let w = problem.w.requiringGradient()
        let u = Tensor<Float>(ones: [1, 2])
        let error = #expect(throws: AutogradError.self) { try gradient(of: losses(w), wrt: w, cotangent: u) }
        #expect(error == .cotangentShapeMismatch(output: 0, cotangentShape: [1, 2], outputShape: [100],
                                                 inputShapes: [[1, 2]], call: "gradient(of:wrt:cotangent:)"))
        let text = error?.description ?? ""
        #expect(text.hasPrefix("cotangent for output 0 has shape [1, 2] but the output has shape [100]."))
        #expect(text.contains("vᵀJ: v must be shaped like the output ([100]) and the result is shaped like the input ([1, 2])"))
        #expect(text.contains("Your v is shaped like the input: for the Jacobian-vector product J·v, use jvp(of:at:tangent:)."))
    }

    @Test func otherWrongCotangentShapes() throws {
        let w = problem.w.requiringGradient()
        let error = #expect(throws: AutogradError.self) { try gradient(of: losses(w), wrt: w, cotangent: Tensor(ones: [3])) }
        #expect(error?.description.contains("[3]") == true && error?.description.contains("jvp") == false)
        // Same logic through vjp(of:at:cotangent:), naming that call.
        let e2 = #expect(throws: AutogradError.self) { try vjp(of: losses, at: problem.w, cotangent: Tensor(ones: [1, 2])) }
        #expect(e2?.description.contains("vjp(of:at:cotangent:) computes the vector-Jacobian product") == true)
    }

    @Test func tangentShapedLikeTheOutputPointsToVJP() throws {
        let error = #expect(throws: AutogradError.self) { try jvp(of: losses, at: problem.w, tangent: Tensor(ones: [100])) }
        #expect(error == .tangentShapeMismatch(input: 0, tangentShape: [100], inputShape: [1, 2], outputShapes: [[100]],
                                               call: "jvp(of:at:tangent:)"))
        #expect(error?.description.contains("J·u: u must be shaped like the input ([1, 2]) and the result is shaped like the output ([100])") == true)
        #expect(error?.description.contains("use vjp(of:at:cotangent:) or gradient(of:wrt:cotangent:)") == true)
    }

    @Test func nonScalarOutputWithoutCotangent() throws {
        let w = problem.w.requiringGradient()
        let error = #expect(throws: AutogradError.self) { try gradient(of: losses(w), wrt: w) }
        #expect(error == .missingCotangent(output: 0, outputShape: [100], call: "gradient(of:wrt:cotangent:)"))
        let text = error?.description ?? ""
        #expect(text.contains("v = ones([100])") && text.contains("silently adds") && text.contains("y.sum()"))
        #expect(throws: AutogradError.missingCotangent(output: 0, outputShape: [100], call: "gradient(at:of:)")) {
            try gradient(at: problem.w, of: losses)
        }
        #expect(throws: AutogradError.self) { try losses(w).backward() }
    }

    @Test func unusedAndUnrecordedInputs() throws {
        let w = problem.w.requiringGradient()
        let other = Tensor<Float>(zeros: [3]).requiringGradient()
        let e = #expect(throws: AutogradError.self) { try gradients(of: [losses(w).sum()], wrt: [w, other]) }
        #expect(e == .unusedInput(input: 1, shape: [3]))
        #expect(e?.description.contains("allowUnused: true") == true)
        let plain = problem.w
        let e2 = #expect(throws: AutogradError.self) { try gradient(of: losses(w).sum(), wrt: plain) }
        #expect(e2 == .inputNotRecorded(input: 0, shape: [1, 2]))
        #expect(e2?.description.contains("requiringGradient()") == true)
        let e3 = #expect(throws: AutogradError.self) { try gradient(of: losses(plain).sum(), wrt: w) }
        #expect(e3 == .outputNotRecorded(output: 0, shape: []))
    }

    @Test func releasedGraph() throws {
        let w = problem.w.requiringGradient()
        let l = losses(w).sum()
        try l.backward()
        let e = #expect(throws: AutogradError.self) { try l.backward() }
        if case .graphReleased = e {} else { Issue.record("expected graphReleased, got \(String(describing: e))") }
        #expect(e?.description.contains("retainGraph: true") == true)
        // Through gradient(of:wrt:) too, naming the first operation whose saved values are gone.
        let y = exp(w).sum()
        _ = try gradient(of: y, wrt: w)
        let e2 = #expect(throws: AutogradError.self) { try gradient(of: y, wrt: w) }
        #expect(e2 == .graphReleased(operation: "sum"))
        #expect(e2?.description.hasPrefix("the reverse pass reached 'sum', whose saved values were released") == true)
    }

    @Test func backwardWithAMisshapenCotangent() throws {
        let w = Tensor<Double>([1, 2]).requiringGradient()
        let e = #expect(throws: AutogradError.self) { try (w * 2).backward(cotangent: Tensor([1, 2, 3])) }
        #expect(e == .cotangentShapeMismatch(output: 0, cotangentShape: [3], outputShape: [2], inputShapes: [],
                                             call: "backward(cotangent:)"))
        #expect(e?.description.contains("v must be shaped like the output ([2]) and the result is shaped like each "
            + "leaf it is added to (its gradient).") == true, "\(e?.description ?? "")")
        #expect(throws: AutogradError.missingCotangent(output: 0, outputShape: [2], call: "backward(cotangent:)")) {
            try (w * 2).backward()
        }
    }

    @Test func batchedCotangentsAndTangentsWithDifferentBatchShapes() throws {
        let w = Tensor<Double>([1, 2, 3])
        let e = #expect(throws: AutogradError.self) {
            try vjp(of: { [$0[0] * 2, $0[0].sum()] }, at: [w], cotangents: [Tensor(ones: [4, 3]), Tensor(ones: [5])],
                    batched: true)
        }
        #expect(e == .batchShapeMismatch(what: "the cotangent for output 1", expected: [4], actual: [5]))
        #expect(e?.description.hasPrefix("the cotangent for output 1 has batch dimensions [5] but [4] was expected") == true)
        let e2 = #expect(throws: AutogradError.self) {
            try jvp(of: { [$0[0] * $0[1]] }, at: [w, w], tangents: [Tensor(ones: [2, 3]), Tensor(ones: [7, 3])], batched: true)
        }
        #expect(e2 == .batchShapeMismatch(what: "the tangent for input 1", expected: [2], actual: [7]))
        #expect(throws: AutogradError.countMismatch(what: "tangents (one per input)", expected: 2, actual: 1)) {
            try jvp(of: { [$0[0] * $0[1]] }, at: [w, w], tangents: [w])
        }
    }

    @Test func transformsThatNeedOneElementOutputs() throws {
        let e = #expect(throws: AutogradError.self) { try gradient(at: Tensor<Double>([1, 2])) { $0 * 2 } }
        #expect(e == .missingCotangent(output: 0, outputShape: [2], call: "gradient(at:of:)"))
        #expect(e?.description.hasPrefix("output 0 has shape [2] (2 elements), so gradient(at:of:) needs a cotangent") == true)
        let e2 = #expect(throws: AutogradError.self) {
            try perExampleGradients(of: { $0 * Tensor<Double>(ones: [4, 2]) }, at: Tensor<Double>([1, 2]))
        }
        #expect(e2 == .outputShapeMismatch(call: "perExampleGradients(of:at:)", expected: "one loss per example, shape [N]",
                                           actual: [4, 2]))
        #expect(e2?.description.contains("it returned shape [4, 2]") == true)
    }

    @Test func differentiatingWithRespectToAConstant() throws {
        // A tensor that was never marked, or was detached, or was made inside withoutRecording: no history.
        let w = Tensor<Float>([1, 2]).requiringGradient()
        let c = withoutRecording { w * 3 }
        let y = (w * c).sum()
        for constant in [c, w.detached(), Tensor<Float>([1, 2])] {
            let e = #expect(throws: AutogradError.self) { try gradients(of: [y], wrt: [w, constant], retainGraph: true) }
            #expect(e == .inputNotRecorded(input: 1, shape: [2]))
            #expect(e?.description.hasPrefix("input 1 (shape [2]) has no recorded history") == true)
        }
    }

    @Test func mixedScalarTypesAndCounts() throws {
        let w = Tensor<Double>([1, 2]).requiringGradient()
        let y = w * 2
        let e = #expect(throws: AutogradError.self) {
            try gradients(of: [AnyTensor(y)], wrt: [AnyTensor(w)], cotangents: [AnyTensor(Tensor<Float>(ones: [2]))])
        }
        #expect(e == .mixedScalarTypes(what: "the cotangent for output 0", expected: .float64, actual: .float32))
        #expect(e?.description.contains("Tensor<Double>(converting:)") == true)
        #expect(throws: AutogradError.countMismatch(what: "cotangents (one per output)", expected: 1, actual: 2)) {
            try gradients(of: [y], wrt: [w], cotangents: [Tensor(ones: [2]), Tensor(ones: [2])])
        }
    }
}

/// Errors inside operations stop the program with a message naming the operation, the shapes and the rule broken,
/// and, for named methods, the caller's file and line. Each runs in a child process (an exit test).
@Suite struct OperationErrorTests {
    /// Runs `body` in a child process, expects it to stop, and returns what it wrote to standard error.
    static func stderr(of result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func matmulShapeMismatch() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor<Float>(zeros: [2, 3]), Tensor<Float>(zeros: [4, 5]))
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("matmul: shapes [2, 3] and [4, 5] cannot be multiplied"))
        #expect(text.contains("a.shape[-1] == b.shape[-2]"))
        #expect(text.contains("ErrorTests.swift"), "the caller's file:line: \(text)")
    }

    @Test func broadcastMismatchThroughAnOperator() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3]) + Tensor<Float>(zeros: [4])
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("add: shapes [2, 3] and [4] do not broadcast"))
        #expect(text.contains("equal or one of them 1"))
    }

    @Test func badAxis() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>(zeros: [2, 3]).sum(alongAxes: 2)
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("sum(alongAxes:): axis 2 is out of range for a tensor of rank 2"))
        #expect(text.contains("ErrorTests.swift:"))
    }

    @Test func reshapeToWrongCount() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>(zeros: [2, 3]).reshaped(to: [4, 2])
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("cannot reshape a tensor of shape [2, 3] (6 elements) to [4, 2] (8 elements)"))
    }

    @Test func elementCountOverflow() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [1 << 40, 1 << 40])
        }
        #expect(Self.stderr(of: r).contains("more elements than Int can count"))
    }

    @Test func binaryCrossEntropyTargetsOutsideTheUnitInterval() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = binaryCrossEntropy(probabilities: Tensor<Float>([0.5, 0.5]), targets: Tensor<Float>([1, 2]))
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("targets must lie in [0, 1], but element 1 is 2.0"))
    }

    @Test func matmulBatchDimensionsThatDoNotBroadcast() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor<Float>(zeros: [2, 3, 4]), Tensor<Float>(zeros: [5, 4, 2]))
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("matmul (batch dimensions): shapes [2] and [5] do not broadcast"), "\(text)")
    }

    @Test func matmulOfA0dTensor() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor<Double>(2), Tensor<Double>(zeros: [2, 2]))
        }
        #expect(Self.stderr(of: r).contains("matmul: shapes [] and [2, 2]: matmul needs tensors of rank 1 or more"))
    }

    @Test func broadcastingToASmallerShape() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>(zeros: [2, 3]).broadcasted(to: [4, 3, 2])
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("broadcasted(to:): shape [2, 3] cannot be broadcast to [4, 3, 2]"), "\(text)")
        #expect(text.contains("ErrorTests.swift:"))
    }

    @Test func repeatedAxis() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>(zeros: [2, 3]).sum(alongAxes: [1, -1])
        }
        #expect(Self.stderr(of: r).contains("sum(alongAxes:): axis 1 appears more than once in [1, -1]"))
    }

    @Test func axisOfA0dTensor() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(3).max(alongAxes: 0)
        }
        #expect(Self.stderr(of: r).contains("max(alongAxes:): axis 0 is out of range for a tensor of rank 0; a 0-d tensor has no axes"))
    }

    @Test func softmaxAlongAMissingAxis() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3]).softmax(alongAxes: 2)
        }
        #expect(Self.stderr(of: r).contains("axis 2 is out of range for a tensor of rank 2; valid axes are -2 ..< 2"))
    }

    @Test func notAPermutation() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3, 4]).permuted(0, 2, 2)
        }
        #expect(Self.stderr(of: r).contains("permuted(_:): [0, 2, 2] is not a permutation of the axes 0 ..< 3"))
    }

    @Test func reshapeWithTwoUnknownDimensions() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>(zeros: [2, 3]).reshaped(to: [-1, -1])
        }
        #expect(Self.stderr(of: r).contains("only one dimension may be -1 (inferred), got [-1, -1]"))
    }

    @Test func reshapeToAShapeThatOverflows() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>(zeros: [4]).reshaped(to: [1 << 32, 1 << 32, 4])
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("reshaped(to:): shape [4294967296, 4294967296, 4] has more elements than Int can count"), "\(text)")
    }

    @Test func broadcastToAShapeThatOverflows() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(1).broadcasted(to: [Int.max, 2])
        }
        #expect(Self.stderr(of: r).contains("shape [\(Int.max), 2] has more elements than Int can count"))
    }

    @Test func negativeDimension() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [3, -2])
        }
        #expect(Self.stderr(of: r).contains("Tensor(zeros:): shape [3, -2] has a negative dimension -2"))
    }

    @Test func tensorOfTheWrongElementType() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(AnyTensor(Tensor<Double>([1, 2])))
        }
        #expect(Self.stderr(of: r).contains("Tensor<Float>: the AnyTensor holds Double elements"))
    }

    @Test func binaryCrossEntropyWithNaNTargetOrProbabilitiesAboveOne() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = binaryCrossEntropy(probabilities: Tensor<Double>([0.5, 0.5, 0.5]), targets: Tensor<Double>([0, 1, .nan]))
        }
        #expect(Self.stderr(of: r).contains("targets must lie in [0, 1], but element 2 is nan (shape [3])"))
        let r2 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = binaryCrossEntropy(probabilities: Tensor<Float>([[0.5, 1.5]]), targets: Tensor<Float>([[1, 0]]))
        }
        #expect(Self.stderr(of: r2).contains("probabilities must lie in [0, 1], but element 1 is 1.5 (shape [1, 2])"))
    }

    @Test func rangesAndIdentitiesOfImpossibleSizes() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(rangeFrom: 0, to: 1e30)
        }
        #expect(Self.stderr(of: r).contains("Tensor(rangeFrom:to:stride:): from 0.0 to 1e+30 in steps of 1.0 makes 1e+30 "
            + "elements, more than Int can count"))
        let r2 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>(rangeFrom: 0, to: .nan)
        }
        #expect(Self.stderr(of: r2).contains("start and end must be finite, got 0.0 and nan"))
        let r3 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>(identity: -2)
        }
        #expect(Self.stderr(of: r3).contains("Tensor(identity:): shape [-2, -2] has a negative dimension -2"))
        let r4 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>(identity: 1 << 32)
        }
        #expect(Self.stderr(of: r4).contains("shape [4294967296, 4294967296] has more elements than Int can count"))
        let r5 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>(linearSpaceFrom: 0, to: 1, count: -1)
        }
        #expect(Self.stderr(of: r5).contains("Tensor(linearSpaceFrom:to:count:): count must be 0 or more, got -1"))
    }

    @Test func scalarOfManyElements() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [3]).scalar
        }
        #expect(Self.stderr(of: r).contains("needs exactly one element"))
    }
}

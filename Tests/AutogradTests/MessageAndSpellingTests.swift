import Foundation
import Testing
@testable import Autograd

/// Messages that name the call the user made and the shapes they passed.
@Suite struct CallNamingTests {
    @Test func hessianAndVHPOfANonScalarFunctionNameThemselves() {
        let x = Tensor<Double>([1, 2, 3])
        let h = #expect(throws: AutogradError.self) { try hessian(of: { $0 * $0 }, at: x) }
        #expect(h == .outputShapeMismatch(call: "hessian(of:at:)", expected: "a one-element output", actual: [3]))
        #expect(h?.description.hasPrefix("hessian(of:at:) needs a function returning a one-element output") == true)
        let v = #expect(throws: AutogradError.self) { try vhp(of: { $0 * $0 }, at: x, vector: x) }
        #expect(v == .outputShapeMismatch(call: "vhp(of:at:vector:)", expected: "a one-element output", actual: [3]))
        let hv = #expect(throws: AutogradError.self) { try hvp(of: { $0 * $0 }, at: x, vector: x) }
        #expect(hv == .outputShapeMismatch(call: "hvp(of:at:vector:)", expected: "a one-element output", actual: [3]))
        #expect(!(hv?.description.contains("cotangent") ?? true))
    }

    @Test func hvpShapeErrorSaysTheResultIsShapedLikeTheInput() {
        let x = Tensor<Double>([1, 2, 3])
        let e = #expect(throws: AutogradError.self) {
            try hvp(of: { ($0 * $0).sum() }, at: x, vector: Tensor<Double>([1, 2]))
        }
        let text = e?.description ?? ""
        #expect(text.hasPrefix("vector for input 0 has shape [2] but the input has shape [3]. hvp(of:at:vector:) "
            + "computes the Hessian-vector product H·v: v must be shaped like the input ([3]), and so is the result."),
                "\(text)")
        #expect(!text.contains("shaped like the output"))
    }
}

/// The same operation under both spellings, and library functions passed as values.
@Suite struct SpellingTests {
    @Test func functionsAndMethodsAgree() {
        let x = Tensor<Double>([[0.5, -1, 2], [3, 0.25, -4]])
        let p = abs(x) + 0.1
        #expect(x.exp().scalars == exp(x).scalars)
        #expect(p.log().scalars == log(p).scalars && p.log1p().scalars == log1p(p).scalars)
        #expect(p.sqrt().scalars == sqrt(p).scalars)
        #expect(x.sin().scalars == sin(x).scalars && x.cos().scalars == cos(x).scalars)
        #expect(x.tanh().scalars == tanh(x).scalars && x.sigmoid().scalars == sigmoid(x).scalars)
        #expect(x.relu().scalars == relu(x).scalars && x.softplus().scalars == softplus(x).scalars)
        #expect(x.abs().scalars == abs(x).scalars)
        #expect(softmax(x).scalars == x.softmax().scalars && x.softmax().scalars == x.softmax(alongAxes: -1).scalars)
        #expect(logSoftmax(x, alongAxes: 0).scalars == x.logSoftmax(alongAxes: 0).scalars)
        // Several axes at once, as the reductions take them: the whole tensor sums to 1.
        #expect(Swift.abs(x.softmax(alongAxes: 0, 1).sum().scalar - 1) < 1e-12)
    }

    @Test func libraryFunctionsPassAsValues() throws {
        let x = Tensor<Double>([0.5, 1])
        #expect(try gradient(at: Tensor<Double>([0.5]), of: sin).scalars == [Foundation.cos(0.5)])
        let g = try gradient(at: x) { sin($0).sum() }
        #expect(try jvp(of: sin, at: x, tangent: Tensor(ones: [2])).tangent.scalars == g.scalars)
        let unary: [(Tensor<Double>) -> Tensor<Double>] = [exp, log, log1p, sqrt, sin, cos, tanh, sigmoid, relu,
                                                           softplus, abs, softmax, logSoftmax]
        #expect(unary.map { $0(x).shape } == Array(repeating: [2], count: unary.count))
        #expect(try jacobian(of: softmax, at: x).shape == [2, 2])
    }

    @Test func namedCallsStillCaptureTheirLocation() throws {
        let e = #expect(throws: AutogradError.self) { try withAnomalyDetection { _ = log(Tensor<Float>([-1])) } }
        #expect(e?.description.contains("MessageAndSpellingTests.swift:") == true, "\(e?.description ?? "")")
    }
}

/// Operations that stop name themselves and what was wrong.
@Suite struct OperationMessageTests {
    static func stderr(_ r: ExitTest.Result?) -> String { String(decoding: r?.standardErrorContent ?? [], as: UTF8.self) }

    @Test func softmaxNamesItself() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3]).softmax(alongAxes: 2)
        }
        #expect(Self.stderr(r).contains("softmax(alongAxes:): axis 2 is out of range for a tensor of rank 2"))
        #expect(!Self.stderr(r).contains("logSoftmax"))
    }

    @Test func unsqueezedSpeaksOfTheTensorsOwnRank() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3]).unsqueezed(at: 9)
        }
        let text = Self.stderr(r)
        #expect(text.contains("unsqueezed(at:): position 9 is out of range for a tensor of rank 2"), "\(text)")
        #expect(text.contains("-3 ..< 3"))
    }

    @Test func anEmptyUniformRangeIsRefused() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rng = SeededGenerator(seed: 1)
            _ = Tensor<Float>(randomUniform: [2], in: 1..<1, using: &rng)
        }
        #expect(Self.stderr(r).contains("Tensor(randomUniform:): the range 1.0..<1.0 is empty"))
    }

    @Test func aNegativeStandardDeviationIsRefused() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rng = SeededGenerator(seed: 1)
            _ = Tensor<Float>(randomNormal: [2], standardDeviation: -1, using: &rng)
        }
        #expect(Self.stderr(r).contains("Tensor(randomNormal:): the standard deviation must be finite and 0 or more"))
    }

    @Test func anAllocationFailureNamesTheOperation() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(rangeFrom: 0, to: 1e15)
        }
        let text = Self.stderr(r)
        #expect(text.contains("Tensor(rangeFrom:to:stride:): could not allocate 3999999947964416 bytes"), "\(text)")
        #expect(text.contains("MessageAndSpellingTests.swift:"))
    }

    @Test func subscriptsNameTheCallersLine() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3])[5]
        }
        #expect(Self.stderr(r).contains("subscript: index 5 is out of range for axis 0 of size 2"))
        #expect(Self.stderr(r).contains("[called at AutogradTests/MessageAndSpellingTests.swift:"), "\(Self.stderr(r))")
        let s = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3])[scalarAt: 0, 7]
        }
        #expect(Self.stderr(s).contains("[called at AutogradTests/MessageAndSpellingTests.swift:"), "\(Self.stderr(s))")
    }
}

import Foundation
import Testing
@testable import Autograd

/// Anomaly detection names the first operation whose value, tangent or VJP rule result holds a NaN or an infinity,
/// the pass, the value and its index, and where the operation was called: the file and line a named call captured,
/// else the innermost frames of the user's code.
@Suite struct AnomalyTests {
    /// The anomaly thrown by `body`, or an issue if it throws something else or nothing.
    func anomaly<R>(_ body: () throws -> R, sourceLocation: SourceLocation = #_sourceLocation) -> Anomaly? {
        do {
            _ = try withAnomalyDetection(body)
            Issue.record("no anomaly reported", sourceLocation: sourceLocation)
        } catch let error as AutogradError {
            if case let .anomaly(operation, pass, value, index, shape, location, stack, input) = error {
                return Anomaly(operation: operation, pass: pass, value: value, index: index, shape: shape,
                               location: location, stack: stack, input: input, message: error.description)
            }
            Issue.record("not an anomaly: \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    struct Anomaly {
        let operation: String, pass: String, value: Double, index: [Int], shape: [Int], location: String?
        let stack: [String], input: Int?, message: String
    }

    @Test func forwardPassWithCallSite() throws {
        let x = Tensor<Double>([1, 0, 4]).requiringGradient()
        var line = 0
        let a = anomaly { () -> Tensor<Double> in
            line = #line; return log(x).sum()
        }
        #expect(a?.operation == "log" && a?.pass == "forward pass" && a?.value == -.infinity)
        #expect(a?.index == [1] && a?.shape == [3] && a?.input == nil)
        #expect(a?.location == "AutogradTests/AnomalyTests.swift:\(line)")
        #expect(a?.message.hasPrefix("anomaly detected in the forward pass: 'log' produced -inf at index [1] of a value of "
            + "shape [3], for the operation called at AutogradTests/AnomalyTests.swift:\(line).") == true, "\(a?.message ?? "")")
    }

    /// Operators capture no file and line: the error shows the user's frames instead, innermost first.
    @Test func operatorOnConstantsShowsTheCallStack() throws {
        var line = 0
        let a = anomaly { () -> Tensor<Float> in
            let zero = Tensor<Float>([[1, 2], [3, 0]])
            line = #line; return Tensor<Float>(ones: [2, 2]) / zero
        }
        #expect(a?.operation == "divide" && a?.pass == "forward pass" && a?.value == .infinity && a?.index == [1, 1])
        #expect(a?.location == nil)
        let top = a?.stack.first ?? ""
        #expect(top.contains("AnomalyTests.swift:\(line):"), "\(a?.stack ?? [])")
        #expect(top.contains("operatorOnConstantsShowsTheCallStack"), "\(top)")
        #expect(a?.message.contains("The operation was called from (innermost first):\n    \(top)") == true)
        // No frame of the library itself (record, the operator's implementation) is shown.
        #expect(a?.stack.allSatisfy { !$0.contains("/Sources/Autograd/") } == true, "\(a?.stack ?? [])")
    }

    @Test func reversePassNamesTheForwardCall() throws {
        // √x is finite at 0 but its derivative 1/(2√x) is not: the reverse pass finds it.
        var line = 0
        let a = anomaly { () -> Tensor<Double> in
            try gradient(at: Tensor<Double>([4, 0])) { x in
                line = #line; return sqrt(x).sum()
            }
        }
        #expect(a?.operation == "sqrt" && a?.pass == "reverse pass" && a?.value == .infinity && a?.index == [1])
        #expect(a?.location == "AutogradTests/AnomalyTests.swift:\(line)")
        #expect(a?.message.hasPrefix("anomaly detected in the reverse pass: the VJP rule of 'sqrt' returned inf at index "
            + "[1] of a cotangent of shape [2], for the operation called at AutogradTests/AnomalyTests.swift:\(line).") == true)
    }

    /// A reverse-pass anomaly in an operation without a call site shows the call stack kept when it was recorded.
    @Test func reversePassThroughAnOperatorShowsTheForwardStack() throws {
        // d(a/b)/db = −a/b²: b² underflows to 0 at b = 1e-200, while a/b = 1 is fine.
        let a = Tensor<Double>([1e-200, 1])
        var line = 0
        let r = anomaly { () -> Tensor<Double> in
            try gradient(at: Tensor<Double>([1e-200, 1])) { b in
                line = #line; return (a / b).sum()
            }
        }
        #expect(r?.operation == "divide" && r?.pass == "reverse pass" && r?.value == -.infinity && r?.index == [0])
        #expect(r?.location == nil)
        #expect(r?.stack.first?.contains("AnomalyTests.swift:\(line):") == true, "\(r?.stack ?? [])")
        // A graph recorded outside anomaly detection has no stack to show, and the message says why.
        let b = Tensor<Double>([1e-200, 1]).requiringGradient()
        let y = (a / b).sum()
        let outside = anomaly { try gradient(of: y, wrt: b) }
        #expect(outside?.operation == "divide" && outside?.stack == [])
        #expect(outside?.message.contains("outside withAnomalyDetection, so its call stack is unknown") == true)
    }

    @Test func forwardModeTangent() throws {
        var line = 0
        let a = anomaly { () -> Tensor<Double> in
            try jvp(of: { x in
                line = #line; return sqrt(x)
            }, at: Tensor<Double>([0, 1]), tangent: Tensor<Double>([1, 1])).tangent
        }
        #expect(a?.operation == "sqrt" && a?.pass == "forward-mode tangent" && a?.value == .infinity && a?.index == [0])
        #expect(a?.location == "AutogradTests/AnomalyTests.swift:\(line)")
        #expect(a?.message.contains("'sqrt' produced inf at index [0] of a tangent of shape [2]") == true)
    }

    /// The operations a derivative rule uses internally are not reported; the rule's result is, under the name of
    /// the operation whose rule it is.
    @Test func ruleInternalsAreNotReported() throws {
        // Second derivative of √x at 0: the inner reverse pass is recorded (its rule uses a reciprocal and a
        // multiplication, which produce the infinity first), but the report names sqrt.
        let a = anomaly { () -> Tensor<Double> in
            try gradient(at: Tensor<Double>([0])) { x in try gradient(at: x) { sqrt($0).sum() }.sum() }
        }
        #expect(a?.operation == "sqrt" && a?.pass == "reverse pass", "\(String(describing: a?.operation))")
    }

    @Test func valuesThatCameFromTheData() throws {
        let a = anomaly { exp(Tensor<Float>([0, 1, .nan])) + 1 }
        #expect(a?.operation == "exp" && a?.value.isNaN == true && a?.index == [2] && a?.input == 0)
        #expect(a?.message.contains("Its input 0 already held a NaN or an infinity") == true)
    }

    @Test func onlyTheFirstAnomalyIsReported() throws {
        let a = anomaly { () -> Tensor<Double> in
            let x = Tensor<Double>([-1, 2])
            let first = sqrt(x)                   // NaN at [0]
            return log(x - 2) + first             // -inf at [1], NaN at [0]: later
        }
        #expect(a?.operation == "sqrt" && a?.index == [0])
    }

    @Test func cleanComputationsThrowNothingAndReturnTheResult() throws {
        let g = try withAnomalyDetection { try gradient(at: Tensor<Double>([1, 2])) { (exp($0) * $0).sum() } }
        expectTensor(g, shape: [2], [1, 2].map { Foundation.exp($0) * (1 + $0) })
        // Outside the scope nothing is checked.
        #expect(log(Tensor<Double>([0])).scalars == [-.infinity])
        // isFinite, which exists to find infinities, does not report them.
        #expect(try withAnomalyDetection { Tensor<Double>([.infinity, 1]).isFinite }.scalars == [false, true])
    }

    /// Anomaly detection is per task: a scope in one task neither checks nor disturbs another running at once.
    @Test func scopesArePerTask() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask {
                    if i.isMultiple(of: 2) {
                        // Inside a scope: a clean computation passes, a bad one is reported.
                        _ = try withAnomalyDetection { try gradient(at: Tensor<Double>([Double(i + 1)])) { log($0).sum() } }
                        #expect(throws: AutogradError.self) { try withAnomalyDetection { log(Tensor<Double>([0])) } }
                    } else {
                        // Outside: infinities are ordinary values.
                        for _ in 0..<200 { #expect(log(Tensor<Double>([0])).scalars == [-.infinity]) }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

import Foundation
import Testing
import Autograd

/// Asserts two arrays of numbers agree within `tolerance` (absolute + relative), naming the first difference.
func expectClose<S: BinaryFloatingPoint>(_ a: [S], _ b: [S], tolerance: Double = 1e-9,
                                         sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "lengths differ: \(a.count) vs \(b.count)", sourceLocation: sourceLocation)
    for (i, (x, y)) in zip(a, b).enumerated() {
        let dx = Double(x), dy = Double(y)
        if !(Swift.abs(dx - dy) <= tolerance * (1 + Swift.abs(dy))) {
            Issue.record("element \(i): \(dx) vs \(dy) (tolerance \(tolerance))", sourceLocation: sourceLocation)
            return
        }
    }
}

/// Element-by-element check of a tensor against expected values and shape.
func expectTensor<S: TensorScalar>(_ t: Tensor<S>, shape: [Int], _ values: [Double], tolerance: Double = 1e-9,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(t.shape == shape, "shape \(t.shape) != \(shape)", sourceLocation: sourceLocation)
    expectClose(t.scalars.map(Double.init), values, tolerance: tolerance, sourceLocation: sourceLocation)
}

/// What an exit test's child process wrote to standard error.
func stderr(of result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
}

/// Every check in `results` passed (each failure recorded with its description).
func expectAllPassed(_ results: [DerivativeCheckResult], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!results.isEmpty, sourceLocation: sourceLocation)
    for r in results where !r.passed { Issue.record("\(r)", sourceLocation: sourceLocation) }
}

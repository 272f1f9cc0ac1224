import Synchronization

/// Collects the first NaN or infinity seen while anomaly detection is on.
///
/// Operations cannot throw, so the forward pass notes the first anomaly here and execution continues; the reverse
/// pass throws at once. ``withAnomalyDetection(_:)`` throws what was noted when its body ends.
@usableFromInline
final class AnomalyLog: Sendable {
    private let first = Mutex<AutogradError?>(nil)

    enum Pass: String { case forward = "forward pass", tangent = "forward-mode tangent", reverse = "reverse pass" }

    /// Notes `t` if it holds a NaN or an infinity and nothing was noted before.
    func check(_ t: AnyTensor, operation: String, pass: Pass, at location: CallSite?) {
        guard let bad = t.firstNonFinite() else { return }
        first.withLock { current in
            if current == nil {
                current = .anomaly(operation: operation, pass: pass.rawValue, value: bad.value,
                                   index: bad.index, shape: t.shape, location: location?.description)
            }
        }
    }

    var error: AutogradError? { first.withLock { $0 } }
}

extension AnyTensor {
    /// The first element that is NaN or infinite, with its multi-index.
    func firstNonFinite() -> (value: Double, index: [Int])? {
        let n = count
        var flat = -1
        var v = 0.0
        switch scalarType {
        case .float32:
            let p = storage.floats()
            for i in 0..<n where !p[i].isFinite { flat = i; v = Double(p[i]); break }
        case .float64:
            let p = storage.doubles()
            for i in 0..<n where !p[i].isFinite { flat = i; v = p[i]; break }
        case .bool:
            return nil
        }
        if flat < 0 { return nil }
        var index = [Int](repeating: 0, count: rank)
        var rest = flat
        for d in stride(from: rank - 1, through: 0, by: -1) where shape[d] > 0 {
            index[d] = rest % shape[d]
            rest /= shape[d]
        }
        return (v, index)
    }
}

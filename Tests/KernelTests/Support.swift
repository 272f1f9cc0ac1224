import CAutogradKernels
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// All kernel tests live under this suite, serialized: they switch the process-wide CPU level
/// (ag_set_max_cpu_level) to compare every code path with the portable one.
@Suite(.serialized) struct KernelTests {}

/// CPU levels this machine can run: 0 (portable) up to the detected level.
let availableLevels: [Int32] = Array(0...ag_cpu_level())

/// Runs `body` at each available CPU level and restores the default (highest) level afterwards.
func forEachLevel(_ levels: [Int32] = availableLevels, _ body: (Int32) throws -> Void) rethrows {
    defer { ag_set_max_cpu_level(2) }
    for level in levels {
        ag_set_max_cpu_level(level)
        try body(level)
    }
}

/// Runs `body` with the kernels capped at CPU level `level`.
func atLevel<R>(_ level: Int32, _ body: () throws -> R) rethrows -> R {
    ag_set_max_cpu_level(level)
    defer { ag_set_max_cpu_level(2) }
    return try body()
}

/// Deterministic random numbers (SplitMix64), so failures reproduce.
struct TestRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float { Float.random(in: lo..<hi, using: &self) }
    mutating func double(_ lo: Double = -1, _ hi: Double = 1) -> Double { Double.random(in: lo..<hi, using: &self) }
    mutating func floats(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] { (0..<n).map { _ in float(lo, hi) } }
    mutating func doubles(_ n: Int, _ lo: Double = -1, _ hi: Double = 1) -> [Double] {
        (0..<n).map { _ in double(lo, hi) }
    }
}

/// Values every elementwise kernel must get right, besides random ones.
let specialFloats: [Float] = [
    0, -0, 1, -1, .infinity, -.infinity, .nan, -.nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
    .leastNormalMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
    0.5, -0.5, 2, 1e-20, -1e-20, 1e-38, Float(bitPattern: 0x0020_0000), 88.72, 88.73, -87.3, -103.9, -104, 1000, -1000, 1e30, -1e30,
]
let specialDoubles: [Double] = [
    0, -0, 1, -1, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .leastNormalMagnitude,
    .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0.5, -0.5, 1e-300, -1e-300, 709.7, 710, -745, 1000, -1000,
]

/// Same value, treating any two NaNs as equal (payloads may differ) and requiring the same sign of zero.
func sameFloat(_ a: Float, _ b: Float) -> Bool { (a.isNaN && b.isNaN) || a.bitPattern == b.bitPattern }
func sameDouble(_ a: Double, _ b: Double) -> Bool { (a.isNaN && b.isNaN) || a.bitPattern == b.bitPattern }

/// Records at most a few failures per check so one broken kernel does not flood the log.
struct FailureLog {
    var count = 0
    let limit: Int
    let label: String
    init(_ label: String, limit: Int = 5) {
        self.label = label
        self.limit = limit
    }
    mutating func fail(_ message: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        count += 1
        if count <= limit { Issue.record("\(label): \(message())", sourceLocation: sourceLocation) }
    }
}

extension Array where Element == Int {
    /// The array as Int64 values, as the C functions want.
    var i64: [Int64] { map { Int64($0) } }
}

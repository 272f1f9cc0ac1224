import Foundation
import Synchronization

/// A contiguous, 64-byte-aligned buffer of elements of one ``ScalarType``.
///
/// Tensors share storage freely (reshaping shares it); a tensor that is about to be written copies it first unless
/// it holds the only reference (copy-on-write). The buffer is never resized.
@usableFromInline
final class Storage: @unchecked Sendable {
    /// The first element.
    let base: UnsafeMutableRawPointer
    /// Number of elements.
    let count: Int
    /// Element type.
    let type: ScalarType

    /// Live storage objects and their bytes, for tests that check the reverse pass frees what it saved.
    static let liveCount = Atomic<Int>(0)
    static let liveBytes = Atomic<Int>(0)
    static let peakBytes = Atomic<Int>(0)

    /// An uninitialized buffer of `count` elements.
    init(type: ScalarType, count: Int) {
        precondition(count >= 0, "Storage: negative element count \(count)")
        self.count = count
        self.type = type
        let bytes = Swift.max(count * type.byteCount, 1)
        var raw: UnsafeMutableRawPointer?
        let status = posix_memalign(&raw, 64, bytes)
        guard status == 0, let raw else {
            fatalError("Autograd: could not allocate \(bytes) bytes for a tensor of \(count) \(type) elements")
        }
        base = raw
        Storage.liveCount.add(1, ordering: .relaxed)
        let live = Storage.liveBytes.add(bytes, ordering: .relaxed).newValue
        Storage.peakBytes.max(live, ordering: .relaxed)
    }

    deinit {
        free(base)
        Storage.liveCount.subtract(1, ordering: .relaxed)
        Storage.liveBytes.subtract(Swift.max(count * type.byteCount, 1), ordering: .relaxed)
    }

    @inline(__always) func floats() -> UnsafeMutablePointer<Float> { base.assumingMemoryBound(to: Float.self) }
    @inline(__always) func doubles() -> UnsafeMutablePointer<Double> { base.assumingMemoryBound(to: Double.self) }
    @inline(__always) func bytes() -> UnsafeMutablePointer<UInt8> { base.assumingMemoryBound(to: UInt8.self) }

    /// A new buffer with the same contents.
    func copy() -> Storage {
        let result = Storage(type: type, count: count)
        result.base.copyMemory(from: base, byteCount: count * type.byteCount)
        return result
    }
}

/// How many tensor buffers are alive in this process, and how many bytes they hold.
///
/// Useful to check that memory is released: after a derivative call that does not retain its graph, the graph's
/// saved tensors are freed, so these numbers return to where they were.
public enum StorageStatistics {
    /// Number of live tensor buffers.
    public static var liveBuffers: Int { Storage.liveCount.load(ordering: .relaxed) }
    /// Bytes held by live tensor buffers.
    public static var liveBytes: Int { Storage.liveBytes.load(ordering: .relaxed) }
    /// The largest `liveBytes` seen since the process started or since the last ``resetPeak()``.
    public static var peakBytes: Int { Storage.peakBytes.load(ordering: .relaxed) }
    /// Restarts peak tracking from the current `liveBytes` (to measure the peak of one computation).
    public static func resetPeak() { Storage.peakBytes.store(liveBytes, ordering: .relaxed) }
}

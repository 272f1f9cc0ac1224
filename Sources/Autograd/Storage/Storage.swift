import Foundation
import Synchronization

/// What a ``Storage`` knows about its buffer.
@usableFromInline
struct StorageHeader {
    /// The first element.
    let base: UnsafeMutableRawPointer
    /// Number of elements.
    let count: Int
    /// Element type.
    let type: ScalarType
    /// Bytes reserved (for the statistics).
    let bytes: Int
    /// Whether the buffer is a separate, 64-byte-aligned allocation (large tensors) rather than stored inline.
    let external: Bool
    /// Whether the buffer is counted in `StorageStatistics` (it was made while counting was on).
    let counted: Bool
}

/// A contiguous buffer of elements of one ``ScalarType``.
///
/// Small buffers (up to 4 KiB) live inline, right after the object's header, so a small tensor costs one
/// allocation; larger ones are separate 64-byte-aligned allocations, as vector kernels prefer.
/// Tensors share storage freely (reshaping shares it); a tensor about to be written copies it first unless it
/// holds the only reference (copy-on-write). The buffer is never resized. Safe to share across threads for the
/// same reason (written only while unshared); tensors mark their storage `nonisolated(unsafe)` because
/// `ManagedBuffer` subclasses cannot be declared `Sendable`.
@usableFromInline
final class Storage: ManagedBuffer<StorageHeader, UInt64> {
    /// Live storage objects and their bytes, for tests that check the reverse pass frees what it saved.
    static let liveCount = Atomic<Int>(0)
    static let liveBytes = Atomic<Int>(0)
    static let peakBytes = Atomic<Int>(0)
    /// Whether new buffers are counted (off unless asked for: counting costs four atomic operations per buffer,
    /// a measurable share of an operation on small tensors).
    static let counting = Atomic<Bool>(false)
    static let inlineLimit = 4096

    /// An uninitialized buffer of `count` elements. If memory runs out, stops with a message naming `operation`
    /// (the public call that wanted the buffer) and its caller's `location`, when given.
    static func make(type: ScalarType, count: Int, for operation: String? = nil,
                     at location: CallSite? = nil) -> Storage {
        precondition(count >= 0, "Storage: negative element count \(count)")
        let (product, overflow) = count.multipliedReportingOverflow(by: type.byteCount)
        if overflow { allocationFailure(Int.max, count, type, operation, location) }
        let bytes = Swift.max(product, 1)
        let inline = bytes <= inlineLimit
        let counted = counting.load(ordering: .relaxed)
        let object = create(minimumCapacity: inline ? (bytes + 7) / 8 : 0) { buffer in
            var base = buffer.withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }
            if !inline {
                if let cached = BufferCache.shared.take(bytes: bytes) {
                    base = cached
                } else {
                    var raw: UnsafeMutableRawPointer?
                    guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
                        allocationFailure(bytes, count, type, operation, location)
                    }
                    base = raw
                }
            }
            return StorageHeader(base: base, count: count, type: type, bytes: bytes, external: !inline, counted: counted)
        }
        if counted {
            liveCount.add(1, ordering: .relaxed)
            let live = liveBytes.add(bytes, ordering: .relaxed).newValue
            peakBytes.max(live, ordering: .relaxed)
        }
        let storage = unsafeDowncast(object, to: Storage.self)
        if let trace = Trace.active { trace.noteBorn(storage) }
        return storage
    }

    @inline(never)
    private static func allocationFailure(_ bytes: Int, _ count: Int, _ type: ScalarType, _ operation: String?,
                                          _ location: CallSite?) -> Never {
        let amount = bytes == Int.max ? "more than \(Int.max)" : "\(bytes)"
        operationFailure(operation ?? "Autograd", "could not allocate \(amount) bytes for a tensor of \(count) \(type) "
            + "elements: the machine does not have that much memory", at: location)
    }

    deinit {
        let h = withUnsafeMutablePointerToHeader { $0.pointee }
        if h.external { BufferCache.shared.give(h.base, bytes: h.bytes) }
        if h.counted {
            Storage.liveCount.subtract(1, ordering: .relaxed)
            Storage.liveBytes.subtract(h.bytes, ordering: .relaxed)
        }
    }

    // The header is read through its pointer: `ManagedBuffer.header` would add a dynamic exclusivity check to every
    // access, and the header never changes after creation.
    /// The first element.
    @inline(__always) var base: UnsafeMutableRawPointer { withUnsafeMutablePointerToHeader { $0.pointee.base } }
    /// Number of elements.
    @inline(__always) var count: Int { withUnsafeMutablePointerToHeader { $0.pointee.count } }
    /// Element type.
    @inline(__always) var type: ScalarType { withUnsafeMutablePointerToHeader { $0.pointee.type } }

    @inline(__always) func floats() -> UnsafeMutablePointer<Float> { base.assumingMemoryBound(to: Float.self) }
    @inline(__always) func doubles() -> UnsafeMutablePointer<Double> { base.assumingMemoryBound(to: Double.self) }
    @inline(__always) func bytes() -> UnsafeMutablePointer<UInt8> { base.assumingMemoryBound(to: UInt8.self) }
    @inline(__always) func int32s() -> UnsafeMutablePointer<Int32> { base.assumingMemoryBound(to: Int32.self) }

    /// A new buffer with the same contents.
    func copy() -> Storage {
        let result = Storage.make(type: type, count: count)
        Kernel.launch("copy", self, result, count * type.byteCount) { $0[1].copyMemory(from: $0[0], byteCount: $1) }
        return result
    }
}

/// How many tensor buffers are alive in this process, and how many bytes they hold.
///
/// Useful to check that memory is released: after a derivative call that does not retain its graph, the graph's
/// saved tensors are freed, so these numbers return to where they were. Large freed buffers kept for reuse by the
/// library's allocator cache (at most 256 MiB) are not counted: they belong to no tensor.
///
/// Counting is off until ``isEnabled`` is set: it costs four atomic operations per buffer, which on small tensors
/// is a few percent of an operation. Only buffers made while it is on are counted (until they are freed, whatever
/// the switch is then), so turn it on before the computation to measure.
public enum StorageStatistics {
    /// Whether buffers made from now on are counted. Off by default.
    public static var isEnabled: Bool {
        get { Storage.counting.load(ordering: .relaxed) }
        set { Storage.counting.store(newValue, ordering: .relaxed) }
    }
    /// Number of live tensor buffers (made while counting was on).
    public static var liveBuffers: Int { Storage.liveCount.load(ordering: .relaxed) }
    /// Bytes held by live tensor buffers.
    public static var liveBytes: Int { Storage.liveBytes.load(ordering: .relaxed) }
    /// The largest `liveBytes` seen since the process started or since the last ``resetPeak()``.
    public static var peakBytes: Int { Storage.peakBytes.load(ordering: .relaxed) }
    /// Restarts peak tracking from the current `liveBytes` (to measure the peak of one computation).
    public static func resetPeak() { Storage.peakBytes.store(liveBytes, ordering: .relaxed) }
}

/// Recently freed large buffers, kept for reuse.
///
/// Derivative computations on big tensors allocate and free buffers of the same few sizes over and over (one set
/// per training step). Returned to the C library, large buffers go back to the system and come back as fresh pages
/// that must be faulted in and zeroed; kept here, they are reused as they are. At most `capacity` bytes are kept;
/// beyond that, buffers are freed. (A smaller version of what PyTorch's caching allocator does.)
final class BufferCache: @unchecked Sendable {
    static let shared = BufferCache()
    /// Bytes of free buffers kept at most.
    let capacity = 256 << 20
    private let lock = Atomic<Bool>(false)
    private var buffers: [Int: [UnsafeMutableRawPointer]] = [:]
    private var kept = 0

    @inline(__always) private func locked<R>(_ body: () -> R) -> R {
        while !lock.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {}
        defer { lock.store(false, ordering: .releasing) }
        return body()
    }

    /// A kept buffer of exactly `bytes` bytes, if any.
    func take(bytes: Int) -> UnsafeMutableRawPointer? {
        locked {
            guard let p = buffers[bytes]?.popLast() else { return nil }
            kept -= bytes
            return p
        }
    }

    /// Keeps `pointer` (of `bytes` bytes) for reuse, or frees it if the cache is full.
    func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        let keep = locked {
            guard kept + bytes <= capacity else { return false }
            buffers[bytes, default: []].append(pointer)
            kept += bytes
            return true
        }
        if !keep { free(pointer) }
    }
}

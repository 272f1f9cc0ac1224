import Foundation

/// Frees long graphs without deep recursion.
///
/// Releasing the last reference to the output of a chain of 100,000 operations would free each node from inside
/// the deinitializer of the next one, 100,000 calls deep, and overflow the thread's stack. Instead, a node's
/// deinitializer hands its children (edges and saved tensors) to a per-thread list; the outermost deinitializer
/// then drains that list in a loop, so the depth stays constant however long the graph.
enum GraphTeardown {
    final class Pending {
        var items: [Any] = []
        var draining = false
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in if let pointer { Unmanaged<Pending>.fromOpaque(pointer).release() } }
        return key
    }()

    private static var pending: Pending {
        if let p = pthread_getspecific(key) { return Unmanaged<Pending>.fromOpaque(p).takeUnretainedValue() }
        let p = Pending()
        pthread_setspecific(key, Unmanaged.passRetained(p).toOpaque())
        return p
    }

    /// Keeps `children` alive past the caller's deinitializer and releases them from a loop.
    static func release(_ children: consuming Any) {
        let p = pending
        p.items.append(consume children)
        if p.draining { return }
        p.draining = true
        while let item = p.items.popLast() { _ = item }
        p.draining = false
    }
}

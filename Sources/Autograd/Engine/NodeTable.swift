/// A small open-addressing hash map from nodes (by identity) to integers, for the reverse pass.
///
/// The pass looks up every edge of every node; Swift's `Dictionary` hashes with SipHash, which costs more than the
/// rest of the bookkeeping. Node addresses are already well spread, so a multiplicative hash and linear probing do.
struct NodeTable {
    private var keys: [UInt]
    private var values: [Int]
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt](repeating: 0, count: size)
        values = [Int](repeating: 0, count: size)
        mask = size - 1
    }

    /// The first slot probed for `key`: the address without its alignment bits, times the 64-bit golden-ratio
    /// constant, bits 20 and up (the product's low bits mix poorly). The parentheses matter: `>>` binds tighter
    /// than `&*`, and the constant shifted right by 20 is even, which left three slots in four unused.
    @inline(__always) func slot(_ key: UInt) -> Int {
        Int(truncatingIfNeeded: ((key >> 4) &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    /// The number of slots.
    var capacity: Int { keys.count }

    /// A set of nodes (each mapped to its position in `nodes`).
    init(nodes: [GradNode]) {
        self.init(capacity: nodes.count)
        for (i, node) in nodes.enumerated() { insert(node, i) }
    }

    /// The value stored for `node`, if any.
    @inline(__always) func get(_ node: GradNode) -> Int? {
        let key = UInt(bitPattern: Unmanaged.passUnretained(node).toOpaque())
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    /// Stores `value` for `node`; returns false (and changes nothing) if `node` is already present.
    @discardableResult
    mutating func insert(_ node: GradNode, _ value: Int) -> Bool {
        if (count + 1) * 2 > keys.count { grow() }
        let key = UInt(bitPattern: Unmanaged.passUnretained(node).toOpaque())
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return false }
            if k == 0 {
                keys[i] = key
                values[i] = value
                count += 1
                return true
            }
            i = (i + 1) & mask
        }
    }

    /// Replaces the value of a node already present.
    mutating func update(_ node: GradNode, _ value: Int) {
        let key = UInt(bitPattern: Unmanaged.passUnretained(node).toOpaque())
        var i = slot(key)
        while keys[i] != key { i = (i + 1) & mask }
        values[i] = value
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [UInt](repeating: 0, count: oldKeys.count * 2)
        values = [Int](repeating: 0, count: oldKeys.count * 2)
        mask = keys.count - 1
        count = 0
        for (k, v) in zip(oldKeys, oldValues) where k != 0 {
            var i = slot(k)
            while keys[i] != 0 { i = (i + 1) & mask }
            keys[i] = k
            values[i] = v
            count += 1
        }
    }
}

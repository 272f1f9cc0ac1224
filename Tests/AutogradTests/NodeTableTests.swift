import Testing
@testable import Autograd

/// The reverse pass's node table: its hash must spread node addresses over every slot.
@Suite struct NodeTableTests {
    /// Keys as node addresses come (16-byte aligned, at the strides of a heap's size classes) reach every slot of
    /// a table: a hash that loses low bits of its multiplier (an operator-precedence slip once left three slots in
    /// four unused) fails this.
    @Test func keysSpreadOverAllSlots() {
        let table = NodeTable(capacity: 64)
        let size = table.capacity
        for stride in [16, 48, 64, 96, 128] {
            var used = Set<Int>()
            for i in 0..<(size * 16) { used.insert(table.slot(UInt(0x7f00_1234_5000 + i * stride))) }
            #expect(used.count == size, "stride \(stride): \(used.count) of \(size) slots used")
        }
    }

    /// Lookups find what was inserted, among many nodes.
    @Test func insertAndGet() {
        let nodes = (0..<500).map { _ in GradNode(leafShape: [1], scalarType: .float64, location: nil) }
        let table = NodeTable(nodes: nodes)
        #expect(table.count == nodes.count)
        for (i, node) in nodes.enumerated() { #expect(table.get(node) == i) }
    }
}

import Foundation

/// A traced function as a straight-line program: kernel calls over numbered buffers, with every intermediate
/// buffer placed in one block of memory (the buffer plan) by its lifetime.
///
/// Running it allocates only the result buffers (and the block, the first time, or when several calls run at
/// once): no graph nodes, no tensors, no reference counting of intermediates. The instructions are the kernels the
/// eager call ran, in the same order, so results are bitwise equal to eager ones.
final class CompiledProgram: @unchecked Sendable {  // unchecked: immutable after init, except the locked pool
    /// What a buffer of the program is.
    enum Role: Equatable {
        case input(Int)
        case constant
        /// An intermediate at this byte offset of the block.
        case planned(offset: Int)
        /// A result buffer, allocated fresh for each call.
        case output
    }

    struct Buffer {
        let role: Role
        let type: ScalarType
        let count: Int
        var bytes: Int { count * type.byteCount }
    }

    /// Instructions after dead-code elimination, in order.
    let instructions: [TracedInstruction]
    /// Operand ids of all instructions, flat, and where each instruction's start.
    private let flatOperands: [Int32]
    private let operandStarts: [Int]
    let buffers: [Buffer]
    /// Constants' storages (kept alive by the program), by buffer id.
    private let constants: [Int: Storage]
    /// Buffer id and shape of each result.
    let outputs: [(id: Int, shape: [Int])]
    /// Bytes of the block that holds the intermediates.
    let blockBytes: Int
    /// Instructions the trace recorded, before dead-code elimination.
    let tracedInstructions: Int
    private let maxOperands: Int
    /// Blocks of memory not in use by a call, for the next calls.
    private let pool = Locked<[UnsafeMutableRawPointer]>([])

    /// The program of a finished trace whose results are `outputs` (buffer id and shape each).
    init(trace state: Trace.State, outputs: [(id: Int, shape: [Int])]) {
        let n = state.buffers.count
        // Dead-code elimination: keep an instruction if it writes a buffer that is needed (a result, or read by a
        // kept instruction). A buffer written by several instructions (a kernel that adds into its output) keeps
        // all of them.
        var needed = [Bool](repeating: false, count: n)
        for o in outputs { needed[o.id] = true }
        var keep = [Bool](repeating: false, count: state.instructions.count)
        for i in state.instructions.indices.reversed() {
            let inst = state.instructions[i]
            let written = inst.operands.suffix(inst.writes)
            guard written.contains(where: { needed[$0] }) else { continue }
            keep[i] = true
            for id in inst.operands { needed[id] = true }
        }
        let kept = state.instructions.indices.filter { keep[$0] }.map { state.instructions[$0] }

        // Lifetimes of the intermediates: from the first instruction that touches them to the last.
        var first = [Int](repeating: -1, count: n), last = [Int](repeating: -1, count: n)
        for (i, inst) in kept.enumerated() {
            for id in inst.operands {
                if first[id] < 0 { first[id] = i }
                last[id] = i
            }
        }
        let isOutput = Set(outputs.map(\.id))
        var roles = [Role](repeating: .constant, count: n)
        var constants: [Int: Storage] = [:]
        for (id, b) in state.buffers.enumerated() {
            switch b.origin {
            case .input(let k): roles[id] = .input(k)
            case .constant: roles[id] = .constant; constants[id] = b.storage
            case .computed: roles[id] = isOutput.contains(id) ? .output : .planned(offset: 0)
            }
        }
        // The plan: walk the instructions; give each intermediate a place when it is first written (first fit in
        // the free ranges, else at the end of the block) and free the place after its last use. Places are freed
        // only after the instruction's new buffers are placed, so no kernel's output overlaps its input.
        var free: [(offset: Int, size: Int)] = []
        var end = 0
        var starting = [[Int]](repeating: [], count: kept.count), ending = [[Int]](repeating: [], count: kept.count)
        for id in 0..<n where first[id] >= 0 {
            if case .planned = roles[id] {
                starting[first[id]].append(id)
                ending[last[id]].append(id)
            }
        }
        func size(_ id: Int) -> Int { (Swift.max(state.buffers[id].storage.count * state.buffers[id].storage.type.byteCount, 1) + 63) & ~63 }
        for i in kept.indices {
            for id in starting[i] {
                let s = size(id)
                if let k = free.firstIndex(where: { $0.size >= s }) {
                    roles[id] = .planned(offset: free[k].offset)
                    if free[k].size == s { free.remove(at: k) } else { free[k] = (free[k].offset + s, free[k].size - s) }
                } else {
                    roles[id] = .planned(offset: end)
                    end += s
                }
            }
            for id in ending[i] {
                guard case .planned(let offset) = roles[id] else { continue }
                free.append((offset, size(id)))
                free.sort { $0.offset < $1.offset }
                // Merge neighbouring free ranges.
                var merged: [(offset: Int, size: Int)] = []
                for r in free {
                    if let l = merged.last, l.offset + l.size == r.offset {
                        merged[merged.count - 1].size += r.size
                    } else {
                        merged.append(r)
                    }
                }
                free = merged
                if let l = free.last, l.offset + l.size == end { end = l.offset; free.removeLast() }
            }
        }
        // `end` shrinks when the last range is freed; the block must hold the largest extent reached.
        var extent = 0
        for id in 0..<n { if case .planned(let o) = roles[id], first[id] >= 0 { extent = Swift.max(extent, o + size(id)) } }

        self.instructions = kept
        self.buffers = (0..<n).map { Buffer(role: roles[$0], type: state.buffers[$0].storage.type,
                                            count: state.buffers[$0].storage.count) }
        self.constants = constants
        self.outputs = outputs
        self.blockBytes = extent
        self.tracedInstructions = state.instructions.count
        var flat: [Int32] = [], starts: [Int] = []
        for inst in kept {
            starts.append(flat.count)
            flat += inst.operands.map { Int32($0) }
        }
        starts.append(flat.count)
        self.flatOperands = flat
        self.operandStarts = starts
        self.maxOperands = kept.map(\.operands.count).max() ?? 0
    }

    deinit {
        for block in pool.withLock({ $0 }) { free(block) }
    }

    /// Runs the program on `inputs` (the traced function's inputs, with the traced shapes and types) and returns
    /// its results as new tensors.
    func run(_ inputs: [AnyTensor]) -> [AnyTensor] {
        let block = pool.withLock { $0.popLast() } ?? Self.allocate(blockBytes)
        defer { pool.withLock { $0.append(block) } }
        // One fresh buffer per distinct result buffer (two results that are views of one buffer share it).
        var made: [Int: Storage] = [:]
        let results = outputs.map { o in
            let storage = made[o.id] ?? Storage.make(type: buffers[o.id].type, count: buffers[o.id].count)
            made[o.id] = storage
            return AnyTensor(storage: storage, shape: o.shape)
        }
        return withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: buffers.count + maxOperands) {
            scratch in
            let table = scratch.baseAddress!
            let operands = table + buffers.count
            for (id, b) in buffers.enumerated() {
                switch b.role {
                case .input(let k): table[id] = inputs[k].storage.base
                case .constant: table[id] = constants[id]!.base
                case .planned(let offset): table[id] = block + offset
                case .output: table[id] = block  // replaced below
                }
            }
            for (k, o) in outputs.enumerated() where buffers[o.id].role == .output { table[o.id] = results[k].storage.base }
            flatOperands.withUnsafeBufferPointer { flat in
                operandStarts.withUnsafeBufferPointer { starts in
                    for (i, inst) in instructions.enumerated() {
                        var p = operands
                        for j in starts[i]..<starts[i + 1] {
                            p.pointee = table[Int(flat[j])]
                            p += 1
                        }
                        inst.body(KernelOperands(pointers: UnsafePointer(operands)))
                    }
                }
            }
            // Inputs and constants returned as results are copied into the fresh result buffers (never shared, so
            // the caller may write them).
            for (k, o) in outputs.enumerated() {
                switch buffers[o.id].role {
                case .input(let i): results[k].storage.base.copyMemory(from: inputs[i].storage.base, byteCount: buffers[o.id].bytes)
                case .constant: results[k].storage.base.copyMemory(from: constants[o.id]!.base, byteCount: buffers[o.id].bytes)
                default: break
                }
            }
            return results
        }
    }

    private static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, Swift.max(bytes, 64)) == 0, let raw else {
            operationFailure("compiled function", "could not allocate \(bytes) bytes for the buffers of its program: "
                + "the machine does not have that much memory", at: nil)
        }
        return raw
    }
}

extension CompiledProgram {
    /// The program as text: a summary, the buffer plan, then one line per instruction
    /// (`name  %written ← %read, …  elements`).
    func listing() -> String {
        var inputs = 0, constants = 0, planned = 0, plannedBytes = 0, results = 0, resultBytes = 0
        for b in buffers {
            switch b.role {
            case .input: inputs += 1
            case .constant: constants += 1
            case .planned: planned += 1; plannedBytes += b.bytes
            case .output: results += 1; resultBytes += b.bytes
            }
        }
        let used = Set(instructions.flatMap(\.operands))
        planned = 0; plannedBytes = 0
        for (id, b) in buffers.enumerated() where used.contains(id) {
            if case .planned = b.role { planned += 1; plannedBytes += b.bytes }
        }
        var text = "program: \(instructions.count) kernel calls (\(tracedInstructions - instructions.count) of the "
            + "\(tracedInstructions) traced removed as unused), \(inputs) inputs, \(constants) constants, "
            + "\(outputs.count) results\n"
        text += "buffer plan: \(planned) intermediates (\(plannedBytes) bytes if each had its own buffer) in one "
            + "block of \(blockBytes) bytes; results \(resultBytes) bytes, allocated per call\n"
        func name(_ id: Int) -> String {
            switch buffers[id].role {
            case .input(let k): "in\(k)"
            case .constant: "c\(id)"
            case .planned(let offset): "%\(id)@\(offset)"
            case .output: "out\(outputs.firstIndex { $0.id == id } ?? 0)"
            }
        }
        for (i, inst) in instructions.enumerated() {
            let reads = inst.operands.dropLast(inst.writes).map(name).joined(separator: ", ")
            let writes = inst.operands.suffix(inst.writes).map(name).joined(separator: ", ")
            text += String(i).leftPadded(5) + "  " + inst.name.padded(22) + writes + " ← " + reads
                + "  (\(inst.elements) elements)\n"
        }
        return text
    }
}

private extension String {
    func padded(_ width: Int) -> String { self + String(repeating: " ", count: Swift.max(1, width - count)) }
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: Swift.max(0, width - count)) + self }
}

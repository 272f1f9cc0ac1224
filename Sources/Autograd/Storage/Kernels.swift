import CAutogradKernels

/// Value computations on tensors: one C kernel call per operation, chosen by element type. No derivative state is
/// read or written here; the primitives in `Primitives/` call these and then record derivatives.
enum Kernel {
    // MARK: Helpers

    @inline(__always)
    static func withInt64<R>(_ a: [Int], _ body: (UnsafePointer<Int64>) -> R) -> R {
        a.withUnsafeBufferPointer { p in
            body(UnsafeRawPointer(p.baseAddress ?? UnsafePointer(bitPattern: 8)!).assumingMemoryBound(to: Int64.self))
        }
    }

    /// Stops a kernel asked to compute with elements it has no version for (Bool masks, Int32 index tensors),
    /// naming the operation and the conversion that makes it possible.
    static func noKernel(_ operation: String, _ type: ScalarType) -> Never {
        fatalError("\(operation) is not defined for Tensor<\(type)>; convert first, with Tensor<Float>(_:) or "
            + "Tensor<Double>(_:) (indices and masks become numbers)")
    }

    static func sameType(_ a: AnyTensor, _ b: AnyTensor, _ operation: String) {
        if a.scalarType != b.scalarType {
            operationFailure(operation, "operands have different element types (\(a.scalarType) and "
                + "\(b.scalarType)); convert one with Tensor<\(a.scalarType)>(converting:)", at: nil)
        }
    }

    // MARK: Creation

    static func filled(_ type: ScalarType, _ shape: [Int], _ value: Double) -> AnyTensor {
        let y = AnyTensor(uninitialized: type, shape: shape)
        let n = Int64(y.count)
        switch type {
        case .float32: launch("fill", y.storage, (n, Float(value))) { ag_fill_f32($1.0, $1.1, $0.f32(0)) }
        case .float64: launch("fill", y.storage, (n, value)) { ag_fill_f64($1.0, $1.1, $0.f64(0)) }
        case .bool:
            launch("fill", y.storage, (y.count, UInt8(value != 0 ? 1 : 0))) { $0.u8(0).initialize(repeating: $1.1, count: $1.0) }
        case .int32:
            launch("fill", y.storage, (y.count, Int32(exactly: value) ?? 0)) { $0.i32(0).initialize(repeating: $1.1, count: $1.0) }
        }
        return y
    }

    // MARK: Elementwise

    static func unary(_ op: ag_unary_op, _ x: AnyTensor) -> AnyTensor {
        let y = AnyTensor(uninitialized: x.scalarType, shape: x.shape)
        switch x.scalarType {
        case .float32:
            launch("unary", x.storage, y.storage, (op, Int64(x.count))) { ag_unary_f32($1.0, $1.1, $0.f32(0), $0.f32(1)) }
        case .float64:
            launch("unary", x.storage, y.storage, (op, Int64(x.count))) { ag_unary_f64($1.0, $1.1, $0.f64(0), $0.f64(1)) }
        case .bool, .int32: noKernel("unary arithmetic", x.scalarType)
        }
        return y
    }

    /// `alpha * x + beta`.
    static func affine(_ x: AnyTensor, _ alpha: Double, _ beta: Double) -> AnyTensor {
        let y = AnyTensor(uninitialized: x.scalarType, shape: x.shape)
        switch x.scalarType {
        case .float32:
            launch("affine", x.storage, y.storage, (Int64(x.count), Float(alpha), Float(beta))) {
                ag_affine_f32($1.0, $0.f32(0), $1.1, $1.2, $0.f32(1))
            }
        case .float64:
            launch("affine", x.storage, y.storage, (Int64(x.count), alpha, beta)) {
                ag_affine_f64($1.0, $0.f64(0), $1.1, $1.2, $0.f64(1))
            }
        case .bool, .int32: noKernel("arithmetic", x.scalarType)
        }
        return y
    }

    /// x ← αx + β in x's own buffer, if x holds the only reference to it and carries no derivative state;
    /// returns whether it did (otherwise x is unchanged).
    static func affineInPlace(_ x: inout AnyTensor, _ alpha: Double, _ beta: Double) -> Bool {
        guard !x.hasDerivativeState, isKnownUniquelyReferenced(&x.storage) else { return false }
        switch x.scalarType {
        case .float32:
            launch("affine in place", x.storage, (Int64(x.count), Float(alpha), Float(beta))) {
                ag_affine_f32($1.0, $0.f32(0), $1.1, $1.2, $0.f32(0))
            }
        case .float64:
            launch("affine in place", x.storage, (Int64(x.count), alpha, beta)) {
                ag_affine_f64($1.0, $0.f64(0), $1.1, $1.2, $0.f64(0))
            }
        case .bool, .int32: return false
        }
        return true
    }

    static func binary(_ op: ag_binary_op, _ a: AnyTensor, _ b: AnyTensor, _ name: String,
                       at location: CallSite?) -> AnyTensor {
        sameType(a, b, name)
        // Common cases without building shape and stride arrays: equal shapes, or one operand a single element
        // (of rank no larger than the other's, so the result takes the other's shape).
        var fast: (shape: [Int], sa: Int64, sb: Int64)?
        if a.shape == b.shape { fast = (a.shape, 1, 1) }
        else if b.count == 1 && b.rank <= a.rank { fast = (a.shape, 1, 0) }
        else if a.count == 1 && a.rank <= b.rank { fast = (b.shape, 0, 1) }
        if let (shape, sa0, sb0) = fast {
            let y = AnyTensor(uninitialized: a.scalarType, shape: shape)
            let parameters = (op, Int64(y.count), sa0, sb0)
            switch a.scalarType {
            case .float32:
                launch("binary", a.storage, b.storage, y.storage, parameters) { p, q in
                    var (n, sa, sb) = (q.1, q.2, q.3)
                    ag_binary_f32(q.0, 1, &n, p.f32(0), &sa, p.f32(1), &sb, p.f32(2))
                }
            case .float64:
                launch("binary", a.storage, b.storage, y.storage, parameters) { p, q in
                    var (n, sa, sb) = (q.1, q.2, q.3)
                    ag_binary_f64(q.0, 1, &n, p.f64(0), &sa, p.f64(1), &sb, p.f64(2))
                }
            case .bool, .int32: noKernel("arithmetic", a.scalarType)
            }
            return y
        }
        let shape = Shape.broadcast(a.shape, b.shape, name, at: location)
        let y = AnyTensor(uninitialized: a.scalarType, shape: shape)
        let sa = Shape.broadcastStrides(a.shape, to: shape), sb = Shape.broadcastStrides(b.shape, to: shape)
        switch a.scalarType {
        case .float32:
            launch("binary", a.storage, b.storage, y.storage, (op, shape, sa, sb)) { p, q in
                withInt64(q.1) { sh in withInt64(q.2) { pa in withInt64(q.3) { pb in
                    ag_binary_f32(q.0, Int32(q.1.count), sh, p.f32(0), pa, p.f32(1), pb, p.f32(2))
                } } }
            }
        case .float64:
            launch("binary", a.storage, b.storage, y.storage, (op, shape, sa, sb)) { p, q in
                withInt64(q.1) { sh in withInt64(q.2) { pa in withInt64(q.3) { pb in
                    ag_binary_f64(q.0, Int32(q.1.count), sh, p.f64(0), pa, p.f64(1), pb, p.f64(2))
                } } }
            }
        case .bool, .int32: noKernel("arithmetic", a.scalarType)
        }
        return y
    }

    static func compare(_ op: ag_compare_op, _ a: AnyTensor, _ b: AnyTensor, _ name: String,
                        at location: CallSite?) -> AnyTensor {
        sameType(a, b, name)
        let shape = Shape.broadcast(a.shape, b.shape, name, at: location)
        let y = AnyTensor(uninitialized: .bool, shape: shape)
        let sa = Shape.broadcastStrides(a.shape, to: shape), sb = Shape.broadcastStrides(b.shape, to: shape)
        // Bool and Int32 comparison: compare as numbers (exact in Double for every Int32).
        let numeric = a.scalarType == .bool || a.scalarType == .int32
        let (fa, fb) = numeric ? (convert(a, to: .float64), convert(b, to: .float64)) : (a, b)
        if fa.scalarType == .float32 {
            launch("compare", fa.storage, fb.storage, y.storage, (op, shape, sa, sb)) { p, q in
                withInt64(q.1) { sh in withInt64(q.2) { pa in withInt64(q.3) { pb in
                    ag_compare_f32(q.0, Int32(q.1.count), sh, p.f32(0), pa, p.f32(1), pb, p.u8(2))
                } } }
            }
        } else {
            launch("compare", fa.storage, fb.storage, y.storage, (op, shape, sa, sb)) { p, q in
                withInt64(q.1) { sh in withInt64(q.2) { pa in withInt64(q.3) { pb in
                    ag_compare_f64(q.0, Int32(q.1.count), sh, p.f64(0), pa, p.f64(1), pb, p.u8(2))
                } } }
            }
        }
        return y
    }

    /// `condition ? a : b`, broadcasting all three.
    static func select(_ condition: AnyTensor, _ a: AnyTensor, _ b: AnyTensor, _ name: String,
                       at location: CallSite?) -> AnyTensor {
        sameType(a, b, name)
        let shape = Shape.broadcast(Shape.broadcast(condition.shape, a.shape, name, at: location), b.shape, name,
                                    at: location)
        if a.scalarType == .bool || a.scalarType == .int32 {
            // Chosen as numbers (exact in Double for every Int32), then converted back.
            let chosen = select(condition, convert(a, to: .float64), convert(b, to: .float64), name, at: location)
            return convert(chosen, to: a.scalarType)
        }
        let y = AnyTensor(uninitialized: a.scalarType, shape: shape)
        let sc = Shape.broadcastStrides(condition.shape, to: shape)
        let sa = Shape.broadcastStrides(a.shape, to: shape), sb = Shape.broadcastStrides(b.shape, to: shape)
        let parameters = (shape, sc, sa, sb)
        if a.scalarType == .float32 {
            launch("where", condition.storage, a.storage, b.storage, y.storage, parameters) { p, q in
                withInt64(q.0) { sh in withInt64(q.1) { pc in withInt64(q.2) { pa in withInt64(q.3) { pb in
                    ag_where_f32(Int32(q.0.count), sh, p.u8(0), pc, p.f32(1), pa, p.f32(2), pb, p.f32(3))
                } } } }
            }
        } else {
            launch("where", condition.storage, a.storage, b.storage, y.storage, parameters) { p, q in
                withInt64(q.0) { sh in withInt64(q.1) { pc in withInt64(q.2) { pa in withInt64(q.3) { pb in
                    ag_where_f64(Int32(q.0.count), sh, p.u8(0), pc, p.f64(1), pa, p.f64(2), pb, p.f64(3))
                } } } }
            }
        }
        return y
    }

    static func convert(_ x: AnyTensor, to type: ScalarType) -> AnyTensor {
        if x.scalarType == type { return x.value }
        let y = AnyTensor(uninitialized: type, shape: x.shape)
        let n = x.count
        let (s, d) = (x.storage, y.storage)
        switch (x.scalarType, type) {
        case (.float32, .float64): launch("convert", s, d, Int64(n)) { ag_convert_f32_to_f64($1, $0.f32(0), $0.f64(1)) }
        case (.float64, .float32): launch("convert", s, d, Int64(n)) { ag_convert_f64_to_f32($1, $0.f64(0), $0.f32(1)) }
        case (.bool, .float32): launch("convert", s, d, Int64(n)) { ag_convert_u8_to_f32($1, $0.u8(0), $0.f32(1)) }
        case (.bool, .float64): launch("convert", s, d, Int64(n)) { ag_convert_u8_to_f64($1, $0.u8(0), $0.f64(1)) }
        case (.float32, .bool): launch("convert", s, d, n) { p, n in for i in 0..<n { p.u8(1)[i] = p.f32(0)[i] != 0 ? 1 : 0 } }
        case (.float64, .bool): launch("convert", s, d, n) { p, n in for i in 0..<n { p.u8(1)[i] = p.f64(0)[i] != 0 ? 1 : 0 } }
        case (.int32, .float32): launch("convert", s, d, n) { p, n in for i in 0..<n { p.f32(1)[i] = Float(p.i32(0)[i]) } }
        case (.int32, .float64): launch("convert", s, d, n) { p, n in for i in 0..<n { p.f64(1)[i] = Double(p.i32(0)[i]) } }
        case (.int32, .bool): launch("convert", s, d, n) { p, n in for i in 0..<n { p.u8(1)[i] = p.i32(0)[i] != 0 ? 1 : 0 } }
        case (.bool, .int32): launch("convert", s, d, n) { p, n in for i in 0..<n { p.i32(1)[i] = Int32(p.u8(0)[i]) } }
        // Callers check that every value is finite and in Int32's range (see `Tensor<Int32>(truncating:)`).
        case (.float32, .int32): launch("convert", s, d, n) { p, n in for i in 0..<n { p.i32(1)[i] = Int32(p.f32(0)[i]) } }
        case (.float64, .int32): launch("convert", s, d, n) { p, n in for i in 0..<n { p.i32(1)[i] = Int32(p.f64(0)[i]) } }
        default: break
        }
        return y
    }

    // MARK: Reductions

    /// Reduces over `axes` (normalized, ascending). The result has those axes removed, or kept as 1 if `keep`.
    static func reduce(_ op: ag_reduce_op, _ x: AnyTensor, axes: [Int], keep: Bool) -> AnyTensor {
        var current = x.value
        var shape = x.shape
        // Reduce groups of consecutive axes, last group first, each as one [outer, r, inner] kernel call.
        var i = axes.count - 1
        while i >= 0 {
            var j = i
            while j > 0 && axes[j - 1] == axes[j] - 1 { j -= 1 }
            let first = axes[j], last = axes[i]
            let outer = Shape.count(Array(shape[..<first]))
            let r = Shape.count(Array(shape[first...last]))
            let inner = Shape.count(Array(shape[(last + 1)...]))
            var newShape = shape
            for a in first...last { newShape[a] = 1 }
            let y = AnyTensor(uninitialized: x.scalarType, shape: newShape)
            let parameters = (op, Int64(outer), Int64(r), Int64(inner))
            switch x.scalarType {
            case .float32:
                launch("reduce", current.storage, y.storage, parameters) { ag_reduce_f32($1.0, $1.1, $1.2, $1.3, $0.f32(0), $0.f32(1)) }
            case .float64:
                launch("reduce", current.storage, y.storage, parameters) { ag_reduce_f64($1.0, $1.1, $1.2, $1.3, $0.f64(0), $0.f64(1)) }
            case .bool, .int32: noKernel("a reduction", x.scalarType)
            }
            current = y
            shape = newShape
            i = j - 1
        }
        if !keep {
            var kept: [Int] = []
            var k = 0
            for (d, size) in x.shape.enumerated() {
                if k < axes.count && axes[k] == d { k += 1 } else { kept.append(size) }
            }
            shape = kept
        }
        return AnyTensor(storage: current.storage, shape: shape)
    }

    // MARK: Matrix product

    /// Batched matrix product of tensors of rank ≥ 2 with broadcast batch dimensions:
    /// `op(a)[..., m, k] · op(b)[..., k, n]`, where `op` transposes the last two dimensions when asked (read through
    /// strides, no copy).
    /// `shape`, if given, is the result's shape, passed by a caller that has it so that it is not built again.
    static func matmul(_ a: AnyTensor, _ b: AnyTensor, transposeA: Bool, transposeB: Bool, _ name: String,
                       at location: CallSite?, shape: [Int]? = nil) -> AnyTensor {
        sameType(a, b, name)
        let ra = a.rank, rb = b.rank
        let (m, ka) = transposeA ? (a.shape[ra - 1], a.shape[ra - 2]) : (a.shape[ra - 2], a.shape[ra - 1])
        let (kb, n) = transposeB ? (b.shape[rb - 1], b.shape[rb - 2]) : (b.shape[rb - 2], b.shape[rb - 1])
        if ka != kb {
            operationFailure(name, "shapes \(describe(a.shape)) and \(describe(b.shape)) cannot be multiplied: "
                + "the first operand has \(ka) columns but the second has \(kb) rows (matmul(a, b) needs "
                + "a.shape[-1] == b.shape[-2]). Check the order of the operands, or transpose one with "
                + "transposed().", at: location)
        }
        let k = ka
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batch = batchA == batchB ? batchA : Shape.broadcast(batchA, batchB, name + " (batch dimensions)", at: location)
        let y = AnyTensor(uninitialized: a.scalarType, shape: shape ?? (batch.isEmpty ? [m, n] : batch + [m, n]))
        let count = Shape.count(batch)
        if count == 0 || m == 0 || n == 0 { return y }
        let (rsa, csa) = transposeA ? (1, m) : (k, 1)
        let (rsb, csb) = transposeB ? (1, k) : (n, 1)
        if count == 1 {
            gemm(a.scalarType, m: m, n: n, k: k, a, rsa: rsa, csa: csa, b, rsb: rsb, csb: csb, y, ldc: n)
            return y
        }
        // A batch against one shared operand is a single product:
        // - b shared, a's matrices stacked (contiguous, not transposed): the batch is just more rows of a;
        // - a shared, b a batch of vectors (n = 1): C as [batch, m] = (b as [batch, k]) · op(a)ᵀ.
        // (A batch of vectors multiplied by one shared matrix takes this path: one product that reads the shared
        // matrix once, instead of `count` products that each re-read it.)
        let sharedB = Shape.count(batchB) == 1, sharedA = Shape.count(batchA) == 1
        if sharedB && !transposeA && batchA == batch {
            gemm(a.scalarType, m: count * m, n: n, k: k, a, rsa: k, csa: 1, b, rsb: rsb, csb: csb, y, ldc: n)
            return y
        }
        if sharedA && n == 1 && batchB == batch {
            // op(a)ᵀ[p, i] = op(a)[i, p]: (rs, cs) of op(a) swapped.
            let (rsAt, csAt) = transposeA ? (m, 1) : (1, k)
            gemm(a.scalarType, m: count, n: m, k: k, b, rsa: k, csa: 1, a, rsb: rsAt, csb: csAt, y, ldc: m)
            return y
        }
        let offsetsA = batchOffsets(batchA, matrix: m * k, to: batch)
        let offsetsB = batchOffsets(batchB, matrix: k * n, to: batch)
        let sizes = (Int64(count), Int64(m), Int64(n), Int64(k)), strides = (Int64(rsa), Int64(csa), Int64(rsb), Int64(csb))
        switch a.scalarType {
        case .float32:
            launch("batched matmul", a.storage, b.storage, y.storage, (sizes, strides, offsetsA, offsetsB)) { p, q in
                withInt64(q.2) { oa in withInt64(q.3) { ob in
                    ag_gemm_batched_f32(q.0.0, q.0.1, q.0.2, q.0.3, p.f32(0), oa, q.1.0, q.1.1, p.f32(1), ob, q.1.2,
                                        q.1.3, p.f32(2))
                } }
            }
        case .float64:
            launch("batched matmul", a.storage, b.storage, y.storage, (sizes, strides, offsetsA, offsetsB)) { p, q in
                withInt64(q.2) { oa in withInt64(q.3) { ob in
                    ag_gemm_batched_f64(q.0.0, q.0.1, q.0.2, q.0.3, p.f64(0), oa, q.1.0, q.1.1, p.f64(1), ob, q.1.2,
                                        q.1.3, p.f64(2))
                } }
            }
        case .bool, .int32: noKernel("matmul", a.scalarType)
        }
        return y
    }

    /// y = op(a)·op(b) for one m × k by k × n product, operands read through the given strides.
    private static func gemm(_ type: ScalarType, m: Int, n: Int, k: Int, _ a: AnyTensor, rsa: Int, csa: Int,
                             _ b: AnyTensor, rsb: Int, csb: Int, _ y: AnyTensor, ldc: Int) {
        let sizes = (Int64(m), Int64(n), Int64(k), Int64(ldc)), strides = (Int64(rsa), Int64(csa), Int64(rsb), Int64(csb))
        switch type {
        case .float32:
            launch("matmul", a.storage, b.storage, y.storage, (sizes, strides)) { p, q in
                ag_gemm_f32(q.0.0, q.0.1, q.0.2, 1, p.f32(0), q.1.0, q.1.1, p.f32(1), q.1.2, q.1.3, 0, p.f32(2), q.0.3)
            }
        case .float64:
            launch("matmul", a.storage, b.storage, y.storage, (sizes, strides)) { p, q in
                ag_gemm_f64(q.0.0, q.0.1, q.0.2, 1, p.f64(0), q.1.0, q.1.1, p.f64(1), q.1.2, q.1.3, 0, p.f64(2), q.0.3)
            }
        case .bool, .int32: noKernel("matmul", type)
        }
    }

    /// Element offsets of each matrix of a tensor with batch shape `own`, read as broadcast to `batch`.
    private static func batchOffsets(_ own: [Int], matrix: Int, to batch: [Int]) -> [Int] {
        Shape.broadcastOffsets(own, to: batch).map { $0 * matrix }
    }

    // MARK: Data movement

    /// A contiguous copy of the strided view (`shape`, `strides`, starting `offset` elements into `x`).
    static func gatherStrided(_ x: AnyTensor, shape: [Int], strides: [Int], offset: Int = 0) -> AnyTensor {
        let y = AnyTensor(uninitialized: x.scalarType, shape: shape)
        if y.count == 0 { return y }
        launch("strided copy", x.storage, y.storage, (x.scalarType.byteCount, shape, strides, offset)) { p, q in
            withInt64(q.1) { sh in withInt64(q.2) { st in
                ag_copy_strided(Int64(q.0), Int32(q.1.count), sh, p[0] + q.3 * q.0, st, p[1])
            } }
        }
        return y
    }

    /// Writes `x` (contiguous, shape `shape`) into the strided view of `y` (which must be uniquely owned).
    static func scatterStrided(_ x: AnyTensor, into y: AnyTensor, shape: [Int], strides: [Int], offset: Int) {
        if x.count == 0 { return }
        launch("strided write", x.storage, y.storage, (x.scalarType.byteCount, shape, strides, offset)) { p, q in
            withInt64(q.1) { sh in withInt64(q.2) { st in
                ag_copy_into_strided(Int64(q.0), Int32(q.1.count), sh, p[0], p[1] + q.3 * q.0, st)
            } }
        }
    }

    /// `shape`, if given, is the result's shape (`permutation` applied to x's), passed by a caller that has it so
    /// that it is not built again.
    /// Whether permuting axes of `shape` leaves the elements in row-major order: only axes of length 1 move.
    static func permutationKeepsOrder(_ shape: [Int], _ permutation: [Int]) -> Bool {
        var previous = -1
        for p in permutation where shape[p] != 1 {
            if p < previous { return false }
            previous = p
        }
        return true
    }

    static func permute(_ x: AnyTensor, _ permutation: [Int], shape: [Int]? = nil) -> AnyTensor {
        // Moving only axes of length 1 (a [1, n] matrix transposed, say) keeps every element where it is: share the
        // buffer under the new shape, as a reshape does, instead of copying.
        if permutationKeepsOrder(x.shape, permutation) { return AnyTensor(storage: x.storage, shape: shape ?? permutation.map { x.shape[$0] }) }
        let strides = Shape.strides(x.shape)
        return gatherStrided(x, shape: shape ?? permutation.map { x.shape[$0] },
                             strides: permutation.map { strides[$0] })
    }

    static func expand(_ x: AnyTensor, to shape: [Int]) -> AnyTensor {
        if x.shape == shape { return x.value }
        return gatherStrided(x, shape: shape, strides: Shape.broadcastStrides(x.shape, to: shape))
    }

    /// y[o, j, i] = x[o, indices[j], i] along `axis`.
    static func gather(_ x: AnyTensor, axis: Int, indices: [Int]) -> AnyTensor {
        var shape = x.shape
        let n = shape[axis]
        shape[axis] = indices.count
        let y = AnyTensor(uninitialized: x.scalarType, shape: shape)
        let outer = Shape.count(Array(x.shape[..<axis])), inner = Shape.count(Array(x.shape[(axis + 1)...]))
        let sizes = (Int64(x.scalarType.byteCount), Int64(outer), Int64(n), Int64(inner))
        launch("gather", x.storage, y.storage, (sizes, indices)) { p, q in
            withInt64(q.1) { idx in ag_gather(q.0.0, q.0.1, q.0.2, q.0.3, p[0], idx, Int64(q.1.count), p[1]) }
        }
        return y
    }

    /// The transpose of `gather`: zeros of size `n` along `axis`, with x's slices added at `indices`.
    static func scatterAdd(_ x: AnyTensor, axis: Int, indices: [Int], size n: Int) -> AnyTensor {
        var shape = x.shape
        shape[axis] = n
        let y = filled(x.scalarType, shape, 0)
        let outer = Shape.count(Array(x.shape[..<axis])), inner = Shape.count(Array(x.shape[(axis + 1)...]))
        let sizes = (Int64(outer), Int64(n), Int64(inner))
        switch x.scalarType {
        case .float32:
            launch("scatter-add", x.storage, y.storage, (sizes, indices)) { p, q in
                withInt64(q.1) { ag_scatter_add_f32(q.0.0, q.0.1, q.0.2, p.f32(0), $0, Int64(q.1.count), p.f32(1)) }
            }
        case .float64:
            launch("scatter-add", x.storage, y.storage, (sizes, indices)) { p, q in
                withInt64(q.1) { ag_scatter_add_f64(q.0.0, q.0.1, q.0.2, p.f64(0), $0, Int64(q.1.count), p.f64(1)) }
            }
        case .bool, .int32: noKernel("scatter-add", x.scalarType)
        }
        return y
    }

    /// Joins tensors along `axis` (all other dimensions equal, checked by the caller).
    static func concatenate(_ xs: [AnyTensor], axis: Int) -> AnyTensor {
        var shape = xs[0].shape
        shape[axis] = xs.reduce(0) { $0 + $1.shape[axis] }
        let y = AnyTensor(uninitialized: xs[0].scalarType, shape: shape)
        let es = y.scalarType.byteCount
        let outer = Shape.count(Array(shape[..<axis])), inner = Shape.count(Array(shape[(axis + 1)...]))
        let rowOut = shape[axis] * inner * es
        let rowsIn = xs.map { $0.shape[axis] * inner * es }
        launch("concatenate", xs.map(\.storage) + [y.storage], (outer, rowOut, rowsIn)) { p, q in
            let (outer, rowOut, rowsIn) = q
            var column = 0
            for (k, rowIn) in rowsIn.enumerated() {
                if rowIn > 0 {
                    for o in 0..<outer { (p[rowsIn.count] + o * rowOut + column).copyMemory(from: p[k] + o * rowIn, byteCount: rowIn) }
                }
                column += rowIn
            }
        }
        return y
    }

    static func binaryCrossEntropy(_ p: AnyTensor, _ t: AnyTensor) -> AnyTensor {
        let y = AnyTensor(uninitialized: p.scalarType, shape: p.shape)
        switch p.scalarType {
        case .float32:
            launch("binary cross-entropy", p.storage, t.storage, y.storage, Int64(p.count)) {
                ag_bce_f32($1, $0.f32(0), $0.f32(1), $0.f32(2))
            }
        case .float64:
            launch("binary cross-entropy", p.storage, t.storage, y.storage, Int64(p.count)) {
                ag_bce_f64($1, $0.f64(0), $0.f64(1), $0.f64(2))
            }
        case .bool, .int32: noKernel("binary cross-entropy", p.scalarType)
        }
        return y
    }

    /// Σ a·b over all elements, accumulated in Double.
    static func dot(_ a: AnyTensor, _ b: AnyTensor) -> Double {
        Trace.valueRead(a.storage, "a dot product read as a Swift number")
        Trace.valueRead(b.storage, "a dot product read as a Swift number")
        switch a.scalarType {
        case .float32: return ag_dot_f32(Int64(a.count), a.storage.floats(), b.storage.floats())
        case .float64: return ag_dot_f64(Int64(a.count), a.storage.doubles(), b.storage.doubles())
        case .bool, .int32: noKernel("dot", a.scalarType)
        }
    }
}

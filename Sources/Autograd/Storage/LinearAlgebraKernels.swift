import CAutogradKernels
import Foundation

// Factorization kernels: Cholesky, LU with partial pivoting, and the substitutions that use them, in plain Swift
// loops over each [n, n] matrix of a batch (row-major, inner loops along rows so that they run over contiguous
// memory). No derivative state is read or written here; `Primitives/LinearAlgebra.swift` calls these and records.
//
// Every kernel checks what it divides by: a matrix that is not positive definite (Cholesky), singular (LU, a
// triangular solve) or holds a NaN or infinity stops with a message naming the operation, the tensor's shape, the
// matrix of the batch and the pivot, rather than passing NaN on.

extension Kernel {
    /// The structure a linear solve assumes of its matrix.
    enum SolveStructure: Sendable, Equatable {
        /// Any square matrix: solved through LU with partial pivoting.
        case general
        /// Triangular: only the lower (or upper) triangle is read; with `unitDiagonal`, the diagonal is taken as
        /// ones and not read either.
        case triangular(lower: Bool, unitDiagonal: Bool)
    }

    /// For two operands of shapes `batchA + [..]` and `batchB + [..]` whose batch dimensions broadcast: the broadcast
    /// batch shape and, for each matrix of the result (row-major), the index of the matrix of each operand it reads.
    static func pairedBatches(_ batchA: [Int], _ batchB: [Int], _ name: String, at location: CallSite?)
        -> (batch: [Int], a: [Int], b: [Int]) {
        let batch = Shape.broadcast(batchA, batchB, name + " (batch dimensions)", at: location)
        let count = Shape.count(batch)
        if batchA == batchB { return (batch, Array(0..<count), Array(0..<count)) }
        let sa = Shape.broadcastStrides(batchA, to: batch), sb = Shape.broadcastStrides(batchB, to: batch)
        var ia = [Int](repeating: 0, count: count), ib = [Int](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: batch.count)
        for m in 0..<count {
            for d in batch.indices {
                ia[m] += index[d] * sa[d]
                ib[m] += index[d] * sb[d]
            }
            var d = batch.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < batch[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return (batch, ia, ib)
    }

    /// Where matrix `m` of a batch of shape `batch` sits, for messages: "" without a batch, else
    /// " (the matrix at batch index [1, 0])".
    static func batchPosition(_ m: Int, _ batch: [Int]) -> String {
        if batch.isEmpty { return "" }
        var index = [Int](repeating: 0, count: batch.count)
        var rest = m
        for d in batch.indices.reversed() {
            index[d] = rest % Swift.max(batch[d], 1)
            rest /= Swift.max(batch[d], 1)
        }
        return " (the matrix at batch index \(describe(index)))"
    }

    /// Stops if an n×n matrix holds a NaN or an infinity, naming the first.
    static func checkFinite<T: TensorScalar>(_ a: UnsafeMutablePointer<T>, rows: Int, columns: Int, _ operation: String,
                                             _ shape: [Int], _ m: Int, _ batch: [Int], at location: CallSite?) {
        for i in 0..<(rows * columns) where !a[i].isFinite {
            operationFailure(operation, "the input of shape \(describe(shape)) holds \(a[i]) at row \(i / columns), "
                + "column \(i % columns)\(batchPosition(m, batch)); a factorization of it would only pass NaN on. "
                + "Find where the non-finite value was made (withAnomalyDetection names the operation).",
                at: location)
        }
    }

    // MARK: Cholesky

    /// For each [n, n] matrix S of `s`: the lower-triangular L with L·Lᵀ = (S + Sᵀ)/2 (S itself when it is
    /// symmetric). Stops, naming the pivot, if (S + Sᵀ)/2 is not positive definite. Cost n³/3 multiply-adds each.
    static func cholesky(_ s: AnyTensor, _ operation: String, at location: CallSite?) -> AnyTensor {
        let y = AnyTensor(uninitialized: s.scalarType, shape: s.shape)
        switch s.scalarType {
        case .float32:
            launch("cholesky", s.storage, y.storage, (s.shape, operation, location)) {
                cholesky($0.f32(0), $0.f32(1), $1.0, $1.1, $1.2)
            }
        case .float64:
            launch("cholesky", s.storage, y.storage, (s.shape, operation, location)) {
                cholesky($0.f64(0), $0.f64(1), $1.0, $1.1, $1.2)
            }
        case .bool, .int32: Kernel.noKernel("cholesky", s.scalarType)
        }
        return y
    }

    /// Columns per block of the blocked Cholesky factorization and of blocked triangular solves: small enough that
    /// the scalar work on a diagonal block is a small part of the total, large enough that the matrix products
    /// that do the rest run near their peak.
    static let factorBlock = 32

    /// Blocked right-looking Cholesky (as LAPACK's potrf, row-major lower): for each block column of width b, the
    /// diagonal block is factored by Cholesky–Crout, the panel below it solved against that factor
    /// (P ← P·L₁₁⁻ᵀ, by substitution along contiguous rows of the transposed panel) and the trailing matrix
    /// updated, S₂₂ ← S₂₂ − P·Pᵀ, by one matrix product (`ag_gemm`). Only the lower triangle is read and kept;
    /// the strict upper triangle is zeroed at the end. n³/3 flops, nearly all in the matrix products.
    private static func cholesky<T: TensorScalar>(_ s: UnsafeMutablePointer<T>, _ l: UnsafeMutablePointer<T>,
                                                  _ shape: [Int], _ operation: String, _ location: CallSite?) {
        let n = shape[shape.count - 1]
        let batch = Array(shape.dropLast(2))
        let block = factorBlock
        let panel = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(block * n, 1))
        defer { panel.deallocate() }
        for m in 0..<Shape.count(batch) {
            let a = s + m * n * n, out = l + m * n * n
            checkFinite(a, rows: n, columns: n, operation, shape, m, batch, at: location)
            for i in 0..<n {
                for j in 0..<n { out[i * n + j] = j <= i ? (a[i * n + j] + a[j * n + i]) / 2 : 0 }
            }
            var kb = 0
            while kb < n {
                let b = Swift.min(block, n - kb), rest = n - kb - b
                if let j = factorDiagonalBlock(out + kb * n + kb, b, n) {
                    notPositiveDefinite(pivot: kb + j.pivot, value: j.value, shape, m, batch, operation, location)
                }
                if rest > 0 {
                    // The panel P (rest × b, below the diagonal block), transposed into `panel` (b × rest).
                    let p = out + (kb + b) * n + kb
                    for i in 0..<rest { for j in 0..<b { panel[j * rest + i] = p[i * n + j] } }
                    // P ← P·L₁₁⁻ᵀ: row j of Pᵀ is (Pᵀ[j] − Σ_{q<j} L₁₁[j, q]·Pᵀ[q]) / L₁₁[j, j].
                    let diagonal = out + kb * n + kb
                    for j in 0..<b {
                        let rowJ = panel + j * rest
                        for q in 0..<j {
                            let f = diagonal[j * n + q]
                            let rowQ = panel + q * rest
                            for c in 0..<rest { rowJ[c] -= f * rowQ[c] }
                        }
                        let d = diagonal[j * n + j]
                        for c in 0..<rest { rowJ[c] /= d }
                    }
                    for i in 0..<rest { for j in 0..<b { p[i * n + j] = panel[j * rest + i] } }
                    // S₂₂ ← S₂₂ − P·Pᵀ (the whole square; its upper triangle is never read).
                    gemm(rest, rest, b, alpha: -1, panel, 1, rest, panel, rest, 1, beta: 1,
                         out + (kb + b) * n + kb + b, n)
                }
                kb += b
            }
            for i in 0..<n { for j in (i + 1)..<Swift.max(n, i + 1) { out[i * n + j] = 0 } }
        }
    }

    /// Cholesky–Crout in place on the b × b lower triangle at `a` (row stride `ld`), whose earlier columns have been
    /// subtracted already: L[i, j] = (A[i, j] − Σ_{k<j} L[i, k] L[j, k]) / L[j, j], each sum a dot product of two
    /// contiguous row prefixes. Returns the first pivot that is not > 0, or nil.
    private static func factorDiagonalBlock<T: TensorScalar>(_ a: UnsafeMutablePointer<T>, _ b: Int, _ ld: Int)
        -> (pivot: Int, value: T)? {
        for j in 0..<b {
            let rowJ = a + j * ld
            var d = rowJ[j]
            for k in 0..<j { d -= rowJ[k] * rowJ[k] }
            if !(d > 0) { return (j, d) }
            let pivot = d.squareRoot()
            rowJ[j] = pivot
            for i in (j + 1)..<Swift.max(b, j + 1) {
                let rowI = a + i * ld
                var v = rowI[j]
                for k in 0..<j { v -= rowI[k] * rowJ[k] }
                rowI[j] = v / pivot
            }
        }
        return nil
    }

    private static func notPositiveDefinite<T: TensorScalar>(pivot j: Int, value d: T, _ shape: [Int], _ m: Int,
                                                             _ batch: [Int], _ operation: String,
                                                             _ location: CallSite?) -> Never {
        operationFailure(operation, "the matrix is not positive definite: pivot \(j) (row and column "
            + "\(j), counting from 0) is \(d), not > 0, in the input of shape \(describe(shape))"
            + "\(batchPosition(m, batch)). Cholesky needs a symmetric positive-definite matrix (it reads "
            + "(S + Sᵀ)/2). If S is only semidefinite or nearly singular, add a small multiple of the "
            + "identity (S + εI); for a matrix that is not symmetric positive definite use solve (LU).",
            at: location)
    }

    /// C = α·A·B + β·C through `ag_gemm`, A m × k and B k × n read through (row, column) strides, C row-major with
    /// row stride `ldc`.
    @inline(__always)
    static func gemm<T: TensorScalar>(_ m: Int, _ n: Int, _ k: Int, alpha: T, _ a: UnsafePointer<T>, _ rsa: Int,
                                      _ csa: Int, _ b: UnsafePointer<T>, _ rsb: Int, _ csb: Int, beta: T,
                                      _ c: UnsafeMutablePointer<T>, _ ldc: Int) {
        if m == 0 || n == 0 { return }
        if T.self == Float.self {
            ag_gemm_f32(Int64(m), Int64(n), Int64(k), unsafeBitCast(alpha, to: Float.self),
                        UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), Int64(rsa), Int64(csa),
                        UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), Int64(rsb), Int64(csb),
                        unsafeBitCast(beta, to: Float.self), UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self),
                        Int64(ldc))
        } else if T.self == Double.self {
            ag_gemm_f64(Int64(m), Int64(n), Int64(k), unsafeBitCast(alpha, to: Double.self),
                        UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), Int64(rsa), Int64(csa),
                        UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), Int64(rsb), Int64(csb),
                        unsafeBitCast(beta, to: Double.self),
                        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), Int64(ldc))
        } else {
            fatalError("gemm of \(T.self)")
        }
    }

    // MARK: Solves

    /// X = op(A)⁻¹ B for each matrix pair, batch dimensions broadcast: A [..., n, n], B [..., n, k], X [..., n, k];
    /// op(A) = Aᵀ when `transpose`. General matrices go through LU with partial pivoting (2n³/3 + 2n²k flops),
    /// triangular ones through substitution (n²k). Stops, naming the pivot, for a singular matrix.
    static func solve(_ a: AnyTensor, _ b: AnyTensor, _ structure: SolveStructure, transpose: Bool,
                      _ operation: String, at location: CallSite?, hint: String = "") -> AnyTensor {
        sameType(a, b, operation)
        let n = a.shape[a.rank - 1], k = b.shape[b.rank - 1]
        let (batch, ia, ib) = pairedBatches(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), operation,
                                            at: location)
        let y = AnyTensor(uninitialized: a.scalarType, shape: batch + [n, k])
        let problem = SolveProblem(n: n, k: k, structure: structure, transpose: transpose, shape: a.shape,
                                   operation: operation, hint: hint, location: location)
        switch a.scalarType {
        case .float32:
            launch("solve", a.storage, b.storage, y.storage, (problem, ia, ib)) {
                $1.0.run($0.f32(0), $0.f32(1), $0.f32(2), $1.1, $1.2)
            }
        case .float64:
            launch("solve", a.storage, b.storage, y.storage, (problem, ia, ib)) {
                $1.0.run($0.f64(0), $0.f64(1), $0.f64(2), $1.1, $1.2)
            }
        case .bool, .int32: Kernel.noKernel("solve", a.scalarType)
        }
        return y
    }

    /// The matrices' determinants (`logAbsolute` false) or the signs and logarithms of their absolute values, from
    /// LU with partial pivoting: det A = (−1)^(row swaps) · Π Uᵢᵢ. A singular matrix has determinant 0 (sign 0,
    /// log |det| = −∞). Cost 2n³/3 flops each.
    static func determinant(_ a: AnyTensor, logAbsolute: Bool, _ operation: String, at location: CallSite?)
        -> (value: AnyTensor, sign: AnyTensor) {
        let n = a.shape[a.rank - 1]
        let batch = Array(a.shape.dropLast(2))
        let value = AnyTensor(uninitialized: a.scalarType, shape: batch)
        let sign = AnyTensor(uninitialized: a.scalarType, shape: batch)
        let q = DeterminantProblem(n: n, batch: batch, shape: a.shape, logAbsolute: logAbsolute, operation: operation,
                                   location: location)
        switch a.scalarType {
        case .float32:
            launch("determinant", a.storage, value.storage, sign.storage, writes: 2, q) {
                determinant($0.f32(0), $0.f32(1), $0.f32(2), $1)
            }
        case .float64:
            launch("determinant", a.storage, value.storage, sign.storage, writes: 2, q) {
                determinant($0.f64(0), $0.f64(1), $0.f64(2), $1)
            }
        case .bool, .int32: Kernel.noKernel("determinant", a.scalarType)
        }
        return (value, sign)
    }

    /// The parameters of one batched determinant.
    struct DeterminantProblem {
        let n: Int, batch: [Int], shape: [Int], logAbsolute: Bool, operation: String, location: CallSite?
    }

    /// The loop of `determinant`: x the matrices, v the values, s the signs.
    private static func determinant<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, _ v: UnsafeMutablePointer<T>,
                                                     _ s: UnsafeMutablePointer<T>, _ q: DeterminantProblem) {
        let (n, batch, logAbsolute, operation, location) = (q.n, q.batch, q.logAbsolute, q.operation, q.location)
        let lu = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(n * n, 1))
        defer { lu.deallocate() }
        var pivots = [Int](repeating: 0, count: n)
        for m in 0..<Shape.count(batch) {
            checkFinite(x + m * n * n, rows: n, columns: n, operation, q.shape, m, batch, at: location)
            lu.update(from: x + m * n * n, count: n * n)
            let singular = luFactor(lu, n, &pivots) != nil
            var negative = pivots.enumerated().reduce(false) { $0 != ($1.element != $1.offset) }
            var logAbs = 0.0, product = 1.0
            for i in 0..<n {
                let u = Double(lu[i * n + i])
                if u < 0 { negative.toggle() }
                logAbs += Foundation.log(Swift.abs(u))
                product *= u
            }
            s[m] = singular ? 0 : negative ? -1 : 1
            v[m] = logAbsolute ? T(singular ? -Double.infinity : logAbs) : T(singular ? 0 : product)
        }
    }

    /// LU factorization with partial pivoting of the n×n row-major matrix `a`, in place: P·A = L·U with L unit
    /// lower triangular (below the diagonal) and U upper (on and above it); `pivots[j]` is the row swapped with row
    /// j at step j. Returns the first column whose pivot is zero (the matrix is singular), or nil. Right-looking,
    /// with the update along contiguous rows; 2n³/3 flops.
    static func luFactor<T: TensorScalar>(_ a: UnsafeMutablePointer<T>, _ n: Int, _ pivots: inout [Int]) -> Int? {
        var zeroPivot: Int?
        for j in 0..<n {
            var p = j
            var largest = Swift.abs(a[j * n + j])
            for i in (j + 1)..<Swift.max(n, j + 1) where Swift.abs(a[i * n + j]) > largest {
                largest = Swift.abs(a[i * n + j])
                p = i
            }
            pivots[j] = p
            if p != j {
                for c in 0..<n { (a[j * n + c], a[p * n + c]) = (a[p * n + c], a[j * n + c]) }
            }
            let pivot = a[j * n + j]
            if pivot == 0 {
                if zeroPivot == nil { zeroPivot = j }
                continue
            }
            let rowJ = a + j * n
            for i in (j + 1)..<Swift.max(n, j + 1) {
                let rowI = a + i * n
                let factor = rowI[j] / pivot
                rowI[j] = factor
                if factor == 0 { continue }
                for c in (j + 1)..<n { rowI[c] -= factor * rowJ[c] }
            }
        }
        return zeroPivot
    }
}

/// One batched solve's parameters, shared by the Float and Double paths.
private struct SolveProblem {
    let n: Int, k: Int
    let structure: Kernel.SolveStructure
    let transpose: Bool
    /// A's shape.
    let shape: [Int]
    var batch: [Int] { Array(shape.dropLast(2)) }
    let operation: String, hint: String
    let location: CallSite?

    func run<T: TensorScalar>(_ a: UnsafeMutablePointer<T>, _ b: UnsafeMutablePointer<T>, _ x: UnsafeMutablePointer<T>,
                              _ ia: [Int], _ ib: [Int]) {
        let work = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(n * n, 1))
        defer { work.deallocate() }
        var pivots = [Int](repeating: 0, count: n)
        for m in ia.indices {
            let am = a + ia[m] * n * n, xm = x + m * n * k
            xm.update(from: b + ib[m] * n * k, count: n * k)
            switch structure {
            case .general:
                Kernel.checkFinite(am, rows: n, columns: n, operation, shape, ia[m], batch, at: location)
                // Factor op(A) itself: copy it transposed when asked.
                if transpose {
                    for i in 0..<n { for j in 0..<n { work[i * n + j] = am[j * n + i] } }
                } else {
                    work.update(from: am, count: n * n)
                }
                if let j = Kernel.luFactor(work, n, &pivots) { singular(pivot: j, ia[m]) }
                for j in 0..<n where pivots[j] != j {
                    for c in 0..<k { (xm[j * k + c], xm[pivots[j] * k + c]) = (xm[pivots[j] * k + c], xm[j * k + c]) }
                }
                substitute(work, xm, lower: true, transpose: false, unit: true)
                substitute(work, xm, lower: false, transpose: false, unit: false)
            case let .triangular(lower, unit):
                if !unit {
                    for i in 0..<n where !(am[i * n + i] != 0) { singular(pivot: i, ia[m], triangular: true) }
                }
                substitute(am, xm, lower: lower, transpose: transpose, unit: unit)
            }
        }
    }

    /// x ← op(T)⁻¹ x for the triangle of `t` (row-major n×n) that `lower` names; x is [n, k]. Forward substitution
    /// when op(T) is lower triangular, back substitution when upper, by blocks of rows (as LAPACK's trsm): each
    /// diagonal block is solved by substitution along contiguous rows of x, then the rows not yet solved are
    /// updated by one matrix product with the block just solved (`ag_gemm`), which does nearly all of the n²k
    /// flops when n is larger than a block.
    private func substitute<T: TensorScalar>(_ t: UnsafeMutablePointer<T>, _ x: UnsafeMutablePointer<T>,
                                             lower: Bool, transpose: Bool, unit: Bool) {
        // op(T)[i, j] = t[i·rs + j·cs].
        let rs = transpose ? 1 : n, cs = transpose ? n : 1
        let forward = lower != transpose
        let block = Kernel.factorBlock
        var blocks = Array(stride(from: 0, to: n, by: block))
        if !forward { blocks.reverse() }
        for start in blocks {
            let b = Swift.min(block, n - start)
            for step in 0..<b {
                let i = start + (forward ? step : b - 1 - step)
                let rowI = x + i * k
                let others = forward ? start..<i : (i + 1)..<(start + b)
                for j in others {
                    let f = t[i * rs + j * cs]
                    if f == 0 { continue }
                    let rowJ = x + j * k
                    for c in 0..<k { rowI[c] -= f * rowJ[c] }
                }
                if !unit {
                    let d = t[i * rs + i * cs]
                    for c in 0..<k { rowI[c] /= d }
                }
            }
            // The other unsolved rows: x[r] −= op(T)[r, block]·x[block].
            let (first, count) = forward ? (start + b, n - start - b) : (0, start)
            Kernel.gemm(count, k, b, alpha: -1, t + first * rs + start * cs, rs, cs, x + start * k, k, 1, beta: 1,
                        x + first * k, k)
        }
    }

    private func singular(pivot j: Int, _ m: Int, triangular: Bool = false) -> Never {
        let found = triangular ? "its diagonal entry \(j) (counting from 0) is 0"
            : "LU with partial pivoting found no nonzero pivot in column \(j) (counting from 0)"
        operationFailure(operation, "the matrix is singular: \(found), in the input of shape \(describe(shape))"
            + "\(Kernel.batchPosition(m, batch)). \(hint.isEmpty ? "" : hint + " ")A singular system has no unique "
            + "solution; if the matrix is singular only by rounding, regularize it (A + εI), or check how it was "
            + "built.", at: location)
    }
}

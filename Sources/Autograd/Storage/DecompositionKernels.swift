import Foundation

// Decomposition kernels: the symmetric eigendecomposition (cyclic Jacobi), the singular value decomposition
// (one-sided Jacobi) and the QR factorization (Householder), in plain Swift loops over each matrix of a batch. Each
// matrix is copied into Double work arrays and computed there, whatever the tensor's element type, so a Float result
// is the Double result rounded once. Jacobi methods are chosen for accuracy: every rotation is orthogonal to working
// precision and the eigenvalues and singular values they find are accurate even for tiny ones, at a cost of a few
// sweeps of O(n³) each, which suits matrices up to a few hundred rows.
//
// The results are packed into one tensor per call (the primitives in `Primitives/Decompositions.swift` record one
// output and the public functions slice it):
//     eigh  [..., n, n]  →  [..., n + 1, n]      row 0 the eigenvalues, rows 1...n the eigenvectors (as columns)
//     svd   [..., m, n]  →  [..., 1 + m + n, k]  row 0 σ, rows 1...m U, rows m + 1...m + n V (k = min(m, n))
//     qr    [..., m, n]  →  [..., m + n, n]      rows 0..<m Q, rows m..<m + n R (m ≥ n)
//
// Sign conventions, so that results are reproducible and smooth where the decomposition is: each eigenvector, and
// each column of U (with the matching column of V), has its largest-magnitude component positive (on a tie, to
// within a relative 10⁻¹², the first of them); R has a non-negative diagonal.
//
// No derivative state is read or written here. A NaN or infinity in the input stops with a message naming the
// operation, the shape and the element.

extension Kernel {
    /// For each [n, n] matrix A of `a`: the eigenvalues of sym(A) = (A + Aᵀ)/2 in ascending order and its
    /// orthonormal eigenvectors, packed as [..., n + 1, n] (see the top of this file). Cyclic Jacobi in Double.
    static func eigh(_ a: AnyTensor, _ operation: String, at location: CallSite?) -> AnyTensor {
        let n = a.shape[a.rank - 1]
        let batch = Array(a.shape.dropLast(2))
        let y = AnyTensor(uninitialized: a.scalarType, shape: batch + [n + 1, n])
        switch a.scalarType {
        case .float32:
            launch("eigh", a.storage, y.storage, (n, batch, a.shape, operation, location)) { eighLoop($0.f32(0), $0.f32(1), $1) }
        case .float64:
            launch("eigh", a.storage, y.storage, (n, batch, a.shape, operation, location)) { eighLoop($0.f64(0), $0.f64(1), $1) }
        case .bool, .int32: Kernel.noKernel("eigh", a.scalarType)
        }
        return y
    }

    /// Cyclic Jacobi on the symmetric n×n row-major `a` (overwritten: its diagonal ends holding the eigenvalues);
    /// `v` receives the eigenvectors as columns. Each rotation zeroes one off-diagonal pair; an entry is dropped
    /// (set to zero without a rotation) once it is below ε·√|aₚₚ aqq| or ε·‖A‖_F / n, which changes A by at most
    /// about ε·‖A‖_F in all. Sweeps until one rotates nothing (quadratic convergence: typically 7 to 10 sweeps of
    /// about 9n³ flops).
    static func jacobiEigen(_ a: inout [Double], _ v: inout [Double], _ n: Int) {
        for i in 0..<(n * n) { v[i] = i / n == i % n ? 1 : 0 }
        let frobenius = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let small = Double.ulpOfOne * frobenius / Double(Swift.max(n, 1))
        a.withUnsafeMutableBufferPointer { a in
            v.withUnsafeMutableBufferPointer { v in
                for _ in 0..<100 {
                    var rotated = false
                    for p in 0..<Swift.max(n - 1, 0) {
                        for q in (p + 1)..<n {
                            let apq = a[p * n + q]
                            if apq == 0 { continue }
                            let app = a[p * n + p], aqq = a[q * n + q]
                            let relative = Double.ulpOfOne * (Swift.abs(app) * Swift.abs(aqq)).squareRoot()
                            if Swift.abs(apq) <= small || Swift.abs(apq) <= relative {
                                a[p * n + q] = 0
                                a[q * n + p] = 0
                                continue
                            }
                            rotated = true
                            // The rotation J (Jₚₚ = Jqq = c, Jₚq = s, Jqp = −s) with (JᵀAJ)ₚq = 0: t = tan θ is the
                            // smaller root of t² + 2ζt − 1 = 0, ζ = (aqq − aₚₚ)/(2aₚq).
                            let zeta = (aqq - app) / (2 * apq)
                            let t = Swift.abs(zeta) > 1e150 ? 1 / (2 * zeta)
                                : (zeta >= 0 ? 1 : -1) / (Swift.abs(zeta) + (1 + zeta * zeta).squareRoot())
                            let c = 1 / (1 + t * t).squareRoot(), s = t * c
                            for k in 0..<n {
                                let akp = a[k * n + p], akq = a[k * n + q]
                                a[k * n + p] = c * akp - s * akq
                                a[k * n + q] = s * akp + c * akq
                            }
                            for k in 0..<n {
                                let apk = a[p * n + k], aqk = a[q * n + k]
                                a[p * n + k] = c * apk - s * aqk
                                a[q * n + k] = s * apk + c * aqk
                            }
                            a[p * n + q] = 0
                            a[q * n + p] = 0
                            for k in 0..<n {
                                let vkp = v[k * n + p], vkq = v[k * n + q]
                                v[k * n + p] = c * vkp - s * vkq
                                v[k * n + q] = s * vkp + c * vkq
                            }
                        }
                    }
                    if !rotated { break }
                }
            }
        }
    }

    /// +1 or −1: the sign that makes the largest-magnitude of `count` components positive; on a tie (magnitudes
    /// equal to within a relative 10⁻¹², so that rounding does not decide), the first of them.
    static func largestComponentSign(_ count: Int, _ component: (Int) -> Double) -> Double {
        let largest = (0..<count).reduce(0.0) { Swift.max($0, Swift.abs(component($1))) }
        guard let first = (0..<count).first(where: { Swift.abs(component($0)) >= largest * (1 - 1e-12) }) else {
            return 1
        }
        return component(first) < 0 ? -1 : 1
    }

    // MARK: Singular value decomposition

    /// For each [m, n] matrix A of `a`: the reduced SVD A = U·diag(σ)·Vᵀ with σ descending, U [m, k] and V [n, k]
    /// orthonormal columns (k = min(m, n)), packed as [..., 1 + m + n, k] (see the top of this file). One-sided
    /// Jacobi in Double on the columns of A (of Aᵀ when m < n). Where σⱼ = 0, the column of U is completed to an
    /// orthonormal set (Gram–Schmidt on the unit vectors).
    static func svd(_ a: AnyTensor, _ operation: String, at location: CallSite?) -> AnyTensor {
        let m = a.shape[a.rank - 2], n = a.shape[a.rank - 1], k = Swift.min(m, n)
        let batch = Array(a.shape.dropLast(2))
        let y = AnyTensor(uninitialized: a.scalarType, shape: batch + [1 + m + n, k])
        switch a.scalarType {
        case .float32:
            launch("svd", a.storage, y.storage, (m, n, k, batch, a.shape, operation, location)) { svdLoop($0.f32(0), $0.f32(1), $1) }
        case .float64:
            launch("svd", a.storage, y.storage, (m, n, k, batch, a.shape, operation, location)) { svdLoop($0.f64(0), $0.f64(1), $1) }
        case .bool, .int32: Kernel.noKernel("svd", a.scalarType)
        }
        return y
    }

    /// One-sided (Hestenes) Jacobi: rotates the `count` rows of `w` (each of `length`) until every pair is
    /// orthogonal to working precision (|wₚ·wq| ≤ ε‖wₚ‖‖wq‖), accumulating the rotations in `right` (count×count,
    /// row j holding the j-th right singular vector). Returns the rows' norms (the singular values, unsorted).
    static func oneSidedJacobi(_ w: inout [Double], _ right: inout [Double], count: Int, length: Int) -> [Double] {
        for i in 0..<(count * count) { right[i] = i / count == i % count ? 1 : 0 }
        w.withUnsafeMutableBufferPointer { w in
            right.withUnsafeMutableBufferPointer { r in
                func dot(_ p: Int, _ q: Int) -> Double {
                    var s = 0.0
                    for i in 0..<length { s += w[p * length + i] * w[q * length + i] }
                    return s
                }
                func rotate(_ x: UnsafeMutableBufferPointer<Double>, _ p: Int, _ q: Int, _ len: Int, _ c: Double,
                            _ s: Double) {
                    for i in 0..<len {
                        let xp = x[p * len + i], xq = x[q * len + i]
                        x[p * len + i] = c * xp - s * xq
                        x[q * len + i] = s * xp + c * xq
                    }
                }
                for _ in 0..<100 {
                    var rotated = false
                    for p in 0..<Swift.max(count - 1, 0) {
                        for q in (p + 1)..<count {
                            let gamma = dot(p, q)
                            if gamma == 0 { continue }
                            let alpha = dot(p, p), beta = dot(q, q)
                            if Swift.abs(gamma) <= Double.ulpOfOne * alpha.squareRoot() * beta.squareRoot() { continue }
                            rotated = true
                            // The same rotation as for eigh, on the 2×2 Gram matrix [[α, γ], [γ, β]].
                            let zeta = (beta - alpha) / (2 * gamma)
                            let t = Swift.abs(zeta) > 1e150 ? 1 / (2 * zeta)
                                : (zeta >= 0 ? 1 : -1) / (Swift.abs(zeta) + (1 + zeta * zeta).squareRoot())
                            let c = 1 / (1 + t * t).squareRoot(), s = t * c
                            rotate(w, p, q, length, c, s)
                            rotate(r, p, q, count, c, s)
                        }
                    }
                    if !rotated { break }
                }
            }
        }
        return (0..<count).map { j in
            let row = w[(j * length)..<((j + 1) * length)]
            let scale = row.reduce(0) { Swift.max($0, Swift.abs($1)) }
            return scale == 0 ? 0 : scale * row.reduce(0) { $0 + ($1 / scale) * ($1 / scale) }.squareRoot()
        }
    }

    /// A unit vector of `length` orthogonal to the orthonormal `vectors`: the first unit vector eᵢ whose part
    /// orthogonal to them (Gram–Schmidt, done twice) has norm above 1/2, normalized.
    static func orthonormalCompletion(_ vectors: [[Double]], _ length: Int) -> [Double] {
        for i in 0..<length {
            var x = [Double](repeating: 0, count: length)
            x[i] = 1
            for _ in 0..<2 {
                for u in vectors {
                    var d = 0.0
                    for j in 0..<length { d += u[j] * x[j] }
                    for j in 0..<length { x[j] -= d * u[j] }
                }
            }
            let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0.5 { return x.map { $0 / norm } }
        }
        return [Double](repeating: 0, count: length)
    }

    // MARK: QR

    /// For each [m, n] matrix A of `a` with m ≥ n: the reduced QR factorization A = Q·R, Q [m, n] with orthonormal
    /// columns and R [n, n] upper triangular with a non-negative diagonal, packed as [..., m + n, n]. Householder
    /// reflections in Double (2mn² − 2n³/3 flops for R, as many again for Q). A zero column leaves a zero on R's
    /// diagonal (and Q's column is still orthonormal).
    static func qr(_ a: AnyTensor, _ operation: String, at location: CallSite?) -> AnyTensor {
        let m = a.shape[a.rank - 2], n = a.shape[a.rank - 1]
        precondition(m >= n, "qr kernel: m < n is handled by the caller")
        let batch = Array(a.shape.dropLast(2))
        let y = AnyTensor(uninitialized: a.scalarType, shape: batch + [m + n, n])
        switch a.scalarType {
        case .float32:
            launch("qr", a.storage, y.storage, (m, n, batch, a.shape, operation, location)) { qrLoop($0.f32(0), $0.f32(1), $1) }
        case .float64:
            launch("qr", a.storage, y.storage, (m, n, batch, a.shape, operation, location)) { qrLoop($0.f64(0), $0.f64(1), $1) }
        case .bool, .int32: Kernel.noKernel("qr", a.scalarType)
        }
        return y
    }

    /// x ← (I − β v vᵀ)·x on rows `rowsFrom...` and columns `columnsFrom..<columns` of the row-major `x`
    /// (`v` indexed from row `rowsFrom`): w = vᵀx row by row, then x −= β v wᵀ, both along contiguous rows.
    private static func applyReflector(_ v: [Double], _ beta: Double, to x: inout [Double], rowsFrom: Int,
                                       columnsFrom: Int, columns: Int, work w: inout [Double]) {
        for c in columnsFrom..<columns { w[c] = 0 }
        for (i, vi) in v.enumerated() where vi != 0 {
            let row = (rowsFrom + i) * columns
            for c in columnsFrom..<columns { w[c] += vi * x[row + c] }
        }
        for (i, vi) in v.enumerated() where vi != 0 {
            let row = (rowsFrom + i) * columns, f = beta * vi
            for c in columnsFrom..<columns { x[row + c] -= f * w[c] }
        }
    }

    /// The loop of `eigh`: q = (n, batch, shape, operation, location).
    private static func eighLoop<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>,
                                                 _ q: (Int, [Int], [Int], String, CallSite?)) {
        let (n, batch, shape, operation, location) = q
        var work = [Double](repeating: 0, count: n * n), vectors = work
        for m in 0..<Shape.count(batch) {
            let xm = x + m * n * n
            checkFinite(xm, rows: n, columns: n, operation, shape, m, batch, at: location)
            for i in 0..<n {
                for j in 0..<n { work[i * n + j] = (xm[i * n + j].doubleValue + xm[j * n + i].doubleValue) / 2 }
            }
            jacobiEigen(&work, &vectors, n)
            let values = (0..<n).map { work[$0 * n + $0] }
            let order = (0..<n).sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
            let ym = out + m * (n + 1) * n
            for (c, j) in order.enumerated() {
                ym[c] = T(values[j])
                let sign = largestComponentSign(n) { vectors[$0 * n + j] }
                for i in 0..<n { ym[(i + 1) * n + c] = T(sign * vectors[i * n + j]) }
            }
        }
    }

    /// The loop of `svd`: q = (m, n, k, batch, shape, operation, location).
    private static func svdLoop<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>,
                                                 _ q: (Int, Int, Int, [Int], [Int], String, CallSite?)) {
        let (m, n, k, batch, shape, operation, location) = q
        let long = Swift.max(m, n)
        // The k vectors to orthogonalize, each of length `long`, as rows: A's columns (m ≥ n) or rows (m < n).
        var w = [Double](repeating: 0, count: k * long)
        var right = [Double](repeating: 0, count: k * k)
        for b in 0..<Shape.count(batch) {
            let xb = x + b * m * n
            checkFinite(xb, rows: m, columns: n, operation, shape, b, batch, at: location)
            for i in 0..<m {
                for j in 0..<n {
                    if m >= n { w[j * long + i] = xb[i * n + j].doubleValue } else {
                        w[i * long + j] = xb[i * n + j].doubleValue
                    }
                }
            }
            let sigma = oneSidedJacobi(&w, &right, count: k, length: long)
            let order = (0..<k).sorted { sigma[$0] > sigma[$1] || (sigma[$0] == sigma[$1] && $0 < $1) }
            // The left vectors: orthonormal completion where σ = 0.
            var left = [[Double]]()
            for j in order {
                if sigma[j] > 0 {
                    left.append((0..<long).map { w[j * long + $0] / sigma[j] })
                } else {
                    left.append(orthonormalCompletion(left, long))
                }
            }
            let yb = out + b * (1 + m + n) * k
            for (c, j) in order.enumerated() {
                yb[c] = T(sigma[j])
                // U's column c and V's column c: left[c] and right row j, or the other way round when m < n.
                func u(_ i: Int) -> Double { m >= n ? left[c][i] : right[j * k + i] }
                func v(_ i: Int) -> Double { m >= n ? right[j * k + i] : left[c][i] }
                let sign = largestComponentSign(m, u)
                for i in 0..<m { yb[(1 + i) * k + c] = T(sign * u(i)) }
                for i in 0..<n { yb[(1 + m + i) * k + c] = T(sign * v(i)) }
            }
        }
    }

    /// The loop of `qr`: p = (m, n, batch, shape, operation, location).
    private static func qrLoop<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>,
                                                 _ p: (Int, Int, [Int], [Int], String, CallSite?)) {
        let (m, n, batch, shape, operation, location) = p
        var r = [Double](repeating: 0, count: m * n), q = r
        var reflectors = [[Double]](repeating: [], count: n), betas = [Double](repeating: 0, count: n)
        var w = [Double](repeating: 0, count: n)
        for b in 0..<Shape.count(batch) {
            let xb = x + b * m * n
            checkFinite(xb, rows: m, columns: n, operation, shape, b, batch, at: location)
            for i in 0..<(m * n) { r[i] = xb[i].doubleValue }
            // H_j = I − β v vᵀ sends column j's part from row j down to α e₁, α = −sign(x₀)‖x‖ (no cancellation).
            for j in 0..<n {
                let scale = (j..<m).reduce(0.0) { Swift.max($0, Swift.abs(r[$1 * n + j])) }
                if scale == 0 {
                    reflectors[j] = []
                    betas[j] = 0
                    continue
                }
                let norm = scale * (j..<m).reduce(0.0) { $0 + (r[$1 * n + j] / scale) * (r[$1 * n + j] / scale) }
                    .squareRoot()
                let x0 = r[j * n + j]
                let alpha = x0 >= 0 ? -norm : norm
                var v = (j..<m).map { r[$0 * n + j] }
                v[0] = x0 - alpha
                let vv = v.reduce(0) { $0 + $1 * $1 }
                let beta = 2 / vv
                reflectors[j] = v
                betas[j] = beta
                applyReflector(v, beta, to: &r, rowsFrom: j, columnsFrom: j, columns: n, work: &w)
                r[j * n + j] = alpha
                for i in (j + 1)..<m { r[i * n + j] = 0 }
            }
            // Q = H₀·H₁·…·H_{n−1} applied to the first n columns of the identity, last reflector first (H_j
            // leaves the columns before j alone: they are still zero from row j down).
            for i in 0..<(m * n) { q[i] = i / n == i % n ? 1 : 0 }
            for j in stride(from: n - 1, through: 0, by: -1) where betas[j] != 0 {
                applyReflector(reflectors[j], betas[j], to: &q, rowsFrom: j, columnsFrom: j, columns: n, work: &w)
            }
            let yb = out + b * (m + n) * n
            for j in 0..<n {
                let sign: Double = r[j * n + j] < 0 ? -1 : 1
                for i in 0..<m { yb[i * n + j] = T(sign * q[i * n + j]) }
                for c in 0..<n { yb[(m + j) * n + c] = T(c < j ? 0 : sign * r[j * n + c]) }
            }
        }
    }
}

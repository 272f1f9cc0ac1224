import Autograd
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - sparse-jacobian

/// The 2-D Bratu residual on an n × n grid (λ = 6, zero boundary), u: [n²] filled with 0.1·N(501); one call is the
/// full Jacobian J = ∂F/∂u, n² × n², as a sparse matrix from a prepared plan (pattern detected and coloured once,
/// outside the call, as the peers' hand-coloured reference prepares its colouring and CSR pattern).
///
/// Checked against the formula J[k, k] = 4(n + 1)² − λ·exp(u_k), J[k, l] = −(n + 1)² for each grid neighbour l,
/// entry by entry, with the pattern equal to the 5-point stencil's; for n = 100 also against the listed values of
/// the workload definitions (inputs' sum and first elements, Σ F, Σ J, Σ of the diagonal, ‖J‖_F).
struct BratuJacobianProblem {
    let n: Int
    let lambda = 6.0
    let u: Tensor<Float>
    let plan: SparseJacobianPlan

    init(_ sizes: BenchSizes) throws {
        let n = sizes.sparseGridSize
        self.n = n
        u = PortableInputs.tensor([n * n], seed: 501, scale: 0.1)
        plan = try prepareSparseJacobian(of: Self.residual(gridSize: n, lambda: lambda), at: u)
    }

    /// F(u) for the flat grid u: [n²], as a user writes it: reshape to the grid, the residual, flatten.
    static func residual(gridSize n: Int, lambda: Double) -> (Tensor<Float>) -> Tensor<Float> {
        { u in BratuResults.residual(u.reshaped(to: [n, n]), lambda: lambda).flattened() }
    }

    /// F for this grid.
    var residual: (Tensor<Float>) -> Tensor<Float> { Self.residual(gridSize: n, lambda: lambda) }

    /// The workload; if preparing the plan fails, a workload whose check and call throw that error.
    static func workload(_ sizes: BenchSizes) -> BenchWorkload {
        do { return try BratuJacobianProblem(sizes).workload() } catch {
            return BenchWorkload(name: "sparse-jacobian", flops: nil, call: { throw error }, verify: { throw error },
                                 reportsMemory: true)
        }
    }

    func workload() -> BenchWorkload {
        let (plan, u, residual) = (plan, u, residual)
        return BenchWorkload(name: "sparse-jacobian", flops: nil, call: {
            blackHole(try plan.jacobian(of: residual, at: u))
        }, verify: {
            let r = try plan.jacobian(of: residual, at: u)
            return check(value: r.value, jacobian: r.jacobian)
        }, reportsMemory: true)
    }

    /// The checks of the workload definitions on one result.
    func check(value f: Tensor<Float>, jacobian j: SparseMatrix<Float>) -> BenchVerification {
        var cmp = Comparison()
        let us = u.doubles, h2 = Double((n + 1) * (n + 1))
        if n == 100 {
            cmp.check("the inputs' sum", us.reduce(0, +), 3.038375704, tolerance: 1e-7 * 3.04)
            cmp.check("the inputs' first elements", Array(us.prefix(3)), [0.073324695, -0.12643112, -0.17105542]) {
                _ in 2e-8
            }
        }
        // F and J in Double from the (widened) Float inputs.
        var value = [Double](), rows = [[Int]](), entries = [Double]()
        for k in 0..<(n * n) {
            let (i, j) = (k / n, k % n)
            let neighbours = [(i > 0, k - n), (j > 0, k - 1), (j < n - 1, k + 1), (i < n - 1, k + n)]
            var lap = 4 * us[k], columns = [k]
            for (inside, l) in neighbours where inside {
                lap -= us[l]
                columns.append(l)
            }
            value.append(lap * h2 - lambda * Foundation.exp(us[k]))
            columns.sort()
            rows.append(columns)
            entries += columns.map { $0 == k ? 4 * h2 - lambda * Foundation.exp(us[k]) : -h2 }
        }
        let fs = f.doubles, sumF = value.reduce(0, +)
        cmp.check("Σ F", fs.reduce(0, +), sumF, tolerance: 1e-5 * Swift.abs(sumF))
        if n == 100 { cmp.check("Σ F vs the listed value", sumF, -62654.43593012789, tolerance: 1e-6 * 62654.4) }

        let stencil = SparsityPattern(rowCount: n * n, columnCount: n * n, rows: rows)
        if j.rowCount != n * n || j.columnCount != n * n || j.rowStart != stencil.rowStart
            || j.columnIndices != stencil.columnIndices {
            cmp.check("the pattern's non-zeros vs the 5-point stencil's", Double(j.nonzeroCount),
                      Double(stencil.nonzeroCount), tolerance: 0)
            cmp.check("the pattern equals the 5-point stencil's", 0, 1, tolerance: 0)
            return cmp.result
        }
        let js = j.values.map(Double.init)
        cmp.check("J vs the formula, entry by entry", js, entries) { 1e-6 * Swift.abs(entries[$0]) }
        let diagonal = (0..<(n * n)).reduce(0.0) { s, k in s + Double(j[k, k]) }
        let norm = js.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let reference = (sum: entries.reduce(0, +), norm: entries.reduce(0) { $0 + $1 * $1 }.squareRoot(),
                         diagonal: (0..<(n * n)).reduce(0.0) { $0 + 4 * h2 - lambda * Foundation.exp(us[$1]) })
        cmp.check("Σ J", js.reduce(0, +), reference.sum, tolerance: 1e-4 * Swift.abs(reference.sum))
        cmp.check("Σ diag J", diagonal, reference.diagonal, tolerance: 1e-6 * Swift.abs(reference.diagonal))
        cmp.check("‖J‖_F", norm, reference.norm, tolerance: 1e-4 * reference.norm)
        if n == 100 {
            cmp.check("Σ J, Σ diag J, ‖J‖_F vs the listed values", [reference.sum, reference.diagonal, reference.norm],
                      [4020083.1995175276, 407979683.1995175, 4556921.556663138]) { i in
                1e-6 * [4020083.2, 407979683.2, 4556921.6][i]
            }
            cmp.check("non-zeros", Double(j.nonzeroCount), 49600, tolerance: 0)
        }
        return cmp.result
    }
}

/// The resident set of this process, from /proc/self/status (Linux): what the peers report for sparse-jacobian.
enum ResidentSet {
    /// (VmRSS, VmHWM) in bytes, or nil where /proc is not available. Read with `read(2)`: files in /proc report a
    /// size of 0, and their fields are separated by a tab and spaces.
    static func read() -> (current: Int, peak: Int)? {
        let fd = open("/proc/self/status", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        var current: Int?, peak: Int?
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kib = Int(fields[1]) else { continue }
            if fields[0] == "VmRSS:" { current = kib * 1024 }
            if fields[0] == "VmHWM:" { peak = kib * 1024 }
        }
        guard let current, let peak else { return nil }
        return (current, peak)
    }

    /// Sets the peak (VmHWM) to the current resident set, by writing "5" to /proc/self/clear_refs; false where that
    /// is not possible (then the peak includes everything before).
    @discardableResult
    static func resetPeak() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }
}

import Autograd
import Foundation

/// The shapes of the benchmark workloads.
///
/// ``full`` is exactly the first table of `Benchmarks/WORKLOADS.md` (what `autograd bench` times and what the peers
/// time); ``small`` keeps every workload's structure with shapes small enough to verify quickly in a debug build.
public struct BenchSizes: Sendable, Equatable {
    /// Examples of the logistic workloads (x: [n, 2], y: [n]).
    public var logisticExamples: Int
    /// Batch size of the MLP workloads.
    public var mlpBatch: Int
    /// Input features of the MLP (X: [batch, input]).
    public var mlpInput: Int
    /// Width of the two hidden layers of the MLP.
    public var mlpHidden: Int
    /// Classes of the MLP's cross-entropy.
    public var mlpClasses: Int
    /// Width n of jac-256 (x: [n], W1, W2: [n, n]).
    public var jacobianWidth: Int
    /// Steps of chain-500 (three operations each).
    public var chainSteps: Int
    /// Elements of chain-500's z.
    public var chainWidth: Int
    /// Size n of gemm-1024 ([n, n] · [n, n]).
    public var gemmSize: Int
    /// Batch size of cnn-grad (x: [batch, 1, image, image]).
    public var cnnBatch: Int = 64
    /// Height and width of cnn-grad's images (a multiple of 4; the linear layer has 32·(image/4)² inputs).
    public var cnnImage: Int = 28
    /// Batch, sequence length and width of attention-grad (x: [batch, length, width]; 4 heads).
    public var attentionBatch: Int = 8, attentionLength: Int = 128, attentionWidth: Int = 128
    /// Batch, input width and hidden width of per-example-grad (x: [batch, input]; 10 classes).
    public var perExampleBatch: Int = 256, perExampleInput: Int = 100, perExampleHidden: Int = 64
    /// Size n of cholesky-logdet-grad (A: [n, n]).
    public var choleskySize: Int
    /// Right-hand sides k of cholesky-logdet-grad (B: [n, k]).
    public var choleskyColumns: Int
    /// Grid side n of sparse-jacobian (n² unknowns, an n² × n² Jacobian).
    public var sparseGridSize: Int = 100

    /// The shapes of WORKLOADS.md.
    public static let full = BenchSizes(logisticExamples: 100, mlpBatch: 128, mlpInput: 784, mlpHidden: 512,
                                        mlpClasses: 10, jacobianWidth: 256, chainSteps: 500, chainWidth: 16,
                                        gemmSize: 1024,
                                        choleskySize: 256, choleskyColumns: 8)
    /// Small shapes with the same structure, for tests.
    public static let small = BenchSizes(logisticExamples: 20, mlpBatch: 8, mlpInput: 12, mlpHidden: 16,
                                         mlpClasses: 5, jacobianWidth: 16, chainSteps: 40, chainWidth: 4,
                                         gemmSize: 48, cnnBatch: 2, cnnImage: 12,
                                         attentionBatch: 2, attentionLength: 6, attentionWidth: 8,
                                         perExampleBatch: 6, perExampleInput: 7, perExampleHidden: 5,
                                         choleskySize: 24, choleskyColumns: 3, sparseGridSize: 8)
}

/// The outcome of checking one call's result against an independent computation.
public struct BenchVerification: Sendable {
    /// Whether every comparison was within its tolerance.
    public var passed: Bool
    /// What was compared and the largest error seen, relative to its tolerance (failures name the first bad entry).
    public var detail: String
}

/// One benchmark workload: inputs created once, the call that is timed, and a check of that call's result.
///
/// A call is what a user's call would be: building the forward computation, the derivative pass and producing the
/// result tensors. `verify` runs the same call once and compares its result with an independent computation (plain
/// Double loops over the same data, finite differences, or closed forms), so a fast but wrong kernel is reported
/// instead of timed.
public struct BenchWorkload {
    /// The workload's name in WORKLOADS.md, e.g. `mlp-grad`.
    public let name: String
    /// Floating-point operations of one call, for a GFLOP/s figure (gemm only).
    public let flops: Double?
    /// One call, its result discarded.
    public let call: () throws -> Void
    /// Runs the call once and checks its result.
    public let verify: () throws -> BenchVerification
    /// Whether `autograd bench --json` adds the peak resident-set growth over the check and the timing
    /// (`rss_growth_bytes`), as the peers do for sparse-jacobian.
    public var reportsMemory = false
}

/// The workloads of WORKLOADS.md, by name.
public enum BenchWorkloads {
    /// Every workload, in the order of WORKLOADS.md.
    public static let names = ["logistic-vjp", "logistic-jvp", "logistic-jacobian", "mlp-grad", "mlp-hvp", "jac-256",
                               "chain-500", "gemm-1024", "cnn-grad", "attention-grad", "per-example-grad",
                               "cholesky-logdet-grad", "sparse-jacobian"]

    /// Workloads beyond WORKLOADS.md, run only when named: `mlp-hvp-rev` is mlp-hvp's H·v computed reverse over
    /// reverse (the gradient of ⟨∇L, v⟩), the measurement behind `hvp` being forward over reverse;
    /// `per-example-grad-forward` is per-example-grad in forward mode (one tangent per parameter element).
    public static let extraNames = ["mlp-hvp-rev", "per-example-grad-forward"]

    /// The workload called `name` with inputs of the given sizes drawn from a fixed seed, or nil for an unknown name.
    public static func make(_ name: String, sizes: BenchSizes = .full) -> BenchWorkload? {
        switch name {
        case "logistic-vjp": LogisticProblem(sizes).vjpWorkload()
        case "logistic-jvp": LogisticProblem(sizes).jvpWorkload()
        case "logistic-jacobian": LogisticProblem(sizes).jacobianWorkload()
        case "mlp-grad": MLPProblem(sizes).gradientWorkload()
        case "mlp-hvp": MLPProblem(sizes).hvpWorkload()
        case "mlp-hvp-rev": MLPProblem(sizes).reverseOverReverseHVPWorkload()
        case "jac-256": jacobian256(sizes)
        case "chain-500": chain500(sizes)
        case "gemm-1024": gemm1024(sizes)
        case "cnn-grad": CNNProblem(sizes).gradientWorkload()
        case "attention-grad": AttentionProblem(sizes).gradientWorkload()
        case "per-example-grad": PerExampleProblem(sizes).workload()
        case "per-example-grad-forward": PerExampleProblem(sizes).workload(forward: true)
        case "cholesky-logdet-grad": choleskyLogdetGradient(sizes)
        case "sparse-jacobian": BratuJacobianProblem.workload(sizes)
        default: nil
        }
    }
}

/// Keeps a result alive and opaque to the optimizer, so a timed call cannot be removed.
@inline(never) func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

// MARK: - Comparing with references

/// Collects comparisons of computed values with references under a tolerance, and reports the worst.
struct Comparison {
    private(set) var passed = true
    private var worst = 0.0
    private var notes: [String] = []
    private var failure: String?

    /// Checks |computed − reference| ≤ tolerance entry by entry; `item` tells apart checks with the same `what`.
    mutating func check(_ what: String, item: String = "", _ computed: [Double], _ reference: [Double],
                        tolerance: (Int) -> Double) {
        let what = item.isEmpty ? what : "\(what) (\(item))"
        guard computed.count == reference.count else {
            fail("\(what): \(computed.count) values, expected \(reference.count)")
            return
        }
        var localWorst = 0.0
        for i in computed.indices {
            let error = Swift.abs(computed[i] - reference[i]), tol = tolerance(i)
            if !(error <= tol) {
                fail("\(what)[\(i)] = \(computed[i]), reference \(reference[i]) (error \(error), tolerance \(tol))")
                return
            }
            localWorst = Swift.max(localWorst, tol > 0 ? error / tol : 0)
        }
        worst = Swift.max(worst, localWorst)
        if !notes.contains(what) { notes.append(what) }
    }

    /// Checks one number.
    mutating func check(_ what: String, item: String = "", _ computed: Double, _ reference: Double,
                        tolerance: Double) {
        check(what, item: item, [computed], [reference]) { _ in tolerance }
    }

    /// Each result tensor g_k against the values WORKLOADS.md lists for it: its norm ‖g_k‖₂ to 1e-4 relative, and
    /// its probe ⟨g_k, N(firstSeed + k)⟩ (the Double normals) to within probeTolerance·‖g_k‖₂ as listed.
    mutating func checkListedGradients(_ g: [[Double]], norms listedNorms: [Double], probes listedProbes: [Double],
                                       firstSeed: UInt64, probeTolerance: Double) {
        let norms = g.map { Reference.dot($0, $0).squareRoot() }
        check("‖∂loss/∂p‖ vs WORKLOADS.md", norms, listedNorms) { 1e-4 * listedNorms[$0] }
        let probes = g.enumerated().map { PortableInputs.probe($1, seed: firstSeed + UInt64($0)) }
        check("probes ⟨∂loss/∂p, N(s)⟩ vs WORKLOADS.md", probes, listedProbes) { probeTolerance * listedNorms[$0] }
    }

    private mutating func fail(_ message: String) {
        if passed { failure = message }
        passed = false
    }

    var result: BenchVerification {
        if let failure { return BenchVerification(passed: false, detail: failure) }
        return BenchVerification(passed: true, detail: "\(notes.joined(separator: ", ")): worst error "
            + String(format: "%.2g", worst) + " of tolerance")
    }
}

extension Tensor where Scalar == Float {
    /// The elements as Doubles, for reference computations.
    var doubles: [Double] { scalars.map(Double.init) }
}

/// Plain, unoptimized Double arithmetic on row-major arrays: the independent side of the checks.
enum Reference {
    /// [m, k] · [k, n] → [m, n], three loops.
    static func matmul(_ a: [Double], _ b: [Double], _ m: Int, _ k: Int, _ n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for p in 0..<k {
                let aip = a[i * k + p]
                if aip == 0 { continue }
                for j in 0..<n { c[i * n + j] += aip * b[p * n + j] }
            }
        }
        return c
    }

    static func sigmoid(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }

    /// Sum of absolute values, for tolerances that scale with the size of a sum.
    static func absoluteSum(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + Swift.abs($1.0 * $1.1) } }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    static func maxAbs(_ a: [Double]) -> Double { a.reduce(0) { Swift.max($0, Swift.abs($1)) } }
}

// MARK: - logistic-vjp, logistic-jvp, logistic-jacobian

/// x: [n, 2], y: [n] in (0, 1), w: [1, 2]; losses(w) = bce(σ(x · wᵀ) flattened, y, no reduction), shape [n].
/// Closed forms: ∂lossᵢ/∂w = (σᵢ − yᵢ) xᵢ.
struct LogisticProblem {
    let x, y, w, v, u: Tensor<Float>
    let n: Int

    init(_ sizes: BenchSizes) {
        n = sizes.logisticExamples
        var rng = SeededGenerator(seed: 7)
        x = Tensor(randomNormal: [n, 2], using: &rng)
        y = Tensor(randomUniform: [n], in: 0.01..<0.99, using: &rng)
        w = Tensor(randomNormal: [1, 2], using: &rng)
        v = Tensor(randomNormal: [n], using: &rng)
        u = Tensor(randomNormal: [1, 2], using: &rng)
    }

    func losses(_ w: Tensor<Float>) -> Tensor<Float> {
        binaryCrossEntropy(probabilities: sigmoid(matmul(x, w.transposed())).flattened(), targets: y, reduction: .none)
    }

    /// The closed-form Jacobian [n, 2] in Double.
    func referenceJacobian() -> [Double] {
        let x = x.doubles, y = y.doubles, w = w.doubles
        var j = [Double]()
        for i in 0..<n {
            let d = Reference.sigmoid(x[2 * i] * w[0] + x[2 * i + 1] * w[1]) - y[i]
            j += [d * x[2 * i], d * x[2 * i + 1]]
        }
        return j
    }

    func vjpWorkload() -> BenchWorkload {
        let (w, v) = (w, v)
        return BenchWorkload(name: "logistic-vjp", flops: nil, call: {
            blackHole(try vjp(of: losses, at: w, cotangent: v))
        }, verify: {
            let g = try vjp(of: losses, at: w, cotangent: v).vjp.doubles
            let j = referenceJacobian(), vs = v.doubles
            let reference = (0..<2).map { c in (0..<n).reduce(0.0) { $0 + vs[$1] * j[2 * $1 + c] } }
            let scale = (0..<2).map { c in (0..<n).reduce(0.0) { $0 + Swift.abs(vs[$1] * j[2 * $1 + c]) } }
            var cmp = Comparison()
            cmp.check("vᵀJ vs closed form Σ vᵢ(σᵢ − yᵢ)xᵢ", g, reference) { 1e-5 * scale[$0] + 1e-6 }
            return cmp.result
        })
    }

    func jvpWorkload() -> BenchWorkload {
        let (w, u) = (w, u)
        return BenchWorkload(name: "logistic-jvp", flops: nil, call: {
            blackHole(try jvp(of: losses, at: w, tangent: u))
        }, verify: {
            let ju = try jvp(of: losses, at: w, tangent: u).tangent.doubles
            let j = referenceJacobian(), us = u.doubles
            let reference = (0..<n).map { j[2 * $0] * us[0] + j[2 * $0 + 1] * us[1] }
            let scale = (0..<n).map { Swift.abs(j[2 * $0] * us[0]) + Swift.abs(j[2 * $0 + 1] * us[1]) }
            var cmp = Comparison()
            cmp.check("J·u vs closed form (σᵢ − yᵢ)(xᵢ·u)", ju, reference) { 1e-5 * scale[$0] + 1e-6 }
            return cmp.result
        })
    }

    func jacobianWorkload() -> BenchWorkload {
        let w = w
        return BenchWorkload(name: "logistic-jacobian", flops: nil, call: {
            blackHole(try jacobian(of: losses, at: w))
        }, verify: {
            let jac = try jacobian(of: losses, at: w)
            var cmp = Comparison()
            if jac.shape != [n, 1, 2] {
                cmp.check("shape", jac.shape.map(Double.init), [Double(n), 1, 2]) { _ in 0 }
            }
            let reference = referenceJacobian()
            cmp.check("J vs closed form (σᵢ − yᵢ)xᵢ", jac.doubles, reference) { 1e-5 * Swift.abs(reference[$0]) + 1e-6 }
            return cmp.result
        })
    }
}

// MARK: - mlp-grad, mlp-hvp

/// X: [B, D], labels in 0..<C; h = tanh(X·W1 + b1); h = tanh(h·W2 + b2); loss = mean cross-entropy(h·W3 + b3).
struct MLPProblem {
    let sizes: BenchSizes
    let X: Tensor<Float>
    let labels: [Int]
    /// Row-major indices of the label entries in the flattened [B, C] logits: i·C + labels[i].
    let labelIndices: [Int]
    /// W1, b1, W2, b2, W3, b3.
    let parameters: [Tensor<Float>]
    /// A direction for the Hessian-vector product, one tensor per parameter.
    let directions: [Tensor<Float>]

    init(_ sizes: BenchSizes) {
        self.sizes = sizes
        let (b, d, h, c) = (sizes.mlpBatch, sizes.mlpInput, sizes.mlpHidden, sizes.mlpClasses)
        var rng = SeededGenerator(seed: 11)
        X = Tensor(randomNormal: [b, d], using: &rng)
        labels = (0..<b).map { _ in Int(rng.next() % UInt64(c)) }
        labelIndices = labels.enumerated().map { $0.offset * c + $0.element }
        parameters = [Tensor(randomNormal: [d, h], standardDeviation: 0.03, using: &rng), Tensor(zeros: [h]),
                      Tensor(randomNormal: [h, h], standardDeviation: 0.04, using: &rng), Tensor(zeros: [h]),
                      Tensor(randomNormal: [h, c], standardDeviation: 0.04, using: &rng), Tensor(zeros: [c])]
        directions = parameters.map { Tensor(randomNormal: $0.shape, using: &rng) }
    }

    /// The loss, from core operations: cross-entropy is −mean(logSoftmax(logits)[i, labelᵢ]).
    func loss(_ p: [Tensor<Float>]) -> Tensor<Float> {
        var h = tanh(matmul(X, p[0]) + p[1])
        h = tanh(matmul(h, p[2]) + p[3])
        let logits = matmul(h, p[4]) + p[5]
        return -logits.logSoftmax(alongAxes: 1).flattened().gathering(atIndices: labelIndices).mean()
    }

    /// The same loss in plain Double loops.
    func referenceLoss(_ p: [[Double]]) -> Double {
        let (b, d, hw, c) = (sizes.mlpBatch, sizes.mlpInput, sizes.mlpHidden, sizes.mlpClasses)
        func layer(_ input: [Double], _ w: [Double], _ bias: [Double], _ k: Int, _ n: Int, tanh apply: Bool) -> [Double] {
            var out = Reference.matmul(input, w, b, k, n)
            for i in 0..<b { for j in 0..<n { out[i * n + j] += bias[j] } }
            return apply ? out.map { Foundation.tanh($0) } : out
        }
        let h1 = layer(X.doubles, p[0], p[1], d, hw, tanh: true)
        let h2 = layer(h1, p[2], p[3], hw, hw, tanh: true)
        let logits = layer(h2, p[4], p[5], hw, c, tanh: false)
        var total = 0.0
        for i in 0..<b {
            let row = logits[(i * c)..<((i + 1) * c)]
            let top = row.max()!
            let lse = top + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - top) })
            total += lse - logits[i * c + labels[i]]
        }
        return total / Double(b)
    }

    func gradientWorkload() -> BenchWorkload {
        let parameters = parameters
        return BenchWorkload(name: "mlp-grad", flops: nil, call: {
            blackHole(try gradients(at: parameters, of: loss))
        }, verify: {
            // For each parameter k, ⟨∇ₖL, dₖ⟩ against the central difference of the Double loss along dₖ.
            let g = try gradients(at: parameters, of: loss).map(\.doubles)
            let p = parameters.map(\.doubles), d = directions.map(\.doubles)
            let eps = 1e-3
            var cmp = Comparison()
            for k in p.indices {
                func at(_ t: Double) -> Double {
                    var q = p
                    q[k] = zip(p[k], d[k]).map { $0 + t * $1 }
                    return referenceLoss(q)
                }
                let difference = (at(eps) - at(-eps)) / (2 * eps)
                cmp.check("⟨∇L, d⟩ vs central difference of a Double loss, each parameter", item: "parameter \(k)",
                          Reference.dot(g[k], d[k]), difference,
                          tolerance: 2e-4 * Reference.absoluteSum(g[k], d[k]) + 1e-6)
            }
            return cmp.result
        })
    }

    func hvpWorkload() -> BenchWorkload {
        let (parameters, directions) = (parameters, directions)
        return BenchWorkload(name: "mlp-hvp", flops: nil, call: {
            blackHole(try hvp(of: loss, at: parameters, vectors: directions))
        }, verify: {
            // For each parameter k, ⟨eₖ, H·v⟩ (eₖ a probe on parameter k) against the mixed second difference
            // [L(p + εv + εe) − L(p + εv − εe) − L(p − εv + εe) + L(p − εv − εe)] / 4ε² of the Double loss.
            let hv = try hvp(of: loss, at: parameters, vectors: directions).map(\.doubles)
            let p = parameters.map(\.doubles), v = directions.map(\.doubles)
            var rng = SeededGenerator(seed: 13)
            let eps = 1e-3
            var cmp = Comparison()
            for k in p.indices {
                let e = Tensor<Float>(randomNormal: parameters[k].shape, using: &rng).doubles
                func at(_ s: Double, _ t: Double) -> Double {
                    var q = zip(p, v).map { pi, vi in zip(pi, vi).map { $0 + s * $1 } }
                    q[k] = zip(q[k], e).map { $0 + t * $1 }
                    return referenceLoss(q)
                }
                let difference = (at(eps, eps) - at(eps, -eps) - at(-eps, eps) + at(-eps, -eps)) / (4 * eps * eps)
                cmp.check("⟨e, H·v⟩ vs mixed second difference of a Double loss, each parameter",
                          item: "parameter \(k)", Reference.dot(hv[k], e), difference,
                          tolerance: 1e-3 * (Reference.absoluteSum(hv[k], e) + Swift.abs(difference)) + 1e-5)
            }
            return cmp.result
        })
    }
}

extension MLPProblem {
    /// H·v reverse over reverse: the gradient, with respect to the parameters, of Σₖ ⟨∇ₖL, vₖ⟩, whose inner gradient
    /// is recorded. Checked against `hvp` (forward over reverse), which mlp-hvp checks against finite differences.
    func reverseOverReverseHVPWorkload() -> BenchWorkload {
        let (parameters, directions) = (parameters, directions)
        let reverseOverReverse = {
            try gradients(at: parameters) { p in
                let g = try gradients(at: p, of: loss)
                return zip(g, directions).map { ($0 * $1).sum() }.reduce(Tensor<Float>(0), +)
            }
        }
        return BenchWorkload(name: "mlp-hvp-rev", flops: nil, call: {
            blackHole(try reverseOverReverse())
        }, verify: {
            let rr = try reverseOverReverse().map(\.doubles)
            let fr = try hvp(of: loss, at: parameters, vectors: directions).map(\.doubles)
            var cmp = Comparison()
            for k in rr.indices {
                cmp.check("reverse over reverse vs forward over reverse, parameter \(k)", rr[k], fr[k]) { i in
                    1e-4 * (1 + Swift.abs(fr[k][i]))
                }
            }
            return cmp.result
        })
    }
}

// MARK: - jac-256

/// W1, W2: [n, n], x: [n]; f(x) = tanh(W2 · tanh(W1 · x)); the full Jacobian [n, n], checked against the closed
/// form diag(1 − h₂²) · W2 · diag(1 − h₁²) · W1.
func jacobian256(_ sizes: BenchSizes) -> BenchWorkload {
    let n = sizes.jacobianWidth
    var rng = SeededGenerator(seed: 17)
    let scale = 1 / Float(n).squareRoot()
    let W1 = Tensor<Float>(randomNormal: [n, n], standardDeviation: scale, using: &rng)
    let W2 = Tensor<Float>(randomNormal: [n, n], standardDeviation: scale, using: &rng)
    let x = Tensor<Float>(randomNormal: [n], using: &rng)
    let f = { (x: Tensor<Float>) in tanh(matmul(W2, tanh(matmul(W1, x)))) }
    return BenchWorkload(name: "jac-256", flops: nil, call: {
        blackHole(try jacobian(of: f, at: x))
    }, verify: {
        let jac = try jacobian(of: f, at: x)
        let w1 = W1.doubles, w2 = W2.doubles, xs = x.doubles
        let h1 = Reference.matmul(w1, xs, n, n, 1).map { Foundation.tanh($0) }
        let h2 = Reference.matmul(w2, h1, n, n, 1).map { Foundation.tanh($0) }
        var inner = w1   // diag(1 − h₁²) · W1
        for i in 0..<n { for j in 0..<n { inner[i * n + j] *= 1 - h1[i] * h1[i] } }
        var reference = Reference.matmul(w2, inner, n, n, n)
        for i in 0..<n { for j in 0..<n { reference[i * n + j] *= 1 - h2[i] * h2[i] } }
        let top = Reference.maxAbs(reference)
        var cmp = Comparison()
        cmp.check("J vs closed form diag(1 − h₂²)·W2·diag(1 − h₁²)·W1", jac.doubles, reference) { _ in 1e-4 * top }
        return cmp.result
    })
}

// MARK: - chain-500

/// z: [16]; h = z, then `steps` times h = tanh(h · 1.0001 + 0.001); the gradient of sum(h) with respect to z,
/// checked against the product of the steps' derivatives Πₖ 1.0001 · (1 − hₖ²), element by element in Double.
func chain500(_ sizes: BenchSizes) -> BenchWorkload {
    var rng = SeededGenerator(seed: 19)
    let z = Tensor<Float>(randomNormal: [sizes.chainWidth], using: &rng)
    let steps = sizes.chainSteps
    let f = { (z: Tensor<Float>) -> Tensor<Float> in
        var h = z
        for _ in 0..<steps { h = tanh(h * 1.0001 + 0.001) }
        return h.sum()
    }
    return BenchWorkload(name: "chain-500", flops: nil, call: {
        blackHole(try gradient(at: z, of: f))
    }, verify: {
        let g = try gradient(at: z, of: f).doubles
        let reference = z.doubles.map { z0 -> Double in
            var (h, derivative) = (z0, 1.0)
            for _ in 0..<steps {
                h = Foundation.tanh(h * 1.0001 + 0.001)
                derivative *= 1.0001 * (1 - h * h)
            }
            return derivative
        }
        let top = Reference.maxAbs(reference)
        var cmp = Comparison()
        cmp.check("∂sum(h)/∂z vs Πₖ 1.0001(1 − hₖ²)", g, reference) { 1e-3 * Swift.abs(reference[$0]) + 1e-5 * top }
        return cmp.result
    })
}

// MARK: - gemm-1024

/// A: [n, n], B: [n, n] standard normal; C = A · B, checked on a few rows against plain Double dot products.
func gemm1024(_ sizes: BenchSizes) -> BenchWorkload {
    let n = sizes.gemmSize
    var rng = SeededGenerator(seed: 23)
    let A = Tensor<Float>(randomNormal: [n, n], using: &rng)
    let B = Tensor<Float>(randomNormal: [n, n], using: &rng)
    return BenchWorkload(name: "gemm-1024", flops: 2 * Double(n * n * n), call: {
        blackHole(matmul(A, B))
    }, verify: {
        let c = matmul(A, B).doubles
        let a = A.doubles, b = B.doubles
        // Rows at both ends and one just past the middle (off any block boundary), every column.
        let rows = Array(Set([0, 1, n / 2 + 1, n - 1])).sorted()
        var computed = [Double](), reference = [Double](), scale = [Double]()
        for i in rows {
            for j in 0..<n {
                var sum = 0.0, absolute = 0.0
                for k in 0..<n {
                    sum += a[i * n + k] * b[k * n + j]
                    absolute += Swift.abs(a[i * n + k] * b[k * n + j])
                }
                computed.append(c[i * n + j]); reference.append(sum); scale.append(absolute)
            }
        }
        var cmp = Comparison()
        cmp.check("rows \(rows) of A·B vs Double dot products", computed, reference) { 1e-5 * scale[$0] }
        return cmp.result
    })
}

// MARK: - cholesky-logdet-grad

/// A: [n, n] filled with N(401), B: [n, k] filled with N(402) (the portable generator); S = A·Aᵀ/n + I,
/// L = cholesky(S), X = L⁻ᵀ(L⁻¹B), f = 2·Σ ln Lᵢᵢ + Σ X² (= logdet S + ‖S⁻¹B‖²); one call is ∂f/∂A.
///
/// Checked against the closed form ∂f/∂A = 2·(S⁻¹ − S⁻¹XXᵀ − XXᵀS⁻¹)·A/n computed in Double (Gauss–Jordan for
/// S⁻¹), and, at the sizes of WORKLOADS.md, against its listed values (the inputs' sums and first elements, f, ‖g‖₂
/// and the probe of seed 451).
func choleskyLogdetGradient(_ sizes: BenchSizes) -> BenchWorkload {
    let n = sizes.choleskySize, k = sizes.choleskyColumns
    let A = PortableInputs.tensor([n, n], seed: 401)
    let B = PortableInputs.tensor([n, k], seed: 402)
    let f = { (a: Tensor<Float>) -> Tensor<Float> in
        let s = matmul(a, a, transposeB: true) / Float(n) + Tensor(identity: n)
        let l = cholesky(s)
        let x = triangularSolve(l, triangularSolve(l, B), transpose: true)
        return log(l.diagonal()).sum() * 2 + x.squared().sum()
    }
    return BenchWorkload(name: "cholesky-logdet-grad", flops: nil, call: {
        blackHole(try gradient(at: A, of: f))
    }, verify: {
        let (value, g) = try valueWithGradient(at: A, of: f)
        let gd = g.doubles
        let reference = Reference.choleskyLogdet(A.doubles, B.doubles, n, k)
        var cmp = Comparison()
        cmp.check("f vs Double", Double(value.scalar), reference.value,
                  tolerance: 1e-5 * Swift.abs(reference.value))
        let top = Reference.maxAbs(reference.gradient)
        cmp.check("∂f/∂A vs closed form 2(S⁻¹ − S⁻¹XXᵀ − XXᵀS⁻¹)A/n in Double", gd, reference.gradient) { _ in
            1e-4 * top
        }
        if sizes == .full {
            let norm = Reference.dot(gd, gd).squareRoot()
            cmp.check("input sums (WORKLOADS.md)", [A.doubles.reduce(0, +), B.doubles.reduce(0, +)],
                      [239.1030961, -58.70698999]) { [239.1030961, 58.70698999][$0] * 1e-7 }
            cmp.check("first elements (WORKLOADS.md)", Array(A.doubles.prefix(3)) + Array(B.doubles.prefix(3)),
                      [-1.1776167, -2.1955655, -0.65852988, 1.4980412, -0.72486573, -3.0543697]) { _ in 1e-7 }
            cmp.check("f (WORKLOADS.md)", Double(value.scalar), 1136.144147711446, tolerance: 1e-5 * 1136.144147711446)
            cmp.check("‖g‖₂ (WORKLOADS.md)", norm, 36.47538994, tolerance: 1e-4 * 36.47538994)
            cmp.check("probe ⟨g, N(451)⟩ (WORKLOADS.md)", PortableInputs.probe(gd, seed: 451), -0.4494518864,
                      tolerance: 1e-3 * norm)
        }
        return cmp.result
    })
}

extension Reference {
    /// f = logdet S + Σ X² and ∂f/∂A = 2(S⁻¹ − S⁻¹XXᵀ − XXᵀS⁻¹)A/n with S = A·Aᵀ/n + I and X = S⁻¹B, in Double;
    /// A is [n, n], B [n, k]. S⁻¹ by Gauss–Jordan elimination with partial pivoting, logdet S from its pivots.
    static func choleskyLogdet(_ a: [Double], _ b: [Double], _ n: Int, _ k: Int)
        -> (value: Double, gradient: [Double]) {
        var s = matmul(a, transposed(a, n, n), n, n, n).map { $0 / Double(n) }
        for i in 0..<n { s[i * n + i] += 1 }
        let (inverse, logDeterminant) = inverseAndLogDeterminant(s, n)
        let x = matmul(inverse, b, n, n, k)
        let xxt = matmul(x, transposed(x, n, k), n, k, n)
        let left = matmul(inverse, xxt, n, n, n), right = matmul(xxt, inverse, n, n, n)
        var m = inverse
        for i in m.indices { m[i] -= left[i] + right[i] }
        let gradient = matmul(m, a, n, n, n).map { 2 * $0 / Double(n) }
        return (logDeterminant + dot(x, x), gradient)
    }

    /// The [c, r] transpose of a row-major [r, c] matrix.
    static func transposed(_ a: [Double], _ r: Int, _ c: Int) -> [Double] {
        var t = [Double](repeating: 0, count: r * c)
        for i in 0..<r { for j in 0..<c { t[j * r + i] = a[i * c + j] } }
        return t
    }

    /// The inverse of an n×n matrix whose determinant is positive, and log det, by Gauss–Jordan elimination with
    /// partial pivoting.
    static func inverseAndLogDeterminant(_ matrix: [Double], _ n: Int) -> (inverse: [Double], logDeterminant: Double) {
        var a = matrix, inverse = [Double](repeating: 0, count: n * n)
        for i in 0..<n { inverse[i * n + i] = 1 }
        var logDeterminant = 0.0
        for j in 0..<n {
            let p = (j..<n).max { Swift.abs(a[$0 * n + j]) < Swift.abs(a[$1 * n + j]) }!
            if p != j {
                for c in 0..<n {
                    a.swapAt(j * n + c, p * n + c)
                    inverse.swapAt(j * n + c, p * n + c)
                }
            }
            let pivot = a[j * n + j]
            logDeterminant += Foundation.log(Swift.abs(pivot))
            for c in 0..<n {
                a[j * n + c] /= pivot
                inverse[j * n + c] /= pivot
            }
            for i in 0..<n where i != j {
                let factor = a[i * n + j]
                if factor == 0 { continue }
                for c in 0..<n {
                    a[i * n + c] -= factor * a[j * n + c]
                    inverse[i * n + c] -= factor * inverse[j * n + c]
                }
            }
        }
        return (inverse, logDeterminant)
    }
}

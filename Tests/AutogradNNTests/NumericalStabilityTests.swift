import Foundation
import Testing
import Autograd
import AutogradNN

// Numerical stability of the log-sum-exp family (logSumExp, softmax, logSoftmax), sigmoid, softplus and the
// cross-entropy losses (the core's binary cross-entropy on probabilities, and this module's on logits and with class
// indices), in Float and Double, for inputs of magnitude up to 1000. Every value and every derivative (reverse mode
// and forward mode) is compared with a reference computed in 80-bit extended precision (Float80: 64-bit significand,
// exponent range to 10^±4932, so e^±1000 is an ordinary number) from the same, exactly converted, inputs.
//
// What "accurate" means. A result computed from inputs x in precision ε (2⁻²³ for Float, 2⁻⁵² for Double) cannot be
// expected to be closer to the true f(x) than the rounding of the inputs to intermediate operations allows, which is
// what the condition of f says: an error of about ε · (|f(x)| + Σⱼ |xⱼ · ∂f/∂xⱼ|). Each test allows 16 times that, plus
// the type's smallest normal number where the true value underflows. Values are held to this relative standard (a
// loss of 2·10⁻⁹ must not come out as 0). Derivatives are also allowed 16 ε times their largest magnitude (¼ for σ′,
// 1 for softmax and the losses' derivatives), the absolute standard of gradient checkers, because a derivative such
// as σ′(x) = σ(x)(1 − σ(x)) read from the saved output, or softmax minus a one-hot vector, loses relative accuracy
// where it is below ε of its maximum, which no optimizer notices. A formula that cancels catastrophically
// (ln(1 + e⁻³⁰) computed as 0), overflows (e^1000) or divides by a clamped denominator misses by orders of magnitude
// more, and any NaN or infinity where the true value is finite fails outright. The sensitivity Σⱼ |xⱼ · ∂f/∂xⱼ| is
// itself taken from the reference by a central difference in Float80.
//
// These tests live with the neural-network tests because they share one reference machinery with the losses.

private typealias R = Float80

/// Σⱼ |xⱼ · ∂fᵢ/∂xⱼ| for each output i, by central differences of the Float80 reference with relative step 10⁻⁶.
private func sensitivity(_ f: ([R]) -> [R], at x: [R]) -> [R] {
    var total = [R](repeating: 0, count: f(x).count)
    for j in x.indices where x[j] != 0 {
        let h = x[j] * 1e-6
        var up = x, down = x
        up[j] += h
        down[j] -= h
        let (a, b) = (f(up), f(down))
        for i in total.indices where a[i].isFinite && b[i].isFinite { total[i] += Swift.abs((a[i] - b[i]) / 2) * 1e6 }
    }
    return total
}

/// Checks `computed` against the Float80 reference `f(x)`, with the tolerance described at the top of the file
/// (`scale`: the largest magnitude of a derivative; 0 for values). Where the reference is finite in `T` the result
/// must be finite and within tolerance; where it overflows `T`, the result must be an infinity of the same sign.
private func expectAccurate<T: TensorScalar>(_ computed: [T], _ f: ([R]) -> [R], at x: [R], scale: R = 0, _ what: String,
                                             sourceLocation: SourceLocation = #_sourceLocation) {
    let reference = f(x), sens = sensitivity(f, at: x)
    #expect(computed.count == reference.count, "\(what): \(computed.count) results", sourceLocation: sourceLocation)
    let eps = R(T.ulpOfOne), tiny = R(T.leastNormalMagnitude)
    for (i, (c, r)) in zip(computed, reference).enumerated() {
        let rounded = T(r)
        if !rounded.isFinite {
            if !(c.isInfinite && c.sign == rounded.sign) {
                Issue.record("\(what)[\(i)] at x = \(x): \(c), expected \(rounded)", sourceLocation: sourceLocation)
            }
            continue
        }
        let allowed = 16 * eps * (Swift.abs(r) + sens[i] + scale) + tiny
        if !c.isFinite || !(Swift.abs(R(c) - r) <= allowed) {
            let text = "\(what)[\(i)] in \(T.self) at x = \(x.map { Double($0) }): got \(c), reference \(Double(r)) "
                + "(error \(Double(Swift.abs(R(c) - r))), allowed \(Double(allowed)))"
            Issue.record(Comment(rawValue: text), sourceLocation: sourceLocation)
            return
        }
    }
}

// MARK: - References in Float80

private func exp(_ x: R) -> R { Foundation.exp(x) }
private func log(_ x: R) -> R { Foundation.log(x) }
private func log1p(_ x: R) -> R { Foundation.log1p(x) }
private func sigmoid(_ x: R) -> R { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
private func softplus(_ x: R) -> R { Swift.max(x, 0) + log1p(exp(-Swift.abs(x))) }
/// ln softmax(x)ᵢ = (xᵢ − m) − ln(1 + Σ_{j≠k} e^(xⱼ − m)), m = x_k the largest: no cancellation even in Float80
/// (xᵢ − lse would lose the tiny loss of a dominant entry to the rounding of lse).
private func logSoftmax(_ x: [R]) -> [R] {
    let k = x.indices.max { x[$0] < x[$1] }!
    let rest = log1p(x.indices.filter { $0 != k }.reduce(R(0)) { $0 + exp(x[$1] - x[k]) })
    return x.map { ($0 - x[k]) - rest }
}
/// ln Σ e^xᵢ = m + ln(1 + Σ_{j≠k} e^(xⱼ − m)).
private func logSumExp(_ x: [R]) -> R {
    let k = x.indices.max { x[$0] < x[$1] }!
    return x[k] - logSoftmax(x)[k]
}
private func softmax(_ x: [R]) -> [R] { logSoftmax(x).map(exp) }
/// The row-major Jacobian of softmax: ∂sᵢ/∂xⱼ = sᵢ (δᵢⱼ − sⱼ).
private func softmaxJacobian(_ x: [R]) -> [R] {
    let s = softmax(x)
    return s.indices.flatMap { i in s.indices.map { j in s[i] * ((i == j ? 1 : 0) - s[j]) } }
}
/// ∂(xᵢ − lse)/∂xⱼ = δᵢⱼ − sⱼ.
private func logSoftmaxJacobian(_ x: [R]) -> [R] {
    let s = softmax(x)
    return s.indices.flatMap { i in s.indices.map { j in (i == j ? 1 : 0) - s[j] } }
}

private extension Array where Element == Double {
    func converted<T: TensorScalar>(to _: T.Type) -> [T] { map { T($0) } }
}

private func widened<T: TensorScalar>(_ x: [T]) -> [R] { x.map { R($0) } }

/// Value, reverse-mode derivative and forward-mode derivative of an elementwise function at every point of `x`.
private func elementwise<T: TensorScalar>(_ f: (Tensor<T>) -> Tensor<T>, at x: [T]) throws
    -> (value: [T], reverse: [T], forward: [T]) {
    let t = Tensor(x)
    return (f(t).scalars, try gradient(at: t) { f($0).sum() }.scalars,
            try jvp(of: f, at: t, tangent: Tensor(ones: [x.count])).tangent.scalars)
}

/// Magnitudes up to 1000, including where e^x overflows Float (88.7) and Double (709.8), and where 1 − σ(x) rounds to 0.
private let grid: [Double] = [-1000, -745, -700.5, -100, -88.5, -40, -30, -20, -16.5, -5, -1, -1e-3, -1e-20, 0, 1e-20,
                              1e-3, 1, 5, 16.5, 20, 30, 40, 88.5, 100, 700.5, 745, 1000]

/// Rows for the functions of a vector: ties at ±1000, huge gaps, a dominant entry with small others (where
/// ln(1 + tiny) must not round to 0), and seeded random rows of magnitude up to 1000.
private let rows: [[Double]] = {
    var rows: [[Double]] = [
        [1000, 1000], [1000, -1000], [-1000, -1000], [1000, 999], [0, -30], [20, 0], [-1000, 0, 1000],
        [-1000, -1000, -999], [0, -40, -40.5], [700, 700, -700, 3], [1e-3, -1e-3, 0], [-5, 88.5, 88, 30, -1000], [7],
    ]
    var rng = SeededGenerator(seed: 2024)
    for n in [2, 3, 4, 6] {
        rows.append(Tensor<Double>(randomUniform: [n], in: -1000..<1000, using: &rng).scalars)
        rows.append(Tensor<Double>(randomNormal: [n], standardDeviation: 10, using: &rng).scalars)
    }
    return rows
}()

@Suite struct NumericalStabilityTests {
    @Test func sigmoidAndSoftplus() throws {
        try check(Float.self)
        try check(Double.self)
        func check<T: TensorScalar>(_: T.Type) throws {
            let x: [T] = grid.converted(to: T.self), wide = widened(x)
            let s = try elementwise({ Autograd.sigmoid($0) }, at: x)
            expectAccurate(s.value, { $0.map(sigmoid) }, at: wide, "sigmoid")
            // σ′(x) = σ(x) σ(−x), written so that neither factor cancels.
            let ds: ([R]) -> [R] = { $0.map { sigmoid($0) * sigmoid(-$0) } }
            expectAccurate(s.reverse, ds, at: wide, scale: 0.25, "sigmoid′ (reverse)")
            expectAccurate(s.forward, ds, at: wide, scale: 0.25, "sigmoid′ (forward)")
            let p = try elementwise({ Autograd.softplus($0) }, at: x)
            expectAccurate(p.value, { $0.map(softplus) }, at: wide, "softplus")
            expectAccurate(p.reverse, { $0.map(sigmoid) }, at: wide, scale: 1, "softplus′ (reverse)")
            expectAccurate(p.forward, { $0.map(sigmoid) }, at: wide, scale: 1, "softplus′ (forward)")
        }
    }

    @Test func logSumExpSoftmaxAndLogSoftmax() throws {
        try check(Float.self)
        try check(Double.self)
        func check<T: TensorScalar>(_: T.Type) throws {
            for row in rows {
                let x = Tensor<T>(row.converted(to: T.self)), wide = widened(x.scalars), n = row.count
                // logSumExp along the only axis, along axis 0 of a column, and over both axes of a [2, n/2] matrix.
                var lse = [x.logSumExp().scalar, x.reshaped(to: [n, 1]).logSumExp(alongAxes: 0).scalar]
                if n % 2 == 0 { lse.append(x.reshaped(to: [2, n / 2]).logSumExp(alongAxes: 0, 1).scalar) }
                for v in lse { expectAccurate([v], { [logSumExp($0)] }, at: wide, "logSumExp") }
                // Its derivative is softmax, in both modes.
                expectAccurate(try gradient(at: x) { $0.logSumExp() }.scalars, softmax, at: wide, scale: 1, "∂logSumExp (reverse)")
                expectAccurate(try jacobian(of: { $0.logSumExp() }, at: x, strategy: .forward).scalars, softmax,
                               at: wide, scale: 1, "∂logSumExp (forward)")
                // softmax and logSoftmax, with their whole Jacobians from reverse and from forward mode.
                expectAccurate(x.softmax().scalars, softmax, at: wide, "softmax")
                expectAccurate(x.logSoftmax().scalars, logSoftmax, at: wide, "logSoftmax")
                for strategy in [JacobianStrategy.reverse, .forward] {
                    expectAccurate(try jacobian(of: { $0.softmax() }, at: x, strategy: strategy).scalars, softmaxJacobian,
                                   at: wide, scale: 1, "∂softmax (\(strategy))")
                    expectAccurate(try jacobian(of: { $0.logSoftmax() }, at: x, strategy: strategy).scalars,
                                   logSoftmaxJacobian, at: wide, scale: 1, "∂logSoftmax (\(strategy))")
                }
            }
        }
    }

    /// Closed forms that need no reference: ties at 1000 and a dominant entry.
    @Test func closedForms() {
        #expect(Tensor<Float>([1000, 1000]).logSumExp().scalar == 1000 + Float(M_LN2))
        #expect(Tensor<Double>([-1000, -1000]).logSumExp().scalar == -1000 + M_LN2)
        #expect(Tensor<Float>([1000, -1000]).softmax().scalars == [1, 0])
        #expect(Tensor<Double>([1000, 1000, 1000, 1000]).softmax().scalars == [0.25, 0.25, 0.25, 0.25])
        #expect(Tensor<Float>([-1000, 1000]).logSoftmax().scalars == [-2000, 0])
        // ln(1 + e⁻³⁰) = 9.3576e-14: a loss this small must not round to 0 (1 + e⁻³⁰ is 1 in both types).
        let small = Tensor<Double>([0, -30]).logSumExp().scalar, exact = Foundation.log1p(Foundation.exp(-30.0))
        #expect(Swift.abs(small - exact) <= 4 * exact.ulp)
        #expect(Swift.abs(Tensor<Float>([20, 0]).logSoftmax().scalars[0] + 2.0611537e-9) < 1e-15)
        #expect(Tensor<Float>([-1000]).logSumExp().scalar == -1000)
        #expect(Autograd.sigmoid(Tensor<Float>([-1000, 1000])).scalars == [0, 1])
        // Infinite entries: −∞ is a masked-out class (probability 0, no NaN in the derivative), +∞ dominates.
        #expect(Tensor<Double>([-.infinity, 0]).logSumExp().scalar == 0)
        #expect(Tensor<Double>([-.infinity, 0]).softmax().scalars == [0, 1])
        #expect(Tensor<Float>([-.infinity, 0]).logSoftmax().scalars == [-.infinity, 0])
        #expect((try? gradient(at: Tensor<Double>([-.infinity, 0, 0])) { $0.logSumExp() })?.scalars == [0, 0.5, 0.5])
        #expect(Tensor<Double>([.infinity, 1]).logSumExp().scalar == .infinity)
        #expect(Tensor<Double>([-.infinity, -.infinity]).logSumExp().scalar == -.infinity)
        #expect(Autograd.softplus(Tensor<Float>([-1000, 1000])).scalars == [0, 1000])
    }

    @Test func binaryCrossEntropyOnProbabilities() throws {
        try check(Float.self, extra: [1e-30, 1e-40])
        try check(Double.self, extra: [1e-30, 1e-40, 1e-200, 1e-300, 1 - 0x1p-40])
        func check<T: TensorScalar>(_: T.Type, extra: [Double]) throws {
            let ps: [Double] = [0, 1e-13, 1e-7, 0.01, 0.25, 0.5, 0.75, 0.99, 1 - 0x1p-20, 1] + extra
            for t in [0, 0.25, 1.0] {
                let p = Tensor<T>(ps.converted(to: T.self)), target = Tensor<T>(repeating: T(t), shape: [ps.count])
                let wide = widened(p.scalars), tt = R(t)
                // The loss with each logarithm clamped at −100 (PyTorch's definition; p = 0 or 1 gives 100 instead
                // of infinity), and its exact derivative: a clamped logarithm is a constant. Derivatives are held to
                // the relative standard of values: (p − t) / (p (1 − p)) has no cancellation.
                func clamped(_ v: R) -> R { Swift.max(v, -100) }
                let loss: ([R]) -> [R] = { $0.map { -(tt * clamped(log($0)) + (1 - tt) * clamped(log1p(-$0))) } }
                let dp: ([R]) -> [R] = {
                    $0.map { p in (log(p) >= -100 ? -tt / p : 0) + (log1p(-p) >= -100 ? (1 - tt) / (1 - p) : 0) }
                }
                let dt: ([R]) -> [R] = { $0.map { clamped(log1p(-$0)) - clamped(log($0)) } }
                let f = { (p: Tensor<T>) in binaryCrossEntropy(probabilities: p, targets: target, reduction: .none) }
                let r = try elementwise(f, at: p.scalars)
                expectAccurate(r.value, loss, at: wide, "binaryCrossEntropy(t = \(t))")
                expectAccurate(r.reverse, dp, at: wide, "∂binaryCrossEntropy/∂p (reverse, t = \(t))")
                expectAccurate(r.forward, dp, at: wide, "∂binaryCrossEntropy/∂p (forward, t = \(t))")
                let g = try gradient(at: target) { binaryCrossEntropy(probabilities: p, targets: $0, reduction: .sum) }
                expectAccurate(g.scalars, dt, at: wide, "∂binaryCrossEntropy/∂t (t = \(t))")
                // Second derivatives (∂²ℓ/∂p², ∂²ℓ/∂p∂t) are finite at p = 0 and p = 1, where a branch is clamped
                // (no NaN leaks out of the branch `where` does not select), and wherever t/p² fits the type.
                let q = Tensor<T>([0, 1e-7, 0.5, 1 - 0x1p-20, 1]), tq = Tensor<T>(repeating: T(t), shape: [5])
                let second = try gradients(at: [q, tq]) { x in
                    try gradient(at: x[0]) { binaryCrossEntropy(probabilities: $0, targets: x[1], reduction: .sum) }.sum()
                }
                #expect(second.allSatisfy { $0.scalars.allSatisfy(\.isFinite) }, "\(second)")
            }
        }
    }

    @Test func binaryCrossEntropyOnLogits() throws {
        try check(Float.self)
        try check(Double.self)
        func check<T: TensorScalar>(_: T.Type) throws {
            let z = Tensor<T>(grid.converted(to: T.self)), wide = widened(z.scalars)
            for t in [0, 0.25, 1.0] {
                let target = Tensor<T>(repeating: T(t), shape: [grid.count]), tt = R(t)
                let f = { (z: Tensor<T>) in binaryCrossEntropy(logits: z, targets: target, reduction: .none) }
                let r = try elementwise(f, at: z.scalars)
                expectAccurate(r.value, { $0.map { tt * softplus(-$0) + (1 - tt) * softplus($0) } }, at: wide,
                               "binaryCrossEntropy(logits:) (t = \(t))")
                // ∂ℓ/∂z = σ(z) − t, written as −t σ(−z) + (1 − t) σ(z) so that neither side cancels.
                let dz: ([R]) -> [R] = { $0.map { -tt * sigmoid(-$0) + (1 - tt) * sigmoid($0) } }
                expectAccurate(r.reverse, dz, at: wide, scale: 1, "∂/∂z (reverse, t = \(t))")
                expectAccurate(r.forward, dz, at: wide, scale: 1, "∂/∂z (forward, t = \(t))")
            }
        }
    }

    @Test func crossEntropyWithClassIndices() throws {
        try check(Float.self)
        try check(Double.self)
        func check<T: TensorScalar>(_: T.Type) throws {
            for row in rows where row.count > 1 {
                let z = Tensor<T>(row.converted(to: T.self)).reshaped(to: [1, row.count]), wide = widened(z.scalars)
                for label in row.indices {
                    let f = { (z: Tensor<T>) in crossEntropy(logits: z, labels: [label]) }
                    expectAccurate([f(z).scalar], { [-logSoftmax($0)[label]] }, at: wide, "crossEntropy(label \(label))")
                    // ∂ℓ/∂zⱼ = softmax(z)ⱼ − δⱼ,label.
                    let dz: ([R]) -> [R] = { x in softmax(x).enumerated().map { $1 - ($0 == label ? 1 : 0) } }
                    expectAccurate(try gradient(at: z, of: f).scalars, dz, at: wide, scale: 1, "∂crossEntropy (reverse, label \(label))")
                    expectAccurate(try jacobian(of: f, at: z, strategy: .forward).scalars, dz, at: wide, scale: 1,
                                   "∂crossEntropy (forward, label \(label))")
                }
            }
        }
    }
}

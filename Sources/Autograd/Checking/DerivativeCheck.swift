import Foundation

/// A function of tensors that can be evaluated in both `Float` and `Double`, so the checker can compare derivatives
/// computed in `Float` with finite differences taken in `Double`.
///
/// ```swift
/// struct SoftplusSum: TensorFunction {
///     func callAsFunction<Scalar: TensorScalar>(_ x: [Tensor<Scalar>]) throws -> Tensor<Scalar> {
///         softplus(x[0] * x[1])
///     }
/// }
/// ```
public protocol TensorFunction {
    /// Evaluates the function; it must compute the same mathematical function for every `Scalar`.
    func callAsFunction<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) throws -> Tensor<Scalar>
}

/// Which derivative a check compares.
public enum CheckMode: String, Sendable, CaseIterable, Codable {
    /// vᵀJ by reverse mode against central finite differences of ⟨v, f(x)⟩, coordinate by coordinate.
    case reverse
    /// J·u by forward mode against the central finite difference (f(x + h u) − f(x − h u)) / 2h.
    case forward
    /// The dot-product test ⟨v, J·u⟩ = ⟨vᵀJ, u⟩ between forward and reverse mode, which must hold to rounding
    /// error: it ties the two modes together without finite differences.
    case dotProduct = "dot-product"
}

/// The outcome of one derivative check.
public struct DerivativeCheckResult: Sendable, CustomStringConvertible, Codable {
    /// The operation or function checked.
    public let operation: String
    /// What was compared: a ``CheckMode`` raw value (`"reverse"`, `"forward"`, `"dot-product"`) for the checker's
    /// own rows, or the route a transform row compared (`"forward-over-reverse"`, `"transpose"`, ...).
    public let mode: String
    /// The element type the derivative was computed in (finite differences are always in Double).
    public let scalarType: String
    /// The largest error found. For `.reverse` and `.forward`: max over entries of |ad − fd| / (1 + |fd|), a
    /// relative error that turns absolute near zero. For `.dotProduct`: |⟨v, J·u⟩ − ⟨vᵀJ, u⟩| divided by the size
    /// of the terms summed, Σ|vᵢ (J·u)ᵢ| (so cancellation does not inflate it), or by ‖v‖·‖u‖ where the terms are
    /// smaller: then, like the mixed error of the other modes, it is absolute, and a Jacobian that is exactly zero
    /// but comes out of the two modes as different rounding noise (10⁻¹⁷) passes.
    public let maxError: Double
    /// The largest error allowed.
    public let tolerance: Double
    /// `maxError <= tolerance` (and no NaN).
    public var passed: Bool { maxError <= tolerance }

    /// One line: operation, mode, type, error, tolerance, PASS/FAIL.
    public var description: String {
        "\(operation) [\(mode), \(scalarType)]: max error \(String(format: "%.2e", maxError)) "
            + "(tolerance \(String(format: "%.0e", tolerance))) \(passed ? "PASS" : "FAIL")"
    }
}

/// Settings of the derivative checker.
///
/// **Why these tolerances.** The central difference (f(x + h) − f(x − h)) / 2h has truncation error about
/// h²·|f‴|/6 and rounding error about ε·|f|/h (ε = 2.2·10⁻¹⁶ in Double). With the default relative step
/// h = 10⁻⁶ (scaled by max(1, |x|)) both are near 10⁻¹⁰ for a well-scaled function, so a correct rule shows
/// errors of 10⁻¹⁰ to 10⁻⁸, while a wrong rule (a missing factor, a wrong sign, a transposed operand) shows errors
/// of order 1. The Double tolerance 10⁻⁶ sits between, with two orders of margin on each side. A derivative
/// computed in Float carries its own rounding error, about 6·10⁻⁸ times the condition of the computation (more
/// after long sums), so Float results are held to 10⁻³. The dot-product test compares two exact-arithmetic-equal
/// sums, so only rounding separates them: 10⁻¹⁰ in Double and 10⁻⁴ in Float, relative to the size of the terms.
///
/// Large values: the rounding error of the central difference grows with the size S of what is differenced
/// (S = Σᵢ|vᵢ fᵢ(x)| for a reverse row, maxᵢ|fᵢ(x)| for a forward row), about ε·S/h. When 10·ε·S/h exceeds the
/// tolerance (S above about 450 in Double at the default step), the finite difference itself cannot resolve
/// 10⁻⁶, and that row's tolerance is raised to 10·ε·S/h and reported with it. (The factor 10 covers the rounding
/// of the function's own evaluation.) An explicit `tolerance` is used as given.
public struct CheckOptions: Sendable {
    /// Relative finite-difference step: coordinate j moves by step · max(1, |xⱼ|).
    public var step: Double = 1e-6
    /// Overrides the tolerance of `.reverse` and `.forward` checks (default 10⁻⁶ in Double, 10⁻³ in Float).
    public var tolerance: Double?
    /// Overrides the tolerance of `.dotProduct` checks (default 10⁻¹⁰ in Double, 10⁻⁴ in Float).
    public var dotProductTolerance: Double?
    /// Seed of the random cotangent v and tangent u.
    public var seed: UInt64 = 0x5EED
    /// Finite differences are taken on at most this many coordinates per input (chosen at random when the input
    /// is larger); each costs two evaluations of the function.
    public var maxCoordinates: Int = 200

    /// Default settings.
    public init() {}
}

/// Checks the derivatives of `f` at `inputs`: reverse mode (vᵀJ) and forward mode (J·u) against central finite
/// differences computed in Double, and the dot-product test ⟨v, J·u⟩ = ⟨vᵀJ, u⟩ between the two modes.
///
/// v (shaped like the output) and u (shaped like the inputs) are random normal, from `options.seed`. The
/// derivatives are computed in `Scalar`; the finite differences always evaluate `f` in Double at the same points.
/// The tests of this library check every primitive with this function; `autograd check` prints the same results.
/// - Returns: one result per requested mode.
/// - Complexity: one forward and one reverse pass, plus two evaluations of f per checked coordinate.
public func checkDerivatives<F: TensorFunction, Scalar: TensorScalar>(
    of f: F, at inputs: [Tensor<Scalar>], modes: [CheckMode] = CheckMode.allCases, name: String = "f",
    options: CheckOptions = CheckOptions()
) throws -> [DerivativeCheckResult] {
    try DerivativeChecker(name: name, options: options, evaluate: { try f($0) }, reference: { try f($0) })
        .run(inputs: inputs, modes: modes)
}

/// Checks reverse-mode derivatives of a Double function against central finite differences (see
/// ``checkDerivatives(of:at:modes:name:options:)-(F,_,_,_,_)`` for how, and ``CheckOptions`` for the tolerances).
///
/// ```swift
/// let result = try checkGradients(of: { x in (x[0] * sin(x[1])).sum() }, at: [a, b])
/// precondition(result.passed)
/// ```
public func checkGradients(
    of f: ([Tensor<Double>]) throws -> Tensor<Double>, at inputs: [Tensor<Double>], name: String = "f",
    options: CheckOptions = CheckOptions()
) throws -> DerivativeCheckResult {
    try withoutActuallyEscaping(f) { f in
        try DerivativeChecker(name: name, options: options, evaluate: f, reference: f)
            .run(inputs: inputs, modes: [.reverse])[0]
    }
}

/// Checks a Double function in every mode: reverse and forward against finite differences, and the dot-product
/// test (see ``checkDerivatives(of:at:modes:name:options:)``).
public func checkDerivatives(
    of f: ([Tensor<Double>]) throws -> Tensor<Double>, at inputs: [Tensor<Double>],
    modes: [CheckMode] = CheckMode.allCases, name: String = "f", options: CheckOptions = CheckOptions()
) throws -> [DerivativeCheckResult] {
    try withoutActuallyEscaping(f) { f in
        try DerivativeChecker(name: name, options: options, evaluate: f, reference: f).run(inputs: inputs, modes: modes)
    }
}

/// The checker's machinery: AD in `Scalar`, finite differences in Double.
struct DerivativeChecker<Scalar: TensorScalar> {
    let name: String
    let options: CheckOptions
    let evaluate: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
    let reference: ([Tensor<Double>]) throws -> Tensor<Double>

    private var isDouble: Bool { Scalar.scalarType == .float64 }

    func run(inputs: [Tensor<Scalar>], modes: [CheckMode]) throws -> [DerivativeCheckResult] {
        let points = inputs.map { $0.detached() }
        let x64 = points.map { Tensor<Double>(converting: $0).detached() }
        let y = try withoutRecording { try evaluate(points) }
        var rng = SeededGenerator(seed: options.seed)
        let v64 = Tensor<Double>(randomNormal: y.shape, using: &rng)
        let u64 = x64.map { Tensor<Double>(randomNormal: $0.shape, using: &rng) }
        let v = Tensor<Scalar>(converting: v64), u = u64.map { Tensor<Scalar>(converting: $0) }

        let tolerance = options.tolerance ?? (isDouble ? 1e-6 : 1e-3)
        let dotTolerance = options.dotProductTolerance ?? (isDouble ? 1e-10 : 1e-4)
        var vjps: [Tensor<Scalar>]?
        var jvpOut: Tensor<Scalar>?
        func reverse() throws -> [Tensor<Scalar>] {
            if let vjps { return vjps }
            let r = try Functional.reverse(at: points.map(\.base), cotangents: [v.base], batched: false,
                                           call: "checkDerivatives") { [try evaluate($0.map { Tensor(unchecked: $0) }).base] }
            vjps = r.results.map { Tensor(unchecked: $0) }
            return vjps!
        }
        func forward() throws -> Tensor<Scalar> {
            if let jvpOut { return jvpOut }
            let r = try Functional.forward(at: points.map(\.base), tangents: u.map(\.base), batched: false,
                                           call: "checkDerivatives") { [try evaluate($0.map { Tensor(unchecked: $0) }).base] }
            jvpOut = Tensor(unchecked: r.tangents[0])
            return jvpOut!
        }

        // What the finite differences can resolve (see `CheckOptions`): 10 ε S / h, S the size of what is differenced.
        let fx = options.tolerance == nil ? try withoutRecording { try reference(x64) }.scalars : []
        func resolvable(_ size: Double, step h: Double) -> Double {
            guard options.tolerance == nil else { return tolerance }
            return Swift.max(tolerance, 10 * Double.ulpOfOne * size / h)
        }

        var results: [DerivativeCheckResult] = []
        for mode in modes {
            var error = 0.0
            var rowTolerance = mode == .dotProduct ? dotTolerance : tolerance
            switch mode {
            case .reverse:
                let ad = try reverse()
                error = try reverseError(ad: ad, x: x64, v: v64, rng: &rng)
                rowTolerance = resolvable(zip(v64.scalars, fx).reduce(0) { $0 + Swift.abs($1.0 * $1.1) },
                                          step: options.step)
            case .forward:
                let ad = Tensor<Double>(converting: try forward()).scalars
                let h = options.step * Swift.max(1, x64.map { maxAbs($0) }.max() ?? 1)
                rowTolerance = resolvable(fx.map { Swift.abs($0) }.max() ?? 0, step: h)
                let plus = try withoutRecording { try reference(zip(x64, u64).map { $0 + $1 * h }) }.scalars
                let minus = try withoutRecording { try reference(zip(x64, u64).map { $0 - $1 * h }) }.scalars
                for i in ad.indices { error = Swift.max(error, mixed(ad[i], (plus[i] - minus[i]) / (2 * h))) }
            case .dotProduct:
                let ju = Tensor<Double>(converting: try forward()).scalars
                let vs = v64.scalars
                let left = zip(vs, ju).map { $0 * $1 }
                let vjp = try reverse().map { Tensor<Double>(converting: $0).scalars }
                let right = zip(vjp, u64).flatMap { zip($0, $1.scalars).map { $0 * $1 } }
                let norms = (vs.reduce(0) { $0 + $1 * $1 } * u64.reduce(0) { $0 + $1.scalars.reduce(0) { $0 + $1 * $1 } })
                    .squareRoot()
                let scale = Swift.max(left.reduce(0) { $0 + Swift.abs($1) }, right.reduce(0) { $0 + Swift.abs($1) },
                                      norms, 1e-300)
                error = Swift.abs(left.reduce(0, +) - right.reduce(0, +)) / scale
            }
            if error.isNaN { error = .infinity }
            results.append(DerivativeCheckResult(operation: name, mode: mode.rawValue, scalarType: "\(Scalar.self)",
                                                 maxError: error, tolerance: rowTolerance))
        }
        return results
    }

    private func maxAbs(_ t: Tensor<Double>) -> Double { t.scalars.map { Swift.abs($0) }.max() ?? 0 }

    /// |a − b| / (1 + |b|).
    private func mixed(_ a: Double, _ b: Double) -> Double { Swift.abs(a - b) / (1 + Swift.abs(b)) }

    /// Compares vᵀJ coordinate by coordinate with (⟨v, f(x + h eⱼ)⟩ − ⟨v, f(x − h eⱼ)⟩) / 2h.
    private func reverseError(ad: [Tensor<Scalar>], x: [Tensor<Double>], v: Tensor<Double>,
                              rng: inout SeededGenerator) throws -> Double {
        let vs = v.scalars
        func project(_ inputs: [Tensor<Double>]) throws -> Double {
            let y = try withoutRecording { try reference(inputs) }.scalars
            return zip(vs, y).reduce(0) { $0 + $1.0 * $1.1 }
        }
        var worst = 0.0
        for (i, xi) in x.enumerated() {
            let adi = Tensor<Double>(converting: ad[i]).scalars
            var coordinates = Array(0..<xi.count)
            if coordinates.count > options.maxCoordinates {
                coordinates.shuffle(using: &rng)
                coordinates = Array(coordinates.prefix(options.maxCoordinates))
            }
            for j in coordinates {
                var s = xi.scalars
                let h = options.step * Swift.max(1, Swift.abs(s[j]))
                let center = s[j]
                s[j] = center + h
                var plus = x; plus[i] = Tensor(shape: xi.shape, scalars: s)
                s[j] = center - h
                var minus = x; minus[i] = Tensor(shape: xi.shape, scalars: s)
                let fd = (try project(plus) - project(minus)) / (2 * h)
                worst = Swift.max(worst, mixed(adi[j], fd))
            }
        }
        return worst
    }
}

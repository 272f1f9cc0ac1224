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
    /// but comes out of the two modes as different rounding noise (10⁻¹⁷) passes. For a `"batched"` row, also the
    /// largest mixed difference between a slice and the same direction computed alone.
    public internal(set) var maxError: Double
    /// The largest error allowed.
    public let tolerance: Double
    /// The way the engine computed the derivative: `"default"`, the engine's own choice (the rows of
    /// ``checkDerivatives(of:at:modes:name:options:)-(F,_,_,_,_)`` and of ``TransformChecks``), or, in the rows of
    /// ``PrimitiveChecks``, a route forced by the checker: `"general"` (the rules as stated, every fast path off) or
    /// one of the faster routes the engine took for the case: `"tensor"` and `"buffer"` (forward mode's plain
    /// forms), `"two-input"`, `"fused"` (fused derivative kernels), `"in-place"` (a VJP written into its cotangent's
    /// buffer), `"batched"` (several tangents or cotangents in one pass) and `"tangent-only HVP"`.
    public var route: String = "default"
    /// `maxError <= tolerance` (and no NaN).
    public var passed: Bool { maxError <= tolerance }

    /// One line: operation, mode (and route, if one was forced), type, error, tolerance, PASS/FAIL.
    public var description: String {
        "\(operation) [\(mode)\(route == "default" ? "" : ", " + route), \(scalarType)]: max error \(String(format: "%.2e", maxError)) "
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
///
/// The finite differences (the expensive part) are taken once per check (`Reference`); each route the derivatives
/// are computed by is then compared with them (see `runRoutes`).
struct DerivativeChecker<Scalar: TensorScalar> {
    let name: String
    let options: CheckOptions
    let evaluate: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
    let reference: ([Tensor<Double>]) throws -> Tensor<Double>

    private var isDouble: Bool { Scalar.scalarType == .float64 }
    private var tolerance: Double { options.tolerance ?? (isDouble ? 1e-6 : 1e-3) }
    private var dotTolerance: Double { options.dotProductTolerance ?? (isDouble ? 1e-10 : 1e-4) }

    /// The finite differences every route is compared with: for up to `batch` random cotangents vₖ and tangent
    /// sets uₖ (the first pair is the one the unbatched rows use), vₖᵀJ column by column and J·uₖ.
    struct Reference {
        let points: [Tensor<Scalar>]
        let x64: [Tensor<Double>]
        let v64: [Tensor<Double>]
        let u64: [[Tensor<Double>]]
        /// (f(x + h eⱼ) − f(x − h eⱼ)) / 2h for the sampled coordinates j of each input i.
        let columns: [(input: Int, coordinate: Int, column: [Double])]
        /// The finite difference of J·uₖ.
        let ju: [[Double]]
        let reverseTolerance: [Double]
        let forwardTolerance: Double

        /// vₖᵀJ at the sampled coordinates.
        func vjp(_ k: Int) -> [(input: Int, coordinate: Int, value: Double)] {
            let v = v64[k].scalars
            return columns.map { ($0.input, $0.coordinate, zip(v, $0.column).reduce(0) { $0 + $1.0 * $1.1 }) }
        }
    }

    /// Draws the random directions and takes the finite differences (`batch` cotangents and tangent sets).
    func makeReference(inputs: [Tensor<Scalar>], batch: Int) throws -> Reference {
        let points = inputs.map { $0.detached() }
        let x64 = points.map { Tensor<Double>(converting: $0).detached() }
        let y = try withoutRecording { try evaluate(points) }
        var rng = SeededGenerator(seed: options.seed)
        var v64 = [Tensor<Double>(randomNormal: y.shape, using: &rng)]
        var u64 = [x64.map { Tensor<Double>(randomNormal: $0.shape, using: &rng) }]
        let fx = try withoutRecording { try reference(x64) }.scalars
        func resolvable(_ size: Double, step h: Double) -> Double {
            guard options.tolerance == nil else { return tolerance }
            return Swift.max(tolerance, 10 * Double.ulpOfOne * size / h)
        }
        var columns: [(input: Int, coordinate: Int, column: [Double])] = []
        for (i, xi) in x64.enumerated() {
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
                var plus = x64; plus[i] = Tensor(shape: xi.shape, scalars: s)
                s[j] = center - h
                var minus = x64; minus[i] = Tensor(shape: xi.shape, scalars: s)
                let fp = try withoutRecording { try reference(plus) }.scalars
                let fm = try withoutRecording { try reference(minus) }.scalars
                columns.append((i, j, zip(fp, fm).map { ($0 - $1) / (2 * h) }))
            }
        }
        for _ in 1..<Swift.max(batch, 1) {
            v64.append(Tensor<Double>(randomNormal: y.shape, using: &rng))
            u64.append(x64.map { Tensor<Double>(randomNormal: $0.shape, using: &rng) })
        }
        let h = options.step * Swift.max(1, x64.map { t in t.scalars.map { Swift.abs($0) }.max() ?? 0 }.max() ?? 1)
        let ju = try u64.map { u in
            let plus = try withoutRecording { try reference(zip(x64, u).map { $0 + $1 * h }) }.scalars
            let minus = try withoutRecording { try reference(zip(x64, u).map { $0 - $1 * h }) }.scalars
            return zip(plus, minus).map { ($0 - $1) / (2 * h) }
        }
        let reverseTolerance = v64.map { v in
            resolvable(zip(v.scalars, fx).reduce(0) { $0 + Swift.abs($1.0 * $1.1) }, step: options.step)
        }
        return Reference(points: points, x64: x64, v64: v64, u64: u64, columns: columns, ju: ju,
                         reverseTolerance: reverseTolerance,
                         forwardTolerance: resolvable(fx.map { Swift.abs($0) }.max() ?? 0, step: h))
    }

    /// The checker's rows without a route restriction: the derivatives as the engine computes them by default.
    func run(inputs: [Tensor<Scalar>], modes: [CheckMode]) throws -> [DerivativeCheckResult] {
        let ref = try makeReference(inputs: inputs, batch: 1)
        let rev = modes.contains { $0 != .forward } ? try reverseAD(ref, k: 0) : nil
        let fwd = modes.contains { $0 != .reverse } ? try forwardAD(ref, k: 0) : nil
        return rows(ref, k: 0, modes: modes, reverse: rev, forward: fwd, route: nil)
    }

    /// vₖᵀJ by reverse mode, per input (flattened, in Double). With `owned`, the function is evaluated as −f and
    /// pulled back from −vₖ (the same vᵀJ): the negation's rule hands the next rule a cotangent buffer nobody
    /// else holds, so the in-place route can fire on the function's own last operation.
    func reverseAD(_ ref: Reference, k: Int, owned: Bool = false) throws -> [[Double]] {
        let v = Tensor<Scalar>(converting: owned ? -ref.v64[k] : ref.v64[k])
        let r = try Functional.reverse(at: ref.points.map(\.base), cotangents: [v.base], batched: false,
                                       call: "checkDerivatives") {
            let y = try evaluate($0.map { Tensor(unchecked: $0) })
            return [owned ? (-y).base : y.base]
        }
        return r.results.map { Tensor<Double>(converting: Tensor<Scalar>(unchecked: $0)).scalars }
    }

    /// J·uₖ by forward mode (flattened, in Double). A function of one input goes the way of `jvp(of:at:tangent:)`,
    /// whose tangent is a buffer of its own (so the buffer-form route can fire from the first operation on).
    func forwardAD(_ ref: Reference, k: Int) throws -> [Double] {
        let u = ref.u64[k].map { Tensor<Scalar>(converting: $0).base }
        if ref.points.count == 1 {
            let r = try Functional.forward(at: ref.points[0].base, tangent: u[0], call: "checkDerivatives") {
                try evaluate([Tensor(unchecked: $0)]).base
            }
            return Tensor<Double>(converting: Tensor<Scalar>(unchecked: r.tangent)).scalars
        }
        let r = try Functional.forward(at: ref.points.map(\.base), tangents: u, batched: false,
                                       call: "checkDerivatives") { [try evaluate($0.map { Tensor(unchecked: $0) }).base] }
        return Tensor<Double>(converting: Tensor<Scalar>(unchecked: r.tangents[0])).scalars
    }

    /// Every vₖᵀJ in one batched reverse pass, and every J·uₖ in one batched forward pass: slice k of each.
    func batchedAD(_ ref: Reference) throws -> (reverse: [[[Double]]], forward: [[Double]]) {
        let batch = ref.v64.count
        let v = Tensor<Scalar>(converting: Tensor(stacking: ref.v64))
        let r = try Functional.reverse(at: ref.points.map(\.base), cotangents: [v.base], batched: true,
                                       call: "checkDerivatives") { [try evaluate($0.map { Tensor(unchecked: $0) }).base] }
        let pulled = r.results.map { Tensor<Double>(converting: Tensor<Scalar>(unchecked: $0)).scalars }
        let reverse = (0..<batch).map { k in
            pulled.map { all in let n = all.count / batch; return Array(all[(k * n)..<((k + 1) * n)]) }
        }
        let u = ref.x64.indices.map { i in Tensor<Scalar>(converting: Tensor(stacking: ref.u64.map { $0[i] })).base }
        let f = try Functional.forward(at: ref.points.map(\.base), tangents: u, batched: true,
                                       call: "checkDerivatives") { [try evaluate($0.map { Tensor(unchecked: $0) }).base] }
        let pushed = Tensor<Double>(converting: Tensor<Scalar>(unchecked: f.tangents[0])).scalars
        let n = pushed.count / batch
        return (reverse, (0..<batch).map { Array(pushed[($0 * n)..<(($0 + 1) * n)]) })
    }

    /// The rows comparing vₖᵀJ (`reverse`) and J·uₖ (`forward`) with the finite differences, and with each other.
    /// `route` nil: the engine's default choice.
    func rows(_ ref: Reference, k: Int, modes: [CheckMode], reverse: [[Double]]?, forward: [Double]?,
              route: Route?) -> [DerivativeCheckResult] {
        var results: [DerivativeCheckResult] = []
        for mode in modes {
            var error = 0.0
            var rowTolerance = tolerance
            switch mode {
            case .reverse:
                guard let reverse else { continue }
                for (i, j, fd) in ref.vjp(k) { error = Swift.max(error, mixed(reverse[i][j], fd)) }
                rowTolerance = ref.reverseTolerance[k]
            case .forward:
                guard let forward else { continue }
                for (ad, fd) in zip(forward, ref.ju[k]) { error = Swift.max(error, mixed(ad, fd)) }
                rowTolerance = ref.forwardTolerance
            case .dotProduct:
                guard let forward, let reverse else { continue }
                rowTolerance = dotTolerance
                error = dotProductError(v: ref.v64[k].scalars, ju: forward, vjp: reverse, u: ref.u64[k].map(\.scalars))
            }
            if error.isNaN { error = .infinity }
            results.append(DerivativeCheckResult(operation: name, mode: mode.rawValue, scalarType: "\(Scalar.self)",
                                                 maxError: error, tolerance: rowTolerance, route: route?.rawValue ?? "default"))
        }
        return results
    }

    /// |⟨v, J·u⟩ − ⟨vᵀJ, u⟩| relative to the size of the terms (see `DerivativeCheckResult.maxError`).
    private func dotProductError(v: [Double], ju: [Double], vjp: [[Double]], u: [[Double]]) -> Double {
        let left = zip(v, ju).map { $0 * $1 }
        let right = zip(vjp, u).flatMap { zip($0, $1).map { $0 * $1 } }
        let norms = (v.reduce(0) { $0 + $1 * $1 } * u.reduce(0) { $0 + $1.reduce(0) { $0 + $1 * $1 } }).squareRoot()
        let scale = Swift.max(left.reduce(0) { $0 + Swift.abs($1) }, right.reduce(0) { $0 + Swift.abs($1) },
                              norms, 1e-300)
        return Swift.abs(left.reduce(0, +) - right.reduce(0, +)) / scale
    }

    /// |a − b| / (1 + |b|).
    private func mixed(_ a: Double, _ b: Double) -> Double { Swift.abs(a - b) / (1 + Swift.abs(b)) }
}

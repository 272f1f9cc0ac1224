/// The library's own derivative checks: every primitive (and the main composites), at random points, with broadcast
/// shapes, in Float and Double, through ``checkDerivatives(of:at:modes:name:options:)-(F,_,_,_,_)``, and through
/// every route the engine takes for each (general rules, plain and buffer forms, fused kernels, in-place owned
/// cotangents, batched tangents and cotangents, the tangent-only HVP step). The test suite asserts that every result
/// passes and that every primitive and every fast route is exercised; `autograd check` prints the same table.
public enum PrimitiveChecks {
    /// The cases, in the order the table prints them: each primitive's checks in registry order, then the
    /// composites'.
    static let cases: [CheckCase] = primitiveRegistry.flatMap(\.checks) + compositeChecks

    /// The operation names checked, in table order.
    public static var operationNames: [String] { cases.map(\.name) }

    /// Runs every check in `modes` for each scalar type in `types` (Float and Double by default), through every
    /// route the engine takes for it. Inputs are random, drawn from `seed` in each case's domain (positive inputs
    /// for log and sqrt, probabilities in (0.05, 0.95) for binary cross-entropy, ...).
    public static func run(modes: [CheckMode] = CheckMode.allCases, types: [ScalarType] = [.float32, .float64],
                           seed: UInt64 = 2026) throws -> [DerivativeCheckResult] {
        try runTracing(modes: modes, types: types, seed: seed).results
    }

    /// Runs the checks and also reports the primitive types they exercised (in the general route) and the fast
    /// routes taken for each primitive type.
    static func runTracing(modes: [CheckMode], types: [ScalarType], seed: UInt64, routes: Bool = true) throws
        -> (results: [DerivativeCheckResult], primitives: Set<String>, routes: [String: RouteSet]) {
        let trace = PrimitiveTrace()
        var fired: [String: RouteSet] = [:]
        var results: [DerivativeCheckResult] = []
        for c in cases {
            for type in types {
                let (rows, log) = try check(c, type, modes: modes, seed: seed,
                                            routes: routes ? Route.allCases : [.general], trace: trace)
                results += rows
                fired.merge(log) { $0.union($1) }
            }
        }
        return (results, trace.seen, fired)
    }

    /// Checks one case in one element type through `routes` (those the engine takes for it); returns the rows and
    /// the routes taken, by primitive type.
    static func check(_ c: CheckCase, _ type: ScalarType, modes: [CheckMode] = CheckMode.allCases, seed: UInt64 = 2026,
                      routes: [Route] = Route.allCases, trace: PrimitiveTrace? = nil) throws
        -> (rows: [DerivativeCheckResult], routes: [String: RouteSet]) {
        switch type {
        case .float32: return try check(c, Float.self, modes: modes, seed: seed, routes: routes, trace: trace)
        case .float64: return try check(c, Double.self, modes: modes, seed: seed, routes: routes, trace: trace)
        case .bool, .int32: return ([], [:])
        }
    }

    private static func check<S: TensorScalar>(_ c: CheckCase, _: S.Type, modes: [CheckMode], seed: UInt64,
                                               routes: [Route], trace: PrimitiveTrace?) throws
        -> (rows: [DerivativeCheckResult], routes: [String: RouteSet]) {
        var rng = SeededGenerator(seed: seed &+ UInt64(truncatingIfNeeded: c.name.hashValueStable))
        let inputs: [Tensor<S>] = c.inputs.map { shape, domain in
            switch domain {
            case .normal: Tensor(randomNormal: shape, using: &rng)
            case .positive: Tensor(randomUniform: shape, in: 0.5..<2, using: &rng)
            case .unit: Tensor(randomUniform: shape, in: 0.05..<0.95, using: &rng)
            case .aboveMinusOne: Tensor(randomUniform: shape, in: -0.5..<2, using: &rng)
            case .normalWithZeros: withZeros(Tensor(randomNormal: shape, using: &rng))
            case .positiveDefinite, .wellConditioned, .negativeDeterminant: matrix(shape, domain, using: &rng)
            }
        }
        let checker = DerivativeChecker<S>(name: c.name, options: CheckOptions(), evaluate: { try c($0) },
                                           reference: { try c($0) })
        let hessianOf = c.hessianOf.map { f in { (x: AnyTensor) throws -> AnyTensor in try f(x) } }
        return try checker.runRoutes(inputs: inputs, modes: modes, routes: routes, hessianOf: hessianOf, trace: trace)
    }
}

/// One check case: a name, input shapes with their domains, and the function, written on type-erased tensors so
/// that one closure serves Float and Double.
struct CheckCase: TensorFunction, Sendable {
    /// Where a check case draws each input from: a standard normal, [0.5, 2), [0.05, 0.95) or [−0.5, 2);
    /// `normalWithZeros` is a standard normal with every third element (flat positions 0, 3, 6, …) exactly 0.
    /// Matrix domains (the last axis is n): `positiveDefinite` X·Xᵀ/n + I, `wellConditioned` 2I + X/(2√n),
    /// `negativeDeterminant` the same with its first two rows swapped (X normal).
    enum Domain: Sendable {
        case normal, positive, unit, aboveMinusOne, normalWithZeros, positiveDefinite, wellConditioned, negativeDeterminant
    }
    /// An input's shape and domain.
    typealias Input = (shape: [Int], domain: Domain)

    let name: String
    let inputs: [Input]
    let body: @Sendable ([AnyTensor]) throws -> AnyTensor
    /// For a second-order case, whose body is the gradient ∇f of a function of one input: f itself (its
    /// Hessian-vector products are checked through the tangent-only HVP route).
    let hessianOf: (@Sendable (AnyTensor) throws -> AnyTensor)?

    init(_ name: String, _ inputs: [Input], _ body: @escaping @Sendable ([AnyTensor]) throws -> AnyTensor) {
        self.name = name
        self.inputs = inputs
        self.body = body
        self.hessianOf = nil
    }

    private init(name: String, inputs: [Input], secondOrderOf f: @escaping @Sendable (AnyTensor) throws -> AnyTensor) {
        self.name = name
        self.inputs = inputs
        self.body = { x in
            try Functional.reverse(at: [x[0]], cotangents: nil, batched: false, call: "gradient(at:of:)") {
                [try f($0[0])]
            }.results[0]
        }
        self.hessianOf = f
    }

    /// A second-order case: the gradient of `f` (a function of one input with a one-element output), checked in
    /// every mode, so its derivatives are second derivatives of f.
    static func secondOrder(_ name: String, _ inputs: [Input],
                            _ f: @escaping @Sendable (AnyTensor) throws -> AnyTensor) -> CheckCase {
        CheckCase(name: name, inputs: inputs, secondOrderOf: f)
    }

    func callAsFunction<S: TensorScalar>(_ x: [Tensor<S>]) throws -> Tensor<S> {
        Tensor(unchecked: try body(x.map(\.base)))
    }
}

/// Evaluates a function written with the typed public API in the element type of `x`: pass one generic function
/// for both element types (`typed(x, f, f)`).
func typed(_ x: [AnyTensor], _ float: ([Tensor<Float>]) throws -> Tensor<Float>,
           _ double: ([Tensor<Double>]) throws -> Tensor<Double>) rethrows -> AnyTensor {
    switch x[0].scalarType {
    case .float32: try float(x.map { Tensor(unchecked: $0) }).base
    case .float64: try double(x.map { Tensor(unchecked: $0) }).base
    case .bool, .int32: Kernel.noKernel("a derivative check", x[0].scalarType)
    }
}

extension String {
    /// A hash that is the same in every run (Swift's `hashValue` is randomly seeded per process).
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}

extension PrimitiveChecks {
    /// A random matrix (or batch of them) from one of the matrix domains, built in Double and converted.
    static func matrix<S: TensorScalar>(_ shape: [Int], _ domain: CheckCase.Domain,
                                        using rng: inout SeededGenerator) -> Tensor<S> {
        let x = Tensor<Double>(randomNormal: shape, using: &rng)
        let n = shape[shape.count - 1]
        let eye = Tensor<Double>(identity: n)
        let wellConditioned = eye * 2 + x / (2 * Double(n).squareRoot())
        switch domain {
        case .positiveDefinite: return Tensor(converting: matmul(x, x, transposeB: true) / Double(n) + eye)
        case .negativeDeterminant:
            var order = Array(0..<n)
            order.swapAt(0, 1)
            return Tensor(converting: wellConditioned.gathering(atIndices: order, alongAxis: -2))
        default: return Tensor(converting: wellConditioned)
        }
    }
}

extension PrimitiveChecks {
    /// The `"sparsity"` rows: for every check case, in Double, the pattern ``jacobianSparsity(of:at:kind:)`` detects
    /// (by the primitives' sparsity rules) against the non-zeros of dense Jacobians at three random points, and
    /// the local pattern (`kind: .local`) at the first point against that point's non-zeros. A row's error is the
    /// number of non-zero entries found outside the detected patterns, plus the entries of the local pattern outside
    /// the global one (tolerance 0); a pattern may be larger than a point's non-zeros.
    /// - Complexity: per case, one detection and three dense Jacobians of its inputs joined into one vector.
    public static func sparsityRows(seed: UInt64 = 2026) throws -> [DerivativeCheckResult] {
        try cases.map { c in
            let f = joined(c)
            var rng = SeededGenerator(seed: seed &+ UInt64(truncatingIfNeeded: c.name.hashValueStable))
            func point() -> Tensor<Double> { joinedPoint(c, using: &rng) }
            let x = point()
            let pattern = try jacobianSparsity(of: f, at: x)
            let m = try withoutRecording { try f(x) }.count, n = x.count
            let local = try jacobianSparsity(of: f, at: x, kind: .local)
            var outside = 0
            for (k, p) in [x, point(), point()].enumerated() {
                let dense = try jacobian(of: f, at: p).reshaped(to: [m, n]).scalars
                for i in 0..<m {
                    for j in 0..<n where dense[i * n + j] != 0 {
                        if !pattern.contains(row: i, column: j) { outside += 1 }
                        if k == 0 && !local.contains(row: i, column: j) { outside += 1 }
                    }
                }
            }
            for i in 0..<m { for j in local.columns(inRow: i) where !pattern.contains(row: i, column: j) { outside += 1 } }
            return DerivativeCheckResult(operation: c.name, mode: "sparsity", scalarType: "Double",
                                         maxError: Double(outside), tolerance: 0)
        }
    }

    /// A check case as a function of one vector: its inputs flattened and joined in order.
    static func joined(_ c: CheckCase) -> (Tensor<Double>) throws -> Tensor<Double> {
        { x in
            var offset = 0
            let parts = c.inputs.map { input -> Tensor<Double> in
                defer { offset += Shape.count(input.shape) }
                return x[offset..<(offset + Shape.count(input.shape))].reshaped(to: input.shape)
            }
            return try c(parts)
        }
    }

    /// `t` with every third element (flat positions 0, 3, 6, …) set to 0: points where products have zero factors.
    static func withZeros<S: TensorScalar>(_ t: Tensor<S>) -> Tensor<S> {
        Tensor(shape: t.shape, scalars: t.scalars.enumerated().map { $0 % 3 == 0 ? 0 : $1 })
    }

    /// A random point of `joined(c)`: each input drawn from its domain, flattened and joined in order.
    static func joinedPoint(_ c: CheckCase, using rng: inout SeededGenerator) -> Tensor<Double> {
        var scalars: [Double] = []
        for input in c.inputs {
            let flat = [Shape.count(input.shape)]
            switch input.domain {
            case .normal: scalars += Tensor<Double>(randomNormal: flat, using: &rng).scalars
            case .positive: scalars += Tensor<Double>(randomUniform: flat, in: 0.5..<2, using: &rng).scalars
            case .unit: scalars += Tensor<Double>(randomUniform: flat, in: 0.05..<0.95, using: &rng).scalars
            case .aboveMinusOne: scalars += Tensor<Double>(randomUniform: flat, in: -0.5..<2, using: &rng).scalars
            case .normalWithZeros: scalars += withZeros(Tensor<Double>(randomNormal: flat, using: &rng)).scalars
            case .positiveDefinite, .wellConditioned, .negativeDeterminant:
                let m: Tensor<Double> = matrix(input.shape, input.domain, using: &rng)
                scalars += m.scalars
            }
        }
        return Tensor(shape: [scalars.count], scalars: scalars)
    }
}

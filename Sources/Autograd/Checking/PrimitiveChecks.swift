/// The library's own derivative checks: every primitive (and the main composites), at random points, with broadcast
/// shapes, in Float and Double, through ``checkDerivatives(of:at:modes:name:options:)-(F,_,_,_,_)``. The test suite asserts that
/// every result passes and that every primitive is exercised; `autograd check` prints the same table.
public enum PrimitiveChecks {
    /// Where a check case draws each input from.
    enum Domain { case normal, positive, unit, aboveMinusOne }

    /// One check case: a name, input shapes with their domains, and the function.
    struct Case: TensorFunction {
        let name: String
        let inputs: [(shape: [Int], domain: Domain)]
        let body: Body

        func callAsFunction<S: TensorScalar>(_ x: [Tensor<S>]) throws -> Tensor<S> { try body.evaluate(x) }
    }

    /// The functions, one per case (a switch, since a closure cannot be generic over the scalar type).
    enum Body {
        case exp, log, log1p, sqrt, sin, cos, tanh, sigmoid, abs, relu, softplus, negate, affine, cube, powFraction,
             reciprocal, square
        case add, subtract, multiply, divide, pow, maximum, minimum, select, clamp
        case sumAll, sumAxes, sumKeep, maxAxes, minAll, mean, logSumExp, softmax, logSoftmax
        case reshape, permute, transpose, expand, slice, index, gather, concatenate, stack, squeezeUnsqueeze
        case matmul, bce, convert
        case secondOrderElementwise, secondOrderPositive, secondOrderPiecewise, secondOrderSlice, secondOrderGather
        case secondOrderMatmul

        func evaluate<S: TensorScalar>(_ x: [Tensor<S>]) throws -> Tensor<S> {
            switch self {
            case .exp: return Autograd.exp(x[0])
            case .log: return Autograd.log(x[0])
            case .log1p: return Autograd.log1p(x[0])
            case .sqrt: return Autograd.sqrt(x[0])
            case .sin: return Autograd.sin(x[0])
            case .cos: return Autograd.cos(x[0])
            case .tanh: return Autograd.tanh(x[0])
            case .sigmoid: return Autograd.sigmoid(x[0])
            case .abs: return Autograd.abs(x[0])
            case .relu: return Autograd.relu(x[0])
            case .softplus: return Autograd.softplus(x[0])
            case .negate: return -x[0]
            case .affine: return x[0] * 2.5 + 1
            case .cube: return Autograd.pow(x[0], 3)
            case .powFraction: return Autograd.pow(x[0], 2.5)
            case .reciprocal: return 1 / x[0]
            case .square: return x[0].squared()
            case .add: return x[0] + x[1]
            case .subtract: return x[0] - x[1]
            case .multiply: return x[0] * x[1]
            case .divide: return x[0] / x[1]
            case .pow: return Autograd.pow(x[0], x[1])
            case .maximum: return Autograd.maximum(x[0], x[1])
            case .minimum: return Autograd.minimum(x[0], x[1])
            case .select:
                let pattern = Tensor<S>(shape: [3, 4], scalars: (0..<12).map { S(($0 * 7) % 5) - 2 })
                return Tensor.where(pattern .> 0, x[0], x[1])
            case .clamp: return x[0].clamped(min: -0.5, max: 0.7)
            case .sumAll: return x[0].sum()
            case .sumAxes: return x[0].sum(alongAxes: 0, 2)
            case .sumKeep: return x[0].sum(alongAxes: [-1], keepingDimensions: true) * x[0]
            case .maxAxes: return x[0].max(alongAxes: 1)
            case .minAll: return x[0].min()
            case .mean: return x[0].mean(alongAxes: 0)
            case .logSumExp: return x[0].logSumExp(alongAxes: 1)
            case .softmax: return x[0].softmax()
            case .logSoftmax: return x[0].logSoftmax(alongAxes: 0)
            case .reshape: return x[0].reshaped(to: [4, -1]) * x[1]
            case .permute: return x[0].permuted(2, 0, 1)
            case .transpose: return x[0].transposed() * x[1]
            case .expand: return x[0].broadcasted(to: [2, 3, 4])
            case .slice: return x[0][1..<3, stride(from: 0, to: 5, by: 2)]
            case .index: return x[0][1] * x[0][.all, 2]
            case .gather: return x[0].gathering(atIndices: [2, 0, 2, 1], alongAxis: 1)
            case .concatenate: return Tensor(concatenating: [x[0], x[1]], alongAxis: 1)
            case .stack: return Tensor(stacking: [x[0], x[1]], alongAxis: -1)
            case .squeezeUnsqueeze: return x[0].unsqueezed(at: 1).squeezed(alongAxes: 0) * 2
            case .matmul: return Autograd.matmul(x[0], x[1])
            case .bce: return binaryCrossEntropy(probabilities: x[0], targets: x[1], reduction: .none)
            case .convert: return Tensor<S>(converting: Tensor<Double>(converting: x[0]) * 1.5) * x[0]
            case .secondOrderElementwise:
                return try gradient(at: x[0]) { (Autograd.exp($0) * Autograd.sin($0) + Autograd.tanh($0) * $0).sum() }
            case .secondOrderPositive:
                return try gradient(at: x[0]) { x in
                    let smooth = Autograd.log(x) * Autograd.sqrt(x) + Autograd.log1p(x) * Autograd.cos(x)
                    return (smooth + Autograd.sigmoid(x) * Autograd.softplus(x) + 1 / x).sum()
                }
            case .secondOrderPiecewise:
                return try gradient(at: x[0]) { x in (Autograd.abs(x) * x + Autograd.relu(x) * Autograd.sin(x)).sum() }
            case .secondOrderSlice:
                return try gradient(at: x[0]) { $0[1..<3].squared().sum() + $0[0].squared().sum() * $0[.all, 1].sum() }
            case .secondOrderGather:
                return try gradient(at: x[0]) { $0.gathering(atIndices: [0, 2, 2], alongAxis: 0).squared().sum() }
            case .secondOrderMatmul:
                return try gradient(at: x[0]) { w in Autograd.tanh(Autograd.matmul(w, w.transposed())).sum() }
            }
        }
    }

    /// The cases, in the order the table prints them.
    static let cases: [Case] = [
        Case(name: "exp", inputs: [([3, 4], .normal)], body: .exp),
        Case(name: "log", inputs: [([3, 4], .positive)], body: .log),
        Case(name: "log1p", inputs: [([3, 4], .aboveMinusOne)], body: .log1p),
        Case(name: "sqrt", inputs: [([3, 4], .positive)], body: .sqrt),
        Case(name: "sin", inputs: [([3, 4], .normal)], body: .sin),
        Case(name: "cos", inputs: [([3, 4], .normal)], body: .cos),
        Case(name: "tanh", inputs: [([3, 4], .normal)], body: .tanh),
        Case(name: "sigmoid", inputs: [([3, 4], .normal)], body: .sigmoid),
        Case(name: "abs", inputs: [([3, 4], .normal)], body: .abs),
        Case(name: "relu", inputs: [([3, 4], .normal)], body: .relu),
        Case(name: "softplus", inputs: [([3, 4], .normal)], body: .softplus),
        Case(name: "negate", inputs: [([3, 4], .normal)], body: .negate),
        Case(name: "affine (x * 2.5 + 1)", inputs: [([3, 4], .normal)], body: .affine),
        Case(name: "pow (x ^ 3)", inputs: [([3, 4], .normal)], body: .cube),
        Case(name: "pow (x ^ 2.5)", inputs: [([3, 4], .positive)], body: .powFraction),
        Case(name: "reciprocal (1 / x)", inputs: [([3, 4], .positive)], body: .reciprocal),
        Case(name: "squared", inputs: [([3, 4], .normal)], body: .square),
        Case(name: "add", inputs: [([3, 4], .normal), ([3, 4], .normal)], body: .add),
        Case(name: "add (broadcast [3,1] + [4])", inputs: [([3, 1], .normal), ([4], .normal)], body: .add),
        Case(name: "subtract (broadcast [2,3,4] - [3,1])", inputs: [([2, 3, 4], .normal), ([3, 1], .normal)], body: .subtract),
        Case(name: "multiply", inputs: [([3, 4], .normal), ([3, 4], .normal)], body: .multiply),
        Case(name: "multiply (broadcast [4] * [3,4])", inputs: [([4], .normal), ([3, 4], .normal)], body: .multiply),
        Case(name: "divide", inputs: [([3, 4], .normal), ([3, 4], .positive)], body: .divide),
        Case(name: "divide (broadcast [3,4] / [3,1])", inputs: [([3, 4], .normal), ([3, 1], .positive)], body: .divide),
        Case(name: "pow (tensor ^ tensor)", inputs: [([3, 4], .positive), ([3, 4], .normal)], body: .pow),
        Case(name: "pow (broadcast [3,4] ^ [4])", inputs: [([3, 4], .positive), ([4], .normal)], body: .pow),
        Case(name: "maximum", inputs: [([3, 4], .normal), ([3, 4], .normal)], body: .maximum),
        Case(name: "minimum (broadcast [3,4], [1,4])", inputs: [([3, 4], .normal), ([1, 4], .normal)], body: .minimum),
        Case(name: "where (broadcast [3,4], [4])", inputs: [([3, 4], .normal), ([4], .normal)], body: .select),
        Case(name: "clamped", inputs: [([3, 4], .normal)], body: .clamp),
        Case(name: "sum (all)", inputs: [([3, 4], .normal)], body: .sumAll),
        Case(name: "sum (axes 0, 2)", inputs: [([2, 3, 4], .normal)], body: .sumAxes),
        Case(name: "sum (keeping dimensions)", inputs: [([3, 4], .normal)], body: .sumKeep),
        Case(name: "max (axis 1)", inputs: [([3, 5], .normal)], body: .maxAxes),
        Case(name: "min (all)", inputs: [([3, 5], .normal)], body: .minAll),
        Case(name: "mean (axis 0)", inputs: [([3, 4], .normal)], body: .mean),
        Case(name: "logSumExp (axis 1)", inputs: [([3, 4], .normal)], body: .logSumExp),
        Case(name: "softmax", inputs: [([3, 4], .normal)], body: .softmax),
        Case(name: "logSoftmax (axis 0)", inputs: [([3, 4], .normal)], body: .logSoftmax),
        Case(name: "reshaped", inputs: [([3, 4], .normal), ([4, 3], .normal)], body: .reshape),
        Case(name: "permuted", inputs: [([2, 3, 4], .normal)], body: .permute),
        Case(name: "transposed", inputs: [([3, 4], .normal), ([4, 3], .normal)], body: .transpose),
        Case(name: "broadcasted ([3,1] to [2,3,4])", inputs: [([3, 1], .normal)], body: .expand),
        Case(name: "slice (x[1..<3, 0..<5 by 2])", inputs: [([4, 5], .normal)], body: .slice),
        Case(name: "index (x[1], x[:, 2])", inputs: [([3, 3], .normal)], body: .index),
        Case(name: "gathering (repeated indices)", inputs: [([2, 3, 2], .normal)], body: .gather),
        Case(name: "concatenating", inputs: [([2, 3], .normal), ([2, 2], .normal)], body: .concatenate),
        Case(name: "stacking", inputs: [([2, 3], .normal), ([2, 3], .normal)], body: .stack),
        Case(name: "squeezed / unsqueezed", inputs: [([1, 4], .normal)], body: .squeezeUnsqueeze),
        Case(name: "matmul [3,4]·[4,5]", inputs: [([3, 4], .normal), ([4, 5], .normal)], body: .matmul),
        Case(name: "matmul batched [2,3,4]·[4,5]", inputs: [([2, 3, 4], .normal), ([4, 5], .normal)], body: .matmul),
        Case(name: "matmul broadcast [2,1,3,4]·[3,4,2]", inputs: [([2, 1, 3, 4], .normal), ([3, 4, 2], .normal)], body: .matmul),
        Case(name: "matmul vector·matrix [4]·[4,5]", inputs: [([4], .normal), ([4, 5], .normal)], body: .matmul),
        Case(name: "matmul matrix·vector [3,4]·[4]", inputs: [([3, 4], .normal), ([4], .normal)], body: .matmul),
        Case(name: "matmul dot [4]·[4]", inputs: [([4], .normal), ([4], .normal)], body: .matmul),
        Case(name: "binaryCrossEntropy", inputs: [([3, 4], .unit), ([3, 4], .unit)], body: .bce),
        Case(name: "converting (Float ↔ Double)", inputs: [([3, 4], .normal)], body: .convert),
        Case(name: "second order: exp, sin, tanh", inputs: [([4], .normal)], body: .secondOrderElementwise),
        Case(name: "second order: log, sqrt, log1p, cos, sigmoid, softplus, 1/x", inputs: [([4], .positive)],
             body: .secondOrderPositive),
        Case(name: "second order: abs, relu", inputs: [([4], .normal)], body: .secondOrderPiecewise),
        Case(name: "second order: slice, index", inputs: [([4, 3], .normal)], body: .secondOrderSlice),
        Case(name: "second order: gathering", inputs: [([3, 2], .normal)], body: .secondOrderGather),
        Case(name: "second order: matmul, tanh", inputs: [([2, 3], .normal)], body: .secondOrderMatmul),
    ]

    /// The operation names checked, in table order.
    public static var operationNames: [String] { cases.map(\.name) }

    /// Runs every check in `modes` for each scalar type in `types` (Float and Double by default). Inputs are random,
    /// drawn from `seed` in each case's domain (positive inputs for log and sqrt, probabilities in (0.05, 0.95)
    /// for binary cross-entropy, ...).
    public static func run(modes: [CheckMode] = CheckMode.allCases, types: [ScalarType] = [.float32, .float64],
                           seed: UInt64 = 2026) throws -> [DerivativeCheckResult] {
        try runTracing(modes: modes, types: types, seed: seed).results
    }

    /// Runs the checks and also reports the primitive types they exercised.
    static func runTracing(modes: [CheckMode], types: [ScalarType], seed: UInt64) throws
        -> (results: [DerivativeCheckResult], primitives: Set<String>) {
        let trace = PrimitiveTrace()
        let results = try ADScope.current.with(trace: .some(trace)).run { () throws -> [DerivativeCheckResult] in
            var results: [DerivativeCheckResult] = []
            for c in cases {
                for type in types {
                    switch type {
                    case .float32: results += try check(c, Float.self, modes: modes, seed: seed)
                    case .float64: results += try check(c, Double.self, modes: modes, seed: seed)
                    case .bool: break
                    }
                }
            }
            return results
        }
        return (results, trace.seen)
    }

    private static func check<S: TensorScalar>(_ c: Case, _: S.Type, modes: [CheckMode], seed: UInt64) throws
        -> [DerivativeCheckResult] {
        var rng = SeededGenerator(seed: seed &+ UInt64(truncatingIfNeeded: c.name.hashValueStable))
        let inputs: [Tensor<S>] = c.inputs.map { shape, domain in
            switch domain {
            case .normal: Tensor(randomNormal: shape, using: &rng)
            case .positive: Tensor(randomUniform: shape, in: 0.5..<2, using: &rng)
            case .unit: Tensor(randomUniform: shape, in: 0.05..<0.95, using: &rng)
            case .aboveMinusOne: Tensor(randomUniform: shape, in: -0.5..<2, using: &rng)
            }
        }
        return try checkDerivatives(of: c, at: inputs, modes: modes, name: c.name)
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

import Foundation
import PropertyBased
import Testing
@testable import Autograd

// Property-based tests: every operation's VJP and JVP pass the public derivative checker (reverse and forward mode
// against central finite differences, and the dot-product test ⟨v, J·u⟩ = ⟨vᵀJ, u⟩) at random shapes, broadcasts,
// axes, batch dimensions and points, in Float and Double. The generators draw raw material (dimension lists, bit
// masks, a seed for the values), so a failing case shrinks to small shapes and is reported with its seed.
//
// Dimensions are 1 to 3 (zero-size dimensions have their own tests in EdgeShapeTests), so a case has at most a
// few dozen elements and the whole file runs in about twenty seconds in a debug build.

/// Where an input's values are drawn from (log and sqrt need positive inputs, and so on).
enum Domain: Sendable { case normal, positive, aboveMinusOne, unit }

/// An operation with its parameters, written once for both element types (a closure cannot be generic).
protocol Operation: Sendable {
    func apply<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S>
}

/// One generated case: an operation with its parameters, and its input shapes and domains.
struct PropertyCase: TensorFunction, Sendable, CustomStringConvertible {
    let name: String
    let inputs: [(shape: [Int], domain: Domain)]
    let seed: UInt64
    let body: any Operation

    func callAsFunction<S: TensorScalar>(_ x: [Tensor<S>]) throws -> Tensor<S> { body.apply(x) }

    var description: String { "\(name) at \(inputs.map { describe($0.shape) }.joined(separator: ", ")) (seed \(seed))" }

    /// Runs the derivative checker in both scalar types at points drawn from `seed`.
    func check(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try check(Double.self, sourceLocation: sourceLocation)
        try check(Float.self, sourceLocation: sourceLocation)
    }

    private func check<S: TensorScalar>(_: S.Type, sourceLocation: SourceLocation) throws {
        var rng = SeededGenerator(seed: seed)
        let points: [Tensor<S>] = inputs.map { shape, domain in
            switch domain {
            case .normal:
                // Kept 10⁻³ away from the kinks of relu, abs and clamped(min: −0.5, max: 0.7), where a finite
                // difference straddling the kink would disagree with either one-sided derivative.
                Tensor(shape: shape, scalars: Tensor<S>(randomNormal: shape, using: &rng).scalars.map { v in
                    [0, -0.5, 0.7].contains { Swift.abs(v - $0) < 1e-3 } ? v + 3e-3 : v
                })
            case .positive: Tensor(randomUniform: shape, in: 0.5..<2, using: &rng)
            case .aboveMinusOne: Tensor(randomUniform: shape, in: -0.5..<2, using: &rng)
            case .unit: Tensor(randomUniform: shape, in: 0.05..<0.95, using: &rng)
            }
        }
        var options = CheckOptions()
        options.seed = seed
        for row in try checkDerivatives(of: self, at: points, name: description, options: options) {
            #expect(row.passed, "\(row)", sourceLocation: sourceLocation)
        }
    }
}

// MARK: - Generators of raw material

/// A shape of rank 0 to `maxRank` with dimensions 1 to 3.
private func shapes(maxRank: Int, minRank: Int = 0) -> Generator<[Int], some Sequence & SendableMetatype> {
    Gen.int(in: 1...3).array(of: minRank...maxRank)
}

/// A seed for the values of a case.
private let seeds = Gen.uint64(in: 1...UInt64.max)

/// `full` reduced for an operand that broadcasts to it: the leading `drop` dimensions removed, and dimensions
/// where `ones` is true replaced by 1.
private func operand(of full: [Int], drop: Int, ones: [Bool]) -> [Int] {
    let kept = Array(full.dropFirst(Swift.min(drop, full.count)))
    return kept.enumerated().map { i, d in ones[i % ones.count] ? 1 : d }
}

/// Axes picked by a bit mask (bit i for axis i < rank), written negatively (counted from the end) if `negative`.
private func axes(_ mask: [Bool], rank: Int, negative: Bool) -> [Int] {
    (0..<rank).filter { mask[$0 % mask.count] }.map { negative ? $0 - rank : $0 }
}

/// Elementwise functions of one input.
struct Elementwise: Operation {
    static let all: [(name: String, domain: Domain)] = [
        ("exp", .normal), ("log", .positive), ("log1p", .aboveMinusOne), ("sqrt", .positive), ("sin", .normal),
        ("cos", .normal), ("tanh", .normal), ("sigmoid", .normal), ("abs", .normal), ("relu", .normal),
        ("softplus", .normal), ("negate", .normal), ("affine", .normal), ("pow 3", .normal), ("pow 2.5", .positive),
        ("reciprocal", .positive), ("squared", .normal), ("clamped", .normal),
    ]
    let kind: Int
    func apply<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
        let x = x[0]
        switch kind {
        case 0: return exp(x)
        case 1: return log(x)
        case 2: return log1p(x)
        case 3: return sqrt(x)
        case 4: return sin(x)
        case 5: return cos(x)
        case 6: return tanh(x)
        case 7: return sigmoid(x)
        case 8: return abs(x)
        case 9: return relu(x)
        case 10: return softplus(x)
        case 11: return -x
        case 12: return x * 1.5 - 0.5
        case 13: return pow(x, 3)
        case 14: return pow(x, 2.5)
        case 15: return 1 / x
        case 16: return x.squared()
        default: return x.clamped(min: -0.5, max: 0.7)
        }
    }
}

/// Broadcasting functions of two inputs.
struct Binary: Operation {
    static let all: [(name: String, a: Domain, b: Domain)] = [
        ("add", .normal, .normal), ("subtract", .normal, .normal), ("multiply", .normal, .normal),
        ("divide", .normal, .positive), ("pow", .positive, .normal), ("maximum", .normal, .normal),
        ("minimum", .normal, .normal), ("where", .normal, .normal),
    ]
    let kind: Int
    func apply<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
        let (a, b) = (x[0], x[1])
        switch kind {
        case 0: return a + b
        case 1: return a - b
        case 2: return a * b
        case 3: return a / b
        case 4: return pow(a, b)
        case 5: return maximum(a, b)
        case 6: return minimum(a, b)
        default:
            // A fixed pattern of the broadcast shape chooses between the operands.
            let shape = Shape.broadcast(a.shape, b.shape, "where", at: nil)
            let pattern = Tensor<S>(shape: shape, scalars: (0..<Shape.count(shape)).map { S($0 % 3) - 1 })
            return Tensor.where(pattern .> 0, a, b)
        }
    }
}

/// Reductions over axes, and softmax / logSoftmax along one axis.
struct Reduction: Operation {
    static let names = ["sum", "mean", "max", "min", "logSumExp", "softmax", "logSoftmax"]
    let kind: Int
    let axes: [Int]
    let keep: Bool
    let axis: Int
    func apply<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
        let x = x[0]
        switch kind {
        case 0: return x.sum(alongAxes: axes, keepingDimensions: keep)
        case 1: return x.mean(alongAxes: axes, keepingDimensions: keep)
        case 2: return x.max(alongAxes: axes, keepingDimensions: keep)
        case 3: return x.min(alongAxes: axes, keepingDimensions: keep)
        case 4: return x.logSumExp(alongAxes: axes, keepingDimensions: keep)
        case 5: return x.softmax(alongAxes: axis)
        default: return x.logSoftmax(alongAxes: axis)
        }
    }
}

struct MatMulOperation: Operation {
    let transposeA: Bool
    let transposeB: Bool
    func apply<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
        matmul(x[0], x[1], transposeA: transposeA, transposeB: transposeB)
    }
}

/// Shape operations with their parameters.
enum Movement: Operation {
    case reshape([Int]), permute([Int]), slice([SliceAxis]), gather([Int], axis: Int), concatenate(axis: Int)
    case broadcast([Int])
    func apply<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
        switch self {
        case .reshape(let shape): return x[0].reshaped(to: shape)
        case .permute(let p): return x[0].permuted(p)
        case .slice(let axes):
            // The public subscript, one range per axis (variadic, so spelled out by rank).
            let e = axes.map { TensorIndex.range(lower: $0.start, upper: $0.start + ($0.count - 1) * $0.step + 1,
                                                 step: $0.step) }
            switch e.count {
            case 1: return x[0][e[0]]
            case 2: return x[0][e[0], e[1]]
            case 3: return x[0][e[0], e[1], e[2]]
            default: return x[0][e[0], e[1], e[2], e[3]]
            }
        case let .gather(indices, axis): return x[0].gathering(atIndices: indices, alongAxis: axis)
        case .concatenate(let axis): return Tensor(concatenating: x, alongAxis: axis)
        case .broadcast(let shape): return x[0].broadcasted(to: shape)
        }
    }
}

/// The remaining primitives and their composites at random shapes: binary cross-entropy, conversion, stacking,
/// integer indexing, unsqueezing, and second derivatives, whose rules run the transposes of slicing (embedding) and
/// gathering (scatter-add).
struct Other: Operation {
    static let names = ["binaryCrossEntropy", "converting", "stacking", "indexing", "unsqueezed", "second order: slice",
                        "second order: gather", "second order: elementwise"]
    let kind: Int
    let axis: Int
    func apply<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
        let a = x[0], r = a.rank
        switch kind {
        case 0: return binaryCrossEntropy(probabilities: a, targets: x[1], reduction: .none)
        // Through Double: a Float intermediate would round the values the finite differences are taken of.
        case 1: return Tensor<S>(converting: Tensor<Double>(converting: a) * 2) * a
        case 2: return Tensor(stacking: [a, x[1] * a], alongAxis: axis % (r + 1))
        case 3: return r == 0 ? a * 2 : a[axis % a.shape[0]] * 3
        case 4: return a.unsqueezed(at: axis % (r + 1)).squeezed(alongAxes: axis % (r + 1)) * a
        case 5: return try! gradient(at: a) { r == 0 ? ($0 * $0 * $0).sum() : ($0[..<1] * $0[..<1] * $0[..<1]).sum() * $0.sum() }
        case 6: return try! gradient(at: a) { r == 0 ? $0.squared().sum() : $0.gathering(atIndices: [0, 0], alongAxis: 0).squared().sum() }
        default: return try! gradient(at: a) { (sin($0) * exp($0) + tanh($0) * $0).sum() }
        }
    }
}

/// A chain of operations on two inputs (h, w), ending in h ⊙ w.
struct Chain: Operation {
    let steps: [Int]
    func apply<S: TensorScalar>(_ x: [Tensor<S>]) -> Tensor<S> {
        var h = x[0], w = x[1]
        for s in steps {
            switch s {
            case 0: h = tanh(h * w + h)
            case 1: h = h.softmax() * w
            case 2: h = sigmoid(h) - w * w
            case 3: h = h + h.sum() * 0.1
            case 4: h = sin(h) * cos(w) + h.logSumExp(alongAxes: []) / 2
            default: w = softplus(w - h)
            }
        }
        return h * w
    }
}

@Suite struct PropertyTests {
    /// Elementwise functions of one input at random shapes of rank 0 to 4.
    @Test func elementwiseOperations() async {
        let raw = zip(Gen.int(in: 0...(Elementwise.all.count - 1)), shapes(maxRank: 4), seeds)
        await propertyCheck(count: 300, input: raw) { k, shape, seed in
            try PropertyCase(name: Elementwise.all[k].name, inputs: [(shape, Elementwise.all[k].domain)], seed: seed,
                             body: Elementwise(kind: k)).check()
        }
    }

    /// Broadcasting binary operations: two operands derived from one result shape by dropping leading dimensions
    /// and setting others to 1, in every combination.
    @Test func broadcastingBinaryOperations() async {
        let raw = zip(Gen.int(in: 0...(Binary.all.count - 1)), shapes(maxRank: 4), Gen.int(in: 0...4),
                      Gen.bool.array(of: 4), Gen.int(in: 0...4), Gen.bool.array(of: 4), seeds)
        await propertyCheck(count: 400, input: raw) { k, full, dropA, onesA, dropB, onesB, seed in
            let op = Binary.all[k]
            let a = operand(of: full, drop: dropA, ones: onesA), b = operand(of: full, drop: dropB, ones: onesB)
            try PropertyCase(name: op.name, inputs: [(a, op.a), (b, op.b)], seed: seed, body: Binary(kind: k)).check()
        }
    }

    /// Reductions over random sets of axes (empty, some, all; positive or negative), keeping dimensions or not,
    /// and softmax / logSoftmax along a random axis.
    @Test func reductionsOverRandomAxes() async {
        let raw = zip(Gen.int(in: 0...(Reduction.names.count - 1)), shapes(maxRank: 4, minRank: 1),
                      Gen.bool.array(of: 4), Gen.bool, Gen.bool, Gen.int(in: 0...3), seeds)
        await propertyCheck(count: 400, input: raw) { k, shape, mask, keep, negative, axis, seed in
            let op = Reduction(kind: k, axes: axes(mask, rank: shape.count, negative: negative), keep: keep,
                               axis: axis % shape.count - (negative ? shape.count : 0))
            let name = k < 5 ? "\(Reduction.names[k]) along \(op.axes), keeping \(keep)"
                             : "\(Reduction.names[k]) along \(op.axis)"
            try PropertyCase(name: name, inputs: [(shape, .normal)], seed: seed, body: op).check()
        }
    }

    /// Matrix products with random, broadcasting batch dimensions, transposed operands and vector operands.
    @Test func matmulWithRandomBatchDimensions() async {
        let raw = zip(shapes(maxRank: 3), Gen.int(in: 0...3), Gen.bool.array(of: 3), Gen.int(in: 0...3),
                      Gen.bool.array(of: 3), Gen.int(in: 1...4).array(of: 3), Gen.int(in: 0...7), seeds)
        await propertyCheck(count: 400, input: raw) { batch, dropA, onesA, dropB, onesB, mkn, flags, seed in
            let (m, k, n) = (mkn[0], mkn[1], mkn[2])
            let (transposeA, transposeB) = (flags & 1 != 0, flags & 2 != 0)
            // flags & 4: one operand is a vector without batch dimensions (the first unless it is transposed).
            let vectorA = flags & 4 != 0 && !transposeA, vectorB = flags & 4 != 0 && transposeA && !transposeB
            let a = vectorA ? [k] : operand(of: batch, drop: dropA, ones: onesA) + (transposeA ? [k, m] : [m, k])
            let b = vectorB ? [k] : operand(of: batch, drop: dropB, ones: onesB) + (transposeB ? [n, k] : [k, n])
            let name = "matmul\(transposeA ? " Aᵀ" : "")\(transposeB ? " Bᵀ" : "")"
            try PropertyCase(name: name, inputs: [(a, .normal), (b, .normal)], seed: seed,
                             body: MatMulOperation(transposeA: transposeA, transposeB: transposeB)).check()
        }
    }

    /// Shape operations with random parameters: reshape to a regrouping of the dimensions, permutation, strided
    /// slice, gather with repeated indices, concatenation and broadcasting to a larger shape.
    @Test func movementOperations() async {
        let raw = zip(Gen.int(in: 0...5), shapes(maxRank: 4, minRank: 1), Gen.int(in: 0...3).array(of: 8),
                      Gen.bool.array(of: 4), seeds)
        await propertyCheck(count: 400, input: raw) { k, shape, picks, mask, seed in
            let rank = shape.count
            var inputs: [(shape: [Int], domain: Domain)] = [(shape, .normal)]
            let op: Movement
            switch k {
            case 0:
                // The dimensions in reverse order, with the first two merged when there are two.
                var target = Array(shape.reversed())
                if target.count >= 2 { target = [target[0] * target[1]] + target.dropFirst(2) }
                op = .reshape(target)
            case 1:
                // A permutation: a rotation by picks[0], then a swap of two axes.
                var p = (0..<rank).map { ($0 + picks[0]) % rank }
                p.swapAt(picks[1] % rank, picks[2] % rank)
                op = .permute(p)
            case 2:
                // Per axis: a start, a step of 1 or 2, and as many elements as fit.
                op = .slice(shape.enumerated().map { i, d in
                    let start = picks[i] % d, step = 1 + picks[i + 4] % 2
                    return SliceAxis(start: start, count: 1 + (d - start - 1) / step, step: step)
                })
            case 3:
                let axis = picks[0] % rank
                op = .gather(picks.map { $0 % shape[axis] }, axis: axis)
            case 4:
                let axis = picks[0] % rank
                var other = shape
                other[axis] = 1 + picks[1] % 3
                inputs.append((other, .normal))
                op = .concatenate(axis: axis)
            default:
                // A source that broadcasts to `shape`: leading dimensions dropped, masked ones set to 1.
                inputs = [(operand(of: shape, drop: picks[0] % (rank + 1), ones: mask), .normal)]
                op = .broadcast(shape)
            }
            try PropertyCase(name: "\(op)", inputs: inputs, seed: seed, body: op).check()
        }
    }

    @Test func remainingOperations() async {
        let raw = zip(Gen.int(in: 0...(Other.names.count - 1)), shapes(maxRank: 3), Gen.int(in: 0...3), seeds)
        await propertyCheck(count: 300, input: raw) { k, shape, axis, seed in
            let domains: [Domain] = k == 0 ? [.unit, .unit] : [.normal, .normal]
            try PropertyCase(name: Other.names[k], inputs: domains.map { (shape, $0) }, seed: seed,
                             body: Other(kind: k, axis: axis)).check()
        }
    }

    /// A case the property test found: softmax of one element is the constant 1, so this chain's value is (ln 2)²
    /// whatever its inputs; its Jacobian is zero, and the two modes compute it as 0 and −5.6·10⁻¹⁷. The dot-product
    /// test measured that rounding noise against itself (error 1) until it measured it against ‖v‖·‖u‖.
    @Test func zeroJacobianComputedAsRoundingNoise() throws {
        try PropertyCase(name: "chain [1, 5, 1]", inputs: [([1], .normal), ([1], .normal)], seed: 6,
                         body: Chain(steps: [1, 5, 1])).check()
    }

    /// A case the property test found: two rounds of sigmoid(h) − w² and w = softplus(w − h) grow the values to 10⁴,
    /// where the central difference's own rounding (ε·S/h ≈ 4·10⁻⁶) was above the fixed Double tolerance 10⁻⁶ and a
    /// correct reverse rule failed (forward mode and the dot-product test agreed with it). The checker now raises a
    /// row's tolerance to what the finite difference can resolve.
    @Test func largeValuesWithinWhatFiniteDifferencesResolve() throws {
        try PropertyCase(name: "chain [2, 5, 2, 5]", inputs: [([3, 3], .normal), ([3, 3], .normal)],
                         seed: 2239407316792730357, body: Chain(steps: [2, 5, 2, 5])).check()
    }

    /// Compositions: a random chain of operations on a random shape, differentiated as a whole (the engine's
    /// accumulation of cotangents from several uses of one tensor).
    @Test func randomCompositions() async {
        let raw = zip(Gen.int(in: 0...5).array(of: 1...6), shapes(maxRank: 3), seeds)
        await propertyCheck(count: 300, input: raw) { steps, shape, seed in
            try PropertyCase(name: "chain \(steps)", inputs: [(shape, .normal), (shape, .normal)], seed: seed,
                             body: Chain(steps: steps)).check()
        }
    }
}

import Foundation

/// The worked example of ``CustomOperation``: log(1 + eˣ), computed stably as max(x, 0) + log1p(e^−|x|), with its
/// derivative σ(x) written by hand. `derive` drops one of the two rules so the checks also cover the derived ones.
struct LogOnePlusExp<Scalar: TensorScalar>: CustomOperation {
    enum Rules: Sendable { case both, vjpOnly, jvpOnly }
    var rules: Rules = .both
    var name: String { "logOnePlusExp" }

    func forward(_ x: [Tensor<Scalar>]) -> Tensor<Scalar> { maximum(x[0], 0) + log1p(exp(-abs(x[0]))) }

    func vjp(_ c: CustomOperationContext<Scalar>, cotangent: Tensor<Scalar>) -> [Tensor<Scalar>?] {
        if rules == .jvpOnly { return derivedVJP(c, cotangent: cotangent) }
        return [cotangent * sigmoid(c.inputs[0])]
    }

    func jvp(_ c: CustomOperationContext<Scalar>, tangents: [Tensor<Scalar>?]) -> Tensor<Scalar>? {
        if rules == .vjpOnly { return derivedJVP(c, tangents: tangents) }
        return tangents[0].map { $0 * sigmoid(c.inputs[0]) }
    }
}

/// A function of the checker's form built from a custom operation.
private struct CustomCase: TensorFunction {
    let rules: LogOnePlusExp<Float>.Rules
    func callAsFunction<S: TensorScalar>(_ x: [Tensor<S>]) throws -> Tensor<S> {
        LogOnePlusExp<S>(rules: LogOnePlusExp<S>.Rules(rules)).apply([x[0] * x[1]]) * x[0]
    }
}

extension LogOnePlusExp.Rules {
    init<T>(_ other: LogOnePlusExp<T>.Rules) {
        switch other {
        case .both: self = .both
        case .vjpOnly: self = .vjpOnly
        case .jvpOnly: self = .jvpOnly
        }
    }
}

/// Checks of the transforms built on the two modes: each compared with finite differences in Double or with an
/// independent route to the same quantity. Rows are named after the call (`jacobian`, `hessian`, `hvp`,
/// `linearize`, ...); `autograd check` prints them after the primitives.
public enum TransformChecks {
    /// f: [2, 3] → [4], smooth, with broadcasting, a matrix product and a reduction inside.
    static func vectorFunction(_ x: Tensor<Double>) -> Tensor<Double> {
        tanh(matmul(x, x.transposed())).flattened() * 2 + x.sum() + sin(x).max()
    }

    /// A scalar function of x: [2, 3].
    static func scalarFunction(_ x: Tensor<Double>) -> Tensor<Double> {
        (exp(x * 0.5) * sin(x)).sum() + x.squared().sum().squared() + x.logSumExp()
    }

    static let point = Tensor<Double>([[0.3, -0.5, 1.2], [0.7, 0.1, -0.9]])
    static let direction = Tensor<Double>([[1, -2, 0.5], [0, 0.3, 1]])

    /// |a − b| / (1 + |b|), largest over the elements.
    static func error(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
        guard a.shape == b.shape else { return .infinity }
        return zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) / (1 + Swift.abs($1)) }.max() ?? 0
    }

    /// The Jacobian of f at x by central differences, shape f(x).shape + x.shape.
    static func finiteDifferenceJacobian(_ f: (Tensor<Double>) throws -> Tensor<Double>, at x: Tensor<Double>) rethrows
        -> Tensor<Double> {
        let y = try withoutRecording { try f(x) }
        var columns: [[Double]] = []
        for j in 0..<x.count {
            var plus = x.scalars, minus = x.scalars
            let h = 1e-6 * Swift.max(1, Swift.abs(plus[j]))
            plus[j] += h
            minus[j] -= h
            let fp = try withoutRecording { try f(Tensor(shape: x.shape, scalars: plus)) }.scalars
            let fm = try withoutRecording { try f(Tensor(shape: x.shape, scalars: minus)) }.scalars
            columns.append(zip(fp, fm).map { ($0 - $1) / (2 * h) })
        }
        var scalars = [Double](repeating: 0, count: y.count * x.count)
        for i in 0..<y.count { for j in 0..<x.count { scalars[i * x.count + j] = columns[j][i] } }
        return Tensor(shape: y.shape + x.shape, scalars: scalars)
    }

    private static func row(_ op: String, _ mode: String, _ error: Double, tolerance: Double = 1e-6,
                            type: String = "Double") -> DerivativeCheckResult {
        DerivativeCheckResult(operation: op, mode: mode, scalarType: type, maxError: error.isNaN ? .infinity : error,
                              tolerance: tolerance)
    }

    /// Runs every transform check. The custom-operation rows run for each type in `types`.
    public static func run(types: [ScalarType] = [.float32, .float64]) throws -> [DerivativeCheckResult] {
        var rows: [DerivativeCheckResult] = []
        let x = point, f = vectorFunction
        let fd = finiteDifferenceJacobian(f, at: x)
        rows.append(row("jacobian", "forward", error(try jacobian(of: f, at: x, strategy: .forward), fd)))
        rows.append(row("jacobian", "reverse", error(try jacobian(of: f, at: x, strategy: .reverse), fd)))

        let g = { (x: Tensor<Double>) throws -> Tensor<Double> in try gradient(at: x, of: scalarFunction) }
        let fdHessian = try finiteDifferenceJacobian(g, at: x)
        let h = try hessian(of: scalarFunction, at: x)
        rows.append(row("hessian", "forward-over-reverse", error(h, fdHessian)))
        let m = h.reshaped(to: [6, 6])
        rows.append(row("hessian", "symmetry", error(m, m.transposed()), tolerance: 1e-12))
        let hv = try hvp(of: scalarFunction, at: x, vector: direction)
        let fdHV = matmul(fdHessian.reshaped(to: [6, 6]), direction.flattened()).reshaped(to: x.shape)
        rows.append(row("hvp", "forward-over-reverse", error(hv, fdHV)))
        rows.append(row("vhp", "reverse-over-reverse", error(try vhp(of: scalarFunction, at: x, vector: direction), fdHV)))

        let (_, linear) = try linearize(of: f, at: x)
        let u = direction, v = Tensor<Double>([0.5, -1, 2, 0.25])
        rows.append(row("linearize", "forward", error(try linear(u), try jvp(of: f, at: x, tangent: u).tangent)))
        rows.append(row("linearize", "transpose", error(try linear.transpose(v), try vjp(of: f, at: x, cotangent: v).vjp)))
        rows.append(row("linearize", "materialize", error(try linear.materialize(), fd)))

        // Per-example gradients of the motivating losses, against the closed form (σ(xᵢ·w) − yᵢ) xᵢ.
        var rng = SeededGenerator(seed: 7)
        let data = Tensor<Double>(randomNormal: [100, 2], using: &rng), w = Tensor<Double>(randomNormal: [1, 2], using: &rng)
        let targets = Tensor<Double>(randomUniform: [100], using: &rng)
        let perExample = try perExampleGradients(of: { w in
            binaryCrossEntropy(probabilities: sigmoid(matmul(data, w.transposed())).flattened(), targets: targets,
                               reduction: .none)
        }, at: w)
        let s = sigmoid(matmul(data, w.transposed())).flattened()
        let closed = ((s - targets).unsqueezed(at: 1) * data).reshaped(to: [100, 1, 2])
        rows.append(row("perExampleGradients", "forward", error(perExample, closed)))

        // The custom-operation example, through the same checker as the primitives, with both rules written and
        // with each rule derived from the other.
        for (label, rules) in [("custom: logOnePlusExp", LogOnePlusExp<Float>.Rules.both),
                               ("custom: logOnePlusExp (JVP derived from VJP)", .vjpOnly),
                               ("custom: logOnePlusExp (VJP derived from JVP)", .jvpOnly)] {
            var rng = SeededGenerator(seed: 11)
            let a = Tensor<Double>(randomNormal: [3, 4], using: &rng) * 3, b = Tensor<Double>(randomNormal: [4], using: &rng)
            for type in types {
                switch type {
                case .float32:
                    rows += try checkDerivatives(of: CustomCase(rules: rules),
                                                 at: [Tensor<Float>(converting: a), Tensor<Float>(converting: b)], name: label)
                case .float64:
                    rows += try checkDerivatives(of: CustomCase(rules: rules), at: [a, b], name: label)
                case .bool, .int32: break
                }
            }
        }
        return rows
    }
}

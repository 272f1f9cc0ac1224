import Foundation
import Testing
import Autograd

/// Every derivative call nests in every other, with the right answer or an `AutogradError`, never a silent
/// constant. The calls are modelled as operators (`Call`, in NestingSupport.swift); the truth is closed forms
/// written out by hand (checked themselves against finite differences in `closedFormsAreRight`).
@Suite struct NestingTests {
    static func close(_ a: Double, _ b: Double, tolerance: Double = 1e-9) -> Bool {
        Swift.abs(a - b) <= tolerance * (1 + Swift.abs(b))
    }

    static func brief(_ error: any Error) -> String {
        let text = "\(error)"
        return text.count > 140 ? String(text.prefix(140)) + "…" : text
    }

    // MARK: - 1. The nesting matrix

    /// The one kind of pair that follows PyTorch's rule instead of giving the closed form: a leaf-style reverse
    /// call told not to record its reverse pass (`gradient(of:wrt:)` or `backward()` with createGraph: false)
    /// inside a leaf-style reverse call (`gradient(of:wrt:…)`, `gradients(of:wrt:…)`, `backward(…)`). Both work at
    /// the same level, the level of `requiringGradient()` leaves, and the outer function is evaluated by the
    /// caller's own code, outside any derivative call: nothing tells the inner call that an outer derivative will
    /// follow, and it was asked not to record. Its result is then a constant, exactly as documented (the article
    /// "How derivative calls nest"), and this test asserts that documented value (or, where the inner pass freed
    /// the outer function's graph as it walked it, the error that says so). Inside every functional or
    /// forward-mode outer call the outer call's level is another level, open while the inner one runs, and the inner
    /// pass records itself whatever createGraph says, so the closed form is required there.
    static func followsCreateGraph(outer: Call, inner: Call) -> Bool {
        outer.isLeafStyle && inner.declinesToRecord
    }

    /// d/dx [x · (inner derivative of y ↦ h(x, y) at y₀)] at x₀, by `outer` (or d²/dx² for a second-order outer).
    static func nested(outer: Call, inner: Call, _ f: NestingFunction) throws -> Double {
        try outer.derivative(at: Tensor(f.x0)) { x in
            x * (try inner.derivative(at: Tensor(f.y0)) { y in f.h(x, y, innerOrder: inner.order) })
        }.scalar
    }

    static func check(outer: Call, inner: Call, _ f: NestingFunction,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = followsCreateGraph(outer: outer, inner: inner)
            ? f.withInnerHeldConstant(outerOrder: outer.order, innerOrder: inner.order)
            : f.expected(outerOrder: outer.order, innerOrder: inner.order)
        let label = "\(outer.rawValue) ∘ \(inner.rawValue) on \(f.kind.rawValue)"
        do {
            let value = try nested(outer: outer, inner: inner, f)
            if !close(value, expected) {
                let constant = f.withInnerHeldConstant(outerOrder: outer.order, innerOrder: inner.order)
                let note = close(value, constant) ? " (the value with the inner derivative held constant)" : ""
                Issue.record("\(label): got \(value), expected \(expected)\(note)", sourceLocation: sourceLocation)
            }
        } catch let error as AutogradError where followsCreateGraph(outer: outer, inner: inner) {
            // As in PyTorch, a backward pass that does not record also frees the graph it walks, the outer
            // function's part included; then the outer pass stops with the error that explains it.
            #expect(error.description.contains("released"), "\(label): \(brief(error))", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(label): threw \(brief(error))", sourceLocation: sourceLocation)
        }
    }

    /// Every ordered pair of calls, on the issue's x·y, on sin(x·y)·exp(y) (built-in and custom operations) and on
    /// exp(x·y).
    @Test(arguments: Call.allCases, Call.allCases)
    func pair(outer: Call, inner: Call) {
        for f in NestingFunction.all { Self.check(outer: outer, inner: inner, f) }
    }

    /// The issue's example spelled out with the two calls it names: d/dx [x · (∂/∂y (x·y) at y = 2)] = 2x = 3.
    @Test func theIssueExample() throws {
        let functional = try gradient(at: Tensor<Double>(1.5)) { x in
            x * (try gradient(at: Tensor<Double>(2)) { y in x * y })
        }
        #expect(Self.close(functional.scalar, 3), "gradient(at:of:) ∘ gradient(at:of:): \(functional.scalar)")
        let x = Tensor<Double>(1.5).requiringGradient()
        let inner = try gradient(at: Tensor<Double>(2)) { y in x * y }
        let outer = try gradient(of: x * inner, wrt: x)
        #expect(Self.close(outer.scalar, 3), "gradient(of:wrt:) ∘ gradient(at:of:): \(outer.scalar)")
    }

    /// The closed forms against finite differences of h in plain Double arithmetic (no library code).
    @Test(arguments: NestingFunction.all)
    func closedFormsAreRight(_ f: NestingFunction) {
        for q in [1, 2] {
            let e = 1e-4
            func h(_ x: Double, _ y: Double) -> Double { f.plainH(x, y, innerOrder: q) }
            let x = f.x0, y = f.y0
            let g = q == 1 ? (h(x, y + e) - h(x, y - e)) / (2 * e)
                           : (h(x, y + e) - 2 * h(x, y) + h(x, y - e)) / (e * e)
            let closed = f.inner(order: q, at: x)
            #expect(Self.close(closed.g, g, tolerance: 1e-6), "g_\(q): \(closed.g) vs \(g)")
            let d = 1e-5
            let dg = (f.inner(order: q, at: x + d).g - f.inner(order: q, at: x - d).g) / (2 * d)
            let d2g = (f.inner(order: q, at: x + d).dg - f.inner(order: q, at: x - d).dg) / (2 * d)
            #expect(Self.close(closed.dg, dg, tolerance: 1e-8), "g_\(q)′: \(closed.dg) vs \(dg)")
            #expect(Self.close(closed.d2g, d2g, tolerance: 1e-8), "g_\(q)″: \(closed.d2g) vs \(d2g)")
        }
        // The issue's numbers.
        if f.kind == .product {
            #expect(f.expected(outerOrder: 1, innerOrder: 1) == 3)
            #expect(f.withInnerHeldConstant(outerOrder: 1, innerOrder: 1) == 1.5)
        }
    }

    // MARK: - 2. Third derivatives: every triple of jvp and gradient

    struct Triple: Sendable, CustomTestStringConvertible {
        let calls: [Call]
        var testDescription: String { calls.map(\.rawValue).joined(separator: " ∘ ") }
        static let all: [Triple] = {
            let two: [Call] = [.jvp, .gradientAtOf]
            return two.flatMap { a in two.flatMap { b in two.map { c in Triple(calls: [a, b, c]) } } }
        }()
    }

    @Test(arguments: Triple.all)
    func thirdDerivative(_ triple: Triple) throws {
        for f in TripleFunction.all {
            let (a, b, c) = (triple.calls[0], triple.calls[1], triple.calls[2])
            let value = try a.derivative(at: Tensor(f.x0)) { u in
                try b.derivative(at: u) { v in try c.derivative(at: v) { w in f.f(w) } }
            }.scalar
            let expected = f.third(f.x0)
            #expect(Self.close(value, expected), "\(triple.testDescription) of \(f.name): \(value), expected \(expected)")
        }
    }

    // MARK: - Depth three over the whole set

    /// Three nested calls, each with its own variable: d/dx [x · D_y [y · D_z h(x, y, z)]], every first-order call
    /// in each of the three places (the other two places taken by jvp and gradient(at:of:)).
    struct DepthThree: Sendable, CustomTestStringConvertible {
        let calls: [Call]
        var testDescription: String { calls.map(\.rawValue).joined(separator: " ∘ ") }
        static let all: [DepthThree] = Call.allCases.filter { $0.order == 1 }.flatMap { c in
            [DepthThree(calls: [c, .jvp, .gradientAtOf]), DepthThree(calls: [.gradientAtOf, c, .jvp]),
             DepthThree(calls: [.jvp, .gradientAtOf, c])]
        }
    }

    /// h(x, y, z), and F(x) = x · ∂/∂y [y · ∂h/∂z] at (y₀, z₀) with F′(x₀) written out:
    /// h = xyz: F = 2y₀x², F′ = 4y₀x; h = exp(xyz): F = e^{ax}(2y₀x² + z₀y₀²x³) with a = y₀z₀,
    /// F′ = e^{ax}[a(2y₀x² + z₀y₀²x³) + 4y₀x + 3z₀y₀²x²].
    struct DepthThreeFunction: Sendable {
        let name: String
        let h: @Sendable (Tensor<Double>, Tensor<Double>, Tensor<Double>) -> Tensor<Double>
        let plainH: @Sendable (Double, Double, Double) -> Double
        let plainF: @Sendable (Double) -> Double
        let derivative: @Sendable (Double) -> Double
        static let (x0, y0, z0) = (0.8, 1.3, 0.5)

        static let all = [
            DepthThreeFunction(name: "xyz", h: { $0 * $1 * $2 }, plainH: { $0 * $1 * $2 },
                               plainF: { 2 * y0 * $0 * $0 }, derivative: { 4 * y0 * $0 }),
            DepthThreeFunction(name: "exp(xyz)", h: { exp($0 * $1 * $2) }, plainH: { Foundation.exp($0 * $1 * $2) },
                               plainF: { x in
                                   Foundation.exp(y0 * z0 * x) * (2 * y0 * x * x + z0 * y0 * y0 * x * x * x)
                               }, derivative: { x in
                                   let a = y0 * z0
                                   return Foundation.exp(a * x) * (a * (2 * y0 * x * x + z0 * y0 * y0 * x * x * x)
                                       + 4 * y0 * x + 3 * z0 * y0 * y0 * x * x)
                               }),
        ]
    }

    @Test(arguments: DepthThree.all)
    func depthThree(_ nesting: DepthThree) {
        let (x0, y0, z0) = (DepthThreeFunction.x0, DepthThreeFunction.y0, DepthThreeFunction.z0)
        let (a, b, c) = (nesting.calls[0], nesting.calls[1], nesting.calls[2])
        for f in DepthThreeFunction.all {
            let label = "\(nesting.testDescription) on \(f.name)"
            do {
                let value = try a.derivative(at: Tensor(x0)) { x in
                    x * (try b.derivative(at: Tensor(y0)) { y in
                        y * (try c.derivative(at: Tensor(z0)) { z in f.h(x, y, z) })
                    })
                }.scalar
                let expected = f.derivative(x0)
                #expect(Self.close(value, expected), "\(label): got \(value), expected \(expected)")
            } catch {
                Issue.record("\(label): threw \(Self.brief(error))")
            }
        }
    }

    @Test func depthThreeClosedFormsAreRight() {
        let (x0, y0, z0) = (DepthThreeFunction.x0, DepthThreeFunction.y0, DepthThreeFunction.z0)
        for f in DepthThreeFunction.all {
            // F(x) = x · ∂/∂y [y · ∂h/∂z] by nested central differences.
            let e = 1e-3
            func inner(_ x: Double, _ y: Double) -> Double {
                y * (f.plainH(x, y, z0 + e) - f.plainH(x, y, z0 - e)) / (2 * e)
            }
            let fd = x0 * (inner(x0, y0 + e) - inner(x0, y0 - e)) / (2 * e)
            #expect(Self.close(f.plainF(x0), fd, tolerance: 1e-5), "\(f.name): F \(f.plainF(x0)) vs \(fd)")
            let d = 1e-5
            let dF = (f.plainF(x0 + d) - f.plainF(x0 - d)) / (2 * d)
            #expect(Self.close(f.derivative(x0), dF, tolerance: 1e-8), "\(f.name): F′ \(f.derivative(x0)) vs \(dF)")
        }
    }

    @Test func tripleClosedFormsAreRight() {
        for f in TripleFunction.all {
            // Third central difference of f in plain Double arithmetic.
            let plain: (Double) -> Double = f.name.hasPrefix("exp") ? { Foundation.exp(Foundation.sin($0)) }
                : f.name.hasPrefix("log") ? { Foundation.log1p($0 * $0) } : { Foundation.tanh($0) }
            let e = 1e-3, x = f.x0
            let fd = (plain(x + 2 * e) - 2 * plain(x + e) + 2 * plain(x - e) - plain(x - 2 * e)) / (2 * e * e * e)
            #expect(Self.close(f.third(x), fd, tolerance: 1e-4), "\(f.name): \(f.third(x)) vs \(fd)")
            #expect(Self.close(f.f(Tensor(x)).scalar, plain(x), tolerance: 1e-14))
        }
    }
}

// MARK: - 3. The Hessian of a real loss, every way the API offers

extension NestingTests {
    /// A two-layer tanh network with a logistic output, six weights (W₁ 2×2, w₂ 2×1), binary cross-entropy on five
    /// examples plus a small weight decay.
    @Suite struct LossHessian {
        static let data = Tensor<Double>([[0.5, -1.2], [1.5, 0.3], [-0.7, 0.8], [0.2, -0.4], [1.1, 1.3]])
        static let targets = Tensor<Double>([1, 0, 1, 0, 1])
        static let w0 = Tensor<Double>([0.3, -0.8, 0.5, 1.1, -0.6, 0.9])
        static let n = 6

        static func loss(_ w: Tensor<Double>) -> Tensor<Double> {
            let w1 = w[0..<4].reshaped(to: [2, 2]), w2 = w[4..<6].reshaped(to: [2, 1])
            let z = matmul(tanh(matmul(data, w1)), w2).flattened()
            return binaryCrossEntropy(probabilities: sigmoid(z), targets: targets) + 0.05 * (w * w).sum()
        }

        static func grad(_ w: Tensor<Double>) throws -> Tensor<Double> { try gradient(at: w, of: loss) }

        static func unit(_ i: Int) -> Tensor<Double> {
            Tensor(shape: [n], scalars: (0..<n).map { $0 == i ? 1 : 0 })
        }

        static func rows(_ row: (Int) throws -> Tensor<Double>) rethrows -> Tensor<Double> {
            Tensor(stacking: try (0..<n).map(row))
        }

        static func columns(_ column: (Int) throws -> Tensor<Double>) rethrows -> Tensor<Double> {
            Tensor(stacking: try (0..<n).map(column), alongAxis: 1)
        }

        /// Central differences of the gradient, column by column.
        static func finiteDifferences() throws -> Tensor<Double> {
            let e = 1e-5
            return try columns { i in (try grad(w0 + e * unit(i)) - (try grad(w0 - e * unit(i)))) / (2 * e) }
        }

        enum Route: String, CaseIterable, Sendable, CustomTestStringConvertible {
            case hessian
            case jacobianOfGradientForward, jacobianOfGradientReverse, jacobianOfGradientAutomatic
            case hvpOnUnitVectors, vhpOnUnitVectors
            case linearizeOfGradientMaterialized, linearizeOfGradientApplied, linearizeOfGradientTransposed
            case batchedJVPOfGradient, jvpOfGradientOnUnitVectors, jvpByDoubleBackwardOfGradient
            case vjpOfGradientOnUnitVectors, perExampleGradientsOfGradient
            case gradientOfEachGradientComponent
            case leafStyleGradientOfEachComponent, leafStyleBatchedCotangents, backwardOfEachComponent
            case gradientAtOfLeafStyleGradient, jvpOfLeafStyleGradient

            var testDescription: String { rawValue }

            func compute() throws -> Tensor<Double> {
                let w0 = LossHessian.w0, n = LossHessian.n
                let loss = LossHessian.loss, grad = LossHessian.grad, unit = LossHessian.unit
                switch self {
                case .hessian:
                    return try Autograd.hessian(of: loss, at: w0)
                case .jacobianOfGradientForward:
                    return try jacobian(of: grad, at: w0, strategy: .forward)
                case .jacobianOfGradientReverse:
                    return try jacobian(of: grad, at: w0, strategy: .reverse)
                case .jacobianOfGradientAutomatic:
                    return try jacobian(of: grad, at: w0, strategy: .automatic)
                case .hvpOnUnitVectors:
                    return try LossHessian.columns { try hvp(of: loss, at: w0, vector: unit($0)) }
                case .vhpOnUnitVectors:
                    return try LossHessian.rows { try vhp(of: loss, at: w0, vector: unit($0)) }
                case .linearizeOfGradientMaterialized:
                    return try linearize(of: grad, at: w0).linearMap.materialize()
                case .linearizeOfGradientApplied:
                    let map = try linearize(of: grad, at: w0).linearMap
                    return try LossHessian.columns { try map(unit($0)) }
                case .linearizeOfGradientTransposed:
                    let map = try linearize(of: grad, at: w0).linearMap
                    return try LossHessian.rows { try map.transpose(unit($0)) }
                case .batchedJVPOfGradient:
                    // Row k of the batch is H·eₖ, the k-th column.
                    let r = try jvp(of: { [try grad($0[0])] }, at: [w0], tangents: [Tensor(identity: n)],
                                    batched: true)
                    return r.tangents[0].transposed()
                case .jvpOfGradientOnUnitVectors:
                    return try LossHessian.columns { try jvp(of: grad, at: w0, tangent: unit($0)).tangent }
                case .jvpByDoubleBackwardOfGradient:
                    return try LossHessian.columns { try jvpByDoubleBackward(of: grad, at: w0, tangent: unit($0)).tangent }
                case .vjpOfGradientOnUnitVectors:
                    return try LossHessian.rows { try vjp(of: grad, at: w0, cotangent: unit($0)).vjp }
                case .perExampleGradientsOfGradient:
                    // The gradient as six "per-example losses": their per-example gradients are the rows of H.
                    return try perExampleGradients(of: grad, at: w0)
                case .gradientOfEachGradientComponent:
                    return try LossHessian.rows { i in try gradient(at: w0) { w in try grad(w)[i] } }
                case .leafStyleGradientOfEachComponent:
                    let w = w0.requiringGradient()
                    let g = try gradient(of: loss(w), wrt: w, createGraph: true)
                    return try LossHessian.rows { i in try gradient(of: g[i], wrt: w, retainGraph: true) }
                case .leafStyleBatchedCotangents:
                    let w = w0.requiringGradient()
                    let g = try gradient(of: loss(w), wrt: w, createGraph: true)
                    return try gradients(of: [g], wrt: [w], cotangents: [Tensor(identity: n)], batched: true)[0]
                case .backwardOfEachComponent:
                    let w = w0.requiringGradient()
                    try loss(w).backward(createGraph: true)
                    guard let g = w.gradient else { throw NestingFailure("backward left no gradient") }
                    return try LossHessian.rows { i in
                        w.clearGradient()
                        try g[i].backward(retainGraph: true)
                        guard let row = w.gradient else { throw NestingFailure("backward left no gradient") }
                        return row
                    }
                case .gradientAtOfLeafStyleGradient:
                    // A functional outer call over a leaf-style inner one on the same variable.
                    return try LossHessian.rows { i in
                        try gradient(at: w0) { w in try gradient(of: loss(w), wrt: w, createGraph: true)[i] }
                    }
                case .jvpOfLeafStyleGradient:
                    return try LossHessian.columns { i in
                        try jvp(of: { w in
                            let leaf = w.requiringGradient()
                            return try gradient(of: loss(leaf), wrt: leaf, createGraph: true)
                        }, at: w0, tangent: unit(i)).tangent
                    }
                }
            }
        }

        @Test func referenceAgreesWithFiniteDifferences() throws {
            let h = try Autograd.hessian(of: Self.loss, at: Self.w0)
            #expect(h.shape == [6, 6])
            expectClose(h.scalars, try Self.finiteDifferences().scalars, tolerance: 1e-7)
            expectClose(h.scalars, h.transposed().scalars, tolerance: 1e-12)
            #expect(h.scalars.filter { Swift.abs($0) > 1e-3 }.count >= 30, "a Hessian with few non-zero entries")
        }

        @Test(arguments: Route.allCases)
        func route(_ route: Route) throws {
            let h = try route.compute()
            #expect(h.shape == [6, 6], "shape \(h.shape)")
            guard h.shape == [6, 6] else { return }
            let reference = try Autograd.hessian(of: Self.loss, at: Self.w0)
            expectClose(h.scalars, reference.scalars, tolerance: 1e-10)
            expectClose(h.scalars, try Self.finiteDifferences().scalars, tolerance: 1e-7)
        }
    }
}

// MARK: - 4. The gradient-penalty pattern

extension NestingTests {
    /// loss(w) = ½‖w − c‖² + λ ‖∇ₓ critic(X; w)‖², critic(X; w) = Σᵢ softplus(xᵢ·w): the penalty's gradient with
    /// respect to the data X is σ(X w) wᵀ, so
    ///
    ///     ∇_w loss = (w − c) + λ Σᵢ [2σᵢ² w + 2‖w‖² σᵢ² (1 − σᵢ) xᵢ],    σᵢ = σ(xᵢ·w).
    @Suite struct GradientPenalty {
        static let data = Tensor<Double>([[0.4, -1.0, 0.6], [1.2, 0.3, -0.5], [-0.7, 0.9, 0.2], [0.1, -0.3, 1.4]])
        static let center = Tensor<Double>([0.5, -0.2, 0.8])
        static let lambda = 0.3
        static let w0 = Tensor<Double>([0.7, -0.4, 1.1])

        static func critic(_ x: Tensor<Double>, _ w: Tensor<Double>) -> Tensor<Double> {
            softplus(matmul(x, w.reshaped(to: [3, 1]))).sum()
        }

        /// How ∇ₓ critic is computed inside the loss.
        enum Inner: String, CaseIterable, Sendable, CustomTestStringConvertible {
            case gradientAtOf, leafStyleCreatingGraph, backwardCreatingGraph, vjp, jacobianForward, jacobianReverse
            var testDescription: String { rawValue }

            func inputGradient(_ w: Tensor<Double>) throws -> Tensor<Double> {
                let x = GradientPenalty.data
                switch self {
                case .gradientAtOf:
                    return try gradient(at: x) { critic($0, w) }
                case .leafStyleCreatingGraph:
                    let leaf = x.requiringGradient()
                    return try gradient(of: critic(leaf, w), wrt: leaf, createGraph: true)
                case .backwardCreatingGraph:
                    let leaf = x.requiringGradient()
                    try critic(leaf, w).backward(createGraph: true)
                    guard let g = leaf.gradient else { throw NestingFailure("backward left no gradient") }
                    return g
                case .vjp:
                    return try Autograd.vjp(of: { critic($0, w) }, at: x, cotangent: Tensor(1.0)).vjp
                case .jacobianForward:
                    return try jacobian(of: { critic($0, w) }, at: x, strategy: .forward)
                case .jacobianReverse:
                    return try jacobian(of: { critic($0, w) }, at: x, strategy: .reverse)
                }
            }
        }

        /// How the loss is differentiated with respect to w.
        enum Outer: String, CaseIterable, Sendable, CustomTestStringConvertible {
            case backward, gradientAtOf, gradientsOfWrt, gradientOfWrt
            var testDescription: String { rawValue }

            func gradient(_ loss: (Tensor<Double>) throws -> Tensor<Double>, at w0: Tensor<Double>) throws -> Tensor<Double> {
                switch self {
                case .backward:
                    let w = w0.requiringGradient()
                    let l = try loss(w)
                    w.clearGradient()       // zero_grad: an inner backward() reaches w too
                    try l.backward()
                    guard let g = w.gradient else { throw NestingFailure("backward left no gradient in w") }
                    return g
                case .gradientAtOf:
                    return try Autograd.gradient(at: w0) { try loss($0) }
                case .gradientsOfWrt:
                    let w = w0.requiringGradient()
                    return try Autograd.gradients(of: [try loss(w)], wrt: [w])[0]
                case .gradientOfWrt:
                    let w = w0.requiringGradient()
                    return try Autograd.gradient(of: try loss(w), wrt: w)
                }
            }
        }

        static func loss(_ w: Tensor<Double>, _ inner: Inner) throws -> Tensor<Double> {
            let gx = try inner.inputGradient(w)
            return 0.5 * ((w - center) * (w - center)).sum() + lambda * (gx * gx).sum()
        }

        static func plainLoss(_ w: [Double]) -> Double {
            let x = data.scalars, c = center.scalars
            let w2 = w.reduce(0) { $0 + $1 * $1 }
            var penalty = 0.0
            for i in 0..<4 {
                let z = (0..<3).reduce(0.0) { $0 + x[3 * i + $1] * w[$1] }
                let s = 1 / (1 + Foundation.exp(-z))
                penalty += s * s * w2
            }
            return 0.5 * zip(w, c).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } + lambda * penalty
        }

        static func closedForm(_ w: [Double]) -> [Double] {
            let x = data.scalars, c = center.scalars
            let w2 = w.reduce(0) { $0 + $1 * $1 }
            var g = zip(w, c).map { $0 - $1 }
            for i in 0..<4 {
                let z = (0..<3).reduce(0.0) { $0 + x[3 * i + $1] * w[$1] }
                let s = 1 / (1 + Foundation.exp(-z))
                for j in 0..<3 { g[j] += lambda * (2 * s * s * w[j] + 2 * w2 * s * s * (1 - s) * x[3 * i + j]) }
            }
            return g
        }

        @Test func closedFormAgreesWithFiniteDifferences() {
            let w = Self.w0.scalars, e = 1e-6
            let fd = (0..<3).map { j -> Double in
                var p = w, m = w
                p[j] += e; m[j] -= e
                return (Self.plainLoss(p) - Self.plainLoss(m)) / (2 * e)
            }
            expectClose(Self.closedForm(w), fd, tolerance: 1e-8)
        }

        @Test(arguments: Inner.allCases, Outer.allCases)
        func penalizedGradient(inner: Inner, outer: Outer) throws {
            let g = try outer.gradient({ try Self.loss($0, inner) }, at: Self.w0)
            #expect(g.shape == [3])
            expectClose(g.scalars, Self.closedForm(Self.w0.scalars), tolerance: 1e-10)
        }

        /// Three steps of gradient descent trained the PyTorch way (a leaf, `backward()`, `.gradient`), with the
        /// penalty written with `gradient(at:of:)`, against the same steps taken with the closed form.
        @Test func trainingWithBackward() throws {
            var w = Self.w0, plain = Self.w0.scalars
            for _ in 0..<3 {
                let leaf = w.requiringGradient()
                try Self.loss(leaf, .gradientAtOf).backward()
                guard let g = leaf.gradient else {
                    Issue.record("backward left no gradient in the leaf")
                    return
                }
                w = w - 0.1 * g
                plain = zip(plain, Self.closedForm(plain)).map { $0 - 0.1 * $1 }
            }
            expectClose(w.scalars, plain, tolerance: 1e-10)
        }
    }
}

// MARK: - 5. Shape checks for every vector argument

extension NestingTests {
    /// Every vector argument of every call: a vector of the wrong shape (broadcastable or not) is an
    /// `AutogradError`, never broadcast into a silently wrong result.
    @Suite struct VectorShapes {
        /// Input of shape [1, 2]; `f` maps it to [2, 3]; `s` to a one-element loss.
        static let x = Tensor<Double>([[0.3, -0.6]])
        static let z = Tensor<Double>([0.2, 0.5, -0.1])
        static func f(_ x: Tensor<Double>) -> Tensor<Double> { tanh(x.transposed() * Tensor([[1.0, 2.0, 3.0]])) }
        static func s(_ x: Tensor<Double>) -> Tensor<Double> { (sin(x) * x).sum() }
        static func s2(_ p: [Tensor<Double>]) -> Tensor<Double> { (sin(p[0]) * p[0]).sum() * (p[1] * p[1]).sum() }

        /// A vector of the given shape with distinct entries.
        static func vector(_ shape: [Int]) -> Tensor<Double> {
            let n = shape.reduce(1, *)
            return Tensor(shape: shape, scalars: (0..<n).map { 0.5 + Double($0) })
        }

        /// Wrong shapes for a vector shaped like the input [1, 2]: its transpose, its flattening, 0-d, broadcastable
        /// ones ([1, 1], [1, 1, 2], [2, 2]) and one that does not broadcast ([3]).
        static let wrongInputShapes: [[Int]] = [[2, 1], [2], [], [1, 1], [1, 1, 2], [2, 2], [3]]
        /// Wrong shapes for a vector shaped like the output [2, 3].
        static let wrongOutputShapes: [[Int]] = [[3, 2], [6], [], [1, 3], [2, 1], [1, 2, 3], [4]]

        static func expectError(_ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                                _ body: () throws -> Tensor<Double>) {
            do {
                let r = try body()
                Issue.record("\(what): accepted, returned shape \(r.shape) \(r.scalars.prefix(6))",
                             sourceLocation: sourceLocation)
            } catch is AutogradError {
            } catch {
                Issue.record("\(what): threw \(error), not an AutogradError", sourceLocation: sourceLocation)
            }
        }

        /// The calls taking a vector shaped like the INPUT.
        enum InputVectorCall: String, CaseIterable, Sendable, CustomTestStringConvertible {
            case jvp, jvpSeveralInputs, hvp, hvpSeveralInputs, vhp, linearMapApply, jvpByDoubleBackward
            var testDescription: String { rawValue }

            func run(_ u: Tensor<Double>) throws -> Tensor<Double> {
                let x = VectorShapes.x, z = VectorShapes.z
                switch self {
                case .jvp: return try Autograd.jvp(of: VectorShapes.f, at: x, tangent: u).tangent
                case .jvpSeveralInputs:
                    return try Autograd.jvp(of: { [VectorShapes.f($0[0]) * $0[1].sum()] }, at: [x, z],
                                            tangents: [u, z]).tangents[0]
                case .hvp: return try Autograd.hvp(of: VectorShapes.s, at: x, vector: u)
                case .hvpSeveralInputs:
                    return try Autograd.hvp(of: VectorShapes.s2, at: [x, z], vectors: [u, z])[0]
                case .vhp: return try Autograd.vhp(of: VectorShapes.s, at: x, vector: u)
                case .linearMapApply: return try linearize(of: VectorShapes.f, at: x).linearMap(u)
                case .jvpByDoubleBackward:
                    return try Autograd.jvpByDoubleBackward(of: VectorShapes.f, at: x, tangent: u).tangent
                }
            }
        }

        /// The calls taking a vector shaped like the OUTPUT.
        enum OutputVectorCall: String, CaseIterable, Sendable, CustomTestStringConvertible {
            case vjp, vjpSeveralOutputs, gradientOfWrt, gradientsOfWrt, backward, linearMapTranspose
            var testDescription: String { rawValue }

            func run(_ v: Tensor<Double>) throws -> Tensor<Double> {
                let x = VectorShapes.x
                switch self {
                case .vjp: return try Autograd.vjp(of: VectorShapes.f, at: x, cotangent: v).vjp
                case .vjpSeveralOutputs:
                    return try Autograd.vjp(of: { [VectorShapes.f($0[0]), $0[0].sum()] }, at: [x],
                                            cotangents: [v, Tensor(1.0)]).vjps[0]
                case .gradientOfWrt:
                    let leaf = x.requiringGradient()
                    return try gradient(of: VectorShapes.f(leaf), wrt: leaf, cotangent: v)
                case .gradientsOfWrt:
                    let leaf = x.requiringGradient()
                    return try gradients(of: [VectorShapes.f(leaf), leaf.sum()], wrt: [leaf],
                                         cotangents: [v, Tensor(1.0)])[0]
                case .backward:
                    let leaf = x.requiringGradient()
                    try VectorShapes.f(leaf).backward(cotangent: v)
                    return leaf.gradient ?? Tensor(zeros: [0])
                case .linearMapTranspose: return try linearize(of: VectorShapes.f, at: x).linearMap.transpose(v)
                }
            }
        }

        static let inputCases: [(InputVectorCall, [Int])] = InputVectorCall.allCases.flatMap { call in
            // vhp with a vector that does not broadcast stops the process on the current engine (an operation
            // error inside it): that case runs in its own process, in `vhpRefusesAVectorThatDoesNotBroadcast`.
            wrongInputShapes.filter { !(call == .vhp && $0 == [3]) }.map { (call, $0) }
        }
        static let outputCases: [(OutputVectorCall, [Int])] = OutputVectorCall.allCases.flatMap { call in
            wrongOutputShapes.map { (call, $0) }
        }

        @Test func rightShapesAreAccepted() throws {
            for call in InputVectorCall.allCases { #expect(try call.run(Self.vector([1, 2])).count > 0, "\(call)") }
            for call in OutputVectorCall.allCases { #expect(try call.run(Self.vector([2, 3])).shape == [1, 2], "\(call)") }
        }

        @Test(arguments: inputCases)
        func inputShapedVector(_ call: InputVectorCall, _ shape: [Int]) {
            Self.expectError("\(call.rawValue) with a vector of shape \(shape) for an input of shape [1, 2]") {
                try call.run(Self.vector(shape))
            }
        }

        @Test(arguments: outputCases)
        func outputShapedVector(_ call: OutputVectorCall, _ shape: [Int]) {
            Self.expectError("\(call.rawValue) with a vector of shape \(shape) for an output of shape [2, 3]") {
                try call.run(Self.vector(shape))
            }
        }

        /// The issue's case: for an input of shape [1, 2], vhp broadcasts a [2, 1] vector and returns a wrong vᵀH;
        /// hvp refuses the same vector.
        @Test func vhpRefusesAColumnForARowInput() {
            let v = Tensor<Double>([[1.0], [2.0]])
            Self.expectError("hvp, vector [2, 1] for input [1, 2]") { try hvp(of: Self.s, at: Self.x, vector: v) }
            Self.expectError("vhp, vector [2, 1] for input [1, 2]") { try vhp(of: Self.s, at: Self.x, vector: v) }
        }

        @Test func vhpRefusesAVectorThatDoesNotBroadcast() async {
            await #expect(processExitsWith: .success) {
                do {
                    _ = try vhp(of: { (sin($0) * $0).sum() }, at: Tensor<Double>([[0.3, -0.6]]),
                                vector: Tensor([1.0, 2.0, 3.0]))
                } catch is AutogradError {
                    return
                } catch {
                    fatalError("threw \(error), not an AutogradError")
                }
                fatalError("vhp accepted a vector of shape [3] for an input of shape [1, 2]")
            }
        }

        /// Batched tangents and cotangents: wrong trailing shapes, and batch dimensions that disagree.
        @Test func batchedVectors() {
            let x = Self.x, z = Self.z
            let twoInputs: ([Tensor<Double>]) -> [Tensor<Double>] = { [Self.f($0[0]) * $0[1].sum()] }
            for (label, tangents) in [
                ("transposed after the batch", [Self.vector([2, 2, 1]), Self.vector([2, 3])]),
                ("no batch dimension on one", [Self.vector([2, 1, 2]), Self.vector([3])]),
                ("batch dimensions that disagree", [Self.vector([2, 1, 2]), Self.vector([4, 3])]),
                ("0-d", [Tensor(1.0), Tensor(1.0)]),
            ] {
                Self.expectError("jvp(batched:) tangents \(label)") {
                    try jvp(of: twoInputs, at: [x, z], tangents: tangents, batched: true).tangents[0]
                }
            }
            let twoOutputs: ([Tensor<Double>]) -> [Tensor<Double>] = { [Self.f($0[0]), $0[0].sum()] }
            for (label, cotangents) in [
                ("transposed after the batch", [Self.vector([2, 3, 2]), Self.vector([2])]),
                ("no batch dimension on one", [Self.vector([2, 2, 3]), Tensor(1.0)]),
                ("batch dimensions that disagree", [Self.vector([2, 2, 3]), Self.vector([3])]),
                ("broadcastable after the batch", [Self.vector([2, 1, 3]), Self.vector([2])]),
            ] {
                Self.expectError("vjp(batched:) cotangents \(label)") {
                    try vjp(of: twoOutputs, at: [x], cotangents: cotangents, batched: true).vjps[0]
                }
                Self.expectError("gradients(of:wrt:batched:) cotangents \(label)") {
                    let leaf = x.requiringGradient()
                    return try gradients(of: twoOutputs([leaf]), wrt: [leaf], cotangents: cotangents, batched: true)[0]
                }
            }
        }

        /// One vector per input or output, no more, no fewer.
        @Test func vectorCounts() {
            let x = Self.x, z = Self.z
            Self.expectError("jvp with one tangent for two inputs") {
                try jvp(of: { [Self.f($0[0]) * $0[1].sum()] }, at: [x, z], tangents: [x]).tangents[0]
            }
            Self.expectError("hvp with one vector for two inputs") { try hvp(of: Self.s2, at: [x, z], vectors: [x])[0] }
            Self.expectError("vjp with three cotangents for two outputs") {
                try vjp(of: { [Self.f($0[0]), $0[0].sum()] }, at: [x],
                        cotangents: [Self.vector([2, 3]), Tensor(1.0), Tensor(1.0)]).vjps[0]
            }
            Self.expectError("gradients(of:wrt:) with one cotangent for two outputs") {
                let leaf = x.requiringGradient()
                return try gradients(of: [Self.f(leaf), leaf.sum()], wrt: [leaf], cotangents: [Self.vector([2, 3])])[0]
            }
        }

        /// Calls that need a one-element output refuse any other (no implicit sum), and perExampleGradients
        /// refuses an output that is not one loss per example.
        @Test func outputsOfTheWrongShape() {
            let x = Self.x
            Self.expectError("gradient(at:of:) of a [2, 3] output") { try gradient(at: x, of: Self.f) }
            Self.expectError("gradients(at:of:) of a [2, 3] output") { try gradients(at: [x]) { Self.f($0[0]) }[0] }
            Self.expectError("hessian of a [2, 3] output") { try hessian(of: Self.f, at: x) }
            Self.expectError("hvp of a [2, 3] output") { try hvp(of: Self.f, at: x, vector: x) }
            Self.expectError("vhp of a [2, 3] output") { try vhp(of: Self.f, at: x, vector: x) }
            Self.expectError("gradient(of:wrt:) of a [2, 3] output without a cotangent") {
                let leaf = x.requiringGradient()
                return try gradient(of: Self.f(leaf), wrt: leaf)
            }
            Self.expectError("backward() of a [2, 3] output without a cotangent") {
                let leaf = x.requiringGradient()
                try Self.f(leaf).backward()
                return leaf.gradient ?? Tensor(zeros: [0])
            }
            Self.expectError("perExampleGradients of a [2, 3] output") { try perExampleGradients(of: Self.f, at: x) }
        }

        /// The checks hold inside other derivative calls.
        @Test func checksHoldWhenNested() {
            let x = Self.x, column = Tensor<Double>([[1.0], [2.0]])
            Self.expectError("vhp with a [2, 1] vector inside jvp") {
                try jvp(of: { try vhp(of: Self.s, at: $0, vector: column) }, at: x, tangent: x).tangent
            }
            Self.expectError("hvp with a [2, 1] vector inside gradient(at:of:)") {
                try gradient(at: x) { try hvp(of: Self.s, at: $0, vector: column).sum() }
            }
            Self.expectError("jvp with a [2, 1] tangent inside vjp") {
                try vjp(of: { try jvp(of: Self.f, at: $0, tangent: column).tangent }, at: x,
                        cotangent: Self.vector([2, 3])).vjp
            }
            Self.expectError("vjp with a [3, 2] cotangent inside linearize") {
                try linearize(of: { try vjp(of: Self.f, at: $0, cotangent: Self.vector([3, 2])).vjp }, at: x)
                    .linearMap(x)
            }
            Self.expectError("LinearMap applied to a [2, 1] vector inside jvp") {
                try jvp(of: { try linearize(of: Self.f, at: $0).linearMap(column) }, at: x, tangent: x).tangent
            }
        }
    }
}

import Testing
@testable import Autograd

/// Every primitive's VJP and JVP against central finite differences in Double, and the dot-product test
/// ⟨v, J·u⟩ = ⟨vᵀJ, u⟩, at random points (broadcast shapes included), in Float and Double.
@Suite struct PrimitiveCheckTests {
    static let run = try! PrimitiveChecks.runTracing(modes: CheckMode.allCases, types: [.float32, .float64], seed: 2026)

    @Test(arguments: PrimitiveChecks.operationNames)
    func derivativesAgree(operation: String) {
        let rows = Self.run.results.filter { $0.operation == operation }
        #expect(rows.filter { $0.route == "general" }.count == 6, "3 modes × 2 types in the general route")
        #expect(rows.filter { $0.route == "batched" }.count == 6, "3 modes × 2 types with batched directions")
        for row in rows { #expect(row.passed, "\(row)") }
    }

    @Test func everyPrimitiveIsExercised() {
        let all = Set(allPrimitiveTypes.map { String(describing: $0) })
        let missing = all.subtracting(Self.run.primitives)
        #expect(missing.isEmpty, "primitives no check exercises: \(missing.sorted())")
    }

    @Test func differentSeedsAlsoPass() throws {
        let rows = try PrimitiveChecks.run(types: [.float64], seed: 99)
        #expect(rows.filter { !$0.passed }.isEmpty, "\(rows.filter { !$0.passed })")
    }

    /// The checker must be able to fail: a function whose "derivative" is wrong is caught.
    @Test func checkerDetectsWrongDerivatives() throws {
        struct Wrong: TensorFunction {
            func callAsFunction<S: TensorScalar>(_ x: [Tensor<S>]) throws -> Tensor<S> {
                // value: x², but derivative flows through a detached factor: d/dx = x instead of 2x.
                x[0] * x[0].detached()
            }
        }
        let x = Tensor<Double>([0.5, -1.5, 2])
        let rows = try checkDerivatives(of: Wrong(), at: [x])
        #expect(rows.first { $0.mode == "reverse" }?.passed == false)
        #expect(rows.first { $0.mode == "forward" }?.passed == false)
        // Both modes agree with each other (same wrong rule), so the dot-product test passes: it checks consistency.
        #expect(rows.first { $0.mode == "dot-product" }?.passed == true)
        let single = try checkGradients(of: { ($0[0] * $0[0].detached()).sum() }, at: [x])
        #expect(!single.passed && single.maxError > 0.1)
    }

    /// Large values raise a row's tolerance only to what the finite difference can resolve (10 ε S / h): a correct
    /// rule on values near 10⁴ passes, a wrong one still fails by orders of magnitude, and well-scaled functions keep
    /// the fixed 10⁻⁶.
    @Test func toleranceFollowsWhatFiniteDifferencesResolve() throws {
        let x = Tensor<Double>([[40, -70, 90], [55, -30, 80]])
        let right = try checkDerivatives(of: { (x: [Tensor<Double>]) in exp(x[0] / 10) * x[0] }, at: [x])
        for row in right where row.mode != "dot-product" {
            #expect(row.passed, "\(row)")
            #expect(row.tolerance > 1e-6 && row.tolerance < 1e-2, "\(row)")
        }
        let wrong = try checkGradients(of: { (exp($0[0] / 10) * $0[0].detached()).sum() }, at: [x])
        #expect(!wrong.passed && wrong.maxError > 100 * wrong.tolerance, "\(wrong)")
        let small = try checkGradients(of: { sin($0[0]).sum() }, at: [Tensor<Double>([0.3, -1.2])])
        #expect(small.passed && small.tolerance == 1e-6)
    }
}

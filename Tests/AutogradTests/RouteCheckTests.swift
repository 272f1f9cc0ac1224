import CAutogradKernels
import Foundation
import Testing
@testable import Autograd

/// The route dimension of the derivative checks: every fast route is exercised, and a wrong fast path fails its
/// own row while the general rule's row passes.
@Suite struct RouteCheckTests {
    /// Every fast route a primitive implements itself (its registry entry's `routes`) is taken by its checks, and so
    /// is every route of the engine (the plain forms of one- and two-input JVPs, in place, tangent-only HVP).
    @Test func everyFastRouteIsExercised() {
        let fired = PrimitiveCheckTests.run.routes
        for entry in primitiveRegistry {
            let name = String(describing: entry.type)
            let missing = entry.routes.subtracting(fired[name] ?? [])
            #expect(missing.isEmpty, "\(name): routes no check takes: \(missing.routes.map(\.rawValue))")
        }
        let all = fired.values.reduce(RouteSet()) { $0.union($1) }
        for route in [Route.tensorJVP, .bufferJVP, .twoInputJVP, .fused, .inPlace, .tangentHVP] {
            #expect(all.contains(route), "no check takes the \(route.rawValue) route")
        }
        let rows = PrimitiveCheckTests.run.results
        for route in Route.allCases {
            #expect(rows.contains { $0.route == route.rawValue }, "no row for the \(route.rawValue) route")
        }
    }

    /// A route restriction is per task: another task's operations take their fast routes meanwhile.
    @Test func restrictionsArePerTask() async throws {
        let restriction = RouteRestriction(allowing: [])
        let x = Tensor<Double>([0.5, 1.5])
        let other = Task.detached { () -> [String: RouteSet] in
            let log = RouteRestriction(allowing: .all)
            _ = try Routes.restricted(to: log) { try jvp(of: { sin($0) }, at: x, tangent: Tensor([1, 1])) }
            return log.fired
        }
        _ = try Routes.restricted(to: restriction) { try jvp(of: { sin($0) }, at: x, tangent: Tensor([1, 1])) }
        #expect(restriction.fired.isEmpty)
        #expect(try await other.value["Sin"]?.contains(.bufferJVP) == true)
    }

    // MARK: - Mutations: deliberately wrong fast paths

    /// `sin` whose buffer-form JVP (the plain forward route on bare buffers) is 1 % too large.
    struct SinWrongBuffer: ElementwisePrimitive {
        var name: String { "sin (wrong buffer JVP)" }
        var fused: FusedDerivative? { .cosOfInput }
        func derivative(_ x: AnyTensor) -> AnyTensor { cos(x) }
        func plainJVP(_ x: AnyTensor, tangentBuffer: Storage, _ y: AnyTensor) -> Storage? {
            Kernel.affine(AnyTensor(storage: cosOfInput(x, tangentBuffer), shape: x.shape), 1.01, 0).storage
        }
        private func cosOfInput(_ x: AnyTensor, _ t: Storage) -> Storage { FusedDerivative.cosOfInput.apply(t, x) }
    }

    /// A permutation whose buffer path returns its input's tangent unpermuted.
    struct PermuteWrongBuffer: LinearPrimitive {
        let permutation: [Int]
        var name: String { "permute (wrong buffer JVP)" }
        func apply(_ ctx: RuleContext, _ t: [AnyTensor?]) -> AnyTensor? {
            Permute(permutation: permutation).apply(ctx, t)
        }
        func transpose(_ ctx: RuleContext, _ g: AnyTensor) -> [AnyTensor?] {
            Permute(permutation: permutation).transpose(ctx, g)
        }
        func plainJVP(_ x: AnyTensor, tangentBuffer: Storage, _ y: AnyTensor) -> Storage? { tangentBuffer }
    }

    /// An affine map whose in-place VJP scales by 1.001 α.
    struct AffineWrongInPlace: Primitive {
        let scale: Double
        var name: String { "affine (wrong in-place VJP)" }
        var savesInputs: Bool { false }
        func vjp(_ ctx: RuleContext, _ cotangent: AnyTensor) -> [AnyTensor?] { [cotangent * scale] }
        func vjpOfOneInput(_ ctx: RuleContext, _ cotangent: consuming AnyTensor) -> AnyTensor? {
            var g = cotangent
            if !ctx.isDifferentiable && Routes.attempt(.inPlace, self, { Kernel.affineInPlace(&g, scale * 1.001, 0) }) {
                return g
            }
            return g * scale
        }
        func jvp(_ ctx: RuleContext, _ tangents: [AnyTensor?]) -> AnyTensor? { tangents[0].map { $0 * scale } }
    }

    /// Runs a mutant's check in Double through every route; returns the rows by route.
    private func rows(_ c: CheckCase) throws -> [String: [DerivativeCheckResult]] {
        Dictionary(grouping: try PrimitiveChecks.check(c, .float64).rows, by: \.route)
    }

    /// The general route passes (the mutant's rules are right); `route` fails in `mode`.
    private func expectCaught(_ c: CheckCase, route: Route, mode: CheckMode) throws {
        let byRoute = try rows(c)
        let general = byRoute["general"] ?? []
        #expect(general.count == 3 && general.allSatisfy { $0.passed }, "\(general)")
        let row = byRoute[route.rawValue]?.first { $0.mode == mode.rawValue }
        #expect(row != nil, "no \(route.rawValue) \(mode.rawValue) row for \(c.name): \(byRoute.keys.sorted())")
        #expect(row?.passed == false, "\(String(describing: row))")
    }

    @Test func wrongBufferJVPOfSinFails() throws {
        let c = CheckCase("sin, buffer JVP off by 1 %", [([3, 4], .normal)]) { x in
            record(SinWrongBuffer(), x[0], Kernel.unary(AG_UNARY_SIN, x[0]))
        }
        try expectCaught(c, route: .bufferJVP, mode: .forward)
        let tensor = try rows(c)["tensor"] ?? []
        #expect(!tensor.isEmpty && tensor.allSatisfy { $0.passed }, "the tensor form is not the broken one")
    }

    @Test func wrongBufferPathOfPermuteFails() throws {
        let c = CheckCase("permute, buffer JVP returns its input", [([2, 3, 4], .normal)]) { x in
            record(PermuteWrongBuffer(permutation: [2, 0, 1]), x[0], Kernel.permute(x[0], [2, 0, 1]))
        }
        try expectCaught(c, route: .bufferJVP, mode: .forward)
    }

    @Test func wrongInPlaceAffineVJPFails() throws {
        let c = CheckCase("affine, in-place VJP scaled by 1.001", [([3, 4], .normal)]) { x in
            record(AffineWrongInPlace(scale: 2.5), x[0], Kernel.affine(x[0], 2.5, 0))
        }
        try expectCaught(c, route: .inPlace, mode: .reverse)
    }

    /// Before the route dimension, the checker saw the engine's default choice only: the same mutants passed it.
    @Test func theDefaultChoiceAloneMissesSomeMutants() throws {
        let c = CheckCase("affine, in-place VJP scaled by 1.001", [([3, 4], .normal)]) { x in
            record(AffineWrongInPlace(scale: 2.5), x[0], Kernel.affine(x[0], 2.5, 0))
        }
        let x = Tensor<Double>(shape: [3, 4], scalars: (0..<12).map { Foundation.sin(Double($0)) })
        let rows = try checkDerivatives(of: c, at: [x])
        #expect(rows.allSatisfy { $0.passed }, "\(rows)")
    }
}

import Foundation
import Testing
@testable import Autograd

/// x², with neither rule written: each default rule would derive itself from the other.
struct SquareWithoutRules: CustomOperation {
    var name: String { "squareWithoutRules" }
    func forward(_ x: [Tensor<Double>]) -> Tensor<Double> { x[0] * x[0] }
}

/// x³ with only the reverse rule, and its derivative 3x² written with the operation itself (so derivatives of the
/// derived forward rule nest the same operation's derived rule).
struct CubeReverseOnly: CustomOperation {
    var name: String { "cubeReverseOnly" }
    func forward(_ x: [Tensor<Double>]) -> Tensor<Double> { x[0] * x[0] * x[0] }
    func vjp(_ c: CustomOperationContext<Double>, cotangent: Tensor<Double>) -> [Tensor<Double>?] {
        [cotangent * 3 * c.inputs[0] * c.inputs[0]]
    }
}

/// A custom operation's missing rule is derived from the one it has; one with neither rule stops with a message at
/// its first derivative instead of recursing until the stack overflows.
@Suite struct CustomOperationRuleTests {
    @Test func neitherRuleStopsWithAMessage() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try jvp(of: { SquareWithoutRules()($0) }, at: Tensor<Double>([1, 2]), tangent: Tensor<Double>([1, 1]))
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("custom operation 'squareWithoutRules' defines neither a VJP nor a JVP rule"), "\(text)")
        #expect(text.contains("Implement at least one"))
    }

    @Test func neitherRuleStopsInReverseModeToo() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try gradient(at: Tensor<Double>([1, 2])) { SquareWithoutRules()($0).sum() }
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("defines neither a VJP nor a JVP rule"), "\(text)")
    }

    /// The derived forward rule, and derivatives of it, through an operation whose rule uses the operation itself.
    @Test func derivedRuleNestsTheSameOperation() throws {
        let x = Tensor<Double>([0.5, -1.5])
        let u = Tensor<Double>([1, 2])
        let ju = try jvp(of: { CubeReverseOnly()($0) }, at: x, tangent: u).tangent
        expectClose(ju.scalars, zip(x.scalars, u.scalars).map { 3 * $0 * $0 * $1 }, tolerance: 1e-12)
        // Second derivative: d/dx of the derived J·u along u is 6x·u².
        let second = try jvp(of: { x in try jvp(of: { CubeReverseOnly()($0) }, at: x, tangent: u).tangent },
                             at: x, tangent: u).tangent
        expectClose(second.scalars, zip(x.scalars, u.scalars).map { 6 * $0 * $1 * $1 }, tolerance: 1e-12)
        let hessianDiagonal = try hvp(of: { CubeReverseOnly()($0).sum() }, at: x, vector: u)
        expectClose(hessianDiagonal.scalars, zip(x.scalars, u.scalars).map { 6 * $0 * $1 }, tolerance: 1e-12)
    }
}

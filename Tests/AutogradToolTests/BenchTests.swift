import Foundation
import Testing
import Autograd
@testable import AutogradTool

/// The benchmark's workloads and their checks, on small shapes (no timing: these machines are shared and noisy).
@Suite struct BenchTests {
    @Test(arguments: BenchWorkloads.names + BenchWorkloads.extraNames)
    func workloadVerifiesOnSmallShapes(name: String) throws {
        let workload = try #require(BenchWorkloads.make(name, sizes: .small))
        #expect(workload.name == name)
        let verification = try workload.verify()
        #expect(verification.passed, "\(name): \(verification.detail)")
        try workload.call()
    }

    @Test func namesAreThoseOfWorkloadsMarkdown() {
        #expect(BenchWorkloads.names == ["logistic-vjp", "logistic-jvp", "logistic-jacobian", "mlp-grad", "mlp-hvp",
                                         "jac-256", "chain-500", "gemm-1024", "cnn-grad", "attention-grad", "per-example-grad", "cholesky-logdet-grad",
                                         "sparse-jacobian"])
        #expect(BenchWorkloads.make("no-such-workload") == nil)
    }

    @Test func onlyGemmReportsFlops() throws {
        for name in BenchWorkloads.names {
            let workload = try #require(BenchWorkloads.make(name, sizes: .small))
            #expect((workload.flops != nil) == (name == "gemm-1024"))
        }
        let gemm = try #require(BenchWorkloads.make("gemm-1024", sizes: .small))
        #expect(gemm.flops.map { Int($0) } == 2 * 48 * 48 * 48)
    }

    @Test func comparisonReportsTheFirstEntryOutsideItsTolerance() {
        var good = Comparison()
        good.check("values", [1, 2, 3], [1, 2.001, 3]) { _ in 0.01 }
        #expect(good.result.passed)

        var bad = Comparison()
        bad.check("values", [1, 2, 3], [1, 2.5, 3]) { _ in 0.01 }
        bad.check("more", 1, 1, tolerance: 0)
        #expect(!bad.result.passed)
        #expect(bad.result.detail.contains("values[1]"))

        var nan = Comparison()
        nan.check("nan", [.nan], [0]) { _ in 1 }
        #expect(!nan.result.passed)
    }

    /// The MLP's loss from core operations equals the plain Double implementation used by the checks.
    @Test func mlpLossMatchesTheReferenceLoss() {
        let problem = MLPProblem(.small)
        let ours = Double(problem.loss(problem.parameters).scalar)
        let reference = problem.referenceLoss(problem.parameters.map(\.doubles))
        #expect(Swift.abs(ours - reference) <= 1e-5 * Swift.abs(reference))
    }

    @Test func jsonLinesHaveTheFieldsOfWorkloadsMarkdown() throws {
        let timed = Outcome.timed(seconds: 4.1e-06, gflops: nil, check: "ok").jsonLine("logistic-vjp")
        #expect(timed == #"{"workload": "logistic-vjp", "system": "autograd", "seconds": 4.1e-06}"#)
        let gemm = Outcome.timed(seconds: 0.01, gflops: 214.7, check: "ok").jsonLine("gemm-1024")
        let object = try #require(JSONSerialization.jsonObject(with: Data(gemm.utf8)) as? [String: Any])
        #expect(object["gflops"] as? Double == 214.7)
        let failed = Outcome.failed("verification failed: \"x\"").jsonLine("jac-256")
        let failure = try #require(JSONSerialization.jsonObject(with: Data(failed.utf8)) as? [String: Any])
        #expect(failure["error"] as? String == "verification failed: \"x\"")
        #expect(failure["seconds"] == nil)
    }

    @Test func memoryFieldsAreThoseOfThePeers() throws {
        let line = Outcome.timed(seconds: 8.7e-05, gflops: nil, check: "ok",
                                 memory: ResidentGrowth(growth: 1_048_576, before: 9_000_000)).jsonLine("sparse-jacobian")
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["rss_growth_bytes"] as? Int == 1_048_576)
        #expect(object["rss_before_bytes"] as? Int == 9_000_000)
        #expect(try #require(BenchWorkloads.make("sparse-jacobian", sizes: .small)).reportsMemory)
        #expect(try !#require(BenchWorkloads.make("mlp-grad", sizes: .small)).reportsMemory)
    }

    /// The peak resident set can be reset and read on Linux, and an allocation touched page by page raises it.
    @Test func residentSetPeakResetsAndGrows() throws {
        #if os(Linux)
        #expect(ResidentSet.resetPeak())
        let before = try #require(ResidentSet.read())
        #else
        guard ResidentSet.resetPeak(), let before = ResidentSet.read() else { return }
        #endif
        #expect(before.peak - before.current < 8 << 20)
        var buffer = [UInt8](repeating: 1, count: 64 << 20)
        buffer[buffer.count - 1] = 2
        let after = try #require(ResidentSet.read())
        #expect(after.peak - before.current >= 48 << 20)
        blackHole(buffer)
    }

    /// sparse-jacobian's check on the small grid: the plan's result passes; a result with one entry changed, or
    /// with the pattern of another grid, fails.
    @Test func sparseJacobianCheckCatchesWrongResults() throws {
        let problem = try BratuJacobianProblem(.small)
        #expect(problem.plan.coloring.colorCount == 5)
        #expect(problem.plan.pattern.nonzeroCount == 5 * 64 - 4 * 8)
        let good = try problem.plan.jacobian(of: problem.residual, at: problem.u)
        let passed = problem.check(value: good.value, jacobian: good.jacobian)
        #expect(passed.passed, "\(passed.detail)")
        var j = good.jacobian
        j.values[17] *= 1.001
        #expect(!problem.check(value: good.value, jacobian: j).passed)
        #expect(!problem.check(value: good.value * 1.001, jacobian: good.jacobian).passed)
        let other = try BratuJacobianProblem(BenchSizes.small.withSparseGrid(7))
        let smaller = try other.plan.jacobian(of: other.residual, at: other.u)
        #expect(!problem.check(value: good.value, jacobian: smaller.jacobian).passed)
    }

    @Test func commandRejectsUnknownWorkloads() throws {
        #expect(throws: (any Error).self) { try Bench.parse(["mlp-grad", "resnet"]) }
        let bench = try Bench.parse(["--json", "chain-500"])
        #expect(bench.json && bench.workloads == ["chain-500"])
    }
}

extension BenchSizes {
    func withSparseGrid(_ n: Int) -> BenchSizes {
        var sizes = self
        sizes.sparseGridSize = n
        return sizes
    }
}

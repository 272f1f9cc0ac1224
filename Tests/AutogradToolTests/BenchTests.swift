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
                                         "jac-256", "chain-500", "gemm-1024", "cnn-grad"])
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

    @Test func commandRejectsUnknownWorkloads() throws {
        #expect(throws: (any Error).self) { try Bench.parse(["mlp-grad", "resnet"]) }
        let bench = try Bench.parse(["--json", "chain-500"])
        #expect(bench.json && bench.workloads == ["chain-500"])
    }
}

import Testing
@testable import AutogradTool

/// The compiled benchmark workloads on small shapes: each passes the eager check and matches eager bit for bit.
@Suite struct BenchCompiledTests {
    @Test(arguments: BenchWorkloads.compiledNames)
    func compiledWorkloadPassesItsCheck(_ name: String) throws {
        let workload = try #require(BenchWorkloads.makeCompiled(name, sizes: .small))
        let verification = try workload.verify()
        #expect(verification.passed, "\(name): \(verification.detail)")
        try workload.call()
    }

    @Test func onlyListedWorkloadsHaveACompiledForm() {
        #expect(BenchWorkloads.makeCompiled("gemm-1024", sizes: .small) == nil)
        #expect(BenchWorkloads.makeCompiled("no-such-workload", sizes: .small) == nil)
    }
}

import ArgumentParser
import Autograd
import Foundation

/// `autograd bench`: times the workloads of WORKLOADS.md the way `peers.py` times PyTorch and JAX.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the benchmark workloads and print median seconds per call.",
        discussion: """
            Workloads: \(BenchWorkloads.names.joined(separator: ", ")) (all of them if none is named), and, only \
            when named, \(BenchWorkloads.extraNames.joined(separator: ", ")) (mlp-hvp reverse over reverse and \
            per-example-grad in forward mode, for comparison). \
            Shapes and data are those of Benchmarks/WORKLOADS.md, in Float. Each workload's inputs are made once; \
            its call is first checked against an independent computation (closed forms, finite differences of a \
            plain Double implementation, or naive dot products); a failed check is reported instead of a time.

            Timing follows peers.py: one warm-up call, a loop doubled until it takes more than 50 ms, then the \
            median of 7 repeats of that loop. Build with -c release; a debug build is many times slower.

            \(BenchWorkloads.compiledNames.joined(separator: ", ")) are also timed compiled (traced once by             compiled(_:), replayed in every timed call; "system": "autograd.compiled" in JSON), after the eager             workload's check and a bitwise comparison of the compiled result with the eager one.

            --memory measures the peak memory of one mlp-grad call instead (run it in a fresh process): the peak \
            of live tensor bytes (StorageStatistics) and the growth of the process's maximum resident set.

            sparse-jacobian also reports its memory as the peers do: rss_growth_bytes, the peak resident set over \
            the check (the first call) and the timing minus the resident set before them (Linux: VmHWM of \
            /proc/self/status, reset first through /proc/self/clear_refs), and rss_before_bytes.
            """
    )

    @Flag(help: ArgumentHelp("Print one JSON line per measurement: {\"workload\", \"system\": \"autograd\", "
        + "\"seconds\"} (gemm-1024 adds \"gflops\"; a failed check gives \"error\" instead of \"seconds\")."))
    var json = false

    @Flag(help: "Measure the peak memory of one mlp-grad call in this process instead of timing anything.")
    var memory = false

    @Option(help: ArgumentHelp("Instead of the timing protocol, call each workload repeatedly for this many seconds "
        + "(to profile it, e.g. under perf record).", valueName: "seconds"))
    var loop: Double?

    @Flag(help: "Skip the checks (only with --loop, to keep them out of a profile).")
    var noVerify = false

    @Option(help: "Repeats of the timed loop; the median is reported.")
    var repeats = 7

    @Option(help: ArgumentHelp("The timed loop is doubled until one pass takes longer than this.", valueName: "seconds"))
    var minimumTime = 0.05

    @Argument(help: "Workloads to run (default: all).")
    var workloads: [String] = []

    func validate() throws {
        let known = BenchWorkloads.names + BenchWorkloads.extraNames
        let unknown = workloads.filter { !known.contains($0) }
        if !unknown.isEmpty {
            throw ValidationError("unknown workload \(unknown.joined(separator: ", ")); the workloads are "
                + known.joined(separator: ", "))
        }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        if noVerify && loop == nil { throw ValidationError("--no-verify is only for --loop: timings are always checked") }
    }

    func run() throws {
        if memory {
            let report = try MemoryReport.measureMLPGradient()
            print(json ? report.jsonLine : report.text)
            return
        }
        let names = workloads.isEmpty ? BenchWorkloads.names
            : (BenchWorkloads.names + BenchWorkloads.extraNames).filter(workloads.contains)
        if !json {
            print("autograd bench: median seconds per call, \(ProcessInfo.processInfo.activeProcessorCount) cores, "
                + "load average \(Load.averages)")
            print(pad("workload", 18) + pad("per call", 12) + pad("", 16) + "check")
        }
        var failed = false
        for name in names {
            let workload = BenchWorkloads.make(name)!
            let outcome = measure(workload)
            if case .failed = outcome { failed = true }
            print(json ? outcome.jsonLine(name) : outcome.tableRow(name))
            if let compiledWorkload = BenchWorkloads.makeCompiled(name) {
                let outcome = measure(compiledWorkload)
                if case .failed = outcome { failed = true }
                print(json ? outcome.jsonLine(name, system: "autograd.compiled") : outcome.tableRow(name + " (compiled)"))
            }
        }
        if failed { throw ExitCode.failure }
    }

    /// Verifies a workload, then times it (or loops over it for `--loop` seconds).
    private func measure(_ workload: BenchWorkload) -> Outcome {
        let memoryBefore = workload.reportsMemory && ResidentSet.resetPeak() ? ResidentSet.read() : nil
        var verification = BenchVerification(passed: true, detail: "not checked (--no-verify)")
        if !noVerify {
            do { verification = try workload.verify() } catch {
                return .failed("the call threw: \(error)")
            }
        }
        guard verification.passed else { return .failed("verification failed: \(verification.detail)") }
        let call = {
            do { try workload.call() } catch { fatalError("\(workload.name) threw after it was verified: \(error)") }
        }
        let seconds: Double
        if let loop {
            let start = Timing.now()
            var calls = 0
            while Timing.now() - start < loop { call(); calls += 1 }
            seconds = (Timing.now() - start) / Double(Swift.max(calls, 1))
            verification.detail += "; mean of \(calls) calls"
        } else {
            seconds = Timing.median(repeats: repeats, minimum: minimumTime, call)
        }
        let memory = memoryBefore.flatMap { before in
            ResidentSet.read().map { ResidentGrowth(growth: $0.peak - before.current, before: before.current) }
        }
        return .timed(seconds: seconds, gflops: workload.flops.map { $0 / seconds / 1e9 }, check: verification.detail,
                      memory: memory)
    }
}

/// Peak resident-set growth over a workload's check and timing, and the resident set before them, in bytes.
struct ResidentGrowth {
    var growth: Int
    var before: Int
}

/// The result of one workload: a median time, or why there is none.
enum Outcome {
    case timed(seconds: Double, gflops: Double?, check: String, memory: ResidentGrowth? = nil)
    case failed(String)

    /// The JSON line of WORKLOADS.md.
    func jsonLine(_ workload: String, system: String = "autograd") -> String {
        var fields: [(String, Any)] = [("workload", workload), ("system", system)]
        switch self {
        case let .timed(seconds, gflops, _, memory):
            fields.append(("seconds", seconds))
            if let gflops { fields.append(("gflops", gflops)) }
            if let memory { fields += [("rss_growth_bytes", memory.growth), ("rss_before_bytes", memory.before)] }
        case let .failed(message):
            fields.append(("error", message))
        }
        return JSON.orderedObject(fields)
    }

    /// A row of the human-readable table.
    func tableRow(_ workload: String) -> String {
        switch self {
        case let .timed(seconds, gflops, check, memory):
            let rate = gflops.map { String(format: "%.1f GFLOP/s", $0) }
                ?? memory.map { String(format: "+%.1f MiB RSS", Double($0.growth) / 1_048_576) } ?? ""
            return pad(workload, 18) + pad(Timing.format(seconds), 12) + pad(rate, 16) + "ok: " + check
        case let .failed(message):
            return pad(workload, 18) + pad("—", 12) + pad("", 16) + "FAILED: " + message
        }
    }
}

private func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: Swift.max(1, width - s.count)) }

/// The machine's load averages (1, 5, 15 minutes) as `uptime` prints them.
enum Load {
    static var averages: String {
        var loads = [Double](repeating: 0, count: 3)
        guard getloadavg(&loads, 3) == 3 else { return "unknown" }
        return loads.map { String(format: "%.2f", $0) }.joined(separator: ", ")
    }
}

// MARK: - Peak memory of mlp-grad

/// Peak memory of one mlp-grad call, measured two ways in the current process.
struct MemoryReport {
    /// Bytes of live tensor buffers before the call (inputs and parameters).
    var liveTensorBytesBefore: Int
    /// The largest number of bytes in live tensor buffers during the call, minus `liveTensorBytesBefore`.
    var peakTensorBytes: Int
    /// Maximum resident set size before the call.
    var maxRSSBefore: Int
    /// Growth of the maximum resident set size over the call (what it cost the process, allocator included).
    var rssGrowth: Int

    /// Makes the mlp-grad inputs, then makes one call and reads both measures around it. Meant for a fresh process:
    /// the maximum resident set only grows, so earlier work in the process would hide the call's own growth.
    static func measureMLPGradient() throws -> MemoryReport {
        StorageStatistics.isEnabled = true
        let problem = MLPProblem(.full)
        let parameters = problem.parameters
        let before = StorageStatistics.liveBytes
        let rssBefore = maxResidentBytes()
        StorageStatistics.resetPeak()
        let result = try gradients(at: parameters, of: problem.loss)
        let peak = StorageStatistics.peakBytes
        let rssAfter = maxResidentBytes()
        blackHole(result)
        return MemoryReport(liveTensorBytesBefore: before, peakTensorBytes: peak - before, maxRSSBefore: rssBefore,
                            rssGrowth: rssAfter - rssBefore)
    }

    /// ru_maxrss of this process, in bytes (Linux reports kibibytes).
    static func maxResidentBytes() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
    }

    var jsonLine: String {
        JSON.orderedObject([("workload", "mlp-grad"), ("system", "autograd"), ("peak_tensor_bytes", peakTensorBytes),
                            ("rss_growth_bytes", rssGrowth), ("live_tensor_bytes_before", liveTensorBytesBefore),
                            ("max_rss_before_bytes", maxRSSBefore)])
    }

    var text: String {
        func mib(_ bytes: Int) -> String { String(format: "%.2f MiB", Double(bytes) / 1_048_576) }
        return """
            mlp-grad, one call in this process:
              peak of live tensor buffers above the inputs  \(mib(peakTensorBytes))  (StorageStatistics)
              growth of the maximum resident set            \(mib(rssGrowth))  (getrusage, from \(mib(maxRSSBefore)))
              tensor buffers alive before the call          \(mib(liveTensorBytesBefore))
            """
    }
}

extension JSON {
    /// A one-line JSON object with its keys in the given order (as peers.py prints them).
    static func orderedObject(_ fields: [(String, Any)]) -> String {
        func value(_ v: Any) -> String {
            switch v {
            case let d as Double: d.isFinite ? "\(d)" : "null"   // Swift's shortest form, e.g. 4.1e-06, like Python
            case let i as Int: "\(i)"
            default: string(v)
            }
        }
        return "{" + fields.map { "\(string($0.0)): \(value($0.1))" }.joined(separator: ", ") + "}"
    }
}

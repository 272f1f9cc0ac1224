import Foundation
import Testing
@testable import Autograd

/// After a derivative call that does not retain its graph, the graph and every tensor its rules saved are gone:
/// the live buffers are exactly those of the tensors the caller still holds, and when those are dropped too, the
/// count is back where it was. Counted with `StorageStatistics.liveBuffers`, in a child process of its own (an exit
/// test), because tests running in parallel in one process allocate too.
@Suite struct MemoryTests {
    /// In the child: runs `body` twice (the first run warms up anything created once per process), and after the
    /// second checks that the buffers alive while `body` returns are exactly those of the tensors it returns, and
    /// that none is left once those are dropped. Problems are printed on standard output (the parent reads them:
    /// a failed exit test returns no output) and the child exits normally.
    static func expectReleased(_ name: String, _ body: () throws -> [AnyTensor]) rethrows {
        StorageStatistics.isEnabled = true
        _ = try body()
        let before = StorageStatistics.liveBuffers
        do {
            let held = try body()
            let distinct = Set(held.map { ObjectIdentifier($0.storage) }).count
            let alive = StorageStatistics.liveBuffers - before
            if alive != distinct { print("FAIL \(name): \(alive) buffers alive, but the caller holds only \(distinct)") }
        }
        let left = StorageStatistics.liveBuffers - before
        if left != 0 { print("FAIL \(name): \(left) buffers left after the results were dropped") }
        print("checked \(name)")
    }

    /// Records every `FAIL` line the child printed, and expects `count` checks to have run.
    static func expectNoFailures(_ result: ExitTest.Result?, count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = String(decoding: result?.standardOutputContent ?? [], as: UTF8.self).split(separator: "\n")
        for line in lines where line.hasPrefix("FAIL") { Issue.record("\(line)", sourceLocation: sourceLocation) }
        #expect(lines.filter { $0.hasPrefix("checked") }.count == count, "\(lines)", sourceLocation: sourceLocation)
    }

    /// A function with saved tensors in every kind of rule: matmul, tanh, exp, division, softmax, a reduction.
    static func f(_ w: Tensor<Double>) -> Tensor<Double> {
        let x = Tensor<Double>(shape: [5, 4], scalars: (0..<20).map { Double($0) / 10 - 1 })
        let h = tanh(matmul(x, w))
        return (exp(h) / (1 + h * h)).softmax().sum(alongAxes: 1)
    }

    static func w() -> Tensor<Double> { Tensor(shape: [4, 3], scalars: (0..<12).map { sin(Double($0)) }) }

    @Test func derivativeCallsReleaseTheirGraphs() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            try MemoryTests.expectReleased("gradient(at:of:)") {
                let w = MemoryTests.w()
                return [w.base, try gradient(at: w) { MemoryTests.f($0).sum() }.base]
            }
            try MemoryTests.expectReleased("valueWithGradients(at:of:)") {
                let w = MemoryTests.w()
                let (value, g) = try valueWithGradients(at: [w, w * 2]) { (MemoryTests.f($0[0]) * MemoryTests.f($0[1])).sum() }
                return [w.base, value.base] + g.map(\.base)
            }
            try MemoryTests.expectReleased("vjp(of:at:cotangent:)") {
                let w = MemoryTests.w()
                let (y, g) = try vjp(of: MemoryTests.f, at: w, cotangent: Tensor(ones: [5]))
                return [w.base, y.base, g.base]
            }
            try MemoryTests.expectReleased("vjp(of:at:cotangents:batched:)") {
                let w = MemoryTests.w()
                let (y, g) = try vjp(of: { [MemoryTests.f($0[0])] }, at: [w], cotangents: [Tensor(ones: [2, 5])],
                                     batched: true)
                return [w.base] + y.map(\.base) + g.map(\.base)
            }
            try MemoryTests.expectReleased("jvp(of:at:tangent:)") {
                let w = MemoryTests.w()
                let (y, t) = try jvp(of: MemoryTests.f, at: w, tangent: Tensor(ones: [4, 3]))
                return [w.base, y.base, t.base]
            }
            try MemoryTests.expectReleased("jacobian (forward, reverse)") {
                let w = MemoryTests.w()
                return [w.base, try jacobian(of: MemoryTests.f, at: w, strategy: .forward).base,
                        try jacobian(of: MemoryTests.f, at: w, strategy: .reverse).base]
            }
            try MemoryTests.expectReleased("hessian, hvp") {
                let w = MemoryTests.w()
                return [w.base, try hessian(of: { MemoryTests.f($0).sum() }, at: w).base,
                        try hvp(of: { MemoryTests.f($0).sum() }, at: w, vector: w).base]
            }
            try MemoryTests.expectReleased("gradient(of:wrt:)") {
                let w = MemoryTests.w().requiringGradient()
                let y = MemoryTests.f(w).sum()
                let g = try gradient(of: y, wrt: w)
                // y still holds its node, but the pass released every saved tensor: only y's own buffer is left.
                return [w.base, y.base, g.base]
            }
            try MemoryTests.expectReleased("backward()") {
                let w = MemoryTests.w().requiringGradient()
                try MemoryTests.f(w).sum().backward()
                try MemoryTests.f(w * 3).sum().backward()
                return [w.base, w.gradient!.base]
            }
            try MemoryTests.expectReleased("perExampleGradients(of:at:)") {
                let w = MemoryTests.w()
                return [w.base, try perExampleGradients(of: MemoryTests.f, at: w).base]
            }
            // Calls that keep a graph on purpose free it with the last tensor that refers to it.
            try MemoryTests.expectReleased("retainGraph, createGraph") {
                let w = MemoryTests.w().requiringGradient()
                let y = MemoryTests.f(w).sum()
                _ = try gradient(of: y, wrt: w, retainGraph: true)
                let g = try gradient(of: y, wrt: w, createGraph: true)
                _ = try gradient(of: g.sum(), wrt: w)
                return [w.base]
            }
            try MemoryTests.expectReleased("linearize") {
                let w = MemoryTests.w()
                let (y, map) = try linearize(of: MemoryTests.f, at: w)
                return [w.base, y.base, try map(w).base]
            }
            try MemoryTests.expectReleased("anomaly detection") {
                let w = MemoryTests.w()
                return [w.base, try withAnomalyDetection { try gradient(at: w) { MemoryTests.f($0 + 1).sum() } }.base]
            }
            try MemoryTests.expectReleased("a chain of 5,000 operations") {
                let w = MemoryTests.w()
                return [w.base, try gradient(at: w) { w in
                    var h = w
                    for _ in 0..<5_000 { h = tanh(h * 1.0001) }
                    return h.sum()
                }.base]
            }
        }
        Self.expectNoFailures(result, count: 14)
    }

    /// Memory falls during the reverse pass: each rule's saved tensors go as soon as it has run, so the peak of
    /// the pass stays near the memory of the recorded graph instead of growing by it.
    @Test func savedTensorsAreReleasedDuringThePass() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            StorageStatistics.isEnabled = true
            let w = Tensor<Double>(ones: [256]).requiringGradient()
            var h = w
            for _ in 0..<100 { h = tanh(h * 0.9 + 0.01) }
            let y = h.sum()
            let graph = StorageStatistics.liveBytes
            StorageStatistics.resetPeak()
            _ = try gradient(of: y, wrt: w)
            // 100 saved tanh outputs of 2 KiB each were held; the pass adds a few cotangents at a time on top.
            let extra = StorageStatistics.peakBytes - graph
            if extra >= 16 * 2048 { print("FAIL the reverse pass peaked \(extra) bytes above the recorded graph") }
            if StorageStatistics.liveBytes >= graph - 90 * 2048 { print("FAIL saved tensors were not released") }
            print("checked the peak of the pass")
        }
        Self.expectNoFailures(result, count: 1)
    }

    /// `backward(createGraph: true)` stores a gradient whose history refers back to its leaf, so the two keep each
    /// other alive (as in PyTorch); `clearGradient()` after each step breaks that, and memory stays flat over a long
    /// loop. The first such pass warns once.
    @Test func createGraphBackwardLoopIsFlatWithClearGradient() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            StorageStatistics.isEnabled = true
            let w = Tensor<Double>([0.5, -1, 2]).requiringGradient()
            var counts: [Int] = []
            for step in 0..<10_000 {
                try (sin(w) * w).sum().backward(createGraph: true)
                let penalty = (w.gradient! * w.gradient!).sum()   // differentiable: it records history
                if penalty.isRecorded == false { print("FAIL the stored gradient records no history") }
                w.clearGradient()
                if step % 2_500 == 0 || step == 9_999 { counts.append(StorageStatistics.liveBuffers) }
            }
            if Set(counts).count != 1 { print("FAIL live buffers over 10 000 steps: \(counts)") }
            if !GradientCycleWarning.wasPrinted { print("FAIL no warning about the leaf-gradient cycle") }
            print("checked the createGraph loop")
        }
        Self.expectNoFailures(result, count: 1)
    }
}

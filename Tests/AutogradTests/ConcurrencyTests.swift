import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Autograd

/// Derivatives computed at the same time, in tasks or on threads, equal the ones computed one after another:
/// recording switches and forward-mode levels are task-local, graphs that share leaves are walked under the nodes'
/// locks, and the kernels may be called from several threads at once.
@Suite struct ConcurrencyTests {
    static let workers = 8

    /// A small network's loss for example `i`: tanh(x W) · v, with its own input and target.
    static func loss(_ w: Tensor<Double>, _ i: Int) -> Tensor<Double> {
        var rng = SeededGenerator(seed: UInt64(100 + i))
        let x = Tensor<Double>(randomNormal: [16, 8], using: &rng)
        let t = Tensor<Double>(randomNormal: [16, 4], using: &rng)
        return ((tanh(matmul(x, w)) - t).squared() * softplus(w.sum())).mean()
    }

    static let w0: Tensor<Double> = {
        var rng = SeededGenerator(seed: 7)
        return Tensor(randomNormal: [8, 4], standardDeviation: 0.3, using: &rng)
    }()

    /// Runs `body(i)` for i in 0 ..< n on `n` OS threads started at the same time, and collects the results.
    static func onThreads<R: Sendable>(_ n: Int, _ body: @escaping @Sendable (Int) throws -> R) throws -> [R] {
        let results = Mutex<[Int: Result<R, any Error>]>([:])
        let start = DispatchSemaphore(value: 0), done = DispatchGroup()
        for i in 0..<n {
            done.enter()
            let thread = Thread {
                start.wait()
                let r = Result { try body(i) }
                results.withLock { $0[i] = r }
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        for _ in 0..<n { start.signal() }
        done.wait()
        return try results.withLock { r in try (0..<n).map { try r[$0]!.get() } }
    }

    @Test func gradientsInParallelTasksEqualSequentialOnes() async throws {
        let expected = try (0..<Self.workers).map { i in try gradient(at: Self.w0) { Self.loss($0, i) } }
        let got = try await withThrowingTaskGroup(of: (Int, Tensor<Double>).self) { group in
            for i in 0..<Self.workers {
                group.addTask { (i, try gradient(at: Self.w0) { Self.loss($0, i) }) }
            }
            var got = [Tensor<Double>?](repeating: nil, count: Self.workers)
            for try await (i, g) in group { got[i] = g }
            return got
        }
        for i in 0..<Self.workers { #expect(got[i]?.scalars == expected[i].scalars, "task \(i)") }
    }

    @Test func gradientsOnThreadsEqualSequentialOnes() throws {
        let expected = try (0..<Self.workers).map { i in try gradient(at: Self.w0) { Self.loss($0, i) } }
        let got = try Self.onThreads(Self.workers) { i in try gradient(at: Self.w0) { Self.loss($0, i) } }
        for i in 0..<Self.workers { #expect(got[i].scalars == expected[i].scalars, "thread \(i)") }
    }

    /// Tasks share one leaf parameter (made by requiringGradient()) and build their graphs on it at the same time.
    @Test func tasksSharingALeafParameter() async throws {
        let w = Self.w0.requiringGradient()
        let expected = try (0..<Self.workers).map { i in try gradient(of: Self.loss(w, i), wrt: w) }
        let got = try await withThrowingTaskGroup(of: (Int, Tensor<Double>).self) { group in
            for i in 0..<Self.workers {
                group.addTask {
                    var last = Tensor<Double>(0)
                    for _ in 0..<20 { last = try gradient(of: Self.loss(w, i), wrt: w) }
                    return (i, last)
                }
            }
            var got = [Tensor<Double>?](repeating: nil, count: Self.workers)
            for try await (i, g) in group { got[i] = g }
            return got
        }
        for i in 0..<Self.workers { #expect(got[i]?.scalars == expected[i].scalars, "task \(i)") }
        #expect(w.gradient == nil, "gradient(of:wrt:) does not accumulate into the leaf")
    }

    /// backward() from several threads into one shared leaf: the accumulated gradient is the sum of all of them.
    @Test func backwardAccumulatesIntoASharedLeafFromSeveralThreads() async throws {
        let w = Self.w0.requiringGradient()
        let rounds = 25
        let each = try (0..<Self.workers).map { i in try gradient(of: Self.loss(w, i), wrt: w) }
        var sum = each[0] * Double(rounds)
        for g in each.dropFirst() { sum = sum + g * Double(rounds) }
        _ = try Self.onThreads(Self.workers) { i in
            for _ in 0..<rounds { try Self.loss(w, i).backward() }
        }
        let total = try #require(w.gradient)
        expectClose(total.scalars, sum.scalars, tolerance: 1e-12)
        // The same from tasks, after clearing.
        w.clearGradient()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<Self.workers { group.addTask { for _ in 0..<rounds { try Self.loss(w, i).backward() } } }
            try await group.waitForAll()
        }
        expectClose(try #require(w.gradient).scalars, sum.scalars, tolerance: 1e-12)
    }

    /// A `jvp` reuses its thread's settings object from the previous call only when nothing else holds it. A task
    /// started inside a call keeps that call's settings (its forward level) while later calls run on the thread.
    @Test func aTaskStartedInsideJvpKeepsItsSettings() async throws {
        let x = Tensor<Double>([1, 2]), u = Tensor<Double>([1, 1])
        _ = try jvp(of: { $0 * 2 }, at: x, tangent: u)  // leaves a spare settings object on this thread
        let release = DispatchSemaphore(value: 0)
        var firstLevel = 0
        var task: Task<Int, Never>?
        _ = try jvp(of: { x in
            firstLevel = ADScope.current.innermostLevel?.id ?? 0
            task = Task {
                release.wait()  // until the next call on the original thread is over
                return ADScope.current.innermostLevel?.id ?? 0
            }
            return x * 2
        }, at: x, tangent: u)
        var secondLevel = 0
        _ = try jvp(of: { x in
            secondLevel = ADScope.current.innermostLevel?.id ?? 0
            return x * 3
        }, at: x, tangent: u)
        release.signal()
        let seenByTask = await task!.value
        #expect(firstLevel != 0 && secondLevel != firstLevel)
        #expect(seenByTask == firstLevel)
    }

    /// Nested forward and reverse mode in parallel tasks: each task's forward levels are its own, so a Hessian-vector
    /// product (jvp over gradient) and a gradient of a jvp in one task never see another task's tangents.
    @Test func nestedDerivativesInParallelTasks() async throws {
        func hvp(_ i: Int) throws -> Tensor<Double> {
            var rng = SeededGenerator(seed: UInt64(i))
            let u = Tensor<Double>(randomNormal: [8, 4], using: &rng)
            return try jvp(of: { w in try gradient(at: w) { Self.loss($0, i) } }, at: Self.w0, tangent: u).tangent
        }
        func gradientOfJVP(_ i: Int) throws -> Tensor<Double> {
            try gradient(at: Self.w0) { w in
                try jvp(of: { Self.loss($0, i) }, at: w, tangent: Tensor(ones: [8, 4]) * Double(i + 1)).tangent
            }
        }
        func forwardOverForward(_ i: Int) throws -> Tensor<Double> {
            let x = Tensor<Double>([0.5 + Double(i) / 10])
            return try jvp(of: { x in try jvp(of: { sin($0 * $0) }, at: x, tangent: Tensor([1])).tangent },
                           at: x, tangent: Tensor([1])).tangent
        }
        let expected = try (0..<Self.workers).map { i in [try hvp(i), try gradientOfJVP(i), try forwardOverForward(i)] }
        let got = try await withThrowingTaskGroup(of: (Int, [Tensor<Double>]).self) { group in
            for i in 0..<Self.workers {
                group.addTask {
                    // Interleave the three kinds of nesting with other tasks.
                    var r: [Tensor<Double>] = []
                    for _ in 0..<10 { r = [try hvp(i), try gradientOfJVP(i), try forwardOverForward(i)] }
                    return (i, r)
                }
            }
            var got = [[Tensor<Double>]](repeating: [], count: Self.workers)
            for try await (i, r) in group { got[i] = r }
            return got
        }
        for i in 0..<Self.workers {
            for (k, (a, b)) in zip(got[i], expected[i]).enumerated() { #expect(a.scalars == b.scalars, "task \(i), \(k)") }
        }
        // The closed form of the third: d²/dx² sin(x²) = 2 cos(x²) − 4x² sin(x²).
        let x = 0.5
        #expect(Swift.abs(expected[0][2].scalar - (2 * Foundation.cos(x * x) - 4 * x * x * Foundation.sin(x * x))) < 1e-12)
    }

    /// Recording switches are per task: a task inside withoutRecording does not stop another from recording.
    @Test func recordingSwitchesArePerTask() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<Self.workers {
                group.addTask {
                    for _ in 0..<200 {
                        if i.isMultiple(of: 2) {
                            let y = withoutRecording { Self.w0.requiringGradient() * 2 }
                            #expect(!y.isRecorded)
                        } else {
                            let w = Self.w0.requiringGradient()
                            #expect((w * 2).isRecorded)
                            let g = try gradient(of: (w * 2).sum(), wrt: w)
                            #expect(g.scalars.allSatisfy { $0 == 2 })
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// The settings a call installs reach tasks started inside it (task-local inheritance) but not other threads,
    /// and are gone once it returns.
    @Test func settingsReachChildTasksButNotOtherThreads() async throws {
        final class Flag: @unchecked Sendable { var value = false }  // written before the semaphore is signalled
        let w = Self.w0.requiringGradient()
        let other = Flag()
        let (inside, child) = withoutRecording { () -> (Bool, Task<Bool, Never>) in
            let done = DispatchSemaphore(value: 0)
            Thread {
                other.value = (w * 2).isRecorded
                done.signal()
            }.start()
            done.wait()
            return ((w * 2).isRecorded, Task { (w * 2).isRecorded })
        }
        #expect(!inside)
        #expect(other.value)                 // the other thread recorded as usual
        #expect(await child.value == false)  // the child task inherited "not recording"
        #expect((w * 2).isRecorded)          // after the call, this thread records again
    }

    /// Matrix products large enough for the kernels' threaded paths, from several threads at once.
    @Test func matrixProductsFromSeveralThreads() throws {
        @Sendable func operands(_ i: Int) -> (Tensor<Double>, Tensor<Double>, Tensor<Float>, Tensor<Float>) {
            var rng = SeededGenerator(seed: UInt64(50 + i))
            let a = Tensor<Double>(randomNormal: [160, 192], using: &rng), b = Tensor<Double>(randomNormal: [192, 144], using: &rng)
            return (a, b, Tensor(converting: a), Tensor(converting: b))
        }
        @Sendable func products(_ i: Int) -> [[Double]] {
            let (a, b, fa, fb) = operands(i)
            return [matmul(a, b).scalars, matmul(a, b, transposeB: false).sum(alongAxes: 0).scalars,
                    matmul(b, a, transposeA: true, transposeB: true).scalars,
                    matmul(fa, fb).scalars.map(Double.init),
                    matmul(Tensor(stacking: [a, a]), b).scalars]
        }
        let expected = (0..<4).map(products)
        let got = try Self.onThreads(Self.workers) { i in products(i % 4) }
        for i in 0..<Self.workers {
            for (k, (a, b)) in zip(got[i], expected[i % 4]).enumerated() {
                expectClose(a, b, tolerance: 1e-12)
                #expect(a.count == b.count, "thread \(i), product \(k)")
            }
        }
    }

    /// Tensors are values: tasks that share one buffer and write to their copies never see each other's writes.
    @Test func sharedBuffersAreCopiedOnWrite() async throws {
        let shared = Tensor<Double>(zeros: [64])
        let sums = try await withThrowingTaskGroup(of: Double.self) { group in
            for i in 0..<Self.workers {
                group.addTask {
                    var mine = shared
                    for k in 0..<64 { mine[scalarAt: k] = Double(i) }
                    return mine.sum().scalar
                }
            }
            return try await group.reduce(into: [Double]()) { $0.append($1) }
        }
        #expect(sums.sorted() == (0..<Self.workers).map { Double($0 * 64) })
        #expect(shared.scalars.allSatisfy { $0 == 0 })
    }
}

import Foundation
import Testing
@testable import Autograd

/// Compiled functions: traced once per signature, replayed after; replay equals eager bit for bit on new inputs;
/// value-dependent control flow, untraceable operations and concurrency.
@Suite struct CompiledTests {
    static func random(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
        var rng = SeededGenerator(seed: seed)
        return Tensor(randomNormal: shape, using: &rng)
    }
    static func randomFloat(_ shape: [Int], seed: UInt64) -> Tensor<Float> {
        var rng = SeededGenerator(seed: seed)
        return Tensor(randomNormal: shape, using: &rng)
    }

    /// Bitwise equality of two tensors' elements and shapes.
    static func same<S>(_ a: Tensor<S>, _ b: Tensor<S>) -> Bool {
        a.shape == b.shape && a.scalars.withUnsafeBytes { x in b.scalars.withUnsafeBytes { y in x.elementsEqual(y) } }
    }

    @Test func gradientReplaysBitwiseOnNewInputs() throws {
        let w0 = Self.random([3, 4], seed: 1), x0 = Self.random([5, 3], seed: 2)
        func loss(_ w: Tensor<Double>, _ x: Tensor<Double>) throws -> Tensor<Double> {
            try gradient(at: w) { w in (tanh(matmul(x, w)) * 1.5 + 0.25).sum() }
        }
        let f = compiled(loss)
        let first = try f(w0, x0)
        #expect(f.traceCount == 1)
        #expect(Self.same(first, try loss(w0, x0)))
        for seed in UInt64(3)..<7 {
            let w = Self.random([3, 4], seed: seed), x = Self.random([5, 3], seed: seed + 100)
            let replayed = try f(w, x)
            #expect(Self.same(replayed, try loss(w, x)), "seed \(seed)")
        }
        #expect(f.traceCount == 1)
        // New shapes trace again.
        _ = try f(Self.random([3, 2], seed: 9), Self.random([4, 3], seed: 10))
        #expect(f.traceCount == 2)
    }

    @Test func derivativeCallsInsideReplay() throws {
        let x0 = Self.random([4], seed: 11), u0 = Self.random([4], seed: 12)
        func g(_ x: Tensor<Double>) -> Tensor<Double> { (sin(x) * x).sum() }
        func calls(_ x: Tensor<Double>, _ u: Tensor<Double>) throws -> [Tensor<Double>] {
            let j = try jvp(of: { sin($0) * exp($0) }, at: x, tangent: u).tangent
            let v = try vjp(of: { sin($0) * exp($0) }, at: x, cotangent: u).vjp
            let h = try hvp(of: g, at: x, vector: u)
            let jac = try jacobian(of: { tanh($0) * $0 }, at: x)
            // d/dx [x · d/dy (x·y)] = 2x, nested.
            let nested = try gradient(at: x) { x in
                (x * (try gradient(at: x) { y in (x * y).sum() })).sum()
            }
            return [j, v, h, jac, nested]
        }
        let f = compiled(calls)
        _ = try f(x0, u0)
        let x = Self.random([4], seed: 13), u = Self.random([4], seed: 14)
        let replayed = try f(x, u), eager = try calls(x, u)
        for (k, (a, b)) in zip(replayed, eager).enumerated() { #expect(Self.same(a, b), "result \(k)") }
        #expect(f.traceCount == 1)
    }

    @Test func valueReadFailsTheTrace() throws {
        let f = compiled { (x: Tensor<Double>) -> Tensor<Double> in
            x.sum().scalar > 0 ? x * 2 : x * 3
        }
        #expect {
            _ = try f(Self.random([3], seed: 1))
        } throws: { error in
            guard case .untraceable(let what, let fix)? = error as? AutogradError else { return false }
            return what.contains(".scalar") && fix.contains("Tensor.where")
        }
        #expect(f.traceCount == 0)
        // Reading a constant is fine.
        let c = Tensor<Double>([1, 2])
        let g = compiled { (x: Tensor<Double>) -> Tensor<Double> in x * c.scalars[1] }
        #expect(try g(Tensor([1, 1])).scalars == [2, 2])
    }

    @Test func randomInsideFailsTheTrace() throws {
        let f = compiled { (x: Tensor<Double>) -> Tensor<Double> in
            var rng = SeededGenerator(seed: 1)
            return x + Tensor<Double>(randomNormal: x.shape, using: &rng)
        }
        #expect(throws: AutogradError.self) { _ = try f(Tensor([1, 2])) }
    }

    @Test func capturedTensorsAreConstantsAndLiteralsWork() throws {
        let c = Self.random([3], seed: 5)
        func h(_ x: Tensor<Double>) -> Tensor<Double> { x * c + Tensor<Double>([1, 2, 3]) - 0.5 }
        let f = compiled(h)
        _ = try f(Self.random([3], seed: 6))
        let x = Self.random([3], seed: 7)
        #expect(Self.same(try f(x), h(x)))
    }

    @Test func sameBufferTwiceIsItsOwnSignature() throws {
        let f = compiled { (a: Tensor<Double>, b: Tensor<Double>) in a * b }
        let x = Self.random([3], seed: 1), y = Self.random([3], seed: 2)
        _ = try f(x, x)
        #expect(Self.same(try f(x, y), x * y))
        #expect(f.traceCount == 2)
    }

    @Test func identityAndConstantResultsAreFresh() throws {
        let c = Tensor<Double>([4, 5])
        let f = compiled { (x: Tensor<Double>) in [x, c, x.reshaped(to: [2, 1])] }
        _ = try f(Tensor([1, 2]))
        let r = try f(Tensor([7, 8]))
        #expect(r[0].scalars == [7, 8] && r[1].scalars == [4, 5] && r[2].shape == [2, 1])
    }

    @Test func cacheIsBounded() throws {
        let f = compiled(maximumTraces: 2) { (x: Tensor<Double>) in x * 2 }
        for n in 1...4 { _ = try f(Tensor<Double>(zeros: [n])) }
        #expect(f.traceCount == 4 && f.cachedPrograms == 2)
        _ = try f(Tensor<Double>(zeros: [1]))   // dropped: traced again
        #expect(f.traceCount == 5)
    }

    @Test func recordedInputsRunEagerlySoDerivativesFlow() throws {
        let f = compiled { (x: Tensor<Double>) in sin(x) * x }
        let x = Tensor<Double>([0.5, 1.5])
        let g = try gradient(at: x) { try f($0).sum() }
        let expected = try gradient(at: x) { (sin($0) * $0).sum() }
        #expect(Self.same(g, expected))
        #expect(f.traceCount == 0)
    }

    @Test func concurrentCallsMatchSequentialOnes() async throws {
        let w = Self.randomFloat([16, 8], seed: 3)
        let f = compiled { (x: Tensor<Float>) in try gradient(at: w) { w in tanh(matmul(x, w)).sum() } }
        let inputs = (0..<16).map { Self.randomFloat([4, 16], seed: UInt64(20 + $0)) }
        let sequential = try inputs.map { try f($0) }
        let concurrent = try await withThrowingTaskGroup(of: (Int, Tensor<Float>).self) { group in
            for (k, x) in inputs.enumerated() { group.addTask { (k, try f(x)) } }
            var results = [Tensor<Float>?](repeating: nil, count: inputs.count)
            for try await (k, r) in group { results[k] = r }
            return results.map { $0! }
        }
        for k in inputs.indices { #expect(Self.same(sequential[k], concurrent[k]), "input \(k)") }
        #expect(f.traceCount == 1)
    }

    /// Max pooling and sorting compute positions from the values: a replay on values whose maxima and order lie
    /// elsewhere must move them (not reuse those of the trace).
    @Test func positionsFoundFromValuesMoveAtReplay() throws {
        func pool(_ x: Tensor<Double>) throws -> Tensor<Double> {
            try gradient(at: x) { x in (maxPool2d(x, kernelSize: 2) * Tensor<Double>(shape: [1, 1, 1, 2], scalars: [1, 2])).sum() }
        }
        func sort(_ x: Tensor<Double>) throws -> [Tensor<Double>] {
            let g = try gradient(at: x) { x in (x.sorted(alongAxis: 1) * Tensor<Double>([[1, 2, 3]])).sum() }
            let (values, indices) = x.topK(2, alongAxis: 1)
            return [g, values, Tensor<Double>(indices)]
        }
        let p = compiled(pool), s = compiled(sort)
        _ = try p(Self.random([1, 1, 2, 4], seed: 31))
        _ = try s(Self.random([2, 3], seed: 32))
        for seed in UInt64(33)..<38 {
            let x = Self.random([1, 1, 2, 4], seed: seed), y = Self.random([2, 3], seed: seed + 50)
            #expect(Self.same(try p(x), try pool(x)), "maxPool2d, seed \(seed)")
            for (a, b) in zip(try s(y), try sort(y)) { #expect(Self.same(a, b), "sort, seed \(seed)") }
        }
        #expect(p.traceCount == 1 && s.traceCount == 1)
    }

    /// A kernel that stops on its values (a matrix that is not positive definite) stops with the same message in
    /// a replay as in an eager call.
    @Test func kernelErrorsStopReplaysWithTheirMessage() async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let f = compiled { (s: Tensor<Double>) in cholesky(s) }
            _ = try f(Tensor<Double>(shape: [2, 2], scalars: [2, 1, 1, 2]))
            _ = try f(Tensor<Double>(shape: [2, 2], scalars: [1, 2, 2, 1]))
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("not positive definite"))
    }

    /// An index tensor passed in is checked in Swift code, so it fails the trace instead of being frozen.
    @Test func indexTensorInputFailsTheTrace() throws {
        let f = compiled { (x: Tensor<Double>, i: Tensor<Int32>) in x.gathering(alongAxis: 0, indices: i) }
        #expect {
            _ = try f(Tensor([1, 2, 3]), Tensor<Int32>([2, 0]))
        } throws: { error in
            guard case .untraceable(let what, _)? = error as? AutogradError else { return false }
            return what.contains("index tensor")
        }
        let c = Tensor<Int32>([2, 0])
        let g = compiled { (x: Tensor<Double>) in x.gathering(alongAxis: 0, indices: c) }
        _ = try g(Tensor([1, 2, 3]))
        #expect(try g(Tensor([4, 5, 6])).scalars == [6, 4])
    }

    @Test func explainListsTheProgram() throws {
        let f = compiled { (x: Tensor<Double>) in try gradient(at: x) { (exp($0) * 2).sum() } }
        let text = try f.explain(Tensor([1, 2, 3]))
        #expect(text.contains("program:") && text.contains("buffer plan:") && text.contains("unary"))
    }
}

/// The compiled route of the derivative checks, on every case of the registry: every case that can be traced
/// passes (replayed at another point, bitwise equal to eager, within tolerance of the finite differences); the cases
/// that cannot are only those of the operations the article lists as untraceable.
@Suite struct CompiledRouteTests {
    static let untraceableFamilies = ["qr", "lstsq"]

    @Test func everyTraceableCheckCasePassesCompiled() throws {
        var failures: [String] = [], untraced: [String] = []
        for c in PrimitiveChecks.cases {
            for type in [ScalarType.float32, .float64] {
                let (rows, _) = try PrimitiveChecks.check(c, type, routes: [.compiled])
                if rows.isEmpty { untraced.append(c.name); continue }
                for row in rows where !row.passed { failures.append("\(c.name) \(type) \(row.mode): \(row.maxError)") }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        let unexpected = Set(untraced).filter { name in !Self.untraceableFamilies.contains { name.contains($0) } }
        #expect(unexpected.isEmpty, "cases that do not compile: \(unexpected.sorted())")
        #expect(untraced.count < PrimitiveChecks.cases.count, "no case compiled at all")
    }
}

import Foundation
import Testing
@testable import Autograd

@Suite struct ReverseModeTests {
    @Test func gradientOfSimpleFunctions() throws {
        let x = Tensor<Double>([0.5, -1, 2]).requiringGradient()
        let g = try gradient(of: (x * x * x).sum(), wrt: x)
        expectTensor(g, shape: [3], [0.75, 3, 12])
        // A tensor used twice: contributions add up.
        let h = try gradient(of: (sin(x) * x + x).sum(), wrt: x)
        expectTensor(h, shape: [3], x.scalars.map { Foundation.cos($0) * $0 + Foundation.sin($0) + 1 }, tolerance: 1e-12)
    }

    @Test func vectorJacobianProductFormula() throws {
        // y = A x, J = A, vᵀJ = Aᵀ v.
        let a = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        let x = Tensor<Double>([1, -1, 2]).requiringGradient()
        let y = matmul(a, x)
        let v = Tensor<Double>([2, -1])
        expectTensor(try gradient(of: y, wrt: x, cotangent: v), shape: [3], [-2, -1, 0])
    }

    @Test func severalOutputsSumTheirProducts() throws {
        let x = Tensor<Double>([1, 2]).requiringGradient()
        let y1 = x * 3, y2 = x * x
        let g = try gradients(of: [y1, y2], wrt: [x], cotangents: [Tensor([1, 1]), Tensor([1, 0.5])])
        expectTensor(g[0], shape: [2], [3 + 2, 3 + 2])
    }

    @Test func backwardAccumulatesIntoLeaves() throws {
        let w = Tensor<Double>([1, 2]).requiringGradient()
        #expect(w.gradient == nil && w.isLeaf)
        try (w * w).sum().backward()
        expectTensor(w.gradient!, shape: [2], [2, 4])
        try (w * 3).sum().backward()
        expectTensor(w.gradient!, shape: [2], [5, 7])
        w.clearGradient()
        #expect(w.gradient == nil)
        let v = Tensor<Double>([[1, 2], [3, 4]])
        try matmul(v, w).backward(cotangent: Tensor([1, -1]))
        expectTensor(w.gradient!, shape: [2], [-2, -2])
    }

    @Test func intermediateTensorsCanBeInputs() throws {
        let x = Tensor<Double>([1, 2]).requiringGradient()
        let h = exp(x)
        let y = (h * h).sum()
        expectTensor(try gradient(of: y, wrt: h), shape: [2], h.scalars.map { 2 * $0 })
    }

    /// One-input rules write their result into the incoming cotangent's buffer when no one else holds it. A
    /// cotangent the caller passed in, or one that is also a requested result, is shared: it must come out intact.
    @Test func reusedCotangentBuffersAreNeverShared() throws {
        let x = Tensor<Double>([0.3, -1.2, 0.8]).requiringGradient()
        let a = x * 3, b = tanh(a), y = exp(b) * 0.5
        let v = Tensor<Double>([1, -2, 0.5])
        let g = try gradients(of: [y], wrt: [b, a, x], cotangents: [v])
        let vb = v.scalars.enumerated().map { $1 * 0.5 * Foundation.exp(b.scalars[$0]) }   // ∂/∂b
        let va = vb.enumerated().map { $1 * (1 - b.scalars[$0] * b.scalars[$0]) }          // ∂/∂a
        expectClose(v.scalars, [1, -2, 0.5], tolerance: 0)                                 // the caller's v
        expectClose(g[0].scalars, vb, tolerance: 1e-14)
        expectClose(g[1].scalars, va, tolerance: 1e-14)
        expectClose(g[2].scalars, va.map { 3 * $0 }, tolerance: 1e-14)
        // Run twice on a retained graph: the first pass must not have overwritten what the second reads.
        let z = tanh(x * 2).sum()
        let first = try gradients(of: [z], wrt: [x], retainGraph: true)[0].scalars
        let second = try gradients(of: [z], wrt: [x])[0].scalars
        expectClose(first, second, tolerance: 0)
    }

    @Test func graphIsReleasedUnlessRetained() throws {
        let x = Tensor<Double>([1, 2]).requiringGradient()
        let y = (exp(x) * x).sum()
        _ = try gradient(of: y, wrt: x)
        #expect(throws: AutogradError.graphReleased(operation: "sum")) { try gradient(of: y, wrt: x) }
        let z = (exp(x) * x).sum()
        let first = try gradient(of: z, wrt: x, retainGraph: true)
        let second = try gradient(of: z, wrt: x)
        #expect(first.scalars == second.scalars)
    }

    @Test func allowUnusedGivesZeros() throws {
        let x = Tensor<Double>([1, 2]).requiringGradient(), unused = Tensor<Double>([[3]]).requiringGradient()
        let y = x.sum()
        #expect(throws: AutogradError.unusedInput(input: 1, shape: [1, 1])) {
            try gradients(of: [y], wrt: [x, unused], retainGraph: true)
        }
        let g = try gradients(of: [y], wrt: [x, unused], allowUnused: true)
        expectTensor(g[1], shape: [1, 1], [0])
    }

    @Test func createGraphGivesHigherDerivatives() throws {
        // f = x⁴: f′ = 4x³, f″ = 12x², f‴ = 24x.
        let x = Tensor<Double>(1.5).requiringGradient()
        let f = x * x * x * x
        let d1 = try gradient(of: f, wrt: x, createGraph: true)
        let d2 = try gradient(of: d1, wrt: x, createGraph: true)
        let d3 = try gradient(of: d2, wrt: x, createGraph: true)
        let d4 = try gradient(of: d3, wrt: x)
        #expect(Swift.abs(d1.scalar - 4 * 3.375) < 1e-12)
        #expect(Swift.abs(d2.scalar - 12 * 2.25) < 1e-12)
        #expect(Swift.abs(d3.scalar - 36) < 1e-12)
        #expect(Swift.abs(d4.scalar - 24) < 1e-12)
    }

    @Test func thirdDerivativesOfScalarFunctions() throws {
        // Closed forms: (sin)‴ = −cos, (exp)‴ = exp, (tanh)‴ = −2 sech²(1 − 3 tanh²)... checked via nested gradient(at:).
        func third(_ f: @escaping (Tensor<Double>) -> Tensor<Double>, _ x: Double) throws -> Double {
            try gradient(at: Tensor(x)) { x in try gradient(at: x) { x in try gradient(at: x) { f($0) } } }.scalar
        }
        #expect(Swift.abs(try third({ sin($0) }, 0.7) + Foundation.cos(0.7)) < 1e-12)
        #expect(Swift.abs(try third({ exp($0) }, 0.3) - Foundation.exp(0.3)) < 1e-12)
        let t = Foundation.tanh(0.4), s2 = 1 - t * t
        #expect(Swift.abs(try third({ tanh($0) }, 0.4) - (-2 * s2 * (s2 - 2 * t * t))) < 1e-12)
        #expect(Swift.abs(try third({ log($0) }, 2) - 2 / 8) < 1e-12)
        #expect(Swift.abs(try third({ $0 * $0 * $0 * $0 }, 1.5) - 36) < 1e-12)
        // The elementwise rules whose derivative product is one fused primitive, through its own rules:
        let sg = 1 / (1 + Foundation.exp(-0.6))
        #expect(Swift.abs(try third({ sigmoid($0) }, 0.6) - sg * (1 - sg) * (1 - 6 * sg + 6 * sg * sg)) < 1e-12)
        #expect(Swift.abs(try third({ softplus($0) }, 0.6) - sg * (1 - sg) * (1 - 2 * sg)) < 1e-12)
        #expect(Swift.abs(try third({ sqrt($0) }, 1.3) - 0.375 * Foundation.pow(1.3, -2.5)) < 1e-12)
        #expect(Swift.abs(try third({ log1p($0) }, 0.5) - 2 / (1.5 * 1.5 * 1.5)) < 1e-12)
        #expect(Swift.abs(try third({ cos($0) }, 0.9) - Foundation.sin(0.9)) < 1e-12)
        #expect(Swift.abs(try third({ 1 / $0 }, 1.2) + 6 / Foundation.pow(1.2, 4)) < 1e-12)
    }

    @Test func batchedCotangentsFlowThroughOnePass() throws {
        let w = Tensor<Double>([[0.5, -1]]).requiringGradient()
        let x = Tensor<Double>([[1, 2], [3, 4], [5, 6]])
        let y = tanh(matmul(x, w.transposed())).flattened()          // [3]
        let v = Tensor<Double>([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])  // 4 cotangents
        let g = try gradients(of: [y], wrt: [w], cotangents: [v], batched: true, retainGraph: true)[0]
        #expect(g.shape == [4, 1, 2])
        for row in 0..<4 {
            let single = try gradient(of: y, wrt: w, cotangent: v[row], retainGraph: true)
            expectClose(g[row].scalars, single.scalars, tolerance: 1e-12)
        }
    }

    @Test func noRecordingScope() throws {
        let x = Tensor<Double>([1]).requiringGradient()
        let y = withoutRecording { x * 2 }
        #expect(!y.isRecorded)
        #expect(!x.detached().isRecorded)
        #expect(throws: AutogradError.outputNotRecorded(output: 0, shape: [1])) { try gradient(of: y, wrt: x) }
    }

    @Test func deepChainsDoNotOverflowTheStack() throws {
        var h = Tensor<Double>([0.1, 0.2]).requiringGradient()
        let x = h
        for _ in 0..<20_000 { h = tanh(h * 1.0001 + 0.001) }
        let g = try gradient(of: h.sum(), wrt: x)
        #expect(g.scalars.allSatisfy { $0.isFinite && $0 > 0 })
        // Operations that save their inputs (multiply) link nodes twice; freeing them must not recurse either.
        var p = Tensor<Double>([1, 1]).requiringGradient()
        for _ in 0..<50_000 { p = p * 1.00001 * p.detached() + p * 0.0 }
        _ = p
    }

    /// Counts live buffers in a process of its own (other tests run in parallel and allocate too).
    @Test func memoryIsReleasedAfterTheReversePass() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            StorageStatistics.isEnabled = true
            let before = StorageStatistics.liveBuffers
            do {
                let x = Tensor<Double>(ones: [64, 64]).requiringGradient()
                var h = x
                for _ in 0..<50 { h = tanh(matmul(h, x) * 0.01) }
                let y = h.sum()
                // The graph keeps what its rules need: each tanh output (read by tanh's rule and by the next matmul's).
                // Buffers no rule reads (the matmul and scaling results) are already gone.
                precondition(StorageStatistics.liveBuffers >= before + 50 && StorageStatistics.liveBuffers <= before + 55)
                let g = try gradient(of: y, wrt: x)
                // Without retainGraph, the saved tensors were released during the pass: only x, y, g, h remain.
                precondition(StorageStatistics.liveBuffers <= before + 6, "saved tensors kept: \(StorageStatistics.liveBuffers - before)")
                precondition(g.shape == [64, 64])
            }
            precondition(StorageStatistics.liveBuffers == before, "buffers leaked: \(StorageStatistics.liveBuffers - before)")
        }
        if let result, result.exitStatus != .exitCode(0) {
            Issue.record("child process said: \(String(decoding: result.standardErrorContent, as: UTF8.self))")
        }
    }

    @Test func mixedElementTypesThroughConversion() throws {
        let w = Tensor<Double>([1, 2]).requiringGradient()
        let y = Tensor<Float>(converting: w * w).sum()
        let g = try gradients(of: [AnyTensor(y)], wrt: [AnyTensor(w)])
        #expect(g[0].scalarType == .float64)
        expectTensor(Tensor<Double>(g[0]), shape: [2], [2, 4])
        #expect(throws: AutogradError.mixedScalarTypes(what: "the cotangent for output 0", expected: .float32, actual: .float64)) {
            try gradients(of: [AnyTensor(y)], wrt: [AnyTensor(w)], cotangents: [AnyTensor(Tensor<Double>(1))])
        }
    }
}

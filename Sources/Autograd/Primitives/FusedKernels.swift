import CAutogradKernels
import Foundation

/// The derivative f′ of an elementwise primitive, as a single fused kernel: y = g ⊙ f′(s), where s is the
/// primitive's saved input or output. The kernel of the `DerivativeProduct` primitive, whose own rules make the
/// result differentiable in turn; built from general operations, f′ would cost several kernels and buffers.
/// A faster route only: each primitive states f′ as a differentiable expression, and the checks compare the two.
enum FusedDerivative: Sendable {
    case tanhOfOutput          // 1 − y²
    case sigmoidOfOutput       // y (1 − y)
    case identityOfOutput      // y            (exp)
    case reciprocalOfInput     // 1 / x        (log)
    case log1pOfInput          // 1 / (1 + x)  (log1p)
    case sqrtOfOutput          // 0.5 / y      (sqrt)
    case cosOfInput            // cos x        (sin)
    case negativeSinOfInput    // −sin x       (cos)
    case signOfInput           // sign x       (abs)
    case stepOfInput           // x > 0 ? 1 : 0 (relu)
    case sigmoidOfInput        // σ(x)         (softplus)
    case geluOfInput           // Φ(x) + x φ(x) (gelu)

    /// g ⊙ f′(s), where g may carry leading batch dimensions in front of s's shape.
    func apply(_ g: AnyTensor, _ s: AnyTensor) -> AnyTensor {
        let y = AnyTensor(uninitialized: g.scalarType, shape: g.shape)
        let n = s.count, batches = n == 0 ? 0 : g.count / n
        switch g.scalarType {
        case .float32:
            Kernel.launch("derivative", g.storage, s.storage, y.storage, (self, n, batches)) { p, q in
                q.0.run(p.f32(0), p.f32(1), p.f32(2), q.1, q.2)
            }
        case .float64:
            Kernel.launch("derivative", g.storage, s.storage, y.storage, (self, n, batches)) { p, q in
                q.0.run(p.f64(0), p.f64(1), p.f64(2), q.1, q.2)
            }
        case .bool, .int32: Kernel.noKernel("derivative", g.scalarType)
        }
        return y
    }

    /// `apply` on bare buffers, without batch dimensions: g holds s.count elements; returns a new buffer.
    func apply(_ g: Storage, _ s: AnyTensor) -> Storage {
        let y = Storage.make(type: s.scalarType, count: s.count)
        switch s.scalarType {
        case .float32:
            Kernel.launch("derivative", g, s.storage, y, (self, s.count)) { p, q in
                q.0.run(p.f32(0), p.f32(1), p.f32(2), q.1, 1)
            }
        case .float64:
            Kernel.launch("derivative", g, s.storage, y, (self, s.count)) { p, q in
                q.0.run(p.f64(0), p.f64(1), p.f64(2), q.1, 1)
            }
        case .bool, .int32: Kernel.noKernel("derivative", s.scalarType)
        }
        return y
    }

    /// g ← g ⊙ f′(s) in g's own buffer, if g is shaped like s (no batch), carries no derivative state and holds
    /// the only reference to its buffer; returns whether it did (otherwise g is unchanged).
    func applyInPlace(_ g: inout AnyTensor, _ s: AnyTensor) -> Bool {
        guard g.count == s.count, !g.hasDerivativeState, isKnownUniquelyReferenced(&g.storage) else { return false }
        switch g.scalarType {
        case .float32:
            Kernel.launch("derivative in place", s.storage, g.storage, (self, g.count)) { p, q in
                q.0.runInPlace(p.f32(1), p.f32(0), q.1)
            }
        case .float64:
            Kernel.launch("derivative in place", s.storage, g.storage, (self, g.count)) { p, q in
                q.0.runInPlace(p.f64(1), p.f64(0), q.1)
            }
        case .bool, .int32: return false
        }
        return true
    }

    /// g ← g ⊙ f′(s), f′ evaluated a block at a time into a small buffer on the stack.
    private func runInPlace<T: BinaryFloatingPoint>(_ g: UnsafeMutablePointer<T>, _ s: UnsafeMutablePointer<T>,
                                                    _ n: Int) {
        let block = 256
        withUnsafeTemporaryAllocation(of: T.self, capacity: Swift.min(n, block)) { d in
            var start = 0
            while start < n {
                let m = Swift.min(block, n - start)
                derivative(s + start, into: d.baseAddress!, m)
                for i in 0..<m { g[start + i] *= d[i] }
                start += m
            }
        }
    }

    private func run<T: BinaryFloatingPoint>(_ g: UnsafeMutablePointer<T>, _ s: UnsafeMutablePointer<T>,
                                             _ y: UnsafeMutablePointer<T>, _ n: Int, _ batches: Int) {
        // f′ evaluated into y (one pass, one case at a time so the loops vectorize), then scaled by g.
        if batches == 1 {
            derivative(s, into: y, n)
            for i in 0..<n { y[i] *= g[i] }
            return
        }
        let d = UnsafeMutablePointer<T>.allocate(capacity: n)
        defer { d.deallocate() }
        derivative(s, into: d, n)
        for b in 0..<batches {
            let o = b * n
            for i in 0..<n { y[o + i] = g[o + i] * d[i] }
        }
    }

    /// d[i] = f′(s[i]), with the case chosen once outside the loop.
    private func derivative<T: BinaryFloatingPoint>(_ s: UnsafeMutablePointer<T>, into d: UnsafeMutablePointer<T>,
                                                    _ n: Int) {
        switch self {
        case .tanhOfOutput: for i in 0..<n { d[i] = 1 - s[i] * s[i] }
        case .sigmoidOfOutput: for i in 0..<n { d[i] = s[i] * (1 - s[i]) }
        case .identityOfOutput: for i in 0..<n { d[i] = s[i] }
        case .reciprocalOfInput: for i in 0..<n { d[i] = 1 / s[i] }
        case .log1pOfInput: for i in 0..<n { d[i] = 1 / (1 + s[i]) }
        case .sqrtOfOutput: for i in 0..<n { d[i] = 0.5 / s[i] }
        case .stepOfInput: for i in 0..<n { d[i] = s[i] > 0 ? 1 : 0 }
        // The transcendental ones through the library's vectorized kernels (a libm call per element costs ~10×).
        case .cosOfInput: Self.unary(AG_UNARY_COS, s, into: d, n)
        case .negativeSinOfInput:
            Self.unary(AG_UNARY_SIN, s, into: d, n)
            for i in 0..<n { d[i] = -d[i] }
        case .sigmoidOfInput: Self.unary(AG_UNARY_SIGMOID, s, into: d, n)
        case .geluOfInput: Self.unary(AG_UNARY_GELU_DERIVATIVE, s, into: d, n)
        case .signOfInput: for i in 0..<n { d[i] = s[i] > 0 ? 1 : (s[i] < 0 ? -1 : s[i]) }  // 0 at 0, NaN stays NaN
        }
    }

    /// d = op(s) elementwise with the C kernel of T's width.
    private static func unary<T: BinaryFloatingPoint>(_ op: ag_unary_op, _ s: UnsafeMutablePointer<T>,
                                                      into d: UnsafeMutablePointer<T>, _ n: Int) {
        if T.self == Float.self {
            ag_unary_f32(op, Int64(n), UnsafeRawPointer(s).assumingMemoryBound(to: Float.self),
                         UnsafeMutableRawPointer(d).assumingMemoryBound(to: Float.self))
        } else if T.self == Double.self {
            ag_unary_f64(op, Int64(n), UnsafeRawPointer(s).assumingMemoryBound(to: Double.self),
                         UnsafeMutableRawPointer(d).assumingMemoryBound(to: Double.self))
        } else {
            preconditionFailure("derivative kernels exist for Float and Double only, not \(T.self)")
        }
    }
}

/// The two partial derivatives of binary cross-entropy, fused into one pass over p and t:
///     ∂ℓ/∂p = (p − t) / (p (1 − p)) (a clamped logarithm's term dropped),   ∂ℓ/∂t = max(ln(1 − p), −100) − max(ln p, −100),
/// each multiplied by a tangent or cotangent (nil: that partial is not needed). Same values as the differentiable
/// formulas in `BinaryCrossEntropy`, used when the rule's result will not be differentiated.
enum FusedBinaryCrossEntropy {
    static func apply(p: AnyTensor, t: AnyTensor, scaleP: AnyTensor?, scaleT: AnyTensor?) -> (AnyTensor?, AnyTensor?) {
        let dp = scaleP.map { AnyTensor(uninitialized: $0.scalarType, shape: $0.shape) }
        let dt = scaleT.map { AnyTensor(uninitialized: $0.scalarType, shape: $0.shape) }
        // Operands: p, t, the scales given, then the results made (in the same order).
        let reads = [p.storage, t.storage] + [scaleP, scaleT].compactMap { $0?.storage }
        let writes = [dp, dt].compactMap { $0?.storage }
        let parameters = (hasP: scaleP != nil, hasT: scaleT != nil, n: p.count, total: scaleP?.count ?? scaleT!.count)
        switch p.scalarType {
        case .float32:
            Kernel.launch("binary cross-entropy derivative", reads + writes, writes: writes.count, parameters) { o, q in
                let k = q.hasP && q.hasT ? 2 : 1   // operands per side: the scale and the result
                let iP = q.hasP ? 2 : nil, iT = q.hasT ? (q.hasP ? 3 : 2) : nil
                run(o.f32(0), o.f32(1), iP.map { o.f32($0) }, iT.map { o.f32($0) }, iP.map { o.f32($0 + k) },
                    iT.map { o.f32($0 + k) }, n: q.n, total: q.total)
            }
        case .float64:
            Kernel.launch("binary cross-entropy derivative", reads + writes, writes: writes.count, parameters) { o, q in
                let k = q.hasP && q.hasT ? 2 : 1
                let iP = q.hasP ? 2 : nil, iT = q.hasT ? (q.hasP ? 3 : 2) : nil
                run(o.f64(0), o.f64(1), iP.map { o.f64($0) }, iT.map { o.f64($0) }, iP.map { o.f64($0 + k) },
                    iT.map { o.f64($0 + k) }, n: q.n, total: q.total)
            }
        case .bool, .int32: Kernel.noKernel("binary cross-entropy", p.scalarType)
        }
        return (dp, dt)
    }

    private static func run<T: BinaryFloatingPoint>(
        _ p: UnsafeMutablePointer<T>, _ t: UnsafeMutablePointer<T>, _ gp: UnsafeMutablePointer<T>?,
        _ gt: UnsafeMutablePointer<T>?, _ dp: UnsafeMutablePointer<T>?, _ dt: UnsafeMutablePointer<T>?, n: Int, total: Int
    ) {
        // `total` is a multiple of n when tangents or cotangents carry batch dimensions: batch by batch.
        if let gp, let dp {
            // The exact derivative of the clamped loss (see `BinaryCrossEntropy`): a clamped logarithm's term is a
            // constant, so it drops; where neither is clamped, (p − t) / (p (1 − p)). log p ≥ −100 holds for every
            // p > 1e-40 (e^−100 ≈ 3.7e-44), so the kernel takes the logarithm only below that; log(1 − p) ≥ −100
            // holds exactly when p < 1 (the largest Float or Double below 1 gives −17 or −37).
            func cast<U>(_ x: UnsafeMutablePointer<T>, _: U.Type) -> UnsafeMutablePointer<U> {
                UnsafeMutableRawPointer(x).assumingMemoryBound(to: U.self)
            }
            if T.self == Float.self {
                ag_bce_dp_f32(Int64(n), Int64(total), cast(p, Float.self), cast(t, Float.self), cast(gp, Float.self),
                              cast(dp, Float.self))
            } else {
                ag_bce_dp_f64(Int64(n), Int64(total), cast(p, Double.self), cast(t, Double.self),
                              cast(gp, Double.self), cast(dp, Double.self))
            }
        }
        var base = 0
        while base < total {
            if let gt, let dt {
                for i in 0..<n {
                    let lq = Swift.max(T(Foundation.log1p(-Double(p[i]))), -100)
                    let lp = Swift.max(T(Foundation.log(Double(p[i]))), -100)
                    dt[base + i] = gt[base + i] * (lq - lp)
                }
            }
            base += Swift.max(n, 1)
        }
    }
}

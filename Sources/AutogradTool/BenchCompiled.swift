import Autograd
import Foundation

// MARK: - Compiled workloads

extension BenchWorkloads {
    /// The workloads that `autograd bench` also times compiled (`"system": "autograd.compiled"`).
    public static let compiledNames = ["logistic-vjp", "logistic-jvp", "logistic-jacobian", "mlp-grad", "mlp-hvp",
                                       "chain-500", "attention-grad"]

    /// The compiled form of the workload called `name`, or nil if it has none.
    ///
    /// Its call is the same computation through ``compiled(maximumTraces:_:)``, traced in the check and replayed
    /// in every timed call. The check first runs the eager workload's own check (against the independent
    /// computation), then compares the compiled result, traced and replayed, with the eager result bit for bit.
    public static func makeCompiled(_ name: String, sizes: BenchSizes = .full) -> BenchWorkload? {
        guard let eager = make(name, sizes: sizes) else { return nil }
        switch name {
        case "logistic-vjp":
            let p = LogisticProblem(sizes)
            let eagerCall = { (w: Tensor<Float>, v: Tensor<Float>) in try [vjp(of: p.losses, at: w, cotangent: v).vjp] }
            let f = compiled(eagerCall)
            return compiledWorkload(eager, eager: { try eagerCall(p.w, p.v) }, compiled: { try f(p.w, p.v) })
        case "logistic-jvp":
            let p = LogisticProblem(sizes)
            let eagerCall = { (w: Tensor<Float>, u: Tensor<Float>) in try [jvp(of: p.losses, at: w, tangent: u).tangent] }
            let f = compiled(eagerCall)
            return compiledWorkload(eager, eager: { try eagerCall(p.w, p.u) }, compiled: { try f(p.w, p.u) })
        case "logistic-jacobian":
            let p = LogisticProblem(sizes)
            let eagerCall = { (w: Tensor<Float>) in try [jacobian(of: p.losses, at: w)] }
            let f = compiled(eagerCall)
            return compiledWorkload(eager, eager: { try eagerCall(p.w) }, compiled: { try f(p.w) })
        case "mlp-grad":
            let p = MLPProblem(sizes)
            let eagerCall = { (q: [Tensor<Float>]) in try gradients(at: q, of: p.loss) }
            let f = compiled(eagerCall)
            return compiledWorkload(eager, eager: { try eagerCall(p.parameters) }, compiled: { try f(p.parameters) })
        case "mlp-hvp":
            let p = MLPProblem(sizes)
            let eagerCall = { (q: [Tensor<Float>], d: [Tensor<Float>]) in try hvp(of: p.loss, at: q, vectors: d) }
            let f = compiled(eagerCall)
            return compiledWorkload(eager, eager: { try eagerCall(p.parameters, p.directions) },
                                    compiled: { try f(p.parameters, p.directions) })
        case "chain-500":
            let (z, chain) = chain500Function(sizes)
            let eagerCall = { (z: Tensor<Float>) in try [gradient(at: z, of: chain)] }
            let f = compiled(eagerCall)
            return compiledWorkload(eager, eager: { try eagerCall(z) }, compiled: { try f(z) })
        case "attention-grad":
            let p = AttentionProblem(sizes)
            let (x, heads) = (p.x, p.heads)
            let eagerCall = { (q: [Tensor<Float>]) in try gradients(at: q) { AttentionProblem.loss(x, $0, heads: heads) } }
            let f = compiled(eagerCall)
            return compiledWorkload(eager, eager: { try eagerCall(p.parameters) }, compiled: { try f(p.parameters) })
        default:
            return nil
        }
    }

    /// `eager`'s workload timed through `compiled`, checked by `eager`'s own check and then bit for bit against
    /// the eager result.
    private static func compiledWorkload(_ workload: BenchWorkload, eager: @escaping () throws -> [Tensor<Float>],
                                         compiled: @escaping () throws -> [Tensor<Float>]) -> BenchWorkload {
        BenchWorkload(name: workload.name, flops: workload.flops, call: {
            blackHole(try compiled())
        }, verify: {
            var verification = try workload.verify()
            guard verification.passed else { return verification }
            let traced = try compiled(), replayed = try compiled(), reference = try eager()
            for (what, result) in [("traced", traced), ("replayed", replayed)] {
                for (k, (a, b)) in zip(result, reference).enumerated() where a.shape != b.shape || a.scalars != b.scalars {
                    let worst = zip(a.scalars, b.scalars).map { Swift.abs(Double($0) - Double($1)) }.max() ?? .infinity
                    return BenchVerification(passed: false, detail: "the \(what) compiled call's result \(k) differs "
                        + "from the eager result (shape \(a.shape) vs \(b.shape), largest difference \(worst))")
                }
            }
            verification.detail += "; compiled result bitwise equal to eager"
            return verification
        })
    }
}

/// chain-500's input and function, as `chain500(_:)` makes them (same seed).
private func chain500Function(_ sizes: BenchSizes) -> (Tensor<Float>, (Tensor<Float>) -> Tensor<Float>) {
    var rng = SeededGenerator(seed: 19)
    let z = Tensor<Float>(randomNormal: [sizes.chainWidth], using: &rng)
    let steps = sizes.chainSteps
    return (z, { (z: Tensor<Float>) -> Tensor<Float> in
        var h = z
        for _ in 0..<steps { h = tanh(h * 1.0001 + 0.001) }
        return h.sum()
    })
}

// The compiled route of the derivative checks: the check's vᵀJ and J·u computed by a compiled function.

extension DerivativeChecker {
    /// The rows of the compiled route: the reverse and forward calls of the check, compiled, traced at a point
    /// other than the check's (each input scaled by 1.001, which keeps it in its domain and its zeros at zero), then
    /// replayed at the check's point. The replayed results are compared with the finite differences
    /// like every route's; a replay that differs from the eager result in any bit gets an infinite error.
    func compiledRows(_ ref: Reference, modes: [CheckMode], wantsReverse: Bool, wantsForward: Bool) throws
        -> [DerivativeCheckResult] {
        let v = Tensor<Scalar>(converting: ref.v64[0])
        let u = ref.u64[0].map { Tensor<Scalar>(converting: $0) }
        let evaluate = self.evaluate
        let calls = { (points: [Tensor<Scalar>], v: Tensor<Scalar>, u: [Tensor<Scalar>]) throws -> [Tensor<Scalar>] in
            var results: [Tensor<Scalar>] = []
            if wantsReverse {
                let r = try Functional.reverse(at: points.map(\.base), cotangents: [v.base], batched: false,
                                               call: "checkDerivatives") { [try evaluate($0.map { Tensor(unchecked: $0) }).base] }
                results += r.results.map { Tensor<Scalar>(unchecked: $0) }
            }
            if wantsForward {
                let r = try Functional.forward(at: points.map(\.base), tangents: u.map(\.base), batched: false,
                                               call: "checkDerivatives") { [try evaluate($0.map { Tensor(unchecked: $0) }).base] }
                results.append(Tensor<Scalar>(unchecked: r.tangents[0]))
            }
            return results
        }
        let f = compiled(calls)
        let elsewhere = ref.points.map { p in p * 1.001 }
        _ = try f(elsewhere, v, u)
        let replayed = try f(ref.points, v, u)
        let eager = try calls(ref.points, v, u)
        let bitwise = replayed.count == eager.count && zip(replayed, eager).allSatisfy { a, b in
            a.shape == b.shape && a.scalars.withUnsafeBytes { x in b.scalars.withUnsafeBytes { x.elementsEqual($0) } }
        }
        let doubles = replayed.map { Tensor<Double>(converting: $0).scalars }
        let reverse = wantsReverse ? Array(doubles.prefix(ref.points.count)) : nil
        let forward = wantsForward ? doubles.last : nil
        return rows(ref, k: 0, modes: modes, reverse: reverse, forward: forward, route: .compiled).map { row in
            var row = row
            if !bitwise || f.traceCount != 1 { row.maxError = .infinity }
            return row
        }
    }
}

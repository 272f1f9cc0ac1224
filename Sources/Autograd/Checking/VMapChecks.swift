extension PrimitiveChecks {
    /// The `"vmap"` rows: for every check case, in Double, the case's function mapped over a batch of 3 examples
    /// with ``vmap(over:inAxes:outAxes:of:)-([AnyTensor],_,_,_)`` against the stack of the function evaluated at each
    /// example alone, at random in-axes (each input mapped along a random axis, or not mapped, at least one mapped)
    /// and a random out-axis; then the same for the function's vector-Jacobian product with a random cotangent
    /// (mode `"vmap-vjp"`), so the batching rules of every primitive its reverse rule uses are exercised too. A row's
    /// error is the largest difference relative to 1 + |reference| (tolerance 1e-10); its route is `"vectorized"`
    /// when the batched program ran through the batching rules, `"loop"` when it fell back to a loop.
    /// - Complexity: per case, one trace, one batched evaluation and 3 evaluations of the function, twice.
    public static func vmapRows(seed: UInt64 = 2026) throws -> [DerivativeCheckResult] {
        var rows: [DerivativeCheckResult] = []
        for c in cases {
            var rng = SeededGenerator(seed: seed &+ 7 &+ UInt64(truncatingIfNeeded: c.name.hashValueStable))
            rows.append(try vmapRow(c, mode: "vmap", using: &rng) { try c.body($0) })
            // The vector-Jacobian product with a cotangent fixed per example (drawn once, shaped like the output).
            let output = try withoutRecording { try c.body(examplePoint(c, using: &rng)) }
            let v = Tensor<Double>(randomNormal: output.shape, using: &rng).base
            rows.append(try vmapRow(c, mode: "vmap-vjp", using: &rng) { xs in
                let r = try Functional.reverse(at: xs, cotangents: [v], batched: false, call: "vjp(of:at:cotangent:)") {
                    [try c.body($0)]
                }
                return AnyTensor.concatenated(r.results.map { $0.reshaped([$0.count]) }, axis: 0)
            })
        }
        return rows
    }

    /// One example's inputs of `c` in Double, each drawn from its domain.
    private static func examplePoint(_ c: CheckCase, using rng: inout SeededGenerator) -> [AnyTensor] {
        let joined = joinedPoint(c, using: &rng).base
        var offset = 0
        return c.inputs.map { input in
            defer { offset += Shape.count(input.shape) }
            return joined.sliced([SliceAxis(start: offset, count: Shape.count(input.shape), step: 1)])
                .reshaped(input.shape)
        }
    }

    private static func vmapRow(_ c: CheckCase, mode: String, using rng: inout SeededGenerator,
                                _ f: @escaping ([AnyTensor]) throws -> AnyTensor) throws -> DerivativeCheckResult {
        let n = 3
        let examples = (0..<n).map { _ in examplePoint(c, using: &rng) }
        var inAxes: [Int?] = c.inputs.map { input in
            Bool.random(using: &rng) ? Int.random(in: 0...input.shape.count, using: &rng) : nil
        }
        if inAxes.allSatisfy({ $0 == nil }) { inAxes[0] = Int.random(in: 0...c.inputs[0].shape.count, using: &rng) }
        // A mapped input: the examples stacked along its in-axis; an unmapped one: example 0's.
        let inputs = c.inputs.indices.map { j -> AnyTensor in
            guard let axis = inAxes[j] else { return examples[0][j] }
            let stacked = AnyTensor.concatenated(examples.map { $0[j].reshaped([1] + $0[j].shape) }, axis: 0)
            return VMap.moveAxis(stacked, from: 0, to: axis)
        }
        let perExample = try (0..<n).map { i in
            try f(c.inputs.indices.map { j in inAxes[j] == nil ? examples[0][j] : examples[i][j] })
        }
        let outAxis = Int.random(in: 0...perExample[0].rank, using: &rng)
        let expected = VMap.moveAxis(AnyTensor.concatenated(perExample.map { $0.reshaped([1] + $0.shape) }, axis: 0),
                                     from: 0, to: outAxis)
        let result = try VMap.run(inputs: inputs, inAxes: inAxes, outAxes: [outAxis], unmappedOutputs: .broadcast) {
            [try f($0)]
        }
        let got = result.outputs[0]
        var error = got.shape == expected.shape ? 0.0 : .infinity
        if error == 0 {
            let a = Tensor<Double>(unchecked: got.value).scalars, b = Tensor<Double>(unchecked: expected.value).scalars
            for (x, y) in zip(a, b) { error = Swift.max(error, Swift.abs(x - y) / (1 + Swift.abs(y))) }
            if a.contains(where: \.isNaN) != b.contains(where: \.isNaN) { error = .infinity }
        }
        var row = DerivativeCheckResult(operation: c.name, mode: mode, scalarType: "Double", maxError: error,
                                        tolerance: 1e-10)
        row.route = result.vectorized ? "vectorized" : "loop"
        return row
    }
}

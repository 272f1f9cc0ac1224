import Autograd
import Foundation

// MARK: - per-example-grad

/// The per-example-grad workload of WORKLOADS.md: an MLP D → H tanh → 10 on a batch of B examples (100, 64 and
/// 256 at the full size), zᵢ = tanh(xᵢ·W1 + b1)·W2 + b2 and ℓᵢ = logsumexp(zᵢ) − zᵢ[labelᵢ]; one call is the B
/// per-example gradients, for each parameter P a tensor [B] + P.shape with G_P[i] = ∂ℓᵢ/∂P.
///
/// The call is `perExampleGradients(of:at:over:mode:)` in reverse mode, the loss written for one example
/// (`vmap` of the gradient: one batched forward and reverse pass). `per-example-grad-forward`, run only when named,
/// times the forward-mode `perExampleGradients(of:at:)` instead (one tangent per parameter
/// element, 7 114 of them at the full size).
///
/// Inputs come from the portable generator, so at the full size the call is checked against the values
/// WORKLOADS.md lists (the inputs' sums, the mean loss, each result's norm and probe); at every size it is also
/// checked against the per-example gradients computed one example at a time with ``gradients(at:of:)``.
struct PerExampleProblem {
    let batch: Int, inputs: Int, hidden: Int
    let x: Tensor<Float>
    let labels: [Int]
    /// Row-major indices of the label entries in the flattened [B, 10] logits: i·10 + labels[i].
    let labelIndices: [Int]
    /// The labels as one-hot rows, [B, 10]: the loss written for one example reads its label through tensor
    /// operations only, as `vmap` requires.
    let oneHot: Tensor<Float>
    /// W1 [D, H], b1 [H], W2 [H, 10], b2 [10].
    let parameters: [Tensor<Float>]

    /// The values of WORKLOADS.md at the full size.
    static let listedXSum = -175.4859747
    static let listedLabelSum = 1087
    static let listedInputSums: [Double] = [3.912474826, -1.100540745, -6.243882855, -0.06771838199]
    static let listedMeanLoss = 2.5388098720535406
    static let listedNorms: [Double] = [106.9327938, 10.71896842, 77.53009062, 15.57733102]
    static let listedProbes: [Double] = [-91.12164791, -18.81066267, -20.01016869, -7.097597991]

    init(_ sizes: BenchSizes) {
        (batch, inputs, hidden) = (sizes.perExampleBatch, sizes.perExampleInput, sizes.perExampleHidden)
        x = PortableInputs.tensor([batch, inputs], seed: 301)
        labels = PortableInputs.labels(seed: 302, count: batch)
        labelIndices = labels.enumerated().map { $0.offset * 10 + $0.element }
        oneHot = Autograd.oneHot(Tensor<Int32>(labels.map { Int32($0) }), classes: 10)
        parameters = [PortableInputs.tensor([inputs, hidden], seed: 303, scale: 1 / Double(inputs).squareRoot()),
                      PortableInputs.tensor([hidden], seed: 304, scale: 0.1),
                      PortableInputs.tensor([hidden, 10], seed: 305, scale: 1 / Double(hidden).squareRoot()),
                      PortableInputs.tensor([10], seed: 306, scale: 0.1)]
    }

    /// The per-example losses ℓ [n] of the examples `x` [n, D] with the given label indices into the flattened
    /// [n, 10] logits.
    static func losses(_ x: Tensor<Float>, _ labelIndices: [Int], _ p: [Tensor<Float>]) -> Tensor<Float> {
        let logits = matmul(tanh(matmul(x, p[0]) + p[1]), p[2]) + p[3]
        return -logits.logSoftmax(alongAxes: 1).flattened().gathering(atIndices: labelIndices)
    }

    /// The whole batch's per-example losses, [B].
    func losses(_ p: [Tensor<Float>]) -> Tensor<Float> { Self.losses(x, labelIndices, p) }

    /// Example i's loss, written for one example: x [D] and its one-hot label y [10].
    static func exampleLoss(_ p: [Tensor<Float>], _ example: [Tensor<Float>]) -> Tensor<Float> {
        let z = matmul(tanh(matmul(example[0].reshaped(to: [1, -1]), p[0]) + p[1]), p[2]) + p[3]     // [1, 10]
        return -(z.logSoftmax(alongAxes: 1) * example[1].reshaped(to: [1, 10])).sum()
    }

    /// One call: G_P for each parameter, [B] + P.shape, in reverse mode (or forward mode for `forward`).
    func perExample(forward: Bool = false) throws -> [Tensor<Float>] {
        if forward { return try perExampleGradients(of: losses, at: parameters) }
        return try perExampleGradients(of: Self.exampleLoss, at: parameters, over: [x, oneHot],
                                       mode: .reverse).gradients
    }

    /// The reference: B separate calls of ``gradients(at:of:)``, example i's loss alone, stacked per parameter
    /// (as Doubles, row-major [B] + P.shape).
    func oneAtATime() throws -> [[Double]] {
        var stacked = parameters.map { _ in [Double]() }
        for i in 0..<batch {
            let xi = x[i..<(i + 1)]
            let g = try gradients(at: parameters) { Self.losses(xi, [labels[i]], $0).sum() }
            for k in g.indices { stacked[k] += g[k].doubles }
        }
        return stacked
    }

    func workload(forward: Bool = false) -> BenchWorkload {
        BenchWorkload(name: forward ? "per-example-grad-forward" : "per-example-grad", flops: nil, call: {
            blackHole(try perExample(forward: forward))
        }, verify: {
            let results = try perExample(forward: forward)
            var cmp = Comparison()
            let shapes = parameters.map { [batch] + $0.shape }
            if results.map(\.shape) != shapes {
                cmp.check("result shapes \(results.map(\.shape)) vs \(shapes)", 1, 0, tolerance: 0)
                return cmp.result
            }
            let g = results.map(\.doubles)
            if batch == 256 && inputs == 100 && hidden == 64 {
                let sums = parameters.map { $0.doubles.reduce(0, +) }
                cmp.check("inputs' sums vs WORKLOADS.md", sums + [x.doubles.reduce(0, +), Double(labels.reduce(0, +))],
                          Self.listedInputSums + [Self.listedXSum, Double(Self.listedLabelSum)]) { i in
                    1e-6 * (1 + Swift.abs(i < 4 ? Self.listedInputSums[i] : Self.listedXSum))
                }
                let meanLoss = Double(losses(parameters).mean().scalar)
                cmp.check("mean loss vs WORKLOADS.md", meanLoss, Self.listedMeanLoss,
                          tolerance: 1e-5 * Self.listedMeanLoss)
                cmp.checkListedGradients(g, norms: Self.listedNorms, probes: Self.listedProbes, firstSeed: 351,
                                         probeTolerance: 1e-3)
            }
            let reference = try oneAtATime()
            for k in g.indices {
                let top = Reference.maxAbs(reference[k])
                cmp.check("G_P vs one gradients(at:of:) call per example", item: "parameter \(k)", g[k],
                          reference[k]) { _ in 1e-5 * top + 1e-7 }
            }
            return cmp.result
        })
    }
}

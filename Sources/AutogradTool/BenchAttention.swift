import Autograd
import Foundation

// MARK: - attention-grad

/// One pre-norm transformer block of WORKLOADS.md: x [B, T, D] (8, 128, 128), 4 causal heads of 32, an MLP
/// D → 4D → D with exact GELU, loss mean(y²); the gradient with respect to the twelve parameters. Written with the
/// library's public operations (layerNorm, batched matmul, scaledDotProductAttention, gelu). Inputs come from the
/// portable generator, so at the full size the call is checked against the values WORKLOADS.md lists (inputs'
/// sums, the loss, each gradient's norm and probe); at any size each gradient is also checked against central
/// differences of the same loss computed in Double.
struct AttentionProblem {
    let batch: Int, length: Int, width: Int, heads: Int
    let x: Tensor<Float>
    /// ln1.scale, ln1.bias, qkv.weight, qkv.bias, out.weight, out.bias, ln2.scale, ln2.bias, mlp1.weight,
    /// mlp1.bias, mlp2.weight, mlp2.bias.
    let parameters: [Tensor<Float>]

    /// The values of WORKLOADS.md at the full size.
    static let listedXSum = -706.7277577
    static let listedInputSums: [Double] = [128.3540226, 0.29769272, 17.35987191, -1.430738048, 2.852369179,
                                            0.1922898829, 128.2907512, 1.608183071, -18.49472934, 1.637950503,
                                            -6.168194005, -0.1203224419]
    static let listedLoss = 1.5556359558976234
    static let listedNorms: [Double] = [0.0312530949, 0.09327787733, 0.1226873973, 0.08823830587, 0.142920176,
                                        0.08292075329, 0.08694701828, 0.0504720369, 0.1751939672, 0.04771819545,
                                        0.5164092893, 0.06481079695]
    static let listedProbes: [Double] = [0.01141119068, 0.0530200011, 0.04567206028, -0.02766286841, -0.1928751017,
                                         -0.01371297158, 0.1378369775, -0.07263845503, -0.1151039376, 0.03747278856,
                                         -0.08047407957, -0.009064733743]

    init(_ sizes: BenchSizes) {
        (batch, length, width, heads) = (sizes.attentionBatch, sizes.attentionLength, sizes.attentionWidth, 4)
        let d = width, hidden = 4 * width
        x = PortableInputs.tensor([batch, length, d], seed: 201)
        func n(_ shape: [Int], _ seed: UInt64, _ scale: Double, offset: Double = 0) -> Tensor<Float> {
            PortableInputs.tensor(shape, seed: seed, offset: offset, scale: scale)
        }
        parameters = [n([d], 202, 0.1, offset: 1), n([d], 203, 0.1),
                      n([d, 3 * d], 204, 1 / Double(d).squareRoot()), n([3 * d], 205, 0.1),
                      n([d, d], 206, 1 / Double(d).squareRoot()), n([d], 207, 0.1),
                      n([d], 208, 0.1, offset: 1), n([d], 209, 0.1),
                      n([d, hidden], 210, 1 / Double(d).squareRoot()), n([hidden], 211, 0.1),
                      n([hidden, d], 212, 1 / Double(hidden).squareRoot()), n([d], 213, 0.1)]
    }

    /// The block and its loss, in the parameters' element type (Float for the workload, Double for the check).
    static func loss<S: TensorScalar>(_ x: Tensor<S>, _ p: [Tensor<S>], heads: Int) -> Tensor<S> {
        let (b, t, d) = (x.shape[0], x.shape[1], x.shape[2])
        let e = d / heads
        let a = layerNorm(x, scale: p[0], offset: p[1])
        let qkv = matmul(a, p[2]) + p[3]                                            // [B, T, 3D]
        func split(_ k: Int) -> Tensor<S> {                                       // [B, heads, T, e]
            qkv[.all, .all, (k * d)..<((k + 1) * d)].reshaped(to: [b, t, heads, e]).permuted([0, 2, 1, 3])
        }
        let o = scaledDotProductAttention(query: split(0), key: split(1), value: split(2), causal: true)
        let h = x + matmul(o.permuted([0, 2, 1, 3]).reshaped(to: [b, t, d]), p[4]) + p[5]
        let y = h + matmul(gelu(matmul(layerNorm(h, scale: p[6], offset: p[7]), p[8]) + p[9]), p[10]) + p[11]
        return y.squared().mean()
    }

    func gradientWorkload() -> BenchWorkload {
        let parameters = parameters, x = x, heads = heads
        return BenchWorkload(name: "attention-grad", flops: nil, call: {
            blackHole(try gradients(at: parameters) { Self.loss(x, $0, heads: heads) })
        }, verify: {
            let (value, grads) = try valueWithGradients(at: parameters) { Self.loss(x, $0, heads: heads) }
            let g = grads.map(\.doubles)
            var cmp = Comparison()
            if batch == 8 && length == 128 && width == 128 {
                let sums = parameters.map { $0.doubles.reduce(0, +) } + [x.doubles.reduce(0, +)]
                cmp.check("inputs' sums vs WORKLOADS.md", sums, Self.listedInputSums + [Self.listedXSum]) { i in
                    1e-6 * (1 + Swift.abs(i < 12 ? Self.listedInputSums[i] : Self.listedXSum))
                }
                cmp.check("loss vs WORKLOADS.md", Double(value.scalar), Self.listedLoss, tolerance: 1e-5 * Self.listedLoss)
                cmp.checkListedGradients(g, norms: Self.listedNorms, probes: Self.listedProbes, firstSeed: 251,
                                         probeTolerance: 1e-3)
                return cmp.result
            }
            // Smaller sizes: ⟨∇ₖL, dₖ⟩ against a central difference of the loss computed in Double.
            let xd = Tensor<Double>(shape: x.shape, scalars: x.doubles)
            let p = parameters.map { Tensor<Double>(shape: $0.shape, scalars: $0.doubles) }
            let eps = 1e-5
            for k in p.indices {
                let d = Tensor<Double>(shape: p[k].shape, scalars: PortableInputs.normals(seed: UInt64(251 + k),
                                                                                        count: p[k].count))
                func at(_ s: Double) -> Double {
                    var q = p
                    q[k] = p[k] + d * s
                    return withoutRecording { Self.loss(xd, q, heads: heads).scalar }
                }
                cmp.check("⟨∇L, d⟩ vs central difference of the loss in Double, each parameter", item: "parameter \(k)",
                          Reference.dot(g[k], d.scalars), (at(eps) - at(-eps)) / (2 * eps),
                          tolerance: 2e-4 * Reference.absoluteSum(g[k], d.scalars) + 1e-7)
            }
            return cmp.result
        })
    }
}

import Autograd
import Foundation

// MARK: - cnn-grad

/// The LeNet-style CNN of WORKLOADS.md: x [N, 1, S, S] (S = 28), two blocks conv 5×5 (padding 2) → relu → max
/// pool 2×2, then flatten and a linear layer [32·(S/4)², 10], mean cross-entropy; the gradient with respect to the
/// six parameters. Inputs come from the portable generator, so at the full size the call is checked against the
/// values WORKLOADS.md lists (inputs' sums, the loss, each gradient's norm and probe); at any size it is also
/// checked against central differences of a plain Double implementation of the same loss.
struct CNNProblem {
    let batch: Int, side: Int
    let x: Tensor<Float>
    let labels: [Int]
    /// Row-major indices of the label entries in the flattened [N, 10] logits: n·10 + labels[n].
    let labelIndices: [Int]
    /// conv1.weight, conv1.bias, conv2.weight, conv2.bias, fc.weight, fc.bias.
    let parameters: [Tensor<Float>]

    /// The values of WORKLOADS.md at the full size (batch 64, 28 × 28).
    static let listedInputSums: [Double] = [1.06084354, 0.2137803172, -5.60050066, 0.1230366745, -1.394828478,
                                            -0.03059478616]
    static let listedXSum = -599.9978393
    static let listedLabelSum = 290
    static let listedLoss = 2.726940574805025
    static let listedNorms: [Double] = [0.5613080023, 0.2521476795, 4.580365886, 0.2317071463, 7.48047795,
                                        0.2206284773]
    static let listedProbes: [Double] = [-0.4273588525, 0.007925810609, -1.23741236, -0.0640120245, 6.982064993,
                                         0.3904701591]

    init(_ sizes: BenchSizes) {
        batch = sizes.cnnBatch
        side = sizes.cnnImage
        let features = 32 * (side / 4) * (side / 4)
        x = PortableInputs.tensor([batch, 1, side, side], seed: 101)
        labels = PortableInputs.labels(seed: 102, count: batch)
        labelIndices = labels.enumerated().map { $0.offset * 10 + $0.element }
        parameters = [PortableInputs.tensor([16, 1, 5, 5], seed: 103, scale: 1 / 25.0.squareRoot()),
                      PortableInputs.tensor([16], seed: 104, scale: 0.1),
                      PortableInputs.tensor([32, 16, 5, 5], seed: 105, scale: 1 / 400.0.squareRoot()),
                      PortableInputs.tensor([32], seed: 106, scale: 0.1),
                      PortableInputs.tensor([features, 10], seed: 107, scale: 1 / Double(features).squareRoot()),
                      PortableInputs.tensor([10], seed: 108, scale: 0.1)]
    }

    /// The loss, from the library's convolution, pooling and core operations.
    func loss(_ p: [Tensor<Float>]) -> Tensor<Float> {
        var h = maxPool2d(relu(conv2d(x, weight: p[0], bias: p[1], padding: 2)), kernelSize: 2)
        h = maxPool2d(relu(conv2d(h, weight: p[2], bias: p[3], padding: 2)), kernelSize: 2)
        let logits = matmul(h.reshaped(to: [batch, -1]), p[4]) + p[5]
        return -logits.logSoftmax(alongAxes: 1).flattened().gathering(atIndices: labelIndices).mean()
    }

    /// The same loss in plain Double loops (a direct convolution, relu, 2 × 2 maxima, the linear layer and the
    /// cross-entropy).
    func referenceLoss(_ p: [[Double]]) -> Double {
        func block(_ h: [Double], channels c: Int, size s: Int, _ w: [Double], _ b: [Double], out o: Int) -> [Double] {
            var y = [Double](repeating: 0, count: batch * o * s * s)
            for n in 0..<batch {
                for oc in 0..<o {
                    for i in 0..<s {
                        for j in 0..<s {
                            var sum = b[oc]
                            for ic in 0..<c {
                                for p in 0..<5 {
                                    let iy = i + p - 2
                                    if iy < 0 || iy >= s { continue }
                                    for q in 0..<5 {
                                        let ix = j + q - 2
                                        if ix < 0 || ix >= s { continue }
                                        sum += w[((oc * c + ic) * 5 + p) * 5 + q] * h[((n * c + ic) * s + iy) * s + ix]
                                    }
                                }
                            }
                            y[((n * o + oc) * s + i) * s + j] = Swift.max(sum, 0)
                        }
                    }
                }
            }
            let half = s / 2
            var pooled = [Double](repeating: 0, count: batch * o * half * half)
            for plane in 0..<(batch * o) {
                for i in 0..<half {
                    for j in 0..<half {
                        let base = plane * s * s + 2 * i * s + 2 * j
                        pooled[(plane * half + i) * half + j] = Swift.max(Swift.max(y[base], y[base + 1]),
                                                                         Swift.max(y[base + s], y[base + s + 1]))
                    }
                }
            }
            return pooled
        }
        let h1 = block(x.doubles, channels: 1, size: side, p[0], p[1], out: 16)
        let h2 = block(h1, channels: 16, size: side / 2, p[2], p[3], out: 32)
        let features = h2.count / batch
        var logits = Reference.matmul(h2, p[4], batch, features, 10)
        var total = 0.0
        for n in 0..<batch {
            for k in 0..<10 { logits[n * 10 + k] += p[5][k] }
            let row = logits[(n * 10)..<((n + 1) * 10)]
            let top = row.max()!
            total += top + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - top) }) - logits[n * 10 + labels[n]]
        }
        return total / Double(batch)
    }

    func gradientWorkload() -> BenchWorkload {
        let parameters = parameters
        return BenchWorkload(name: "cnn-grad", flops: nil, call: {
            blackHole(try gradients(at: parameters, of: loss))
        }, verify: {
            let (value, grads) = try valueWithGradients(at: parameters, of: loss)
            let g = grads.map(\.doubles)
            var cmp = Comparison()
            if batch == 64 && side == 28 {
                let sums = parameters.map { $0.doubles.reduce(0, +) }
                cmp.check("inputs' sums vs WORKLOADS.md", sums + [x.doubles.reduce(0, +), Double(labels.reduce(0, +))],
                          Self.listedInputSums + [Self.listedXSum, Double(Self.listedLabelSum)]) { i in
                    1e-6 * (1 + Swift.abs(i < 6 ? Self.listedInputSums[i] : Self.listedXSum))
                }
                cmp.check("loss vs WORKLOADS.md", Double(value.scalar), Self.listedLoss, tolerance: 1e-5 * Self.listedLoss)
                cmp.checkListedGradients(g, norms: Self.listedNorms, probes: Self.listedProbes, firstSeed: 151,
                                         probeTolerance: 2e-4)
                return cmp.result
            }
            // Smaller sizes: the loss against the Double loss, and ⟨∇ₖL, dₖ⟩ against its central difference along
            // a direction dₖ per parameter.
            let p = parameters.map(\.doubles)
            cmp.check("loss vs a Double implementation", Double(value.scalar), referenceLoss(p),
                      tolerance: 1e-5 * Swift.abs(referenceLoss(p)))
            let eps = 1e-4
            for k in p.indices {
                let d = PortableInputs.normals(seed: UInt64(151 + k), count: p[k].count)
                func at(_ t: Double) -> Double {
                    var q = p
                    q[k] = zip(p[k], d).map { $0 + t * $1 }
                    return referenceLoss(q)
                }
                cmp.check("⟨∇L, d⟩ vs central difference of a Double loss, each parameter", item: "parameter \(k)",
                          Reference.dot(g[k], d), (at(eps) - at(-eps)) / (2 * eps),
                          tolerance: 2e-4 * Reference.absoluteSum(g[k], d) + 1e-6)
            }
            return cmp.result
        })
    }
}

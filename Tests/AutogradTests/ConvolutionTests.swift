import Foundation
import Testing
@testable import Autograd

/// The direct definition of a 2-d convolution (cross-correlation) in Double, seven loops: x [N, C, H, W], w [O, C/G,
/// kh, kw], explicit padding (top, left; the output size given), stride, dilation, groups.
private func referenceConv2d(_ x: [Double], _ xs: [Int], _ w: [Double], _ ws: [Int], bias: [Double]?,
                             stride: (Int, Int), top: Int, left: Int, dilation: (Int, Int), groups: Int,
                             out: (Int, Int)) -> [Double] {
    let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3])
    let (o, cg, kh, kw) = (ws[0], ws[1], ws[2], ws[3])
    let og = o / groups
    var y = [Double](repeating: 0, count: n * o * out.0 * out.1)
    for b in 0..<n {
        for oc in 0..<o {
            let g = oc / og
            for i in 0..<out.0 {
                for j in 0..<out.1 {
                    var s = bias?[oc] ?? 0
                    for ic in 0..<cg {
                        for p in 0..<kh {
                            for q in 0..<kw {
                                let iy = i * stride.0 - top + p * dilation.0, ix = j * stride.1 - left + q * dilation.1
                                if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
                                s += w[((oc * cg + ic) * kh + p) * kw + q] * x[((b * c + g * cg + ic) * h + iy) * wd + ix]
                            }
                        }
                    }
                    y[((b * o + oc) * out.0 + i) * out.1 + j] = s
                }
            }
        }
    }
    return y
}

private func normal(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
    var rng = SeededGenerator(seed: seed)
    return Tensor(randomNormal: shape, using: &rng)
}

private func inner(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
    zip(a.scalars, b.scalars).reduce(0) { $0 + $1.0 * $1.1 }
}

@Suite struct ConvolutionTests {
    /// (x shape, weight shape, stride, padding top/left, expected output size, dilation, groups, bias)
    struct Config: Sendable, CustomStringConvertible {
        var x: [Int], w: [Int]
        var stride: Size2d = 1, padding: [Int] = [0, 0], dilation: Size2d = 1, groups = 1, bias = true
        var description: String { "x \(x) w \(w) s \(stride) p \(padding) d \(dilation) g \(groups)" }
    }

    static let configs: [Config] = [
        Config(x: [2, 3, 6, 7], w: [4, 3, 3, 3]),
        Config(x: [1, 2, 7, 6], w: [3, 2, 3, 2], stride: [2, 3], padding: [1, 2]),
        Config(x: [2, 2, 8, 8], w: [2, 2, 3, 3], padding: [2, 2], dilation: 2),
        Config(x: [1, 6, 5, 5], w: [4, 3, 2, 2], stride: 2, padding: [1, 0], groups: 2, bias: false),
        Config(x: [2, 4, 5, 4], w: [4, 1, 3, 3], padding: [1, 1], groups: 4),  // depthwise
        Config(x: [1, 3, 4, 4], w: [5, 3, 1, 1]),                              // 1×1 kernel
        Config(x: [2, 2, 3, 4], w: [3, 2, 3, 4]),                              // kernel = input size
    ]

    @Test(arguments: configs) func conv2dMatchesTheDirectDefinition(_ cfg: Config) {
        let x = normal(cfg.x, seed: 1), w = normal(cfg.w, seed: 2), b = normal([cfg.w[0]], seed: 3)
        let y = conv2d(x, weight: w, bias: cfg.bias ? b : nil, stride: cfg.stride, padding: .zeros(cfg.padding),
                       dilation: cfg.dilation, groups: cfg.groups)
        let oh = (cfg.x[2] + 2 * cfg.padding[0] - cfg.dilation.height * (cfg.w[2] - 1) - 1) / cfg.stride.height + 1
        let ow = (cfg.x[3] + 2 * cfg.padding[1] - cfg.dilation.width * (cfg.w[3] - 1) - 1) / cfg.stride.width + 1
        #expect(y.shape == [cfg.x[0], cfg.w[0], oh, ow])
        let reference = referenceConv2d(x.scalars, cfg.x, w.scalars, cfg.w, bias: cfg.bias ? b.scalars : nil,
                                        stride: (cfg.stride.height, cfg.stride.width), top: cfg.padding[0],
                                        left: cfg.padding[1], dilation: (cfg.dilation.height, cfg.dilation.width),
                                        groups: cfg.groups, out: (oh, ow))
        expectClose(y.scalars, reference, tolerance: 1e-12)
        // Float agrees to its precision.
        let yf = conv2d(Tensor<Float>(converting: x), weight: Tensor<Float>(converting: w),
                        bias: cfg.bias ? Tensor<Float>(converting: b) : nil, stride: cfg.stride,
                        padding: .zeros(cfg.padding), dilation: cfg.dilation, groups: cfg.groups)
        expectClose(yf.scalars.map(Double.init), reference, tolerance: 1e-5)
    }

    /// `.same` pads d·(k − 1) in total, the extra zero after for an even kernel (as PyTorch): the same as explicit
    /// padding with `padded` and no padding in the convolution.
    @Test func samePaddingWithEvenKernels() {
        let x = normal([1, 2, 5, 6], seed: 4), w = normal([3, 2, 4, 2], seed: 5)
        let y = conv2d(x, weight: w, padding: .same, dilation: [1, 2])
        #expect(y.shape == [1, 3, 5, 6])
        // height: k = 4, d = 1: 3 zeros, 1 before and 2 after; width: k = 2, d = 2: 2 zeros, 1 and 1.
        let explicit = conv2d(x.padded([(0, 0), (0, 0), (1, 2), (1, 1)]), weight: w, dilation: [1, 2])
        expectClose(y.scalars, explicit.scalars, tolerance: 1e-12)
        let y1 = conv1d(normal([2, 3, 7], seed: 6), weight: normal([2, 3, 4], seed: 7), padding: .same)
        #expect(y1.shape == [2, 2, 7])
        #expect(conv2d(x, weight: w, padding: .valid).shape == [1, 3, 2, 5])
    }

    @Test func conv1dIsConv2dOnARow() {
        let x = normal([2, 4, 9], seed: 8), w = normal([6, 2, 3], seed: 9), b = normal([6], seed: 10)
        let y = conv1d(x, weight: w, bias: b, stride: 2, padding: 2, dilation: 2, groups: 2)
        let l = (9 + 4 - 2 * 2 - 1) / 2 + 1
        #expect(y.shape == [2, 6, l])
        let reference = referenceConv2d(x.scalars, [2, 4, 1, 9], w.scalars, [6, 2, 1, 3], bias: b.scalars,
                                        stride: (1, 2), top: 0, left: 2, dilation: (1, 2), groups: 2, out: (1, l))
        expectClose(y.scalars, reference, tolerance: 1e-12)
    }

    /// The transposed convolution is the adjoint of the convolution in x: ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩, for the
    /// sizes `outputPadding` selects.
    @Test(arguments: [(1, 0, 0, 1), (2, 1, 1, 1), (2, 0, 1, 2), (3, 1, 2, 1)])
    func transposedIsTheAdjoint(stride: Int, padding: Int, outputPadding: Int, groups: Int) {
        let w = normal([4, 6 / groups, 3, 2], seed: 11)         // conv2d weight [O = 4, C/G, 3, 2]; C = 6
        let y = normal([2, 4, 3, 4], seed: 12)
        let xt = conv2dTransposed(y, weight: w, stride: Size2d(stride), padding: Size2d(padding),
                                  outputPadding: Size2d(outputPadding), groups: groups)
        let oh = (3 - 1) * stride - 2 * padding + (3 - 1) + outputPadding + 1
        let ow = (4 - 1) * stride - 2 * padding + (2 - 1) + outputPadding + 1
        #expect(xt.shape == [2, 6, oh, ow])
        let x = normal(xt.shape, seed: 13)
        let cx = conv2d(x, weight: w, stride: Size2d(stride), padding: .zeros([padding]), groups: groups)
        #expect(cx.shape == y.shape)
        #expect(Swift.abs(inner(cx, y) - inner(x, xt)) < 1e-10 * (1 + Swift.abs(inner(x, xt))))
    }

    /// A closed form: a 1×1 input spread by a 2×2 kernel at stride 2 is the kernel itself times the input.
    @Test func transposedClosedForm() {
        let w = Tensor<Double>(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        let y = conv2dTransposed(Tensor<Double>(shape: [1, 1, 2, 1], scalars: [10, -1]), weight: w,
                                 bias: Tensor([0.5]), stride: 2)
        expectTensor(y, shape: [1, 1, 4, 2], [10.5, 20.5, 30.5, 40.5, -0.5, -1.5, -2.5, -3.5])
    }

    @Test func zeroSizeBatchAndChannels() {
        let y = conv2d(Tensor<Float>(zeros: [0, 3, 5, 5]), weight: Tensor<Float>(ones: [2, 3, 3, 3]),
                       bias: Tensor<Float>(ones: [2]), padding: 1)
        #expect(y.shape == [0, 2, 5, 5])
        let g = try? gradient(at: Tensor<Float>(ones: [2, 3, 3, 3])) { w in
            conv2d(Tensor<Float>(zeros: [0, 3, 5, 5]), weight: w).sum()
        }
        #expect(g?.scalars == [Float](repeating: 0, count: 54))
        let t = conv2dTransposed(Tensor<Double>(zeros: [0, 2, 3, 3]), weight: Tensor<Double>(ones: [2, 1, 2, 2]))
        #expect(t.shape == [0, 1, 4, 4])
        #expect(maxPool2d(Tensor<Double>(zeros: [0, 2, 4, 4]), kernelSize: 2).shape == [0, 2, 2, 2])
    }

    /// The gradient in the weight of Σ conv(x, w) is, for each weight entry, the sum of the inputs it meets: a
    /// closed form checked on a 1×1 kernel (the sum of the input channel) and against the reference otherwise.
    @Test func weightGradientClosedForm() throws {
        let x = normal([2, 3, 4, 5], seed: 14)
        let g = try gradient(at: normal([2, 3, 1, 1], seed: 15)) { w in conv2d(x, weight: w).sum() }
        let channelSums = (0..<3).map { c in
            (0..<2).reduce(0.0) { s, n in s + x[n, c].sum().scalar }
        }
        expectClose(g.scalars, channelSums + channelSums, tolerance: 1e-12)
    }

    @Test func reverseAndForwardAgreeForAConvolution() throws {
        let x = normal([1, 2, 5, 5], seed: 16), w = normal([3, 2, 3, 3], seed: 17)
        let u = normal(x.shape, seed: 18), v = normal([1, 3, 3, 3], seed: 19)
        let f = { (x: Tensor<Double>) in conv2d(x, weight: w, stride: 2, padding: 1) }
        let ju = try jvp(of: f, at: x, tangent: u).tangent
        let vj = try vjp(of: f, at: x, cotangent: v).vjp
        #expect(Swift.abs(inner(v, ju) - inner(vj, u)) < 1e-10)
    }

    // MARK: Errors

    @Test func channelsThatDoNotMatchTheWeight() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = conv2d(Tensor<Float>(zeros: [1, 3, 8, 8]), weight: Tensor<Float>(zeros: [4, 2, 3, 3]))
        }
        let text = OperationErrorTests.stderr(of: r)
        #expect(text.contains("conv2d: input [1, 3, 8, 8], weight [4, 2, 3, 3]: the input has 3 channels"))
        #expect(text.contains("use a weight of shape [4, 3, ...]"))
        #expect(text.contains("ConvolutionTests.swift"))
    }

    @Test func groupsThatDoNotDivideTheChannels() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = conv2d(Tensor<Float>(zeros: [1, 6, 8, 8]), weight: Tensor<Float>(zeros: [4, 2, 3, 3]), groups: 4)
        }
        let text = OperationErrorTests.stderr(of: r)
        #expect(text.contains("groups = 4 must divide both the input channels (6) and the output channels (4)"))
    }

    @Test func kernelLargerThanThePaddedInput() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = conv2d(Tensor<Double>(zeros: [1, 1, 4, 4]), weight: Tensor<Double>(zeros: [1, 1, 3, 3]), padding: 1,
                       dilation: 3)
        }
        let text = OperationErrorTests.stderr(of: r)
        #expect(text.contains("the kernel spans 7 along the height (size 3, dilation 3) but the padded input has "
            + "only 6 (4 + padding 2)"))
        #expect(text.contains("more padding"))
    }

    @Test func samePaddingWithAStride() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = conv2d(Tensor<Double>(zeros: [1, 1, 4, 4]), weight: Tensor<Double>(zeros: [1, 1, 3, 3]), stride: 2,
                       padding: .same)
        }
        #expect(OperationErrorTests.stderr(of: r).contains("padding .same needs stride 1"))
    }

    @Test func anUnbatchedInput() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = conv2d(Tensor<Double>(zeros: [1, 4, 4]), weight: Tensor<Double>(zeros: [1, 1, 3, 3]))
        }
        #expect(OperationErrorTests.stderr(of: r).contains("add the batch axis with unsqueezed(at: 0)"))
    }
}

import Foundation
import Testing
@testable import Autograd

/// The activation functions against closed forms (evaluated in Double with the C library's erf, erfc, exp, expm1,
/// log1p and tanh; the same numbers PyTorch prints), their derivatives against f′, and their edge cases.
@Suite struct ActivationTests {
    static let points: [Double] = [-3, -1, -0.5, 0, 0.5, 1, 3]

    static let values: [(String, @Sendable (Tensor<Double>) -> Tensor<Double>, [Double])] = [
        ("erf", { erf($0) }, [-0.9999779095030014, -0.8427007929497149, -0.5204998778130465, 0,
                              0.5204998778130465, 0.8427007929497149, 0.9999779095030014]),
        ("gelu", { gelu($0) }, [-0.004049694094890287, -0.15865525393145707, -0.15426876936299344, 0,
                                0.34573123063700656, 0.8413447460685429, 2.99595030590511]),
        ("gelu (tanh)", { gelu($0, approximation: .tanh) },
         [-0.0036373920817729943, -0.15880800939172324, -0.15428599017485606, 0, 0.34571400982514394,
          0.8411919906082768, 2.996362607918227]),
        ("silu", { silu($0) }, [-0.14227761953270035, -0.2689414213699951, -0.1887703343990727, 0,
                                0.3112296656009273, 0.7310585786300049, 2.8577223804672998]),
        ("elu", { elu($0) }, [-0.950212931632136, -0.6321205588285577, -0.3934693402873666, 0, 0.5, 1, 3]),
        ("logSigmoid", { logSigmoid($0) }, [-3.048587351573742, -1.3132616875182228, -0.9740769841801067,
                                            -0.6931471805599453, -0.4740769841801067, -0.31326168751822286,
                                            -0.04858735157374206]),
        ("leakyRelu", { leakyRelu($0) }, [-0.03, -0.01, -0.005, 0, 0.5, 1, 3]),
    ]

    static let derivatives: [(String, @Sendable (Tensor<Double>) -> Tensor<Double>, [Double])] = [
        ("erf", { erf($0) }, [0.00013925305194674786, 0.4151074974205947, 0.8787825789354448, 1.1283791670955126,
                              0.8787825789354448, 0.4151074974205947, 0.00013925305194674786]),
        ("gelu", { gelu($0) }, [-0.011945647204183918, -0.08331547058768629, 0.13250487534383712, 0.5,
                                0.8674951246561629, 1.0833154705876864, 1.011945647204184]),
        ("gelu (tanh)", { gelu($0, approximation: .tanh) },
         [-0.011584166630969516, -0.08296408384578255, 0.13263009646535764, 0.5, 0.8673699035346424,
          1.0829640838457826, 1.0115841666309695]),
        ("silu", { silu($0) }, [-0.08810410601516962, 0.07232948812851325, 0.2600388126973482, 0.5,
                                0.7399611873026519, 0.9276705118714869, 1.0881041060151693]),
        ("logSigmoid", { logSigmoid($0) }, [0.9525741268224334, 0.7310585786300049, 0.6224593312018546, 0.5,
                                            0.3775406687981454, 0.2689414213699951, 0.04742587317756678]),
        // The kinks take PyTorch's side: leaky ReLU's slope and ELU's α at 0.
        ("leakyRelu", { leakyRelu($0, negativeSlope: 0.2) }, [0.2, 0.2, 0.2, 0.2, 1, 1, 1]),
        ("elu", { elu($0, alpha: 2) }, [2 * Foundation.exp(-3), 2 * Foundation.exp(-1), 2 * Foundation.exp(-0.5), 2,
                                        1, 1, 1]),
    ]

    @Test(arguments: 0..<values.count) func valuesInDoubleAndFloat(_ i: Int) {
        let (name, f, expected) = Self.values[i]
        expectTensor(f(Tensor(Self.points)), shape: [7], expected, tolerance: 1e-14)
        // Float: the same function through Float tensors, within Float's rounding.
        let float = Tensor<Double>(converting: floatVersion(name)(Tensor<Float>(Self.points.map(Float.init))))
        expectTensor(float, shape: [7], expected, tolerance: 3e-7)
    }

    private func floatVersion(_ name: String) -> (Tensor<Float>) -> Tensor<Float> {
        switch name {
        case "erf": return { erf($0) }
        case "gelu": return { gelu($0) }
        case "gelu (tanh)": return { gelu($0, approximation: .tanh) }
        case "silu": return { silu($0) }
        case "elu": return { elu($0) }
        case "logSigmoid": return { logSigmoid($0) }
        default: return { leakyRelu($0) }
        }
    }

    @Test(arguments: 0..<derivatives.count) func derivativeIsTheClosedForm(_ i: Int) throws {
        let (_, f, expected) = Self.derivatives[i]
        let x = Tensor(Self.points)
        expectTensor(try gradient(at: x) { f($0).sum() }, shape: [7], expected, tolerance: 1e-13)
        let (_, tangent) = try jvp(of: f, at: x, tangent: Tensor(ones: [7]))
        expectTensor(tangent, shape: [7], expected, tolerance: 1e-13)
    }

    @Test func extremeInputsStayAccurate() {
        // Exact GELU through erfc: the tiny negative tail keeps its relative accuracy.
        expectClose(gelu(Tensor<Double>([-10])).scalars, [-7.619853024160593e-23], tolerance: 1e-13)
        #expect(gelu(Tensor<Float>([-10])).scalars[0] < 0)
        // log σ(−1000) = −1000, not −∞; log σ(1000) = 0.
        #expect(logSigmoid(Tensor<Float>([-1000, 1000])).scalars == [-1000, 0])
        #expect(silu(Tensor<Float>([-1000, 1000])).scalars == [0, 1000])
        #expect(elu(Tensor<Double>([-1000])).scalars == [-1])
        #expect(erf(Tensor<Float>([-.infinity, .infinity])).scalars == [-1, 1])
        // ELU's second derivative at a large positive input is 0, not NaN (the exponential never overflows).
        let second = try? gradient(at: Tensor<Double>([800, -1])) { x in
            try gradient(at: x) { elu($0, alpha: 1.5).sum() }.sum()
        }
        expectClose(second?.scalars ?? [], [0, 1.5 * Foundation.exp(-1)], tolerance: 1e-14)
    }

    @Test func zeroSizeAndZeroDimensionalInputs() throws {
        for shape in [[0], [2, 0], []] {
            let x = Tensor<Double>(repeating: 0.5, shape: shape)
            for f in Self.values.map(\.1) {
                #expect(f(x).shape == shape)
                #expect(try gradient(at: x) { f($0).sum() }.shape == shape)
            }
        }
    }

    @Test func badAlphaStops() async {
        await #expect(processExitsWith: .failure) {
            _ = elu(Tensor<Double>([1]), alpha: .nan)
        }
    }
}

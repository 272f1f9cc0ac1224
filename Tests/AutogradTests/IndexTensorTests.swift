import Foundation
import Testing
@testable import Autograd

/// Integer index tensors (`Tensor<Int32>`): creation, printing, the shape operations that move elements,
/// conversions, argmax/argmin, oneHot and take-along-axis, and the errors for bad indices.
@Suite struct IndexTensorTests {
    @Test func creationAndScalars() {
        let a = Tensor<Int32>([3, -1, 7])
        #expect(a.shape == [3] && a.scalars == [3, -1, 7] && a.scalarType == .int32)
        let b = Tensor<Int32>(shape: [2, 2], scalars: [1, 2, 3, 4])
        #expect(b.scalars == [1, 2, 3, 4])
        let c = Tensor<Int32>(shape: [2], scalars: [Int32(5), 6])
        #expect(c == Tensor<Int32>([5, 6]) && c != Tensor<Int32>([5, 7]))
        #expect(Tensor<Int32>(repeating: 4, shape: [0, 2]).count == 0)
        #expect((a .== Tensor<Int32>([3, 0, 7])).scalars == [true, false, true])
        #expect(Tensor<Int32>(rangeFrom: 0, to: 5, stride: 2).scalars == [0, 2, 4])
        #expect(Tensor<Int32>(rangeFrom: 3, to: 0, stride: -1).scalars == [3, 2, 1])
        #expect(Tensor<Int32>(rangeFrom: 2, to: 2).shape == [0])
    }

    @Test func printing() {
        let t = Tensor<Int32>(shape: [2, 2], scalars: [1, -20, 3, 4])
        #expect(t.description == "Tensor<Int32> [2, 2]\n[[  1, -20],\n [  3,   4]]")
        #expect(Tensor<Int32>(shape: [], scalars: [Int32(7)]).description == "Tensor<Int32> [] 7")
    }

    @Test func shapeOperationsMoveElements() {
        let t = Tensor<Int32>(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5])
        #expect(t.reshaped(to: [3, 2]).scalars == [0, 1, 2, 3, 4, 5])
        #expect(t.transposed().scalars == [0, 3, 1, 4, 2, 5])
        #expect(t[1].scalars == [3, 4, 5])
        #expect(t[.all, 1..<3].scalars == [1, 2, 4, 5])
        #expect(Tensor(concatenating: [t, t], alongAxis: 1).shape == [2, 6])
        #expect(Tensor(stacking: [t, t]).shape == [2, 2, 3])
        #expect(t.gathering(atIndices: [2, 0], alongAxis: 1).scalars == [2, 0, 5, 3])
        #expect(t.unsqueezed(at: 0).squeezed().shape == [2, 3])
    }

    @Test func conversions() {
        let t = Tensor<Int32>([2, -3])
        #expect(Tensor<Float>(t).scalars == [2, -3])
        #expect(Tensor<Double>(t).scalars == [2, -3])
        #expect(Tensor<Int32>(truncating: Tensor<Double>([2.9, -3.9, 0.5])).scalars == [2, -3, 0])
    }

    @Test func argmaxAndArgmin() {
        let x = Tensor<Double>([[1, 5, 5], [7, 2, 7]])
        #expect(x.argmax(alongAxis: 1).scalars == [1, 0])          // ties: the first
        #expect(x.argmin(alongAxis: 0).scalars == [0, 1, 0])
        #expect(x.argmax(alongAxis: -1, keepingDimensions: true).shape == [2, 1])
        #expect(x.argmax().scalars == [3] && x.argmax().shape == [])
        #expect(Tensor<Float>([1, .nan, 3]).argmax().scalars == [1])
        #expect(Tensor<Float>(zeros: [0, 3]).argmax(alongAxis: 1).shape == [0])
    }

    @Test func oneHotVectors() {
        let y: Tensor<Float> = oneHot(Tensor<Int32>([2, 0, -1]), classes: 3)
        #expect(y.shape == [3, 3] && y.scalars == [0, 0, 1, 1, 0, 0, 0, 0, 1])
        let z: Tensor<Double> = oneHot(Tensor<Int32>(shape: [2, 1], scalars: [1, 0]), classes: 2)
        #expect(z.shape == [2, 1, 2] && z.scalars == [0, 1, 1, 0])
    }

    @Test func gatheringAlongAnAxis() throws {
        let x = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        let i = Tensor<Int32>(shape: [2, 2], scalars: [2, 2, 0, -1])
        let y = x.gathering(alongAxis: 1, indices: i)
        #expect(y.scalars == [3, 3, 4, 6])
        // x̄ scatter-adds: position (0, 2) read twice.
        let g = try gradient(at: x) { $0.gathering(alongAxis: 1, indices: i).sum() }
        #expect(g.scalars == [0, 0, 2, 1, 0, 1])
        let rows = x.gathering(alongAxis: 0, indices: Tensor<Int32>(shape: [1, 3], scalars: [1, 0, 1]))
        #expect(rows.scalars == [4, 2, 6])
        #expect(x.gathering(alongAxis: 1, indices: Tensor<Int32>(shape: [2, 0], scalars: [Int]())).shape == [2, 0])
        let picked = x.gathering(atIndices: Tensor<Int32>(shape: [2, 2], scalars: [0, 1, 1, 1]), alongAxis: 1)
        #expect(picked.shape == [2, 2, 2] && picked.scalars == [1, 2, 2, 2, 4, 5, 5, 5])
        // Index tensors gather too (any element type moves).
        #expect(i.gathering(alongAxis: 1, indices: Tensor<Int32>(shape: [2, 1], scalars: [1, 0])).scalars == [2, 0])
    }

    @Test func gatheringDerivativesInEveryMode() throws {
        var rng = SeededGenerator(seed: 3)
        let x = Tensor<Double>(randomNormal: [3, 4], using: &rng)
        let i = Tensor<Int32>(shape: [3, 5], scalars: [0, 3, 3, 1, 2, 2, 2, 0, 1, 3, 3, 0, 0, 0, 1])
        for r in try checkDerivatives(of: { $0[0].gathering(alongAxis: 1, indices: i) }, at: [x]) {
            #expect(r.passed, "\(r)")
        }
    }

    static func stderr(of result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func indexOutOfRangeNamesPositionValueAndBound() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3]).gathering(alongAxis: 1, indices: Tensor<Int32>(shape: [2, 1], scalars: [0, 3]))
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("gathering(alongAxis:indices:): index 3 at position [1, 0]"), "\(text)")
        #expect(text.contains("axis of length 3") && text.contains("-3 ..< 3"), "\(text)")
    }

    @Test func mismatchedIndexShapeIsNamed() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3]).gathering(alongAxis: 1, indices: Tensor<Int32>(shape: [3, 1], scalars: [0, 1, 2]))
        }
        let text = Self.stderr(of: r)
        #expect(text.contains("the index tensor has shape [3, 1] but the tensor has [2, 3]"), "\(text)")
    }

    @Test func oneHotOutOfRange() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let _: Tensor<Float> = oneHot(Tensor<Int32>([0, 5]), classes: 3)
        }
        #expect(Self.stderr(of: r).contains("oneHot(_:classes:): index 5 at position [1]"))
    }

    @Test func valueTooLargeForInt32() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Int32>([1, 1 << 40])
        }
        #expect(Self.stderr(of: r).contains("does not fit in Int32"))
    }

    @Test func arithmeticOnIndexTensorsStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let t = Tensor<Int32>([1, 2])
            _ = exp(t.base)
        }
        #expect(Self.stderr(of: r).contains("is not defined for Tensor<Int32>; convert first"))
    }
}

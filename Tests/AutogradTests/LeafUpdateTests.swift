import Testing
@testable import Autograd

/// The PyTorch update habit, `w -= lr * w.gradient!`: inside `withoutRecording` it updates the leaf in place and
/// w stays a leaf; while recording it stops with a message instead of silently turning w into a recorded result.
@Suite struct LeafUpdateTests {
    @Test func anUpdateInsideWithoutRecordingKeepsTheLeaf() throws {
        var w = Tensor<Float>([1, 2]).requiringGradient()
        for _ in 0..<3 {
            try (w * w).sum().backward()
            withoutRecording { w -= 0.25 * w.gradient! }
            #expect(w.isLeaf)
            w.clearGradient()
        }
        // w ← w − ½ w three times: w · (1/2)³.
        #expect(w.scalars == [0.125, 0.25])
        try (w * 3).sum().backward()
        #expect(w.gradient?.scalars == [3, 3])
        // Every compound assignment, with a tensor or a scalar.
        withoutRecording {
            w += Tensor<Float>([1, 1]); w *= 2; w /= Tensor<Float>([2, 4]); w -= 1; w += 1; w *= Tensor<Float>([4, 4]); w /= 2
        }
        #expect(w.isLeaf && w.scalars == [2.25, 1.25])
        #expect(w.gradient?.scalars == [3, 3], "the accumulated gradient stays until clearGradient()")
    }

    @Test func copiesOfTheOldValueAreUnchanged() {
        var w = Tensor<Double>([1, 2]).requiringGradient()
        let before = w
        withoutRecording { w -= 1 }
        #expect(before.scalars == [1, 2] && w.scalars == [0, 1])
    }

    @Test func compoundAssignmentOnOtherTensorsIsANewRecordedValue() throws {
        let w = Tensor<Float>([1, 2]).requiringGradient()
        var y = w * 2
        y += 1
        #expect(!y.isLeaf && y.isRecorded)
        try y.sum().backward()
        #expect(w.gradient?.scalars == [2, 2])
        // Inside a functional call the input may be updated like any value.
        let g = try gradient(at: Tensor<Float>([3])) { x in var x = x; x *= x; return x.sum() }
        #expect(g.scalars == [6])
    }

    @Test func anUpdateWhileRecordingStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var w = Tensor<Float>([1, 2]).requiringGradient()
            try? (w * w).sum().backward()
            w -= 0.1 * w.gradient!
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("-=: the left side is a leaf (made by requiringGradient() at AutogradTests/LeafUpdateTests.swift:"), "\(text)")
        #expect(text.contains("inside withoutRecording { }"))
        #expect(text.contains("See the article \"Recording and leaves\""))
    }

    @Test func anUpdateMayNotChangeTheLeafsShape() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var w = Tensor<Float>([1, 2]).requiringGradient()
            withoutRecording { w += Tensor<Float>([[1, 2], [3, 4]]) }
        }
        let text = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("+=: updating a leaf of shape [2] in place would give it shape [2, 2]"), "\(text)")
    }
}

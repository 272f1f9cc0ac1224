import Testing
@testable import AutogradTool

/// The portable generator against the check values that the workload definitions list for it.
@Suite struct PortableInputsTests {
    @Test func splitMixMatchesTheListedOutputs() {
        #expect(PortableInputs.splitMix(1, 0) == 10_451_216_379_200_822_465)
        #expect(PortableInputs.splitMix(1, 1) == 13_757_245_211_066_428_519)
        #expect(PortableInputs.splitMix(1, 2) == 17_911_839_290_282_890_590)
    }

    @Test func uniformsNormalsAndLabelsMatchTheListedValues() {
        let uniforms = [0.5665615751722809, 0.7457817572627011, 0.9710027535867962]
        let normals = [-0.034267321791851144, -2.5000674933698677, 0.08772246831488635]
        for k in 0..<3 {
            #expect(PortableInputs.uniform(1, k) == uniforms[k])
            #expect(abs(PortableInputs.normal(1, k) - normals[k]) <= 1e-15 * max(1, abs(normals[k])))
        }
        #expect(PortableInputs.labels(seed: 1, count: 8) == [5, 9, 0, 5, 1, 8, 5, 3])
    }

    @Test func tensorsHoldTheNearestFloats() {
        let t = PortableInputs.tensor([2, 3], seed: 1, offset: 1, scale: 0.1)
        #expect(t.shape == [2, 3])
        #expect(t.scalars[1] == Float(1 + 0.1 * PortableInputs.normal(1, 1)))
    }
}

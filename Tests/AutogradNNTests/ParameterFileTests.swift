import Foundation
import Testing
import Autograd
@testable import AutogradNN

@Suite struct ParameterFileTests {
    static func mlp(seed: UInt64) -> Sequential<Chain<Chain<Linear<Float>, ReLU<Float>>, Linear<Float>>> {
        var rng = SeededGenerator(seed: seed)
        return Sequential {
            Linear<Float>(inputSize: 5, outputSize: 4, using: &rng)
            ReLU<Float>()
            Linear<Float>(inputSize: 4, outputSize: 1, using: &rng)
        }
    }

    /// A file made by hand from a header text and a data section (for malformed files the writer never makes).
    static func file(header: String, body: [UInt8]) -> Data {
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        return data + Data(header.utf8) + Data(body)
    }

    /// Loads `data` into a fresh linear layer and returns the error, checking the layer is unchanged.
    static func refusal<Scalar: TensorScalar>(_ data: Data, into model: Linear<Scalar>,
                                              sourceLocation: SourceLocation = #_sourceLocation) -> ParameterFileError? {
        var target = model
        let error = #expect(throws: ParameterFileError.self, sourceLocation: sourceLocation) {
            try target.loadParameters(from: data)
        }
        #expect(target.parameters.map(\.scalars) == model.parameters.map(\.scalars), "the model changed",
                sourceLocation: sourceLocation)
        return error
    }

    @Test func roundTripRestoresEveryValueExactly() throws {
        let saved = Self.mlp(seed: 1)
        var restored = Self.mlp(seed: 2)
        #expect(restored.parameters.map(\.scalars) != saved.parameters.map(\.scalars))
        try restored.loadParameters(from: saved.parameterFileData())
        #expect(restored.parameters.map(\.scalars) == saved.parameters.map(\.scalars))

        var rng = SeededGenerator(seed: 3)
        let double = TwoLayerModel(hidden: Linear(inputSize: 2, outputSize: 3, using: &rng),
                                   output: Linear(inputSize: 3, outputSize: 1, bias: false, using: &rng))
        var other = double.replacingParameters(with: double.parameters.map { Tensor(zerosLike: $0) })
        try other.loadParameters(from: double.parameterFileData())
        #expect(other.parameters.map(\.scalars) == double.parameters.map(\.scalars))
    }

    @Test func roundTripThroughAFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("params-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let saved = Self.mlp(seed: 1)
        try saved.saveParameters(to: url)
        var restored = Self.mlp(seed: 5)
        try restored.loadParameters(contentsOf: url)
        #expect(restored.parameters.map(\.scalars) == saved.parameters.map(\.scalars))
        let missing = url.appendingPathExtension("missing")
        let error = #expect(throws: ParameterFileError.self) { try restored.loadParameters(contentsOf: missing) }
        #expect(error?.description.hasPrefix("cannot access the parameter file \(missing.path)") == true)
    }

    @Test func theLayoutIsSafetensors() throws {
        let model = Self.mlp(seed: 1)
        let data = model.parameterFileData()
        let n = Int(data.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect((8 + n) % 8 == 0)
        #expect(data.count == 8 + n + 4 * model.parameterScalarCount)
        let header = try #require(try JSONSerialization.jsonObject(with: data[8..<(8 + n)]) as? [String: Any])
        #expect(Set(header.keys) == ["__metadata__", "0.weight", "0.bias", "2.weight", "2.bias"])
        let entry = try #require(header["2.weight"] as? [String: Any])
        #expect(entry["dtype"] as? String == "F32")
        #expect((entry["shape"] as? [Any])?.compactMap { $0 as? Int } == [1, 4])
        #expect((entry["data_offsets"] as? [Any])?.compactMap { $0 as? Int } == [4 * 24, 4 * 28])
        // The data section holds the values, little-endian, in parameter order.
        let first = data[(8 + n)..<(8 + n + 4)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(Float(bitPattern: first) == model.parameters[0].scalars[0])
    }

    @Test func aFileFromAnotherModelIsRefused() {
        var rng = SeededGenerator(seed: 7)
        let withBias = Linear<Float>(inputSize: 3, outputSize: 2, using: &rng)
        let withoutBias = Linear<Float>(inputSize: 3, outputSize: 2, bias: false, using: &rng)
        let wider = Linear<Float>(inputSize: 4, outputSize: 2, using: &rng)
        let double = Linear<Double>(inputSize: 3, outputSize: 2, using: &rng)

        #expect(Self.refusal(withoutBias.parameterFileData(), into: withBias) == .missingParameter(name: "bias", shape: [2]))
        #expect(Self.refusal(withBias.parameterFileData(), into: withoutBias) == .unexpectedParameter(name: "bias", shape: [2]))
        let shape = Self.refusal(withBias.parameterFileData(), into: wider)
        #expect(shape == .shapeMismatch(name: "weight", expected: [2, 4], found: [2, 3]))
        #expect(shape?.description == "parameter 'weight' has shape [2, 3] in the file but [2, 4] in the model; "
            + "nothing was loaded and the model is unchanged")
        #expect(Self.refusal(withBias.parameterFileData(), into: double)
            == .scalarTypeMismatch(name: "weight", expected: "F64", found: "F32"))
        let sequential = Self.refusal(Self.mlp(seed: 1).parameterFileData(), into: withBias)
        #expect(sequential == .missingParameter(name: "weight", shape: [2, 3]))
        #expect(sequential?.description.contains("the file was saved from a different model") == true)
    }

    @Test func truncatedFilesAreRefused() {
        var rng = SeededGenerator(seed: 8)
        let model = Linear<Float>(inputSize: 3, outputSize: 2, using: &rng)
        let data = model.parameterFileData()
        #expect(Self.refusal(data.prefix(data.count - 4), into: model)
            == .truncated(expectedBytes: data.count, actualBytes: data.count - 4))
        let n = Int(data.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect(Self.refusal(data.prefix(20), into: model) == .truncated(expectedBytes: 8 + n, actualBytes: 20))
        let tiny = Self.refusal(data.prefix(5), into: model)
        #expect(tiny?.description.contains("the file has 5 bytes") == true)
    }

    @Test func malformedFilesAreRefused() {
        var rng = SeededGenerator(seed: 9)
        let model = Linear<Float>(inputSize: 1, outputSize: 1, using: &rng)
        let eight = [UInt8](repeating: 0, count: 8)
        func reason(_ data: Data) -> String {
            guard case .malformed(let reason)? = Self.refusal(data, into: model) else { return "(not malformed)" }
            return reason
        }
        #expect(reason(Data("weight,bias\n1,2\n".utf8)).contains("this is not a safetensors file"))
        #expect(reason(Self.file(header: "[1, 2]", body: [])).contains("is not a JSON object"))
        #expect(reason(Self.file(header: "{\"weight\": {\"dtype\": \"F32\"}}", body: []))
            .contains("the entry 'weight' needs \"dtype\""))
        #expect(reason(Self.file(header: "{\"weight\": {\"dtype\": \"BF16\", \"shape\": [1, 1], \"data_offsets\": [0, 2]}}",
                                 body: [0, 0])).contains("has dtype BF16"))
        #expect(reason(Self.file(header: "{\"weight\": {\"dtype\": \"F32\", \"shape\": [1, 1], \"data_offsets\": [0, 8]}}",
                                 body: eight)).contains("needs exactly 4 bytes"))
        let overlapping = "{\"weight\": {\"dtype\": \"F32\", \"shape\": [1, 1], \"data_offsets\": [0, 4]}, "
            + "\"bias\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [2, 6]}}"
        #expect(reason(Self.file(header: overlapping, body: eight)).contains("overlap"))
        // The same two entries without overlap load (no padding needed, metadata optional).
        var target = model
        let good = "{\"bias\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}, "
            + "\"weight\": {\"dtype\": \"F32\", \"shape\": [1, 1], \"data_offsets\": [0, 4]}}"
        var body: [UInt8] = []
        for x: Float in [2.5, -1] { withUnsafeBytes(of: x.bitPattern.littleEndian) { body += $0 } }
        #expect(throws: Never.self) { try target.loadParameters(from: Self.file(header: good, body: body)) }
        #expect(target.weight.scalars == [2.5] && target.bias?.scalars == [-1])
    }
}

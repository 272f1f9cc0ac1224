import Foundation
import Testing
import Autograd
@testable import AutogradNN

/// Hostile and corrupt parameter files: every one either loads (and then the model holds exactly the values the
/// file's bytes encode) or throws a `ParameterFileError` and leaves the model unchanged. None may trap.
@Suite struct ParameterFileFuzzTests {
    /// One tensor's place in a valid file: its parameter index and its absolute byte range.
    struct Slot { var parameter: Int; var begin: Int; var end: Int }

    static let model = ParameterFileTests.mlp(seed: 1)
    static let valid = model.parameterFileData()
    static let headerLength = Int(valid.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })

    /// Where each parameter's elements lie in `valid`, read from its header.
    static let slots: [Slot] = {
        let header = (try? JSONSerialization.jsonObject(with: valid[8..<(8 + headerLength)])) as? [String: Any] ?? [:]
        return model.parameterPaths.enumerated().map { i, path in
            let offsets = ((header[path.name] as? [String: Any])?["data_offsets"] as? [Any])?.compactMap { $0 as? Int }
                ?? [0, 0]
            return Slot(parameter: i, begin: 8 + headerLength + offsets[0], end: 8 + headerLength + offsets[1])
        }
    }()

    static func file(header: String, body: Data) -> Data {
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        return data + Data(header.utf8) + body
    }

    static let extremes: [Int] = [0, 1, -1, 4, 7, 8, 95, 96, 112, 116, Int.max, Int.max - 12, Int.min, Int.min + 1,
                                  Int(Int32.max), 1 << 53, -(1 << 53), 1 << 62]

    /// A mutated copy of the valid file; `kind` picks the mutation.
    static func mutant(_ kind: Int, _ rng: inout SeededGenerator) -> Data {
        var bytes = [UInt8](valid)
        switch kind {
        case 0:     // a few bytes changed anywhere
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        case 1:     // one bit flipped in the header
            let i = Int.random(in: 0..<(8 + headerLength), using: &rng)
            bytes[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
        case 2:     // truncated, or extended with random bytes
            if Bool.random(using: &rng) {
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
            } else {
                bytes += (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
        case 3:     // the header length set to an extreme or random value
            let lengths: [UInt64] = [0, 1, 7, 8, UInt64(headerLength - 1), UInt64(headerLength + 1),
                                     UInt64(bytes.count), UInt64(bytes.count - 8), 100_000_000, 100_000_001,
                                     UInt64(Int64.max), UInt64.max, 1 << 63, rng.next()]
            let n = lengths[Int.random(in: 0..<lengths.count, using: &rng)]
            withUnsafeBytes(of: n.littleEndian) { for i in 0..<8 { bytes[i] = $0[i] } }
        case 4, 5:  // an entry's data_offsets (or shape) replaced by extremes, the header rewritten to match
            let header = String(decoding: valid[8..<(8 + headerLength)], as: UTF8.self)
            let pattern = kind == 4 ? /"data_offsets":\[[0-9]+,[0-9]+\]/ : /"shape":\[[0-9,]*\]/
            let matches = header.matches(of: pattern)
            let target = matches[Int.random(in: 0..<matches.count, using: &rng)].range
            let a = extremes[Int.random(in: 0..<extremes.count, using: &rng)]
            let b = extremes[Int.random(in: 0..<extremes.count, using: &rng)]
            let replacement = kind == 4 ? "\"data_offsets\":[\(a),\(b)]" : "\"shape\":[\(a),\(b)]"
            var changed = header
            changed.replaceSubrange(target, with: replacement)
            return file(header: changed, body: valid[(8 + headerLength)...])
        default:    // random bytes, after a plausible header length or not
            let count = Int.random(in: 0...300, using: &rng)
            bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if count >= 8 && Bool.random(using: &rng) {
                withUnsafeBytes(of: UInt64(Int.random(in: 0...(count - 8), using: &rng)).littleEndian) {
                    for i in 0..<8 { bytes[i] = $0[i] }
                }
            }
        }
        return Data(bytes)
    }

    /// The values a file that loads must give: each parameter's elements read from `data` where the valid file
    /// keeps them (a mutation that loads cannot have moved them: it left the header's meaning intact).
    static func encodedValues(_ data: Data) -> [[Float]]? {
        guard let last = slots.map(\.end).max(), last <= data.count else { return nil }
        let bytes = [UInt8](data)
        return slots.map { slot in
            stride(from: slot.begin, to: slot.end, by: 4).map { at in
                Float(bitPattern: bytes[at..<(at + 4)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            }
        }
    }

    @Test func tenThousandMutatedFilesLoadTheirValuesOrThrow() {
        var rng = SeededGenerator(seed: 2026)
        let original = Self.model.parameters.map(\.scalars)
        var (loaded, refused) = (0, 0)
        for round in 0..<12_000 {
            let kind = round % 7
            let data = Self.mutant(kind, &rng)
            var target = Self.model
            do {
                try target.loadParameters(from: data)
                loaded += 1
                let values = target.parameters.map(\.scalars)
                let expected = Self.encodedValues(data)
                if values.map({ $0.map(\.bitPattern) }) != expected?.map({ $0.map(\.bitPattern) }) {
                    Issue.record("mutation \(round) (kind \(kind)) loaded values other than the file's")
                }
            } catch is ParameterFileError {
                refused += 1
                if target.parameters.map(\.scalars) != original {
                    Issue.record("mutation \(round) (kind \(kind)) threw but changed the model")
                }
            } catch {
                Issue.record("mutation \(round) (kind \(kind)) threw \(error), not a ParameterFileError")
            }
        }
        #expect(loaded + refused == 12_000)
        #expect(loaded > 100 && refused > 5_000, "loaded \(loaded), refused \(refused)")
    }

    /// The two offsets that trapped with an arithmetic overflow before they were compared without arithmetic.
    @Test func offsetsThatOverflowAreRefused() {
        var rng = SeededGenerator(seed: 9)
        let model = Linear<Float>(inputSize: 3, outputSize: 1, bias: false, using: &rng)     // 12 bytes
        for offsets in [[9223372036854775795, 9223372036854775807], [1, -9223372036854775808],
                        [-9223372036854775808, -9223372036854775804], [9223372036854775807, 3]] {
            let header = "{\"weight\": {\"dtype\": \"F32\", \"shape\": [1, 3], \"data_offsets\": [\(offsets[0]), "
                + "\(offsets[1])]}}"
            var target = model
            #expect(throws: ParameterFileError.self) {
                try target.loadParameters(from: Self.file(header: header, body: Data(repeating: 0, count: 12)))
            }
            #expect(target.weight.scalars == model.weight.scalars)
        }
    }
}

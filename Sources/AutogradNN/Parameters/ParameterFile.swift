import Autograd
import Foundation

// Parameter files in the safetensors format (https://github.com/huggingface/safetensors), which is small, fully
// specified and readable by other tools (Python's `safetensors.numpy.load_file`, PyTorch through `safetensors`):
//
//     bytes 0 ..< 8        N, the length of the header, an unsigned 64-bit little-endian integer
//     bytes 8 ..< 8 + N    the header: a UTF-8 JSON object, padded with spaces so that 8 + N is a multiple of 8
//     bytes 8 + N ..< end  the data: every tensor's elements, row-major, little-endian IEEE 754
//
// The header maps each parameter name (`hidden.weight`, `0.bias`: see `ParameterPath.name`) to
// {"dtype": "F32" or "F64", "shape": [...], "data_offsets": [begin, end]}, with byte offsets into the data
// section, plus an optional "__metadata__" object of strings (this module writes {"format": "autograd"}).
// Tensors are written in `parameterPaths` order, one after the other, with no gaps.
//
// Loading checks the whole file against the model before changing anything: the file's structure (header length,
// JSON, each entry's dtype, shape and offsets, offsets inside the data and not overlapping), then that it has
// exactly the model's parameter names, each with the model's shape and element type. The first difference is
// thrown as a `ParameterFileError` naming it, and the model is left as it was.

/// Why a parameter file was not loaded. The model is never changed when one of these is thrown.
public enum ParameterFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read or written.
    case unreadable(path: String, reason: String)
    /// The bytes are not a well-formed parameter (safetensors) file; `reason` says which rule they break.
    case malformed(reason: String)
    /// The file ends before the data it describes: `expectedBytes` are needed, `actualBytes` are there.
    case truncated(expectedBytes: Int, actualBytes: Int)
    /// The model has a parameter the file does not.
    case missingParameter(name: String, shape: [Int])
    /// The file has a parameter the model does not.
    case unexpectedParameter(name: String, shape: [Int])
    /// A parameter's shape in the file differs from the model's.
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    /// A parameter's element type in the file (`F32`, `F64`, …) differs from the model's.
    case scalarTypeMismatch(name: String, expected: String, found: String)
    /// A checkpoint's optimizer state does not fit the optimizer or the model: another kind of optimizer, a
    /// missing slot, or no optimizer state at all; `reason` says which.
    case optimizerMismatch(reason: String)

    /// What is wrong, naming the parameter, and that nothing was loaded.
    public var description: String {
        let unchanged = "; nothing was loaded and the model is unchanged"
        switch self {
        case let .unreadable(path, reason):
            return "cannot access the parameter file \(path): \(reason)"
        case let .malformed(reason):
            return "not a valid parameter file (safetensors format): \(reason)" + unchanged
        case let .truncated(expected, actual):
            return "the parameter file is truncated: it describes \(expected) bytes but has only \(actual)" + unchanged
        case let .missingParameter(name, shape):
            return "the model has a parameter '\(name)' of shape \(describe(shape)) that the file does not have: the "
                + "file was saved from a different model" + unchanged
        case let .unexpectedParameter(name, shape):
            return "the file has a parameter '\(name)' of shape \(describe(shape)) that the model does not have: the "
                + "file was saved from a different model" + unchanged
        case let .shapeMismatch(name, expected, found):
            return "parameter '\(name)' has shape \(describe(found)) in the file but \(describe(expected)) in the "
                + "model" + unchanged
        case let .scalarTypeMismatch(name, expected, found):
            return "parameter '\(name)' holds \(found) elements in the file but the model's are \(expected)"
                + unchanged
        case let .optimizerMismatch(reason):
            return "the checkpoint's optimizer state does not fit: \(reason); nothing was loaded and the model and "
                + "optimizer are unchanged"
        }
    }
}

/// The safetensors element-type code of a scalar type.
func dtypeCode<Scalar: TensorScalar>(_ type: Scalar.Type) -> String {
    Scalar.scalarType == .float32 ? "F32" : "F64"
}

/// One header entry as read from a file.
struct Entry {
    var name: String
    var dtype: String
    var shape: [Int]
    var begin: Int
    var end: Int
}

extension Parameterized {
    /// The model's parameters as the bytes of a parameter file (format above). O(number of parameters' elements).
    public func parameterFileData() -> Data {
        let paths = parameterPaths
        checkUniqueNames(paths.map(\.name), "parameterFileData()")
        return safetensorsData(paths.map { ($0.name, $0.read(self)) }, metadata: [("format", "autograd")])
    }

    /// Writes ``parameterFileData()`` to `url` (atomically: a reader never sees half a file).
    /// - Throws: ``ParameterFileError/unreadable(path:reason:)`` if the file cannot be written.
    public func saveParameters(to url: URL) throws {
        do {
            try parameterFileData().write(to: url, options: .atomic)
        } catch {
            throw ParameterFileError.unreadable(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Replaces every parameter with the values in a parameter file's bytes, after checking that the file matches
    /// this model exactly: the same parameter names, each with the same shape and element type (order in the
    /// file does not matter), and a well-formed, complete file.
    /// - Throws: ``ParameterFileError`` naming the first difference; the model is then unchanged.
    /// - Complexity: O(file size).
    ///
    /// A checkpoint file (``saveCheckpoint(to:optimizer:)``) loads here too: its optimizer entries, whose names
    /// start with `@optimizer/`, are skipped.
    public mutating func loadParameters(from data: Data) throws {
        self = try parametersLoaded(from: readEntries(data).entries.filter { !$0.name.hasPrefix(optimizerPrefix) },
                                    data, "loadParameters(from:)")
    }

    /// This model with every parameter replaced by the entry of its name, after checking names, shapes and types.
    func parametersLoaded(from entries: [Entry], _ data: Data, _ op: String) throws -> Self {
        let paths = parameterPaths
        checkUniqueNames(paths.map(\.name), op)
        let byName = Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let expectedType = dtypeCode(Scalar.self)
        var values: [Tensor<Scalar>] = []
        for path in paths {
            let shape = path.read(self).shape
            guard let entry = byName[path.name] else {
                throw ParameterFileError.missingParameter(name: path.name, shape: shape)
            }
            if entry.dtype != expectedType {
                throw ParameterFileError.scalarTypeMismatch(name: path.name, expected: expectedType, found: entry.dtype)
            }
            if entry.shape != shape {
                throw ParameterFileError.shapeMismatch(name: path.name, expected: shape, found: entry.shape)
            }
            values.append(Tensor(shape: shape, scalars: readScalars(data, entry)))
        }
        let names = Set(paths.map(\.name))
        if let extra = entries.first(where: { !names.contains($0.name) }) {
            throw ParameterFileError.unexpectedParameter(name: extra.name, shape: extra.shape)
        }
        return replacingParameters(with: values)
    }

    /// Reads the file at `url` and loads it with ``loadParameters(from:)``.
    /// - Throws: ``ParameterFileError``; the model is unchanged when anything is thrown.
    public mutating func loadParameters(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ParameterFileError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        try loadParameters(from: data)
    }

    private func checkUniqueNames(_ names: [String], _ op: String) {
        var seen = Set<String>()
        if let duplicate = names.first(where: { !seen.insert($0).inserted }) {
            operationFailure(op, "two parameters of \(Self.self) are named '\(duplicate)'; parameter names must be unique "
                + "(check its parameterPaths)", at: nil)
        }
    }
}

/// The elements of `entry`, whose offsets `readEntries` validated, as `Scalar`s.
func readScalars<Scalar: TensorScalar>(_ data: Data, _ entry: Entry) -> [Scalar] {
    let width = Scalar.scalarType.byteCount
    let count = (entry.end - entry.begin) / width
    return data.withUnsafeBytes { raw -> [Scalar] in
        (0..<count).map { i in
            let at = entry.begin + i * width
            if width == 4 {
                let bits = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))
                return Scalar(Float(bitPattern: bits))
            }
            let bits = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))
            return Scalar(Double(bitPattern: bits))
        }
    }
}

/// The names of a checkpoint's optimizer entries start with this (the layers of this module never name a parameter
/// so: their names are field names joined by dots).
let optimizerPrefix = "@optimizer/"

/// Named tensors and string metadata as the bytes of a safetensors file (format above), tensors in the given order.
func safetensorsData<Scalar: TensorScalar>(_ tensors: [(name: String, tensor: Tensor<Scalar>)],
                                           metadata: [(key: String, value: String)]) -> Data {
    let dtype = dtypeCode(Scalar.self)
    let width = Scalar.scalarType.byteCount
    var header = "{\"__metadata__\":{"
        + metadata.map { "\(jsonString($0.key)):\(jsonString($0.value))" }.joined(separator: ",") + "}"
    var offset = 0
    var body = Data()
    for (name, tensor) in tensors {
        let end = offset + tensor.count * width
        header += ",\(jsonString(name)):{\"dtype\":\"\(dtype)\",\"shape\":["
            + tensor.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(end)]}"
        offset = end
        body.reserveCapacity(end)
        for x in tensor.scalars { appendLittleEndian(x, to: &body) }
    }
    header += "}"
    var headerBytes = Data(header.utf8)
    while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }
    var file = Data()
    withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { file.append(contentsOf: $0) }
    file.append(headerBytes)
    file.append(body)
    return file
}

/// Parses and validates the header; returns entries whose offsets (made absolute) lie inside `data`, and the
/// metadata's string values (others are ignored).
func readEntries(_ data: Data) throws -> (entries: [Entry], metadata: [String: String]) {
    func malformed(_ reason: String) -> ParameterFileError { .malformed(reason: reason) }
    let bytes = [UInt8](data)
    if bytes.count < 8 {
        throw malformed("the file has \(bytes.count) bytes, but a parameter file starts with an 8-byte header length")
    }
    let headerLength = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    if headerLength > 100_000_000 {
        throw malformed("the first 8 bytes give a header length of \(headerLength) bytes, which no parameter file "
            + "has; this is not a safetensors file")
    }
    let dataStart = 8 + Int(headerLength)
    if dataStart > bytes.count { throw ParameterFileError.truncated(expectedBytes: dataStart, actualBytes: bytes.count) }
    guard let object = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])),
          let header = object as? [String: Any] else {
        throw malformed("the \(headerLength)-byte header after the length is not a JSON object")
    }
    var entries: [Entry] = []
    for (name, value) in header where name != "__metadata__" {
        guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
              let shape = integers(fields["shape"]), let offsets = integers(fields["data_offsets"]), offsets.count == 2
        else {
            throw malformed("the entry '\(name)' needs \"dtype\" (a string), \"shape\" (a list of integers) and "
                + "\"data_offsets\" (two integers)")
        }
        let width: Int
        switch dtype {
        case "F32": width = 4
        case "F64": width = 8
        default:
            throw malformed("the entry '\(name)' has dtype \(dtype); this library reads F32 (Float) and F64 (Double)")
        }
        guard shape.allSatisfy({ $0 >= 0 }), let count = byteCount(shape, width) else {
            throw malformed("the entry '\(name)' has an invalid shape \(describe(shape))")
        }
        // Offsets come from the file: compare them without arithmetic that could overflow (a hostile file may
        // hold Int.min or Int.max), then against the bytes actually there.
        let (length, overflow) = offsets[1].subtractingReportingOverflow(offsets[0])
        if offsets[0] < 0 || overflow || length != count {
            throw malformed("the entry '\(name)' has data_offsets \(describe(offsets)), but shape "
                + "\(describe(shape)) of \(dtype) needs exactly \(count) bytes")
        }
        // Offsets relative to the data section for now; made absolute once all lie inside the file.
        entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
    }
    if let last = entries.map(\.end).max(), last > bytes.count - dataStart {
        let (expected, overflow) = dataStart.addingReportingOverflow(last)
        throw ParameterFileError.truncated(expectedBytes: overflow ? Int.max : expected, actualBytes: bytes.count)
    }
    for i in entries.indices {
        entries[i].begin += dataStart
        entries[i].end += dataStart
    }
    let sorted = entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
    for (a, b) in zip(sorted, sorted.dropFirst()) where b.begin < a.end {
        throw malformed("the data of '\(a.name)' and '\(b.name)' overlap")
    }
    let metadata = (header["__metadata__"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
    return (sorted, metadata)
}

/// The bytes of a tensor of `shape` with elements of `width` bytes, or nil if that overflows Int.
private func byteCount(_ shape: [Int], _ width: Int) -> Int? {
    var total = width
    for n in shape {
        let (product, overflow) = total.multipliedReportingOverflow(by: n)
        if overflow { return nil }
        total = product
    }
    return total
}

/// A JSON array of integers (as JSONSerialization returns them on any platform), or nil.
private func integers(_ value: Any?) -> [Int]? {
    guard let array = value as? [Any] else { return nil }
    var result: [Int] = []
    for element in array {
        if let n = element as? Int {
            result.append(n)
        } else if let d = element as? Double, d == d.rounded(), Swift.abs(d) < 9e15 {
            result.append(Int(d))
        } else {
            return nil
        }
    }
    return result
}

/// A string as a JSON string literal.
private func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// Appends a Float or Double as little-endian IEEE 754 bytes.
private func appendLittleEndian<Scalar: TensorScalar>(_ x: Scalar, to data: inout Data) {
    if Scalar.scalarType == .float32 {
        withUnsafeBytes(of: Float(x).bitPattern.littleEndian) { data.append(contentsOf: $0) }
    } else {
        withUnsafeBytes(of: Double(x).bitPattern.littleEndian) { data.append(contentsOf: $0) }
    }
}

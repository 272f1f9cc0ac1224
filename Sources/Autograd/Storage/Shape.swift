/// Where in the user's code an operation was called, captured by named methods through `#fileID` and `#line`.
///
/// Operators (`+`, `*`, ...) cannot capture their caller, so their errors carry no location.
public struct CallSite: Sendable, CustomStringConvertible {
    /// The file, as `#fileID` gives it (`Module/File.swift`).
    public let file: StaticString
    /// The line in that file.
    public let line: UInt

    /// A location; named methods pass `#fileID` and `#line` of their caller.
    public init(file: StaticString, line: UInt) {
        self.file = file
        self.line = line
    }

    /// `File.swift:12`.
    public var description: String { "\(file):\(line)" }
}

/// Stops the program with a message that names the operation, what was wrong and, when known, the caller's line.
///
/// Operations on tensors cannot throw (operators cannot), so a shape error inside one is a programming error, as
/// an out-of-bounds array index is in Swift. The message is written to be read: what the operation needs, what it
/// got, and the usual fix.
package func operationFailure(_ operation: String, _ message: String, at location: CallSite?) -> Never {
    let text = "\(operation): \(message)"
    if let location {
        fatalError(text + " [called at \(location)]", file: location.file, line: location.line)
    }
    fatalError(text)
}

/// Formats a shape the way NumPy and PyTorch users read it: `[100, 1, 2]`, `[]` for a 0-d tensor.
@inline(never)
package func describe(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

/// Shape arithmetic shared by every operation. Pure functions of shapes; no tensors, no derivatives.
package enum Shape {
    /// The number of elements of `shape`, stopping with a clear message if a dimension is negative or the product
    /// does not fit in `Int`.
    static func elementCount(_ shape: [Int], _ operation: String, at location: CallSite?) -> Int {
        var count = 1
        for d in shape {
            if d < 0 {
                operationFailure(operation, "shape \(describe(shape)) has a negative dimension \(d); "
                    + "dimensions must be 0 or more", at: location)
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow {
                operationFailure(operation, "shape \(describe(shape)) has more elements than Int can count "
                    + "(the product of its dimensions overflows); check the dimensions", at: location)
            }
            count = product
        }
        return count
    }

    /// The product of `shape` without checks, for shapes already validated.
    @inline(__always)
    static func count(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape { n &*= d }
        return n
    }

    /// Row-major strides (in elements) of a contiguous tensor of this shape.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[d] = s
            s &*= Swift.max(shape[d], 1)
        }
        return strides
    }

    /// The NumPy broadcast of two shapes: align them at the right; each pair of dimensions must be equal or one of
    /// them 1; the result takes the larger.
    static func broadcast(_ a: [Int], _ b: [Int], _ operation: String, at location: CallSite?) -> [Int] {
        if a == b { return a }
        let rank = Swift.max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                result[i] = da
            } else if da == 1 {
                result[i] = db
            } else {
                operationFailure(operation, "shapes \(describe(a)) and \(describe(b)) do not broadcast: aligned at "
                    + "the right, dimension \(i - rank) is \(da) in one and \(db) in the other, and broadcasting "
                    + "needs them equal or one of them 1. Reshape one operand (for example insert an axis of size 1 "
                    + "with unsqueezed(at:)) so the dimensions line up. See the article \"Broadcasting and "
                    + "un-broadcasting\".", at: location)
            }
        }
        return result
    }

    /// Whether `shape` broadcasts to `target` (each aligned dimension equal or 1, and no more dimensions).
    package static func broadcasts(_ shape: [Int], to target: [Int]) -> Bool {
        if shape.count > target.count { return false }
        let offset = target.count - shape.count
        for i in 0..<shape.count where shape[i] != 1 && shape[i] != target[offset + i] { return false }
        return true
    }

    /// Strides that read a contiguous tensor of `shape` as if it had been broadcast to `target`: 0 along
    /// dimensions that are broadcast (size 1 against larger, or missing at the left).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        var result = [Int](repeating: 0, count: target.count)
        for i in 0..<shape.count where !(shape[i] == 1 && target[offset + i] != 1) {
            result[offset + i] = own[i]
        }
        return result
    }

    /// For each element of `target` in row-major order, the flat position in a row-major `shape` that it reads
    /// when `shape` is broadcast to `target` (NumPy rules: right-aligned, axes of size 1 repeated).
    static func broadcastOffsets(_ shape: [Int], to target: [Int]) -> [Int] {
        let strides = broadcastStrides(shape, to: target)
        var offsets = [Int](repeating: 0, count: count(target))
        var index = [Int](repeating: 0, count: target.count)
        var offset = 0
        for t in offsets.indices {
            offsets[t] = offset
            var d = target.count - 1
            while d >= 0 {
                index[d] += 1
                offset += strides[d]
                if index[d] < target[d] { break }
                offset -= strides[d] * target[d]
                index[d] = 0
                d -= 1
            }
        }
        return offsets
    }

    /// Turns a possibly negative axis (counted from the end, as in NumPy) into an index in `0 ..< rank`.
    static func axis(_ axis: Int, rank: Int, _ operation: String, at location: CallSite?) -> Int {
        let a = axis < 0 ? axis + rank : axis
        if a < 0 || a >= rank {
            let valid = rank == 0 ? "a 0-d tensor has no axes" : "valid axes are \(-rank) ..< \(rank)"
            operationFailure(operation, "axis \(axis) is out of range for a tensor of rank \(rank); \(valid) "
                + "(negative axes count from the end)", at: location)
        }
        return a
    }

    /// Normalizes a list of axes, rejecting repeats; the result is sorted ascending.
    static func axes(_ axes: [Int], rank: Int, _ operation: String, at location: CallSite?) -> [Int] {
        let normalized = axes.map { axis($0, rank: rank, operation, at: location) }.sorted()
        for i in normalized.indices.dropFirst() where normalized[i] == normalized[i - 1] {
            operationFailure(operation, "axis \(normalized[i]) appears more than once in \(axes)", at: location)
        }
        return normalized
    }
}

import Foundation

extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// The values as nested brackets, the way NumPy and PyTorch print arrays, after a header with the element type
    /// and shape:
    ///
    /// ```
    /// Tensor<Float> [2, 3]
    /// [[ 1.0000,  2.0000,  3.0000],
    ///  [ 4.0000, -5.0000,  6.0000]]
    /// ```
    /// Whole-number values print as `1.`, `2.`; others with 4 decimals, or in scientific notation when the magnitudes
    /// span a wide range. Tensors of more than 1000 elements show the first and last 3 entries of each axis with `...`
    /// between. A 0-d tensor prints on one line: `Tensor<Float> [] 3.` A last line says when the tensor records
    /// derivatives.
    public var description: String {
        var text = "Tensor<\(Scalar.self)> \(describe(shape))" + (rank == 0 ? " " : "\n")
            + TensorFormatter(base).render()
        if let node = base.node {
            text += node.isLeaf ? "\n(leaf: derivatives are taken with respect to it)"
                                : "\n(recorded: computed by \(node.name))"
        }
        if base.hasTangents { text += "\n(carries a forward-mode tangent)" }
        return text
    }

    /// Same as `description`.
    public var debugDescription: String { description }
}

extension AnyTensor: CustomStringConvertible {
    /// The element type, shape and values, as ``Tensor/description`` prints them.
    public var description: String {
        "AnyTensor<\(scalarType)> \(describe(shape))" + (rank == 0 ? " " : "\n") + TensorFormatter(self).render()
    }
}

/// Formats tensor values with one shared number format, aligned, with NumPy-style summarization.
struct TensorFormatter {
    let tensor: AnyTensor
    let summarize: Bool
    let edge = 3

    init(_ tensor: AnyTensor) {
        Trace.valueRead(tensor.storage, "printing the tensor")
        self.tensor = tensor
        summarize = tensor.count > 1000
    }

    private func value(_ i: Int) -> Double {
        switch tensor.scalarType {
        case .float32: Double(tensor.storage.floats()[i])
        case .float64: tensor.storage.doubles()[i]
        case .bool: Double(tensor.storage.bytes()[i])
        case .int32: Double(tensor.storage.int32s()[i])
        }
    }

    /// Flat indices of the elements that will be shown.
    private func shownIndices() -> [Int] {
        if !summarize { return Array(0..<tensor.count) }
        var result: [Int] = []
        func walk(_ axis: Int, _ offset: Int) {
            if axis == tensor.rank { result.append(offset); return }
            let stride = Shape.count(Array(tensor.shape[(axis + 1)...]))
            for i in visible(tensor.shape[axis]) { walk(axis + 1, offset + i * stride) }
        }
        walk(0, 0)
        return result
    }

    private func visible(_ n: Int) -> [Int] {
        summarize && n > 2 * edge ? Array(0..<edge) + Array((n - edge)..<n) : Array(0..<n)
    }

    func render() -> String {
        if tensor.scalarType == .bool {
            return layout { i in value(i) != 0 ? "true" : "false" }
        }
        if tensor.scalarType == .int32 {
            let width = shownIndices().map { String(tensor.storage.int32s()[$0]).count }.max() ?? 1
            return layout { i in
                let s = String(tensor.storage.int32s()[i])
                return String(repeating: " ", count: width - s.count) + s
            }
        }
        let shown = shownIndices().map(value)
        let finite = shown.filter { $0.isFinite }
        let integral = finite.allSatisfy { $0 == $0.rounded() && abs($0) < 1e16 }
        let maxAbs = finite.map(abs).max() ?? 0
        let minAbs = finite.filter { $0 != 0 }.map(abs).min() ?? 0
        let scientific = !integral && (maxAbs >= 1e8 || (minAbs > 0 && minAbs < 1e-4) || maxAbs / max(minAbs, 1e-300) > 1e7)
        func format(_ v: Double) -> String {
            if v.isNaN { return "nan" }
            if v.isInfinite { return v > 0 ? "inf" : "-inf" }
            if integral { return String(format: "%.0f.", v) }
            return String(format: scientific ? "%.4e" : "%.4f", v)
        }
        let width = shown.map { format($0).count }.max() ?? 1
        return layout { i in
            let s = format(value(i))
            return String(repeating: " ", count: width - s.count) + s
        }
    }

    private func layout(_ cell: (Int) -> String) -> String {
        if tensor.rank == 0 { return cell(0) }
        func block(_ axis: Int, _ offset: Int, _ indent: Int) -> String {
            let n = tensor.shape[axis]
            let stride = Shape.count(Array(tensor.shape[(axis + 1)...]))
            var parts: [String] = []
            let idx = visible(n)
            for (k, i) in idx.enumerated() {
                if k > 0 && idx[k - 1] != i - 1 { parts.append("...") }
                parts.append(axis == tensor.rank - 1 ? cell(offset + i) : block(axis + 1, offset + i * stride, indent + 1))
            }
            if axis == tensor.rank - 1 { return "[" + parts.joined(separator: ", ") + "]" }
            let separator = "," + String(repeating: "\n", count: tensor.rank - axis - 1) + String(repeating: " ", count: indent + 1)
            return "[" + parts.joined(separator: separator) + "]"
        }
        return block(0, 0, 0)
    }
}

/// The matrix product, with NumPy's `matmul` rules:
/// - `[m, k] · [k, n] → [m, n]`;
/// - batched: leading dimensions are batch dimensions and broadcast, `[b, m, k] · [k, n] → [b, m, n]`;
/// - a 1-d first operand `[k]` is a row vector (`[k] · [k, n] → [n]`), a 1-d second operand a column vector
///   (`[m, k] · [k] → [m]`), and two vectors give their dot product (a 0-d tensor).
///
/// `transposeA` / `transposeB` use an operand's last two dimensions transposed (`matmul(x, w, transposeB: true)`
/// is x·wᵀ, PyTorch's `linear`), read through strides: no copy, unlike `matmul(x, w.transposed())`. They need the
/// operand to have rank 2 or more.
///
/// Primitive `matmul` (for ranks ≥ 2; vectors add `reshape`s around it). With y = A·B:
/// ẏ = Ȧ·B + A·Ḃ, Ā = ȳ·Bᵀ, B̄ = Aᵀ·ȳ. Transposes in the rules are read through strides, never copied.
/// Cost: 2·m·n·k floating-point operations per matrix.
/// Stops, naming both shapes, if the inner dimensions differ.
public func matmul<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, transposeA: Bool = false,
                                         transposeB: Bool = false, file: StaticString = #fileID,
                                         line: UInt = #line) -> Tensor<Scalar> {
    let loc = CallSite(file: file, line: line)
    if a.rank == 0 || b.rank == 0 {
        operationFailure("matmul", "shapes \(describe(a.shape)) and \(describe(b.shape)): matmul needs tensors of rank "
            + "1 or more; to scale by a 0-d tensor use *", at: loc)
    }
    if (transposeA && a.rank < 2) || (transposeB && b.rank < 2) {
        operationFailure("matmul", "shapes \(describe(a.shape)) and \(describe(b.shape)): transposeA / transposeB "
            + "need an operand of rank 2 or more (a vector has no second axis to swap)", at: loc)
    }
    let a2 = a.rank == 1 ? a.base.reshaped([1, a.shape[0]]) : a.base
    let b2 = b.rank == 1 ? b.base.reshaped([b.shape[0], 1]) : b.base
    let innerA = transposeA ? a2.shape[a2.rank - 2] : a2.shape[a2.rank - 1]
    let innerB = transposeB ? b2.shape[b2.rank - 1] : b2.shape[b2.rank - 2]
    if innerA != innerB {
        operationFailure("matmul", "shapes \(describe(a.shape))\(transposeA ? "ᵀ" : "") and \(describe(b.shape))"
            + "\(transposeB ? "ᵀ" : "") cannot be multiplied: the first operand has \(innerA) columns but the second "
            + "has \(innerB) rows (matmul(a, b) "
            + "needs a.shape[-1] == b.shape[\(b.rank == 1 ? 0 : -2)]). Check the order of the operands, or "
            + "transpose one with transposed().", at: loc)
    }
    var y = matmul(a2, b2, transposeA: transposeA, transposeB: transposeB, at: loc)
    if a.rank == 1 || b.rank == 1 {
        var s = y.shape
        if b.rank == 1 { s.removeLast() }
        if a.rank == 1 { s.remove(at: s.count - (b.rank == 1 ? 1 : 2)) }
        y = y.reshaped(s)
    }
    return Tensor(unchecked: y)
}

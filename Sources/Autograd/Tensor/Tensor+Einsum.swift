// Einstein summation for one or two operands, and the Kronecker product. Both are composites of differentiable
// shape operations, `*`, `sum` and `matmul`, so their derivatives (of every order, in every mode) come from those
// primitives' rules and need no rule of their own.

/// Einstein summation over one or two operands (NumPy and PyTorch `einsum`): `spec` names each operand's axes
/// with one letter each, and the output's after `->`. Letters shared by both operands and absent from the output
/// are summed over (contracted); letters in the output are kept, in its order; a letter repeated within one
/// operand takes its diagonal. Without `->`, the output holds the letters that appear exactly once, in
/// alphabetical order (NumPy's implicit mode).
///
/// ```swift
/// let p = Tensor<Float>([[1, 2], [3, 4]]), q = Tensor<Float>([[5, 6], [7, 8]])
/// let product = einsum("ij,jk->ik", p, q)         // matmul(p, q)
/// let outerProduct = einsum("i,j->ij", p[0], q[0]) // [2, 2]
/// let trace = einsum("ii", p)                     // 5
/// ```
///
/// Common forms: `"ij,jk->ik"` (matrix product), `"bij,bjk->bik"` (batched), `"bhqd,bhkd->bhqk"` (attention
/// scores), `"i,j->ij"` (outer product), `"ij,ij->"` (Frobenius inner product), `"ij->ji"` (transpose), `"ii->"`
/// (trace), `"ii->i"` (diagonal), `"ij->j"` (sum over rows).
///
/// Composite: each operand's repeated letters become a diagonal (a strided slice), letters only one operand has
/// and the output lacks are summed first, then the two operands are permuted and reshaped to
/// [batch, m, k] · [batch, k, n] for one batched `matmul` (or multiplied with broadcasting when nothing is
/// contracted), and the result is reshaped and permuted to the output's order. Derivatives follow from those
/// primitives. Cost: that of the one matrix product, plus copies of the operands.
///
/// Stops, naming the letter, for malformed specs, a letter whose sizes disagree, a term whose length differs from
/// its operand's rank, or an output letter no operand has. Not supported: `...` (broadcast dimensions), more than
/// two operands (nest two-operand calls), and size-1 broadcasting of a letter.
public func einsum<S: TensorScalar>(_ spec: String, _ operands: Tensor<S>..., file: StaticString = #fileID,
                                    line: UInt = #line) -> Tensor<S> {
    let loc = CallSite(file: file, line: line)
    let (terms, output) = EinsumSpec.parse(spec, operands.map(\.shape), at: loc)
    var parts = zip(operands, terms).map { (tensor: $0, letters: $1) }
    // Diagonals of repeated letters, then sums over letters only this operand has and the output lacks.
    for i in parts.indices {
        parts[i] = EinsumSpec.diagonals(parts[i].tensor, parts[i].letters, file: file, line: line)
        let others = parts.indices.filter { $0 != i }.flatMap { terms[$0] }
        let summed = parts[i].letters.indices.filter {
            !output.contains(parts[i].letters[$0]) && !others.contains(parts[i].letters[$0])
        }
        if !summed.isEmpty {
            parts[i].tensor = parts[i].tensor.sum(alongAxes: summed, file: file, line: line)
            parts[i].letters = parts[i].letters.indices.filter { !summed.contains($0) }.map { parts[i].letters[$0] }
        }
    }
    if parts.count == 1 {
        return parts[0].tensor.permuted(output.map { parts[0].letters.firstIndex(of: $0)! }, file: file, line: line)
    }
    let (a, la) = parts[0], (b, lb) = parts[1]
    let size = { (c: Character) -> Int in la.firstIndex(of: c).map { a.shape[$0] } ?? b.shape[lb.firstIndex(of: c)!] }
    let batch = output.filter { la.contains($0) && lb.contains($0) }
    let keepA = output.filter { la.contains($0) && !lb.contains($0) }
    let keepB = output.filter { lb.contains($0) && !la.contains($0) }
    let contracted = la.filter { lb.contains($0) && !output.contains($0) }
    let order = batch + keepA + keepB
    func arranged(_ t: Tensor<S>, _ letters: [Character], _ wanted: [Character]) -> Tensor<S> {
        t.permuted(wanted.map { letters.firstIndex(of: $0)! }, file: file, line: line)
    }
    let result: Tensor<S>
    if contracted.isEmpty {
        // Nothing to sum: a broadcast product, each operand given size-1 axes for the other's letters.
        let shapeA = order.map { la.contains($0) ? size($0) : 1 }, shapeB = order.map { lb.contains($0) ? size($0) : 1 }
        result = arranged(a, la, batch + keepA).reshaped(to: shapeA, file: file, line: line)
            * arranged(b, lb, batch + keepB).reshaped(to: shapeB, file: file, line: line)
    } else {
        let nb = batch.reduce(1) { $0 * size($1) }, m = keepA.reduce(1) { $0 * size($1) }
        let n = keepB.reduce(1) { $0 * size($1) }, k = contracted.reduce(1) { $0 * size($1) }
        let left = arranged(a, la, batch + keepA + contracted).reshaped(to: [nb, m, k], file: file, line: line)
        let right = arranged(b, lb, batch + contracted + keepB).reshaped(to: [nb, k, n], file: file, line: line)
        result = matmul(left, right, file: file, line: line).reshaped(to: order.map(size), file: file, line: line)
    }
    return arranged(result, order, output)
}

/// The Kronecker product: for matrices a [m, n] and b [p, q], the [m·p, n·q] block matrix whose block (i, j) is
/// aᵢⱼ·b, so y[i·p + k, j·q + l] = a[i, j]·b[k, l] (NumPy `kron`). Tensors of any rank work the same way on each
/// axis; the one of lower rank gets leading axes of size 1.
///
/// Composite: a reshaped to [m, 1, n, 1] times b reshaped to [1, p, 1, q] (a broadcast product), reshaped to
/// [m·p, n·q]; derivatives follow: ā = Σ over each block of ȳ ⊙ b, b̄ = Σ over blocks of aᵢⱼ·ȳ's block.
/// Cost: one multiplication per output element.
public func kron<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, file: StaticString = #fileID,
                                  line: UInt = #line) -> Tensor<S> {
    let r = Swift.max(a.rank, b.rank)
    let sa = [Int](repeating: 1, count: r - a.rank) + a.shape, sb = [Int](repeating: 1, count: r - b.rank) + b.shape
    let spreadA = sa.flatMap { [$0, 1] }, spreadB = sb.flatMap { [1, $0] }
    let blocks = a.reshaped(to: spreadA, file: file, line: line) * b.reshaped(to: spreadB, file: file, line: line)
    return blocks.reshaped(to: zip(sa, sb).map { $0 * $1 }, file: file, line: line)
}

/// Parsing and checking of einsum specifications.
enum EinsumSpec {
    /// Each operand's letters and the output's, checked against the operands' shapes.
    static func parse(_ spec: String, _ shapes: [[Int]], at loc: CallSite) -> (terms: [[Character]], output: [Character]) {
        let name = "einsum(\"\(spec)\")"
        let text = spec.filter { !$0.isWhitespace }
        if text.contains(".") {
            operationFailure(name, "\"...\" (broadcast dimensions) is not supported; name every axis with a letter",
                             at: loc)
        }
        let sides = text.components(separatedBy: "->")
        if sides.count > 2 { operationFailure(name, "the spec has more than one \"->\"", at: loc) }
        let terms = sides[0].split(separator: ",", omittingEmptySubsequences: false).map { Array($0) }
        if shapes.isEmpty || shapes.count > 2 {
            operationFailure(name, "got \(shapes.count) operands; einsum here takes one or two (nest calls for more)",
                             at: loc)
        }
        if terms.count != shapes.count {
            operationFailure(name, "the spec names \(terms.count) operand(s) but \(shapes.count) were given", at: loc)
        }
        var sizes: [Character: (size: Int, operand: Int, axis: Int)] = [:]
        for (i, (term, shape)) in zip(terms, shapes).enumerated() {
            if let bad = term.first(where: { !($0.isASCII && $0.isLetter) }) {
                operationFailure(name, "'\(bad)' in term \"\(String(term))\" is not a letter; each axis is named by "
                    + "one letter a–z or A–Z, terms are separated by ',' and the output follows \"->\"", at: loc)
            }
            if term.count != shape.count {
                operationFailure(name, "term \"\(String(term))\" names \(term.count) axes but operand \(i) has shape "
                    + "\(describe(shape)) (rank \(shape.count))", at: loc)
            }
            for (axis, c) in term.enumerated() {
                if let seen = sizes[c], seen.size != shape[axis] {
                    operationFailure(name, "letter '\(c)' has size \(seen.size) in operand \(seen.operand) (axis "
                        + "\(seen.axis)) but \(shape[axis]) in operand \(i) (axis \(axis)); every axis a letter names "
                        + "must have the same size", at: loc)
                }
                sizes[c] = sizes[c] ?? (shape[axis], i, axis)
            }
        }
        let all = terms.flatMap { $0 }
        let output: [Character]
        if sides.count == 2 {
            output = Array(sides[1])
            for c in output where !all.contains(c) {
                operationFailure(name, "output letter '\(c)' appears in no operand's term", at: loc)
            }
            if let bad = output.first(where: { c in output.filter { $0 == c }.count > 1 }) {
                operationFailure(name, "output letter '\(bad)' appears more than once", at: loc)
            }
        } else {
            output = Set(all).filter { c in all.filter { $0 == c }.count == 1 }.sorted()
        }
        return (terms, output)
    }

    /// The tensor with the two axes of each repeated letter replaced by their diagonal (one axis, moved to the
    /// end), and its letters.
    static func diagonals<S: TensorScalar>(_ t: Tensor<S>, _ letters: [Character], file: StaticString,
                                           line: UInt) -> (tensor: Tensor<S>, letters: [Character]) {
        var t = t, letters = letters
        while let p = letters.indices.first(where: { i in letters[(i + 1)...].contains(letters[i]) }) {
            let q = letters[(p + 1)...].firstIndex(of: letters[p])!
            let others = letters.indices.filter { $0 != p && $0 != q }
            let n = t.shape[p]
            let moved = t.permuted(others + [p, q], file: file, line: line)
                .reshaped(to: others.map { t.shape[$0] } + [n * n], file: file, line: line)
            var axes = moved.shape.map(SliceAxis.all)
            axes[others.count] = SliceAxis(start: 0, count: n, step: n + 1)
            t = Tensor(unchecked: moved.base.sliced(axes))
            letters = others.map { letters[$0] } + [letters[p]]
        }
        return (t, letters)
    }
}

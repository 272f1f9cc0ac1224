// Sparsity rules: for each primitive, which input elements each output element may depend on.
//
// An *index set* is the sorted list of input elements (flat positions of the function's input x) that a tensor
// element may depend on; a tensor's index sets are one per element. Each rule maps the index sets of a
// primitive's operands to those of its output. The rules are *global*: they hold at every point, whatever the
// values (a `relu`, a `where` or a `maximum` keeps the union of what both sides may depend on), so a pattern found
// at one point serves Newton's method at every later one. The table, one family per line:
//
//     elementwise, one input (exp, log, …, relu, affine, negate, convert)   yᵢ ← xᵢ
//     broadcasting (add, subtract, multiply, divide, pow, maximum,
//         minimum, where, binaryCrossEntropy, derivative products)         yᵢ ← ∪ₖ operand k at i, broadcast
//     reductions (sum, max, min over axes)                                 yᵢ ← ∪ over the reduced axes
//     movement, one source per output (reshape, permute, expand, slice,
//         embed, gather, unfold)                                           yᵢ ← x at the source of i
//     movement, one target per input (scatter-add, concatenate, fold)      y at the target of j ← ∪ xⱼ
//     matmul (either operand transposed, batch dimensions broadcast)       yᵢⱼ ← ∪ₖ Aᵢₖ ∪ ∪ₖ Bₖⱼ
//     max-pool (and its transpose)                                         yᵢ ← ∪ over the window of i
//     anything else (custom operations)                                    every yᵢ ← ∪ of everything
//
// The movement rules are the operations themselves applied to the index structure: the primitive's own forward
// map (`apply`) carries a tensor of source positions to the output, or its transpose carries a tensor of target
// positions back to each input. So a movement primitive states its sparsity once, as the linear map it is.

/// The index sets of one tensor: for each element (row-major), the sorted input positions it may depend on.
typealias IndexSets = [[Int]]

/// The union of sorted, duplicate-free lists, sorted and duplicate-free.
func indexUnion(_ a: [Int], _ b: [Int]) -> [Int] {
    if a.isEmpty { return b }
    if b.isEmpty || a == b { return a }
    var r: [Int] = []
    r.reserveCapacity(a.count + b.count)
    var i = 0, j = 0
    while i < a.count && j < b.count {
        if a[i] < b[j] { r.append(a[i]); i += 1 } else if b[j] < a[i] { r.append(b[j]); j += 1 } else {
            r.append(a[i]); i += 1; j += 1
        }
    }
    r.append(contentsOf: a[i...])
    r.append(contentsOf: b[j...])
    return r
}

enum SparsityRules {
    /// The index sets of a primitive's output from those of its operands (`nil` operands are constants: they depend
    /// on nothing). The one place that knows each primitive's sparsity; see the table at the top of this file.
    static func propagate(_ p: any Primitive, operands: [IndexSets?], shapes: [[Int]], output: [Int]) -> IndexSets {
        let count = Shape.count(output)
        func sets(_ i: Int) -> IndexSets { operands[i] ?? IndexSets(repeating: [], count: Shape.count(shapes[i])) }
        switch p {
        case is any ElementwisePrimitive, is Affine, is Negate, is Convert, is Identity:
            return sets(0)
        case is Add, is Subtract, is Multiply, is Divide, is Pow, is Extremum, is BinaryCrossEntropy,
             is DerivativeProduct:
            return broadcastUnion(Array(operands.indices), operands: operands, shapes: shapes, output: output)
        case is Select:  // The condition (operand 0) has no derivative.
            return broadcastUnion([1, 2], operands: operands, shapes: shapes, output: output)
        case let s as Sum:
            return targetUnion(s, operands: operands, shapes: shapes, output: output)
        case let r as ReduceExtremum:
            return targetUnion(Sum(axes: r.axes, keep: r.keep), operands: operands, shapes: shapes, output: output)
        case is ScatterAdd, is Concatenate, is Fold:
            return targetUnion(p as! any LinearPrimitive, operands: operands, shapes: shapes, output: output)
        case is Reshape, is Permute, is Expand, is Slice, is Embed, is Gather, is Unfold:
            let source = positions(shapes[0]) { (p as! any LinearPrimitive).apply(context(shapes, output), [$0])! }
            let x = sets(0)
            return source.map { $0 < 0 ? [] : x[$0] }
        case let m as MatMul:
            return matmul(m, sets(0), sets(1), shapes: shapes, output: output)
        case let m as MaxPoolGather:  // any element of the window may be its maximum at another point
            return maxPool(m, sets(0), inputShape: shapes[0], scatter: false)
        case let m as MaxPoolScatter:
            return maxPool(m.gather, sets(0), inputShape: output, scatter: true)
        default:
            // Unknown to this table (a custom operation): every output element may depend on every operand element.
            var all: [Int] = []
            for i in operands.indices { for s in sets(i) { all = indexUnion(all, s) } }
            return IndexSets(repeating: all, count: count)
        }
    }

    /// A rule context for running a primitive's linear maps on index tensors (float64, no batch).
    private static func context(_ shapes: [[Int]], _ output: [Int]) -> RuleContext {
        RuleContext(inputs: shapes.map { Kernel.filled(.float64, $0, 0) }, node: nil, outputValue: nil,
                    outputShape: output, batchShape: [], needs: ~0, isDifferentiable: false)
    }

    /// Runs `map` on the tensor holding 1, 2, 3, … (one more than each flat position of `shape`) and reads each
    /// result element back as a position (−1 where the map put zero: no source).
    private static func positions(_ shape: [Int], _ map: (AnyTensor) -> AnyTensor) -> [Int] {
        let n = Shape.count(shape)
        let numbered = Tensor<Double>(shape: shape, scalars: (0..<n).map { Double($0 + 1) }).base
        let result = withoutRecording { map(numbered) }
        return Tensor<Double>(unchecked: result.value).scalars.map { Int($0) - 1 }
    }

    /// For a linear map whose transpose sends each input element to at most one output element: each output's
    /// set is the union of the sets of the input elements sent to it.
    private static func targetUnion(_ p: any LinearPrimitive, operands: [IndexSets?], shapes: [[Int]],
                                    output: [Int]) -> IndexSets {
        var result = IndexSets(repeating: [], count: Shape.count(output))
        var targets: [AnyTensor?] = []
        _ = positions(output) { numbered in
            targets = p.transpose(context(shapes, output), numbered)
            return numbered
        }
        for (i, operand) in operands.enumerated() {
            guard let operand, i < targets.count, let t = targets[i] else { continue }
            let target = Tensor<Double>(unchecked: t.value).scalars
            for (j, s) in operand.enumerated() where target[j] > 0 && !s.isEmpty {
                result[Int(target[j]) - 1] = indexUnion(result[Int(target[j]) - 1], s)
            }
        }
        return result
    }


    /// Elementwise with broadcasting: each output element's set is the union of the broadcast operands' sets.
    private static func broadcastUnion(_ which: [Int], operands: [IndexSets?], shapes: [[Int]],
                                       output: [Int]) -> IndexSets {
        var result = IndexSets(repeating: [], count: Shape.count(output))
        for i in which {
            guard let operand = operands[i] else { continue }
            for (e, source) in Shape.broadcastOffsets(shapes[i], to: output).enumerated() {
                result[e] = indexUnion(result[e], operand[source])
            }
        }
        return result
    }

    /// Max pooling's gather (`scatter` false: each window's set is the union of its elements') or its transpose
    /// (true: each element's set is the union of the windows' that hold it), over every pooled plane of
    /// `inputShape` (leading axes included).
    private static func maxPool(_ m: MaxPoolGather, _ operand: IndexSets, inputShape: [Int],
                                scatter: Bool) -> IndexSets {
        let w = m.window, planes = Shape.count(inputShape) / Swift.max(w.height * w.width, 1)
        let source = positions([planes, 1, w.height, w.width]) {
            Unfold(window: w).apply(context([[planes, 1, w.height, w.width]], []), [$0])!
        }
        var result = IndexSets(repeating: [], count: scatter ? Shape.count(inputShape) : planes * w.positions)
        for p in 0..<planes {
            for t in 0..<w.taps {
                for l in 0..<w.positions {
                    let s = source[(p * w.taps + t) * w.positions + l], o = p * w.positions + l
                    guard s >= 0 else { continue }
                    if scatter { result[s] = indexUnion(result[s], operand[o]) }
                    else { result[o] = indexUnion(result[o], operand[s]) }
                }
            }
        }
        return result
    }

    /// yᵢⱼ ← ∪ₖ Aᵢₖ ∪ ∪ₖ Bₖⱼ, for every (broadcast) batch position.
    private static func matmul(_ m: MatMul, _ a: IndexSets, _ b: IndexSets, shapes: [[Int]],
                               output: [Int]) -> IndexSets {
        let rows = output[output.count - 2], columns = output[output.count - 1]
        let sa = shapes[0], sb = shapes[1]
        let inner = m.transposeA ? sa[sa.count - 2] : sa[sa.count - 1]
        let batch = Array(output.dropLast(2))
        let batchA = Shape.broadcastOffsets(Array(sa.dropLast(2)), to: batch)
        let batchB = Shape.broadcastOffsets(Array(sb.dropLast(2)), to: batch)
        var result = IndexSets()
        result.reserveCapacity(Shape.count(output))
        for (ba, bb) in zip(batchA, batchB) {
            let baseA = ba * rows * inner, baseB = bb * inner * columns
            let rowSets = (0..<rows).map { i in
                (0..<inner).reduce(into: [Int]()) { u, k in
                    u = indexUnion(u, a[baseA + (m.transposeA ? k * rows + i : i * inner + k)])
                }
            }
            let columnSets = (0..<columns).map { j in
                (0..<inner).reduce(into: [Int]()) { u, k in
                    u = indexUnion(u, b[baseB + (m.transposeB ? j * inner + k : k * columns + j)])
                }
            }
            for i in 0..<rows { for j in 0..<columns { result.append(indexUnion(rowSets[i], columnSets[j])) } }
        }
        return result
    }

    /// The index sets of `f`'s output at `x` (x's element j has the set {j}), found by recording f once and
    /// applying `propagate` to each recorded operation in order.
    static func detect(at x: AnyTensor, _ f: (AnyTensor) throws -> AnyTensor) throws -> (output: AnyTensor,
                                                                                         sets: IndexSets) {
        let level = Levels.next()
        let (input, y) = try ADScope.current.with(recording: true).run { () throws -> (AnyTensor, AnyTensor) in
            let input = x.value.markedForReverse(level: level)
            return (input, try f(input))
        }
        guard let root = y.node else { return (y.value, IndexSets(repeating: [], count: y.count)) }
        let inputNode = input.node!
        var found: [ObjectIdentifier: IndexSets] = [:]
        GraphWalk.postOrder(from: [root]) { node in
            let sets: IndexSets
            if node === inputNode {
                sets = (0..<x.count).map { [$0] }
            } else if node.isLeaf {
                sets = IndexSets(repeating: [], count: Shape.count(node.outputShape))
            } else {
                let count = node.inputs.count
                let operands = (0..<count).map { i in node.inputs[i].node.flatMap { found[ObjectIdentifier($0)] } }
                sets = propagate(node.primitive, operands: operands, shapes: (0..<count).map { node.inputs.shape($0) },
                                 output: node.outputShape)
            }
            found[ObjectIdentifier(node)] = sets
        }
        return (y.value, found[ObjectIdentifier(root)]!)
    }
}

// Sparsity: which input elements each output element of a primitive may depend on, propagated as index sets.
//
// An *index set* is the sorted list of input elements (flat positions of the function's input x) that a tensor
// element may depend on; a tensor's index sets are one per element. Each primitive states its family once, beside
// its VJP and JVP rules, as `var sparsity: SparsityRule` (most inherit it: every `ElementwisePrimitive` is
// `.elementwise`, and a primitive that states nothing gets the conservative `.dense`). This file holds only the
// index-set machinery that turns a family into output sets. The families:
//
//     .elementwise          yᵢ ← xᵢ                                  (exp, log, …, relu, affine, negate, convert)
//     .broadcast(operands)  yᵢ ← ∪ₖ operand k at i, broadcast        (add, multiply, maximum, where, …)
//     .sources              yᵢ ← x at the source of i                (reshape, permute, expand, slice, gather, …)
//     .targets              y at the target of j ← ∪ xⱼ              (sum, scatter-add, concatenate)
//     .reduction(axes:keep:) yᵢ ← ∪ over the reduced axes             (max, min over axes)
//     .matmul               yᵢⱼ ← ∪ₖ Aᵢₖ ∪ ∪ₖ Bₖⱼ                     (either operand transposed, batch broadcast)
//     .perMatrix            y of matrix b ← ∪ x of matrix b          (eigh, svd, qr: packed factors of each matrix)
//     .wholeLine(axis)      yᵢ ← ∪ over operand 0's line through i   (a sort order's gather; masked softmax rows)
//     .scan(axis, reverse)  zᵢ ← ∪_{j ≤ i} (cⱼ ∪ aⱼ)                   (linear recurrences along an axis)
//     .window(pool)         yᵢ ← ∪ over the pooling window of i      (max pooling and its transpose)
//     .dense                every yᵢ ← ∪ of everything                (custom operations, anything unstated)
//
// The movement families are the operations themselves applied to the index structure: the primitive's own forward
// map (`apply`) carries a tensor of source positions to the output (`.sources`), or its transpose carries a tensor
// of target positions back to each input (`.targets`). So a linear primitive states its sparsity as the linear map
// it is.
//
// These rules are *global*: they hold at every point, whatever the values (a `relu`, a `where` or a `maximum` keeps
// the union of what both sides may depend on), so a pattern found at one point serves Newton's method at every
// later one. The *local* pattern (`SparsityKind.local`) refines the elementwise, broadcast and reduction families
// with the primitive's own derivative rules at the point: an operand's contribution to an output element is dropped
// where the partial derivative is zero there (a relu below its kink, the unselected side of a `where`, the smaller
// side of a `maximum`, the elements of a max that are not the maximum).

/// How a primitive's output elements depend on its operands' elements: the family of its sparsity rule, stated
/// once per primitive beside its derivative rules (see the families at the top of `Sparsity.swift`).
enum SparsityRule: Sendable {
    /// One operand, same shape: output element i depends on input element i.
    case elementwise
    /// Elementwise with broadcasting: output element i depends on each listed operand (all if nil) at its
    /// broadcast position. Operands not listed carry no derivative (a condition).
    case broadcast(operands: [Int]?)
    /// A linear map that takes each output element from at most one input element (movement, gather): the map
    /// itself, applied to a tensor of positions, finds the source.
    case sources
    /// A linear map that sends each input element to at most one output element (sums, scatter-add,
    /// concatenation): its transpose, applied to a tensor of positions, finds the target.
    case targets
    /// A reduction over `axes` whose value comes from some of the reduced elements (max, min): globally the union
    /// over the reduced axes, as for a sum.
    case reduction(axes: [Int], keep: Bool)
    /// A matrix product (either operand transposed, batch dimensions broadcast).
    case matmul(transposeA: Bool, transposeB: Bool)
    /// A factorization of each matrix of a batch (input [..., m, n], output [..., p, q]): every output element of a
    /// matrix may depend on every element of the same input matrix, and on no other.
    case perMatrix
    /// Each output element depends on the whole line through it of operand 0 along `axis` (negative counts from
    /// the end): positions that move with the values (a sort), or a normalization over the line (masked softmax).
    case wholeLine(axis: Int)
    /// A linear recurrence zᵢ = cᵢ·zᵢ₋₁ + aᵢ along the axis `axisFromEnd` places from the end (operands c and a,
    /// broadcast to the output): each element depends on those before it (after it if `reverse`).
    case scan(axisFromEnd: Int, reverse: Bool)
    /// Max pooling (`scatter` false: each window's output depends on the whole window) or its transpose
    /// (`scatter` true): any element of a window may be its maximum at another point.
    case window(MaxPoolGather, scatter: Bool)
    /// Every output element may depend on every element of every operand: the conservative rule.
    case dense
}

/// Which sparsity pattern ``jacobianSparsity(of:at:kind:)`` finds.
public enum SparsityKind: String, Sendable, CaseIterable {
    /// The pattern at every point where f runs the same operations: the union over all values (a `relu`, a `where`
    /// or a `maximum` keeps both sides). Safe to reuse at other points (``SparseJacobianPlan``).
    case global
    /// The pattern at this point only: an operand's contribution is dropped where the primitive's derivative
    /// rule gives a zero partial derivative at this point (below a `relu`'s kink, the unselected side of a
    /// `where`, the smaller side of `maximum`, the non-maximal elements of `max`). Smaller, and still a superset
    /// of the Jacobian's non-zeros at this point, but not at others: never reuse it at another point.
    case local
}

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
    /// on nothing), by the primitive's family (`p.sparsity`). With `values` (the operands' values, then the
    /// output's, for `SparsityKind.local`), the elementwise, broadcast and reduction families drop contributions
    /// whose partial derivative is zero at this point.
    static func propagate(_ p: any Primitive, operands: [IndexSets?], shapes: [[Int]], output: [Int],
                          values: [AnyTensor]? = nil) -> IndexSets {
        let count = Shape.count(output)
        func sets(_ i: Int) -> IndexSets { operands[i] ?? IndexSets(repeating: [], count: Shape.count(shapes[i])) }
        switch p.sparsity {
        case .elementwise:
            guard let values else { return sets(0) }
            let active = Local.partialIsNonzero(p, operand: 0, values: values)
            return sets(0).enumerated().map { active[$0.offset] ? $0.element : [] }
        case .broadcast(let which):
            return broadcastUnion(which ?? Array(operands.indices), operands: operands, shapes: shapes, output: output,
                                  active: values.map { v in { Local.partialIsNonzero(p, operand: $0, values: v) } })
        case .targets:
            return targetUnion(linear(p), operands: operands, shapes: shapes, output: output)
        case .reduction(let axes, let keep):
            var operands = operands
            if let values, let x = operands[0] {
                let active = Local.cotangentIsNonzero(p, values: values)
                operands[0] = x.enumerated().map { active[$0.offset] ? $0.element : [] }
            }
            return targetUnion(Sum(axes: axes, keep: keep), operands: operands, shapes: shapes, output: output)
        case .sources:
            let source = positions(shapes[0]) { linear(p).apply(context(shapes, output), [$0])! }
            let x = sets(0)
            return source.map { $0 < 0 ? [] : x[$0] }
        case .matmul(let transposeA, let transposeB):
            return matmul(transposeA, transposeB, sets(0), sets(1), shapes: shapes, output: output)
        case .perMatrix:
            return perMatrix(sets(0), input: shapes[0], output: output)
        case .wholeLine(let axis):
            return wholeLine(axis < 0 ? axis + shapes[0].count : axis, sets(0), shapes[0], output)
        case .scan(let axisFromEnd, let reverse):
            return scanUnion(broadcastUnion(Array(operands.indices), operands: operands, shapes: shapes, output: output),
                             output, axis: output.count - axisFromEnd, reverse: reverse)
        case .window(let pool, let scatter):
            return maxPool(pool, sets(0), inputShape: scatter ? output : shapes[0], scatter: scatter)
        case .dense:
            var all: [Int] = []
            for i in operands.indices { for s in sets(i) { all = indexUnion(all, s) } }
            return IndexSets(repeating: all, count: count)
        }
    }

    /// The primitive as the linear map its family says it is.
    private static func linear(_ p: any Primitive) -> any LinearPrimitive {
        guard let linear = p as? any LinearPrimitive else {
            preconditionFailure("sparsity: \(p.name) states a movement family (.sources or .targets) but is not a "
                                + "LinearPrimitive; state .dense or make it linear")
        }
        return linear
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
    /// With `active` (local patterns), operand i's contribution to output element e is kept only where
    /// `active(i)[e]`.
    private static func broadcastUnion(_ which: [Int], operands: [IndexSets?], shapes: [[Int]], output: [Int],
                                       active: ((Int) -> [Bool])? = nil) -> IndexSets {
        var result = IndexSets(repeating: [], count: Shape.count(output))
        for i in which {
            guard let operand = operands[i] else { continue }
            let keep = active?(i)
            for (e, source) in Shape.broadcastOffsets(shapes[i], to: output).enumerated() where keep?[e] ?? true {
                result[e] = indexUnion(result[e], operand[source])
            }
        }
        return result
    }

    /// For positions that depend on the values (a sort): each output element's set is the union over its whole
    /// line along `axis` of the operand.
    private static func wholeLine(_ axis: Int, _ x: IndexSets, _ shape: [Int], _ output: [Int]) -> IndexSets {
        let line = keptShape(shape, [axis])
        let joined = targetUnion(Sum(axes: [axis], keep: true), operands: [x], shapes: [shape], output: line)
        return broadcastUnion([0], operands: [joined], shapes: [line], output: output)
    }

    /// Each element's set joined with those of the elements before it along `axis` (after it if `reverse`).
    private static func scanUnion(_ sets: IndexSets, _ shape: [Int], axis: Int, reverse: Bool) -> IndexSets {
        var result = sets
        let n = shape[axis], inner = Shape.count(Array(shape[(axis + 1)...]))
        let outer = n * inner == 0 ? 0 : sets.count / (n * inner)
        for o in 0..<outer {
            for step in 1..<Swift.max(n, 1) {
                let i = reverse ? n - 1 - step : step, previous = reverse ? i + 1 : i - 1
                for k in 0..<inner {
                    result[(o * n + i) * inner + k] = indexUnion(result[(o * n + i) * inner + k],
                                                                 result[(o * n + previous) * inner + k])
                }
            }
        }
        return result
    }

    /// A decomposition of each matrix of a batch (eigh, svd, qr: input [..., m, n], output [..., p, q]): every output
    /// element of a matrix may depend on every element of the same input matrix, and on no other.
    private static func perMatrix(_ x: IndexSets, input: [Int], output: [Int]) -> IndexSets {
        let inner = input.count < 2 ? 1 : input[input.count - 2] * input[input.count - 1]
        let outer = output.count < 2 ? 1 : output[output.count - 2] * output[output.count - 1]
        var result = IndexSets()
        result.reserveCapacity(Shape.count(output))
        for b in 0..<(Shape.count(output) / Swift.max(outer, 1)) {
            let all = x[(b * inner)..<((b + 1) * inner)].reduce(into: [Int]()) { $0 = indexUnion($0, $1) }
            result += IndexSets(repeating: all, count: outer)
        }
        return result
    }

    /// Max pooling's gather (`scatter` false: each window's set is the union of its elements') or its transpose
    /// (true: each element's set is the union of the windows' that hold it), over every pooled plane of
    /// `inputShape` (leading axes included).
    private static func maxPool(_ m: MaxPoolGather, _ operand: IndexSets, inputShape: [Int],
                                scatter: Bool) -> IndexSets {
        let w = m.window, planes = Shape.count(inputShape) / Swift.max(w.height * w.width, 1)
        // One image of `planes` channels: the columns are [planes·kh·kw, OH·OW], plane by plane.
        let source = positions([1, planes, w.height, w.width]) {
            Unfold(window: w).apply(context([[1, planes, w.height, w.width]], []), [$0])!
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
    private static func matmul(_ transposeA: Bool, _ transposeB: Bool, _ a: IndexSets, _ b: IndexSets,
                               shapes: [[Int]], output: [Int]) -> IndexSets {
        let rows = output[output.count - 2], columns = output[output.count - 1]
        let sa = shapes[0], sb = shapes[1]
        let inner = transposeA ? sa[sa.count - 2] : sa[sa.count - 1]
        let batch = Array(output.dropLast(2))
        let batchA = Shape.broadcastOffsets(Array(sa.dropLast(2)), to: batch)
        let batchB = Shape.broadcastOffsets(Array(sb.dropLast(2)), to: batch)
        var result = IndexSets()
        result.reserveCapacity(Shape.count(output))
        for (ba, bb) in zip(batchA, batchB) {
            let baseA = ba * rows * inner, baseB = bb * inner * columns
            let rowSets = (0..<rows).map { i in
                (0..<inner).reduce(into: [Int]()) { u, k in
                    u = indexUnion(u, a[baseA + (transposeA ? k * rows + i : i * inner + k)])
                }
            }
            let columnSets = (0..<columns).map { j in
                (0..<inner).reduce(into: [Int]()) { u, k in
                    u = indexUnion(u, b[baseB + (transposeB ? j * inner + k : k * columns + j)])
                }
            }
            for i in 0..<rows { for j in 0..<columns { result.append(indexUnion(rowSets[i], columnSets[j])) } }
        }
        return result
    }

    /// The index sets of `f`'s output at `x` (x's element j has the set {j}), found by recording f once and
    /// applying `propagate` to each recorded operation in order. `.local` records every value (as `linearize`
    /// does) and hands each operation its operands' and output's values.
    static func detect(at x: AnyTensor, kind: SparsityKind = .global,
                       _ f: (AnyTensor) throws -> AnyTensor) throws -> (output: AnyTensor, sets: IndexSets) {
        let level = Levels.next()
        let scope = ADScope.current.with(recording: true, savesEverything: kind == .local)
        let (input, y) = try scope.run { () throws -> (AnyTensor, AnyTensor) in
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
                var values: [AnyTensor]?
                if kind == .local {
                    let saved = node.peekSaved()
                    if saved.inputs.count == count, let output = saved.output {
                        values = saved.inputs.map(\.value)
                            + [AnyTensor(storage: output, shape: node.outputShape)]
                    }
                }
                sets = propagate(node.primitive, operands: operands, shapes: (0..<count).map { node.inputs.shape($0) },
                                 output: node.outputShape, values: values)
            }
            found[ObjectIdentifier(node)] = sets
        }
        return (y.value, found[ObjectIdentifier(root)]!)
    }
}

/// Local patterns: where a primitive's partial derivatives are zero at the recorded point, read off its own rules.
enum Local {
    /// The rule context of a primitive at recorded values (operands, then the output), unbatched.
    private static func context(_ values: [AnyTensor]) -> RuleContext {
        let y = values[values.count - 1]
        return RuleContext(inputs: Array(values.dropLast()), node: nil, outputValue: y, outputShape: y.shape,
                           batchShape: [], needs: ~0, isDifferentiable: false)
    }

    /// Whether each element of t is non-zero (NaN counts as non-zero: a derivative that exists but is unknown).
    private static func nonzero(_ t: AnyTensor?, count: Int) -> [Bool] {
        guard let t else { return [Bool](repeating: false, count: count) }
        return Tensor<Double>(unchecked: Kernel.convert(t.value, to: .float64)).scalars.map { $0 != 0 }
    }

    /// For each output element, whether ∂y/∂(operand k) there is non-zero: the JVP rule with a tangent of ones on
    /// operand k (zero on the others). For elementwise and broadcasting primitives that tangent's image is, at each
    /// output element, the partial derivative with respect to operand k's element broadcast to it.
    static func partialIsNonzero(_ p: any Primitive, operand k: Int, values: [AnyTensor]) -> [Bool] {
        let ctx = context(values)
        var tangents = [AnyTensor?](repeating: nil, count: values.count - 1)
        tangents[k] = Kernel.filled(values[k].scalarType, values[k].shape, 1)
        let t = withoutRecording { p.jvp(ctx, tangents) }
        return nonzero(t, count: ctx.output.count)
    }

    /// For each element of operand 0, whether it reaches the output: the VJP rule with a cotangent of ones is
    /// non-zero there (for max and min over axes: the elements equal to their window's extremum).
    static func cotangentIsNonzero(_ p: any Primitive, values: [AnyTensor]) -> [Bool] {
        let ctx = context(values)
        let g = withoutRecording { p.vjp(ctx, Kernel.filled(ctx.output.scalarType, ctx.output.shape, 1)) }
        return nonzero(g.first ?? nil, count: values[0].count)
    }
}

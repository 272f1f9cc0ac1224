import Synchronization

// MARK: - Sparsity detection

/// Which output elements of `f` may depend on which input elements: the sparsity pattern of its Jacobian, an
/// m × n pattern (m = elements of f(x), n = elements of x, both flattened row-major).
///
/// Found by recording f once at `x` and propagating *index sets* through every recorded primitive by its sparsity
/// rule (elementwise: the same position; broadcasting: the union of the broadcast operands; reductions: the union
/// over the reduced axes; movement: the operation applied to the positions; matmul: row and column unions).
///
/// `kind: .global` (the default) gives the pattern valid at every point: `relu`, `where`, `maximum` and `minimum`
/// keep both sides, so the pattern found at one x serves every other x at which f runs the same operations. An
/// operation with no rule of its own (a custom operation) is treated conservatively: each of its output elements
/// may depend on all of its inputs'. The result is a superset of the non-zeros of the Jacobian at any point.
///
/// `kind: .local` gives the pattern at this x only: each primitive's own derivative rules, evaluated at the
/// recorded values, drop a contribution whose partial derivative is zero there (a `relu` below its kink, the side
/// of a `where` its condition does not select, the smaller side of `maximum`, the non-maximal elements of a `max`
/// reduction). Still a superset of the Jacobian's non-zeros at x, but not at other points: do not reuse it
/// elsewhere (``prepareSparseJacobian(of:at:pattern:direction:)`` detects a global pattern).
/// - Complexity: one evaluation of f, and per operation the size of its index sets (O(non-zeros) for stencils);
///   `.local` keeps every intermediate value until the end and runs one JVP or VJP rule per operation.
public func jacobianSparsity<Scalar: TensorScalar>(
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>, kind: SparsityKind = .global
) throws -> SparsityPattern {
    let sets = try SparsityRules.detect(at: x.base, kind: kind) { try f(Tensor(unchecked: $0)).base }.sets
    return SparsityPattern(rowCount: sets.count, columnCount: x.count, rows: sets)
}

/// The sparsity pattern of the Hessian of a function with a one-element output: an n × n pattern (n = elements of
/// x), found as the pattern of the gradient's Jacobian (the gradient computation is recorded and its operations
/// propagate index sets, see ``jacobianSparsity(of:at:kind:)``; `kind` as there). Symmetric up to the rules'
/// conservatism.
public func hessianSparsity<Scalar: TensorScalar>(
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>, kind: SparsityKind = .global
) throws -> SparsityPattern {
    try withoutActuallyEscaping(f) { f in
        try jacobianSparsity(of: { try gradient(at: $0, of: f) }, at: x, kind: kind)
    }
}

// MARK: - Sparse Jacobians

/// A sparse Jacobian with the value it was computed at and how many vectors the one pass carried.
public struct SparseJacobianResult<Scalar: TensorScalar>: Sendable {
    /// f(x).
    public let value: Tensor<Scalar>
    /// J = ∂f/∂x as an m × n CSR matrix (m = elements of f(x), n = elements of x), with the pattern's entries.
    public let jacobian: SparseMatrix<Scalar>
    /// The colouring used: its direction (`.forward` or `.reverse`) and its number of colours, the number of
    /// tangents or cotangents in the single pass (instead of n or m for a dense Jacobian). For
    /// ``sparseHessian(of:at:pattern:)``, a star colouring of the columns.
    public let coloring: JacobianColoring
}

/// A sparse Jacobian computation prepared once: the pattern and its colouring, reused at every point (the usual
/// case of Newton's method, where J is needed at each iterate and its structure never changes).
///
/// Made by ``prepareSparseJacobian(of:at:pattern:direction:)``. Each call of ``jacobian(of:at:)`` costs one
/// batched forward (or reverse) pass of ``JacobianColoring/colorCount`` vectors and O(non-zeros) memory for
/// the result.
public struct SparseJacobianPlan: Sendable {
    /// The pattern of J: which output elements depend on which input elements.
    public let pattern: SparsityPattern
    /// The colouring of the pattern's columns (forward) or rows (reverse).
    public let coloring: JacobianColoring
    /// The input shape the plan was made for.
    public let inputShape: [Int]
    /// How the colouring's direction was chosen: `.automatic` when the plan compared both directions and took the
    /// one with fewer colours (forward on a tie), otherwise the direction it was asked for.
    public let requestedDirection: JacobianStrategy
    /// The number of colours the other direction needed, when the direction was chosen automatically (nil when it
    /// was given or the colouring was given by hand).
    public let otherDirectionColorCount: Int?
    /// For each stored entry k of the result, its position in the batched products: the decompression is the
    /// gather `values[k] = products[source[k]]`, planned once.
    let source: [Int]
    /// The forward seeds, [colorCount] + inputShape, made at the first call for each element type and reused.
    private let seeds = SeedCache()

    /// A plan for a given pattern and colouring direction (`.automatic`: the one with fewer colours).
    public init(pattern: SparsityPattern, inputShape: [Int], direction: JacobianStrategy = .automatic) {
        precondition(pattern.columnCount == Shape.count(inputShape),
                     "SparseJacobianPlan: the pattern has \(pattern.columnCount) columns for an input of shape "
                     + "\(inputShape) (\(Shape.count(inputShape)) elements)")
        var other: Int?
        let coloring: JacobianColoring
        if direction == .automatic {
            let forward = JacobianColoring(pattern: pattern, direction: .forward)
            let reverse = JacobianColoring(pattern: pattern, direction: .reverse)
            coloring = reverse.colorCount < forward.colorCount ? reverse : forward
            other = reverse.colorCount < forward.colorCount ? forward.colorCount : reverse.colorCount
        } else {
            coloring = JacobianColoring(pattern: pattern, direction: direction)
        }
        self.init(pattern: pattern, inputShape: inputShape, coloring: coloring, requested: direction, other: other)
    }

    /// A plan with a colouring given by hand (see ``JacobianColoring/init(colors:direction:)``); it must be valid
    /// for the pattern.
    public init(pattern: SparsityPattern, inputShape: [Int], coloring: JacobianColoring) {
        precondition(pattern.columnCount == Shape.count(inputShape) && coloring.isValid(for: pattern),
                     "SparseJacobianPlan: the colouring is not valid for the pattern or the input shape")
        self.init(pattern: pattern, inputShape: inputShape, coloring: coloring, requested: coloring.direction,
                  other: nil)
    }

    private init(pattern: SparsityPattern, inputShape: [Int], coloring: JacobianColoring,
                 requested: JacobianStrategy, other: Int?) {
        self.pattern = pattern
        self.coloring = coloring
        self.inputShape = inputShape
        self.requestedDirection = requested
        self.otherDirectionColorCount = other
        // Forward: entry (i, j) is element i of the product of column j's colour, [c, m] row-major.
        // Reverse: entry (i, j) is element j of the product of row i's colour, [c, n] row-major.
        let m = pattern.rowCount, n = pattern.columnCount, colors = coloring.colors
        var source = [Int](repeating: 0, count: pattern.nonzeroCount)
        for i in 0..<m {
            for k in pattern.rowStart[i]..<pattern.rowStart[i + 1] {
                let j = pattern.columnIndices[k]
                source[k] = coloring.direction == .forward ? colors[j] * m + i : colors[i] * n + j
            }
        }
        self.source = source
    }

    /// f(x) and J = ∂f/∂x at `x` (shaped like ``inputShape``), from one batched pass of one vector per colour,
    /// decompressed into the pattern's entries.
    ///
    /// Forward: tangent k is the sum of the unit vectors of the columns of colour k; J[i, j] is element i of the
    /// k-th product J·u where k is column j's colour. Reverse: cotangent k sums the unit vectors of rows of colour
    /// k; J[i, j] is element j of the k-th product vᵀJ. Exact (no cancellation): within a colour, a row (column)
    /// meets at most one column (row) of the pattern.
    public func jacobian<Scalar: TensorScalar>(
        of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>
    ) throws -> SparseJacobianResult<Scalar> {
        precondition(x.shape == inputShape, "SparseJacobianPlan: an input of shape \(x.shape) for a plan made for "
                     + "\(inputShape)")
        let m = pattern.rowCount, n = pattern.columnCount, c = coloring.colorCount
        let colors = coloring.colors
        let y: Tensor<Scalar>, products: Tensor<Scalar>
        if coloring.direction == .forward {
            let u: Tensor<Scalar> = seeds.tensor {
                var seeds = [Scalar](repeating: 0, count: c * n)
                for j in 0..<n { seeds[colors[j] * n + j] = 1 }
                return Tensor(shape: [c] + inputShape, scalars: seeds)
            }
            let r = try jvp(of: { [try f($0[0])] }, at: [x], tangents: [u], batched: true)
            y = r.values[0]
            try checkRows(y.count)
            products = r.tangents[0]
        } else {
            let r = try Functional.reverse(at: [x.base], batched: true, call: "sparseJacobian(of:at:)",
                                           cotangents: { outputs in
                let yShape = outputs[0].shape
                try checkRows(Shape.count(yShape))
                var seeds = [Scalar](repeating: 0, count: c * m)
                for i in 0..<m { seeds[colors[i] * m + i] = 1 }
                return [Tensor(shape: [c] + yShape, scalars: seeds).base]
            }, { [try f(Tensor(unchecked: $0[0])).base] })
            y = Tensor(unchecked: r.values[0])
            products = Tensor(unchecked: r.results[0])
        }
        // Decompression: the planned gather, values[k] = products[source[k]], on the elements' bits (a loop over
        // a generic Scalar would copy each element through the type's value witnesses, unspecialized).
        let values = products.withUnsafeBufferPointer { p in
            [Scalar](unsafeUninitializedCapacity: source.count) { v, count in
                let (from, to) = (UnsafeRawPointer(p.baseAddress!), UnsafeMutableRawPointer(v.baseAddress!))
                switch MemoryLayout<Scalar>.stride {
                case 4: gather(source, from.assumingMemoryBound(to: UInt32.self), to.assumingMemoryBound(to: UInt32.self))
                default: gather(source, from.assumingMemoryBound(to: UInt64.self), to.assumingMemoryBound(to: UInt64.self))
                }
                count = source.count
            }
        }
        let j = SparseMatrix(rowCount: m, columnCount: n, rowStart: pattern.rowStart,
                             columnIndices: pattern.columnIndices, values: values)
        return SparseJacobianResult(value: y, jacobian: j, coloring: coloring)
    }

    /// to[k] = from[source[k]] for every k.
    private func gather<Bits>(_ source: [Int], _ from: UnsafePointer<Bits>, _ to: UnsafeMutablePointer<Bits>) {
        source.withUnsafeBufferPointer { s in
            for k in s.indices { to[k] = from[s[k]] }
        }
    }

    /// Whether the plan's pattern still holds for `f` at `x`: the pattern detected there (``jacobianSparsity(of:at:kind:)``,
    /// one evaluation of f with index sets) has no entry outside the plan's. A function whose Swift code branches
    /// on values may run other operations at other points; check with this where that can happen.
    public func patternHolds<Scalar: TensorScalar>(
        for f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>
    ) throws -> Bool {
        let detected = try jacobianSparsity(of: f, at: x)
        guard detected.rowCount == pattern.rowCount, detected.columnCount == pattern.columnCount else { return false }
        return (0..<detected.rowCount).allSatisfy { i in
            Set(detected.columns(inRow: i)).isSubset(of: pattern.columns(inRow: i))
        }
    }

    /// Throws if f's output does not have the pattern's number of rows.
    private func checkRows(_ count: Int) throws {
        if count != pattern.rowCount {
            throw AutogradError.countMismatch(what: "output elements (rows of the sparsity pattern)",
                                              expected: pattern.rowCount, actual: count)
        }
    }
}

/// A plan's forward seeds, one tensor per element type, made once. A class so that copies of a plan share it; a
/// tensor's buffer is never written once shared, so handing the same seeds to every pass is safe.
private final class SeedCache: Sendable {
    private let tensors = Mutex<[ScalarType: AnyTensor]>([:])

    func tensor<Scalar: TensorScalar>(_ make: () -> Tensor<Scalar>) -> Tensor<Scalar> {
        if let t = tensors.withLock({ $0[Scalar.scalarType] }) { return Tensor(unchecked: t) }
        let t = make()
        tensors.withLock { $0[Scalar.scalarType] = t.base }
        return t
    }
}

extension SparseJacobianPlan: CustomStringConvertible {
    /// The vectors a dense Jacobian's one batched pass would carry in the plan's direction: n tangents (forward) or
    /// m cotangents (reverse). ``SparseJacobianPlan/jacobian(of:at:)`` carries ``JacobianColoring/colorCount``.
    public var denseVectorCount: Int { coloring.direction == .forward ? pattern.columnCount : pattern.rowCount }

    /// Tangents (or cotangents) saved per Jacobian compared with the dense pass in the same direction:
    /// ``denseVectorCount`` − ``JacobianColoring/colorCount``.
    public var vectorsSaved: Int { denseVectorCount - coloring.colorCount }

    /// What one call of ``jacobian(of:at:)`` does and saves, for `print(plan)`: the pattern's non-zeros (with the
    /// fullest row and column, the lower bounds of the colour counts), the colours and the direction (and how it
    /// was chosen), and the vectors and memory compared with a dense Jacobian.
    public var description: String {
        let m = pattern.rowCount, n = pattern.columnCount, c = coloring.colorCount
        let byColumn = pattern.transposed()
        let fullestRow = (0..<m).map { pattern.rowStart[$0 + 1] - pattern.rowStart[$0] }.max() ?? 0
        let fullestColumn = (0..<n).map { byColumn.rowStart[$0 + 1] - byColumn.rowStart[$0] }.max() ?? 0
        let density = m * n == 0 ? 0 : 100 * Double(pattern.nonzeroCount) / Double(m * n)
        let forward = coloring.direction == .forward
        let what = forward ? "columns (forward mode: one tangent per colour)"
                           : "rows (reverse mode: one cotangent per colour)"
        let chosen: String
        if let other = otherDirectionColorCount {
            chosen = "chosen automatically: the \(forward ? "row" : "column") colouring for \(forward ? "reverse" : "forward") "
                + "mode needs \(other)\(other == c ? " (a tie goes to forward)" : "")"
        } else {
            chosen = requestedDirection == coloring.direction && requestedDirection != .automatic
                ? "direction as requested" : "colouring given by hand"
        }
        let ratio = c == 0 ? "" : String(format: ", %.0f× fewer", Double(denseVectorCount) / Double(c))
        return """
            Sparse Jacobian of an input of shape \(inputShape): J is \(m) × \(n)
              pattern: \(pattern.nonzeroCount) non-zeros (\(String(format: "%.3g", density))% of \(m * n)), at most \
            \(fullestRow) in a row and \(fullestColumn) in a column
              colouring: \(c) colour\(c == 1 ? "" : "s") of the \(what); \(chosen)
              one call: ONE \(forward ? "forward" : "reverse") pass of \(c) \(forward ? "tangents" : "cotangents") \
            instead of \(denseVectorCount) for the dense Jacobian: \(vectorsSaved) saved\(ratio)
              memory: \(pattern.nonzeroCount) values in CSR and \(c) × \(forward ? m : n) products, instead of \
            \(m * n) values for the dense J
            """
    }
}

/// Prepares a sparse Jacobian of `f` for inputs shaped like `x`: detects the pattern at `x` (unless one is given,
/// see ``jacobianSparsity(of:at:kind:)``) and colours it (see ``JacobianColoring``). Reuse the plan at every point.
public func prepareSparseJacobian<Scalar: TensorScalar>(
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>, pattern: SparsityPattern? = nil,
    direction: JacobianStrategy = .automatic
) throws -> SparseJacobianPlan {
    let p = try pattern ?? jacobianSparsity(of: f, at: x)
    return SparseJacobianPlan(pattern: p, inputShape: x.shape, direction: direction)
}

/// The Jacobian J = ∂f/∂x as a sparse matrix (m × n, m = elements of f(x), n = elements of x), computed in ONE
/// batched pass of one vector per colour of the pattern instead of n (or m) vectors.
///
/// `pattern` says which entries may be non-zero; nil detects it (``jacobianSparsity(of:at:kind:)``). The columns
/// (forward) or rows (reverse) are coloured so that no two of a colour share a row (column); the direction with
/// fewer colours is used and reported in the result. For a 5-point stencil on a 100 × 100 grid that is 5 tangents
/// instead of 10 000. For repeated calls (Newton iterations) prepare once with
/// ``prepareSparseJacobian(of:at:pattern:direction:)``.
/// - Complexity: one batched pass of `colorCount` vectors; memory O(colorCount × (n + m) + non-zeros).
public func sparseJacobian<Scalar: TensorScalar>(
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>, pattern: SparsityPattern? = nil
) throws -> SparseJacobianResult<Scalar> {
    try prepareSparseJacobian(of: f, at: x, pattern: pattern).jacobian(of: f, at: x)
}

/// The Hessian of a function with a one-element output as a sparse n × n matrix: forward over reverse, one batched
/// pass of one tangent per colour through the gradient computation.
///
/// The pattern is ``hessianSparsity(of:at:kind:)`` unless given. Its columns get a *star* colouring
/// (``JacobianColoring/init(starColoringOf:)``), which uses the symmetry H = Hᵀ: each entry is read from the
/// product of its own column's colour, or where another column of that colour meets the same row, from its mirror
/// image's. That often needs far fewer colours than a Jacobian's distance-2 colouring.
/// - Complexity: one batched pass of `colorCount` Hessian-vector products; memory O(colorCount · n + non-zeros).
public func sparseHessian<Scalar: TensorScalar>(
    of f: (Tensor<Scalar>) throws -> Tensor<Scalar>, at x: Tensor<Scalar>, pattern: SparsityPattern? = nil
) throws -> SparseJacobianResult<Scalar> {
    try withoutActuallyEscaping(f) { f in
        let p = try pattern ?? hessianSparsity(of: f, at: x)
        let n = x.count
        precondition(p.rowCount == n && p.columnCount == n, "sparseHessian: a \(p) for \(n) inputs")
        let coloring = JacobianColoring(starColoringOf: p)
        let colors = coloring.colors, c = coloring.colorCount
        var seeds = [Scalar](repeating: 0, count: c * n)
        for j in 0..<n { seeds[colors[j] * n + j] = 1 }
        var value = Tensor<Scalar>(0)
        let r = try jvp(of: { xs in
            let (v, g) = try valueWithGradient(at: xs[0], of: f)
            value = v.detached()
            return [g]
        }, at: [x], tangents: [Tensor(shape: [c] + x.shape, scalars: seeds)], batched: true)
        let products = r.tangents[0].scalars                  // [c, n]: row k is H · (sum of colour k's unit vectors)
        // Row i's columns of each colour, counted, to see where (i, j) is alone of its colour.
        var count = [Int](repeating: 0, count: c)
        var values = [Scalar](repeating: 0, count: p.nonzeroCount)
        for i in 0..<n {
            for j in p.columns(inRow: i) { count[colors[j]] += 1 }
            for k in p.rowStart[i]..<p.rowStart[i + 1] {
                let j = p.columnIndices[k]
                // Alone of its colour in row i (the diagonal always is): H[i, j]; else H[j, i], alone in row j.
                values[k] = count[colors[j]] == 1 ? products[colors[j] * n + i] : products[colors[i] * n + j]
            }
            for j in p.columns(inRow: i) { count[colors[j]] = 0 }
        }
        let h = SparseMatrix(rowCount: n, columnCount: n, rowStart: p.rowStart, columnIndices: p.columnIndices,
                             values: values)
        return SparseJacobianResult(value: value, jacobian: h, coloring: coloring)
    }
}

/// Which output elements of a function may depend on which input elements: the structure of its Jacobian, an
/// m × n boolean matrix (m output elements, n input elements, each flattened row-major) stored row by row.
///
/// Made by ``jacobianSparsity(of:at:kind:)`` or ``hessianSparsity(of:at:kind:)`` from the function itself, or given by hand
/// (from `(row, column)` pairs). A pattern may hold positions whose derivative happens to be zero at some point
/// (a superset is always safe); a missing position is a derivative that ``sparseJacobian(of:at:pattern:)`` will
/// not compute.
public struct SparsityPattern: Sendable, Equatable, CustomStringConvertible {
    /// The number of rows: output elements (m).
    public let rowCount: Int
    /// The number of columns: input elements (n).
    public let columnCount: Int
    /// `rowCount + 1` offsets into ``columnIndices``: row i is `rowStart[i] ..< rowStart[i + 1]`.
    public let rowStart: [Int]
    /// The columns of each row, increasing within the row.
    public let columnIndices: [Int]

    /// The number of positions that may be non-zero.
    public var nonzeroCount: Int { columnIndices.count }

    /// The pattern with, for each row, the listed columns (any order, repeats allowed).
    public init(rowCount: Int, columnCount: Int, rows: [[Int]]) {
        precondition(rows.count == rowCount, "SparsityPattern: \(rows.count) rows for rowCount \(rowCount)")
        var start = [0], columns: [Int] = []
        for row in rows {
            for j in Set(row).sorted() {
                precondition((0..<columnCount).contains(j), "SparsityPattern: column \(j) outside 0..<\(columnCount)")
                columns.append(j)
            }
            start.append(columns.count)
        }
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.rowStart = start
        self.columnIndices = columns
    }

    /// The pattern holding the given `(row, column)` positions.
    public init(rowCount: Int, columnCount: Int, positions: [(row: Int, column: Int)]) {
        var rows = [[Int]](repeating: [], count: rowCount)
        for p in positions { rows[p.row].append(p.column) }
        self.init(rowCount: rowCount, columnCount: columnCount, rows: rows)
    }

    /// The pattern of a sparse matrix's stored entries.
    public init<Scalar>(of matrix: SparseMatrix<Scalar>) {
        rowCount = matrix.rowCount
        columnCount = matrix.columnCount
        rowStart = matrix.rowStart
        columnIndices = matrix.columnIndices
    }

    /// The columns of row `i`.
    public func columns(inRow i: Int) -> ArraySlice<Int> { columnIndices[rowStart[i]..<rowStart[i + 1]] }

    /// Whether position (`row`, `column`) may be non-zero.
    public func contains(row: Int, column: Int) -> Bool { columns(inRow: row).contains(column) }

    /// The transposed pattern (n × m): which outputs each input reaches.
    public func transposed() -> SparsityPattern {
        var rows = [[Int]](repeating: [], count: columnCount)
        for i in 0..<rowCount { for j in columns(inRow: i) { rows[j].append(i) } }
        return SparsityPattern(rowCount: columnCount, columnCount: rowCount, rows: rows)
    }

    /// `m × n pattern, k non-zeros`.
    public var description: String { "\(rowCount) × \(columnCount) pattern, \(nonzeroCount) non-zeros" }
}

/// A colouring of a Jacobian's columns or rows: a partition into groups (colours) that can be computed together.
///
/// - In **forward** mode (column colouring), no two columns of the same colour have a non-zero in the same row
///   (a distance-2 colouring of the column graph). Then one tangent per colour, the sum of its columns' unit
///   vectors, gives J·u whose row i is J[i, j] for the one column j of that colour in row i.
/// - In **reverse** mode (row colouring), no two rows of the same colour share a column; one cotangent per colour.
///
/// The cost of a sparse Jacobian is one batched pass of ``colorCount`` vectors instead of n (or m).
public struct JacobianColoring: Sendable, Equatable {
    /// The direction the colouring serves: `.forward` colours columns, `.reverse` colours rows.
    public let direction: JacobianStrategy
    /// The colour (0 ..< colorCount) of each column (forward) or row (reverse).
    public let colors: [Int]
    /// The number of colours: the number of vectors in the one batched pass.
    public let colorCount: Int

    /// A greedy distance-2 colouring of the pattern's columns (`.forward`) or rows (`.reverse`), or for
    /// `.automatic` whichever of the two needs fewer colours (forward on a tie).
    ///
    /// Any valid colouring needs at least as many colours as the fullest row has non-zeros. Two greedy passes in
    /// natural order are tried: smallest free colour first, and a cyclic choice of the first free colour after the
    /// previous column's among k colours, k rising from that lower bound; the cyclic pass reaches the bound on
    /// banded patterns and on the 5-point stencil of a grid (5 colours, where smallest-first needs 7).
    /// - Complexity: O(Σᵢ (non-zeros of row i)²).
    public init(pattern: SparsityPattern, direction: JacobianStrategy = .automatic) {
        switch direction {
        case .forward:
            self.init(direction: .forward, colors: Self.greedyColumnColors(pattern))
        case .reverse:
            self.init(direction: .reverse, colors: Self.greedyColumnColors(pattern.transposed()))
        case .automatic:
            let forward = JacobianColoring(pattern: pattern, direction: .forward)
            let reverse = JacobianColoring(pattern: pattern, direction: .reverse)
            self = reverse.colorCount < forward.colorCount ? reverse : forward
        }
    }

    /// A colouring given by hand (one colour, 0 ..< colorCount, per column for `.forward` or per row for
    /// `.reverse`), e.g. a known optimal one: (i + 2j) mod 5 colours the 5-point stencil of a grid with 5 colours.
    /// Check it with ``isValid(for:)``.
    public init(colors: [Int], direction: JacobianStrategy) {
        precondition(direction != .automatic && colors.allSatisfy { $0 >= 0 },
                     "JacobianColoring: a direction (.forward or .reverse) and non-negative colours")
        self.init(direction: direction, colors: colors)
    }

    private init(direction: JacobianStrategy, colors: [Int]) {
        self.direction = direction
        self.colors = colors
        self.colorCount = (colors.max() ?? -1) + 1
    }

    /// A greedy *star* colouring of a symmetric pattern's columns (a Hessian's): adjacent columns (i ≠ j with
    /// (i, j) in the pattern) get different colours, and no path of four columns uses only two colours. Then each
    /// entry (i, j) of a symmetric matrix is the only one of its colour in row i or, by symmetry, (j, i) is in row j,
    /// so one product per colour recovers the matrix, often with far fewer colours than a distance-2 colouring
    /// (an arrow pattern, one full row and column plus the diagonal: 2 instead of n). Valid for symmetric matrices
    /// only; the pattern is made symmetric first (united with its transpose). Greedy in natural order.
    /// - Complexity: O(n · d³) for at most d non-zeros per row.
    public init(starColoringOf pattern: SparsityPattern) {
        precondition(pattern.rowCount == pattern.columnCount, "JacobianColoring: a star colouring needs a square pattern")
        let n = pattern.columnCount, t = pattern.transposed()
        let neighbours = (0..<n).map { i in
            Set(pattern.columns(inRow: i)).union(t.columns(inRow: i)).subtracting([i]).sorted()
        }
        var colors = [Int](repeating: -1, count: n)
        var forbiddenBy = [Int](repeating: -1, count: n + 1)
        var seen = [Int](repeating: -1, count: n + 1)           // colour → last neighbour of v seen with it
        var repeated = [Int](repeating: -1, count: n + 1)       // colour → v, if two neighbours of v share it
        for v in 0..<n {
            let coloured = neighbours[v].filter { colors[$0] >= 0 }
            for w in coloured {
                let c = colors[w]
                forbiddenBy[c] = v                              // adjacent columns differ
                if seen[c] == v { repeated[c] = v }
                seen[c] = v
            }
            for w in coloured {
                for x in neighbours[w] where x != v && colors[x] >= 0 {
                    // v – w – x – y with colours (a, b, a, b): v may not take x's colour.
                    if neighbours[x].contains(where: { $0 != w && colors[$0] == colors[w] }) {
                        forbiddenBy[colors[x]] = v
                    }
                    // x' – v – w – x with colours (b, a, b, a), x' another neighbour of v coloured like w.
                    if repeated[colors[w]] == v { forbiddenBy[colors[x]] = v }
                }
            }
            var c = 0
            while forbiddenBy[c] == v { c += 1 }
            colors[v] = c
        }
        self.init(direction: .forward, colors: colors)
    }

    /// Whether this is a valid colouring of `pattern`: no two columns (forward) or rows (reverse) of the same colour
    /// share a row (or column).
    public func isValid(for pattern: SparsityPattern) -> Bool {
        let p = direction == .reverse ? pattern.transposed() : pattern
        guard colors.count == p.columnCount else { return false }
        for i in 0..<p.rowCount {
            var seen = Set<Int>()
            for j in p.columns(inRow: i) where !seen.insert(colors[j]).inserted { return false }
        }
        return true
    }

    /// A distance-2 colouring of the columns: the better of two greedy passes in natural order. The first gives
    /// each column the smallest colour not used by a column sharing a row with it. The second tries k colours
    /// (from the lower bound, the fullest row's size, up to the first pass's count) and gives each column the
    /// first free colour after the previous column's, cyclically; it finds the optimum on banded patterns and on
    /// the 5-point stencil of a grid (5 colours, where the first pass needs 7).
    private static func greedyColumnColors(_ pattern: SparsityPattern) -> [Int] {
        let byColumn = pattern.transposed()
        let smallest = firstFit(pattern, byColumn, cycle: nil)!
        let count = (smallest.max() ?? -1) + 1
        let lowerBound = (0..<pattern.rowCount).map { pattern.rowStart[$0 + 1] - pattern.rowStart[$0] }.max() ?? 0
        for k in max(lowerBound, 1)..<max(count, 1) {
            if let cyclic = firstFit(pattern, byColumn, cycle: k) { return cyclic }
        }
        return smallest
    }

    /// One greedy pass over the columns in order. With `cycle` nil, each column takes the smallest colour free of
    /// its neighbours' (columns sharing a row); with `cycle` k, the first free one of k colours after the previous
    /// column's, or the pass fails (nil) when all k are taken.
    private static func firstFit(_ pattern: SparsityPattern, _ byColumn: SparsityPattern, cycle: Int?) -> [Int]? {
        var colors = [Int](repeating: -1, count: pattern.columnCount)
        var forbiddenBy = [Int](repeating: -1, count: pattern.columnCount + 1)  // colour → last column forbidding it
        var previous = -1
        for j in 0..<pattern.columnCount {
            for i in byColumn.columns(inRow: j) {
                for k in pattern.columns(inRow: i) where colors[k] >= 0 { forbiddenBy[colors[k]] = j }
            }
            if let cycle {
                guard let offset = (1...cycle).first(where: { forbiddenBy[(previous + $0) % cycle] != j }) else {
                    return nil
                }
                colors[j] = (previous + offset) % cycle
            } else {
                var c = 0
                while forbiddenBy[c] == j { c += 1 }
                colors[j] = c
            }
            previous = colors[j]
        }
        return colors
    }
}

/// A sparse matrix in compressed sparse row (CSR) form: the non-zeros of each row, row after row.
///
/// Row `i` holds the entries `rowStart[i] ..< rowStart[i + 1]` of ``columnIndices`` and ``values``, its columns in
/// increasing order. A stored entry may be zero (a structural non-zero: the pattern says it *may* be non-zero).
/// Memory is O(rows + non-zeros), never O(rows × columns).
///
///     let a = SparseMatrix<Double>(rowCount: 2, columnCount: 3,
///                                  entries: [(row: 0, column: 0, value: 1), (row: 1, column: 2, value: 5)])
///     a.multiplied(by: [1, 1, 1])   // [1, 5]
public struct SparseMatrix<Scalar: TensorScalar>: Sendable, Equatable {
    /// The number of rows (m).
    public let rowCount: Int
    /// The number of columns (n).
    public let columnCount: Int
    /// `rowCount + 1` offsets into ``columnIndices`` and ``values``: row `i` is `rowStart[i] ..< rowStart[i + 1]`.
    public let rowStart: [Int]
    /// The column of each stored entry, increasing within a row.
    public let columnIndices: [Int]
    /// The value of each stored entry.
    public var values: [Scalar]

    /// The number of stored entries (structural non-zeros).
    public var nonzeroCount: Int { columnIndices.count }

    /// A matrix from its CSR arrays. `rowStart` must have `rowCount + 1` non-decreasing offsets starting at 0 and
    /// ending at the number of entries; columns must lie in `0 ..< columnCount` and increase within each row.
    public init(rowCount: Int, columnCount: Int, rowStart: [Int], columnIndices: [Int], values: [Scalar]) {
        precondition(rowStart.count == rowCount + 1 && rowStart.first == 0 && rowStart.last == columnIndices.count
                     && values.count == columnIndices.count, "SparseMatrix: inconsistent CSR arrays")
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.rowStart = rowStart
        self.columnIndices = columnIndices
        self.values = values
    }

    /// A matrix from coordinate (COO) entries in any order; entries at the same position are added.
    /// - Complexity: O(entries · log(entries)) for the sort, O(rows + entries) memory.
    public init(rowCount: Int, columnCount: Int, entries: [(row: Int, column: Int, value: Scalar)]) {
        let sorted = entries.sorted { ($0.row, $0.column) < ($1.row, $1.column) }
        var start = [Int](repeating: 0, count: rowCount + 1)
        var columns: [Int] = [], values: [Scalar] = []
        columns.reserveCapacity(sorted.count)
        values.reserveCapacity(sorted.count)
        var lastRow = -1, lastColumn = -1
        for e in sorted {
            precondition((0..<rowCount).contains(e.row) && (0..<columnCount).contains(e.column),
                         "SparseMatrix: entry (\(e.row), \(e.column)) outside a \(rowCount) × \(columnCount) matrix")
            if e.row == lastRow && e.column == lastColumn {
                values[values.count - 1] += e.value
                continue
            }
            columns.append(e.column)
            values.append(e.value)
            start[e.row + 1] += 1
            lastRow = e.row
            lastColumn = e.column
        }
        for i in 0..<rowCount { start[i + 1] += start[i] }
        self.init(rowCount: rowCount, columnCount: columnCount, rowStart: start, columnIndices: columns, values: values)
    }

    /// The non-zeros of a dense matrix (a rank-2 tensor, or any tensor read as `[shape[0], rest]`); entries equal
    /// to zero are not stored.
    public init(dense: Tensor<Scalar>) {
        let m = dense.rank == 0 ? 1 : dense.shape[0]
        let n = m == 0 ? 0 : dense.count / m
        let scalars = dense.scalars
        var entries: [(row: Int, column: Int, value: Scalar)] = []
        for i in 0..<m {
            for j in 0..<n where scalars[i * n + j] != 0 { entries.append((i, j, scalars[i * n + j])) }
        }
        self.init(rowCount: m, columnCount: n, entries: entries)
    }

    /// The stored entries as coordinates (COO), row by row, columns increasing.
    public var entries: [(row: Int, column: Int, value: Scalar)] {
        var result: [(row: Int, column: Int, value: Scalar)] = []
        result.reserveCapacity(nonzeroCount)
        for i in 0..<rowCount {
            for k in rowStart[i]..<rowStart[i + 1] { result.append((i, columnIndices[k], values[k])) }
        }
        return result
    }

    /// The dense `[rowCount, columnCount]` tensor (zeros where nothing is stored).
    /// - Complexity: O(rows × columns) memory.
    public var dense: Tensor<Scalar> {
        var scalars = [Scalar](repeating: 0, count: rowCount * columnCount)
        for i in 0..<rowCount {
            for k in rowStart[i]..<rowStart[i + 1] { scalars[i * columnCount + columnIndices[k]] += values[k] }
        }
        return Tensor(shape: [rowCount, columnCount], scalars: scalars)
    }

    /// The stored value at (`row`, `column`), or zero where nothing is stored.
    /// - Complexity: O(log(entries in the row)).
    public subscript(row: Int, column: Int) -> Scalar {
        var low = rowStart[row], high = rowStart[row + 1]
        while low < high {
            let mid = (low + high) / 2
            if columnIndices[mid] < column { low = mid + 1 } else { high = mid }
        }
        return low < rowStart[row + 1] && columnIndices[low] == column ? values[low] : 0
    }

    /// The matrix-vector product A·x, with `x` of `columnCount` elements: `(A·x)ᵢ = Σₖ A[i, k] · x[k]`.
    /// - Complexity: O(rows + non-zeros).
    public func multiplied(by x: [Scalar]) -> [Scalar] {
        precondition(x.count == columnCount, "SparseMatrix: a vector of \(x.count) elements for \(columnCount) columns")
        var y = [Scalar](repeating: 0, count: rowCount)
        for i in 0..<rowCount {
            var s: Scalar = 0
            for k in rowStart[i]..<rowStart[i + 1] { s += values[k] * x[columnIndices[k]] }
            y[i] = s
        }
        return y
    }

    /// The transpose Aᵀ, in CSR form (which is A in compressed sparse column form).
    /// - Complexity: O(rows + columns + non-zeros).
    public func transposed() -> SparseMatrix {
        var start = [Int](repeating: 0, count: columnCount + 1)
        for j in columnIndices { start[j + 1] += 1 }
        for j in 0..<columnCount { start[j + 1] += start[j] }
        var next = start
        var columns = [Int](repeating: 0, count: nonzeroCount)
        var newValues = [Scalar](repeating: 0, count: nonzeroCount)
        for i in 0..<rowCount {
            for k in rowStart[i]..<rowStart[i + 1] {
                let j = columnIndices[k]
                columns[next[j]] = i
                newValues[next[j]] = values[k]
                next[j] += 1
            }
        }
        return SparseMatrix(rowCount: columnCount, columnCount: rowCount, rowStart: start, columnIndices: columns,
                            values: newValues)
    }
}

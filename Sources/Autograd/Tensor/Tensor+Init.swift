import CAutogradKernels

extension Tensor {
    /// A tensor of the given shape holding `scalars` in row-major order (the last axis varies fastest).
    ///
    /// Stops if `scalars.count` is not the product of `shape`.
    public init(shape: [Int], scalars: [Scalar], file: StaticString = #fileID, line: UInt = #line) {
        let loc = CallSite(file: file, line: line)
        let n = Shape.elementCount(shape, "Tensor(shape:scalars:)", at: loc)
        if n != scalars.count {
            operationFailure("Tensor(shape:scalars:)", "shape \(describe(shape)) holds \(n) elements but "
                + "\(scalars.count) scalars were given", at: loc)
        }
        let storage = Storage.make(type: Scalar.scalarType, count: n)
        scalars.withUnsafeBufferPointer { src in
            if n > 0 { storage.base.copyMemory(from: src.baseAddress!, byteCount: n * Scalar.scalarType.byteCount) }
        }
        Trace.constant(storage)
        self.init(unchecked: AnyTensor(storage: storage, shape: shape))
    }

    /// A 0-d tensor (shape `[]`) holding one value.
    public init(_ scalar: Scalar) { self.init(shape: [], scalars: [scalar]) }

    /// A 1-d tensor (shape `[scalars.count]`).
    public init(_ scalars: [Scalar]) { self.init(shape: [scalars.count], scalars: scalars) }

    /// A 2-d tensor from rows of equal length (shape `[rows.count, rows[0].count]`).
    public init(_ rows: [[Scalar]], file: StaticString = #fileID, line: UInt = #line) {
        let width = rows.first?.count ?? 0
        if let bad = rows.firstIndex(where: { $0.count != width }) {
            operationFailure("Tensor(_: [[Scalar]])", "row \(bad) has \(rows[bad].count) elements but row 0 has "
                + "\(width); all rows must have the same length", at: CallSite(file: file, line: line))
        }
        self.init(shape: [rows.count, width], scalars: rows.flatMap { $0 })
    }

    /// A 3-d tensor from nested arrays of equal lengths.
    public init(_ planes: [[[Scalar]]], file: StaticString = #fileID, line: UInt = #line) {
        let rows = planes.first?.count ?? 0, width = planes.first?.first?.count ?? 0
        if planes.contains(where: { $0.count != rows || $0.contains { $0.count != width } }) {
            operationFailure("Tensor(_: [[[Scalar]]])", "nested arrays have unequal lengths; every plane needs "
                + "\(rows) rows of \(width) elements", at: CallSite(file: file, line: line))
        }
        self.init(shape: [planes.count, rows, width], scalars: planes.flatMap { $0.flatMap { $0 } })
    }

    /// A tensor of the given shape with every element equal to `value`.
    public init(repeating value: Scalar, shape: [Int], file: StaticString = #fileID, line: UInt = #line) {
        let n = Shape.elementCount(shape, "Tensor(repeating:shape:)", at: CallSite(file: file, line: line))
        self.init(shape: shape, scalars: [Scalar](repeating: value, count: n))
    }
}

extension Tensor where Scalar: TensorScalar {
    /// A tensor of zeros of the given shape (a constant: it records nothing until used with recorded tensors).
    public init(zeros shape: [Int], file: StaticString = #fileID, line: UInt = #line) {
        _ = Shape.elementCount(shape, "Tensor(zeros:)", at: CallSite(file: file, line: line))
        self.init(unchecked: Kernel.filled(Scalar.scalarType, shape, 0))
    }

    /// A tensor of ones of the given shape (a constant). `Tensor(ones: y.shape)` is the cotangent whose vᵀJ is the
    /// gradient of `y.sum()`.
    public init(ones shape: [Int], file: StaticString = #fileID, line: UInt = #line) {
        _ = Shape.elementCount(shape, "Tensor(ones:)", at: CallSite(file: file, line: line))
        self.init(unchecked: Kernel.filled(Scalar.scalarType, shape, 1))
    }

    /// Zeros shaped like `other`.
    public init(zerosLike other: Tensor) { self.init(zeros: other.shape) }

    /// Ones shaped like `other`.
    public init(onesLike other: Tensor) { self.init(ones: other.shape) }

    /// The 1-d tensor `[start, start + stride, …]` of values below `end` (NumPy's `arange`).
    /// Shape `[⌈(end − start) / stride⌉]`, or `[0]` if that is negative. Stops if a bound is not finite, the stride
    /// is 0, or the count does not fit in `Int`.
    public init(rangeFrom start: Scalar, to end: Scalar, stride: Scalar = 1,
                file: StaticString = #fileID, line: UInt = #line) {
        let loc = CallSite(file: file, line: line), name = "Tensor(rangeFrom:to:stride:)"
        if stride == 0 || !stride.isFinite {
            operationFailure(name, "stride must be finite and nonzero, got \(stride)", at: loc)
        }
        if !start.isFinite || !end.isFinite {
            operationFailure(name, "start and end must be finite, got \(start) and \(end)", at: loc)
        }
        let steps = ((end - start) / stride).rounded(.up)
        if steps >= Scalar(Int.max) {
            operationFailure(name, "from \(start) to \(end) in steps of \(stride) makes \(steps) elements, more than Int "
                + "can count", at: loc)
        }
        let n = Swift.max(0, Int(steps))
        let storage = Storage.make(type: Scalar.scalarType, count: n, for: name, at: loc)
        let elements = storage.base.assumingMemoryBound(to: Scalar.self)
        for i in 0..<n { elements[i] = start + Scalar(i) * stride }
        Trace.constant(storage)
        self.init(unchecked: AnyTensor(storage: storage, shape: [n]))
    }

    /// `count` evenly spaced values from `start` to `end`, both included (NumPy's `linspace`). Shape `[count]`.
    /// Stops if `count` is negative.
    public init(linearSpaceFrom start: Scalar, to end: Scalar, count: Int,
                file: StaticString = #fileID, line: UInt = #line) {
        if count < 0 {
            operationFailure("Tensor(linearSpaceFrom:to:count:)", "count must be 0 or more, got \(count)",
                             at: CallSite(file: file, line: line))
        }
        if count == 1 { self.init([start]); return }
        let step = count > 1 ? (end - start) / Scalar(count - 1) : 0
        self.init((0..<Swift.max(count, 0)).map { $0 == count - 1 ? end : start + Scalar($0) * step })
    }

    /// The n × n identity matrix. Shape `[n, n]`. Stops if n is negative or n² does not fit in `Int`.
    public init(identity n: Int, file: StaticString = #fileID, line: UInt = #line) {
        var s = [Scalar](repeating: 0, count: Shape.elementCount([n, n], "Tensor(identity:)",
                                                                 at: CallSite(file: file, line: line)))
        for i in 0..<n { s[i * n + i] = 1 }
        self.init(shape: [n, n], scalars: s)
    }

    /// Independent normal samples N(mean, standardDeviation²) drawn from `generator`, in row-major order.
    /// The same generator state gives the same tensor (for Float and Double alike: samples are drawn in Double).
    /// Stops if `standardDeviation` is negative or either parameter is not finite.
    public init<G: RandomNumberGenerator>(randomNormal shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1,
                                          using generator: inout G, file: StaticString = #fileID, line: UInt = #line) {
        let loc = CallSite(file: file, line: line)
        let n = Shape.elementCount(shape, "Tensor(randomNormal:)", at: loc)
        Trace.unsupported("drawing a random tensor (Tensor(randomNormal:using:)) inside the function, which a trace would "
            + "freeze to the numbers drawn once", advice: "draw the random tensor outside the compiled function and "
            + "pass it in as an input")
        if !(standardDeviation >= 0) || !standardDeviation.isFinite || !mean.isFinite {
            operationFailure("Tensor(randomNormal:)", "the standard deviation must be finite and 0 or more and the "
                + "mean finite, got standardDeviation \(standardDeviation) and mean \(mean)", at: loc)
        }
        var s = [Scalar]()
        s.reserveCapacity(n)
        for _ in 0..<n { s.append(mean + standardDeviation * Scalar(generator.nextStandardNormal())) }
        self.init(shape: shape, scalars: s)
    }

    /// Independent uniform samples in `range` (lower bound included, upper excluded) drawn from `generator`.
    /// Stops if the range is empty (such as `1..<1`) or a bound is not finite.
    public init<G: RandomNumberGenerator>(randomUniform shape: [Int], in range: Range<Scalar> = 0..<1,
                                          using generator: inout G, file: StaticString = #fileID, line: UInt = #line) {
        let loc = CallSite(file: file, line: line)
        let n = Shape.elementCount(shape, "Tensor(randomUniform:)", at: loc)
        Trace.unsupported("drawing a random tensor (Tensor(randomUniform:using:)) inside the function, which a trace would "
            + "freeze to the numbers drawn once", advice: "draw the random tensor outside the compiled function and "
            + "pass it in as an input")
        if range.isEmpty || !range.lowerBound.isFinite || !range.upperBound.isFinite {
            operationFailure("Tensor(randomUniform:)", "the range \(range.lowerBound)..<\(range.upperBound) "
                + (range.isEmpty ? "is empty: it holds no number to draw" : "must have finite bounds"), at: loc)
        }
        let width = Double(range.upperBound - range.lowerBound)
        var s = [Scalar]()
        s.reserveCapacity(n)
        for _ in 0..<n {
            var v = range.lowerBound + Scalar(generator.nextUnitDouble() * width)
            if v >= range.upperBound { v = range.lowerBound }   // rounding to Float can reach the bound
            s.append(v)
        }
        self.init(shape: shape, scalars: s)
    }

    /// Converts another floating-point tensor elementwise (Float ↔ Double). A primitive: derivatives flow back
    /// through the conversion (converted to the other type).
    public init<Other: TensorScalar>(converting other: Tensor<Other>) {
        self.init(unchecked: other.base.converted(to: Scalar.scalarType))
    }
}

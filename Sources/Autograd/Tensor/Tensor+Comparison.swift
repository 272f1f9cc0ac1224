import CAutogradKernels

// Elementwise comparisons give Bool tensors (masks), broadcasting like arithmetic. They have no derivative; a mask
// steers derivatives only through `Tensor.where`.

extension Tensor where Scalar: TensorScalar {
    private static func compare(_ op: ag_compare_op, _ a: Tensor, _ b: Tensor, _ name: String) -> Tensor<Bool> {
        if let mask = VMapTracing.traced(name, [a.base, b.base], { v, _ in Kernel.compare(op, v[0], v[1], name, at: nil) }) {
            return Tensor<Bool>(unchecked: mask)
        }
        return Tensor<Bool>(unchecked: Kernel.compare(op, a.base, b.base, name, at: nil))
    }
    /// a == b elementwise, broadcasting; a Bool mask.
    public static func .== (a: Tensor, b: Tensor) -> Tensor<Bool> { compare(AG_COMPARE_EQ, a, b, ".==") }
    /// a != b elementwise, broadcasting; a Bool mask (true where either is NaN).
    public static func .!= (a: Tensor, b: Tensor) -> Tensor<Bool> { compare(AG_COMPARE_NE, a, b, ".!=") }
    /// a < b elementwise, broadcasting; a Bool mask.
    public static func .< (a: Tensor, b: Tensor) -> Tensor<Bool> { compare(AG_COMPARE_LT, a, b, ".<") }
    /// a <= b elementwise, broadcasting; a Bool mask.
    public static func .<= (a: Tensor, b: Tensor) -> Tensor<Bool> { compare(AG_COMPARE_LE, a, b, ".<=") }
    /// a > b elementwise, broadcasting; a Bool mask.
    public static func .> (a: Tensor, b: Tensor) -> Tensor<Bool> { compare(AG_COMPARE_GT, a, b, ".>") }
    /// a >= b elementwise, broadcasting; a Bool mask.
    public static func .>= (a: Tensor, b: Tensor) -> Tensor<Bool> { compare(AG_COMPARE_GE, a, b, ".>=") }

    /// x == s elementwise: a Bool mask shaped like x (no derivative).
    public static func .== (a: Tensor, s: Scalar) -> Tensor<Bool> { a .== Tensor(s) }
    /// x != s elementwise: a Bool mask shaped like x (no derivative).
    public static func .!= (a: Tensor, s: Scalar) -> Tensor<Bool> { a .!= Tensor(s) }
    /// x < s elementwise: a Bool mask shaped like x (no derivative).
    public static func .< (a: Tensor, s: Scalar) -> Tensor<Bool> { a .< Tensor(s) }
    /// x <= s elementwise: a Bool mask shaped like x (no derivative).
    public static func .<= (a: Tensor, s: Scalar) -> Tensor<Bool> { a .<= Tensor(s) }
    /// x > s elementwise: a Bool mask shaped like x (no derivative).
    public static func .> (a: Tensor, s: Scalar) -> Tensor<Bool> { a .> Tensor(s) }
    /// x >= s elementwise: a Bool mask shaped like x (no derivative).
    public static func .>= (a: Tensor, s: Scalar) -> Tensor<Bool> { a .>= Tensor(s) }

    /// `condition ? a : b` elementwise (NumPy's `where`), broadcasting all three to a common shape.
    /// Primitive `where`, linear in (a, b): the derivative flows to `a` where the condition holds and to `b`
    /// elsewhere; the condition itself has no derivative.
    public static func `where`(_ condition: Tensor<Bool>, _ a: Tensor, _ b: Tensor,
                               file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Tensor(unchecked: select(condition.base, a.base, b.base, at: CallSite(file: file, line: line)))
    }

    /// `condition ? a : s` elementwise for a constant s.
    public static func `where`(_ condition: Tensor<Bool>, _ a: Tensor, _ s: Scalar,
                               file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Tensor.where(condition, a, Tensor(s), file: file, line: line)
    }

    /// `condition ? s : b` elementwise for a constant s.
    public static func `where`(_ condition: Tensor<Bool>, _ s: Scalar, _ b: Tensor,
                               file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        Tensor.where(condition, Tensor(s), b, file: file, line: line)
    }

    /// A mask that is true where the element is neither NaN nor infinite. (Computed with kernels only, so anomaly
    /// detection does not report the infinities it looks for.)
    public var isFinite: Tensor<Bool> {
        if let mask = VMapTracing.traced("isFinite", [base], { v, _ in
            Kernel.compare(AG_COMPARE_LT, Kernel.unary(AG_UNARY_ABS, v[0]), .filled(.infinity, like: v[0], shape: []),
                           "isFinite", at: nil)
        }) {
            return Tensor<Bool>(unchecked: mask)
        }
        return Tensor<Bool>(unchecked: Kernel.compare(AG_COMPARE_LT, Kernel.unary(AG_UNARY_ABS, base.value),
                                               .filled(.infinity, like: base, shape: []), "isFinite", at: nil))
    }

    /// A mask that is true where the element is NaN.
    public var isNaN: Tensor<Bool> { self.detached() .!= self.detached() }

    /// The mask converted to numbers: 1 where true, 0 where false.
    public init(_ mask: Tensor<Bool>) {
        let type = Scalar.scalarType
        self.init(unchecked: VMapTracing.traced("mask to numbers", [mask.base]) { v, _ in Kernel.convert(v[0], to: type) }
            ?? Kernel.convert(mask.base, to: type))
    }
}

extension Tensor where Scalar == Bool {
    /// Elementwise logical not: a mask of the same shape.
    public static prefix func ! (mask: Tensor) -> Tensor {
        let not: @Sendable ([AnyTensor], Int) -> AnyTensor = { v, _ in
            Tensor(shape: v[0].shape, scalars: Tensor<Bool>(unchecked: v[0]).scalars.map { !$0 }).base
        }
        if let t = VMapTracing.traced("not", [mask.base], not) { return Tensor(unchecked: t) }
        return Tensor(unchecked: not([mask.base.value], 0))
    }
    /// Elementwise logical and, broadcasting: a mask of the broadcast shape.
    public static func .& (a: Tensor, b: Tensor) -> Tensor {
        Tensor<Float>(a) * Tensor<Float>(b) .> Tensor<Float>(0)
    }
    /// Elementwise logical or, broadcasting: a mask of the broadcast shape.
    public static func .| (a: Tensor, b: Tensor) -> Tensor {
        Tensor<Float>(a) + Tensor<Float>(b) .> Tensor<Float>(0)
    }
    /// Whether any element is true (false for an empty mask).
    public func any() -> Bool { scalars.contains(true) }
    /// Whether every element is true (true for an empty mask).
    public func all() -> Bool { !scalars.contains(false) }
    /// How many elements are true.
    public var trueCount: Int { scalars.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

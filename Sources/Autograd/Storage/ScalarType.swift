/// The element type of a tensor's buffer, known at run time.
///
/// ``Tensor`` carries its element type statically (`Tensor<Float>`); ``AnyTensor`` carries it as this value, so
/// that code working with tensors of several element types (a model with Float and Double parameters, say)
/// can check it.
public enum ScalarType: String, Sendable, Equatable, CustomStringConvertible {
    /// 32-bit IEEE floating point (`Float`).
    case float32 = "Float"
    /// 64-bit IEEE floating point (`Double`).
    case float64 = "Double"
    /// Truth values stored one per byte (`Bool`), the result of comparisons.
    case bool = "Bool"
    /// 32-bit signed integers (`Int32`): index tensors (the positions `argsort`, `argmax` and `topK` return, and
    /// `gathering(alongAxis:indices:)` and `scatterAdding` read). Never differentiated.
    case int32 = "Int32"

    /// Bytes per element: 4, 8, 1 or 4.
    public var byteCount: Int {
        switch self {
        case .float32: 4
        case .float64: 8
        case .bool: 1
        case .int32: 4
        }
    }

    /// The Swift name of the element type, as in `Tensor<Float>`.
    public var description: String { rawValue }
}

/// A type that can be the element of a ``Tensor``: `Float`, `Double`, `Bool` or `Int32`.
///
/// Only the library's own conformances are supported; the kernels exist for these four types. `Bool` (masks) and
/// `Int32` (index tensors) are elements but not ``TensorScalar``s: tensors of them are never differentiated.
public protocol TensorElement: Sendable, Equatable, CustomStringConvertible {
    /// The run-time tag of this element type.
    static var scalarType: ScalarType { get }
}

/// A floating-point type that tensors can compute with and differentiate: `Float` or `Double`.
///
/// Every numeric kernel exists in a Float and a Double version; the library picks one per operation (never per
/// element), so generic code over `TensorScalar` costs one dispatch per operation.
public protocol TensorScalar: TensorElement, BinaryFloatingPoint, LosslessStringConvertible
where Self.RawSignificand: FixedWidthInteger {
    /// This value as a Double (exact for Float and Double). A requirement rather than `Double(x)` so that generic
    /// code converts with one direct call instead of the generic conversion path.
    var doubleValue: Double { get }
}

extension Float: TensorScalar {
    /// `.float32`.
    public static var scalarType: ScalarType { .float32 }
    /// `Double(self)`.
    @inlinable public var doubleValue: Double { Double(self) }
}

extension Double: TensorScalar {
    /// `.float64`.
    public static var scalarType: ScalarType { .float64 }
    /// `self`.
    @inlinable public var doubleValue: Double { self }
}

extension Bool: TensorElement {
    /// `.bool`.
    public static var scalarType: ScalarType { .bool }
}

extension Int32: TensorElement {
    /// `.int32`.
    public static var scalarType: ScalarType { .int32 }
}

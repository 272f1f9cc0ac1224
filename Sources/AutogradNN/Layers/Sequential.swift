import Autograd

/// Layers applied one after another, written as a list (PyTorch's `nn.Sequential`):
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let mlp = Sequential {
///     Linear<Float>(inputSize: 30, outputSize: 16, using: &rng)
///     ReLU<Float>()
///     Linear<Float>(inputSize: 16, outputSize: 1, using: &rng)
/// }
/// print(mlp.parameterNames)   // ["0.weight", "0.bias", "2.weight", "2.bias"], as PyTorch names them
/// ```
///
/// The list is built by ``LayerBuilder`` into nested ``Chain`` values, so every layer keeps its static type: no
/// existential boxes, and every parameter is reachable by a key path. Parameters are named by the layer's
/// position in the list (counting layers without parameters), then the layer's own name.
public struct Sequential<Body: Layer>: Layer {
    /// The element type of every layer.
    public typealias Scalar = Body.Scalar

    /// The layers, as nested ``Chain``s (or the single layer of a one-element list).
    public var body: Body

    /// The layers listed in `content`, applied first to last.
    public init(@LayerBuilder _ content: () -> Body) {
        body = content()
    }

    /// Each layer's parameters, named `position.name` (`0.weight`, `2.bias`, …).
    public var parameterPaths: [ParameterPath<Sequential>] {
        let paths = body.parameterPaths
        let prefix: String? = Body.self is any _LayerList.Type ? nil : "0"
        return paths.map { $0.nested(prefix: prefix, read: { $0.body }, modify: { $1(&$0.body) }, keyPath: { \.body }) }
    }

    /// The last layer applied to … the first layer applied to `input`.
    public func callAsFunction(_ input: Tensor<Body.Scalar>) -> Tensor<Body.Scalar> { body(input) }
}

extension Sequential: Sendable where Body: Sendable {}

/// Two layers applied one after the other: `second(first(x))`. ``LayerBuilder`` makes these; a list of n layers
/// is n − 1 chains nested to the left, `Chain<Chain<A, B>, C>`.
public struct Chain<First: Layer, Second: Layer>: Layer where First.Scalar == Second.Scalar {
    /// The element type of both layers.
    public typealias Scalar = First.Scalar

    /// The layer applied first.
    public var first: First
    /// The layer applied to the first one's output.
    public var second: Second

    init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    /// The parameters of the flattened list: layer i's named `i.name`.
    public var parameterPaths: [ParameterPath<Chain>] {
        let firstIsList = First.self is any _LayerList.Type
        let firstCount = (First.self as? any _LayerList.Type)?.layerCount ?? 1
        return first.parameterPaths.map {
            $0.nested(prefix: firstIsList ? nil : "0", read: { $0.first }, modify: { $1(&$0.first) },
                      keyPath: { \.first })
        } + second.parameterPaths.map {
            $0.nested(prefix: "\(firstCount)", read: { $0.second }, modify: { $1(&$0.second) }, keyPath: { \.second })
        }
    }

    /// second(first(x)).
    public func callAsFunction(_ input: Tensor<First.Scalar>) -> Tensor<First.Scalar> { second(first(input)) }
}

extension Chain: Sendable where First: Sendable, Second: Sendable {}

/// A chain of layers built by ``LayerBuilder``: its parameter names are already numbered by position.
/// (Public only because ``Chain`` conforms to it; not meant to be adopted.)
public protocol _LayerList {
    /// The number of layers in the flattened list.
    static var layerCount: Int { get }
}

extension Chain: _LayerList {
    /// The layers of `First` (flattened) plus one.
    public static var layerCount: Int { ((First.self as? any _LayerList.Type)?.layerCount ?? 1) + 1 }
}

/// Builds a list of layers into nested ``Chain``s, for ``Sequential``. Every layer must have the same `Scalar`.
@resultBuilder
public enum LayerBuilder {
    /// The first layer of the list.
    public static func buildPartialBlock<L: Layer>(first: L) -> L { first }

    /// The layers so far followed by the next one.
    public static func buildPartialBlock<A: Layer, B: Layer>(accumulated: A, next: B) -> Chain<A, B>
    where A.Scalar == B.Scalar {
        Chain(accumulated, next)
    }
}

import Autograd

/// A value that holds trainable tensors and can name and reach each of them through a key path.
///
/// A conforming type lists its parameters in ``parameterPaths``, in a fixed order. Everything else builds on that
/// list: ``parameters`` reads and writes all of them at once as `[Tensor]` (what ``valueWithGradients(at:of:)``,
/// ``jvp(of:at:tangents:)`` and the optimizers work with), parameter files use the names, and composed models
/// collect their children's lists with ``parameterPaths(of:named:)``.
///
/// ```swift
/// struct MLP: Layer {
///     typealias Scalar = Float        // name it: Swift cannot infer it from the paths below
///     var hidden: Linear<Float>
///     var output: Linear<Float>
///
///     var parameterPaths: [ParameterPath<MLP>] {
///         parameterPaths(of: \.hidden, named: "hidden") + parameterPaths(of: \.output, named: "output")
///     }
///     func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { output(relu(hidden(x))) }
/// }
/// // mlp.parameterNames == ["hidden.weight", "hidden.bias", "output.weight", "output.bias"]
/// ```
///
/// Paths are a property of the value, not the type, so that a parameter that only some values have (the bias of
/// a ``Linear`` made with `bias: false`) is simply not listed.
public protocol Parameterized<Scalar> {
    /// The element type of every parameter.
    associatedtype Scalar: TensorScalar

    /// Every trainable tensor of this value, each with a unique name, in a fixed order. The order is the order of
    /// ``parameters``, of the gradients returned by ``valueWithGradients(at:of:)`` and of optimizer state.
    var parameterPaths: [ParameterPath<Self>] { get }
}

/// One trainable tensor of a model: its name and the key path that reaches it.
///
/// Reading and writing go through closures made once per path; the key path itself is built only when asked for
/// (``keyPath``). The reason is speed: a key path literal inside a generic type (`\Linear<Scalar>.weight`) is
/// instantiated anew, from its mangled pattern, every time it is evaluated, and a nested path appends one key
/// path per level. A training step reads and writes every parameter several times, so the library's own layers
/// build their paths from closures; a model's own paths made with key paths work the same way, a little slower.
public struct ParameterPath<Root: Parameterized> {
    /// The name used in parameter files and messages: field names from the model down, joined by dots
    /// (`hidden.weight`, or `0.bias` inside a ``Sequential``).
    public let name: String
    /// Reads the parameter from a model.
    let read: (Root) -> Tensor<Root.Scalar>
    /// Replaces the parameter in a model.
    let write: (inout Root, Tensor<Root.Scalar>) -> Void
    private let makeKeyPath: () -> WritableKeyPath<Root, Tensor<Root.Scalar>>

    /// A parameter called `name`, reached through `keyPath`.
    public init(_ name: String, _ keyPath: WritableKeyPath<Root, Tensor<Root.Scalar>>) {
        self.init(name, read: { $0[keyPath: keyPath] }, write: { $0[keyPath: keyPath] = $1 }, keyPath: { keyPath })
    }

    /// A parameter read and written by closures, with its key path made on demand.
    init(_ name: String, read: @escaping (Root) -> Tensor<Root.Scalar>,
         write: @escaping (inout Root, Tensor<Root.Scalar>) -> Void,
         keyPath: @escaping () -> WritableKeyPath<Root, Tensor<Root.Scalar>>) {
        self.name = name
        self.read = read
        self.write = write
        self.makeKeyPath = keyPath
    }

    /// Where the tensor lives in the model, as one key path (`model[keyPath: path.keyPath]`). Built on each call
    /// (for a nested parameter, by appending the key paths of every level).
    public var keyPath: WritableKeyPath<Root, Tensor<Root.Scalar>> { makeKeyPath() }

    /// This parameter seen from a value that holds `Root` at `child`: the key path `child` followed by this one,
    /// named `prefix.name` (or just `name` when `prefix` is nil).
    public func nested<Outer: Parameterized>(in child: WritableKeyPath<Outer, Root>, prefix: String?)
        -> ParameterPath<Outer> where Outer.Scalar == Root.Scalar {
        nested(prefix: prefix, read: { $0[keyPath: child] }, modify: { $1(&$0[keyPath: child]) }, keyPath: { child })
    }

    /// ``nested(in:prefix:)`` with the child reached by closures: `read` returns it, `modify` lets a closure
    /// change it in place.
    func nested<Outer: Parameterized>(prefix: String?, read readChild: @escaping (Outer) -> Root,
                                      modify: @escaping (inout Outer, (inout Root) -> Void) -> Void,
                                      keyPath child: @escaping () -> WritableKeyPath<Outer, Root>)
        -> ParameterPath<Outer> where Outer.Scalar == Root.Scalar {
        let (read, write, makeKeyPath) = (self.read, self.write, self.makeKeyPath)
        return ParameterPath<Outer>(prefix.map { "\($0).\(name)" } ?? name,
                                    read: { read(readChild($0)) },
                                    write: { outer, value in modify(&outer) { write(&$0, value) } },
                                    keyPath: { child().appending(path: makeKeyPath()) })
    }
}

extension Parameterized {
    /// The parameters of the child at `child`, reached through it and named `name.childName`; the building block
    /// of ``parameterPaths`` for a model made of other models.
    public func parameterPaths<Child: Parameterized>(of child: WritableKeyPath<Self, Child>, named name: String)
        -> [ParameterPath<Self>] where Child.Scalar == Scalar {
        self[keyPath: child].parameterPaths.map { $0.nested(in: child, prefix: name) }
    }

    /// The names of the parameters, in ``parameterPaths`` order.
    public var parameterNames: [String] { parameterPaths.map(\.name) }

    /// The number of trainable numbers: the sum of the parameters' element counts.
    public var parameterScalarCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// All parameters as an array, in ``parameterPaths`` order.
    ///
    /// Setting it replaces every parameter at once; the new array must have one tensor per parameter, each with
    /// the shape of the one it replaces (the program stops otherwise, naming the parameter). The tensors are
    /// stored as given, so setting recorded tensors inside a derivative call makes the model's output depend on
    /// them: this is how ``valueWithGradients(at:of:)`` differentiates with respect to a model.
    public var parameters: [Tensor<Scalar>] {
        get { parameterPaths.map { $0.read(self) } }
        set { self = replacingParameters(with: newValue) }
    }

    /// A copy of this value with every parameter replaced by the tensor at the same position in `values`
    /// (see ``parameters`` for the checks).
    public func replacingParameters(with values: [Tensor<Scalar>], file: StaticString = #fileID,
                                    line: UInt = #line) -> Self {
        let paths = parameterPaths
        let loc = CallSite(file: file, line: line)
        if values.count != paths.count {
            operationFailure("replacingParameters(with:)", "got \(values.count) tensors for a model with \(paths.count) "
                + "parameters (\(paths.map(\.name).joined(separator: ", "))); pass one per parameter, in "
                + "parameterPaths order", at: loc)
        }
        var copy = self
        for (path, value) in zip(paths, values) {
            let old = path.read(copy)
            if old.shape != value.shape {
                operationFailure("replacingParameters(with:)", "parameter '\(path.name)' has shape \(describe(old.shape)) "
                    + "but the new value has shape \(describe(value.shape)); a parameter keeps its shape", at: loc)
            }
            path.write(&copy, value)
        }
        return copy
    }
}

// MARK: - Derivatives with respect to a model

/// The value of `loss(model)` and its gradient with respect to every parameter of the model, from one evaluation
/// and one reverse pass.
///
///     gradients[k] = ∂loss/∂θₖ        (θₖ = model.parameters[k]; shaped like θₖ)
///
/// `loss` must return a tensor with one element. The gradients come in ``Parameterized/parameterPaths`` order,
/// ready for an optimizer's `update(_:along:)`. This is ``valueWithGradients(at:of:)`` of the core library
/// applied to `model.parameters`, with the model rebuilt from them inside.
/// - Complexity: one evaluation of `loss` plus one reverse pass (about 3 × the loss).
public func valueWithGradients<Model: Parameterized>(
    at model: Model, of loss: (Model) throws -> Tensor<Model.Scalar>
) throws -> (value: Tensor<Model.Scalar>, gradients: [Tensor<Model.Scalar>]) {
    try valueWithGradients(at: model.parameters) { try loss(model.replacingParameters(with: $0)) }
}

/// The gradients of `loss(model)` with respect to every parameter of the model (see
/// ``valueWithGradients(at:of:)-(Model,_)``).
public func gradients<Model: Parameterized>(
    at model: Model, of loss: (Model) throws -> Tensor<Model.Scalar>
) throws -> [Tensor<Model.Scalar>] {
    try valueWithGradients(at: model, of: loss).gradients
}

/// Forward mode with respect to a model's parameters: the value y = f(model) and the Jacobian-vector product
///
///     J·u = Σₖ (∂y/∂θₖ) · uₖ        (shaped like y)
///
/// with one tangent uₖ per parameter θₖ, shaped like it, in ``Parameterized/parameterPaths`` order: the
/// directional derivative d/dε f(model with θ + εu) at ε = 0. One forward pass, nothing recorded. Applied to
/// per-example losses (y of shape [N]) it gives how every example's loss changes along u.
public func jvp<Model: Parameterized>(
    of f: (Model) throws -> Tensor<Model.Scalar>, at model: Model, tangents: [Tensor<Model.Scalar>]
) throws -> (value: Tensor<Model.Scalar>, tangent: Tensor<Model.Scalar>) {
    let r = try jvp(of: { [try f(model.replacingParameters(with: $0))] }, at: model.parameters, tangents: tangents)
    return (r.values[0], r.tangents[0])
}

/// Per-example gradients with respect to every parameter of a model: for a function returning one loss per
/// example, ℓ = f(model) of shape [N], result k holds each example's gradient with respect to θₖ:
///
///     result[k][i, …] = ∂ℓᵢ/∂θₖ[…]        shape [N] + θₖ.shape
///
/// in ``Parameterized/parameterPaths`` order. This is `perExampleGradients(of:at:)` of the core library applied
/// to `model.parameters`: one forward pass carrying one tangent per scalar parameter.
/// - Complexity: about P evaluations' worth of arithmetic in one pass (P = ``Parameterized/parameterScalarCount``).
/// - Throws: `AutogradError.outputShapeMismatch` if f's output is not one-dimensional.
public func perExampleGradients<Model: Parameterized>(
    of f: (Model) throws -> Tensor<Model.Scalar>, at model: Model
) throws -> [Tensor<Model.Scalar>] {
    try perExampleGradients(of: { try f(model.replacingParameters(with: $0)) }, at: model.parameters)
}

/// The Hessian-vector products of `loss(model)` with respect to the model's parameters: for parameter k,
///
///     result[k] = Σⱼ ∂²loss/∂θₖ∂θⱼ · vⱼ        shaped like θₖ
///
/// with one vector vⱼ per parameter, shaped like it, in ``Parameterized/parameterPaths`` order. Forward over
/// reverse in one pass; the Hessian is never formed. `loss` must return one element.
/// - Complexity: a small constant times one gradient of `loss`.
public func hvp<Model: Parameterized>(
    of loss: (Model) throws -> Tensor<Model.Scalar>, at model: Model, vectors: [Tensor<Model.Scalar>]
) throws -> [Tensor<Model.Scalar>] {
    try hvp(of: { try loss(model.replacingParameters(with: $0)) }, at: model.parameters, vectors: vectors)
}

/// The Hessian of `loss(model)` with respect to all the model's parameters, flattened and concatenated in
/// ``Parameterized/parameterPaths`` order into one vector θ of P = ``Parameterized/parameterScalarCount`` numbers:
///
///     H[a, b] = ∂²loss / ∂θ[a] ∂θ[b]        shape [P, P]
///
/// The block for parameters k and j is `H[offsetₖ ..< offsetₖ + θₖ.count, offsetⱼ ..< offsetⱼ + θⱼ.count]`.
/// `loss` must return one element. Computed forward over reverse in one batched pass (see the core
/// ``hessian(of:at:)``); for H·v alone use ``hvp(of:at:vectors:)-(_,Model,_)``, which never forms H.
/// - Complexity: about P Hessian-vector products in one pass; memory P² elements.
public func hessian<Model: Parameterized>(
    of loss: (Model) throws -> Tensor<Model.Scalar>, at model: Model
) throws -> Tensor<Model.Scalar> {
    let shapes = model.parameters.map(\.shape)
    if shapes.isEmpty { return Tensor(zeros: [0, 0]) }
    let flat = Tensor(concatenating: model.parameters.map { $0.reshaped(to: [$0.count]) }, alongAxis: 0)
    return try hessian(of: { theta in
        var offset = 0
        let parts = shapes.map { shape -> Tensor<Model.Scalar> in
            let count = shape.reduce(1, *)
            defer { offset += count }
            return theta[offset ..< offset + count].reshaped(to: shape)
        }
        return try loss(model.replacingParameters(with: parts))
    }, at: flat)
}

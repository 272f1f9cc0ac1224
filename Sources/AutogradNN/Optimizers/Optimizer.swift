import Autograd

/// An update rule for parameters given their gradients: one call is one optimization step.
///
/// ```swift
/// var optimizer = Adam<Float>(learningRate: 1e-3)
/// for _ in 0..<100 {
///     let g = try gradients(at: model) { m in binaryCrossEntropy(logits: m(x), targets: y) }
///     optimizer.update(&model, along: g)
/// }
/// ```
///
/// Optimizers with state (momentum, moment estimates) keep one state entry per parameter, by position, so one
/// optimizer value belongs to one model: the number and shapes of the parameters must stay the same from step to
/// step (the program stops otherwise). Updates compute values only, inside `withoutRecording`, and store
/// detached tensors, so an update never becomes part of a recorded graph.
public protocol Optimizer<Scalar> {
    /// The element type of the parameters.
    associatedtype Scalar: TensorScalar

    /// One step: replaces every θₖ in `parameters` with its updated value, given gradients[k] = ∂loss/∂θₖ (same
    /// count, same order, same shapes).
    mutating func update(_ parameters: inout [Tensor<Scalar>], along gradients: [Tensor<Scalar>])
}

extension Optimizer {
    /// One step on `parameters` (see ``update(_:along:)``), after checking that the gradients match the
    /// parameters in count and shape; a mismatch stops the program naming the caller's file and line. (Generic code
    /// over `some Optimizer` calls the requirement directly, which checks the same but cannot name the line.)
    public mutating func update(_ parameters: inout [Tensor<Scalar>], along gradients: [Tensor<Scalar>],
                                file: StaticString = #fileID, line: UInt = #line) {
        checkStep(Self.updateName, parameters, gradients, state: nil,
                  at: CallSite(file: file, line: line))
        update(&parameters, along: gradients)
    }

    /// One step on every parameter of `model`, with gradients in ``Parameterized/parameterPaths`` order (as
    /// ``valueWithGradients(at:of:)-(Model,_)`` returns them). Stops, naming the caller's file and line, if the
    /// gradients do not match the parameters in count and shape.
    public mutating func update<Model: Parameterized>(_ model: inout Model, along gradients: [Tensor<Scalar>],
                                                      file: StaticString = #fileID, line: UInt = #line)
    where Model.Scalar == Scalar {
        var parameters = model.parameters
        checkStep(Self.updateName, parameters, gradients, state: nil,
                  at: CallSite(file: file, line: line))
        update(&parameters, along: gradients)
        model.parameters = parameters
    }
}

extension Optimizer {
    /// `SGD.update(_:along:)`, `Adam.update(_:along:)`, …: the call as messages name it.
    static var updateName: String { "\(String(describing: Self.self).prefix { $0 != "<" }).update(_:along:)" }
}

/// Checks that gradients match parameters (and the optimizer's per-parameter state, if any) in count and shape.
func checkStep<Scalar>(_ op: String, _ parameters: [Tensor<Scalar>], _ gradients: [Tensor<Scalar>],
                       state: [Tensor<Scalar>]?, at location: CallSite? = nil) {
    if gradients.count != parameters.count {
        operationFailure(op, "got \(gradients.count) gradients for \(parameters.count) parameters; pass one gradient per "
            + "parameter, in the same order", at: location)
    }
    for (k, (p, g)) in zip(parameters, gradients).enumerated() where p.shape != g.shape {
        operationFailure(op, "gradient \(k) has shape \(describe(g.shape)) but parameter \(k) has shape "
            + "\(describe(p.shape)); a gradient is shaped like its parameter", at: location)
    }
    guard let state else { return }
    if state.count != parameters.count || zip(state, parameters).contains(where: { $0.shape != $1.shape }) {
        operationFailure(op, "this optimizer's earlier steps were for \(state.count) parameters of shapes "
            + "\(state.map { describe($0.shape) }.joined(separator: ", ")), but this step has \(parameters.count) of "
            + "shapes \(parameters.map { describe($0.shape) }.joined(separator: ", ")); an optimizer keeps state per "
            + "parameter, so use one optimizer per model", at: nil)
    }
}

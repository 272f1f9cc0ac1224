import Autograd
import Foundation

// Checkpoints: a model's parameters and its optimizer's state in one safetensors file, so that training can stop
// and resume exactly where it was (the next step after loading equals the step the uninterrupted run takes).
//
// The parameters are stored as in a parameter file, under their names. The optimizer's state tensors follow, named
// `@optimizer/<slot>/<k>` for the slot's tensor of parameter k (`@optimizer/first/0`, `@optimizer/momentum/3`),
// and the metadata records the optimizer's kind and step count:
//     {"format": "autograd-checkpoint", "optimizer": "Adam", "optimizer.step": "120"}
// Hyperparameters (learning rate, betas, …) are not stored: they belong to the optimizer value the program makes,
// as in the code that made the first run.

/// An optimizer's state between steps: the per-parameter tensors of each slot (momentum buffers, moment
/// estimates) and the number of steps taken. What a checkpoint stores besides the parameters.
public struct OptimizerState<Scalar: TensorScalar>: Sendable {
    /// The optimizer type's name without generic arguments (`"SGD"`, `"Adam"`), checked when state is restored.
    public var kind: String
    /// The number of steps taken.
    public var step: Int
    /// For each slot name, one tensor per parameter, in parameter order, shaped like its parameter. Empty before
    /// the first step and for optimizers without per-parameter state.
    public var slots: [String: [Tensor<Scalar>]]

    /// A state of `kind` after `step` steps with the given slots.
    public init(kind: String, step: Int, slots: [String: [Tensor<Scalar>]] = [:]) {
        self.kind = kind
        self.step = step
        self.slots = slots
    }
}

extension Optimizer {
    /// The type's name as checkpoints record it: `"Adam"` for `Adam<Float>`.
    static var kindName: String { String(String(describing: Self.self).prefix { $0 != "<" }) }
}

/// An optimizer whose state can be saved and restored: SGD (momentum buffers), Adam and AdamW (moment estimates).
public protocol StatefulOptimizer<Scalar>: Optimizer {
    /// The state after the steps taken so far.
    var state: OptimizerState<Scalar> { get }
    /// Replaces the state with `state`, which ``state`` of an optimizer of the same type returned.
    /// - Throws: ``ParameterFileError/optimizerMismatch(reason:)`` if it is of another kind or lacks a slot this
    ///   optimizer needs; the optimizer is then unchanged.
    mutating func restore(_ state: OptimizerState<Scalar>) throws
}

extension Parameterized {
    /// The model's parameters and `optimizer`'s state as the bytes of a checkpoint file (safetensors; format in
    /// ``saveCheckpoint(to:optimizer:)``). O(parameter elements + state elements).
    public func checkpointData<O: StatefulOptimizer>(optimizer: O) -> Data where O.Scalar == Scalar {
        let paths = parameterPaths
        var tensors = paths.map { (name: $0.name, tensor: $0.read(self)) }
        let state = optimizer.state
        for slot in state.slots.keys.sorted() {
            for (k, t) in state.slots[slot]!.enumerated() { tensors.append(("\(optimizerPrefix)\(slot)/\(k)", t)) }
        }
        return safetensorsData(tensors, metadata: [("format", "autograd-checkpoint"), ("optimizer", state.kind),
                                                   ("optimizer.step", String(state.step))])
    }

    /// Writes the model's parameters and `optimizer`'s state to one file, to resume training later with
    /// ``loadCheckpoint(contentsOf:optimizer:)``: the steps after loading are those the uninterrupted run takes.
    ///
    /// The file is a safetensors file: the parameters under their names (as ``saveParameters(to:)`` writes them,
    /// so ``loadParameters(contentsOf:)`` reads a checkpoint too), the optimizer's tensors under
    /// `@optimizer/<slot>/<parameter index>`, and the optimizer's kind and step count in the metadata.
    /// Hyperparameters such as the learning rate are not stored: they come from the optimizer the program makes.
    /// - Throws: ``ParameterFileError/unreadable(path:reason:)`` if the file cannot be written.
    public func saveCheckpoint<O: StatefulOptimizer>(to url: URL, optimizer: O) throws where O.Scalar == Scalar {
        do {
            try checkpointData(optimizer: optimizer).write(to: url, options: .atomic)
        } catch {
            throw ParameterFileError.unreadable(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Restores parameters and optimizer state from a checkpoint's bytes (``checkpointData(optimizer:)``), after
    /// checking everything: the parameters as ``loadParameters(from:)`` does, the optimizer's kind, and each state
    /// tensor's count and shapes against the parameters.
    /// - Throws: ``ParameterFileError`` naming the first difference; then neither the model nor the optimizer is
    ///   changed.
    public mutating func loadCheckpoint<O: StatefulOptimizer>(from data: Data, optimizer: inout O) throws
    where O.Scalar == Scalar {
        let (entries, metadata) = try readEntries(data)
        let model = try parametersLoaded(from: entries.filter { !$0.name.hasPrefix(optimizerPrefix) }, data,
                                         "loadCheckpoint(from:optimizer:)")
        guard let kind = metadata["optimizer"], let stepText = metadata["optimizer.step"], let step = Int(stepText),
              step >= 0 else {
            throw ParameterFileError.optimizerMismatch(reason: "the file holds no optimizer state (it is a parameter "
                + "file, not a checkpoint); load it with loadParameters(contentsOf:)")
        }
        let shapes = parameterPaths.map { $0.read(self).shape }
        var slots: [String: [Tensor<Scalar>?]] = [:]
        for entry in entries where entry.name.hasPrefix(optimizerPrefix) {
            let parts = entry.name.dropFirst(optimizerPrefix.count).split(separator: "/")
            guard parts.count == 2, let k = Int(parts[1]), k >= 0, k < shapes.count else {
                throw ParameterFileError.optimizerMismatch(reason: "the optimizer entry '\(entry.name)' does not name "
                    + "a slot and one of the model's \(shapes.count) parameters")
            }
            if entry.dtype != dtypeCode(Scalar.self) {
                throw ParameterFileError.scalarTypeMismatch(name: entry.name, expected: dtypeCode(Scalar.self),
                                                            found: entry.dtype)
            }
            if entry.shape != shapes[k] {
                throw ParameterFileError.shapeMismatch(name: entry.name, expected: shapes[k], found: entry.shape)
            }
            let slot = String(parts[0])
            slots[slot, default: Array(repeating: nil, count: shapes.count)][k] =
                Tensor(shape: entry.shape, scalars: readScalars(data, entry))
        }
        var complete: [String: [Tensor<Scalar>]] = [:]
        for (slot, tensors) in slots {
            if let missing = tensors.firstIndex(where: { $0 == nil }) {
                throw ParameterFileError.optimizerMismatch(reason: "the optimizer slot '\(slot)' has no tensor for "
                    + "parameter \(missing)")
            }
            complete[slot] = tensors.map { $0! }
        }
        var restored = optimizer
        try restored.restore(OptimizerState(kind: kind, step: step, slots: complete))
        optimizer = restored
        self = model
    }

    /// Reads the file at `url` and loads it with ``loadCheckpoint(from:optimizer:)``.
    /// - Throws: ``ParameterFileError``; then neither the model nor the optimizer is changed.
    public mutating func loadCheckpoint<O: StatefulOptimizer>(contentsOf url: URL, optimizer: inout O) throws
    where O.Scalar == Scalar {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ParameterFileError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        try loadCheckpoint(from: data, optimizer: &optimizer)
    }
}

/// Checks a state's kind and takes a slot's tensors (nil if the slot is absent and not required).
func stateSlot<Scalar>(_ state: OptimizerState<Scalar>, _ slot: String, kind: String, required: Bool) throws
    -> [Tensor<Scalar>]? {
    if state.kind != kind {
        throw ParameterFileError.optimizerMismatch(reason: "the state was saved by \(state.kind), but the optimizer "
            + "is \(kind); resume with the same kind of optimizer")
    }
    if state.slots[slot] == nil && required {
        throw ParameterFileError.optimizerMismatch(reason: "\(kind) after \(state.step) steps needs its '\(slot)' "
            + "tensors, which the state does not have")
    }
    return state.slots[slot]
}

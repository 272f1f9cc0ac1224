import Autograd

/// Whether layers compute as in training or as in inference: the switch that ``Dropout`` and ``BatchNorm`` obey
/// (every other layer computes the same in both).
///
/// The mode is an environment value of the current task, not a property of a model: code that calls a model sets
/// it around the call with ``withLayerMode(_:_:)``, and every layer inside, however deeply nested, reads it, so a
/// model needs no mode field and no flag passed through its layers. The default, outside any
/// ``withLayerMode(_:_:)``, is ``training``, as a new PyTorch module is.
///
/// ```swift
/// let logits = withLayerMode(.inference) { model(x) }   // no dropout; batch norm uses its running statistics
/// ```
/// Child tasks inherit the mode of the task that creates them.
public enum LayerMode: Sendable, Hashable {
    /// Dropout drops, batch normalization uses the batch's statistics and updates its running ones.
    case training
    /// Dropout is the identity; batch normalization uses its running statistics and leaves them unchanged.
    case inference

    /// The mode in effect for the current task (``training`` unless ``withLayerMode(_:_:)`` set another).
    @TaskLocal public static var current: LayerMode = .training
}

/// Runs `body` with ``LayerMode/current`` set to `mode`, then restores the previous mode; returns what `body`
/// returns. Calls nest: the innermost mode wins.
public func withLayerMode<R>(_ mode: LayerMode, _ body: () throws -> R) rethrows -> R {
    try LayerMode.$current.withValue(mode, operation: body)
}

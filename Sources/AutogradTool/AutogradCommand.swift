import ArgumentParser
import Autograd


/// The `autograd` command-line tool: `tour`, `explain`, `check` and `train`.
public struct AutogradCommand: ParsableCommand {
    /// Creates the command (argument parsing fills it in).
    public init() {}

    /// Subcommands and help text.
    public static let configuration = CommandConfiguration(
        commandName: "autograd",
        abstract: "Derivatives of tensor functions: gradients, vector-Jacobian and Jacobian-vector products.",
        discussion: """
            Start with `autograd tour`: it walks through the problem this library was built for, step by step.
            `autograd explain` says what each derivative call computes there: formula, shapes, steps and cost.
            """,
        subcommands: [Tour.self, Explain.self, Check.self, Train.self, Bench.self, Example.self],
        defaultSubcommand: nil
    )
}

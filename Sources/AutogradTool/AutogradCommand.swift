import ArgumentParser
import Autograd


/// The `autograd` command-line tool: `tour`, `check`, and the other subcommands.
public struct AutogradCommand: ParsableCommand {
    /// Creates the command (argument parsing fills it in).
    public init() {}

    /// Subcommands and help text.
    public static let configuration = CommandConfiguration(
        commandName: "autograd",
        abstract: "Derivatives of tensor functions: gradients, vector-Jacobian and Jacobian-vector products.",
        discussion: """
            Start with `autograd tour`: it walks through the problem this library was built for, step by step.
            """,
        subcommands: [Tour.self, Check.self, Bench.self],
        defaultSubcommand: nil
    )
}

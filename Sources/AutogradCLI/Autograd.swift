import ArgumentParser
import Autograd

@main
struct AutogradCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autograd",
        abstract: "Derivatives of tensor functions: gradients, vector-Jacobian and Jacobian-vector products.",
        subcommands: []
    )
}

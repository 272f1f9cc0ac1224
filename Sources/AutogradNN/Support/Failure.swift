import Autograd

/// Stops the program with a message naming the operation, what was wrong and, when known, the caller's file and
/// line, in the same form as the core library's operation errors (`operation: message [called at File.swift:12]`).
///
/// Layers, losses and optimizers cannot throw (they run inside derivative calls and are called like operators), so
/// bad data inside them, a class label out of range or a parameter list of the wrong length, is a programming error,
/// as an out-of-range array index is in Swift. Reading files throws instead: a bad file is not a programming error.
func nnFailure(_ operation: String, _ message: String, at location: CallSite?) -> Never {
    let text = "\(operation): \(message)"
    if let location {
        fatalError(text + " [called at \(location)]", file: location.file, line: location.line)
    }
    fatalError(text)
}

/// A shape as NumPy and PyTorch users read it: `[100, 1, 2]`, `[]` for a 0-d tensor.
func describe(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

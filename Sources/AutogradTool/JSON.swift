import Autograd
import Foundation

/// Small helpers to print JSON the commands share.
enum JSON {
    /// A tensor as nested arrays in its shape (a 0-d tensor as a bare number).
    static func nested<S: TensorScalar>(_ t: Tensor<S>) -> Any {
        let values = t.scalars.map { Double($0) }
        func build(_ axis: Int, _ offset: Int) -> Any {
            if axis == t.rank { return values[offset] }
            let stride = t.shape[(axis + 1)...].reduce(1, *)
            return (0..<t.shape[axis]).map { build(axis + 1, offset + $0 * stride) }
        }
        return build(0, 0)
    }

    /// Serializes a JSON-compatible value (dictionaries keep the key order given in `keys` if provided).
    static func string(_ object: Any, pretty: Bool = false) -> String {
        let options: JSONSerialization.WritingOptions = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: options.union(.fragmentsAllowed))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

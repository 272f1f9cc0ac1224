import Autograd
import Foundation

/// The inputs of the workloads that every system computes on number for number: the small portable generator of
/// `Benchmarks/WORKLOADS.md` (SplitMix64, then Box–Muller), the same in any language.
///
/// For a seed s, output k of SplitMix64 is z_k(s); from it `uniform(s, k) = (z_k(s) >> 11)·2⁻⁵³`,
/// `normal(s, k) = sqrt(−2·ln(1 − U(s, 2k)))·cos(2π·U(s, 2k + 1))` and `label(s, k) = z_k(s) mod 10`. A tensor
/// "filled with o + c·N(s)" holds at flat element k the Float nearest to the Double o + c·normal(s, k).
enum PortableInputs {
    /// z_k(s): output k (counted from 0) of SplitMix64 started from state `seed`. Wraps modulo 2⁶⁴.
    static func splitMix(_ seed: UInt64, _ k: Int) -> UInt64 {
        var z = seed &+ (UInt64(k) &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// U(s, k), uniform in [0, 1), exact in Double.
    static func uniform(_ seed: UInt64, _ k: Int) -> Double {
        Double(splitMix(seed, k) >> 11) * 0x1p-53
    }

    /// N(s, k), a standard normal draw (Box–Muller, cosine branch).
    static func normal(_ seed: UInt64, _ k: Int) -> Double {
        (-2 * Foundation.log(1 - uniform(seed, 2 * k))).squareRoot() * Foundation.cos(2 * Double.pi * uniform(seed, 2 * k + 1))
    }

    /// label(s, k), an integer in 0..<10.
    static func label(_ seed: UInt64, _ k: Int) -> Int { Int(splitMix(seed, k) % 10) }

    /// The Doubles o + c·N(s, k) for k in 0..<count.
    static func normals(seed: UInt64, count: Int, offset: Double = 0, scale: Double = 1) -> [Double] {
        (0..<count).map { offset + scale * normal(seed, $0) }
    }

    /// A Float tensor of `shape` filled with o + c·N(s), each element the Float nearest to the Double.
    static func tensor(_ shape: [Int], seed: UInt64, offset: Double = 0, scale: Double = 1) -> Tensor<Float> {
        let count = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: normals(seed: seed, count: count, offset: offset, scale: scale).map(Float.init))
    }

    /// The labels label(s, k) for k in 0..<count.
    static func labels(seed: UInt64, count: Int) -> [Int] { (0..<count).map { label(seed, $0) } }

    /// The probe ⟨g, N(s)⟩ = Σₖ g[k]·N(s, k) of a result, with the Double normals (not rounded to Float): a check
    /// that catches a transposed, permuted or wrongly scaled result whose norm agrees.
    static func probe(_ g: [Double], seed: UInt64) -> Double {
        var sum = 0.0
        for k in g.indices { sum += g[k] * normal(seed, k) }
        return sum
    }
}

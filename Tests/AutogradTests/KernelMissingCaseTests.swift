import CAutogradKernels
import Testing

/// The portable C kernels stop on an operation code they have no case for, instead of computing something else.
@Suite struct KernelMissingCaseTests {
    @Test func unknownUnaryOperationStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var x: [Double] = [1, 2], y: [Double] = [0, 0]
            ag_set_max_cpu_level(0)  // the portable reference kernels
            ag_unary_f64(ag_unary_op(rawValue: 999), 2, &x, &y)
        }
        let message = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("ag_ref_unary_f64 has no case for operation code 999"), "\(message)")
    }
}

import CAutogradKernels
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension KernelTests {
    @Suite struct CPU {
        /// The detected level matches the CPU flags Linux reports (otherwise the other tests would silently only
        /// test the portable code).
        @Test func detectedLevelMatchesCPUFlags() throws {
            #if os(Linux) && arch(x86_64)
            guard let file = fopen("/proc/cpuinfo", "r") else { return }
            defer { fclose(file) }
            var flags: Set<Substring> = []
            var line: UnsafeMutablePointer<CChar>? = nil
            var capacity = 0
            while getline(&line, &capacity, file) > 0 {
                let text = String(cString: line!)
                if text.hasPrefix("flags") {
                    flags = Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }))
                    break
                }
            }
            free(line)
            let avx2 = flags.contains("avx2") && flags.contains("fma")
            let avx512 = avx2 && ["avx512f", "avx512dq", "avx512bw", "avx512vl"].allSatisfy { flags.contains(Substring($0)) }
            #expect(ag_cpu_level() == (avx512 ? 2 : avx2 ? 1 : 0))
            #endif
        }

        @Test func levelCapAndThreadCount() {
            let detected = ag_cpu_level()
            ag_set_max_cpu_level(0)
            #expect(ag_cpu_level() == detected, "the cap does not change what the CPU has")
            ag_set_max_cpu_level(2)
            let saved = ag_num_threads()
            ag_set_num_threads(3)
            #expect(ag_num_threads() == 3)
            ag_set_num_threads(0)
            #expect(ag_num_threads() == 1)
            ag_set_num_threads(saved)
            #expect(ag_num_threads() >= 1)
        }
    }
}

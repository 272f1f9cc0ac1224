// CPU feature detection (decided once) and the user's caps on CPU level and thread count.
#include "internal.h"
#include <stdatomic.h>
#include <unistd.h>

static atomic_int detected_level = -1;
// Per thread, so that a test (or a user) capping the level on one thread does not change the arithmetic of
// computations running on other threads at the same time. Kernels read it once, on the calling thread.
static _Thread_local int max_level = AG_LEVEL_AVX512;
static atomic_int thread_count = 0;

static int detect(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks (via XGETBV) that the OS saves the wide registers.
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return AG_LEVEL_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return AG_LEVEL_AVX2;
#endif
    return AG_LEVEL_PORTABLE;
}

int ag_cpu_level(void) {
    int d = atomic_load_explicit(&detected_level, memory_order_relaxed);
    if (d < 0) {
        d = detect();
        atomic_store_explicit(&detected_level, d, memory_order_relaxed);
    }
    return d;
}

int ag_level(void) {
    int d = ag_cpu_level();
    int cap = max_level;
    return d < cap ? d : cap;
}

void ag_set_max_cpu_level(int level) {
    max_level = level < 0 ? 0 : level;
}

int ag_num_threads(void) {
    int n = atomic_load_explicit(&thread_count, memory_order_relaxed);
    if (n <= 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        n = online > 0 ? (int)online : 1;
        if (n > 64) n = 64;
        atomic_store_explicit(&thread_count, n, memory_order_relaxed);
    }
    return n;
}

void ag_set_num_threads(int n) {
    atomic_store_explicit(&thread_count, n < 1 ? 1 : (n > 64 ? 64 : n), memory_order_relaxed);
}

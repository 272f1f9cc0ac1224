// Shared by the kernel sources; not part of the public contract (ag_kernels.h).
#ifndef AG_INTERNAL_H
#define AG_INTERNAL_H

#include "ag_kernels.h"
#include <stddef.h>
#include <stdint.h>

// ---------------------------------------------------------------------------------------------------------
// Instruction sets. SwiftPM compiles C without -march flags, so every vectorized function carries a target
// attribute and the public entry points pick one at run time (ag_level). Level 2 asks for the AVX-512 subsets
// every AVX-512 CPU since Skylake-SP has (F, DQ, BW, VL); level 1 is Haswell's AVX2 + FMA.
// ---------------------------------------------------------------------------------------------------------

#if defined(__x86_64__) || defined(__i386__)
#define AG_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#define AG_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else  // other processors: these variants compile as portable code and are never chosen (ag_level() == 0)
#define AG_TARGET_AVX512
#define AG_TARGET_AVX2
#endif
#define AG_INLINE static inline __attribute__((always_inline))
#define AG_NOINLINE __attribute__((noinline))

enum { AG_LEVEL_PORTABLE = 0, AG_LEVEL_AVX2 = 1, AG_LEVEL_AVX512 = 2 };

/// The level the kernels use now: min(detected, cap set by ag_set_max_cpu_level). Cheap (one relaxed load).
int ag_level(void);

/// Stops the process with a message naming the kernel and the operation code it has no case for: a new operation
/// added to ag_kernels.h but not to a kernel must fail loudly, never compute something else (such as the identity).
AG_NOINLINE __attribute__((noreturn, cold)) void ag_missing_case(const char *kernel, int op);

static inline int64_t ag_min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t ag_max64(int64_t a, int64_t b) { return a > b ? a : b; }

// ---------------------------------------------------------------------------------------------------------
// Thread pool (threads.c)
// ---------------------------------------------------------------------------------------------------------

/// One part of a parallel task: fn(ctx, part, nparts) for part = 0 ..< nparts.
typedef void (*ag_task_fn)(void *ctx, int part, int nparts);

/// Runs the nparts parts of a task, each exactly once, on the calling thread and up to nparts - 1 pool
/// workers, and returns when all are done. Which thread runs which part is decided at run time (a part may
/// use the running thread's scratch buffers, but must not assume its thread). When the pool is busy with
/// another caller's task (concurrent calls from several threads), the caller runs the task as a single part,
/// fn(ctx, 0, 1), so the partition of the work must depend only on (part, nparts).
void ag_parallel_run(ag_task_fn fn, void *ctx, int nparts);

/// Elementwise operations at least this long are split across the pool (one part per thread, at most
/// ag_num_threads()); below it the hand-off costs more than it saves. About 20 us of work on one core.
enum { AG_PARALLEL_MIN_ELEMENTS = 32768 };

/// The number of parts to split `n` elementwise results into: 1 below AG_PARALLEL_MIN_ELEMENTS, else the thread
/// count (capped by `max_parts`). Every element is computed by the same code whichever part holds it, so results do
/// not depend on the split.
int ag_elementwise_parts(int64_t n, int64_t max_parts);

/// [begin, end) of part `part` of `nparts` over n elements, with inner boundaries at multiples of 64 elements (so
/// vector loops see the same blocks as on one thread, and parts never share a cache line).
static inline void ag_part_range(int64_t n, int part, int nparts, int64_t *begin, int64_t *end) {
    int64_t blocks = (n + 63) / 64;
    *begin = part == 0 ? 0 : (blocks * part / nparts) * 64;
    *end = part == nparts - 1 ? n : (blocks * (part + 1) / nparts) * 64;
    if (*begin > n) *begin = n;
    if (*end > n) *end = n;
}

/// A 64-byte aligned scratch buffer owned by the calling thread, at least `bytes` long. It stays valid until the
/// next call on the same thread (freed when the thread exits). `slot` (0 or 1) selects one of two buffers.
void *ag_thread_scratch(int slot, size_t bytes);

// ---------------------------------------------------------------------------------------------------------
// Batches of small matrix products (gemm_batched.c): run the batch of ag_gemm_batched_* and return 1 if its items
// are small enough for the unpacked kernels, else return 0 without doing anything.
// ---------------------------------------------------------------------------------------------------------

int ag_gemm_small_batched_f32(int64_t batch, int64_t m, int64_t n, int64_t k, const float *a,
                              const int64_t *a_offsets, int64_t rsa, int64_t csa, const float *b,
                              const int64_t *b_offsets, int64_t rsb, int64_t csb, float *c);
int ag_gemm_small_batched_f64(int64_t batch, int64_t m, int64_t n, int64_t k, const double *a,
                              const int64_t *a_offsets, int64_t rsa, int64_t csa, const double *b,
                              const int64_t *b_offsets, int64_t rsb, int64_t csb, double *c);

// ---------------------------------------------------------------------------------------------------------
// Portable reference implementations (portable.c): level 0 of every kernel and the oracle of the tests.
// ---------------------------------------------------------------------------------------------------------

void ag_ref_gemm_f32(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t rsa, int64_t csa,
                     const float *b, int64_t rsb, int64_t csb, float beta, float *c, int64_t ldc);
void ag_ref_gemm_f64(int64_t m, int64_t n, int64_t k, double alpha, const double *a, int64_t rsa, int64_t csa,
                     const double *b, int64_t rsb, int64_t csb, double beta, double *c, int64_t ldc);
void ag_ref_unary_f32(ag_unary_op op, int64_t n, const float *x, float *y);
void ag_ref_unary_f64(ag_unary_op op, int64_t n, const double *x, double *y);
void ag_ref_affine_f32(int64_t n, const float *x, float alpha, float beta, float *y);
void ag_ref_affine_f64(int64_t n, const double *x, double alpha, double beta, double *y);
void ag_ref_binary_f32(ag_binary_op op, int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                       const float *b, const int64_t *sb, float *y);
void ag_ref_binary_f64(ag_binary_op op, int ndim, const int64_t *shape, const double *a, const int64_t *sa,
                       const double *b, const int64_t *sb, double *y);
void ag_ref_compare_f32(ag_compare_op op, int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                        const float *b, const int64_t *sb, uint8_t *y);
void ag_ref_compare_f64(ag_compare_op op, int ndim, const int64_t *shape, const double *a, const int64_t *sa,
                        const double *b, const int64_t *sb, uint8_t *y);
void ag_ref_where_f32(int ndim, const int64_t *shape, const uint8_t *cond, const int64_t *sc, const float *a,
                      const int64_t *sa, const float *b, const int64_t *sb, float *y);
void ag_ref_where_f64(int ndim, const int64_t *shape, const uint8_t *cond, const int64_t *sc, const double *a,
                      const int64_t *sa, const double *b, const int64_t *sb, double *y);
void ag_ref_reduce_f32(ag_reduce_op op, int64_t outer, int64_t r, int64_t inner, const float *x, float *y);
void ag_ref_reduce_f64(ag_reduce_op op, int64_t outer, int64_t r, int64_t inner, const double *x, double *y);
double ag_ref_dot_f32(int64_t n, const float *a, const float *b);
double ag_ref_dot_f64(int64_t n, const double *a, const double *b);
void ag_ref_copy_strided(int64_t elem_size, int ndim, const int64_t *shape, const void *x, const int64_t *sx,
                         void *y);
void ag_ref_copy_into_strided(int64_t elem_size, int ndim, const int64_t *shape, const void *x, void *y,
                              const int64_t *sy);
void ag_ref_gather(int64_t elem_size, int64_t outer, int64_t n, int64_t inner, const void *x, const int64_t *idx,
                   int64_t count, void *y);
void ag_ref_scatter_add_f32(int64_t outer, int64_t n, int64_t inner, const float *x, const int64_t *idx,
                            int64_t count, float *y);
void ag_ref_scatter_add_f64(int64_t outer, int64_t n, int64_t inner, const double *x, const int64_t *idx,
                            int64_t count, double *y);
void ag_ref_convert_f32_to_f64(int64_t n, const float *x, double *y);
void ag_ref_convert_f64_to_f32(int64_t n, const double *x, float *y);
void ag_ref_convert_u8_to_f32(int64_t n, const uint8_t *x, float *y);
void ag_ref_convert_u8_to_f64(int64_t n, const uint8_t *x, double *y);
void ag_ref_fill_f32(int64_t n, float value, float *y);
void ag_ref_fill_f64(int64_t n, double value, double *y);
void ag_ref_bce_f32(int64_t n, const float *p, const float *t, float *l);
void ag_ref_bce_f64(int64_t n, const double *p, const double *t, double *l);

// ---------------------------------------------------------------------------------------------------------
// Strided index spaces (binary, compare, where, copies)
// ---------------------------------------------------------------------------------------------------------

#define AG_MAX_DIMS 16

/// Simplifies an index space walked by `nops` operands: drops dimensions of size 1 and merges neighbours
/// d, d+1 that every operand (and the contiguous output) walks as one (stride[d] == stride[d+1] * shape[d+1]).
/// Writes the result to shape_out / strides_out[op] (outermost first) and returns the new ndim (0 when the
/// space has one element). Returns -1 if the space is empty (some shape[d] == 0).
int ag_coalesce(int ndim, const int64_t *shape, int nops, const int64_t *const *strides,
                int64_t *shape_out, int64_t strides_out[][AG_MAX_DIMS]);

#endif

// Batches of small matrix products: the kernels of gemm_small.h for AVX-512, AVX2 + FMA and portable C, float and
// double, and the driver that decides when a batch takes them instead of one blocked product per item (gemm.c).
#include "internal.h"

// Items larger than this in any dimension go to the blocked product: B's panel (k x 2VW) must stay in L1 and the
// rows of A read in place in L1 or L2.
#define SMALL_MAX_K 512
#define SMALL_MAX_MN 1024
// Multiply-adds per thread below which another thread costs more than it saves (as GEMM_THREAD_WORK in gemm.c).
#define SMALL_THREAD_WORK (64 * 64 * 64)

#define AVX2_FMA(a, b, c) __builtin_elementwise_fma(a, b, c)
#define PLAIN_FMA(a, b, c) ((a) * (b) + (c))

#if defined(__x86_64__) || defined(__i386__)
#define AG_X86 1
#define STARGET AG_TARGET_AVX512
#define VFMA AVX2_FMA
#define T float
#define VW 16
#define MR 8
#define SN(name) name##_small_avx512_f32
#include "gemm_small.h"
#undef T
#undef VW
#undef MR
#undef SN
#define T double
#define VW 8
#define MR 8
#define SN(name) name##_small_avx512_f64
#include "gemm_small.h"
#undef T
#undef VW
#undef MR
#undef SN
#undef STARGET

// AVX2: 16 vector registers; tile 6 x 2 vectors = 12 accumulators, 2 for B, 1 broadcast.
#define STARGET AG_TARGET_AVX2
#define T float
#define VW 8
#define MR 6
#define SN(name) name##_small_avx2_f32
#include "gemm_small.h"
#undef T
#undef VW
#undef MR
#undef SN
#define T double
#define VW 4
#define MR 6
#define SN(name) name##_small_avx2_f64
#include "gemm_small.h"
#undef T
#undef VW
#undef MR
#undef SN
#undef STARGET
#undef VFMA
#endif

// Portable: 16-byte vectors (SSE2 on any x86-64), a separate multiply and add (no FMA instruction to count on).
#define STARGET
#define VFMA PLAIN_FMA
#define T float
#define VW 4
#define MR 4
#define SN(name) name##_small_portable_f32
#include "gemm_small.h"
#undef T
#undef VW
#undef MR
#undef SN
#define T double
#define VW 2
#define MR 4
#define SN(name) name##_small_portable_f64
#include "gemm_small.h"
#undef T
#undef VW
#undef MR
#undef SN
#undef STARGET
#undef VFMA

typedef struct {
    int64_t batch, m, n, k;
    const void *a, *b;
    const int64_t *ao, *bo;
    int64_t rsa, csa, rsb, csb;
    void *c;
    int level, f64;
} small_job;

static void small_task(void *ctx, int part, int nparts) {
    const small_job *j = (const small_job *)ctx;
    int64_t t0 = j->batch * part / nparts, t1 = j->batch * (part + 1) / nparts;
    if (t0 >= t1) return;
#define ITEMS(SFX, TYPE) \
    items_small_##SFX(t0, t1, j->m, j->n, j->k, (const TYPE *)j->a, j->ao, j->rsa, j->csa, (const TYPE *)j->b, \
                      j->bo, j->rsb, j->csb, (TYPE *)j->c)
#ifdef AG_X86
    if (j->level >= AG_LEVEL_AVX512) {
        if (j->f64) ITEMS(avx512_f64, double);
        else ITEMS(avx512_f32, float);
        return;
    }
    if (j->level >= AG_LEVEL_AVX2) {
        if (j->f64) ITEMS(avx2_f64, double);
        else ITEMS(avx2_f32, float);
        return;
    }
#endif
    if (j->f64) ITEMS(portable_f64, double);
    else ITEMS(portable_f32, float);
#undef ITEMS
}

/// Runs the batch with the small-product kernels if its items fit them; returns 0 (doing nothing) otherwise.
static int small_batched(int f64, int64_t batch, int64_t m, int64_t n, int64_t k, const void *a,
                         const int64_t *ao, int64_t rsa, int64_t csa, const void *b, const int64_t *bo, int64_t rsb,
                         int64_t csb, void *c) {
    // Matrix-vector items (m or n 1) are faster as the blocked product's direct loops.
    if (batch < 2 || k > SMALL_MAX_K || m > SMALL_MAX_MN || n > SMALL_MAX_MN || m <= 1 || n <= 1) return 0;
    int nt = ag_num_threads();
    // Threads take whole items: with fewer items than threads, or an uneven split of few large items, the blocked
    // product (all threads on each item) wastes less.
    int64_t work = m * n * ag_max64(k, 1);
    int64_t parts = ag_min64(ag_min64(nt, batch), ag_max64(1, batch * work / SMALL_THREAD_WORK));
    if (parts > 1 && batch < 4 * parts && batch % parts != 0) return 0;
    small_job j = {batch, m, n, k, a, b, ao, bo, rsa, csa, rsb, csb, c, ag_level(), f64};
    if (parts > 1) ag_parallel_run(small_task, &j, (int)parts);
    else small_task(&j, 0, 1);
    return 1;
}

int ag_gemm_small_batched_f32(int64_t batch, int64_t m, int64_t n, int64_t k, const float *a,
                              const int64_t *a_offsets, int64_t rsa, int64_t csa, const float *b,
                              const int64_t *b_offsets, int64_t rsb, int64_t csb, float *c) {
    return small_batched(0, batch, m, n, k, a, a_offsets, rsa, csa, b, b_offsets, rsb, csb, c);
}

int ag_gemm_small_batched_f64(int64_t batch, int64_t m, int64_t n, int64_t k, const double *a,
                              const int64_t *a_offsets, int64_t rsa, int64_t csa, const double *b,
                              const int64_t *b_offsets, int64_t rsb, int64_t csb, double *c) {
    return small_batched(1, batch, m, n, k, a, a_offsets, rsa, csa, b, b_offsets, rsb, csb, c);
}

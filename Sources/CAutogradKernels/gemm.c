// Matrix product: packed, blocked, multithreaded (see gemm_driver.h for the scheme and gemm_kernel.h for the
// register tiles). This file instantiates the kernels for AVX-512, AVX2 + FMA and portable C, for float and
// double, and holds the public entry points.
#include "internal.h"
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include "simd_transpose.h"
#define AG_X86 1
#endif

// Products with at most this many multiply-adds (and all matrix-vector products) run as direct loops; from
// about 8 x 8 x 8 on, packing pays for itself (measured).
#ifndef GEMM_DIRECT_MAX
#define GEMM_DIRECT_MAX 400
#endif
// Matrix-vector products use another thread per this many multiply-adds (they are memory bound).
#define GEMM_DIRECT_THREAD_WORK (512 * 1024)
// Narrow products (n at most this) with contiguous rows of A use the dot-product kernel.
#ifndef GEMM_DOT_MAX_N
#define GEMM_DOT_MAX_N(kit) ((kit)->vl)
#endif
// Multiply-adds per thread below which another thread costs more (wake-up, cache warm-up) than it saves.
#define GEMM_THREAD_WORK (64 * 64 * 64)

typedef struct {
    int mr, vl;        // register tile MR x 2VL (columns come in vectors of VL)
    int64_t kc, mc, nc; // cache blocks: depth, rows of packed A, columns of packed B (see gemm_driver.h)
    void (*kernel)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, float beta, int mr, int nr,
                   int ct);
    void (*kernel_narrow)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, float beta, int mr,
                          int nr, int ct);
    void (*pack_a)(int64_t kc, int mr, const float *a, int64_t rsa, int64_t csa, float alpha, float *out);
    void (*pack_b)(int64_t kc, int64_t nc, const float *b, int64_t rsb, int64_t csb, float *out);
    void (*dot_kernel)(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t rsa, const float *bt,
                       int64_t ldb, float beta, float *c, int64_t ldc);
} gemm_kit_f32;

typedef struct {
    int mr, vl;
    int64_t kc, mc, nc;
    void (*kernel)(int64_t kc, const double *a, const double *b, double *c, int64_t ldc, double beta, int mr,
                   int nr, int ct);
    void (*kernel_narrow)(int64_t kc, const double *a, const double *b, double *c, int64_t ldc, double beta,
                          int mr, int nr, int ct);
    void (*pack_a)(int64_t kc, int mr, const double *a, int64_t rsa, int64_t csa, double alpha, double *out);
    void (*pack_b)(int64_t kc, int64_t nc, const double *b, int64_t rsb, int64_t csb, double *out);
    void (*dot_kernel)(int64_t m, int64_t n, int64_t k, double alpha, const double *a, int64_t rsa,
                       const double *bt, int64_t ldb, double beta, double *c, int64_t ldc);
} gemm_kit_f64;

#ifdef AG_X86
// ---------------------------------------------------------------------------------------------------------
// AVX-512: tile 8 x 32 floats (8 x 16 doubles): 16 accumulators, 2 registers for B, 8 broadcasts of A. Per
// step: 16 FMAs (8 cycles on two FMA ports) against 2 loads and 8 broadcasts, within the two load ports.
// 12 x 32 (24 accumulators) needs fewer loads per FMA on paper, but measured 3-5% slower on a Cascade Lake
// (1024^3 and the MLP shapes, f32 and f64), and 8 divides the usual batch sizes. A micro-panel 8 x kc = 12 KB
// (f32, kc = 384) stays in L1; a B block kc x nc = 384 x 384 floats (576 KB) stays in the 1 MB L2.
// ---------------------------------------------------------------------------------------------------------

// B panels stream from L2: the kernels prefetch them PREFETCH_STEPS steps of k ahead (12 x 128 bytes).
#define PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#define PREFETCH_STEPS 12
#define K_UNROLL "clang loop unroll_count(4)"

#define T float
#define KN(name) name##_avx512_f32
#define KIT gemm_kit_f32
#define TARGET AG_TARGET_AVX512
#define V __m512
#define VL 16
#define MR 8
#define MC 1536
#define KC 384
#define NC 384
#define V_ZERO() _mm512_setzero_ps()
#define V_SET1(x) _mm512_set1_ps(x)
#define V_LOADU(p) _mm512_loadu_ps(p)
#define V_STOREU(p, v) _mm512_storeu_ps(p, v)
#define V_LOADN(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1), p)
#define V_STOREN(p, v, n) _mm512_mask_storeu_ps(p, (__mmask16)((1u << (n)) - 1), v)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_MUL(a, b) _mm512_mul_ps(a, b)
#define V_TRANSPOSE(r) transpose16_ps(r)
#include "gemm_kernel.h"  // undefines the parameters above at its end

#define T double
#define KN(name) name##_avx512_f64
#define KIT gemm_kit_f64
#define V __m512d
#define VL 8
#define MR 8
#define MC 1536
#define KC 256
#define NC 256
#define V_ZERO() _mm512_setzero_pd()
#define V_SET1(x) _mm512_set1_pd(x)
#define V_LOADU(p) _mm512_loadu_pd(p)
#define V_STOREU(p, v) _mm512_storeu_pd(p, v)
#define V_LOADN(p, n) _mm512_maskz_loadu_pd((__mmask8)((1u << (n)) - 1), p)
#define V_STOREN(p, v, n) _mm512_mask_storeu_pd(p, (__mmask8)((1u << (n)) - 1), v)
#define V_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define V_MUL(a, b) _mm512_mul_pd(a, b)
#define V_TRANSPOSE(r) transpose8_pd(r)
#include "gemm_kernel.h"  // undefines the parameters above at its end
#undef TARGET

// ---------------------------------------------------------------------------------------------------------
// AVX2 + FMA: 16 vector registers. Tile 6 x 16 floats (6 x 8 doubles): 12 accumulators, 2 for B, 1 broadcast.
// ---------------------------------------------------------------------------------------------------------

// Lane masks for partial loads and stores: the first n lanes of (mask_table + 8 - n) are all ones.
static const int32_t mask_table_32[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static const int64_t mask_table_64[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

AG_INLINE AG_TARGET_AVX2 __m256i mask8_ps(int n) {
    return _mm256_loadu_si256((const __m256i *)(mask_table_32 + 8 - n));
}
AG_INLINE AG_TARGET_AVX2 __m256i mask4_pd(int n) {
    return _mm256_loadu_si256((const __m256i *)(mask_table_64 + 4 - n));
}

#undef K_UNROLL
#define K_UNROLL "clang loop unroll_count(2)"
#define T float
#define KN(name) name##_avx2_f32
#define KIT gemm_kit_f32
#define TARGET AG_TARGET_AVX2
#define V __m256
#define VL 8
#define MR 6
#define MC 1536
#define KC 256
#define NC 512
#define V_ZERO() _mm256_setzero_ps()
#define V_SET1(x) _mm256_set1_ps(x)
#define V_LOADU(p) _mm256_loadu_ps(p)
#define V_STOREU(p, v) _mm256_storeu_ps(p, v)
#define V_LOADN(p, n) _mm256_maskload_ps(p, mask8_ps(n))
#define V_STOREN(p, v, n) _mm256_maskstore_ps(p, mask8_ps(n), v)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_MUL(a, b) _mm256_mul_ps(a, b)
#define V_TRANSPOSE(r) transpose8_ps(r)
#include "gemm_kernel.h"  // undefines the parameters above at its end

#define T double
#define KN(name) name##_avx2_f64
#define KIT gemm_kit_f64
#define V __m256d
#define VL 4
#define MR 6
#define MC 1536
#define KC 256
#define NC 256
#define V_ZERO() _mm256_setzero_pd()
#define V_SET1(x) _mm256_set1_pd(x)
#define V_LOADU(p) _mm256_loadu_pd(p)
#define V_STOREU(p, v) _mm256_storeu_pd(p, v)
#define V_LOADN(p, n) _mm256_maskload_pd(p, mask4_pd(n))
#define V_STOREN(p, v, n) _mm256_maskstore_pd(p, mask4_pd(n), v)
#define V_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define V_MUL(a, b) _mm256_mul_pd(a, b)
#define V_TRANSPOSE(r) transpose4_pd(r)
#include "gemm_kernel.h"  // undefines the parameters above at its end
#undef TARGET
#endif  // AG_X86

// ---------------------------------------------------------------------------------------------------------
// Portable: the compiler's generic 16-byte vectors (SSE2 on any x86-64). Tile 4 x 8 floats (4 x 4 doubles).
// ---------------------------------------------------------------------------------------------------------

typedef float pvf __attribute__((vector_size(16)));
typedef double pvd __attribute__((vector_size(16)));

AG_INLINE pvf pvf_load(const float *p) { pvf v; memcpy(&v, p, sizeof v); return v; }
AG_INLINE void pvf_store(float *p, pvf v) { memcpy(p, &v, sizeof v); }
AG_INLINE pvf pvf_loadn(const float *p, int n) {
    pvf v = {0, 0, 0, 0};
    for (int i = 0; i < n; i++) v[i] = p[i];
    return v;
}
AG_INLINE void pvf_storen(float *p, pvf v, int n) { for (int i = 0; i < n; i++) p[i] = v[i]; }
AG_INLINE void pvf_transpose(pvf r[4]) {
    float t[4][4];
    for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) t[j][i] = r[i][j];
    for (int i = 0; i < 4; i++) r[i] = pvf_load(t[i]);
}
AG_INLINE pvd pvd_load(const double *p) { pvd v; memcpy(&v, p, sizeof v); return v; }
AG_INLINE void pvd_store(double *p, pvd v) { memcpy(p, &v, sizeof v); }
AG_INLINE pvd pvd_loadn(const double *p, int n) {
    pvd v = {0, 0};
    for (int i = 0; i < n; i++) v[i] = p[i];
    return v;
}
AG_INLINE void pvd_storen(double *p, pvd v, int n) { for (int i = 0; i < n; i++) p[i] = v[i]; }
AG_INLINE void pvd_transpose(pvd r[2]) {
    pvd a = {r[0][0], r[1][0]}, b = {r[0][1], r[1][1]};
    r[0] = a;
    r[1] = b;
}

#undef PREFETCH
#define PREFETCH(p) ((void)(p))
#ifndef PREFETCH_STEPS
#define PREFETCH_STEPS 8
#endif
#undef K_UNROLL
#define K_UNROLL "clang loop unroll_count(2)"
#define TARGET
#define T float
#define KN(name) name##_portable_f32
#define KIT gemm_kit_f32
#define V pvf
#define VL 4
#define MR 4
#define MC 1536
#define KC 256
#define NC 256
#define V_ZERO() ((pvf){0, 0, 0, 0})
#define V_SET1(x) ((pvf){(x), (x), (x), (x)})
#define V_LOADU(p) pvf_load(p)
#define V_STOREU(p, v) pvf_store(p, v)
#define V_LOADN(p, n) pvf_loadn(p, n)
#define V_STOREN(p, v, n) pvf_storen(p, v, n)
#define V_FMA(a, b, c) ((a) * (b) + (c))
#define V_MUL(a, b) ((a) * (b))
#define V_TRANSPOSE(r) pvf_transpose(r)
#include "gemm_kernel.h"  // undefines the parameters above at its end

#define T double
#define KN(name) name##_portable_f64
#define KIT gemm_kit_f64
#define V pvd
#define VL 2
#define MR 4
#define MC 1536
#define KC 256
#define NC 256
#define V_ZERO() ((pvd){0, 0})
#define V_SET1(x) ((pvd){(x), (x)})
#define V_LOADU(p) pvd_load(p)
#define V_STOREU(p, v) pvd_store(p, v)
#define V_LOADN(p, n) pvd_loadn(p, n)
#define V_STOREN(p, v, n) pvd_storen(p, v, n)
#define V_FMA(a, b, c) ((a) * (b) + (c))
#define V_MUL(a, b) ((a) * (b))
#define V_TRANSPOSE(r) pvd_transpose(r)
#include "gemm_kernel.h"  // undefines the parameters above at its end
#undef TARGET

// ---------------------------------------------------------------------------------------------------------
// Drivers and entry points
// ---------------------------------------------------------------------------------------------------------

static const gemm_kit_f32 *kit_f32(int level) {
#ifdef AG_X86
    if (level >= AG_LEVEL_AVX512) return &kit_avx512_f32;
    if (level >= AG_LEVEL_AVX2) return &kit_avx2_f32;
#endif
    (void)level;
    return &kit_portable_f32;
}

static const gemm_kit_f64 *kit_f64(int level) {
#ifdef AG_X86
    if (level >= AG_LEVEL_AVX512) return &kit_avx512_f64;
    if (level >= AG_LEVEL_AVX2) return &kit_avx2_f64;
#endif
    (void)level;
    return &kit_portable_f64;
}

#define T float
#define DN(name) name##_f32
#define KIT gemm_kit_f32
#define KIT_FOR_LEVEL(level) kit_f32(level)
#include "gemm_driver.h"
#undef T
#undef DN
#undef KIT
#undef KIT_FOR_LEVEL

#define T double
#define DN(name) name##_f64
#define KIT gemm_kit_f64
#define KIT_FOR_LEVEL(level) kit_f64(level)
#include "gemm_driver.h"
#undef T
#undef DN
#undef KIT
#undef KIT_FOR_LEVEL

void ag_gemm_f32(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t rsa, int64_t csa,
                 const float *b, int64_t rsb, int64_t csb, float beta, float *c, int64_t ldc) {
    gemm_f32(ag_num_threads(), m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc);
}

void ag_gemm_f64(int64_t m, int64_t n, int64_t k, double alpha, const double *a, int64_t rsa, int64_t csa,
                 const double *b, int64_t rsb, int64_t csb, double beta, double *c, int64_t ldc) {
    gemm_f64(ag_num_threads(), m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc);
}

void ag_gemm_batched_f32(int64_t batch, int64_t m, int64_t n, int64_t k, const float *a, const int64_t *a_offsets,
                         int64_t rsa, int64_t csa, const float *b, const int64_t *b_offsets, int64_t rsb,
                         int64_t csb, float *c) {
    if (ag_gemm_small_batched_f32(batch, m, n, k, a, a_offsets, rsa, csa, b, b_offsets, rsb, csb, c)) return;
    batched_f32(batch, m, n, k, a, a_offsets, rsa, csa, b, b_offsets, rsb, csb, c);
}

void ag_gemm_batched_f64(int64_t batch, int64_t m, int64_t n, int64_t k, const double *a,
                         const int64_t *a_offsets, int64_t rsa, int64_t csa, const double *b,
                         const int64_t *b_offsets, int64_t rsb, int64_t csb, double *c) {
    if (ag_gemm_small_batched_f64(batch, m, n, k, a, a_offsets, rsa, csa, b, b_offsets, rsb, csb, c)) return;
    batched_f64(batch, m, n, k, a, a_offsets, rsa, csa, b, b_offsets, rsb, csb, c);
}

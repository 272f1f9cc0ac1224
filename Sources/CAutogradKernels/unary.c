// Elementwise maps: ag_unary_*, ag_affine_*, ag_bce_*.
//
// float: vectorized math from vmath.h (AVX-512 and AVX2 builds of the same code); level 0 is portable.c.
// double: the transcendental functions stay with the C library (the gradient checker wants its accuracy);
// the simple ones are plain loops the compiler vectorizes for each instruction set.
#include "internal.h"
#include <math.h>
#include <string.h>

// Only the fused multiply-adds written out explicitly: no contraction of a * b + c behind our back, so the
// vector code rounds as designed and affine maps give the same bits at every CPU level.
#pragma clang fp contract(off)

// ---------------------------------------------------------------------------------------------------------
// sin and cos of large floats (|x| > 2^16, inf, NaN): exact reduction modulo pi/2 (Payne-Hanek), then the
// Taylor series in double. Rare in practice, so scalar and simple.
// ---------------------------------------------------------------------------------------------------------

// The binary digits of 2/pi after the point, 32 per word: 2/pi = 0.A2F9836E 4E441529 ... (hexadecimal).
static const uint32_t two_over_pi_bits[] = {
    0xA2F9836E, 0x4E441529, 0xFC2757D1, 0xF534DDC0, 0xDB629599, 0x3C439041,
    0xFE5163AB, 0xDEBBC561, 0xB7246E3A, 0x424DD2E0, 0x06492EEA, 0x09D1921C,
};

/// Word w of the digits (w < 0: the zero integer part, so callers may start before the point).
static uint64_t two_over_pi_word(int w) {
    return w < 0 || w >= (int)(sizeof two_over_pi_bits / sizeof two_over_pi_bits[0]) ? 0 : two_over_pi_bits[w];
}

/// sin x (cosine = 0) or cos x (cosine = 1), correctly reduced for any float.
static float sincosf_big(float x, int cosine) {
    if (!isfinite(x)) return x - x;  // NaN
    // x = m 2^E with m a 24-bit integer. x (2/pi) mod 4 needs the digits of 2/pi from position E - 1 on (the
    // earlier ones contribute multiples of 4): take 128 of them as an integer W, then
    // x (2/pi) = m W 2^-126 (mod 4), i.e. the low 128 bits of m W hold the quadrant (top 2 bits) and the
    // fraction (the rest), with an error below 2^-100.
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int biased = (int)((bits >> 23) & 0xff);
    uint64_t m = (bits & 0x7fffff) | 0x800000;
    int e = biased - 150;   // x = m 2^e (x is normal here: |x| > 2^16)
    int start = e - 2;      // 0-based index of digit position e - 1
    int w = start >= 0 ? start / 32 : -((31 - start) / 32), sh = start - 32 * w;
    uint64_t a0 = two_over_pi_word(w) << 32 | two_over_pi_word(w + 1);
    uint64_t a1 = two_over_pi_word(w + 2) << 32 | two_over_pi_word(w + 3);
    uint64_t a2 = two_over_pi_word(w + 4) << 32;
    uint64_t hi = sh ? a0 << sh | a1 >> (64 - sh) : a0;
    uint64_t lo = sh ? a1 << sh | a2 >> (64 - sh) : a1;
    unsigned __int128 p = (unsigned __int128)m * lo + ((unsigned __int128)(m * hi) << 64);
    // Round to the nearest quadrant: the fraction, read as a signed number, is then in [-1/2, 1/2).
    int quadrant = (int)(p >> 126) + (int)((p >> 125) & 1);
    __int128 frac = (__int128)(p << 2);
    double r = (double)frac * 0x1p-128 * 1.57079632679489661923;
    if (bits >> 31) r = -r, quadrant = -quadrant;
    quadrant = (quadrant + cosine) & 3;
    // |r| <= pi/4: the series to r^13 (r^14) are accurate to 1e-11, far beyond float.
    double z = r * r;
    double s = r * (1 + z * (-1.0 / 6 + z * (1.0 / 120 + z * (-1.0 / 5040 + z * (1.0 / 362880 +
               z * (-1.0 / 39916800 + z * (1.0 / 6227020800.0)))))));
    double c = 1 + z * (-0.5 + z * (1.0 / 24 + z * (-1.0 / 720 + z * (1.0 / 40320 + z * (-1.0 / 3628800 +
               z * (1.0 / 479001600 + z * (-1.0 / 87178291200.0)))))));
    double y = quadrant & 1 ? c : s;
    return (float)(quadrant & 2 ? -y : y);
}

// ---------------------------------------------------------------------------------------------------------
// Vector math instantiations
// ---------------------------------------------------------------------------------------------------------

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_VMATH 1
#define VW 16
#define VN(name) name##_avx512
#define VTARGET AG_TARGET_AVX512
#include "vmath.h"
#undef VW
#undef VN
#undef VTARGET

#define VW 8
#define VN(name) name##_avx2
#define VTARGET AG_TARGET_AVX2
#include "vmath.h"
#undef VW
#undef VN
#undef VTARGET
#endif

// Long maps are split across the pool (see ag_elementwise_parts): parts start at multiples of 64 elements, so the
// vector loops see the same blocks as on one thread and the results do not depend on the split. The caller's CPU
// level is read once and used by every part.
typedef struct {
    int kind, level;  // kind: 0 unary f32, 1 affine f32, 2 affine f64
    ag_unary_op op;
    int64_t n;
    const void *x;
    void *y;
    double alpha, beta;
} map_job;

static void map_part(const map_job *j, int64_t begin, int64_t end);

static void map_task(void *ctx, int part, int nparts) {
    const map_job *j = (const map_job *)ctx;
    int64_t begin, end;
    ag_part_range(j->n, part, nparts, &begin, &end);
    if (begin < end) map_part(j, begin, end);
}

static void map_run(map_job job) {
    int parts = ag_elementwise_parts(job.n, (job.n + 63) / 64);
    if (parts > 1) ag_parallel_run(map_task, &job, parts);
    else map_part(&job, 0, job.n);
}

void ag_unary_f32(ag_unary_op op, int64_t n, const float *x, float *y) {
    if (n <= 0) return;
#ifdef HAVE_VMATH
    int level = ag_level();
    if (level >= AG_LEVEL_AVX2) return map_run((map_job){.kind = 0, .level = level, .op = op, .n = n, .x = x, .y = y});
#endif
    ag_ref_unary_f32(op, n, x, y);
}

void ag_bce_f32(int64_t n, const float *p, const float *t, float *l) {
    if (n <= 0) return;
#ifdef HAVE_VMATH
    int level = ag_level();
    if (level >= AG_LEVEL_AVX512) return bce_f32_avx512(n, p, t, l);
    if (level >= AG_LEVEL_AVX2) return bce_f32_avx2(n, p, t, l);
#endif
    ag_ref_bce_f32(n, p, t, l);
}

void ag_bce_f64(int64_t n, const double *p, const double *t, double *l) { ag_ref_bce_f64(n, p, t, l); }

// ---------------------------------------------------------------------------------------------------------
// double maps and affine maps: plain loops, compiled per instruction set (the compiler vectorizes them).
// The operations are the same as in portable.c, so every level gives the same bits.
// ---------------------------------------------------------------------------------------------------------

/// The ops of ag_unary_f64 done here (the others go to the C library through portable.c).
AG_INLINE int simple_f64(ag_unary_op op) {
    return op == AG_UNARY_NEG || op == AG_UNARY_SQRT || op == AG_UNARY_ABS || op == AG_UNARY_SIGN ||
           op == AG_UNARY_RELU || op == AG_UNARY_SQUARE || op == AG_UNARY_RECIPROCAL;
}

AG_INLINE void unary_f64_body(ag_unary_op op, int64_t n, const double *x, double *y) {
    switch (op) {
    case AG_UNARY_NEG: for (int64_t i = 0; i < n; i++) y[i] = -x[i]; break;
    case AG_UNARY_SQRT: for (int64_t i = 0; i < n; i++) y[i] = __builtin_sqrt(x[i]); break;
    case AG_UNARY_ABS: for (int64_t i = 0; i < n; i++) y[i] = __builtin_fabs(x[i]); break;
    case AG_UNARY_SIGN:
        for (int64_t i = 0; i < n; i++) { double v = x[i]; y[i] = v > 0 ? 1 : (v < 0 ? -1 : v); }
        break;
    case AG_UNARY_RELU:
        for (int64_t i = 0; i < n; i++) { double v = x[i]; y[i] = v > 0 ? v : (v != v ? v : 0); }
        break;
    case AG_UNARY_SQUARE: for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i]; break;
    case AG_UNARY_RECIPROCAL: for (int64_t i = 0; i < n; i++) y[i] = 1 / x[i]; break;
    default: ag_ref_unary_f64(op, n, x, y); break;
    }
}

#define AFFINE_BODY(T) for (int64_t i = 0; i < n; i++) y[i] = alpha * x[i] + beta

static AG_TARGET_AVX512 void unary_f64_avx512(ag_unary_op op, int64_t n, const double *x, double *y) {
    unary_f64_body(op, n, x, y);
}
static AG_TARGET_AVX2 void unary_f64_avx2(ag_unary_op op, int64_t n, const double *x, double *y) {
    unary_f64_body(op, n, x, y);
}
static AG_TARGET_AVX512 void affine_f32_avx512(int64_t n, const float *x, float alpha, float beta, float *y) {
    AFFINE_BODY(float);
}
static AG_TARGET_AVX2 void affine_f32_avx2(int64_t n, const float *x, float alpha, float beta, float *y) {
    AFFINE_BODY(float);
}
static AG_TARGET_AVX512 void affine_f64_avx512(int64_t n, const double *x, double alpha, double beta, double *y) {
    AFFINE_BODY(double);
}
static AG_TARGET_AVX2 void affine_f64_avx2(int64_t n, const double *x, double alpha, double beta, double *y) {
    AFFINE_BODY(double);
}

void ag_unary_f64(ag_unary_op op, int64_t n, const double *x, double *y) {
    if (n <= 0) return;
    int level = ag_level();
    if (!simple_f64(op) || level == AG_LEVEL_PORTABLE) return ag_ref_unary_f64(op, n, x, y);
    if (level >= AG_LEVEL_AVX512) unary_f64_avx512(op, n, x, y);
    else unary_f64_avx2(op, n, x, y);
}

void ag_affine_f32(int64_t n, const float *x, float alpha, float beta, float *y) {
    if (n <= 0) return;
    int level = ag_level();
    if (level >= AG_LEVEL_AVX2)
        map_run((map_job){.kind = 1, .level = level, .n = n, .x = x, .y = y, .alpha = alpha, .beta = beta});
    else ag_ref_affine_f32(n, x, alpha, beta, y);
}

void ag_affine_f64(int64_t n, const double *x, double alpha, double beta, double *y) {
    if (n <= 0) return;
    int level = ag_level();
    if (level >= AG_LEVEL_AVX2)
        map_run((map_job){.kind = 2, .level = level, .n = n, .x = x, .y = y, .alpha = alpha, .beta = beta});
    else ag_ref_affine_f64(n, x, alpha, beta, y);
}

/// Elements [begin, end) of a map job, with the kernel of the job's level.
static void map_part(const map_job *j, int64_t begin, int64_t end) {
    int64_t n = end - begin;
    int wide = j->level >= AG_LEVEL_AVX512;
    switch (j->kind) {
    case 0: {
#ifdef HAVE_VMATH
        const float *x = (const float *)j->x + begin;
        float *y = (float *)j->y + begin;
        if (wide) unary_f32_avx512(j->op, n, x, y);
        else unary_f32_avx2(j->op, n, x, y);
#endif
        break;
    }
    case 1: {
        const float *x = (const float *)j->x + begin;
        float *y = (float *)j->y + begin;
        float alpha = (float)j->alpha, beta = (float)j->beta;
        if (wide) affine_f32_avx512(n, x, alpha, beta, y);
        else affine_f32_avx2(n, x, alpha, beta, y);
        break;
    }
    default: {
        const double *x = (const double *)j->x + begin;
        double *y = (double *)j->y + begin;
        if (wide) affine_f64_avx512(n, x, j->alpha, j->beta, y);
        else affine_f64_avx2(n, x, j->alpha, j->beta, y);
        break;
    }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The derivative of binary cross-entropy in p, times a vector g (see ag_kernels.h). The usual
// elements (1e-40 < p < 1) take (p - t) / (p (1 - p)) in a vector loop; the rest (clamped logarithms, NaN) are
// redone one by one with the exact rule afterwards, only if the vector scan found any.

#define BCE_DP_SLOW(T)                                                                                            \
    static T bce_dp_slow_##T(T p, T t) {                                                                          \
        int in_p = p > (T)1e-40 || log((double)p) >= -100, in_q = p < 1;                                          \
        return in_p ? (in_q ? (p - t) / (p * (1 - p)) : -t / p) : (in_q ? (1 - t) / (1 - p) : 0);                  \
    }
BCE_DP_SLOW(float)
BCE_DP_SLOW(double)

#define BCE_DP_BODY(T)                                                                                            \
    {                                                                                                             \
        int unusual = 0;                                                                                          \
        for (int64_t i = 0; i < n; i++) unusual |= !(p[i] > (T)1e-40 && p[i] < 1);                                \
        for (int64_t b = 0; b < total; b += n) {                                                                  \
            const T *gb = g + b;                                                                                  \
            T *ob = out + b;                                                                                      \
            for (int64_t i = 0; i < n; i++) ob[i] = gb[i] * ((p[i] - t[i]) / (p[i] * (1 - p[i])));               \
            if (unusual)                                                                                          \
                for (int64_t i = 0; i < n; i++)                                                                   \
                    if (!(p[i] > (T)1e-40 && p[i] < 1)) ob[i] = gb[i] * bce_dp_slow_##T(p[i], t[i]);              \
        }                                                                                                         \
    }

// The same loops compiled for each instruction set.
#define BCE_DP_VARIANTS(T, SFX)                                                                                   \
    static AG_TARGET_AVX512 void bce_dp_##SFX##_avx512(int64_t n, int64_t total, const T *p, const T *t,        \
                                                       const T *g, T *out) BCE_DP_BODY(T)                        \
    static AG_TARGET_AVX2 void bce_dp_##SFX##_avx2(int64_t n, int64_t total, const T *p, const T *t, const T *g, \
                                                   T *out) BCE_DP_BODY(T)                                        \
    static void bce_dp_##SFX##_portable(int64_t n, int64_t total, const T *p, const T *t, const T *g, T *out)    \
        BCE_DP_BODY(T)
BCE_DP_VARIANTS(float, f32)
BCE_DP_VARIANTS(double, f64)

void ag_bce_dp_f32(int64_t n, int64_t total, const float *p, const float *t, const float *g, float *out) {
    if (n <= 0 || total <= 0) return;
    int level = ag_level();
    if (level >= AG_LEVEL_AVX512) bce_dp_f32_avx512(n, total, p, t, g, out);
    else if (level >= AG_LEVEL_AVX2) bce_dp_f32_avx2(n, total, p, t, g, out);
    else bce_dp_f32_portable(n, total, p, t, g, out);
}

void ag_bce_dp_f64(int64_t n, int64_t total, const double *p, const double *t, const double *g, double *out) {
    if (n <= 0 || total <= 0) return;
    int level = ag_level();
    if (level >= AG_LEVEL_AVX512) bce_dp_f64_avx512(n, total, p, t, g, out);
    else if (level >= AG_LEVEL_AVX2) bce_dp_f64_avx2(n, total, p, t, g, out);
    else bce_dp_f64_portable(n, total, p, t, g, out);
}

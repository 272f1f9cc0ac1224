// Reductions over [outer, r, inner] and dot products (see reduce_impl.h for the schemes and their accuracy).
#include "internal.h"
#include <math.h>

#pragma clang fp contract(off)

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_VECTOR_REDUCE 1
#define VW 16
#define VN(name) name##_avx512
#define VTARGET AG_TARGET_AVX512
#include "reduce_impl.h"
#undef VW
#undef VN
#undef VTARGET

#define VW 8
#define VN(name) name##_avx2
#define VTARGET AG_TARGET_AVX2
#include "reduce_impl.h"
#undef VW
#undef VN
#undef VTARGET
#endif

/// r == 0: the identity of the operation.
#define EMPTY_REDUCTION(T)                                                            \
    do {                                                                              \
        T v = op == AG_REDUCE_SUM ? 0 : (op == AG_REDUCE_MAX ? -INFINITY : INFINITY); \
        for (int64_t i = 0; i < outer * inner; i++) y[i] = v;                         \
    } while (0)

void ag_reduce_f32(ag_reduce_op op, int64_t outer, int64_t r, int64_t inner, const float *x, float *y) {
    if (outer <= 0 || inner <= 0) return;
    if (r <= 0) { EMPTY_REDUCTION(float); return; }
#ifdef HAVE_VECTOR_REDUCE
    int level = ag_level();
    if (level >= AG_LEVEL_AVX512) return reduce_f32_avx512(op, outer, r, inner, x, y);
    if (level >= AG_LEVEL_AVX2) return reduce_f32_avx2(op, outer, r, inner, x, y);
#endif
    ag_ref_reduce_f32(op, outer, r, inner, x, y);
}

void ag_reduce_f64(ag_reduce_op op, int64_t outer, int64_t r, int64_t inner, const double *x, double *y) {
    if (outer <= 0 || inner <= 0) return;
    if (r <= 0) { EMPTY_REDUCTION(double); return; }
#ifdef HAVE_VECTOR_REDUCE
    int level = ag_level();
    if (level >= AG_LEVEL_AVX512) return reduce_f64_avx512(op, outer, r, inner, x, y);
    if (level >= AG_LEVEL_AVX2) return reduce_f64_avx2(op, outer, r, inner, x, y);
#endif
    ag_ref_reduce_f64(op, outer, r, inner, x, y);
}

double ag_dot_f32(int64_t n, const float *a, const float *b) {
    if (n <= 0) return 0;
#ifdef HAVE_VECTOR_REDUCE
    int level = ag_level();
    if (level >= AG_LEVEL_AVX512) return dot_f32_avx512(n, a, b);
    if (level >= AG_LEVEL_AVX2) return dot_f32_avx2(n, a, b);
#endif
    return ag_ref_dot_f32(n, a, b);
}

double ag_dot_f64(int64_t n, const double *a, const double *b) {
    if (n <= 0) return 0;
#ifdef HAVE_VECTOR_REDUCE
    int level = ag_level();
    if (level >= AG_LEVEL_AVX512) return dot_f64_avx512(n, a, b);
    if (level >= AG_LEVEL_AVX2) return dot_f64_avx2(n, a, b);
#endif
    return ag_ref_dot_f64(n, a, b);
}

// Portable reference implementations of every kernel in ag_kernels.h. Correct first; the vectorized and
// threaded versions replace the hot ones and are tested against these.
//
// These are the CPU level 0 path of every kernel (the public entry points in the other files dispatch here when
// ag_set_max_cpu_level(0) is set or the CPU lacks AVX2) and the oracle the tests compare the fast paths with.
#include "internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ag_missing_case(const char *kernel, int op) {
    fprintf(stderr, "Autograd: the C kernel %s has no case for operation code %d; add one (see ag_kernels.h).\n",
            kernel, op);
    abort();
}

#define GEMM(T, NAME) \
void NAME(int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t rsa, int64_t csa, \
          const T *b, int64_t rsb, int64_t csb, T beta, T *c, int64_t ldc) { \
    for (int64_t i = 0; i < m; i++) { \
        T *ci = c + i * ldc; \
        if (beta == 0) { for (int64_t j = 0; j < n; j++) ci[j] = 0; } \
        else if (beta != 1) { for (int64_t j = 0; j < n; j++) ci[j] *= beta; } \
        for (int64_t p = 0; p < k; p++) { \
            T aip = alpha * a[i * rsa + p * csa]; \
            const T *bp = b + p * rsb; \
            for (int64_t j = 0; j < n; j++) ci[j] += aip * bp[j * csb]; \
        } \
    } \
}
GEMM(float, ag_ref_gemm_f32)
GEMM(double, ag_ref_gemm_f64)

// GELU in double, for float too: rounding x / sqrt2 to float would be amplified by x^2 in erfc's exponent. Float
// results are the double ones rounded once; double ones are as accurate as the C library's erfc.
static double ag_ref_gelu(double x) { return 0.5 * x * erfc(-x * 0.70710678118654752440); }
static double ag_ref_gelu_derivative(double x) {
    return 0.5 * erfc(-x * 0.70710678118654752440) + x * exp(-0.5 * x * x) * 0.39894228040143267794;
}

#define UNARY(T, NAME, SFX) \
void NAME(ag_unary_op op, int64_t n, const T *x, T *y) { \
    for (int64_t i = 0; i < n; i++) { \
        T v = x[i], r; \
        switch (op) { \
        case AG_UNARY_NEG: r = -v; break; \
        case AG_UNARY_EXP: r = exp##SFX(v); break; \
        case AG_UNARY_LOG: r = log##SFX(v); break; \
        case AG_UNARY_LOG1P: r = log1p##SFX(v); break; \
        case AG_UNARY_EXPM1: r = expm1##SFX(v); break; \
        case AG_UNARY_SQRT: r = sqrt##SFX(v); break; \
        case AG_UNARY_SIN: r = sin##SFX(v); break; \
        case AG_UNARY_COS: r = cos##SFX(v); break; \
        case AG_UNARY_TANH: r = tanh##SFX(v); break; \
        case AG_UNARY_SIGMOID: { T e = exp##SFX(-fabs##SFX(v)); r = v >= 0 ? 1 / (1 + e) : e / (1 + e); break; } \
        case AG_UNARY_ABS: r = fabs##SFX(v); break; \
        case AG_UNARY_SIGN: r = v > 0 ? 1 : (v < 0 ? -1 : v); break; \
        case AG_UNARY_RELU: r = v > 0 ? v : (v != v ? v : 0); break; \
        case AG_UNARY_SQUARE: r = v * v; break; \
        case AG_UNARY_RECIPROCAL: r = 1 / v; break; \
        case AG_UNARY_SOFTPLUS: r = (v > 0 ? v : 0) + log1p##SFX(exp##SFX(-fabs##SFX(v))); break; \
        case AG_UNARY_GELU: r = (T)ag_ref_gelu((double)v); break; \
        case AG_UNARY_GELU_DERIVATIVE: r = (T)ag_ref_gelu_derivative((double)v); break; \
        default: ag_missing_case(#NAME, (int)op); \
        } \
        y[i] = r; \
    } \
}
UNARY(float, ag_ref_unary_f32, f)
UNARY(double, ag_ref_unary_f64, )

#define AFFINE(T, NAME) \
void NAME(int64_t n, const T *x, T alpha, T beta, T *y) { for (int64_t i = 0; i < n; i++) y[i] = alpha * x[i] + beta; }
AFFINE(float, ag_ref_affine_f32)
AFFINE(double, ag_ref_affine_f64)

// Walks an ndim index space in row-major order, keeping one running offset per operand.
#define STRIDED_LOOP(NDIM, SHAPE, NOPS, STRIDES, OFFS, ...) do { \
    int64_t idx_[16] = {0}; int64_t total_ = 1; \
    for (int d_ = 0; d_ < (NDIM); d_++) total_ *= (SHAPE)[d_]; \
    for (int64_t flat_ = 0; flat_ < total_; flat_++) { \
        __VA_ARGS__; \
        for (int d_ = (NDIM) - 1; d_ >= 0; d_--) { \
            idx_[d_]++; \
            for (int o_ = 0; o_ < (NOPS); o_++) OFFS[o_] += STRIDES[o_][d_]; \
            if (idx_[d_] < (SHAPE)[d_]) break; \
            for (int o_ = 0; o_ < (NOPS); o_++) OFFS[o_] -= STRIDES[o_][d_] * (SHAPE)[d_]; \
            idx_[d_] = 0; \
        } \
    } \
} while (0)

#define BINARY(T, NAME, SFX) \
void NAME(ag_binary_op op, int ndim, const int64_t *shape, const T *a, const int64_t *sa, const T *b, \
          const int64_t *sb, T *y) { \
    const int64_t *st[2] = {sa, sb}; int64_t off[2] = {0, 0}; \
    STRIDED_LOOP(ndim, shape, 2, st, off, { \
        T u = a[off[0]], v = b[off[1]], r; \
        switch (op) { \
        case AG_BINARY_ADD: r = u + v; break; \
        case AG_BINARY_SUB: r = u - v; break; \
        case AG_BINARY_MUL: r = u * v; break; \
        case AG_BINARY_DIV: r = u / v; break; \
        case AG_BINARY_POW: r = pow##SFX(u, v); break; \
        case AG_BINARY_MIN: r = (u != u || v != v) ? u + v : (u < v ? u : v); break; \
        case AG_BINARY_MAX: r = (u != u || v != v) ? u + v : (u > v ? u : v); break; \
        default: ag_missing_case(#NAME, (int)op); \
        } \
        y[flat_] = r; \
    }); \
}
BINARY(float, ag_ref_binary_f32, f)
BINARY(double, ag_ref_binary_f64, )

#define COMPARE(T, NAME) \
void NAME(ag_compare_op op, int ndim, const int64_t *shape, const T *a, const int64_t *sa, const T *b, \
          const int64_t *sb, uint8_t *y) { \
    const int64_t *st[2] = {sa, sb}; int64_t off[2] = {0, 0}; \
    STRIDED_LOOP(ndim, shape, 2, st, off, { \
        T u = a[off[0]], v = b[off[1]]; int r; \
        switch (op) { \
        case AG_COMPARE_EQ: r = u == v; break; case AG_COMPARE_NE: r = u != v; break; \
        case AG_COMPARE_LT: r = u < v; break;  case AG_COMPARE_LE: r = u <= v; break; \
        case AG_COMPARE_GT: r = u > v; break;  case AG_COMPARE_GE: r = u >= v; break; \
        default: ag_missing_case(#NAME, (int)op); \
        } \
        y[flat_] = (uint8_t)r; \
    }); \
}
COMPARE(float, ag_ref_compare_f32)
COMPARE(double, ag_ref_compare_f64)

#define WHERE(T, NAME) \
void NAME(int ndim, const int64_t *shape, const uint8_t *cond, const int64_t *sc, const T *a, const int64_t *sa, \
          const T *b, const int64_t *sb, T *y) { \
    const int64_t *st[3] = {sc, sa, sb}; int64_t off[3] = {0, 0, 0}; \
    STRIDED_LOOP(ndim, shape, 3, st, off, { y[flat_] = cond[off[0]] ? a[off[1]] : b[off[2]]; }); \
}
WHERE(float, ag_ref_where_f32)
WHERE(double, ag_ref_where_f64)

#define REDUCE(T, NAME) \
void NAME(ag_reduce_op op, int64_t outer, int64_t r, int64_t inner, const T *x, T *y) { \
    for (int64_t o = 0; o < outer; o++) \
        for (int64_t i = 0; i < inner; i++) { \
            T acc = op == AG_REDUCE_SUM ? 0 : (op == AG_REDUCE_MAX ? -INFINITY : INFINITY); \
            double dacc = 0; \
            for (int64_t p = 0; p < r; p++) { \
                T v = x[(o * r + p) * inner + i]; \
                if (op == AG_REDUCE_SUM) dacc += v; \
                else if (v != v || acc != acc) acc = v != v ? v : acc; \
                else if (op == AG_REDUCE_MAX ? v > acc : v < acc) acc = v; \
            } \
            y[o * inner + i] = op == AG_REDUCE_SUM ? (T)dacc : acc; \
        } \
}
REDUCE(float, ag_ref_reduce_f32)
REDUCE(double, ag_ref_reduce_f64)

#define DOT(T, NAME) \
double NAME(int64_t n, const T *a, const T *b) { double s = 0; for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i]; return s; }
DOT(float, ag_ref_dot_f32)
DOT(double, ag_ref_dot_f64)

void ag_ref_copy_strided(int64_t es, int ndim, const int64_t *shape, const void *x, const int64_t *sx, void *y) {
    const int64_t *st[1] = {sx}; int64_t off[1] = {0};
    const char *xs = (const char *)x; char *ys = (char *)y;
    STRIDED_LOOP(ndim, shape, 1, st, off, { memcpy(ys + flat_ * es, xs + off[0] * es, (size_t)es); });
}

void ag_ref_copy_into_strided(int64_t es, int ndim, const int64_t *shape, const void *x, void *y, const int64_t *sy) {
    const int64_t *st[1] = {sy}; int64_t off[1] = {0};
    const char *xs = (const char *)x; char *ys = (char *)y;
    STRIDED_LOOP(ndim, shape, 1, st, off, { memcpy(ys + off[0] * es, xs + flat_ * es, (size_t)es); });
}

void ag_ref_gather(int64_t es, int64_t outer, int64_t n, int64_t inner, const void *x, const int64_t *idx,
               int64_t count, void *y) {
    const char *xs = (const char *)x; char *ys = (char *)y;
    size_t row = (size_t)(inner * es);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < count; j++)
            memcpy(ys + ((o * count + j) * inner) * es, xs + ((o * n + idx[j]) * inner) * es, row);
}

#define SCATTER(T, NAME) \
void NAME(int64_t outer, int64_t n, int64_t inner, const T *x, const int64_t *idx, int64_t count, T *y) { \
    for (int64_t o = 0; o < outer; o++) \
        for (int64_t j = 0; j < count; j++) { \
            const T *src = x + (o * count + j) * inner; T *dst = y + (o * n + idx[j]) * inner; \
            for (int64_t i = 0; i < inner; i++) dst[i] += src[i]; \
        } \
}
SCATTER(float, ag_ref_scatter_add_f32)
SCATTER(double, ag_ref_scatter_add_f64)

void ag_ref_convert_f32_to_f64(int64_t n, const float *x, double *y) { for (int64_t i = 0; i < n; i++) y[i] = x[i]; }
void ag_ref_convert_f64_to_f32(int64_t n, const double *x, float *y) { for (int64_t i = 0; i < n; i++) y[i] = (float)x[i]; }
void ag_ref_convert_u8_to_f32(int64_t n, const uint8_t *x, float *y) { for (int64_t i = 0; i < n; i++) y[i] = x[i]; }
void ag_ref_convert_u8_to_f64(int64_t n, const uint8_t *x, double *y) { for (int64_t i = 0; i < n; i++) y[i] = x[i]; }
void ag_ref_fill_f32(int64_t n, float v, float *y) { for (int64_t i = 0; i < n; i++) y[i] = v; }
void ag_ref_fill_f64(int64_t n, double v, double *y) { for (int64_t i = 0; i < n; i++) y[i] = v; }

#define BCE(T, NAME, SFX) \
void NAME(int64_t n, const T *p, const T *t, T *l) { \
    for (int64_t i = 0; i < n; i++) { \
        T lp = log##SFX(p[i]), lq = log1p##SFX(-p[i]); \
        if (lp < -100) lp = -100; if (lq < -100) lq = -100; \
        l[i] = -(t[i] * lp + (1 - t[i]) * lq); \
    } \
}
BCE(float, ag_ref_bce_f32, f)
BCE(double, ag_ref_bce_f64, )

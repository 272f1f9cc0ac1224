// Broadcasting elementwise operations: ag_binary_*, ag_compare_*, ag_where_*.
//
// The index space is first coalesced (ag_coalesce: size-1 dimensions dropped, neighbours that every operand
// walks as one merged), so a contiguous [128, 512] + [512] bias add becomes 128 rows of "both contiguous",
// [128, 512] * [128, 1] becomes 128 rows of "vector times scalar", and an elementwise op on two contiguous
// tensors of any rank becomes one flat loop. The innermost dimension then runs through a loop specialized for
// the stride pattern (contiguous, broadcast scalar, or general), written as plain C and compiled per
// instruction set so the compiler vectorizes it. The arithmetic is the same as in portable.c, so the results
// are bitwise identical at every CPU level.
#include "internal.h"
#include <math.h>

#pragma clang fp contract(off)

int ag_coalesce(int ndim, const int64_t *shape, int nops, const int64_t *const *strides, int64_t *shape_out,
                int64_t strides_out[][AG_MAX_DIMS]) {
    int nd = 0;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 0) return -1;
        if (shape[d] == 1) continue;
        int merge = nd > 0;
        for (int o = 0; o < nops && merge; o++) merge = strides_out[o][nd - 1] == strides[o][d] * shape[d];
        if (merge) {
            shape_out[nd - 1] *= shape[d];
            for (int o = 0; o < nops; o++) strides_out[o][nd - 1] = strides[o][d];
        } else {
            shape_out[nd] = shape[d];
            for (int o = 0; o < nops; o++) strides_out[o][nd] = strides[o][d];
            nd++;
        }
    }
    return nd;
}

// Walks the outer dimensions (all but the last) of a coalesced space in row-major order, calling BODY with
// the running offsets off[0 .. nops-1] and the flat output offset `flat_` of each inner row.
#define FOR_EACH_ROW(ND, SHAPE, NOPS, STRIDES, OFF, BODY)                              \
    do {                                                                               \
        int64_t idx_[AG_MAX_DIMS] = {0}, rows_ = 1, inner_ = (ND) > 0 ? (SHAPE)[(ND) - 1] : 1; \
        for (int d_ = 0; d_ + 1 < (ND); d_++) rows_ *= (SHAPE)[d_];                    \
        for (int64_t r_ = 0, flat_ = 0; r_ < rows_; r_++, flat_ += inner_) {           \
            BODY;                                                                      \
            for (int d_ = (ND) - 2; d_ >= 0; d_--) {                                   \
                idx_[d_]++;                                                            \
                for (int o_ = 0; o_ < (NOPS); o_++) OFF[o_] += STRIDES[o_][d_];        \
                if (idx_[d_] < (SHAPE)[d_]) break;                                     \
                for (int o_ = 0; o_ < (NOPS); o_++) OFF[o_] -= STRIDES[o_][d_] * (SHAPE)[d_]; \
                idx_[d_] = 0;                                                          \
            }                                                                          \
        }                                                                              \
    } while (0)

// The inner loop of one expression EXPR(u, v) for the four stride patterns of (a, b).
#define INNER_LOOPS(T, EXPR)                                                                 \
    do {                                                                                     \
        if (sa == 1 && sb == 1) {                                                            \
            for (int64_t i = 0; i < n; i++) { T u = a[i], v = b[i]; y[i] = EXPR; }           \
        } else if (sa == 1 && sb == 0) {                                                     \
            T v = b[0];                                                                      \
            for (int64_t i = 0; i < n; i++) { T u = a[i]; y[i] = EXPR; }                     \
        } else if (sa == 0 && sb == 1) {                                                     \
            T u = a[0];                                                                      \
            for (int64_t i = 0; i < n; i++) { T v = b[i]; y[i] = EXPR; }                     \
        } else {                                                                             \
            for (int64_t i = 0; i < n; i++) { T u = a[i * sa], v = b[i * sb]; y[i] = EXPR; } \
        }                                                                                    \
    } while (0)

#define MIN_EXPR(u, v) ((u) != (u) || (v) != (v) ? (u) + (v) : ((u) < (v) ? (u) : (v)))
#define MAX_EXPR(u, v) ((u) != (u) || (v) != (v) ? (u) + (v) : ((u) > (v) ? (u) : (v)))

#define DEFINE_BINARY_ROW(T, NAME, POW)                                                          \
    AG_INLINE void NAME(ag_binary_op op, int64_t n, const T *a, int64_t sa, const T *b, int64_t sb, T *y) { \
        switch (op) {                                                                            \
        case AG_BINARY_ADD: INNER_LOOPS(T, u + v); break;                                        \
        case AG_BINARY_SUB: INNER_LOOPS(T, u - v); break;                                        \
        case AG_BINARY_MUL: INNER_LOOPS(T, u * v); break;                                        \
        case AG_BINARY_DIV: INNER_LOOPS(T, u / v); break;                                        \
        case AG_BINARY_POW: for (int64_t i = 0; i < n; i++) y[i] = POW(a[i * sa], b[i * sb]); break; \
        case AG_BINARY_MIN: INNER_LOOPS(T, MIN_EXPR(u, v)); break;                               \
        case AG_BINARY_MAX: INNER_LOOPS(T, MAX_EXPR(u, v)); break;                               \
        default: ag_missing_case(#NAME, (int)op);                                                \
        }                                                                                        \
    }
DEFINE_BINARY_ROW(float, binary_row_f32, powf)
DEFINE_BINARY_ROW(double, binary_row_f64, pow)

#define DEFINE_COMPARE_ROW(T, NAME)                                                              \
    AG_INLINE void NAME(ag_compare_op op, int64_t n, const T *a, int64_t sa, const T *b, int64_t sb, uint8_t *y) { \
        switch (op) {                                                                            \
        case AG_COMPARE_EQ: INNER_LOOPS(T, (uint8_t)(u == v)); break;                            \
        case AG_COMPARE_NE: INNER_LOOPS(T, (uint8_t)(u != v)); break;                            \
        case AG_COMPARE_LT: INNER_LOOPS(T, (uint8_t)(u < v)); break;                             \
        case AG_COMPARE_LE: INNER_LOOPS(T, (uint8_t)(u <= v)); break;                            \
        case AG_COMPARE_GT: INNER_LOOPS(T, (uint8_t)(u > v)); break;                             \
        case AG_COMPARE_GE: INNER_LOOPS(T, (uint8_t)(u >= v)); break;                            \
        default: ag_missing_case(#NAME, (int)op);                                                \
        }                                                                                        \
    }
DEFINE_COMPARE_ROW(float, compare_row_f32)
DEFINE_COMPARE_ROW(double, compare_row_f64)

// Both values are loaded before the select (never conditionally), so the loops vectorize.
#define DEFINE_WHERE_ROW(T, NAME)                                                                \
    AG_INLINE void NAME(int64_t n, const uint8_t *c, int64_t sc, const T *a, int64_t sa, const T *b, int64_t sb, \
                        T *y) {                                                                  \
        if (sc == 1 && sa == 1 && sb == 1) {                                                     \
            for (int64_t i = 0; i < n; i++) { T u = a[i], v = b[i]; y[i] = c[i] ? u : v; }       \
        } else if (sc == 1 && sa == 1 && sb == 0) {                                              \
            T v = b[0];                                                                          \
            for (int64_t i = 0; i < n; i++) { T u = a[i]; y[i] = c[i] ? u : v; }                 \
        } else if (sc == 1 && sa == 0 && sb == 1) {                                              \
            T u = a[0];                                                                          \
            for (int64_t i = 0; i < n; i++) { T v = b[i]; y[i] = c[i] ? u : v; }                 \
        } else if (sc == 1 && sa == 0 && sb == 0) {                                              \
            T u = a[0], v = b[0];                                                                \
            for (int64_t i = 0; i < n; i++) y[i] = c[i] ? u : v;                                 \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++) y[i] = c[i * sc] ? a[i * sa] : b[i * sb];            \
        }                                                                                        \
    }
DEFINE_WHERE_ROW(float, where_row_f32)
DEFINE_WHERE_ROW(double, where_row_f64)

// The drivers: coalesce, then one inner row at a time. Compiled once per instruction set.
#define DEFINE_DRIVERS(SFX, TARGET)                                                                            \
    static TARGET void binary_f32_##SFX(ag_binary_op op, int nd, const int64_t *shape, const float *a,          \
                                        const float *b, int64_t st[][AG_MAX_DIMS], float *y) {                 \
        int64_t off[2] = {0, 0};                                                                               \
        int64_t sa = nd ? st[0][nd - 1] : 0, sb = nd ? st[1][nd - 1] : 0;                                      \
        FOR_EACH_ROW(nd, shape, 2, st, off, binary_row_f32(op, inner_, a + off[0], sa, b + off[1], sb, y + flat_)); \
    }                                                                                                          \
    static TARGET void binary_f64_##SFX(ag_binary_op op, int nd, const int64_t *shape, const double *a,         \
                                        const double *b, int64_t st[][AG_MAX_DIMS], double *y) {               \
        int64_t off[2] = {0, 0};                                                                               \
        int64_t sa = nd ? st[0][nd - 1] : 0, sb = nd ? st[1][nd - 1] : 0;                                      \
        FOR_EACH_ROW(nd, shape, 2, st, off, binary_row_f64(op, inner_, a + off[0], sa, b + off[1], sb, y + flat_)); \
    }                                                                                                          \
    static TARGET void compare_f32_##SFX(ag_compare_op op, int nd, const int64_t *shape, const float *a,        \
                                         const float *b, int64_t st[][AG_MAX_DIMS], uint8_t *y) {              \
        int64_t off[2] = {0, 0};                                                                               \
        int64_t sa = nd ? st[0][nd - 1] : 0, sb = nd ? st[1][nd - 1] : 0;                                      \
        FOR_EACH_ROW(nd, shape, 2, st, off, compare_row_f32(op, inner_, a + off[0], sa, b + off[1], sb, y + flat_)); \
    }                                                                                                          \
    static TARGET void compare_f64_##SFX(ag_compare_op op, int nd, const int64_t *shape, const double *a,       \
                                         const double *b, int64_t st[][AG_MAX_DIMS], uint8_t *y) {             \
        int64_t off[2] = {0, 0};                                                                               \
        int64_t sa = nd ? st[0][nd - 1] : 0, sb = nd ? st[1][nd - 1] : 0;                                      \
        FOR_EACH_ROW(nd, shape, 2, st, off, compare_row_f64(op, inner_, a + off[0], sa, b + off[1], sb, y + flat_)); \
    }                                                                                                          \
    static TARGET void where_f32_##SFX(int nd, const int64_t *shape, const uint8_t *c, const float *a,          \
                                       const float *b, int64_t st[][AG_MAX_DIMS], float *y) {                  \
        int64_t off[3] = {0, 0, 0};                                                                            \
        int64_t sc = nd ? st[0][nd - 1] : 0, sa = nd ? st[1][nd - 1] : 0, sb = nd ? st[2][nd - 1] : 0;         \
        FOR_EACH_ROW(nd, shape, 3, st, off,                                                                    \
                     where_row_f32(inner_, c + off[0], sc, a + off[1], sa, b + off[2], sb, y + flat_));       \
    }                                                                                                          \
    static TARGET void where_f64_##SFX(int nd, const int64_t *shape, const uint8_t *c, const double *a,         \
                                       const double *b, int64_t st[][AG_MAX_DIMS], double *y) {                \
        int64_t off[3] = {0, 0, 0};                                                                            \
        int64_t sc = nd ? st[0][nd - 1] : 0, sa = nd ? st[1][nd - 1] : 0, sb = nd ? st[2][nd - 1] : 0;         \
        FOR_EACH_ROW(nd, shape, 3, st, off,                                                                    \
                     where_row_f64(inner_, c + off[0], sc, a + off[1], sa, b + off[2], sb, y + flat_));       \
    }

DEFINE_DRIVERS(avx512, AG_TARGET_AVX512)
DEFINE_DRIVERS(avx2, AG_TARGET_AVX2)

// Public entry points: level 0 is the reference code; otherwise coalesce and run the driver of the level.
#define DISPATCH(NAME, ...)                                                       \
    do {                                                                          \
        if (ag_level() >= AG_LEVEL_AVX512) NAME##_avx512(__VA_ARGS__);            \
        else NAME##_avx2(__VA_ARGS__);                                            \
    } while (0)

// Large binary operations are split across the pool along the outermost coalesced dimension: rows stay whole (or,
// with one dimension, parts start at multiples of 64 elements), so every element is computed exactly as on one
// thread. The CPU level is the caller's (levels may be capped per thread), read once and passed to every part.
typedef struct {
    ag_binary_op op;
    int level, nd, f64;
    const int64_t *shape;
    const void *a, *b;
    int64_t (*st)[AG_MAX_DIMS];
    void *y;
} binary_job;

/// The driver of the job's level and type on the index space `sh` starting at a, b and y.
static void binary_call(const binary_job *j, const int64_t *sh, const void *a, const void *b, void *y) {
    if (j->f64) {
        if (j->level >= AG_LEVEL_AVX512) binary_f64_avx512(j->op, j->nd, sh, a, b, j->st, y);
        else binary_f64_avx2(j->op, j->nd, sh, a, b, j->st, y);
    } else {
        if (j->level >= AG_LEVEL_AVX512) binary_f32_avx512(j->op, j->nd, sh, a, b, j->st, y);
        else binary_f32_avx2(j->op, j->nd, sh, a, b, j->st, y);
    }
}

static void binary_task(void *ctx, int part, int nparts) {
    const binary_job *j = (const binary_job *)ctx;
    if (j->nd == 0) return binary_call(j, j->shape, j->a, j->b, j->y);
    int64_t sh[AG_MAX_DIMS], inner = 1, r0, r1;
    for (int d = 0; d < j->nd; d++) sh[d] = j->shape[d];
    for (int d = 1; d < j->nd; d++) inner *= sh[d];
    if (j->nd == 1) ag_part_range(sh[0], part, nparts, &r0, &r1);
    else r0 = sh[0] * part / nparts, r1 = sh[0] * (part + 1) / nparts;
    if (r0 >= r1) return;
    sh[0] = r1 - r0;
    int64_t es = j->f64 ? 8 : 4;
    binary_call(j, sh, (const char *)j->a + r0 * j->st[0][0] * es, (const char *)j->b + r0 * j->st[1][0] * es,
                (char *)j->y + r0 * inner * es);
}

static void binary_run(ag_binary_op op, int f64, int ndim, const int64_t *shape, const void *a, const int64_t *sa,
                       const void *b, const int64_t *sb, void *y) {
    const int64_t *strides[2] = {sa, sb};
    int64_t sh[AG_MAX_DIMS], st[2][AG_MAX_DIMS];
    int nd = ag_coalesce(ndim, shape, 2, strides, sh, st);
    if (nd < 0) return;
    int64_t total = 1;
    for (int d = 0; d < nd; d++) total *= sh[d];
    binary_job job = {op, ag_level(), nd, f64, sh, a, b, st, y};
    int parts = nd == 0 ? 1 : ag_elementwise_parts(total, nd == 1 ? (sh[0] + 63) / 64 : sh[0]);
    if (parts > 1) ag_parallel_run(binary_task, &job, parts);
    else binary_task(&job, 0, 1);
}

void ag_binary_f32(ag_binary_op op, int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                   const float *b, const int64_t *sb, float *y) {
    if (ag_level() == AG_LEVEL_PORTABLE) return ag_ref_binary_f32(op, ndim, shape, a, sa, b, sb, y);
    binary_run(op, 0, ndim, shape, a, sa, b, sb, y);
}

void ag_binary_f64(ag_binary_op op, int ndim, const int64_t *shape, const double *a, const int64_t *sa,
                   const double *b, const int64_t *sb, double *y) {
    if (ag_level() == AG_LEVEL_PORTABLE) return ag_ref_binary_f64(op, ndim, shape, a, sa, b, sb, y);
    binary_run(op, 1, ndim, shape, a, sa, b, sb, y);
}

void ag_compare_f32(ag_compare_op op, int ndim, const int64_t *shape, const float *a, const int64_t *sa,
                    const float *b, const int64_t *sb, uint8_t *y) {
    if (ag_level() == AG_LEVEL_PORTABLE) return ag_ref_compare_f32(op, ndim, shape, a, sa, b, sb, y);
    const int64_t *strides[2] = {sa, sb};
    int64_t sh[AG_MAX_DIMS], st[2][AG_MAX_DIMS];
    int nd = ag_coalesce(ndim, shape, 2, strides, sh, st);
    if (nd >= 0) DISPATCH(compare_f32, op, nd, sh, a, b, st, y);
}

void ag_compare_f64(ag_compare_op op, int ndim, const int64_t *shape, const double *a, const int64_t *sa,
                    const double *b, const int64_t *sb, uint8_t *y) {
    if (ag_level() == AG_LEVEL_PORTABLE) return ag_ref_compare_f64(op, ndim, shape, a, sa, b, sb, y);
    const int64_t *strides[2] = {sa, sb};
    int64_t sh[AG_MAX_DIMS], st[2][AG_MAX_DIMS];
    int nd = ag_coalesce(ndim, shape, 2, strides, sh, st);
    if (nd >= 0) DISPATCH(compare_f64, op, nd, sh, a, b, st, y);
}

void ag_where_f32(int ndim, const int64_t *shape, const uint8_t *cond, const int64_t *sc, const float *a,
                  const int64_t *sa, const float *b, const int64_t *sb, float *y) {
    if (ag_level() == AG_LEVEL_PORTABLE) return ag_ref_where_f32(ndim, shape, cond, sc, a, sa, b, sb, y);
    const int64_t *strides[3] = {sc, sa, sb};
    int64_t sh[AG_MAX_DIMS], st[3][AG_MAX_DIMS];
    int nd = ag_coalesce(ndim, shape, 3, strides, sh, st);
    if (nd >= 0) DISPATCH(where_f32, nd, sh, cond, a, b, st, y);
}

void ag_where_f64(int ndim, const int64_t *shape, const uint8_t *cond, const int64_t *sc, const double *a,
                  const int64_t *sa, const double *b, const int64_t *sb, double *y) {
    if (ag_level() == AG_LEVEL_PORTABLE) return ag_ref_where_f64(ndim, shape, cond, sc, a, sa, b, sb, y);
    const int64_t *strides[3] = {sc, sa, sb};
    int64_t sh[AG_MAX_DIMS], st[3][AG_MAX_DIMS];
    int nd = ag_coalesce(ndim, shape, 3, strides, sh, st);
    if (nd >= 0) DISPATCH(where_f64, nd, sh, cond, a, b, st, y);
}

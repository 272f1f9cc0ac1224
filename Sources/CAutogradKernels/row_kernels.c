// Kernels over the rows (last axis) of a tensor: layer normalization forward and the map of its rules
// (ag_layer_norm_*, ag_layer_norm_map_*), and the map of softmax's rules (ag_softmax_map_*). Plain loops compiled
// for each instruction set (the compiler vectorizes them with that set's width), rows split across the pool when
// there are many. Each row is computed by the same code whichever thread takes it, so results do not depend on the
// split.
#include "internal.h"
#include <math.h>

// Rows r0 ..< r1 of x: the mean, then the variance from the deviations (two passes, accurate when the mean is
// large against the spread), then y = (x - mean) r with r = 1 / sqrt(variance + eps). The second pass also sums
// the deviations, whose mean c corrects the rounding error of the first (the corrected two-pass algorithm): the
// deviations are (x - mean) - c, where x - mean is exact for x near the mean, and the variance q/n - c^2.
#define ROWS_BODY(T)                                                                                              \
    for (int64_t row = r0; row < r1; row++) {                                                                     \
        const T *xr = x + row * n;                                                                                \
        T *yr = y + row * n;                                                                                      \
        T s = 0;                                                                                                  \
        _Pragma("clang loop vectorize(enable) interleave(enable)")                                                \
        for (int64_t i = 0; i < n; i++) s += xr[i];                                                               \
        T mean = s / (T)n, c = 0, q = 0;                                                                          \
        _Pragma("clang loop vectorize(enable) interleave(enable)")                                                \
        for (int64_t i = 0; i < n; i++) {                                                                         \
            c += xr[i] - mean;                                                                                    \
            q += (xr[i] - mean) * (xr[i] - mean);                                                                 \
        }                                                                                                         \
        T shift = c / (T)n;                                                                                       \
        T r = (T)1 / (T)sqrt((double)(q / (T)n - shift * shift + eps));                                          \
        for (int64_t i = 0; i < n; i++) yr[i] = ((xr[i] - mean) - shift) * r;                                     \
        if (rstd) rstd[row] = r;                                                                                  \
    }

// out = r (v - mean v - yhat mean(v yhat)) per row; v and out hold `batch` stacked copies of the rows' shape.
#define MAP_BODY(T)                                                                                               \
    for (int64_t b = 0; b < batch; b++)                                                                           \
        for (int64_t row = r0; row < r1; row++) {                                                                 \
            const T *yr = yhat + row * n, *vr = v + (b * rows + row) * n;                                         \
            T *o = out + (b * rows + row) * n;                                                                    \
            T sv = 0, svy = 0;                                                                                    \
            _Pragma("clang loop vectorize(enable) interleave(enable)")                                            \
            for (int64_t i = 0; i < n; i++) {                                                                     \
                sv += vr[i];                                                                                      \
                svy += vr[i] * yr[i];                                                                             \
            }                                                                                                     \
            T mv = sv / (T)n, mvy = svy / (T)n, r = rstd[row];                                                    \
            for (int64_t i = 0; i < n; i++) o[i] = r * (vr[i] - mv - yr[i] * mvy);                                \
        }

// out = y (v - sum(v y)) per row (softmax's Jacobian diag(y) - y y^T applied to v); v and out batched as above.
#define SOFTMAX_BODY(T)                                                                                           \
    for (int64_t b = 0; b < batch; b++)                                                                           \
        for (int64_t row = r0; row < r1; row++) {                                                                 \
            const T *yr = yhat + row * n, *vr = v + (b * rows + row) * n;                                         \
            T *o = out + (b * rows + row) * n;                                                                    \
            T svy = 0;                                                                                            \
            _Pragma("clang loop vectorize(enable) interleave(enable)")                                            \
            for (int64_t i = 0; i < n; i++) svy += vr[i] * yr[i];                                                 \
            for (int64_t i = 0; i < n; i++) o[i] = yr[i] * (vr[i] - svy);                                         \
        }

#define VARIANTS(T, SFX)                                                                                          \
    static void rows_##SFX##_portable(int64_t r0, int64_t r1, int64_t n, const T *x, T eps, T *y, T *rstd) {     \
        ROWS_BODY(T)                                                                                              \
    }                                                                                                             \
    static AG_TARGET_AVX2 void rows_##SFX##_avx2(int64_t r0, int64_t r1, int64_t n, const T *x, T eps, T *y,     \
                                                 T *rstd) {                                                       \
        ROWS_BODY(T)                                                                                              \
    }                                                                                                             \
    static AG_TARGET_AVX512 void rows_##SFX##_avx512(int64_t r0, int64_t r1, int64_t n, const T *x, T eps, T *y, \
                                                     T *rstd) {                                                   \
        ROWS_BODY(T)                                                                                              \
    }                                                                                                             \
    static void map_##SFX##_portable(int64_t r0, int64_t r1, int64_t rows, int64_t n, int64_t batch,            \
                                     const T *yhat, const T *rstd, const T *v, T *out) {                          \
        MAP_BODY(T)                                                                                               \
    }                                                                                                             \
    static AG_TARGET_AVX2 void map_##SFX##_avx2(int64_t r0, int64_t r1, int64_t rows, int64_t n, int64_t batch, \
                                                const T *yhat, const T *rstd, const T *v, T *out) {               \
        MAP_BODY(T)                                                                                               \
    }                                                                                                             \
    static AG_TARGET_AVX512 void map_##SFX##_avx512(int64_t r0, int64_t r1, int64_t rows, int64_t n,            \
                                                    int64_t batch, const T *yhat, const T *rstd, const T *v,      \
                                                    T *out) {                                                     \
        MAP_BODY(T)                                                                                               \
    }                                                                                                             \
    static void softmax_##SFX##_portable(int64_t r0, int64_t r1, int64_t rows, int64_t n, int64_t batch,        \
                                         const T *yhat, const T *rstd, const T *v, T *out) {                      \
        (void)rstd;                                                                                               \
        SOFTMAX_BODY(T)                                                                                           \
    }                                                                                                             \
    static AG_TARGET_AVX2 void softmax_##SFX##_avx2(int64_t r0, int64_t r1, int64_t rows, int64_t n,            \
                                                    int64_t batch, const T *yhat, const T *rstd, const T *v,      \
                                                    T *out) {                                                     \
        (void)rstd;                                                                                               \
        SOFTMAX_BODY(T)                                                                                           \
    }                                                                                                             \
    static AG_TARGET_AVX512 void softmax_##SFX##_avx512(int64_t r0, int64_t r1, int64_t rows, int64_t n,        \
                                                        int64_t batch, const T *yhat, const T *rstd, const T *v,  \
                                                        T *out) {                                                 \
        (void)rstd;                                                                                               \
        SOFTMAX_BODY(T)                                                                                           \
    }
VARIANTS(float, f32)
VARIANTS(double, f64)

typedef struct {
    int map, f64, level;  // map: 0 layer norm forward, 1 layer norm's rule map, 2 softmax's rule map
    int64_t rows, n, batch;
    const void *x;   // x (forward) or yhat (map)
    const void *v;   // map: v
    const void *r;   // map: rstd
    void *y, *rstd;  // forward: y, rstd; map: out in y
    double eps;
} ln_job;

static void ln_rows(const ln_job *j, int64_t r0, int64_t r1) {
#define PICK(KIND, SFX, ...)                                                                                      \
    do {                                                                                                          \
        if (j->level >= AG_LEVEL_AVX512) KIND##_##SFX##_avx512(__VA_ARGS__);                                      \
        else if (j->level >= AG_LEVEL_AVX2) KIND##_##SFX##_avx2(__VA_ARGS__);                                     \
        else KIND##_##SFX##_portable(__VA_ARGS__);                                                                \
    } while (0)
    if (!j->map) {
        if (j->f64) PICK(rows, f64, r0, r1, j->n, (const double *)j->x, j->eps, (double *)j->y, (double *)j->rstd);
        else PICK(rows, f32, r0, r1, j->n, (const float *)j->x, (float)j->eps, (float *)j->y, (float *)j->rstd);
    } else if (j->map == 2) {
        if (j->f64)
            PICK(softmax, f64, r0, r1, j->rows, j->n, j->batch, (const double *)j->x, (const double *)j->r,
                 (const double *)j->v, (double *)j->y);
        else
            PICK(softmax, f32, r0, r1, j->rows, j->n, j->batch, (const float *)j->x, (const float *)j->r,
                 (const float *)j->v, (float *)j->y);
    } else {
        if (j->f64)
            PICK(map, f64, r0, r1, j->rows, j->n, j->batch, (const double *)j->x, (const double *)j->r,
                 (const double *)j->v, (double *)j->y);
        else
            PICK(map, f32, r0, r1, j->rows, j->n, j->batch, (const float *)j->x, (const float *)j->r,
                 (const float *)j->v, (float *)j->y);
    }
#undef PICK
}

static void ln_task(void *ctx, int part, int nparts) {
    const ln_job *j = (const ln_job *)ctx;
    int64_t r0 = j->rows * part / nparts, r1 = j->rows * (part + 1) / nparts;
    if (r0 < r1) ln_rows(j, r0, r1);
}

static void ln_run(ln_job j) {
    if (j.rows <= 0 || j.n <= 0 || j.batch <= 0) return;
    int parts = ag_elementwise_parts(j.rows * j.n * j.batch, j.rows);
    if (parts > 1) ag_parallel_run(ln_task, &j, parts);
    else ln_rows(&j, 0, j.rows);
}

void ag_layer_norm_f32(int64_t rows, int64_t n, const float *x, float eps, float *y, float *rstd) {
    ln_run((ln_job){.map = 0, .f64 = 0, .level = ag_level(), .rows = rows, .n = n, .batch = 1, .x = x, .y = y,
                    .rstd = rstd, .eps = eps});
}

void ag_layer_norm_f64(int64_t rows, int64_t n, const double *x, double eps, double *y, double *rstd) {
    ln_run((ln_job){.map = 0, .f64 = 1, .level = ag_level(), .rows = rows, .n = n, .batch = 1, .x = x, .y = y,
                    .rstd = rstd, .eps = eps});
}

void ag_layer_norm_map_f32(int64_t rows, int64_t n, int64_t batch, const float *yhat, const float *rstd,
                           const float *v, float *out) {
    ln_run((ln_job){.map = 1, .f64 = 0, .level = ag_level(), .rows = rows, .n = n, .batch = batch, .x = yhat,
                    .v = v, .r = rstd, .y = out});
}

void ag_layer_norm_map_f64(int64_t rows, int64_t n, int64_t batch, const double *yhat, const double *rstd,
                           const double *v, double *out) {
    ln_run((ln_job){.map = 1, .f64 = 1, .level = ag_level(), .rows = rows, .n = n, .batch = batch, .x = yhat,
                    .v = v, .r = rstd, .y = out});
}

void ag_softmax_map_f32(int64_t rows, int64_t n, int64_t batch, const float *y, const float *v, float *out) {
    ln_run((ln_job){.map = 2, .f64 = 0, .level = ag_level(), .rows = rows, .n = n, .batch = batch, .x = y, .v = v,
                    .y = out});
}

void ag_softmax_map_f64(int64_t rows, int64_t n, int64_t batch, const double *y, const double *v, double *out) {
    ln_run((ln_job){.map = 2, .f64 = 1, .level = ag_level(), .rows = rows, .n = n, .batch = batch, .x = y, .v = v,
                    .y = out});
}

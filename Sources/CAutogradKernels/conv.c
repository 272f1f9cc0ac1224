// Convolution and pooling data movement: im2col (unfold), col2im (fold, its transpose) and the positions of
// window maxima. The arithmetic of a convolution is the matrix product (gemm.c) on the unfolded columns; these
// kernels only move elements, so one plain C version serves every instruction set (the compiler turns the
// stride-1 runs into memcpy / memset and vector adds).
//
// Layout: an image plane is [H, W], row-major; `planes` of them lie one after another (all leading dimensions of
// an NCHW tensor merged: N·C planes). A column block is [KH·KW, OH·OW] per plane: row i·KW + j holds, for every
// output position (oy, ox), the input element at (oy·SH − PT + i·DH, ox·SW − PL + j·DW), or 0 where that lies in
// the padding. Planes are independent, so the work is split across threads by ranges of planes.
#include "internal.h"
#include <string.h>

typedef struct {
    int64_t planes, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw;
} geometry;

/// The range [*lo, *hi) of output columns ox whose input column ox·sw − pl + off lies in [0, w).
static inline void column_range(const geometry *g, int64_t off, int64_t *lo, int64_t *hi) {
    // ix = ox·sw + (off − pl) ≥ 0  ⇔  ox ≥ ceil((pl − off) / sw);  ix < w  ⇔  ox ≤ floor((w − 1 + pl − off) / sw).
    int64_t start = g->pl - off;
    int64_t first = start <= 0 ? 0 : (start + g->sw - 1) / g->sw;
    int64_t lastp = g->w - 1 + g->pl - off;
    int64_t end = lastp < 0 ? 0 : lastp / g->sw + 1;
    if (end > g->ow) end = g->ow;
    if (first > end) first = end;
    *lo = first, *hi = end;
}

/// Parts for `planes` planes of `per_plane` elements of work each.
static int plane_parts(const geometry *g, int64_t per_plane) {
    int64_t parts = ag_elementwise_parts(g->planes * per_plane, g->planes);
    return parts < 1 ? 1 : (int)parts;
}

#define DEFINE_CONV_KERNELS(T, SUF)                                                                               \
    typedef struct { geometry g; const T *x; T *y; } job_##SUF;                                                  \
                                                                                                                  \
    static void im2col_planes_##SUF(const geometry *g, const T *x, T *cols, int64_t p0, int64_t p1) {            \
        const int64_t L = g->oh * g->ow, K = g->kh * g->kw;                                                       \
        for (int64_t p = p0; p < p1; p++) {                                                                       \
            const T *xp = x + p * g->h * g->w;                                                                    \
            T *cp = cols + p * K * L;                                                                             \
            for (int64_t i = 0; i < g->kh; i++)                                                                   \
                for (int64_t j = 0; j < g->kw; j++) {                                                             \
                    T *row = cp + (i * g->kw + j) * L;                                                            \
                    int64_t lo, hi;                                                                               \
                    column_range(g, j * g->dw, &lo, &hi);                                                         \
                    for (int64_t oy = 0; oy < g->oh; oy++) {                                                      \
                        T *out = row + oy * g->ow;                                                                \
                        int64_t iy = oy * g->sh - g->pt + i * g->dh;                                              \
                        if (iy < 0 || iy >= g->h || lo >= hi) {                                                   \
                            memset(out, 0, (size_t)g->ow * sizeof(T));                                            \
                            continue;                                                                             \
                        }                                                                                         \
                        const T *in = xp + iy * g->w + j * g->dw - g->pl;                                         \
                        for (int64_t ox = 0; ox < lo; ox++) out[ox] = 0;                                          \
                        if (g->sw == 1) memcpy(out + lo, in + lo, (size_t)(hi - lo) * sizeof(T));                 \
                        else for (int64_t ox = lo; ox < hi; ox++) out[ox] = in[ox * g->sw];                       \
                        for (int64_t ox = hi; ox < g->ow; ox++) out[ox] = 0;                                      \
                    }                                                                                             \
                }                                                                                                 \
        }                                                                                                         \
    }                                                                                                             \
                                                                                                                  \
    static void col2im_planes_##SUF(const geometry *g, const T *cols, T *x, int64_t p0, int64_t p1) {            \
        const int64_t L = g->oh * g->ow, K = g->kh * g->kw;                                                       \
        for (int64_t p = p0; p < p1; p++) {                                                                       \
            T *xp = x + p * g->h * g->w;                                                                          \
            const T *cp = cols + p * K * L;                                                                       \
            memset(xp, 0, (size_t)(g->h * g->w) * sizeof(T));                                                     \
            for (int64_t i = 0; i < g->kh; i++)                                                                   \
                for (int64_t j = 0; j < g->kw; j++) {                                                             \
                    const T *row = cp + (i * g->kw + j) * L;                                                      \
                    int64_t lo, hi;                                                                               \
                    column_range(g, j * g->dw, &lo, &hi);                                                         \
                    if (lo >= hi) continue;                                                                       \
                    for (int64_t oy = 0; oy < g->oh; oy++) {                                                      \
                        int64_t iy = oy * g->sh - g->pt + i * g->dh;                                              \
                        if (iy < 0 || iy >= g->h) continue;                                                       \
                        const T *in = row + oy * g->ow;                                                           \
                        T *out = xp + iy * g->w + j * g->dw - g->pl;                                              \
                        if (g->sw == 1) {                                                                         \
                            for (int64_t ox = lo; ox < hi; ox++) out[ox] += in[ox];                               \
                        } else {                                                                                  \
                            for (int64_t ox = lo; ox < hi; ox++) out[ox * g->sw] += in[ox];                       \
                        }                                                                                         \
                    }                                                                                             \
                }                                                                                                 \
        }                                                                                                         \
    }                                                                                                             \
                                                                                                                  \
    static void im2col_task_##SUF(void *ctx, int part, int nparts) {                                            \
        const job_##SUF *j = (const job_##SUF *)ctx;                                                              \
        im2col_planes_##SUF(&j->g, j->x, j->y, j->g.planes * part / nparts, j->g.planes * (part + 1) / nparts);  \
    }                                                                                                             \
    static void col2im_task_##SUF(void *ctx, int part, int nparts) {                                            \
        const job_##SUF *j = (const job_##SUF *)ctx;                                                              \
        col2im_planes_##SUF(&j->g, j->x, j->y, j->g.planes * part / nparts, j->g.planes * (part + 1) / nparts);  \
    }                                                                                                             \
                                                                                                                  \
    void ag_im2col_##SUF(int64_t planes, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t oh, int64_t ow,   \
                         int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t dh, int64_t dw, const T *x,     \
                         T *cols) {                                                                               \
        job_##SUF j = {{planes, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw}, x, cols};                          \
        if (planes <= 0 || oh <= 0 || ow <= 0 || kh <= 0 || kw <= 0) return;                                      \
        int parts = plane_parts(&j.g, kh * kw * oh * ow);                                                         \
        if (parts > 1) ag_parallel_run(im2col_task_##SUF, &j, parts);                                             \
        else im2col_task_##SUF(&j, 0, 1);                                                                         \
    }                                                                                                             \
                                                                                                                  \
    void ag_col2im_##SUF(int64_t planes, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t oh, int64_t ow,   \
                         int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t dh, int64_t dw, const T *cols,  \
                         T *x) {                                                                                  \
        job_##SUF j = {{planes, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw}, cols, x};                         \
        if (planes <= 0 || h <= 0 || w <= 0) return;                                                              \
        if (oh <= 0 || ow <= 0 || kh <= 0 || kw <= 0) {                                                          \
            memset(x, 0, (size_t)(planes * h * w) * sizeof(T));                                                  \
            return;                                                                                               \
        }                                                                                                         \
        int parts = plane_parts(&j.g, kh * kw * oh * ow + h * w);                                                 \
        if (parts > 1) ag_parallel_run(col2im_task_##SUF, &j, parts);                                             \
        else col2im_task_##SUF(&j, 0, 1);                                                                         \
    }                                                                                                             \
                                                                                                                  \
    typedef struct { geometry g; const T *x; T *y; int64_t *positions; } pool_job_##SUF;                      \
                                                                                                                  \
    static void max_pool_task_##SUF(void *ctx, int part, int nparts) {                                          \
        const pool_job_##SUF *j = (const pool_job_##SUF *)ctx;                                                    \
        const geometry *g = &j->g;                                                                                \
        const int64_t h = g->h, w = g->w, oh = g->oh, ow = g->ow;                                                 \
        int64_t p0 = g->planes * part / nparts, p1 = g->planes * (part + 1) / nparts;                             \
        for (int64_t p = p0; p < p1; p++) {                                                                       \
            const T *xp = j->x + p * h * w;                                                                       \
            for (int64_t oy = 0; oy < oh; oy++)                                                                   \
                for (int64_t ox = 0; ox < ow; ox++) {                                                             \
                    int64_t y0 = oy * g->sh - g->pt, x0 = ox * g->sw - g->pl;                                     \
                    int64_t best = -1;                                                                            \
                    T top = 0;                                                                                    \
                    for (int64_t i = y0 < 0 ? 0 : y0; i < y0 + g->kh && i < h; i++)                              \
                        for (int64_t jx = x0 < 0 ? 0 : x0; jx < x0 + g->kw && jx < w; jx++) {                     \
                            T v = xp[i * w + jx];                                                                 \
                            /* the first maximum on ties; a NaN wins and stays (it propagates) */                 \
                            if (best < 0 || v > top || (v != v && top == top)) best = i * w + jx, top = v;        \
                        }                                                                                         \
                    int64_t o = (p * oh + oy) * ow + ox;                                                          \
                    j->positions[o] = best < 0 ? -1 : p * h * w + best;                                           \
                    j->y[o] = top;                                                                                \
                }                                                                                                 \
        }                                                                                                         \
    }                                                                                                             \
                                                                                                                  \
    void ag_max_pool_##SUF(int64_t planes, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t oh,             \
                           int64_t ow, int64_t sh, int64_t sw, int64_t pt, int64_t pl, const T *x, T *y,         \
                           int64_t *positions) {                                                                  \
        pool_job_##SUF j = {{planes, h, w, kh, kw, oh, ow, sh, sw, pt, pl, 1, 1}, x, y, positions};              \
        if (planes <= 0 || oh <= 0 || ow <= 0) return;                                                            \
        int parts = plane_parts(&j.g, kh * kw * oh * ow);                                                         \
        if (parts > 1) ag_parallel_run(max_pool_task_##SUF, &j, parts);                                           \
        else max_pool_task_##SUF(&j, 0, 1);                                                                       \
    }

DEFINE_CONV_KERNELS(float, f32)
DEFINE_CONV_KERNELS(double, f64)

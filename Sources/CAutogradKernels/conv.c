// Convolution and pooling data movement: im2col (unfold), col2im (fold, its transpose) and the positions of
// window maxima. The arithmetic of a convolution is the matrix product (gemm.c) on the unfolded columns; these
// kernels only move elements, so one plain C version serves every instruction set (the compiler turns the
// stride-1 runs into memcpy / memset and vector adds).
//
// Layout: an image plane is [H, W], row-major; x is [outer, images, channels, H, W] (an NCHW tensor with any
// leading dimensions merged into `outer`), and its columns are [outer, channels·KH·KW, images·OH·OW]: the
// images of a batch side by side in each row, so that a convolution of the whole batch is one matrix product. Row
// c·KH·KW + i·KW + j, at column n·OH·OW + oy·OW + ox, holds the element of plane (n, c) at
// (oy·SH − PT + i·DH, ox·SW − PL + j·DW), or 0 where that lies in the padding. With images = 1 each plane's block
// [KH·KW, OH·OW] follows the previous one's. Planes are independent, so the work is split across threads by ranges
// of planes.
#include "internal.h"
#include <string.h>

typedef struct {
    int64_t planes, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw;
    int64_t images, channels;  // planes = outer · images · channels
} geometry;

/// The first column entry of plane p (row c·KH·KW, column n·OH·OW of its outer block); rows lie images·OH·OW
/// apart.
static inline int64_t column_base(const geometry *g, int64_t p) {
    const int64_t L = g->oh * g->ow, K = g->kh * g->kw, per_outer = g->images * g->channels;
    const int64_t o = p / per_outer, n = p % per_outer / g->channels, c = p % g->channels;
    return (o * g->channels + c) * K * g->images * L + n * L;
}

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
        const int64_t ld = g->images * g->oh * g->ow;                                                             \
        for (int64_t p = p0; p < p1; p++) {                                                                       \
            const T *xp = x + p * g->h * g->w;                                                                    \
            T *cp = cols + column_base(g, p);                                                                     \
            for (int64_t i = 0; i < g->kh; i++)                                                                   \
                for (int64_t j = 0; j < g->kw; j++) {                                                             \
                    T *row = cp + (i * g->kw + j) * ld;                                                           \
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
        const int64_t ld = g->images * g->oh * g->ow;                                                             \
        for (int64_t p = p0; p < p1; p++) {                                                                       \
            T *xp = x + p * g->h * g->w;                                                                          \
            const T *cp = cols + column_base(g, p);                                                               \
            memset(xp, 0, (size_t)(g->h * g->w) * sizeof(T));                                                     \
            for (int64_t i = 0; i < g->kh; i++)                                                                   \
                for (int64_t j = 0; j < g->kw; j++) {                                                             \
                    const T *row = cp + (i * g->kw + j) * ld;                                                     \
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
    void ag_im2col_##SUF(int64_t outer, int64_t images, int64_t channels, int64_t h, int64_t w, int64_t kh,     \
                         int64_t kw, int64_t oh, int64_t ow, int64_t sh, int64_t sw, int64_t pt, int64_t pl,     \
                         int64_t dh, int64_t dw, const T *x, T *cols) {                                           \
        const int64_t planes = outer * images * channels;                                                         \
        job_##SUF j = {{planes, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, images, channels}, x, cols};        \
        if (planes <= 0 || oh <= 0 || ow <= 0 || kh <= 0 || kw <= 0) return;                                      \
        int parts = plane_parts(&j.g, kh * kw * oh * ow);                                                         \
        if (parts > 1) ag_parallel_run(im2col_task_##SUF, &j, parts);                                             \
        else im2col_task_##SUF(&j, 0, 1);                                                                         \
    }                                                                                                             \
                                                                                                                  \
    void ag_col2im_##SUF(int64_t outer, int64_t images, int64_t channels, int64_t h, int64_t w, int64_t kh,     \
                         int64_t kw, int64_t oh, int64_t ow, int64_t sh, int64_t sw, int64_t pt, int64_t pl,     \
                         int64_t dh, int64_t dw, const T *cols, T *x) {                                           \
        const int64_t planes = outer * images * channels;                                                         \
        job_##SUF j = {{planes, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, images, channels}, cols, x};       \
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
        if (g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->pt == 0 && g->pl == 0) {                   \
            /* The common 2 x 2 window at stride 2 without padding: the same comparisons in the same order, with  \
               fixed bounds. */                                                                                  \
            for (int64_t p = p0; p < p1; p++) {                                                                   \
                const T *xp = j->x + p * h * w;                                                                   \
                for (int64_t oy = 0; oy < oh; oy++) {                                                             \
                    const T *r0 = xp + 2 * oy * w, *r1 = r0 + w;                                                  \
                    T *yo = j->y + (p * oh + oy) * ow;                                                            \
                    int64_t *po = j->positions + (p * oh + oy) * ow;                                              \
                    for (int64_t ox = 0; ox < ow; ox++) {                                                         \
                        int64_t best = 2 * ox;                                                                    \
                        T top = r0[best];                                                                         \
                        T v = r0[2 * ox + 1];                                                                     \
                        if (v > top || (v != v && top == top)) best = 2 * ox + 1, top = v;                        \
                        v = r1[2 * ox];                                                                           \
                        if (v > top || (v != v && top == top)) best = w + 2 * ox, top = v;                        \
                        v = r1[2 * ox + 1];                                                                       \
                        if (v > top || (v != v && top == top)) best = w + 2 * ox + 1, top = v;                    \
                        po[ox] = p * h * w + 2 * oy * w + best;                                                   \
                        yo[ox] = top;                                                                             \
                    }                                                                                             \
                }                                                                                                 \
            }                                                                                                     \
            return;                                                                                               \
        }                                                                                                         \
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
        pool_job_##SUF j = {{planes, h, w, kh, kw, oh, ow, sh, sw, pt, pl, 1, 1, 1, 1}, x, y, positions};              \
        if (planes <= 0 || oh <= 0 || ow <= 0) return;                                                            \
        int parts = plane_parts(&j.g, kh * kw * oh * ow);                                                         \
        if (parts > 1) ag_parallel_run(max_pool_task_##SUF, &j, parts);                                           \
        else max_pool_task_##SUF(&j, 0, 1);                                                                       \
    }

DEFINE_CONV_KERNELS(float, f32)
DEFINE_CONV_KERNELS(double, f64)

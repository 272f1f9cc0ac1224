// Data movement: strided copies (gather / scatter of views), gather and scatter-add along an axis, type
// conversions and fills.
//
// Strided copies coalesce the index space first (ag_coalesce), then pick the innermost pattern:
//   contiguous run of the source  -> memcpy per row
//   stride 0 (broadcast)          -> fill per row
//   2-d transpose (the next dimension out is the contiguous one) -> copy in square tiles, so both the reads
//                                    and the writes stay within a few cache lines per tile
//   anything else                 -> element loop
#include "internal.h"
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include "simd_transpose.h"
#define HAVE_SIMD_TRANSPOSE 1
#endif

#pragma clang fp contract(off)

/// Copies n elements of size es from x (stride sx elements) to y (stride sy elements).
static void copy_elements(int64_t es, int64_t n, const char *x, int64_t sx, char *y, int64_t sy) {
    switch (es) {
    case 1: for (int64_t i = 0; i < n; i++) y[i * sy] = x[i * sx]; break;
    case 2: for (int64_t i = 0; i < n; i++) ((uint16_t *)y)[i * sy] = ((const uint16_t *)x)[i * sx]; break;
    case 4: for (int64_t i = 0; i < n; i++) ((uint32_t *)y)[i * sy] = ((const uint32_t *)x)[i * sx]; break;
    case 8: for (int64_t i = 0; i < n; i++) ((uint64_t *)y)[i * sy] = ((const uint64_t *)x)[i * sx]; break;
    default: for (int64_t i = 0; i < n; i++) memcpy(y + i * sy * es, x + i * sx * es, (size_t)es); break;
    }
}

/// y[i, j] = x[i * sxi + j * sxj] for a rows x cols block, y with row stride syi and column stride syj,
/// in TILE x TILE tiles (64 bytes or more along each side for 4- and 8-byte elements).
#define TILE 16
static void copy_tiled(int64_t es, int64_t rows, int64_t cols, const char *x, int64_t sxi, int64_t sxj, char *y,
                       int64_t syi, int64_t syj) {
    for (int64_t i0 = 0; i0 < rows; i0 += TILE)
        for (int64_t j0 = 0; j0 < cols; j0 += TILE) {
            int64_t ni = ag_min64(TILE, rows - i0), nj = ag_min64(TILE, cols - j0);
            for (int64_t i = i0; i < i0 + ni; i++)
                copy_elements(es, nj, x + (i * sxi + j0 * sxj) * es, sxj, y + (i * syi + j0 * syj) * es, syj);
        }
}

#ifdef HAVE_SIMD_TRANSPOSE
/// out[c * ldo + r] = in[r * ldi + c] for 4-byte (w32) or 8-byte elements: 8x8 (4x4) blocks transposed in
/// registers, within tiles of one cache line by one cache line (16 x 16 floats), so every line read or
/// written is used whole while it is in L1, even for power-of-two strides (which map all the rows of a
/// larger tile to a few L1 sets). Bits are moved, not converted (NaN payloads survive).
static AG_TARGET_AVX2 void transpose_simd(int w32, int64_t rows, int64_t cols, const void *in, int64_t ldi,
                                          void *out, int64_t ldo) {
    const int B = w32 ? 8 : 4, TL = 2 * B;
    for (int64_t r0 = 0; r0 < rows; r0 += TL)
        for (int64_t c0 = 0; c0 < cols; c0 += TL) {
            int64_t r1 = ag_min64(r0 + TL, rows), c1 = ag_min64(c0 + TL, cols), r = r0;
            for (; r + B <= r1; r += B) {
                int64_t c = c0;
                if (w32) {
                    const float *src = (const float *)in;
                    float *dst = (float *)out;
                    for (; c + 8 <= c1; c += 8) {
                        __m256 v[8];
                        for (int q = 0; q < 8; q++) v[q] = _mm256_loadu_ps(src + (r + q) * ldi + c);
                        transpose8_ps(v);
                        for (int q = 0; q < 8; q++) _mm256_storeu_ps(dst + (c + q) * ldo + r, v[q]);
                    }
                } else {
                    const double *src = (const double *)in;
                    double *dst = (double *)out;
                    for (; c + 4 <= c1; c += 4) {
                        __m256d v[4];
                        for (int q = 0; q < 4; q++) v[q] = _mm256_loadu_pd(src + (r + q) * ldi + c);
                        transpose4_pd(v);
                        for (int q = 0; q < 4; q++) _mm256_storeu_pd(dst + (c + q) * ldo + r, v[q]);
                    }
                }
                for (; c < c1; c++)
                    for (int q = 0; q < B; q++) copy_elements(w32 ? 4 : 8, 1, (const char *)in + ((r + q) * ldi + c) * (w32 ? 4 : 8), 0, (char *)out + (c * ldo + r + q) * (w32 ? 4 : 8), 0);
            }
            for (; r < r1; r++)
                copy_elements(w32 ? 4 : 8, c1 - c0, (const char *)in + (r * ldi + c0) * (w32 ? 4 : 8), 1,
                              (char *)out + (c0 * ldo + r) * (w32 ? 4 : 8), ldo);
        }
}
#endif

/// Transposed block copy: out[c * ldo + r] = in[r * ldi + c] for r < rows, c < cols, elements of es bytes.
static void transpose_block(int64_t es, int64_t rows, int64_t cols, const char *in, int64_t ldi, char *out,
                            int64_t ldo) {
#ifdef HAVE_SIMD_TRANSPOSE
    if ((es == 4 || es == 8) && ag_level() >= AG_LEVEL_AVX2) {
        transpose_simd(es == 4, rows, cols, in, ldi, out, ldo);
        return;
    }
#endif
    copy_tiled(es, cols, rows, in, 1, ldi, out, ldo, 1);
}

/// The common strided copy: dst[pos_d(i)] = src[pos_s(i)] over a coalesced space (shape sh, nd dims) where
/// one side is contiguous (its strides are implied) and the other has strides st.
/// gather = 1: x strided (st), y contiguous; gather = 0: x contiguous, y strided (st).
static void strided_copy(int64_t es, int nd, const int64_t *sh, const int64_t *st, const char *x, char *y,
                         int gather) {
    if (nd == 0) {
        memcpy(y, x, (size_t)es);
        return;
    }
    int64_t inner = sh[nd - 1], s = st[nd - 1];
    // Transposed pattern: the strided side is contiguous along dimension nd-2. The last two dims form a
    // rows x cols block per outer index.
    int transpose = nd >= 2 && st[nd - 2] == 1 && s != 1;
    int outer_dims = transpose ? nd - 2 : nd - 1;
    int64_t rows = transpose ? sh[nd - 2] : 1;
    int64_t count = 1;
    for (int d = 0; d < outer_dims; d++) count *= sh[d];
    int64_t idx[AG_MAX_DIMS] = {0}, off = 0, flat = 0, block = rows * inner;
    for (int64_t t = 0; t < count; t++, flat += block) {
        const char *src = gather ? x + off * es : x + flat * es;
        char *dst = gather ? y + flat * es : y + off * es;
        if (transpose) {
            // Element (i, j) of the block: strided side at i + j * s, contiguous side at i * inner + j.
            if (gather) transpose_block(es, inner, rows, src, s, dst, inner);
            else transpose_block(es, rows, inner, src, inner, dst, s);
        } else if (s == 1) {
            memcpy(dst, src, (size_t)(inner * es));
        } else if (gather && s == 0) {
            copy_elements(es, inner, src, 0, dst, 1);
        } else {
            copy_elements(es, inner, src, gather ? s : 1, dst, gather ? 1 : s);
        }
        for (int d = outer_dims - 1; d >= 0; d--) {
            off += st[d];
            if (++idx[d] < sh[d]) break;
            off -= st[d] * sh[d];
            idx[d] = 0;
        }
    }
}

void ag_copy_strided(int64_t es, int ndim, const int64_t *shape, const void *x, const int64_t *sx, void *y) {
    if (ag_level() == AG_LEVEL_PORTABLE) return ag_ref_copy_strided(es, ndim, shape, x, sx, y);
    const int64_t *strides[1] = {sx};
    int64_t sh[AG_MAX_DIMS], st[1][AG_MAX_DIMS];
    int nd = ag_coalesce(ndim, shape, 1, strides, sh, st);
    if (nd >= 0) strided_copy(es, nd, sh, st[0], (const char *)x, (char *)y, 1);
}

void ag_copy_into_strided(int64_t es, int ndim, const int64_t *shape, const void *x, void *y, const int64_t *sy) {
    if (ag_level() == AG_LEVEL_PORTABLE) return ag_ref_copy_into_strided(es, ndim, shape, x, y, sy);
    const int64_t *strides[1] = {sy};
    int64_t sh[AG_MAX_DIMS], st[1][AG_MAX_DIMS];
    int nd = ag_coalesce(ndim, shape, 1, strides, sh, st);
    if (nd >= 0) strided_copy(es, nd, sh, st[0], (const char *)x, (char *)y, 0);
}

void ag_gather(int64_t es, int64_t outer, int64_t n, int64_t inner, const void *x, const int64_t *idx,
               int64_t count, void *y) {
    if (ag_level() == AG_LEVEL_PORTABLE) return ag_ref_gather(es, outer, n, inner, x, idx, count, y);
    const char *xs = (const char *)x;
    char *ys = (char *)y;
    int64_t row = inner * es;
    for (int64_t o = 0; o < outer; o++) {
        const char *xo = xs + o * n * row;
        char *yo = ys + o * count * row;
        if (inner == 1) {
            switch (es) {  // one element per index: typed loads instead of memcpy calls
            case 4: for (int64_t j = 0; j < count; j++) ((uint32_t *)yo)[j] = ((const uint32_t *)xo)[idx[j]]; break;
            case 8: for (int64_t j = 0; j < count; j++) ((uint64_t *)yo)[j] = ((const uint64_t *)xo)[idx[j]]; break;
            case 1: for (int64_t j = 0; j < count; j++) yo[j] = xo[idx[j]]; break;
            default: for (int64_t j = 0; j < count; j++) memcpy(yo + j * es, xo + idx[j] * es, (size_t)es); break;
            }
        } else {
            for (int64_t j = 0; j < count; j++) memcpy(yo + j * row, xo + idx[j] * row, (size_t)row);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Loops the compiler vectorizes, compiled once per instruction set.
// ---------------------------------------------------------------------------------------------------------

#define SCATTER_BODY(T)                                                                  \
    for (int64_t o = 0; o < outer; o++)                                                  \
        for (int64_t j = 0; j < count; j++) {                                            \
            const T *src = x + (o * count + j) * inner;                                  \
            T *dst = y + (o * n + idx[j]) * inner;                                       \
            for (int64_t i = 0; i < inner; i++) dst[i] += src[i];                        \
        }

#define DEFINE_SIMPLE_LOOPS(SFX, TARGET)                                                                      \
    static TARGET void scatter_add_f32_##SFX(int64_t outer, int64_t n, int64_t inner, const float *x,        \
                                             const int64_t *idx, int64_t count, float *y) { SCATTER_BODY(float) } \
    static TARGET void scatter_add_f64_##SFX(int64_t outer, int64_t n, int64_t inner, const double *x,       \
                                             const int64_t *idx, int64_t count, double *y) { SCATTER_BODY(double) } \
    static TARGET void f32_to_f64_##SFX(int64_t n, const float *x, double *y) {                               \
        for (int64_t i = 0; i < n; i++) y[i] = x[i];                                                          \
    }                                                                                                         \
    static TARGET void f64_to_f32_##SFX(int64_t n, const double *x, float *y) {                               \
        for (int64_t i = 0; i < n; i++) y[i] = (float)x[i];                                                   \
    }                                                                                                         \
    static TARGET void u8_to_f32_##SFX(int64_t n, const uint8_t *x, float *y) {                               \
        for (int64_t i = 0; i < n; i++) y[i] = x[i];                                                          \
    }                                                                                                         \
    static TARGET void u8_to_f64_##SFX(int64_t n, const uint8_t *x, double *y) {                              \
        for (int64_t i = 0; i < n; i++) y[i] = x[i];                                                          \
    }                                                                                                         \
    static TARGET void fill_f32_##SFX(int64_t n, float v, float *y) {                                         \
        for (int64_t i = 0; i < n; i++) y[i] = v;                                                             \
    }                                                                                                         \
    static TARGET void fill_f64_##SFX(int64_t n, double v, double *y) {                                       \
        for (int64_t i = 0; i < n; i++) y[i] = v;                                                             \
    }

DEFINE_SIMPLE_LOOPS(avx512, AG_TARGET_AVX512)
DEFINE_SIMPLE_LOOPS(avx2, AG_TARGET_AVX2)

#define DISPATCH_SIMPLE(NAME, REF, ...)                                 \
    do {                                                                \
        int level_ = ag_level();                                        \
        if (level_ >= AG_LEVEL_AVX512) NAME##_avx512(__VA_ARGS__);      \
        else if (level_ >= AG_LEVEL_AVX2) NAME##_avx2(__VA_ARGS__);     \
        else REF(__VA_ARGS__);                                          \
    } while (0)

void ag_scatter_add_f32(int64_t outer, int64_t n, int64_t inner, const float *x, const int64_t *idx, int64_t count,
                        float *y) {
    DISPATCH_SIMPLE(scatter_add_f32, ag_ref_scatter_add_f32, outer, n, inner, x, idx, count, y);
}
void ag_scatter_add_f64(int64_t outer, int64_t n, int64_t inner, const double *x, const int64_t *idx,
                        int64_t count, double *y) {
    DISPATCH_SIMPLE(scatter_add_f64, ag_ref_scatter_add_f64, outer, n, inner, x, idx, count, y);
}
void ag_convert_f32_to_f64(int64_t n, const float *x, double *y) {
    DISPATCH_SIMPLE(f32_to_f64, ag_ref_convert_f32_to_f64, n, x, y);
}
void ag_convert_f64_to_f32(int64_t n, const double *x, float *y) {
    DISPATCH_SIMPLE(f64_to_f32, ag_ref_convert_f64_to_f32, n, x, y);
}
void ag_convert_u8_to_f32(int64_t n, const uint8_t *x, float *y) {
    DISPATCH_SIMPLE(u8_to_f32, ag_ref_convert_u8_to_f32, n, x, y);
}
void ag_convert_u8_to_f64(int64_t n, const uint8_t *x, double *y) {
    DISPATCH_SIMPLE(u8_to_f64, ag_ref_convert_u8_to_f64, n, x, y);
}
void ag_fill_f32(int64_t n, float value, float *y) { DISPATCH_SIMPLE(fill_f32, ag_ref_fill_f32, n, value, y); }
void ag_fill_f64(int64_t n, double value, double *y) { DISPATCH_SIMPLE(fill_f64, ag_ref_fill_f64, n, value, y); }

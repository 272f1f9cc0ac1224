// Numeric kernels for Autograd: no knowledge of derivatives, only contiguous or strided buffers.
//
// Conventions
// - Sizes, strides and offsets are counted in elements (not bytes) and are int64_t.
// - "Contiguous" means row-major (C order) with no gaps.
// - Every function has a float (_f32) and a double (_f64) version with the same meaning.
// - Inputs and outputs never alias unless a function says so.
// - The library dispatches at run time to AVX-512, AVX2+FMA or portable code (ag_cpu_level tells which).
#ifndef AG_KERNELS_H
#define AG_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------------------------------------------
// CPU features and threads
// ---------------------------------------------------------------------------------------------------------

/// 0 = portable C, 1 = AVX2 + FMA, 2 = AVX-512F. Decided once, on first use.
int ag_cpu_level(void);
/// Caps the CPU level used by the kernels called from the calling thread (for testing the fallbacks). Values above
/// what the CPU has are ignored. Per thread: other threads keep their own cap (by default, none).
void ag_set_max_cpu_level(int level);

/// Number of threads the large kernels (matrix product) may use. Default: the number of online CPUs.
int ag_num_threads(void);
void ag_set_num_threads(int n);

/// Per-thread pointer slots, each null until set: thread-local state for the library's Swift code that must cost a
/// single load to read (Swift has no thread-local variables of its own). `slot` is in 0 ..< AG_THREAD_POINTER_SLOTS.
#define AG_THREAD_POINTER_SLOTS 2
void *ag_thread_pointer(int slot);
void ag_set_thread_pointer(int slot, void *value);

// ---------------------------------------------------------------------------------------------------------
// Matrix product
// ---------------------------------------------------------------------------------------------------------

/// C = alpha * A * B + beta * C.
/// A is m x k: element (i, p) at a[i * rsa + p * csa].
/// B is k x n: element (p, j) at b[p * rsb + j * csb].
/// C is m x n, row-major with row stride ldc: element (i, j) at c[i * ldc + j].
/// Any strides are allowed for A and B (a transposed operand is just swapped strides), so callers never copy to
/// transpose. When beta == 0, C is not read (it may hold NaN). k == 0 gives C = beta * C.
void ag_gemm_f32(int64_t m, int64_t n, int64_t k, float alpha,
                 const float *a, int64_t rsa, int64_t csa,
                 const float *b, int64_t rsb, int64_t csb,
                 float beta, float *c, int64_t ldc);
void ag_gemm_f64(int64_t m, int64_t n, int64_t k, double alpha,
                 const double *a, int64_t rsa, int64_t csa,
                 const double *b, int64_t rsb, int64_t csb,
                 double beta, double *c, int64_t ldc);

/// A batch of products C_t = A_t * B_t (alpha = 1, beta = 0), t = 0 ..< batch, with A_t = a + a_offsets[t],
/// B_t = b + b_offsets[t], C_t = c + t * m * n (C contiguous). Strides as in ag_gemm_*. Lets small batched
/// products (and broadcast batch dimensions, where offsets repeat) run with one call.
void ag_gemm_batched_f32(int64_t batch, int64_t m, int64_t n, int64_t k,
                         const float *a, const int64_t *a_offsets, int64_t rsa, int64_t csa,
                         const float *b, const int64_t *b_offsets, int64_t rsb, int64_t csb,
                         float *c);
void ag_gemm_batched_f64(int64_t batch, int64_t m, int64_t n, int64_t k,
                         const double *a, const int64_t *a_offsets, int64_t rsa, int64_t csa,
                         const double *b, const int64_t *b_offsets, int64_t rsb, int64_t csb,
                         double *c);

// ---------------------------------------------------------------------------------------------------------
// Elementwise maps over contiguous buffers
// ---------------------------------------------------------------------------------------------------------

typedef enum {
    AG_UNARY_NEG = 0,      // -x
    AG_UNARY_EXP,          // e^x
    AG_UNARY_LOG,          // ln x (NaN for x < 0, -inf at 0)
    AG_UNARY_LOG1P,        // ln(1 + x), accurate near 0
    AG_UNARY_EXPM1,        // e^x - 1, accurate near 0
    AG_UNARY_SQRT,         // sqrt x
    AG_UNARY_SIN,
    AG_UNARY_COS,
    AG_UNARY_TANH,
    AG_UNARY_SIGMOID,      // 1 / (1 + e^-x), no overflow for large |x|
    AG_UNARY_ABS,
    AG_UNARY_SIGN,         // -1, 0 or 1 (0 at 0; NaN stays NaN)
    AG_UNARY_RELU,         // max(x, 0)
    AG_UNARY_SQUARE,       // x * x
    AG_UNARY_RECIPROCAL,   // 1 / x
    AG_UNARY_SOFTPLUS,     // ln(1 + e^x), computed as max(x, 0) + log1p(e^-|x|)
    AG_UNARY_COUNT
} ag_unary_op;

/// y[i] = op(x[i]) for i in 0 ..< n. y may equal x (in place).
/// Accuracy: the _f64 versions are as accurate as the C library; the _f32 versions are within 4 ulp of the
/// correctly rounded result over the whole float range (vectorized polynomial code may be used).
void ag_unary_f32(ag_unary_op op, int64_t n, const float *x, float *y);
void ag_unary_f64(ag_unary_op op, int64_t n, const double *x, double *y);

/// y[i] = alpha * x[i] + beta (affine map; covers scaling and shifting by scalars). y may equal x.
void ag_affine_f32(int64_t n, const float *x, float alpha, float beta, float *y);
void ag_affine_f64(int64_t n, const double *x, double alpha, double beta, double *y);

// ---------------------------------------------------------------------------------------------------------
// Broadcasting binary operations
// ---------------------------------------------------------------------------------------------------------

typedef enum {
    AG_BINARY_ADD = 0,
    AG_BINARY_SUB,
    AG_BINARY_MUL,
    AG_BINARY_DIV,
    AG_BINARY_POW,         // a^b as the C library's pow
    AG_BINARY_MIN,         // a < b ? a : b   (NaN if either is NaN)
    AG_BINARY_MAX,         // a > b ? a : b   (NaN if either is NaN)
    AG_BINARY_COUNT
} ag_binary_op;

typedef enum {
    AG_COMPARE_EQ = 0, AG_COMPARE_NE, AG_COMPARE_LT, AG_COMPARE_LE, AG_COMPARE_GT, AG_COMPARE_GE
} ag_compare_op;

/// y = op(a, b) over an ndim-dimensional index space `shape`; y is contiguous in `shape`.
/// a's element at index (i_0, ..., i_{ndim-1}) is a[sum_d i_d * sa[d]], likewise b; a stride of 0 repeats
/// (broadcasts) along that dimension. ndim may be 0 (one element). ndim <= 16.
void ag_binary_f32(ag_binary_op op, int ndim, const int64_t *shape,
                   const float *a, const int64_t *sa, const float *b, const int64_t *sb, float *y);
void ag_binary_f64(ag_binary_op op, int ndim, const int64_t *shape,
                   const double *a, const int64_t *sa, const double *b, const int64_t *sb, double *y);

/// y = (a op b) ? 1 : 0 as bytes, broadcasting as in ag_binary_*.
void ag_compare_f32(ag_compare_op op, int ndim, const int64_t *shape,
                    const float *a, const int64_t *sa, const float *b, const int64_t *sb, uint8_t *y);
void ag_compare_f64(ag_compare_op op, int ndim, const int64_t *shape,
                    const double *a, const int64_t *sa, const double *b, const int64_t *sb, uint8_t *y);

/// y = cond ? a : b elementwise (cond is bytes, nonzero = true), broadcasting all three as in ag_binary_*.
void ag_where_f32(int ndim, const int64_t *shape, const uint8_t *cond, const int64_t *sc,
                  const float *a, const int64_t *sa, const float *b, const int64_t *sb, float *y);
void ag_where_f64(int ndim, const int64_t *shape, const uint8_t *cond, const int64_t *sc,
                  const double *a, const int64_t *sa, const double *b, const int64_t *sb, double *y);

// ---------------------------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------------------------

typedef enum { AG_REDUCE_SUM = 0, AG_REDUCE_MAX, AG_REDUCE_MIN } ag_reduce_op;

/// x is contiguous [outer, r, inner]; y is contiguous [outer, inner]:
/// y[o, i] = op over p in 0 ..< r of x[o, p, i]. For r == 0: sum gives 0, max gives -inf, min gives +inf.
/// Max and min propagate NaN. Sums accumulate in a way whose error grows like log(r) or better
/// (pairwise or blocked), not like r.
void ag_reduce_f32(ag_reduce_op op, int64_t outer, int64_t r, int64_t inner, const float *x, float *y);
void ag_reduce_f64(ag_reduce_op op, int64_t outer, int64_t r, int64_t inner, const double *x, double *y);

/// Dot product sum_i a[i] * b[i] of contiguous buffers, accumulated in double for both versions.
double ag_dot_f32(int64_t n, const float *a, const float *b);
double ag_dot_f64(int64_t n, const double *a, const double *b);

// ---------------------------------------------------------------------------------------------------------
// Data movement (any element size: 1, 4 or 8 bytes)
// ---------------------------------------------------------------------------------------------------------

/// Gathers a strided view into a contiguous buffer: y[flat index of (i_0..)] = x[sum_d i_d * sx[d]].
/// Covers transposes/permutations (permuted strides), broadcasting to a larger shape (stride 0) and slicing
/// with steps (offset x, scaled strides). ndim <= 16.
void ag_copy_strided(int64_t elem_size, int ndim, const int64_t *shape,
                     const void *x, const int64_t *sx, void *y);

/// The transpose of ag_copy_strided: scatters a contiguous buffer into a strided view,
/// y[sum_d i_d * sy[d]] = x[flat index of (i_0..)]. The view's positions must not overlap. ndim <= 16.
void ag_copy_into_strided(int64_t elem_size, int ndim, const int64_t *shape,
                          const void *x, void *y, const int64_t *sy);

/// Gather along one axis: x is [outer, n, inner], idx has count entries in 0 ..< n, y is [outer, count, inner]:
/// y[o, j, i] = x[o, idx[j], i].
void ag_gather(int64_t elem_size, int64_t outer, int64_t n, int64_t inner,
               const void *x, const int64_t *idx, int64_t count, void *y);

/// Scatter-add along one axis, the transpose of ag_gather: y is [outer, n, inner] (caller initializes it),
/// x is [outer, count, inner]: y[o, idx[j], i] += x[o, j, i]. Repeated indices accumulate.
void ag_scatter_add_f32(int64_t outer, int64_t n, int64_t inner,
                        const float *x, const int64_t *idx, int64_t count, float *y);
void ag_scatter_add_f64(int64_t outer, int64_t n, int64_t inner,
                        const double *x, const int64_t *idx, int64_t count, double *y);

/// Type conversions between contiguous buffers.
void ag_convert_f32_to_f64(int64_t n, const float *x, double *y);
void ag_convert_f64_to_f32(int64_t n, const double *x, float *y);
void ag_convert_u8_to_f32(int64_t n, const uint8_t *x, float *y);
void ag_convert_u8_to_f64(int64_t n, const uint8_t *x, double *y);

/// y[i] = value for i in 0 ..< n.
void ag_fill_f32(int64_t n, float value, float *y);
void ag_fill_f64(int64_t n, double value, double *y);

// ---------------------------------------------------------------------------------------------------------
// Convolution and pooling (conv.c)
// ---------------------------------------------------------------------------------------------------------

/// im2col (unfold): x is [outer, images, channels, h, w] (image planes [h, w] one after another); cols is
/// [outer, channels * kh * kw, images * oh * ow], the images side by side along each row:
/// cols[o, (c * kh + i) * kw + j, n * oh * ow + oy * ow + ox]
///     = x[o, n, c, oy * sh - pt + i * dh, ox * sw - pl + j * dw],
/// or 0 where that position lies outside the plane (in the padding). Padding below and right of the plane is
/// implied by oh and ow. With images = 1 this is [planes, kh * kw, oh * ow] for planes = outer * channels.
void ag_im2col_f32(int64_t outer, int64_t images, int64_t channels, int64_t h, int64_t w, int64_t kh, int64_t kw,
                   int64_t oh, int64_t ow, int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t dh, int64_t dw,
                   const float *x, float *cols);
void ag_im2col_f64(int64_t outer, int64_t images, int64_t channels, int64_t h, int64_t w, int64_t kh, int64_t kw,
                   int64_t oh, int64_t ow, int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t dh, int64_t dw,
                   const double *x, double *cols);

/// col2im (fold), the transpose of ag_im2col (same layouts): x (written whole, not read) = the sum, over the entries
/// of cols, of each entry added at the plane position ag_im2col reads it from (entries from the padding are dropped).
void ag_col2im_f32(int64_t outer, int64_t images, int64_t channels, int64_t h, int64_t w, int64_t kh, int64_t kw,
                   int64_t oh, int64_t ow, int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t dh, int64_t dw,
                   const float *cols, float *x);
void ag_col2im_f64(int64_t outer, int64_t images, int64_t channels, int64_t h, int64_t w, int64_t kh, int64_t kw,
                   int64_t oh, int64_t ow, int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t dh, int64_t dw,
                   const double *cols, double *x);

/// Max pooling over kh x kw windows (stride sh, sw; padding pt, pl above and left, as −∞): y[p, oy, ox] is the
/// largest x[p, iy, ix] in the window, and positions[p * oh * ow + oy * ow + ox] its flat position in x (the first
/// in row-major order on ties; a NaN in the window wins). A window entirely in the padding gets position −1 and
/// y = 0.
void ag_max_pool_f32(int64_t planes, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                     int64_t sh, int64_t sw, int64_t pt, int64_t pl, const float *x, float *y, int64_t *positions);
void ag_max_pool_f64(int64_t planes, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                     int64_t sh, int64_t sw, int64_t pt, int64_t pl, const double *x, double *y, int64_t *positions);

// ---------------------------------------------------------------------------------------------------------
// Fused kernels used by derivative rules and losses
// ---------------------------------------------------------------------------------------------------------

/// Binary cross-entropy on probabilities, elementwise:
/// l = -(t * max(ln p, -100) + (1 - t) * max(ln(1 - p), -100)), as PyTorch clamps the logarithms.
void ag_bce_f32(int64_t n, const float *p, const float *t, float *l);
void ag_bce_f64(int64_t n, const double *p, const double *t, double *l);

/// out[b n + i] = g[b n + i] * d(p[i], t[i]) for every batch b (total = n times the batch count), where d is the
/// derivative of that loss in p: (p - t) / (p (1 - p)) where neither logarithm is clamped; -t / p where only
/// ln(1 - p) is (p = 1); (1 - t) / (1 - p) where only ln p is (p < e^-100); 0 where both are, or p is NaN.
void ag_bce_dp_f32(int64_t n, int64_t total, const float *p, const float *t, const float *g, float *out);
void ag_bce_dp_f64(int64_t n, int64_t total, const double *p, const double *t, const double *g, double *out);

#ifdef __cplusplus
}
#endif
#endif

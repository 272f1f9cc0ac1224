// Template: reductions and dot products for one instruction set; reduce.c includes it with VW = 16 (AVX-512)
// and VW = 8 (AVX2) float lanes, after defining VN(name) and VTARGET.
//
// Accuracy: float sums add 4 numbers per lane in float within blocks of 16 vectors, then accumulate the block
// sums in double (error a few float ulps of sum |x|, independent of r). Double sums are pairwise along
// contiguous rows (error ~ log2(r) ulps) and compensated (Neumaier) down columns (error ~ 2 ulps).
// Max and min propagate NaN; vertical ones give the same bits as portable.c.

#define vf VN(vf)
#define vi VN(vi)
#define vd VN(vd)
#define vdw VN(vdw)
#define VD (VW / 2)
typedef float vf __attribute__((vector_size(4 * VW)));
typedef int32_t vi __attribute__((vector_size(4 * VW)));
typedef double vd __attribute__((vector_size(4 * VW)));   // VD doubles: one register
typedef double vdw __attribute__((vector_size(8 * VW)));  // VW doubles: two registers
typedef float VN(vf_u) __attribute__((vector_size(4 * VW), aligned(4)));
typedef double VN(vd_u) __attribute__((vector_size(4 * VW), aligned(8)));
typedef int64_t VN(vl) __attribute__((vector_size(4 * VW)));

AG_INLINE VTARGET vf VN(loadf)(const float *p) { return *(const VN(vf_u) *)p; }
AG_INLINE VTARGET vd VN(loadd)(const double *p) { return *(const VN(vd_u) *)p; }

// ---------------------------------------------------------------------------------------------------------
// Along contiguous rows (inner == 1)
// ---------------------------------------------------------------------------------------------------------

static VTARGET double VN(sum_f32)(const float *x, int64_t n) {
    vdw acc = {0};
    int64_t i = 0;
    for (; i + 16 * VW <= n; i += 16 * VW) {
        vf s0 = VN(loadf)(x + i), s1 = VN(loadf)(x + i + VW), s2 = VN(loadf)(x + i + 2 * VW),
           s3 = VN(loadf)(x + i + 3 * VW);
        for (int j = 4; j < 16; j += 4) {
            s0 += VN(loadf)(x + i + j * VW);
            s1 += VN(loadf)(x + i + (j + 1) * VW);
            s2 += VN(loadf)(x + i + (j + 2) * VW);
            s3 += VN(loadf)(x + i + (j + 3) * VW);
        }
        acc += __builtin_convertvector((s0 + s1) + (s2 + s3), vdw);
    }
    for (; i + VW <= n; i += VW) acc += __builtin_convertvector(VN(loadf)(x + i), vdw);
    double total = 0;
    for (int l = 0; l < VW; l++) total += acc[l];
    for (; i < n; i++) total += x[i];
    return total;
}

/// Pairwise: halves until at most 32 vectors remain, which four vector accumulators add.
static VTARGET double VN(sum_f64)(const double *x, int64_t n) {
    if (n > 32 * VD) {
        int64_t half = n / 2 / VD * VD;
        return VN(sum_f64)(x, half) + VN(sum_f64)(x + half, n - half);
    }
    vd s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    int64_t i = 0;
    for (; i + 4 * VD <= n; i += 4 * VD) {
        s0 += VN(loadd)(x + i);
        s1 += VN(loadd)(x + i + VD);
        s2 += VN(loadd)(x + i + 2 * VD);
        s3 += VN(loadd)(x + i + 3 * VD);
    }
    for (; i + VD <= n; i += VD) s0 += VN(loadd)(x + i);
    vd s = (s0 + s1) + (s2 + s3);
    double total = 0;
    for (int l = 0; l < VD; l++) total += s[l];
    for (; i < n; i++) total += x[i];
    return total;
}

/// Max (is_max) or min of a contiguous row; NaN if any element is NaN (the first one, as portable.c).
#define DEFINE_EXTREMUM(T, V, VMASK, LANES, LOAD, NAME)                                      \
    static VTARGET T NAME(const T *x, int64_t n, int is_max) {                                \
        V m0, m1;                                                                            \
        VMASK nan = {0};                                                                     \
        for (int l = 0; l < LANES; l++) m0[l] = m1[l] = is_max ? -INFINITY : INFINITY;       \
        int64_t i = 0;                                                                       \
        for (; i + 2 * LANES <= n; i += 2 * LANES) {                                         \
            V a = LOAD(x + i), b = LOAD(x + i + LANES);                                      \
            nan |= (a != a) | (b != b);                                                      \
            VMASK ta = is_max ? a > m0 : a < m0, tb = is_max ? b > m1 : b < m1;              \
            m0 = (V)((ta & (VMASK)a) | (~ta & (VMASK)m0));                                   \
            m1 = (V)((tb & (VMASK)b) | (~tb & (VMASK)m1));                                   \
        }                                                                                    \
        T r = is_max ? -INFINITY : INFINITY;                                                 \
        for (int l = 0; l < LANES; l++) {                                                    \
            if (is_max ? m0[l] > r : m0[l] < r) r = m0[l];                                   \
            if (is_max ? m1[l] > r : m1[l] < r) r = m1[l];                                   \
            if (nan[l]) r = NAN;                                                             \
        }                                                                                    \
        if (r != r) i = 0, r = is_max ? -INFINITY : INFINITY; /* find the first NaN */       \
        for (; i < n; i++) {                                                                 \
            T v = x[i];                                                                      \
            if (v != v) return v;                                                            \
            if (is_max ? v > r : v < r) r = v;                                               \
        }                                                                                    \
        return r;                                                                            \
    }
DEFINE_EXTREMUM(float, vf, vi, VW, VN(loadf), VN(extremum_f32))
DEFINE_EXTREMUM(double, vd, VN(vl), VD, VN(loadd), VN(extremum_f64))
#undef DEFINE_EXTREMUM

// ---------------------------------------------------------------------------------------------------------
// Down columns (inner > 1): y[i] = op over p of x[p * inner + i], in chunks of columns kept in L1.
// Plain loops over independent columns: the compiler vectorizes them.
// ---------------------------------------------------------------------------------------------------------

enum { VN(CHUNK) = 256 };

static VTARGET void VN(columns_sum_f32)(int64_t r, int64_t inner, const float *x, float *y) {
    double acc[VN(CHUNK)];
    for (int64_t i0 = 0; i0 < inner; i0 += VN(CHUNK)) {
        int64_t len = ag_min64(VN(CHUNK), inner - i0);
        for (int64_t i = 0; i < len; i++) acc[i] = 0;
        for (int64_t p = 0; p < r; p++) {
            const float *row = x + p * inner + i0;
            for (int64_t i = 0; i < len; i++) acc[i] += row[i];
        }
        for (int64_t i = 0; i < len; i++) y[i0 + i] = (float)acc[i];
    }
}

static VTARGET void VN(columns_sum_f64)(int64_t r, int64_t inner, const double *x, double *y) {
    double s[VN(CHUNK)], c[VN(CHUNK)];
    for (int64_t i0 = 0; i0 < inner; i0 += VN(CHUNK)) {
        int64_t len = ag_min64(VN(CHUNK), inner - i0);
        for (int64_t i = 0; i < len; i++) s[i] = c[i] = 0;
        for (int64_t p = 0; p < r; p++) {
            const double *row = x + p * inner + i0;
            for (int64_t i = 0; i < len; i++) {
                // Neumaier: c collects the rounding error of every addition exactly.
                double v = row[i], t = s[i] + v;
                c[i] += __builtin_fabs(s[i]) >= __builtin_fabs(v) ? (s[i] - t) + v : (v - t) + s[i];
                s[i] = t;
            }
        }
        for (int64_t i = 0; i < len; i++) y[i0 + i] = s[i] + c[i];
    }
}

#define DEFINE_COLUMNS_EXTREMUM(T, NAME)                                                    \
    static VTARGET void NAME(int64_t r, int64_t inner, const T *x, T *y, int is_max) {      \
        for (int64_t i = 0; i < inner; i++) y[i] = is_max ? -INFINITY : INFINITY;           \
        for (int64_t p = 0; p < r; p++) {                                                   \
            const T *row = x + p * inner;                                                   \
            if (is_max)                                                                     \
                for (int64_t i = 0; i < inner; i++) {                                       \
                    T v = row[i], m = y[i];                                                 \
                    y[i] = m != m ? m : (v != v || v > m ? v : m);                          \
                }                                                                           \
            else                                                                            \
                for (int64_t i = 0; i < inner; i++) {                                       \
                    T v = row[i], m = y[i];                                                 \
                    y[i] = m != m ? m : (v != v || v < m ? v : m);                          \
                }                                                                           \
        }                                                                                   \
    }
DEFINE_COLUMNS_EXTREMUM(float, VN(columns_extremum_f32))
DEFINE_COLUMNS_EXTREMUM(double, VN(columns_extremum_f64))
#undef DEFINE_COLUMNS_EXTREMUM

// ---------------------------------------------------------------------------------------------------------
// Entry points of this instruction set
// ---------------------------------------------------------------------------------------------------------

static VTARGET void VN(reduce_f32)(ag_reduce_op op, int64_t outer, int64_t r, int64_t inner, const float *x,
                                   float *y) {
    for (int64_t o = 0; o < outer; o++) {
        const float *xo = x + o * r * inner;
        float *yo = y + o * inner;
        if (inner == 1) yo[0] = op == AG_REDUCE_SUM ? (float)VN(sum_f32)(xo, r) : VN(extremum_f32)(xo, r, op == AG_REDUCE_MAX);
        else if (op == AG_REDUCE_SUM) VN(columns_sum_f32)(r, inner, xo, yo);
        else VN(columns_extremum_f32)(r, inner, xo, yo, op == AG_REDUCE_MAX);
    }
}

static VTARGET void VN(reduce_f64)(ag_reduce_op op, int64_t outer, int64_t r, int64_t inner, const double *x,
                                   double *y) {
    for (int64_t o = 0; o < outer; o++) {
        const double *xo = x + o * r * inner;
        double *yo = y + o * inner;
        if (inner == 1) yo[0] = op == AG_REDUCE_SUM ? VN(sum_f64)(xo, r) : VN(extremum_f64)(xo, r, op == AG_REDUCE_MAX);
        else if (op == AG_REDUCE_SUM) VN(columns_sum_f64)(r, inner, xo, yo);
        else VN(columns_extremum_f64)(r, inner, xo, yo, op == AG_REDUCE_MAX);
    }
}

/// Products of floats are exact in double; two accumulators of VW doubles.
static VTARGET double VN(dot_f32)(int64_t n, const float *a, const float *b) {
    vdw s0 = {0}, s1 = {0};
    int64_t i = 0;
    for (; i + 2 * VW <= n; i += 2 * VW) {
        s0 += __builtin_convertvector(VN(loadf)(a + i), vdw) * __builtin_convertvector(VN(loadf)(b + i), vdw);
        s1 += __builtin_convertvector(VN(loadf)(a + i + VW), vdw) *
              __builtin_convertvector(VN(loadf)(b + i + VW), vdw);
    }
    vdw s = s0 + s1;
    double total = 0;
    for (int l = 0; l < VW; l++) total += s[l];
    for (; i < n; i++) total += (double)a[i] * b[i];
    return total;
}

static VTARGET double VN(dot_f64)(int64_t n, const double *a, const double *b) {
    vd s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    int64_t i = 0;
    for (; i + 4 * VD <= n; i += 4 * VD) {
        s0 += VN(loadd)(a + i) * VN(loadd)(b + i);
        s1 += VN(loadd)(a + i + VD) * VN(loadd)(b + i + VD);
        s2 += VN(loadd)(a + i + 2 * VD) * VN(loadd)(b + i + 2 * VD);
        s3 += VN(loadd)(a + i + 3 * VD) * VN(loadd)(b + i + 3 * VD);
    }
    vd s = (s0 + s1) + (s2 + s3);
    double total = 0;
    for (int l = 0; l < VD; l++) total += s[l];
    for (; i < n; i++) total += a[i] * b[i];
    return total;
}

#undef vf
#undef vi
#undef vd
#undef vdw
#undef VD

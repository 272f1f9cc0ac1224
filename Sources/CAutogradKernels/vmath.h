// Template: vectorized float math, written once with the compiler's generic vectors and compiled for each
// instruction set. unary.c includes it with VW = 16 (AVX-512) and VW = 8 (AVX2 + FMA) after defining
// VN(name) (name mangling) and VTARGET (the function target attribute).
//
// Every function is within 4 ulp of the correctly rounded result over the whole float range (the tests
// measure the maximum error against double-precision libm on dense sweeps and random bit patterns), and gets
// the special values right: NaN propagates, infinities and zeros (with their sign) follow the C library,
// subnormal inputs and outputs are handled. Polynomial coefficients are minimax fits (relative error) made for
// this code (Benchmarks/kernels/fit_polynomials.py); the range reductions are the classical ones, described at
// each function. Two steps use an instruction of the set where it helps (#if VW == 16): the scaling by 2^n
// (vscalefps) and the reciprocal estimate.

#define vf VN(vf)
#define vi VN(vi)
typedef float vf __attribute__((vector_size(4 * VW)));
typedef int32_t vi __attribute__((vector_size(4 * VW)));
typedef float VN(vf_unaligned) __attribute__((vector_size(4 * VW), aligned(4)));

#define F(c) ((vf){0} + (float)(c))    // splat a float constant (not for -0)
#define I(c) ((vi){0} + (int32_t)(c))  // splat an int constant
#define FMA(a, b, c) __builtin_elementwise_fma(a, b, c)
#define SEL(m, a, b) VN(select)(m, a, b)
#define ROUND(x) __builtin_elementwise_roundeven(x)
#define TO_INT(x) __builtin_convertvector(x, vi)
#define TO_FLOAT(x) __builtin_convertvector(x, vf)

/// m ? a : b lane by lane (m is a comparison result: all ones or all zeros).
AG_INLINE VTARGET vf VN(select)(vi m, vf a, vf b) { return (vf)((m & (vi)a) | (~m & (vi)b)); }
AG_INLINE VTARGET vf VN(load)(const float *p) { return *(const VN(vf_unaligned) *)p; }
AG_INLINE VTARGET void VN(store)(float *p, vf v) { *(VN(vf_unaligned) *)p = v; }
AG_INLINE VTARGET vf VN(abs)(vf x) { return (vf)((vi)x & I(0x7fffffff)); }

/// 1/d for d in [1, 2^30] (finite, well away from 0): the hardware estimate (14 bits on AVX-512, 12 on AVX2)
/// refined by Newton steps r += r (1 - d r) to a relative error below 2^-27, much cheaper than a division.
AG_INLINE VTARGET vf VN(recip)(vf d) {
#if VW == 16
    vf r = (vf)_mm512_rcp14_ps((__m512)d);
#else
    vf r = (vf)_mm256_rcp_ps((__m256)d);
    r = FMA(r, FMA(-d, r, F(1.0f)), r);
#endif
    return FMA(r, FMA(-d, r, F(1.0f)), r);
}
AG_INLINE VTARGET vi VN(sign_bit)(vf x) { return (vi)x & I(0x80000000); }

// ---------------------------------------------------------------------------------------------------------
// exp, expm1: x = n ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2 (Cody-Waite: ln2 as a float plus a
// correction; with FMA the first step x - n LN2_HI is exact). Then e^r - 1 = r + r^2/2 + r^3 Q(r).
// ---------------------------------------------------------------------------------------------------------

#define LOG2E_F 0x1.715476p+0f
#define LN2_HI_F 0x1.62e43p-1f
#define LN2_LO_F -0x1.05c61p-29f

/// e^r - 1 for |r| <= ln2/2 (Q: degree 4, relative error 2^-31).
AG_INLINE VTARGET vf VN(expm1_poly)(vf r) {
    vf q = FMA(r, F(1.982412941e-04f), F(1.393324463e-03f));
    q = FMA(r, q, F(8.333419450e-03f));
    q = FMA(r, q, F(4.166648164e-02f));
    q = FMA(r, q, F(1.666666567e-01f));
    vf h = FMA(r, q, F(0.5f));
    return FMA(r * r, h, r);
}

/// x - n ln2 for integral n.
AG_INLINE VTARGET vf VN(reduce_ln2)(vf x, vf n) {
    vf r = FMA(n, F(-LN2_HI_F), x);
    return FMA(n, F(-LN2_LO_F), r);
}

AG_INLINE VTARGET vf VN(exp)(vf x) {
    // Beyond these bounds e^x is inf or rounds to 0 anyway; NaN passes through both selects.
    x = SEL(x > F(89.0f), F(89.0f), x);
    x = SEL(x < F(-104.0f), F(-104.0f), x);
    vf n = ROUND(x * F(LOG2E_F));
    vf p = F(1.0f) + VN(expm1_poly)(VN(reduce_ln2)(x, n));
    // p 2^n for n in [-150, 128]: AVX-512 has an instruction for it; otherwise 2^n as two normal factors
    // 2^n1 2^n2, where p 2^n1 is exact and the second product rounds once, also when the result overflows or
    // is subnormal.
#if VW == 16
    return (vf)_mm512_scalef_ps((__m512)p, (__m512)n);  // p 2^n, rounded once (overflow, subnormals)
#else
    vi k = TO_INT(n);
    vi k1 = k >> 1, k2 = k - k1;
    return p * (vf)((k1 + 127) << 23) * (vf)((k2 + 127) << 23);
#endif
}

AG_INLINE VTARGET vf VN(expm1)(vf x) {
    // Below -18, e^x < 2^-25 and the result rounds to -1.
    vf xc = SEL(x > F(89.0f), F(89.0f), x);
    xc = SEL(xc < F(-18.0f), F(-18.0f), xc);
    vf n = ROUND(xc * F(LOG2E_F));
    vf p = VN(expm1_poly)(VN(reduce_ln2)(xc, n));
    // e^x - 1 = 2^n (p + 1) - 1 = 2 (s p + (s - 1/2)) with s = 2^(n-1), n - 1 in [-27, 127] (normal, and
    // s - 1/2 is exact where it matters); the FMA rounds once.
    vf s = (vf)((TO_INT(n) + 126) << 23);
    vf y = FMA(s, p, s - F(0.5f));
    y = y + y;
    return SEL(x == F(0.0f), x, y);  // keeps the sign of zero
}

// ---------------------------------------------------------------------------------------------------------
// log, log1p: x = 2^e m with m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), log x = e ln2 + log(1 + f) and
// log(1 + f) = f - f^2/2 + f^3 P(f).
// ---------------------------------------------------------------------------------------------------------

/// Splits a positive normal x into 2^e * (1 + f); returns f, stores e (as a float).
AG_INLINE VTARGET vf VN(log_split)(vf x, vf *e) {
    vi ix = (vi)x - I(0x3f3504f3);  // bits of sqrt(1/2): the mantissa range starts there
    *e = TO_FLOAT(ix >> 23);
    return (vf)((ix & I(0x007fffff)) + I(0x3f3504f3)) - F(1.0f);
}

/// e ln2 + log(1 + f) + corr for f in [sqrt(1/2) - 1, sqrt(2) - 1] and a small correction corr
/// (P: degree 8, relative error 2^-30).
AG_INLINE VTARGET vf VN(log_finish)(vf f, vf e, vf corr) {
    vf p = FMA(f, F(6.746640056e-02f), F(-1.167565212e-01f));
    p = FMA(f, p, F(1.188816205e-01f));
    p = FMA(f, p, F(-1.240558922e-01f));
    p = FMA(f, p, F(1.421955228e-01f));
    p = FMA(f, p, F(-1.666799635e-01f));
    p = FMA(f, p, F(2.000211924e-01f));
    p = FMA(f, p, F(-2.500000894e-01f));
    p = FMA(f, p, F(3.333331347e-01f));
    vf t = FMA(f * f * f, p, FMA(e, F(LN2_LO_F), corr));  // the small terms first
    vf u = FMA(f * F(-0.5f), f, f);                        // f - f^2/2, rounded once
    return FMA(e, F(LN2_HI_F), u + t);                     // e LN2_HI is exact
}

AG_INLINE VTARGET vf VN(log)(vf x) {
    vi sub = x < F(0x1p-126f);  // subnormals are scaled into the normal range (and 0 and negatives, fixed below)
    vf e, f = VN(log_split)(SEL(sub, x * F(0x1p23f), x), &e);
    vf y = VN(log_finish)(f, SEL(sub, e - F(23.0f), e), F(0.0f));
    y = SEL(x == F(0.0f), F(-INFINITY), y);
    y = SEL(x < F(0.0f), F(NAN), y);
    y = SEL(x == F(INFINITY), x, y);
    return SEL(x != x, x, y);
}

AG_INLINE VTARGET vf VN(log1p)(vf x) {
    // Near 0 the polynomial takes x itself (no rounding at all). Elsewhere u = 1 + x is rounded; its
    // rounding error err (exact, by Fast2Sum with the larger operand first) enters as the correction err / u,
    // at most ~1.4 ulp of the result, so 1/u ~ 2^-e (1 - f + f^2) (3% accurate) is good enough.
    vf one = F(1.0f);
    vf u = one + x;
    vf err = SEL(x > one, (x - u) + one, (one - u) + x);
    vf e, f = VN(log_split)(u, &e);
    vi ke = __builtin_elementwise_min(TO_INT(e), I(126));  // the correction is negligible beyond
    vf inv = (vf)((I(127) - ke) << 23);
    vf corr = err * inv * FMA(f, f, one - f);
    vi small = (x > F(-0.2928f)) & (x < F(0.4142f));
    vf y = VN(log_finish)(SEL(small, x, f), SEL(small, F(0.0f), e), SEL(small, F(0.0f), corr));
    y = SEL(x == F(-1.0f), F(-INFINITY), y);
    y = SEL(x < F(-1.0f), F(NAN), y);
    y = SEL(x == F(INFINITY), x, y);
    y = SEL(x == F(0.0f), x, y);  // keeps the sign of zero
    return SEL(x != x, x, y);
}

// ---------------------------------------------------------------------------------------------------------
// tanh, sigmoid, softplus
// ---------------------------------------------------------------------------------------------------------

AG_INLINE VTARGET vf VN(tanh)(vf x) {
    // |x| < 0.625: x + x^3 T(x^2) (T: degree 5, relative error 2^-32).
    vf z = x * x;
    vf t = FMA(z, F(2.142962068e-03f), F(-8.177398704e-03f));
    t = FMA(z, t, F(2.170070261e-02f));
    t = FMA(z, t, F(-5.394676328e-02f));
    t = FMA(z, t, F(1.333320588e-01f));
    t = FMA(z, t, F(-3.333333135e-01f));
    vf small = FMA(x * z, t, x);
    // Otherwise 1 - 2 / (e^(2|x|) + 1) >= 0.55, without cancellation; it rounds to exactly 1 from |x| = 9.01.
    vf a = VN(abs)(x);
    vf ac = SEL(a > F(10.0f), F(10.0f), a);
    vf large = F(1.0f) - F(2.0f) * VN(recip)(VN(exp)(ac + ac) + F(1.0f));
    large = (vf)((vi)large | VN(sign_bit)(x));
    vf y = SEL(a < F(0.625f), small, large);  // NaN takes the second branch and stays NaN
    return SEL(x == F(0.0f), x, y);           // keeps the sign of zero
}

AG_INLINE VTARGET vf VN(sigmoid)(vf x) {
    // 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0: the exponential never overflows.
    vf e = VN(exp)((vf)((vi)x | I(0x80000000)));  // e^-|x|
    // 1 + e = d + dlo exactly (Fast2Sum, 1 >= e); 1/(d + dlo) ~ r - dlo r^2 with r ~ 1/d.
    vf d = F(1.0f) + e, dlo = (F(1.0f) - d) + e;
    vf r = VN(recip)(d);
    r = FMA(-dlo * r, r, r);
    return SEL(x >= F(0.0f), F(1.0f), e) * r;
}

AG_INLINE VTARGET vf VN(softplus)(vf x) {
    // max(x, 0) + log1p(e^-|x|): finite for every finite x, and exact-ish for large |x|.
    vf e = VN(exp)((vf)((vi)x | I(0x80000000)));
    return SEL(x > F(0.0f), x, F(0.0f)) + VN(log1p)(e);
}

// ---------------------------------------------------------------------------------------------------------
// GELU and its derivative, through the upper tail of the normal distribution Phi(-a) = erfc(a / sqrt2) / 2 for
// a = |x|: erfc z = t P(t) e^(-z^2) with t = 1 / (1 + z/2) and P a degree-10 polynomial in u = t - 0.58, a
// relative-error fit of erfcx(z) / t over z in [0, 10.5] (3.6e-9; Benchmarks/kernels/fit_gelu.py). The exponent
// z^2 = a^2 / 2 is taken from a itself, as the exact sum hi + lo of the rounded square and its error (an FMA):
// e^-(hi + lo)/2 = e^(-hi/2) (1 - lo/2). So the rounding of z = a / sqrt2, which enters only t (where P varies
// slowly), is not amplified by z^2, and the tail keeps its relative accuracy far out (x = -13).
// ---------------------------------------------------------------------------------------------------------

/// Phi(-a) = q r g for a >= 0 (or NaN), returned as three factors: q = t P(t) / 2, r = 1 - lo/2 (the square's
/// rounding error) and g = e^(-hi/2), which may be subnormal. e^(-a^2/2) = r g. Callers multiply by g last, so a
/// result in the subnormal range is rounded once there.
AG_INLINE VTARGET vf VN(normal_tail)(vf a, vf *r, vf *g) {
    a = SEL(a > F(15.0f), F(15.0f), a);  // beyond, the results are 0 in float (and inf - inf cannot occur)
    // t = 1 / d, d = 1 + a / (2 sqrt2). For large a, t P(t) ~ t, so t's rounding errors (d's and the
    // division's) would pass straight into the result: both are recovered exactly with FMAs (d - 1 is exact for
    // d >= 1) and applied at the end: t P = P t + P t (rr - dlo t), rounded once.
    vf d = FMA(a, F(0x1.6a09e6p-2f), F(1.0f));
    vf dlo = FMA(a, F(0x1.6a09e6p-2f), F(1.0f) - d);
    vf t = F(1.0f) / d;
    vf rr = FMA(-d, t, F(1.0f));
    vf u = t - F(0.58f);
    vf p = FMA(u, F(3.631764650e-02f), F(1.634592935e-02f));
    p = FMA(u, p, F(-7.455581427e-02f));
    p = FMA(u, p, F(4.159171600e-03f));
    p = FMA(u, p, F(1.140642315e-01f));
    p = FMA(u, p, F(-5.162632093e-02f));
    p = FMA(u, p, F(-2.033517063e-01f));
    p = FMA(u, p, F(8.514712751e-02f));
    p = FMA(u, p, F(5.868539810e-01f));
    p = FMA(u, p, F(7.790188193e-01f));
    p = FMA(u, p, F(5.694087148e-01f));
    vf hi = a * a, lo = FMA(a, a, -hi);
    *g = VN(exp)(hi * F(-0.5f));
    *r = FMA(lo, F(-0.5f), F(1.0f));
    return F(0.5f) * FMA(p, t, p * (t * FMA(-dlo, t, rr)));
}

/// x Phi(x): Phi(x) = Phi(-|x|) for x < 0, 1 - Phi(-|x|) otherwise. gelu(-inf) is NaN (-inf * 0), as x Phi(x).
AG_INLINE VTARGET vf VN(gelu)(vf x) {
    vf r, g, q = VN(normal_tail)(VN(abs)(x), &r, &g);
    q = q * r;
    return SEL(x < F(0.0f), (x * q) * g, x * FMA(-q, g, F(1.0f)));
}

/// Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi) = r g / sqrt(2 pi): (q + x / sqrt(2 pi)) r g for x < 0,
/// else 1 + (x / sqrt(2 pi) - q) r g.
AG_INLINE VTARGET vf VN(gelu_derivative)(vf x) {
    vf r, g, q = VN(normal_tail)(VN(abs)(x), &r, &g);
    vf c = F(0.3989422804f);
    return SEL(x < F(0.0f), (FMA(x, c, q) * r) * g, FMA(FMA(x, c, -q) * r, g, F(1.0f)));
}

// ---------------------------------------------------------------------------------------------------------
// sin, cos: x = q pi/2 + r with q = round(2x / pi), |r| <= pi/4 (Cody-Waite with pi/2 in three floats; with
// FMA the first step is exact for |x| < 2^22 and the error stays far below an ulp of r for |x| <= 2^16).
// Larger |x| (rare) go lane by lane through an exact reduction (Payne-Hanek) in sincosf_big.
// ---------------------------------------------------------------------------------------------------------

#define SINCOS_VECTOR_LIMIT 0x1p16f

AG_INLINE VTARGET vf VN(sincos)(vf x, int cosine) {
    vf q = ROUND(x * F(0x1.45f306p-1f));  // 2/pi
    vf r = FMA(q, F(-0x1.921fb6p+0f), x);
    r = FMA(q, F(0x1.777a5cp-25f), r);
    r = FMA(q, F(0x1.ee59dap-50f), r);
    vf z = r * r;
    // sin r = r + r^3 S(r^2), cos r = 1 - r^2/2 + r^4 C(r^2) (S, C: degree 3, relative errors 2^-37, 2^-42).
    vf s = FMA(z, F(2.718121550e-06f), F(-1.983931288e-04f));
    s = FMA(z, s, F(8.333329111e-03f));
    s = FMA(z, s, F(-1.666666716e-01f));
    s = FMA(r * z, s, r);
    vf c = FMA(z, F(-2.720575480e-07f), F(2.479945942e-05f));
    c = FMA(z, c, F(-1.388888340e-03f));
    c = FMA(z, c, F(4.166666791e-02f));
    c = FMA(z * z, c, FMA(z, F(-0.5f), F(1.0f)));
    // Quadrant k = q mod 4 (cos x = sin(x + pi/2)): odd k uses cos r, k = 2, 3 negate.
    vi k = TO_INT(q) + I(cosine);
    vf y = SEL((k & I(1)) != I(0), c, s);
    y = (vf)((vi)y ^ ((k & I(2)) << 30));
    if (!cosine) y = SEL(x == F(0.0f), x, y);  // sin(-0) = -0
    vi big = ~(VN(abs)(x) <= F(SINCOS_VECTOR_LIMIT));  // also inf and NaN
    if (__builtin_reduce_or(big) != 0)
        for (int i = 0; i < VW; i++)
            if (big[i]) y[i] = sincosf_big(x[i], cosine);
    return y;
}

// ---------------------------------------------------------------------------------------------------------
// The elementwise entry points for this instruction set
// ---------------------------------------------------------------------------------------------------------

/// Applies FN to n floats: whole vectors, then the tail through a zero-padded buffer.
#define VN_MAP(FN)                                                 \
    do {                                                           \
        int64_t i_ = 0;                                            \
        _Pragma("clang loop unroll_count(2)")                      \
        for (; i_ + VW <= n; i_ += VW) VN(store)(y + i_, FN(VN(load)(x + i_))); \
        if (i_ < n) {                                              \
            float buf_[VW] = {0};                                  \
            memcpy(buf_, x + i_, (size_t)(n - i_) * sizeof(float)); \
            VN(store)(buf_, FN(VN(load)(buf_)));                   \
            memcpy(y + i_, buf_, (size_t)(n - i_) * sizeof(float)); \
        }                                                          \
    } while (0)

AG_INLINE VTARGET vf VN(neg)(vf x) { return (vf)((vi)x ^ I(0x80000000)); }
AG_INLINE VTARGET vf VN(sqrt)(vf x) { return __builtin_elementwise_sqrt(x); }
AG_INLINE VTARGET vf VN(cos)(vf x) { return VN(sincos)(x, 1); }
AG_INLINE VTARGET vf VN(sin)(vf x) { return VN(sincos)(x, 0); }
AG_INLINE VTARGET vf VN(sign)(vf x) {
    vf one = (vf)((vi)F(1.0f) | VN(sign_bit)(x));
    return SEL((x > F(0.0f)) | (x < F(0.0f)), one, x);  // zeros and NaN stay as they are
}
AG_INLINE VTARGET vf VN(relu)(vf x) { return SEL((x > F(0.0f)) | (x != x), x, F(0.0f)); }
AG_INLINE VTARGET vf VN(square)(vf x) { return x * x; }
AG_INLINE VTARGET vf VN(reciprocal)(vf x) { return F(1.0f) / x; }

static VTARGET void VN(unary_f32)(ag_unary_op op, int64_t n, const float *x, float *y) {
    switch (op) {
    case AG_UNARY_NEG: VN_MAP(VN(neg)); break;
    case AG_UNARY_EXP: VN_MAP(VN(exp)); break;
    case AG_UNARY_LOG: VN_MAP(VN(log)); break;
    case AG_UNARY_LOG1P: VN_MAP(VN(log1p)); break;
    case AG_UNARY_EXPM1: VN_MAP(VN(expm1)); break;
    case AG_UNARY_SQRT: VN_MAP(VN(sqrt)); break;
    case AG_UNARY_SIN: VN_MAP(VN(sin)); break;
    case AG_UNARY_COS: VN_MAP(VN(cos)); break;
    case AG_UNARY_TANH: VN_MAP(VN(tanh)); break;
    case AG_UNARY_SIGMOID: VN_MAP(VN(sigmoid)); break;
    case AG_UNARY_ABS: VN_MAP(VN(abs)); break;
    case AG_UNARY_SIGN: VN_MAP(VN(sign)); break;
    case AG_UNARY_RELU: VN_MAP(VN(relu)); break;
    case AG_UNARY_SQUARE: VN_MAP(VN(square)); break;
    case AG_UNARY_RECIPROCAL: VN_MAP(VN(reciprocal)); break;
    case AG_UNARY_SOFTPLUS: VN_MAP(VN(softplus)); break;
    case AG_UNARY_GELU: VN_MAP(VN(gelu)); break;
    case AG_UNARY_GELU_DERIVATIVE: VN_MAP(VN(gelu_derivative)); break;
    default: ag_ref_unary_f32(op, n, x, y); break;
    }
}

/// Binary cross-entropy, as ag_ref_bce_f32 but with the vector logarithms.
static VTARGET void VN(bce_f32)(int64_t n, const float *p, const float *t, float *l) {
    int64_t i = 0;
    for (; i + VW <= n; i += VW) {
        vf pv = VN(load)(p + i), tv = VN(load)(t + i);
        vf lp = VN(log)(pv), lq = VN(log1p)(VN(neg)(pv));
        lp = SEL(lp < F(-100.0f), F(-100.0f), lp);
        lq = SEL(lq < F(-100.0f), F(-100.0f), lq);
        VN(store)(l + i, VN(neg)(tv * lp + (F(1.0f) - tv) * lq));
    }
    if (i < n) ag_ref_bce_f32(n - i, p + i, t + i, l + i);
}

#undef VN_MAP
#undef vf
#undef vi
#undef F
#undef I
#undef FMA
#undef SEL
#undef ROUND
#undef TO_INT
#undef TO_FLOAT
#undef LOG2E_F
#undef LN2_HI_F
#undef LN2_LO_F
#undef SINCOS_VECTOR_LIMIT

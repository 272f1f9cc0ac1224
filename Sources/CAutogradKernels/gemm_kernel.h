// Template for one instruction set and element type of the matrix product: the register-tile microkernel, the
// two packing routines, and the dot-product kernel for narrow products. gemm.c includes this file once per
// (ISA, type) after defining:
//
//   T            element type                    KN(name)       name mangling, e.g. name##_avx512_f32
//   TARGET       function attribute (target(...))
//   V, VL        vector type and its lane count
//   MR           rows of the register tile (broadcast operand A)
//   V_ZERO() V_SET1(x) V_LOADU(p) V_STOREU(p, v) V_FMA(a, b, c) = a*b+c  V_MUL(a, b)
//   V_LOADN(p, n) / V_STOREN(p, v, n)   first n lanes only (0 <= n <= VL); other lanes read as 0 / untouched
//   V_TRANSPOSE(r)                      transposes the VL x VL block held in V r[VL]
//   KC, MC, NC   cache blocking (see gemm_driver.h), KIT the kit struct type of T
//   PREFETCH(p)  prefetch into L1 (or nothing); PREFETCH_STEPS how many k steps ahead the B panel is fetched
//   K_UNROLL     the loop pragma for the k loop of the tile (an unroll count: 4 suits AVX-512's 32
//                registers, while on AVX2's 16 it makes the compiler spill and rotate accumulators, 40% slower)
//
// The register tile is MR x (2 VL): C rows are contiguous, so each row of the tile is two vectors, and each
// step p of the inner loop does two vector loads of packed B, MR broadcasts of packed A, and 2 MR FMAs into
// 2 MR accumulator registers.
// A narrow variant (MR x VL) serves the last column panel when at most VL columns remain (e.g. n = 10).
//
// Packed layouts (both zero-padded to full tiles, so the kernel never branches on edges until the store):
//   A micro-panel: MR rows x kc, stored column by column:  ap[p * MR + i] = alpha * A(i, p)
//   B micro-panel: kc x w columns (w = 2 VL, or VL for the narrow tail), row by row: bp[p * w + j] = B(p, j)
//
// At its end it undefines T, KN, KIT, V, VL, MR, the blocking sizes and the V_ operations; TARGET, PREFETCH,
// PREFETCH_STEPS and K_UNROLL are per instruction set and stay defined for the next (double) inclusion.

AG_INLINE TARGET void KN(tile)(int nv, int64_t kc, const T *restrict a, const T *restrict b, T *c, int64_t ldc,
                               T beta, int mr, int nr, int ct) {
    // The first step initializes the accumulators (kc >= 1), which keeps them out of memory.
    V acc[MR][2];
    {
        V b0 = V_LOADU(b), b1 = nv == 2 ? V_LOADU(b + VL) : V_ZERO();
        for (int i = 0; i < MR; i++) {
            V ai = V_SET1(a[i]);
            acc[i][0] = V_MUL(ai, b0);
            acc[i][1] = nv == 2 ? V_MUL(ai, b1) : V_ZERO();
        }
        a += MR;
        b += nv * VL;
    }
_Pragma(K_UNROLL)
    for (int64_t p = 1; p < kc; p++) {
        V b0 = V_LOADU(b), b1 = nv == 2 ? V_LOADU(b + VL) : V_ZERO();
        // The B panels stream from L2: fetch a few steps ahead, one prefetch per 64-byte line (a step of two
        // AVX2 vectors is one line, of two AVX-512 vectors two).
        PREFETCH(b + PREFETCH_STEPS * nv * VL);
        if (nv == 2 && VL * sizeof(T) >= 64) PREFETCH(b + PREFETCH_STEPS * nv * VL + VL);
        for (int i = 0; i < MR; i++) {
            V ai = V_SET1(a[i]);
            acc[i][0] = V_FMA(ai, b0, acc[i][0]);
            if (nv == 2) acc[i][1] = V_FMA(ai, b1, acc[i][1]);
        }
        a += MR;
        b += nv * VL;
    }
    // C = acc + beta C; beta == 0 never reads C (it may hold NaN).
    V vbeta = V_SET1(beta);
    if (ct) {
        // Transposed C (element (i, j) at c[i + j * ldc]): transpose VL x VL blocks of the tile in registers
        // and store them as (parts of) rows of C.
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; v++)
#pragma clang loop unroll(full)
            for (int i0 = 0; i0 < MR; i0 += VL) {
                int rows = mr - i0 < VL ? mr - i0 : VL;
                V r[VL];
#pragma clang loop unroll(full)
                for (int q = 0; q < VL; q++) r[q] = i0 + q < MR ? acc[i0 + q][v] : V_ZERO();
                V_TRANSPOSE(r);
#pragma clang loop unroll(full)
                for (int l = 0; l < VL; l++) {
                    T *cj = c + (int64_t)(v * VL + l) * ldc + i0;
                    if (v * VL + l < nr && rows > 0) {
                        V out = beta == 0 ? r[l] : V_FMA(vbeta, V_LOADN(cj, rows), r[l]);
                        V_STOREN(cj, out, rows);
                    }
                }
            }
    } else if (mr == MR && nr == nv * VL) {
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++) {
            T *ci = c + i * ldc;
#pragma clang loop unroll(full)
            for (int v = 0; v < nv; v++) {
                V r = beta == 0 ? acc[i][v] : V_FMA(vbeta, V_LOADU(ci + v * VL), acc[i][v]);
                V_STOREU(ci + v * VL, r);
            }
        }
    } else {
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++) {
            T *ci = c + i * ldc;
#pragma clang loop unroll(full)
            for (int v = 0; v < nv; v++) {
                int cols = nr - v * VL;
                cols = cols > VL ? VL : cols;
                if (i < mr && cols > 0) {
                    V r = beta == 0 ? acc[i][v] : V_FMA(vbeta, V_LOADN(ci + v * VL, cols), acc[i][v]);
                    V_STOREN(ci + v * VL, r, cols);
                }
            }
        }
    }
}

/// MR x 2VL register tile: C[0:mr, 0:nr] = A-panel * B-panel + beta * C, with C(i, j) at c[i * ldc + j], or at
/// c[i + j * ldc] when ct (the driver computes C^T = B^T A^T that way when C is narrow).
static TARGET void KN(kernel)(int64_t kc, const T *a, const T *b, T *c, int64_t ldc, T beta, int mr, int nr,
                              int ct) {
    KN(tile)(2, kc, a, b, c, ldc, beta, mr, nr, ct);
}

/// MR x VL register tile for the narrow last column panel.
static TARGET void KN(kernel_narrow)(int64_t kc, const T *a, const T *b, T *c, int64_t ldc, T beta, int mr,
                                     int nr, int ct) {
    KN(tile)(1, kc, a, b, c, ldc, beta, mr, nr, ct);
}

/// Packs rows [0, mr) x columns [0, kc) of A (element (i, p) at a[i * rsa + p * csa]) into an MR-row
/// micro-panel, scaled by alpha. Contiguous columns (a transposed operand) are copied vector by vector;
/// contiguous rows are transposed VL x VL blocks at a time; other strides go element by element.
static TARGET void KN(pack_a)(int64_t kc, int mr, const T *a, int64_t rsa, int64_t csa, T alpha,
                              T *restrict out) {
    V valpha = V_SET1(alpha);
    // When MR < VL (AVX2's 6-row tile), the column slots of the panel are narrower than a vector. A partial store
    // is slow on some processors (microcoded masked stores on AMD Zen), so a slot is written with a whole vector
    // whenever the lanes past it fall into the next slot, which is written afterwards (slots are filled in order
    // of p); only the last slot gets a partial store.
    const int whole = MR <= VL;
    if (rsa == 1) {
        for (int64_t p = 0; p < kc; p++) {
            const T *src = a + p * csa;
            for (int i0 = 0; i0 < MR; i0 += VL) {
                int width = MR - i0 < VL ? MR - i0 : VL;
                int valid = mr - i0 < 0 ? 0 : (mr - i0 < width ? mr - i0 : width);
                V v = valid == VL ? V_LOADU(src + i0) : V_LOADN(src + i0, valid);
                if (alpha != 1) v = V_MUL(v, valpha);
                if (width == VL || (whole && p + 1 < kc)) V_STOREU(out + p * MR + i0, v);
                else V_STOREN(out + p * MR + i0, v, width);
            }
        }
    } else if (csa == 1) {
        for (int i0 = 0; i0 < MR; i0 += VL) {
            int width = MR - i0 < VL ? MR - i0 : VL;
            int valid = mr - i0 < 0 ? 0 : (mr - i0 < width ? mr - i0 : width);
            for (int64_t p0 = 0; p0 < kc; p0 += VL) {
                int cnt = kc - p0 < VL ? (int)(kc - p0) : VL;
                // Rows past the edge load nothing (count 0: a zero vector) and their pointer stays on a valid row.
                const T *src = a + i0 * rsa + p0;
                V r[VL];
#pragma clang loop unroll(full)
                for (int q = 0; q < VL; q++) {
                    r[q] = q >= valid ? V_ZERO() : cnt == VL ? V_LOADU(src) : V_LOADN(src, cnt);
                    src += q + 1 < valid ? rsa : 0;
                }
                V_TRANSPOSE(r);
#pragma clang loop unroll(full)
                for (int q = 0; q < VL; q++) {
                    if (q < cnt) {
                        V v = alpha != 1 ? V_MUL(r[q], valpha) : r[q];
                        if (width == VL || (whole && p0 + q + 1 < kc)) V_STOREU(out + (p0 + q) * MR + i0, v);
                        else V_STOREN(out + (p0 + q) * MR + i0, v, width);
                    }
                }
            }
        }
    } else {
        for (int64_t p = 0; p < kc; p++)
            for (int i = 0; i < MR; i++) out[p * MR + i] = i < mr ? alpha * a[i * rsa + p * csa] : 0;
    }
}

/// Packs rows [0, kc) x columns [0, nc) of B (element (p, j) at b[p * rsb + j * csb]) into consecutive
/// micro-panels of width 2VL (the last one VL wide if at most VL columns remain), zero-padded; the panel of
/// column jr starts at out + jr * kc. Contiguous rows are copied row by row across all panels (sequential
/// reads); contiguous columns (a transposed operand) are transposed VL x VL blocks at a time.
static TARGET void KN(pack_b)(int64_t kc, int64_t nc, const T *b, int64_t rsb, int64_t csb, T *restrict out) {
    if (csb == 1) {
        for (int64_t p = 0; p < kc; p++) {
            const T *src = b + p * rsb;
            for (int64_t jr = 0; jr < nc; jr += 2 * VL) {
                int64_t left = nc - jr;
                int w = left <= VL ? VL : 2 * VL;
                T *dst = out + jr * kc + p * w;
                for (int j0 = 0; j0 < w; j0 += VL) {
                    int64_t valid = left - j0 < 0 ? 0 : (left - j0 < VL ? left - j0 : VL);
                    V_STOREU(dst + j0, valid == VL ? V_LOADU(src + jr + j0) : V_LOADN(src + jr + j0, (int)valid));
                }
            }
        }
    } else if (rsb == 1) {
        for (int64_t jr = 0; jr < nc; jr += 2 * VL) {
            int64_t left = nc - jr;
            int w = left <= VL ? VL : 2 * VL;
            for (int j0 = 0; j0 < w; j0 += VL) {
                int valid = left - j0 < 0 ? 0 : (left - j0 < VL ? (int)(left - j0) : VL);
                for (int64_t p0 = 0; p0 < kc; p0 += VL) {
                    int cnt = kc - p0 < VL ? (int)(kc - p0) : VL;
                    const T *src = b + (jr + j0) * csb + p0;  // columns past the edge load nothing (see pack_a)
                    V r[VL];
#pragma clang loop unroll(full)
                    for (int q = 0; q < VL; q++) {
                        r[q] = q >= valid ? V_ZERO() : cnt == VL ? V_LOADU(src) : V_LOADN(src, cnt);
                        src += q + 1 < valid ? csb : 0;
                    }
                    V_TRANSPOSE(r);
#pragma clang loop unroll(full)
                    for (int q = 0; q < VL; q++)
                        if (q < cnt) V_STOREU(out + jr * kc + (p0 + q) * w + j0, r[q]);
                }
            }
        }
    } else {
        for (int64_t jr = 0; jr < nc; jr += 2 * VL) {
            int64_t left = nc - jr;
            int w = left <= VL ? VL : 2 * VL;
            for (int64_t p = 0; p < kc; p++)
                for (int j = 0; j < w; j++)
                    out[jr * kc + p * w + j] = j < left ? b[p * rsb + (jr + j) * csb] : 0;
        }
    }
}

/// Dot-product form for a narrow C with contiguous rows of A: C(i, j) = alpha sum_p A(i, p) Bt(j, p) + beta C(i, j),
/// vectorized along p, so A is read in place (no packing, no transposition). The register tile is DR rows x DC
/// columns of accumulators (DR DC = VL); at the end one VL x VL transpose turns the VL accumulators into one
/// vector of their horizontal sums. Rows of A at stride rsa; rows of Bt (columns of B) at stride ldb.
/// Requires m, n >= 1: rows and columns past the edge repeat the last one and are not stored.
#define DC (VL >= 4 ? 4 : VL)
#define DR (VL / DC)
static TARGET void KN(dot_kernel)(int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t rsa, const T *bt,
                                  int64_t ldb, T beta, T *c, int64_t ldc) {
    for (int64_t i0 = 0; i0 < m; i0 += DR)
        for (int64_t j0 = 0; j0 < n; j0 += DC) {
            const T *ar[DR], *br[DC];
            for (int i = 0; i < DR; i++) ar[i] = a + ag_min64(i0 + i, m - 1) * rsa;
            for (int j = 0; j < DC; j++) br[j] = bt + ag_min64(j0 + j, n - 1) * ldb;
            V acc[VL];
            for (int q = 0; q < VL; q++) acc[q] = V_ZERO();
            int64_t p = 0;
            for (; p + VL <= k; p += VL) {
                V av[DR];
                for (int i = 0; i < DR; i++) av[i] = V_LOADU(ar[i] + p);
                for (int j = 0; j < DC; j++) {
                    V bv = V_LOADU(br[j] + p);
                    for (int i = 0; i < DR; i++) acc[i * DC + j] = V_FMA(av[i], bv, acc[i * DC + j]);
                }
            }
            if (p < k) {
                int rest = (int)(k - p);
                V av[DR];
                for (int i = 0; i < DR; i++) av[i] = V_LOADN(ar[i] + p, rest);
                for (int j = 0; j < DC; j++) {
                    V bv = V_LOADN(br[j] + p, rest);
                    for (int i = 0; i < DR; i++) acc[i * DC + j] = V_FMA(av[i], bv, acc[i * DC + j]);
                }
            }
            V_TRANSPOSE(acc);
            V sum = acc[0];
            for (int q = 1; q < VL; q++) sum = sum + acc[q];
            T s[VL];
            V_STOREU(s, sum);
            for (int i = 0; i < DR; i++)
                for (int j = 0; j < DC; j++)
                    if (i0 + i < m && j0 + j < n) {
                        T *cij = c + (i0 + i) * ldc + j0 + j;
                        *cij = beta == 0 ? alpha * s[i * DC + j] : alpha * s[i * DC + j] + beta * *cij;
                    }
        }
}
#undef DC
#undef DR

static const KIT KN(kit) = {
    .mr = MR, .vl = VL, .kc = KC, .mc = MC, .nc = NC, .kernel = KN(kernel), .kernel_narrow = KN(kernel_narrow),
    .pack_a = KN(pack_a), .pack_b = KN(pack_b), .dot_kernel = KN(dot_kernel),
};

// The parameters are per inclusion: undefine them so the next (ISA, type) starts clean.
#undef T
#undef KN
#undef KIT
#undef V
#undef VL
#undef MR
#undef KC
#undef MC
#undef NC
#undef V_ZERO
#undef V_SET1
#undef V_LOADU
#undef V_STOREU
#undef V_LOADN
#undef V_STOREN
#undef V_FMA
#undef V_MUL
#undef V_TRANSPOSE

// Template: a batch of small matrix products without packing A, for one (instruction set, element type).
// gemm_batched.c includes it after defining T, VW (lanes of a vector of T), MR (rows of a register tile),
// SN(name) (name mangling), STARGET (the function target attribute) and VFMA(a, b, c) (a * b + c).
//
// Why: the blocked product (gemm_driver.h) packs A into MR-row micro-panels and B into 2VW-wide micro-panels
// for every product. For the many small products of attention ([batch, heads] pairs of 128 x 32 by 32 x 128, say)
// packing A costs as much as a fifth of the arithmetic, and each product is too small to split across threads
// without paying a hand-off per product. Here:
//   - each thread takes whole items of the batch (one hand-off per batch, not per product);
//   - B (k x n, at most a few tens of KB) is copied once per item into NR-wide panels, zero padded, in whatever
//     strides it comes (a transposed operand costs nothing more);
//   - A is read in place, any strides: the register tile broadcasts one element of A per row and step of k,
//     which costs the same for a transposed A as for a row-major one;
//   - per item, for each MR rows of A (kept in L1 across the row of tiles) and each panel of B (streamed in order
//     from L1 or L2), one pass over k: C(i0:i0+MR, j0:j0+NR) = sum_p A(i0:i0+MR, p) B(p, j0:j0+NR), with the
//     2 MR accumulators in registers.
// Every element of C is the same sum in the same order whichever thread computes it, so results do not depend on
// the number of threads.

#define NR (2 * VW)
typedef T SN(vt) __attribute__((vector_size(sizeof(T) * VW)));
typedef T SN(vtu) __attribute__((vector_size(sizeof(T) * VW), aligned(sizeof(T))));

/// B (k x n, element (p, j) at b[p * rsb + j * csb]) as ceil(n / NR) panels of k rows by NR columns, zero padded.
static STARGET void SN(pack_b)(int64_t k, int64_t n, const T *b, int64_t rsb, int64_t csb, T *restrict out) {
    for (int64_t j0 = 0; j0 < n; j0 += NR) {
        int64_t w = ag_min64(NR, n - j0);
        T *restrict panel = out + j0 * k;
        if (csb == 1 || rsb != 1) {
            for (int64_t p = 0; p < k; p++) {
                const T *src = b + p * rsb + j0 * csb;
                T *dst = panel + p * NR;
                for (int64_t j = 0; j < w; j++) dst[j] = src[j * csb];
                for (int64_t j = w; j < NR; j++) dst[j] = 0;
            }
        } else {  // columns of B are contiguous (a transposed operand): read them in order
            for (int64_t j = 0; j < w; j++) {
                const T *src = b + (j0 + j) * csb;
                for (int64_t p = 0; p < k; p++) panel[p * NR + j] = src[p];
            }
            for (int64_t p = 0; p < k; p++)
                for (int64_t j = w; j < NR; j++) panel[p * NR + j] = 0;
        }
    }
}

/// One tile: C(0:mr, 0:nr) = sum_p A(0:mr, p) Bpanel(p, 0:nr), mr <= MR, nr <= NR. Rows of A past mr repeat the
/// last row (computed, never stored). `csa` is a constant 1 where the caller inlines it for row-major A.
AG_INLINE STARGET void SN(tile)(int64_t k, const T *a, int64_t rsa, int64_t csa, int mr, const T *bp, T *c,
                                int64_t ldc, int nr) {
    SN(vt) acc0[MR], acc1[MR];
    const T *ar[MR];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        acc0[r] = (SN(vt)){0};
        acc1[r] = (SN(vt)){0};
        ar[r] = a + (r < mr ? r : mr - 1) * rsa;
    }
    for (int64_t p = 0; p < k; p++) {
        SN(vt) b0 = *(const SN(vtu) *)(bp + p * NR), b1 = *(const SN(vtu) *)(bp + p * NR + VW);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            SN(vt) av = ar[r][p * csa] - (SN(vt)){0};  // a splat (x - (+0) is x for every x)
            acc0[r] = VFMA(av, b0, acc0[r]);
            acc1[r] = VFMA(av, b1, acc1[r]);
        }
    }
    if (mr == MR && nr == NR) {
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            *(SN(vtu) *)(c + r * ldc) = acc0[r];
            *(SN(vtu) *)(c + r * ldc + VW) = acc1[r];
        }
    } else {
        T buf[MR * NR];
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            *(SN(vtu) *)(buf + r * NR) = acc0[r];
            *(SN(vtu) *)(buf + r * NR + VW) = acc1[r];
        }
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++) c[r * ldc + j] = buf[r * NR + j];
    }
}

/// One item: C (m x n, row stride n) = A B, with `bp` scratch for the packed B.
static STARGET void SN(item)(int64_t m, int64_t n, int64_t k, const T *a, int64_t rsa, int64_t csa, const T *b,
                             int64_t rsb, int64_t csb, T *c, T *bp) {
    SN(pack_b)(k, n, b, rsb, csb, bp);
    for (int64_t i0 = 0; i0 < m; i0 += MR) {
        int mr = (int)ag_min64(MR, m - i0);
        for (int64_t j0 = 0; j0 < n; j0 += NR) {
            int nr = (int)ag_min64(NR, n - j0);
            const T *panel = bp + j0 * k;
            if (csa == 1) SN(tile)(k, a + i0 * rsa, rsa, 1, mr, panel, c + i0 * n + j0, n, nr);
            else SN(tile)(k, a + i0 * rsa, rsa, csa, mr, panel, c + i0 * n + j0, n, nr);
        }
    }
}

/// Items [t0, t1) of a batch (see ag_gemm_batched_*).
static void SN(items)(int64_t t0, int64_t t1, int64_t m, int64_t n, int64_t k, const T *a, const int64_t *ao,
                      int64_t rsa, int64_t csa, const T *b, const int64_t *bo, int64_t rsb, int64_t csb, T *c) {
    int64_t panels = (n + NR - 1) / NR;
    T *bp = (T *)ag_thread_scratch(1, (size_t)(panels * NR * k) * sizeof(T));
    for (int64_t t = t0; t < t1; t++)
        SN(item)(m, n, k, a + ao[t], rsa, csa, b + bo[t], rsb, csb, c + t * m * n, bp);
}

#undef NR

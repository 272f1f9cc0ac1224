// Template for the matrix-product driver of one element type; gemm.c includes it for float and double after
// defining T, DN(name) (name mangling), KIT (kit struct type) and KIT_FOR_LEVEL(level).
//
// Blocking (GotoBLAS / BLIS style, with the roles of A and B chosen for row-major C):
//
//   for ic in steps of MC rows:
//     for pc in steps of KC:                         (beta applies on the first pc only)
//       pack A[ic:ic+mc, pc:pc+kc] into MR-row micro-panels   (A is packed exactly once)
//       for jc in steps of NC columns:
//         pack B[pc:pc+kc, jc:jc+nc] into 2VL-wide micro-panels  (kc x nc block, kept in L2)
//         for ir in steps of MR rows:                A micro-panel (MR x kc) read into L1, reused across jr
//           for jr in steps of 2VL columns:         B micro-panels stream from L2 (prefetched in the kernel)
//             microkernel: C[ir:ir+MR, jr:jr+2VL] += A-panel * B-panel
//
// Which path a product takes (DN(gemm)):
//   - k == 0 or alpha == 0: C = beta C.
//   - narrow C (n <= 4, or n <= VL with k >= 256) with contiguous rows of A: dot products along k, vectorized
//     over k (dot_kernel), A read in place: packing A would cost as much as the product.
//   - one row or one column (matrix-vector), or at most GEMM_DIRECT_MAX multiply-adds: direct loops.
//   - otherwise the blocked product above; when C is narrow its transpose C^T = B^T A^T is computed instead
//     (the kernel then stores its tile transposed), which fills the MR x 2VL register tiles far better.
// Threads split C into ranges of whole micro-panels of columns (or of rows when C is narrow); each part runs
// the blocked product with its own packing buffers, so no synchronization is needed inside. Splitting never
// changes how an element is computed, so results are the same for any number of threads.

typedef struct {
    int64_t m, n, k;
    T alpha, beta;
    const T *a, *b;
    int64_t rsa, csa, rsb, csb, ldc;
    T *c;
    int ct;  // computing C^T = B^T A^T: C(i, j) at c[i + j * ldc]
    const KIT *kit;
    int split_n;
} DN(job);

/// Splits `total` into equal blocks of at most `max` (rounded up to a multiple of `unit`): k = 784 with KC = 384
/// gives 2 x 392 rather than 384 + 384 + 16.
static int64_t DN(even_block)(int64_t total, int64_t max, int64_t unit) {
    int64_t blocks = (total + max - 1) / max;
    int64_t size = (total + blocks - 1) / blocks;
    return (size + unit - 1) / unit * unit;
}

/// The blocked product on one thread. C(i, j) is at c[i * ldc + j], or at c[i + j * ldc] when ct.
static void DN(blocked)(const KIT *kit, int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t rsa,
                        int64_t csa, const T *b, int64_t rsb, int64_t csb, T beta, T *c, int64_t ldc, int ct) {
    const int64_t rsc = ct ? 1 : ldc, csc = ct ? ldc : 1;
    const int MRk = kit->mr, VLk = kit->vl, NR = 2 * kit->vl;
    int64_t kcb = DN(even_block)(k, kit->kc, 1);
    int64_t mcb = DN(even_block)(m, kit->mc, MRk);
    int64_t ncb = DN(even_block)(n, kit->nc, NR);
    T *ap = (T *)ag_thread_scratch(0, (size_t)(mcb * kcb) * sizeof(T));
    T *bp = (T *)ag_thread_scratch(1, (size_t)(kcb * ncb) * sizeof(T));
    for (int64_t ic = 0; ic < m; ic += mcb) {
        int64_t mc = ag_min64(mcb, m - ic);
        for (int64_t pc = 0; pc < k; pc += kcb) {
            int64_t kc = ag_min64(kcb, k - pc);
            T beta_pc = pc == 0 ? beta : 1;
            for (int64_t ir = 0; ir < mc; ir += MRk)
                kit->pack_a(kc, (int)ag_min64(MRk, mc - ir), a + (ic + ir) * rsa + pc * csa, rsa, csa, alpha,
                            ap + ir * kc);
            for (int64_t jc = 0; jc < n; jc += ncb) {
                int64_t nc = ag_min64(ncb, n - jc);
                kit->pack_b(kc, nc, b + pc * rsb + jc * csb, rsb, csb, bp);
                for (int64_t ir = 0; ir < mc; ir += MRk) {
                    int mr = (int)ag_min64(MRk, mc - ir);
                    T *crow = c + (ic + ir) * rsc + jc * csc;
                    for (int64_t jr = 0; jr < nc; jr += NR) {
                        int nr = (int)ag_min64(NR, nc - jr);
                        T *ctile = crow + jr * csc;
                        if (nr <= VLk) kit->kernel_narrow(kc, ap + ir * kc, bp + jr * kc, ctile, ldc, beta_pc, mr, nr, ct);
                        else kit->kernel(kc, ap + ir * kc, bp + jr * kc, ctile, ldc, beta_pc, mr, nr, ct);
                    }
                }
            }
        }
    }
}

static void DN(task)(void *ctx, int part, int nparts) {
    const DN(job) *j = (const DN(job) *)ctx;
    const KIT *kit = j->kit;
    const int64_t rsc = j->ct ? 1 : j->ldc, csc = j->ct ? j->ldc : 1;
    if (j->split_n) {
        int64_t unit = 2 * kit->vl, units = (j->n + unit - 1) / unit;
        int64_t c0 = ag_min64(units * part / nparts * unit, j->n);
        int64_t c1 = ag_min64(units * (part + 1) / nparts * unit, j->n);
        if (c0 < c1)
            DN(blocked)(kit, j->m, c1 - c0, j->k, j->alpha, j->a, j->rsa, j->csa, j->b + c0 * j->csb, j->rsb,
                        j->csb, j->beta, j->c + c0 * csc, j->ldc, j->ct);
    } else {
        int64_t unit = kit->mr, units = (j->m + unit - 1) / unit;
        int64_t r0 = ag_min64(units * part / nparts * unit, j->m);
        int64_t r1 = ag_min64(units * (part + 1) / nparts * unit, j->m);
        if (r0 < r1)
            DN(blocked)(kit, r1 - r0, j->n, j->k, j->alpha, j->a + r0 * j->rsa, j->rsa, j->csa, j->b, j->rsb,
                        j->csb, j->beta, j->c + r0 * rsc, j->ldc, j->ct);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Direct loops (no packing) for small products and matrix-vector shapes. Written as plain C and compiled once
// per instruction set (the compiler vectorizes the inner loops with that set's vector width).
// ---------------------------------------------------------------------------------------------------------

/// Dot product of two strided vectors. The pragma lets the compiler reorder the sum into vector lanes.
AG_INLINE T DN(dot_strided)(int64_t k, const T *x, int64_t sx, const T *y, int64_t sy) {
    T s = 0;
    if (k < 8) {
        // A few terms (a layer with two inputs, say): a vector loop's set-up would cost more than the sum.
        for (int64_t p = 0; p < k; p++) s += x[p * sx] * y[p * sy];
    } else if (sx == 1 && sy == 1) {
#pragma clang loop vectorize(enable) interleave(enable)
        for (int64_t p = 0; p < k; p++) s += x[p] * y[p];
    } else {
        for (int64_t p = 0; p < k; p++) s += x[p * sx] * y[p * sy];
    }
    return s;
}

AG_INLINE void DN(direct_body)(int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t rsa, int64_t csa,
                               const T *b, int64_t rsb, int64_t csb, T beta, T *c, int64_t ldc) {
    if (csb == 1 && n >= 8) {
        // Rows of B are contiguous and long enough for vectors: each row of C is a sum of scaled rows of B.
        for (int64_t i = 0; i < m; i++) {
            T *restrict ci = c + i * ldc;
            if (beta == 0) for (int64_t j = 0; j < n; j++) ci[j] = 0;
            else if (beta != 1) for (int64_t j = 0; j < n; j++) ci[j] *= beta;
            int64_t p = 0;
            for (; p + 4 <= k; p += 4) {  // four rows of B per pass over the row of C
                const T *ai = a + i * rsa + p * csa;
                T t0 = alpha * ai[0], t1 = alpha * ai[csa], t2 = alpha * ai[2 * csa], t3 = alpha * ai[3 * csa];
                const T *restrict b0 = b + p * rsb, *restrict b1 = b0 + rsb, *restrict b2 = b1 + rsb,
                        *restrict b3 = b2 + rsb;
                for (int64_t j = 0; j < n; j++) ci[j] += (t0 * b0[j] + t1 * b1[j]) + (t2 * b2[j] + t3 * b3[j]);
            }
            for (; p < k; p++) {
                T t = alpha * a[i * rsa + p * csa];
                const T *restrict bp = b + p * rsb;
                for (int64_t j = 0; j < n; j++) ci[j] += t * bp[j];
            }
        }
    } else if (rsa == 1 && csa != 1 && k >= 8) {
        // Columns of A are contiguous: each column of C is a sum of scaled columns of A, accumulated in a
        // small buffer (C's column is strided) 256 rows at a time.
        T buf[256];
        for (int64_t j = 0; j < n; j++)
            for (int64_t i0 = 0; i0 < m; i0 += 256) {
                int64_t len = ag_min64(256, m - i0);
                for (int64_t i = 0; i < len; i++) buf[i] = 0;
                int64_t p = 0;
                for (; p + 4 <= k; p += 4) {  // four columns of A per pass over the buffer
                    const T *bj = b + p * rsb + j * csb;
                    T t0 = bj[0], t1 = bj[rsb], t2 = bj[2 * rsb], t3 = bj[3 * rsb];
                    const T *restrict a0 = a + i0 + p * csa, *restrict a1 = a0 + csa, *restrict a2 = a1 + csa,
                            *restrict a3 = a2 + csa;
                    for (int64_t i = 0; i < len; i++) buf[i] += (a0[i] * t0 + a1[i] * t1) + (a2[i] * t2 + a3[i] * t3);
                }
                for (; p < k; p++) {
                    T t = b[p * rsb + j * csb];
                    const T *restrict ap = a + i0 + p * csa;
                    for (int64_t i = 0; i < len; i++) buf[i] += ap[i] * t;
                }
                T *cj = c + i0 * ldc + j;
                if (beta == 0) for (int64_t i = 0; i < len; i++) cj[i * ldc] = alpha * buf[i];
                else for (int64_t i = 0; i < len; i++) cj[i * ldc] = alpha * buf[i] + beta * cj[i * ldc];
            }
    } else {
        // Dot products: vectorized when A has contiguous rows and B contiguous columns, else short scalar
        // sums (the tiny products this path gets). Matrix-vector products take four rows per pass over the
        // vector (more loads in flight; the vector is loaded once for four rows).
        int64_t i = 0;
        if (n == 1 && k <= 4 && ldc == 1 && beta == 0) {
            // A tall matrix times a vector of at most four entries (a layer with two inputs): one loop over the
            // rows with the vector in registers, which the compiler vectorizes across rows.
            T b0 = alpha * b[0], b1 = k > 1 ? alpha * b[rsb] : 0, b2 = k > 2 ? alpha * b[2 * rsb] : 0,
              b3 = k > 3 ? alpha * b[3 * rsb] : 0;
            switch (k) {
            case 1: for (int64_t r = 0; r < m; r++) c[r] = a[r * rsa] * b0; break;
            case 2: for (int64_t r = 0; r < m; r++) c[r] = a[r * rsa] * b0 + a[r * rsa + csa] * b1; break;
            case 3:
                for (int64_t r = 0; r < m; r++)
                    c[r] = a[r * rsa] * b0 + a[r * rsa + csa] * b1 + a[r * rsa + 2 * csa] * b2;
                break;
            case 4:
                for (int64_t r = 0; r < m; r++)
                    c[r] = a[r * rsa] * b0 + a[r * rsa + csa] * b1 + a[r * rsa + 2 * csa] * b2 + a[r * rsa + 3 * csa] * b3;
                break;
            default: break;
            }
            return;
        }
        if (n == 1 && csa == 1 && rsb == 1 && k >= 16)
            for (; i + 4 <= m; i += 4) {
                const T *a0 = a + i * rsa, *a1 = a0 + rsa, *a2 = a1 + rsa, *a3 = a2 + rsa;
                T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma clang loop vectorize(enable)
                for (int64_t p = 0; p < k; p++) {
                    T x = b[p];
                    s0 += a0[p] * x;
                    s1 += a1[p] * x;
                    s2 += a2[p] * x;
                    s3 += a3[p] * x;
                }
                T s[4] = {s0, s1, s2, s3};
                for (int r = 0; r < 4; r++) {
                    T *cr = c + (i + r) * ldc;
                    *cr = beta == 0 ? alpha * s[r] : alpha * s[r] + beta * *cr;
                }
            }
        for (; i < m; i++) {
            T *ci = c + i * ldc;
            for (int64_t j = 0; j < n; j++) {
                T s = DN(dot_strided)(k, a + i * rsa, csa, b + j * csb, rsb);
                ci[j] = beta == 0 ? alpha * s : alpha * s + beta * ci[j];
            }
        }
    }
}

static AG_TARGET_AVX512 void DN(direct_avx512)(int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t rsa,
                                               int64_t csa, const T *b, int64_t rsb, int64_t csb, T beta, T *c,
                                               int64_t ldc) {
    DN(direct_body)(m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc);
}
static AG_TARGET_AVX2 void DN(direct_avx2)(int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t rsa,
                                           int64_t csa, const T *b, int64_t rsb, int64_t csb, T beta, T *c,
                                           int64_t ldc) {
    DN(direct_body)(m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc);
}
static void DN(direct_portable)(int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t rsa, int64_t csa,
                                const T *b, int64_t rsb, int64_t csb, T beta, T *c, int64_t ldc) {
    DN(direct_body)(m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc);
}

typedef struct {
    int64_t m, n, k;
    T alpha, beta;
    const T *a, *b;
    int64_t rsa, csa, rsb, csb, ldc;
    T *c;
    int level;
} DN(direct_job);

/// One part of a direct product: a range of rows (or of columns when C is a single row).
static void DN(direct_task)(void *ctx, int part, int nparts) {
    const DN(direct_job) *j = (const DN(direct_job) *)ctx;
    int64_t m = j->m, n = j->n;
    const T *a = j->a, *b = j->b;
    T *c = j->c;
    if (m > 1) {
        int64_t r0 = m * part / nparts, r1 = m * (part + 1) / nparts;
        m = r1 - r0, a += r0 * j->rsa, c += r0 * j->ldc;
    } else {
        int64_t c0 = n * part / nparts, c1 = n * (part + 1) / nparts;
        n = c1 - c0, b += c0 * j->csb, c += c0;
    }
    if (m <= 0 || n <= 0) return;
    if (j->level >= AG_LEVEL_AVX512) DN(direct_avx512)(m, n, j->k, j->alpha, a, j->rsa, j->csa, b, j->rsb, j->csb, j->beta, c, j->ldc);
    else if (j->level >= AG_LEVEL_AVX2) DN(direct_avx2)(m, n, j->k, j->alpha, a, j->rsa, j->csa, b, j->rsb, j->csb, j->beta, c, j->ldc);
    else DN(direct_portable)(m, n, j->k, j->alpha, a, j->rsa, j->csa, b, j->rsb, j->csb, j->beta, c, j->ldc);
}

/// C = beta * C (k == 0 or alpha == 0: A and B are not read).
static void DN(scale_c)(int64_t m, int64_t n, T beta, T *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++) {
        T *ci = c + i * ldc;
        if (beta == 0) for (int64_t j = 0; j < n; j++) ci[j] = 0;
        else if (beta != 1) for (int64_t j = 0; j < n; j++) ci[j] *= beta;
    }
}

typedef struct {
    int64_t m, n, k;
    T alpha, beta;
    const T *a, *bt;
    int64_t rsa, ldb, ldc;
    T *c;
    const KIT *kit;
} DN(dot_job);

static void DN(dot_task)(void *ctx, int part, int nparts) {
    const DN(dot_job) *j = (const DN(dot_job) *)ctx;
    int64_t units = (j->m + 3) / 4;  // rows in fours (the largest row count of a dot tile)
    int64_t r0 = ag_min64(units * part / nparts * 4, j->m), r1 = ag_min64(units * (part + 1) / nparts * 4, j->m);
    if (r0 < r1)
        j->kit->dot_kernel(r1 - r0, j->n, j->k, j->alpha, j->a + r0 * j->rsa, j->rsa, j->bt, j->ldb, j->beta,
                           j->c + r0 * j->ldc, j->ldc);
}

/// Narrow C (n <= 2VL) with contiguous rows of A: dot products along k (see dot_kernel). The columns of B are
/// used in place when contiguous, else copied once (n x k, small).
static void DN(dot_path)(int max_threads, const KIT *kit, int64_t m, int64_t n, int64_t k, T alpha, const T *a,
                         int64_t rsa, const T *b, int64_t rsb, int64_t csb, T beta, T *c, int64_t ldc) {
    DN(dot_job) j = {m, n, k, alpha, beta, a, b, rsa, csb, ldc, c, kit};
    if (rsb != 1) {
        T *bt = (T *)ag_thread_scratch(1, (size_t)(n * k) * sizeof(T));
        for (int64_t q = 0; q < n; q++)
            for (int64_t p = 0; p < k; p++) bt[q * k + p] = b[p * rsb + q * csb];
        j.bt = bt;
        j.ldb = k;
    }
    int64_t nt = ag_min64(ag_min64(max_threads, (m + 3) / 4), ag_max64(1, m * n * k / GEMM_THREAD_WORK));
    if (nt > 1) ag_parallel_run(DN(dot_task), &j, (int)nt);
    else DN(dot_task)(&j, 0, 1);
}

/// The matrix product with at most `max_threads` threads.
static void DN(gemm)(int max_threads, int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t rsa,
                     int64_t csa, const T *b, int64_t rsb, int64_t csb, T beta, T *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0) {
        DN(scale_c)(m, n, beta, c, ldc);
        return;
    }
    int level = ag_level();
    const KIT *kit = KIT_FOR_LEVEL(level);
    // Narrow C with contiguous rows of A and a long k: dot products along k, no packing of A (measured: better
    // than the packed paths for n <= 4, and for n <= VL once k >= 256). Matrix-vector products (n == 1) are
    // memory bound and faster as the plain row dots below.
    if (csa == 1 && n >= 2 && k >= 4 * kit->vl && m * n * k > GEMM_DIRECT_MAX &&
        (n <= 4 || (n <= GEMM_DOT_MAX_N(kit) && k >= 256))) {
        DN(dot_path)(max_threads, kit, m, n, k, alpha, a, rsa, b, rsb, csb, beta, c, ldc);
        return;
    }
    if (m == 1 || n == 1 || m * n * k <= GEMM_DIRECT_MAX) {
        // Memory bound: more threads help only when the matrix is large (several MB).
        DN(direct_job) dj = {m, n, k, alpha, beta, a, b, rsa, csa, rsb, csb, ldc, c, level};
        int64_t nt = ag_min64(max_threads, ag_max64(1, m * n * k / GEMM_DIRECT_THREAD_WORK));
        if (nt > 1) ag_parallel_run(DN(direct_task), &dj, (int)nt);
        else DN(direct_task)(&dj, 0, 1);
        return;
    }
    DN(job) j = {m, n, k, alpha, beta, a, b, rsa, csa, rsb, csb, ldc, c, 0, kit, 1};
    // A narrow C wastes most of each 2VL-wide register tile; C^T = B^T A^T (MR rows of C^T per tile) fills
    // them. Compare the padded tile areas of both orientations.
    int64_t mr = j.kit->mr, nr = 2 * j.kit->vl;
    int64_t area = (m + mr - 1) / mr * mr * ((n + nr - 1) / nr * nr);
    int64_t area_t = (n + mr - 1) / mr * mr * ((m + nr - 1) / nr * nr);
    if (5 * area_t < 4 * area) {
        j = (DN(job)){n, m, k, alpha, beta, b, a, csb, rsb, csa, rsa, ldc, c, 1, j.kit, 1};
        m = j.m, n = j.n;
    }
    // Threads: one per GEMM_THREAD_WORK multiply-adds, and enough whole micro-panels for each.
    int64_t nt = max_threads;
    if (nt > 1) nt = ag_min64(nt, ag_max64(1, m * n * k / GEMM_THREAD_WORK));
    if (nt > 1) {
        int64_t col_units = (n + 2 * j.kit->vl - 1) / (2 * j.kit->vl), row_units = (m + j.kit->mr - 1) / j.kit->mr;
        if (col_units >= 2 * nt) j.split_n = 1;
        else if (row_units >= 2 * nt) j.split_n = 0;
        else {
            // Few micro-panels either way (a small C with a long k, such as a convolution's weight cotangent):
            // split the dimension whose panels divide most evenly, the busiest thread doing ceil(units / nt) of
            // them.
            nt = ag_min64(nt, ag_max64(col_units, row_units));
            j.split_n = (col_units + nt - 1) / nt * row_units <= (row_units + nt - 1) / nt * col_units;
        }
    }
    if (nt > 1) ag_parallel_run(DN(task), &j, (int)nt);
    else DN(task)(&j, 0, 1);
}

typedef struct {
    int64_t batch, m, n, k;
    const T *a, *b;
    const int64_t *ao, *bo;
    int64_t rsa, csa, rsb, csb;
    T *c;
} DN(batch_job);

static void DN(batch_task)(void *ctx, int part, int nparts) {
    const DN(batch_job) *j = (const DN(batch_job) *)ctx;
    int64_t t0 = j->batch * part / nparts, t1 = j->batch * (part + 1) / nparts;
    for (int64_t t = t0; t < t1; t++)
        DN(gemm)(1, j->m, j->n, j->k, 1, j->a + j->ao[t], j->rsa, j->csa, j->b + j->bo[t], j->rsb, j->csb, 0,
                 j->c + t * j->m * j->n, j->n);
}

static void DN(batched)(int64_t batch, int64_t m, int64_t n, int64_t k, const T *a, const int64_t *ao,
                        int64_t rsa, int64_t csa, const T *b, const int64_t *bo, int64_t rsb, int64_t csb, T *c) {
    if (batch <= 0 || m <= 0 || n <= 0) return;
    int nt = ag_num_threads();
    int64_t work = m * n * k;
    if (nt <= 1 || batch == 1 || work >= 2 * GEMM_THREAD_WORK) {
        // Large items: each product uses all threads itself.
        for (int64_t t = 0; t < batch; t++)
            DN(gemm)(nt, m, n, k, 1, a + ao[t], rsa, csa, b + bo[t], rsb, csb, 0, c + t * m * n, n);
        return;
    }
    // Small items: threads take contiguous ranges of items.
    int64_t want = ag_min64(ag_min64(nt, batch), ag_max64(1, batch * ag_max64(work, 64) / GEMM_THREAD_WORK));
    DN(batch_job) j = {batch, m, n, k, a, b, ao, bo, rsa, csa, rsb, csb, c};
    if (want > 1) ag_parallel_run(DN(batch_task), &j, (int)want);
    else DN(batch_task)(&j, 0, 1);
}

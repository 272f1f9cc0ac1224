// Stand-alone benchmark of the C kernels (not part of the package build). Build and run with ./run.sh.
//   bench gemm [threads...]     GFLOP/s of the matrix-product shapes the MLP benchmarks use
//   bench unary                 ns per element of the elementwise maps on 65536 floats
//   bench misc                  binary / reduce / copy throughput
#define _GNU_SOURCE
#include "ag_kernels.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static float *rand_floats(int64_t n) {
    float *p = malloc(sizeof(float) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) p[i] = (float)((double)rand() / RAND_MAX) * 2 - 1;
    return p;
}

// Times f over `runs` batches (each long enough to be measurable); returns best and median seconds per call.
typedef void (*bench_fn)(void *);
static void timeit(bench_fn f, void *ctx, int runs, double *best, double *median) {
    f(ctx);
    double t0 = now();
    int reps = 1;
    f(ctx);
    double one = now() - t0;
    if (one < 0.02) reps = (int)(0.02 / (one > 1e-7 ? one : 1e-7)) + 1;
    double ts[64];
    for (int r = 0; r < runs; r++) {
        double t = now();
        for (int i = 0; i < reps; i++) f(ctx);
        ts[r] = (now() - t) / reps;
    }
    qsort(ts, (size_t)runs, sizeof(double), cmp_double);
    *best = ts[0];
    *median = ts[runs / 2];
}

typedef struct {
    int64_t m, n, k;
    int ta, tb;
    float *a, *b, *c;
} gemm_ctx;

static void run_gemm(void *p) {
    gemm_ctx *g = p;
    int64_t rsa = g->ta ? 1 : g->k, csa = g->ta ? g->m : 1;
    int64_t rsb = g->tb ? 1 : g->n, csb = g->tb ? g->k : 1;
    ag_gemm_f32(g->m, g->n, g->k, 1, g->a, rsa, csa, g->b, rsb, csb, 0, g->c, g->n);
}

static double check_gemm(gemm_ctx *g) {
    int64_t rsa = g->ta ? 1 : g->k, csa = g->ta ? g->m : 1;
    int64_t rsb = g->tb ? 1 : g->n, csb = g->tb ? g->k : 1;
    run_gemm(g);
    double maxerr = 0;
    for (int64_t i = 0; i < g->m; i += (g->m > 64 ? 7 : 1))
        for (int64_t j = 0; j < g->n; j += (g->n > 64 ? 5 : 1)) {
            double s = 0, sa = 0;
            for (int64_t p = 0; p < g->k; p++) {
                double t = (double)g->a[i * rsa + p * csa] * g->b[p * rsb + j * csb];
                s += t;
                sa += fabs(t);
            }
            double e = fabs(s - g->c[i * g->n + j]) / (sa + 1e-30);
            if (e > maxerr) maxerr = e;
        }
    return maxerr;
}

static void bench_gemm(int nthreads_list[], int nt) {
    struct { int64_t m, k, n; int ta, tb; const char *name; } shapes[] = {
        {1024, 1024, 1024, 0, 0, "1024^3"},
        {128, 784, 512, 0, 0, "(128x784)(784x512)"},
        {128, 512, 512, 0, 0, "(128x512)(512x512)"},
        {128, 512, 10, 0, 0, "(128x512)(512x10)"},
        {784, 128, 512, 1, 0, "(128x784)^T(128x512)"},
        {512, 128, 10, 1, 0, "(128x512)^T(128x10)"},
        {128, 512, 784, 0, 1, "(128x512)(784x512)^T"},
        {128, 10, 512, 0, 1, "(128x10)(512x10)^T"},
        {256, 256, 256, 0, 0, "256^3"},
        {256, 256, 1, 0, 0, "(256x256)(256x1)"},
        {2048, 2048, 2048, 0, 0, "2048^3"},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        gemm_ctx g = {shapes[s].m, shapes[s].n, shapes[s].k, shapes[s].ta, shapes[s].tb, 0, 0, 0};
        g.a = rand_floats(g.m * g.k);
        g.b = rand_floats(g.k * g.n);
        g.c = rand_floats(g.m * g.n);
        double err = check_gemm(&g);
        printf("%-24s", shapes[s].name);
        for (int t = 0; t < nt; t++) {
            ag_set_num_threads(nthreads_list[t]);
            double best, med;
            timeit(run_gemm, &g, 15, &best, &med);
            double fl = 2.0 * g.m * g.n * g.k;
            printf("  T=%d best %6.1f med %6.1f", nthreads_list[t], fl / best / 1e9, fl / med / 1e9);
        }
        printf("  GFLOP/s  (rel err %.1e)\n", err);
        free(g.a); free(g.b); free(g.c);
    }
}

typedef struct {
    int64_t n;
    double *a, *b, *c;
} gemm64_ctx;

static void run_gemm64(void *p) {
    gemm64_ctx *g = p;
    ag_gemm_f64(g->n, g->n, g->n, 1, g->a, g->n, 1, g->b, g->n, 1, 0, g->c, g->n);
}

static void bench_gemm64(int nthreads_list[], int nt) {
    int64_t sizes[] = {256, 1024};
    for (int s = 0; s < 2; s++) {
        gemm64_ctx g = {sizes[s], 0, 0, 0};
        size_t bytes = sizeof(double) * (size_t)(g.n * g.n);
        g.a = malloc(bytes), g.b = malloc(bytes), g.c = malloc(bytes);
        for (int64_t i = 0; i < g.n * g.n; i++) g.a[i] = (double)rand() / RAND_MAX - 0.5, g.b[i] = (double)rand() / RAND_MAX - 0.5;
        char label[32];
        snprintf(label, sizeof label, "f64 %lld^3", (long long)g.n);
        printf("%-24s", label);
        for (int t = 0; t < nt; t++) {
            ag_set_num_threads(nthreads_list[t]);
            double best, med, fl = 2.0 * g.n * g.n * g.n;
            timeit(run_gemm64, &g, 11, &best, &med);
            printf("  T=%d best %6.1f med %6.1f", nthreads_list[t], fl / best / 1e9, fl / med / 1e9);
        }
        printf("  GFLOP/s\n");
        free(g.a); free(g.b); free(g.c);
    }
}

typedef struct { ag_unary_op op; int64_t n; float *x, *y; } unary_ctx;
static void run_unary(void *p) { unary_ctx *u = p; ag_unary_f32(u->op, u->n, u->x, u->y); }

static void bench_unary(void) {
    const char *names[] = {"neg", "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tanh", "sigmoid", "abs",
                           "sign", "relu", "square", "reciprocal", "softplus"};
    int64_t n = 65536;
    float *x = rand_floats(n), *xp = rand_floats(n), *y = rand_floats(n);
    for (int64_t i = 0; i < n; i++) { x[i] *= 10; xp[i] = fabsf(xp[i]) * 10 + 1e-3f; }
    for (int op = 0; op < AG_UNARY_COUNT; op++) {
        int positive = op == AG_UNARY_LOG || op == AG_UNARY_SQRT || op == AG_UNARY_LOG1P;
        unary_ctx u = {(ag_unary_op)op, n, positive ? xp : x, y};
        printf("%-11s", names[op]);
        for (int level = 2; level >= 0; level--) {
            ag_set_max_cpu_level(level);
            double best, med;
            timeit(run_unary, &u, 11, &best, &med);
            printf("  L%d %6.3f (med %6.3f)", level, best / n * 1e9, med / n * 1e9);
        }
        ag_set_max_cpu_level(2);
        printf("\n");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Broadcasting, reductions, copies
// ---------------------------------------------------------------------------------------------------------

typedef struct {
    int kind;
    int64_t rows, cols;
    float *a, *b, *y;
    uint8_t *mask;
} misc_ctx;

static void run_misc(void *p) {
    misc_ctx *m = p;
    int64_t shape[2] = {m->rows, m->cols}, full[2] = {m->cols, 1}, bias[2] = {0, 1}, rowb[2] = {1, 0};
    int64_t tr[2] = {1, m->rows};
    switch (m->kind) {
    case 0: ag_binary_f32(AG_BINARY_ADD, 2, shape, m->a, full, m->b, full, m->y); break;
    case 1: ag_binary_f32(AG_BINARY_ADD, 2, shape, m->a, full, m->b, bias, m->y); break;
    case 2: ag_binary_f32(AG_BINARY_MUL, 2, shape, m->a, full, m->b, rowb, m->y); break;
    case 3: ag_reduce_f32(AG_REDUCE_SUM, 1, m->rows, m->cols, m->a, m->y); break;
    case 4: ag_reduce_f32(AG_REDUCE_SUM, m->rows, m->cols, 1, m->a, m->y); break;
    case 5: ag_reduce_f32(AG_REDUCE_MAX, m->rows, m->cols, 1, m->a, m->y); break;
    case 6: ag_copy_strided(4, 2, shape, m->a, tr, m->y); break;
    case 7: ag_where_f32(2, shape, m->mask, full, m->a, full, m->b, bias, m->y); break;
    case 8: ag_compare_f32(AG_COMPARE_GT, 2, shape, m->a, full, m->b, full, m->mask); break;
    }
}

static void bench_misc(void) {
    const char *names[] = {"add [128,512]+[128,512]", "bias add [128,512]+[512]", "row scale [128,512]*[128,1]",
                           "sum over rows [128,512]->[512]", "sum of rows [128,512]->[128]",
                           "max of rows [128,512]->[128]", "transpose copy [128,512]^T", "where [128,512]",
                           "compare > [128,512]"};
    misc_ctx m = {0, 128, 512, rand_floats(128 * 512), rand_floats(128 * 512), rand_floats(128 * 512), NULL};
    m.mask = malloc(128 * 512);
    for (int i = 0; i < 128 * 512; i++) m.mask[i] = (uint8_t)(rand() & 1);
    for (int kind = 0; kind < 9; kind++) {
        m.kind = kind;
        printf("%-32s", names[kind]);
        for (int level = 2; level >= 0; level -= 2) {
            ag_set_max_cpu_level(level);
            double best, med;
            timeit(run_misc, &m, 11, &best, &med);
            printf("  level %d: best %7.3f med %7.3f ns/elem", level, best / (128 * 512) * 1e9,
                   med / (128 * 512) * 1e9);
        }
        ag_set_max_cpu_level(2);
        printf("\n");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Batched products
// ---------------------------------------------------------------------------------------------------------

typedef struct {
    int64_t batch, m, n, k;
    float *a, *b, *c;
    int64_t *ao, *bo;
} batch_ctx;

static void run_batch(void *p) {
    batch_ctx *g = p;
    ag_gemm_batched_f32(g->batch, g->m, g->n, g->k, g->a, g->ao, g->k, 1, g->b, g->bo, g->n, 1, g->c);
}

static void bench_batched(void) {
    int64_t cases[][4] = {{100, 1, 1, 2}, {1000, 4, 4, 4}, {64, 32, 32, 32}, {8, 256, 256, 256}};
    for (int s = 0; s < 4; s++) {
        batch_ctx g = {cases[s][0], cases[s][1], cases[s][2], cases[s][3], 0, 0, 0, 0, 0};
        g.a = rand_floats(g.batch * g.m * g.k);
        g.b = rand_floats(g.batch * g.k * g.n);
        g.c = rand_floats(g.batch * g.m * g.n);
        g.ao = malloc(sizeof(int64_t) * (size_t)g.batch);
        g.bo = malloc(sizeof(int64_t) * (size_t)g.batch);
        for (int64_t t = 0; t < g.batch; t++) g.ao[t] = t * g.m * g.k, g.bo[t] = t * g.k * g.n;
        double best, med;
        timeit(run_batch, &g, 15, &best, &med);
        double fl = 2.0 * g.batch * g.m * g.n * g.k;
        printf("batch %4lld of %lldx%lld * %lldx%lld: best %8.2f us (%.1f GFLOP/s), med %8.2f us\n",
               (long long)g.batch, (long long)g.m, (long long)g.k, (long long)g.k, (long long)g.n, best * 1e6,
               fl / best / 1e9, med * 1e6);
        free(g.a); free(g.b); free(g.c); free(g.ao); free(g.bo);
    }
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "gemm";
    printf("cpu level %d, threads %d\n", ag_cpu_level(), ag_num_threads());
    if (!strcmp(what, "unary")) printf("ns per float, best (median), at CPU levels 2 (AVX-512), 1 (AVX2), 0 (portable)\n");
    if (!strcmp(what, "gemm")) {
        int list[8], nt = 0;
        for (int i = 2; i < argc && nt < 8; i++) list[nt++] = atoi(argv[i]);
        if (nt == 0) { list[0] = 1; list[1] = 2; nt = 2; }
        bench_gemm(list, nt);
        bench_gemm64(list, nt);
    } else if (!strcmp(what, "unary")) {
        bench_unary();
    } else if (!strcmp(what, "misc")) {
        bench_misc();
    } else if (!strcmp(what, "batched")) {
        bench_batched();
    }
    return 0;
}

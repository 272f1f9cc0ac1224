// Exhaustive (or strided) check of the float maps of ag_unary_f32 against double-precision libm: the maximum
// error in ulps over every `step`-th float bit pattern (step 1 = all 2^32), two threads.
//   ./run.sh ulp all 2 1        every function, CPU level 2, all floats (about an hour)
//   ./run.sh ulp tanh 1 7       tanh at level 1, every 7th float
#include "ag_kernels.h"
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
static double ref(int op, double x) {
    switch (op) {
    case AG_UNARY_EXP: return exp(x);
    case AG_UNARY_LOG: return log(x);
    case AG_UNARY_LOG1P: return log1p(x);
    case AG_UNARY_EXPM1: return expm1(x);
    case AG_UNARY_SQRT: return sqrt(x);
    case AG_UNARY_SIN: return sin(x);
    case AG_UNARY_COS: return cos(x);
    case AG_UNARY_TANH: return tanh(x);
    case AG_UNARY_SIGMOID: return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
    case AG_UNARY_SOFTPLUS: return fmax(x, 0) + log1p(exp(-fabs(x)));
    case AG_UNARY_RECIPROCAL: return 1 / x;
    case AG_UNARY_SQUARE: return x * x;
    default: return NAN;
    }
}
static double ulp_err(float y, double r) {
    if (isnan(r)) return isnan(y) ? 0 : 1e9;
    if (isnan(y)) return 1e9;
    if (isinf(r)) return y == r ? 0 : 1e9;
    double a = fabs(r);
    int e; frexp(a, &e);
    if (e > 128) e = 128;
    double ulp = ldexp(1.0, e - 24 < -149 ? -149 : e - 24);
    if (isinf(y)) { return (float)r == y ? 0 : 1e9; }
    if (y == 0 && r == 0 && signbit(y) != signbit(r)) return 1e9;  // sign of zero
    return fabs((double)y - r) / ulp;
}
typedef struct { int op; uint64_t lo, hi, step; double maxerr; float worst; long bad; } job;
static void *run(void *p) {
    job *j = p;
    enum { N = 4096 };
    float x[N], y[N];
    uint64_t b = j->lo;
    while (b < j->hi) {
        int n = 0;
        for (; n < N && b < j->hi; n++, b += j->step) { uint32_t u = (uint32_t)b; memcpy(&x[n], &u, 4); }
        ag_unary_f32(j->op, n, x, y);
        for (int i = 0; i < n; i++) {
            double e = ulp_err(y[i], ref(j->op, x[i]));
            if (e > j->maxerr) { j->maxerr = e; j->worst = x[i]; }
            if (e > 4) j->bad++;
        }
    }
    return NULL;
}
int main(int argc, char **argv) {
    int level = argc > 2 ? atoi(argv[2]) : 2;
    uint64_t step = argc > 3 ? strtoull(argv[3], 0, 0) : 1;
    ag_set_max_cpu_level(level);
    const char *names[] = {"neg","exp","log","log1p","expm1","sqrt","sin","cos","tanh","sigmoid","abs","sign","relu","square","reciprocal","softplus"};
    for (int op = 0; op < AG_UNARY_COUNT; op++) {
        if (argc > 1 && strcmp(argv[1], "all") && strcmp(argv[1], names[op])) continue;
        if (isnan(ref(op, 1.0))) continue;
        job j[2] = {{op, 0, 1ull << 31, step, 0, 0, 0}, {op, 1ull << 31, 1ull << 32, step, 0, 0, 0}};
        pthread_t t; pthread_create(&t, 0, run, &j[1]); run(&j[0]); pthread_join(t, 0);
        int w = j[1].maxerr > j[0].maxerr;
        printf("%-10s level %d: max %.3f ulp at %a (%.9g); >4ulp: %ld\n", names[op], level, j[w].maxerr, j[w].worst, j[w].worst, j[0].bad + j[1].bad);
        fflush(stdout);
    }
}

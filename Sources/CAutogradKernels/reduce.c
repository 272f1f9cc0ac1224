#include "internal.h"
void ag_reduce_f32(ag_reduce_op op, int64_t outer, int64_t r, int64_t inner, const float *x, float *y) { ag_ref_reduce_f32(op, outer, r, inner, x, y); }
void ag_reduce_f64(ag_reduce_op op, int64_t outer, int64_t r, int64_t inner, const double *x, double *y) { ag_ref_reduce_f64(op, outer, r, inner, x, y); }
double ag_dot_f32(int64_t n, const float *a, const float *b) { return ag_ref_dot_f32(n, a, b); }
double ag_dot_f64(int64_t n, const double *a, const double *b) { return ag_ref_dot_f64(n, a, b); }

#include "internal.h"
void ag_unary_f32(ag_unary_op op, int64_t n, const float *x, float *y) { ag_ref_unary_f32(op, n, x, y); }
void ag_unary_f64(ag_unary_op op, int64_t n, const double *x, double *y) { ag_ref_unary_f64(op, n, x, y); }
void ag_affine_f32(int64_t n, const float *x, float alpha, float beta, float *y) { ag_ref_affine_f32(n, x, alpha, beta, y); }
void ag_affine_f64(int64_t n, const double *x, double alpha, double beta, double *y) { ag_ref_affine_f64(n, x, alpha, beta, y); }
void ag_bce_f32(int64_t n, const float *p, const float *t, float *l) { ag_ref_bce_f32(n, p, t, l); }
void ag_bce_f64(int64_t n, const double *p, const double *t, double *l) { ag_ref_bce_f64(n, p, t, l); }

#include "internal.h"
void ag_binary_f32(ag_binary_op op, int ndim, const int64_t *shape, const float *a, const int64_t *sa, const float *b, const int64_t *sb, float *y) { ag_ref_binary_f32(op, ndim, shape, a, sa, b, sb, y); }
void ag_binary_f64(ag_binary_op op, int ndim, const int64_t *shape, const double *a, const int64_t *sa, const double *b, const int64_t *sb, double *y) { ag_ref_binary_f64(op, ndim, shape, a, sa, b, sb, y); }
void ag_compare_f32(ag_compare_op op, int ndim, const int64_t *shape, const float *a, const int64_t *sa, const float *b, const int64_t *sb, uint8_t *y) { ag_ref_compare_f32(op, ndim, shape, a, sa, b, sb, y); }
void ag_compare_f64(ag_compare_op op, int ndim, const int64_t *shape, const double *a, const int64_t *sa, const double *b, const int64_t *sb, uint8_t *y) { ag_ref_compare_f64(op, ndim, shape, a, sa, b, sb, y); }
void ag_where_f32(int ndim, const int64_t *shape, const uint8_t *cond, const int64_t *sc, const float *a, const int64_t *sa, const float *b, const int64_t *sb, float *y) { ag_ref_where_f32(ndim, shape, cond, sc, a, sa, b, sb, y); }
void ag_where_f64(int ndim, const int64_t *shape, const uint8_t *cond, const int64_t *sc, const double *a, const int64_t *sa, const double *b, const int64_t *sb, double *y) { ag_ref_where_f64(ndim, shape, cond, sc, a, sa, b, sb, y); }

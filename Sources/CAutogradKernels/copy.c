#include "internal.h"
void ag_copy_strided(int64_t es, int ndim, const int64_t *shape, const void *x, const int64_t *sx, void *y) { ag_ref_copy_strided(es, ndim, shape, x, sx, y); }
void ag_copy_into_strided(int64_t es, int ndim, const int64_t *shape, const void *x, void *y, const int64_t *sy) { ag_ref_copy_into_strided(es, ndim, shape, x, y, sy); }
void ag_gather(int64_t es, int64_t outer, int64_t n, int64_t inner, const void *x, const int64_t *idx, int64_t count, void *y) { ag_ref_gather(es, outer, n, inner, x, idx, count, y); }
void ag_scatter_add_f32(int64_t outer, int64_t n, int64_t inner, const float *x, const int64_t *idx, int64_t count, float *y) { ag_ref_scatter_add_f32(outer, n, inner, x, idx, count, y); }
void ag_scatter_add_f64(int64_t outer, int64_t n, int64_t inner, const double *x, const int64_t *idx, int64_t count, double *y) { ag_ref_scatter_add_f64(outer, n, inner, x, idx, count, y); }
void ag_convert_f32_to_f64(int64_t n, const float *x, double *y) { ag_ref_convert_f32_to_f64(n, x, y); }
void ag_convert_f64_to_f32(int64_t n, const double *x, float *y) { ag_ref_convert_f64_to_f32(n, x, y); }
void ag_convert_u8_to_f32(int64_t n, const uint8_t *x, float *y) { ag_ref_convert_u8_to_f32(n, x, y); }
void ag_convert_u8_to_f64(int64_t n, const uint8_t *x, double *y) { ag_ref_convert_u8_to_f64(n, x, y); }
void ag_fill_f32(int64_t n, float v, float *y) { ag_ref_fill_f32(n, v, y); }
void ag_fill_f64(int64_t n, double v, double *y) { ag_ref_fill_f64(n, v, y); }

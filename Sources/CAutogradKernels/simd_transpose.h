// In-register transposes of square blocks (x86 only): r[i] holds row i before and column i after.
// Shared by the matrix-product packing (gemm.c) and the strided copies (copy.c).
#ifndef AG_SIMD_TRANSPOSE_H
#define AG_SIMD_TRANSPOSE_H

#include "internal.h"
#include <immintrin.h>

AG_INLINE AG_TARGET_AVX512 void transpose16_ps(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // u[4g + c]: rows 4g..4g+3 at columns c, c+4, c+8, c+12 (one per 128-bit lane).
    for (int g = 0; g < 4; g++) {
        u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);       // rows 0-7, columns c and c+8
        __m512 v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);       // rows 0-7, columns c+4 and c+12
        __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);  // rows 8-15, columns c and c+8
        __m512 v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);  // rows 8-15, columns c+4 and c+12
        r[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        r[c + 8] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
        r[c + 4] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        r[c + 12] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
    }
}

AG_INLINE AG_TARGET_AVX512 void transpose8_pd(__m512d r[8]) {
    __m512d t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);      // rows 2i, 2i+1 at columns 0, 2, 4, 6
        t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);  // rows 2i, 2i+1 at columns 1, 3, 5, 7
    }
    for (int g = 0; g < 2; g++) {  // rows 4g..4g+3
        u[4 * g + 0] = _mm512_shuffle_f64x2(t[4 * g], t[4 * g + 2], 0x88);      // columns 0, 4
        u[4 * g + 1] = _mm512_shuffle_f64x2(t[4 * g + 1], t[4 * g + 3], 0x88);  // columns 1, 5
        u[4 * g + 2] = _mm512_shuffle_f64x2(t[4 * g], t[4 * g + 2], 0xDD);      // columns 2, 6
        u[4 * g + 3] = _mm512_shuffle_f64x2(t[4 * g + 1], t[4 * g + 3], 0xDD);  // columns 3, 7
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm512_shuffle_f64x2(u[c], u[4 + c], 0x88);
        r[c + 4] = _mm512_shuffle_f64x2(u[c], u[4 + c], 0xDD);
    }
}


AG_INLINE AG_TARGET_AVX2 void transpose8_ps(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int g = 0; g < 2; g++) {  // u[4g + c]: rows 4g..4g+3 at columns c and c+4
        u[4 * g + 0] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        u[4 * g + 1] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        u[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        u[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        r[c + 4] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
}

AG_INLINE AG_TARGET_AVX2 void transpose4_pd(__m256d r[4]) {
    __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

#endif

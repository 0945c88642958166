/* Transpose of a plane of 4-byte elements in 8 x 8 blocks held in AVX2 registers
 * (unpack, shuffle, 128-bit lane permute: bits are moved, never computed on), the
 * blocks walked in 64 x 64 tiles for the cache; the scalar loop does the edges.
 * Why: the front runs ~155 Transposes per sentence (among them the text encoder's
 * [192, n] <-> [n, 192] around its layer norms and attention heads); the scalar 32 x 32
 * tiles moved about 1 element per ns, 40 ms of a 2,100-phoneme sentence's front. */
#include "kernels/x86/x86.h"
#include <immintrin.h>

/* d[a * ds + b] = s[a + b * ss] for a, b < 8 */
static inline void block8(float *d, const float *s, int64_t ds, int64_t ss) {
    __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ss);
    __m256 r2 = _mm256_loadu_ps(s + 2 * ss), r3 = _mm256_loadu_ps(s + 3 * ss);
    __m256 r4 = _mm256_loadu_ps(s + 4 * ss), r5 = _mm256_loadu_ps(s + 5 * ss);
    __m256 r6 = _mm256_loadu_ps(s + 6 * ss), r7 = _mm256_loadu_ps(s + 7 * ss);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(d + ds, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(d + 2 * ds, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(d + 3 * ds, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(d + 4 * ds, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(d + 5 * ds, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(d + 6 * ds, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(d + 7 * ds, _mm256_permute2f128_ps(u3, u7, 0x31));
}

void vx_transpose_u32_avx2(uint32_t *dst, const uint32_t *src, int64_t A, int64_t B, int64_t dst_a,
                           int64_t src_b) {
    int64_t A8 = A / 8 * 8, B8 = B / 8 * 8;
    float *d = (float *)dst;
    const float *s = (const float *)src;
    for (int64_t a0 = 0; a0 < A8; a0 += 64)
        for (int64_t b0 = 0; b0 < B8; b0 += 64) {
            int64_t a1 = a0 + 64 < A8 ? a0 + 64 : A8, b1 = b0 + 64 < B8 ? b0 + 64 : B8;
            for (int64_t a = a0; a < a1; a += 8)
                for (int64_t b = b0; b < b1; b += 8)
                    block8(d + a * dst_a + b, s + a + b * src_b, dst_a, src_b);
        }
    /* edges: the last A % 8 rows of dst over all columns, the last B % 8 columns above */
    if (A8 < A) vx_transpose_u32_scalar(dst + A8 * dst_a, src + A8, A - A8, B, dst_a, src_b);
    if (B8 < B) vx_transpose_u32_scalar(dst + B8, src + B8 * src_b, A8, B - B8, dst_a, src_b);
}

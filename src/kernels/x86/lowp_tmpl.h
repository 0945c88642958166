/* AVX-512 driver shared by the bf16 (VDPBF16PS) and int8 (VPDPBUSD) conv cores, and its
 * 256-bit variant for AVX-VNNI (VEX VPDPBUSD, int8 only).
 *
 * The including file defines LOWP_I8 (0 = bf16, 1 = int8) and LOWP_W256 (1 = 256-bit
 * AVX-VNNI; needs LOWP_I8), and is compiled with the matching -m flags (no AVX-512 flag for
 * LOWP_W256: the compiler must not emit EVEX code there). Structure as the FP32 template (simd_tmpl.h): implicit
 * GEMM over time tiles; per tile and input-channel chunk the input window is converted
 * once into u32 words (bf16 pairs / u8 quads of channels, interleaved per time sample)
 * in a bounded scratch, and an 8 x 48 register-blocked micro-kernel reads tap k of unit u
 * at offset u*ldu + k*ldk (stride 1: the window row at k*dilation; stride > 1: an im2col
 * row). Chunks are summed from zero and added into an FP32 output tile (int8: rescaled
 * per chunk), then bias (+ residual) is added on the way out. Numerics: lowp.h. */
#include "kernels/conv_inplace.h"
#include "kernels/lowp.h"
#include "kernels/x86/lowp_x86.h"
#include "vox.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#ifndef LOWP_W256
#define LOWP_W256 0
#endif
#if LOWP_W256 && !LOWP_I8
#error "the 256-bit variant is int8 only (AVX-VNNI has no bf16 dot product)"
#endif
#define MRX VX_LOWP_MR
#define NV  3
#if LOWP_W256
#define VL  8 /* lanes per vector */
#define MRH 4 /* rows per micro pass: 4 x 3 accumulators + 3 + 1 fill the 16 ymm */
#else
#define VL  16
#define MRH MRX
#endif
#define NR        (NV * VL)
#define VX_INLINE static inline __attribute__((always_inline))
#if defined(__GNUC__) && !defined(__clang__)
#define VX_UNROLL _Pragma("GCC unroll 16")
#elif defined(__clang__)
#define VX_UNROLL _Pragma("unroll")
#else
#define VX_UNROLL
#endif

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t round_up(int64_t a, int64_t m) { return (a + m - 1) / m * m; }

/* Per-chunk constants of the int8 epilogue (unused by bf16). */
typedef struct chunk_k {
    const int32_t *corr; /* corr[i * nch] for panel row i */
    int64_t nch;
    const float *comb; /* comb[i] = sx * sw[co0 + i] */
    /* direct write-out (the only chunk, a full column block, output step 1): row i goes
     * to y[i*ldy] as (sum + bias[i]) + res[i*ldr], as the tile write-out would do it */
    float *y;
    int64_t ldy;
    const float *bias; /* per panel row; NULL = 0 */
    const float *res;
    int64_t ldr;
    int stream; /* y rows 64-byte aligned, written with non-temporal stores */
} chunk_k;

#if LOWP_W256
VX_INLINE void store_out(const chunk_k *ck, int i, int v, __m256 r, float *cr) {
    if (!ck->y) {
        _mm256_storeu_ps(cr + v * 8, r);
        return;
    }
    r = _mm256_add_ps(r, _mm256_set1_ps(ck->bias ? ck->bias[i] : 0.0f));
    if (ck->res) r = _mm256_add_ps(r, _mm256_loadu_ps(ck->res + i * ck->ldr + v * 8));
    _mm256_storeu_ps(ck->y + i * ck->ldy + v * 8, r);
}

/* c[i][0..NR) = (first ? 0 : c) + chunk sum, rows i < MR of a panel whose words per
 * (unit, tap) are AS apart. */
VX_INLINE void micro_body(const int MR, const int AS, int64_t nu, int64_t K, int64_t ldu,
                          int64_t ldk, const uint32_t *restrict a, const uint32_t *restrict b,
                          float *restrict c, int64_t ldc, int first, const chunk_k *ck) {
    __m256i acc[MRH][NV];
    VX_UNROLL for (int i = 0; i < MR; i++) VX_UNROLL for (int v = 0; v < NV; v++) acc[i][v] =
        _mm256_setzero_si256();
    for (int64_t u = 0; u < nu; u++) {
        const uint32_t *bu = b + u * ldu;
        for (int64_t k = 0; k < K; k++) {
            const uint32_t *bp = bu + k * ldk;
            __m256i bv[NV];
            VX_UNROLL for (int v = 0; v < NV; v++) bv[v] =
                _mm256_loadu_si256((const __m256i *)(bp + v * 8));
            VX_UNROLL for (int i = 0; i < MR; i++) {
                __m256i av = _mm256_set1_epi32((int)a[i]);
                VX_UNROLL for (int v = 0; v < NV; v++) acc[i][v] =
                    _mm256_dpbusd_avx_epi32(acc[i][v], bv[v], av);
            }
            a += AS;
        }
    }
    VX_UNROLL for (int i = 0; i < MR; i++) {
        float *cr = c + i * ldc;
        __m256i corr = _mm256_set1_epi32(ck->corr[i * ck->nch]);
        __m256 comb = _mm256_set1_ps(ck->comb[i]);
        VX_UNROLL for (int v = 0; v < NV; v++) {
            __m256 s = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc[i][v], corr));
            __m256 r = first ? _mm256_mul_ps(s, comb)
                             : _mm256_fmadd_ps(s, comb, _mm256_loadu_ps(cr + v * 8));
            store_out(ck, i, v, r, cr);
        }
    }
}

/* The chunk constants of rows [i0, ...) of a panel. */
static inline chunk_k chunk_rows(const chunk_k *ck, int i0) {
    chunk_k r = *ck;
    r.corr += i0 * ck->nch;
    r.comb += i0;
    if (r.y) r.y += i0 * ck->ldy;
    if (r.bias) r.bias += i0;
    if (r.res) r.res += i0 * ck->ldr;
    return r;
}
#else
VX_INLINE void store_out(const chunk_k *ck, int i, int v, __m512 r, float *cr) {
    if (!ck->y) {
        _mm512_storeu_ps(cr + v * 16, r);
        return;
    }
    r = _mm512_add_ps(r, _mm512_set1_ps(ck->bias ? ck->bias[i] : 0.0f));
    if (ck->res) r = _mm512_add_ps(r, _mm512_loadu_ps(ck->res + i * ck->ldr + v * 16));
    if (ck->stream)
        _mm512_stream_ps(ck->y + i * ck->ldy + v * 16, r);
    else
        _mm512_storeu_ps(ck->y + i * ck->ldy + v * 16, r);
}

/* c[i][0..NR) = (first ? 0 : c) + chunk sum over nu units x K taps. */
VX_INLINE void micro_body(const int MR, int64_t nu, int64_t K, int64_t ldu, int64_t ldk,
                          const uint32_t *restrict a, const uint32_t *restrict b, float *restrict c,
                          int64_t ldc, int first, const chunk_k *ck) {
#if LOWP_I8
    __m512i acc[MRX][NV];
    VX_UNROLL for (int i = 0; i < MR; i++) VX_UNROLL for (int v = 0; v < NV; v++) acc[i][v] =
        _mm512_setzero_si512();
#else
    __m512 acc[MRX][NV];
    VX_UNROLL for (int i = 0; i < MR; i++) VX_UNROLL for (int v = 0; v < NV; v++) acc[i][v] =
        _mm512_setzero_ps();
#endif
    for (int64_t u = 0; u < nu; u++) {
        const uint32_t *bu = b + u * ldu;
        for (int64_t k = 0; k < K; k++) {
            const uint32_t *bp = bu + k * ldk;
            __m512i bv[NV];
            VX_UNROLL for (int v = 0; v < NV; v++) bv[v] = _mm512_loadu_si512(bp + v * 16);
            VX_UNROLL for (int i = 0; i < MR; i++) {
                __m512i av = _mm512_set1_epi32((int)a[i]);
#if LOWP_I8
                VX_UNROLL for (int v = 0; v < NV; v++) acc[i][v] =
                    _mm512_dpbusd_epi32(acc[i][v], bv[v], av);
#else
                VX_UNROLL for (int v = 0; v < NV; v++) acc[i][v] =
                    _mm512_dpbf16_ps(acc[i][v], (__m512bh)av, (__m512bh)bv[v]);
#endif
            }
            a += MR;
        }
    }
    VX_UNROLL for (int i = 0; i < MR; i++) {
        float *cr = c + i * ldc;
#if LOWP_I8
        __m512i corr = _mm512_set1_epi32(ck->corr[i * ck->nch]);
        __m512 comb = _mm512_set1_ps(ck->comb[i]);
        VX_UNROLL for (int v = 0; v < NV; v++) {
            __m512 s = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][v], corr));
            __m512 r = first ? _mm512_mul_ps(s, comb)
                             : _mm512_fmadd_ps(s, comb, _mm512_loadu_ps(cr + v * 16));
            store_out(ck, i, v, r, cr);
        }
#else
        VX_UNROLL for (int v = 0; v < NV; v++) {
            __m512 r = first ? acc[i][v] : _mm512_add_ps(_mm512_loadu_ps(cr + v * 16), acc[i][v]);
            store_out(ck, i, v, r, cr);
        }
#endif
    }
}
#endif

typedef void (*micro_fn)(int64_t nu, int64_t K, int64_t ldu, int64_t ldk, const uint32_t *a,
                         const uint32_t *b, float *c, int64_t ldc, int first, const chunk_k *ck);
#if LOWP_W256
/* two passes over the window block for panels of more than MRH rows */
#define DEF_MICRO(M)                                                                               \
    static void micro_##M(int64_t nu, int64_t K, int64_t ldu, int64_t ldk, const uint32_t *a,      \
                          const uint32_t *b, float *c, int64_t ldc, int first,                     \
                          const chunk_k *ck) {                                                     \
        micro_body(M < MRH ? M : MRH, M, nu, K, ldu, ldk, a, b, c, ldc, first, ck);                \
        if (M > MRH) {                                                                             \
            chunk_k hi = chunk_rows(ck, MRH);                                                      \
            micro_body(M > MRH ? M - MRH : 1, M, nu, K, ldu, ldk, a + MRH, b, c + MRH * ldc, ldc,  \
                       first, &hi);                                                                \
        }                                                                                          \
    }
#else
#define DEF_MICRO(M)                                                                               \
    static void micro_##M(int64_t nu, int64_t K, int64_t ldu, int64_t ldk, const uint32_t *a,      \
                          const uint32_t *b, float *c, int64_t ldc, int first,                     \
                          const chunk_k *ck) {                                                     \
        micro_body(M, nu, K, ldu, ldk, a, b, c, ldc, first, ck);                                   \
    }
#endif
DEF_MICRO(1)
DEF_MICRO(2)
DEF_MICRO(3)
DEF_MICRO(4)
DEF_MICRO(5)
DEF_MICRO(6)
DEF_MICRO(7)
DEF_MICRO(8)
static const micro_fn micro[MRX + 1] = {NULL,    micro_1, micro_2, micro_3, micro_4,
                                        micro_5, micro_6, micro_7, micro_8};

/* Software prefetch PF_DIST floats ahead on every input row: a tile's window reads each of
 * the unit's rows for ~4 KB and moves on to the next unit, 16-64 rows apart, more streams
 * than the hardware prefetchers follow, so every tile waited for its rows from memory (the
 * decoder's last stages do not fit in cache). 1,024 floats is about the next tile's window
 * on the same row. Isolated 32-channel in-place conv, 380,416 samples, 1 thread: k=3
 * 8.1-8.9 -> 6.8-7.0 ms, k=7 14.2 -> 12.9-13.5; medium bf16, 200 ids: the resblock convs
 * 155-157 -> 142-144 ms per run (1 thread), the run 151-162 -> 145 ms (2 threads). */
#ifndef PF_DIST
#define PF_DIST 1024
#endif

/* ---------------------------------------------------------------- windows */

static inline float act1(float v, int leaky, float alpha) {
    return leaky && v < 0.0f ? v * alpha : v;
}

#if LOWP_W256
#define ZERO_WORD 0x80808080u /* four u8 zero points */
#define NROWS     4
typedef float conv_arg; /* the quantizer's inverse scale */
static inline uint32_t cvt_word1(const float *const rows[4], int64_t s, int leaky, float alpha,
                                 float inv) {
    uint32_t w = 0;
    for (int e = 0; e < 4; e++) {
        int q = rows[e] ? (int)vx_i8_quant(act1(rows[e][s], leaky, alpha), inv) : 0;
        w |= (uint32_t)(q + 128) << (8 * e);
    }
    return w;
}
VX_INLINE __m256 act8(__m256 v, int leaky, __m256 alpha) {
    if (!leaky) return v;
    __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_blendv_ps(v, _mm256_mul_ps(v, alpha), neg);
}
VX_INLINE __m256i cvt_word8(const float *const rows[4], int64_t s, int leaky, __m256 alpha,
                            __m256 inv) {
    __m256i w = _mm256_setzero_si256();
    const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
    for (int e = 0; e < 4; e++) {
        __m256i q = _mm256_setzero_si256();
        if (rows[e]) {
            __m256 v = act8(_mm256_loadu_ps(rows[e] + s), leaky, alpha);
            q = _mm256_cvtps_epi32(_mm256_mul_ps(v, inv));
            q = _mm256_min_epi32(_mm256_max_epi32(q, lo), hi);
        }
        q = _mm256_add_epi32(q, _mm256_set1_epi32(128));
        w = _mm256_or_si256(w, _mm256_slli_epi32(q, 8 * e));
    }
    return w;
}

/* dst[j] = word of the unit's rows at input time s0 + j, j in [0, len); zero words outside
 * [0, t_in). Whole vectors, then the tail one word at a time (same quantizer). */
static void fill_row(const float *const rows[NROWS], int64_t t_in, int64_t s0, int64_t len,
                     uint32_t *dst, int leaky, float alpha, conv_arg arg) {
    int64_t lo = s0 < 0 ? min64(-s0, len) : 0;
    int64_t hi = min64(len, max64(t_in - s0, 0));
    if (hi < lo) hi = lo;
    for (int64_t j = 0; j < lo; j++) dst[j] = ZERO_WORD;
    __m256 va = _mm256_set1_ps(alpha), vg = _mm256_set1_ps(arg);
    int64_t j = lo;
    for (; j + 8 <= hi; j += 8) {
        if (!(j & 15)) /* one line per row and 16 words (PF_DIST above) */
            for (int e = 0; e < NROWS; e++)
                if (rows[e]) __builtin_prefetch(rows[e] + s0 + j + PF_DIST, 0, 3);
        _mm256_storeu_si256((__m256i *)(dst + j), cvt_word8(rows, s0 + j, leaky, va, vg));
    }
    for (; j < hi; j++) dst[j] = cvt_word1(rows, s0 + j, leaky, alpha, arg);
    for (j = hi; j < len; j++) dst[j] = ZERO_WORD;
}

/* max |act(x)| over channels [c0, c1), input times [s0, s1); +inf if one is not finite. */
static float window_max(const float *xg, int64_t ldx, int64_t c0, int64_t c1, int64_t s0,
                        int64_t s1, int leaky, float alpha) {
    __m256 m = _mm256_setzero_ps(), va = _mm256_set1_ps(alpha);
    const __m256 big = _mm256_set1_ps(3.4028235e38f);
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    int bad = 0;
    float ms = 0.0f;
    for (int64_t c = c0; c < c1; c++) {
        const float *r = xg + c * ldx;
        int64_t s = s0;
        for (; s + 8 <= s1; s += 8) {
            __m256 a = _mm256_and_ps(act8(_mm256_loadu_ps(r + s), leaky, va), absmask);
            bad |= _mm256_movemask_ps(_mm256_cmp_ps(a, big, _CMP_NLE_UQ));
            m = _mm256_max_ps(m, a);
        }
        for (; s < s1; s++) {
            float a = __builtin_fabsf(act1(r[s], leaky, alpha));
            if (!(a <= 3.4028235e38f))
                bad = 1;
            else if (a > ms)
                ms = a;
        }
    }
    if (bad) return __builtin_inff();
    float v[8];
    _mm256_storeu_ps(v, m);
    for (int i = 0; i < 8; i++) ms = v[i] > ms ? v[i] : ms;
    return ms;
}
#else
VX_INLINE __m512 act16(__m512 v, int leaky, __m512 alpha) {
    if (!leaky) return v;
    __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(v, neg, v, alpha);
}

#if LOWP_I8
#define ZERO_WORD 0x80808080u /* four u8 zero points */
typedef float conv_arg; /* the quantizer's inverse scale */
static inline uint32_t cvt_word1(const float *const rows[4], int64_t s, int leaky, float alpha,
                                 float inv) {
    uint32_t w = 0;
    for (int e = 0; e < 4; e++) {
        int q = rows[e] ? (int)vx_i8_quant(act1(rows[e][s], leaky, alpha), inv) : 0;
        w |= (uint32_t)(q + 128) << (8 * e);
    }
    return w;
}
VX_INLINE __m512i cvt_word16(const float *const rows[4], int64_t s, __mmask16 m, int leaky,
                             __m512 alpha, __m512 inv) {
    __m512i w = _mm512_setzero_si512();
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
    for (int e = 0; e < 4; e++) {
        __m512i q = _mm512_setzero_si512();
        if (rows[e]) {
            __m512 v = act16(_mm512_maskz_loadu_ps(m, rows[e] + s), leaky, alpha);
            q = _mm512_cvtps_epi32(_mm512_mul_ps(v, inv));
            q = _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
        }
        q = _mm512_add_epi32(q, _mm512_set1_epi32(128));
        w = _mm512_or_si512(w, _mm512_slli_epi32(q, 8 * e));
    }
    return w;
}
#define NROWS     4
#else
#define ZERO_WORD 0u
typedef float conv_arg; /* unused */
static inline uint32_t cvt_word1(const float *const rows[2], int64_t s, int leaky, float alpha,
                                 float unused) {
    (void)unused;
    uint32_t w = 0;
    for (int e = 0; e < 2; e++)
        if (rows[e]) w |= (uint32_t)vx_bf16_from_f32(act1(rows[e][s], leaky, alpha)) << (16 * e);
    return w;
}
/* Both rows in one VCVTNE2PS2BF16 (row 0's 16 values in the low half, row 1's in the
 * high half; the same rounding as VCVTNEPS2BF16), then one word permute puts each pair
 * side by side, where each row took a conversion, a widening, a shift and an or
 * (the fill is 16-19% of a 32-channel k=3 conv). */
VX_INLINE __m512i cvt_word16(const float *const rows[2], int64_t s, __mmask16 m, int leaky,
                             __m512 alpha, __m512 unused) {
    (void)unused;
    const __m512i pair = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9,
                                          24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1,
                                          16, 0);
    __m512 v0 = rows[0] ? act16(_mm512_maskz_loadu_ps(m, rows[0] + s), leaky, alpha)
                        : _mm512_setzero_ps();
    __m512 v1 = rows[1] ? act16(_mm512_maskz_loadu_ps(m, rows[1] + s), leaky, alpha)
                        : _mm512_setzero_ps();
    __m512i h = (__m512i)_mm512_cvtne2ps_pbh(v1, v0);
    return _mm512_permutexvar_epi16(pair, h);
}
#define NROWS     2
#endif

/* dst[j] = word of the unit's rows at input time s0 + j, j in [0, len); zero words outside
 * [0, t_in). */
static void fill_row(const float *const rows[NROWS], int64_t t_in, int64_t s0, int64_t len,
                     uint32_t *dst, int leaky, float alpha, conv_arg arg) {
    int64_t lo = s0 < 0 ? min64(-s0, len) : 0;
    int64_t hi = min64(len, max64(t_in - s0, 0));
    if (hi < lo) hi = lo;
    for (int64_t j = 0; j < lo; j++) dst[j] = ZERO_WORD;
    __m512 va = _mm512_set1_ps(alpha), vg = _mm512_set1_ps(arg);
    for (int64_t j = lo; j < hi; j += 16) {
        __mmask16 m = hi - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (hi - j)) - 1);
        for (int e = 0; e < NROWS; e++)
            if (rows[e]) __builtin_prefetch(rows[e] + s0 + j + PF_DIST, 0, 3);
        _mm512_mask_storeu_epi32(dst + j, m, cvt_word16(rows, s0 + j, m, leaky, va, vg));
    }
    for (int64_t j = hi; j < len; j++) dst[j] = ZERO_WORD;
}

#if LOWP_I8
/* max |act(x)| over channels [c0, c1), input times [s0, s1); +inf if one is not finite. */
static float window_max(const float *xg, int64_t ldx, int64_t c0, int64_t c1, int64_t s0,
                        int64_t s1, int leaky, float alpha) {
    __m512 m = _mm512_setzero_ps(), va = _mm512_set1_ps(alpha);
    const __m512 big = _mm512_set1_ps(3.4028235e38f);
    __mmask16 bad = 0;
    for (int64_t c = c0; c < c1; c++) {
        const float *r = xg + c * ldx;
        for (int64_t s = s0; s < s1; s += 16) {
            __mmask16 k = s1 - s >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (s1 - s)) - 1);
            __m512 a = _mm512_abs_ps(act16(_mm512_maskz_loadu_ps(k, r + s), leaky, va));
            bad |= _mm512_cmp_ps_mask(a, big, _CMP_NLE_UQ);
            m = _mm512_max_ps(m, a);
        }
    }
    return bad ? __builtin_inff() : _mm512_reduce_max_ps(m);
}
#endif
#endif /* LOWP_W256 */

/* The unit's channel rows (NULL past the group's last channel). */
static void unit_rows(const float *xg, int64_t ldx, int64_t cig, int64_t u,
                      const float *rows[NROWS]) {
    for (int e = 0; e < NROWS; e++) {
        int64_t ci = u * NROWS + e;
        rows[e] = ci < cig ? xg + ci * ldx : NULL;
    }
}

/* ---------------------------------------------------------------- conv core */

/* Hints the rows of units [u0, u0 + nu) at input times [s0, s0 + len) into L2: the
 * decoder's tensors do not fit in cache, and a fill that waits for each row costs more
 * than the micro-kernels it feeds (medium voice, bf16). */
static void prefetch_rows(const float *xg, int64_t ldx, int64_t cig, int64_t u0, int64_t nu,
                          int64_t s0, int64_t len) {
    if (len <= 0) return;
    int64_t c1 = min64((u0 + nu) * NROWS, cig);
    for (int64_t c = u0 * NROWS; c < c1; c++) {
        const char *r = (const char *)(xg + c * ldx + s0);
        for (int64_t b = 0; b < len * 4; b += 64) _mm_prefetch(r + b, _MM_HINT_T1);
        _mm_prefetch(r + len * 4 - 1, _MM_HINT_T1);
    }
}

#if !LOWP_I8
/* In place (conv_inplace.h): the words of unit u's window for the tile at t0, from the
 * carry `cur` ([cig][pad]), x, and halo_r ([cig][pr]). */
static void fill_inplace(const vx_conv1d_params *p, const vx_lowp_job *job, const float *x,
                         const float *cur, int64_t pr, int64_t t0, int64_t u, int64_t len,
                         uint32_t *dst) {
    const float *rows[NROWS];
    int64_t a, nb;
    vx_inplace_parts(p, t0, len, &a, &nb);
    unit_rows(cur, p->pad, p->c_in, u, rows);
    fill_row(rows, p->pad, 0, a, dst, job->leaky, job->alpha, 0.0f);
    unit_rows(x, p->ldx, p->c_in, u, rows);
    fill_row(rows, p->t_end, t0, nb, dst + a, job->leaky, job->alpha, 0.0f);
    unit_rows(job->halo_r, pr, p->c_in, u, rows);
    fill_row(rows, pr, 0, len - a - nb, dst + a + nb, job->leaky, job->alpha, 0.0f);
}
#endif

#if LOWP_I8
/* The int8 activation scale of (scale block blk, units [u0, u0 + nc)) of conv p: over every
 * input the whole block reads (lowp.h). *sx = max / 127 (0 for an all-zero window, NaN for a
 * non-finite one, which makes the block's outputs NaN), *arg = 127 / max, the quantizer's
 * factor (0 in both special cases). */
static void block_scale(const vx_conv1d_params *p, const float *xg, int64_t cig, int64_t blk,
                        int64_t u0, int64_t nc, int leaky, float alpha, float *sx, float *arg) {
    int64_t q1 = min64((blk + 1) * VX_LOWP_I8_QB, p->t_out);
    int64_t s0 = max64(blk * VX_LOWP_I8_QB * p->stride - p->pad, 0);
    int64_t s1 = min64((q1 - 1) * p->stride + (p->k - 1) * p->dilation - p->pad + 1, p->t_in);
    float m = window_max(xg, p->ldx, u0 * 4, min64(cig, (u0 + nc) * 4), s0, s1, leaky, alpha);
    int fin = m <= 3.4028235e38f;
    *sx = m == 0.0f ? 0.0f : fin ? m / 127.0f : __builtin_nanf("");
    *arg = m == 0.0f || !fin ? 0.0f : 127.0f / m;
}
#endif

static int core(const vx_conv1d_params *p, const float *x, const void *wpacked, const float *bias,
                const vx_lowp_job *job, float *y) {
    const vx_lowp_fmt fmt = LOWP_I8 ? VX_LOWP_INT8 : VX_LOWP_BF16;
    int64_t G = p->group, cig = p->c_in / G, cog = p->c_out / G, K = p->k, dil = p->dilation;
    int64_t nu = vx_lowp_units(fmt, cig), cu = vx_lowp_chunk(K), nch = vx_lowp_nchunk(nu, K);
    int64_t total = p->t_end - p->t_begin;
    const uint32_t *W = wpacked;
#if LOWP_I8
    const int32_t *corr = (const int32_t *)(W + p->c_out * nu * K);
    const float *sw = (const float *)(corr + p->c_out * nch);
#endif
    int strided = p->stride != 1;
    int64_t span = strided ? 0 : (K - 1) * dil;
    int64_t nt = min64(65536 / cog, 1024) / NR * NR;
    if (nt < NR) nt = NR;
#if LOWP_I8
    if (nt > VX_LOWP_I8_QB) nt = VX_LOWP_I8_QB; /* a tile never spans two scale blocks */
#endif
    if (nt > round_up(total, NR)) nt = round_up(total, NR);
    int64_t cuw = min64(cu, nu);
    int64_t xw = strided ? nt : nt + span;
    int64_t xrows = strided ? cuw * K : cuw;
    int64_t ldu = strided ? K * xw : xw, ldk = strided ? xw : dil;
    /* in place (bf16 only: int8's block scales read the inputs too): two carries of the
     * original input before a tile (fill_inplace) */
    const int inplace = !LOWP_I8 && job->halo_l != NULL;
    int64_t carry_n = inplace ? 2 * cig * p->pad : 0;
    uint32_t *xs = malloc((size_t)(xrows * xw) * 4 +
                          (size_t)(cog * nt + cog + MRX + carry_n) * sizeof(float) + 64);
    if (!xs) return VOX_ERR_NOMEM;
    float *yb = (float *)(xs + xrows * xw);
    float *cb = yb + cog * nt; /* int8: sx * sw[co] of the current chunk */
    (void)cb;
    /* A large output written anew (not in place) bypasses the cache: a normal store
     * first reads every line of y it writes (the medium voice's last residual stacks
     * write 49 MB tensors; one 32-channel k3 conv over them, 1 thread: 12.7 -> 9.7 ms).
     * Rows start 64-byte aligned when ldy is a multiple of 16 (tiles start on multiples
     * of NR). */
    int stream = !LOWP_W256 && !inplace && job->res != y && p->ldy % 16 == 0 &&
                 p->c_out * p->t_out >= VX_STREAM_MIN_ELEMS;
    const float *cur = job->halo_l;
    float *carry = cb + cog + MRX;
    for (int64_t g = 0; g < G; g++) {
        const float *xg = x + g * cig * p->ldx;
        for (int64_t t0 = p->t_begin; t0 < p->t_end;) {
            int64_t t1 = min64(t0 + nt, p->t_end);
#if LOWP_I8
            int64_t blk = t0 / VX_LOWP_I8_QB;
            t1 = min64(t1, (blk + 1) * VX_LOWP_I8_QB);
#endif
            int64_t n = t1 - t0, nr = round_up(n, NR);
            float *next = carry + (cur == carry ? cig * p->pad : 0);
            if (inplace && t1 < p->t_end) vx_inplace_save_carry(p, x, cur, t0, t1, next);
            for (int64_t ch = 0; ch < nch; ch++) {
                int64_t u0 = ch * cu, nc = min64(cu, nu - u0);
                conv_arg arg = 0.0f;
                chunk_k ck = {NULL, nch, NULL, NULL, 0, NULL, NULL, 0, 0};
#if LOWP_I8
                float sx;
                block_scale(p, xg, cig, blk, u0, nc, job->leaky, job->alpha, &sx, &arg);
#endif
                for (int64_t u = 0; u < nc; u++) {
                    const float *rows[NROWS];
                    unit_rows(xg, p->ldx, cig, u0 + u, rows);
                    if (inplace) {
#if !LOWP_I8
                        fill_inplace(p, job, x, cur, span - p->pad, t0, u0 + u, nr + span,
                                     xs + u * xw);
#endif
                    } else if (!strided) {
                        fill_row(rows, p->t_in, t0 - p->pad, nr + span, xs + u * xw, job->leaky,
                                 job->alpha, arg);
                    } else {
                        for (int64_t k = 0; k < K; k++) {
                            uint32_t *d = xs + (u * K + k) * xw;
                            int64_t off = k * dil - p->pad;
                            for (int64_t jj = 0; jj < nr; jj++) {
                                int64_t s = (t0 + jj) * p->stride + off;
                                d[jj] = s >= 0 && s < p->t_in
                                            ? cvt_word1(rows, s, job->leaky, job->alpha, arg)
                                            : ZERO_WORD;
                            }
                        }
                    }
                }
#if LOWP_I8
                for (int64_t c = 0; c < cog; c++) cb[c] = sx * sw[g * cog + c];
#endif
                /* the input rows the next fill converts: this tile's next chunk, or the
                 * next tile's first; prefetched block by block while these compute */
                int64_t pf_u = ch + 1 < nch ? u0 + nc : 0, pf_t = ch + 1 < nch ? t0 : t1;
                int64_t pf_nu = ch + 1 < nch ? min64(cu, nu - pf_u) : min64(cu, nu);
                int64_t pf_s0 = max64(pf_t - p->pad, 0);
                int64_t pf_len = strided || pf_t >= p->t_end ? 0
                                 : min64(min64(nt, p->t_end - pf_t) + span, p->t_in - pf_s0);
                int64_t pf_step = (pf_len + nr / NR - 1) / (nr / NR);
                /* column blocks outside, channel panels inside: the window columns one
                 * block reads stay in L1 for every panel (the weights are the smaller
                 * working set when channels are few, as in HiFi-GAN's last stages) */
                for (int64_t jj = 0; jj < nr; jj += NR) {
                    int direct = nch == 1 && job->ostride == 1 && jj + NR <= n;
                    if (pf_len > 0)
                        prefetch_rows(xg, p->ldx, cig, pf_u, pf_nu, pf_s0 + jj / NR * pf_step,
                                      min64(pf_step, pf_len - jj / NR * pf_step));
                    for (int64_t co0 = 0; co0 < cog; co0 += MRX) {
                        int64_t mr = min64(MRX, cog - co0);
                        int64_t co = g * cog + co0;
                        const uint32_t *a = W + co * nu * K + u0 * K * mr;
#if LOWP_I8
                        ck.corr = corr + co * nch + ch;
                        ck.comb = cb + co0;
#endif
                        if (direct) {
                            ck.y = y + co * p->ldy + t0 + jj;
                            ck.ldy = p->ldy;
                            ck.bias = bias ? bias + co : NULL;
                            ck.res = job->res ? job->res + co * job->ldr + t0 + jj : NULL;
                            ck.ldr = job->ldr;
                            ck.stream = stream && !((uintptr_t)ck.y & 63);
                        } else {
                            ck.y = NULL;
                        }
                        micro[mr](nc, K, ldu, ldk, a, xs + jj, yb + co0 * nt + jj, nt, ch == 0,
                                  &ck);
                    }
                }
            }
            /* columns [0, done) were written by the micro-kernel directly */
            int64_t done = nch == 1 && job->ostride == 1 ? n / NR * NR : 0;
            for (int64_t c = 0; c < cog; c++) {
                int64_t co = g * cog + c;
                float b0 = bias ? bias[co] : 0.0f;
                const float *src = yb + c * nt;
                if (job->ostride == 1) {
                    float *dst = y + co * p->ldy + t0;
                    if (job->res) {
                        const float *r = job->res + co * job->ldr + t0;
                        for (int64_t jj = done; jj < n; jj++) dst[jj] = src[jj] + b0 + r[jj];
                    } else {
                        for (int64_t jj = done; jj < n; jj++) dst[jj] = src[jj] + b0;
                    }
                } else {
                    float *dst = y + co * p->ldy + t0 * job->ostride;
                    const float *r = job->res ? job->res + co * job->ldr + t0 : NULL;
                    for (int64_t jj = 0; jj < n; jj++)
                        dst[jj * job->ostride] = r ? src[jj] + b0 + r[jj] : src[jj] + b0;
                }
            }
            cur = next;
            t0 = t1;
        }
    }
    if (stream) _mm_sfence(); /* the streamed rows are visible before the caller joins */
    free(xs);
    return 0;
}

#include "kernels/convtr_phases.h"
#if LOWP_I8
/* int8: phase r's scales for (scale block blk, units [u0, u0 + nc)), from the stride-1 conv
 * that phase is (as vx_lowp_convtr1d_range gives it to core), so the words are core's. */
static void tr_phase_scale(const vx_convtr1d_params *p, const float *x, int64_t kr, int64_t r,
                           int64_t padr, int64_t blk, int64_t u0, int64_t nc, float *sx,
                           float *arg) {
    vx_conv1d_params cp = {.c_in = p->c_in,
                           .c_out = p->c_out,
                           .group = 1,
                           .t_in = p->t_in,
                           .t_out = (p->t_out - r + p->stride - 1) / p->stride,
                           .k = kr,
                           .stride = 1,
                           .dilation = 1,
                           .pad = padr,
                           .ldx = p->t_in};
    block_scale(&cp, x, p->c_in, blk, u0, nc, p->leaky_in, p->alpha, sx, arg);
}
#endif

/* Every phase of a ConvTranspose at once (lowp.h, vx_lowp_tr): per tile of q and chunk of
 * units the input window is converted once, and each phase's micro-kernels read it at
 * their own offset into their own accumulators, interleaved on the way out (convtr_phases.h).
 * The phase-by-phase path converted the window once per phase and wrote y with stride s.
 * Each phase sees the same words, chunks and micro-kernel calls as in core, so the results
 * are identical. int8: a phase's scale is its own (lowp.h: over the inputs its scale block
 * reads, which differ between phases at the block's edges), so the window is quantized once
 * per distinct scale among the phases (usually one) and tiles never span a scale block. */
static int core_tr(const vx_lowp_tr *t, const float *x, const float *bias, float *y) {
    const vx_convtr1d_params *p = t->p;
    const vx_lowp_fmt fmt = LOWP_I8 ? VX_LOWP_INT8 : VX_LOWP_BF16;
    int64_t s = p->stride, cin = p->c_in, cout = p->c_out, K = t->kr;
    int64_t nu = vx_lowp_units(fmt, cin), cu = vx_lowp_chunk(K);
    int64_t nch = vx_lowp_nchunk(nu, K), padr[64], maxpad, span;
    tr_pads(p, K, padr, &maxpad, &span);
    int64_t qb = t->t_begin / s, qe = (t->t_end - 1) / s + 1, total = qe - qb;
    int64_t nt = min64(65536 / (s * cout), 1024) / NR * NR;
    if (nt < NR) nt = NR;
#if LOWP_I8
    if (nt > VX_LOWP_I8_QB) nt = VX_LOWP_I8_QB;
#endif
    if (nt > round_up(total, NR)) nt = round_up(total, NR);
    int64_t xw = nt + span, xrows = min64(cu, nu);
    /* int8 scratch after yb: per (chunk, phase) the block's arg and scale, and per phase
     * the chunk's combined scales sx * sw[co] */
    size_t extra = LOWP_I8 ? (size_t)(2 * nch * s + s * cout) * sizeof(float) : 0;
    uint32_t *xs =
        malloc((size_t)(xrows * xw) * 4 + (size_t)(s * cout * nt) * sizeof(float) + extra + 64);
    if (!xs) return VOX_ERR_NOMEM;
    float *yb = (float *)(xs + xrows * xw);
    chunk_k ck = {NULL, nch, NULL, NULL, 0, NULL, NULL, 0, 0};
#if LOWP_I8
    float *barg = yb + s * cout * nt, *bsx = barg + nch * s;
    float *cb = bsx + nch * s;
    int64_t cur_blk = -1;
#endif
    for (int64_t q0 = qb; q0 < qe;) {
        int64_t q1 = min64(q0 + nt, qe);
#if LOWP_I8
        int64_t blk = q0 / VX_LOWP_I8_QB;
        q1 = min64(q1, (blk + 1) * VX_LOWP_I8_QB); /* a tile never spans two scale blocks */
        if (blk != cur_blk) { /* each phase's scales for this block, every chunk */
            cur_blk = blk;
            for (int64_t ch = 0; ch < nch; ch++)
                for (int64_t r = 0; r < s; r++)
                    tr_phase_scale(p, x, K, r, padr[r], blk, ch * cu, min64(cu, nu - ch * cu),
                                   &bsx[ch * s + r], &barg[ch * s + r]);
        }
#endif
        int64_t n = q1 - q0, nr = round_up(n, NR);
        for (int64_t ch = 0; ch < nch; ch++) {
            int64_t u0 = ch * cu, nc = min64(cu, nu - u0);
            unsigned long long todo = s >= 64 ? ~0ull : (1ull << s) - 1; /* phases not yet run */
            while (todo) {
                int64_t r0 = __builtin_ctzll(todo);
                float arg = 0.0f;
#if LOWP_I8
                arg = barg[ch * s + r0];
#endif
                for (int64_t u = 0; u < nc; u++) {
                    const float *rows[NROWS];
                    unit_rows(x, p->t_in, cin, u0 + u, rows);
                    fill_row(rows, p->t_in, q0 - maxpad, nr + span, xs + u * xw, p->leaky_in,
                             p->alpha, arg);
                }
                for (int64_t r = r0; r < s; r++) {
                    if (!(todo >> r & 1)) continue;
#if LOWP_I8
                    float ar = barg[ch * s + r];
                    if (memcmp(&ar, &arg, sizeof ar)) continue; /* another window */
                    const uint32_t *Wr = t->w[r];
                    const int32_t *corr = (const int32_t *)(Wr + cout * nu * K);
                    const float *sw = (const float *)(corr + cout * nch);
                    float *cbr = cb + r * cout;
                    for (int64_t c = 0; c < cout; c++) cbr[c] = bsx[ch * s + r] * sw[c];
#endif
                    todo &= ~(1ull << r);
                    const uint32_t *W = t->w[r];
                    const uint32_t *xr = xs + (maxpad - padr[r]);
                    for (int64_t jj = 0; jj < nr; jj += NR)
                        for (int64_t co0 = 0; co0 < cout; co0 += MRX) {
                            int64_t mr = min64(MRX, cout - co0);
#if LOWP_I8
                            ck.corr = corr + co0 * nch + ch;
                            ck.comb = cbr + co0;
#endif
                            micro[mr](nc, K, xw, 1, W + co0 * nu * K + u0 * K * mr, xr + jj,
                                      yb + (r * cout + co0) * nt + jj, nt, ch == 0, &ck);
                        }
                }
            }
        }
        tr_write_out(p, yb, nt, bias, q0, n, t->t_begin, t->t_end, y);
        q0 = q1;
    }
    free(xs);
    return 0;
}

/* SIMD kernel template shared by the AVX-512, AVX2 and NEON tables.
 *
 * The including file defines a tiny vector vocabulary and the register blocking, then
 * includes this file once; everything here is static except the SFX()-named entry
 * points. Required macros:
 *   VT            vector type of VL floats
 *   VLOADU(p) VSTOREU(p, v) VSET1(f) VZERO() VFMA(a, b, c) (= a*b + c)
 *   MRMAX         output rows (channels) per micro-tile, 1..16
 *   NV            vectors per row in a micro-tile (NR = NV*VL time samples / columns)
 *   SFX(name)     name##_arch
 * Optional: VSTREAM(p, v) (non-temporal store, p aligned to the vector) and VSFENCE(): a
 * large conv output written anew goes around the cache.
 *
 * One register-blocked micro-kernel (MR x NR accumulators, fp32) serves everything:
 *   - sgemm: Goto-style packed A panels (MR rows, alpha applied) x packed B (KC x NCr);
 *   - conv1d: implicit GEMM. Weights are pre-packed into MR-row panels in the
 *     (ci, k) order; for each time tile and input-channel chunk, the input window
 *     x[ci][t0 - pad .. t0 + tile + (K-1)*dil - pad) is copied once into a zero-padded
 *     scratch (optionally through LeakyReLU), and the micro-kernel reads tap k of
 *     channel ci directly at offset k*dil (stride 1), or from an im2col block (stride > 1).
 *     Results accumulate in an L2-sized output tile, then bias (+ residual) is added on
 *     the way out. Scratch is bounded (< 1 MB) whatever T is.
 *   - convtr1d: polyphase. Output phase r = o mod stride is an ordinary stride-1 conv of
 *     x with the taps k = k_r + j*stride (reversed), so it reuses the conv path and
 *     writes every stride-th output sample.
 */
#include "kernels/kernels.h"
#include "kernels/convtr_phases.h"
#include "kernels/conv_inplace.h"
#include "vox.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NR (NV * VL)
#ifndef GEMM_KC
#define GEMM_KC 128
#endif
#define GEMM_MC (MRMAX * 16)
#ifndef GEMM_NC_TARGET
#define GEMM_NC_TARGET 512
#endif
#define GEMM_NC (GEMM_NC_TARGET / NR * NR)
#ifndef CONV_KSTEPS
#define CONV_KSTEPS 256
#endif

#if defined(__GNUC__) && !defined(__clang__)
#define VX_UNROLL _Pragma("GCC unroll 16")
#elif defined(__clang__)
#define VX_UNROLL _Pragma("unroll")
#else
#define VX_UNROLL
#endif
#define VX_INLINE static inline __attribute__((always_inline))

/* c[i][0..NR) (+)= sum over nci*K steps of a[step][i] * b[ci*ldb + kk*dil + 0..NR).
 * a is an MR-wide panel: a[(ci*K + kk)*MR + i]. acc_mode: 0 store, 1 add into c. */
VX_INLINE void micro_body(const int MR, int64_t nci, const int64_t K, int64_t dil,
                          const float *restrict a, const float *restrict b, int64_t ldb,
                          float *restrict c, int64_t ldc, int acc_mode) {
    VT acc[MRMAX][NV];
    VX_UNROLL for (int i = 0; i < MR; i++) VX_UNROLL for (int v = 0; v < NV; v++) acc[i][v] =
        VZERO();
    for (int64_t ci = 0; ci < nci; ci++) {
        const float *br = b + ci * ldb;
        for (int64_t kk = 0; kk < K; kk++) {
            const float *bp = br + kk * dil;
            VT bv[NV];
            VX_UNROLL for (int v = 0; v < NV; v++) bv[v] = VLOADU(bp + v * VL);
            VX_UNROLL for (int i = 0; i < MR; i++) {
                VT av = VSET1(a[i]);
                VX_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = VFMA(av, bv[v], acc[i][v]);
            }
            a += MR;
        }
    }
    VX_UNROLL for (int i = 0; i < MR; i++) {
        float *cr = c + i * ldc;
        if (acc_mode) {
            VX_UNROLL for (int v = 0; v < NV; v++)
                VSTOREU(cr + v * VL, VADD(VLOADU(cr + v * VL), acc[i][v]));
        } else {
            VX_UNROLL for (int v = 0; v < NV; v++) VSTOREU(cr + v * VL, acc[i][v]);
        }
    }
}

typedef void (*micro_conv_fn)(int64_t nci, int64_t K, int64_t dil, const float *a, const float *b,
                              int64_t ldb, float *c, int64_t ldc, int acc_mode);
typedef void (*micro_gemm_fn)(int64_t kc, const float *a, const float *b, int64_t ldb, float *c,
                              int64_t ldc, int acc_mode);

#define DEF_MICRO(M)                                                                               \
    static void micro_conv_##M(int64_t nci, int64_t K, int64_t dil, const float *a,                \
                               const float *b, int64_t ldb, float *c, int64_t ldc, int am) {       \
        micro_body(M, nci, K, dil, a, b, ldb, c, ldc, am);                                         \
    }                                                                                              \
    static void micro_gemm_##M(int64_t kc, const float *a, const float *b, int64_t ldb, float *c,  \
                               int64_t ldc, int am) {                                              \
        micro_body(M, kc, 1, 0, a, b, ldb, c, ldc, am);                                            \
    }
DEF_MICRO(1)
DEF_MICRO(2)
DEF_MICRO(3)
DEF_MICRO(4)
#if MRMAX >= 5
DEF_MICRO(5)
#endif
#if MRMAX >= 6
DEF_MICRO(6)
#endif
#if MRMAX >= 7
DEF_MICRO(7)
#endif
#if MRMAX >= 8
DEF_MICRO(8)
#endif
#if MRMAX >= 9
DEF_MICRO(9)
#endif
#if MRMAX >= 10
DEF_MICRO(10)
#endif
#if MRMAX >= 11
DEF_MICRO(11)
#endif
#if MRMAX >= 12
DEF_MICRO(12)
#endif
#if MRMAX >= 13
DEF_MICRO(13)
#endif
#if MRMAX >= 14
DEF_MICRO(14)
#endif
#if MRMAX >= 15
DEF_MICRO(15)
#endif
#if MRMAX >= 16
DEF_MICRO(16)
#endif

static const micro_conv_fn micro_conv[MRMAX + 1] = {
    NULL,          micro_conv_1, micro_conv_2, micro_conv_3, micro_conv_4,
#if MRMAX >= 5
    micro_conv_5,
#endif
#if MRMAX >= 6
    micro_conv_6,
#endif
#if MRMAX >= 7
    micro_conv_7,
#endif
#if MRMAX >= 8
    micro_conv_8,
#endif
#if MRMAX >= 9
    micro_conv_9,
#endif
#if MRMAX >= 10
    micro_conv_10,
#endif
#if MRMAX >= 11
    micro_conv_11,
#endif
#if MRMAX >= 12
    micro_conv_12,
#endif
#if MRMAX >= 13
    micro_conv_13,
#endif
#if MRMAX >= 14
    micro_conv_14,
#endif
#if MRMAX >= 15
    micro_conv_15,
#endif
#if MRMAX >= 16
    micro_conv_16,
#endif
};
static const micro_gemm_fn micro_gemm[MRMAX + 1] = {
    NULL,          micro_gemm_1, micro_gemm_2, micro_gemm_3, micro_gemm_4,
#if MRMAX >= 5
    micro_gemm_5,
#endif
#if MRMAX >= 6
    micro_gemm_6,
#endif
#if MRMAX >= 7
    micro_gemm_7,
#endif
#if MRMAX >= 8
    micro_gemm_8,
#endif
#if MRMAX >= 9
    micro_gemm_9,
#endif
#if MRMAX >= 10
    micro_gemm_10,
#endif
#if MRMAX >= 11
    micro_gemm_11,
#endif
#if MRMAX >= 12
    micro_gemm_12,
#endif
#if MRMAX >= 13
    micro_gemm_13,
#endif
#if MRMAX >= 14
    micro_gemm_14,
#endif
#if MRMAX >= 15
    micro_gemm_15,
#endif
#if MRMAX >= 16
    micro_gemm_16,
#endif
};

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t round_up(int64_t a, int64_t m) { return (a + m - 1) / m * m; }

/* ------------------------------------------------------------------ sgemm */

static inline float a_at(const float *a, int64_t lda, int ta, int64_t i, int64_t p) {
    return ta ? a[p * lda + i] : a[i * lda + p];
}

static void scale_c(int64_t m, int64_t n, float beta, float *c, int64_t ldc) {
    if (beta == 1.0f) return;
    for (int64_t i = 0; i < m; i++) {
        float *row = c + i * ldc;
        if (beta == 0.0f)
            memset(row, 0, (size_t)n * sizeof *row);
        else
            for (int64_t j = 0; j < n; j++) row[j] *= beta;
    }
}

/* MR-row panels: panel for rows [ir, ir+mr) at dst + ir*kc, element [p][i]. */
static void gemm_pack_a(int ta, const float *a, int64_t lda, int64_t i0, int64_t mc, int64_t p0,
                        int64_t kc, float alpha, float *dst) {
    for (int64_t ir = 0; ir < mc; ir += MRMAX) {
        int64_t mr = min64(MRMAX, mc - ir);
        float *d = dst + ir * kc;
        if (ta) {
            for (int64_t p = 0; p < kc; p++) {
                const float *src = a + (p0 + p) * lda + i0 + ir;
                for (int64_t i = 0; i < mr; i++) d[p * mr + i] = alpha * src[i];
            }
        } else if (mr == MRMAX) {
            /* the panel is written in order, MRMAX values (one per row) at a time: the
             * row-by-row order scattered single floats MRMAX apart (13% of the text
             * encoder's attention, which packs its probabilities this way). Only for a
             * full panel: with a variable row count the same loop is not unrolled and
             * measured slower than this (0.62 against 0.57 ms for the attention's P x V) */
            const float *src[MRMAX];
            for (int64_t i = 0; i < MRMAX; i++) src[i] = a + (i0 + ir + i) * lda + p0;
            for (int64_t p = 0; p < kc; p++)
                for (int64_t i = 0; i < MRMAX; i++) d[p * MRMAX + i] = alpha * src[i][p];
        } else {
            for (int64_t i = 0; i < mr; i++) {
                const float *src = a + (i0 + ir + i) * lda + p0;
                for (int64_t p = 0; p < kc; p++) d[p * mr + i] = alpha * src[p];
            }
        }
    }
}

/* dst[p][j] = op(B)[p0+p][j0+j], row stride ncr (>= nc), zero-padded columns. */
static void gemm_pack_b(int tb, const float *b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
                        int64_t nc, int64_t ncr, float *dst) {
    if (!tb) {
        for (int64_t p = 0; p < kc; p++) {
            memcpy(dst + p * ncr, b + (p0 + p) * ldb + j0, (size_t)nc * sizeof *dst);
            if (ncr > nc) memset(dst + p * ncr + nc, 0, (size_t)(ncr - nc) * sizeof *dst);
        }
    } else {
        for (int64_t p = 0; p < kc; p++)
            if (ncr > nc) memset(dst + p * ncr + nc, 0, (size_t)(ncr - nc) * sizeof *dst);
        for (int64_t j = 0; j < nc; j++) {
            const float *src = b + (j0 + j) * ldb + p0;
            for (int64_t p = 0; p < kc; p++) dst[p * ncr + j] = src[p];
        }
    }
}

static void SFX(vx_sgemm)(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                          const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                          float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    if (m * n * k < 2048) {
        vx_sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    int64_t kcap = min64(k, GEMM_KC), mcap = min64(round_up(m, MRMAX), GEMM_MC);
    int64_t ncap = min64(round_up(n, NR), GEMM_NC);
    float *ap = malloc((size_t)(mcap * kcap) * sizeof *ap);
    float *bp = malloc((size_t)(ncap * kcap) * sizeof *bp);
    if (!ap || !bp) {
        free(ap);
        free(bp);
        vx_sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    if (beta != 0.0f && beta != 1.0f) scale_c(m, n, beta, c, ldc);
    float tmp[MRMAX * NR];
    for (int64_t jc = 0; jc < n; jc += GEMM_NC) {
        int64_t nc = min64(GEMM_NC, n - jc), ncr = round_up(nc, NR);
        for (int64_t pc = 0; pc < k; pc += GEMM_KC) {
            int64_t kc = min64(GEMM_KC, k - pc);
            int first = pc == 0 && beta == 0.0f;
            gemm_pack_b(tb, b, ldb, pc, kc, jc, nc, ncr, bp);
            for (int64_t ic = 0; ic < m; ic += GEMM_MC) {
                int64_t mc = min64(GEMM_MC, m - ic);
                gemm_pack_a(ta, a, lda, ic, mc, pc, kc, alpha, ap);
                for (int64_t jr = 0; jr < ncr; jr += NR) {
                    int64_t nr = min64(NR, nc - jr);
                    for (int64_t ir = 0; ir < mc; ir += MRMAX) {
                        int64_t mr = min64(MRMAX, mc - ir);
                        float *cc = c + (ic + ir) * ldc + jc + jr;
                        if (nr == NR) {
                            micro_gemm[mr](kc, ap + ir * kc, bp + jr, ncr, cc, ldc, !first);
                        } else {
                            micro_gemm[mr](kc, ap + ir * kc, bp + jr, ncr, tmp, NR, 0);
                            for (int64_t i = 0; i < mr; i++)
                                for (int64_t j = 0; j < nr; j++)
                                    cc[i * ldc + j] =
                                        first ? tmp[i * NR + j] : cc[i * ldc + j] + tmp[i * NR + j];
                        }
                    }
                }
            }
        }
    }
    free(ap);
    free(bp);
}

/* ------------------------------------------------------------------ conv1d */

/* Packed layout per group g: rows [g*cog, (g+1)*cog), MRMAX-row panels; the panel of
 * rows [co0, co0+mr) (co0 relative to the group) starts at g*cog*kd + co0*kd and holds
 * [s][i] for s = ci*K + kk in [0, kd). */
static size_t conv_pack_bytes_impl(int64_t c_out, int64_t cig, int64_t k) {
    return (size_t)(c_out * cig * k) * sizeof(float);
}

static void conv_pack_impl(int64_t group, int64_t cog, int64_t kd, const float *w, float *dst) {
    for (int64_t g = 0; g < group; g++) {
        const float *wg = w + g * cog * kd;
        float *dg = dst + g * cog * kd;
        for (int64_t co0 = 0; co0 < cog; co0 += MRMAX) {
            int64_t mr = min64(MRMAX, cog - co0);
            float *d = dg + co0 * kd;
            for (int64_t i = 0; i < mr; i++) {
                const float *src = wg + (co0 + i) * kd;
                for (int64_t s = 0; s < kd; s++) d[s * mr + i] = src[s];
            }
        }
    }
}

static size_t SFX(conv1d_pack_bytes)(const vx_conv1d_params *p) {
    if (p->group <= 0) return 0;
    return conv_pack_bytes_impl(p->c_out, p->c_in / p->group, p->k);
}

static void SFX(conv1d_pack)(const vx_conv1d_params *p, const float *w, void *dst) {
    int64_t cig = p->c_in / p->group;
    conv_pack_impl(p->group, p->c_out / p->group, cig * p->k, w, dst);
}

/* What the conv core needs beyond vx_conv1d_params. */
typedef struct conv_job {
    int leaky; /* apply LeakyReLU(alpha) to x on the fly */
    float alpha;
    const float *res; /* optional residual [c_out][ldr], added to the output */
    int64_t ldr;
    int64_t ostride; /* output time step (1; stride for polyphase convtr) */
    const float *halo_l, *halo_r; /* in place (vx_conv1d_fuse, conv_inplace.h) */
} conv_job;

/* Prefetch CONV_PF_DIST floats ahead of each input row (about the next tile's window on
 * the same row): the window copy walks 16-256 rows a few KB each, more streams than the
 * hardware prefetchers follow (kernels/x86/lowp_tmpl.h has the same for the bf16/int8
 * fill). conv_post (32 -> 1, k=7, 380,416 samples, avx512, 1 thread): 4.7-5.0 -> 3.5-3.8
 * ms; medium fp32, 200 ids, 1 thread: 464-466 -> 456-457 ms per run. */
#define CONV_PF_DIST 1024
/* dst[j] = f(x[s0 + j]) for j in [0, len), zero outside [0, t_in). Row copy. */
static void copy_window(const float *xr, int64_t t_in, int64_t s0, int64_t len, float *dst,
                        int leaky, float alpha) {
    int64_t lo = s0 < 0 ? min64(-s0, len) : 0;
    int64_t hi = min64(len, max64(t_in - s0, 0));
    if (hi < lo) hi = lo;
    if (lo > 0) memset(dst, 0, (size_t)lo * sizeof *dst);
    for (int64_t j = lo; j < hi; j += 16) __builtin_prefetch(xr + s0 + j + CONV_PF_DIST, 0, 3);
    if (leaky) {
        for (int64_t j = lo; j < hi; j++) {
            float v = xr[s0 + j];
            dst[j] = v < 0.0f ? v * alpha : v;
        }
    } else if (hi > lo) {
        memcpy(dst + lo, xr + s0 + lo, (size_t)(hi - lo) * sizeof *dst);
    }
    if (hi < len) memset(dst + hi, 0, (size_t)(len - hi) * sizeof *dst);
}

/* In place (conv_inplace.h): channel c's window for the tile at t0, from the carry `cur`
 * ([c_in][pad]), x, and halo_r ([c_in][pr]). */
static void copy_window_inplace(const vx_conv1d_params *p, const conv_job *job, const float *x,
                                const float *cur, int64_t pr, int64_t t0, int64_t c, int64_t len,
                                float *dst) {
    int64_t a, nb;
    vx_inplace_parts(p, t0, len, &a, &nb);
    copy_window(cur + c * p->pad, p->pad, 0, a, dst, job->leaky, job->alpha);
    copy_window(x + c * p->ldx, p->t_end, t0, nb, dst + a, job->leaky, job->alpha);
    copy_window(job->halo_r + c * pr, pr, 0, len - a - nb, dst + a + nb, job->leaky, job->alpha);
}

/* im2col rows for stride > 1: dst[(c*K + kk)*ld + j] = f(x[c][(t0+j)*stride + kk*dil - pad]). */
static void copy_im2col(const vx_conv1d_params *p, const float *xg, int64_t ci0, int64_t nc,
                        int64_t t0, int64_t len, float *dst, int64_t ld, int leaky, float alpha) {
    for (int64_t c = 0; c < nc; c++) {
        const float *xr = xg + (ci0 + c) * p->ldx;
        for (int64_t kk = 0; kk < p->k; kk++) {
            float *d = dst + (c * p->k + kk) * ld;
            int64_t off = kk * p->dilation - p->pad;
            for (int64_t j = 0; j < len; j++) {
                int64_t s = (t0 + j) * p->stride + off;
                float v = s >= 0 && s < p->t_in ? xr[s] : 0.0f;
                d[j] = leaky && v < 0.0f ? v * alpha : v;
            }
        }
    }
}

/* dst[j] = src[j] + b0 (+ r[j]) for j < n, whole vectors with non-temporal stores (dst
 * aligned), the same sums in the same order as the plain write-out. */
#ifdef VSTREAM
#define TMPL_HAVE_STREAM 1
#else /* never called: conv_core's stream is 0 */
#define TMPL_HAVE_STREAM  0
#define VSTREAM(p, v) VSTOREU((p), (v))
#define VSFENCE()     ((void)0)
#endif
static void write_stream(float *dst, const float *src, float b0, const float *r, int64_t n) {
    VT vb = VSET1(b0);
    int64_t j = 0;
    for (; j + VL <= n; j += VL) {
        VT v = VADD(VLOADU(src + j), vb);
        VSTREAM(dst + j, r ? VADD(v, VLOADU(r + j)) : v);
    }
    for (; j < n; j++) dst[j] = r ? src[j] + b0 + r[j] : src[j] + b0;
}

static int conv_core(const vx_conv1d_params *p, const float *x, const float *wp, const float *bias,
                     const conv_job *job, float *y) {
    int64_t G = p->group, cig = p->c_in / G, cog = p->c_out / G, K = p->k, dil = p->dilation;
    int64_t kd = cig * K, total = p->t_end - p->t_begin;
    if (total <= 0 || p->c_out <= 0) return 0;
    int strided = p->stride != 1;
    int64_t span = strided ? 0 : (K - 1) * dil;
    /* Output tile: about 64K floats of accumulators, a multiple of NR. */
    int64_t nt = min64(65536 / (cog > 0 ? cog : 1), 1024);
    nt = nt / NR * NR;
    if (nt < NR) nt = NR;
    if (nt > round_up(total, NR)) nt = round_up(total, NR);
    /* Input channels per chunk: ~CONV_KSTEPS (ci, k) steps. */
    int64_t cic = CONV_KSTEPS / K;
    if (cic < 1) cic = 1;
    if (cic > cig) cic = cig;
    int64_t xw = strided ? nt : nt + span; /* scratch row width */
    int64_t xrows = strided ? cic * K : cic;
    /* in place: two carries of the original input before a tile (conv_inplace.h) */
    const int inplace = job->halo_l != NULL;
    int64_t carry_n = inplace ? 2 * cig * p->pad : 0;
    float *xs = malloc((size_t)(xrows * xw + cog * nt + carry_n) * sizeof(float));
    if (!xs) return VOX_ERR_NOMEM;
    float *yb = xs + xrows * xw, *carry = yb + cog * nt;
    const float *cur = job->halo_l;
    /* A large output written anew (not in place) bypasses the cache: a normal store first
     * reads every line it writes (the decoder's 49 MB tensors of the medium voice). Rows
     * start aligned when y is and ldy is a multiple of VL (tiles start on multiples of NR). */
    int stream = TMPL_HAVE_STREAM && !inplace && job->res != y && job->ostride == 1 &&
                 p->ldy % VL == 0 && !((uintptr_t)y % (VL * sizeof(float))) &&
                 !(p->t_begin % VL) && p->c_out * p->t_out >= VX_STREAM_MIN_ELEMS;
    for (int64_t g = 0; g < G; g++) {
        const float *xg = x + g * cig * p->ldx, *wg = wp + g * cog * kd;
        for (int64_t t0 = p->t_begin; t0 < p->t_end; t0 += nt) {
            int64_t n = min64(nt, p->t_end - t0), nr = round_up(n, NR);
            float *next = carry + (cur == carry ? cig * p->pad : 0);
            if (inplace && t0 + n < p->t_end) vx_inplace_save_carry(p, x, cur, t0, t0 + n, next);
            for (int64_t ci0 = 0; ci0 < cig; ci0 += cic) {
                int64_t nc = min64(cic, cig - ci0);
                if (strided) {
                    copy_im2col(p, xg, ci0, nc, t0, nr, xs, xw, job->leaky, job->alpha);
                } else if (inplace) {
                    for (int64_t c = 0; c < nc; c++)
                        copy_window_inplace(p, job, x, cur, span - p->pad, t0, ci0 + c, nr + span,
                                            xs + c * xw);
                } else {
                    for (int64_t c = 0; c < nc; c++)
                        copy_window(xg + (ci0 + c) * p->ldx, p->t_in, t0 - p->pad, nr + span,
                                    xs + c * xw, job->leaky, job->alpha);
                }
                for (int64_t co0 = 0; co0 < cog; co0 += MRMAX) {
                    int64_t mr = min64(MRMAX, cog - co0);
                    const float *a = wg + co0 * kd + ci0 * K * mr;
                    float *yt = yb + co0 * nt;
                    if (strided) {
                        for (int64_t j = 0; j < nr; j += NR)
                            micro_gemm[mr](nc * K, a, xs + j, xw, yt + j, nt, ci0 > 0);
                    } else {
                        for (int64_t j = 0; j < nr; j += NR)
                            micro_conv[mr](nc, K, dil, a, xs + j, xw, yt + j, nt, ci0 > 0);
                    }
                }
            }
            /* Write out: bias, residual, output stride. */
            for (int64_t c = 0; c < cog; c++) {
                int64_t co = g * cog + c;
                float b0 = bias ? bias[co] : 0.0f;
                const float *src = yb + c * nt;
                if (stream) {
                    write_stream(y + co * p->ldy + t0, src, b0,
                                 job->res ? job->res + co * job->ldr + t0 : NULL, n);
                } else if (job->ostride == 1) {
                    float *dst = y + co * p->ldy + t0;
                    if (job->res) {
                        const float *r = job->res + co * job->ldr + t0;
                        for (int64_t j = 0; j < n; j++) dst[j] = src[j] + b0 + r[j];
                    } else {
                        for (int64_t j = 0; j < n; j++) dst[j] = src[j] + b0;
                    }
                } else {
                    float *dst = y + co * p->ldy + t0 * job->ostride;
                    for (int64_t j = 0; j < n; j++) dst[j * job->ostride] = src[j] + b0;
                }
            }
            cur = next;
        }
    }
    if (stream) VSFENCE(); /* the streamed rows are visible before the caller joins */
    free(xs);
    return 0;
}

static int conv_entry(const vx_conv1d_params *p, const float *x, const float *w,
                      const void *wpacked, const float *bias, const conv_job *job, float *y) {
    if (p->t_end <= p->t_begin || p->c_out <= 0) return 0;
    if (wpacked) return conv_core(p, x, wpacked, bias, job, y);
    size_t bytes = SFX(conv1d_pack_bytes)(p);
    float *wp = malloc(bytes ? bytes : 1);
    if (!wp) return VOX_ERR_NOMEM;
    SFX(conv1d_pack)(p, w, wp);
    int rc = conv_core(p, x, wp, bias, job, y);
    free(wp);
    return rc;
}

static int SFX(conv1d)(const vx_conv1d_params *p, const float *x, const float *w,
                       const void *wpacked, const float *bias, float *y) {
    conv_job job = {0, 0.0f, NULL, 0, 1, NULL, NULL};
    return conv_entry(p, x, w, wpacked, bias, &job, y);
}

static int SFX(conv1d_fused)(const vx_conv1d_params *p, const float *x, const float *w,
                             const void *wpacked, const float *bias, const vx_conv1d_fuse *f,
                             float *y) {
    conv_job job = {0, 0.0f, NULL, 0, 1, NULL, NULL};
    if (f) {
        job.leaky = f->leaky_in;
        job.alpha = f->alpha;
        job.res = f->res;
        job.ldr = f->ldr;
        if (f->halo_l) {
            if (!vx_inplace_args_ok(p, x, f, y)) return VOX_ERR_ARG;
            job.halo_l = f->halo_l;
            job.halo_r = f->halo_r;
        }
    }
    return conv_entry(p, x, w, wpacked, bias, &job, y);
}

/* ------------------------------------------------------------------ convtr1d */

static int tr_fast(const vx_convtr1d_params *p) {
    return p->group == 1 && p->dilation == 1 && p->stride >= 1 && p->pad >= 0 && p->stride <= 64;
}

static size_t SFX(convtr1d_pack_bytes)(const vx_convtr1d_params *p) {
    if (!tr_fast(p)) return 0;
    return (size_t)(p->c_in * p->c_out * p->k) * sizeof(float);
}

/* Phase panels one after the other: phase r's conv weights are W_r[co][ci][j'] =
 * w[ci][co][k_r + (kr-1-j')*stride], packed like conv1d (group 1). */
static void SFX(convtr1d_pack)(const vx_convtr1d_params *p, const float *w, void *dst) {
    float *d = dst;
    int64_t ci_n = p->c_in, co_n = p->c_out, K = p->k, s = p->stride;
    for (int64_t r = 0; r < s; r++) {
        int64_t k_r, kr, c_r;
        tr_phase(p, r, &k_r, &kr, &c_r);
        if (kr == 0) continue;
        int64_t kd = ci_n * kr;
        for (int64_t co0 = 0; co0 < co_n; co0 += MRMAX) {
            int64_t mr = min64(MRMAX, co_n - co0);
            float *pd = d + co0 * kd;
            for (int64_t i = 0; i < mr; i++)
                for (int64_t ci = 0; ci < ci_n; ci++)
                    for (int64_t jj = 0; jj < kr; jj++)
                        pd[(ci * kr + jj) * mr + i] =
                            w[(ci * co_n + co0 + i) * K + k_r + (kr - 1 - jj) * s];
        }
        d += co_n * kd;
    }
}

/* Every phase at once (all phases with the same tap count kr > 0, as in every HiFi-GAN
 * upsampler, K = 2 * stride): per tile of q the input window is copied once and each
 * phase's micro-kernels read it at their own offset into their own accumulators, which
 * are interleaved on the way out. Before, each phase was a separate pass over the whole
 * range: the window copied s times and y written with stride s, s passes over every cache
 * line of the output. Same micro-kernel calls and channel chunks as conv_core on one
 * phase, so the results are bit-identical to the phase-by-phase path. */
static int convtr_core(const vx_convtr1d_params *p, const float *x, const float *wp,
                       const float *bias, int64_t t_begin, int64_t t_end, float *y) {
    int64_t s = p->stride, cin = p->c_in, cout = p->c_out, K = tr_uniform_taps(p);
    int64_t padr[64], maxpad, span, kd = cin * K;
    tr_pads(p, K, padr, &maxpad, &span);
    int64_t qb = t_begin / s, qe = (t_end - 1) / s + 1, total = qe - qb;
    int64_t nt = min64(65536 / (s * cout), 1024) / NR * NR;
    if (nt < NR) nt = NR;
    if (nt > round_up(total, NR)) nt = round_up(total, NR);
    int64_t cic = CONV_KSTEPS / K;
    if (cic < 1) cic = 1;
    if (cic > cin) cic = cin;
    int64_t xw = nt + span;
    float *xs = malloc((size_t)(cic * xw + s * cout * nt) * sizeof(float));
    if (!xs) return VOX_ERR_NOMEM;
    float *yb = xs + cic * xw;
    for (int64_t q0 = qb; q0 < qe; q0 += nt) {
        int64_t n = min64(nt, qe - q0), nr = round_up(n, NR);
        for (int64_t ci0 = 0; ci0 < cin; ci0 += cic) {
            int64_t nc = min64(cic, cin - ci0);
            for (int64_t c = 0; c < nc; c++)
                copy_window(x + (ci0 + c) * p->t_in, p->t_in, q0 - maxpad, nr + span,
                            xs + c * xw, p->leaky_in, p->alpha);
            for (int64_t r = 0; r < s; r++) {
                const float *wr = wp + r * cout * kd;
                const float *xr = xs + (maxpad - padr[r]);
                for (int64_t co0 = 0; co0 < cout; co0 += MRMAX) {
                    int64_t mr = min64(MRMAX, cout - co0);
                    const float *a = wr + co0 * kd + ci0 * K * mr;
                    float *yt = yb + (r * cout + co0) * nt;
                    for (int64_t j = 0; j < nr; j += NR)
                        micro_conv[mr](nc, K, 1, a, xr + j, xw, yt + j, nt, ci0 > 0);
                }
            }
        }
        tr_write_out(p, yb, nt, bias, q0, n, t_begin, t_end, y);
    }
    free(xs);
    return 0;
}

static int SFX(convtr1d_range)(const vx_convtr1d_params *p, const float *x, const float *w,
                               const void *wpacked, const float *bias, int64_t t_begin,
                               int64_t t_end, float *y) {
    if (t_begin < 0) t_begin = 0;
    if (t_end > p->t_out) t_end = p->t_out;
    if (t_end <= t_begin || p->c_out <= 0) return 0;
    if (!tr_fast(p)) {
        /* General fallback (groups, dilation): full generic computation into a temp. */
        if (t_begin == 0 && t_end == p->t_out) return vx_convtr1d_generic(p, x, w, bias, y);
        float *tmp = malloc((size_t)(p->c_out * p->t_out) * sizeof *tmp);
        if (!tmp) return VOX_ERR_NOMEM;
        int rc = vx_convtr1d_generic(p, x, w, bias, tmp);
        if (!rc)
            for (int64_t co = 0; co < p->c_out; co++)
                memcpy(y + co * p->t_out + t_begin, tmp + co * p->t_out + t_begin,
                       (size_t)(t_end - t_begin) * sizeof *tmp);
        free(tmp);
        return rc;
    }
    float *own = NULL;
    const float *wp = wpacked;
    if (!wp) {
        own = malloc(SFX(convtr1d_pack_bytes)(p));
        if (!own) return VOX_ERR_NOMEM;
        SFX(convtr1d_pack)(p, w, own);
        wp = own;
    }
    int64_t s = p->stride;
    int rc = 0;
    if (tr_uniform_taps(p)) {
        rc = convtr_core(p, x, wp, bias, t_begin, t_end, y);
        free(own);
        return rc;
    }
    for (int64_t r = 0; r < s && !rc; r++) {
        int64_t k_r, kr, c_r;
        tr_phase(p, r, &k_r, &kr, &c_r);
        /* q range with t_begin <= q*s + r < t_end */
        int64_t qb = t_begin - r <= 0 ? 0 : (t_begin - r + s - 1) / s;
        int64_t qe = t_end - r <= 0 ? 0 : (t_end - r + s - 1) / s;
        if (qe <= qb) {
            if (kr) wp += p->c_out * p->c_in * kr;
            continue;
        }
        if (kr == 0) {
            for (int64_t co = 0; co < p->c_out; co++) {
                float b0 = bias ? bias[co] : 0.0f;
                for (int64_t q = qb; q < qe; q++) y[co * p->t_out + q * s + r] = b0;
            }
            continue;
        }
        vx_conv1d_params cp = {
            .c_in = p->c_in,
            .c_out = p->c_out,
            .group = 1,
            .t_in = p->t_in,
            .t_out = (p->t_out - r + s - 1) / s,
            .k = kr,
            .stride = 1,
            .dilation = 1,
            .pad = kr - 1 - c_r,
            .ldx = p->t_in,
            .ldy = p->t_out,
            .t_begin = qb,
            .t_end = qe,
        };
        conv_job job = {p->leaky_in, p->alpha, NULL, 0, s, NULL, NULL};
        rc = conv_core(&cp, x, wp, bias, &job, y + r);
        wp += p->c_out * p->c_in * kr;
    }
    free(own);
    return rc;
}

static int SFX(convtr1d)(const vx_convtr1d_params *p, const float *x, const float *w,
                         const float *bias, float *y) {
    return SFX(convtr1d_range)(p, x, w, NULL, bias, 0, p->t_out, y);
}

#include "kernels/simd_ew.h"

/* The setter each arch file defines with this template: it overrides every entry. */
#define VX_TABLE_SETTER(NAME)                                                                      \
    void SFX(vx_kernels_set)(vx_kernels * k) {                                                     \
        k->name = NAME;                                                                            \
        k->sgemm = SFX(vx_sgemm);                                                                  \
        k->conv1d_f32 = SFX(conv1d);                                                               \
        k->conv1d_pack_bytes = SFX(conv1d_pack_bytes);                                             \
        k->conv1d_pack = SFX(conv1d_pack);                                                         \
        k->convtr1d_f32 = SFX(convtr1d);                                                           \
        k->conv1d_fused_f32 = SFX(conv1d_fused);                                                   \
        k->convtr1d_pack_bytes = SFX(convtr1d_pack_bytes);                                         \
        k->convtr1d_pack = SFX(convtr1d_pack);                                                     \
        k->convtr1d_range_f32 = SFX(convtr1d_range);                                               \
        k->tanh_f32 = SFX(tanh_f32);                                                               \
        k->sigmoid_f32 = SFX(sigmoid_f32);                                                         \
        k->softmax_f32 = SFX(softmax_f32);                                                         \
        k->erf_f32 = SFX(erf_f32);                                                                 \
        k->normal_f32 = SFX(normal_block);                                                         \
        k->conv_nr = NR;                                                                           \
        k->conv_inplace = 1;                                                                       \
    }

/* The portable table: every entry of vx_kernels in plain C, so that a CPU without SIMD
 * (or VOX_CPU=scalar) runs everything and every SIMD path has something to be compared
 * with. The fused entries compute exactly what the unfused operators would (LeakyReLU,
 * then the conv, then the Add, in that order and in float), so fusing a graph never
 * changes the scalar result. */
#include "kernels/kernels.h"
#include "vox.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t conv1d_pack_bytes_none(const vx_conv1d_params *p) {
    (void)p;
    return 0;
}
static void conv1d_pack_none(const vx_conv1d_params *p, const float *w, void *dst) {
    (void)p;
    (void)w;
    (void)dst;
}
static size_t convtr1d_pack_bytes_none(const vx_convtr1d_params *p) {
    (void)p;
    return 0;
}
static void convtr1d_pack_none(const vx_convtr1d_params *p, const float *w, void *dst) {
    (void)p;
    (void)w;
    (void)dst;
}

/* y = conv(leaky ? LeakyReLU(x) : x) + bias (+ res). The LeakyReLU copy covers the whole
 * input (the scalar path is for correctness, not speed); a residual that aliases y is
 * saved before the conv overwrites it. */
static int conv1d_fused_scalar(const vx_conv1d_params *p, const float *x, const float *w,
                               const void *wpacked, const float *bias, const vx_conv1d_fuse *f,
                               float *y) {
    float *xl = NULL, *rs = NULL;
    int64_t tb = p->t_begin, n = p->t_end - p->t_begin;
    if (f && f->leaky_in) {
        size_t len = (size_t)(p->c_in - 1) * (size_t)p->ldx + (size_t)p->t_in;
        if (!(xl = malloc(len * sizeof *xl))) return VOX_ERR_NOMEM;
        for (size_t i = 0; i < len; i++) xl[i] = x[i] >= 0 ? x[i] : x[i] * f->alpha;
        x = xl;
    }
    const float *res = f ? f->res : NULL;
    if (res && n > 0) {
        if (!(rs = malloc((size_t)(p->c_out * n) * sizeof *rs))) {
            free(xl);
            return VOX_ERR_NOMEM;
        }
        for (int64_t c = 0; c < p->c_out; c++)
            memcpy(rs + c * n, res + c * f->ldr + tb, (size_t)n * sizeof *rs);
    }
    int rc = vx_conv1d_generic(p, x, w, wpacked, bias, y);
    if (!rc && rs)
        for (int64_t c = 0; c < p->c_out; c++)
            for (int64_t t = 0; t < n; t++) y[c * p->ldy + tb + t] += rs[c * n + t];
    free(xl);
    free(rs);
    return rc;
}

static int convtr1d_range_scalar(const vx_convtr1d_params *p, const float *x, const float *w,
                                 const void *wpacked, const float *bias, int64_t t_begin,
                                 int64_t t_end, float *y) {
    (void)wpacked;
    return vx_convtr1d_generic_range(p, x, w, bias, t_begin, t_end, y);
}

/* The same formulas as the Tanh / Sigmoid operators' generic loops (ops/ew_unary.c). */
static void tanh_scalar(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}
static void sigmoid_scalar(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = v >= 0 ? 1.0f / (1.0f + expf(-v)) : expf(v) / (1.0f + expf(v));
    }
}

/* The Erf operator's generic loop (ops/ew_unary.c). */
static void erf_scalar(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = erff(x[i]);
}

/* Box-Muller from random words, the formula of kernels.h's normal_f32 with libm. */
static void normal_scalar(const uint64_t *w, float *y, int64_t pairs, float mean, float scale) {
    for (int64_t i = 0; i < pairs; i++) {
        float u1 = (float)((uint32_t)(w[i] >> 40) + 1) * 0x1.0p-24f;
        float u2 = (float)((uint32_t)w[i] >> 8) * 0x1.0p-24f;
        float m = sqrtf(-2.0f * logf(u1)), a = 6.28318531f * u2;
        y[2 * i] = mean + scale * (m * cosf(a));
        y[2 * i + 1] = mean + scale * (m * sinf(a));
    }
}

/* The Softmax operator's loop (ops/nn_reduce.c) with libm's expf. */
static void softmax_scalar(const float *x, float *y, int64_t rows, int64_t len) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xs = x + r * len;
        float *ys = y + r * len, mx = -INFINITY, sum = 0.0f;
        for (int64_t l = 0; l < len; l++)
            if (xs[l] > mx) mx = xs[l];
        for (int64_t l = 0; l < len; l++) {
            float e = expf(xs[l] - mx);
            ys[l] = e;
            sum += e;
        }
        float inv = 1.0f / sum;
        for (int64_t l = 0; l < len; l++) ys[l] *= inv;
    }
}

/* In 32 x 32 tiles, so that the strided reads and the contiguous writes stay in cache. */
void vx_transpose_u32_scalar(uint32_t *dst, const uint32_t *src, int64_t A, int64_t B,
                             int64_t dst_a, int64_t src_b) {
    for (int64_t a0 = 0; a0 < A; a0 += 32)
        for (int64_t b0 = 0; b0 < B; b0 += 32) {
            int64_t a1 = a0 + 32 < A ? a0 + 32 : A, b1 = b0 + 32 < B ? b0 + 32 : B;
            for (int64_t a = a0; a < a1; a++)
                for (int64_t b = b0; b < b1; b++) dst[a * dst_a + b] = src[a + b * src_b];
        }
}

void vx_kernels_init_scalar(vx_kernels *k) {
    *k = (vx_kernels){
        .name = "scalar",
        .sgemm = vx_sgemm_generic,
        .conv1d_f32 = vx_conv1d_generic,
        .conv1d_pack_bytes = conv1d_pack_bytes_none,
        .conv1d_pack = conv1d_pack_none,
        .convtr1d_f32 = vx_convtr1d_generic,
        .conv1d_fused_f32 = conv1d_fused_scalar,
        .convtr1d_pack_bytes = convtr1d_pack_bytes_none,
        .convtr1d_pack = convtr1d_pack_none,
        .convtr1d_range_f32 = convtr1d_range_scalar,
        .tanh_f32 = tanh_scalar,
        .sigmoid_f32 = sigmoid_scalar,
        .softmax_f32 = softmax_scalar,
        .erf_f32 = erf_scalar,
        .normal_f32 = normal_scalar,
        .transpose_u32 = vx_transpose_u32_scalar,
        .conv_nr = 64, /* split conv time ranges on 64-sample multiples */
    };
}

/* Reduced-precision kernels (kernels/lowp.h).
 *
 * For each format: the portable emulation against the FP32 references (vx_conv1d_ref,
 * vx_convtr1d_ref, vx_sgemm_ref) within the error bound the format implies, computed per
 * output from the data; then every SIMD implementation this CPU has against the emulation,
 * tightly (same packed weights, same rounding: only FP32 summation inside one hardware
 * dot-product instruction may differ), on random shapes (grouped, dilated, strided,
 * padded, split output ranges, fused LeakyReLU + residual). A path the CPU lacks prints
 * SKIP; it is never compared against itself. */
#include "test.h"
#include "kernels/lowp.h"
#include "kernels/conv_par.h"
#include "vox.h"
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define KRAND_SEED 0x2545f4914f6cdd1dull
#include "kernels/krand.h"
/* values of mixed magnitude (as activations are), a few exact zeros */
static float *rbuf(int64_t n) {
    float *b = malloc((size_t)(n > 0 ? n : 1) * sizeof *b);
    for (int64_t i = 0; i < n; i++) {
        float v = rf();
        if (rnd() % 8 == 0) v *= 30.0f;
        if (rnd() % 50 == 0) v = 0.0f;
        b[i] = v;
    }
    return b;
}
static float *fill(int64_t n, float v) {
    float *b = malloc((size_t)(n > 0 ? n : 1) * sizeof *b);
    for (int64_t i = 0; i < n; i++) b[i] = v;
    return b;
}
static float *fabs_copy(const float *x, int64_t n) {
    float *b = malloc((size_t)(n > 0 ? n : 1) * sizeof *b);
    for (int64_t i = 0; i < n; i++) b[i] = fabsf(x[i]);
    return b;
}
static float maxabs(const float *x, int64_t n) {
    float m = 0;
    for (int64_t i = 0; i < n; i++) m = fmaxf(m, fabsf(x[i]));
    return m;
}

#define U_BF16 (1.0 / 256.0) /* bf16 unit roundoff: 8 significant bits */
#define TIGHT  2e-6          /* SIMD vs emulation, relative to sum |w x| */

typedef struct stats {
    double ref_ratio; /* max |emul - fp32| / bound */
    double simd_rel;  /* max |simd - emul| / (sum |w x| + |b| + |r|) */
    int simd_exact;   /* outputs bit-identical to the emulation */
    int64_t simd_n;
} stats;

static void rand_conv(vx_conv1d_params *p, int big) {
    int64_t g = (rnd() % 4 == 0) ? (int64_t[]){2, 3, 4}[rnd() % 3] : 1;
    int64_t cig = big ? rint_in(16, 96) : rint_in(1, 20),
            cog = big ? rint_in(16, 96) : rint_in(1, 20);
    if (g > 1 && rnd() % 3 == 0) {
        cig = 1;
        cog = rint_in(1, 2);
    }
    p->group = g;
    p->c_in = cig * g;
    p->c_out = cog * g;
    p->k = (int64_t[]){1, 2, 3, 5, 7, 11}[rnd() % 6];
    p->dilation = (rnd() % 2) ? 1 : rint_in(1, 12);
    p->stride = (rnd() % 4) ? 1 : rint_in(2, 4);
    p->t_in = big ? rint_in(300, 1500) : rint_in(1, 900);
    p->pad = rint_in(0, (p->k - 1) * p->dilation + 2);
    int64_t span = (p->k - 1) * p->dilation, padr = rint_in(0, span + 2);
    int64_t tout = p->t_in + p->pad + padr - span - 1;
    if (tout < 0) {
        p->pad += -tout;
        tout = 0;
    }
    p->t_out = tout / p->stride + 1;
    p->ldx = p->t_in + rint_in(0, 5);
    p->ldy = p->t_out + rint_in(0, 5);
    p->t_begin = 0;
    p->t_end = p->t_out;
}

/* Error bound of fmt against the FP32 result, per output, into bnd[c_out][ldy]:
 * bf16: (2u + u^2) sum|w x| + 1e-5 (sum|w x| + |b| + |r|); int8: sum over the terms of
 * |w| sx/2 + |x| sw/2 + sw sx/4 (sx from the largest |x|, which bounds every block's
 * scale; sw per output channel) plus the same FP32 slack. Built from FP32 reference
 * convolutions of |x|, |w| and ones. */
static void conv_bound(vx_lowp_fmt fmt, const vx_conv1d_params *p, const float *xa, const float *w,
                       const float *bias, const float *res, float *bnd) {
    int64_t cig = p->c_in / p->group, nw = p->c_out * cig * p->k, nx = p->c_in * p->ldx;
    int64_t ny = p->c_out * p->ldy;
    float *aw = fabs_copy(w, nw), *ax = fabs_copy(xa, nx);
    float *swx = malloc((size_t)ny * sizeof *swx);
    vx_conv1d_ref(p, ax, aw, NULL, swx);
    float *sum_w = NULL, *sum_x = NULL, *cnt = NULL, *ones_x = NULL, *ones_w = NULL, *sw = NULL;
    float sx = maxabs(xa, nx) / 127.0f;
    if (fmt == VX_LOWP_INT8) {
        sum_w = malloc((size_t)ny * sizeof *sum_w);
        sum_x = malloc((size_t)ny * sizeof *sum_x);
        cnt = malloc((size_t)ny * sizeof *cnt);
        ones_x = fill(nx, 1.0f);
        ones_w = fill(nw, 1.0f);
        vx_conv1d_ref(p, ones_x, aw, NULL, sum_w);
        vx_conv1d_ref(p, ax, ones_w, NULL, sum_x);
        vx_conv1d_ref(p, ones_x, ones_w, NULL, cnt);
        sw = malloc((size_t)p->c_out * sizeof *sw);
        for (int64_t co = 0; co < p->c_out; co++)
            sw[co] = maxabs(w + co * cig * p->k, cig * p->k) / 127.0f;
    }
    for (int64_t co = 0; co < p->c_out; co++)
        for (int64_t t = 0; t < p->t_out; t++) {
            int64_t i = co * p->ldy + t;
            double slack =
                1e-5 * (swx[i] + (bias ? fabsf(bias[co]) : 0) + (res ? fabsf(res[i]) : 0)) + 1e-30;
            double b = fmt == VX_LOWP_BF16 ? (2 * U_BF16 + U_BF16 * U_BF16) * swx[i]
                                           : 0.5 * sx * sum_w[i] + 0.5 * sw[co] * sum_x[i] +
                                                 0.25 * sw[co] * sx * cnt[i];
            bnd[i] = (float)((b + slack) * 1.0001);
        }
    /* the scale for stats::simd_rel goes in the padding-free half: reuse swx */
    for (int64_t co = 0; co < p->c_out; co++)
        for (int64_t t = 0; t < p->t_out; t++) {
            int64_t i = co * p->ldy + t;
            swx[i] += (bias ? fabsf(bias[co]) : 0) + (res ? fabsf(res[i]) : 0) + 1e-30f;
        }
    memcpy(bnd + ny, swx, (size_t)ny * sizeof *swx);
    free(aw);
    free(ax);
    free(swx);
    free(sum_w);
    free(sum_x);
    free(cnt);
    free(ones_x);
    free(ones_w);
    free(sw);
}

/* got vs want over the written outputs: ratio to bnd (returns max), untouched elsewhere */
static double cmp_bound(const float *got, const float *want, const float *bnd, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]) / bnd[i];
        if (!(d <= m)) m = d;
    }
    return m;
}

/* Runs kern over [t_begin, t_end) in random pieces (results must not depend on it). */
static int conv_pieces(const vx_lowp_kernels *k, vx_conv1d_params p, const float *x, const void *pk,
                       const float *bias, const vx_conv1d_fuse *f, float *y) {
    int64_t b = p.t_begin, e = p.t_end;
    if (rnd() % 2) return vx_lowp_conv1d(k, &p, x, pk, bias, f, y);
    for (int64_t t = b; t < e;) {
        int64_t t1 = t + rint_in(1, 500);
        if (t1 > e) t1 = e;
        p.t_begin = t;
        p.t_end = t1;
        int rc = vx_lowp_conv1d(k, &p, x, pk, bias, f, y);
        if (rc) return rc;
        t = t1;
    }
    return 0;
}

static void test_conv(vx_lowp_fmt fmt, const vx_lowp_kernels *simd, stats *st) {
    const vx_lowp_kernels *emul = fmt == VX_LOWP_BF16 ? &vx_lowp_bf16_emul : &vx_lowp_int8_emul;
    for (int it = 0; it < 160 / iter_div(); it++) {
        vx_conv1d_params p;
        rand_conv(&p, it % 16 == 0);
        int64_t cig = p.c_in / p.group, nw = p.c_out * cig * p.k, ny = p.c_out * p.ldy;
        float *x = rbuf(p.c_in * p.ldx), *w = rbuf(nw), *bias = (rnd() % 4) ? rbuf(p.c_out) : NULL;
        int fused = rnd() % 2;
        float alpha = 0.1f;
        float *res = fused ? rbuf(ny) : NULL;
        vx_conv1d_fuse fu = {1, alpha, res, p.ldy, NULL, NULL};
        float *xa = malloc((size_t)(p.c_in * p.ldx) * sizeof *xa);
        for (int64_t i = 0; i < p.c_in * p.ldx; i++)
            xa[i] = fused && x[i] < 0 ? x[i] * alpha : x[i];
        size_t nb = vx_lowp_pack_bytes(fmt, &p);
        CHECK(nb > 0);
        void *pk = malloc(nb);
        vx_lowp_pack(fmt, &p, w, pk);
        float *ye = fill(ny, -7.0f), *yr = malloc((size_t)ny * sizeof *yr),
              *bnd = malloc((size_t)ny * 2 * sizeof *bnd);
        int rc = vx_lowp_conv1d(emul, &p, x, pk, bias, fused ? &fu : NULL, ye);
        CHECK_EQ_INT(rc, 0);
        vx_conv1d_ref(&p, xa, w, bias, yr);
        if (res)
            for (int64_t i = 0; i < ny; i++) yr[i] += res[i];
        conv_bound(fmt, &p, xa, w, bias, res, bnd);
        for (int64_t co = 0; co < p.c_out; co++) /* padding columns stay untouched */
            for (int64_t t = p.t_out; t < p.ldy; t++) {
                yr[co * p.ldy + t] = -7.0f;
                bnd[co * p.ldy + t] = 1;
                bnd[ny + co * p.ldy + t] = 1;
            }
        double r = cmp_bound(ye, yr, bnd, ny);
        CHECKF(r <= 1.0,
               "%s conv vs fp32: err/bound %.3g ci=%lld co=%lld g=%lld k=%lld s=%lld d=%lld "
               "pad=%lld tin=%lld",
               emul->name, r, (long long)p.c_in, (long long)p.c_out, (long long)p.group,
               (long long)p.k, (long long)p.stride, (long long)p.dilation, (long long)p.pad,
               (long long)p.t_in);
        if (!(r <= st->ref_ratio)) st->ref_ratio = r;
        if (simd) {
            float *ys = fill(ny, -7.0f);
            rc = conv_pieces(simd, p, x, pk, bias, fused ? &fu : NULL, ys);
            CHECK_EQ_INT(rc, 0);
            double e = 0;
            int exact = 1;
            for (int64_t i = 0; i < ny; i++) {
                double d = fabs((double)ys[i] - ye[i]) / bnd[ny + i];
                if (!(d <= e)) e = d;
                if (memcmp(&ys[i], &ye[i], 4)) exact = 0;
            }
            CHECKF(e <= TIGHT,
                   "%s conv vs emulation: rel %.3g ci=%lld co=%lld g=%lld k=%lld s=%lld d=%lld "
                   "pad=%lld tin=%lld",
                   simd->name, e, (long long)p.c_in, (long long)p.c_out, (long long)p.group,
                   (long long)p.k, (long long)p.stride, (long long)p.dilation, (long long)p.pad,
                   (long long)p.t_in);
            if (!(e <= st->simd_rel)) st->simd_rel = e;
            st->simd_exact += exact;
            st->simd_n++;
            free(ys);
        }
        free(x);
        free(w);
        free(bias);
        free(res);
        free(xa);
        free(pk);
        free(ye);
        free(yr);
        free(bnd);
    }
}

/* ConvTranspose: bound from FP32 transposed convolutions of |x|, |w| and ones (int8's sw
 * is taken over all taps of an output channel, which bounds every phase's scale). */
static void test_convtr(vx_lowp_fmt fmt, const vx_lowp_kernels *simd, stats *st) {
    const vx_lowp_kernels *emul = fmt == VX_LOWP_BF16 ? &vx_lowp_bf16_emul : &vx_lowp_int8_emul;
    static const int64_t piper[][3] = {{8, 16, 4}, {2, 4, 1}, {4, 8, 2}};
    for (int it = 0; it < 60 / iter_div(); it++) {
        vx_convtr1d_params p = {.group = 1, .dilation = 1, .leaky_in = it % 2, .alpha = 0.1f};
        int big = it % 10 == 0;
        p.c_in = big ? rint_in(16, 96) : rint_in(1, 20);
        p.c_out = big ? rint_in(16, 96) : rint_in(1, 20);
        if (it < 3) {
            p.stride = piper[it][0];
            p.k = piper[it][1];
            p.pad = piper[it][2];
        } else {
            p.stride = rint_in(1, 9);
            p.k = rint_in(1, 17);
            p.pad = rint_in(0, p.k - 1);
        }
        p.t_in = big ? rint_in(50, 300) : rint_in(1, 120);
        if (it == 3 || it == 4) { /* phases longer than an int8 scale block (384 outputs) */
            p.stride = it == 3 ? 2 : 8;
            p.k = 2 * p.stride;
            p.pad = p.stride / 2;
            p.t_in = rint_in(400, 900);
        }
        p.t_out = (p.t_in - 1) * p.stride + p.k - 2 * p.pad + rint_in(0, p.stride - 1);
        if (p.t_out < 1) {
            p.pad = 0;
            p.t_out = (p.t_in - 1) * p.stride + p.k;
        }
        int64_t nx = p.c_in * p.t_in, nw = p.c_in * p.c_out * p.k, ny = p.c_out * p.t_out;
        float *x = rbuf(nx), *w = rbuf(nw), *bias = (rnd() % 3) ? rbuf(p.c_out) : NULL;
        size_t nb = vx_lowp_convtr_pack_bytes(fmt, &p);
        CHECK(nb > 0);
        void *pk = malloc(nb);
        vx_lowp_convtr_pack(fmt, &p, w, pk);
        float *ye = fill(ny, NAN), *yr = malloc((size_t)ny * sizeof *yr);
        CHECK_EQ_INT(vx_lowp_convtr1d_range(emul, &p, x, pk, bias, 0, p.t_out, ye), 0);
        vx_convtr1d_ref(&p, x, w, bias, yr);
        float *ax = fabs_copy(x, nx), *aw = fabs_copy(w, nw),
              *swx = malloc((size_t)ny * sizeof *swx);
        vx_convtr1d_ref(&p, ax, aw, NULL, swx);
        float *sum_w = malloc((size_t)ny * sizeof *sum_w),
              *sum_x = malloc((size_t)ny * sizeof *sum_x);
        float *cnt = malloc((size_t)ny * sizeof *cnt), *o_x = fill(nx, 1.0f), *o_w = fill(nw, 1.0f);
        vx_convtr1d_ref(&p, o_x, aw, NULL, sum_w);
        vx_convtr1d_ref(&p, ax, o_w, NULL, sum_x);
        vx_convtr1d_ref(&p, o_x, o_w, NULL, cnt);
        float sx = maxabs(x, nx) / 127.0f;
        double worst = 0, e = 0;
        for (int64_t co = 0; co < p.c_out; co++) {
            float m = 0;
            for (int64_t ci = 0; ci < p.c_in; ci++)
                m = fmaxf(m, maxabs(w + (ci * p.c_out + co) * p.k, p.k));
            float sw = m / 127.0f;
            for (int64_t t = 0; t < p.t_out; t++) {
                int64_t i = co * p.t_out + t;
                double scale = swx[i] + (bias ? fabsf(bias[co]) : 0) + 1e-30;
                double b = fmt == VX_LOWP_BF16 ? (2 * U_BF16 + U_BF16 * U_BF16) * swx[i]
                                               : 0.5 * sx * sum_w[i] + 0.5 * sw * sum_x[i] +
                                                     0.25 * sw * sx * cnt[i];
                b = (b + 1e-5 * scale) * 1.0001;
                double d = fabs((double)ye[i] - yr[i]) / b;
                if (!(d <= worst)) worst = d;
                swx[i] = (float)scale;
            }
        }
        CHECKF(worst <= 1.0,
               "%s convtr vs fp32: err/bound %.3g ci=%lld co=%lld k=%lld s=%lld pad=%lld tin=%lld "
               "tout=%lld",
               emul->name, worst, (long long)p.c_in, (long long)p.c_out, (long long)p.k,
               (long long)p.stride, (long long)p.pad, (long long)p.t_in, (long long)p.t_out);
        if (!(worst <= st->ref_ratio)) st->ref_ratio = worst;
        if (simd) {
            float *ys = fill(ny, NAN);
            int rc = 0;
            for (int64_t t = 0; t < p.t_out && !rc;) {
                int64_t t1 = t + rint_in(1, 700);
                if (t1 > p.t_out) t1 = p.t_out;
                rc = vx_lowp_convtr1d_range(simd, &p, x, pk, bias, t, t1, ys);
                t = t1;
            }
            CHECK_EQ_INT(rc, 0);
            int exact = 1;
            for (int64_t i = 0; i < ny; i++) {
                double d = fabs((double)ys[i] - ye[i]) / swx[i];
                if (!(d <= e)) e = d;
                if (memcmp(&ys[i], &ye[i], 4)) exact = 0;
            }
            CHECKF(
                e <= TIGHT,
                "%s convtr vs emulation: rel %.3g ci=%lld co=%lld k=%lld s=%lld pad=%lld tin=%lld",
                simd->name, e, (long long)p.c_in, (long long)p.c_out, (long long)p.k,
                (long long)p.stride, (long long)p.pad, (long long)p.t_in);
            if (!(e <= st->simd_rel)) st->simd_rel = e;
            st->simd_exact += exact;
            st->simd_n++;
            free(ys);
        }
        free(x);
        free(w);
        free(bias);
        free(pk);
        free(ye);
        free(yr);
        free(ax);
        free(aw);
        free(swx);
        free(sum_w);
        free(sum_x);
        free(cnt);
        free(o_x);
        free(o_w);
    }
}

/* GEMM with packed A (m x k, row stride lda) against vx_sgemm_ref, beta 0 and 1. */
static void test_gemm(vx_lowp_fmt fmt, const vx_lowp_kernels *simd, stats *st) {
    const vx_lowp_kernels *emul = fmt == VX_LOWP_BF16 ? &vx_lowp_bf16_emul : &vx_lowp_int8_emul;
    for (int it = 0; it < 30 / iter_div(); it++) {
        int64_t m = rint_in(1, 70), n = rint_in(1, 300), k = rint_in(1, 600);
        int64_t lda = k + rint_in(0, 3), ldb = n + rint_in(0, 3), ldc = n + rint_in(0, 3);
        int acc = rnd() % 2;
        float *a = rbuf(m * lda), *b = rbuf(k * ldb), *c0 = rbuf(m * ldc);
        float *ce = malloc((size_t)(m * ldc) * sizeof *ce),
              *cr = malloc((size_t)(m * ldc) * sizeof *cr);
        memcpy(ce, c0, (size_t)(m * ldc) * sizeof *ce);
        memcpy(cr, c0, (size_t)(m * ldc) * sizeof *cr);
        void *pk = malloc(vx_lowp_gemm_pack_bytes(fmt, m, k));
        vx_lowp_gemm_pack(fmt, m, k, a, lda, pk);
        CHECK_EQ_INT(vx_lowp_gemm(emul, m, n, k, pk, b, ldb, NULL, acc, ce, ldc), 0);
        vx_sgemm_ref(0, 0, m, n, k, 1.0f, a, lda, b, ldb, acc ? 1.0f : 0.0f, cr, ldc);
        /* sum |a||b| per output, for the bound */
        float *aa = fabs_copy(a, m * lda), *ab = fabs_copy(b, k * ldb),
              *s = malloc((size_t)(m * ldc) * sizeof *s);
        vx_sgemm_ref(0, 0, m, n, k, 1.0f, aa, lda, ab, ldb, 0.0f, s, ldc);
        float sx = maxabs(b, k * ldb) / 127.0f;
        double worst = 0;
        for (int64_t i = 0; i < m; i++) {
            float sw = maxabs(a + i * lda, k) / 127.0f;
            double sa = 0;
            for (int64_t p = 0; p < k; p++) sa += fabsf(a[i * lda + p]);
            for (int64_t j = 0; j < n; j++) {
                double sb = 0;
                for (int64_t p = 0; p < k; p++) sb += fabsf(b[p * ldb + j]);
                double sc = s[i * ldc + j] + (acc ? fabsf(c0[i * ldc + j]) : 0) + 1e-30;
                double bd = fmt == VX_LOWP_BF16
                                ? (2 * U_BF16 + U_BF16 * U_BF16) * s[i * ldc + j]
                                : 0.5 * sx * sa + 0.5 * sw * sb + 0.25 * sw * sx * k;
                bd = (bd + 1e-5 * sc) * 1.0001;
                double d = fabs((double)ce[i * ldc + j] - cr[i * ldc + j]) / bd;
                if (!(d <= worst)) worst = d;
                s[i * ldc + j] = (float)sc;
            }
            for (int64_t j = n; j < ldc; j++) CHECK(ce[i * ldc + j] == c0[i * ldc + j]);
        }
        CHECKF(worst <= 1.0, "%s gemm vs fp32: err/bound %.3g m=%lld n=%lld k=%lld", emul->name,
               worst, (long long)m, (long long)n, (long long)k);
        if (!(worst <= st->ref_ratio)) st->ref_ratio = worst;
        if (simd) {
            float *cs = malloc((size_t)(m * ldc) * sizeof *cs);
            memcpy(cs, c0, (size_t)(m * ldc) * sizeof *cs);
            CHECK_EQ_INT(vx_lowp_gemm(simd, m, n, k, pk, b, ldb, NULL, acc, cs, ldc), 0);
            double e = 0;
            int exact = 1;
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < ldc; j++) {
                    double d =
                        j < n ? fabs((double)cs[i * ldc + j] - ce[i * ldc + j]) / s[i * ldc + j]
                              : (cs[i * ldc + j] == ce[i * ldc + j] ? 0 : 1);
                    if (!(d <= e)) e = d;
                    if (memcmp(&cs[i * ldc + j], &ce[i * ldc + j], 4)) exact = 0;
                }
            CHECKF(e <= TIGHT, "%s gemm vs emulation: rel %.3g m=%lld n=%lld k=%lld", simd->name, e,
                   (long long)m, (long long)n, (long long)k);
            if (!(e <= st->simd_rel)) st->simd_rel = e;
            st->simd_exact += exact;
            st->simd_n++;
            free(cs);
        }
        free(a);
        free(b);
        free(c0);
        free(ce);
        free(cr);
        free(pk);
        free(aa);
        free(ab);
        free(s);
    }
}

/* bf16 rounding: known values, ties to even, denormals, NaN and overflow. */
static void test_bf16_round(void) {
    CHECK_EQ_INT(vx_bf16_from_f32(1.0f), 0x3f80);
    CHECK_EQ_INT(vx_bf16_from_f32(-2.0f), 0xc000);
    uint32_t u = 0x3f808000u; /* exactly halfway, even below: rounds down */
    float f;
    memcpy(&f, &u, 4);
    CHECK_EQ_INT(vx_bf16_from_f32(f), 0x3f80);
    u = 0x3f818000u; /* halfway, odd below: rounds up */
    memcpy(&f, &u, 4);
    CHECK_EQ_INT(vx_bf16_from_f32(f), 0x3f82);
    u = 0x3f808001u;
    memcpy(&f, &u, 4);
    CHECK_EQ_INT(vx_bf16_from_f32(f), 0x3f81);
    CHECK_EQ_INT(vx_bf16_from_f32(1e-40f), 0);
    CHECK_EQ_INT(vx_bf16_from_f32(-1e-40f), 0x8000);
    CHECK_EQ_INT(vx_bf16_from_f32(3.4e38f), 0x7f80); /* rounds past the largest bf16 */
    CHECK((vx_bf16_from_f32(NAN) & 0x7fc0) == 0x7fc0);
    CHECK(vx_bf16_to_f32(vx_bf16_from_f32(INFINITY)) == INFINITY);
}

/* NaN in, NaN out (int8: the block it falls in); bad shapes are refused. */
static void test_edges(vx_lowp_fmt fmt, const vx_lowp_kernels *k) {
    vx_conv1d_params p = {.c_in = 4,
                          .c_out = 3,
                          .group = 1,
                          .t_in = 1000,
                          .t_out = 1000,
                          .k = 3,
                          .stride = 1,
                          .dilation = 1,
                          .pad = 1,
                          .ldx = 1000,
                          .ldy = 1000,
                          .t_begin = 0,
                          .t_end = 1000};
    float *x = rbuf(4 * 1000), *w = rbuf(4 * 3 * 3), *y = fill(3 * 1000, 0.0f);
    x[2 * 1000 + 500] = NAN;
    void *pk = malloc(vx_lowp_pack_bytes(fmt, &p));
    vx_lowp_pack(fmt, &p, w, pk);
    CHECK_EQ_INT(vx_lowp_conv1d(k, &p, x, pk, NULL, NULL, y), 0);
    CHECK(isnan(y[500]) && isnan(y[1000 + 501]));
    CHECK(!isnan(y[100]) && !isnan(y[999]));
    vx_conv1d_params bad = p;
    bad.t_end = 1001;
    CHECK_EQ_INT(vx_lowp_conv1d(k, &bad, x, pk, NULL, NULL, y), VOX_ERR_ARG);
    bad = p;
    bad.group = 3;
    CHECK_EQ_INT(vx_lowp_conv1d(k, &bad, x, pk, NULL, NULL, y), VOX_ERR_ARG);
    bad = p;
    bad.k = VX_LOWP_MAX_K + 1;
    CHECK_EQ_INT(vx_lowp_conv1d(k, &bad, x, pk, NULL, NULL, y), VOX_ERR_ARG);
    CHECK_EQ_INT(vx_lowp_pack_bytes(fmt, &bad), 0);
    bad = p;
    bad.ldx = 10;
    CHECK_EQ_INT(vx_lowp_conv1d(k, &bad, x, pk, NULL, NULL, y), VOX_ERR_ARG);
    CHECK_EQ_INT(vx_lowp_conv1d(k, &p, x, NULL, NULL, NULL, y), VOX_ERR_ARG);
    free(x);
    free(w);
    free(y);
    free(pk);
}

/* One conv p (residual = input, LeakyReLU 0.1) through the parallel driver, out of place
 * into a 64-byte aligned buffer (a large one is streamed: VX_STREAM_MIN_ELEMS) and, with
 * `inplace`, in place: each bit-identical to one emulated call. */
static void par_case(vx_lowp_fmt fmt, const vx_lowp_kernels *k, const vx_kernels *f,
                     vx_tpool *pool, const vx_conv1d_params *p, int inplace) {
    const vx_lowp_kernels *emul = fmt == VX_LOWP_BF16 ? &vx_lowp_bf16_emul : &vx_lowp_int8_emul;
    int64_t C = p->c_in, T = p->t_in, K = p->k, d = p->dilation;
    size_t bytes = (size_t)(C * T) * sizeof(float);
    float *x = rbuf(C * T), *w = rbuf(C * C * K), *bias = rbuf(C);
    void *pk = malloc(vx_lowp_pack_bytes(fmt, p));
    vx_lowp_pack(fmt, p, w, pk);
    float *ye = fill(C * T, 0), *yp = aligned_alloc(64, (bytes + 63) / 64 * 64),
          *xi = malloc(bytes);
    vx_conv1d_fuse fu = {1, 0.1f, x, T, NULL, NULL};
    CHECK_EQ_INT(vx_lowp_conv1d(emul, p, x, pk, bias, &fu, ye), 0);
    CHECK_EQ_INT(vx_par_conv1d_fused(pool, f, p, x, NULL, pk, bias, &fu, yp), 0);
    CHECKF(!memcmp(ye, yp, bytes), "%s parallel conv C=%lld K=%lld d=%lld T=%lld", k->name,
           (long long)C, (long long)K, (long long)d, (long long)T);
    if (inplace) {
        memcpy(xi, x, bytes);
        CHECK(vx_conv1d_inplace_ok(p));
        CHECK_EQ_INT(vx_par_conv1d_inplace(pool, f, p, NULL, pk, bias, 1, 0.1f, xi), 0);
        CHECKF(!memcmp(ye, xi, bytes), "%s in-place conv C=%lld K=%lld d=%lld T=%lld pad=%lld",
               k->name, (long long)C, (long long)K, (long long)d, (long long)T,
               (long long)p->pad);
    }
    free(x);
    free(w);
    free(bias);
    free(pk);
    free(ye);
    free(yp);
    free(xi);
}

/* Through the engine's parallel drivers (conv_par.h, via vx_lowp_fused): time-split,
 * in-place residual (x = conv(LeakyReLU(x)) + b + x) and ConvTranspose, each bit-identical
 * to one emulated call: results must not depend on threads, pieces or in-place tiles. */
static void test_par(vx_lowp_fmt fmt, const vx_lowp_kernels *k, vx_tpool *pool) {
    const vx_lowp_kernels *emul = fmt == VX_LOWP_BF16 ? &vx_lowp_bf16_emul : &vx_lowp_int8_emul;
    const vx_kernels *f = vx_lowp_fused(k);
    CHECK(f != NULL && f->conv1d_fused_f32 && f->convtr1d_range_f32);
    for (int it = 0; it < 12 / (iter_div() > 1 ? 3 : 1); it++) {
        /* every fourth: 96 channels, so K = 7 and 11 take more than one chunk of units
         * (the in-place core fills each chunk's window before any output is written) */
        int64_t C = it % 4 == 3 ? 96 : rint_in(8, 40), K = (int64_t[]){3, 7, 11}[it % 3],
                d = (int64_t[]){1, 3, 5}[rnd() % 3];
        int64_t T = C > 40 ? rint_in(500, 800) : rint_in(500, 5000), span = (K - 1) * d;
        /* "same" padding, or any split of the span (in place: other halo widths) */
        int64_t pad = it % 2 ? span / 2 : rint_in(0, span);
        vx_conv1d_params p = {.c_in = C, .c_out = C, .group = 1, .t_in = T, .t_out = T, .k = K,
                              .stride = 1, .dilation = d, .pad = pad, .ldx = T, .ldy = T,
                              .t_begin = 0, .t_end = T};
        par_case(fmt, k, f, pool, &p, 1);
    }
    /* an output of >= VX_STREAM_MIN_ELEMS elements: written with non-temporal stores */
    vx_conv1d_params big = {.c_in = 8, .c_out = 8, .group = 1, .t_in = 262160, .t_out = 262160,
                            .k = 3, .stride = 1, .dilation = 2, .pad = 2, .ldx = 262160,
                            .ldy = 262160, .t_begin = 0, .t_end = 262160};
    par_case(fmt, k, f, pool, &big, 0);
    vx_convtr1d_params tp = {.c_in = 64,
                             .c_out = 32,
                             .group = 1,
                             .t_in = 700,
                             .t_out = 700 * 8,
                             .k = 16,
                             .stride = 8,
                             .dilation = 1,
                             .pad = 4};
    float *x = rbuf(64 * 700), *w = rbuf(64 * 32 * 16), *bias = rbuf(32);
    void *pk = malloc(vx_lowp_convtr_pack_bytes(fmt, &tp));
    vx_lowp_convtr_pack(fmt, &tp, w, pk);
    float *ye = fill(32 * tp.t_out, 0), *yp = fill(32 * tp.t_out, 0);
    CHECK_EQ_INT(vx_lowp_convtr1d_range(emul, &tp, x, pk, bias, 0, tp.t_out, ye), 0);
    CHECK_EQ_INT(vx_par_convtr1d(pool, vx_kernels_get(), f, &tp, x, NULL, pk, bias, yp), 0);
    CHECKF(!memcmp(ye, yp, (size_t)(32 * tp.t_out) * sizeof *ye), "%s parallel convtr", k->name);
    free(x);
    free(w);
    free(bias);
    free(pk);
    free(ye);
    free(yp);
}

/* argv[1]: the implementation to test (vx_lowp_by_name); an emulation is checked against
 * FP32, a SIMD path against its emulation and FP32. A path this CPU/build lacks: exit 77. */
int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "bf16-emul";
    const vx_lowp_kernels *k = vx_lowp_by_name(name);
    if (!k) TEST_SKIP("%s: not built in or this CPU lacks it", name);
    CHECK_STR(k->name, name);
    vx_lowp_fmt fmt = k->fmt;
    const vx_lowp_kernels *emul = fmt == VX_LOWP_BF16 ? &vx_lowp_bf16_emul : &vx_lowp_int8_emul;
    vx_tpool *pool = vx_tpool_create(3);
    test_bf16_round();
    test_edges(fmt, k);
    test_par(fmt, k, pool);
    stats st = {0};
    int simd = k != emul;
    test_conv(fmt, simd ? k : NULL, &st);
    test_convtr(fmt, simd ? k : NULL, &st);
    test_gemm(fmt, simd ? k : NULL, &st);
    if (simd)
        printf("%s: ran on this CPU; vs emulation max rel %.3g, %lld/%lld cases bit-identical; "
               "emulation vs fp32 %.3f of the format's bound\n",
               k->name, st.simd_rel, (long long)st.simd_exact, (long long)st.simd_n, st.ref_ratio);
    else
        printf("%s: max err / format bound vs fp32 %.3f (conv, convtr, gemm)\n", k->name,
               st.ref_ratio);
    vx_tpool_free(pool);
    TEST_SUMMARY();
}

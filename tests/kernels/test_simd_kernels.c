/* Every SIMD kernel table available on this CPU (avx2, avx512, neon) against the scalar
 * references: sgemm, conv1d (packed and unpacked, fused LeakyReLU/residual),
 * convtr1d (whole and by output ranges), on many random shapes. Prints the max
 * relative error seen per table. */
#include "test.h"
#include "kernels/kernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#define KRAND_SEED 0x9e3779b97f4a7c15ull
#include "kernels/krand.h"
static float *rbuf(int64_t n) {
    float *b = malloc((size_t)(n > 0 ? n : 1) * sizeof *b);
    for (int64_t i = 0; i < n; i++) b[i] = rf();
    return b;
}

/* Max |a-b| / (scale) where scale = max(1, max|ref|) per buffer region. Uses an
 * error relative to the magnitude of the sums (sum |terms|) via tol parameter. */
static double max_rel(const float *got, const float *ref, int64_t n, double floor_) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]) / (fabs(ref[i]) + floor_);
        if (!(d <= m)) m = d; /* NaN propagates as failure */
    }
    return m;
}

#define TOL 1e-5

static double test_sgemm(const vx_kernels *k) {
    double worst = 0;
    for (int it = 0; it < 300 / iter_div(); it++) {
        int ta = rnd() & 1, tb = rnd() & 1;
        int64_t m, n, kk;
        if (it < 8) {
            int64_t s[8] = {1, 2, 5, 17, 33, 64, 65, 129};
            m = s[it];
            n = s[7 - it];
            kk = s[(it * 3) % 8];
        } else if (it % 10 == 0) {
            m = rint_in(100, 300);
            n = rint_in(100, 1200);
            kk = rint_in(200, 600);
        } else {
            m = rint_in(1, 70);
            n = rint_in(1, 150);
            kk = rint_in(1, 300);
        }
        int64_t lda = (ta ? m : kk) + rint_in(0, 3), ldb = (tb ? kk : n) + rint_in(0, 3),
                ldc = n + rint_in(0, 3);
        float alpha = (rnd() % 3) ? 1.0f : rf() * 2, beta = (float[]){0.0f, 1.0f, 0.5f}[rnd() % 3];
        float *a = rbuf((ta ? kk : m) * lda), *b = rbuf((tb ? n : kk) * ldb);
        float *c1 = rbuf(m * ldc), *c2 = malloc((size_t)(m * ldc) * sizeof *c2);
        if (beta == 0.0f)
            for (int64_t i = 0; i < m * ldc; i++) c1[i] = (i & 1) ? NAN : c1[i];
        memcpy(c2, c1, (size_t)(m * ldc) * sizeof *c2);
        if (beta == 0.0f)
            for (int64_t i = 0; i < m * ldc; i++) c2[i] = 0; /* ref scales; avoid NaN*0 */
        k->sgemm(ta, tb, m, n, kk, alpha, a, lda, b, ldb, beta, c1, ldc);
        vx_sgemm_ref(ta, tb, m, n, kk, alpha, a, lda, b, ldb, beta, c2, ldc);
        double e = 0;
        for (int64_t i = 0; i < m; i++) {
            double ei = max_rel(c1 + i * ldc, c2 + i * ldc, n, sqrt((double)kk));
            if (!(ei <= e)) e = ei;
        }
        CHECKF(e <= TOL, "%s sgemm ta=%d tb=%d m=%lld n=%lld k=%lld beta=%g err %g", k->name, ta,
               tb, (long long)m, (long long)n, (long long)kk, beta, e);
        if (!(e <= worst)) worst = e;
        /* padding columns untouched */
        int pad_ok = 1;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = n; j < ldc; j++)
                if (!(c1[i * ldc + j] == c2[i * ldc + j]) && !(beta == 0.0f)) pad_ok = 0;
        CHECK(pad_ok);
        free(a);
        free(b);
        free(c1);
        free(c2);
    }
    return worst;
}

static void rand_conv(vx_conv1d_params *p, int big) {
    int64_t g = (rnd() % 4 == 0) ? (int64_t[]){2, 3, 4}[rnd() % 3] : 1;
    if (rnd() % 10 == 0) g = rint_in(2, 8);
    int64_t cig = big ? rint_in(16, 200) : rint_in(1, 20),
            cog = big ? rint_in(16, 200) : rint_in(1, 20);
    if (g > 1 && rnd() % 3 == 0) {
        cig = 1;
        cog = rint_in(1, 2);
    } /* depthwise-ish */
    p->group = g;
    p->c_in = cig * g;
    p->c_out = cog * g;
    p->k = (int64_t[]){1, 2, 3, 5, 7, 11}[rnd() % 6];
    p->dilation = (rnd() % 2) ? 1 : rint_in(1, 12);
    p->stride = (rnd() % 4) ? 1 : rint_in(2, 4);
    p->t_in = big ? rint_in(100, 3000) : rint_in(1, 300);
    p->pad = rint_in(0, (p->k - 1) * p->dilation + 2);
    int64_t span = (p->k - 1) * p->dilation;
    int64_t padr = rint_in(0, (p->k - 1) * p->dilation + 2);
    int64_t tout = (p->t_in + p->pad + padr - span - 1);
    if (tout < 0) {
        p->pad += -tout;
        tout = 0;
    }
    p->t_out = tout / p->stride + 1;
    p->ldx = p->t_in + rint_in(0, 5);
    p->ldy = p->t_out + rint_in(0, 5);
    if (rnd() % 3 == 0 && p->t_out > 1) {
        p->t_begin = rint_in(0, p->t_out - 1);
        p->t_end = rint_in(p->t_begin, p->t_out);
    } else {
        p->t_begin = 0;
        p->t_end = p->t_out;
    }
}

static double test_conv(const vx_kernels *k, const vx_kernels *f) {
    double worst = 0;
    for (int it = 0; it < 400 / iter_div(); it++) {
        vx_conv1d_params p;
        rand_conv(&p, it % 20 == 0);
        int64_t cig = p.c_in / p.group, nw = p.c_out * cig * p.k;
        float *x = rbuf(p.c_in * p.ldx), *w = rbuf(nw), *bias = (rnd() % 4) ? rbuf(p.c_out) : NULL;
        float *y1 = malloc((size_t)(p.c_out * p.ldy) * sizeof *y1),
              *y2 = malloc((size_t)(p.c_out * p.ldy) * sizeof *y2);
        float *res = rbuf(p.c_out * p.ldy);
        for (int64_t i = 0; i < p.c_out * p.ldy; i++) y1[i] = y2[i] = -7.0f;
        int mode = rnd() % 3; /* 0 unpacked, 1 packed, 2 fused (leaky + residual) */
        void *pk = NULL;
        int rc;
        float alpha = 0.1f;
        if (mode >= 1 && k->conv1d_pack_bytes && k->conv1d_pack_bytes(&p) > 0) {
            pk = malloc(k->conv1d_pack_bytes(&p));
            k->conv1d_pack(&p, w, pk);
        }
        float *xr = x;
        if (mode == 2 && f) {
            vx_conv1d_fuse fu = {1, alpha, res, p.ldy, NULL, NULL};
            rc = f->conv1d_fused_f32(&p, x, w, pk, bias, &fu, y1);
            xr = malloc((size_t)(p.c_in * p.ldx) * sizeof *xr);
            for (int64_t i = 0; i < p.c_in * p.ldx; i++) xr[i] = x[i] < 0 ? x[i] * alpha : x[i];
        } else {
            mode = mode == 2 ? 1 : mode;
            rc = k->conv1d_f32(&p, x, w, pk, bias, y1);
        }
        CHECK_EQ_INT(rc, 0);
        vx_conv1d_ref(&p, xr, w, bias, y2);
        if (mode == 2)
            for (int64_t co = 0; co < p.c_out; co++)
                for (int64_t t = p.t_begin; t < p.t_end; t++)
                    y2[co * p.ldy + t] += res[co * p.ldy + t];
        double e = max_rel(y1, y2, p.c_out * p.ldy, sqrt((double)(cig * p.k)));
        CHECKF(e <= TOL,
               "%s conv mode %d ci=%lld co=%lld g=%lld k=%lld s=%lld d=%lld pad=%lld tin=%lld "
               "tout=%lld [%lld,%lld) err %g",
               k->name, mode, (long long)p.c_in, (long long)p.c_out, (long long)p.group,
               (long long)p.k, (long long)p.stride, (long long)p.dilation, (long long)p.pad,
               (long long)p.t_in, (long long)p.t_out, (long long)p.t_begin, (long long)p.t_end, e);
        if (!(e <= worst)) worst = e;
        if (xr != x) free(xr);
        free(x);
        free(w);
        free(bias);
        free(y1);
        free(y2);
        free(res);
        free(pk);
    }
    return worst;
}

static double test_convtr(const vx_kernels *k, const vx_kernels *f) {
    double worst = 0;
    static const int64_t piper[][4] = {{8, 16, 4, 0}, {8, 16, 4, 0}, {2, 4, 1, 0}, {2, 4, 1, 0}};
    for (int it = 0; it < 200 / iter_div(); it++) {
        vx_convtr1d_params p = {0};
        int big = it % 25 == 0;
        p.leaky_in = (int)(rnd() % 2); /* LeakyReLU on the input, read on the fly */
        p.alpha = 0.1f;
        p.group = (rnd() % 5 == 0) ? rint_in(2, 3) : 1;
        int64_t cig = big ? rint_in(16, 128) : rint_in(1, 20),
                cog = big ? rint_in(16, 128) : rint_in(1, 20);
        p.c_in = cig * p.group;
        p.c_out = cog * p.group;
        if (it < 4) {
            p.stride = piper[it][0];
            p.k = piper[it][1];
            p.pad = piper[it][2];
        } else {
            p.stride = rint_in(1, 9);
            p.k = rint_in(1, 17);
            p.pad = rint_in(0, p.k - 1 > 0 ? p.k - 1 : 0);
        }
        p.dilation = (rnd() % 5 == 0) ? rint_in(2, 3) : 1;
        p.t_in = big ? rint_in(50, 600) : rint_in(1, 80);
        int64_t outpad = rint_in(0, p.stride - 1);
        p.t_out = (p.t_in - 1) * p.stride + (p.k - 1) * p.dilation + 1 - 2 * p.pad + outpad;
        if (p.t_out < 1) {
            p.pad = 0;
            p.t_out = (p.t_in - 1) * p.stride + (p.k - 1) * p.dilation + 1;
        }
        float *x = rbuf(p.c_in * p.t_in), *w = rbuf(p.c_in * cog * p.k),
              *bias = (rnd() % 3) ? rbuf(p.c_out) : NULL;
        float *y1 = malloc((size_t)(p.c_out * p.t_out) * sizeof *y1),
              *y2 = malloc((size_t)(p.c_out * p.t_out) * sizeof *y2);
        for (int64_t i = 0; i < p.c_out * p.t_out; i++) y1[i] = NAN;
        int rc;
        int mode = f ? (int)(rnd() % 3) : 0;
        if (mode == 0)
            rc = k->convtr1d_f32(&p, x, w, bias, y1);
        else {
            void *pk = NULL;
            size_t nb = f->convtr1d_pack_bytes(&p);
            if (nb && mode == 2) {
                pk = malloc(nb);
                f->convtr1d_pack(&p, w, pk);
            }
            rc = 0;
            /* pieces */
            int64_t t = 0;
            while (t < p.t_out && !rc) {
                int64_t e = t + rint_in(1, 300);
                if (e > p.t_out) e = p.t_out;
                rc = f->convtr1d_range_f32(&p, x, w, pk, bias, t, e, y1);
                t = e;
            }
            free(pk);
        }
        CHECK_EQ_INT(rc, 0);
        vx_convtr1d_ref(&p, x, w, bias, y2);
        double e = max_rel(y1, y2, p.c_out * p.t_out, sqrt((double)(cig * p.k)));
        CHECKF(e <= TOL,
               "%s convtr mode %d ci=%lld co=%lld g=%lld k=%lld s=%lld d=%lld pad=%lld tin=%lld "
               "tout=%lld err %g",
               k->name, mode, (long long)p.c_in, (long long)p.c_out, (long long)p.group,
               (long long)p.k, (long long)p.stride, (long long)p.dilation, (long long)p.pad,
               (long long)p.t_in, (long long)p.t_out, e);
        if (!(e <= worst)) worst = e;
        free(x);
        free(w);
        free(bias);
        free(y1);
        free(y2);
    }
    return worst;
}

/* Ulps between a float and the exact (double) value, in units of the float's ulp at the
 * exact value. */
static double ulp_err(float got, double want) {
    double a = fabs(want);
    int e;
    frexp(a < 1e-37 ? 1e-37 : a, &e);
    double ulp = ldexp(1.0, e - 24);
    return fabs((double)got - want) / ulp;
}

/* tanh_f32 / sigmoid_f32 against libm double: a sweep of [-100, 100] (dense near 0),
 * special values, in place, odd lengths. Returns the max ulp error; fails on > 4 ulp
 * (tanh) / 4 ulp (sigmoid, where the result is >= 1e-30). */
static double test_tanh_sigmoid(const vx_kernels *f) {
    CHECK(f->tanh_f32 != NULL);
    CHECK(f->sigmoid_f32 != NULL);
    if (!f->tanh_f32 || !f->sigmoid_f32) return 0;
    const int64_t n = 200003;
    float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    for (int64_t i = 0; i < n; i++) {
        double u = (double)i / (double)(n - 1) * 2.0 - 1.0; /* [-1, 1] */
        x[i] = (float)(u * u * u * 100.0);
    }
    x[0] = 0.0f;
    x[1] = -0.0f;
    x[2] = 1e-30f;
    x[3] = -1e-8f;
    x[4] = 0.5f;
    x[5] = -0.49999997f;
    x[6] = 9.0f;
    x[7] = -9.5f;
    x[8] = 88.0f;
    x[9] = -88.0f;
    x[10] = 1e30f;
    x[11] = -1e30f;
    double worst = 0;
    f->tanh_f32(x, y, n);
    for (int64_t i = 0; i < n; i++) {
        double e = ulp_err(y[i], tanh((double)x[i]));
        if (e > worst) worst = e;
        if (e > 4) {
            printf("  tanh(%.9g) = %.9g, want %.9g\n", x[i], y[i], tanh((double)x[i]));
            CHECK(e <= 4);
            break;
        }
    }
    for (int64_t i = 0; i < n; i++) {
        double want = 1.0 / (1.0 + exp(-(double)x[i]));
        if (want < 1e-30) continue;
        f->sigmoid_f32(x + i, y + i, 1);
        double e = ulp_err(y[i], want);
        if (e > worst) worst = e;
        if (e > 4) {
            printf("  sigmoid(%.9g) = %.9g, want %.9g\n", x[i], y[i], want);
            CHECK(e <= 4);
            break;
        }
    }
    /* in place and odd lengths agree with the out-of-place result */
    float *z = malloc((size_t)n * sizeof *z);
    memcpy(z, x, (size_t)n * sizeof *z);
    f->sigmoid_f32(x, y, n);
    f->sigmoid_f32(z, z, 777);
    f->sigmoid_f32(z + 777, z + 777, n - 777);
    CHECK(!memcmp(y, z, (size_t)n * sizeof *z));
    float nan = NAN, r;
    f->tanh_f32(&nan, &r, 1);
    CHECK(r != r);
    f->sigmoid_f32(&nan, &r, 1);
    CHECK(r != r);
    free(x);
    free(y);
    free(z);
    return worst;
}

/* erf_f32 against libm's double erf: a sweep of [-6, 6] dense near 0 (and both sides of
 * the kernel's switches at 1 and 3.92), tiny and huge values, infinities, in place and
 * odd lengths, NaN. Returns the max ulp error; fails above 4 ulp. */
static double test_erf(const vx_kernels *f) {
    CHECK(f->erf_f32 != NULL);
    if (!f->erf_f32) return 0;
    const int64_t n = 300007;
    float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    for (int64_t i = 0; i < n; i++) {
        double u = (double)i / (double)(n - 1) * 2.0 - 1.0;
        x[i] = (float)(u * u * u * 6.0);
    }
    float sp[] = {0.0f, -0.0f, 1e-38f, -1e-30f, 1e-8f, 0.99999994f, 1.0f, -1.0000001f,
                  3.9199998f, 3.92f, -3.9200001f, 10.0f, -1e30f, INFINITY, -INFINITY};
    memcpy(x, sp, sizeof sp);
    f->erf_f32(x, y, n);
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double want = erf((double)x[i]), e = ulp_err(y[i], want);
        if (e > worst) worst = e;
        if (e > 4) {
            printf("  erf(%.9g) = %.9g, want %.9g\n", x[i], y[i], want);
            CHECK(e <= 4);
            break;
        }
    }
    float *z = malloc((size_t)n * sizeof *z);
    memcpy(z, x, (size_t)n * sizeof *z);
    f->erf_f32(z, z, 999);
    f->erf_f32(z + 999, z + 999, n - 999);
    CHECK(!memcmp(y, z, (size_t)n * sizeof *z));
    float nan = NAN, r;
    f->erf_f32(&nan, &r, 1);
    CHECK(r != r);
    free(x);
    free(y);
    free(z);
    return worst;
}

/* normal_f32 against Box-Muller in double on the same random words (u1, u2 as kernels.h
 * says), plus moments of 2M deviates and the mean/scale. Returns the max error relative
 * to max(1, |y|); fails above 2e-6. */
static double test_normal(const vx_kernels *f) {
    CHECK(f->normal_f32 != NULL);
    if (!f->normal_f32) return 0;
    const int64_t pairs = 1000003;
    uint64_t *w = malloc((size_t)pairs * sizeof *w), s = 0x9e3779b97f4a7c15ull;
    float *y = malloc((size_t)pairs * 2 * sizeof *y);
    for (int64_t i = 0; i < pairs; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17; /* xorshift64 */
        w[i] = s;
    }
    w[0] = 0;                     /* u1 = 2^-24 (the largest deviate), u2 = 0 */
    w[1] = ~0ull;                 /* u1 = 1, u2 just below 1 */
    w[2] = 0x00000000c0000000ull; /* u2 = 3/4 exactly */
    f->normal_f32(w, y, pairs, 0.0f, 1.0f);
    double worst = 0, sum = 0, sq = 0;
    for (int64_t i = 0; i < pairs; i++) {
        double u1 = ((double)(uint32_t)(w[i] >> 40) + 1) * 0x1.0p-24;
        double u2 = (double)((uint32_t)w[i] >> 8) * 0x1.0p-24;
        double m = sqrt(-2.0 * log(u1)), a = 2 * M_PI * u2;
        double r[2] = {m * cos(a), m * sin(a)};
        for (int j = 0; j < 2; j++) {
            double e = fabs(y[2 * i + j] - r[j]) / fmax(1.0, fabs(r[j]));
            if (e > worst) worst = e;
            sum += y[2 * i + j];
            sq += (double)y[2 * i + j] * y[2 * i + j];
        }
    }
    CHECKF(worst <= 2e-6, "normal: max error %g", worst);
    double n = 2.0 * pairs, mean = sum / n, var = sq / n - mean * mean;
    CHECKF(fabs(mean) < 0.005 && fabs(var - 1.0) < 0.01, "normal: mean %g var %g", mean, var);
    float z[4];
    f->normal_f32(w + 5, z, 2, 0.0f, 1.0f);
    f->normal_f32(w + 5, z + 2, 1, 3.0f, 0.5f); /* y = 3 + 0.5 N */
    CHECK(fabsf(z[2] - (3.0f + 0.5f * z[0])) <= 1e-6f && fabsf(z[3] - (3.0f + 0.5f * z[1])) <= 1e-6f);
    free(w);
    free(y);
    return worst;
}

/* softmax_f32 against a double-precision softmax: rows of several lengths (1, odd,
 * longer than the kernel's 512-float block), wide ranges, in place; NaN propagates.
 * Returns the max error relative to each row's largest value; fails above 4e-6. */
static double test_softmax(const vx_kernels *f) {
    CHECK(f->softmax_f32 != NULL);
    if (!f->softmax_f32) return 0;
    static const int64_t lens[] = {1, 7, 16, 33, 511, 513, 1601};
    double worst = 0;
    uint32_t r = 4242;
    for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
        int64_t len = lens[li], rows = 5, n = rows * len;
        float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
        for (int64_t i = 0; i < n; i++) {
            r = r * 1664525u + 1013904223u;
            double u = (double)(r >> 8) / 16777216.0 - 0.5;
            int64_t row = i / len;
            x[i] = (float)(u * (row == 0   ? 2.0
                                : row == 1 ? 40.0
                                : row == 2 ? 400.0
                                           : 8.0)) +
                   (row == 3 ? 1e4f : 0.0f) - (row == 4 && i % 3 ? 1e4f : 0.0f);
        }
        f->softmax_f32(x, y, rows, len);
        for (int64_t q = 0; q < rows; q++) {
            const float *xs = x + q * len, *ys = y + q * len;
            double mx = -INFINITY, sum = 0, err = 0;
            for (int64_t i = 0; i < len; i++) mx = xs[i] > mx ? xs[i] : mx;
            for (int64_t i = 0; i < len; i++) sum += exp((double)xs[i] - mx);
            for (int64_t i = 0; i < len; i++) {
                double e = fabs(ys[i] - exp((double)xs[i] - mx) / sum) * sum; /* / row max */
                if (e > err) err = e;
            }
            if (err > worst) worst = err;
            CHECKF(err <= 4e-6, "softmax len %lld row %lld: error %.3g", (long long)len,
                   (long long)q, err);
        }
        float *z = malloc((size_t)n * sizeof *z);
        memcpy(z, x, (size_t)n * sizeof *z);
        f->softmax_f32(z, z, rows, len); /* in place: the same bits */
        CHECK(!memcmp(y, z, (size_t)n * sizeof *z));
        x[len + len / 2] = NAN; /* row 1 */
        f->softmax_f32(x, y, rows, len);
        CHECK(y[len] != y[len] && y[0] == y[0]);
        free(x);
        free(y);
        free(z);
    }
    return worst;
}

/* usage: test_simd_kernels PATH (scalar|avx2|avx512|neon): one ctest per path
 * (CMakeLists.txt), so a path this CPU or build lacks shows as skipped, not passed. */
/* The transpose moves bits: equal to the scalar one exactly, on planes with edges
 * (sizes not multiples of 8), strides wider than the plane, NaN payloads. */
static int test_transpose(const vx_kernels *k) {
    const vx_kernels *ref = vx_kernels_by_name("scalar");
    int bad = 0;
    for (int it = 0; it < 200 / iter_div(); it++) {
        int64_t A = 1 + rnd() % 150, B = 1 + rnd() % 150;
        int64_t sb = A + rnd() % 9, da = B + rnd() % 9; /* src row stride, dst row stride */
        int64_t ns = sb * B, nd = da * A;
        uint32_t *src = malloc((size_t)ns * 4), *d1 = malloc((size_t)nd * 4), *d2 = malloc((size_t)nd * 4);
        for (int64_t i = 0; i < ns; i++) src[i] = (uint32_t)rnd() * 2654435761u ^ (uint32_t)i;
        memset(d1, 0xA5, (size_t)nd * 4);
        memset(d2, 0xA5, (size_t)nd * 4);
        k->transpose_u32(d1, src, A, B, da, sb);
        ref->transpose_u32(d2, src, A, B, da, sb);
        if (memcmp(d1, d2, (size_t)nd * 4)) {
            fprintf(stderr, "%s transpose A %lld B %lld: differs from scalar\n", k->name,
                    (long long)A, (long long)B);
            bad++;
        }
        free(src), free(d1), free(d2);
    }
    return bad;
}

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "scalar";
    const vx_kernels *k = vx_kernels_by_name(name);
    if (!k) TEST_SKIP("kernel path %s: not available on this CPU/build", name);
    /* every entry is filled: the scalar init runs first, overrides only replace */
    CHECK(k->sgemm && k->conv1d_f32 && k->conv1d_pack_bytes && k->conv1d_pack && k->convtr1d_f32 &&
          k->conv1d_fused_f32 && k->convtr1d_pack_bytes && k->convtr1d_pack &&
          k->convtr1d_range_f32 && k->tanh_f32 && k->sigmoid_f32 && k->softmax_f32 && k->erf_f32 && k->normal_f32 && k->transpose_u32 &&
          k->conv_nr > 0);
    CHECK_STR(k->name, name);
    double eg = test_sgemm(k), ec = test_conv(k, k), et = test_convtr(k, k);
    double eu = test_tanh_sigmoid(k), es = test_softmax(k), ee = test_erf(k), en = test_normal(k);
    CHECK_EQ_INT(test_transpose(k), 0);
    printf("%s: max rel err sgemm %.3g conv1d %.3g convtr1d %.3g; tanh/sigmoid %.2f ulp; softmax "
           "%.3g; erf %.2f ulp; normal %.3g\n",
           k->name, eg, ec, et, eu, es, ee, en);
    TEST_SUMMARY();
}

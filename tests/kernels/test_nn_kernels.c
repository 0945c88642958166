/* Kernel-level checks: every SGEMM / Conv1d / ConvTranspose1d implementation available on
 * this machine (and the scalar references) against naive loops written here, over many
 * random shapes including size-1 edges, odd lengths and channel counts that are not
 * multiples of the SIMD widths. VOX_BENCH=1 also prints conv1d GFLOP/s. */
#include "test.h"
#include "kernels/kernels.h"
#include <stdint.h>
#include <time.h>

static uint64_t rs = 88172645463325252ULL;
static uint32_t rnd(void) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 32);
}
static int64_t rint_(int64_t lo, int64_t hi) {
    return lo + (int64_t)(rnd() % (uint32_t)(hi - lo + 1));
}
static float rf(void) { return (float)((double)rnd() / 4294967296.0 * 2.0 - 1.0); }
static float *rbuf(int64_t n) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = rf();
    return p;
}

/* max |a-b| relative to the magnitude of the reference */
static double maxerr(const float *a, const double *ref, int64_t n) {
    double e = 0, mag = 1e-6;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs(a[i] - ref[i]);
        if (d > e) e = d;
        if (fabs(ref[i]) > mag) mag = fabs(ref[i]);
    }
    return e / mag;
}

static const vx_kernels *impls[4];
static int n_impls;

static void collect_impls(void) {
    const char *names[] = {"scalar", "avx2", "avx512", "neon"};
    for (int i = 0; i < 4; i++) {
        const vx_kernels *k = vx_kernels_by_name(names[i]);
        if (k) impls[n_impls++] = k;
    }
    CHECK(n_impls >= 1);
    CHECK(vx_kernels_get() != NULL);
    CHECK_STR(vx_kernels_by_name("scalar")->name, "scalar");
    CHECK(vx_kernels_by_name("bogus") == NULL);
}

/* ------------------------------------------------------------------ sgemm */

static void naive_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                       int64_t lda, const float *b, int64_t ldb, float beta, const float *c0,
                       int64_t ldc, double *out) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++)
                s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) *
                     (tb ? b[j * ldb + p] : b[p * ldb + j]);
            out[i * n + j] = alpha * s + (beta == 0.0f ? 0.0 : beta * (double)c0[i * ldc + j]);
        }
}

typedef void (*gemm_fn)(int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                        const float *, int64_t, float, float *, int64_t);

static void test_sgemm_one(gemm_fn fn, const char *name, int64_t m, int64_t n, int64_t k, int ta,
                           int tb, float alpha, float beta) {
    int64_t lda = (ta ? m : k) + rint_(0, 3), ldb = (tb ? k : n) + rint_(0, 3),
            ldc = n + rint_(0, 3);
    float *a = rbuf((ta ? k : m) * lda), *b = rbuf((tb ? n : k) * ldb), *c = rbuf(m * ldc);
    float *c0 = malloc((size_t)(m * ldc > 0 ? m * ldc : 1) * sizeof *c0);
    memcpy(c0, c, (size_t)(m * ldc) * sizeof *c);
    if (beta == 0.0f)
        for (int64_t i = 0; i < m * ldc; i++) c[i] = NAN; /* must be ignored */
    double *ref = malloc((size_t)(m * n > 0 ? m * n : 1) * sizeof *ref);
    naive_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc, ref);
    fn(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    float *packed = malloc((size_t)(m * n > 0 ? m * n : 1) * sizeof *packed);
    int pad_ok = 1;
    for (int64_t i = 0; i < m; i++) {
        memcpy(packed + i * n, c + i * ldc, (size_t)n * sizeof *c);
        for (int64_t j = n; j < ldc; j++)
            if (c[i * ldc + j] != c0[i * ldc + j] && beta != 0.0f) pad_ok = 0;
    }
    double e = maxerr(packed, ref, m * n);
    CHECKF(e < 1e-5 * (1 + k / 64.0), "%s m=%lld n=%lld k=%lld ta=%d tb=%d alpha=%g beta=%g err=%g",
           name, (long long)m, (long long)n, (long long)k, ta, tb, alpha, beta, e);
    CHECKF(pad_ok, "%s wrote outside n columns", name);
    free(a);
    free(b);
    free(c);
    free(c0);
    free(ref);
    free(packed);
}

static void test_sgemm(void) {
    static const int64_t sizes[][3] = {{1, 1, 1},      {1, 17, 5},     {7, 1, 3},    {5, 9, 1},
                                       {6, 8, 256},    {13, 29, 257},  {97, 65, 33}, {100, 520, 7},
                                       {3, 1030, 300}, {191, 17, 513}, {64, 64, 64}};
    for (int t = 0; t < n_impls; t++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (int tr = 0; tr < 4; tr++) {
                float alpha = (tr & 1) ? 0.5f : 1.0f, beta = s % 3 == 0   ? 0.0f
                                                             : s % 3 == 1 ? 1.0f
                                                                          : -0.75f;
                test_sgemm_one(impls[t]->sgemm, impls[t]->name, sizes[s][0], sizes[s][1],
                               sizes[s][2], tr & 1, tr >> 1, alpha, beta);
            }
        for (int r = 0; r < 40; r++)
            test_sgemm_one(impls[t]->sgemm, impls[t]->name, rint_(1, 70), rint_(1, 90),
                           rint_(1, 300), (int)rint_(0, 1), (int)rint_(0, 1), rf() * 2,
                           r % 2 ? 0.0f : rf());
    }
    for (int r = 0; r < 10; r++)
        test_sgemm_one(vx_sgemm_ref, "ref", rint_(1, 20), rint_(1, 20), rint_(1, 40),
                       (int)rint_(0, 1), (int)rint_(0, 1), 1.0f, r % 2 ? 0.0f : 1.0f);
    /* k == 0: C = beta * C */
    float c[4] = {1, 2, 3, 4};
    vx_kernels_get()->sgemm(0, 0, 2, 2, 0, 1.0f, c, 1, c, 1, 2.0f, c, 2);
    CHECK_NEAR(c[3], 8.0, 0);
}

/* ----------------------------------------------------------------- conv1d */

static void naive_conv1d(const vx_conv1d_params *p, const float *x, const float *w, const float *b,
                         double *y /* [c_out][t_out] */) {
    int64_t cig = p->c_in / p->group, cog = p->c_out / p->group;
    for (int64_t co = 0; co < p->c_out; co++)
        for (int64_t t = 0; t < p->t_out; t++) {
            double s = b ? b[co] : 0;
            for (int64_t ci = 0; ci < cig; ci++)
                for (int64_t kk = 0; kk < p->k; kk++) {
                    int64_t src = t * p->stride + kk * p->dilation - p->pad;
                    if (src >= 0 && src < p->t_in)
                        s += (double)w[(co * cig + ci) * p->k + kk] *
                             x[((co / cog) * cig + ci) * p->ldx + src];
                }
            y[co * p->t_out + t] = s;
        }
}

typedef int (*conv_fn)(const vx_conv1d_params *, const float *, const float *, const void *,
                       const float *, float *);

static int ref_conv_adapter(const vx_conv1d_params *p, const float *x, const float *w,
                            const void *wp, const float *b, float *y) {
    (void)wp;
    vx_conv1d_ref(p, x, w, b, y);
    return 0;
}

static void test_conv1d_one(const vx_kernels *kern, conv_fn fn, const char *name,
                            vx_conv1d_params p, int use_bias) {
    float *x = rbuf(p.c_in * p.ldx), *w = rbuf(p.c_out * (p.c_in / p.group) * p.k),
          *b = rbuf(p.c_out);
    float *y = malloc((size_t)(p.c_out * p.ldy) * sizeof *y);
    for (int64_t i = 0; i < p.c_out * p.ldy; i++) y[i] = 12345.0f; /* sentinel */
    double *ref = malloc((size_t)(p.c_out * p.t_out + 1) * sizeof *ref);
    naive_conv1d(&p, x, w, use_bias ? b : NULL, ref);
    void *packed = NULL;
    if (kern && kern->conv1d_pack_bytes && kern->conv1d_pack) {
        packed = malloc(kern->conv1d_pack_bytes(&p));
        kern->conv1d_pack(&p, w, packed);
    }
    int rc = fn(&p, x, w, packed, use_bias ? b : NULL, y);
    CHECK_EQ_INT(rc, 0);
    double e = 0, mag = 1e-6;
    int outside_ok = 1;
    for (int64_t co = 0; co < p.c_out; co++)
        for (int64_t t = 0; t < p.ldy; t++) {
            float v = y[co * p.ldy + t];
            if (t >= p.t_begin && t < p.t_end) {
                double r = ref[co * p.t_out + t];
                if (fabs(v - r) > e) e = fabs(v - r);
                if (fabs(r) > mag) mag = fabs(r);
            } else if (v != 12345.0f)
                outside_ok = 0;
        }
    CHECKF(e / mag < 2e-6 * (1 + (p.c_in / p.group) * p.k / 64.0),
           "%s cin=%lld cout=%lld g=%lld T=%lld k=%lld s=%lld d=%lld pad=%lld tout=%lld "
           "[%lld,%lld) err=%g",
           name, (long long)p.c_in, (long long)p.c_out, (long long)p.group, (long long)p.t_in,
           (long long)p.k, (long long)p.stride, (long long)p.dilation, (long long)p.pad,
           (long long)p.t_out, (long long)p.t_begin, (long long)p.t_end, e / mag);
    CHECKF(outside_ok, "%s wrote outside [t_begin, t_end)", name);
    free(x);
    free(w);
    free(b);
    free(y);
    free(ref);
    free(packed);
}

static vx_conv1d_params rand_conv(int big) {
    vx_conv1d_params p;
    p.group = rint_(0, 3) == 0 ? rint_(1, 4) : 1;
    int64_t cig = big ? rint_(1, 300) : rint_(1, 19),
            cog = rint_(0, 2) == 0 ? rint_(1, 3) : rint_(1, big ? 70 : 21);
    if (rint_(0, 5) == 0) {
        cig = 1;
        cog = 1;
        p.group = rint_(1, 24);
    } /* depthwise */
    p.c_in = cig * p.group;
    p.c_out = cog * p.group;
    p.k = rint_(1, 11);
    p.stride = rint_(0, 2) ? 1 : rint_(2, 4);
    p.dilation = rint_(0, 1) ? 1 : rint_(2, 12);
    p.t_in = rint_(1, big ? 3000 : 60);
    p.pad = rint_(0, (p.k - 1) * p.dilation + 2);
    int64_t pe = rint_(0, (p.k - 1) * p.dilation + 2);
    int64_t span = p.t_in + p.pad + pe - ((p.k - 1) * p.dilation + 1);
    if (span < 0) {
        p.pad += -span;
        span = 0;
    }
    p.t_out = span / p.stride + 1;
    p.ldx = p.t_in + rint_(0, 2);
    p.ldy = p.t_out + rint_(0, 2);
    p.t_begin = 0;
    p.t_end = p.t_out;
    if (rint_(0, 3) == 0) {
        p.t_begin = rint_(0, p.t_out - 1);
        p.t_end = rint_(p.t_begin + 1, p.t_out);
    }
    return p;
}

static void test_conv1d(void) {
    for (int t = 0; t < n_impls; t++) {
        /* fixed edge cases: pointwise, k > t_in with padding, single sample */
        vx_conv1d_params fixed[] = {
            {5, 9, 1, 7, 7, 1, 1, 1, 0, 7, 7, 0, 7},
            {3, 4, 1, 2, 4, 5, 1, 1, 2, 2, 4, 0, 4},
            {1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1},
            {16, 16, 16, 33, 33, 3, 1, 4, 4, 33, 33, 0, 33},
            {32, 1, 1, 101, 101, 7, 1, 1, 3, 101, 101, 0, 101},
            {192, 192, 1, 700, 700, 3, 1, 5, 5, 700, 700, 0, 700},
        };
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
            for (int ub = 0; ub < 2; ub++)
                test_conv1d_one(impls[t], impls[t]->conv1d_f32, impls[t]->name, fixed[i], ub);
        for (int r = 0; r < 150; r++)
            test_conv1d_one(impls[t], impls[t]->conv1d_f32, impls[t]->name, rand_conv(0), r & 1);
        for (int r = 0; r < 12; r++)
            test_conv1d_one(impls[t], impls[t]->conv1d_f32, impls[t]->name, rand_conv(1), r & 1);
    }
    for (int r = 0; r < 40; r++)
        test_conv1d_one(NULL, ref_conv_adapter, "ref", rand_conv(0), r & 1);
}

/* --------------------------------------------------------- convtranspose1d */

static void naive_convtr1d(const vx_convtr1d_params *p, const float *x, const float *w,
                           const float *b, double *y) {
    int64_t cig = p->c_in / p->group, cog = p->c_out / p->group;
    for (int64_t co = 0; co < p->c_out; co++)
        for (int64_t t = 0; t < p->t_out; t++) y[co * p->t_out + t] = b ? b[co] : 0;
    for (int64_t ci = 0; ci < p->c_in; ci++)
        for (int64_t c = 0; c < cog; c++)
            for (int64_t t = 0; t < p->t_in; t++)
                for (int64_t kk = 0; kk < p->k; kk++) {
                    int64_t o = t * p->stride + kk * p->dilation - p->pad,
                            co = (ci / cig) * cog + c;
                    double v = x[ci * p->t_in + t];
                    if (p->leaky_in && v < 0) v *= p->alpha;
                    if (o >= 0 && o < p->t_out)
                        y[co * p->t_out + o] += v * w[(ci * cog + c) * p->k + kk];
                }
}

static void test_convtr_one(int (*fn)(const vx_convtr1d_params *, const float *, const float *,
                                      const float *, float *),
                            const char *name, vx_convtr1d_params p, int use_bias) {
    float *x = rbuf(p.c_in * p.t_in), *w = rbuf(p.c_in * (p.c_out / p.group) * p.k),
          *b = rbuf(p.c_out);
    float *y = rbuf(p.c_out * p.t_out); /* garbage: must be overwritten */
    double *ref = malloc((size_t)(p.c_out * p.t_out + 1) * sizeof *ref);
    naive_convtr1d(&p, x, w, use_bias ? b : NULL, ref);
    CHECK_EQ_INT(fn(&p, x, w, use_bias ? b : NULL, y), 0);
    double e = maxerr(y, ref, p.c_out * p.t_out);
    CHECKF(e < 2e-6 * (1 + p.c_in / 16.0),
           "%s cin=%lld cout=%lld g=%lld T=%lld k=%lld s=%lld d=%lld pad=%lld tout=%lld err=%g",
           name, (long long)p.c_in, (long long)p.c_out, (long long)p.group, (long long)p.t_in,
           (long long)p.k, (long long)p.stride, (long long)p.dilation, (long long)p.pad,
           (long long)p.t_out, e);
    free(x);
    free(w);
    free(b);
    free(y);
    free(ref);
}

static int ref_convtr_adapter(const vx_convtr1d_params *p, const float *x, const float *w,
                              const float *b, float *y) {
    vx_convtr1d_ref(p, x, w, b, y);
    return 0;
}

static vx_convtr1d_params rand_convtr(int big) {
    vx_convtr1d_params p = {0};
    p.leaky_in = rint_(0, 1);
    p.alpha = 0.3f;
    p.group = rint_(0, 3) == 0 ? rint_(1, 3) : 1;
    p.c_in = rint_(1, big ? 256 : 17) * p.group;
    p.c_out = rint_(1, big ? 130 : 19) * p.group;
    p.k = rint_(1, 16);
    p.stride = rint_(1, 8);
    p.dilation = rint_(0, 2) ? 1 : rint_(2, 3);
    p.t_in = rint_(1, big ? 900 : 40);
    int64_t full = p.stride * (p.t_in - 1) + (p.k - 1) * p.dilation + 1;
    p.pad = rint_(-2, p.k); /* negative: output_shape larger than the natural size */
    int64_t pe = rint_(-2, p.k);
    p.t_out = full - p.pad - pe + rint_(0, p.stride - 1);
    if (p.t_out < 1) p.t_out = 1;
    return p;
}

static void test_convtr1d(void) {
    for (int t = 0; t < n_impls; t++) {
        vx_convtr1d_params fixed[] = {
            {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0.0f},
            {512, 256, 1, 37, 37 * 8, 16, 8, 1, 4, 1, 0.1f},
            {4, 6, 2, 9, 19, 3, 2, 1, 0, 0, 0.0f},
        };
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
            test_convtr_one(impls[t]->convtr1d_f32, impls[t]->name, fixed[i], (int)i & 1);
        for (int r = 0; r < 120; r++)
            test_convtr_one(impls[t]->convtr1d_f32, impls[t]->name, rand_convtr(0), r & 1);
        for (int r = 0; r < 8; r++)
            test_convtr_one(impls[t]->convtr1d_f32, impls[t]->name, rand_convtr(1), r & 1);
    }
    for (int r = 0; r < 30; r++) test_convtr_one(ref_convtr_adapter, "ref", rand_convtr(0), r & 1);
}

/* ----------------------------------------------------------------- bench */

/* Thread CPU time: the machine is shared, so wall time overstates the cost. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void bench(void) {
    vx_conv1d_params p = {192, 192, 1, 20000, 20000, 3, 1, 1, 1, 20000, 20000, 0, 20000};
    float *x = rbuf(p.c_in * p.t_in), *w = rbuf(p.c_out * p.c_in * p.k), *b = rbuf(p.c_out);
    float *y = malloc((size_t)(p.c_out * p.t_out) * sizeof *y);
    for (int t = 0; t < n_impls; t++) {
        double best = 1e9;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = cpu_now();
            impls[t]->conv1d_f32(&p, x, w, NULL, b, y);
            double dt = cpu_now() - t0;
            if (dt < best) best = dt;
        }
        double flops = 2.0 * p.c_out * p.c_in * p.k * p.t_out;
        printf("bench %s conv1d 192->192 k=3 T=20000: %.1f ms, %.2f GFLOP/s\n", impls[t]->name,
               best * 1e3, flops / best * 1e-9);
        best = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = cpu_now();
            impls[t]->sgemm(0, 0, 512, 512, 512, 1.0f, x, 512, x + 512 * 512, 512, 0.0f, y, 512);
            double dt = cpu_now() - t0;
            if (dt < best) best = dt;
        }
        printf("bench %s sgemm 512^3: %.2f GFLOP/s\n", impls[t]->name,
               2.0 * 512 * 512 * 512 / best * 1e-9);
    }
    free(x);
    free(w);
    free(b);
    free(y);
}

int main(void) {
    collect_impls();
    test_sgemm();
    test_conv1d();
    test_convtr1d();
    const char *bn = getenv("VOX_BENCH");
    if (bn && *bn == '1') bench();
    TEST_SUMMARY();
}

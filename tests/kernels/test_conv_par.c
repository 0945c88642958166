/* Thread pool: chunk coverage (every index exactly once), sums over ranges, n = 0 / 1,
 * NULL pool, concurrent submitters, nested vx_tpool_for from inside a task (runs inline,
 * no deadlock), many small jobs in a row, and the parallel conv driver against the
 * scalar reference. */
#include "test.h"
#include "kernels/conv_par.h"
#include "vox.h"
#include <pthread.h>
#include <stdint.h>

typedef struct {
    int64_t n;
    unsigned char *hits;
    int64_t sum;
    int calls;
} cover_t;

static void cover_fn(void *arg, int64_t b, int64_t e) {
    cover_t *c = arg;
    int64_t s = 0;
    for (int64_t i = b; i < e; i++) {
        __atomic_fetch_add(&c->hits[i], 1, __ATOMIC_RELAXED);
        s += i;
    }
    __atomic_fetch_add(&c->sum, s, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->calls, 1, __ATOMIC_RELAXED);
}

static int run_cover(vx_tpool *p, int64_t n, int64_t chunks) {
    cover_t c = {n, calloc((size_t)(n > 0 ? n : 1), 1), 0, 0};
    if (chunks > 0)
        vx_tpool_for_chunks(p, n, chunks, cover_fn, &c);
    else
        vx_tpool_for(p, n, cover_fn, &c);
    int ok = c.sum == (n > 0 ? n * (n - 1) / 2 : 0);
    for (int64_t i = 0; i < n; i++) ok &= c.hits[i] == 1;
    if (n == 0) ok &= c.calls == 0;
    free(c.hits);
    return ok;
}

/* nested: each task calls vx_tpool_for on the same pool */
typedef struct {
    vx_tpool *p;
    int64_t total;
} nest_t;
static void inner_fn(void *arg, int64_t b, int64_t e) {
    __atomic_fetch_add((int64_t *)arg, e - b, __ATOMIC_RELAXED);
}
static void outer_fn(void *arg, int64_t b, int64_t e) {
    nest_t *t = arg;
    for (int64_t i = b; i < e; i++) {
        int64_t cnt = 0;
        vx_tpool_for(t->p, 100, inner_fn, &cnt);
        __atomic_fetch_add(&t->total, cnt, __ATOMIC_RELAXED);
    }
}

typedef struct {
    vx_tpool *p;
    int ok;
    int id;
} sub_t;
static void *submitter(void *arg) {
    sub_t *s = arg;
    s->ok = 1;
    for (int it = 0; it < 300; it++) s->ok &= run_cover(s->p, 1 + (it * 37 + s->id * 11) % 5000, 0);
    return NULL;
}

static float frand(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / (1 << 24) - 0.5f;
}

int main(void) {
    /* NULL pool runs inline as one call */
    CHECK(run_cover(NULL, 1000, 0));
    CHECK(run_cover(NULL, 0, 0));
    CHECK_EQ_INT(vx_tpool_threads(NULL), 1);

    for (int nt = 1; nt <= 4; nt++) {
        vx_tpool *p = vx_tpool_create(nt);
        CHECK(p != NULL);
        if (!p) continue;
        CHECK_EQ_INT(vx_tpool_threads(p), nt);
        CHECK(run_cover(p, 0, 0));
        CHECK(run_cover(p, 1, 0));
        CHECK(run_cover(p, 2, 0));
        CHECK(run_cover(p, 7, 3));
        CHECK(run_cover(p, 100000, 0));
        CHECK(run_cover(p, 100000, 100000)); /* clamped chunk count */
        CHECK(run_cover(p, 5, 1000));
        int ok = 1;
        for (int i = 0; i < 2000; i++) ok &= run_cover(p, 1 + i % 64, 0); /* back-to-back jobs */
        CHECK(ok);

        nest_t t = {p, 0};
        vx_tpool_for(p, 16, outer_fn, &t);
        CHECK_EQ_INT(t.total, 1600);

        sub_t s[3];
        pthread_t th[3];
        for (int i = 0; i < 3; i++) {
            s[i].p = p;
            s[i].id = i;
            pthread_create(&th[i], NULL, submitter, &s[i]);
        }
        for (int i = 0; i < 3; i++) {
            pthread_join(th[i], NULL);
            CHECK(s[i].ok);
        }
        vx_tpool_free(p);
    }
    vx_tpool *p0 = vx_tpool_create(0); /* all cores */
    CHECK(p0 && vx_tpool_threads(p0) >= 1);

    /* parallel conv driver vs the scalar reference */
    vx_conv1d_params cp = {.c_in = 24,
                           .c_out = 20,
                           .group = 1,
                           .t_in = 5000,
                           .t_out = 5000,
                           .k = 5,
                           .stride = 1,
                           .dilation = 3,
                           .pad = 6,
                           .ldx = 5000,
                           .ldy = 5003,
                           .t_begin = 37,
                           .t_end = 4990};
    uint32_t seed = 1;
    float *x = malloc(24 * 5000 * sizeof *x), *w = malloc(20 * 24 * 5 * sizeof *w),
          *b = malloc(20 * sizeof *b);
    float *y1 = calloc(20 * 5003, sizeof *y1), *y2 = calloc(20 * 5003, sizeof *y2);
    for (int i = 0; i < 24 * 5000; i++) x[i] = frand(&seed);
    for (int i = 0; i < 20 * 24 * 5; i++) w[i] = frand(&seed);
    for (int i = 0; i < 20; i++) b[i] = frand(&seed);
    const vx_kernels *k = vx_kernels_get();
    void *pk = NULL;
    if (k->conv1d_pack_bytes && k->conv1d_pack_bytes(&cp)) {
        pk = malloc(k->conv1d_pack_bytes(&cp));
        k->conv1d_pack(&cp, w, pk);
    }
    CHECK_EQ_INT(vx_par_conv1d(p0, k, &cp, x, w, pk, b, y1), 0);
    vx_conv1d_ref(&cp, x, w, b, y2);
    double e = 0;
    for (int i = 0; i < 20 * 5003; i++) {
        double d = fabs(y1[i] - y2[i]);
        if (!(d <= e)) e = d;
    }
    CHECKF(e < 1e-4, "par conv err %g", e);
    /* fused driver (LeakyReLU input + residual), when the table has one */
    const vx_kernels *f = k;
    if (f) {
        float *res = malloc(20 * 5003 * sizeof *res), *xl = malloc(24 * 5000 * sizeof *xl);
        for (int i = 0; i < 20 * 5003; i++) {
            res[i] = frand(&seed);
            y1[i] = y2[i] = 0;
        }
        for (int i = 0; i < 24 * 5000; i++) xl[i] = x[i] < 0 ? x[i] * 0.2f : x[i];
        vx_conv1d_fuse fu = {1, 0.2f, res, 5003, NULL, NULL};
        CHECK_EQ_INT(vx_par_conv1d_fused(p0, f, &cp, x, w, pk, b, &fu, y1), 0);
        vx_conv1d_ref(&cp, xl, w, b, y2);
        e = 0;
        for (int co = 0; co < 20; co++)
            for (int t = 37; t < 4990; t++) {
                double d = fabs(y1[co * 5003 + t] - (y2[co * 5003 + t] + res[co * 5003 + t]));
                if (!(d <= e)) e = d;
            }
        CHECKF(e < 1e-4, "par fused conv err %g", e);
        free(res);
        free(xl);
    }
    /* an output of >= 2M elements in aligned rows is written with non-temporal stores
     * (avx512, avx2): bit-identical to the same conv into a misaligned buffer (plain) */
    {
        int64_t C = 8, T = 262160;
        vx_conv1d_params q = {.c_in = C, .c_out = C, .group = 1, .t_in = T, .t_out = T, .k = 3,
                              .stride = 1, .dilation = 2, .pad = 2, .ldx = T, .ldy = T,
                              .t_begin = 0, .t_end = T};
        size_t nx = (size_t)(C * T);
        float *xq = malloc(nx * sizeof *xq), *wq = malloc((size_t)(C * C * 3) * sizeof *wq);
        float *ya = aligned_alloc(64, nx * sizeof *ya), *yu = malloc((nx + 16) * sizeof *yu);
        for (size_t i = 0; i < nx; i++) xq[i] = frand(&seed);
        for (int64_t i = 0; i < C * C * 3; i++) wq[i] = frand(&seed) * 0.3f;
        float *ym = (uintptr_t)yu % 64 ? yu : yu + 1; /* not 64-byte aligned */
        void *pq = malloc(k->conv1d_pack_bytes(&q) + 1);
        k->conv1d_pack(&q, wq, pq);
        vx_conv1d_fuse fq = {1, 0.1f, xq, T, NULL, NULL};
        CHECK_EQ_INT(vx_par_conv1d_fused(p0, k, &q, xq, wq, pq, b, &fq, ya), 0);
        CHECK_EQ_INT(vx_par_conv1d_fused(p0, k, &q, xq, wq, pq, b, &fq, ym), 0);
        CHECKF(!memcmp(ya, ym, nx * sizeof *ya), "%s: large conv, aligned vs misaligned output",
               k->name);
        free(xq);
        free(wq);
        free(ya);
        free(yu);
        free(pq);
    }
    /* in-place residual conv vs the out-of-place fused driver: bit-identical, for
     * several shapes (T below / above the tile, odd T, dilations, asymmetric pads,
     * groups) and pool sizes; refused shapes leave x alone */
    if (f) {
        static const struct {
            int64_t c, g, t, k, d, pad;
        } cs[] = {
            {32, 1, 379, 7, 12, 36}, {32, 1, 5003, 3, 1, 1},   {16, 1, 9000, 5, 6, 12},
            {8, 2, 4100, 7, 3, 2},   {24, 1, 2049, 11, 5, 25}, {4, 4, 1, 3, 1, 1},
            {12, 1, 6000, 3, 2, 4},  {64, 1, 1025, 3, 3, 3},
        };
        for (int nt = 1; nt <= 3; nt++) {
            vx_tpool *pp = vx_tpool_create(nt);
            for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) {
                int64_t C = cs[ci].c, T = cs[ci].t, K = cs[ci].k;
                vx_conv1d_params q = {.c_in = C,
                                      .c_out = C,
                                      .group = cs[ci].g,
                                      .t_in = T,
                                      .t_out = T,
                                      .k = K,
                                      .stride = 1,
                                      .dilation = cs[ci].d,
                                      .pad = cs[ci].pad,
                                      .ldx = T,
                                      .ldy = T,
                                      .t_begin = 0,
                                      .t_end = T};
                CHECK(vx_conv1d_inplace_ok(&q));
                size_t nx = (size_t)(C * T), nw = (size_t)(C * (C / cs[ci].g) * K);
                float *xi = malloc(nx * sizeof *xi), *xo = malloc(nx * sizeof *xo),
                      *wi = malloc(nw * sizeof *wi), *bi = malloc((size_t)C * sizeof *bi);
                for (size_t i = 0; i < nx; i++) xi[i] = frand(&seed);
                for (size_t i = 0; i < nw; i++) wi[i] = frand(&seed) * 0.3f;
                for (int64_t i = 0; i < C; i++) bi[i] = frand(&seed);
                void *wq = malloc(k->conv1d_pack_bytes(&q) + 1);
                k->conv1d_pack(&q, wi, wq);
                vx_conv1d_fuse fo = {1, 0.1f, xi, T, NULL, NULL};
                CHECK_EQ_INT(vx_par_conv1d_fused(pp, f, &q, xi, wi, wq, bi, &fo, xo), 0);
                CHECK_EQ_INT(vx_par_conv1d_inplace(pp, f, &q, wi, wq, bi, 1, 0.1f, xi), 0);
                size_t bad = 0;
                for (size_t i = 0; i < nx; i++) bad += memcmp(&xi[i], &xo[i], sizeof *xi) != 0;
                CHECKF(bad == 0, "in-place conv case %zu threads %d: %zu of %zu outputs differ", ci,
                       nt, bad, nx);
                free(xi);
                free(xo);
                free(wi);
                free(bi);
                free(wq);
            }
            vx_tpool_free(pp);
        }
        vx_conv1d_params no = cp;
        no.c_out = no.c_in;
        no.ldy = no.ldx;
        no.t_begin = 0;
        no.t_end = no.t_out;
        CHECK(vx_conv1d_inplace_ok(&no));
        vx_conv1d_params bad = no;
        bad.stride = 2;
        CHECK(!vx_conv1d_inplace_ok(&bad));
        bad = no;
        bad.t_begin = 1;
        CHECK(!vx_conv1d_inplace_ok(&bad));
        bad = no;
        bad.pad = (bad.k - 1) * bad.dilation + 1;
        CHECK(!vx_conv1d_inplace_ok(&bad));
        bad = no;
        bad.c_out = no.c_in + 1;
        CHECK(!vx_conv1d_inplace_ok(&bad));
        float before = x[100];
        bad = no;
        bad.stride = 2;
        CHECK_EQ_INT(vx_par_conv1d_inplace(p0, f, &bad, w, NULL, b, 0, 0.0f, x), VOX_ERR_ARG);
        CHECK(x[100] == before);
    }
    /* convtr driver (Piper-like upsampling 24 -> 20, k 16, stride 8, pad 4) */
    {
        vx_convtr1d_params tp = {.c_in = 24,
                                 .c_out = 20,
                                 .group = 1,
                                 .t_in = 700,
                                 .t_out = 5600,
                                 .k = 16,
                                 .stride = 8,
                                 .dilation = 1,
                                 .pad = 4};
        float *wt = malloc(24 * 20 * 16 * sizeof *wt), *t1 = malloc(20 * 5600 * sizeof *t1),
              *t2 = malloc(20 * 5600 * sizeof *t2);
        for (int i = 0; i < 24 * 20 * 16; i++) wt[i] = frand(&seed);
        void *tpk = NULL;
        if (f && f->convtr1d_pack_bytes(&tp)) {
            tpk = malloc(f->convtr1d_pack_bytes(&tp));
            f->convtr1d_pack(&tp, wt, tpk);
        }
        CHECK_EQ_INT(vx_par_convtr1d(p0, k, f, &tp, x, wt, tpk, b, t1), 0);
        vx_convtr1d_ref(&tp, x, wt, b, t2);
        e = 0;
        for (int i = 0; i < 20 * 5600; i++) {
            double d = fabs(t1[i] - t2[i]);
            if (!(d <= e)) e = d;
        }
        CHECKF(e < 1e-4, "par convtr err %g", e);
        free(wt);
        free(t1);
        free(t2);
        free(tpk);
    }
    free(x);
    free(w);
    free(b);
    free(y1);
    free(y2);
    free(pk);
    vx_tpool_free(p0);
    TEST_SUMMARY();
}

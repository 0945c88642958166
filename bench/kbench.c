/* Kernel micro-benchmark: GFLOP/s of every available kernel table on the shapes that
 * dominate Piper's decoder, single-threaded, and conv1d through the thread pool.
 * Built by bench/run.sh against the build's libvoxcore.a (not part of the test suite). */
#include "kernels/conv_par.h"
#include "kernels/kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Single-thread figures use this thread's CPU time (robust on a shared, busy machine);
 * the pool figures need wall time. */
static clockid_t clk = CLOCK_THREAD_CPUTIME_ID;
static double now(void) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static float *rbuf(size_t n) {
    float *b = malloc(n * sizeof *b);
    for (size_t i = 0; i < n; i++) b[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
    return b;
}

/* best-of time of fn over ~min_s seconds */
#define BEST(expr, out)                                                                            \
    do {                                                                                           \
        double _b = 1e30, _t0 = now();                                                             \
        int _n = 0;                                                                                \
        while (_n < 3 || (now() - _t0 < 0.6 && _n < 200)) {                                        \
            double _s = now();                                                                     \
            expr;                                                                                  \
            double _d = now() - _s;                                                                \
            if (_d < _b) _b = _d;                                                                  \
            _n++;                                                                                  \
        }                                                                                          \
        out = _b;                                                                                  \
    } while (0)

static void conv_case(const vx_kernels *k, vx_tpool *pool, const char *label, int64_t ci,
                      int64_t co, int64_t kk, int64_t d, int64_t T) {
    vx_conv1d_params p = {.c_in = ci,
                          .c_out = co,
                          .group = 1,
                          .t_in = T,
                          .t_out = T,
                          .k = kk,
                          .stride = 1,
                          .dilation = d,
                          .pad = (kk - 1) * d / 2,
                          .ldx = T,
                          .ldy = T,
                          .t_begin = 0,
                          .t_end = T};
    float *x = rbuf((size_t)(ci * T)), *w = rbuf((size_t)(ci * co * kk)), *b = rbuf((size_t)co);
    float *y = malloc((size_t)(co * T) * sizeof *y);
    void *pk = NULL;
    if (k->conv1d_pack_bytes && k->conv1d_pack_bytes(&p)) {
        pk = malloc(k->conv1d_pack_bytes(&p));
        k->conv1d_pack(&p, w, pk);
    }
    double flop = 2.0 * ci * co * kk * T, t1, tp;
    BEST(k->conv1d_f32(&p, x, w, pk, b, y), t1);
    clk = CLOCK_MONOTONIC;
    BEST(vx_par_conv1d(pool, k, &p, x, w, pk, b, y), tp);
    clk = CLOCK_THREAD_CPUTIME_ID;
    printf("%-8s %-34s %8.1f GFLOP/s  (%7.2f ms)   pool(%d, wall): %8.1f GFLOP/s\n", k->name, label,
           flop / t1 * 1e-9, t1 * 1e3, vx_tpool_threads(pool), flop / tp * 1e-9);
    free(x);
    free(w);
    free(b);
    free(y);
    free(pk);
}

int main(int argc, char **argv) {
    const char *names[] = {"scalar", "avx2", "avx512", "neon"};
    vx_tpool *pool = vx_tpool_create(argc > 1 ? atoi(argv[1]) : 0);
    for (int i = 0; i < 4; i++) {
        const vx_kernels *k = vx_kernels_by_name(names[i]);
        if (!k) continue;
        int64_t n = 512;
        float *a = rbuf((size_t)(n * n)), *b = rbuf((size_t)(n * n)), *c = rbuf((size_t)(n * n));
        double t;
        BEST(k->sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n), t);
        printf("%-8s %-34s %8.1f GFLOP/s  (%7.2f ms)\n", k->name, "sgemm 512x512x512",
               2.0 * n * n * n / t * 1e-9, t * 1e3);
        free(a);
        free(b);
        free(c);
        conv_case(k, pool, "conv1d 192->192 k3 T=20000", 192, 192, 3, 1, 20000);
        conv_case(k, pool, "conv1d 32->32 k7 d5 T=200000", 32, 32, 7, 5, 200000);
        conv_case(k, pool, "conv1d 512->512 k3 d1 T=8000", 512, 512, 3, 1, 8000);
        conv_case(k, pool, "conv1d 128->128 k11 d5 T=40000", 128, 128, 11, 5, 40000);
        conv_case(k, pool, "conv1d 32->1 k7 T=200000", 32, 1, 7, 1, 200000);
        const vx_kernels *f = k;
        vx_convtr1d_params tp = {.c_in = 512,
                                 .c_out = 256,
                                 .group = 1,
                                 .t_in = 1000,
                                 .t_out = 8000,
                                 .k = 16,
                                 .stride = 8,
                                 .dilation = 1,
                                 .pad = 4};
        float *x = rbuf(512 * 1000), *w = rbuf(512 * 256 * 16), *y = malloc(256 * 8000 * sizeof *y);
        BEST(k->convtr1d_f32(&tp, x, w, NULL, y), t);
        printf("%-8s %-34s %8.1f GFLOP/s  (%7.2f ms)\n", k->name, "convtr1d 512->256 k16 s8 T=1000",
               2.0 * 512 * 256 * 16 * 1000 / t * 1e-9, t * 1e3);
        if (f) {
            void *pk = malloc(f->convtr1d_pack_bytes(&tp));
            f->convtr1d_pack(&tp, w, pk);
            BEST(f->convtr1d_range_f32(&tp, x, w, pk, NULL, 0, tp.t_out, y), t);
            printf("%-8s %-34s %8.1f GFLOP/s  (%7.2f ms)\n", k->name, "  same, pre-packed",
                   2.0 * 512 * 256 * 16 * 1000 / t * 1e-9, t * 1e3);
            free(pk);
        }
        free(x);
        free(w);
        free(y);
    }
    vx_tpool_free(pool);
    return 0;
}

/* Reduced-precision kernel micro-benchmark: single-thread GFLOP/s of the FP32 kernel of
 * the active table and of every bf16 / int8 implementation this CPU has, on the shapes of
 * Piper's frame-level half (decoder resblocks, upsampling ConvTranspose, flow 1x1 / WaveNet
 * convs), with the ratio to FP32 measured in the same run. int8 counts 2 ops per MAC like
 * the others. Built by bench/run.sh against libvoxcore.a; args: [min seconds per case]. */
#include "kernels/kernels.h"
#include "kernels/lowp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* robust on a shared machine */
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static float *rbuf(size_t n) {
    float *b = malloc(n * sizeof *b);
    for (size_t i = 0; i < n; i++) b[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
    return b;
}
static double min_s = 0.4;
#define BEST(expr, out)                                                                            \
    do {                                                                                           \
        double _b = 1e30, _t0 = now();                                                             \
        int _n = 0;                                                                                \
        while (_n < 3 || (now() - _t0 < min_s && _n < 200)) {                                      \
            double _s = now();                                                                     \
            expr;                                                                                  \
            double _d = now() - _s;                                                                \
            if (_d < _b) _b = _d;                                                                  \
            _n++;                                                                                  \
        }                                                                                          \
        out = _b;                                                                                  \
    } while (0)

static const char *impls[] = {"bf16-emul", "bf16-avx512", "int8-emul", "int8-vnni", "int8-avxvnni"};

static void conv_case(const char *label, int64_t ci, int64_t co, int64_t kk, int64_t d, int64_t T,
                      int leaky) {
    const vx_kernels *k = vx_kernels_get();
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
    vx_conv1d_fuse fu = {leaky, 0.1f, NULL, 0, NULL, NULL};
    void *pk = NULL;
    if (k->conv1d_pack_bytes && k->conv1d_pack_bytes(&p)) {
        pk = malloc(k->conv1d_pack_bytes(&p));
        k->conv1d_pack(&p, w, pk);
    }
    double flop = 2.0 * ci * co * kk * T, t32;
    BEST(k->conv1d_fused_f32(&p, x, w, pk, b, &fu, y), t32);
    printf("%-36s fp32 (%s) %7.1f GFLOP/s", label, k->name, flop / t32 * 1e-9);
    for (size_t i = 0; i < sizeof impls / sizeof *impls; i++) {
        const vx_lowp_kernels *lk = vx_lowp_by_name(impls[i]);
        if (!lk || (strstr(impls[i], "emul") && getenv("LOWP_BENCH_EMUL") == NULL)) continue;
        void *lp = malloc(vx_lowp_pack_bytes(lk->fmt, &p));
        vx_lowp_pack(lk->fmt, &p, w, lp);
        double t;
        BEST(vx_lowp_conv1d(lk, &p, x, lp, b, &fu, y), t);
        printf(" | %s %7.1f (%.2fx)", lk->name, flop / t * 1e-9, t32 / t);
        free(lp);
    }
    printf("\n");
    free(x);
    free(w);
    free(b);
    free(y);
    free(pk);
}

static void convtr_case(const char *label, int64_t ci, int64_t co, int64_t kk, int64_t s,
                        int64_t pad, int64_t T) {
    const vx_kernels *k = vx_kernels_get();
    vx_convtr1d_params p = {.c_in = ci,
                            .c_out = co,
                            .group = 1,
                            .t_in = T,
                            .t_out = (T - 1) * s + kk - 2 * pad,
                            .k = kk,
                            .stride = s,
                            .dilation = 1,
                            .pad = pad};
    float *x = rbuf((size_t)(ci * T)), *w = rbuf((size_t)(ci * co * kk));
    float *y = malloc((size_t)(co * p.t_out) * sizeof *y);
    double flop = 2.0 * ci * co * kk * T, t32;
    if (k->convtr1d_pack_bytes(&p)) {
        void *pk = malloc(k->convtr1d_pack_bytes(&p));
        k->convtr1d_pack(&p, w, pk);
        BEST(k->convtr1d_range_f32(&p, x, w, pk, NULL, 0, p.t_out, y), t32);
        free(pk);
    } else {
        BEST(k->convtr1d_f32(&p, x, w, NULL, y), t32);
    }
    printf("%-36s fp32 (%s) %7.1f GFLOP/s", label, k->name, flop / t32 * 1e-9);
    for (size_t i = 0; i < sizeof impls / sizeof *impls; i++) {
        const vx_lowp_kernels *lk = vx_lowp_by_name(impls[i]);
        if (!lk || (strstr(impls[i], "emul") && getenv("LOWP_BENCH_EMUL") == NULL)) continue;
        void *lp = malloc(vx_lowp_convtr_pack_bytes(lk->fmt, &p));
        vx_lowp_convtr_pack(lk->fmt, &p, w, lp);
        double t;
        BEST(vx_lowp_convtr1d_range(lk, &p, x, lp, NULL, 0, p.t_out, y), t);
        printf(" | %s %7.1f (%.2fx)", lk->name, flop / t * 1e-9, t32 / t);
        free(lp);
    }
    printf("\n");
    free(x);
    free(w);
    free(y);
}

int main(int argc, char **argv) {
    if (argc > 1) min_s = atof(argv[1]);
    printf("paths on this CPU:");
    for (size_t i = 0; i < sizeof impls / sizeof *impls; i++)
        printf(" %s=%s", impls[i], vx_lowp_by_name(impls[i]) ? "yes" : "no");
    printf(" (AMX: not implemented)\n");
    /* medium decoder: 512 -> 256 -> 128 -> 64 channels over x8 x8 x2 x2 upsampling */
    convtr_case("convtr 512->256 k16 s8 T=400", 512, 256, 16, 8, 4, 400);
    conv_case("resblock 256->256 k3 d3 T=3200", 256, 256, 3, 3, 3200, 1);
    conv_case("resblock 256->256 k7 d1 T=3200", 256, 256, 7, 1, 3200, 1);
    conv_case("resblock 128->128 k11 d5 T=25600", 128, 128, 11, 5, 25600, 1);
    conv_case("resblock 64->64 k7 d3 T=51200", 64, 64, 7, 3, 51200, 1);
    conv_case("resblock 32->32 k3 d1 T=102400", 32, 32, 3, 1, 102400, 1);
    conv_case("conv_post 32->1 k7 T=102400", 32, 1, 7, 1, 102400, 1);
    conv_case("conv_pre 192->512 k7 T=400", 192, 512, 7, 1, 400, 0);
    conv_case("flow wavenet 192->384 k5 T=400", 192, 384, 5, 1, 400, 0);
    conv_case("flow 1x1 192->192 T=400", 192, 192, 1, 1, 400, 0);
    return 0;
}

/* Measured arithmetic peak of one core, so the bench divides by what this CPU does rather
 * than by a figure from a data sheet (virtual machines of one kind run at different clocks:
 * the Zen 5 machines here measured 210-219 GFLOP/s FP32 where 273 was assumed).
 *   peak  ->  "fp32=212.4 bf16=391.0"   (GFLOP/s, one thread; a path the CPU lacks: 0)
 * fp32: independent FMA chains on the widest vectors the CPU has (AVX-512, else AVX2+FMA,
 * NEON on arm64); bf16: VDPBF16PS chains (AVX512-BF16), 4 FLOP per bf16 pair. Twelve
 * accumulators hide the latency on every core we know; best of 7 trials of thread CPU time. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#define CHAINS 12
#define ITERS  8000000L
/* the chains written out: an array indexed in a loop may stay in memory at -O2 */
#define EACH(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11)

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef double (*loop_fn)(float *sink); /* returns FLOP done */

/* LOOP(VEC, INIT, STEP, SUM): twelve named accumulators of type VEC set to INIT(j), ITERS
 * rounds of STEP on each, their lanes summed with SUM into *sink. */
#define DECL(j) acc##j = INIT(j),
#define LOOP(VEC, STEP, SUM)                                                                       \
    VEC EACH(DECL) unused_ = INIT(0);                                                              \
    (void)unused_;                                                                                 \
    for (long i = 0; i < ITERS; i++) {                                                             \
        EACH(STEP)                                                                                 \
    }                                                                                              \
    float s = 0;                                                                                   \
    EACH(SUM)                                                                                      \
    *sink += s;

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static double fma512(float *sink) {
    __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
#define INIT(j)  _mm512_set1_ps((float)(j))
#define STEP(j) acc##j = _mm512_fmadd_ps(x, y, acc##j);
#define SUM(j)  s += _mm512_reduce_add_ps(acc##j);
    LOOP(__m512, STEP, SUM)
#undef INIT
#undef STEP
#undef SUM
    return (double)ITERS * CHAINS * 16 * 2;
}
__attribute__((target("avx2,fma"))) static float hsum256(__m256 v) {
    float e[8], s = 0;
    _mm256_storeu_ps(e, v);
    for (int i = 0; i < 8; i++) s += e[i];
    return s;
}
__attribute__((target("avx2,fma"))) static double fma256(float *sink) {
    __m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.9999999f);
#define INIT(j)  _mm256_set1_ps((float)(j))
#define STEP(j) acc##j = _mm256_fmadd_ps(x, y, acc##j);
#define SUM(j)  s += hsum256(acc##j);
    LOOP(__m256, STEP, SUM)
#undef INIT
#undef STEP
#undef SUM
    return (double)ITERS * CHAINS * 8 * 2;
}
__attribute__((target("avx512f,avx512bf16"))) static double dpbf16(float *sink) {
    __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3f80);
#define INIT(j)  _mm512_setzero_ps()
#define STEP(j) acc##j = _mm512_dpbf16_ps(acc##j, a, b);
#define SUM(j)  s += _mm512_reduce_add_ps(acc##j);
    LOOP(__m512, STEP, SUM)
#undef INIT
#undef STEP
#undef SUM
    return (double)ITERS * CHAINS * 16 * 4;
}
#elif defined(__aarch64__)
static double fma128(float *sink) {
    float32x4_t x = vdupq_n_f32(1.0000001f), y = vdupq_n_f32(0.9999999f);
#define INIT(j)  vdupq_n_f32((float)(j))
#define STEP(j) acc##j = vfmaq_f32(acc##j, x, y);
#define SUM(j)  s += vaddvq_f32(acc##j);
    LOOP(float32x4_t, STEP, SUM)
#undef INIT
#undef STEP
#undef SUM
    return (double)ITERS * CHAINS * 4 * 2;
}
#endif

static double best_gflops(loop_fn f, float *sink) {
    double best = 0;
    for (int t = 0; t < 7; t++) {
        double t0 = cpu_now(), flop = f(sink), dt = cpu_now() - t0;
        if (dt > 0 && flop / dt > best) best = flop / dt;
    }
    return best * 1e-9;
}

int main(void) {
    float sink = 0;
    double fp32 = 0, bf16 = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        fp32 = best_gflops(fma512, &sink);
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        fp32 = best_gflops(fma256, &sink);
    if (__builtin_cpu_supports("avx512bf16")) bf16 = best_gflops(dpbf16, &sink);
#elif defined(__aarch64__)
    fp32 = best_gflops(fma128, &sink);
#endif
    printf("fp32=%.1f bf16=%.1f\n", fp32, bf16);
    return sink == 12345.0f; /* keeps the sums alive */
}

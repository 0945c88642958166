/* Streaming resampler (src/audio/resample.h): a sine through 22050 → 24000/48000/8000/16000
 * comes out as the same sine (SNR against a least-squares fitted ideal sine), tones above the
 * new Nyquist are suppressed (aliasing), chunked and one-shot conversion agree sample for
 * sample (no clicks at chunk edges), lengths are in * ratio, bad arguments are refused. */
#include "test.h"
#include "audio/resample.h"
#include <stdint.h>

static float *sine(int rate, double hz, size_t n, double amp) {
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = (float)(amp * sin(2 * M_PI * hz * i / rate + 0.3));
    return x;
}

/* Resample all of x with chunks of pseudo-random sizes up to chunk_max (0 = one push). */
static float *run(int in_rate, int out_rate, const float *x, size_t n, size_t chunk_max,
                  size_t *out_n) {
    char err[200];
    vx_resampler *r = vx_resampler_create(in_rate, out_rate, 1, VX_RESAMPLE_HQ, err, sizeof err);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    size_t cap = (size_t)((double)n * out_rate / in_rate) + 4096, got = 0;
    float *y = malloc(cap * sizeof(float));
    uint32_t seed = 7;
    const float *o;
    size_t k;
    for (size_t i = 0; i < n;) {
        seed = seed * 1103515245u + 12345u;
        size_t c = chunk_max ? 1 + (seed >> 8) % chunk_max : n;
        if (c > n - i) c = n - i;
        if (vx_resampler_push(r, x + i, c, &o, &k)) {
            free(y);
            vx_resampler_free(r);
            return NULL;
        }
        if (got + k > cap) {
            free(y);
            vx_resampler_free(r);
            return NULL;
        }
        memcpy(y + got, o, k * sizeof(float));
        got += k;
        i += c;
    }
    if (vx_resampler_finish(r, &o, &k) || got + k > cap) {
        free(y);
        vx_resampler_free(r);
        return NULL;
    }
    memcpy(y + got, o, k * sizeof(float));
    got += k;
    CHECK(vx_resampler_push(r, x, 1, &o, &k) == -1); /* after finish */
    vx_resampler_free(r);
    *out_n = got;
    return y;
}

/* SNR (dB) of y[a..b) against the best-fitting sine of frequency hz at rate. */
static double sine_snr(const float *y, size_t a, size_t b, int rate, double hz) {
    double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
    for (size_t i = a; i < b; i++) {
        double s = sin(2 * M_PI * hz * i / rate), c = cos(2 * M_PI * hz * i / rate);
        ss += s * s;
        cc += c * c;
        sc += s * c;
        ys += y[i] * s;
        yc += y[i] * c;
    }
    double det = ss * cc - sc * sc;
    double A = (ys * cc - yc * sc) / det, B = (yc * ss - ys * sc) / det;
    double sig = 0, noise = 0;
    for (size_t i = a; i < b; i++) {
        double fit = A * sin(2 * M_PI * hz * i / rate) + B * cos(2 * M_PI * hz * i / rate);
        sig += fit * fit;
        noise += (y[i] - fit) * (y[i] - fit);
    }
    return 10 * log10(sig / (noise > 1e-30 ? noise : 1e-30));
}

static double rms(const float *y, size_t a, size_t b) {
    double s = 0;
    for (size_t i = a; i < b; i++) s += (double)y[i] * y[i];
    return sqrt(s / (double)(b - a));
}

static void check_rate(int out_rate, double hz) {
    size_t n = 22050 * 2;
    float *x = sine(22050, hz, n, 0.5);
    size_t n1 = 0, n2 = 0;
    float *one = run(22050, out_rate, x, n, 0, &n1);
    float *chunked = run(22050, out_rate, x, n, 700, &n2);
    CHECK(one && chunked);
    if (!one || !chunked) goto out;
    long want = lround((double)n * out_rate / 22050);
    CHECKF(labs((long)n1 - want) <= 1, "22050->%d: %zu frames, want %ld", out_rate, n1, want);
    CHECK_EQ_INT(n1, n2);
    /* chunk edges: the streamed output is the one-shot output */
    double maxd = 0;
    for (size_t i = 0; i < n1 && i < n2; i++)
        if (fabs(one[i] - chunked[i]) > maxd) maxd = fabs(one[i] - chunked[i]);
    CHECKF(maxd < 1e-6, "22050->%d: chunked differs from one-shot by %g", out_rate, maxd);
    /* a clean sine in the middle (away from the start/end transients) */
    size_t a = n1 / 10, b = n1 - n1 / 10;
    double snr = sine_snr(chunked, a, b, out_rate, hz);
    /* the output's phase must match the input (filter delay compensated): compare directly */
    double err = 0;
    for (size_t i = a; i < b; i++) {
        double ideal = 0.5 * sin(2 * M_PI * hz * i / out_rate + 0.3);
        if (fabs(chunked[i] - ideal) > err) err = fabs(chunked[i] - ideal);
    }
    printf("22050 -> %5d Hz, %6.0f Hz sine: SNR %.1f dB, max error vs ideal %.2e, frames %zu\n",
           out_rate, hz, snr, err, n1);
    CHECKF(snr > 90, "22050->%d %g Hz: SNR %.1f dB", out_rate, hz, snr);
    CHECKF(err < 1e-3, "22050->%d: max error against the time-aligned ideal sine %g", out_rate,
           err);
    /* continuity: no sample-to-sample jump bigger than the sine's own steepest step */
    double maxstep = 0, bound = 0.5 * 2 * M_PI * hz / out_rate * 1.01 + 1e-4;
    for (size_t i = a + 1; i < b; i++)
        if (fabs(chunked[i] - chunked[i - 1]) > maxstep)
            maxstep = fabs(chunked[i] - chunked[i - 1]);
    CHECKF(maxstep <= bound, "22050->%d: step %g > %g (a click)", out_rate, maxstep, bound);
out:
    free(x);
    free(one);
    free(chunked);
}

/* A tone above the output Nyquist must not alias into the band. */
static void check_alias(int out_rate, double hz) {
    size_t n = 22050 * 2, m = 0;
    float *x = sine(22050, hz, n, 0.5);
    float *y = run(22050, out_rate, x, n, 512, &m);
    CHECK(y != NULL);
    if (y) {
        double db = 20 * log10(rms(y, m / 10, m - m / 10) / (0.5 / sqrt(2)) + 1e-12);
        printf("22050 -> %5d Hz, %6.0f Hz tone (above Nyquist %d): %.1f dB\n", out_rate, hz,
               out_rate / 2, db);
        CHECKF(db < -90, "22050->%d: %g Hz leaks at %.1f dB", out_rate, hz, db);
    }
    free(x);
    free(y);
}

int main(void) {
    check_rate(24000, 1000);
    check_rate(48000, 1000);
    check_rate(48000, 9000);
    check_rate(8000, 1000);
    check_rate(8000, 3000); /* inside the 8 kHz passband (0.913 * 4000 Hz) */
    check_rate(16000, 440);
    check_alias(8000, 6000);
    check_alias(16000, 9500);

    /* stereo keeps the channels apart */
    char err[200];
    vx_resampler *r = vx_resampler_create(22050, 24000, 2, VX_RESAMPLE_HQ, err, sizeof err);
    CHECK(r != NULL);
    if (r) {
        size_t n = 22050;
        float *x = malloc(n * 2 * sizeof(float));
        for (size_t i = 0; i < n; i++) {
            x[2 * i] = 0.5f * sinf(i * 0.1f);
            x[2 * i + 1] = 0;
        }
        const float *o;
        size_t k, tot = 0;
        double right = 0;
        for (int pass = 0; pass < 2; pass++) {
            int rc = pass ? vx_resampler_finish(r, &o, &k) : vx_resampler_push(r, x, n, &o, &k);
            CHECK(rc == 0);
            for (size_t i = 0; i < k; i++) right += fabs(o[2 * i + 1]);
            tot += k;
        }
        CHECKF(labs((long)tot - 24000) <= 1, "stereo: %zu frames", tot);
        CHECKF(right < 1e-3, "stereo: %g leaked into the silent channel", right);
        free(x);
        vx_resampler_free(r);
    }

    /* bad arguments: a clear error, no object */
    CHECK(vx_resampler_create(7999, 24000, 1, VX_RESAMPLE_HQ, err, sizeof err) == NULL);
    CHECK(strstr(err, "8000 to 48000") != NULL);
    CHECK(vx_resampler_create(22050, 48001, 1, VX_RESAMPLE_HQ, err, sizeof err) == NULL);
    CHECK(vx_resampler_create(22050, 24000, 0, VX_RESAMPLE_HQ, err, sizeof err) == NULL);
    CHECK(strstr(err, "channels") != NULL);
    CHECK(vx_resampler_create(22050, 24000, 3, VX_RESAMPLE_HQ, err, sizeof err) == NULL);
    TEST_SUMMARY();
}

/* Elementwise float math of the SIMD kernel template (kernels/simd_tmpl.h includes this
 * once, inside the same SFX() instance): exp, tanh, sigmoid, erf, softmax, ln and
 * Box-Muller normals. Branch-free scalar loops that the compiler vectorizes with the
 * including file's target flags; each has a scalar reference in kernels/scalar.c and a
 * test in tests/kernels/test_simd_kernels.c. Not a standalone header. */
/* ------------------------------------------------------- tanh / sigmoid (float) */

/* Branch-free scalar code the compiler vectorizes with this file's target flags.
 * e^x for x in [-87.3, 88.7]: x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial, 2^n
 * put into the exponent bits. Max error about 1.5 ulp. */
static inline float SFX(ew_exp)(float x) {
    x = x > -87.3f ? x : -87.3f; /* NaN -> -87.3: no UB below */
    x = x < 88.7f ? x : 88.7f;
    const float big = 12582912.0f; /* 1.5 * 2^23: round to int */
    float n = (x * 1.44269504088896341f + big) - big;
    float r = x - n * 0.693359375f; /* ln2 split hi/lo */
    r = r - n * -2.12194440e-4f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    union {
        float f;
        int32_t i;
    } u;
    u.i = ((int32_t)n + 127) * (1 << 23);
    return p * u.f;
}

/* tanh: odd polynomial (Taylor through x^15) for |x| < 0.5, else
 * 1 - 2 / (e^(2|x|) + 1) with the sign put back. Error within about 2 ulp. */
static void SFX(tanh_block)(const float *restrict x, float *restrict y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i], a = v < 0.0f ? -v : v;
        float a2 = a < 9.0f ? a : 9.0f;
        float e = SFX(ew_exp)(2.0f * a2);
        float big = 1.0f - 2.0f / (e + 1.0f);
        float z = v * v;
        float q = -929569.0f / 638512875.0f;
        q = q * z + 21844.0f / 6081075.0f;
        q = q * z + -1382.0f / 155925.0f;
        q = q * z + 62.0f / 2835.0f;
        q = q * z + -17.0f / 315.0f;
        q = q * z + 2.0f / 15.0f;
        q = q * z + -1.0f / 3.0f;
        float small = v + v * z * q;
        float r = v < 0.0f ? -big : big;
        y[i] = a < 0.5f ? small : v == v ? r : v; /* NaN passes through */
    }
}

/* sigmoid: 1 / (1 + e^-x); e^-x saturates for x < -87.3 (result about 1e-38). */
static void SFX(sigmoid_block)(const float *restrict x, float *restrict y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i], r = 1.0f / (1.0f + SFX(ew_exp)(-v));
        y[i] = v == v ? r : v; /* NaN passes through */
    }
}

/* erf, branch-free (both forms computed, one kept; odd, so on |x| with the sign put
 * back). Coefficients fitted for vox (weighted least squares on Chebyshev nodes against
 * double erf/erfc, scripts/fit_erf.py):
 *   |x| < 1:          x * P(2x^2 - 1), P of degree 6   (relative error 1.2e-9 in double)
 *   1 <= |x| < 3.92:  1 - e^(-x^2) * Q(s), s = (2|x| - 4.92) / 2.92, Q of degree 11
 *                     (erfc e^(x^2) to 1.4e-7 relative; erfc <= 0.16 there, so erf to
 *                     ~3e-8 relative)
 *   |x| >= 3.92:      1 (erfc < 2.6e-8, below half an ulp of 1).
 * Within a few ulp of the correctly rounded result (tests/kernels/test_simd_kernels.c). */
static void SFX(erf_block)(const float *restrict x, float *restrict y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i], a = v < 0.0f ? -v : v;
        float u = 2.0f * a * a - 1.0f;
        float p = 1.2261361e-06f;
        p = p * u + -1.7668786e-05f;
        p = p * u + 2.1752024e-04f;
        p = p * u + -2.2854200e-03f;
        p = p * u + 1.9852495e-02f;
        p = p * u + -1.4053610e-01f;
        p = p * u + 9.6546876e-01f;
        float small = a * p;
        float ac = a < 3.92f ? a : 3.92f;
        float s = ac * (2.0f / 2.92f) - 4.92f / 2.92f;
        float q = -2.7355622e-05f;
        q = q * s + 8.0217716e-05f;
        q = q * s + -1.3463177e-04f;
        q = q * s + 3.3065496e-04f;
        q = q * s + -9.0920168e-04f;
        q = q * s + 2.2273138e-03f;
        q = q * s + -5.2167433e-03f;
        q = q * s + 1.1895923e-02f;
        q = q * s + -2.6167544e-02f;
        q = q * s + 5.5256397e-02f;
        q = q * s + -1.1151692e-01f;
        q = q * s + 2.1382067e-01f;
        float big = 1.0f - SFX(ew_exp)(-ac * ac) * q;
        float r = a < 1.0f ? small : a < 3.92f ? big : 1.0f;
        r = v < 0.0f ? -r : r;
        y[i] = v == v ? r : v; /* NaN passes through */
    }
}

/* ln x for normal x in (0, 1]: x = 2^e m with m in [sqrt(1/2), sqrt(2)), ln m =
 * 2 atanh(f), f = (m - 1) / (m + 1), |f| <= 0.172, odd series through f^9 (truncation
 * 3.6e-10 relative). */
static inline float SFX(ew_log01)(float x) {
    union {
        float f;
        int32_t i;
    } u = {x};
    int32_t e = ((u.i >> 23) & 0xff) - 127;
    u.i = (u.i & 0x007fffff) | 0x3f800000;
    float m = u.f;
    int big = m > 1.41421356f;
    m = big ? m * 0.5f : m;
    e = big ? e + 1 : e;
    float f = (m - 1.0f) / (m + 1.0f), f2 = f * f;
    float p = 2.0f / 9.0f;
    p = p * f2 + 2.0f / 7.0f;
    p = p * f2 + 2.0f / 5.0f;
    p = p * f2 + 2.0f / 3.0f;
    p = p * f2 + 2.0f;
    return (float)e * 0.693147181f + f * p;
}

/* Normal deviates by Box-Muller, two per random word: the high 32 bits give u1 in (0, 1]
 * (24 bits, never 0), the low 32 bits u2 in [0, 1); y = mean + scale * sqrt(-2 ln u1) *
 * (cos, sin)(2 pi u2). The angle is reduced to the nearest quarter turn exactly (u2 -
 * q/4 in float is exact), then sin/cos polynomials on [-pi/4, pi/4] (Taylor through
 * r^9 / r^8: < 4e-9). The scalar entry computes the same formula with libm. */
static void SFX(normal_block)(const uint64_t *restrict w, float *restrict y, int64_t pairs,
                              float mean, float scale) {
    for (int64_t i = 0; i < pairs; i++) {
        float u1 = (float)((uint32_t)(w[i] >> 40) + 1) * 0x1.0p-24f;
        float u2 = (float)((uint32_t)w[i] >> 8) * 0x1.0p-24f;
        float m = sqrtf(-2.0f * SFX(ew_log01)(u1));
        int q = (int)(u2 * 4.0f + 0.5f);
        float r = (u2 - (float)q * 0.25f) * 6.28318531f, r2 = r * r;
        float sn = 1.0f / 362880.0f;
        sn = sn * r2 - 1.0f / 5040.0f;
        sn = sn * r2 + 1.0f / 120.0f;
        sn = sn * r2 - 1.0f / 6.0f;
        sn = r + r * r2 * sn;
        float cs = 1.0f / 40320.0f;
        cs = cs * r2 - 1.0f / 720.0f;
        cs = cs * r2 + 1.0f / 24.0f;
        cs = cs * r2 - 0.5f;
        cs = cs * r2 + 1.0f;
        q &= 3;
        float c = q == 0 ? cs : q == 1 ? -sn : q == 2 ? -cs : sn;
        float s = q == 0 ? sn : q == 1 ? cs : q == 2 ? -sn : -cs;
        y[2 * i] = mean + scale * (m * c);
        y[2 * i + 1] = mean + scale * (m * s);
    }
}

/* softmax of rows: e^(x - max) by ew_exp (1.5 ulp; x - max < -87.3 gives about 1e-38
 * instead of a smaller number, nothing next to the row's sum >= 1), one scale by 1 / sum.
 * The max and the sum are folded elementwise into SM_B-wide arrays (plain loops over
 * arrays, which the compiler vectorizes; 16 scalar accumulators it kept scalar, and the
 * max pass alone took a third of the time), then halved down to one value: the sum is a
 * tree, as exact as the lane sums were. NaN inputs, and -inf - -inf, propagate as in the
 * scalar loop (the max ignores NaN, the sum does not). */
#define SM_B 512
static float SFX(sm_halve_max)(float *a, int64_t w) { /* a[0..w), w <= SM_B */
    int64_t p = 1;
    while (p < w) p *= 2;
    for (int64_t q = w; q < p; q++) a[q] = -INFINITY;
    for (int64_t h = p / 2; h >= 1; h /= 2)
        for (int64_t q = 0; q < h; q++) a[q] = a[q + h] > a[q] ? a[q + h] : a[q];
    return a[0];
}
static float SFX(sm_halve_sum)(float *a, int64_t w) {
    int64_t p = 1;
    while (p < w) p *= 2;
    for (int64_t q = w; q < p; q++) a[q] = 0.0f;
    for (int64_t h = p / 2; h >= 1; h /= 2)
        for (int64_t q = 0; q < h; q++) a[q] = a[q] + a[q + h];
    return a[0];
}
/* e^(x[q] - mx) into y[q] (NaN passes through), summed into acc[q % SM_B]: an
 * elementwise loop over x, y that may be the same array (in place) but never overlap
 * otherwise (the caller passes y = NULL for in place). */
static void SFX(sm_exp_row)(const float *restrict x, float *restrict y, float mx, int64_t len,
                            float *restrict acc) {
    float *o = y ? y : (float *)x;
    for (int64_t b = 0; b < len; b += SM_B) {
        int64_t n = len - b < SM_B ? len - b : SM_B;
        if (y) {
            for (int64_t q = 0; q < n; q++) {
                float v = x[b + q] - mx, e = SFX(ew_exp)(v);
                e = v == v ? e : v;
                o[b + q] = e;
                acc[q] += e;
            }
        } else {
            float *io = o + b; /* in place: each element read, then written */
            for (int64_t q = 0; q < n; q++) {
                float v = io[q] - mx, e = SFX(ew_exp)(v);
                e = v == v ? e : v;
                io[q] = e;
                acc[q] += e;
            }
        }
    }
}
static void SFX(softmax_f32)(const float *x, float *y, int64_t rows, int64_t len) {
    float acc[SM_B];
    int64_t w = len < SM_B ? len : SM_B;
    for (int64_t r = 0; r < rows; r++) {
        const float *xs = x + r * len;
        float *ys = y + r * len;
        for (int64_t q = 0; q < w; q++) acc[q] = -INFINITY;
        for (int64_t b = 0; b < len; b += SM_B) {
            int64_t n = len - b < SM_B ? len - b : SM_B;
            for (int64_t q = 0; q < n; q++) acc[q] = xs[b + q] > acc[q] ? xs[b + q] : acc[q];
        }
        float mx = SFX(sm_halve_max)(acc, w);
        for (int64_t q = 0; q < w; q++) acc[q] = 0.0f;
        SFX(sm_exp_row)(xs, xs == ys ? NULL : ys, mx, len, acc);
        float inv = 1.0f / SFX(sm_halve_sum)(acc, w);
        for (int64_t q = 0; q < len; q++) ys[q] *= inv;
    }
}

/* Blocks through a local buffer, so that y == x (in place) keeps the vector loop. */
#define EW_BLOCKED(NAME, BODY)                                                                     \
    static void SFX(NAME)(const float *x, float *y, int64_t n) {                                   \
        float buf[512];                                                                            \
        for (int64_t i = 0; i < n; i += 512) {                                                     \
            int64_t m = n - i < 512 ? n - i : 512;                                                 \
            SFX(BODY)(x + i, buf, m);                                                              \
            memcpy(y + i, buf, (size_t)m * sizeof *buf);                                           \
        }                                                                                          \
    }
EW_BLOCKED(tanh_f32, tanh_block)
EW_BLOCKED(sigmoid_f32, sigmoid_block)
EW_BLOCKED(erf_f32, erf_block)


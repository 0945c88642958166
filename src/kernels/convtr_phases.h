/* ConvTranspose as phases, shared by the FP32 template (simd_tmpl.h), the reduced-precision
 * entry points (lowp_ref.c) and the bf16/int8 cores (x86/lowp_tmpl.h): the phase geometry, and
 * the write-out of the cores that compute every phase of a tile at once (the phases'
 * accumulators interleaved back into time order, bias added, written once and in order).
 * Static inline: each includer compiles it with its own target flags. */
#ifndef VX_CONVTR_PHASES_H
#define VX_CONVTR_PHASES_H
#include "kernels/kernels.h"
#include <stdint.h>

static inline int64_t tr_max(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t tr_min(int64_t a, int64_t b) { return a < b ? a : b; }

/* Phase r (outputs o = q*stride + r) is a stride-1 conv over x with the taps
 * k = k_r + j*stride, j in [0, kr), reversed; c_r: its output q reads x up to q + c_r. */
static inline void tr_phase(const vx_convtr1d_params *p, int64_t r, int64_t *k_r, int64_t *kr,
                            int64_t *c_r) {
    int64_t s = p->stride;
    *k_r = (r + p->pad) % s;
    *kr = *k_r < p->k ? (p->k - *k_r + s - 1) / s : 0;
    *c_r = (r + p->pad - *k_r) / s;
}

/* The tap count every phase has, or 0 if they differ or one has none (then the
 * all-phase cores do not apply). */
static inline int64_t tr_uniform_taps(const vx_convtr1d_params *p) {
    int64_t k0 = 0;
    for (int64_t r = 0; r < p->stride; r++) {
        int64_t k_r, kr, c_r;
        tr_phase(p, r, &k_r, &kr, &c_r);
        if (kr == 0 || (r > 0 && kr != k0)) return 0;
        k0 = kr;
    }
    return k0;
}

/* For the all-phase cores (kr taps in every phase): phase r's left pad padr[r] as a
 * stride-1 conv; every phase of a tile of q in [q0, q0 + n) reads x within
 * [q0 - *maxpad, q0 + n + *span - *maxpad), phase r from offset *maxpad - padr[r]. */
static inline void tr_pads(const vx_convtr1d_params *p, int64_t kr, int64_t *padr,
                           int64_t *maxpad, int64_t *span) {
    int64_t hi = 0;
    *maxpad = 0;
    for (int64_t r = 0; r < p->stride; r++) {
        int64_t k_r, kr_r, c_r;
        tr_phase(p, r, &k_r, &kr_r, &c_r);
        padr[r] = kr - 1 - c_r;
        *maxpad = tr_max(*maxpad, padr[r]);
        hi = tr_max(hi, c_r);
    }
    *span = *maxpad + hi;
}

/* out[j*S + r] = src[r*rs + j] + b0 for j in [0, n), r in [0, S): the phases of one output
 * row interleaved back into time order. S is a constant at each call site (2, 4, 8), so
 * the compiler turns the inner loop into shuffles; other strides take the generic loop. */
static inline __attribute__((always_inline)) void
tr_interleave_s(const int S, const float *src, int64_t rs, int64_t n, float b0, float *out) {
    for (int64_t j = 0; j < n; j++)
        for (int r = 0; r < S; r++) out[j * S + r] = src[r * rs + j] + b0;
}
static inline void tr_interleave(int64_t s, const float *src, int64_t rs, int64_t n, float b0,
                                 float *out) {
    switch (s) {
    case 2: tr_interleave_s(2, src, rs, n, b0, out); break;
    case 4: tr_interleave_s(4, src, rs, n, b0, out); break;
    case 8: tr_interleave_s(8, src, rs, n, b0, out); break;
    default:
        for (int64_t j = 0; j < n; j++)
            for (int64_t r = 0; r < s; r++) out[j * s + r] = src[r * rs + j] + b0;
    }
}

/* Writes output times [t_begin, t_end) of row-block q in [q0, q0 + n) from the phase
 * accumulators yb[(r * c_out + co) * ldb + (q - q0)], bias added: whole groups of s
 * outputs through tr_interleave, the partial groups at the range's ends one by one. */
static inline void tr_write_out(const vx_convtr1d_params *p, const float *yb, int64_t ldb,
                                const float *bias, int64_t q0, int64_t n, int64_t t_begin,
                                int64_t t_end, float *y) {
    int64_t s = p->stride, rs = p->c_out * ldb;
    int64_t o0 = tr_max(q0 * s, t_begin), o1 = tr_min((q0 + n) * s, t_end);
    if (o1 <= o0) return;
    int64_t qa = (o0 + s - 1) / s, qz = o1 / s; /* whole groups: q in [qa, qz) */
    if (qz < qa) qz = qa;
    for (int64_t co = 0; co < p->c_out; co++) {
        float b0 = bias ? bias[co] : 0.0f;
        const float *src = yb + co * ldb - q0;
        float *d = y + co * p->t_out;
        for (int64_t o = o0; o < o1 && o < qa * s; o++) d[o] = src[(o % s) * rs + o / s] + b0;
        tr_interleave(s, src + qa, rs, qz - qa, b0, d + qa * s);
        for (int64_t o = tr_max(qz * s, o0); o < o1; o++) d[o] = src[(o % s) * rs + o / s] + b0;
    }
}

#endif

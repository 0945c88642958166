/* The write-out shared by the ConvTranspose cores that compute every phase of a tile at
 * once (simd_tmpl.h for FP32, x86/lowp_tmpl.h for bf16): the phases' accumulators
 * interleaved back into time order, bias added, written once and in order. Included by
 * the kernel templates only (each compiles it with its own target flags). */
#ifndef VX_TR_OUT_H
#define VX_TR_OUT_H
#include "kernels/kernels.h"
#include <stdint.h>

static inline int64_t tr_max(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t tr_min(int64_t a, int64_t b) { return a < b ? a : b; }

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

/* Reduced-precision kernels: weight packing, the portable emulation of each format (the
 * numerical definition in lowp.h, computed output by output so that it shares no tiling
 * logic with the SIMD drivers it checks), the Conv / ConvTranspose / GEMM entry points and
 * the run-time choice of implementation. */
#include "kernels/conv_inplace.h"
#include "kernels/lowp.h"
#include "kernels/convtr_phases.h"
#include "vox.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* ------------------------------------------------------------------ packing */

/* Weights addressed as w[co*sco + ci*sci + k*sk] (strides let Conv, GEMM and the
 * reversed-tap ConvTranspose phases share one packer without a temporary copy). */
typedef struct wview {
    const float *w;
    int64_t sco, sci, sk;
} wview;

static inline float wat(const wview *v, int64_t co, int64_t ci, int64_t k) {
    return v->w[co * v->sco + ci * v->sci + k * v->sk];
}

static size_t pack_bytes_shape(vx_lowp_fmt fmt, int64_t c_out, int64_t cig, int64_t K) {
    if (c_out <= 0 || cig <= 0 || K <= 0 || K > VX_LOWP_MAX_K) return 0;
    int64_t nu = vx_lowp_units(fmt, cig);
    size_t b = (size_t)(c_out * nu * K) * 4;
    if (fmt == VX_LOWP_INT8) b += (size_t)(c_out * vx_lowp_nchunk(nu, K)) * 4 + (size_t)c_out * 4;
    return b;
}

static void pack_impl(vx_lowp_fmt fmt, int64_t group, int64_t cog, int64_t cig, int64_t K,
                      const wview *v, void *dst) {
    int64_t nu = vx_lowp_units(fmt, cig), c_out = group * cog, cu = vx_lowp_chunk(K);
    int64_t nch = vx_lowp_nchunk(nu, K);
    uint32_t *words = dst;
    /* int8 only: the tail arrays (a bf16 pack ends with the words) */
    int32_t *corr = fmt == VX_LOWP_INT8 ? (int32_t *)(words + c_out * nu * K) : NULL;
    float *sw = fmt == VX_LOWP_INT8 ? (float *)(corr + c_out * nch) : NULL;
    if (fmt == VX_LOWP_INT8) {
        for (int64_t co = 0; co < c_out; co++) {
            float m = 0.0f;
            int bad = 0;
            for (int64_t ci = 0; ci < cig; ci++)
                for (int64_t k = 0; k < K; k++) {
                    float a = fabsf(wat(v, co, ci, k));
                    if (!(a <= 3.4e38f))
                        bad = 1;
                    else if (a > m)
                        m = a;
                }
            sw[co] = bad ? NAN : m;
        }
    }
    for (int64_t g = 0; g < group; g++)
        for (int64_t co0 = 0; co0 < cog; co0 += VX_LOWP_MR) {
            int64_t mr = min64(VX_LOWP_MR, cog - co0);
            uint32_t *d = words + (g * cog + co0) * nu * K;
            for (int64_t i = 0; i < mr; i++) {
                int64_t co = g * cog + co0 + i;
                /* sw[co] holds max|w[co]| until the end (NaN when not finite) */
                float inv = fmt == VX_LOWP_INT8 && sw[co] > 0.0f ? 127.0f / sw[co] : 0.0f;
                for (int64_t u = 0; u < nu; u++)
                    for (int64_t k = 0; k < K; k++) {
                        uint32_t word = 0;
                        if (fmt == VX_LOWP_BF16) {
                            for (int64_t b = 0; b < 2; b++) {
                                int64_t ci = 2 * u + b;
                                if (ci < cig)
                                    word |= (uint32_t)vx_bf16_from_f32(wat(v, co, ci, k))
                                            << (16 * b);
                            }
                        } else {
                            for (int64_t b = 0; b < 4; b++) {
                                int64_t ci = 4 * u + b;
                                if (ci < cig) {
                                    int q = (int)vx_i8_quant(wat(v, co, ci, k), inv);
                                    word |= (uint32_t)(uint8_t)(int8_t)q << (8 * b);
                                }
                            }
                        }
                        d[(u * K + k) * mr + i] = word;
                    }
                if (fmt == VX_LOWP_INT8)
                    for (int64_t c = 0; c < nch; c++) {
                        int32_t s = 0;
                        for (int64_t u = c * cu; u < min64(nu, (c + 1) * cu); u++)
                            for (int64_t k = 0; k < K; k++) {
                                uint32_t word = d[(u * K + k) * mr + i];
                                for (int b = 0; b < 4; b++) s += (int8_t)(uint8_t)(word >> (8 * b));
                            }
                        corr[co * nch + c] = 128 * s;
                    }
            }
        }
    if (fmt == VX_LOWP_INT8)
        for (int64_t co = 0; co < c_out; co++) sw[co] = sw[co] / 127.0f;
}

static int fmt_ok(vx_lowp_fmt f) { return f == VX_LOWP_BF16 || f == VX_LOWP_INT8; }

size_t vx_lowp_pack_bytes(vx_lowp_fmt fmt, const vx_conv1d_params *p) {
    if (!fmt_ok(fmt) || p->group <= 0 || p->c_in % p->group || p->c_out % p->group) return 0;
    return pack_bytes_shape(fmt, p->c_out, p->c_in / p->group, p->k);
}

void vx_lowp_pack(vx_lowp_fmt fmt, const vx_conv1d_params *p, const float *w, void *dst) {
    int64_t cig = p->c_in / p->group;
    wview v = {w, cig * p->k, p->k, 1};
    pack_impl(fmt, p->group, p->c_out / p->group, cig, p->k, &v, dst);
}

size_t vx_lowp_gemm_pack_bytes(vx_lowp_fmt fmt, int64_t m, int64_t k) {
    return fmt_ok(fmt) ? pack_bytes_shape(fmt, m, k, 1) : 0;
}

void vx_lowp_gemm_pack(vx_lowp_fmt fmt, int64_t m, int64_t k, const float *a, int64_t lda,
                       void *dst) {
    wview v = {a, lda, 1, 0};
    pack_impl(fmt, 1, m, k, 1, &v, dst);
}

int vx_lowp_convtr_ok(const vx_convtr1d_params *p) {
    return p->group == 1 && p->dilation == 1 && p->stride >= 1 && p->stride <= 64 && p->pad >= 0 &&
           p->k >= 1 && p->k <= VX_LOWP_MAX_K && p->c_in > 0 && p->c_out > 0 && p->t_in > 0 &&
           p->t_out >= 0;
}

static size_t al64(size_t b) { return (b + 63) & ~(size_t)63; }

size_t vx_lowp_convtr_pack_bytes(vx_lowp_fmt fmt, const vx_convtr1d_params *p) {
    if (!fmt_ok(fmt) || !vx_lowp_convtr_ok(p)) return 0;
    size_t b = 0;
    for (int64_t r = 0; r < p->stride; r++) {
        int64_t k_r, kr, c_r;
        tr_phase(p, r, &k_r, &kr, &c_r);
        if (kr) b += al64(pack_bytes_shape(fmt, p->c_out, p->c_in, kr));
    }
    return b ? b : 64;
}

void vx_lowp_convtr_pack(vx_lowp_fmt fmt, const vx_convtr1d_params *p, const float *w, void *dst) {
    char *d = dst;
    for (int64_t r = 0; r < p->stride; r++) {
        int64_t k_r, kr, c_r;
        tr_phase(p, r, &k_r, &kr, &c_r);
        if (!kr) continue;
        /* W_r[co][ci][j] = w[ci][co][k_r + (kr-1-j)*stride] */
        wview v = {w + k_r + (kr - 1) * p->stride, p->k, p->c_out * p->k, -p->stride};
        pack_impl(fmt, 1, p->c_out, p->c_in, kr, &v, d);
        d += al64(pack_bytes_shape(fmt, p->c_out, p->c_in, kr));
    }
}

/* ------------------------------------------------------------------ emulation */

static inline float act(const vx_lowp_job *j, float v) {
    return j->leaky && v < 0.0f ? v * j->alpha : v;
}

/* Input x[ci][pos] of the group at xg, through the job's activation; 0 outside. */
static inline float xin(const vx_conv1d_params *p, const vx_lowp_job *j, const float *xg,
                        int64_t ci, int64_t cig, int64_t pos) {
    if (ci >= cig || pos < 0 || pos >= p->t_in) return 0.0f;
    return act(j, xg[ci * p->ldx + pos]);
}

static void write_out(const vx_conv1d_params *p, const vx_lowp_job *j, const float *bias,
                      int64_t co, int64_t t, float acc, float *y) {
    float v = acc + (bias ? bias[co] : 0.0f);
    if (j->res) v += j->res[co * j->ldr + t];
    y[co * p->ldy + t * j->ostride] = v;
}

static int core_bf16_emul(const vx_conv1d_params *p, const float *x, const void *wpacked,
                          const float *bias, const vx_lowp_job *j, float *y) {
    int64_t G = p->group, cig = p->c_in / G, cog = p->c_out / G, K = p->k;
    int64_t nu = vx_lowp_units(VX_LOWP_BF16, cig), cu = vx_lowp_chunk(K);
    const uint32_t *W = wpacked;
    for (int64_t g = 0; g < G; g++) {
        const float *xg = x + g * cig * p->ldx;
        for (int64_t c = 0; c < cog; c++) {
            int64_t co0 = c / VX_LOWP_MR * VX_LOWP_MR, i = c - co0,
                    mr = min64(VX_LOWP_MR, cog - co0);
            const uint32_t *pw = W + (g * cog + co0) * nu * K;
            for (int64_t t = p->t_begin; t < p->t_end; t++) {
                float acc = 0.0f;
                for (int64_t u0 = 0; u0 < nu; u0 += cu) {
                    float a = 0.0f;
                    for (int64_t u = u0; u < min64(nu, u0 + cu); u++)
                        for (int64_t k = 0; k < K; k++) {
                            uint32_t wd = pw[(u * K + k) * mr + i];
                            int64_t pos = t * p->stride + k * p->dilation - p->pad;
                            float xl =
                                vx_bf16_to_f32(vx_bf16_from_f32(xin(p, j, xg, 2 * u, cig, pos)));
                            float xh = vx_bf16_to_f32(
                                vx_bf16_from_f32(xin(p, j, xg, 2 * u + 1, cig, pos)));
                            a = fmaf(vx_bf16_to_f32((uint16_t)(wd >> 16)), xh, a);
                            a = fmaf(vx_bf16_to_f32((uint16_t)wd), xl, a);
                        }
                    acc = u0 == 0 ? a : acc + a;
                }
                write_out(p, j, bias, g * cog + c, t, acc, y);
            }
        }
    }
    return 0;
}

/* max |act(x)| over the inputs that output block b reads from channels [c0, c1) of the
 * group at xg; +inf when one of them is not finite. */
static float i8_block_max(const vx_conv1d_params *p, const vx_lowp_job *j, const float *xg,
                          int64_t c0, int64_t c1, int64_t b) {
    int64_t q0 = b * VX_LOWP_I8_QB, q1 = min64((b + 1) * VX_LOWP_I8_QB, p->t_out);
    int64_t s0 = max64(q0 * p->stride - p->pad, 0);
    int64_t s1 = min64((q1 - 1) * p->stride + (p->k - 1) * p->dilation - p->pad + 1, p->t_in);
    float m = 0.0f;
    for (int64_t ci = c0; ci < c1; ci++)
        for (int64_t s = s0; s < s1; s++) {
            float a = fabsf(act(j, xg[ci * p->ldx + s]));
            if (!(a <= 3.4028235e38f)) return INFINITY;
            if (a > m) m = a;
        }
    return m;
}

static int core_int8_emul(const vx_conv1d_params *p, const float *x, const void *wpacked,
                          const float *bias, const vx_lowp_job *j, float *y) {
    int64_t G = p->group, cig = p->c_in / G, cog = p->c_out / G, K = p->k;
    int64_t nu = vx_lowp_units(VX_LOWP_INT8, cig), cu = vx_lowp_chunk(K),
            nch = vx_lowp_nchunk(nu, K);
    const uint32_t *W = wpacked;
    const float *sw = (const float *)((const int32_t *)(W + p->c_out * nu * K) + p->c_out * nch);
    int64_t b0 = p->t_begin / VX_LOWP_I8_QB, nb = (p->t_end - 1) / VX_LOWP_I8_QB - b0 + 1;
    float *sx = malloc((size_t)(nb * nch) * 2 * sizeof *sx); /* [block][chunk] scale, inverse */
    if (!sx) return VOX_ERR_NOMEM;
    float *inv = sx + nb * nch;
    for (int64_t g = 0; g < G; g++) {
        const float *xg = x + g * cig * p->ldx;
        for (int64_t b = 0; b < nb; b++)
            for (int64_t c = 0; c < nch; c++) {
                float m = i8_block_max(p, j, xg, c * cu * 4, min64(cig, (c + 1) * cu * 4), b0 + b);
                sx[b * nch + c] = m == 0.0f ? 0.0f : m <= 3.4028235e38f ? m / 127.0f : NAN;
                inv[b * nch + c] = m == 0.0f || !(m <= 3.4028235e38f) ? 0.0f : 127.0f / m;
            }
        for (int64_t c = 0; c < cog; c++) {
            int64_t co = g * cog + c;
            int64_t co0 = c / VX_LOWP_MR * VX_LOWP_MR, i = c - co0,
                    mr = min64(VX_LOWP_MR, cog - co0);
            const uint32_t *pw = W + (g * cog + co0) * nu * K;
            for (int64_t t = p->t_begin; t < p->t_end; t++) {
                int64_t b = t / VX_LOWP_I8_QB - b0;
                float acc = 0.0f;
                for (int64_t ch = 0; ch < nch; ch++) {
                    int32_t isum = 0;
                    float iv = inv[b * nch + ch];
                    for (int64_t u = ch * cu; u < min64(nu, (ch + 1) * cu); u++)
                        for (int64_t k = 0; k < K; k++) {
                            uint32_t wd = pw[(u * K + k) * mr + i];
                            int64_t pos = t * p->stride + k * p->dilation - p->pad;
                            for (int64_t e = 0; e < 4; e++) {
                                int wq = (int8_t)(uint8_t)(wd >> (8 * e));
                                int xq = (int)vx_i8_quant(xin(p, j, xg, 4 * u + e, cig, pos), iv);
                                isum += wq * xq;
                            }
                        }
                    float comb = sx[b * nch + ch] * sw[co];
                    acc = ch == 0 ? (float)isum * comb : fmaf((float)isum, comb, acc);
                }
                write_out(p, j, bias, co, t, acc, y);
            }
        }
    }
    free(sx);
    return 0;
}

const vx_lowp_kernels vx_lowp_bf16_emul = {"bf16-emul", VX_LOWP_BF16, core_bf16_emul, NULL, 0};
const vx_lowp_kernels vx_lowp_int8_emul = {"int8-emul", VX_LOWP_INT8, core_int8_emul, NULL, 0};

/* ------------------------------------------------------------------ entry points */

static int conv_shape_ok(const vx_conv1d_params *p) {
    return p->c_in > 0 && p->c_out > 0 && p->group > 0 && !(p->c_in % p->group) &&
           !(p->c_out % p->group) && p->k > 0 && p->k <= VX_LOWP_MAX_K && p->stride > 0 &&
           p->dilation > 0 && p->pad >= 0 && p->t_in > 0 && p->t_in <= ((int64_t)1 << 31) &&
           p->t_out >= 0 && p->ldx >= p->t_in && p->ldy >= p->t_out && p->t_begin >= 0 &&
           p->t_begin <= p->t_end && p->t_end <= p->t_out;
}

int vx_lowp_conv1d(const vx_lowp_kernels *k, const vx_conv1d_params *p, const float *x,
                   const void *wpacked, const float *bias, const vx_conv1d_fuse *f, float *y) {
    if (!k || !wpacked || !conv_shape_ok(p)) return VOX_ERR_ARG;
    if (p->t_end == p->t_begin) return 0;
    vx_lowp_job j = {0, 0.0f, NULL, 0, 1, NULL, NULL};
    if (f) {
        j.leaky = f->leaky_in;
        j.alpha = f->alpha;
        j.res = f->res;
        j.ldr = f->ldr;
        if (f->halo_l) {
            if (!k->inplace || !vx_inplace_args_ok(p, x, f, y)) return VOX_ERR_ARG;
            j.halo_l = f->halo_l;
            j.halo_r = f->halo_r;
        }
    }
    return k->core(p, x, wpacked, bias, &j, y);
}

int vx_lowp_convtr1d_range(const vx_lowp_kernels *k, const vx_convtr1d_params *p, const float *x,
                           const void *wpacked, const float *bias, int64_t t_begin, int64_t t_end,
                           float *y) {
    if (!k || !wpacked || !vx_lowp_convtr_ok(p) || p->t_in > ((int64_t)1 << 31)) return VOX_ERR_ARG;
    if (t_begin < 0) t_begin = 0;
    if (t_end > p->t_out) t_end = p->t_out;
    if (t_end <= t_begin) return 0;
    const char *wp = wpacked;
    int64_t s = p->stride;
    vx_lowp_tr tr = {.p = p, .t_begin = t_begin, .t_end = t_end, .kr = tr_uniform_taps(p)};
    if (k->core_tr && tr.kr) { /* every phase at once; packs are kr taps each */
        size_t step = al64(pack_bytes_shape(k->fmt, p->c_out, p->c_in, tr.kr));
        for (int64_t r = 0; r < s; r++) tr.w[r] = wp + r * step;
        return k->core_tr(&tr, x, bias, y);
    }
    for (int64_t r = 0; r < s; r++) {
        int64_t k_r, kr, c_r;
        tr_phase(p, r, &k_r, &kr, &c_r);
        int64_t qb = t_begin - r <= 0 ? 0 : (t_begin - r + s - 1) / s;
        int64_t qe = t_end - r <= 0 ? 0 : (t_end - r + s - 1) / s;
        if (kr == 0) {
            for (int64_t co = 0; co < p->c_out; co++)
                for (int64_t q = qb; q < qe; q++)
                    y[co * p->t_out + q * s + r] = bias ? bias[co] : 0.0f;
            continue;
        }
        if (qe > qb) {
            vx_conv1d_params cp = {
                .c_in = p->c_in,
                .c_out = p->c_out,
                .group = 1,
                .t_in = p->t_in,
                .t_out = (p->t_out - r + s - 1) / s,
                .k = kr,
                .stride = 1,
                .dilation = 1,
                .pad = kr - 1 - c_r,
                .ldx = p->t_in,
                .ldy = p->t_out,
                .t_begin = qb,
                .t_end = qe,
            };
            vx_lowp_job j = {p->leaky_in, p->alpha, NULL, 0, s, NULL, NULL};
            int rc = k->core(&cp, x, wp, bias, &j, y + r);
            if (rc) return rc;
        }
        wp += al64(pack_bytes_shape(k->fmt, p->c_out, p->c_in, kr));
    }
    return 0;
}

int vx_lowp_gemm(const vx_lowp_kernels *k, int64_t m, int64_t n, int64_t kk, const void *apacked,
                 const float *b, int64_t ldb, const float *bias, int accumulate, float *c,
                 int64_t ldc) {
    if (m <= 0 || n <= 0) return 0;
    vx_conv1d_params p = {.c_in = kk,
                          .c_out = m,
                          .group = 1,
                          .t_in = n,
                          .t_out = n,
                          .k = 1,
                          .stride = 1,
                          .dilation = 1,
                          .pad = 0,
                          .ldx = ldb,
                          .ldy = ldc,
                          .t_begin = 0,
                          .t_end = n};
    vx_conv1d_fuse f = {0, 0.0f, accumulate ? c : NULL, ldc, NULL, NULL};
    return vx_lowp_conv1d(k, &p, b, apacked, bias, &f, c);
}

/* ------------------------------------------------------------------ selection */

const vx_lowp_kernels *vx_lowp_by_name(const char *name) {
    if (!name) return NULL;
    if (!strcmp(name, "bf16-emul")) return &vx_lowp_bf16_emul;
    if (!strcmp(name, "int8-emul")) return &vx_lowp_int8_emul;
    return vx_lowp_arch_by_name(name); /* dispatch.c: per-arch tables, CPU checked */
}

const vx_lowp_kernels *vx_lowp_get(vx_lowp_fmt fmt) {
    const char *force = getenv("VOX_LOWP");
    int emul = force && !strcmp(force, "emul");
    const vx_lowp_kernels *k = NULL;
    if (fmt == VX_LOWP_BF16) {
        if (!emul) k = vx_lowp_by_name("bf16-avx512");
        return k ? k : &vx_lowp_bf16_emul;
    }
    if (fmt == VX_LOWP_INT8) {
        if (!emul) k = vx_lowp_by_name("int8-vnni");
        if (!emul && !k) k = vx_lowp_by_name("int8-avxvnni");
        return k ? k : &vx_lowp_int8_emul;
    }
    return NULL;
}

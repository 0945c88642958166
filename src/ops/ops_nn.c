/* The nn op family: Conv, ConvTranspose, MatMul, Gemm (here), Softmax and reductions
 * (nn_reduce.c), normalizations and pooling (nn_norm.c). The wrappers validate shapes
 * and attributes; hot loops go through the per-CPU table of kernels/kernels.h. */
#include "kernels/lowp.h"
#include "ops/nn_internal.h"
#include "kernels/conv_par.h"
#include "kernels/kernels.h"
#include "vox.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

int64_t vx_nn_prod(const int64_t *d, int n) {
    int64_t p = 1;
    for (int i = 0; i < n; i++) p *= d[i];
    return p;
}

int vx_nn_axis(int64_t axis, int rank) {
    if (axis < -(int64_t)rank || axis > rank) return -1;
    return (int)(axis < 0 ? axis + rank : axis);
}

/* Explicit limit on strides, dilations, pads and output_padding. */
#define ATTR_MAX ((int64_t)1 << 24)

/* Reads an optional INTS attribute of exactly n values into dst (default def). */
static int read_ints(vx_op_ctx *ctx, const vx_node *node, const char *name, int n, int64_t def,
                     int64_t minv, int64_t *dst) {
    const int64_t *v;
    int64_t cnt = vx_attr_ints(node, name, &v);
    if (cnt >= 0 && cnt != n)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "%s has %lld values, expected %d", name,
                          (long long)cnt, n);
    for (int i = 0; i < n; i++) {
        dst[i] = cnt >= 0 ? v[i] : def;
        /* the upper bound keeps size arithmetic such as (k-1)*dilation far from overflow */
        if (dst[i] < minv || dst[i] > ATTR_MAX)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "%s[%d] = %lld is invalid", name, i,
                              (long long)dst[i]);
    }
    return 0;
}

enum { PAD_NOTSET, PAD_SAME_UPPER, PAD_SAME_LOWER, PAD_VALID };

static int read_auto_pad(vx_op_ctx *ctx, const vx_node *node, int *mode) {
    const char *s = vx_attr_str(node, "auto_pad", "NOTSET");
    if (!strcmp(s, "NOTSET") || !*s)
        *mode = PAD_NOTSET;
    else if (!strcmp(s, "SAME_UPPER"))
        *mode = PAD_SAME_UPPER;
    else if (!strcmp(s, "SAME_LOWER"))
        *mode = PAD_SAME_LOWER;
    else if (!strcmp(s, "VALID"))
        *mode = PAD_VALID;
    else
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "unknown auto_pad '%s'", s);
    return 0;
}

int vx_nn_geom(vx_op_ctx *ctx, const vx_node *node, int nsp, const int64_t *in, const int64_t *k,
               int use_dil, int ceil_mode, vx_geom *g) {
    int rc, mode;
    int64_t pads[2 * VX_MAX_DIMS];
    memset(g, 0, sizeof *g);
    g->nsp = nsp;
    if ((rc = read_ints(ctx, node, "strides", nsp, 1, 1, g->s))) return rc;
    if (use_dil) {
        if ((rc = read_ints(ctx, node, "dilations", nsp, 1, 1, g->d))) return rc;
    } else
        for (int i = 0; i < nsp; i++) g->d[i] = 1;
    if ((rc = read_ints(ctx, node, "pads", 2 * nsp, 0, 0, pads))) return rc;
    if ((rc = read_auto_pad(ctx, node, &mode))) return rc;
    for (int i = 0; i < nsp; i++) {
        if (k[i] < 1 || k[i] > VX_MAX_ELEMS)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "kernel size %lld is invalid",
                              (long long)k[i]);
        int64_t dk = (k[i] - 1) * g->d[i] + 1, s = g->s[i];
        g->in[i] = in[i];
        g->k[i] = k[i];
        if (mode == PAD_SAME_UPPER || mode == PAD_SAME_LOWER) {
            int64_t out = (in[i] + s - 1) / s;
            int64_t total = (out - 1) * s + dk - in[i];
            if (total < 0) total = 0;
            g->pb[i] = mode == PAD_SAME_UPPER ? total / 2 : total - total / 2;
            g->pe[i] = total - g->pb[i];
            g->out[i] = out;
            continue;
        }
        if (mode == PAD_NOTSET) {
            g->pb[i] = pads[i];
            g->pe[i] = pads[nsp + i];
        }
        int64_t span = in[i] + g->pb[i] + g->pe[i] - dk;
        if (span < 0)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                              "kernel extent %lld exceeds padded input %lld on spatial axis %d",
                              (long long)dk, (long long)(in[i] + g->pb[i] + g->pe[i]), i);
        int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
        /* ceil_mode: a last window that starts in the end padding is dropped */
        if (ceil_mode && (out - 1) * s >= in[i] + g->pb[i]) out--;
        g->out[i] = out;
    }
    return 0;
}

static int need_float(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *t, const char *what) {
    if (!t) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "missing input %s", what);
    if (t->dtype != VX_FLOAT)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "input %s has type %s (only float)", what,
                          vx_dtype_name(t->dtype));
    return 0;
}

/* Common Conv/ConvTranspose input checks: ranks, kernel_shape, group, bias. */
static int conv_check(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                      int64_t *group, int64_t bias_len_of_dim) {
    if (n_in < 2) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs inputs X and W");
    const vx_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
    int rc;
    if ((rc = need_float(ctx, node, x, "X")) || (rc = need_float(ctx, node, w, "W"))) return rc;
    if (b && (rc = need_float(ctx, node, b, "B"))) return rc;
    if (x->ndim < 3)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                          "X must have rank >= 3 (N, C, spatial...), got %d", x->ndim);
    if (w->ndim != x->ndim)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "W has rank %d but X has rank %d", w->ndim,
                          x->ndim);
    int nsp = x->ndim - 2;
    const int64_t *ks;
    int64_t nks = vx_attr_ints(node, "kernel_shape", &ks);
    if (nks >= 0) {
        if (nks != nsp)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "kernel_shape has %lld values, expected %d",
                              (long long)nks, nsp);
        for (int i = 0; i < nsp; i++)
            if (ks[i] != w->dims[2 + i])
                return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                                  "kernel_shape[%d] = %lld but W has %lld", i, (long long)ks[i],
                                  (long long)w->dims[2 + i]);
    }
    *group = vx_attr_int(node, "group", 1);
    if (*group < 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "group %lld is invalid", (long long)*group);
    if (b && (b->ndim != 1 || b->dims[0] != bias_len_of_dim))
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "B must be 1-D of length %lld",
                          (long long)bias_len_of_dim);
    return 0;
}

/* ------------------------------------------------------------------------ Conv */

/* N-D convolution of one batch item and group range: im2col over tiles of output
 * positions, then GEMM. Used for 2-D and 3-D (1-D has its own dispatched kernel). */
static int conv_nd(const vx_geom *g, int64_t c_in, int64_t c_out, int64_t group, const float *x,
                   const float *w, const float *bias, float *y) {
    const vx_kernels *kern = vx_kernels_get();
    int nsp = g->nsp;
    int64_t cig = c_in / group, cog = c_out / group, kvol = vx_nn_prod(g->k, nsp);
    int64_t kd = cig * kvol, olen = vx_nn_prod(g->out, nsp), ilen = vx_nn_prod(g->in, nsp);
    if (olen == 0 || c_out == 0) return 0;
    int64_t tile = (256 * 1024) / (kd ? kd : 1);
    if (tile < 16) tile = 16;
    if (tile > olen) tile = olen;
    float *col = malloc((size_t)(kd * tile + 1) * sizeof *col); /* +1: never malloc(0) */
    if (!col) return VOX_ERR_NOMEM;
    for (int64_t gi = 0; gi < group; gi++) {
        const float *xg = x + gi * cig * ilen, *wg = w + gi * cog * kd;
        float *yg = y + gi * cog * olen;
        for (int64_t p0 = 0; p0 < olen; p0 += tile) {
            int64_t n = olen - p0 < tile ? olen - p0 : tile;
            for (int64_t kq = 0; kq < kvol; kq++) {
                int64_t kc[VX_MAX_DIMS], rem = kq;
                for (int i = nsp - 1; i >= 0; i--) {
                    kc[i] = rem % g->k[i];
                    rem /= g->k[i];
                }
                for (int64_t j = 0; j < n; j++) {
                    int64_t pos = p0 + j, off = 0, inside = 1;
                    int64_t oc[VX_MAX_DIMS];
                    for (int i = nsp - 1; i >= 0; i--) {
                        oc[i] = pos % g->out[i];
                        pos /= g->out[i];
                    }
                    for (int i = 0; i < nsp; i++) {
                        int64_t c = oc[i] * g->s[i] + kc[i] * g->d[i] - g->pb[i];
                        if (c < 0 || c >= g->in[i]) {
                            inside = 0;
                            break;
                        }
                        off = off * g->in[i] + c;
                    }
                    for (int64_t ci = 0; ci < cig; ci++)
                        col[(ci * kvol + kq) * n + j] = inside ? xg[ci * ilen + off] : 0.0f;
                }
            }
            if (bias)
                for (int64_t c = 0; c < cog; c++)
                    for (int64_t j = 0; j < n; j++) yg[c * olen + p0 + j] = bias[gi * cog + c];
            kern->sgemm(0, 0, cog, n, kd, 1.0f, wg, kd, col, n, bias ? 1.0f : 0.0f, yg + p0, olen);
        }
    }
    free(col);
    return 0;
}

static int op_conv_plain(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                         vx_tensor *out, int n_out, const vx_tensor *res);

/* The fused step run op by op: LeakyReLU (prep->leaky_in) on a copy of X, the conv,
 * then the Add of res (if any) as its own op. keep_pack: the conv may still use the
 * step's packed weights. */
static int conv_unfused(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                        const vx_tensor *res, vx_tensor *out, int n_out, int keep_pack) {
    const vx_op_prep *pr = ctx->prep;
    vx_tensor xl = {0}, y = {0};
    vx_tensor *cin[3] = {in[0], in[1], n_in > 2 ? in[2] : NULL};
    int rc;
    if (pr->leaky_in) {
        const vx_tensor *x = in[0];
        if ((rc = need_float(ctx, node, x, "X"))) return rc;
        if ((rc = vx_op_alloc_raw(ctx, &xl, VX_FLOAT, x->ndim, x->dims)))
            return vx_op_fail(ctx, node, rc, "cannot allocate output");
        const float *xs = x->data;
        float *xd = xl.data, a = pr->alpha;
        for (int64_t i = 0; i < x->numel; i++) xd[i] = xs[i] >= 0 ? xs[i] : a * xs[i];
        cin[0] = &xl;
    }
    vx_op_prep p2 = *pr;
    p2.leaky_in = 0;
    p2.res = 0;
    vx_op_ctx c2 = *ctx;
    c2.prep = keep_pack ? &p2 : NULL;
    c2.inplace = 0;
    c2.dying = 0;
    rc = op_conv_plain(&c2, node, cin, n_in, res ? &y : out, n_out, NULL);
    vx_tensor_release(&xl);
    if (rc || !res) return rc;
    const vx_op_def *add = vx_op_find("Add");
    vx_tensor *ain[2] = {pr->res_first ? (vx_tensor *)res : &y,
                         pr->res_first ? &y : (vx_tensor *)res};
    c2.prep = NULL;
    rc = add ? add->fn(&c2, pr->add_node ? pr->add_node : node, ain, 2, out, 1) : VOX_ERR_INTERNAL;
    vx_tensor_release(&y);
    return rc;
}

/* A Conv step fused at load (graph.c): LeakyRelu on input 0 first and/or an Add of
 * input prep->res after. The fused kernel runs when shapes allow it; otherwise the
 * plain ops run one after the other, with the same semantics. */
static int op_conv_fused(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                         vx_tensor *out, int n_out) {
    const vx_op_prep *pr = ctx->prep;
    const vx_tensor *res = pr->res && pr->res < n_in ? in[pr->res] : NULL;
    if (pr->res && !res) return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "fused residual missing");
    int cn = n_in < 3 ? n_in : 3;
    if (in[0] && in[0]->dtype == VX_FLOAT && in[0]->ndim == 3 && (!res || res->dtype == VX_FLOAT))
        return op_conv_plain(ctx, node, in, cn, out, n_out, res); /* checks res shape */
    return conv_unfused(ctx, node, in, cn, res, out, n_out, 0);
}

static int op_conv(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                   vx_tensor *out, int n_out) {
    if (ctx->prep && (ctx->prep->leaky_in || ctx->prep->res))
        return op_conv_fused(ctx, node, in, n_in, out, n_out);
    return op_conv_plain(ctx, node, in, n_in < 3 ? n_in : 3, out, n_out, NULL);
}

static int same_shape(const vx_tensor *a, int ndim, const int64_t *dims) {
    if (a->ndim != ndim) return 0;
    for (int i = 0; i < ndim; i++)
        if (a->dims[i] != dims[i]) return 0;
    return 1;
}

/* res (fused Add) is only passed together with a fused kernel table. */
static int op_conv_plain(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                         vx_tensor *out, int n_out, const vx_tensor *res) {
    int64_t group;
    int64_t m = n_in >= 2 && in[1] && in[1]->ndim > 0 ? in[1]->dims[0] : 0;
    int rc = conv_check(ctx, node, in, n_in, &group, m);
    if (rc) return rc;
    if (n_out < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs an output");
    const vx_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
    int nsp = x->ndim - 2;
    int64_t n = x->dims[0], c = x->dims[1];
    if (c % group || w->dims[1] * group != c)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                          "channel mismatch: X has %lld channels, W expects %lld x group %lld",
                          (long long)c, (long long)w->dims[1], (long long)group);
    if (m % group)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                          "%lld output channels not divisible by group %lld", (long long)m,
                          (long long)group);
    vx_geom g;
    if ((rc = vx_nn_geom(ctx, node, nsp, x->dims + 2, w->dims + 2, 1, 0, &g))) return rc;
    int64_t od[VX_MAX_DIMS] = {n, m};
    for (int i = 0; i < nsp; i++) od[2 + i] = g.out[i];
    const vx_op_prep *pr = ctx->prep;
    if (res && !same_shape(res, x->ndim, od)) {
        /* the residual broadcasts: plain conv, then the Add */
        return conv_unfused(ctx, node, in, n_in, res, out, n_out, 1);
    }
    int leaky = pr && pr->leaky_in;
    const vx_kernels *kern = vx_kernels_get();
    const vx_kernels *fk = kern;
    /* reduced precision (prep.lowp): its cores behind the kernel-table interface, so the
     * same parallel drivers run them (in place too: int8's conv_nr is its scale block,
     * so the in-place tiles start on block boundaries and see the same scales;
     * tests/kernels/test_lowp.c checks the results are identical) */
    const vx_lowp_kernels *lk = pr && pr->lowp && pr->wpacked && nsp == 1 && pr->pk[0] == c &&
                                        pr->pk[1] == m && pr->pk[2] == group && pr->pk[3] == g.k[0]
                                    ? pr->lowp
                                    : NULL;
    if (lk) fk = vx_lowp_fused(lk);
    /* x = conv(x) + x with x dying here: computed over x (pool.h), when the conv's shape
     * allows it. */
    vx_conv1d_params p1 = {
        .c_in = c,
        .c_out = m,
        .group = group,
        .t_in = g.in[0],
        .t_out = g.out[0],
        .k = g.k[0],
        .stride = g.s[0],
        .dilation = g.d[0],
        .pad = g.pb[0],
        .ldx = g.in[0],
        .ldy = g.out[0],
        .t_begin = 0,
        .t_end = g.out[0],
    };
    int self_res = res && nsp == 1 && res->data == x->data && res->numel == x->numel && x->numel &&
                   (ctx->dying & 1) && pr->res < 32 && (ctx->dying >> pr->res & 1) &&
                   vx_conv1d_inplace_ok(&p1) && !(n_in > 2 && b && b->data == x->data) &&
                   w->data != x->data;
    /* A dying residual of the output's shape takes the output (the fused kernel reads
     * each residual element before writing that element). */
    if (self_res)
        vx_tensor_view(&out[0], res);
    else if (res && nsp == 1 && pr->res < 32 && (ctx->inplace >> pr->res & 1) && res->numel)
        vx_tensor_view(&out[0], res);
    else if ((rc = vx_op_alloc_raw(ctx, &out[0], VX_FLOAT, x->ndim, od))) /* fully written */
        return vx_op_fail(ctx, node, rc, "cannot allocate output");
    int64_t ilen = vx_nn_prod(g.in, nsp), olen = vx_nn_prod(g.out, nsp);
    const float *xd = x->data, *wd = w->data, *bd = b ? b->data : NULL;
    float *y = out[0].data;
    const void *wp = pr && pr->wpacked && pr->kernels == kern && pr->pk[0] == c && pr->pk[1] == m &&
                             pr->pk[2] == group && pr->pk[3] == g.k[0] && (!pr->lowp || lk)
                         ? pr->wpacked
                         : NULL;
    for (int64_t i = 0; i < n; i++) {
        if (nsp == 1) {
            vx_conv1d_params p = {
                .c_in = c,
                .c_out = m,
                .group = group,
                .t_in = g.in[0],
                .t_out = g.out[0],
                .k = g.k[0],
                .stride = g.s[0],
                .dilation = g.d[0],
                .pad = g.pb[0],
                .ldx = g.in[0],
                .ldy = g.out[0],
                .t_begin = 0,
                .t_end = g.out[0],
            };
            if (self_res) {
                rc = vx_par_conv1d_inplace(ctx->pool, fk, &p, wd, wp, bd, leaky,
                                           leaky ? pr->alpha : 0.0f, y + i * m * olen);
            } else if (leaky || res || lk) {
                vx_conv1d_fuse fu = {.leaky_in = leaky,
                                     .alpha = leaky ? pr->alpha : 0.0f,
                                     .res = res ? (const float *)res->data + i * m * olen : NULL,
                                     .ldr = g.out[0]};
                rc = vx_par_conv1d_fused(ctx->pool, fk, &p, xd + i * c * ilen, wd, wp, bd, &fu,
                                         y + i * m * olen);
            } else {
                rc = vx_par_conv1d(ctx->pool, kern, &p, xd + i * c * ilen, wd, wp, bd,
                                   y + i * m * olen);
            }
        } else {
            rc = conv_nd(&g, c, m, group, xd + i * c * ilen, wd, bd, y + i * m * olen);
        }
        if (rc) return vx_op_fail(ctx, node, rc, "out of memory for convolution scratch");
    }
    return 0;
}

/* --------------------------------------------------------------- ConvTranspose */

/* N-D transposed convolution of one batch item: per input-position tile, GEMM into
 * col[(c, kernel offset)][pos], then scatter-add into y (already holding the bias). */
static int convtr_nd(const vx_geom *g, int64_t c_in, int64_t c_out, int64_t group, const float *x,
                     const float *w, const float *bias, float *y) {
    const vx_kernels *kern = vx_kernels_get();
    int nsp = g->nsp;
    int64_t cig = c_in / group, cog = c_out / group, kvol = vx_nn_prod(g->k, nsp);
    int64_t rows = cog * kvol, ilen = vx_nn_prod(g->in, nsp), olen = vx_nn_prod(g->out, nsp);
    for (int64_t c = 0; c < c_out; c++)
        for (int64_t j = 0; j < olen; j++) y[c * olen + j] = bias ? bias[c] : 0.0f;
    if (ilen == 0 || rows == 0) return 0;
    int64_t tile = (256 * 1024) / rows;
    if (tile < 16) tile = 16;
    if (tile > ilen) tile = ilen;
    float *col = malloc((size_t)(rows * tile) * sizeof *col);
    if (!col) return VOX_ERR_NOMEM;
    for (int64_t gi = 0; gi < group; gi++) {
        const float *xg = x + gi * cig * ilen, *wg = w + gi * cig * rows;
        float *yg = y + gi * cog * olen;
        for (int64_t p0 = 0; p0 < ilen; p0 += tile) {
            int64_t n = ilen - p0 < tile ? ilen - p0 : tile;
            kern->sgemm(1, 0, rows, n, cig, 1.0f, wg, rows, xg + p0, ilen, 0.0f, col, n);
            for (int64_t kq = 0; kq < kvol; kq++) {
                int64_t kc[VX_MAX_DIMS], rem = kq;
                for (int i = nsp - 1; i >= 0; i--) {
                    kc[i] = rem % g->k[i];
                    rem /= g->k[i];
                }
                for (int64_t j = 0; j < n; j++) {
                    int64_t pos = p0 + j, off = 0, inside = 1, ic[VX_MAX_DIMS];
                    for (int i = nsp - 1; i >= 0; i--) {
                        ic[i] = pos % g->in[i];
                        pos /= g->in[i];
                    }
                    for (int i = 0; i < nsp; i++) {
                        int64_t o = ic[i] * g->s[i] + kc[i] * g->d[i] - g->pb[i];
                        if (o < 0 || o >= g->out[i]) {
                            inside = 0;
                            break;
                        }
                        off = off * g->out[i] + o;
                    }
                    if (!inside) continue;
                    for (int64_t c = 0; c < cog; c++)
                        yg[c * olen + off] += col[(c * kvol + kq) * n + j];
                }
            }
        }
    }
    free(col);
    return 0;
}

static int op_conv_transpose(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                             vx_tensor *out, int n_out) {
    int64_t group = vx_attr_int(node, "group", 1);
    int64_t m = n_in >= 2 && in[1] && in[1]->ndim > 1 && group > 0 ? in[1]->dims[1] * group : 0;
    int rc = conv_check(ctx, node, in, n_in, &group, m);
    if (rc) return rc;
    if (n_out < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs an output");
    const vx_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
    int nsp = x->ndim - 2;
    int64_t n = x->dims[0], c = x->dims[1];
    if (w->dims[0] != c || c % group)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                          "channel mismatch: X has %lld channels, W has %lld (group %lld)",
                          (long long)c, (long long)w->dims[0], (long long)group);
    /* Geometry: strides/dilations/pads as for Conv, then the transposed output size. */
    int64_t opad[VX_MAX_DIMS], oshape[VX_MAX_DIMS], pads[2 * VX_MAX_DIMS];
    vx_geom g;
    memset(&g, 0, sizeof g);
    g.nsp = nsp;
    int mode;
    if ((rc = read_ints(ctx, node, "strides", nsp, 1, 1, g.s)) ||
        (rc = read_ints(ctx, node, "dilations", nsp, 1, 1, g.d)) ||
        (rc = read_ints(ctx, node, "pads", 2 * nsp, 0, 0, pads)) ||
        (rc = read_ints(ctx, node, "output_padding", nsp, 0, 0, opad)) ||
        (rc = read_auto_pad(ctx, node, &mode)))
        return rc;
    const int64_t *os;
    int64_t nos = vx_attr_ints(node, "output_shape", &os);
    if (nos >= 0) {
        /* spatial sizes only, or the full shape (N, C, spatial...) */
        if (nos != nsp && nos != nsp + 2)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "output_shape has %lld values, expected %d",
                              (long long)nos, nsp);
        for (int i = 0; i < nsp; i++) {
            oshape[i] = os[nos - nsp + i];
            if (oshape[i] < 0 || oshape[i] > VX_MAX_ELEMS)
                return vx_op_fail(ctx, node, VOX_ERR_MODEL, "output_shape value out of range");
        }
    }
    for (int i = 0; i < nsp; i++) {
        int64_t in_i = x->dims[2 + i], dk = (w->dims[2 + i] - 1) * g.d[i] + 1;
        if (w->dims[2 + i] < 1)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "W has an empty kernel axis");
        if (opad[i] >= g.s[i] && opad[i] >= g.d[i])
            return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                              "output_padding[%d] = %lld must be less than stride or dilation", i,
                              (long long)opad[i]);
        g.in[i] = in_i;
        g.k[i] = w->dims[2 + i];
        int64_t full = g.s[i] * (in_i - 1) + opad[i] + dk;
        if (nos >= 0 || mode == PAD_SAME_UPPER || mode == PAD_SAME_LOWER) {
            int64_t target = nos >= 0 ? oshape[i] : in_i * g.s[i];
            int64_t total = full - target;
            /* ONNX spec (floor division, as the reference implementation): SAME_UPPER puts
             * the odd element at the end, otherwise at the start. total < 0 (a larger
             * output_shape) makes negative pads: zero-extended output. */
            int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
            g.pb[i] = mode == PAD_SAME_UPPER ? half : total - half;
            g.pe[i] = total - g.pb[i];
            g.out[i] = target;
        } else {
            if (mode == PAD_NOTSET) {
                g.pb[i] = pads[i];
                g.pe[i] = pads[nsp + i];
            }
            g.out[i] = full - g.pb[i] - g.pe[i];
            if (g.out[i] < 0)
                return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                                  "pads exceed the output size on spatial axis %d", i);
        }
    }
    int64_t od[VX_MAX_DIMS] = {n, m};
    for (int i = 0; i < nsp; i++) od[2 + i] = g.out[i];
    if ((rc = vx_op_alloc_raw(ctx, &out[0], VX_FLOAT, x->ndim, od))) /* fully written */
        return vx_op_fail(ctx, node, rc, "cannot allocate output");
    const vx_kernels *kern = vx_kernels_get();
    int64_t ilen = vx_nn_prod(g.in, nsp), olen = vx_nn_prod(g.out, nsp);
    const float *xd = x->data, *wd = w->data, *bd = b ? b->data : NULL;
    float *y = out[0].data;
    for (int64_t i = 0; i < n; i++) {
        if (nsp == 1) {
            vx_convtr1d_params p = {
                .c_in = c,
                .c_out = m,
                .group = group,
                .t_in = g.in[0],
                .t_out = g.out[0],
                .k = g.k[0],
                .stride = g.s[0],
                .dilation = g.d[0],
                .pad = g.pb[0],
            };
            const vx_op_prep *pr = ctx->prep;
            const vx_kernels *fk = kern;
            int64_t key = (p.k << 40) ^ (p.stride << 20) ^ (p.pad) ^ (p.dilation << 52);
            int match = pr && pr->wpacked && pr->kernels == kern && pr->pk[0] == c &&
                        pr->pk[1] == m && pr->pk[2] == group && pr->pk[3] == key;
            const void *wp = match && !pr->lowp ? pr->wpacked : NULL;
            if (match && pr->lowp) fk = vx_lowp_fused(pr->lowp); /* packed in lowp's format */
            rc = vx_par_convtr1d(ctx->pool, kern, fk, &p, xd + i * c * ilen, wd,
                                 match && pr->lowp ? pr->wpacked : wp, bd, y + i * m * olen);
        } else {
            rc = convtr_nd(&g, c, m, group, xd + i * c * ilen, wd, bd, y + i * m * olen);
        }
        if (rc) return vx_op_fail(ctx, node, rc, "out of memory for convolution scratch");
    }
    return 0;
}

/* ---------------------------------------------------------------------- MatMul */

static void matmul_i64(int64_t m, int64_t n, int64_t k, const int64_t *a, const int64_t *b,
                       int64_t *c) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            uint64_t s = 0; /* wraps on overflow instead of UB */
            for (int64_t p = 0; p < k; p++) s += (uint64_t)a[i * k + p] * (uint64_t)b[p * n + j];
            c[i * n + j] = (int64_t)s;
        }
}

/*
 * A float MatMul whose A is a selection matrix (every entry 0 or 1, at most one 1 per row)
 * and whose B is finite is a gather of B's rows: row i of C is B's row j where A[i][j] = 1,
 * or zeros. VITS's length regulator is such a MatMul (frames x phonemes path matrix times
 * the phoneme statistics, O(frames x phonemes x channels)); as a gather it is O(frames x
 * channels). The result is bit for bit what a GEMM gives: each sum is +0 plus one product
 * 1 * b and products 0 * b = +-0, and adding +-0 to a finite value or to +0 changes nothing,
 * in any order, so the sum is exactly 0.0f + b (b = -0 gives +0, as below). Non-finite B
 * (0 * inf = NaN) keeps the GEMM. Checked at run time, so it needs no graph pattern and
 * costs one pass over A that stops at the first entry other than 0 or 1 (an ordinary
 * MatMul's A: at once). VOX_MATMUL_GATHER=0 turns it off (for comparisons).
 */
static int matmul_gather_on = 1;
static int matmul_band_on = 1; /* see matmul_band */
static atomic_long matmul_gathers;
long vx_nn_matmul_gathers(void) { return atomic_load(&matmul_gathers); }
static pthread_once_t matmul_gather_once = PTHREAD_ONCE_INIT;
static void matmul_gather_read_env(void) {
    const char *v = getenv("VOX_MATMUL_GATHER");
    matmul_gather_on = !(v && (!strcmp(v, "0") || !strcmp(v, "off")));
    v = getenv("VOX_MATMUL_BAND");
    matmul_band_on = !(v && (!strcmp(v, "0") || !strcmp(v, "off")));
}

/* A [m x k] is a selection matrix. */
static int is_selection(const float *a, int64_t m, int64_t k) {
    for (int64_t i = 0; i < m; i++) {
        int ones = 0;
        for (int64_t p = 0; p < k; p++) {
            float v = a[i * k + p];
            if (v == 1.0f) {
                if (++ones > 1) return 0;
            } else if (v != 0.0f) {
                return 0;
            }
        }
    }
    return 1;
}

static int all_finite(const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!(b[i] - b[i] == 0.0f)) return 0; /* inf - inf and NaN - NaN are NaN */
    return 1;
}

/* C [m x n] = A [m x k] (a selection matrix) x B [k x n], as row copies. */
static void gather_rows(const float *a, const float *b, float *c, int64_t m, int64_t n, int64_t k) {
    for (int64_t i = 0; i < m; i++) {
        float *ci = c + i * n;
        const float *bj = NULL;
        for (int64_t p = 0; p < k && !bj; p++)
            if (a[i * k + p] == 1.0f) bj = b + p * n;
        for (int64_t q = 0; q < n; q++) ci[q] = bj ? 0.0f + bj[q] : 0.0f;
    }
}

/*
 * A B that is zero outside a band of rows [r0, r1) and columns [c0, c1) (VITS's
 * relative-position attention pads its 2w+1 = 9 relative embeddings with zeros to
 * 2n-1 rows, then multiplies the n x (2n-1) attention weights with them, and the
 * queries with their transpose): only the band is multiplied, C is +0 outside the
 * columns. Exact for finite A (0 * inf = NaN keeps the full GEMM): the skipped products
 * are +-0, and adding +-0 to a running sum changes nothing; the GEMM over the band sums
 * the same products in the same order, so the result is the full GEMM's unless the
 * kernel would have split the band's products across two of its K blocks (then the
 * grouping, not the terms, differs). VOX_MATMUL_BAND=0 turns it off.
 */
static atomic_long matmul_bands;
long vx_nn_matmul_bands(void) { return atomic_load(&matmul_bands); }

/* The rows and columns of B [k x n] holding its nonzero entries (empty: r0 = r1 = 0). */
static void nonzero_band(const float *b, int64_t k, int64_t n, int64_t *r0, int64_t *r1,
                         int64_t *c0, int64_t *c1) {
    *r0 = k, *r1 = 0, *c0 = n, *c1 = 0;
    for (int64_t p = 0; p < k; p++) {
        const float *row = b + p * n;
        int64_t lo = 0, hi = n;
        while (lo < n && row[lo] == 0.0f) lo++;
        if (lo == n) continue;
        while (row[hi - 1] == 0.0f) hi--;
        if (p < *r0) *r0 = p;
        *r1 = p + 1;
        if (lo < *c0) *c0 = lo;
        if (hi > *c1) *c1 = hi;
    }
    if (*r1 == 0) *r0 = *c0 = *c1 = 0;
}

/* C = A x B on B's nonzero band, if that saves at least half the work; 1 if done. */
static int matmul_band(const vx_kernels *kern, int64_t m, int64_t n, int64_t k, const float *a,
                       const float *b, float *c) {
    if (!matmul_band_on || m * n * k < ((int64_t)1 << 18)) return 0;
    int64_t r0, r1, c0, c1;
    nonzero_band(b, k, n, &r0, &r1, &c0, &c1);
    if ((r1 - r0) * (c1 - c0) * 2 > k * n || !all_finite(a, m * k)) return 0;
    memset(c, 0, (size_t)(m * n) * sizeof(float));
    if (r1 > r0 && c1 > c0)
        kern->sgemm(0, 0, m, c1 - c0, r1 - r0, 1.0f, a + r0, k, b + r0 * n + c0, n, 0.0f, c + c0,
                    n);
    atomic_fetch_add(&matmul_bands, 1);
    return 1;
}

/* C = A x B on float matrices: the gather when A selects rows, the band of a B that is
 * mostly zeros, else GEMM. */
static void matmul_f32(const vx_kernels *kern, int64_t m, int64_t n, int64_t k, const float *a,
                       const float *b, float *c) {
    pthread_once(&matmul_gather_once, matmul_gather_read_env);
    if (matmul_gather_on && m * k >= 4096 && is_selection(a, m, k) && all_finite(b, k * n)) {
        gather_rows(a, b, c, m, n, k);
        atomic_fetch_add(&matmul_gathers, 1);
    } else if (!matmul_band(kern, m, n, k, a, b, c)) {
        kern->sgemm(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    }
}

/* A float MatMul over the voice's threads: blocks of rows of C, each its own
 * matmul_f32. Every element is the same sum as in one call (GEMM blocks only K the same
 * way for any M; the gather and the band are exact), so the bits do not depend on the
 * thread count. */
typedef struct mm_job {
    const vx_kernels *kern;
    int64_t m, n, k, rows; /* rows per chunk */
    const float *a, *b;
    float *c;
} mm_job;

static void mm_chunk(void *arg, int64_t b, int64_t e) {
    const mm_job *j = arg;
    int64_t r0 = b * j->rows, r1 = e * j->rows < j->m ? e * j->rows : j->m;
    if (r1 > r0) matmul_f32(j->kern, r1 - r0, j->n, j->k, j->a + r0 * j->k, j->b, j->c + r0 * j->n);
}

static void matmul_f32_par(const vx_op_ctx *ctx, const vx_kernels *kern, int64_t m, int64_t n,
                           int64_t k, const float *a, const float *b, float *c) {
    int t = ctx->threads;
    if (!ctx->pool || t < 2 || m < 128 || m * n * k < ((int64_t)1 << 21)) {
        matmul_f32(kern, m, n, k, a, b, c);
        return;
    }
    int64_t rows = (m + 4 * t - 1) / (4 * t); /* about 4 chunks per thread */
    rows = (rows + 15) / 16 * 16;
    if (rows < 32) rows = 32;
    mm_job j = {.kern = kern, .m = m, .n = n, .k = k, .rows = rows, .a = a, .b = b, .c = c};
    int64_t nch = (m + rows - 1) / rows;
    vx_tpool_for_chunks(ctx->pool, nch, nch, mm_chunk, &j);
}

static int op_matmul(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                     vx_tensor *out, int n_out) {
    if (n_in < 2 || !in[0] || !in[1] || n_out < 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs inputs A and B");
    const vx_tensor *a = in[0], *b = in[1];
    if (a->dtype != b->dtype || (a->dtype != VX_FLOAT && a->dtype != VX_INT64))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "types %s x %s not supported",
                          vx_dtype_name(a->dtype), vx_dtype_name(b->dtype));
    if (a->ndim < 1 || b->ndim < 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "inputs must have rank >= 1");
    /* numpy rules: 1-D A is [1, K] and 1-D B is [K, 1]; the added axis is dropped. */
    int64_t m = a->ndim == 1 ? 1 : a->dims[a->ndim - 2], k = a->dims[a->ndim - 1];
    int64_t kb = b->ndim == 1 ? b->dims[0] : b->dims[b->ndim - 2];
    int64_t n = b->ndim == 1 ? 1 : b->dims[b->ndim - 1];
    if (k != kb)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                          "inner dimensions differ: A [..., %lld] x B [%lld, ...]", (long long)k,
                          (long long)kb);
    int ba = a->ndim > 2 ? a->ndim - 2 : 0, bb = b->ndim > 2 ? b->ndim - 2 : 0;
    int nb = ba > bb ? ba : bb;
    int64_t bd[VX_MAX_DIMS], sa[VX_MAX_DIMS], sb[VX_MAX_DIMS];
    /* batch broadcast with per-operand batch strides (in matrices), 0 where broadcast */
    int64_t stra = 1, strb = 1;
    for (int i = nb - 1; i >= 0; i--) {
        int ia = i - (nb - ba), ib = i - (nb - bb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                              "batch dimensions %lld and %lld do not broadcast", (long long)da,
                              (long long)db);
        bd[i] = da > db ? da : db;
        if (da == 0 || db == 0) bd[i] = 0;
        sa[i] = da == 1 ? 0 : stra;
        sb[i] = db == 1 ? 0 : strb;
        stra *= da;
        strb *= db;
    }
    int64_t od[VX_MAX_DIMS];
    int on = 0;
    for (int i = 0; i < nb; i++) od[on++] = bd[i];
    if (a->ndim > 1) od[on++] = m;
    if (b->ndim > 1) od[on++] = n;
    int rc = vx_op_alloc(ctx, &out[0], a->dtype, on, od);
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    int64_t nbatch = vx_nn_prod(bd, nb);
    if (out[0].numel == 0) return 0;
    const vx_kernels *kern = vx_kernels_get();
    if (a->dtype == VX_FLOAT && bb == 0) {
        /* B is one matrix: all of A's batches are one tall GEMM. */
        matmul_f32_par(ctx, kern, nbatch * m, n, k, a->data, b->data, out[0].data);
        return 0;
    }
    int64_t idx[VX_MAX_DIMS] = {0};
    for (int64_t t = 0; t < nbatch; t++) {
        int64_t oa = 0, ob = 0;
        for (int i = 0; i < nb; i++) {
            oa += idx[i] * sa[i];
            ob += idx[i] * sb[i];
        }
        if (a->dtype == VX_FLOAT)
            matmul_f32_par(ctx, kern, m, n, k, (const float *)a->data + oa * m * k,
                           (const float *)b->data + ob * k * n, (float *)out[0].data + t * m * n);
        else
            matmul_i64(m, n, k, (const int64_t *)a->data + oa * m * k,
                       (const int64_t *)b->data + ob * k * n, (int64_t *)out[0].data + t * m * n);
        for (int i = nb - 1; i >= 0; i--) {
            if (++idx[i] < bd[i]) break;
            idx[i] = 0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ Gemm */

static int op_gemm(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                   vx_tensor *out, int n_out) {
    if (n_in < 2 || n_out < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs inputs A and B");
    const vx_tensor *a = in[0], *b = in[1], *c = n_in > 2 ? in[2] : NULL;
    int rc;
    if ((rc = need_float(ctx, node, a, "A")) || (rc = need_float(ctx, node, b, "B"))) return rc;
    if (c && (rc = need_float(ctx, node, c, "C"))) return rc;
    if (a->ndim != 2 || b->ndim != 2)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "A and B must be 2-D");
    int ta = vx_attr_int(node, "transA", 0) != 0, tb = vx_attr_int(node, "transB", 0) != 0;
    float alpha = vx_attr_float(node, "alpha", 1.0f), beta = vx_attr_float(node, "beta", 1.0f);
    int64_t m = ta ? a->dims[1] : a->dims[0], k = ta ? a->dims[0] : a->dims[1];
    int64_t kb = tb ? b->dims[1] : b->dims[0], n = tb ? b->dims[0] : b->dims[1];
    if (k != kb)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "inner dimensions differ: %lld vs %lld",
                          (long long)k, (long long)kb);
    /* C broadcasts unidirectionally to [M, N]: row/column strides 0 on size-1 axes */
    int64_t cs_r = 0, cs_c = 0;
    if (c) {
        int64_t cr = c->ndim == 2 ? c->dims[0] : 1, cc = c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
        if (c->ndim > 2 || (cr != 1 && cr != m) || (cc != 1 && cc != n))
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "C does not broadcast to [%lld, %lld]",
                              (long long)m, (long long)n);
        cs_r = cr == 1 ? 0 : cc;
        cs_c = cc == 1 ? 0 : 1;
    }
    int64_t od[2] = {m, n};
    if ((rc = vx_op_alloc(ctx, &out[0], VX_FLOAT, 2, od)))
        return vx_op_fail(ctx, node, rc, "cannot allocate output");
    float *y = out[0].data;
    int use_c = c && beta != 0.0f && c->numel > 0;
    if (use_c) {
        const float *cd = c->data;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) y[i * n + j] = beta * cd[i * cs_r + j * cs_c];
    }
    vx_kernels_get()->sgemm(ta, tb, m, n, k, alpha, a->data, a->dims[1], b->data, b->dims[1],
                            use_c ? 1.0f : 0.0f, y, n);
    return 0;
}

const vx_op_def vx_ops_nn[] = {
    {"Conv", op_conv, 1},
    {"ConvTranspose", op_conv_transpose, 1},
    {"MatMul", op_matmul, 1},
    {"Gemm", op_gemm, 1},
    {"Softmax", vx_op_softmax, 1},
    {"LogSoftmax", vx_op_logsoftmax, 1},
    {"ReduceSum", vx_op_reduce, 1},
    {"ReduceMean", vx_op_reduce, 1},
    {"ReduceMax", vx_op_reduce, 1},
    {"ReduceMin", vx_op_reduce, 1},
    {"ReduceProd", vx_op_reduce, 1},
    {"ReduceL1", vx_op_reduce, 1},
    {"ReduceL2", vx_op_reduce, 1},
    {"ReduceSumSquare", vx_op_reduce, 1},
    {"ReduceLogSumExp", vx_op_reduce, 1},
    {"ArgMax", vx_op_argmax, 1},
    {"ArgMin", vx_op_argmin, 1},
    {"LayerNormalization", vx_op_layernorm, 1},
    {"InstanceNormalization", vx_op_instancenorm, 1},
    {"BatchNormalization", vx_op_batchnorm, 1},
    {"MaxPool", vx_op_maxpool, 1},
    {"AveragePool", vx_op_avgpool, 1},
    {"GlobalAveragePool", vx_op_globalavgpool, 1},
    {"GlobalMaxPool", vx_op_globalmaxpool, 1},
    {0, 0, 0},
};

/* The nn op family: Conv, ConvTranspose (here), MatMul and Gemm (nn_matmul.c), Softmax
 * and reductions (nn_reduce.c), normalizations and pooling (nn_norm.c). The wrappers validate shapes
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
        if ((rc = vx_nn_axis_out(ctx, node, g, i, ceil_mode))) return rc;
    }
    return 0;
}

int vx_nn_axis_out(vx_op_ctx *ctx, const vx_node *node, vx_geom *g, int i, int ceil_mode) {
    int64_t dk = (g->k[i] - 1) * g->d[i] + 1, s = g->s[i];
    int64_t span = g->in[i] + g->pb[i] + g->pe[i] - dk;
    if (span < 0)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                          "kernel extent %lld exceeds padded input %lld on spatial axis %d",
                          (long long)dk, (long long)(g->in[i] + g->pb[i] + g->pe[i]), i);
    int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    /* ceil_mode: a last window that starts in the end padding is dropped */
    if (ceil_mode && (out - 1) * s >= g->in[i] + g->pb[i]) out--;
    g->out[i] = out;
    return 0;
}

int vx_nn_need_float(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *t, const char *what) {
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
    if ((rc = vx_nn_need_float(ctx, node, x, "X")) || (rc = vx_nn_need_float(ctx, node, w, "W")))
        return rc;
    if (b && (rc = vx_nn_need_float(ctx, node, b, "B"))) return rc;
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
        if ((rc = vx_nn_need_float(ctx, node, x, "X"))) return rc;
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
    if (!keep_pack) { /* the raw weights (the fused Pad's padding still applies) */
        p2.wpacked = NULL;
        p2.lowp = NULL;
    }
    vx_op_ctx c2 = *ctx;
    c2.prep = &p2;
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

/* A fused zero Pad of the last axis (prep.xpad, engine/fuse.c) widens the conv's own
 * padding: the output grows by the same amount. */
static int add_pads(vx_op_ctx *ctx, const vx_node *node, vx_geom *g, const int64_t *xpad) {
    int a = g->nsp - 1;
    g->pb[a] += xpad[0];
    g->pe[a] += xpad[1];
    return vx_nn_axis_out(ctx, node, g, a, 0);
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
    const vx_op_prep *pr = ctx->prep;
    if (pr && (pr->xpad[0] || pr->xpad[1]) && (rc = add_pads(ctx, node, &g, pr->xpad))) return rc;
    int64_t od[VX_MAX_DIMS] = {n, m};
    for (int i = 0; i < nsp; i++) od[2 + i] = g.out[i];
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
    /* a LeakyRelu folded in at load (fuse.c) is applied by the 1-D kernels only */
    int leaky = ctx->prep && ctx->prep->leaky_in;
    if (leaky && nsp != 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "fused LeakyRelu needs a 1-D ConvTranspose");
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
                .leaky_in = leaky,
                .alpha = leaky ? ctx->prep->alpha : 0.0f,
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

const vx_op_def vx_ops_nn[] = {
    {"Conv", op_conv, 1},
    {"ConvTranspose", op_conv_transpose, 1},
    {"MatMul", vx_op_matmul, 1},
    {"Gemm", vx_op_gemm, 1},
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

/* Normalizations (Layer, Instance, Batch-inference) and pooling (Max, Average, Global). */
#include "ops/nn_internal.h"
#include "vox.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A per-channel parameter: 1-D of length c (or a single value when allow1). */
static int need_vec(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *t, const char *what,
                    int64_t c, int allow1) {
    int rc = vx_nn_need_float(ctx, node, t, what);
    if (rc) return rc;
    if (t->numel != c && !(allow1 && t->numel == 1))
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "%s has %lld elements, expected %lld", what,
                          (long long)t->numel, (long long)c);
    return 0;
}

/* ----------------------------------------------------------- LayerNormalization */

int vx_op_layernorm(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                    vx_tensor *out, int n_out) {
    if (n_in < 2 || n_out < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs X and Scale");
    const vx_tensor *x = in[0], *sc = in[1], *b = n_in > 2 ? in[2] : NULL;
    int rc = vx_nn_need_float(ctx, node, x, "X");
    if (rc) return rc;
    int r = x->ndim;
    int64_t axis_attr = vx_attr_int(node, "axis", -1);
    int a = vx_nn_axis(axis_attr, r);
    if (a < 0 || a >= r)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "axis %lld out of range for rank %d",
                          (long long)axis_attr, r);
    int64_t outer = vx_nn_prod(x->dims, a), len = vx_nn_prod(x->dims + a, r - a);
    if ((rc = need_vec(ctx, node, sc, "Scale", len, 1))) return rc;
    if (b && (rc = need_vec(ctx, node, b, "B", len, 1))) return rc;
    float eps = vx_attr_float(node, "epsilon", 1e-5f);
    if ((rc = vx_op_alloc(ctx, &out[0], VX_FLOAT, r, x->dims)))
        return vx_op_fail(ctx, node, rc, "cannot allocate output");
    /* Mean / InvStdDev: X's shape with the normalized axes set to 1. */
    float *mean_out = NULL, *inv_out = NULL;
    int64_t sd[VX_MAX_DIMS];
    for (int i = 0; i < r; i++) sd[i] = i < a ? x->dims[i] : 1;
    for (int k = 1; k <= 2 && k < n_out; k++) {
        if (k < node->n_outputs && node->outputs[k] && !node->outputs[k][0]) continue;
        if ((rc = vx_op_alloc(ctx, &out[k], VX_FLOAT, r, sd)))
            return vx_op_fail(ctx, node, rc, "cannot allocate output");
        if (k == 1)
            mean_out = out[k].data;
        else
            inv_out = out[k].data;
    }
    const float *xd = x->data, *sd_ = sc->data, *bd = b ? b->data : NULL;
    float *y = out[0].data;
    int s1 = sc->numel == 1, b1 = b && b->numel == 1;
    for (int64_t o = 0; o < outer; o++) {
        const float *xr = xd + o * len;
        float *yr = y + o * len;
        double s = 0.0, ss = 0.0;
        for (int64_t j = 0; j < len; j++) s += xr[j];
        double mean = len ? s / (double)len : 0.0;
        for (int64_t j = 0; j < len; j++) {
            double d = xr[j] - mean;
            ss += d * d;
        }
        double var = len ? ss / (double)len : 0.0;
        float inv = (float)(1.0 / sqrt(var + (double)eps)), m = (float)mean;
        for (int64_t j = 0; j < len; j++) {
            float v = (xr[j] - m) * inv * sd_[s1 ? 0 : j];
            yr[j] = bd ? v + bd[b1 ? 0 : j] : v;
        }
        if (mean_out) mean_out[o] = m;
        if (inv_out) inv_out[o] = inv;
    }
    return 0;
}

/* --------------------------------------------------- channel LayerNorm (fused) */

/* y[n][c][t] = (x - mean_t) / sqrt(var_t + eps) * gamma[c] + beta[c], mean and variance
 * over the channels of each time step: the graph's Transpose -> ReduceMean -> Sub -> Pow
 * -> ReduceMean -> Add -> Sqrt -> Div -> Mul -> Add -> Transpose as one step
 * (engine/fuse_norm.c). The normalization keeps the graph's per-element order (Div, Mul,
 * Add); the means do not: they are float sums down the channel rows, one accumulator per
 * time step, times 1/C (ReduceMean sums in double and divides), so the inner loops stream
 * along time (contiguous) instead of transposing twice. */
static int op_chan_norm(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                        vx_tensor *out, int n_out) {
    if (n_in < 3 || n_out < 1 || !ctx->prep)
        return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "bad fused norm");
    const vx_tensor *x = in[0], *gm = in[1], *bt = in[2];
    int rc = vx_nn_need_float(ctx, node, x, "X");
    if (rc) return rc;
    if (x->ndim != 3)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                          "channel LayerNorm expects [N, C, T], got rank %d", x->ndim);
    int64_t nb = x->dims[0], c = x->dims[1], t = x->dims[2];
    if ((rc = need_vec(ctx, node, gm, "gamma", c, 1)) ||
        (rc = need_vec(ctx, node, bt, "beta", c, 1)))
        return rc;
    if ((rc = vx_op_alloc_raw(ctx, &out[0], VX_FLOAT, 3, x->dims)))
        return vx_op_fail(ctx, node, rc, "cannot allocate output");
    if (!x->numel) return 0;
    float *acc = malloc((size_t)t * 2 * sizeof *acc);
    if (!acc) return vx_op_fail(ctx, node, VOX_ERR_NOMEM, "out of memory");
    float *mean = acc, *den = acc + t;
    const float *g = gm->data, *b = bt->data, inv_c = 1.0f / (float)c;
    float eps = ctx->prep->eps;
    int g1 = gm->numel == 1, b1 = bt->numel == 1;
    for (int64_t i = 0; i < nb; i++) {
        const float *xi = (const float *)x->data + i * c * t;
        float *yi = (float *)out[0].data + i * c * t;
        for (int64_t j = 0; j < t; j++) mean[j] = 0.0f;
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t j = 0; j < t; j++) mean[j] += xi[ch * t + j];
        for (int64_t j = 0; j < t; j++) {
            mean[j] *= inv_c;
            den[j] = 0.0f;
        }
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t j = 0; j < t; j++) {
                float d = xi[ch * t + j] - mean[j];
                den[j] += d * d;
            }
        for (int64_t j = 0; j < t; j++) den[j] = sqrtf(den[j] * inv_c + eps);
        for (int64_t ch = 0; ch < c; ch++) {
            float gc = g[g1 ? 0 : ch], bc = b[b1 ? 0 : ch];
            for (int64_t j = 0; j < t; j++)
                yi[ch * t + j] = (xi[ch * t + j] - mean[j]) / den[j] * gc + bc;
        }
    }
    free(acc);
    return 0;
}

const vx_op_def vx_chan_norm_def = {"ChannelLayerNorm", op_chan_norm, 1};

/* -------------------------------------------------------- InstanceNormalization */

int vx_op_instancenorm(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                       vx_tensor *out, int n_out) {
    if (n_in < 3 || n_out < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs X, scale and B");
    const vx_tensor *x = in[0];
    int rc = vx_nn_need_float(ctx, node, x, "X");
    if (rc) return rc;
    if (x->ndim < 3) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "X must have rank >= 3");
    int64_t n = x->dims[0], c = x->dims[1], len = vx_nn_prod(x->dims + 2, x->ndim - 2);
    if ((rc = need_vec(ctx, node, in[1], "scale", c, 0))) return rc;
    if ((rc = need_vec(ctx, node, in[2], "B", c, 0))) return rc;
    float eps = vx_attr_float(node, "epsilon", 1e-5f);
    if ((rc = vx_op_alloc(ctx, &out[0], VX_FLOAT, x->ndim, x->dims)))
        return vx_op_fail(ctx, node, rc, "cannot allocate output");
    const float *xd = x->data, *sc = in[1]->data, *bd = in[2]->data;
    float *y = out[0].data;
    for (int64_t i = 0; i < n * c; i++) {
        const float *xr = xd + i * len;
        float *yr = y + i * len;
        double s = 0.0, ss = 0.0;
        for (int64_t j = 0; j < len; j++) s += xr[j];
        double mean = len ? s / (double)len : 0.0;
        for (int64_t j = 0; j < len; j++) {
            double d = xr[j] - mean;
            ss += d * d;
        }
        double var = len ? ss / (double)len : 0.0;
        float k = (float)(sc[i % c] / sqrt(var + (double)eps)), m = (float)mean;
        for (int64_t j = 0; j < len; j++) yr[j] = (xr[j] - m) * k + bd[i % c];
    }
    return 0;
}

/* ------------------------------------------------ BatchNormalization (inference) */

int vx_op_batchnorm(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                    vx_tensor *out, int n_out) {
    if (n_in < 5 || n_out < 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs X, scale, B, mean and var");
    if (vx_attr_int(node, "training_mode", 0))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "training_mode=1 is not supported");
    const vx_tensor *x = in[0];
    int rc = vx_nn_need_float(ctx, node, x, "X");
    if (rc) return rc;
    if (x->ndim < 2) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "X must have rank >= 2");
    int64_t n = x->dims[0], c = x->dims[1], len = vx_nn_prod(x->dims + 2, x->ndim - 2);
    static const char *const names[] = {"scale", "B", "input_mean", "input_var"};
    for (int i = 0; i < 4; i++)
        if ((rc = need_vec(ctx, node, in[1 + i], names[i], c, 0))) return rc;
    float eps = vx_attr_float(node, "epsilon", 1e-5f);
    if ((rc = vx_op_alloc(ctx, &out[0], VX_FLOAT, x->ndim, x->dims)))
        return vx_op_fail(ctx, node, rc, "cannot allocate output");
    const float *xd = x->data, *sc = in[1]->data, *bd = in[2]->data, *mu = in[3]->data,
                *var = in[4]->data;
    float *y = out[0].data;
    for (int64_t i = 0; i < n * c; i++) {
        int64_t ch = i % c;
        float k = sc[ch] / sqrtf(var[ch] + eps), sh = bd[ch] - mu[ch] * k;
        for (int64_t j = 0; j < len; j++) y[i * len + j] = xd[i * len + j] * k + sh;
    }
    return 0;
}

/* ---------------------------------------------------------------------- pooling */

/* Shared setup: X [N, C, spatial...] and the window geometry from kernel_shape. */
static int pool_setup(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                      vx_tensor *out, int n_out, vx_geom *g) {
    if (n_in < 1 || n_out < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs an input");
    const vx_tensor *x = in[0];
    int rc = vx_nn_need_float(ctx, node, x, "X");
    if (rc) return rc;
    if (x->ndim < 3) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "X must have rank >= 3");
    int nsp = x->ndim - 2;
    const int64_t *ks;
    if (vx_attr_ints(node, "kernel_shape", &ks) != nsp)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "kernel_shape must have %d values", nsp);
    rc = vx_nn_geom(ctx, node, nsp, x->dims + 2, ks, 1, vx_attr_int(node, "ceil_mode", 0) != 0, g);
    if (rc) return rc;
    int64_t od[VX_MAX_DIMS] = {x->dims[0], x->dims[1]};
    for (int i = 0; i < nsp; i++) od[2 + i] = g->out[i];
    if ((rc = vx_op_alloc(ctx, &out[0], VX_FLOAT, x->ndim, od)))
        return vx_op_fail(ctx, node, rc, "cannot allocate output");
    return 0;
}

/* Odometer step over n dims; returns 0 when it wraps around. */
static int odo_next(int64_t *idx, const int64_t *dims, int n) {
    for (int i = n - 1; i >= 0; i--) {
        if (++idx[i] < dims[i]) return 1;
        idx[i] = 0;
    }
    return 0;
}

static int pool_common(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                       vx_tensor *out, int n_out, int is_max) {
    vx_geom g;
    int rc = pool_setup(ctx, node, in, n_in, out, n_out, &g);
    if (rc) return rc;
    const vx_tensor *x = in[0];
    int nsp = g.nsp;
    int include_pad = vx_attr_int(node, "count_include_pad", 0) != 0;
    int64_t *ind = NULL;
    if (is_max && n_out > 1 && !(node->n_outputs > 1 && node->outputs[1] && !node->outputs[1][0])) {
        if (vx_attr_int(node, "storage_order", 0))
            return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "storage_order=1 is not supported");
        if ((rc = vx_op_alloc(ctx, &out[1], VX_INT64, out[0].ndim, out[0].dims)))
            return vx_op_fail(ctx, node, rc, "cannot allocate output");
        ind = out[1].data;
    }
    int64_t planes = x->dims[0] * x->dims[1], ilen = vx_nn_prod(g.in, nsp),
            olen = vx_nn_prod(g.out, nsp);
    const float *xd = x->data;
    float *y = out[0].data;
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = xd + pl * ilen;
        int64_t oi[VX_MAX_DIMS] = {0};
        for (int64_t o = 0; o < olen; o++, odo_next(oi, g.out, nsp)) {
            int64_t ki[VX_MAX_DIMS] = {0}, kvol = vx_nn_prod(g.k, nsp), padded = 0, cnt = 0,
                    best = -1;
            float acc = is_max ? -INFINITY : 0.0f;
            for (int64_t q = 0; q < kvol; q++, odo_next(ki, g.k, nsp)) {
                int64_t off = 0, inside = 1, inpad = 1;
                for (int i = 0; i < nsp; i++) {
                    int64_t c = oi[i] * g.s[i] + ki[i] * g.d[i] - g.pb[i];
                    if (c < 0 || c >= g.in[i]) inside = 0;
                    if (c < -g.pb[i] || c >= g.in[i] + g.pe[i]) inpad = 0;
                    off = off * g.in[i] + c;
                }
                padded += inpad;
                if (!inside) continue;
                float v = xp[off];
                cnt++;
                if (is_max) {
                    if (v > acc || best < 0) {
                        acc = v;
                        best = off;
                    }
                } else
                    acc += v;
            }
            if (is_max) {
                y[pl * olen + o] = acc;
                if (ind) ind[pl * olen + o] = best < 0 ? -1 : pl * ilen + best;
            } else {
                int64_t div = include_pad ? padded : cnt;
                y[pl * olen + o] = div ? acc / (float)div : 0.0f;
            }
        }
    }
    return 0;
}

int vx_op_maxpool(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                  vx_tensor *out, int n_out) {
    return pool_common(ctx, node, in, n_in, out, n_out, 1);
}

int vx_op_avgpool(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                  vx_tensor *out, int n_out) {
    return pool_common(ctx, node, in, n_in, out, n_out, 0);
}

static int global_pool(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                       vx_tensor *out, int n_out, int is_max) {
    if (n_in < 1 || n_out < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs an input");
    const vx_tensor *x = in[0];
    int rc = vx_nn_need_float(ctx, node, x, "X");
    if (rc) return rc;
    if (x->ndim < 2) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "X must have rank >= 2");
    int64_t od[VX_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) od[i] = i < 2 ? x->dims[i] : 1;
    if ((rc = vx_op_alloc(ctx, &out[0], VX_FLOAT, x->ndim, od)))
        return vx_op_fail(ctx, node, rc, "cannot allocate output");
    int64_t planes = x->dims[0] * x->dims[1], len = vx_nn_prod(x->dims + 2, x->ndim - 2);
    const float *xd = x->data;
    float *y = out[0].data;
    for (int64_t p = 0; p < planes; p++) {
        double acc = is_max ? -INFINITY : 0.0;
        for (int64_t j = 0; j < len; j++) {
            float v = xd[p * len + j];
            if (is_max) {
                if (v > acc) acc = v;
            } else
                acc += v;
        }
        y[p] = (float)(is_max ? acc : (len ? acc / (double)len : NAN));
    }
    return 0;
}

int vx_op_globalavgpool(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                        vx_tensor *out, int n_out) {
    return global_pool(ctx, node, in, n_in, out, n_out, 0);
}

int vx_op_globalmaxpool(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                        vx_tensor *out, int n_out) {
    return global_pool(ctx, node, in, n_in, out, n_out, 1);
}

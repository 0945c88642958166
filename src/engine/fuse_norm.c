/* Load-time fusion of the channel LayerNorm that VITS's text encoder and duration
 * predictor export for every normalization (modules.LayerNorm: x.transpose(1, -1),
 * F.layer_norm over channels, transpose back):
 *
 *   T = Transpose(x, perm 0,2,1)   m = ReduceMean(T, last axis)   d = Sub(T, m)
 *   v = ReduceMean(Pow(d, 2), last axis)   s = Sqrt(Add(v, eps))
 *   y = Transpose(Add(Mul(Div(d, s), gamma), beta), perm 0,2,1)
 *
 * eleven steps, each writing a full [n, t, c] tensor (36 such norms per sentence in the
 * medium voice: text encoder and duration predictor), become one step normalizing x over
 * its channel axis in place of the second Transpose (ops/nn_norm.c, vx_chan_norm_def). Found by that structure (each
 * intermediate read only inside it, gamma and beta constant vectors, eps and the
 * exponent constant scalars), not by names. VOX_FUSE_NORM=0 turns it off. */
#include "engine/graph_internal.h"
#include "vox.h"
#include <string.h>

/* The only step reading slot s (which nothing else reads and is no graph output). */
static int sole_reader(const vx_graph *g, int s, const int *uses, int after) {
    if (s < 0 || g->is_output[s] || uses[s] != 1) return -1;
    for (int q = after + 1; q < g->n_steps; q++) {
        const vx_step *st = &g->steps[q];
        if (!st->node) continue;
        for (int j = 0; j < st->n_in; j++)
            if (st->in[j] == s) return q;
    }
    return -1;
}

/* The first two steps after `after` that read slot s (-1 where there are fewer). */
static void two_readers(const vx_graph *g, int s, int after, int *r) {
    r[0] = r[1] = -1;
    for (int q = after + 1, n = 0; q < g->n_steps && n < 2; q++) {
        const vx_step *st = &g->steps[q];
        if (!st->node) continue;
        for (int j = 0; j < st->n_in; j++)
            if (st->in[j] == s) {
                r[n++] = q;
                break;
            }
    }
}

/* A constant 1-D float vector. */
static int const_vec(const vx_graph *g, int s) {
    if (s < 0 || !g->is_const[s]) return 0;
    const vx_tensor *t = &g->consts[s];
    return t->dtype == VX_FLOAT && t->ndim == 1 && t->numel >= 1;
}

static int is_swap_last(const vx_graph *g, int k) {
    if (!vx_graph_step_is(g, k, "Transpose", 1)) return 0;
    const int64_t *p;
    return vx_attr_ints(g->steps[k].node, "perm", &p) == 3 && p[0] == 0 && p[1] == 2 && p[2] == 1;
}

/* ReduceMean over the last axis of a rank-3 value, keeping it (axes as attribute, or as a
 * constant input from opset 18). */
static int is_mean_last(const vx_graph *g, int k) {
    if (!vx_graph_step_is(g, k, "ReduceMean", 1) && !vx_graph_step_is(g, k, "ReduceMean", 2))
        return 0;
    const vx_node *n = g->steps[k].node;
    if (vx_attr_int(n, "keepdims", 1) != 1) return 0;
    const int64_t *ax;
    int64_t na = vx_attr_ints(n, "axes", &ax), a0;
    if (g->steps[k].n_in == 2) { /* an int64 constant (ONNX's axes type) */
        int s = g->steps[k].in[1];
        if (s < 0 || !g->is_const[s] || g->consts[s].dtype != VX_INT64 ||
            !vx_graph_const_int(g, s, &a0))
            return 0;
        na = 1;
    } else if (na == 1) {
        a0 = ax[0];
    }
    return na == 1 && (a0 == -1 || a0 == 2);
}

/* The other input of binary step k besides slot s (s must be one of them), or -1. */
static int other_in(const vx_graph *g, int k, int s) {
    const vx_step *st = &g->steps[k];
    if (st->in[0] == s) return st->in[1];
    return st->in[1] == s ? st->in[0] : -1;
}

/* Matches the norm whose first Transpose is step k; its steps into ks[0..11), the
 * constants into cs = {gamma, beta}, eps into *eps. */
enum { N_T0, N_MEAN, N_SUB, N_POW, N_VAR, N_ADD, N_SQRT, N_DIV, N_MUL, N_BIAS, N_T1, N_N };
static int match(const vx_graph *g, int k, const int *uses, int *ks, int *cs, float *eps) {
    if (!is_swap_last(g, k)) return 0;
    ks[N_T0] = k;
    int t = g->steps[k].out[0];
    if (t < 0 || g->is_output[t] || uses[t] != 2) return 0;
    int r[2], mean = -1, sub = -1;
    two_readers(g, t, k, r);
    for (int i = 0; i < 2 && r[i] >= 0; i++) {
        if (g->steps[r[i]].in[0] != t) return 0;
        if (is_mean_last(g, r[i])) mean = r[i];
        if (vx_graph_step_is(g, r[i], "Sub", 2)) sub = r[i];
    }
    if (mean < 0 || sub < 0 || sub < mean) return 0;
    int m = g->steps[mean].out[0];
    if (g->steps[sub].in[1] != m || uses[m] != 1 || g->is_output[m]) return 0;
    ks[N_MEAN] = mean;
    ks[N_SUB] = sub;
    int d = g->steps[sub].out[0];
    if (d < 0 || g->is_output[d] || uses[d] != 2) return 0;
    int pw = -1, dv = -1;
    two_readers(g, d, sub, r);
    for (int i = 0; i < 2 && r[i] >= 0; i++) {
        if (g->steps[r[i]].in[0] != d) return 0;
        if (vx_graph_step_is(g, r[i], "Pow", 2)) pw = r[i];
        if (vx_graph_step_is(g, r[i], "Div", 2)) dv = r[i];
    }
    float two;
    if (pw < 0 || dv < 0 || !vx_graph_const_scalar(g, g->steps[pw].in[1], &two) || two != 2.0f)
        return 0;
    ks[N_POW] = pw;
    ks[N_VAR] = sole_reader(g, g->steps[pw].out[0], uses, pw);
    if (!is_mean_last(g, ks[N_VAR]) || g->steps[ks[N_VAR]].in[0] != g->steps[pw].out[0]) return 0;
    int v = g->steps[ks[N_VAR]].out[0];
    ks[N_ADD] = sole_reader(g, v, uses, ks[N_VAR]);
    if (!vx_graph_step_is(g, ks[N_ADD], "Add", 2) ||
        !vx_graph_const_scalar(g, other_in(g, ks[N_ADD], v), eps))
        return 0;
    ks[N_SQRT] = sole_reader(g, g->steps[ks[N_ADD]].out[0], uses, ks[N_ADD]);
    if (!vx_graph_step_is(g, ks[N_SQRT], "Sqrt", 1)) return 0;
    ks[N_DIV] = dv;
    if (g->steps[dv].in[1] != g->steps[ks[N_SQRT]].out[0] || dv < ks[N_SQRT] ||
        uses[g->steps[ks[N_SQRT]].out[0]] != 1)
        return 0;
    int n = g->steps[dv].out[0];
    ks[N_MUL] = sole_reader(g, n, uses, dv);
    if (!vx_graph_step_is(g, ks[N_MUL], "Mul", 2) ||
        !const_vec(g, cs[0] = other_in(g, ks[N_MUL], n)))
        return 0;
    int gm = g->steps[ks[N_MUL]].out[0];
    ks[N_BIAS] = sole_reader(g, gm, uses, ks[N_MUL]);
    if (!vx_graph_step_is(g, ks[N_BIAS], "Add", 2) ||
        !const_vec(g, cs[1] = other_in(g, ks[N_BIAS], gm)))
        return 0;
    ks[N_T1] = sole_reader(g, g->steps[ks[N_BIAS]].out[0], uses, ks[N_BIAS]);
    return is_swap_last(g, ks[N_T1]) && g->consts[cs[0]].numel == g->consts[cs[1]].numel &&
           *eps >= 0.0f;
}

int vx_graph_fuse_norm(vx_graph *g, int *uses) {
    vx_graph_count_uses(g, uses);
    int fused = 0;
    for (int k = 0; k < g->n_steps; k++) {
        int ks[N_N], cs[2];
        float eps;
        if (!match(g, k, uses, ks, cs, &eps)) continue;
        int x = g->steps[k].in[0];
        for (int i = 0; i < N_T1; i++) {
            vx_step *st = &g->steps[ks[i]];
            g->elided[st->out[0]] = 1;
            st->node = NULL;
        }
        vx_step *o = &g->steps[ks[N_T1]];
        o->def = &vx_chan_norm_def;
        o->in[0] = x; /* a Transpose step has room for 3 inputs (plan_steps) */
        o->in[1] = cs[0];
        o->in[2] = cs[1];
        o->n_in = 3;
        o->has_prep = 1;
        o->prep.eps = eps;
        fused += N_T1;
        vx_graph_count_uses(g, uses);
    }
    return fused;
}

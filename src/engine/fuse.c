/* Load-time graph rewrites: operator fusion. Runs once per model, after constant
 * folding and before weights are packed (graph.c: optimize_steps). */
#include "engine/graph_internal.h"
#include "kernels/kernels.h"
#include <stdlib.h>
#include <string.h>

int vx_env_off(const char *name) {
    const char *v = getenv(name);
    return v && (!strcmp(v, "0") || !strcmp(v, "off"));
}

/* Number of steps reading slot s (+1 if it is a graph output). */
static void count_uses(const vx_graph *g, int *uses) {
    memset(uses, 0, (size_t)g->n_values * sizeof(int));
    for (int k = 0; k < g->n_steps; k++) {
        const vx_step *st = &g->steps[k];
        if (!st->node) continue;
        for (int j = 0; j < st->n_in; j++)
            if (st->in[j] >= 0) uses[st->in[j]]++;
    }
    for (int i = 0; i < g->model->n_outputs; i++) uses[g->out_slots[i]]++;
}

static int producer_of(const vx_graph *g, int s, int before) {
    for (int k = before - 1; k >= 0; k--) {
        const vx_step *st = &g->steps[k];
        if (!st->node) continue;
        for (int j = 0; j < st->n_out; j++)
            if (st->out[j] == s) return k;
    }
    return -1;
}

/* A Conv over 1-D signals with constant rank-3 float weights. */
static int is_conv1d(const vx_graph *g, const vx_step *st) {
    if (strcmp(st->node->op_type, "Conv") || st->n_in < 2 || st->n_out != 1 || st->in[1] < 0)
        return 0;
    int ws = st->in[1];
    if (!g->is_const[ws]) return 0;
    const vx_tensor *w = &g->consts[ws];
    if (w->dtype != VX_FLOAT || w->ndim != 3) return 0;
    if (st->n_in > 2 && st->in[2] >= 0 && !g->is_const[st->in[2]]) return 0;
    return 1;
}

/* A LeakyRelu whose output feeds several conv1d steps only through their input 0 (the
 * exporter merges the identical LeakyRelu(x) of parallel HiFi-GAN resblocks into one
 * node): each conv applies the LeakyReLU on its own input reads, and the LeakyRelu step
 * and its (large) output tensor go away. Returns the number of convs rewritten. */
static int fuse_shared_leaky(vx_graph *g, int lk, const int *uses) {
    vx_step *l = &g->steps[lk];
    if (strcmp(l->node->op_type, "LeakyRelu") || l->n_in < 1 || l->in[0] < 0 || l->n_out != 1)
        return 0;
    int xs = l->out[0];
    if (xs < 0 || g->is_output[xs] || uses[xs] < 2) return 0;
    int found = 0;
    for (int q = lk + 1; q < g->n_steps; q++) {
        const vx_step *c = &g->steps[q];
        if (!c->node) continue;
        for (int j = 0; j < c->n_in; j++) {
            if (c->in[j] != xs) continue;
            if (j != 0 || !is_conv1d(g, c) || c->prep.leaky_in) return 0;
            found++;
        }
    }
    if (found != uses[xs]) return 0;
    float alpha = vx_attr_float(l->node, "alpha", 0.01f);
    for (int q = lk + 1; q < g->n_steps; q++) {
        vx_step *c = &g->steps[q];
        if (!c->node || c->in[0] != xs) continue;
        c->has_prep = 1;
        c->prep.leaky_in = 1;
        c->prep.alpha = alpha;
        c->in[0] = l->in[0];
    }
    g->elided[xs] = 1;
    l->node = NULL;
    return found;
}

/* LeakyRelu -> Conv -> Add fused into one Conv step (kernels with conv1d_fused_f32 only;
 * the fused op falls back to the plain computation whenever the run-time shapes do not
 * allow it). Removed steps get node = NULL. */
int vx_graph_fuse(vx_graph *g, const vx_kernels *f, int *uses) {
    int n = 0;
    count_uses(g, uses);
    for (int k = 0; k < g->n_steps; k++)
        if (g->steps[k].node && fuse_shared_leaky(g, k, uses)) n++;
    for (int k = 0; k < g->n_steps; k++) {
        vx_step *c = &g->steps[k];
        if (!c->node || !is_conv1d(g, c) || c->in[0] < 0 || c->prep.res) continue;
        /* LeakyRelu feeding only this conv */
        int xs = c->in[0];
        int lk =
            !c->prep.leaky_in && !g->is_output[xs] && uses[xs] == 1 ? producer_of(g, xs, k) : -1;
        if (lk >= 0) {
            vx_step *l = &g->steps[lk];
            if (strcmp(l->node->op_type, "LeakyRelu") || l->n_in < 1 || l->in[0] < 0 ||
                l->n_out != 1)
                lk = -1;
        }
        if (lk >= 0) {
            vx_step *l = &g->steps[lk];
            c->has_prep = 1;
            c->prep.leaky_in = 1;
            c->prep.alpha = vx_attr_float(l->node, "alpha", 0.01f);
            c->in[0] = l->in[0];
            g->elided[xs] = 1;
            l->node = NULL;
            n++;
        }
        /* Add consuming only this conv's output; the fused step takes the Add's place so
         * the residual is available. */
        int ys = c->out[0];
        if (ys < 0 || g->is_output[ys] || uses[ys] != 1) continue;
        int ak = -1, other = -1;
        for (int q = k + 1; q < g->n_steps && ak < 0; q++) {
            vx_step *a = &g->steps[q];
            if (!a->node) continue;
            for (int j = 0; j < a->n_in; j++)
                if (a->in[j] == ys) ak = q;
            if (ak >= 0 && (strcmp(a->node->op_type, "Add") || a->n_in != 2 || a->n_out != 1 ||
                            a->in[0] < 0 || a->in[1] < 0 || a->in[0] == a->in[1]))
                ak = -2;
            if (ak >= 0) other = a->in[0] == ys ? a->in[1] : a->in[0];
        }
        if (ak < 0) continue;
        vx_step *a = &g->steps[ak];
        vx_step fused = *c;
        int nin = c->n_in;
        /* in[] has room for 4 (see plan_steps) */
        if (nin < 3) fused.in[2] = -1;
        fused.in[3] = other;
        fused.n_in = 4;
        fused.out[0] = a->out[0];
        fused.has_prep = 1;
        fused.prep.res = 3;
        fused.prep.res_first = a->in[0] == other;
        fused.prep.add_node = a->node;
        g->elided[ys] = 1;
        c->node = NULL;
        *a = fused;
        n++;
    }
    return n;
}

/* Load-time graph rewrites: operator fusion. Runs once per model, after constant
 * folding and before weights are packed (graph.c: optimize_steps). */
#include "engine/graph_internal.h"
#include "kernels/kernels.h"
#include "vox.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vx_env_off(const char *name) {
    const char *v = getenv(name);
    return v && (!strcmp(v, "0") || !strcmp(v, "off"));
}

/* Number of steps reading slot s (+1 if it is a graph output). */
void vx_graph_count_uses(const vx_graph *g, int *uses) {
    memset(uses, 0, (size_t)g->n_values * sizeof(int));
    for (int k = 0; k < g->n_steps; k++) {
        const vx_step *st = &g->steps[k];
        if (!st->node) continue;
        for (int j = 0; j < st->n_in; j++)
            if (st->in[j] >= 0) uses[st->in[j]]++;
    }
    for (int i = 0; i < g->model->n_outputs; i++) uses[g->out_slots[i]]++;
}

int vx_graph_step_is(const vx_graph *g, int k, const char *op, int n_in) {
    if (k < 0) return 0;
    const vx_step *st = &g->steps[k];
    return st->node && !st->has_prep && st->n_out == 1 && st->n_in == n_in &&
           !strcmp(st->node->op_type, op);
}

int vx_graph_producer_before(const vx_graph *g, int s, int before) {
    for (int k = before - 1; k >= 0; k--) {
        const vx_step *st = &g->steps[k];
        if (!st->node) continue;
        for (int j = 0; j < st->n_out; j++)
            if (st->out[j] == s) return k;
    }
    return -1;
}

/* A Conv (or ConvTranspose) over 1-D signals with constant rank-3 float weights. */
static int is_conv1d_op(const vx_graph *g, const vx_step *st, const char *op) {
    if (strcmp(st->node->op_type, op) || st->n_in < 2 || st->n_out != 1 || st->in[1] < 0)
        return 0;
    int ws = st->in[1];
    if (!g->is_const[ws]) return 0;
    const vx_tensor *w = &g->consts[ws];
    if (w->dtype != VX_FLOAT || w->ndim != 3) return 0;
    if (st->n_in > 2 && st->in[2] >= 0 && !g->is_const[st->in[2]]) return 0;
    return 1;
}
static int is_conv1d(const vx_graph *g, const vx_step *st) { return is_conv1d_op(g, st, "Conv"); }

/* The LeakyRelu producing conv step k's input 0 for it alone is applied by the conv on its
 * input reads (prep.leaky_in): the LeakyRelu step and its output tensor go away. 1 if done. */
static int take_leaky(vx_graph *g, int k, const int *uses) {
    vx_step *c = &g->steps[k];
    int xs = c->in[0];
    if (c->prep.leaky_in || g->is_output[xs] || uses[xs] != 1) return 0;
    int lk = vx_graph_producer_before(g, xs, k);
    if (lk < 0) return 0;
    vx_step *l = &g->steps[lk];
    if (strcmp(l->node->op_type, "LeakyRelu") || l->n_in < 1 || l->in[0] < 0 || l->n_out != 1)
        return 0;
    c->has_prep = 1;
    c->prep.leaky_in = 1;
    c->prep.alpha = vx_attr_float(l->node, "alpha", 0.01f);
    c->in[0] = l->in[0];
    g->elided[xs] = 1;
    l->node = NULL;
    return 1;
}

/* A Pad of +0 along the time axis only, read by conv step k alone, becomes the conv's
 * own zero padding (prep.xpad): the padded copy of the input (a tensor written and read
 * again per conv; Piper's text-encoder FFNs pad before each of their 12 convs) goes away.
 * A Conv pads with zeros, so every sum is the same. 1 if done. */
static int take_pad(vx_graph *g, int k, const int *uses) {
    vx_step *c = &g->steps[k];
    int xs = c->in[0];
    if (c->prep.xpad[0] || c->prep.xpad[1] || c->prep.leaky_in || g->is_output[xs] ||
        uses[xs] != 1 || g->model->opset < 11 ||
        strcmp(vx_attr_str(c->node, "auto_pad", "NOTSET"), "NOTSET"))
        return 0;
    int pk = vx_graph_producer_before(g, xs, k);
    if (pk < 0) return 0;
    vx_step *p = &g->steps[pk];
    if (strcmp(p->node->op_type, "Pad") || p->has_prep || p->n_out != 1 || p->n_in < 2 ||
        p->in[0] < 0 || p->in[1] < 0 || !g->is_const[p->in[1]] ||
        strcmp(vx_attr_str(p->node, "mode", "constant"), "constant"))
        return 0;
    if (p->n_in > 3 && p->in[3] >= 0) return 0; /* axes: not worth the cases */
    if (p->n_in > 2 && p->in[2] >= 0) {           /* the value must be +0 */
        float v;
        uint32_t bits = 1;
        if (vx_graph_const_scalar(g, p->in[2], &v)) memcpy(&bits, &v, 4);
        if (bits) return 0;
    }
    if (vx_graph_const_restore(g, p->in[1])) return 0; /* a deferred initializer: its bytes */
    const vx_tensor *pt = &g->consts[p->in[1]];
    if (pt->dtype != VX_INT64 || pt->numel != 6 || !pt->data) return 0; /* rank 3 */
    const int64_t *pd = pt->data;
    if (pd[0] || pd[1] || pd[3] || pd[4] || pd[2] < 0 || pd[5] < 0 || pd[2] > VX_MAX_ELEMS ||
        pd[5] > VX_MAX_ELEMS)
        return 0;
    c->has_prep = 1;
    c->prep.xpad[0] = pd[2];
    c->prep.xpad[1] = pd[5];
    c->in[0] = p->in[0];
    g->elided[xs] = 1;
    p->node = NULL;
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
 * allow it), LeakyRelu -> ConvTranspose into one ConvTranspose step (every kernel table
 * reads its input through the LeakyReLU: vx_convtr1d_params.leaky_in). Removed steps get
 * node = NULL. */
int vx_graph_fuse(vx_graph *g, const vx_kernels *f, int *uses) {
    int n = 0;
    vx_graph_count_uses(g, uses);
    for (int k = 0; k < g->n_steps; k++)
        if (g->steps[k].node && fuse_shared_leaky(g, k, uses)) n++;
    for (int k = 0; k < g->n_steps; k++)
        if (g->steps[k].node && g->steps[k].in[0] >= 0 &&
            is_conv1d_op(g, &g->steps[k], "ConvTranspose"))
            n += take_leaky(g, k, uses);
    for (int k = 0; k < g->n_steps; k++) {
        vx_step *c = &g->steps[k];
        if (!c->node || !is_conv1d(g, c) || c->in[0] < 0 || c->prep.res) continue;
        if (!vx_env_off("VOX_FUSE_PAD")) n += take_pad(g, k, uses);
        n += take_leaky(g, k, uses); /* LeakyRelu feeding only this conv */
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

/* ------------------------------------------------------------ data-movement chains */

static int is_move(const vx_step *st) {
    if (!st->node || st->n_out != 1 || st->out[0] < 0 || st->n_in < 1 || st->in[0] < 0 ||
        st->has_prep)
        return 0;
    const char *op = st->node->op_type;
    return !strcmp(op, "Pad") || !strcmp(op, "Reshape") || !strcmp(op, "Slice");
}

/* The step after k that reads k's output as its input 0, and nothing else does; -1 if
 * none (the output is shared, a graph output, or read as a parameter). */
static int sole_mover(const vx_graph *g, int k, const int *uses) {
    int s = g->steps[k].out[0];
    if (g->is_output[s] || uses[s] != 1) return -1;
    for (int q = k + 1; q < g->n_steps; q++) {
        const vx_step *c = &g->steps[q];
        if (!c->node) continue;
        for (int j = 0; j < c->n_in; j++)
            if (c->in[j] == s) return j == 0 && is_move(c) ? q : -1;
    }
    return -1;
}

/* Chain starting at step k: its steps into ks (at most VX_CHAIN_MAX); returns how many. */
static int chain_at(const vx_graph *g, int k, const int *uses, int *ks) {
    int n = 0;
    for (int q = k; q >= 0 && n < VX_CHAIN_MAX; q = sole_mover(g, q, uses)) ks[n++] = q;
    return n;
}

/* Worth fusing: two or more nodes with a Pad among them (each node writes a full
 * tensor, a Pad twice: its constant, then the copy; Pad-less chains are left alone). */
static int chain_worth(const vx_graph *g, const int *ks, int n) {
    int pads = 0;
    for (int i = 0; i < n; i++) pads += !strcmp(g->steps[ks[i]].node->op_type, "Pad");
    return n >= 2 && pads > 0;
}

void vx_graph_shape_of_matmul(vx_step *sh, const vx_step *mm) {
    sh->def = &vx_shape_matmul_def; /* in[] has 2 spare slots (plan_steps) */
    sh->in[0] = mm->in[0];
    sh->in[1] = mm->in[1];
    sh->n_in = 2;
}

/* A chain step k whose input is a MatMul's output that nothing else reads but Shape
 * nodes takes the MatMul in (VITS's relative logits: queries x the zero-padded relative
 * embeddings, [h, n, 2n-1] with 9 nonzero columns, go straight into the relative-to-
 * absolute conversion; shape_chain.c then reads only the nonzero band). The Shapes
 * become ShapeOfMatMul over the MatMul's inputs. Returns 1 if fused. */
static int fuse_chain_matmul(vx_graph *g, int k, const int *uses) {
    vx_step *st = &g->steps[k];
    if (!st->node || !st->has_prep || !st->prep.chain || st->prep.chain->mm) return 0;
    int s = st->in[0];
    if (s < 0 || g->is_const[s] || g->is_output[s]) return 0;
    int mk = vx_graph_producer_before(g, s, k);
    if (mk < 0) return 0;
    vx_step *mm = &g->steps[mk];
    if (strcmp(mm->node->op_type, "MatMul") || mm->has_prep || mm->n_in != 2 || mm->n_out != 1 ||
        mm->in[0] < 0 || mm->in[1] < 0)
        return 0;
    int shapes = 0;
    for (int q = mk + 1; q < g->n_steps; q++) {
        const vx_step *r = &g->steps[q];
        if (!r->node || q == k) continue;
        for (int j = 0; j < r->n_in; j++)
            if (r->in[j] == s) {
                if (strcmp(r->node->op_type, "Shape") || r->n_in != 1 || r->has_prep) return 0;
                shapes++;
            }
    }
    if (shapes + 1 != uses[s]) return 0;
    for (int q = mk + 1; q < g->n_steps; q++) {
        vx_step *r = &g->steps[q];
        if (r->node && q != k && r->in[0] == s) vx_graph_shape_of_matmul(r, mm);
    }
    vx_move_chain *ch = (vx_move_chain *)st->prep.chain;
    ch->mm = mm->node;
    ch->mm_def = mm->def;
    ch->mm_b = st->n_in;
    st->in[st->n_in++] = mm->in[1]; /* the spare slot */
    st->in[0] = mm->in[0];
    char label[sizeof ch->label];
    snprintf(label, sizeof label, "MatMul+%.64s", ch->label);
    memcpy(ch->label, label, sizeof label);
    g->elided[s] = 1;
    mm->node = NULL;
    return 1;
}

/* A chain step k whose output only a MatMul reads, as its A, moves into that MatMul
 * (VITS's absolute-to-relative attention weights, [h, n, 2n-1], times the zero-padded
 * relative value embeddings with 9 nonzero rows: shape_chain.c makes only those 9
 * columns of the weights). The fused step takes the MatMul's place. Returns 1 if fused. */
static int fuse_chain_into_matmul(vx_graph *g, int k, const int *uses) {
    vx_step *st = &g->steps[k];
    if (!st->node || !st->has_prep || !st->prep.chain || st->prep.chain->mm) return 0;
    int s = st->out[0];
    if (s < 0 || g->is_output[s] || uses[s] != 1) return 0;
    for (int q = k + 1; q < g->n_steps; q++) {
        vx_step *mm = &g->steps[q];
        if (!mm->node) continue;
        int reads = 0;
        for (int j = 0; j < mm->n_in; j++) reads += mm->in[j] == s;
        if (!reads) continue;
        if (strcmp(mm->node->op_type, "MatMul") || mm->has_prep || mm->n_in != 2 ||
            mm->n_out != 1 || mm->in[0] != s || mm->in[1] == s || mm->in[1] < 0)
            return 0;
        vx_move_chain *ch = (vx_move_chain *)st->prep.chain;
        ch->mmc = mm->node;
        ch->mmc_def = mm->def;
        ch->mmc_b = st->n_in;
        int b = mm->in[1], *out = mm->out;
        *mm = *st;              /* the chain step, moved to the MatMul's place, with its output */
        mm->in[mm->n_in++] = b; /* the spare slot */
        mm->out = out;
        st->node = NULL;
        g->elided[s] = 1;
        size_t used = strlen(ch->label);
        snprintf(ch->label + used, sizeof ch->label - used, "+MatMul");
        return 1;
    }
    return 0;
}

int vx_graph_fuse_moves(vx_graph *g, int *uses) {
    vx_graph_count_uses(g, uses);
    int ks[VX_CHAIN_MAX], n_chains = 0;
    unsigned char *taken = calloc((size_t)g->n_steps + 1, 1);
    if (!taken) return VOX_ERR_NOMEM;
    for (int pass = 0; pass < 2; pass++) {
        int c = 0, ints = 0;
        memset(taken, 0, (size_t)g->n_steps + 1);
        for (int k = 0; k < g->n_steps; k++) {
            if (taken[k] || !is_move(&g->steps[k])) continue;
            int n = chain_at(g, k, uses, ks);
            for (int i = 0; i < n; i++) taken[ks[i]] = 1;
            if (!chain_worth(g, ks, n)) continue;
            int nin = 1;
            for (int i = 0; i < n; i++) nin += g->steps[ks[i]].n_in - 1;
            if (pass == 1) {
                vx_move_chain *ch = &g->chains[c];
                int *in = g->chain_ints + ints;
                vx_step *last = &g->steps[ks[n - 1]];
                in[0] = g->steps[ks[0]].in[0];
                int a = 1;
                ch->n = n;
                ch->label[0] = 0;
                for (int i = 0; i < n; i++) {
                    vx_step *st = &g->steps[ks[i]];
                    ch->node[i] = st->node;
                    ch->def[i] = st->def;
                    ch->arg[i] = a;
                    ch->n_args[i] = st->n_in - 1;
                    for (int j = 1; j < st->n_in; j++) in[a++] = st->in[j];
                    size_t used = strlen(ch->label);
                    snprintf(ch->label + used, sizeof ch->label - used, "%s%s", i ? "+" : "",
                             st->node->op_type);
                    if (i < n - 1) {
                        g->elided[st->out[0]] = 1;
                        st->node = NULL;
                    }
                }
                last->def = &vx_move_chain_def;
                last->in = in;
                last->n_in = nin;
                last->has_prep = 1;
                last->prep.chain = ch;
            }
            c++;
            ints += nin + 1; /* + a spare slot for a fused MatMul's B (fuse_chain_matmul) */
        }
        if (pass == 0) {
            if (!c) break;
            n_chains = c;
            g->chains = calloc((size_t)c, sizeof *g->chains);
            g->chain_ints = malloc((size_t)ints * sizeof(int));
            if (!g->chains || !g->chain_ints) {
                free(g->chains);
                free(g->chain_ints);
                g->chains = NULL;
                g->chain_ints = NULL;
                free(taken);
                return VOX_ERR_NOMEM;
            }
        }
    }
    free(taken);
    int fused = 0;
    for (int i = 0; i < n_chains; i++) fused += g->chains[i].n - 1;
    if (!vx_env_off("VOX_FUSE_CHAIN_MATMUL"))
        for (int k = 0; k < g->n_steps; k++)
            fused += fuse_chain_matmul(g, k, uses) + fuse_chain_into_matmul(g, k, uses);
    return fused;
}

/* ------------------------------------------------------------ sum of residual blocks */

/* A float constant with one element; its value in *v. A deferred initializer (file bytes
 * not copied at load, data NULL) is rebuilt first, so a scalar stored as a misaligned
 * initializer is recognized like a folded one. */
int vx_graph_const_scalar(const vx_graph *g, int s, float *v) {
    if (s < 0 || !g->is_const[s] || vx_graph_const_restore(g, s)) return 0;
    const vx_tensor *t = &g->consts[s];
    if (t->dtype != VX_FLOAT || t->numel != 1 || !t->data) return 0;
    *v = *(const float *)t->data;
    return 1;
}

/* An integer constant (int32 or int64) with one element; its value in *v. Deferred
 * initializers are rebuilt first, as in vx_graph_const_scalar. */
int vx_graph_const_int(const vx_graph *g, int s, int64_t *v) {
    if (s < 0 || !g->is_const[s] || vx_graph_const_restore(g, s)) return 0;
    const vx_tensor *t = &g->consts[s];
    if ((t->dtype != VX_INT64 && t->dtype != VX_INT32) || t->numel != 1 || !t->data) return 0;
    *v = vx_tensor_get_i64(t, 0);
    return 1;
}

/* Step k's input slot s made by an unfused Add that k alone reads; its step or -1. */
static int sole_add(const vx_graph *g, int k, int s, const int *uses) {
    if (s < 0 || g->is_output[s] || uses[s] != 1) return -1;
    int a = vx_graph_producer_before(g, s, k);
    return vx_graph_step_is(g, a, "Add", 2) && g->steps[a].in[0] >= 0 && g->steps[a].in[1] >= 0
               ? a
               : -1;
}

/* Div(Add(Add(x, y), z), d) with d a float constant scalar and each Add's output read by
 * the next node alone becomes one step (ops vx_sum_div_def) in the Div's place: HiFi-GAN's
 * mean of its parallel residual blocks. Runs after vx_graph_fuse, so a conv's own
 * residual Add is already inside the conv. VOX_FUSE_SUM=0 turns it off. Returns the
 * number of nodes fused away. */
int vx_graph_fuse_sum(vx_graph *g, int *uses) {
    vx_graph_count_uses(g, uses);
    int fused = 0;
    for (int k = 0; k < g->n_steps; k++) {
        vx_step *dv = &g->steps[k];
        float d;
        if (!vx_graph_step_is(g, k, "Div", 2) || !vx_graph_const_scalar(g, dv->in[1], &d)) continue;
        int a2 = sole_add(g, k, dv->in[0], uses);
        if (a2 < 0) continue;
        /* which of the second Add's inputs is the first Add (the other is z) */
        int a1 = -1, z = -1;
        for (int j = 0; j < 2 && a1 < 0; j++) {
            a1 = sole_add(g, a2, g->steps[a2].in[j], uses);
            z = g->steps[a2].in[1 - j];
        }
        if (a1 < 0) continue;
        int s1 = g->steps[a1].out[0], s2 = dv->in[0], c = dv->in[1];
        dv->def = &vx_sum_div_def; /* a Div step has room for 4 inputs (plan_steps) */
        dv->in[0] = g->steps[a1].in[0];
        dv->in[1] = g->steps[a1].in[1];
        dv->in[2] = z;
        dv->in[3] = c;
        dv->n_in = 4;
        dv->has_prep = 1;
        dv->prep.sum_nodes[0] = g->steps[a1].node;
        dv->prep.sum_nodes[1] = g->steps[a2].node;
        g->elided[s1] = g->elided[s2] = 1;
        g->steps[a1].node = g->steps[a2].node = NULL;
        fused += 2;
        vx_graph_count_uses(g, uses);
    }
    return fused;
}

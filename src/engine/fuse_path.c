/* Load-time recognition of VITS's length-regulator path (ops/length_path.c says what it
 * computes and why): found by the graph's structure, not by names.
 *
 * From a Squeeze whose output only MatMuls read (as their A), backwards:
 *   Squeeze <- Mul(Transpose, mask) <- Transpose <- Unsqueeze <- Sub(R, Slice)
 *   Slice <- Pad(R);  R = Reshape <- Cast <- Less(range, cum)
 * every intermediate read only inside the group. The mask joins the group too when it is
 * a Mul whose other readers are all Shape nodes (they become ShapeOfBroadcast over the
 * Mul's inputs, ops_shape.c), so no [frames x phonemes] tensor is left. The nodes become
 * one step in the Squeeze's place; the MatMuls learn that their A may come compact.
 * Parameters (axes, pads, permutation, ...) are checked at run time by the kernel, which
 * runs the original nodes whenever they differ, so a wrong guess here costs speed only. */
#include "engine/graph_internal.h"
#include "vox.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int op_is(const vx_step *st, const char *op, int n_in) {
    return st->node && !st->has_prep && !strcmp(st->node->op_type, op) && st->n_out == 1 &&
           st->out[0] >= 0 && st->n_in >= n_in && st->in[0] >= 0;
}

/* The step before `before` making s as an op of type op, when s is a run-time value read
 * exactly `reads` times; -1 if not. */
static int made_by(const vx_graph *g, int s, int before, const int *uses, int reads,
                   const char *op, int n_in) {
    if (s < 0 || g->is_const[s] || g->is_output[s] || uses[s] != reads) return -1;
    int k = vx_graph_producer_before(g, s, before);
    return k >= 0 && op_is(&g->steps[k], op, n_in) ? k : -1;
}

/* Every reader of p after q is a MatMul taking it as A (and not as B too). */
static int read_as_a(const vx_graph *g, int q, int p, const int *uses) {
    int n = 0;
    for (int k = q + 1; k < g->n_steps; k++) {
        const vx_step *st = &g->steps[k];
        if (!st->node) continue;
        for (int j = 0; j < st->n_in; j++) {
            if (st->in[j] != p) continue;
            if (j != 0 || strcmp(st->node->op_type, "MatMul") || st->n_in != 2 || st->in[1] == p ||
                st->has_prep)
                return 0;
            n++;
        }
    }
    return n > 0 && n == uses[p];
}

/* The mask Mul mk can join: its output's other readers are Shape nodes of one input. */
static int mask_joins(const vx_graph *g, int mk, int mul, const int *uses) {
    const vx_step *m = &g->steps[mk];
    if (m->n_in != 2 || m->in[1] < 0) return 0;
    int s = m->out[0], n = 0;
    for (int k = mk + 1; k < g->n_steps; k++) {
        const vx_step *st = &g->steps[k];
        if (!st->node || k == mul) continue;
        for (int j = 0; j < st->n_in; j++)
            if (st->in[j] == s) {
                if (strcmp(st->node->op_type, "Shape") || st->n_in != 1 || st->has_prep) return 0;
                n++;
            }
    }
    return n + 1 == uses[s];
}

/* Steps of the group by role (LP_*), or 0 if the Squeeze at q is not the path. */
static int match(const vx_graph *g, int q, const int *uses, int *ks) {
    for (int r = 0; r < LP_N; r++) ks[r] = -1;
    const vx_step *sq = &g->steps[q];
    if (!op_is(sq, "Squeeze", 1) || g->is_output[sq->out[0]] ||
        !read_as_a(g, q, sq->out[0], uses))
        return 0;
    ks[LP_SQUEEZE] = q;
    int mul = ks[LP_MUL] = made_by(g, sq->in[0], q, uses, 1, "Mul", 2);
    if (mul < 0 || g->steps[mul].n_in != 2) return 0;
    const vx_step *m = &g->steps[mul];
    int tj = -1;
    for (int j = 0; j < 2 && tj < 0; j++)
        if ((ks[LP_TRANSP] = made_by(g, m->in[j], mul, uses, 1, "Transpose", 1)) >= 0) tj = j;
    if (tj < 0 || m->in[1 - tj] < 0) return 0;
    int tr = ks[LP_TRANSP];
    int un = ks[LP_UNSQ] = made_by(g, g->steps[tr].in[0], tr, uses, 1, "Unsqueeze", 1);
    if (un < 0) return 0;
    int sub = ks[LP_SUB] = made_by(g, g->steps[un].in[0], un, uses, 1, "Sub", 2);
    if (sub < 0 || g->steps[sub].n_in != 2) return 0;
    int sl = ks[LP_SLICE] = made_by(g, g->steps[sub].in[1], sub, uses, 1, "Slice", 1);
    if (sl < 0) return 0;
    int pad = ks[LP_PAD] = made_by(g, g->steps[sl].in[0], sl, uses, 1, "Pad", 1);
    int rs = ks[LP_RESHAPE] = made_by(g, g->steps[sub].in[0], sub, uses, 2, "Reshape", 2);
    if (pad < 0 || rs < 0 || g->steps[pad].in[0] != g->steps[rs].out[0]) return 0;
    int ca = ks[LP_CAST] = made_by(g, g->steps[rs].in[0], rs, uses, 1, "Cast", 1);
    if (ca < 0) return 0;
    int le = ks[LP_LESS] = made_by(g, g->steps[ca].in[0], ca, uses, 1, "Less", 2);
    if (le < 0 || g->steps[le].n_in != 2 || g->steps[le].in[1] < 0) return 0;
    int ms = m->in[1 - tj];
    int mk = g->is_const[ms] || g->is_output[ms] ? -1 : vx_graph_producer_before(g, ms, mul);
    if (mk >= 0 && op_is(&g->steps[mk], "Mul", 2) && mask_joins(g, mk, mul, uses)) ks[LP_MASK] = mk;
    return 1;
}

/* Fills group from the matched steps: node order by role, inputs mapped to the step's
 * external inputs (into ext, deduplicated; returns their number) or group nodes. */
static int build_group(const vx_graph *g, const int *ks, vx_node_group *grp, int *ext, int max) {
    int n_ext = 0, a = 0;
    memset(grp, 0, sizeof *grp);
    for (int r = 0; r < LP_N; r++) {
        grp->role[r] = -1;
        if (ks[r] < 0) continue;
        const vx_step *st = &g->steps[ks[r]];
        int i = grp->n++;
        grp->role[r] = i;
        grp->node[i] = st->node;
        grp->def[i] = st->def;
        grp->arg[i] = a;
        grp->n_args[i] = st->n_in;
        grp->last[i] = -1;
        if (a + st->n_in > (int)(sizeof grp->src / sizeof *grp->src)) return -1;
        for (int j = 0; j < st->n_in; j++) {
            int s = st->in[j], src = VX_GROUP_OMITTED;
            for (int rr = 0; rr < r && s >= 0; rr++)
                if (ks[rr] >= 0 && g->steps[ks[rr]].out[0] == s) {
                    src = -(grp->role[rr] + 1);
                    if (grp->last[grp->role[rr]] < i) grp->last[grp->role[rr]] = i;
                }
            if (s >= 0 && src == VX_GROUP_OMITTED) {
                int e = 0;
                while (e < n_ext && ext[e] != s) e++;
                if (e == n_ext) {
                    if (n_ext == max) return -1;
                    ext[n_ext++] = s;
                }
                src = e;
            }
            grp->src[a++] = src;
        }
        size_t used = strlen(grp->label);
        snprintf(grp->label + used, sizeof grp->label - used, "%s%s", i ? "+" : "LengthPath:",
                 st->node->op_type);
    }
    return n_ext;
}

int vx_graph_fuse_path(vx_graph *g, int *uses) {
    vx_graph_count_uses(g, uses);
    int fused = 0;
    for (int q = 0; q < g->n_steps; q++) {
        int ks[LP_N], ext[VX_GROUP_MAX * 6];
        if (!g->steps[q].node || !match(g, q, uses, ks)) continue;
        vx_node_group *grp = calloc(1, sizeof *grp);
        int *in = grp ? malloc(sizeof ext) : NULL;
        vx_group_list *l = in ? malloc(sizeof *l) : NULL;
        int n_ext = l ? build_group(g, ks, grp, ext, VX_GROUP_MAX * 6) : -1;
        if (n_ext < 0) {
            free(grp);
            free(in);
            free(l);
            if (!l) return VOX_ERR_NOMEM;
            continue;
        }
        memcpy(in, ext, (size_t)n_ext * sizeof(int));
        l->group = grp;
        l->ints = in;
        l->next = g->groups;
        g->groups = l;
        /* the Shapes of the mask read the mask Mul's inputs instead */
        if (ks[LP_MASK] >= 0) {
            const vx_step *mk = &g->steps[ks[LP_MASK]];
            for (int k = ks[LP_MASK] + 1; k < g->n_steps; k++) {
                vx_step *st = &g->steps[k];
                if (!st->node || k == ks[LP_MUL] || st->in[0] != mk->out[0]) continue;
                st->def = &vx_shape_bcast_def; /* in[] has 2 spare slots (plan_steps) */
                st->in[0] = mk->in[0];
                st->in[1] = mk->in[1];
                st->n_in = 2;
            }
        }
        for (int k = q + 1; k < g->n_steps; k++) { /* the MatMuls reading the path */
            vx_step *st = &g->steps[k];
            if (st->node && st->n_in == 2 && st->in[0] == g->steps[q].out[0]) {
                st->has_prep = 1;
                st->prep.sel_a = 1;
            }
        }
        for (int r = 0; r < LP_N; r++) {
            if (ks[r] < 0 || ks[r] == q) continue;
            g->elided[g->steps[ks[r]].out[0]] = 1;
            g->steps[ks[r]].node = NULL;
        }
        vx_step *st = &g->steps[q];
        st->def = &vx_length_path_def;
        st->in = in;
        st->n_in = n_ext;
        st->has_prep = 1;
        st->prep.group = grp;
        fused += grp->n - 1;
        vx_graph_count_uses(g, uses);
    }
    return fused;
}

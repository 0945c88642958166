/* Load-time fusion of VITS's relative-position attention into one step (ops/nn_attn.c
 * runs it in blocks of query rows; it says why). Runs after the move chains (fuse.c),
 * whose two fused chains it takes in:
 *
 *   S = MatMul(Q, K)          R = chain(MatMul(Q, Emb_k))   (relative -> absolute)
 *   Y = Add(S, R)             W = Where(cond, x, Y)          P = Softmax(W)
 *   O1 = MatMul(P, V)         O2 = MatMul(chain(P), Emb_v)   (absolute -> relative)
 *   O = Add(O1, O2)
 *
 * Found by that structure (each intermediate read only inside it; P also by Shape nodes,
 * which become ShapeOfMatMul(Q, K), P having the scores' shape), not by names. The fused
 * step takes O's place, so every input is ready by then. VOX_FUSE_ATTN=0 turns it off. */
#include "engine/graph_internal.h"
#include "vox.h"
#include <stdlib.h>
#include <string.h>

static int is_chain(const vx_graph *g, int k, int mm, int mmc) {
    if (k < 0) return 0;
    const vx_step *st = &g->steps[k];
    const vx_move_chain *c = st->has_prep ? st->prep.chain : NULL;
    return st->node && c && st->def == &vx_move_chain_def && st->n_out == 1 && !!c->mm == mm &&
           !!c->mmc == mmc;
}

/* The producer of step k's input j when that value is read by nothing else (and is
 * not a graph output). */
static int sole_producer(const vx_graph *g, int k, int j, const int *uses) {
    int s = g->steps[k].in[j];
    if (s < 0 || g->is_const[s] || g->is_output[s] || uses[s] != 1) return -1;
    return vx_graph_producer_before(g, s, k);
}

typedef struct attn_match {
    int ks[AT_N];
    int shapes[16], n_shapes;
} attn_match;

/* The steps reading P = steps[sm].out[0]: one MatMul (as A), one chain into a MatMul
 * (as input 0), and Shape nodes. */
static int p_readers(const vx_graph *g, int sm, const int *uses, attn_match *m) {
    int p = g->steps[sm].out[0], n = 0;
    m->ks[AT_MMV] = m->ks[AT_RELV] = -1;
    m->n_shapes = 0;
    if (p < 0 || g->is_output[p]) return 0;
    for (int q = sm + 1; q < g->n_steps; q++) {
        const vx_step *st = &g->steps[q];
        if (!st->node) continue;
        int reads = 0;
        for (int j = 0; j < st->n_in; j++) reads += st->in[j] == p;
        if (!reads) continue;
        n++;
        if (reads == 1 && st->in[0] == p && vx_graph_step_is(g, q, "MatMul", 2) &&
            m->ks[AT_MMV] < 0)
            m->ks[AT_MMV] = q;
        else if (reads == 1 && st->in[0] == p && is_chain(g, q, 0, 1) && m->ks[AT_RELV] < 0)
            m->ks[AT_RELV] = q;
        else if (vx_graph_step_is(g, q, "Shape", 1) && m->n_shapes < 16)
            m->shapes[m->n_shapes++] = q;
        else
            return 0;
    }
    return m->ks[AT_MMV] >= 0 && m->ks[AT_RELV] >= 0 && n == uses[p];
}

static int match(const vx_graph *g, int sm, const int *uses, attn_match *m) {
    if (!vx_graph_step_is(g, sm, "Softmax", 1)) return 0;
    m->ks[AT_SOFTMAX] = sm;
    int w = m->ks[AT_WHERE] = sole_producer(g, sm, 0, uses);
    if (!vx_graph_step_is(g, w, "Where", 3)) return 0;
    int a = m->ks[AT_ADD] = sole_producer(g, w, 2, uses);
    if (!vx_graph_step_is(g, a, "Add", 2)) return 0;
    int x0 = sole_producer(g, a, 0, uses), x1 = sole_producer(g, a, 1, uses);
    int mm = vx_graph_step_is(g, x0, "MatMul", 2) ? x0 : x1, ch = mm == x0 ? x1 : x0;
    if (!vx_graph_step_is(g, mm, "MatMul", 2) || !is_chain(g, ch, 1, 0) ||
        g->steps[mm].in[0] != g->steps[ch].in[0])
        return 0;
    m->ks[AT_SCORES] = mm;
    m->ks[AT_REL] = ch;
    if (!p_readers(g, sm, uses, m)) return 0;
    /* O = Add(O1, O2), each read by it alone */
    int o1 = g->steps[m->ks[AT_MMV]].out[0], o2 = g->steps[m->ks[AT_RELV]].out[0];
    if (o1 < 0 || o2 < 0 || uses[o1] != 1 || uses[o2] != 1 || g->is_output[o1] || g->is_output[o2])
        return 0;
    for (int q = sm + 1; q < g->n_steps; q++) {
        const vx_step *st = &g->steps[q];
        if (!st->node || (st->in[0] != o1 && (st->n_in < 2 || st->in[1] != o1))) continue;
        if (!vx_graph_step_is(g, q, "Add", 2) || (st->in[0] != o2 && st->in[1] != o2)) return 0;
        m->ks[AT_OUT] = q;
        for (int i = 0; i < AT_OUT; i++)
            if (m->ks[i] >= q) return 0;
        return 1;
    }
    return 0;
}

/* The plan: sub-steps, their sources, the fused step's input slots. 0 or -1 (too many
 * inputs for the plan's fixed arrays: left unfused). */
static int make_plan(const vx_graph *g, const attn_match *m, vx_attn_plan *p, int *slots) {
    int n_src = 0, n_slots = 0;
    for (int i = 0; i < AT_N; i++) {
        const vx_step *st = &g->steps[m->ks[i]];
        p->node[i] = st->node;
        p->def[i] = st->def;
        p->chain[i] = st->has_prep ? st->prep.chain : NULL;
        p->arg[i] = n_src;
        p->n_args[i] = st->n_in;
        if (n_src + st->n_in > VX_ATTN_SRC_MAX) return -1;
        for (int j = 0; j < st->n_in; j++) {
            int s = st->in[j], src = VX_GROUP_OMITTED;
            for (int q = 0; q < i && s >= 0; q++)
                if (g->steps[m->ks[q]].out[0] == s) src = -q - 1;
            if (s >= 0 && src == VX_GROUP_OMITTED) {
                for (src = 0; src < n_slots && slots[src] != s; src++) {}
                if (src == n_slots) {
                    if (n_slots == VX_ATTN_SRC_MAX) return -1;
                    slots[n_slots++] = s;
                }
            }
            p->src[n_src++] = s < 0 ? VX_GROUP_OMITTED : src;
        }
    }
    p->n_slots = n_slots;
    return 0;
}

/* An omitted input reads as NULL in nn_attn.c's sub_in (src >= n_in). */
_Static_assert(VX_GROUP_OMITTED < -AT_N, "omitted marker collides with sub-step outputs");

int vx_graph_fuse_attn(vx_graph *g, int *uses) {
    vx_graph_count_uses(g, uses);
    int fused = 0;
    for (int k = 0; k < g->n_steps; k++) {
        attn_match m;
        if (!match(g, k, uses, &m)) continue;
        vx_attn_list *l = calloc(1, sizeof *l);
        int *slots = malloc(VX_ATTN_SRC_MAX * sizeof *slots);
        if (!l || !slots) {
            free(l);
            free(slots);
            return VOX_ERR_NOMEM;
        }
        if (make_plan(g, &m, &l->plan, slots)) {
            free(l);
            free(slots);
            continue;
        }
        l->plan.slots = slots;
        l->next = g->attns;
        g->attns = l;
        /* Shapes of P: the scores' shape, from Q and K */
        const vx_step *mm = &g->steps[m.ks[AT_SCORES]];
        for (int i = 0; i < m.n_shapes; i++) vx_graph_shape_of_matmul(&g->steps[m.shapes[i]], mm);
        vx_step *o = &g->steps[m.ks[AT_OUT]];
        for (int i = 0; i < AT_OUT; i++) {
            vx_step *st = &g->steps[m.ks[i]];
            g->elided[st->out[0]] = 1;
            st->node = NULL;
        }
        o->def = &vx_attn_def;
        o->in = slots;
        o->n_in = l->plan.n_slots;
        o->has_prep = 1;
        o->prep.attn = &l->plan;
        fused += AT_OUT;
        vx_graph_count_uses(g, uses);
    }
    return fused;
}

/* Load-time fusion of WaveNet's gate in the VITS flows (commons.fused_add_tanh_sigmoid_
 * multiply), as Piper's exporter writes it for every WaveNet layer (medium voice: 4 flows
 * x 4 layers):
 *
 *   in_act = Add(conv_out, g)      g: ConstantOfShape(Shape(conv_out)) of 0 for one
 *                                  speaker, Slice(cond_layer(speaker embedding)) [1, 2C, 1]
 *                                  for several
 *   t_act = Tanh(Slice(in_act, starts 0, ends C, axes 1, steps 1))
 *   s_act = Sigmoid(Slice(in_act, starts C, ends 2C, axes 1, steps 1))
 *   out = Mul(t_act, s_act)
 *
 * becomes one step in the Mul's place (ops/ew_gate.c, vx_gate_def). Found by structure:
 * each intermediate read only by the next node and no graph output, constant one-element
 * Slice arguments cutting one axis into [0, C) and [C, >= 2C). The Add is taken in when
 * nothing else reads in_act: a zeros operand made for it alone (ConstantOfShape of
 * Shape(other operand), value +-0) disappears with its ConstantOfShape (and the Shape when
 * that was its only reader); any other operand becomes the step's second input. A Conv
 * that vx_graph_fuse gave the Add as its residual gives it back (a speaker g broadcasts
 * along time, which the conv's fused epilogue does not take: it ran the Add as a separate
 * pass). VOX_FUSE_GATE=0 turns it off. */
#include "engine/graph_internal.h"
#include "vox.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Step k is an unfused Slice of one axis with constant starts, ends, axes (and steps 1
 * if given), none of them negative but the axis: its arguments in v, 1 for steps. */
static int const_slice(const vx_graph *g, int k, int64_t v[4], int *has_steps) {
    if (k < 0 || g->model->opset < 10) return 0;
    const vx_step *st = &g->steps[k];
    if (!st->node || st->has_prep || st->n_out != 1 || strcmp(st->node->op_type, "Slice") ||
        st->n_in < 4 || st->n_in > 5 || st->in[0] < 0)
        return 0;
    for (int q = 0; q < 3; q++)
        if (!vx_graph_const_int(g, st->in[1 + q], &v[q])) return 0;
    v[3] = 1;
    *has_steps = st->n_in == 5 && st->in[4] >= 0;
    if (*has_steps && (!vx_graph_const_int(g, st->in[4], &v[3]) || v[3] != 1)) return 0;
    return v[0] >= 0 && v[1] >= 0;
}

/* The step before `before` making slot s for it alone (s read once, no graph output). */
static int sole_producer(const vx_graph *g, int s, int before, const int *uses) {
    if (s < 0 || g->is_const[s] || g->is_output[s] || uses[s] != 1) return -1;
    return vx_graph_producer_before(g, s, before);
}

/* Slot zs, read by the Add alone, is zeros of the shape of slot xs: ConstantOfShape
 * (float value +0 or -0) of Shape(xs). Its value in *zv, the two steps in cs and sh. */
static int zeros_like(const vx_graph *g, int zs, int xs, int before, const int *uses, float *zv,
                      int *cs, int *sh) {
    *cs = sole_producer(g, zs, before, uses);
    if (!vx_graph_step_is(g, *cs, "ConstantOfShape", 1)) return 0;
    const vx_attr *va = vx_node_attr(g->steps[*cs].node, "value");
    *zv = 0.0f; /* the default value: float 0 */
    if (va) {
        const vx_tensor *t = va->t;
        if (va->type != VX_ATTR_TENSOR || !t || t->dtype != VX_FLOAT || t->numel != 1 || !t->data)
            return 0;
        uint32_t bits;
        memcpy(&bits, t->data, 4);
        if (bits & 0x7fffffffu) return 0;
        memcpy(zv, t->data, 4);
    }
    *sh = vx_graph_producer_before(g, g->steps[*cs].in[0], *cs);
    if (!vx_graph_step_is(g, *sh, "Shape", 1) || g->steps[*sh].in[0] != xs) return 0;
    const vx_node *sn = g->steps[*sh].node;
    return vx_attr_int(sn, "start", 0) == 0 && !vx_node_attr(sn, "end");
}

/* Conv step ck fused with its residual Add (vx_graph_fuse) made plain again: its output
 * is its own once more. The Add's operands in in[0..1] (in its order); returns the Add's
 * node, or NULL (nothing changed). */
static const vx_node *give_back_add(vx_graph *g, int ck, int *in) {
    vx_step *c = &g->steps[ck];
    if (!c->node || strcmp(c->node->op_type, "Conv") || !c->has_prep || c->prep.res != 3 ||
        !c->prep.add_node || c->n_in != 4 || c->n_out != 1 || c->in[3] < 0 || c->prep.wpacked)
        return NULL;
    const vx_node *an = c->prep.add_node;
    if (an->n_inputs != 2) return NULL;
    int ys = vx_graph_slot(g, an->inputs[c->prep.res_first ? 1 : 0]);
    if (ys < 0 || !g->elided[ys]) return NULL;
    in[c->prep.res_first ? 0 : 1] = c->in[3];
    in[c->prep.res_first ? 1 : 0] = ys;
    g->elided[ys] = 0;
    c->out[0] = ys;
    c->in[3] = -1;
    c->n_in = c->node->n_inputs; /* its own inputs (the bias may be absent) */
    c->prep.res = 0;
    c->prep.res_first = 0;
    c->prep.add_node = NULL;
    c->has_prep = c->prep.leaky_in || c->prep.xpad[0] || c->prep.xpad[1];
    return an;
}

/* The gate ending at Mul step k, fused; the number of nodes fused away (0: none). */
static int fuse_gate_at(vx_graph *g, int k, const int *uses) {
    vx_step *mul = &g->steps[k];
    if (!vx_graph_step_is(g, k, "Mul", 2)) return 0;
    int p0 = sole_producer(g, mul->in[0], k, uses), p1 = sole_producer(g, mul->in[1], k, uses);
    int tanh_first = vx_graph_step_is(g, p0, "Tanh", 1);
    int tk = tanh_first ? p0 : p1, sk = tanh_first ? p1 : p0;
    if (mul->in[0] == mul->in[1] || !vx_graph_step_is(g, tk, "Tanh", 1) ||
        !vx_graph_step_is(g, sk, "Sigmoid", 1))
        return 0;
    int slk[2] = {sole_producer(g, g->steps[tk].in[0], tk, uses),
                  sole_producer(g, g->steps[sk].in[0], sk, uses)};
    int64_t sl[2][4];
    int steps[2];
    for (int i = 0; i < 2; i++)
        if (!const_slice(g, slk[i], sl[i], &steps[i])) return 0;
    int a = g->steps[slk[0]].in[0];
    int64_t c = sl[0][1];
    /* exact halves of the channel axis (1, or a negative axis the run checks is 1): [0, c)
     * for the Tanh, [c, >= 2c) for the Sigmoid (the run checks the axis is 2c long) */
    if (g->steps[slk[1]].in[0] != a || g->is_const[a] || sl[0][2] != sl[1][2] ||
        (sl[0][2] != 1 && sl[0][2] >= 0) || sl[0][0] || c < 1 || c > VX_MAX_ELEMS ||
        sl[1][0] != c || sl[1][1] < 2 * c)
        return 0;
    vx_gate_list *l = calloc(1, sizeof *l);
    if (!l) return VOX_ERR_NOMEM;
    vx_gate_plan *p = &l->plan;
    p->slice[0] = g->steps[slk[0]].node;
    p->slice[1] = g->steps[slk[1]].node;
    p->slice_def[0] = g->steps[slk[0]].def;
    p->slice_def[1] = g->steps[slk[1]].def;
    p->tanh = g->steps[tk].node;
    p->tanh_def = g->steps[tk].def;
    p->sigm = g->steps[sk].node;
    p->sigm_def = g->steps[sk].def;
    p->mul_def = mul->def;
    p->c = c;
    memcpy(p->sl, sl, sizeof sl);
    p->sl_steps[0] = steps[0];
    p->sl_steps[1] = steps[1];
    p->tanh_first = tanh_first;
    int fused = 4, in[2] = {a, -1}, n_in = 1;
    /* the Add making a, when nothing else reads a */
    int ak = g->is_output[a] || uses[a] != 2
                 ? -1
                 : vx_graph_producer_before(g, a, slk[0] < slk[1] ? slk[0] : slk[1]);
    if (vx_graph_step_is(g, ak, "Add", 2) && g->steps[ak].in[0] >= 0 && g->steps[ak].in[1] >= 0) {
        vx_step *ad = &g->steps[ak];
        p->add = ad->node;
        p->add_def = ad->def;
        int cs = -1, sh = -1;
        for (int j = 0; j < 2 && !p->zero_add; j++)
            if (zeros_like(g, ad->in[j], ad->in[1 - j], ak, uses, &p->zval, &cs, &sh)) {
                p->zero_add = 1;
                p->x_first = j == 1;
                in[0] = ad->in[1 - j];
                g->elided[ad->in[j]] = 1;
                g->steps[cs].node = NULL;
                fused++;
                int ss = g->steps[sh].out[0];
                if (ss >= 0 && !g->is_output[ss] && uses[ss] == 1) {
                    g->elided[ss] = 1;
                    g->steps[sh].node = NULL;
                    fused++;
                }
            }
        if (!p->zero_add) {
            in[0] = ad->in[0];
            in[1] = ad->in[1];
            n_in = 2;
        }
        ad->node = NULL;
        g->elided[a] = 1;
        fused++;
    } else if (ak >= 0 && (p->add_def = vx_op_find("Add")) && /* as the conv's fallback */
               (p->add = give_back_add(g, ak, in))) {
        n_in = 2;
    }
    snprintf(p->label, sizeof p->label, "%sSlice+Tanh+Sigmoid+Mul", p->add ? "Add+" : "");
    for (int i = 0; i < 2; i++) {
        g->elided[g->steps[slk[i]].out[0]] = 1;
        g->steps[slk[i]].node = NULL;
    }
    g->elided[mul->in[0]] = g->elided[mul->in[1]] = 1;
    g->steps[tk].node = g->steps[sk].node = NULL;
    mul->def = &vx_gate_def; /* a Mul step has room for 4 inputs (plan_steps) */
    mul->in[0] = in[0];
    mul->in[1] = in[1];
    mul->n_in = n_in;
    mul->has_prep = 1;
    mul->prep.gate = p;
    l->next = g->gates;
    g->gates = l;
    return fused;
}

int vx_graph_fuse_gate(vx_graph *g, int *uses) {
    vx_graph_count_uses(g, uses);
    int fused = 0;
    for (int k = 0; k < g->n_steps; k++) {
        int n = fuse_gate_at(g, k, uses);
        if (n < 0) return n;
        if (!n) continue;
        fused += n;
        vx_graph_count_uses(g, uses);
    }
    return fused;
}

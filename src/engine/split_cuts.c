/* Cuts inside the frame-level part: where a window's tensors can be cropped to what the
 * rest of the part still needs.
 *
 * Why: a window of frames [a, b) runs the whole part on [a - halo_l, b + halo_r), the
 * halo being the context of the output through every layer (a Piper voice: 43 frames
 * each side, of which the flow's WaveNets need 32 and the decoder 11). Without cuts the
 * decoder, where nearly all the FLOPs are, also computes those 86 extra frames, and its
 * last stages (64 and 256 samples per frame) the most. Cropped at the right places, each
 * stage computes only the frames the stages after it need: the first 8-frame window of a
 * sentence does its decoder work on ~19 frames instead of 51, a 256-frame window on ~280
 * instead of 342.
 *
 * Where (vx_split_find_cuts, at load, from split.c's forward pass): after step k of R,
 * the live set L(k) is every frame-level value made at or before k (or a boundary) that a
 * later step of R reads. k is a cut when:
 *  - nothing else crosses it: every value in L(k) is frame-varying along its last axis
 *    with a known rate (a Shape's output, which holds the window's length, must not
 *    cross; time-free values such as speaker conditioning are shared and never cropped);
 *  - the rest of R, run from L(k) alone, needs the context hl(k) | hr(k) frames around
 *    [a, b) (split.c's contamination rules, starting from zero at L(k));
 *  - every value of L(k) is exact on [a - hl(k), b + hr(k)]: its contamination since the
 *    previous cut, in frames, plus hl(k) stays within that cut's context (so the crop
 *    never keeps a sample the window's edge has touched);
 *  - it shrinks the context on at least one side.
 * Cuts are taken greedily in step order. At run time (stream.c) each live value is cut
 * to frames [a - hl, b + hr] clamped to the sentence: the same bits as without cuts
 * (tests/engine/test_window.c compares windowed runs with the whole run bit for bit).
 * VOX_SPLIT_CUTS=0 turns them off. */
#include "engine/graph_internal.h"
#include "vox.h"
#include <stdlib.h>
#include <string.h>

typedef struct cut_scan {
    const vx_graph *g;
    const struct vx_split *sp;
    const unsigned char *fv;
    const int *rate;
    int *last_r;      /* value -> last R step reading it (n_steps for the stream output) */
    int *made_at;     /* value -> R step making it, -1: boundary or not made in R */
    int64_t *el, *er; /* contamination since the candidate cut */
} cut_scan;

/* The context (frames) the rest of R needs after step k, from the live values alone. */
static void context_after(cut_scan *c, int k, const int *live, int n_live, int64_t *hl,
                          int64_t *hr) {
    const vx_graph *g = c->g;
    for (int i = 0; i < n_live; i++) c->el[live[i]] = c->er[live[i]] = 0;
    for (int q = k + 1; q < g->n_steps; q++) {
        if (!c->sp->in_r[q]) continue;
        const vx_step *st = &g->steps[q];
        int64_t l, r;
        vx_split_step_contam(g, st, c->fv, c->el, c->er, &l, &r);
        for (int j = 0; j < st->n_out; j++)
            if (st->out[j] >= 0) {
                c->el[st->out[j]] = l;
                c->er[st->out[j]] = r;
            }
    }
    int o = c->sp->out_slot;
    *hl = vx_split_frames(c->el[o], c->sp->out_rate);
    *hr = vx_split_frames(c->er[o], c->sp->out_rate);
}

/* Whether every live value may cross a cut (frame-level, a rate, not a window's shape). */
static int crossable(const cut_scan *c, const int *live, int n_live) {
    for (int i = 0; i < n_live; i++) {
        int v = live[i], p = c->made_at[v];
        if (c->fv[v] != 1 || c->rate[v] <= 0) return 0;
        if (p >= 0 && !strcmp(c->g->steps[p].node->op_type, "Shape")) return 0;
    }
    return 1;
}

static int add_cut(struct vx_split *sp, int k, int64_t hl, int64_t hr, const int *live, int n_live,
                   const int *rate) {
    int n = sp->n_cuts;
    int *cs = realloc(sp->cut_step, (size_t)(n + 1) * sizeof *cs);
    if (cs) sp->cut_step = cs;
    int *ch = realloc(sp->cut_ctx, (size_t)(n + 1) * 2 * sizeof *ch);
    if (ch) sp->cut_ctx = ch;
    int *co = realloc(sp->cut_off, (size_t)(n + 2) * sizeof *co);
    if (co) sp->cut_off = co;
    int base = n ? sp->cut_off[n] : 0;
    int *cv = realloc(sp->cut_vals, (size_t)(base + n_live) * 2 * sizeof *cv);
    if (cv) sp->cut_vals = cv;
    if (!cs || !ch || !co || !cv) return VOX_ERR_NOMEM;
    sp->cut_step[n] = k;
    sp->cut_ctx[2 * n] = (int)hl;
    sp->cut_ctx[2 * n + 1] = (int)hr;
    if (!n) sp->cut_off[0] = 0;
    for (int i = 0; i < n_live; i++) {
        sp->cut_vals[2 * (base + i)] = live[i];
        sp->cut_vals[2 * (base + i) + 1] = rate[live[i]];
    }
    sp->cut_off[n + 1] = base + n_live;
    sp->n_cuts = n + 1;
    return 0;
}

int vx_split_find_cuts(const vx_graph *g, struct vx_split *sp, const unsigned char *fv,
                       const int *rate, const int64_t *el0, const int64_t *er0) {
    int ns = g->n_steps, nv = g->n_values, rc = 0;
    if (vx_env_off("VOX_SPLIT_CUTS")) return 0;
    cut_scan c = {.g = g, .sp = sp, .fv = fv, .rate = rate};
    c.last_r = malloc(((size_t)nv + 1) * sizeof(int));
    c.made_at = malloc(((size_t)nv + 1) * sizeof(int));
    c.el = calloc((size_t)nv + 1, sizeof(int64_t));
    c.er = calloc((size_t)nv + 1, sizeof(int64_t));
    int64_t *pl = malloc(((size_t)nv + 1) * sizeof(int64_t)),
            *pr = malloc(((size_t)nv + 1) * sizeof(int64_t));
    int *live = malloc(((size_t)nv + 1) * sizeof(int));
    if (!c.last_r || !c.made_at || !c.el || !c.er || !pl || !pr || !live) {
        rc = VOX_ERR_NOMEM;
        goto done;
    }
    for (int v = 0; v < nv; v++) c.last_r[v] = c.made_at[v] = -1;
    for (int k = 0; k < ns; k++) {
        if (!sp->in_r[k]) continue;
        const vx_step *st = &g->steps[k];
        for (int j = 0; j < st->n_in; j++)
            if (st->in[j] >= 0 && !g->is_const[st->in[j]]) c.last_r[st->in[j]] = k;
        for (int j = 0; j < st->n_out; j++)
            if (st->out[j] >= 0) c.made_at[st->out[j]] = k;
    }
    c.last_r[sp->out_slot] = ns;
    /* Contamination since the last accepted cut (at first: since the window's start). */
    memcpy(pl, el0, (size_t)nv * sizeof *pl);
    memcpy(pr, er0, (size_t)nv * sizeof *pr);
    int64_t hlp = sp->info.halo_left, hrp = sp->info.halo_right;
    int n_live = 0;
    for (int q = 0; q < sp->n_bnd; q++)
        if (c.last_r[sp->bnd[q]] >= 0) live[n_live++] = sp->bnd[q];
    for (int k = 0; k < ns && !rc; k++) {
        if (!sp->in_r[k]) continue;
        const vx_step *st = &g->steps[k];
        for (int j = 0; j < st->n_out; j++) /* outputs read later join */
            if (st->out[j] >= 0 && c.last_r[st->out[j]] > k) live[n_live++] = st->out[j];
        int m = 0; /* values last read here leave */
        for (int i = 0; i < n_live; i++)
            if (c.last_r[live[i]] > k) live[m++] = live[i];
        n_live = m;
        if (c.last_r[sp->out_slot] == ns && c.made_at[sp->out_slot] == k) break;
        if (!n_live || !crossable(&c, live, n_live)) continue;
        int64_t hl, hr;
        context_after(&c, k, live, n_live, &hl, &hr);
        if (hl >= hlp && hr >= hrp) continue;
        int exact = 1;
        for (int i = 0; i < n_live && exact; i++) {
            int v = live[i];
            exact = hl + vx_split_frames(pl[v], rate[v]) <= hlp &&
                    hr + vx_split_frames(pr[v], rate[v]) <= hrp;
        }
        if (!exact) continue;
        rc = add_cut(sp, k, hl, hr, live, n_live, rate);
        /* c.el/er now hold the contamination since this cut: the next reference. */
        memcpy(pl, c.el, (size_t)nv * sizeof *pl);
        memcpy(pr, c.er, (size_t)nv * sizeof *pr);
        hlp = hl;
        hrp = hr;
    }
done:
    free(c.last_r);
    free(c.made_at);
    free(c.el);
    free(c.er);
    free(pl);
    free(pr);
    free(live);
    return rc;
}

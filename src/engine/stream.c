/* Windowed runs over the frame-level split (split.c explains the analysis): the front
 * once per sentence, then the frame-level steps per window of frames with their halo.
 * Only the front's boundary values, one window's frame-level tensors and what the
 * windows carry between them (the carry and the span, below) are alive. */
#include "engine/graph_internal.h"
#include "util/tpool.h"
#include "vox.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The context one window leaves the next (VOX_WINDOW_CARRY=0 turns it off).
 *
 * Why: windows made one after the other overlap. At each cut i (split_cuts.c) a window
 * [a, b) needs the crossing values on frames [a - L_i, b + R_i] (L_i | R_i: the context the
 * steps after the cut need), and the window before, [a', a), already computed them exactly
 * on [a' - L_i, a + R_i]. Kept, that piece means the stage ending at cut i only has to
 * make frames [a + R_i, b + R_i], so it runs on those and its own context, l_i = L_(i-1) -
 * L_i frames left and r_i = R_(i-1) - R_i right (the cut analysis proved every crossing
 * value's contamination within them), instead of on the whole [a - L_(i-1), b + R_(i-1)].
 * A Piper voice's flow has a cut after each WaveNet layer (16, context 41 down to 11
 * frames): without the carry each 256-frame window computes every flow layer on up to 82
 * frames of context, with it on 4. Every value is still computed from exact inputs by the
 * same kernels, so the bytes are the same (tests/engine/test_window.c compares them with
 * the whole run bit for bit, with and without the carry).
 *
 * Not used: for the first window, a window whose start is within the right halo of the
 * sentence's end (a stage could have nothing new to make), a window made beside another
 * (the second of a pair has no window before it yet: it makes its context from scratch and
 * leaves a carry for the window after it), and int8, whose activation scales are per block
 * of a window's times: which windows run with a carry then depends on the threads, and
 * int8 promises the same bytes on any number of threads. */
typedef struct carry_set {
    int64_t end;  /* the window it serves starts at this frame; -1: empty */
    vx_tensor *t; /* one per cut value (sp->cut_off[n_cuts]): cut i's value on frames
                   * [end - L_i, end + R_i] within the sentence */
} carry_set;

static int n_cut_vals(const struct vx_split *sp) {
    return sp && sp->n_cuts ? sp->cut_off[sp->n_cuts] : 0;
}

/* Context after cut i (L_i | R_i): i = -1 is the window's whole halo, i = n_cuts the
 * output (none). */
static int64_t ctx_l(const struct vx_split *sp, int i) {
    return i < 0 ? sp->info.halo_left : i >= sp->n_cuts ? 0 : sp->cut_ctx[2 * i];
}
static int64_t ctx_r(const struct vx_split *sp, int i) {
    return i < 0 ? sp->info.halo_right : i >= sp->n_cuts ? 0 : sp->cut_ctx[2 * i + 1];
}

/* The last cut whose values are all at frame rate (the span's end, below), or -1. */
static int span_cut_of(const struct vx_split *sp) {
    int c = -1;
    for (int i = 0; i < sp->n_cuts; i++) {
        int all1 = 1;
        for (int j = sp->cut_off[i]; j < sp->cut_off[i + 1]; j++)
            all1 &= sp->cut_vals[2 * j + 1] == 1;
        if (all1) c = i;
    }
    return c;
}

static void carry_release(carry_set *c, int n) {
    for (int i = 0; c->t && i < n; i++) vx_tensor_release(&c->t[i]);
    free(c->t);
    c->t = NULL;
    c->end = -1;
}

struct vx_stream {
    const vx_graph *g;
    const struct vx_split *sp; /* NULL: the whole graph ran at start */
    vx_run_opts o;
    vx_run front;      /* the front's values (boundary and time-free inputs of R) */
    vx_tensor *inputs; /* owned copies of the caller's inputs */
    int n_inputs;
    vx_bufpool *bp;
    vx_rng rng;
    int64_t frames, next; /* total frames, first frame not yet delivered */
    vx_tensor whole;      /* whole mode: the output, handed out once */
    int done;
    /* the window after `next`, made beside the one asked for (vx_stream_next) */
    vx_tensor ahead;
    int64_t ahead_a, ahead_b; /* its frames; ahead_b == 0: none */
    vx_bufpool *bp2;          /* the second window's buffers (pools are one thread's) */
    int64_t last_frames;      /* frames the last call asked for */
    int ahead_ok;             /* windows may be made two at a time (threads, VOX_WINDOWS_AHEAD) */
    int carry_ok;             /* windows reuse the context the window before left (below) */
    carry_set carry[2];       /* what the last windows left: the next one starts at an end */
    /* The span (see below): cut span_cut's values, made ahead in spans, on frames
     * [span0, span1); span_end: the frame the next span starts at; fcarry: its carry. */
    int span_cut; /* -1: every window runs the whole part */
    vx_tensor *span;
    int64_t span0, span1, span_end;
    carry_set fcarry;
};

static int n_span_vals(const vx_stream *s) {
    int c = s->span_cut;
    return s->sp && c >= 0 ? s->sp->cut_off[c + 1] - s->sp->cut_off[c] : 0;
}

int64_t vx_stream_frames(const vx_stream *s) { return s ? s->frames : 0; }
int vx_stream_windowed(const vx_stream *s) { return s && s->sp; }
int vx_stream_done(const vx_stream *s) { return !s || s->done; }

void vx_stream_free(vx_stream *s) {
    if (!s) return;
    vx_bufpool *prev = s->bp ? vx_bufpool_set_current(s->bp) : NULL;
    vx_tensor_release(&s->ahead);
    for (int i = 0; i < 2; i++) carry_release(&s->carry[i], n_cut_vals(s->sp));
    carry_release(&s->fcarry, n_cut_vals(s->sp));
    for (int j = 0; s->span && j < n_span_vals(s); j++) vx_tensor_release(&s->span[j]);
    free(s->span);
    vx_run_end(&s->front);
    vx_tensor_release(&s->whole);
    if (s->bp) {
        vx_bufpool_set_current(prev);
        vx_bufpool_free(s->bp);
    }
    if (s->bp2) vx_bufpool_free(s->bp2);
    for (int i = 0; i < s->n_inputs; i++) vx_tensor_release(&s->inputs[i]);
    free(s->inputs);
    free(s);
}

/* Frames [u0, u1) of a value at rate samples per frame into dst (owned): those below p1
 * from p (frames [p0, p1); p may be NULL when u0 >= p1), the rest from t (frames from t0). */
static int gather(const vx_tensor *p, int64_t p0, int64_t p1, const vx_tensor *t, int64_t t0,
                  int64_t u0, int64_t u1, int64_t rate, vx_tensor *dst) {
    if (!t->ndim) return VOX_ERR_INTERNAL; /* values with a time axis only */
    int64_t tlen = t->dims[t->ndim - 1], plen = (p1 - p0) * rate;
    int64_t rows = tlen ? t->numel / tlen : 0, split = u0 < p1 ? (p1 < u1 ? p1 : u1) : u0;
    if (u0 > u1 || (split > u0 && u0 < p0) ||
        (u1 > split && (split < t0 || (u1 - t0) * rate > tlen)))
        return VOX_ERR_INTERNAL;
    if (split > u0 && (!p || !p->data || p->dtype != t->dtype || p->ndim != t->ndim || !p->ndim ||
                       p->dims[p->ndim - 1] != plen || p->numel != rows * plen))
        return VOX_ERR_INTERNAL;
    int64_t dims[VX_MAX_DIMS];
    memcpy(dims, t->dims, sizeof dims);
    dims[t->ndim - 1] = (u1 - u0) * rate;
    if (vx_tensor_alloc_raw(dst, t->dtype, t->ndim, dims)) return VOX_ERR_NOMEM;
    size_t es = vx_dtype_size(t->dtype), n_p = (size_t)((split - u0) * rate) * es,
           n_t = (size_t)((u1 - split) * rate) * es, row = n_p + n_t;
    for (int64_t i = 0; i < rows; i++) {
        char *d = (char *)dst->data + (size_t)i * row;
        if (n_p)
            memcpy(d, (const char *)p->data + ((size_t)(i * plen + (u0 - p0) * rate)) * es, n_p);
        if (n_t)
            memcpy(d + n_p, (const char *)t->data + ((size_t)(i * tlen + (split - t0) * rate)) * es,
                   n_t);
    }
    return 0;
}

/* The last axis of t, samples [a, b), into dst (owned). */
static int slice_last(const vx_tensor *t, int64_t a, int64_t b, vx_tensor *dst) {
    return gather(NULL, 0, 0, t, 0, a, b, 1, dst);
}

static int find_extra(const vx_graph *g, const vx_run_opts *o, int *slots) {
    for (int i = 0; i < o->n_extra_outputs; i++) {
        slots[i] = o->extra_outputs[i] ? vx_graph_slot(g, o->extra_outputs[i]) : -1;
        if (slots[i] < 0 || g->elided[slots[i]] || g->is_const[slots[i]] == 2) return -1;
    }
    return 0;
}

/* Whether any extra output is made in the frame-level part (then the stream runs whole). */
static int extra_in_frame(const vx_graph *g, const int *slots, int n) {
    for (int k = 0; k < g->n_steps; k++) {
        if (!g->split->in_r[k]) continue;
        for (int j = 0; j < g->steps[k].n_out; j++)
            for (int i = 0; i < n; i++)
                if (g->steps[k].out[j] == slots[i]) return 1;
    }
    return 0;
}

static int start_whole(vx_stream *s, const vx_tensor *inputs, int n_inputs, vx_tensor *extra) {
    const vx_graph *g = s->g;
    int n_out = g->model->n_outputs, n = n_out + s->o.n_extra_outputs;
    vx_tensor *res = calloc((size_t)n + 1, sizeof *res);
    if (!res) return VOX_ERR_NOMEM;
    int rc = vx_graph_run(g, &s->o, inputs, n_inputs, res);
    if (!rc) {
        s->whole = res[0];
        memset(&res[0], 0, sizeof res[0]);
        for (int i = 0; i < s->o.n_extra_outputs; i++) {
            extra[i] = res[n_out + i];
            memset(&res[n_out + i], 0, sizeof *res);
        }
        s->frames = 1;
    }
    for (int i = 0; i < n; i++) vx_tensor_release(&res[i]);
    free(res);
    return rc;
}

int vx_stream_start(const vx_graph *g, const vx_run_opts *o, const vx_tensor *inputs, int n_inputs,
                    vx_tensor *extra, vx_stream **out) {
    *out = NULL;
    if (!g || !o || (n_inputs && !inputs) || (o->n_extra_outputs && !extra)) return VOX_ERR_ARG;
    for (int i = 0; i < o->n_extra_outputs; i++) vx_tensor_release(&extra[i]);
    vx_stream *s = calloc(1, sizeof *s);
    if (!s) return VOX_ERR_NOMEM;
    s->g = g;
    s->o = *o;
    s->o.profile = NULL;
    s->o.stats = NULL;
    int extra_slots[VX_GRAPH_MAX_EXTRA_OUTPUTS];
    int rc = 0;
    if (o->n_extra_outputs < 0 || o->n_extra_outputs > VX_GRAPH_MAX_EXTRA_OUTPUTS) rc = VOX_ERR_ARG;
    int windowed = !rc && g->split && g->split->info.ok && !vx_env_off("VOX_WINDOWS") &&
                   !find_extra(g, o, extra_slots) &&
                   !extra_in_frame(g, extra_slots, o->n_extra_outputs);
    if (!rc && !windowed) {
        rc = start_whole(s, inputs, n_inputs, extra);
        if (rc) {
            vx_stream_free(s);
            return rc;
        }
        *out = s;
        return 0;
    }
    if (!rc && n_inputs != g->model->n_inputs)
        rc = vx_graph_fail(o->err, o->errlen, VOX_ERR_ARG, "the model takes %d inputs, %d given",
                           g->model->n_inputs, n_inputs);
    for (int i = 0; i < n_inputs && !rc; i++)
        rc = vx_graph_check_input(g, i, &inputs[i], o->err, o->errlen);
    s->inputs = calloc((size_t)n_inputs + 1, sizeof(vx_tensor));
    if (!rc && !s->inputs) rc = VOX_ERR_NOMEM;
    s->n_inputs = s->inputs ? n_inputs : 0;
    for (int i = 0; i < n_inputs && !rc; i++)
        if (vx_tensor_copy(&s->inputs[i], &inputs[i])) rc = VOX_ERR_NOMEM;
    if (!rc && vx_run_begin(&s->front, g)) rc = VOX_ERR_NOMEM;
    if (rc) {
        vx_stream_free(s);
        return rc;
    }
    s->sp = g->split;
    s->ahead_ok =
        o->threads > 1 && vx_tpool_threads(o->pool) > 1 && !vx_env_off("VOX_WINDOWS_AHEAD");
    s->carry_ok = s->sp->n_cuts > 0 && g->precision != 2 && !vx_env_off("VOX_WINDOW_CARRY");
    s->carry[0].end = s->carry[1].end = s->fcarry.end = -1;
    s->span_cut = vx_env_off("VOX_WINDOW_SPAN") ? -1 : span_cut_of(s->sp);
    s->span = calloc((size_t)n_span_vals(s) + 1, sizeof *s->span);
    if (!s->span) rc = VOX_ERR_NOMEM;
    s->bp = vx_bufpool_new();
    vx_bufpool *prev = s->bp ? vx_bufpool_set_current(s->bp) : NULL;
    vx_run *r = &s->front;
    for (int i = 0; i < n_inputs; i++) vx_tensor_view(&r->vals[g->in_slots[i]], &s->inputs[i]);
    for (int i = 0; i < o->n_extra_outputs; i++) r->keep[extra_slots[i]] = 1;
    vx_rng_seed(&s->rng, o->seed);
    /* The front: every step outside R, in order (so random draws match the whole run).
     * A profile sees the front only (windows may run on several threads; a profile is
     * one thread's): `vox infer --window ... --profile` times the phoneme-level part. */
    vx_run_opts fo = s->o;
    fo.profile = o->profile;
    for (int k = 0; k < g->n_steps && !rc; k++) {
        if (s->sp->in_r[k]) continue;
        if (o->cancel && *o->cancel)
            rc = vx_graph_fail(o->err, o->errlen, VOX_ERR_CANCELLED, "cancelled");
        else
            rc = vx_run_step(r, &fo, &s->rng, k);
    }
    if (!rc && fo.profile && fo.profile->n_steps == g->n_steps) fo.profile->runs++;
    for (int i = 0; i < o->n_extra_outputs && !rc; i++)
        rc = vx_run_take(r, extra_slots[i], &extra[i]);
    /* Every boundary value must be a whole number of frames, the same number. */
    for (int q = 0; q < s->sp->n_bnd && !rc; q++) {
        const vx_tensor *t = &r->vals[s->sp->bnd[q]];
        int64_t len = t->ndim ? t->dims[t->ndim - 1] : -1, rate = s->sp->bnd_rate[q];
        if (len < 0 || len % rate || (q && len / rate != s->frames))
            rc = vx_graph_fail(o->err, o->errlen, VOX_ERR_INTERNAL,
                               "frame-level boundary '%s' has %lld samples, not %lld frames",
                               g->names[s->sp->bnd[q]], (long long)len, (long long)s->frames);
        s->frames = len / rate;
    }
    if (s->bp) vx_bufpool_set_current(prev);
    if (rc) {
        for (int i = 0; i < o->n_extra_outputs; i++) vx_tensor_release(&extra[i]);
        vx_stream_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Frames [*y0, *y1] the stage after cut i runs on, for window [a, b): with a carry, only
 * what the carry does not hold plus that stage's own context; without, [a - L_i, b + R_i]
 * (i = -1: the part's boundary values). Clamped to the sentence. */
static void stage_range(const vx_stream *s, int i, int carry, int64_t a, int64_t b, int64_t *y0,
                        int64_t *y1) {
    const struct vx_split *sp = s->sp;
    int64_t lo =
        carry ? a + ctx_r(sp, i + 1) - (ctx_l(sp, i) - ctx_l(sp, i + 1)) : a - ctx_l(sp, i);
    int64_t hi = b + ctx_r(sp, i);
    *y0 = lo < 0 ? 0 : lo;
    *y1 = hi > s->frames ? s->frames : hi;
}

/* Cut i without a carry: every value crossing it, computed on frames [*c0, *c1), is
 * cropped to [a - L_i, b + R_i] within the sentence. */
static int crop_at_cut(const vx_stream *s, const vx_run_opts *o, vx_run *w, int i, int64_t a,
                       int64_t b, int64_t *c0, int64_t *c1) {
    const struct vx_split *sp = s->sp;
    int64_t n0, n1;
    stage_range(s, i, 0, a, b, &n0, &n1);
    if (n0 < *c0) n0 = *c0;
    if (n1 > *c1) n1 = *c1;
    if (n0 == *c0 && n1 == *c1) return 0;
    for (int j = sp->cut_off[i]; j < sp->cut_off[i + 1]; j++) {
        int v = sp->cut_vals[2 * j], rate = sp->cut_vals[2 * j + 1];
        vx_tensor *t = &w->vals[v], nt = {0};
        if (!t->data) continue;
        int64_t len = t->ndim ? t->dims[t->ndim - 1] : -1;
        if (len != (*c1 - *c0) * rate)
            return vx_graph_fail(o->err, o->errlen, VOX_ERR_INTERNAL,
                                 "cut: '%s' has %lld samples, expected %lld", s->g->names[v],
                                 (long long)len, (long long)((*c1 - *c0) * rate));
        int rc = slice_last(t, (n0 - *c0) * rate, (n1 - *c0) * rate, &nt);
        if (rc) return rc;
        w->bytes += vx_tensor_bytes(&nt) - vx_tensor_bytes(t);
        vx_tensor_release(t);
        *t = nt;
    }
    *c0 = n0;
    *c1 = n1;
    return 0;
}

/* Cut i with a carry: the stage before it ran on frames [*c0, *c1] and is exact from
 * a + R_i on; the carry holds [a - L_i, a + R_i]. Each crossing value becomes what the
 * next stage runs on (stage_range) and leaves [b - L_i, b + R_i] in cout. */
static int carry_at_cut(const vx_stream *s, const vx_run_opts *o, vx_run *w, int i, int64_t a,
                        int64_t b, const carry_set *cin, carry_set *cout, int64_t *c0,
                        int64_t *c1) {
    const struct vx_split *sp = s->sp;
    int64_t p0, p1, k0, k1, y0, y1;
    stage_range(s, i, 0, a, a, &p0, &p1); /* what cin holds */
    stage_range(s, i, 0, b, b, &k0, &k1); /* what cout gets */
    stage_range(s, i, 1, a, b, &y0, &y1);
    for (int j = sp->cut_off[i]; j < sp->cut_off[i + 1]; j++) {
        int v = sp->cut_vals[2 * j], rate = sp->cut_vals[2 * j + 1];
        vx_tensor *t = &w->vals[v], nt = {0};
        if (!t->data) continue;
        int64_t len = t->ndim ? t->dims[t->ndim - 1] : -1;
        int rc = len != (*c1 - *c0) * rate ? VOX_ERR_INTERNAL : 0;
        if (!rc && cout) rc = gather(&cin->t[j], p0, p1, t, *c0, k0, k1, rate, &cout->t[j]);
        if (!rc) rc = gather(&cin->t[j], p0, p1, t, *c0, y0, y1, rate, &nt);
        if (rc)
            return vx_graph_fail(o->err, o->errlen, rc,
                                 "cut: '%s' (%lld samples, frames %lld-%lld) does not join its "
                                 "carry",
                                 s->g->names[v], (long long)len, (long long)*c0, (long long)*c1);
        w->bytes += vx_tensor_bytes(&nt) - vx_tensor_bytes(t);
        vx_tensor_release(t);
        *t = nt;
    }
    *c0 = y0;
    *c1 = y1;
    return 0;
}

/* What cut i's values, cropped to [c0, c1] (crop_at_cut), leave the next window. */
static int carry_save(const vx_stream *s, const vx_run *w, int i, int64_t b, int64_t c0,
                      carry_set *cout) {
    const struct vx_split *sp = s->sp;
    int64_t k0, k1;
    stage_range(s, i, 0, b, b, &k0, &k1);
    for (int j = sp->cut_off[i]; j < sp->cut_off[i + 1]; j++) {
        const vx_tensor *t = &w->vals[sp->cut_vals[2 * j]];
        if (!t->data) continue;
        int rc = gather(NULL, 0, 0, t, c0, k0, k1, sp->cut_vals[2 * j + 1], &cout->t[j]);
        if (rc) return rc;
    }
    return 0;
}

/* A part of the frame-level steps for frames [a, b): the stages lo..hi, stage i being the
 * steps after cut i - 1 up to cut i (stage n_cuts ends at the output).
 *  - lo = 0 reads the front's boundary values, sliced; lo > 0 reads cut lo - 1's values
 *    from the span buffer (s->span, frames [span0, span1)).
 *  - hi = n_cuts makes frames [a, b) of the output into *out; hi < n_cuts hands cut hi's
 *    values out into vals (frames [*v0, *v1]: exact from a + R_hi, or from a - L_hi
 *    without a carry, to b + R_hi).
 * With cin (what the part left at b = a), each stage computes only the frames the carry
 * does not hold; cout (if any) receives what this part leaves the one starting at b.
 * Reads the stream and writes nothing of it, so two parts may run at once, each with its
 * own options (threads, error buffer) and random state. */
typedef struct part {
    int lo, hi;
    int64_t a, b;
    const carry_set *cin;
    carry_set *cout;
    vx_tensor *out;  /* hi == n_cuts */
    vx_tensor *vals; /* hi < n_cuts: cut_off[hi + 1] - cut_off[hi] values */
    int64_t v0, v1;
} part;

static int use_carry(const vx_stream *s, const part *p) {
    const struct vx_split *sp = s->sp;
    /* every stage of the part must have new frames to make: a + R_i < frames */
    return p->cin && p->cin->t && p->cin->end == p->a && p->a > 0 && sp->n_cuts > 0 &&
           p->a + ctx_r(sp, p->lo - 1) < s->frames;
}

/* The part's inputs: boundary values sliced, or the span buffer's values; everything
 * else of the front shared as views. */
static int part_inputs(const vx_stream *s, const part *p, vx_run *w, int64_t w0, int64_t w1) {
    const vx_graph *g = s->g;
    const struct vx_split *sp = s->sp;
    int rc = 0;
    for (int j = p->lo ? sp->cut_off[p->lo - 1] : 0; p->lo && j < sp->cut_off[p->lo] && !rc; j++) {
        int v = sp->cut_vals[2 * j];
        const vx_tensor *t = &s->span[j - sp->cut_off[p->lo - 1]];
        if (!t->data) continue;
        rc = gather(NULL, 0, 0, t, s->span0, w0, w1, sp->cut_vals[2 * j + 1], &w->vals[v]);
        if (rc) break;
        w->live++;
        w->bytes += vx_tensor_bytes(&w->vals[v]);
    }
    for (int k = 0, cut = 0; k < g->n_steps && !rc; k++) {
        if (!sp->in_r[k]) continue;
        int stage = cut;
        if (cut < sp->n_cuts && sp->cut_step[cut] == k) cut++;
        if (stage < p->lo || stage > p->hi) continue;
        const vx_step *st = &g->steps[k];
        for (int j = 0; j < st->n_in; j++) {
            int v = st->in[j];
            if (v < 0 || g->is_const[v] || w->vals[v].data || !s->front.vals[v].data) continue;
            int q = 0;
            while (q < sp->n_bnd && sp->bnd[q] != v) q++;
            if (q < sp->n_bnd) {
                rc = slice_last(&s->front.vals[v], w0 * sp->bnd_rate[q], w1 * sp->bnd_rate[q],
                                &w->vals[v]);
                if (rc) break;
                w->live++;
                w->bytes += vx_tensor_bytes(&w->vals[v]);
            } else {
                vx_tensor_view(&w->vals[v], &s->front.vals[v]);
            }
        }
    }
    return rc;
}

/* Cut hi's values out of the run into p->vals (a part ending before the output). */
static int part_hand_out(const vx_stream *s, part *p, vx_run *w, int64_t c0, int64_t c1) {
    const struct vx_split *sp = s->sp;
    for (int j = sp->cut_off[p->hi]; j < sp->cut_off[p->hi + 1]; j++) {
        int v = sp->cut_vals[2 * j];
        if (!w->vals[v].data) continue;
        int rc = vx_run_take(w, v, &p->vals[j - sp->cut_off[p->hi]]);
        if (rc) return rc;
    }
    p->v0 = c0;
    p->v1 = c1;
    return 0;
}

static atomic_long carried_parts, span_parts;
long vx_stream_carried_parts(void) { return atomic_load(&carried_parts); }
long vx_stream_span_parts(void) { return atomic_load(&span_parts); }

static int run_part(const vx_stream *s, const vx_run_opts *o, vx_rng *rng, part *p) {
    const vx_graph *g = s->g;
    const struct vx_split *sp = s->sp;
    int carry = use_carry(s, p), rc = 0;
    if (carry) atomic_fetch_add(&carried_parts, 1);
    if (p->hi < sp->n_cuts) atomic_fetch_add(&span_parts, 1);
    int64_t a = p->a, b = p->b, c0, c1; /* frames the live values hold */
    stage_range(s, p->lo - 1, carry, a, b, &c0, &c1);
    if (p->cout) {
        p->cout->t = calloc((size_t)n_cut_vals(sp) + 1, sizeof(vx_tensor));
        p->cout->end = p->cout->t ? b : -1;
    }
    vx_run w;
    if (vx_run_begin(&w, g)) return VOX_ERR_NOMEM;
    rc = part_inputs(s, p, &w, c0, c1);
    if (p->hi == sp->n_cuts) w.keep[sp->out_slot] = 1;
    for (int k = 0, cut = 0; k < g->n_steps && !rc; k++) {
        if (!sp->in_r[k]) continue;
        int at_cut = cut < sp->n_cuts && sp->cut_step[cut] == k;
        if (cut >= p->lo && cut <= p->hi) {
            if (o->cancel && *o->cancel)
                rc = vx_graph_fail(o->err, o->errlen, VOX_ERR_CANCELLED, "cancelled");
            else
                rc = vx_run_step(&w, o, rng, k);
        }
        if (rc || !at_cut) continue;
        if (cut == p->hi) {
            rc = part_hand_out(s, p, &w, c0, c1);
            break;
        }
        if (cut >= p->lo) {
            carry_set *cout = p->cout && p->cout->t ? p->cout : NULL;
            if (carry) {
                rc = carry_at_cut(s, o, &w, cut, a, b, p->cin, cout, &c0, &c1);
            } else {
                rc = crop_at_cut(s, o, &w, cut, a, b, &c0, &c1);
                if (!rc && cout) rc = carry_save(s, &w, cut, b, c0, cout);
            }
        }
        cut++;
    }
    if (!rc && p->hi == sp->n_cuts) {
        vx_tensor full = {0};
        rc = vx_run_take(&w, sp->out_slot, &full);
        int64_t len = full.ndim ? full.dims[full.ndim - 1] : 0, r = sp->out_rate;
        if (!rc && len != (c1 - c0) * r)
            rc = vx_graph_fail(o->err, o->errlen, VOX_ERR_INTERNAL,
                               "window output has %lld samples, expected %lld", (long long)len,
                               (long long)((c1 - c0) * r));
        else if (!rc) {
            /* outside the run's pool: the chunk outlives the run (see fill_span) */
            vx_bufpool *prev = vx_bufpool_set_current(NULL);
            rc = slice_last(&full, (a - c0) * r, (b - c0) * r, p->out);
            vx_bufpool_set_current(prev);
        }
        vx_tensor_release(&full);
    }
    vx_run_end(&w);
    return rc;
}

/* Two windows at once. A window's ops split over the voice's threads scale poorly
 * (hundreds of ops per window, each a fork and a join; medium, 200 ids, 2 threads: whole
 * run 318 ms, in 256-frame windows 386-389), while one window per thread runs each at
 * one thread's speed. So with two or more threads, once the caller asks for the same
 * number of frames (at least AHEAD_MIN) twice in a row, the window asked for is made
 * beside the next one of that size, one per thread, and the second is handed out if
 * the next call asks for exactly that window (else it is dropped and made again). The
 * windows are thus the ones the caller's schedule gives, whatever the threads: int8's
 * activation scales, per block of a window's times, see the same windows, and every
 * format gives the same bytes on any number of threads. Small windows (a sentence's
 * first chunks, whose sizes grow) still split their ops: they are the latency. */
#define AHEAD_MIN 32

static atomic_long pair_runs;
long vx_stream_pair_runs(void) { return atomic_load(&pair_runs); }

typedef struct win_job {
    const vx_stream *s;
    vx_run_opts o;
    vx_rng rng;
    vx_bufpool *bp;
    part p;
    carry_set cout;
    vx_tensor out;
    int rc;
    char err[256];
} win_job;

static void win_fn(void *arg, int64_t b, int64_t e) {
    win_job *jobs = arg;
    for (int64_t i = b; i < e; i++) {
        win_job *j = &jobs[i];
        vx_bufpool *prev = j->bp ? vx_bufpool_set_current(j->bp) : NULL;
        j->rc = run_part(j->s, &j->o, &j->rng, &j->p);
        if (j->bp) vx_bufpool_set_current(prev);
    }
}

/* The carry left for a window starting at a, if any. */
static const carry_set *carry_for(const vx_stream *s, int64_t a) {
    for (int i = 0; s->carry_ok && i < 2; i++)
        if (s->carry[i].t && s->carry[i].end == a) return &s->carry[i];
    return NULL;
}

/* The carries the windows just made leave replace the old ones. */
static void carry_keep(vx_stream *s, carry_set *c0, carry_set *c1) {
    int n = n_cut_vals(s->sp);
    for (int i = 0; i < 2; i++) carry_release(&s->carry[i], n);
    s->carry[0] = *c0;
    if (c1) s->carry[1] = *c1;
}

/* A window's part: the stages after the span's cut (all of them without a span). */
static part window_part(const vx_stream *s, int64_t a, int64_t b, const carry_set *cin,
                        carry_set *cout, vx_tensor *out) {
    part p = {.lo = s->span_cut + 1,
              .hi = s->sp->n_cuts,
              .a = a,
              .b = b,
              .cin = cin,
              .cout = cout,
              .out = out};
    return p;
}

/* The span: a Piper voice's flow and the decoder's first conv run at frame rate, with
 * small tensors (192-512 channels, 1-3 KB per frame) but 30 MB of weights, which a
 * 256-frame window reads from memory again each time (medium, 200 ids, 1 thread: the
 * flow's 16 WaveNet convs cost 4.6 ms each in one run, 6.1 ms in 256-frame windows, the
 * extra frames being 1.5% of it). So the stages up to the last cut whose values are all
 * at frame rate run ahead in spans that grow with the sentence (4x the frames already
 * made, at least the window, at most SPAN_MAX frames; a rest shorter than the window
 * joins the span before it), and their values at that cut wait in s->span for the
 * windows, which run the rest. The first window's span is the window itself, so the first
 * chunk is not delayed; a later span costs ~60 us per frame (medium), far less than the
 * audio already made lasts (11.6 ms per frame). Memory: medium, 1,024 frames, ~10 MB
 * (800 ids, 1 thread: peak RSS 141 MB without spans, 146-147 with). VOX_WINDOW_SPAN=0
 * turns it off (every window then runs every stage). */
#define SPAN_MAX 1024

/* Runs spans until the span buffer holds frames [.., need). */
static int fill_span(vx_stream *s, int64_t a, int64_t frames, int64_t need) {
    const struct vx_split *sp = s->sp;
    int n = n_span_vals(s), c = s->span_cut, rc = 0;
    vx_tensor *vals = calloc((size_t)n + 1, sizeof *vals);
    if (!vals) return VOX_ERR_NOMEM;
    while (!rc && s->span1 < need && s->span_end < s->frames) {
        int64_t a0 = s->span_end, len = 4 * a0 < SPAN_MAX ? 4 * a0 : SPAN_MAX;
        if (len < frames) len = frames;
        if (s->frames - (a0 + len) < frames) len = s->frames - a0; /* no short last span */
        int64_t b0 = a0 + len > s->frames ? s->frames : a0 + len;
        carry_set cout = {.end = -1};
        part p = {.lo = 0,
                  .hi = c,
                  .a = a0,
                  .b = b0,
                  .cin = s->carry_ok ? &s->fcarry : NULL,
                  .cout = s->carry_ok ? &cout : NULL,
                  .vals = vals};
        rc = run_part(s, &s->o, &s->rng, &p);
        /* the buffer keeps what window a still needs, and gains [span1, b0 + R) */
        int64_t k0, k1;
        stage_range(s, c, 0, a, b0, &k0, &k1);
        /* Outside the pool: a block the run cache lends a tensor that outlives the run
         * may be far larger than it (the cache lends what it has before it maps more),
         * and stays counted against the cache's budget until freed, so the next
         * window's big tensors are mapped anew (+9 MB peak RSS per such block). */
        vx_bufpool *prev = vx_bufpool_set_current(NULL);
        for (int j = 0; j < n && !rc; j++) {
            vx_tensor nt = {0};
            if (!vals[j].data) continue;
            rc = gather(&s->span[j], s->span0, s->span1, &vals[j], p.v0, k0, k1,
                        sp->cut_vals[2 * (sp->cut_off[c] + j) + 1], &nt);
            vx_tensor_release(&s->span[j]);
            s->span[j] = nt;
        }
        vx_bufpool_set_current(prev);
        for (int j = 0; j < n; j++) vx_tensor_release(&vals[j]);
        carry_release(&s->fcarry, n_cut_vals(sp));
        if (rc) {
            carry_release(&cout, n_cut_vals(sp));
            break;
        }
        s->fcarry = cout;
        s->span0 = k0;
        s->span1 = k1;
        s->span_end = b0;
    }
    free(vals);
    if (rc && s->o.err && !s->o.err[0]) snprintf(s->o.err, s->o.errlen, "frame-level span failed");
    return rc;
}

/* Windows [a, b) into out and [b, b2) into s->ahead, one per thread. */
static int run_pair(vx_stream *s, int64_t a, int64_t b, int64_t b2, vx_tensor *out) {
    win_job j[2];
    memset(j, 0, sizeof j);
    for (int i = 0; i < 2; i++) {
        j[i].s = s;
        j[i].o = s->o;
        j[i].o.pool = NULL; /* each window on its own thread only */
        j[i].o.threads = 1;
        j[i].o.err = j[i].err;
        j[i].o.errlen = sizeof j[i].err;
        j[i].rng = s->rng; /* the frame-level part draws nothing; a copy keeps it so */
        j[i].bp = i ? s->bp2 : s->bp;
        j[i].cout.end = -1;
        j[i].p = window_part(s, i ? b : a, i ? b2 : b, i ? NULL : carry_for(s, a),
                             s->carry_ok ? &j[i].cout : NULL, &j[i].out);
    }
    vx_tpool_for_chunks(s->o.pool, 2, 2, win_fn, j);
    int rc = j[0].rc ? j[0].rc : j[1].rc;
    if (rc) {
        if (s->o.err && s->o.errlen)
            snprintf(s->o.err, s->o.errlen, "%s", j[0].rc ? j[0].err : j[1].err);
        for (int i = 0; i < 2; i++) {
            vx_tensor_release(&j[i].out);
            carry_release(&j[i].cout, n_cut_vals(s->sp));
        }
        return rc;
    }
    carry_keep(s, &j[0].cout, &j[1].cout);
    atomic_fetch_add(&pair_runs, 1);
    *out = j[0].out;
    s->ahead = j[1].out;
    s->ahead_a = b;
    s->ahead_b = b2;
    return 0;
}

int vx_stream_next(vx_stream *s, int64_t frames, vx_tensor *out) {
    vx_tensor_release(out);
    if (!s) return VOX_ERR_ARG;
    if (s->done) return 0;
    if (!s->sp) {
        *out = s->whole;
        memset(&s->whole, 0, sizeof s->whole);
        s->done = 1;
        return 1;
    }
    if (s->frames <= 0) {
        s->done = 1;
        return 0;
    }
    if (frames < 1) frames = 1;
    int64_t a = s->next, b = a + frames > s->frames ? s->frames : a + frames;
    /* the window the last call made beside its own, if it is the one asked for */
    vx_tensor kept = s->ahead;
    int is_kept = s->ahead_b > 0 && s->ahead_a == a && s->ahead_b == b;
    memset(&s->ahead, 0, sizeof s->ahead);
    s->ahead_a = s->ahead_b = 0;
    int rc = 0;
    if (is_kept) {
        *out = kept;
    } else {
        vx_tensor_release(&kept);
        vx_bufpool *prev = s->bp ? vx_bufpool_set_current(s->bp) : NULL;
        int64_t b2 = b + frames > s->frames ? s->frames : b + frames;
        int pair = s->ahead_ok && frames >= AHEAD_MIN && frames == s->last_frames && b2 > b;
        if (pair && !s->bp2) s->bp2 = vx_bufpool_new();
        pair = pair && s->bp2;
        if (s->span_cut >= 0) {
            int64_t need = (pair ? b2 : b) + ctx_r(s->sp, s->span_cut);
            rc = fill_span(s, a, frames, need > s->frames ? s->frames : need);
        }
        if (!rc && pair) {
            rc = run_pair(s, a, b, b2, out);
        } else if (!rc) {
            carry_set c = {.end = -1};
            part p = window_part(s, a, b, carry_for(s, a), s->carry_ok ? &c : NULL, out);
            rc = run_part(s, &s->o, &s->rng, &p);
            if (rc)
                carry_release(&c, n_cut_vals(s->sp));
            else if (s->carry_ok)
                carry_keep(s, &c, NULL);
        }
        if (s->bp) vx_bufpool_set_current(prev);
    }
    if (rc) return rc < 0 ? rc : VOX_ERR_INTERNAL;
    s->last_frames = frames;
    s->next = b;
    if (b >= s->frames) s->done = 1;
    return 1;
}

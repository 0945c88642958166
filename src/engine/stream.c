/* Windowed runs over the frame-level split (split.c explains the analysis): the front
 * once per sentence, then the frame-level steps per window of frames with their halo.
 * Only the front's boundary values and one window's frame-level tensors are alive. */
#include "engine/graph_internal.h"
#include "util/tpool.h"
#include "vox.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

int64_t vx_stream_frames(const vx_stream *s) { return s ? s->frames : 0; }
int vx_stream_windowed(const vx_stream *s) { return s && s->sp; }
int vx_stream_done(const vx_stream *s) { return !s || s->done; }

void vx_stream_free(vx_stream *s) {
    if (!s) return;
    vx_bufpool *prev = s->bp ? vx_bufpool_set_current(s->bp) : NULL;
    vx_tensor_release(&s->ahead);
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

/* The last axis of t, samples [a, b), into dst (owned). */
static int slice_last(const vx_tensor *t, int64_t a, int64_t b, vx_tensor *dst) {
    int64_t dims[VX_MAX_DIMS];
    memcpy(dims, t->dims, sizeof dims);
    int64_t len = t->ndim ? t->dims[t->ndim - 1] : 1;
    if (a < 0 || b > len || a > b) return VOX_ERR_INTERNAL;
    dims[t->ndim - 1] = b - a;
    if (vx_tensor_alloc_raw(dst, t->dtype, t->ndim, dims)) return VOX_ERR_NOMEM;
    size_t es = vx_dtype_size(t->dtype), rows = len ? (size_t)(t->numel / len) : 0;
    for (size_t i = 0; i < rows; i++)
        memcpy((char *)dst->data + i * (size_t)(b - a) * es,
               (const char *)t->data + (i * (size_t)len + (size_t)a) * es, (size_t)(b - a) * es);
    return 0;
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

/* Cut i (split_cuts.c): every value crossing it, computed on frames [*c0, *c1), is
 * cropped to [a - context_l, b + context_r] within the sentence. */
static int crop_at_cut(const vx_stream *s, const vx_run_opts *o, vx_run *w, int i, int64_t a,
                       int64_t b, int64_t *c0, int64_t *c1) {
    const struct vx_split *sp = s->sp;
    int64_t n0 = a - sp->cut_ctx[2 * i], n1 = b + sp->cut_ctx[2 * i + 1];
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

/* One window: frames [a, b) of the output, computed from [a - halo_l, b + halo_r)
 * and cropped at the split's cuts to what the steps after each still need. Reads the
 * stream's front and writes nothing of the stream, so two windows may run at once, each
 * with its own options (threads, error buffer) and random state. */
static int run_window(const vx_stream *s, const vx_run_opts *o, vx_rng *rng, int64_t a, int64_t b,
                      vx_tensor *out) {
    const vx_graph *g = s->g;
    const struct vx_split *sp = s->sp;
    int64_t w0 = a - sp->info.halo_left, w1 = b + sp->info.halo_right;
    if (w0 < 0) w0 = 0;
    if (w1 > s->frames) w1 = s->frames;
    vx_run w;
    if (vx_run_begin(&w, g)) return VOX_ERR_NOMEM;
    int rc = 0;
    /* Values from the front: boundaries sliced, everything else shared as views. */
    for (int k = 0; k < g->n_steps && !rc; k++) {
        if (!sp->in_r[k]) continue;
        const vx_step *st = &g->steps[k];
        for (int j = 0; j < st->n_in; j++) {
            int v = st->in[j];
            if (v < 0 || g->is_const[v] || w.vals[v].data || !s->front.vals[v].data) continue;
            int q = 0;
            while (q < sp->n_bnd && sp->bnd[q] != v) q++;
            if (q < sp->n_bnd) {
                rc = slice_last(&s->front.vals[v], w0 * sp->bnd_rate[q], w1 * sp->bnd_rate[q],
                                &w.vals[v]);
                if (rc) break;
                w.live++;
                w.bytes += vx_tensor_bytes(&w.vals[v]);
            } else {
                vx_tensor_view(&w.vals[v], &s->front.vals[v]);
            }
        }
    }
    w.keep[sp->out_slot] = 1;
    int64_t c0 = w0, c1 = w1; /* frames the live values hold */
    for (int k = 0, cut = 0; k < g->n_steps && !rc; k++) {
        if (!sp->in_r[k]) continue;
        if (o->cancel && *o->cancel)
            rc = vx_graph_fail(o->err, o->errlen, VOX_ERR_CANCELLED, "cancelled");
        else
            rc = vx_run_step(&w, o, rng, k);
        if (!rc && cut < sp->n_cuts && sp->cut_step[cut] == k)
            rc = crop_at_cut(s, o, &w, cut++, a, b, &c0, &c1);
    }
    vx_tensor full = {0};
    if (!rc) rc = vx_run_take(&w, sp->out_slot, &full);
    if (!rc) {
        int64_t len = full.ndim ? full.dims[full.ndim - 1] : 0;
        int64_t r = sp->out_rate;
        if (len != (c1 - c0) * r)
            rc = vx_graph_fail(o->err, o->errlen, VOX_ERR_INTERNAL,
                               "window output has %lld samples, expected %lld", (long long)len,
                               (long long)((c1 - c0) * r));
        else
            rc = slice_last(&full, (a - c0) * r, (b - c0) * r, out);
    }
    vx_tensor_release(&full);
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
    int64_t a, b;
    vx_tensor out;
    int rc;
    char err[256];
} win_job;

static void win_fn(void *arg, int64_t b, int64_t e) {
    win_job *jobs = arg;
    for (int64_t i = b; i < e; i++) {
        win_job *j = &jobs[i];
        vx_bufpool *prev = j->bp ? vx_bufpool_set_current(j->bp) : NULL;
        j->rc = run_window(j->s, &j->o, &j->rng, j->a, j->b, &j->out);
        if (j->bp) vx_bufpool_set_current(prev);
    }
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
        j[i].a = i ? b : a;
        j[i].b = i ? b2 : b;
        j[i].bp = i ? s->bp2 : s->bp;
    }
    vx_tpool_for_chunks(s->o.pool, 2, 2, win_fn, j);
    int rc = j[0].rc ? j[0].rc : j[1].rc;
    if (rc) {
        if (s->o.err && s->o.errlen)
            snprintf(s->o.err, s->o.errlen, "%s", j[0].rc ? j[0].err : j[1].err);
        vx_tensor_release(&j[0].out);
        vx_tensor_release(&j[1].out);
        return rc;
    }
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
        if (pair && s->bp2)
            rc = run_pair(s, a, b, b2, out);
        else
            rc = run_window(s, &s->o, &s->rng, a, b, out);
        if (s->bp) vx_bufpool_set_current(prev);
    }
    if (rc) return rc < 0 ? rc : VOX_ERR_INTERNAL;
    s->last_frames = frames;
    s->next = b;
    if (b >= s->frames) s->done = 1;
    return 1;
}

/* The frame-level split: which steps of a compiled graph are local along time, and the
 * context (halo) an output window needs, found by analysis of the graph at load.
 *
 * Why: a Piper voice's text encoder and duration predictor (the "front") work on the
 * whole sentence, but everything after the length regulator (noise, reverse flow,
 * HiFi-GAN decoder) maps frames to audio through convolutions only. Run in windows of
 * frames with enough context, that part gives the same audio while only a window's
 * tensors are alive, and the first window's audio is ready long before the last.
 *
 * How (vx_graph_split):
 *  1. Two probe runs of the whole graph on inputs the caller chose to differ only in the
 *     number of frames (a Piper voice: the same ids at two length scales). A value whose
 *     shape changed between them is frame-varying; the axis that changed is its time
 *     axis. Nothing here looks at node names.
 *  2. From the graph output backwards, a step joins the frame-level part R when its op
 *     is proven local along time (below), all its outputs are frame-varying with time on
 *     the last axis, and every reader of its outputs is in R. The values R reads from
 *     the rest are its boundary (sliced per window) or time-free values (speaker
 *     conditioning, scalars: shared by all windows). Random ops never join R: the noise
 *     is drawn once per sentence at frame level and sliced, so windowed == whole.
 *  3. Forward over R: every value's samples per frame (a ConvTranspose of stride s
 *     multiplies it by s; it must equal the probes' lengths exactly) and how many of its
 *     samples at each window edge can differ from the whole run ("contamination"):
 *       Conv (stride 1, dilation d, pads pl/pr, same length):  e + pl | e + pr
 *       ConvTranspose (stride s, kernel k, output = s * input): s*e + k - s - pl | ... - pr + op
 *       elementwise, activations, masks, Slice/Split/Concat/Transpose/Reshape that keep
 *       time as the last axis untouched: the max of their inputs'.
 *     The halo is the output's contamination in frames, rounded up.
 * Anything not proven (another op, a strided Conv, time moved off the last axis, a
 * shape computed at run time) stops R there; when no usable R remains the graph runs
 * whole, and vx_split_info.note names the node that stopped it.
 *
 * Run (vx_stream_*): the front runs once (all steps not in R, in the original order, so
 * the random draws are those of the whole run); then each window slices the boundary
 * values [a - halo_l, b + halo_r) (clamped to the sentence), runs R's steps, crops the
 * values crossing each cut to the context the steps after it need (split_cuts.c), and
 * keeps the output samples of [a, b). */
#include "engine/graph_internal.h"
#include "tensor/tensor.h"
#include "util/log.h"
#include "util/tpool.h"
#include "vox.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vx_split_free(struct vx_split *s) {
    if (!s) return;
    free(s->in_r);
    free(s->bnd);
    free(s->bnd_rate);
    free(s->cut_step);
    free(s->cut_ctx);
    free(s->cut_off);
    free(s->cut_vals);
    free(s);
}

/* The step making slot s, or -1. */
static int vx_graph_producer(const vx_graph *g, int s) {
    for (int k = 0; s >= 0 && k < g->n_steps; k++)
        for (int j = 0; j < g->steps[k].n_out; j++)
            if (g->steps[k].out[j] == s) return k;
    return -1;
}

/* Shapes of every value in one probe run. */
typedef struct probe {
    signed char *nd; /* -1: not produced */
    int64_t *dims;
} probe;

static const int64_t *pdims(const probe *p, int s) { return &p->dims[(size_t)s * VX_MAX_DIMS]; }

static int run_probe(const vx_graph *g, const vx_tensor *in, int n_in, vx_tpool *pool, probe *p,
                     char *err, size_t errlen) {
    size_t nv = (size_t)g->n_values;
    p->nd = malloc(nv);
    p->dims = calloc(nv * VX_MAX_DIMS, sizeof(int64_t));
    if (!p->nd || !p->dims) return VOX_ERR_NOMEM;
    memset(p->nd, -1, nv);
    vx_run r;
    if (vx_run_begin(&r, g)) return VOX_ERR_NOMEM;
    r.rec_ndim = p->nd;
    r.rec_dims = p->dims;
    for (int i = 0; i < n_in; i++) {
        int s = g->in_slots[i];
        vx_tensor_view(&r.vals[s], &in[i]);
        p->nd[s] = (signed char)in[i].ndim;
        memcpy(&p->dims[(size_t)s * VX_MAX_DIMS], in[i].dims, sizeof(int64_t) * VX_MAX_DIMS);
    }
    for (int i = 0; i < g->model->n_outputs; i++) r.keep[g->out_slots[i]] = 1;
    vx_run_opts o;
    vx_run_opts_init(&o);
    o.pool = pool;
    o.threads = pool ? vx_tpool_threads(pool) : 1;
    o.err = err;
    o.errlen = errlen;
    vx_rng rng;
    vx_rng_seed(&rng, 1);
    vx_bufpool *bp = vx_bufpool_new();
    vx_bufpool *prev = bp ? vx_bufpool_set_current(bp) : NULL;
    int rc = 0;
    for (int k = 0; k < g->n_steps && !rc; k++) rc = vx_run_step(&r, &o, &rng, k);
    vx_run_end(&r);
    if (bp) {
        vx_bufpool_set_current(prev);
        vx_bufpool_free(bp);
    }
    return rc;
}

/* fv: 0 time-free (or unknown), 1 frame-varying along its last axis only, 2 other. */
static int frame_kind(const vx_graph *g, const probe *a, const probe *b, int s) {
    if (s < 0 || g->is_const[s] || a->nd[s] < 0 || b->nd[s] < 0) return 0;
    if (a->nd[s] != b->nd[s]) return 2;
    int n = a->nd[s], changed = 0, last = 0;
    for (int d = 0; d < n; d++)
        if (pdims(a, s)[d] != pdims(b, s)[d]) {
            changed++;
            last = d == n - 1;
        }
    if (!changed) return 0;
    return changed == 1 && last ? 1 : 2;
}

/* Size of slot s's last axis in a probe (constants: their own shape); -1 if none. */
static int64_t last_dim(const vx_graph *g, const probe *p, int s) {
    if (g->is_const[s]) return g->consts[s].ndim ? g->consts[s].dims[g->consts[s].ndim - 1] : 1;
    if (p->nd[s] < 0) return -1;
    return p->nd[s] ? pdims(p, s)[p->nd[s] - 1] : 1;
}

static int rank_of(const vx_graph *g, const probe *p, int s) {
    return g->is_const[s] ? g->consts[s].ndim : p->nd[s];
}

static const char *const elementwise[] = {
    "Add",        "Sub",
    "Mul",        "Div",
    "Pow",        "Tanh",
    "Sigmoid",    "Exp",
    "Log",        "Relu",
    "LeakyRelu",  "Neg",
    "Abs",        "Sqrt",
    "Reciprocal", "Erf",
    "Softplus",   "Softsign",
    "Cast",       "Where",
    "Clip",       "Equal",
    "Less",       "LessOrEqual",
    "Greater",    "GreaterOrEqual",
    "Not",        "And",
    "Or",         "Xor",
    "Identity",   "Min",
    "Max",        "Sin",
    "Cos",        "Floor",
    "Ceil",       "Round",
    "Sign",       "Elu",
    "Selu",       "HardSigmoid",
    "PRelu",      "Gelu",
    "Mish",       "HardSwish",
    NULL,
};

static int is_elementwise(const char *op) {
    for (int i = 0; elementwise[i]; i++)
        if (!strcmp(op, elementwise[i])) return 1;
    return 0;
}

/* A constant integer input j of step st: its values, count in *n; NULL if not constant. */
static const vx_tensor *const_in(const vx_graph *g, const vx_step *st, int j) {
    if (j >= st->n_in || st->in[j] < 0 || !g->is_const[st->in[j]]) return NULL;
    vx_graph_const_restore(g, st->in[j]);
    const vx_tensor *t = &g->consts[st->in[j]];
    return t->data || !t->numel ? t : NULL;
}

typedef struct conv_geom {
    int64_t k, s, d, pl, pr, op;
} conv_geom;

/* 1-D Conv / ConvTranspose geometry from the attributes and the weight's shape. */
static const char *conv_geom_of(const vx_graph *g, const vx_step *st, int transposed,
                                conv_geom *c) {
    const vx_node *n = st->node;
    if (st->n_in < 2 || st->in[1] < 0 || !g->is_const[st->in[1]]) return "weights not constant";
    const vx_tensor *w = &g->consts[st->in[1]];
    if (w->ndim != 3) return "not a 1-D convolution";
    if (strcmp(vx_attr_str(n, "auto_pad", "NOTSET"), "NOTSET")) return "auto_pad";
    const int64_t *v;
    c->k = w->dims[2];
    c->s = vx_attr_ints(n, "strides", &v) == 1 ? v[0] : 1;
    c->d = vx_attr_ints(n, "dilations", &v) == 1 ? v[0] : 1;
    int np = (int)vx_attr_ints(n, "pads", &v);
    c->pl = np == 2 ? v[0] : 0;
    c->pr = np == 2 ? v[1] : 0;
    c->op = vx_attr_ints(n, "output_padding", &v) == 1 ? v[0] : 0;
    if (st->has_prep && !transposed) { /* a fused zero Pad (engine/fuse.c take_pad) */
        c->pl += st->prep.xpad[0];
        c->pr += st->prep.xpad[1];
    }
    if (vx_node_attr(n, "output_shape")) return "output_shape attribute";
    if (c->s < 1 || c->d < 1 || c->k < 1 || c->pl < 0 || c->pr < 0 || c->op < 0)
        return "bad attributes";
    if (!transposed) {
        if (c->s != 1) return "strided Conv";
        if (c->pl + c->pr != c->d * (c->k - 1)) return "Conv changes the length";
    } else {
        if (c->d != 1) return "dilated ConvTranspose";
        if (c->k - c->s - c->pl - c->pr + c->op != 0)
            return "ConvTranspose output is not stride x input";
    }
    return NULL;
}

/* Axis attribute / constant axes that must not touch the last axis (rank r). */
static int axis_is_last(int64_t ax, int r) { return ax == -1 || ax == r - 1; }

/* Why step st is not local along time (NULL: it is). fv: frame kinds of all slots. */
static const char *local_why(const vx_graph *g, const vx_step *st, const unsigned char *fv,
                             const probe *a, const probe *b) {
    const vx_node *n = st->node;
    const char *op = n->op_type;
    if (!st->def->deterministic) return "random op (its draws stay with the sentence)";
    if (st->has_prep && st->prep.chain) return "fused Pad/Reshape/Slice chain";
    if (st->has_prep && st->prep.attn) return "fused attention (whole-sequence softmax)";
    if (st->def == &vx_chan_norm_def) /* each time step normalized over its channels */
        return st->n_in >= 1 && st->in[0] >= 0 && fv[st->in[0]] == 1 && fv[st->out[0]] == 1
                   ? NULL
                   : "channel LayerNorm of a time-free value";
    int out = st->out[0];
    if (st->n_out < 1 || out < 0) return "no output";
    /* Shape of a frame-level value -> ConstantOfShape (zeros_like): a window's shape makes
     * a window's constant; the pair must both run per window (checked in analyze). */
    if (!strcmp(op, "Shape")) {
        if (st->n_in < 1 || st->in[0] < 0 || fv[st->in[0]] != 1)
            return "shape of a time-free value";
        if (vx_node_attr(n, "start") || vx_node_attr(n, "end")) return "partial Shape";
        return NULL;
    }
    if (!strcmp(op, "ConstantOfShape")) {
        if (fv[out] != 1) return "output is not frame-varying along its last axis";
        int p = vx_graph_producer(g, st->in[0]);
        if (p < 0 || strcmp(g->steps[p].node->op_type, "Shape") || fv[g->steps[p].in[0]] != 1)
            return "shape not taken from a frame-level value";
        return NULL;
    }
    for (int j = 0; j < st->n_out; j++)
        if (st->out[j] >= 0 && fv[st->out[j]] != 1)
            return "output is not frame-varying along its last axis";
    int r = a->nd[out];
    /* Every time-free input must broadcast along time (its last axis 1 or absent). */
    int n_fv = 0;
    for (int j = 0; j < st->n_in; j++) {
        int s = st->in[j];
        if (s < 0) continue;
        if (fv[s] == 2) return "input varies with frames off its last axis";
        if (fv[s] == 1) {
            n_fv++;
            continue;
        }
    }
    if (!n_fv) return "no frame-varying input";
    if (!strcmp(op, "Conv") || !strcmp(op, "ConvTranspose")) {
        conv_geom c;
        const char *why = conv_geom_of(g, st, op[4] == 'T', &c);
        if (why) return why;
        if (fv[st->in[0]] != 1) return "data input not frame-varying";
        for (int j = 2; j < st->n_in; j++)
            if (st->in[j] >= 0 && !(st->has_prep && st->prep.res == j) && fv[st->in[j]])
                return "bias varies";
        if (st->has_prep && st->prep.res && st->in[st->prep.res] >= 0 &&
            !fv[st->in[st->prep.res]] && last_dim(g, a, st->in[st->prep.res]) != 1)
            return "fused residual does not broadcast along time";
        return NULL;
    }
    if (is_elementwise(op)) {
        for (int j = 0; j < st->n_in; j++) {
            int s = st->in[j];
            if (s < 0) continue;
            if (fv[s] == 1) {
                if (rank_of(g, a, s) != r && rank_of(g, a, s) != 0) {
                    /* right-aligned broadcasting keeps the last axis aligned */
                }
                if (last_dim(g, a, s) != last_dim(g, a, out) ||
                    last_dim(g, b, s) != last_dim(g, b, out))
                    return "inputs differ in length along time";
            } else if (rank_of(g, a, s) > 0 && last_dim(g, a, s) != 1) {
                return "time-free input does not broadcast along time";
            }
        }
        return NULL;
    }
    /* Shape and channel ops: time must stay the last axis, untouched. */
    int x = st->in[0];
    if (x < 0 || fv[x] != 1) return "data input not frame-varying";
    for (int j = 1; j < st->n_in && strcmp(op, "Concat"); j++)
        if (st->in[j] >= 0 && !g->is_const[st->in[j]]) return "a parameter is computed at run time";
    for (int j = 0; j < st->n_out; j++) {
        int s = st->out[j];
        if (s >= 0 &&
            (last_dim(g, a, s) != last_dim(g, a, x) || last_dim(g, b, s) != last_dim(g, b, x)))
            return "changes the time axis";
    }
    int rx = a->nd[x];
    if (!strcmp(op, "Slice")) {
        if (g->model->opset < 10) return "Slice before opset 10";
        const vx_tensor *starts = const_in(g, st, 1), *axes = const_in(g, st, 3);
        if (!starts) return "starts not constant";
        if (st->n_in > 3 && st->in[3] >= 0 && !axes) return "axes not constant";
        for (int64_t i = 0; i < starts->numel; i++) {
            int64_t ax = axes ? vx_tensor_get_i64(axes, i) : i;
            if (axis_is_last(ax, rx)) return "slices the time axis";
        }
        return NULL;
    }
    if (!strcmp(op, "Split") || !strcmp(op, "Concat") || !strcmp(op, "Flatten")) {
        int64_t ax = vx_attr_int(n, "axis", !strcmp(op, "Flatten") ? 1 : 0);
        if (!strcmp(op, "Concat"))
            for (int j = 0; j < st->n_in; j++)
                if (st->in[j] >= 0 && fv[st->in[j]] != 1) return "concatenates a time-free value";
        if (axis_is_last(ax, rx)) return "works along the time axis";
        return NULL;
    }
    if (!strcmp(op, "Transpose")) {
        const int64_t *perm;
        int np = (int)vx_attr_ints(n, "perm", &perm);
        if (np != rx || perm[np - 1] != np - 1) return "moves the time axis";
        return NULL;
    }
    if (!strcmp(op, "Reshape") || !strcmp(op, "Unsqueeze") || !strcmp(op, "Squeeze")) return NULL;
    return "op not known to be local along time";
}

/* Edge contamination of step st's outputs (samples at their rate, left and right) from
 * its inputs' el/er; steps already proven local (local_why) with valid rates. */
void vx_split_step_contam(const vx_graph *g, const vx_step *st, const unsigned char *fv,
                          const int64_t *el, const int64_t *er, int64_t *l, int64_t *r) {
    const char *op = st->node->op_type;
    *l = *r = 0;
    if (!strcmp(op, "Shape") || !strcmp(op, "ConstantOfShape")) return; /* a window's shape */
    for (int j = 0; j < st->n_in; j++) {
        int s = st->in[j];
        if (s < 0 || fv[s] != 1) continue;
        if (el[s] > *l) *l = el[s];
        if (er[s] > *r) *r = er[s];
    }
    int convt = !strcmp(op, "ConvTranspose");
    if (!convt && strcmp(op, "Conv")) return;
    conv_geom c;
    conv_geom_of(g, st, convt, &c);
    int x = st->in[0];
    int64_t cl = convt ? c.s * el[x] + c.k - c.s - c.pl : el[x] + c.pl;
    int64_t cr = convt ? c.s * er[x] + c.k - c.s - c.pr + c.op : er[x] + c.pr;
    if (cl < 0) cl = 0;
    if (cr < 0) cr = 0;
    int res = st->has_prep && st->prep.res ? st->in[st->prep.res] : -1;
    if (res >= 0 && fv[res] == 1) {
        if (el[res] > cl) cl = el[res];
        if (er[res] > cr) cr = er[res];
    }
    *l = cl;
    *r = cr;
}

static void set_note(vx_split_info *in, const vx_node *n, const char *why) {
    snprintf(in->note, sizeof in->note, "runs whole: node '%s' (%s): %s",
             n && n->name ? n->name : "?", n ? n->op_type : "?", why);
}

/* Steps 2 and 3 of the analysis over the probes' shapes; fills sp or its note. */
static int analyze(const vx_graph *g, const probe *a, const probe *b, struct vx_split *sp) {
    int ns = g->n_steps, nv = g->n_values;
    vx_split_info *info = &sp->info;
    unsigned char *fv = calloc((size_t)nv + 1, 1), *bad_reader = calloc((size_t)nv + 1, 1);
    int *rate = calloc((size_t)nv + 1, sizeof(int));
    int64_t *el = calloc((size_t)nv + 1, sizeof(int64_t)),
            *er = calloc((size_t)nv + 1, sizeof(int64_t));
    sp->in_r = calloc((size_t)ns + 1, 1);
    sp->bnd = calloc((size_t)nv + 1, sizeof(int));
    sp->bnd_rate = calloc((size_t)nv + 1, sizeof(int));
    int rc = 0;
    if (!fv || !bad_reader || !rate || !el || !er || !sp->in_r || !sp->bnd || !sp->bnd_rate) {
        rc = VOX_ERR_NOMEM;
        goto done;
    }
    for (int s = 0; s < nv; s++) fv[s] = (unsigned char)frame_kind(g, a, b, s);
    /* Graph outputs read "outside": only one may be produced in R, and it is the stream. */
    const vx_node *stop = NULL;
    const char *stop_why = NULL;
    for (int k = ns - 1; k >= 0; k--) {
        const vx_step *st = &g->steps[k];
        int used = 0, ok = 1;
        for (int j = 0; j < st->n_out; j++) {
            int s = st->out[j];
            if (s < 0) continue;
            if (bad_reader[s]) ok = 0;
            if (g->last_use[s] > k || g->is_output[s]) used = 1;
        }
        const char *why = NULL;
        if (ok && used) {
            why = local_why(g, st, fv, a, b);
            if (!why)
                sp->in_r[k] = 1;
            else if (!stop) {
                stop = st->node;
                stop_why = why;
            }
        }
        if (!sp->in_r[k])
            for (int j = 0; j < st->n_in; j++)
                if (st->in[j] >= 0) bad_reader[st->in[j]] = 1;
    }
    /* The stream output: the one graph output R produces. */
    sp->out_slot = -1;
    for (int i = 0; i < g->model->n_outputs; i++) {
        int s = g->out_slots[i], prod = 0;
        for (int k = 0; k < ns && !prod; k++)
            for (int j = 0; j < g->steps[k].n_out; j++)
                if (g->steps[k].out[j] == s && sp->in_r[k]) prod = 1;
        if (!prod) continue;
        if (sp->out_slot >= 0) {
            snprintf(info->note, sizeof info->note, "runs whole: two frame-level outputs");
            goto done;
        }
        sp->out_slot = s;
    }
    if (sp->out_slot < 0) {
        set_note(info, stop, stop_why ? stop_why : "no frame-level output");
        goto done;
    }
    /* Boundary: frame-varying values R reads and does not make. */
    unsigned char *made = bad_reader; /* reused: slot made in R */
    memset(made, 0, (size_t)nv);
    for (int k = 0; k < ns; k++)
        if (sp->in_r[k])
            for (int j = 0; j < g->steps[k].n_out; j++)
                if (g->steps[k].out[j] >= 0) made[g->steps[k].out[j]] = 1;
    int64_t ta = -1, tb = -1;
    for (int k = 0; k < ns; k++) {
        if (!sp->in_r[k]) continue;
        const vx_step *st = &g->steps[k];
        for (int j = 0; j < st->n_in; j++) {
            int s = st->in[j];
            if (s < 0 || made[s] || fv[s] != 1) continue;
            int dup = 0;
            for (int q = 0; q < sp->n_bnd; q++) dup |= sp->bnd[q] == s;
            if (dup) continue;
            sp->bnd[sp->n_bnd++] = s;
            int64_t la = last_dim(g, a, s), lb = last_dim(g, b, s);
            if (ta < 0 || la < ta) {
                ta = la;
                tb = lb;
            }
        }
    }
    if (!sp->n_bnd || ta <= 0 || tb <= 0) {
        snprintf(info->note, sizeof info->note, "runs whole: no boundary");
        goto done;
    }
    for (int q = 0; q < sp->n_bnd; q++) {
        int s = sp->bnd[q];
        int64_t la = last_dim(g, a, s), lb = last_dim(g, b, s);
        if (la % ta || la / ta != lb / tb || lb % tb) {
            snprintf(info->note, sizeof info->note,
                     "runs whole: boundary '%s' is not a multiple of the frames", g->names[s]);
            goto done;
        }
        sp->bnd_rate[q] = rate[s] = (int)(la / ta);
    }
    /* Forward: rates and edge contamination, checked against both probes. */
    for (int k = 0; k < ns; k++) {
        if (!sp->in_r[k]) continue;
        const vx_step *st = &g->steps[k];
        const char *op = st->node->op_type;
        int r = 0;
        int64_t l = 0, rr = 0;
        if (!strcmp(op, "Shape")) continue; /* a window's shape: nothing to track */
        if (!strcmp(op, "ConstantOfShape")) {
            int p = vx_graph_producer(g, st->in[0]);
            if (p < 0 || !sp->in_r[p]) {
                set_note(info, st->node, "its Shape is needed whole elsewhere");
                goto done;
            }
            r = rate[g->steps[p].in[0]];
            int s = st->out[0];
            if (!r || last_dim(g, a, s) != (int64_t)r * ta ||
                last_dim(g, b, s) != (int64_t)r * tb) {
                set_note(info, st->node, "length is not a fixed multiple of the frames");
                goto done;
            }
            rate[s] = r;
            continue;
        }
        for (int j = 0; j < st->n_in; j++) {
            int s = st->in[j];
            if (s < 0 || fv[s] != 1) continue;
            if (r && rate[s] != r && strcmp(op, "Conv") && strcmp(op, "ConvTranspose")) {
                set_note(info, st->node, "inputs at different rates");
                goto done;
            }
            if (!r || j == 0) r = rate[s];
        }
        int conv = !strcmp(op, "Conv"), convt = !strcmp(op, "ConvTranspose");
        if (conv || convt) {
            conv_geom c;
            conv_geom_of(g, st, convt, &c);
            r = rate[st->in[0]];
            if (convt) r *= (int)c.s;
            int res = st->has_prep && st->prep.res ? st->in[st->prep.res] : -1;
            if (res >= 0 && fv[res] == 1 && rate[res] != r) {
                set_note(info, st->node, "residual at another rate");
                goto done;
            }
        }
        vx_split_step_contam(g, st, fv, el, er, &l, &rr);
        for (int j = 0; j < st->n_out; j++) {
            int s = st->out[j];
            if (s < 0) continue;
            if (!r || last_dim(g, a, s) != (int64_t)r * ta ||
                last_dim(g, b, s) != (int64_t)r * tb) {
                set_note(info, st->node, "length is not a fixed multiple of the frames");
                goto done;
            }
            rate[s] = r;
            el[s] = l;
            er[s] = rr;
        }
    }
    sp->out_rate = rate[sp->out_slot];
    info->out_rate = sp->out_rate;
    info->halo_left = (int)vx_split_frames(el[sp->out_slot], sp->out_rate);
    info->halo_right = (int)vx_split_frames(er[sp->out_slot], sp->out_rate);
    rc = vx_split_find_cuts(g, sp, fv, rate, el, er);
    if (rc) goto done;
    info->n_cuts = sp->n_cuts;
    info->cut_left = sp->n_cuts ? sp->cut_ctx[2 * sp->n_cuts - 2] : info->halo_left;
    info->cut_right = sp->n_cuts ? sp->cut_ctx[2 * sp->n_cuts - 1] : info->halo_right;
    for (int k = 0; k < ns; k++) {
        if (sp->in_r[k])
            info->n_frame++;
        else
            info->n_front++;
    }
    info->n_boundary = sp->n_bnd;
    info->ok = 1;
    /* VOX_SPLIT_TRACE=1: where the split lies and why (the producers of the boundary),
     * and the cuts inside it. */
    if (getenv("VOX_SPLIT_TRACE")) {
        for (int i = 0; i < sp->n_cuts; i++)
            fprintf(stderr, "split: cut after '%s': %d value(s), context %d/%d frames\n",
                    g->steps[sp->cut_step[i]].node->name, sp->cut_off[i + 1] - sp->cut_off[i],
                    sp->cut_ctx[2 * i], sp->cut_ctx[2 * i + 1]);
        for (int q = 0; q < sp->n_bnd; q++)
            for (int k = 0; k < ns; k++)
                for (int j = 0; j < g->steps[k].n_out; j++)
                    if (g->steps[k].out[j] == sp->bnd[q])
                        fprintf(stderr, "split: boundary '%s' from node '%s' (%s): %s\n",
                                g->names[sp->bnd[q]], g->steps[k].node->name,
                                g->steps[k].node->op_type,
                                local_why(g, &g->steps[k], fv, a, b)
                                    ? local_why(g, &g->steps[k], fv, a, b)
                                    : "a reader is outside");
    }
    snprintf(info->note, sizeof info->note,
             "frame-level part: %d of %d steps from %d boundary value(s) (first '%s'), %d samples "
             "per frame, halo %d/%d frames, %d cuts (last: context %d/%d)",
             info->n_frame, ns, sp->n_bnd, g->names[sp->bnd[0]], sp->out_rate, info->halo_left,
             info->halo_right, info->n_cuts, info->cut_left, info->cut_right);
done:
    free(fv);
    free(bad_reader);
    free(rate);
    free(el);
    free(er);
    return rc;
}

int vx_graph_split(vx_graph *g, const vx_tensor *probe_a, const vx_tensor *probe_b, int n_inputs,
                   vx_tpool *pool, char *err, size_t errlen) {
    if (!g || n_inputs != g->model->n_inputs || (n_inputs && (!probe_a || !probe_b)))
        return vx_graph_fail(err, errlen, VOX_ERR_ARG, "vx_graph_split: bad arguments");
    for (int i = 0; i < n_inputs; i++) {
        int rc = vx_graph_check_input(g, i, &probe_a[i], err, errlen);
        if (!rc) rc = vx_graph_check_input(g, i, &probe_b[i], err, errlen);
        if (rc) return rc;
    }
    vx_split_free(g->split);
    g->split = NULL;
    struct vx_split *sp = calloc(1, sizeof *sp);
    probe pa = {0}, pb = {0};
    if (!sp) return VOX_ERR_NOMEM;
    int rc = run_probe(g, probe_a, n_inputs, pool, &pa, err, errlen);
    if (!rc) rc = run_probe(g, probe_b, n_inputs, pool, &pb, err, errlen);
    if (!rc) rc = analyze(g, &pa, &pb, sp);
    free(pa.nd);
    free(pa.dims);
    free(pb.nd);
    free(pb.dims);
    if (rc) {
        vx_split_free(sp);
        return rc;
    }
    VX_DEBUG("%s", sp->info.note);
    g->split = sp;
    return 0;
}

void vx_graph_split_get(const vx_graph *g, vx_split_info *info) {
    memset(info, 0, sizeof *info);
    if (g && g->split)
        *info = g->split->info;
    else
        snprintf(info->note, sizeof info->note, "not analyzed");
}

/* Probes for a Piper VITS export (inputs `input`, `input_lengths`, `scales`, optional
 * `sid`): the ids 1,0,20,0,2 with noise off at two length scales, so only the number of
 * frames differs between the two runs. A model without those inputs is left unsplit. */
int vx_graph_split_piper(vx_graph *g, vx_tpool *pool, char *err, size_t errlen) {
    int n = vx_graph_n_inputs(g);
    if (n < 3 || n > 4) return 0;
    int i_ids = vx_graph_find_input(g, "input"), i_len = vx_graph_find_input(g, "input_lengths");
    int i_sc = vx_graph_find_input(g, "scales"), i_sid = vx_graph_find_input(g, "sid");
    if (i_ids < 0 || i_len < 0 || i_sc < 0 || (n == 4 && i_sid < 0)) return 0;
    static const int64_t ids[5] = {1, 0, 20, 0, 2};
    int64_t len = 5, sid = 0, d_ids[2] = {1, 5}, d_one[1] = {1}, d_sc[1] = {3};
    static const float ls[3] = {1.0f, 2.0f, 16.0f};
    float sc[3][3];
    vx_tensor in[3][4];
    memset(in, 0, sizeof in);
    for (int p = 0; p < 3; p++) {
        sc[p][0] = 0;
        sc[p][1] = ls[p];
        sc[p][2] = 0;
        for (int i = 0; i < n; i++) {
            vx_tensor *t = &in[p][i];
            if (i == i_ids) {
                t->dtype = VX_INT64;
                vx_tensor_set_shape(t, 2, d_ids);
                t->data = (void *)ids;
            } else if (i == i_len) {
                t->dtype = VX_INT64;
                vx_tensor_set_shape(t, 1, d_one);
                t->data = &len;
            } else if (i == i_sc) {
                t->dtype = VX_FLOAT;
                vx_tensor_set_shape(t, 1, d_sc);
                t->data = sc[p];
            } else {
                t->dtype = VX_INT64;
                vx_tensor_set_shape(t, 1, d_one);
                t->data = &sid;
            }
        }
    }
    int rc = vx_graph_split(g, in[0], in[1], n, pool, err, errlen);
    /* Durations that round to the same frame count at both scales: try a longer one. */
    if (!rc && !g->split->info.ok) rc = vx_graph_split(g, in[0], in[2], n, pool, err, errlen);
    /* The probe runs' big blocks sit in the process cache sized for the probe, not for
     * any real sentence: give them back (~22 MB on the medium voice), so a loaded voice
     * costs only its weights until it speaks. */
    vx_block_cache_trim();
    return rc;
}

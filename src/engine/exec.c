/* Running a compiled graph: one value table per run, kernels in execution order,
 * intermediates released at their last use. The graph itself is only read. */
#include "engine/graph_internal.h"
#include "vox.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void vx_run_opts_init(vx_run_opts *o) {
    memset(o, 0, sizeof *o);
    o->threads = 1;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

typedef vx_run run;

static void track_add(run *r, const vx_tensor *t) {
    if (!t->owned) return;
    r->live++;
    r->bytes += vx_tensor_bytes(t);
    if (r->live > r->peak_live) r->peak_live = r->live;
    if (r->bytes > r->peak_bytes) r->peak_bytes = r->bytes;
}

static void release_slot(run *r, int s) {
    vx_tensor *t = &r->vals[s];
    if (t->owned) {
        r->live--;
        r->bytes -= vx_tensor_bytes(t);
    }
    vx_tensor_release(t);
}

static vx_tensor *value(run *r, int s) {
    const vx_graph *g = r->g;
    /* Constants are shared by all runs; kernels only read their inputs. */
    return g->is_const[s] ? (vx_tensor *)&g->consts[s] : &r->vals[s];
}

static int check_input(const vx_graph *g, int i, const vx_tensor *t, char *err, size_t errlen);

int vx_run_begin(vx_run *r, const vx_graph *g) {
    /* One allocation per run: value table, keep flags, kernel scratch. */
    memset(r, 0, sizeof *r);
    size_t nv = (size_t)g->n_values;
    size_t sz_vals = (nv + 1) * sizeof(vx_tensor),
           sz_out = ((size_t)g->max_out + 1) * sizeof(vx_tensor);
    size_t sz_in = ((size_t)g->max_in + 1) * sizeof(vx_tensor *);
    char *block = calloc(1, sz_vals + sz_out + sz_in + nv + 1);
    if (!block) return VOX_ERR_NOMEM;
    r->g = g;
    r->block = block;
    r->vals = (vx_tensor *)block;
    r->out = (vx_tensor *)(block + sz_vals);
    r->in = (vx_tensor **)(block + sz_vals + sz_out);
    r->keep = (unsigned char *)(block + sz_vals + sz_out + sz_in);
    return 0;
}

void vx_run_clear(vx_run *r) {
    for (int s = 0; r->vals && s < r->g->n_values; s++) vx_tensor_release(&r->vals[s]);
    r->live = 0;
    r->bytes = 0;
}

void vx_run_end(vx_run *r) {
    if (!r->block) return;
    vx_run_clear(r);
    free(r->block);
    memset(r, 0, sizeof *r);
}

int vx_graph_check_input(const vx_graph *g, int i, const vx_tensor *t, char *err, size_t errlen) {
    return check_input(g, i, t, err, errlen);
}

static int check_input(const vx_graph *g, int i, const vx_tensor *t, char *err, size_t errlen) {
    const vx_value_info *vi = &g->model->inputs[i];
    size_t es = vx_dtype_size(t->dtype);
    if (!es)
        return vx_graph_fail(err, errlen, VOX_ERR_ARG, "input '%s': unsupported dtype %d", vi->name,
                             t->dtype);
    if (vi->dtype && t->dtype != vi->dtype)
        return vx_graph_fail(err, errlen, VOX_ERR_ARG, "input '%s': dtype %s, the model expects %s",
                             vi->name, vx_dtype_name(t->dtype), vx_dtype_name(vi->dtype));
    if (t->ndim < 0 || t->ndim > VX_MAX_DIMS)
        return vx_graph_fail(err, errlen, VOX_ERR_ARG, "input '%s': bad rank %d", vi->name,
                             t->ndim);
    if (vi->ndim >= 0 && t->ndim != vi->ndim)
        return vx_graph_fail(err, errlen, VOX_ERR_ARG, "input '%s': rank %d, the model expects %d",
                             vi->name, t->ndim, vi->ndim);
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (t->dims[d] < 0 || (t->dims[d] && n > VX_MAX_ELEMS / t->dims[d]))
            return vx_graph_fail(err, errlen, VOX_ERR_ARG, "input '%s': bad dimension %d", vi->name,
                                 d);
        if (vi->ndim >= 0 && vi->dims[d] >= 0 && t->dims[d] != vi->dims[d])
            return vx_graph_fail(err, errlen, VOX_ERR_ARG,
                                 "input '%s': dimension %d is %lld, the model expects %lld",
                                 vi->name, d, (long long)t->dims[d], (long long)vi->dims[d]);
        n *= t->dims[d];
    }
    if (n != t->numel)
        return vx_graph_fail(err, errlen, VOX_ERR_ARG,
                             "input '%s': numel %lld does not match its shape", vi->name,
                             (long long)t->numel);
    if (n && !t->data)
        return vx_graph_fail(err, errlen, VOX_ERR_ARG, "input '%s': no data", vi->name);
    return 0;
}

/* Index of the input whose buffer contains p, or -1. */
static int source_of(vx_tensor *const *in, int n_in, const void *p) {
    for (int i = 0; i < n_in; i++) {
        if (!in[i] || !in[i]->data || !in[i]->numel) continue;
        const char *b = in[i]->data, *e = b + vx_tensor_bytes(in[i]);
        if ((const char *)p >= b && (const char *)p < e) return i;
    }
    return -1;
}

/* Applies the lifetime rule (graph.h) to a kernel's non-owned outputs, in r->out. */
static int settle_views(run *r, const vx_step *st, int k) {
    const vx_graph *g = r->g;
    for (int j = 0; j < st->n_out; j++) {
        vx_tensor *t = &r->out[j];
        if (t->owned) continue;
        if (!t->numel) {
            t->data = NULL;
            continue;
        }
        int src = source_of(r->in, st->n_in, t->data);
        int s = src >= 0 ? st->in[src] : -1;
        if (s >= 0 && (g->is_const[s] || !r->vals[s].owned)) continue; /* long-lived memory */
        int can_move = s >= 0 && t->data == r->vals[s].data && g->last_use[s] == k && !r->keep[s];
        for (int q = 0; q < st->n_out && can_move; q++) /* one taker per buffer */
            if (q != j && !r->out[q].owned && r->out[q].numel &&
                source_of(r->in, st->n_in, r->out[q].data) == src)
                can_move = 0;
        if (can_move) {
            r->live--;
            r->bytes -= vx_tensor_bytes(&r->vals[s]);
            r->vals[s].owned = 0; /* now a view of t, released with the step */
            t->owned = 1;
        } else if (vx_tensor_copy(t, t)) {
            return VOX_ERR_NOMEM;
        }
    }
    return 0;
}

/* "node 'name' (OpType): msg", without the "OpType 'name': " prefix vx_op_fail adds. */
static int kernel_fail(const vx_node *n, int rc, const char *kerr, char *err, size_t errlen) {
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s '%s': ", n->op_type, n->name ? n->name : "");
    size_t pl = strlen(prefix);
    const char *msg = kerr[0] ? kerr : "failed";
    if (!strncmp(msg, prefix, pl)) msg += pl;
    if (rc >= 0) rc = VOX_ERR_INTERNAL;
    return vx_graph_fail(err, errlen, rc, "node '%s' (%s): %s", n->name ? n->name : "", n->op_type,
                         msg);
}

int vx_run_step(vx_run *r, const vx_run_opts *o, vx_rng *rng, int k) {
    const vx_graph *g = r->g;
    const vx_step *st = &g->steps[k];
    for (int j = 0; j < st->n_in; j++) r->in[j] = st->in[j] >= 0 ? value(r, st->in[j]) : NULL;
    /* Constants dropped after packing come back when this step may read them raw. */
    for (int j = 0; g->lazy_src && j < st->n_in; j++) {
        int s = st->in[j];
        if (s >= 0 && g->lazy_src[s] && vx_graph_step_reads_raw(g, st, j, r->in)) {
            int rc = vx_graph_const_restore(g, s);
            if (rc)
                return vx_graph_fail(o->err, o->errlen, rc, "out of memory restoring a constant");
        }
    }
    memset(r->out, 0, (size_t)st->n_out * sizeof(vx_tensor));
    /* Inputs a kernel may overwrite: run-owned, dying here, not kept, not sharing memory
     * with another input. */
    unsigned inplace = 0, dying = 0;
    for (int j = 0; j < st->n_in && j < 32; j++) {
        int s = st->in[j];
        if (s < 0 || g->is_const[s] || !r->vals[s].owned || g->last_use[s] != k || r->keep[s] ||
            !r->vals[s].data)
            continue;
        dying |= 1u << j;
        const char *b = r->vals[s].data, *e = b + vx_tensor_bytes(&r->vals[s]);
        int alias = 0;
        for (int q = 0; q < st->n_in && !alias; q++) {
            if (q == j || !r->in[q] || !r->in[q]->data) continue;
            const char *qb = r->in[q]->data, *qe = qb + vx_tensor_bytes(r->in[q]);
            alias = qb < e && b < qe;
        }
        if (!alias) inplace |= 1u << j;
    }
    char kerr[512] = "";
    vx_op_ctx ctx = {.opset = g->model->opset,
                     .rng = rng,
                     .threads = o->threads > 0 ? o->threads : 1,
                     .pool = o->pool,
                     .inplace = inplace,
                     .dying = dying,
                     .prep = st->has_prep ? &st->prep : NULL,
                     .err = kerr,
                     .errlen = sizeof kerr};
    double t0 = o->profile ? now_ms() : 0;
    int rc = st->def->fn(&ctx, st->node, r->in, st->n_in, r->out, st->n_out);
    if (o->profile && o->profile->n_steps == g->n_steps) {
        o->profile->step_ms[k] += now_ms() - t0;
        o->profile->step_calls[k]++;
    }
    for (int j = 0; j < st->n_out && !rc; j++)
        if (st->out[j] >= 0 && !vx_graph_tensor_ok(&r->out[j])) {
            snprintf(kerr, sizeof kerr, "kernel returned no valid tensor for output %d", j);
            rc = VOX_ERR_INTERNAL;
        }
    if (!rc) rc = settle_views(r, st, k);
    if (rc) {
        for (int j = 0; j < st->n_out; j++) vx_tensor_release(&r->out[j]);
        return kernel_fail(st->node, rc, kerr, o->err, o->errlen);
    }
    for (int j = 0; j < st->n_out; j++) {
        int s = st->out[j];
        if (s < 0) {
            vx_tensor_release(&r->out[j]);
            continue;
        }
        r->vals[s] = r->out[j];
        track_add(r, &r->vals[s]);
        if (r->rec_ndim) { /* shape log for the split analysis (split.c) */
            r->rec_ndim[s] = (signed char)r->vals[s].ndim;
            memcpy(&r->rec_dims[(size_t)s * VX_MAX_DIMS], r->vals[s].dims,
                   sizeof(int64_t) * VX_MAX_DIMS);
        }
    }
    for (int q = 0; q < st->n_free; q++)
        if (!r->keep[st->free[q]]) release_slot(r, st->free[q]);
    return 0;
}

/* Hands slot s to the caller as an owned tensor. The first taker of a run-owned buffer
 * gets it; later takers (the same value asked twice) and views get copies. */
int vx_run_take(vx_run *r, int s, vx_tensor *dst) {
    const vx_graph *g = r->g;
    if (g->is_const[s]) {
        int rc = vx_graph_const_restore(g, s);
        if (rc) return rc;
        return vx_tensor_copy(dst, &g->consts[s]) ? VOX_ERR_NOMEM : 0;
    }
    vx_tensor *t = &r->vals[s];
    if (!vx_dtype_size(t->dtype)) return VOX_ERR_INTERNAL;
    if (t->owned) {
        *dst = *t;
        r->live--;
        r->bytes -= vx_tensor_bytes(t);
        vx_tensor_view(t, dst);
        return 0;
    }
    return vx_tensor_copy(dst, t) ? VOX_ERR_NOMEM : 0;
}

int vx_graph_run(const vx_graph *g, const vx_run_opts *opts, const vx_tensor *inputs, int n_inputs,
                 vx_tensor *outputs) {
    vx_run_opts defaults;
    vx_run_opts_init(&defaults);
    const vx_run_opts *o = opts ? opts : &defaults;
    char *err = o->err;
    size_t errlen = o->errlen;
    if (err && errlen) err[0] = 0;
    if (!g || !outputs || (n_inputs && !inputs))
        return vx_graph_fail(err, errlen, VOX_ERR_ARG,
                             "vx_graph_run: NULL graph, inputs or outputs");
    int n_out = g->model->n_outputs, n_extra = o->n_extra_outputs;
    if (n_extra < 0 || n_extra > VX_GRAPH_MAX_EXTRA_OUTPUTS || (n_extra && !o->extra_outputs))
        return vx_graph_fail(err, errlen, VOX_ERR_ARG, "vx_graph_run: bad extra outputs (limit %d)",
                             VX_GRAPH_MAX_EXTRA_OUTPUTS);
    for (int i = 0; i < n_out + n_extra; i++) vx_tensor_release(&outputs[i]);
    if (n_inputs != g->model->n_inputs)
        return vx_graph_fail(err, errlen, VOX_ERR_ARG, "the model takes %d inputs, %d given",
                             g->model->n_inputs, n_inputs);
    int extra_slots[VX_GRAPH_MAX_EXTRA_OUTPUTS];
    for (int i = 0; i < n_extra; i++) {
        const char *nm = o->extra_outputs[i];
        extra_slots[i] = nm ? vx_graph_slot(g, nm) : -1;
        if (extra_slots[i] < 0)
            return vx_graph_fail(err, errlen, VOX_ERR_NOT_FOUND, "no value named '%s' in the graph",
                                 nm ? nm : "(null)");
        if (g->is_const[extra_slots[i]] == 2)
            return vx_graph_fail(err, errlen, VOX_ERR_UNSUPPORTED,
                                 "value '%s' is a constant dropped at load", nm);
        if (g->elided[extra_slots[i]])
            return vx_graph_fail(err, errlen, VOX_ERR_UNSUPPORTED,
                                 "value '%s' was fused away at load (VOX_FUSE=0 keeps it)", nm);
    }
    for (int i = 0; i < n_inputs; i++) {
        int rc = check_input(g, i, &inputs[i], err, errlen);
        if (rc) return rc;
    }

    run r;
    if (vx_run_begin(&r, g))
        return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory starting a run");
    for (int i = 0; i < n_out; i++) r.keep[g->out_slots[i]] = 1;
    for (int i = 0; i < n_extra; i++) r.keep[extra_slots[i]] = 1;
    for (int i = 0; i < n_inputs; i++) vx_tensor_view(&r.vals[g->in_slots[i]], &inputs[i]);

    /* Intermediates are recycled through a per-run pool (made current on this thread). */
    vx_bufpool *bp = vx_bufpool_new();
    vx_bufpool *prev_bp = bp ? vx_bufpool_set_current(bp) : NULL;
    vx_rng rng;
    vx_rng_seed(&rng, o->seed);
    int rc = 0, k = 0;
    for (; k < g->n_steps && !rc; k++) {
        if (o->cancel && *o->cancel) {
            rc = vx_graph_fail(err, errlen, VOX_ERR_CANCELLED, "cancelled");
            break;
        }
        rc = vx_run_step(&r, o, &rng, k);
    }
    if (o->profile && o->profile->n_steps == g->n_steps && !rc) o->profile->runs++;
    int live_at_end = r.live;
    for (int i = 0; i < n_out + n_extra && !rc; i++) {
        int s = i < n_out ? g->out_slots[i] : extra_slots[i - n_out];
        rc = vx_run_take(&r, s, &outputs[i]);
        if (rc) vx_graph_fail(err, errlen, rc, "cannot return value '%s'", g->names[s]);
    }
    if (rc)
        for (int i = 0; i < n_out + n_extra; i++) vx_tensor_release(&outputs[i]);
    vx_run_clear(&r);
    vx_bufpool_stats bst = {0};
    if (bp) {
        vx_bufpool_get_stats(bp, &bst);
        vx_bufpool_set_current(prev_bp);
        vx_bufpool_free(bp);
    }
    if (o->stats) {
        o->stats->steps_run = k;
        o->stats->peak_live = r.peak_live;
        o->stats->peak_bytes = r.peak_bytes;
        o->stats->live_at_end = live_at_end;
        o->stats->buf_hits = bst.hits;
        o->stats->buf_misses = bst.misses;
        o->stats->buf_peak_cached = bst.peak_cached;
    }
    vx_run_end(&r);
    return rc;
}

/* ------------------------------------------------------------ profile */

vx_profile *vx_profile_new(const vx_graph *g) {
    vx_profile *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n_steps = g->n_steps;
    p->step_ms = calloc((size_t)g->n_steps + 1, sizeof(double));
    p->step_calls = calloc((size_t)g->n_steps + 1, sizeof(int64_t));
    if (!p->step_ms || !p->step_calls) {
        vx_profile_free(p);
        return NULL;
    }
    return p;
}

void vx_profile_free(vx_profile *p) {
    if (!p) return;
    free(p->step_ms);
    free(p->step_calls);
    free(p);
}

typedef struct prof_row {
    const char *name;
    double ms;
    int64_t calls;
    int step;
} prof_row;

static int by_ms_desc(const void *a, const void *b) {
    double x = ((const prof_row *)a)->ms, y = ((const prof_row *)b)->ms;
    return x < y ? 1 : x > y ? -1 : 0;
}

void vx_profile_print(const vx_graph *g, const vx_profile *p, FILE *f, int top_nodes) {
    if (!p || p->n_steps != g->n_steps || !f) return;
    int n = g->n_steps;
    prof_row *rows = calloc((size_t)n + 1, sizeof *rows);
    if (!rows) return;
    int nt = 0;
    double total = 0;
    for (int k = 0; k < n; k++) {
        const char *op = g->steps[k].label;
        int i = 0;
        while (i < nt && strcmp(rows[i].name, op)) i++;
        if (i == nt) {
            rows[nt].name = op;
            nt++;
        }
        rows[i].ms += p->step_ms[k];
        rows[i].calls += p->step_calls[k];
        total += p->step_ms[k];
    }
    qsort(rows, (size_t)nt, sizeof *rows, by_ms_desc);
    double runs = p->runs > 0 ? (double)p->runs : 1;
    fprintf(f, "profile: %lld run(s), %.3f ms per run in %d nodes\n", (long long)p->runs,
            total / runs, n);
    fprintf(f, "%-24s %12s %7s %8s\n", "op type", "ms/run", "share", "calls");
    for (int i = 0; i < nt; i++)
        fprintf(f, "%-24s %12.3f %6.1f%% %8lld\n", rows[i].name, rows[i].ms / runs,
                total > 0 ? 100 * rows[i].ms / total : 0, (long long)rows[i].calls);
    for (int k = 0; k < n; k++) {
        const vx_node *nd = g->steps[k].node;
        rows[k].name = nd->name && nd->name[0]               ? nd->name
                       : nd->n_outputs > 0 && nd->outputs[0] ? nd->outputs[0]
                                                             : "?";
        rows[k].ms = p->step_ms[k];
        rows[k].step = k;
    }
    qsort(rows, (size_t)n, sizeof *rows, by_ms_desc);
    if (top_nodes > n) top_nodes = n;
    fprintf(f, "top %d nodes:\n", top_nodes);
    for (int i = 0; i < top_nodes; i++)
        fprintf(f, "  %-40s %-16s %10.3f ms/run\n", rows[i].name, g->steps[rows[i].step].label,
                rows[i].ms / runs);
    free(rows);
}

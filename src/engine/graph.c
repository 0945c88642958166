/* Compiling an ONNX model into a run plan: slots, topological order, constant folding,
 * last uses. Everything here happens once at load; the result is read-only. */
#include "engine/graph_internal.h"
#include "kernels/kernels.h"
#include "vox.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int vx_graph_fail(char *err, size_t errlen, int code, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ------------------------------------------------------------ name -> slot */

static uint32_t hash_str(const char *s) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

int vx_graph_slot(const vx_graph *g, const char *name) {
    if (!name || !*name) return -1;
    uint32_t mask = (uint32_t)g->hash_cap - 1;
    for (uint32_t i = hash_str(name) & mask;; i = (i + 1) & mask) {
        int e = g->hash[i];
        if (!e) return -1;
        if (!strcmp(g->names[e - 1], name)) return e - 1;
    }
}

/* Adds a value; returns its slot, or -1 if the name is already taken. */
static int add_value(vx_graph *g, const char *name) {
    uint32_t mask = (uint32_t)g->hash_cap - 1;
    uint32_t i = hash_str(name) & mask;
    for (; g->hash[i]; i = (i + 1) & mask)
        if (!strcmp(g->names[g->hash[i] - 1], name)) return -1;
    int slot = g->n_values++;
    g->names[slot] = name;
    g->hash[i] = slot + 1;
    return slot;
}

/* ------------------------------------------------------------ helpers */

int vx_graph_tensor_ok(const vx_tensor *t) {
    if (!vx_dtype_size(t->dtype) || t->ndim < 0 || t->ndim > VX_MAX_DIMS) return 0;
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (t->dims[d] < 0 || (t->dims[d] && n > VX_MAX_ELEMS / t->dims[d])) return 0;
        n *= t->dims[d];
    }
    return n == t->numel && (n == 0 || t->data != NULL);
}

static const char *node_name(const vx_node *n) { return n->name ? n->name : ""; }

static int is_default_domain(const char *d) { return !d || !*d || !strcmp(d, "ai.onnx"); }

/* A Constant node's value as a tensor: a view of the attribute tensor, or owned storage
 * for the scalar/list forms. */
static int constant_value(const vx_node *n, vx_tensor *t, char *err, size_t errlen) {
    const vx_attr *a;
    memset(t, 0, sizeof *t);
    if ((a = vx_node_attr(n, "value")) && a->type == VX_ATTR_TENSOR && a->t) {
        vx_tensor_view(t, a->t);
        return 0;
    }
    int64_t one = 1;
    if ((a = vx_node_attr(n, "value_float")) && a->type == VX_ATTR_FLOAT) {
        if (vx_tensor_alloc(t, VX_FLOAT, 0, NULL)) return VOX_ERR_NOMEM;
        *(float *)t->data = a->f;
        return 0;
    }
    if ((a = vx_node_attr(n, "value_int")) && a->type == VX_ATTR_INT) {
        if (vx_tensor_alloc(t, VX_INT64, 0, NULL)) return VOX_ERR_NOMEM;
        *(int64_t *)t->data = a->i;
        return 0;
    }
    if ((a = vx_node_attr(n, "value_floats")) && a->type == VX_ATTR_FLOATS) {
        one = a->n;
        if (vx_tensor_alloc(t, VX_FLOAT, 1, &one)) return VOX_ERR_NOMEM;
        if (a->n) memcpy(t->data, a->floats, (size_t)a->n * sizeof(float));
        return 0;
    }
    if ((a = vx_node_attr(n, "value_ints")) && a->type == VX_ATTR_INTS) {
        one = a->n;
        if (vx_tensor_alloc(t, VX_INT64, 1, &one)) return VOX_ERR_NOMEM;
        if (a->n) memcpy(t->data, a->ints, (size_t)a->n * sizeof(int64_t));
        return 0;
    }
    return vx_graph_fail(err, errlen, VOX_ERR_UNSUPPORTED,
                         "node '%s' (Constant): no supported value attribute", node_name(n));
}

/* Min-heap of node indices: the topological sort prefers file order, so a model that is
 * already sorted keeps its order (the exporter's order is usually memory-friendly). */
static void heap_push(int *h, int *n, int v) {
    int i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static int heap_pop(int *h, int *n) {
    int top = h[0], v = h[--(*n)], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= v) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = v;
    return top;
}

/* ------------------------------------------------------------ compile */

/* Working arrays of the compile step, freed at its end. */
typedef struct build {
    int *prod;  /* slot -> producing node, -1 for inputs/initializers */
    int *order; /* topological order of node indices */
    int *indeg, *edge_off, *edges, *heap;
    int **in_slots, **out_slots; /* per node */
    int *slot_store;
    const vx_op_def **defs;
    unsigned char *folded; /* per node */
    const vx_op_def *ops;  /* searched before the registry, or NULL */
    size_t fold_bytes;     /* bytes of the outputs folded so far */
} build;

/* Constant folding's explicit limits: a folded output of more than VX_FOLD_MAX_BYTES, or
 * one that would take the folded outputs past VX_FOLD_TOTAL_BYTES, is not folded (the
 * node runs at run time like any other). Without them a model of a few hundred bytes
 * (a ConstantOfShape of a large constant shape) made the load allocate gigabytes; Piper
 * voices fold a few KB. */
#define VX_FOLD_MAX_BYTES   ((size_t)64 << 20)
#define VX_FOLD_TOTAL_BYTES ((size_t)256 << 20)

static const vx_op_def *find_op(const build *b, const char *op_type) {
    for (const vx_op_def *d = b->ops; d && d->op_type; d++)
        if (!strcmp(d->op_type, op_type)) return d;
    return vx_op_find(op_type);
}

static void build_free(build *b) {
    free(b->prod);
    free(b->order);
    free(b->indeg);
    free(b->edge_off);
    free(b->edges);
    free(b->heap);
    free(b->in_slots);
    free(b->out_slots);
    free(b->slot_store);
    free(b->defs);
    free(b->folded);
}

/* Slots for every named value; checks domains, op types and that inputs exist. */
static int map_values(vx_graph *g, build *b, char *err, size_t errlen) {
    const vx_model *m = g->model;
    int64_t nv = (int64_t)m->n_inits + m->n_inputs, nio = 0;
    if (m->n_nodes < 0 || m->n_nodes > VX_MODEL_MAX_NODES || m->n_inits < 0 || m->n_inputs < 0 ||
        m->n_outputs < 0)
        return vx_graph_fail(err, errlen, VOX_ERR_MODEL, "model has invalid counts");
    for (int i = 0; i < m->n_nodes; i++) {
        const vx_node *n = &m->nodes[i];
        if (n->n_inputs < 0 || n->n_outputs < 0 || n->n_inputs > VX_GRAPH_MAX_NODE_IO ||
            n->n_outputs > VX_GRAPH_MAX_NODE_IO)
            return vx_graph_fail(err, errlen, VOX_ERR_MODEL,
                                 "node '%s' (%s): %d inputs, %d outputs (limit %d)", node_name(n),
                                 n->op_type, n->n_inputs, n->n_outputs, VX_GRAPH_MAX_NODE_IO);
        nv += n->n_outputs;
        nio += n->n_inputs + n->n_outputs;
    }
    if (nv > (1 << 26) || nio > (1 << 28))
        return vx_graph_fail(err, errlen, VOX_ERR_MODEL, "graph has too many values (%lld)",
                             (long long)nv);
    int cap = 16;
    while (cap < 2 * nv) cap *= 2;
    g->hash_cap = cap;
    g->hash = calloc((size_t)cap, sizeof(int));
    g->names = calloc((size_t)nv + 1, sizeof(char *));
    b->prod = malloc(((size_t)nv + 1) * sizeof(int));
    b->defs = calloc((size_t)m->n_nodes + 1, sizeof(*b->defs));
    b->in_slots = calloc((size_t)m->n_nodes + 1, sizeof(int *));
    b->out_slots = calloc((size_t)m->n_nodes + 1, sizeof(int *));
    b->slot_store = malloc(((size_t)nio + 1) * sizeof(int));
    if (!g->hash || !g->names || !b->prod || !b->defs || !b->in_slots || !b->out_slots ||
        !b->slot_store)
        return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");

    for (int i = 0; i < m->n_inits; i++) {
        const char *nm = m->init_names[i];
        int s = nm && *nm ? add_value(g, nm) : -1;
        if (s < 0)
            return vx_graph_fail(err, errlen, VOX_ERR_MODEL,
                                 "initializer '%s' is unnamed or defined twice", nm ? nm : "");
        b->prod[s] = -1;
    }
    g->in_slots = calloc((size_t)m->n_inputs + 1, sizeof(int));
    g->out_slots = calloc((size_t)m->n_outputs + 1, sizeof(int));
    if (!g->in_slots || !g->out_slots)
        return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");
    for (int i = 0; i < m->n_inputs; i++) {
        const char *nm = m->inputs[i].name;
        int s = nm && *nm ? add_value(g, nm) : -1;
        if (s < 0)
            return vx_graph_fail(err, errlen, VOX_ERR_MODEL,
                                 "graph input '%s' is unnamed or defined twice", nm ? nm : "");
        b->prod[s] = -1;
        g->in_slots[i] = s;
    }
    int *store = b->slot_store;
    for (int i = 0; i < m->n_nodes; i++) {
        const vx_node *n = &m->nodes[i];
        if (!n->op_type)
            return vx_graph_fail(err, errlen, VOX_ERR_MODEL, "node %d has no op type", i);
        /* every default-domain operator has an output; a kernel handed none would still
         * make its first one, which nothing would release (fuzz_graph_compile) */
        if (n->n_outputs < 1)
            return vx_graph_fail(err, errlen, VOX_ERR_MODEL, "node '%s' (%s) has no outputs",
                                 node_name(n), n->op_type);
        if (!is_default_domain(n->domain))
            return vx_graph_fail(err, errlen, VOX_ERR_UNSUPPORTED,
                                 "node '%s' (%s): domain '%s' is not supported", node_name(n),
                                 n->op_type, n->domain);
        if (strcmp(n->op_type, "Constant")) {
            b->defs[i] = find_op(b, n->op_type);
            if (!b->defs[i])
                return vx_graph_fail(err, errlen, VOX_ERR_UNSUPPORTED,
                                     "node '%s': op type '%s' is not supported", node_name(n),
                                     n->op_type);
        }
        b->out_slots[i] = store;
        for (int j = 0; j < n->n_outputs; j++) {
            const char *nm = n->outputs[j];
            int s = -1;
            if (nm && *nm && (s = add_value(g, nm)) < 0)
                return vx_graph_fail(err, errlen, VOX_ERR_MODEL,
                                     "node '%s' (%s): output '%s' is defined twice", node_name(n),
                                     n->op_type, nm);
            if (s >= 0) b->prod[s] = i;
            *store++ = s;
        }
    }
    /* Inputs last: a node may consume a value produced by a later node in the file. */
    for (int i = 0; i < m->n_nodes; i++) {
        const vx_node *n = &m->nodes[i];
        b->in_slots[i] = store;
        for (int j = 0; j < n->n_inputs; j++) {
            const char *nm = n->inputs[j];
            int s = -1;
            if (nm && *nm && (s = vx_graph_slot(g, nm)) < 0)
                return vx_graph_fail(err, errlen, VOX_ERR_MODEL,
                                     "node '%s' (%s): input '%s' is not produced by any node, "
                                     "initializer or graph input",
                                     node_name(n), n->op_type, nm);
            *store++ = s;
        }
    }
    for (int i = 0; i < m->n_outputs; i++) {
        const char *nm = m->outputs[i].name;
        int s = vx_graph_slot(g, nm);
        if (s < 0)
            return vx_graph_fail(err, errlen, VOX_ERR_MODEL,
                                 "graph output '%s' is not produced by anything", nm ? nm : "");
        g->out_slots[i] = s;
    }
    return 0;
}

/* Kahn's algorithm, ties broken by file order. A leftover node lies on or after a cycle. */
static int topo_sort(vx_graph *g, build *b, char *err, size_t errlen) {
    const vx_model *m = g->model;
    int n = m->n_nodes;
    b->indeg = calloc((size_t)n + 1, sizeof(int));
    b->edge_off = calloc((size_t)n + 2, sizeof(int));
    b->order = malloc(((size_t)n + 1) * sizeof(int));
    b->heap = malloc(((size_t)n + 1) * sizeof(int));
    int64_t n_edges = 0; /* bounded by the file size, but counted wide anyway */
    for (int i = 0; i < n; i++) n_edges += m->nodes[i].n_inputs;
    if (n_edges > INT32_MAX / 2)
        return vx_graph_fail(err, errlen, VOX_ERR_MODEL, "graph has too many edges");
    b->edges = malloc(((size_t)n_edges + 1) * sizeof(int));
    if (!b->indeg || !b->edge_off || !b->order || !b->heap || !b->edges)
        return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");
    /* CSR of producer -> consumer edges, one per input occurrence. */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m->nodes[i].n_inputs; j++) {
            int s = b->in_slots[i][j];
            if (s >= 0 && b->prod[s] >= 0) {
                b->edge_off[b->prod[s] + 1]++;
                b->indeg[i]++;
            }
        }
    for (int i = 0; i < n; i++) b->edge_off[i + 1] += b->edge_off[i];
    int *fill = calloc((size_t)n + 1, sizeof(int));
    if (!fill)
        return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m->nodes[i].n_inputs; j++) {
            int s = b->in_slots[i][j];
            if (s >= 0 && b->prod[s] >= 0) {
                int p = b->prod[s];
                b->edges[b->edge_off[p] + fill[p]++] = i;
            }
        }
    free(fill);
    int hn = 0, done = 0;
    for (int i = 0; i < n; i++)
        if (!b->indeg[i]) heap_push(b->heap, &hn, i);
    while (hn) {
        int u = heap_pop(b->heap, &hn);
        b->order[done++] = u;
        for (int e = b->edge_off[u]; e < b->edge_off[u + 1]; e++)
            if (--b->indeg[b->edges[e]] == 0) heap_push(b->heap, &hn, b->edges[e]);
    }
    if (done == n) return 0;
    /* Every unsorted node has an unsorted producer; walking producers back must revisit a
     * node, and that node is on a cycle. indeg doubles as the visit mark. */
    int u = -1;
    for (int i = 0; i < n && u < 0; i++)
        if (b->indeg[i] > 0) u = i;
    const char *val = "?";
    for (int steps = 0; steps <= n; steps++) {
        b->indeg[u] = -1; /* visited */
        int next = -1;
        for (int j = 0; j < m->nodes[u].n_inputs && next < 0; j++) {
            int s = b->in_slots[u][j];
            if (s >= 0 && b->prod[s] >= 0 && b->indeg[b->prod[s]] != 0) {
                next = b->prod[s];
                val = g->names[s];
            }
        }
        if (next < 0 || b->indeg[next] == -1) {
            if (next >= 0) u = next;
            break;
        }
        u = next;
    }
    return vx_graph_fail(err, errlen, VOX_ERR_MODEL,
                         "graph has a cycle: value '%s' (node '%s', %s) depends on itself", val,
                         node_name(&m->nodes[u]), m->nodes[u].op_type);
}

/* Runs a constant node's kernel once and stores its outputs as owned constants. Returns
 * 0, 1 when an output is over the folding limits (nothing stored: the node stays a run
 * step), or a negative VOX_ERR_*. */
static int fold_node(vx_graph *g, build *b, int ni, char *err, size_t errlen) {
    const vx_node *n = &g->model->nodes[ni];
    const int *ins = b->in_slots[ni], *outs = b->out_slots[ni];
    if (!b->defs[ni]) { /* Constant */
        vx_tensor t;
        int rc = constant_value(n, &t, err, errlen);
        if (rc) return rc;
        if (!vx_graph_tensor_ok(&t)) {
            vx_tensor_release(&t);
            return vx_graph_fail(err, errlen, VOX_ERR_UNSUPPORTED,
                                 "node '%s' (Constant): unsupported or malformed value",
                                 node_name(n));
        }
        if (n->n_outputs >= 1 && outs[0] >= 0) {
            g->consts[outs[0]] = t;
            g->is_const[outs[0]] = 1;
        } else {
            vx_tensor_release(&t);
        }
        return 0;
    }
    vx_tensor **in = calloc((size_t)n->n_inputs + 1, sizeof(*in));
    vx_tensor *out = calloc((size_t)n->n_outputs + 1, sizeof(*out));
    if (!in || !out) {
        free(in);
        free(out);
        return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory folding constants");
    }
    for (int j = 0; j < n->n_inputs; j++) in[j] = ins[j] >= 0 ? &g->consts[ins[j]] : NULL;
    for (int j = 0; j < n->n_inputs; j++) /* deferred initializers a fold reads */
        if (ins[j] >= 0 && vx_graph_const_restore(g, ins[j])) {
            free(in);
            free(out);
            return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory folding constants");
        }
    char kerr[512] = "";
    vx_rng rng;
    vx_rng_seed(&rng, 0);
    size_t left = VX_FOLD_TOTAL_BYTES - b->fold_bytes; /* 0: spent (max_bytes 0 = no limit) */
    vx_op_ctx ctx = {.opset = g->model->opset,
                     .rng = &rng,
                     .threads = 1,
                     .pool = NULL,
                     .err = kerr,
                     .errlen = sizeof kerr,
                     .max_bytes = left < VX_FOLD_MAX_BYTES ? left : VX_FOLD_MAX_BYTES};
    int rc = left ? b->defs[ni]->fn(&ctx, n, in, n->n_inputs, out, n->n_outputs) : 0;
    size_t made = 0;
    for (int j = 0; j < n->n_outputs && !rc; j++) made += vx_tensor_bytes(&out[j]);
    if (!left || ctx.over_limit || made > ctx.max_bytes) {
        for (int j = 0; j < n->n_outputs; j++) vx_tensor_release(&out[j]);
        free(in);
        free(out);
        return 1;
    }
    b->fold_bytes += made;
    if (rc) {
        rc = vx_graph_fail(err, errlen, rc < 0 ? rc : VOX_ERR_INTERNAL,
                           "node '%s' (%s) while folding constants: %s", node_name(n), n->op_type,
                           kerr[0] ? kerr : "failed");
    }
    for (int j = 0; j < n->n_outputs && !rc; j++)
        if (outs[j] >= 0 && !vx_graph_tensor_ok(&out[j]))
            rc = vx_graph_fail(err, errlen, VOX_ERR_INTERNAL,
                               "node '%s' (%s) while folding constants: "
                               "kernel returned no valid tensor for output %d",
                               node_name(n), n->op_type, j);
    for (int j = 0; j < n->n_outputs; j++) {
        /* Folded values must not alias their inputs: those may be dropped later. */
        if (!rc && outs[j] >= 0) {
            if (!out[j].owned && out[j].numel > 0 && vx_tensor_copy(&out[j], &out[j]))
                rc = vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory folding constants");
            else if (!out[j].owned && out[j].numel == 0)
                out[j].data = NULL;
        }
        if (!rc && outs[j] >= 0) {
            g->consts[outs[j]] = out[j];
            g->is_const[outs[j]] = 1;
        } else {
            vx_tensor_release(&out[j]);
        }
    }
    free(in);
    free(out);
    return rc;
}

/* Constants: initializers, Constant nodes and deterministic nodes fed only by constants. */
static int fold_constants(vx_graph *g, build *b, char *err, size_t errlen) {
    const vx_model *m = g->model;
    b->folded = calloc((size_t)m->n_nodes + 1, 1);
    if (!b->folded)
        return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");
    for (int i = 0; i < m->n_inits; i++) {
        int s = vx_graph_slot(g, m->init_names[i]);
        vx_tensor_view(&g->consts[s], &m->inits[i]);
        g->is_const[s] = 1;
        if (vx_model_init_deferred(m, i)) {
            /* not copied by the loader (VX_LOAD_DEFER_COPIES): a lazy constant from the
             * start, rebuilt from the file bytes by whatever reads it raw */
            if (vx_graph_lazy_init(g))
                return vx_graph_fail(err, errlen, VOX_ERR_NOMEM,
                                     "out of memory compiling the graph");
            g->consts[s].data = NULL;
            g->lazy_src[s] = vx_model_init_source(m, i);
        }
    }
    for (int k = 0; k < m->n_nodes; k++) {
        int ni = b->order[k];
        const vx_node *n = &m->nodes[ni];
        int c = !b->defs[ni] || b->defs[ni]->deterministic;
        for (int j = 0; j < n->n_inputs && c; j++) {
            int s = b->in_slots[ni][j];
            if (s >= 0 && !g->is_const[s]) c = 0;
        }
        if (!c) continue;
        int rc = fold_node(g, b, ni, err, errlen);
        if (rc == 1) continue; /* over the folding limits: a run step */
        if (rc) return rc;
        b->folded[ni] = 1;
        g->n_folded++;
    }
    return 0;
}

/* ------------------------------------------------------------ load-time rewrites */

static int optimize_steps(vx_graph *g, char *err, size_t errlen) {
    const vx_kernels *kern = vx_kernels_get();
    g->elided = calloc((size_t)g->n_values + 1, 1);
    int *uses = malloc(((size_t)g->n_values + 1) * sizeof(int));
    if (!g->elided || !uses) {
        free(uses);
        return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");
    }
    if (!vx_env_off("VOX_FUSE")) g->n_fused = vx_graph_fuse(g, kern, uses);
    /* then the length-regulator path (before the move chains: its Pad and Slice are its
     * own), then Pad/Reshape/Slice chains, then the attentions (which take two chains
     * in), the norms, the sums and the WaveNet gates (after vx_graph_fuse: a gate takes
     * back the Add a conv took as its residual); each returns nodes fused or
     * VOX_ERR_NOMEM */
    static const struct {
        const char *env;
        int (*fn)(vx_graph *, int *);
    } passes[] = {{"VOX_FUSE_PATH", vx_graph_fuse_path}, {"VOX_FUSE_MOVES", vx_graph_fuse_moves},
                  {"VOX_FUSE_ATTN", vx_graph_fuse_attn}, {"VOX_FUSE_NORM", vx_graph_fuse_norm},
                  {"VOX_FUSE_SUM", vx_graph_fuse_sum},   {"VOX_FUSE_GATE", vx_graph_fuse_gate}};
    for (size_t i = 0; i < sizeof passes / sizeof *passes; i++) {
        if (vx_env_off("VOX_FUSE") || vx_env_off(passes[i].env)) continue;
        int nf = passes[i].fn(g, uses);
        if (nf < 0) {
            free(uses);
            return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");
        }
        g->n_fused += nf;
    }
    free(uses);
    int ns = 0;
    for (int k = 0; k < g->n_steps; k++)
        if (g->steps[k].node) g->steps[ns++] = g->steps[k];
    g->n_steps = ns;
    for (int k = 0; k < ns; k++) {
        vx_step *st = &g->steps[k];
        st->label = st->node->op_type;
        if (st->prep.attn)
            st->label = "RelAttention";
        else if (st->prep.chain)
            st->label = st->prep.chain->label;
        else if (st->prep.group)
            st->label = st->prep.group->label;
        else if (st->prep.gate)
            st->label = st->prep.gate->label;
        else if (st->def == &vx_shape_bcast_def)
            st->label = "ShapeOfBroadcast";
        else if (st->def == &vx_chan_norm_def)
            st->label = "ChannelLayerNorm";
        else if (st->def == &vx_shape_matmul_def)
            st->label = "ShapeOfMatMul";
        else if (st->def == &vx_sum_div_def)
            st->label = "Add+Add+Div";
        else if (st->prep.leaky_in && !strcmp(st->node->op_type, "ConvTranspose"))
            st->label = "LeakyRelu+ConvTranspose";
        else if (st->prep.leaky_in && st->prep.res)
            st->label = "Conv+LeakyRelu+Add";
        else if (st->prep.leaky_in)
            st->label = "Conv+LeakyRelu";
        else if (st->prep.res)
            st->label = "Conv+Add";
        else if (st->prep.xpad[0] || st->prep.xpad[1])
            st->label = "Pad+Conv";
    }
    if (!vx_env_off("VOX_PREPACK")) vx_graph_pack(g, kern);
    return 0;
}

/* Steps for the dynamic nodes, last uses, and release lists. */
static int plan_steps(vx_graph *g, build *b, char *err, size_t errlen) {
    const vx_model *m = g->model;
    int ns = 0;
    int64_t nio = 0;
    for (int k = 0; k < m->n_nodes; k++) {
        int ni = b->order[k];
        const vx_node *n = &m->nodes[ni];
        if (b->folded[ni]) continue;
        b->order[ns++] = ni; /* compact in place: order[0..ns) are the steps */
        nio += n->n_inputs + n->n_outputs;
    }
    g->n_steps = ns;
    g->steps = calloc((size_t)ns + 1, sizeof(vx_step));
    /* in (+2 spare for fusion), out, free lists */
    g->step_ints = malloc(((size_t)nio * 2 + 4 * (size_t)ns + 1) * sizeof(int));
    if (!g->steps || !g->step_ints)
        return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");
    for (int s = 0; s < g->n_values; s++) g->last_use[s] = -1;
    for (int i = 0; i < m->n_outputs; i++) g->is_output[g->out_slots[i]] = 1;
    int *store = g->step_ints;
    for (int k = 0; k < ns; k++) {
        int ni = b->order[k];
        const vx_node *n = &m->nodes[ni];
        vx_step *st = &g->steps[k];
        st->node = n;
        st->def = b->defs[ni];
        st->n_in = n->n_inputs;
        st->n_out = n->n_outputs;
        st->in = store;
        store += n->n_inputs + 2;
        st->out = store;
        store += n->n_outputs;
        memcpy(st->in, b->in_slots[ni], (size_t)n->n_inputs * sizeof(int));
        memcpy(st->out, b->out_slots[ni], (size_t)n->n_outputs * sizeof(int));
    }
    int rc = optimize_steps(g, err, errlen);
    if (rc) return rc;
    ns = g->n_steps;
    for (int k = 0; k < ns; k++) {
        vx_step *st = &g->steps[k];
        if (st->n_in > g->max_in) g->max_in = st->n_in;
        if (st->n_out > g->max_out) g->max_out = st->n_out;
        /* An output nobody reads is released right after its producer. */
        for (int j = 0; j < st->n_out; j++)
            if (st->out[j] >= 0) g->last_use[st->out[j]] = k;
        for (int j = 0; j < st->n_in; j++)
            if (st->in[j] >= 0 && !g->is_const[st->in[j]]) g->last_use[st->in[j]] = k;
    }
    /* Release lists: each non-constant, non-output slot once, at its last use. */
    for (int k = 0; k < ns; k++) {
        vx_step *st = &g->steps[k];
        st->free = store;
        for (int j = 0; j < st->n_in + st->n_out; j++) {
            int s = j < st->n_in ? st->in[j] : st->out[j - st->n_in];
            if (s < 0 || g->is_const[s] || g->is_output[s] || g->last_use[s] != k) continue;
            int dup = 0;
            for (int q = 0; q < st->n_free; q++) dup |= st->free[q] == s;
            if (!dup) st->free[st->n_free++] = s;
        }
        store += st->n_free;
    }
    /* Folded tensors that no step reads and that are not outputs are dropped (is_const 2),
     * so weights transformed at load do not stay in memory twice. */
    unsigned char *used = calloc((size_t)g->n_values + 1, 1);
    if (!used)
        return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");
    for (int k = 0; k < ns; k++)
        for (int j = 0; j < g->steps[k].n_in; j++)
            if (g->steps[k].in[j] >= 0) used[g->steps[k].in[j]] = 1;
    for (int s = 0; s < g->n_values; s++) {
        if (g->is_const[s] == 1) g->n_consts++;
        if (g->is_const[s] == 1 && g->consts[s].owned && !used[s] && !g->is_output[s]) {
            vx_tensor_release(&g->consts[s]);
            g->is_const[s] = 2;
        }
    }
    free(used);
    /* Kernels get constants as non-owned views; the owners live in const_store. */
    g->const_store = calloc((size_t)g->n_values + 1, sizeof(vx_tensor));
    if (!g->const_store)
        return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");
    for (int s = 0; s < g->n_values; s++)
        if (g->consts[s].owned) {
            g->const_store[s] = g->consts[s];
            g->consts[s].owned = 0;
        }
    return 0;
}

int vx_graph_from_model(vx_model *m, void (*model_free)(vx_model *), vx_graph **out, char *err,
                        size_t errlen) {
    return vx_graph_from_model_ops(m, model_free, NULL, out, err, errlen);
}

/* Graphs alive in the process (the tensor block cache is emptied when it drops to 0). */
static int n_live_graphs;

int vx_graph_from_model_ops(vx_model *m, void (*model_free)(vx_model *), const vx_op_def *ops,
                            vx_graph **out, char *err, size_t errlen) {
    return vx_graph_from_model_opts(m, model_free, ops, NULL, out, err, errlen);
}

int vx_graph_from_model_opts(vx_model *m, void (*model_free)(vx_model *), const vx_op_def *ops,
                             const vx_graph_opts *o, vx_graph **out, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (o && (o->precision < 0 || o->precision > 2)) {
        if (model_free && m) model_free(m);
        return vx_graph_fail(err, errlen, VOX_ERR_ARG,
                             "precision %d: expected 0 (fp32), 1 (bf16) or 2 (int8)", o->precision);
    }
    if (!out) return vx_graph_fail(err, errlen, VOX_ERR_ARG, "vx_graph_from_model: out is NULL");
    *out = NULL;
    if (!m) return vx_graph_fail(err, errlen, VOX_ERR_ARG, "vx_graph_from_model: model is NULL");
    vx_graph *g = calloc(1, sizeof *g);
    if (!g) {
        if (model_free) model_free(m);
        return vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");
    }
    g->model = m;
    g->model_free = model_free;
    g->precision = o ? o->precision : 0;
    g->pack_hit = "off";
    __atomic_add_fetch(&n_live_graphs, 1, __ATOMIC_RELAXED);
    build b = {.ops = ops};
    int rc = 0;
    if (o && o->pack_cache && !(g->pack_cache_dir = strdup(o->pack_cache)))
        rc = vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");
    if (!rc) rc = map_values(g, &b, err, errlen);
    if (!rc) rc = topo_sort(g, &b, err, errlen);
    if (!rc) {
        g->is_const = calloc((size_t)g->n_values + 1, 1);
        g->is_output = calloc((size_t)g->n_values + 1, 1);
        g->consts = calloc((size_t)g->n_values + 1, sizeof(vx_tensor));
        g->last_use = malloc(((size_t)g->n_values + 1) * sizeof(int));
        if (!g->is_const || !g->is_output || !g->consts || !g->last_use)
            rc = vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");
    }
    if (!rc) rc = fold_constants(g, &b, err, errlen);
    if (!rc) rc = plan_steps(g, &b, err, errlen);
    if (!rc && vx_graph_drop_consts(g))
        rc = vx_graph_fail(err, errlen, VOX_ERR_NOMEM, "out of memory compiling the graph");
    build_free(&b);
    if (rc) {
        vx_graph_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void vx_graph_free(vx_graph *g) {
    if (!g) return;
    vx_split_free(g->split);
    if (g->consts)
        for (int s = 0; s < g->n_values; s++) vx_tensor_release(&g->consts[s]);
    if (g->const_store)
        for (int s = 0; s < g->n_values; s++) vx_tensor_release(&g->const_store[s]);
    free(g->const_store);
    if (g->lazy_buf)
        for (int s = 0; s < g->n_values; s++) free(g->lazy_buf[s]);
    free(g->lazy_buf);
    free(g->lazy_src);
    if (g->lazy_mu_init) pthread_mutex_destroy(&g->lazy_mu);
    free(g->consts);
    free(g->is_const);
    free(g->is_output);
    free(g->last_use);
    free(g->names);
    free(g->hash);
    free(g->in_slots);
    free(g->out_slots);
    for (int k = 0; g->steps && k < g->n_steps; k++) vx_aligned_free(g->steps[k].pack_owned);
    if (g->pack_arena) munmap(g->pack_arena, g->pack_arena_bytes);
    free(g->pack_cache_dir);
    free(g->steps);
    free(g->step_ints);
    for (vx_group_list *l = g->groups, *nx; l; l = nx) {
        nx = l->next;
        free(l->group);
        free(l->ints);
        free(l);
    }
    for (vx_gate_list *l = g->gates, *nx; l; l = nx) {
        nx = l->next;
        free(l);
    }
    for (vx_attn_list *l = g->attns, *nx; l; l = nx) {
        nx = l->next;
        free(l->plan.slots);
        free(l);
    }
    free(g->chains);
    free(g->chain_ints);
    free(g->elided);
    if (g->model_free) g->model_free(g->model);
    free(g);
    /* the tensor cache serves runs: with no graph left, nothing will reuse it */
    if (__atomic_sub_fetch(&n_live_graphs, 1, __ATOMIC_ACQ_REL) == 0) vx_block_cache_trim();
}

/* ------------------------------------------------------------ queries */

int vx_graph_n_inputs(const vx_graph *g) { return g->model->n_inputs; }
int vx_graph_n_outputs(const vx_graph *g) { return g->model->n_outputs; }

const vx_value_info *vx_graph_input(const vx_graph *g, int i) {
    return i >= 0 && i < g->model->n_inputs ? &g->model->inputs[i] : NULL;
}

const vx_value_info *vx_graph_output(const vx_graph *g, int i) {
    return i >= 0 && i < g->model->n_outputs ? &g->model->outputs[i] : NULL;
}

int vx_graph_find_input(const vx_graph *g, const char *name) {
    for (int i = 0; name && i < g->model->n_inputs; i++)
        if (g->model->inputs[i].name && !strcmp(g->model->inputs[i].name, name)) return i;
    return -1;
}

const char *vx_graph_first_output_of(const vx_graph *g, const char *op_type) {
    for (int k = 0; op_type && k < g->n_steps; k++) {
        const vx_node *n = g->steps[k].node;
        if (!strcmp(n->op_type, op_type) && n->n_outputs > 0 && n->outputs[0] && n->outputs[0][0])
            return n->outputs[0];
    }
    /* A folded node of that type (its value is constant): file order. */
    for (int i = 0; op_type && i < g->model->n_nodes; i++) {
        const vx_node *n = &g->model->nodes[i];
        if (n->op_type && !strcmp(n->op_type, op_type) && n->n_outputs > 0 && n->outputs[0] &&
            n->outputs[0][0])
            return n->outputs[0];
    }
    return NULL;
}

void vx_graph_get_stats(const vx_graph *g, vx_graph_stats *s) {
    s->n_nodes = g->model->n_nodes;
    s->n_steps = g->n_steps;
    s->n_folded = g->n_folded;
    s->n_values = g->n_values;
    s->n_consts = g->n_consts;
}

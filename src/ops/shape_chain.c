/* A fused chain of data-movement nodes: Pad (constant mode) / Reshape / Slice (unit
 * steps) applied in turn, computed straight from the chain's input into its output.
 *
 * Why: VITS's relative-position attention (Piper's text encoder) turns its [h, n, 2n-1]
 * relative logits into [h, n, n] absolute ones, and back for the values, with
 * Pad -> Reshape -> Pad -> Reshape -> Slice (-> Slice): four or five n x 2n tensors are
 * written and read per conversion, two conversions per layer, six layers. Each step is
 * an index map, so their composition is one: an output element is either a constant of
 * one of the Pads or one element of the input. This kernel walks the output in runs
 * (consecutive elements that stay consecutive through every level) and copies or fills
 * each run once; nothing in between is allocated. The values are the ops' own, bit for
 * bit (nothing is computed), so it is exact for any graph; a chain it cannot plan
 * (another Pad mode, a Slice step other than 1, ...) runs its nodes one by one. */
#include "ops/nn_internal.h"
#include "ops/shape_internal.h"
#include "tensor/tensor.h"
#include "vox.h"
#include <stdlib.h>
#include <string.h>

enum { LV_RESHAPE, LV_PAD, LV_SLICE };

/* One level of the chain: how its output (dims) maps onto its input (the level below). */
typedef struct chain_level {
    int kind, nd;
    int64_t dims[VX_MAX_DIMS];  /* output dims */
    int64_t idims[VX_MAX_DIMS]; /* input dims */
    int64_t istr[VX_MAX_DIMS];  /* input strides (elements) */
    int64_t off[VX_MAX_DIMS];   /* pad: front pad per axis; slice: first index per axis */
    unsigned char cval[16];     /* pad: the constant, one element of the dtype */
} chain_level;

typedef struct chain_plan {
    int n;
    size_t es;
    const char *x;
    char *dst; /* the output: element o of a fill is written at dst + o * es */
    /* the input as a MatMul's column band (float): rows of bn columns, +0 outside
     * [b0, b1), x holds the band as [rows, b1 - b0] */
    int banded;
    int64_t bn, b0, b1;
    chain_level lv[VX_CHAIN_MAX];
} chain_plan;

static const vx_tensor *arg_of(vx_tensor *const *in, int n_in, const vx_move_chain *c, int i,
                               int j) {
    if (j >= c->n_args[i]) return NULL;
    int k = c->arg[i] + j;
    return k < n_in ? in[k] : NULL;
}

static int plan_reshape(chain_level *l, const vx_node *node, const vx_tensor *shape, int nd_in,
                        const int64_t *din) {
    int64_t d[VX_MAX_DIMS];
    int nd;
    if (vx_sh_try_ints(shape, d, VX_MAX_DIMS, &nd)) return -1;
    int allowzero = (int)vx_attr_int(node, "allowzero", 0), infer = -1;
    int64_t total = vx_sh_numel(nd_in, din), known = 1;
    for (int i = 0; i < nd; i++) {
        if (d[i] == -1) {
            if (infer >= 0) return -1;
            infer = i;
            continue;
        }
        if (d[i] < 0) return -1;
        if (d[i] == 0 && !allowzero) {
            if (i >= nd_in) return -1;
            d[i] = din[i];
        }
        if (d[i] && known > VX_MAX_ELEMS / d[i]) return -1;
        known *= d[i];
    }
    if (infer >= 0) {
        if (!known || total % known) return -1;
        d[infer] = total / known;
        known = total;
    }
    if (known != total) return -1;
    l->kind = LV_RESHAPE;
    l->nd = nd;
    memcpy(l->dims, d, sizeof(int64_t) * (size_t)nd);
    return 0;
}

static int plan_pad(chain_level *l, int64_t opset, const vx_node *node, vx_tensor *const *in,
                    int n_in, const vx_move_chain *c, int i, int dtype, size_t es) {
    if (opset < 11 || strcmp(vx_attr_str(node, "mode", "constant"), "constant")) return -1;
    int64_t pads[2 * VX_MAX_DIMS], axv[VX_MAX_DIMS];
    int np, nax = -1, r = l->nd;
    if (vx_sh_try_ints(arg_of(in, n_in, c, i, 0), pads, 2 * VX_MAX_DIMS, &np)) return -1;
    const vx_tensor *cv = arg_of(in, n_in, c, i, 1), *ax = arg_of(in, n_in, c, i, 2);
    memset(l->cval, 0, sizeof l->cval);
    if (cv && cv->numel) {
        if (cv->dtype != dtype || cv->numel != 1 || es > sizeof l->cval) return -1;
        memcpy(l->cval, cv->data, es);
    }
    if (ax && vx_sh_try_ints(ax, axv, VX_MAX_DIMS, &nax)) return -1;
    int n = nax >= 0 ? nax : r, seen[VX_MAX_DIMS] = {0};
    if (np != 2 * n) return -1;
    int64_t pe[VX_MAX_DIMS] = {0};
    memset(l->off, 0, sizeof l->off);
    for (int k = 0; k < n; k++) {
        int64_t a = nax >= 0 ? axv[k] : k;
        if (a < 0) a += r;
        if (a < 0 || a >= r || seen[a]++) return -1;
        /* negative pads crop: left to the op itself */
        if (pads[k] < 0 || pads[k + n] < 0 || pads[k] > VX_MAX_ELEMS || pads[k + n] > VX_MAX_ELEMS)
            return -1;
        l->off[a] = pads[k];
        pe[a] = pads[k + n];
    }
    l->kind = LV_PAD;
    for (int a = 0; a < r; a++) l->dims[a] = l->idims[a] + l->off[a] + pe[a];
    return 0;
}

static int plan_slice(chain_level *l, int64_t opset, vx_tensor *const *in, int n_in,
                      const vx_move_chain *c, int i) {
    int64_t st[VX_MAX_DIMS], en[VX_MAX_DIMS], ax[VX_MAX_DIMS], sp[VX_MAX_DIMS];
    int ns, ne, na = -1, nsp = -1, r = l->nd, seen[VX_MAX_DIMS] = {0};
    if (opset < 10 || vx_sh_try_ints(arg_of(in, n_in, c, i, 0), st, VX_MAX_DIMS, &ns) ||
        vx_sh_try_ints(arg_of(in, n_in, c, i, 1), en, VX_MAX_DIMS, &ne))
        return -1;
    const vx_tensor *ta = arg_of(in, n_in, c, i, 2), *ts = arg_of(in, n_in, c, i, 3);
    if ((ta && vx_sh_try_ints(ta, ax, VX_MAX_DIMS, &na)) ||
        (ts && vx_sh_try_ints(ts, sp, VX_MAX_DIMS, &nsp)))
        return -1;
    if (ns != ne || (na >= 0 && na != ns) || (nsp >= 0 && nsp != ns)) return -1;
    memset(l->off, 0, sizeof l->off);
    memcpy(l->dims, l->idims, sizeof l->dims);
    for (int k = 0; k < ns; k++) {
        int64_t a = na >= 0 ? ax[k] : k;
        if (a < 0) a += r;
        if (a < 0 || a >= r || seen[a]++ || (nsp >= 0 && sp[k] != 1)) return -1;
        int64_t d = l->idims[a], s = st[k], e = en[k];
        if (s < 0) s += d;
        if (e < 0) e += d;
        s = s < 0 ? 0 : s > d ? d : s;
        e = e < 0 ? 0 : e > d ? d : e;
        l->off[a] = s;
        l->dims[a] = e > s ? e - s : 0;
    }
    l->kind = LV_SLICE;
    return 0;
}

/* The whole chain's plan from the run-time inputs; -1: run the nodes one by one. */
static int plan_chain(chain_plan *p, const vx_op_ctx *ctx, const vx_move_chain *c,
                      vx_tensor *const *in, int n_in) {
    const vx_tensor *x = n_in > 0 ? in[0] : NULL;
    if (!x || !x->data || x->ndim < 1 || c->n < 1 || c->n > VX_CHAIN_MAX) return -1;
    size_t es = vx_dtype_size(x->dtype);
    if (!es || x->dtype == VX_STRING) return -1;
    p->n = c->n;
    p->es = es;
    p->x = x->data;
    p->dst = NULL;
    p->banded = 0;
    int nd = x->ndim;
    const int64_t *din = x->dims;
    for (int i = 0; i < c->n; i++) {
        chain_level *l = &p->lv[i];
        l->nd = nd;
        memcpy(l->idims, din, sizeof(int64_t) * (size_t)nd);
        vx_sh_strides(nd, l->idims, l->istr);
        const char *op = c->node[i]->op_type;
        int rc =
            !strcmp(op, "Reshape") ? plan_reshape(l, c->node[i], arg_of(in, n_in, c, i, 0), nd, din)
            : !strcmp(op, "Pad") ? plan_pad(l, ctx->opset, c->node[i], in, n_in, c, i, x->dtype, es)
            : !strcmp(op, "Slice") ? plan_slice(l, ctx->opset, in, n_in, c, i)
                                   : -1;
        if (rc || l->nd < 1) return -1;
        if (vx_sh_numel(l->nd, l->dims) < 0 || vx_sh_numel(l->nd, l->dims) > VX_MAX_ELEMS)
            return -1;
        nd = l->nd;
        din = l->dims;
    }
    return 0;
}

/* Map mode (vx_chain_map_runs): nothing is written; each copy from the input is
 * recorded as a run, and the Pads' constants (all +0) are skipped. The plan stays
 * read-only, so threads share it. */
typedef struct chain_runs {
    vx_chain_run *run;
    int64_t n, cap;
} chain_runs;

/* n consecutive elements of the chain's input from flat index f, to output offset o. */
static void fill_input(const chain_plan *p, chain_runs *rs, int64_t f, int64_t n, int64_t o) {
    if (rs) {
        if (rs->n < rs->cap) rs->run[rs->n] = (vx_chain_run){o, f, n};
        rs->n++;
        return;
    }
    char *dst = p->dst + o * (int64_t)p->es;
    if (!p->banded) {
        memcpy(dst, p->x + f * (int64_t)p->es, (size_t)n * p->es);
        return;
    }
    const float *band = (const float *)p->x;
    float *d = (float *)dst;
    int64_t w = p->b1 - p->b0;
    while (n > 0) {
        int64_t r = f / p->bn, c = f % p->bn, m = p->bn - c < n ? p->bn - c : n;
        int64_t lo = c > p->b0 ? c : p->b0, hi = c + m < p->b1 ? c + m : p->b1;
        if (hi <= lo) {
            memset(d, 0, (size_t)m * sizeof *d);
        } else {
            memset(d, 0, (size_t)(lo - c) * sizeof *d);
            memcpy(d + (lo - c), band + r * w + (lo - p->b0), (size_t)(hi - lo) * sizeof *d);
            memset(d + (hi - c), 0, (size_t)(c + m - hi) * sizeof *d);
        }
        d += m;
        f += m;
        n -= m;
    }
}

/* A Pad's constant over output elements [o, o + n) (nothing in map mode: it is +0). */
static void fill_const(const chain_plan *p, const chain_runs *rs, const chain_level *l, int64_t o,
                       int64_t n) {
    if (!rs) vx_sh_fill(p->dst + o * (int64_t)p->es, l->cval, p->es, n);
}

/* Writes n consecutive elements (row-major order) of level lv's output, starting at
 * flat index f, to output offset o. Level -1 is the chain's input. */
static void fill_run(const chain_plan *p, chain_runs *rs, int lv, int64_t f, int64_t n, int64_t o) {
    if (lv < 0) {
        fill_input(p, rs, f, n, o);
        return;
    }
    const chain_level *l = &p->lv[lv];
    if (l->kind == LV_RESHAPE) { /* the same elements in the same order */
        fill_run(p, rs, lv - 1, f, n, o);
        return;
    }
    int r = l->nd;
    int64_t L = l->dims[r - 1];
    while (n > 0) {
        /* f as an index, its run along the last axis, and the source of its row */
        int64_t rem = f, idx[VX_MAX_DIMS] = {0};
        for (int a = r - 1; a >= 0; a--) {
            idx[a] = rem % l->dims[a];
            rem /= l->dims[a];
        }
        int64_t m = L - idx[r - 1] < n ? L - idx[r - 1] : n, g = 0;
        int inside = 1;
        for (int a = 0; a < r - 1; a++) {
            int64_t s = l->kind == LV_PAD ? idx[a] - l->off[a] : idx[a] + l->off[a];
            if (s < 0 || s >= l->idims[a]) inside = 0;
            g += s * l->istr[a];
        }
        if (l->kind == LV_SLICE) {
            fill_run(p, rs, lv - 1, g + idx[r - 1] + l->off[r - 1], m, o);
        } else if (!inside) {
            fill_const(p, rs, l, o, m);
        } else {
            /* [idx, idx + m) on the padded axis: front constant, copy, end constant */
            int64_t D = l->idims[r - 1], lo = idx[r - 1] - l->off[r - 1], hi = lo + m;
            int64_t c0 = lo < 0 ? 0 : lo, c1 = hi > D ? D : hi;
            if (c0 > hi) c0 = hi;
            if (c1 < c0) c1 = c0;
            if (c0 > lo) fill_const(p, rs, l, o, c0 - lo);
            if (c1 > c0) fill_run(p, rs, lv - 1, g + c0, c1 - c0, o + (c0 - lo));
            if (hi > c1) fill_const(p, rs, l, o + (c1 - lo), hi - c1);
        }
        o += m;
        f += m;
        n -= m;
    }
}

/* Runs the nodes one by one (a chain the plan does not cover: the ops say what is
 * wrong, or compute what the plan leaves out). */
static int run_nodes(vx_op_ctx *ctx, const vx_move_chain *c, vx_tensor *const *in, int n_in,
                     vx_tensor *out) {
    vx_tensor tmp[2];
    memset(tmp, 0, sizeof tmp);
    const vx_tensor *cur = in[0];
    int rc = 0;
    for (int i = 0; i < c->n && !rc; i++) {
        vx_tensor *args[1 + 2 * VX_MAX_DIMS];
        int na = 1 + c->n_args[i];
        if (na > (int)(sizeof args / sizeof *args)) { /* the temporaries are released below */
            rc = vx_op_fail(ctx, c->node[i], VOX_ERR_MODEL, "too many inputs");
            break;
        }
        args[0] = (vx_tensor *)cur;
        for (int j = 1; j < na; j++) args[j] = (vx_tensor *)arg_of(in, n_in, c, i, j - 1);
        vx_tensor *dst = i == c->n - 1 ? out : &tmp[i & 1];
        memset(dst, 0, sizeof *dst);
        vx_op_ctx sub = *ctx;
        sub.prep = NULL;
        sub.inplace = sub.dying = 0;
        rc = c->def[i]->fn(&sub, c->node[i], args, na, dst, 1);
        if (!rc && i > 0 && !dst->owned && dst->data) {
            /* a view (Reshape may return one) must not outlive the temporary below it */
            vx_tensor own;
            memset(&own, 0, sizeof own);
            rc = vx_tensor_copy(&own, dst);
            vx_tensor_release(dst);
            *dst = own;
            if (rc) rc = vx_op_fail(ctx, c->node[i], VOX_ERR_NOMEM, "out of memory");
        }
        if (i > 0) vx_tensor_release(&tmp[(i - 1) & 1]);
        cur = dst;
    }
    if (rc) {
        vx_tensor_release(&tmp[0]);
        vx_tensor_release(&tmp[1]);
    }
    return rc;
}

/* The chain from its (materialized or banded) input. */
static int run_chain(vx_op_ctx *ctx, const vx_node *node, const vx_move_chain *c,
                     vx_tensor *const *in, int n_in, vx_tensor *out, const int64_t *band_cols) {
    chain_plan p;
    if (plan_chain(&p, ctx, c, in, n_in)) {
        if (band_cols) return 1; /* the caller makes the input and comes back */
        return run_nodes(ctx, c, in, n_in, out);
    }
    p.banded = band_cols != NULL;
    if (band_cols) {
        p.bn = in[0]->dims[in[0]->ndim - 1];
        p.b0 = band_cols[0];
        p.b1 = band_cols[1];
    }
    const chain_level *top = &p.lv[p.n - 1];
    int rc = vx_sh_check_shape(ctx, node, top->nd, top->dims);
    if (!rc) rc = vx_op_alloc_raw(ctx, out, in[0]->dtype, top->nd, top->dims); /* all written */
    if (rc || !out->numel) return rc;
    p.dst = out->data;
    fill_run(&p, NULL, p.n - 1, 0, out->numel, 0);
    return 0;
}

/* A chain whose input is a MatMul (fuse.c): C's nonzero column band only, when the
 * MatMul would compute C that way (its values, bit for bit), else C in full first. */
static int matmul_chain(vx_op_ctx *ctx, const vx_node *node, const vx_move_chain *c,
                        vx_tensor *const *in, int n_in, vx_tensor *out) {
    vx_tensor *args[1 + VX_CHAIN_MAX * 5];
    if (c->mm_b >= n_in || n_in > (int)(sizeof args / sizeof *args) || !in[c->mm_b])
        return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "fused MatMul without its inputs");
    memcpy(args, in, (size_t)n_in * sizeof *args);
    vx_tensor band = {0}, cin = {0};
    int64_t cols[2], od[VX_MAX_DIMS + 2];
    int on, rc = 1;
    if (vx_nn_matmul_colband(ctx, in[0], in[c->mm_b], &band, &cols[0], &cols[1], &on, od)) {
        /* a header with C's shape over the band's data */
        if (on <= VX_MAX_DIMS && !vx_tensor_set_shape(&cin, on, od)) {
            cin.dtype = VX_FLOAT;
            cin.data = band.data;
            args[0] = &cin;
            rc = run_chain(ctx, node, c, args, n_in, out, cols);
        }
        vx_tensor_release(&band);
        if (rc <= 0) return rc;
    }
    /* the MatMul in full, then the chain over it */
    vx_tensor *mm_in[2] = {in[0], in[c->mm_b]};
    vx_op_ctx sub = *ctx;
    sub.prep = NULL;
    sub.inplace = sub.dying = 0;
    memset(&cin, 0, sizeof cin);
    if ((rc = c->mm_def->fn(&sub, c->mm, mm_in, 2, &cin, 1))) return rc;
    args[0] = &cin;
    rc = run_chain(ctx, node, c, args, n_in, out, NULL);
    vx_tensor_release(&cin);
    return rc;
}

/* Every element the planned chain can produce is finite: its input's and its Pads'
 * constants (a float chain). */
static int chain_finite(const chain_plan *p, const vx_tensor *x) {
    const float *v = x->data;
    for (int64_t i = 0; i < x->numel; i++)
        if (!(v[i] - v[i] == 0.0f)) return 0;
    for (int i = 0; i < p->n; i++) {
        float cv;
        memcpy(&cv, p->lv[i].cval, sizeof cv);
        if (p->lv[i].kind == LV_PAD && !(cv - cv == 0.0f)) return 0;
    }
    return 1;
}

/* A chain whose output is a MatMul's A (fuse.c): when the MatMul would multiply only
 * B's nonzero band of rows [r0, r1) (nn_matmul.c), only those columns of the chain's
 * output are made, [rows, r1 - r0], and multiplied the way the MatMul would (same bits);
 * else the chain's output is made in full and the MatMul runs on it. */
static int chain_matmul(vx_op_ctx *ctx, const vx_node *node, const vx_move_chain *c,
                        vx_tensor *const *in, int n_in, vx_tensor *out) {
    if (c->mmc_b >= n_in || !in[c->mmc_b])
        return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "fused MatMul without its inputs");
    const vx_tensor *b = in[c->mmc_b];
    chain_plan p;
    int64_t r0, r1, c0, c1, od[VX_MAX_DIMS + 2];
    int on;
    if (!plan_chain(&p, ctx, c, in, n_in) && in[0]->dtype == VX_FLOAT) {
        const chain_level *top = &p.lv[p.n - 1];
        if (vx_nn_matmul_rowband(ctx, top->nd, top->dims, b, &r0, &r1, &c0, &c1, &on, od) &&
            on <= VX_MAX_DIMS && chain_finite(&p, in[0])) {
            int64_t k = top->dims[top->nd - 1], n = b->dims[b->ndim - 1], w = r1 - r0;
            int64_t rows = vx_sh_numel(top->nd, top->dims) / k, ad[2] = {rows, w};
            vx_tensor a = {0};
            int rc = vx_sh_check_shape(ctx, node, on, od);
            if (!rc) rc = vx_op_alloc(ctx, out, VX_FLOAT, on, od); /* zeroed */
            if (!rc && w > 0 && c1 > c0) {
                if (vx_tensor_alloc_raw(&a, VX_FLOAT, 2, ad))
                    return vx_op_fail(ctx, node, VOX_ERR_NOMEM, "out of memory");
                p.dst = a.data;
                for (int64_t r = 0; r < rows; r++)
                    fill_run(&p, NULL, p.n - 1, r * k + r0, w, r * w);
                vx_kernels_get()->sgemm(0, 0, rows, c1 - c0, w, 1.0f, a.data, w,
                                        (const float *)b->data + r0 * n + c0, n, 0.0f,
                                        (float *)out->data + c0, n);
                vx_tensor_release(&a);
            }
            return rc;
        }
    }
    vx_tensor av = {0};
    int rc = run_chain(ctx, node, c, in, n_in, &av, NULL);
    if (rc) return rc;
    vx_tensor *mm_in[2] = {&av, (vx_tensor *)b};
    vx_op_ctx sub = *ctx;
    sub.prep = NULL;
    sub.inplace = sub.dying = 0;
    rc = c->mmc_def->fn(&sub, c->mmc, mm_in, 2, out, 1);
    vx_tensor_release(&av);
    return rc;
}

static int op_move_chain(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                         vx_tensor *out, int n_out) {
    const vx_move_chain *c = ctx->prep ? ctx->prep->chain : NULL;
    if (!c || n_in < 1 || !in[0] || n_out < 1)
        return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "fused chain without its plan");
    if (c->mm) return matmul_chain(ctx, node, c, in, n_in, out);
    if (c->mmc) return chain_matmul(ctx, node, c, in, n_in, out);
    return run_chain(ctx, node, c, in, n_in, out, NULL);
}

const vx_op_def vx_move_chain_def = {"MoveChain", op_move_chain, 1};

/* ------------------------------------------------------------ index maps (nn_attn.c) */

struct vx_chain_map {
    chain_plan p;
};

vx_chain_map *vx_chain_map_new(const vx_op_ctx *ctx, const vx_move_chain *c, vx_tensor *const *in,
                               int n_in, int nd, const int64_t *dims, int64_t *out_dims,
                               int *out_nd) {
    static const float dummy; /* the plan's input: only its shape is read in map mode */
    vx_tensor x = {0};
    if (nd < 1 || nd > VX_MAX_DIMS || vx_tensor_set_shape(&x, nd, dims) || n_in < 1) return NULL;
    x.dtype = VX_FLOAT;
    x.data = (void *)&dummy;
    vx_tensor *args[1 + VX_CHAIN_MAX * 5];
    if (n_in > (int)(sizeof args / sizeof *args)) return NULL;
    memcpy(args, in, (size_t)n_in * sizeof *args);
    args[0] = &x;
    vx_chain_map *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    int ok = !plan_chain(&m->p, ctx, c, args, n_in);
    for (int i = 0; ok && i < m->p.n; i++) {
        static const unsigned char zero[sizeof m->p.lv[i].cval];
        if (m->p.lv[i].kind == LV_PAD && memcmp(m->p.lv[i].cval, zero, sizeof zero)) ok = 0;
    }
    if (!ok) {
        free(m);
        return NULL;
    }
    const chain_level *top = &m->p.lv[m->p.n - 1];
    *out_nd = top->nd;
    memcpy(out_dims, top->dims, sizeof(int64_t) * (size_t)top->nd);
    m->p.x = NULL;
    return m;
}

void vx_chain_map_free(vx_chain_map *m) { free(m); }

int64_t vx_chain_map_runs(const vx_chain_map *m, int64_t f, int64_t n, vx_chain_run *runs,
                          int64_t cap) {
    chain_runs rs = {runs, 0, cap};
    fill_run(&m->p, &rs, m->p.n - 1, f, n, 0);
    return rs.n > cap ? -1 : rs.n;
}

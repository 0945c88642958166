/* WaveNet's gate as one step (engine/fuse_gate.c finds it; vx_gate_plan in op.h):
 *
 *   a = Add(x, g)   out = Mul(Tanh(Slice(a, channels [0, C))), Sigmoid(Slice(a, [C, 2C))))
 *
 * fused_add_tanh_sigmoid_multiply of the VITS flows (16 per sentence in a medium voice).
 * Unfused, each of its five nodes writes a tensor of its own (and a single-speaker g is a
 * ConstantOfShape of zeros made for the purpose); fused, one pass over each channel pair
 * writes only the output [N, C, T]. Same bits as the nodes: the Add's float addition in
 * its operand order, the Tanh and Sigmoid operators' own kernel-table entries (their
 * results do not depend on where an element sits in a call: tests/engine/test_gate.c),
 * then the Mul's product in its operand order. */
#include "kernels/kernels.h"
#include "ops/ew_ops.h"
#include "ops/op.h"
#include "util/tpool.h"
#include "vox.h"
#include <stdatomic.h>
#include <string.h>

static atomic_long fast_runs;
long vx_gate_fast_runs(void) { return atomic_load(&fast_runs); }

/* Elements of a row done at a time: the tanh/sigmoid entries' own block (simd_ew.h). */
#define GATE_BLOCK 512

typedef struct gate_job {
    const vx_kernels *k;
    const float *x; /* [n, 2c, inner] */
    const float *z; /* the Add's other operand (see zn/zc/zin), or NULL: no Add */
    int64_t c, inner;
    int64_t zn, zc; /* z's offset per batch and per channel (0 = broadcast) */
    int64_t zin;    /* 1: z varies along the row, 0: one value per row */
    int x_first, tanh_first;
    float *o; /* [n, c, inner] */
} gate_job;

/* d = x + z (x_first) or z + x: the Add node's operation, in its operand order. */
static void gate_add(float *restrict d, const float *x, const float *z, int64_t zin, int64_t m,
                     int x_first) {
    if (zin && x_first)
        for (int64_t i = 0; i < m; i++) d[i] = x[i] + z[i];
    else if (zin)
        for (int64_t i = 0; i < m; i++) d[i] = z[i] + x[i];
    else if (x_first)
        for (int64_t i = 0; i < m; i++) d[i] = x[i] + z[0];
    else
        for (int64_t i = 0; i < m; i++) d[i] = z[0] + x[i];
}

/* Output rows [b, e) (row r = batch r / c, channel r % c). */
static void gate_task(void *arg, int64_t b, int64_t e) {
    const gate_job *j = arg;
    float bt[GATE_BLOCK], bs[GATE_BLOCK];
    for (int64_t r = b; r < e; r++) {
        int64_t n = r / j->c, ch = r - n * j->c;
        const float *xt = j->x + (n * 2 * j->c + ch) * j->inner, *xs = xt + j->c * j->inner;
        const float *zt = j->z ? j->z + n * j->zn + ch * j->zc : NULL;
        const float *zs = zt ? zt + j->c * j->zc : NULL;
        float *o = j->o + r * j->inner;
        for (int64_t i0 = 0; i0 < j->inner; i0 += GATE_BLOCK) {
            int64_t m = j->inner - i0 < GATE_BLOCK ? j->inner - i0 : GATE_BLOCK;
            const float *pt = xt + i0, *ps = xs + i0;
            if (zt) {
                gate_add(bt, pt, zt + i0 * j->zin, j->zin, m, j->x_first);
                gate_add(bs, ps, zs + i0 * j->zin, j->zin, m, j->x_first);
                pt = bt;
                ps = bs;
            }
            j->k->tanh_f32(pt, bt, m); /* in place is fine for these entries */
            j->k->sigmoid_f32(ps, bs, m);
            if (j->tanh_first)
                for (int64_t i = 0; i < m; i++) o[i0 + i] = bt[i] * bs[i];
            else
                for (int64_t i = 0; i < m; i++) o[i0 + i] = bs[i] * bt[i];
        }
    }
}

/* x [n, 2c, inner...] float, split into halves along axis 1 by both Slices; the
 * elements after the channel axis in j->inner. */
static int gate_x_fits(const vx_gate_plan *p, const vx_tensor *x, gate_job *j) {
    if (!x || x->dtype != VX_FLOAT || x->ndim < 2 || x->dims[1] != 2 * p->c) return 0;
    for (int i = 0; i < 2; i++) {
        int64_t ax = p->sl[i][2] < 0 ? p->sl[i][2] + x->ndim : p->sl[i][2];
        if (ax != 1) return 0;
    }
    j->inner = 1;
    for (int d = 2; d < x->ndim; d++) j->inner *= x->dims[d];
    return 1;
}

/* z adds into x without changing x's shape, by whole rows or one value per row: each
 * axis (right-aligned) equal to x's or 1, the axes after the channel axis all equal or
 * all 1. Sets the job's z strides. */
static int gate_z_fits(const vx_tensor *x, const vx_tensor *z, gate_job *j) {
    if (!z || z->dtype != VX_FLOAT || z->ndim > x->ndim) return 0;
    int64_t zd[VX_MAX_DIMS];
    int lead = x->ndim - z->ndim, eq = 1, ones = 1;
    for (int d = 0; d < x->ndim; d++) zd[d] = d < lead ? 1 : z->dims[d - lead];
    for (int d = 0; d < x->ndim; d++)
        if (zd[d] != x->dims[d] && zd[d] != 1) return 0;
    for (int d = 2; d < x->ndim; d++) {
        eq &= zd[d] == x->dims[d];
        ones &= zd[d] == 1;
    }
    if (!eq && !ones) return 0;
    int64_t row = eq ? j->inner : 1;
    j->zin = eq;
    j->zc = zd[1] == 1 ? 0 : row;
    j->zn = zd[0] == 1 ? 0 : zd[1] * row;
    j->z = z->data;
    return 1;
}

/* The nodes one after the other, as they were (temporaries released). */
static int gate_nodes(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                      vx_tensor *out) {
    const vx_gate_plan *p = ctx->prep->gate;
    vx_op_ctx c2 = *ctx;
    c2.prep = NULL;
    c2.inplace = 0;
    c2.dying = 0;
    vx_tensor a = {0}, zero = {0}, sl[2] = {{0}}, f[2] = {{0}};
    vx_tensor *av = in[0];
    int rc = 0;
    if (p->add) {
        vx_tensor *ain[2] = {in[0], n_in > 1 ? in[1] : NULL};
        if (p->zero_add) { /* ConstantOfShape(Shape(x)): zval broadcast over x's shape */
            zero.dtype = VX_FLOAT;
            vx_tensor_set_shape(&zero, 0, NULL);
            zero.data = (void *)&p->zval;
            ain[0] = p->x_first ? in[0] : &zero;
            ain[1] = p->x_first ? &zero : in[0];
        }
        rc = p->add_def->fn(&c2, p->add, ain, 2, &a, 1);
        av = &a;
    }
    for (int i = 0; i < 2 && !rc; i++) {
        int64_t one = 1;
        vx_tensor args[4];
        vx_tensor *sin[5] = {av};
        for (int q = 0; q < 4; q++) {
            memset(&args[q], 0, sizeof args[q]);
            args[q].dtype = VX_INT64;
            vx_tensor_set_shape(&args[q], 1, &one);
            args[q].data = (void *)&p->sl[i][q];
            sin[1 + q] = &args[q];
        }
        rc = p->slice_def[i]->fn(&c2, p->slice[i], sin, p->sl_steps[i] ? 5 : 4, &sl[i], 1);
        vx_tensor *fin[1] = {&sl[i]};
        if (!rc)
            rc = i ? p->sigm_def->fn(&c2, p->sigm, fin, 1, &f[1], 1)
                   : p->tanh_def->fn(&c2, p->tanh, fin, 1, &f[0], 1);
    }
    if (!rc) {
        vx_tensor *min[2] = {p->tanh_first ? &f[0] : &f[1], p->tanh_first ? &f[1] : &f[0]};
        rc = p->mul_def->fn(&c2, node, min, 2, out, 1);
    }
    for (int i = 0; i < 2; i++) {
        vx_tensor_release(&f[i]);
        vx_tensor_release(&sl[i]);
    }
    vx_tensor_release(&a);
    return rc;
}

static int op_gate(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                   vx_tensor *out, int n_out) {
    const vx_gate_plan *p = ctx->prep ? ctx->prep->gate : NULL;
    if (!p || n_in < 1 || n_in > 2 || n_out != 1 || !in[0] || (n_in == 2 && !p->add) ||
        (p->add && !p->zero_add && (n_in != 2 || !in[1])))
        return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "fused gate without its nodes");
    gate_job j = {.k = vx_kernels_get(), .c = p->c, .x_first = 1, .tanh_first = p->tanh_first};
    const vx_tensor *x = in[0];
    int fits;
    if (!p->add) {
        fits = gate_x_fits(p, x, &j);
    } else if (p->zero_add) {
        fits = gate_x_fits(p, x, &j);
        /* still added, in registers: x + (+0) makes x's -0s +0, and the scalar table's
         * tanh keeps a -0's sign (the output's bits would differ there) */
        j.z = &p->zval;
        j.x_first = p->x_first;
    } else { /* which operand is x (g broadcasts into it) */
        fits = 0;
        for (int s = 0; s < 2 && !fits; s++) {
            x = in[s];
            j.x_first = s == 0;
            fits = gate_x_fits(p, x, &j) && gate_z_fits(x, in[1 - s], &j);
        }
    }
    if (!fits) return gate_nodes(ctx, node, in, n_in, out);
    atomic_fetch_add(&fast_runs, 1);
    int64_t od[VX_MAX_DIMS];
    memcpy(od, x->dims, sizeof od);
    od[1] = p->c;
    int rc = vx_op_alloc_raw(ctx, out, VX_FLOAT, x->ndim, od); /* every element written */
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    if (!x->numel) return 0;
    j.x = x->data;
    j.o = out->data;
    int64_t rows = x->dims[0] * p->c, chunks;
    vx_ew_par_chunks(ctx->pool, x->numel, &chunks); /* as the Tanh over the same elements */
    if (chunks > 1)
        vx_tpool_for_chunks(ctx->pool, rows, chunks, gate_task, &j);
    else
        gate_task(&j, 0, rows);
    return 0;
}
const vx_op_def vx_gate_def = {"Gate", op_gate, 1};

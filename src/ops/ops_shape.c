/* Shape kernels: the op table, plus the ops that only compute a shape (Constant, Shape,
 * Size) or relabel one (Reshape, Flatten, Squeeze, Unsqueeze). The data-moving ops live
 * in shape_move.c, the indexing ops in shape_index.c, generators in shape_gen.c. */
#include "ops/shape_internal.h"

/* Output with x's data under a new shape: a non-owned view of x (Reshape, Flatten,
 * Squeeze, Unsqueeze). The executor's lifetime rule (engine/graph.h) keeps it safe: the
 * view takes x's buffer over when x dies here, else it is copied. Measured: the copies
 * were 2.7 + 2.7 ms per run of the medium voice's front at 2,157 ids on 2 threads. */
static int relabel(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *x, vx_tensor *out, int nd,
                   const int64_t *dims) {
    vx_tensor_view(out, x);
    if (vx_tensor_set_shape(out, nd, dims))
        return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "bad relabelled shape");
    return 0;
}

/* ------------------------------------------------------------------ Constant */

static int const_from(vx_op_ctx *ctx, const vx_node *node, vx_tensor *out, int dtype, int nd,
                      int64_t n, const void *src) {
    int64_t dims[1] = {n};
    int rc = vx_sh_alloc(ctx, node, out, dtype, nd, dims);
    if (rc) return rc;
    vx_sh_copy(out->data, src, (size_t)n * vx_dtype_size(dtype));
    return 0;
}

int vx_op_constant(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                   vx_tensor *out, int n_out) {
    const vx_attr *a;
    if (n_out < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs one output");
    if (vx_node_attr(node, "sparse_value"))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "sparse_value is not supported");
    if (vx_node_attr(node, "value_string") || vx_node_attr(node, "value_strings"))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "string constants are not supported");
    if ((a = vx_node_attr(node, "value"))) {
        const vx_tensor *t = a->t;
        if (a->type != VX_ATTR_TENSOR || !t)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "attribute 'value' is not a tensor");
        if (!vx_dtype_size(t->dtype))
            return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "value has unsupported dtype %s",
                              vx_dtype_name(t->dtype));
        if (t->numel > 0 && !t->data)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "value tensor has no data");
        int rc = vx_sh_alloc(ctx, node, out, t->dtype, t->ndim, t->dims);
        if (rc) return rc;
        vx_sh_copy(out->data, t->data, vx_tensor_bytes(t));
        return 0;
    }
    if ((a = vx_node_attr(node, "value_float"))) {
        float f = vx_attr_float(node, "value_float", 0);
        return const_from(ctx, node, out, VX_FLOAT, 0, 1, &f);
    }
    if ((a = vx_node_attr(node, "value_floats"))) {
        if (a->type != VX_ATTR_FLOATS || a->n < 0)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "value_floats is not a float list");
        return const_from(ctx, node, out, VX_FLOAT, 1, a->n, a->floats);
    }
    if ((a = vx_node_attr(node, "value_int"))) {
        if (a->type != VX_ATTR_INT)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "value_int is not an int");
        return const_from(ctx, node, out, VX_INT64, 0, 1, &a->i);
    }
    if ((a = vx_node_attr(node, "value_ints"))) {
        if (a->type != VX_ATTR_INTS || a->n < 0)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "value_ints is not an int list");
        return const_from(ctx, node, out, VX_INT64, 1, a->n, a->ints);
    }
    return vx_op_fail(ctx, node, VOX_ERR_MODEL, "no value attribute");
}

/* ------------------------------------------------------------------ Shape, Size */

/* Writes dims[start:end] (Shape's attributes) as an int64 list. */
static int shape_out(vx_op_ctx *ctx, const vx_node *node, int rank, const int64_t *dims,
                     vx_tensor *out) {
    /* start/end (opset 15): negative counts from the back; both clamp to [0, rank]. */
    int64_t r = rank;
    int64_t s = vx_attr_int(node, "start", 0), e = vx_attr_int(node, "end", r);
    if (s < 0) s += r;
    if (e < 0) e += r;
    s = s < 0 ? 0 : s > r ? r : s;
    e = e < 0 ? 0 : e > r ? r : e;
    int64_t n = e > s ? e - s : 0;
    int rc = vx_sh_alloc(ctx, node, out, VX_INT64, 1, &n);
    if (rc) return rc;
    for (int64_t i = 0; i < n; i++) ((int64_t *)out->data)[i] = dims[s + i];
    return 0;
}

static int op_shape(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                    vx_tensor *out, int n_out) {
    const vx_tensor *x;
    int rc = vx_sh_req(ctx, node, in, n_in, 0, &x);
    if (rc) return rc;
    return shape_out(ctx, node, x->ndim, x->dims, out);
}

/* Shape of an elementwise binary op's output, from the op's two inputs (engine/fuse_path.c
 * rewrites Shape(Mul(a, b)) into this when the Mul's output is otherwise fused away):
 * the numpy broadcast of their shapes, which is what the op would have produced. */
static int op_shape_bcast(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                          vx_tensor *out, int n_out) {
    const vx_tensor *a, *b;
    int rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &a)) || (rc = vx_sh_req(ctx, node, in, n_in, 1, &b)))
        return rc;
    int r = a->ndim > b->ndim ? a->ndim : b->ndim;
    int64_t d[VX_MAX_DIMS];
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->ndim), ib = i - (r - b->ndim);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                              "the shaped op's inputs do not broadcast (%lld vs %lld)",
                              (long long)da, (long long)db);
        d[i] = da == 1 ? db : da;
    }
    return shape_out(ctx, node, r, d, out);
}

const vx_op_def vx_shape_bcast_def = {"ShapeOfBroadcast", op_shape_bcast, 1};

/* Shape of a MatMul's output from its inputs A and B (engine/fuse.c rewrites Shape(MatMul)
 * into this when the MatMul is fused into the chain reading it): numpy matmul rules. */
static int op_shape_matmul(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                           vx_tensor *out, int n_out) {
    const vx_tensor *a, *b;
    int rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &a)) || (rc = vx_sh_req(ctx, node, in, n_in, 1, &b)))
        return rc;
    if (a->ndim < 1 || b->ndim < 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "the MatMul's inputs must have rank >= 1");
    int64_t k = a->dims[a->ndim - 1], kb = b->ndim == 1 ? b->dims[0] : b->dims[b->ndim - 2];
    if (k != kb)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "the MatMul's inner dimensions differ");
    int ba = a->ndim > 2 ? a->ndim - 2 : 0, bb = b->ndim > 2 ? b->ndim - 2 : 0;
    int nb = ba > bb ? ba : bb, on = 0;
    int64_t d[VX_MAX_DIMS + 2];
    for (int i = 0; i < nb; i++) {
        int ia = i - (nb - ba), ib = i - (nb - bb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "the MatMul's batches do not broadcast");
        d[on++] = da == 0 || db == 0 ? 0 : da > db ? da : db;
    }
    if (a->ndim > 1) d[on++] = a->dims[a->ndim - 2];
    if (b->ndim > 1) d[on++] = b->dims[b->ndim - 1];
    if (on > VX_MAX_DIMS) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "rank too large");
    return shape_out(ctx, node, on, d, out);
}

const vx_op_def vx_shape_matmul_def = {"ShapeOfMatMul", op_shape_matmul, 1};

static int op_size(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                   vx_tensor *out, int n_out) {
    const vx_tensor *x;
    int rc = vx_sh_req(ctx, node, in, n_in, 0, &x);
    if (rc || (rc = vx_sh_alloc(ctx, node, out, VX_INT64, 0, NULL))) return rc;
    *(int64_t *)out->data = x->numel;
    return 0;
}

/* ------------------------------------------------------------------ Reshape */

static int op_reshape(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                      vx_tensor *out, int n_out) {
    const vx_tensor *x, *st;
    int64_t dims[VX_MAX_DIMS];
    int nd, rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 1, &st)) ||
        (rc = vx_sh_ints(ctx, node, st, "shape", dims, VX_MAX_DIMS, &nd)))
        return rc;
    int allowzero = (int)vx_attr_int(node, "allowzero", 0);
    int infer = -1, has_zero = 0;
    int64_t known = 1; /* product of the dims other than the -1 (kept <= VX_MAX_ELEMS) */
    for (int i = 0; i < nd; i++) {
        if (dims[i] == -1) {
            if (infer >= 0)
                return vx_op_fail(ctx, node, VOX_ERR_MODEL, "shape has more than one -1");
            infer = i;
            continue;
        }
        if (dims[i] < -1)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "invalid shape value %lld",
                              (long long)dims[i]);
        if (dims[i] == 0 && !allowzero) {
            if (i >= x->ndim)
                return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                                  "shape[%d] = 0 copies a dim the input (rank %d) lacks", i,
                                  x->ndim);
            dims[i] = x->dims[i];
        }
        if (dims[i] == 0) has_zero = 1;
        if (dims[i] > VX_MAX_ELEMS || (dims[i] && known > VX_MAX_ELEMS / dims[i]))
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "shape too large");
        known *= dims[i];
    }
    if (infer >= 0) {
        if (has_zero) /* with allowzero, 0 and -1 together are invalid; else ambiguous */
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "cannot infer -1 next to a zero dim");
        if (x->numel % known)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                              "cannot reshape %lld elements with -1 (rest %lld)",
                              (long long)x->numel, (long long)known);
        dims[infer] = x->numel / known;
        known *= dims[infer];
    }
    if (known != x->numel) {
        char a[200], b[200];
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "cannot reshape %s to %s",
                          vx_sh_str(a, sizeof a, x->ndim, x->dims),
                          vx_sh_str(b, sizeof b, nd, dims));
    }
    return relabel(ctx, node, x, out, nd, dims);
}

/* ------------------------------------------------------------------ Flatten */

static int op_flatten(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                      vx_tensor *out, int n_out) {
    const vx_tensor *x;
    int rc = vx_sh_req(ctx, node, in, n_in, 0, &x);
    if (rc) return rc;
    int64_t axis = vx_attr_int(node, "axis", 1);
    if (axis < -(int64_t)x->ndim || axis > x->ndim)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "axis %lld out of range for rank %d",
                          (long long)axis, x->ndim);
    if (axis < 0) axis += x->ndim;
    int64_t dims[2] = {1, 1};
    for (int i = 0; i < x->ndim; i++) dims[i < axis ? 0 : 1] *= x->dims[i];
    return relabel(ctx, node, x, out, 2, dims);
}

/* ------------------------------------------------------------------ Squeeze, Unsqueeze */

/* Axes from input 1 (opset >= 13) or the "axes" attribute (before 13). *n = -1 if none. */
static int get_axes(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                    int64_t *axes, int max, int *n) {
    const vx_tensor *t = vx_sh_opt(in, n_in, 1);
    if (t) return vx_sh_ints(ctx, node, t, "axes", axes, max, n);
    const int64_t *v;
    int64_t k = vx_attr_ints(node, "axes", &v);
    if (k < 0) {
        *n = -1;
        return 0;
    }
    if (k > max) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "too many axes (%lld)", (long long)k);
    for (int64_t i = 0; i < k; i++) axes[i] = v[i];
    *n = (int)k;
    return 0;
}

static int op_squeeze(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                      vx_tensor *out, int n_out) {
    const vx_tensor *x;
    int64_t axes[VX_MAX_DIMS];
    int n, rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x)) ||
        (rc = get_axes(ctx, node, in, n_in, axes, VX_MAX_DIMS, &n)))
        return rc;
    int drop[VX_MAX_DIMS] = {0};
    if (n <= 0) { /* no (or empty) axes: drop every 1 */
        for (int i = 0; i < x->ndim; i++) drop[i] = x->dims[i] == 1;
    } else {
        for (int i = 0; i < n; i++) {
            int a;
            if ((rc = vx_sh_axis(ctx, node, axes[i], x->ndim, &a))) return rc;
            if (drop[a]) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "axis %d repeated", a);
            if (x->dims[a] != 1)
                return vx_op_fail(ctx, node, VOX_ERR_MODEL, "cannot squeeze axis %d of size %lld",
                                  a, (long long)x->dims[a]);
            drop[a] = 1;
        }
    }
    int64_t dims[VX_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < x->ndim; i++)
        if (!drop[i]) dims[nd++] = x->dims[i];
    return relabel(ctx, node, x, out, nd, dims);
}

static int op_unsqueeze(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                        vx_tensor *out, int n_out) {
    const vx_tensor *x;
    int64_t axes[VX_MAX_DIMS + 1];
    int n, rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x)) ||
        (rc = get_axes(ctx, node, in, n_in, axes, VX_MAX_DIMS + 1, &n)))
        return rc;
    if (n < 0) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "axes are required");
    int r = x->ndim + n;
    if (r > VX_MAX_DIMS)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "output rank %d exceeds limit %d", r,
                          VX_MAX_DIMS);
    int ins[VX_MAX_DIMS] = {0};
    for (int i = 0; i < n; i++) {
        int a;
        if ((rc = vx_sh_axis(ctx, node, axes[i], r, &a))) return rc;
        if (ins[a]) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "axis %d repeated", a);
        ins[a] = 1;
    }
    int64_t dims[VX_MAX_DIMS];
    for (int i = 0, j = 0; i < r; i++) dims[i] = ins[i] ? 1 : x->dims[j++];
    return relabel(ctx, node, x, out, r, dims);
}

/* ------------------------------------------------------------------ table */

const vx_op_def vx_ops_shape[] = {
    {"Constant", vx_op_constant, 1},
    {"Shape", op_shape, 1},
    {"Size", op_size, 1},
    {"Reshape", op_reshape, 1},
    {"Flatten", op_flatten, 1},
    {"Squeeze", op_squeeze, 1},
    {"Unsqueeze", op_unsqueeze, 1},
    {"Concat", vx_op_concat, 1},
    {"Split", vx_op_split, 1},
    {"Slice", vx_op_slice, 1},
    {"Transpose", vx_op_transpose, 1},
    {"Expand", vx_op_expand, 1},
    {"Tile", vx_op_tile, 1},
    {"Pad", vx_op_pad, 1},
    {"Gather", vx_op_gather, 1},
    {"GatherElements", vx_op_gather_elements, 1},
    {"GatherND", vx_op_gather_nd, 1},
    {"ScatterND", vx_op_scatter_nd, 1},
    {"ScatterElements", vx_op_scatter_elements, 1},
    {"Scatter", vx_op_scatter_elements, 1}, /* opset <= 10 name of ScatterElements */
    {"NonZero", vx_op_nonzero, 1},
    {"OneHot", vx_op_onehot, 1},
    {"TopK", vx_op_topk, 1},
    {"ConstantOfShape", vx_op_constant_of_shape, 1},
    {"Range", vx_op_range, 1},
    {"CumSum", vx_op_cumsum, 1},
    {"Trilu", vx_op_trilu, 1},
    {"EyeLike", vx_op_eyelike, 1},
    {"RandomNormal", vx_op_random_normal, 0},
    {"RandomUniform", vx_op_random_uniform, 0},
    {"RandomNormalLike", vx_op_random_normal_like, 0},
    {"RandomUniformLike", vx_op_random_uniform_like, 0},
    {0, 0, 0},
};

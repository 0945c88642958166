/* Softmax / LogSoftmax, the Reduce* family and ArgMax / ArgMin. */
#include "ops/nn_internal.h"
#include "kernels/kernels.h"
#include "vox.h"
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ softmax */

static int softmax_common(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                          vx_tensor *out, int n_out, int logsm) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs 1 input and 1 output");
    const vx_tensor *x = in[0];
    if (x->dtype != VX_FLOAT)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "input type %s (only float)",
                          vx_dtype_name(x->dtype));
    int r = x->ndim;
    if (r < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "input must have rank >= 1");
    /* Before opset 13 the input is coerced to 2-D at axis (default 1); from 13 on the
     * op works along one axis (default -1). */
    int old = ctx->opset < 13;
    int64_t axis_attr = vx_attr_int(node, "axis", old ? 1 : -1);
    int a = vx_nn_axis(axis_attr, r);
    if (a < 0 || (!old && a >= r) || (old && a > r))
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "axis %lld out of range for rank %d",
                          (long long)axis_attr, r);
    int64_t outer = vx_nn_prod(x->dims, a), len, inner;
    if (old) {
        len = vx_nn_prod(x->dims + a, r - a);
        inner = 1;
    } else {
        len = x->dims[a];
        inner = vx_nn_prod(x->dims + a + 1, r - a - 1);
    }
    int rc = vx_op_alloc(ctx, &out[0], VX_FLOAT, r, x->dims);
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    const float *xd = x->data;
    float *yd = out[0].data;
    if (!logsm && inner == 1) { /* rows along the last axis: the kernel table's loop */
        if (outer > 0 && len > 0) vx_kernels_get()->softmax_f32(xd, yd, outer, len);
        return 0;
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *xs = xd + o * len * inner + i;
            float *ys = yd + o * len * inner + i;
            float mx = -INFINITY;
            for (int64_t l = 0; l < len; l++)
                if (xs[l * inner] > mx) mx = xs[l * inner];
            float sum = 0.0f;
            if (logsm) {
                for (int64_t l = 0; l < len; l++) sum += expf(xs[l * inner] - mx);
                float lse = logf(sum);
                for (int64_t l = 0; l < len; l++) ys[l * inner] = xs[l * inner] - mx - lse;
            } else {
                for (int64_t l = 0; l < len; l++) {
                    float e = expf(xs[l * inner] - mx);
                    ys[l * inner] = e;
                    sum += e;
                }
                float inv = 1.0f / sum;
                for (int64_t l = 0; l < len; l++) ys[l * inner] *= inv;
            }
        }
    return 0;
}

int vx_op_softmax(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                  vx_tensor *out, int n_out) {
    return softmax_common(ctx, node, in, n_in, out, n_out, 0);
}

int vx_op_logsoftmax(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                     vx_tensor *out, int n_out) {
    return softmax_common(ctx, node, in, n_in, out, n_out, 1);
}

/* --------------------------------------------------------------- reductions */

enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_SUMSQ, R_LSE };

static int reduce_kind(const char *op) {
    static const char *const names[] = {"ReduceSum", "ReduceMean",      "ReduceMax",
                                        "ReduceMin", "ReduceProd",      "ReduceL1",
                                        "ReduceL2",  "ReduceSumSquare", "ReduceLogSumExp"};
    for (int i = 0; i < 9; i++)
        if (!strcmp(op, names[i])) return i;
    return -1;
}

/* The reduction walks the input once with an odometer over "runs": adjacent axes that
 * are all reduced or all kept are merged, so the innermost loop is a contiguous stride. */
typedef struct red_plan {
    int nr; /* merged rank */
    int64_t dims[VX_MAX_DIMS];
    int64_t ostride[VX_MAX_DIMS]; /* output stride per merged axis (0 = reduced) */
} red_plan;

static void make_plan(const vx_tensor *x, const int *red, red_plan *p) {
    int64_t ostr[VX_MAX_DIMS];
    int64_t s = 1;
    for (int a = x->ndim - 1; a >= 0; a--) {
        ostr[a] = red[a] ? 0 : s;
        if (!red[a]) s *= x->dims[a];
    }
    p->nr = 0;
    for (int a = 0; a < x->ndim; a++) {
        if (x->dims[a] == 1) continue; /* size-1 axes do not matter either way */
        int n = p->nr;
        if (n > 0 && (p->ostride[n - 1] == 0) == (ostr[a] == 0) &&
            (ostr[a] == 0 || p->ostride[n - 1] == ostr[a] * x->dims[a])) {
            p->dims[n - 1] *= x->dims[a];
            p->ostride[n - 1] = ostr[a];
        } else {
            p->dims[n] = x->dims[a];
            p->ostride[n] = ostr[a];
            p->nr++;
        }
    }
    if (p->nr == 0) {
        p->nr = 1;
        p->dims[0] = 1;
        p->ostride[0] = 0;
    }
}

/* Visits every input element i in order with its output index o: body(i, o). */
#define RED_WALK(plan, numel, BODY)                                                                \
    do {                                                                                           \
        int64_t idx_[VX_MAX_DIMS] = {0}, o_ = 0;                                                   \
        int last_ = (plan)->nr - 1;                                                                \
        int64_t n_ = (plan)->dims[last_], os_ = (plan)->ostride[last_];                            \
        for (int64_t base_ = 0; base_ < (numel); base_ += n_) {                                    \
            for (int64_t j_ = 0; j_ < n_; j_++) {                                                  \
                int64_t i = base_ + j_, o = o_ + j_ * os_;                                         \
                BODY;                                                                              \
            }                                                                                      \
            for (int a_ = last_ - 1; a_ >= 0; a_--) {                                              \
                o_ += (plan)->ostride[a_];                                                         \
                if (++idx_[a_] < (plan)->dims[a_]) break;                                          \
                o_ -= (plan)->ostride[a_] * (plan)->dims[a_];                                      \
                idx_[a_] = 0;                                                                      \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Reads the axes (input 1 if given, else the "axes" attribute) into a reduce mask.
 * Returns the number of axes (0 = none given or empty), or an error. */
static int read_axes(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, int rank,
                     int *red) {
    int64_t n = 0;
    const int64_t *attr = NULL;
    const vx_tensor *t = n_in > 1 ? in[1] : NULL;
    if (t) {
        if (t->dtype != VX_INT64 || t->ndim > 1)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "axes input must be a 1-D int64 tensor");
        n = t->numel;
    } else {
        n = vx_attr_ints(node, "axes", &attr);
        if (n < 0) n = 0;
    }
    if (n > rank)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "%lld axes for rank %d", (long long)n, rank);
    for (int a = 0; a < rank; a++) red[a] = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t v = t ? ((const int64_t *)t->data)[i] : attr[i];
        int a = vx_nn_axis(v, rank);
        if (a < 0 || a >= rank)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "axis %lld out of range for rank %d",
                              (long long)v, rank);
        if (red[a]) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "axis %lld repeated", (long long)v);
        red[a] = 1;
    }
    return (int)n;
}

/* Sum of n contiguous floats in 8 double lanes. The walk's acc[o] += x[i] keeps the sum in
 * memory (a store and a reload per element: ~9 cycles each); LayerNorm's ReduceMean over
 * 192 channels at every frame of the text encoder made that 1-3% of a run. The order
 * differs from one sequential sum only by grouping, and a double holds the sum of up to
 * 2^29 floats whose exponents span <= 24 bits exactly, so the float result is the same
 * unless the values span a wider range. */
static double sum_row(const float *x, int64_t n) {
    double s[8] = {0}, t = 0.0;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int l = 0; l < 8; l++) s[l] += x[j + l];
    for (; j < n; j++) t += x[j];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + t;
}

static void reduce_float(int kind, const red_plan *p, const vx_tensor *x, int64_t cnt, double *acc,
                         float *y, int64_t on) {
    const float *xd = x->data;
    double init = kind == R_MAX ? -INFINITY : kind == R_MIN ? INFINITY : kind == R_PROD ? 1.0 : 0.0;
    for (int64_t o = 0; o < on; o++) acc[o] = init;
    int64_t row = p->dims[p->nr - 1];
    int rows_only = p->ostride[p->nr - 1] == 0 && row >= 16; /* reduced axis innermost */
    switch (kind) {
    case R_SUM:
    case R_MEAN:
        if (rows_only) {
            /* one output per row: walk rows (the first element of each) */
            red_plan q = *p;
            q.dims[q.nr - 1] = 1;
            RED_WALK(&q, x->numel / row, acc[o] += sum_row(xd + i * row, row));
        } else {
            RED_WALK(p, x->numel, acc[o] += xd[i]);
        }
        break;
    case R_MAX: RED_WALK(p, x->numel, if (xd[i] > acc[o] || isnan(xd[i])) acc[o] = xd[i]); break;
    case R_MIN: RED_WALK(p, x->numel, if (xd[i] < acc[o] || isnan(xd[i])) acc[o] = xd[i]); break;
    case R_PROD: RED_WALK(p, x->numel, acc[o] *= xd[i]); break;
    case R_L1: RED_WALK(p, x->numel, acc[o] += fabs((double)xd[i])); break;
    case R_L2:
    case R_SUMSQ: RED_WALK(p, x->numel, acc[o] += (double)xd[i] * xd[i]); break;
    case R_LSE: {
        /* max first, so exp never overflows */
        double *mx = malloc((size_t)(on + 1) * sizeof *mx);
        if (!mx) {
            for (int64_t o = 0; o < on; o++) acc[o] = NAN;
            break;
        }
        for (int64_t o = 0; o < on; o++) mx[o] = -INFINITY;
        RED_WALK(p, x->numel, if (xd[i] > mx[o]) mx[o] = xd[i]);
        RED_WALK(p, x->numel, acc[o] += isinf(mx[o]) ? 0.0 : exp(xd[i] - mx[o]));
        for (int64_t o = 0; o < on; o++) acc[o] = isinf(mx[o]) ? mx[o] : mx[o] + log(acc[o]);
        free(mx);
        break;
    }
    }
    for (int64_t o = 0; o < on; o++) {
        double v = acc[o];
        if (kind == R_MEAN)
            v = cnt ? v / (double)cnt : NAN;
        else if (kind == R_L2)
            v = sqrt(v);
        y[o] = (float)v;
    }
}

static void reduce_int64(int kind, const red_plan *p, const vx_tensor *x, int64_t cnt, int64_t *y,
                         int64_t on) {
    const int64_t *xd = x->data;
    int64_t init = kind == R_MAX ? INT64_MIN : kind == R_MIN ? INT64_MAX : kind == R_PROD ? 1 : 0;
    for (int64_t o = 0; o < on; o++) y[o] = init;
    /* unsigned arithmetic: overflow wraps like onnxruntime instead of being UB */
    switch (kind) {
    case R_SUM:
    case R_MEAN: RED_WALK(p, x->numel, y[o] = (int64_t)((uint64_t)y[o] + (uint64_t)xd[i])); break;
    case R_MAX: RED_WALK(p, x->numel, if (xd[i] > y[o]) y[o] = xd[i]); break;
    case R_MIN: RED_WALK(p, x->numel, if (xd[i] < y[o]) y[o] = xd[i]); break;
    case R_PROD: RED_WALK(p, x->numel, y[o] = (int64_t)((uint64_t)y[o] * (uint64_t)xd[i])); break;
    default: break;
    }
    if (kind == R_MEAN && cnt)
        for (int64_t o = 0; o < on; o++) y[o] /= cnt;
}

int vx_op_reduce(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                 vx_tensor *out, int n_out) {
    int kind = reduce_kind(node->op_type);
    if (kind < 0) return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "not a reduction");
    if (n_in < 1 || !in[0] || n_out < 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs an input and an output");
    const vx_tensor *x = in[0];
    int is_int = x->dtype == VX_INT64;
    if (x->dtype != VX_FLOAT && !(is_int && (kind == R_SUM || kind == R_MAX || kind == R_MIN ||
                                             kind == R_PROD || kind == R_MEAN)))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "input type %s not supported",
                          vx_dtype_name(x->dtype));
    int r = x->ndim, red[VX_MAX_DIMS];
    int nax = read_axes(ctx, node, in, n_in, r, red);
    if (nax < 0) return nax;
    int keep = vx_attr_int(node, "keepdims", 1) != 0;
    if (nax == 0) {
        if (vx_attr_int(node, "noop_with_empty_axes", 0)) {
            int rc = vx_op_alloc(ctx, &out[0], x->dtype, r, x->dims);
            if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
            if (x->numel) memcpy(out[0].data, x->data, vx_tensor_bytes(x));
            return 0;
        }
        for (int a = 0; a < r; a++) red[a] = 1;
    }
    int64_t od[VX_MAX_DIMS], cnt = 1;
    int on = 0;
    for (int a = 0; a < r; a++) {
        if (red[a]) {
            cnt *= x->dims[a];
            if (keep) od[on++] = 1;
        } else {
            od[on++] = x->dims[a];
        }
    }
    /* An empty reduced set gives the identity: 0, 1, -inf/+inf (ONNX reference). */
    int rc = vx_op_alloc(ctx, &out[0], x->dtype, on, od);
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    int64_t onum = out[0].numel;
    red_plan plan;
    make_plan(x, red, &plan);
    if (is_int) {
        reduce_int64(kind, &plan, x, cnt, out[0].data, onum);
        return 0;
    }
    double *acc = malloc((size_t)(onum ? onum : 1) * sizeof *acc);
    if (!acc) return vx_op_fail(ctx, node, VOX_ERR_NOMEM, "out of memory");
    reduce_float(kind, &plan, x, cnt, acc, out[0].data, onum);
    free(acc);
    return 0;
}

/* ---------------------------------------------------------------- arg max/min */

static int arg_common(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                      vx_tensor *out, int n_out, int want_max) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs an input and an output");
    const vx_tensor *x = in[0];
    if (x->dtype != VX_FLOAT && x->dtype != VX_INT64 && x->dtype != VX_INT32)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "input type %s not supported",
                          vx_dtype_name(x->dtype));
    int r = x->ndim;
    int64_t axis_attr = vx_attr_int(node, "axis", 0);
    int a = vx_nn_axis(axis_attr, r);
    if (r < 1 || a < 0 || a >= r)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "axis %lld out of range for rank %d",
                          (long long)axis_attr, r);
    if (x->dims[a] == 0) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "reduced axis is empty");
    int keep = vx_attr_int(node, "keepdims", 1) != 0;
    int last = vx_attr_int(node, "select_last_index", 0) != 0;
    int64_t od[VX_MAX_DIMS];
    int on = 0;
    for (int i = 0; i < r; i++) {
        if (i != a)
            od[on++] = x->dims[i];
        else if (keep)
            od[on++] = 1;
    }
    int rc = vx_op_alloc(ctx, &out[0], VX_INT64, on, od);
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    int64_t outer = vx_nn_prod(x->dims, a), len = x->dims[a],
            inner = vx_nn_prod(x->dims + a + 1, r - a - 1);
    int64_t *y = out[0].data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * len * inner + i, best = 0;
            double bv = vx_tensor_get_f64(x, base);
            if (x->dtype == VX_INT64) bv = 0; /* compared exactly below */
            for (int64_t l = 1; l < len; l++) {
                int better, equal;
                if (x->dtype == VX_INT64) {
                    int64_t v = ((const int64_t *)x->data)[base + l * inner];
                    int64_t b = ((const int64_t *)x->data)[base + best * inner];
                    better = want_max ? v > b : v < b;
                    equal = v == b;
                } else {
                    double v = vx_tensor_get_f64(x, base + l * inner);
                    better = want_max ? v > bv : v < bv;
                    equal = v == bv;
                }
                if (better || (last && equal)) {
                    best = l;
                    if (x->dtype != VX_INT64) bv = vx_tensor_get_f64(x, base + l * inner);
                }
            }
            y[o * inner + i] = best;
        }
    return 0;
}

int vx_op_argmax(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                 vx_tensor *out, int n_out) {
    return arg_common(ctx, node, in, n_in, out, n_out, 1);
}

int vx_op_argmin(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                 vx_tensor *out, int n_out) {
    return arg_common(ctx, node, in, n_in, out, n_out, 0);
}

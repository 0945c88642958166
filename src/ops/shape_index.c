/* Indexing kernels: Gather, GatherElements, GatherND, ScatterND, ScatterElements,
 * NonZero, OneHot, TopK. Every index is normalised (negative counts from the end) and
 * bounds-checked before it is used; an out-of-range index is an error naming it. */
#include "ops/shape_internal.h"
#include <math.h>
#include <stdlib.h>

static int bad_index(vx_op_ctx *ctx, const vx_node *node, int64_t v, int64_t dim) {
    return vx_op_fail(ctx, node, VOX_ERR_ARG, "index %lld out of range for axis of size %lld",
                      (long long)v, (long long)dim);
}

static int need_index(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *t) {
    if (!vx_sh_is_index(t->dtype))
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "indices must be int64 or int32, got %s",
                          vx_dtype_name(t->dtype));
    return 0;
}

/* ------------------------------------------------------------------ Gather */

int vx_op_gather(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                 vx_tensor *out, int n_out) {
    const vx_tensor *x, *ix;
    int rc, a;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 1, &ix)) || (rc = need_index(ctx, node, ix)) ||
        (rc = vx_sh_axis(ctx, node, vx_attr_int(node, "axis", 0), x->ndim, &a)))
        return rc;
    int r = x->ndim, q = ix->ndim, nd = r - 1 + q;
    if (nd > VX_MAX_DIMS)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "output rank %d exceeds limit", nd);
    int64_t d = x->dims[a], n = ix->numel;
    for (int64_t k = 0; k < n; k++)
        if (vx_sh_norm_index(vx_sh_idx(ix, k), d) < 0)
            return bad_index(ctx, node, vx_sh_idx(ix, k), d);
    int64_t dims[VX_MAX_DIMS];
    int j = 0;
    for (int i = 0; i < a; i++) dims[j++] = x->dims[i];
    for (int i = 0; i < q; i++) dims[j++] = ix->dims[i];
    for (int i = a + 1; i < r; i++) dims[j++] = x->dims[i];
    if ((rc = vx_sh_alloc(ctx, node, out, x->dtype, nd, dims))) return rc;
    if (!out->numel) return 0;
    size_t es = vx_dtype_size(x->dtype);
    int64_t outer = vx_sh_numel(a, x->dims), inner = vx_sh_numel(r - a - 1, x->dims + a + 1);
    const char *xs = x->data;
    char *o = out->data;
    size_t run = (size_t)inner * es;
    for (int64_t b = 0; b < outer; b++)
        for (int64_t k = 0; k < n; k++, o += run) {
            int64_t v = vx_sh_norm_index(vx_sh_idx(ix, k), d);
            memcpy(o, xs + ((b * d + v) * inner) * (int64_t)es, run);
        }
    return 0;
}

/* ------------------------------------------------------------------ GatherElements */

/* Checks for the *Elements ops: same rank, index dims within data dims off the axis. */
static int elements_shape(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *x,
                          const vx_tensor *ix, int a) {
    if (ix->ndim != x->ndim)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "indices rank %d differs from data rank %d",
                          ix->ndim, x->ndim);
    for (int i = 0; i < x->ndim; i++)
        if (i != a && ix->dims[i] > x->dims[i])
            return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                              "indices dim %d (%lld) exceeds data dim (%lld)", i,
                              (long long)ix->dims[i], (long long)x->dims[i]);
    return 0;
}

int vx_op_gather_elements(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                          vx_tensor *out, int n_out) {
    const vx_tensor *x, *ix;
    int rc, a;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 1, &ix)) || (rc = need_index(ctx, node, ix)) ||
        (rc = vx_sh_axis(ctx, node, vx_attr_int(node, "axis", 0), x->ndim, &a)) ||
        (rc = elements_shape(ctx, node, x, ix, a)))
        return rc;
    int64_t d = x->dims[a];
    for (int64_t k = 0; k < ix->numel; k++)
        if (vx_sh_norm_index(vx_sh_idx(ix, k), d) < 0)
            return bad_index(ctx, node, vx_sh_idx(ix, k), d);
    if ((rc = vx_sh_alloc(ctx, node, out, x->dtype, ix->ndim, ix->dims))) return rc;
    if (!out->numel) return 0;
    size_t es = vx_dtype_size(x->dtype);
    int64_t xstr[VX_MAX_DIMS], idx[VX_MAX_DIMS] = {0}, base = 0;
    int r = x->ndim;
    vx_sh_strides(r, x->dims, xstr);
    for (int64_t k = 0; k < ix->numel; k++) {
        int64_t v = vx_sh_norm_index(vx_sh_idx(ix, k), d);
        memcpy((char *)out->data + k * (int64_t)es,
               (const char *)x->data + (base + v * xstr[a]) * (int64_t)es, es);
        for (int i = r - 1; i >= 0; i--) { /* odometer over indices, base skips axis a */
            if (i != a) base += xstr[i];
            if (++idx[i] < ix->dims[i]) break;
            if (i != a) base -= xstr[i] * ix->dims[i];
            idx[i] = 0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ GatherND */

int vx_op_gather_nd(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                    vx_tensor *out, int n_out) {
    const vx_tensor *x, *ix;
    int rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 1, &ix)) || (rc = need_index(ctx, node, ix)))
        return rc;
    int r = x->ndim, q = ix->ndim;
    int64_t b = vx_attr_int(node, "batch_dims", 0);
    if (q < 1 || r < 1 || b < 0 || b >= q || b >= r)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "bad ranks (data %d, indices %d, batch %lld)",
                          r, q, (long long)b);
    int64_t k = ix->dims[q - 1];
    if (k < 1 || k > r - b)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "indices last dim %lld not in [1, %lld]",
                          (long long)k, (long long)(r - b));
    for (int i = 0; i < b; i++)
        if (ix->dims[i] != x->dims[i])
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "batch dim %d differs", i);
    int nd = q - 1 + r - (int)(b + k);
    if (nd > VX_MAX_DIMS)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "output rank %d exceeds limit", nd);
    int64_t dims[VX_MAX_DIMS], xstr[VX_MAX_DIMS];
    int j = 0;
    for (int i = 0; i < q - 1; i++) dims[j++] = ix->dims[i];
    for (int i = (int)(b + k); i < r; i++) dims[j++] = x->dims[i];
    vx_sh_strides(r, x->dims, xstr);
    int64_t B = vx_sh_numel((int)b, x->dims), N = vx_sh_numel(q - 1 - (int)b, ix->dims + b);
    int64_t S = vx_sh_numel(r - (int)(b + k), x->dims + b + k);
    int64_t xb = vx_sh_numel(r - (int)b, x->dims + b);
    for (int64_t t = 0; t < ix->numel; t++) {
        int ax = (int)(b + t % k);
        if (vx_sh_norm_index(vx_sh_idx(ix, t), x->dims[ax]) < 0)
            return bad_index(ctx, node, vx_sh_idx(ix, t), x->dims[ax]);
    }
    if ((rc = vx_sh_alloc(ctx, node, out, x->dtype, nd, dims))) return rc;
    if (!out->numel) return 0;
    size_t es = vx_dtype_size(x->dtype), run = (size_t)S * es;
    char *o = out->data;
    for (int64_t bi = 0; bi < B; bi++)
        for (int64_t ni = 0; ni < N; ni++, o += run) {
            int64_t off = bi * xb, t0 = (bi * N + ni) * k;
            for (int64_t c = 0; c < k; c++)
                off += vx_sh_norm_index(vx_sh_idx(ix, t0 + c), x->dims[b + c]) * xstr[b + c];
            memcpy(o, (const char *)x->data + off * (int64_t)es, run);
        }
    return 0;
}

/* ------------------------------------------------------------------ Scatter* */

enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN };

static int get_reduction(vx_op_ctx *ctx, const vx_node *node, int dtype, int *red) {
    const char *s = vx_attr_str(node, "reduction", "none");
    *red = !strcmp(s, "none")  ? RED_NONE
           : !strcmp(s, "add") ? RED_ADD
           : !strcmp(s, "mul") ? RED_MUL
           : !strcmp(s, "max") ? RED_MAX
           : !strcmp(s, "min") ? RED_MIN
                               : -1;
    if (*red < 0) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "unknown reduction '%s'", s);
    if (*red != RED_NONE && (dtype == VX_BOOL || dtype == VX_UNDEFINED))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "reduction '%s' on %s", s,
                          vx_dtype_name(dtype));
    return 0;
}

/* dst[i] = dst[i] (op) src[i] for n elements. Integer add/mul wrap (computed unsigned). */
static void reduce_run(int dtype, int red, void *dst, const void *src, int64_t n) {
#define RED_LOOP(T, ADD, MUL)                                                                      \
    {                                                                                              \
        T *d = dst;                                                                                \
        const T *s = src;                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T a = d[i], b = s[i];                                                                  \
            d[i] = red == RED_ADD   ? (ADD)                                                        \
                   : red == RED_MUL ? (MUL)                                                        \
                   : red == RED_MAX ? (b > a ? b : a)                                              \
                                    : (b < a ? b : a);                                             \
        }                                                                                          \
    }                                                                                              \
    break;
#define IRED(T) RED_LOOP(T, (T)((uint64_t)a + (uint64_t)b), (T)((uint64_t)a * (uint64_t)b))
    switch (dtype) {
    case VX_FLOAT: RED_LOOP(float, a + b, a * b)
    case VX_DOUBLE: RED_LOOP(double, a + b, a * b)
    case VX_INT8: IRED(int8_t)
    case VX_UINT8: IRED(uint8_t)
    case VX_INT16: IRED(int16_t)
    case VX_UINT16: IRED(uint16_t)
    case VX_INT32: IRED(int32_t)
    case VX_UINT32: IRED(uint32_t)
    case VX_INT64: IRED(int64_t)
    case VX_UINT64: IRED(uint64_t)
    case VX_FLOAT16: {
        uint16_t *d = dst;
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) {
            float a = vx_sh_f16_to_f32(d[i]), b = vx_sh_f16_to_f32(s[i]);
            float v = red == RED_ADD   ? a + b
                      : red == RED_MUL ? a * b
                      : red == RED_MAX ? (b > a ? b : a)
                                       : (b < a ? b : a);
            d[i] = vx_sh_f32_to_f16(v);
        }
        break;
    }
    default: break;
    }
#undef IRED
#undef RED_LOOP
}

static void scatter_run(int dtype, size_t es, int red, char *dst, const char *src, int64_t n) {
    if (red == RED_NONE)
        memcpy(dst, src, (size_t)n * es);
    else
        reduce_run(dtype, red, dst, src, n);
}

int vx_op_scatter_nd(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                     vx_tensor *out, int n_out) {
    const vx_tensor *x, *ix, *up;
    int rc, red;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 1, &ix)) || (rc = need_index(ctx, node, ix)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 2, &up)) ||
        (rc = get_reduction(ctx, node, x->dtype, &red)))
        return rc;
    int r = x->ndim, q = ix->ndim;
    if (up->dtype != x->dtype)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "updates dtype differs from data");
    if (q < 1 || r < 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "data and indices need rank >= 1");
    int64_t k = ix->dims[q - 1];
    if (k < 1 || k > r)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "indices last dim %lld not in [1, %d]",
                          (long long)k, r);
    /* updates.shape == indices.shape[:-1] + data.shape[k:] */
    int ok = up->ndim == q - 1 + r - (int)k;
    for (int i = 0; ok && i < q - 1; i++) ok = up->dims[i] == ix->dims[i];
    for (int i = (int)k; ok && i < r; i++) ok = up->dims[q - 1 + i - k] == x->dims[i];
    if (!ok) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "updates shape does not match");
    int64_t xstr[VX_MAX_DIMS];
    vx_sh_strides(r, x->dims, xstr);
    for (int64_t t = 0; t < ix->numel; t++) {
        int ax = (int)(t % k);
        if (vx_sh_norm_index(vx_sh_idx(ix, t), x->dims[ax]) < 0)
            return bad_index(ctx, node, vx_sh_idx(ix, t), x->dims[ax]);
    }
    if ((rc = vx_sh_alloc(ctx, node, out, x->dtype, r, x->dims))) return rc;
    if (!out->numel) return 0;
    size_t es = vx_dtype_size(x->dtype);
    vx_sh_copy(out->data, x->data, vx_tensor_bytes(x));
    int64_t N = ix->numel / k, S = vx_sh_numel(r - (int)k, x->dims + k);
    if (!S) return 0;
    for (int64_t n = 0; n < N; n++) {
        int64_t off = 0;
        for (int64_t c = 0; c < k; c++)
            off += vx_sh_norm_index(vx_sh_idx(ix, n * k + c), x->dims[c]) * xstr[c];
        scatter_run(x->dtype, es, red, (char *)out->data + off * (int64_t)es,
                    (const char *)up->data + n * S * (int64_t)es, S);
    }
    return 0;
}

int vx_op_scatter_elements(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                           vx_tensor *out, int n_out) {
    const vx_tensor *x, *ix, *up;
    int rc, red, a;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 1, &ix)) || (rc = need_index(ctx, node, ix)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 2, &up)) ||
        (rc = get_reduction(ctx, node, x->dtype, &red)) ||
        (rc = vx_sh_axis(ctx, node, vx_attr_int(node, "axis", 0), x->ndim, &a)) ||
        (rc = elements_shape(ctx, node, x, ix, a)))
        return rc;
    if (up->dtype != x->dtype || up->ndim != ix->ndim ||
        memcmp(up->dims, ix->dims, sizeof up->dims[0] * (size_t)ix->ndim))
        return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                          "updates must match indices in shape and data in dtype");
    int r = x->ndim;
    int64_t d = x->dims[a];
    for (int64_t k = 0; k < ix->numel; k++)
        if (vx_sh_norm_index(vx_sh_idx(ix, k), d) < 0)
            return bad_index(ctx, node, vx_sh_idx(ix, k), d);
    if ((rc = vx_sh_alloc(ctx, node, out, x->dtype, r, x->dims))) return rc;
    if (!out->numel) return 0;
    vx_sh_copy(out->data, x->data, vx_tensor_bytes(x));
    size_t es = vx_dtype_size(x->dtype);
    int64_t xstr[VX_MAX_DIMS], idx[VX_MAX_DIMS] = {0}, base = 0;
    vx_sh_strides(r, x->dims, xstr);
    for (int64_t k = 0; k < ix->numel; k++) {
        int64_t v = vx_sh_norm_index(vx_sh_idx(ix, k), d);
        scatter_run(x->dtype, es, red, (char *)out->data + (base + v * xstr[a]) * (int64_t)es,
                    (const char *)up->data + k * (int64_t)es, 1);
        for (int i = r - 1; i >= 0; i--) {
            if (i != a) base += xstr[i];
            if (++idx[i] < ix->dims[i]) break;
            if (i != a) base -= xstr[i] * ix->dims[i];
            idx[i] = 0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ NonZero */

static int is_nonzero(const vx_tensor *x, int64_t i, size_t es) {
    switch (x->dtype) {
    case VX_FLOAT: return ((const float *)x->data)[i] != 0; /* -0.0 is zero, NaN is not */
    case VX_DOUBLE: return ((const double *)x->data)[i] != 0;
    case VX_FLOAT16: return (((const uint16_t *)x->data)[i] & 0x7fff) != 0;
    default: {
        const unsigned char *p = (const unsigned char *)x->data + (size_t)i * es;
        for (size_t b = 0; b < es; b++)
            if (p[b]) return 1;
        return 0;
    }
    }
}

int vx_op_nonzero(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                  vx_tensor *out, int n_out) {
    const vx_tensor *x;
    int rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x))) return rc;
    size_t es = vx_dtype_size(x->dtype);
    int64_t nnz = 0;
    for (int64_t i = 0; i < x->numel; i++) nnz += is_nonzero(x, i, es);
    int R = x->ndim ? x->ndim : 1; /* a scalar reads as a 1-element vector (numpy) */
    int64_t dims[2] = {R, nnz};
    if ((rc = vx_sh_alloc(ctx, node, out, VX_INT64, 2, dims))) return rc;
    int64_t *o = out->data, idx[VX_MAX_DIMS] = {0}, c = 0;
    for (int64_t i = 0; i < x->numel; i++) {
        if (is_nonzero(x, i, es)) {
            for (int a = 0; a < R; a++) o[a * nnz + c] = x->ndim ? idx[a] : 0;
            c++;
        }
        for (int a = x->ndim - 1; a >= 0; a--) {
            if (++idx[a] < x->dims[a]) break;
            idx[a] = 0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ OneHot */

int vx_op_onehot(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                 vx_tensor *out, int n_out) {
    const vx_tensor *ix, *dt, *vt;
    int rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &ix)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 1, &dt)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 2, &vt)))
        return rc;
    if (dt->numel != 1 || vt->numel != 2)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "depth needs 1 value and values 2");
    double dd = vx_sh_load_f64(dt, 0);
    if (!(dd >= 0) || dd > (double)VX_MAX_ELEMS)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "bad depth %g", dd);
    int64_t depth = (int64_t)dd;
    int q = ix->ndim, a;
    if (q + 1 > VX_MAX_DIMS)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "output rank exceeds limit");
    if ((rc = vx_sh_axis(ctx, node, vx_attr_int(node, "axis", -1), q + 1, &a))) return rc;
    int64_t dims[VX_MAX_DIMS];
    for (int i = 0, j = 0; i < q + 1; i++) dims[i] = i == a ? depth : ix->dims[j++];
    if ((rc = vx_sh_alloc(ctx, node, out, vt->dtype, q + 1, dims))) return rc;
    if (!out->numel) return 0;
    size_t es = vx_dtype_size(vt->dtype);
    const char *off = vt->data, *on = off + es;
    char *o = out->data;
    vx_sh_fill(o, off, es, out->numel);
    int64_t outer = vx_sh_numel(a, ix->dims), inner = vx_sh_numel(q - a, ix->dims + a);
    for (int64_t b = 0; b < outer; b++)
        for (int64_t i = 0; i < inner; i++) {
            double fv = vx_sh_load_f64(ix, b * inner + i);
            if (!(fv > -1e18 && fv < 1e18)) continue; /* NaN/huge: all off */
            int64_t v = vx_sh_norm_index((int64_t)fv, depth);
            if (v >= 0) memcpy(o + ((b * depth + v) * inner + i) * (int64_t)es, on, es);
        }
    return 0;
}

/* ------------------------------------------------------------------ TopK */

typedef struct {
    long double key;
    int64_t i;
} topk_item;

/* NaN sorts above every number (numpy's order); ties keep the lower index first. */
static int key_cmp(long double a, long double b) {
    int na = a != a, nb = b != b;
    if (na || nb) return na - nb;
    return a < b ? -1 : a > b;
}
static int cmp_largest(const void *pa, const void *pb) {
    const topk_item *a = pa, *b = pb;
    int c = key_cmp(b->key, a->key);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}
static int cmp_smallest(const void *pa, const void *pb) {
    const topk_item *a = pa, *b = pb;
    int c = key_cmp(a->key, b->key);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

static long double topk_key(const vx_tensor *x, int64_t i) {
    switch (x->dtype) { /* long double holds every int64/uint64 exactly on x86 */
    case VX_INT64: return (long double)((const int64_t *)x->data)[i];
    case VX_UINT64: return (long double)((const uint64_t *)x->data)[i];
    default: return vx_sh_load_f64(x, i);
    }
}

int vx_op_topk(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, vx_tensor *out,
               int n_out) {
    const vx_tensor *x, *kt;
    int rc, a;
    int64_t k;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x))) return rc;
    if ((kt = vx_sh_opt(in, n_in, 1))) {
        if ((rc = vx_sh_scalar_int(ctx, node, kt, "K", &k))) return rc;
    } else {
        k = vx_attr_int(node, "k", -1); /* opset 1 attribute */
    }
    if (x->dtype == VX_BOOL) return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "TopK on bool");
    if ((rc = vx_sh_axis(ctx, node, vx_attr_int(node, "axis", -1), x->ndim, &a))) return rc;
    int64_t d = x->dims[a];
    if (k < 0 || k > d)
        return vx_op_fail(ctx, node, VOX_ERR_ARG, "K = %lld not in [0, %lld]", (long long)k,
                          (long long)d);
    int largest = vx_attr_int(node, "largest", 1) != 0;
    int64_t dims[VX_MAX_DIMS];
    memcpy(dims, x->dims, sizeof dims);
    dims[a] = k;
    if ((rc = vx_sh_alloc(ctx, node, &out[0], x->dtype, x->ndim, dims))) return rc;
    if (n_out > 1 && (rc = vx_sh_alloc(ctx, node, &out[1], VX_INT64, x->ndim, dims))) return rc;
    if (!out[0].numel) return 0;
    topk_item *items = malloc((size_t)d * sizeof *items);
    if (!items) return vx_op_fail(ctx, node, VOX_ERR_NOMEM, "out of memory");
    size_t es = vx_dtype_size(x->dtype);
    int64_t outer = vx_sh_numel(a, x->dims), inner = vx_sh_numel(x->ndim - a - 1, x->dims + a + 1);
    /* Results come back sorted whatever `sorted` says: any order is allowed then. */
    for (int64_t b = 0; b < outer; b++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = b * d * inner + i;
            for (int64_t j = 0; j < d; j++) {
                items[j].key = topk_key(x, base + j * inner);
                items[j].i = j;
            }
            qsort(items, (size_t)d, sizeof *items, largest ? cmp_largest : cmp_smallest);
            int64_t obase = b * k * inner + i;
            for (int64_t j = 0; j < k; j++) {
                int64_t o = obase + j * inner;
                memcpy((char *)out[0].data + o * (int64_t)es,
                       (const char *)x->data + (base + items[j].i * inner) * (int64_t)es, es);
                if (n_out > 1) ((int64_t *)out[1].data)[o] = items[j].i;
            }
        }
    free(items);
    return 0;
}

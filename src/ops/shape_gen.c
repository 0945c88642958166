/* Generator-style kernels: ConstantOfShape, Range, CumSum, Trilu, EyeLike and the
 * Random* ops. Sizes are validated (without int64 overflow) before anything is
 * allocated, so a huge request fails with a message instead of exhausting memory. */
#include "ops/shape_internal.h"
#include <math.h>

/* ------------------------------------------------------------------ ConstantOfShape */

int vx_op_constant_of_shape(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                            vx_tensor *out, int n_out) {
    const vx_tensor *st;
    int64_t dims[VX_MAX_DIMS];
    int nd, rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &st)) ||
        (rc = vx_sh_ints(ctx, node, st, "shape", dims, VX_MAX_DIMS, &nd)))
        return rc;
    float zero = 0;
    const void *val = &zero;
    int dtype = VX_FLOAT;
    const vx_attr *a = vx_node_attr(node, "value");
    if (a) {
        if (a->type != VX_ATTR_TENSOR || !a->t || a->t->numel != 1 || !a->t->data ||
            !vx_dtype_size(a->t->dtype))
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "value must be a one-element tensor");
        val = a->t->data;
        dtype = a->t->dtype;
    }
    if ((rc = vx_sh_alloc(ctx, node, out, dtype, nd, dims))) return rc;
    vx_sh_fill(out->data, val, vx_dtype_size(dtype), out->numel);
    return 0;
}

/* ------------------------------------------------------------------ Range */

int vx_op_range(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, vx_tensor *out,
                int n_out) {
    const vx_tensor *s, *l, *d;
    int rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &s)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 1, &l)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 2, &d)))
        return rc;
    if (s->numel != 1 || l->numel != 1 || d->numel != 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "start, limit and delta must be scalars");
    int dt = s->dtype;
    if (l->dtype != dt || d->dtype != dt)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "start, limit and delta dtypes differ");
    int64_t n;
    if (dt == VX_FLOAT || dt == VX_DOUBLE) {
        double fs = vx_tensor_get_f64(s, 0), fl = vx_tensor_get_f64(l, 0),
               fd = vx_tensor_get_f64(d, 0);
        double c = ceil((fl - fs) / fd);
        if (fd == 0 || c != c)
            return vx_op_fail(ctx, node, VOX_ERR_ARG, "bad range (%g, %g, %g)", fs, fl, fd);
        if (c > (double)VX_MAX_ELEMS)
            return vx_op_fail(ctx, node, VOX_ERR_NOMEM, "range of %g elements exceeds the limit",
                              c);
        n = c > 0 ? (int64_t)c : 0;
        if ((rc = vx_sh_alloc(ctx, node, out, dt, 1, &n))) return rc;
        /* Accumulate in the output type, as the spec's reference loop does. */
        if (dt == VX_FLOAT) {
            float v = (float)fs, step = (float)fd, *o = out->data;
            for (int64_t i = 0; i < n; i++, v += step) o[i] = v;
        } else {
            double v = fs, *o = out->data;
            for (int64_t i = 0; i < n; i++, v += fd) o[i] = v;
        }
        return 0;
    }
    if (dt != VX_INT16 && dt != VX_INT32 && dt != VX_INT64)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "Range on %s", vx_dtype_name(dt));
    /* 128-bit arithmetic: limit - start cannot overflow, nor can the element count. */
    __int128 is = vx_tensor_get_i64(s, 0), il = vx_tensor_get_i64(l, 0),
             id = vx_tensor_get_i64(d, 0), diff = il - is, cnt;
    if (id == 0) return vx_op_fail(ctx, node, VOX_ERR_ARG, "delta is 0");
    if (id > 0)
        cnt = diff <= 0 ? 0 : (diff + id - 1) / id;
    else
        cnt = diff >= 0 ? 0 : (-diff - id - 1) / -id;
    if (cnt > VX_MAX_ELEMS)
        return vx_op_fail(ctx, node, VOX_ERR_NOMEM, "range exceeds the limit of %lld elements",
                          (long long)VX_MAX_ELEMS);
    n = (int64_t)cnt;
    if ((rc = vx_sh_alloc(ctx, node, out, dt, 1, &n))) return rc;
    for (int64_t i = 0; i < n; i++) { /* every value lies between start and limit */
        int64_t v = (int64_t)(is + (__int128)i * id);
        if (dt == VX_INT64)
            ((int64_t *)out->data)[i] = v;
        else if (dt == VX_INT32)
            ((int32_t *)out->data)[i] = (int32_t)v;
        else
            ((int16_t *)out->data)[i] = (int16_t)v;
    }
    return 0;
}

/* ------------------------------------------------------------------ CumSum */

/* Rows of `inner` elements, `len` rows per slab: o[row j] = o[prev] + x[src]. */
#define CUMSUM_T(name, T, ADD)                                                                     \
    static void name(T *o, const T *x, int64_t outer, int64_t len, int64_t inner, int excl,        \
                     int rev) {                                                                    \
        for (int64_t b = 0; b < outer; b++) {                                                      \
            T *ob = o + b * len * inner;                                                           \
            const T *xb = x + b * len * inner;                                                     \
            for (int64_t t = 0; t < len; t++) {                                                    \
                int64_t j = rev ? len - 1 - t : t, p = rev ? j + 1 : j - 1;                        \
                for (int64_t i = 0; i < inner; i++) {                                              \
                    T acc = t ? ob[p * inner + i] : (T)0;                                          \
                    T add = excl ? (t ? xb[p * inner + i] : (T)0) : xb[j * inner + i];             \
                    ob[j * inner + i] = ADD;                                                       \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }
CUMSUM_T(cumsum_f32, float, acc + add)
CUMSUM_T(cumsum_f64, double, acc + add)
CUMSUM_T(cumsum_i32, int32_t, (int32_t)((uint32_t)acc + (uint32_t)add))
CUMSUM_T(cumsum_i64, int64_t, (int64_t)((uint64_t)acc + (uint64_t)add))
CUMSUM_T(cumsum_u32, uint32_t, acc + add)
CUMSUM_T(cumsum_u64, uint64_t, acc + add)

int vx_op_cumsum(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                 vx_tensor *out, int n_out) {
    const vx_tensor *x, *at;
    int64_t axis;
    int rc, a;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 1, &at)) ||
        (rc = vx_sh_scalar_int(ctx, node, at, "axis", &axis)) ||
        (rc = vx_sh_axis(ctx, node, axis, x->ndim, &a)))
        return rc;
    int dt = x->dtype;
    if (dt != VX_FLOAT && dt != VX_DOUBLE && dt != VX_INT32 && dt != VX_INT64 && dt != VX_UINT32 &&
        dt != VX_UINT64)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "CumSum on %s", vx_dtype_name(dt));
    if ((rc = vx_sh_alloc(ctx, node, out, dt, x->ndim, x->dims))) return rc;
    if (!out->numel) return 0;
    int excl = vx_attr_int(node, "exclusive", 0) != 0, rev = vx_attr_int(node, "reverse", 0) != 0;
    int64_t outer = vx_sh_numel(a, x->dims), len = x->dims[a];
    int64_t inner = vx_sh_numel(x->ndim - a - 1, x->dims + a + 1);
    switch (dt) {
    case VX_FLOAT: cumsum_f32(out->data, x->data, outer, len, inner, excl, rev); break;
    case VX_DOUBLE: cumsum_f64(out->data, x->data, outer, len, inner, excl, rev); break;
    case VX_INT32: cumsum_i32(out->data, x->data, outer, len, inner, excl, rev); break;
    case VX_INT64: cumsum_i64(out->data, x->data, outer, len, inner, excl, rev); break;
    case VX_UINT32: cumsum_u32(out->data, x->data, outer, len, inner, excl, rev); break;
    default: cumsum_u64(out->data, x->data, outer, len, inner, excl, rev); break;
    }
    return 0;
}

/* ------------------------------------------------------------------ Trilu, EyeLike */

int vx_op_trilu(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, vx_tensor *out,
                int n_out) {
    const vx_tensor *x, *kt;
    int64_t k = 0;
    int rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x))) return rc;
    if ((kt = vx_sh_opt(in, n_in, 1)) && (rc = vx_sh_scalar_int(ctx, node, kt, "k", &k))) return rc;
    if (x->ndim < 2) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "input rank must be >= 2");
    if ((rc = vx_sh_alloc(ctx, node, out, x->dtype, x->ndim, x->dims))) return rc;
    if (!out->numel) return 0;
    int upper = vx_attr_int(node, "upper", 1) != 0;
    int64_t N = x->dims[x->ndim - 2], M = x->dims[x->ndim - 1], mats = out->numel / (N * M);
    size_t es = vx_dtype_size(x->dtype);
    if (k > N + M) k = N + M; /* beyond this every k behaves the same; avoids overflow */
    if (k < -(N + M)) k = -(N + M);
    memcpy(out->data, x->data, vx_tensor_bytes(x));
    /* Zero bytes are zero in every numeric dtype. */
    for (int64_t b = 0; b < mats; b++)
        for (int64_t i = 0; i < N; i++) {
            char *row = (char *)out->data + ((b * N + i) * M) * (int64_t)es;
            int64_t lo, hi; /* columns to clear: upper keeps j >= i+k, lower j <= i+k */
            if (upper) {
                lo = 0;
                hi = i + k;
            } else {
                lo = i + k + 1;
                hi = M;
            }
            lo = lo < 0 ? 0 : lo > M ? M : lo;
            hi = hi < 0 ? 0 : hi > M ? M : hi;
            if (hi > lo) memset(row + lo * (int64_t)es, 0, (size_t)(hi - lo) * es);
        }
    return 0;
}

int vx_op_eyelike(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                  vx_tensor *out, int n_out) {
    const vx_tensor *x;
    int rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x))) return rc;
    if (x->ndim != 2) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "input must be 2-D");
    int dt = (int)vx_attr_int(node, "dtype", x->dtype);
    if ((rc = vx_sh_alloc(ctx, node, out, dt, 2, x->dims))) return rc;
    if (!out->numel) return 0;
    size_t es = vx_dtype_size(dt);
    memset(out->data, 0, vx_tensor_bytes(out));
    int64_t k = vx_attr_int(node, "k", 0), N = x->dims[0], M = x->dims[1];
    for (int64_t i = 0; i < N; i++) {
        if (k > M || k < -N) break; /* diagonal entirely outside */
        int64_t j = i + k;
        if (j >= 0 && j < M) vx_sh_store_f64(dt, (char *)out->data + (i * M + j) * (int64_t)es, 1);
    }
    return 0;
}

/* ------------------------------------------------------------------ Random* */

/* The run's generator, or a local one seeded from the `seed` attribute so that a
 * seeded node gives the same numbers every run. */
static vx_rng *pick_rng(vx_op_ctx *ctx, const vx_node *node, vx_rng *local) {
    if (vx_node_attr(node, "seed")) {
        float f = vx_attr_float(node, "seed", 0);
        uint32_t bits;
        memcpy(&bits, &f, 4);
        vx_rng_seed(local, bits);
        return local;
    }
    return ctx->rng;
}

static int random_fill(vx_op_ctx *ctx, const vx_node *node, int normal, int dtype, int nd,
                       const int64_t *dims, vx_tensor *out) {
    vx_rng local, *rng = pick_rng(ctx, node, &local);
    int rc;
    if (!rng) return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "no random generator for this run");
    if (dtype != VX_FLOAT && dtype != VX_DOUBLE && dtype != VX_FLOAT16)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "random %s", vx_dtype_name(dtype));
    if ((rc = vx_sh_alloc(ctx, node, out, dtype, nd, dims))) return rc;
    double p0, p1; /* normal: mean, scale; uniform: low, high - low */
    if (normal) {
        p0 = vx_attr_float(node, "mean", 0);
        p1 = vx_attr_float(node, "scale", 1);
    } else {
        p0 = vx_attr_float(node, "low", 0);
        p1 = vx_attr_float(node, "high", 1) - p0;
    }
    size_t es = vx_dtype_size(dtype);
    char *o = out->data;
    int64_t i = 0;
    if (normal && dtype == VX_FLOAT) {
        /* float: two deviates per random word through the kernel table (vectorized; a
         * Piper sentence draws 192 x frames of them before its first audio) */
        uint64_t w[256];
        float tail[2];
        const vx_kernels *k = vx_kernels_get();
        for (; i < out->numel; i += 512) {
            int64_t n = out->numel - i < 512 ? out->numel - i : 512, pairs = (n + 1) / 2;
            for (int64_t j = 0; j < pairs; j++) w[j] = vx_rng_next(rng);
            k->normal_f32(w, (float *)o + i, n / 2, (float)p0, (float)p1);
            if (n & 1) {
                k->normal_f32(w + n / 2, tail, 1, (float)p0, (float)p1);
                ((float *)o)[i + n - 1] = tail[0];
            }
        }
        return 0;
    }
    if (normal) /* in pairs: one log and one sincos for two values */
        for (; i + 1 < out->numel; i += 2) {
            double a, b;
            vx_rng_normal2(rng, &a, &b);
            vx_sh_store_f64(dtype, o + i * (int64_t)es, p0 + p1 * a);
            vx_sh_store_f64(dtype, o + (i + 1) * (int64_t)es, p0 + p1 * b);
        }
    for (; i < out->numel; i++) {
        double v = normal ? p0 + p1 * vx_rng_normal(rng) : p0 + p1 * vx_rng_uniform(rng);
        vx_sh_store_f64(dtype, o + i * (int64_t)es, v);
    }
    return 0;
}

static int random_shape(vx_op_ctx *ctx, const vx_node *node, vx_tensor *out, int normal) {
    const int64_t *sv;
    int64_t ns = vx_attr_ints(node, "shape", &sv);
    if (ns < 0) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "attribute 'shape' is required");
    if (ns > VX_MAX_DIMS)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "rank %lld exceeds limit", (long long)ns);
    int rc = vx_sh_check_shape(ctx, node, (int)ns, sv);
    if (rc) return rc;
    return random_fill(ctx, node, normal, (int)vx_attr_int(node, "dtype", VX_FLOAT), (int)ns, sv,
                       out);
}

static int random_like(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                       vx_tensor *out, int normal) {
    const vx_tensor *x;
    int rc = vx_sh_req(ctx, node, in, n_in, 0, &x);
    if (rc) return rc;
    return random_fill(ctx, node, normal, (int)vx_attr_int(node, "dtype", x->dtype), x->ndim,
                       x->dims, out);
}

int vx_op_random_normal(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                        vx_tensor *out, int n_out) {
    return random_shape(ctx, node, out, 1);
}
int vx_op_random_uniform(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                         vx_tensor *out, int n_out) {
    return random_shape(ctx, node, out, 0);
}
int vx_op_random_normal_like(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                             vx_tensor *out, int n_out) {
    return random_like(ctx, node, in, n_in, out, 1);
}
int vx_op_random_uniform_like(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                              vx_tensor *out, int n_out) {
    return random_like(ctx, node, in, n_in, out, 0);
}

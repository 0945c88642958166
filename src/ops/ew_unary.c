/* Unary elementwise kernels, Clip, Identity and Dropout (inference).
 * Float math goes through <tgmath.h> so that one expression serves float (expf, erff,
 * tanhf: the single-precision routines onnxruntime's reference paths use) and double. */
#include "ops/ew_ops.h"
#include "kernels/kernels.h"
#include "util/tpool.h"
#include "vox.h"
#include <float.h>
#include <string.h>
#include <tgmath.h>

typedef struct ew_par {
    double a, b;
} ew_par; /* op attributes (alpha, beta, ...) */
typedef void (*ew_row1)(const void *x, void *o, int64_t n, const ew_par *p);
typedef struct ew_impl {
    int dtype;
    ew_row1 fn;
} ew_impl;

/* One loop per (op, dtype). Inside EXPR: x (the element, type T), U (an unsigned type
 * wide enough for wrapping integer arithmetic), pa/pb (the attributes as T). */
#define DEF1(NAME, TI, UT, TO, EXPR)                                                               \
    static void NAME(const void *px, void *po, int64_t n, const ew_par *p) {                       \
        typedef TI T;                                                                              \
        typedef UT U;                                                                              \
        (void)sizeof(U);                                                                           \
        const T *xs = px;                                                                          \
        TO *o = po;                                                                                \
        const T pa = (T)p->a, pb = (T)p->b;                                                        \
        (void)pa;                                                                                  \
        (void)pb;                                                                                  \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T x = xs[i];                                                                           \
            o[i] = (TO)(EXPR);                                                                     \
        }                                                                                          \
    }

#define SAME(t)  t
#define BOOLT(t) uint8_t
#define DEF_FLT(op, OT, EXPR)                                                                      \
    DEF1(op##_f32, float, float, OT(float), EXPR)                                                  \
    DEF1(op##_f64, double, double, OT(double), EXPR)
#define DEF_SINT(op, EXPR)                                                                         \
    DEF1(op##_i8, int8_t, uint32_t, int8_t, EXPR)                                                  \
    DEF1(op##_i16, int16_t, uint32_t, int16_t, EXPR)                                               \
    DEF1(op##_i32, int32_t, uint32_t, int32_t, EXPR)                                               \
        DEF1(op##_i64, int64_t, uint64_t, int64_t, EXPR)
#define DEF_UINT(op, EXPR)                                                                         \
    DEF1(op##_u8, uint8_t, uint32_t, uint8_t, EXPR)                                                \
    DEF1(op##_u16, uint16_t, uint32_t, uint16_t, EXPR)                                             \
    DEF1(op##_u32, uint32_t, uint32_t, uint32_t, EXPR)                                             \
        DEF1(op##_u64, uint64_t, uint64_t, uint64_t, EXPR)
#define IMPL_FLT(op)                                                                               \
    {VX_FLOAT, op##_f32}, { VX_DOUBLE, op##_f64 }
#define IMPL_SINT(op)                                                                              \
    {VX_INT8, op##_i8}, {VX_INT16, op##_i16}, {VX_INT32, op##_i32}, { VX_INT64, op##_i64 }
#define IMPL_UINT(op)                                                                              \
    {VX_UINT8, op##_u8}, {VX_UINT16, op##_u16}, {VX_UINT32, op##_u32}, { VX_UINT64, op##_u64 }

DEF_FLT(neg, SAME, -x)
DEF_SINT(neg, (T)(0u - (U)x)) /* wraps: -INT_MIN == INT_MIN */
DEF_FLT(abs, SAME, fabs(x))
DEF_SINT(abs, x < 0 ? (T)(0u - (U)x) : x)
DEF_UINT(abs, x)
DEF_FLT(sqrt, SAME, sqrt(x))
DEF_FLT(exp, SAME, exp(x))
DEF_FLT(log, SAME, log(x))
DEF1(erf_f64, double, double, double, erf(x)) /* float Erf: the kernel table (below) */
/* float Tanh / Sigmoid run through the kernel table (below); these are the doubles. */
DEF1(tanh_f64, double, double, double, tanh(x))
/* Both branches only ever exponentiate a non-positive number: no overflow. */
DEF1(sigmoid_f64, double, double, double,
     x >= 0 ? (T)1 / ((T)1 + exp(-x)) : exp(x) / ((T)1 + exp(x)))
DEF_FLT(relu, SAME, x < 0 ? (T)0 : x) /* NaN passes through */
DEF_SINT(relu, x < 0 ? (T)0 : x)
DEF_FLT(leakyrelu, SAME, x >= 0 ? x : pa * x)
DEF_FLT(elu, SAME, x >= 0 ? x : pa * (exp(x) - (T)1))
DEF_FLT(selu, SAME, x > 0 ? pb * x : pb * (pa * exp(x) - pa))
/* log(1+e^x) = max(x,0) + log1p(e^-|x|): never overflows, exact for large x. */
DEF_FLT(softplus, SAME, x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)))
DEF_FLT(softsign, SAME, x / ((T)1 + fabs(x)))
DEF_FLT(hardsigmoid, SAME, fmax((T)0, fmin((T)1, pa *x + pb)))
DEF_FLT(ceil, SAME, ceil(x))
DEF_FLT(floor, SAME, floor(x))
DEF_FLT(round, SAME, nearbyint(x)) /* default mode: half to even */
DEF_FLT(sign, SAME, x > 0 ? (T)1 : x < 0 ? (T)-1 : x == 0 ? (T)0 : x)
DEF_SINT(sign, (x > 0) - (x < 0))
DEF_UINT(sign, x > 0)
DEF_FLT(reciprocal, SAME, (T)1 / x)
DEF_FLT(sin, SAME, sin(x))
DEF_FLT(cos, SAME, cos(x))
DEF_FLT(isnan, BOOLT, isnan(x) ? 1 : 0)
/* IsInf: pa = detect_positive, pb = detect_negative (as T: 0 or 1). */
DEF_FLT(isinf, BOOLT, isinf(x) ? (x > 0 ? pa != 0 : pb != 0) : 0)
DEF1(not_b, uint8_t, uint32_t, uint8_t, !x)

/* float Tanh / Sigmoid / Erf through the kernel table (vectorized where the CPU allows, a few
 * ulp from libm's tanhf / expf; the scalar entries are these same formulas). */
static void tanh_fast(const void *px, void *po, int64_t n, const ew_par *p) {
    (void)p;
    vx_kernels_get()->tanh_f32(px, po, n);
}
static void erf_fast(const void *px, void *po, int64_t n, const ew_par *p) {
    (void)p;
    vx_kernels_get()->erf_f32(px, po, n);
}
static void sigmoid_fast(const void *px, void *po, int64_t n, const ew_par *p) {
    (void)p;
    vx_kernels_get()->sigmoid_f32(px, po, n);
}

static const ew_impl neg_impl[] = {IMPL_FLT(neg), IMPL_SINT(neg), {0, 0}};
static const ew_impl abs_impl[] = {IMPL_FLT(abs), IMPL_SINT(abs), IMPL_UINT(abs), {0, 0}};
static const ew_impl sqrt_impl[] = {IMPL_FLT(sqrt), {0, 0}};
static const ew_impl exp_impl[] = {IMPL_FLT(exp), {0, 0}};
static const ew_impl log_impl[] = {IMPL_FLT(log), {0, 0}};
static const ew_impl erf_impl[] = {{VX_FLOAT, erf_fast}, {VX_DOUBLE, erf_f64}, {0, 0}};
static const ew_impl tanh_impl[] = {{VX_FLOAT, tanh_fast}, {VX_DOUBLE, tanh_f64}, {0, 0}};
static const ew_impl sigmoid_impl[] = {{VX_FLOAT, sigmoid_fast}, {VX_DOUBLE, sigmoid_f64}, {0, 0}};
static const ew_impl relu_impl[] = {IMPL_FLT(relu), IMPL_SINT(relu), {0, 0}};
static const ew_impl leakyrelu_impl[] = {IMPL_FLT(leakyrelu), {0, 0}};
static const ew_impl elu_impl[] = {IMPL_FLT(elu), {0, 0}};
static const ew_impl selu_impl[] = {IMPL_FLT(selu), {0, 0}};
static const ew_impl softplus_impl[] = {IMPL_FLT(softplus), {0, 0}};
static const ew_impl softsign_impl[] = {IMPL_FLT(softsign), {0, 0}};
static const ew_impl hardsigmoid_impl[] = {IMPL_FLT(hardsigmoid), {0, 0}};
static const ew_impl ceil_impl[] = {IMPL_FLT(ceil), {0, 0}};
static const ew_impl floor_impl[] = {IMPL_FLT(floor), {0, 0}};
static const ew_impl round_impl[] = {IMPL_FLT(round), {0, 0}};
static const ew_impl sign_impl[] = {IMPL_FLT(sign), IMPL_SINT(sign), IMPL_UINT(sign), {0, 0}};
static const ew_impl reciprocal_impl[] = {IMPL_FLT(reciprocal), {0, 0}};
static const ew_impl sin_impl[] = {IMPL_FLT(sin), {0, 0}};
static const ew_impl cos_impl[] = {IMPL_FLT(cos), {0, 0}};
static const ew_impl isnan_impl[] = {IMPL_FLT(isnan), {0, 0}};
static const ew_impl isinf_impl[] = {IMPL_FLT(isinf), {0, 0}};
static const ew_impl not_impl[] = {{VX_BOOL, not_b}, {0, 0}};

int vx_ew_need(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, int need,
               int n_out) {
    if (n_in < need)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "expects %d inputs, got %d", need, n_in);
    for (int i = 0; i < need; i++)
        if (!in[i]) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "input %d is missing", i);
    if (n_out < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "expects an output");
    return 0;
}

/* Large elementwise work is split in contiguous chunks over the pool. */
typedef struct un_job {
    ew_row1 fn;
    const char *x;
    char *o;
    size_t ex, eo;
    const ew_par *p;
} un_job;
static void un_task(void *arg, int64_t b, int64_t e) {
    const un_job *j = arg;
    j->fn(j->x + (size_t)b * j->ex, j->o + (size_t)b * j->eo, e - b, j->p);
}

void vx_ew_par_chunks(void *pool, int64_t n, int64_t *chunks) {
    int th = pool ? vx_tpool_threads(pool) : 1;
    int64_t c = n / VX_EW_PAR_MIN;
    if (c > 4 * (int64_t)th) c = 4 * (int64_t)th;
    *chunks = th > 1 ? c : 0;
}

static int run_unary(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                     vx_tensor *out, int n_out, const ew_impl *impl, int bool_out,
                     const ew_par *par) {
    int rc = vx_ew_need(ctx, node, in, n_in, 1, n_out);
    if (rc) return rc;
    const vx_tensor *x = in[0];
    const ew_impl *m = impl;
    while (m->fn && m->dtype != x->dtype) m++;
    if (!m->fn)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "input dtype %s not supported",
                          vx_dtype_name(x->dtype));
    /* elementwise: may write over a dying input (vx_op_ctx.inplace) */
    if ((ctx->inplace & 1) && !bool_out && x->numel)
        vx_tensor_view(out, x);
    else
        rc = vx_op_alloc_raw(ctx, out, bool_out ? VX_BOOL : x->dtype, x->ndim, x->dims);
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    if (!x->numel) return 0;
    int64_t chunks;
    vx_ew_par_chunks(ctx->pool, x->numel, &chunks);
    if (chunks > 1) {
        un_job j = {m->fn, x->data, out->data, vx_dtype_size(x->dtype), vx_dtype_size(out->dtype),
                    par};
        vx_tpool_for_chunks(ctx->pool, x->numel, chunks, un_task, &j);
    } else {
        m->fn(x->data, out->data, x->numel, par);
    }
    return 0;
}

#define UNARY(Name, impl, bool_out)                                                                \
    int vx_op_##Name(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,          \
                     vx_tensor *out, int n_out) {                                                  \
        ew_par p = {0, 0};                                                                         \
        return run_unary(ctx, node, in, n_in, out, n_out, impl, bool_out, &p);                     \
    }

UNARY(Neg, neg_impl, 0)
UNARY(Abs, abs_impl, 0)
UNARY(Sqrt, sqrt_impl, 0)
UNARY(Exp, exp_impl, 0)
UNARY(Log, log_impl, 0)
UNARY(Erf, erf_impl, 0)
UNARY(Tanh, tanh_impl, 0)
UNARY(Sigmoid, sigmoid_impl, 0)
UNARY(Relu, relu_impl, 0)
UNARY(Softplus, softplus_impl, 0)
UNARY(Softsign, softsign_impl, 0)
UNARY(Ceil, ceil_impl, 0)
UNARY(Floor, floor_impl, 0)
UNARY(Round, round_impl, 0)
UNARY(Sign, sign_impl, 0)
UNARY(Reciprocal, reciprocal_impl, 0)
UNARY(Sin, sin_impl, 0)
UNARY(Cos, cos_impl, 0)
UNARY(IsNaN, isnan_impl, 1)
UNARY(Not, not_impl, 1)

#define UNARY_PAR(Name, impl, A, B)                                                                \
    int vx_op_##Name(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,          \
                     vx_tensor *out, int n_out) {                                                  \
        ew_par p = {A, B};                                                                         \
        return run_unary(ctx, node, in, n_in, out, n_out, impl, 0, &p);                            \
    }

UNARY_PAR(LeakyRelu, leakyrelu_impl, vx_attr_float(node, "alpha", 0.01f), 0)
UNARY_PAR(Elu, elu_impl, vx_attr_float(node, "alpha", 1.0f), 0)
UNARY_PAR(Selu, selu_impl, vx_attr_float(node, "alpha", 1.67326319217681884765625f),
          vx_attr_float(node, "gamma", 1.05070102214813232421875f))
UNARY_PAR(HardSigmoid, hardsigmoid_impl, vx_attr_float(node, "alpha", 0.2f),
          vx_attr_float(node, "beta", 0.5f))

int vx_op_IsInf(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, vx_tensor *out,
                int n_out) {
    ew_par p = {vx_attr_int(node, "detect_positive", 1) != 0,
                vx_attr_int(node, "detect_negative", 1) != 0};
    return run_unary(ctx, node, in, n_in, out, n_out, isinf_impl, 1, &p);
}

int vx_op_Identity(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                   vx_tensor *out, int n_out) {
    int rc = vx_ew_need(ctx, node, in, n_in, 1, n_out);
    if (rc) return rc;
    if (!vx_dtype_size(in[0]->dtype))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "input dtype %s not supported",
                          vx_dtype_name(in[0]->dtype));
    if (vx_tensor_copy(out, in[0])) return vx_op_fail(ctx, node, VOX_ERR_NOMEM, "out of memory");
    return 0;
}

/* Inference Dropout: output = input, optional mask of all true. Training mode (a true
 * third input) would need random masks and scaling; it is refused. */
int vx_op_Dropout(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                  vx_tensor *out, int n_out) {
    int rc = vx_ew_need(ctx, node, in, n_in, 1, n_out);
    if (rc) return rc;
    const vx_tensor *x = in[0];
    if (x->dtype != VX_FLOAT && x->dtype != VX_DOUBLE && x->dtype != VX_FLOAT16)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "input dtype %s not supported",
                          vx_dtype_name(x->dtype));
    if (n_in > 2 && in[2] && in[2]->numel && vx_tensor_get_i64(in[2], 0))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "training_mode=true not supported");
    rc = vx_op_alloc(ctx, &out[0], x->dtype, x->ndim, x->dims);
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    if (x->numel) memcpy(out[0].data, x->data, vx_tensor_bytes(x));
    if (n_out > 1) {
        rc = vx_op_alloc(ctx, &out[1], VX_BOOL, x->ndim, x->dims);
        if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate mask");
        if (x->numel) memset(out[1].data, 1, (size_t)x->numel);
    }
    return 0;
}

/* ---- Clip: y = min(max(x, lo), hi), so lo > hi gives hi everywhere (as the spec says). */
typedef void (*ew_clip_fn)(const void *x, void *o, int64_t n, const void *lo, const void *hi);

#define DEFCLIP(NAME, T, LOWEST, HIGHEST)                                                          \
    static void NAME(const void *px, void *po, int64_t n, const void *plo, const void *phi) {      \
        const T *x = px;                                                                           \
        T *o = po;                                                                                 \
        T lo = LOWEST, hi = HIGHEST;                                                               \
        if (plo) memcpy(&lo, plo, sizeof lo);                                                      \
        if (phi) memcpy(&hi, phi, sizeof hi);                                                      \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T v = x[i] < lo ? lo : x[i];                                                           \
            o[i] = v > hi ? hi : v;                                                                \
        }                                                                                          \
    }

DEFCLIP(clip_f32, float, -FLT_MAX, FLT_MAX)
DEFCLIP(clip_f64, double, -DBL_MAX, DBL_MAX)
DEFCLIP(clip_i8, int8_t, INT8_MIN, INT8_MAX)
DEFCLIP(clip_i16, int16_t, INT16_MIN, INT16_MAX)
DEFCLIP(clip_i32, int32_t, INT32_MIN, INT32_MAX)
DEFCLIP(clip_i64, int64_t, INT64_MIN, INT64_MAX)
DEFCLIP(clip_u8, uint8_t, 0, UINT8_MAX)
DEFCLIP(clip_u16, uint16_t, 0, UINT16_MAX)
DEFCLIP(clip_u32, uint32_t, 0, UINT32_MAX)
DEFCLIP(clip_u64, uint64_t, 0, UINT64_MAX)

static ew_clip_fn clip_pick(int dt) {
    switch (dt) {
    case VX_FLOAT: return clip_f32;
    case VX_DOUBLE: return clip_f64;
    case VX_INT8: return clip_i8;
    case VX_INT16: return clip_i16;
    case VX_INT32: return clip_i32;
    case VX_INT64: return clip_i64;
    case VX_UINT8: return clip_u8;
    case VX_UINT16: return clip_u16;
    case VX_UINT32: return clip_u32;
    case VX_UINT64: return clip_u64;
    default: return NULL;
    }
}

/* A bound from an optional input: NULL = absent, else its single element. */
static int clip_bound(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, int i,
                      int dtype, const void **bound) {
    *bound = NULL;
    if (i >= n_in || !in[i]) return 0;
    const vx_tensor *t = in[i];
    if (t->dtype != dtype)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "%s has dtype %s, input has %s",
                          i == 1 ? "min" : "max", vx_dtype_name(t->dtype), vx_dtype_name(dtype));
    if (t->numel != 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "%s must be a scalar, has %lld elements",
                          i == 1 ? "min" : "max", (long long)t->numel);
    *bound = t->data;
    return 0;
}

int vx_op_Clip(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, vx_tensor *out,
               int n_out) {
    int rc = vx_ew_need(ctx, node, in, n_in, 1, n_out);
    if (rc) return rc;
    const vx_tensor *x = in[0];
    ew_clip_fn fn = clip_pick(x->dtype);
    if (!fn)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "input dtype %s not supported",
                          vx_dtype_name(x->dtype));
    const void *lo = NULL, *hi = NULL;
    float flo, fhi;
    double dlo, dhi;
    if (ctx->opset < 11 && n_in < 2) {
        /* Before opset 11 the bounds were float attributes (inputs, if any are given,
         * win: a caller that left ctx->opset unset must not lose them). */
        flo = vx_attr_float(node, "min", -FLT_MAX);
        fhi = vx_attr_float(node, "max", FLT_MAX);
        dlo = flo;
        dhi = fhi;
        if (x->dtype == VX_FLOAT) {
            lo = &flo;
            hi = &fhi;
        } else if (x->dtype == VX_DOUBLE) {
            lo = &dlo;
            hi = &dhi;
        } else
            return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED,
                              "input dtype %s not supported "
                              "before opset 11",
                              vx_dtype_name(x->dtype));
    } else {
        if ((rc = clip_bound(ctx, node, in, n_in, 1, x->dtype, &lo))) return rc;
        if ((rc = clip_bound(ctx, node, in, n_in, 2, x->dtype, &hi))) return rc;
    }
    rc = vx_op_alloc(ctx, out, x->dtype, x->ndim, x->dims);
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    if (x->numel) fn(x->data, out->data, x->numel, lo, hi);
    return 0;
}

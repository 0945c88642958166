/* Elementwise kernels: binary arithmetic, comparisons and logic with multidirectional
 * broadcasting, the variadic Sum/Mean/Max/Min, PRelu, Where, and the op table (unary
 * ops live in ew_unary.c, Cast in ew_cast.c).
 *
 * Each (op, dtype) pair is one row function over `n` elements where each input's
 * stride along the row is 0 (broadcast) or 1; the four stride cases are separate
 * loops so the compiler vectorizes the common ones. The broadcast plan (broadcast.h)
 * turns any pair of shapes into rows.
 *
 * Integer semantics (documented choices, exact and never undefined behaviour):
 *   Add/Sub/Mul/Neg wrap around (two's complement), like onnxruntime on x86.
 *   Div truncates toward zero (C / and onnxruntime; the onnx reference casts numpy's
 *   true division back to the integer type, which also truncates). x / 0 = 0 and
 *   INT_MIN / -1 = INT_MIN, where onnxruntime would trap.
 *   Mod fmod=0: the result takes the divisor's sign (Python %); fmod=1: the dividend's
 *   (C %). x mod 0 = 0. Float Mod requires fmod=1, as onnxruntime does.
 *   Pow with an integer base: exact repeated squaring (wrapping) for integer exponents;
 *   a negative exponent gives 1/base^e truncated (0 unless base is 1 or -1).
 */
#include "ops/op.h"
#include "util/tpool.h"
#include "ops/broadcast.h"
#include "ops/ew_ops.h"
#include "vox.h"
#include <math.h>
#include <string.h>

typedef void (*ew_row2)(const void *a, int64_t sa, const void *b, int64_t sb, void *o, int64_t n);
typedef struct ew_impl2 {
    int dtype;
    ew_row2 fn;
} ew_impl2;

/* Inside EXPR: x (from a, type TA = T), y (from b), U (an unsigned type for wrapping
 * integer arithmetic; the float type itself for floats). */
#define DEF2(NAME, TA, TB, UT, TO, EXPR)                                                           \
    static void NAME(const void *pa, int64_t sa, const void *pb, int64_t sb, void *po,             \
                     int64_t n) {                                                                  \
        typedef TA T;                                                                              \
        typedef UT U;                                                                              \
        (void)sizeof(T);                                                                           \
        (void)sizeof(U);                                                                           \
        const TA *a = pa;                                                                          \
        const TB *b = pb;                                                                          \
        TO *o = po;                                                                                \
        if (sa && sb) {                                                                            \
            for (int64_t i = 0; i < n; i++) {                                                      \
                TA x = a[i];                                                                       \
                TB y = b[i];                                                                       \
                o[i] = (TO)(EXPR);                                                                 \
            }                                                                                      \
        } else if (sa) {                                                                           \
            const TB y = b[0];                                                                     \
            for (int64_t i = 0; i < n; i++) {                                                      \
                TA x = a[i];                                                                       \
                o[i] = (TO)(EXPR);                                                                 \
            }                                                                                      \
        } else if (sb) {                                                                           \
            const TA x = a[0];                                                                     \
            for (int64_t i = 0; i < n; i++) {                                                      \
                TB y = b[i];                                                                       \
                o[i] = (TO)(EXPR);                                                                 \
            }                                                                                      \
        } else {                                                                                   \
            const TA x = a[0];                                                                     \
            const TB y = b[0];                                                                     \
            const TO v = (TO)(EXPR);                                                               \
            for (int64_t i = 0; i < n; i++) o[i] = v;                                              \
        }                                                                                          \
    }

#define SAME(t)  t
#define BOOLT(t) uint8_t
#define DEF_FLT(op, OT, EXPR)                                                                      \
    DEF2(op##_f32, float, float, float, OT(float), EXPR)                                           \
    DEF2(op##_f64, double, double, double, OT(double), EXPR)
#define DEF_SINT(op, OT, EXPR)                                                                     \
    DEF2(op##_i8, int8_t, int8_t, uint32_t, OT(int8_t), EXPR)                                      \
    DEF2(op##_i16, int16_t, int16_t, uint32_t, OT(int16_t), EXPR)                                  \
    DEF2(op##_i32, int32_t, int32_t, uint32_t, OT(int32_t), EXPR)                                  \
    DEF2(op##_i64, int64_t, int64_t, uint64_t, OT(int64_t), EXPR)
#define DEF_UINT(op, OT, EXPR)                                                                     \
    DEF2(op##_u8, uint8_t, uint8_t, uint32_t, OT(uint8_t), EXPR)                                   \
    DEF2(op##_u16, uint16_t, uint16_t, uint32_t, OT(uint16_t), EXPR)                               \
    DEF2(op##_u32, uint32_t, uint32_t, uint32_t, OT(uint32_t), EXPR)                               \
    DEF2(op##_u64, uint64_t, uint64_t, uint64_t, OT(uint64_t), EXPR)
#define DEF_INT(op, OT, EXPR) DEF_SINT(op, OT, EXPR) DEF_UINT(op, OT, EXPR)
#define DEF_ALL(op, OT, EXPR) DEF_FLT(op, OT, EXPR) DEF_INT(op, OT, EXPR)
#define IMPL_FLT(op)                                                                               \
    {VX_FLOAT, op##_f32}, { VX_DOUBLE, op##_f64 }
#define IMPL_SINT(op)                                                                              \
    {VX_INT8, op##_i8}, {VX_INT16, op##_i16}, {VX_INT32, op##_i32}, { VX_INT64, op##_i64 }
#define IMPL_UINT(op)                                                                              \
    {VX_UINT8, op##_u8}, {VX_UINT16, op##_u16}, {VX_UINT32, op##_u32}, { VX_UINT64, op##_u64 }
#define IMPL_ALL(op) IMPL_FLT(op), IMPL_SINT(op), IMPL_UINT(op)

/* Arithmetic. (U) casts make integer overflow wrap instead of being undefined. */
DEF_ALL(add, SAME, (T)((U)x + (U)y))
DEF_ALL(sub, SAME, (T)((U)x - (U)y))
DEF_ALL(mul, SAME, (T)((U)x *(U)y))
DEF_FLT(div, SAME, x / y)
DEF_SINT(div, SAME, y == 0 ? (T)0 : y == -1 ? (T)(0u - (U)x) : (T)(x / y))
DEF_UINT(div, SAME, y == 0 ? (T)0 : (T)(x / y))
DEF2(fmod_f32, float, float, float, float, fmodf(x, y))
DEF2(fmod_f64, double, double, double, double, fmod(x, y))
DEF_SINT(fmod, SAME, (y == 0 || y == -1) ? (T)0 : (T)(x % y))
DEF_UINT(mod, SAME, y == 0 ? (T)0 : (T)(x % y))
DEF_SINT(mod, SAME,
         (y == 0 || y == -1) ? (T)0
                             : (T)((x % y != 0 && ((x % y < 0) != (y < 0))) ? x % y + y : x % y))
/* Max/Min propagate NaN from either side. */
DEF_FLT(max, SAME, x != x ? x : y != y ? y : x < y ? y : x)
DEF_FLT(min, SAME, x != x ? x : y != y ? y : y < x ? y : x)
DEF_INT(max, SAME, x < y ? y : x)
DEF_INT(min, SAME, y < x ? y : x)
DEF_FLT(prelu, SAME, x < 0 ? x * y : x)
DEF_SINT(prelu, SAME, x < 0 ? (T)((U)x * (U)y) : x)

/* Comparisons and logic -> bool. */
DEF_ALL(eq, BOOLT, x == y)
DEF2(eq_b, uint8_t, uint8_t, uint32_t, uint8_t, (x != 0) == (y != 0))
DEF_ALL(lt, BOOLT, x < y)
DEF_ALL(le, BOOLT, x <= y)
DEF_ALL(gt, BOOLT, x > y)
DEF_ALL(ge, BOOLT, x >= y)
DEF2(and_b, uint8_t, uint8_t, uint32_t, uint8_t, (x != 0) & (y != 0))
DEF2(or_b, uint8_t, uint8_t, uint32_t, uint8_t, (x != 0) | (y != 0))
DEF2(xor_b, uint8_t, uint8_t, uint32_t, uint8_t, (x != 0) ^ (y != 0))

/* Pow. Float bases: the exponent is first converted to the base type; squaring and
 * cubing are done by multiplication, like onnxruntime (exact for exponent 2). */
DEF2(pow_f32, float, float, float, float, y == 2 ? x * x : y == 3 ? x * x * x : powf(x, y))
DEF2(pow_f64, double, double, double, double, y == 2 ? x * x : y == 3 ? x * x * x : pow(x, y))

static int64_t ipow(int64_t base, int64_t e) {
    if (e < 0) return base == 1 ? 1 : base == -1 ? ((e & 1) ? -1 : 1) : 0;
    uint64_t r = 1, b = (uint64_t)base;
    while (e) {
        if (e & 1) r *= b;
        b *= b;
        e >>= 1;
    }
    return (int64_t)r;
}
/* Integer bases: exponent as int64 (integer exponents) or double (float exponents). */
DEF2(pow_i32_i, int32_t, int64_t, uint32_t, int32_t, (int32_t)ipow(x, y))
DEF2(pow_i64_i, int64_t, int64_t, uint64_t, int64_t, ipow(x, y))
DEF2(pow_i32_f, int32_t, double, uint32_t, int32_t, vx_f2i32(pow((double)x, y)))
DEF2(pow_i64_f, int64_t, double, uint64_t, int64_t, vx_f2i64(pow((double)x, y)))

static const ew_impl2 add_impl[] = {IMPL_ALL(add), {0, 0}};
static const ew_impl2 sub_impl[] = {IMPL_ALL(sub), {0, 0}};
static const ew_impl2 mul_impl[] = {IMPL_ALL(mul), {0, 0}};
static const ew_impl2 div_impl[] = {IMPL_ALL(div), {0, 0}};
static const ew_impl2 fmod_impl[] = {IMPL_FLT(fmod), IMPL_SINT(fmod), IMPL_UINT(mod), {0, 0}};
static const ew_impl2 mod_impl[] = {IMPL_SINT(mod), IMPL_UINT(mod), {0, 0}};
static const ew_impl2 max_impl[] = {IMPL_ALL(max), {0, 0}};
static const ew_impl2 min_impl[] = {IMPL_ALL(min), {0, 0}};
static const ew_impl2 sum_impl[] = {IMPL_ALL(add), {0, 0}};
static const ew_impl2 mean_impl[] = {IMPL_FLT(add), {0, 0}};
static const ew_impl2 prelu_impl[] = {IMPL_FLT(prelu), IMPL_SINT(prelu), {0, 0}};
static const ew_impl2 eq_impl[] = {IMPL_ALL(eq), {VX_BOOL, eq_b}, {0, 0}};
static const ew_impl2 lt_impl[] = {IMPL_ALL(lt), {0, 0}};
static const ew_impl2 le_impl[] = {IMPL_ALL(le), {0, 0}};
static const ew_impl2 gt_impl[] = {IMPL_ALL(gt), {0, 0}};
static const ew_impl2 ge_impl[] = {IMPL_ALL(ge), {0, 0}};
static const ew_impl2 and_impl[] = {{VX_BOOL, and_b}, {0, 0}};
static const ew_impl2 or_impl[] = {{VX_BOOL, or_b}, {0, 0}};
static const ew_impl2 xor_impl[] = {{VX_BOOL, xor_b}, {0, 0}};

static ew_row2 pick2(const ew_impl2 *impl, int dtype) {
    for (; impl->fn; impl++)
        if (impl->dtype == dtype) return impl->fn;
    return NULL;
}

static int fail_shapes(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *a,
                       const vx_tensor *b) {
    char sa[96], sb[96];
    return vx_op_fail(ctx, node, VOX_ERR_MODEL, "shapes %s and %s cannot be broadcast",
                      vx_shape_str(sa, sizeof sa, a->ndim, a->dims),
                      vx_shape_str(sb, sizeof sb, b->ndim, b->dims));
}

static int fail_dtype(vx_op_ctx *ctx, const vx_node *node, int dtype) {
    return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "input dtype %s not supported",
                      vx_dtype_name(dtype));
}

/* out = fn(a, b) broadcast; out gets out_dtype. */
static int same_dims(const vx_tensor *t, int ndim, const int64_t *dims) {
    if (t->ndim != ndim) return 0;
    for (int i = 0; i < ndim; i++)
        if (t->dims[i] != dims[i]) return 0;
    return 1;
}

/* A binary row loop split over the pool: the flat output range [b, e) crosses rows of
 * the broadcast plan, each located with vx_bcast_row. */
typedef struct bin_job {
    const vx_bcast *bc;
    ew_row2 fn;
    const char *pa, *pb;
    char *po;
    size_t ea, eb, eo;
} bin_job;
static void bin_task(void *arg, int64_t b, int64_t e) {
    const bin_job *j = arg;
    const vx_bcast *bc = j->bc;
    while (b < e) {
        int64_t r = b / bc->inner, i0 = b - r * bc->inner;
        int64_t len = bc->inner - i0 < e - b ? bc->inner - i0 : e - b;
        int64_t off[VX_BCAST_MAX_IN];
        vx_bcast_row(bc, r, off);
        j->fn(j->pa + (size_t)(off[0] + i0 * bc->istride[0]) * j->ea, bc->istride[0],
              j->pb + (size_t)(off[1] + i0 * bc->istride[1]) * j->eb, bc->istride[1],
              j->po + (size_t)b * j->eo, len);
        b += len;
    }
}

/* inplace: bit 0/1 = a/b may be overwritten (vx_op_ctx.inplace, only when a and b are the
 * node's inputs 0 and 1). The rows are elementwise, so an output aliasing an input of
 * the output's exact shape reads each element before writing it. */
static int run_binary(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *a, const vx_tensor *b,
                      vx_tensor *out, int out_dtype, ew_row2 fn, unsigned inplace) {
    vx_bcast bc;
    const vx_tensor *ins[2] = {a, b};
    if (vx_bcast_init(&bc, 2, ins)) return fail_shapes(ctx, node, a, b);
    const vx_tensor *reuse = NULL;
    for (int j = 0; j < 2 && !reuse; j++)
        if ((inplace >> j & 1) && ins[j]->dtype == out_dtype && ins[j]->numel &&
            same_dims(ins[j], bc.out_ndim, bc.out_dims))
            reuse = ins[j];
    int rc = 0;
    if (reuse)
        vx_tensor_view(out, reuse);
    else
        rc = vx_op_alloc_raw(ctx, out, out_dtype, bc.out_ndim,
                             bc.out_dims); /* every row is written */
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    size_t ea = vx_dtype_size(a->dtype), eb = vx_dtype_size(b->dtype);
    size_t eo = vx_dtype_size(out_dtype);
    const char *pa = a->data, *pb = b->data;
    char *po = out->data;
    int64_t chunks;
    vx_ew_par_chunks(ctx->pool, bc.outer * bc.inner, &chunks);
    if (chunks > 1) {
        bin_job j = {&bc, fn, pa, pb, po, ea, eb, eo};
        vx_tpool_for_chunks(ctx->pool, bc.outer * bc.inner, chunks, bin_task, &j);
        return 0;
    }
    vx_bcast_pos p;
    vx_bcast_start(&bc, &p);
    for (int64_t r = 0; r < bc.outer; r++, vx_bcast_next(&bc, &p))
        fn(pa + (size_t)p.off[0] * ea, bc.istride[0], pb + (size_t)p.off[1] * eb, bc.istride[1],
           po + (size_t)(r * bc.inner) * eo, bc.inner);
    return 0;
}

/* Two same-dtype inputs, output of the same dtype (or bool). */
static int binary_op(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                     vx_tensor *out, int n_out, const ew_impl2 *impl, int bool_out) {
    int rc = vx_ew_need(ctx, node, in, n_in, 2, n_out);
    if (rc) return rc;
    const vx_tensor *a = in[0], *b = in[1];
    if (a->dtype != b->dtype)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "input dtypes differ: %s and %s",
                          vx_dtype_name(a->dtype), vx_dtype_name(b->dtype));
    ew_row2 fn = pick2(impl, a->dtype);
    if (!fn) return fail_dtype(ctx, node, a->dtype);
    return run_binary(ctx, node, a, b, out, bool_out ? VX_BOOL : a->dtype, fn, ctx->inplace & 3);
}

#define BINARY(Name, impl, bool_out)                                                               \
    static int op_##Name(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,      \
                         vx_tensor *out, int n_out) {                                              \
        return binary_op(ctx, node, in, n_in, out, n_out, impl, bool_out);                         \
    }

BINARY(Add, add_impl, 0)
BINARY(Sub, sub_impl, 0)
BINARY(Mul, mul_impl, 0)
BINARY(Div, div_impl, 0)
BINARY(Equal, eq_impl, 1)
BINARY(Less, lt_impl, 1)
BINARY(LessOrEqual, le_impl, 1)
BINARY(Greater, gt_impl, 1)
BINARY(GreaterOrEqual, ge_impl, 1)
BINARY(And, and_impl, 1)
BINARY(Or, or_impl, 1)
BINARY(Xor, xor_impl, 1)

static int op_Mod(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                  vx_tensor *out, int n_out) {
    int64_t fm = vx_attr_int(node, "fmod", 0);
    if (!fm && n_in >= 1 && in[0] && (in[0]->dtype == VX_FLOAT || in[0]->dtype == VX_DOUBLE))
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "fmod must be 1 for %s inputs",
                          vx_dtype_name(in[0]->dtype));
    return binary_op(ctx, node, in, n_in, out, n_out, fm ? fmod_impl : mod_impl, 0);
}

/* PRelu: slope broadcasts to X's shape (unidirectionally); output has X's shape. */
static int op_PRelu(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                    vx_tensor *out, int n_out) {
    int rc = vx_ew_need(ctx, node, in, n_in, 2, n_out);
    if (rc) return rc;
    const vx_tensor *x = in[0], *s = in[1];
    int nd;
    int64_t d[VX_MAX_DIMS];
    if (vx_broadcast_dims(x->ndim, x->dims, s->ndim, s->dims, &nd, d) || nd != x->ndim ||
        memcmp(d, x->dims, sizeof(int64_t) * (size_t)nd)) {
        char sx[96], ss[96];
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "slope shape %s does not broadcast to %s",
                          vx_shape_str(ss, sizeof ss, s->ndim, s->dims),
                          vx_shape_str(sx, sizeof sx, x->ndim, x->dims));
    }
    return binary_op(ctx, node, in, n_in, out, n_out, prelu_impl, 0);
}

/* Pow: output has the base's dtype; the exponent may have any numeric dtype. */
static int op_Pow(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                  vx_tensor *out, int n_out) {
    int rc = vx_ew_need(ctx, node, in, n_in, 2, n_out);
    if (rc) return rc;
    const vx_tensor *x = in[0], *e = in[1];
    int fexp = e->dtype == VX_FLOAT || e->dtype == VX_DOUBLE || e->dtype == VX_FLOAT16;
    int work; /* dtype the exponent is converted to */
    ew_row2 fn;
    switch (x->dtype) {
    case VX_FLOAT:
        work = VX_FLOAT;
        fn = pow_f32;
        break;
    case VX_DOUBLE:
        work = VX_DOUBLE;
        fn = pow_f64;
        break;
    case VX_INT32:
        work = fexp ? VX_DOUBLE : VX_INT64;
        fn = fexp ? pow_i32_f : pow_i32_i;
        break;
    case VX_INT64:
        work = fexp ? VX_DOUBLE : VX_INT64;
        fn = fexp ? pow_i64_f : pow_i64_i;
        break;
    default: return fail_dtype(ctx, node, x->dtype);
    }
    if (e->dtype == VX_BOOL || !vx_ew_convert_supported(e->dtype))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "exponent dtype %s not supported",
                          vx_dtype_name(e->dtype));
    if (e->dtype == work) return run_binary(ctx, node, x, e, out, x->dtype, fn, 0);
    vx_tensor ew = *e; /* the exponent converted, same shape */
    ew.dtype = work;
    ew.owned = 0;
    ew.data = vx_aligned_alloc((size_t)e->numel * vx_dtype_size(work));
    if (!ew.data) return vx_op_fail(ctx, node, VOX_ERR_NOMEM, "out of memory");
    vx_ew_convert(e->data, e->dtype, ew.data, work, e->numel);
    rc = run_binary(ctx, node, x, &ew, out, x->dtype, fn, 0);
    vx_aligned_free(ew.data);
    return rc;
}

/* Sum/Mean/Max/Min: any number of same-dtype inputs, all broadcast together. The first
 * input is broadcast into the output, then each other one is folded in place. */
static int variadic(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                    vx_tensor *out, int n_out, const ew_impl2 *impl, int mean) {
    if (n_in < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "expects at least 1 input");
    int rc = vx_ew_need(ctx, node, in, n_in, n_in, n_out);
    if (rc) return rc;
    int dt = in[0]->dtype;
    ew_row2 fn = pick2(impl, dt);
    if (!fn) return fail_dtype(ctx, node, dt);
    int nd = in[0]->ndim;
    int64_t d[VX_MAX_DIMS];
    memcpy(d, in[0]->dims, sizeof d);
    for (int k = 1; k < n_in; k++) {
        if (in[k]->dtype != dt)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "input dtypes differ: %s and %s",
                              vx_dtype_name(dt), vx_dtype_name(in[k]->dtype));
        vx_tensor acc = {0};
        acc.ndim = nd;
        memcpy(acc.dims, d, sizeof d);
        if (vx_broadcast_dims(nd, d, in[k]->ndim, in[k]->dims, &nd, d))
            return fail_shapes(ctx, node, &acc, in[k]);
    }
    rc = vx_op_alloc(ctx, out, dt, nd, d);
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    if (!out->numel) return 0;
    if (vx_broadcast_copy(in[0], out))
        return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "broadcast copy failed");
    size_t es = vx_dtype_size(dt);
    for (int k = 1; k < n_in; k++) {
        vx_bcast bc;
        const vx_tensor *ins[2] = {out, in[k]};
        if (vx_bcast_init(&bc, 2, ins)) return fail_shapes(ctx, node, out, in[k]);
        char *po = out->data;
        const char *pb = in[k]->data;
        vx_bcast_pos p;
        vx_bcast_start(&bc, &p);
        for (int64_t r = 0; r < bc.outer; r++, vx_bcast_next(&bc, &p))
            fn(po + (size_t)p.off[0] * es, bc.istride[0], pb + (size_t)p.off[1] * es, bc.istride[1],
               po + (size_t)(r * bc.inner) * es, bc.inner);
    }
    if (mean && n_in > 1) {
        if (dt == VX_FLOAT) {
            float *o = out->data;
            for (int64_t i = 0; i < out->numel; i++) o[i] /= (float)n_in;
        } else {
            double *o = out->data;
            for (int64_t i = 0; i < out->numel; i++) o[i] /= (double)n_in;
        }
    }
    return 0;
}

#define VARIADIC(Name, impl, mean)                                                                 \
    static int op_##Name(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,      \
                         vx_tensor *out, int n_out) {                                              \
        return variadic(ctx, node, in, n_in, out, n_out, impl, mean);                              \
    }

VARIADIC(Sum, sum_impl, 0)
VARIADIC(Mean, mean_impl, 1)
VARIADIC(Max, max_impl, 0)
VARIADIC(Min, min_impl, 0)

/* ---- Div(Add(Add(x, y), z), d), fused at load (engine/fuse.c vx_graph_fuse_sum).
 * HiFi-GAN sums its parallel residual blocks and divides by their count: two Adds and a
 * Div, each a pass over the decoder's largest tensors (medium, 200 ids: 32 x 380,416
 * floats, 49 MB, far out of cache), become one pass reading three and writing one.
 * out = ((x + y) + z) / d: the nodes' own float operations in their order (addition
 * commutes exactly), so the same bits. Other dtypes or shapes run the three nodes. */
typedef struct sum_job {
    const float *x, *y, *z;
    float *o; /* may be x, y or z (each element is read before it is written) */
    float d;
} sum_job;
static void sum_task(void *arg, int64_t b, int64_t e) {
    const sum_job *j = arg;
    const float *x = j->x, *y = j->y, *z = j->z;
    float *o = j->o, d = j->d;
#if defined(__clang__)
#pragma clang loop vectorize(assume_safety)
#elif defined(__GNUC__)
#pragma GCC ivdep
#endif
    for (int64_t i = b; i < e; i++) o[i] = ((x[i] + y[i]) + z[i]) / d;
}

static int sum_div_fast(const vx_tensor *const *in) {
    const vx_tensor *x = in[0], *d = in[3];
    if (!x || !d || x->dtype != VX_FLOAT || d->dtype != VX_FLOAT || d->numel != 1 ||
        d->ndim > x->ndim || !d->data)
        return 0;
    for (int j = 1; j < 3; j++)
        if (!in[j] || in[j]->dtype != VX_FLOAT || !same_dims(in[j], x->ndim, x->dims)) return 0;
    return 1;
}

/* The three nodes one after the other (temporaries released). */
static int sum_div_nodes(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in,
                         vx_tensor *out) {
    const vx_op_prep *pr = ctx->prep;
    vx_op_ctx c2 = *ctx;
    c2.prep = NULL;
    c2.inplace = 0;
    c2.dying = 0;
    vx_tensor s1 = {0}, s2 = {0};
    vx_tensor *a1[2] = {in[0], in[1]}, *a2[2] = {&s1, in[2]}, *a3[2] = {&s2, in[3]};
    int rc = op_Add(&c2, pr->sum_nodes[0], a1, 2, &s1, 1);
    if (!rc) rc = op_Add(&c2, pr->sum_nodes[1], a2, 2, &s2, 1);
    if (!rc) rc = op_Div(&c2, node, a3, 2, out, 1);
    vx_tensor_release(&s1);
    vx_tensor_release(&s2);
    return rc;
}

static int op_sum_div(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                      vx_tensor *out, int n_out) {
    const vx_op_prep *pr = ctx->prep;
    if (n_in != 4 || n_out != 1 || !pr || !pr->sum_nodes[0] || !pr->sum_nodes[1])
        return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "fused sum without its nodes");
    if (!sum_div_fast((const vx_tensor *const *)in)) return sum_div_nodes(ctx, node, in, out);
    const vx_tensor *x = in[0], *reuse = NULL;
    for (int j = 0; j < 3 && !reuse; j++)
        if ((ctx->inplace >> j & 1) && in[j]->numel) reuse = in[j];
    int rc = 0;
    if (reuse)
        vx_tensor_view(out, reuse);
    else
        rc = vx_op_alloc_raw(ctx, out, VX_FLOAT, x->ndim, x->dims); /* every element written */
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    sum_job j = {x->data, in[1]->data, in[2]->data, out->data, *(const float *)in[3]->data};
    int64_t chunks;
    vx_ew_par_chunks(ctx->pool, x->numel, &chunks);
    if (chunks > 1)
        vx_tpool_for_chunks(ctx->pool, x->numel, chunks, sum_task, &j);
    else
        sum_task(&j, 0, x->numel);
    return 0;
}
const vx_op_def vx_sum_div_def = {"SumDiv", op_sum_div, 1};

/* Where(cond, X, Y): three-way broadcast; copies by element size. */
#define DEFWHERE(NAME, T)                                                                          \
    static void NAME(const uint8_t *c, int64_t sc, const void *px, int64_t sx, const void *py,     \
                     int64_t sy, void *po, int64_t n) {                                            \
        const T *x = px, *y = py;                                                                  \
        T *o = po;                                                                                 \
        if (sc && sx && sy)                                                                        \
            for (int64_t i = 0; i < n; i++) o[i] = c[i] ? x[i] : y[i];                             \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++) o[i] = c[i * sc] ? x[i * sx] : y[i * sy];              \
    }
DEFWHERE(where_1, uint8_t)
DEFWHERE(where_2, uint16_t)
DEFWHERE(where_4, uint32_t)
DEFWHERE(where_8, uint64_t)

static int op_Where(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                    vx_tensor *out, int n_out) {
    int rc = vx_ew_need(ctx, node, in, n_in, 3, n_out);
    if (rc) return rc;
    const vx_tensor *c = in[0], *x = in[1], *y = in[2];
    if (c->dtype != VX_BOOL)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "condition must be bool, got %s",
                          vx_dtype_name(c->dtype));
    if (x->dtype != y->dtype)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "input dtypes differ: %s and %s",
                          vx_dtype_name(x->dtype), vx_dtype_name(y->dtype));
    size_t es = vx_dtype_size(x->dtype);
    void (*fn)(const uint8_t *, int64_t, const void *, int64_t, const void *, int64_t, void *,
               int64_t);
    switch (es) {
    case 1: fn = where_1; break;
    case 2: fn = where_2; break;
    case 4: fn = where_4; break;
    case 8: fn = where_8; break;
    default: return fail_dtype(ctx, node, x->dtype);
    }
    vx_bcast bc;
    const vx_tensor *ins[3] = {c, x, y};
    if (vx_bcast_init(&bc, 3, ins)) {
        char s0[96], s1[96], s2[96];
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "shapes %s, %s and %s cannot be broadcast",
                          vx_shape_str(s0, sizeof s0, c->ndim, c->dims),
                          vx_shape_str(s1, sizeof s1, x->ndim, x->dims),
                          vx_shape_str(s2, sizeof s2, y->ndim, y->dims));
    }
    rc = vx_op_alloc(ctx, out, x->dtype, bc.out_ndim, bc.out_dims);
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    const uint8_t *pc = c->data;
    const char *px = x->data, *py = y->data;
    char *po = out->data;
    vx_bcast_pos p;
    vx_bcast_start(&bc, &p);
    for (int64_t r = 0; r < bc.outer; r++, vx_bcast_next(&bc, &p))
        fn(pc + p.off[0], bc.istride[0], px + (size_t)p.off[1] * es, bc.istride[1],
           py + (size_t)p.off[2] * es, bc.istride[2], po + (size_t)(r * bc.inner) * es, bc.inner);
    return 0;
}

const vx_op_def vx_ops_elementwise[] = {
    {"Add", op_Add, 1},
    {"Sub", op_Sub, 1},
    {"Mul", op_Mul, 1},
    {"Div", op_Div, 1},
    {"Pow", op_Pow, 1},
    {"Mod", op_Mod, 1},
    {"PRelu", op_PRelu, 1},
    {"Max", op_Max, 1},
    {"Min", op_Min, 1},
    {"Sum", op_Sum, 1},
    {"Mean", op_Mean, 1},
    {"Equal", op_Equal, 1},
    {"Less", op_Less, 1},
    {"LessOrEqual", op_LessOrEqual, 1},
    {"Greater", op_Greater, 1},
    {"GreaterOrEqual", op_GreaterOrEqual, 1},
    {"And", op_And, 1},
    {"Or", op_Or, 1},
    {"Xor", op_Xor, 1},
    {"Not", vx_op_Not, 1},
    {"Where", op_Where, 1},
    {"Neg", vx_op_Neg, 1},
    {"Abs", vx_op_Abs, 1},
    {"Sqrt", vx_op_Sqrt, 1},
    {"Exp", vx_op_Exp, 1},
    {"Log", vx_op_Log, 1},
    {"Erf", vx_op_Erf, 1},
    {"Tanh", vx_op_Tanh, 1},
    {"Sigmoid", vx_op_Sigmoid, 1},
    {"Relu", vx_op_Relu, 1},
    {"LeakyRelu", vx_op_LeakyRelu, 1},
    {"Elu", vx_op_Elu, 1},
    {"Selu", vx_op_Selu, 1},
    {"Softplus", vx_op_Softplus, 1},
    {"Softsign", vx_op_Softsign, 1},
    {"HardSigmoid", vx_op_HardSigmoid, 1},
    {"Ceil", vx_op_Ceil, 1},
    {"Floor", vx_op_Floor, 1},
    {"Round", vx_op_Round, 1},
    {"Sign", vx_op_Sign, 1},
    {"Reciprocal", vx_op_Reciprocal, 1},
    {"Sin", vx_op_Sin, 1},
    {"Cos", vx_op_Cos, 1},
    {"IsNaN", vx_op_IsNaN, 1},
    {"IsInf", vx_op_IsInf, 1},
    {"Identity", vx_op_Identity, 1},
    {"Dropout", vx_op_Dropout, 1},
    {"Clip", vx_op_Clip, 1},
    {"Cast", vx_op_Cast, 1},
    {"CastLike", vx_op_CastLike, 1},
    {0, 0, 0},
};

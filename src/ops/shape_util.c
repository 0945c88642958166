/* Helpers shared by the shape kernels: input/axis/shape validation, strided copies and
 * scalar dtype conversions. */
#include "ops/shape_internal.h"
#include <math.h>
#include <stdio.h>

int vx_sh_req(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, int i,
              const vx_tensor **t) {
    const vx_tensor *x = vx_sh_opt(in, n_in, i);
    if (!x) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "missing required input %d", i);
    if (!vx_dtype_size(x->dtype))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "input %d has unsupported dtype %s", i,
                          vx_dtype_name(x->dtype));
    if (x->ndim < 0 || x->ndim > VX_MAX_DIMS || (x->numel > 0 && !x->data))
        return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "input %d is malformed", i);
    *t = x;
    return 0;
}

int vx_sh_axis(vx_op_ctx *ctx, const vx_node *node, int64_t axis, int rank, int *out) {
    if (axis < -(int64_t)rank || axis >= rank)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "axis %lld out of range for rank %d",
                          (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return 0;
}

const char *vx_sh_str(char *buf, size_t len, int nd, const int64_t *dims) {
    size_t k = 0;
    if (!len) return buf;
    buf[0] = 0;
    k += snprintf(buf, len, "[");
    for (int i = 0; i < nd && k < len; i++)
        k += snprintf(buf + k, len - k, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (k < len) snprintf(buf + k, len - k, "]");
    return buf;
}

int vx_sh_check_shape(vx_op_ctx *ctx, const vx_node *node, int ndim, const int64_t *dims) {
    if (ndim < 0 || ndim > VX_MAX_DIMS)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "output rank %d exceeds limit %d", ndim,
                          VX_MAX_DIMS);
    int64_t n = 1;
    int zero = 0;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "negative output dimension %lld",
                              (long long)dims[i]);
        if (dims[i] == 0) zero = 1;
    }
    /* An empty tensor is fine whatever its other dims are, as long as each fits. */
    for (int i = 0; i < ndim; i++) {
        if (dims[i] > VX_MAX_ELEMS) goto too_big;
        if (!zero && dims[i] && n > VX_MAX_ELEMS / dims[i]) goto too_big;
        if (!zero) n *= dims[i];
    }
    return 0;
too_big : {
    char b[200];
    return vx_op_fail(ctx, node, VOX_ERR_NOMEM,
                      "output shape %s exceeds the limit of %lld elements",
                      vx_sh_str(b, sizeof b, ndim, dims), (long long)VX_MAX_ELEMS);
}
}

int vx_sh_alloc(vx_op_ctx *ctx, const vx_node *node, vx_tensor *t, int dtype, int ndim,
                const int64_t *dims) {
    int rc = vx_sh_check_shape(ctx, node, ndim, dims);
    if (rc) return rc;
    if (!vx_dtype_size(dtype))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "unsupported output dtype %s",
                          vx_dtype_name(dtype));
    rc = vx_op_alloc(ctx, t, dtype, ndim, dims);
    if (rc) return vx_op_fail(ctx, node, rc, "out of memory allocating output");
    return 0;
}

int vx_sh_is_index(int dtype) { return dtype == VX_INT64 || dtype == VX_INT32; }

int vx_sh_ints(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *t, const char *what,
               int64_t *buf, int max, int *n) {
    if (!vx_sh_is_index(t->dtype))
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "%s must be int64 or int32, got %s", what,
                          vx_dtype_name(t->dtype));
    if (t->ndim > 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "%s must be 1-D, got rank %d", what, t->ndim);
    if (t->numel > max)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "%s has %lld values, at most %d allowed", what,
                          (long long)t->numel, max);
    for (int64_t i = 0; i < t->numel; i++) buf[i] = vx_sh_idx(t, i);
    *n = (int)t->numel;
    return 0;
}

int vx_sh_scalar_int(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *t, const char *what,
                     int64_t *v) {
    if (!vx_sh_is_index(t->dtype))
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "%s must be int64 or int32, got %s", what,
                          vx_dtype_name(t->dtype));
    if (t->numel != 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "%s must have exactly one value, has %lld",
                          what, (long long)t->numel);
    *v = vx_sh_idx(t, 0);
    return 0;
}

void vx_sh_strides(int nd, const int64_t *dims, int64_t *str) {
    int64_t s = 1;
    for (int i = nd - 1; i >= 0; i--) {
        str[i] = s;
        s *= dims[i];
    }
}

int64_t vx_sh_numel(int nd, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= dims[i];
    return n;
}

int vx_sh_merge(int nd, const int64_t *dims, const int64_t *sstr, int64_t *d, int64_t *s) {
    int m = 0;
    for (int i = 0; i < nd; i++) {
        if (dims[i] == 1) continue;
        if (m > 0 && s[m - 1] == sstr[i] * dims[i]) { /* outer axis steps over this one */
            d[m - 1] *= dims[i];
            s[m - 1] = sstr[i];
        } else {
            d[m] = dims[i];
            s[m] = sstr[i];
            m++;
        }
    }
    return m;
}

/* One output row of n elements read with element stride st. */
static void strided_row(char *o, const char *src, size_t es, int64_t n, int64_t st) {
    switch (es) {
#define ROW(T)                                                                                     \
    {                                                                                              \
        T *oo = (T *)o;                                                                            \
        const T *ss = (const T *)src;                                                              \
        for (int64_t k = 0; k < n; k++) oo[k] = ss[k * st];                                        \
    }                                                                                              \
    break;
    case 1: ROW(uint8_t)
    case 2: ROW(uint16_t)
    case 4: ROW(uint32_t)
    case 8: ROW(uint64_t)
#undef ROW
    default:
        for (int64_t k = 0; k < n; k++) memcpy(o + k * es, src + k * st * (int64_t)es, es);
    }
}

void vx_sh_strided_copy(void *dst, const void *src, size_t es, int nd, const int64_t *dims,
                        const int64_t *sstr) {
    for (int i = 0; i < nd; i++)
        if (dims[i] == 0) return;
    int64_t d[VX_SH_MAX_ND], s[VX_SH_MAX_ND];
    int m = vx_sh_merge(nd, dims, sstr, d, s);
    if (m == 0) {
        memcpy(dst, src, es);
        return;
    }
    int64_t row = d[m - 1], rst = s[m - 1];
    int outer_nd = m - 1;
    int64_t nrows = vx_sh_numel(outer_nd, d);
    int64_t idx[VX_SH_MAX_ND] = {0}, off = 0;
    char *o = dst;
    const char *sp = src;
    size_t rowbytes = (size_t)row * es;
    for (int64_t r = 0; r < nrows; r++, o += rowbytes) {
        if (rst == 1)
            memcpy(o, sp + off * (int64_t)es, rowbytes);
        else
            strided_row(o, sp + off * (int64_t)es, es, row, rst);
        for (int k = outer_nd - 1; k >= 0; k--) { /* odometer */
            off += s[k];
            if (++idx[k] < d[k]) break;
            off -= s[k] * d[k];
            idx[k] = 0;
        }
    }
}

uint16_t vx_sh_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, mant = x & 0x7fffff;
    int exp = (int)((x >> 23) & 0xff);
    if (exp == 255) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    int e = exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) { /* half subnormal (or zero) */
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000;
        int shift = 14 - e;
        uint32_t r = mant >> shift, rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t h = sign | ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* carry may reach inf: right */
    return (uint16_t)h;
}

float vx_sh_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, x;
    if (exp == 0) {
        float f = ldexpf((float)mant, -24);
        return sign ? -f : f;
    }
    if (exp == 31)
        x = sign | 0x7f800000 | (mant << 13);
    else
        x = sign | ((exp + 112) << 23) | (mant << 13);
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* double -> integer without UB: NaN gives 0, out-of-range values saturate. */
static int64_t sat_i64(double v, double lo, double hi) {
    if (v != v) return 0;
    if (v <= lo) return (int64_t)lo;
    if (v >= hi) return (int64_t)hi;
    return (int64_t)v;
}

void vx_sh_store_f64(int dtype, void *dst, double v) {
    switch (dtype) {
    case VX_FLOAT: *(float *)dst = (float)v; break;
    case VX_DOUBLE: *(double *)dst = v; break;
    case VX_FLOAT16: *(uint16_t *)dst = vx_sh_f32_to_f16((float)v); break;
    case VX_BOOL: *(uint8_t *)dst = v != 0; break;
    case VX_INT8: *(int8_t *)dst = (int8_t)sat_i64(v, INT8_MIN, INT8_MAX); break;
    case VX_UINT8: *(uint8_t *)dst = (uint8_t)sat_i64(v, 0, UINT8_MAX); break;
    case VX_INT16: *(int16_t *)dst = (int16_t)sat_i64(v, INT16_MIN, INT16_MAX); break;
    case VX_UINT16: *(uint16_t *)dst = (uint16_t)sat_i64(v, 0, UINT16_MAX); break;
    case VX_INT32: *(int32_t *)dst = (int32_t)sat_i64(v, INT32_MIN, INT32_MAX); break;
    case VX_UINT32: *(uint32_t *)dst = (uint32_t)sat_i64(v, 0, UINT32_MAX); break;
    /* 2^63 is exactly representable; values at or above it saturate. */
    case VX_INT64:
        *(int64_t *)dst = v != v         ? 0
                          : v >= 0x1p63  ? INT64_MAX
                          : v <= -0x1p63 ? INT64_MIN
                                         : (int64_t)v;
        break;
    case VX_UINT64:
        *(uint64_t *)dst = v != v || v <= 0 ? 0 : v >= 0x1p64 ? UINT64_MAX : (uint64_t)v;
        break;
    default: break;
    }
}

double vx_sh_load_f64(const vx_tensor *t, int64_t i) {
    if (t->dtype == VX_FLOAT16) return vx_sh_f16_to_f32(((const uint16_t *)t->data)[i]);
    return vx_tensor_get_f64(t, i);
}

void vx_sh_fill(void *dst, const void *elem, size_t es, int64_t n) {
    if (n <= 0) return;
    char *o = dst;
    memcpy(o, elem, es);
    size_t total = (size_t)n * es;
    for (size_t done = es; done < total; done *= 2) /* doubling copies */
        memcpy(o + done, o, done < total - done ? done : total - done);
}

/* Cast, CastLike and the dtype conversion helpers. */
#include "ops/ew_ops.h"
#include "vox.h"
#include <math.h>
#include <string.h>

uint16_t vx_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return sign | 0x7e00 | ((ax >> 13) & 0x1ff); /* NaN, quieted */
    if (ax >= 0x47800000u) return sign | 0x7c00;                       /* >= 2^16: inf */
    if (ax >= 0x38800000u) {                                           /* normal half */
        /* Rebias the exponent (127 -> 15) and drop 13 mantissa bits, rounding to
         * nearest even; a carry may ripple into the exponent, up to inf: correct. */
        uint32_t h = (ax - 0x38000000u) >> 13, rem = ax & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
        return sign | (uint16_t)h;
    }
    if (ax <= 0x33000000u) return sign; /* <= 2^-25: rounds (ties even) to 0 */
    /* Half subnormal: value / 2^-24 = m * 2^(e-126), a right shift by 126-e (14..24). */
    uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
    int shift = 126 - (int)e;
    uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) h++;
    return sign | (uint16_t)h;
}

float vx_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, x;
    if (e == 0x1f) {
        x = sign | 0x7f800000u | (m << 13);
    } else if (e) {
        x = sign | ((e + 112) << 23) | (m << 13);
    } else if (!m) {
        x = sign;
    } else { /* subnormal: normalize the mantissa */
        e = 113;
        while (!(m & 0x400)) {
            m <<= 1;
            e--;
        }
        x = sign | (e << 23) | ((m & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

int32_t vx_f2i32(double v) {
    if (!(v > -2147483649.0 && v < 2147483648.0)) return INT32_MIN; /* also NaN */
    return (int32_t)v;
}

int64_t vx_f2i64(double v) {
    if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) return INT64_MIN;
    return (int64_t)v;
}

/* Stores from a double (float sources) and from an int64 (integer sources). Narrow
 * integer targets go through int32 (then wrap), as compiled C++ static_casts do. */
static inline float d2_f32(double v) { return (float)v; }
static inline double d2_f64(double v) { return v; }
static inline uint16_t d2_f16(double v) { return vx_f32_to_f16((float)v); }
static inline uint8_t d2_bool(double v) { return v != 0; }
static inline int8_t d2_i8(double v) { return (int8_t)vx_f2i32(v); }
static inline uint8_t d2_u8(double v) { return (uint8_t)vx_f2i32(v); }
static inline int16_t d2_i16(double v) { return (int16_t)vx_f2i32(v); }
static inline uint16_t d2_u16(double v) { return (uint16_t)vx_f2i32(v); }
static inline int32_t d2_i32(double v) { return vx_f2i32(v); }
static inline int64_t d2_i64(double v) { return vx_f2i64(v); }
static inline uint32_t d2_u32(double v) { return (uint32_t)vx_f2i64(v); }
static inline uint64_t d2_u64(double v) {
    if (v >= 9223372036854775808.0 && v < 18446744073709551616.0)
        return (uint64_t)(v - 9223372036854775808.0) + ((uint64_t)1 << 63);
    return (uint64_t)vx_f2i64(v);
}

static inline float i2_f32(int64_t v) { return (float)v; }
static inline double i2_f64(int64_t v) { return (double)v; }
static inline uint16_t i2_f16(int64_t v) { return vx_f32_to_f16((float)v); }
static inline uint8_t i2_bool(int64_t v) { return v != 0; }
static inline int8_t i2_i8(int64_t v) { return (int8_t)v; }
static inline uint8_t i2_u8(int64_t v) { return (uint8_t)v; }
static inline int16_t i2_i16(int64_t v) { return (int16_t)v; }
static inline uint16_t i2_u16(int64_t v) { return (uint16_t)v; }
static inline int32_t i2_i32(int64_t v) { return (int32_t)v; }
static inline int64_t i2_i64(int64_t v) { return v; }
static inline uint32_t i2_u32(int64_t v) { return (uint32_t)v; }
static inline uint64_t i2_u64(int64_t v) { return (uint64_t)v; }

/* One tight loop per (source, target) pair: READ(i) yields a double (K = d) or an
 * int64 (K = i) that the K##2_* store converts. */
#define CV_LOOP(DT, K, FN)                                                                         \
    do {                                                                                           \
        DT *d = dst;                                                                               \
        for (int64_t i = 0; i < n; i++) d[i] = K##2_##FN(READ(i));                                 \
    } while (0)
#define CV_SWITCH(K)                                                                               \
    switch (ddt) {                                                                                 \
    case VX_FLOAT: CV_LOOP(float, K, f32); return 0;                                               \
    case VX_DOUBLE: CV_LOOP(double, K, f64); return 0;                                             \
    case VX_FLOAT16: CV_LOOP(uint16_t, K, f16); return 0;                                          \
    case VX_BOOL: CV_LOOP(uint8_t, K, bool); return 0;                                             \
    case VX_INT8: CV_LOOP(int8_t, K, i8); return 0;                                                \
    case VX_UINT8: CV_LOOP(uint8_t, K, u8); return 0;                                              \
    case VX_INT16: CV_LOOP(int16_t, K, i16); return 0;                                             \
    case VX_UINT16: CV_LOOP(uint16_t, K, u16); return 0;                                           \
    case VX_INT32: CV_LOOP(int32_t, K, i32); return 0;                                             \
    case VX_INT64: CV_LOOP(int64_t, K, i64); return 0;                                             \
    case VX_UINT32: CV_LOOP(uint32_t, K, u32); return 0;                                           \
    case VX_UINT64: CV_LOOP(uint64_t, K, u64); return 0;                                           \
    default: return -1;                                                                            \
    }

#define CV_FROM_FLOAT(NAME, ST)                                                                    \
    static int NAME(const ST *s, int ddt, void *dst, int64_t n) { CV_SWITCH(d) }
#define CV_FROM_INT(NAME, ST)                                                                      \
    static int NAME(const ST *s, int ddt, void *dst, int64_t n) { CV_SWITCH(i) }

#define READ(i) ((double)s[i])
CV_FROM_FLOAT(cv_f32, float)
CV_FROM_FLOAT(cv_f64, double)
#undef READ
#define READ(i) ((double)vx_f16_to_f32(s[i]))
CV_FROM_FLOAT(cv_f16, uint16_t)
#undef READ
#define READ(i) ((int64_t)s[i])
CV_FROM_INT(cv_i8, int8_t)
CV_FROM_INT(cv_u8, uint8_t)
CV_FROM_INT(cv_i16, int16_t)
CV_FROM_INT(cv_u16, uint16_t)
CV_FROM_INT(cv_i32, int32_t)
CV_FROM_INT(cv_i64, int64_t)
CV_FROM_INT(cv_u32, uint32_t)
#undef READ
#define READ(i) ((int64_t)(s[i] != 0))
CV_FROM_INT(cv_bool, uint8_t)
#undef READ

/* uint64 values above INT64_MAX must not pass through int64 on the way to a float. */
static int cv_u64(const uint64_t *s, int ddt, void *dst, int64_t n) {
    if (ddt == VX_FLOAT || ddt == VX_DOUBLE || ddt == VX_FLOAT16) {
#define READ(i) ((double)s[i])
        CV_SWITCH(d)
#undef READ
    }
#define READ(i) ((int64_t)s[i])
    CV_SWITCH(i)
#undef READ
}

int vx_ew_convert_supported(int dt) {
    switch (dt) {
    case VX_FLOAT:
    case VX_DOUBLE:
    case VX_FLOAT16:
    case VX_BOOL:
    case VX_INT8:
    case VX_UINT8:
    case VX_INT16:
    case VX_UINT16:
    case VX_INT32:
    case VX_INT64:
    case VX_UINT32:
    case VX_UINT64: return 1;
    default: return 0;
    }
}

int vx_ew_convert(const void *src, int sdt, void *dst, int ddt, int64_t n) {
    if (!vx_ew_convert_supported(sdt) || !vx_ew_convert_supported(ddt)) return -1;
    if (n <= 0) return 0;
    if (sdt == ddt) {
        memcpy(dst, src, (size_t)n * vx_dtype_size(sdt));
        return 0;
    }
    switch (sdt) {
    case VX_FLOAT: return cv_f32(src, ddt, dst, n);
    case VX_DOUBLE: return cv_f64(src, ddt, dst, n);
    case VX_FLOAT16: return cv_f16(src, ddt, dst, n);
    case VX_BOOL: return cv_bool(src, ddt, dst, n);
    case VX_INT8: return cv_i8(src, ddt, dst, n);
    case VX_UINT8: return cv_u8(src, ddt, dst, n);
    case VX_INT16: return cv_i16(src, ddt, dst, n);
    case VX_UINT16: return cv_u16(src, ddt, dst, n);
    case VX_INT32: return cv_i32(src, ddt, dst, n);
    case VX_INT64: return cv_i64(src, ddt, dst, n);
    case VX_UINT32: return cv_u32(src, ddt, dst, n);
    case VX_UINT64: return cv_u64(src, ddt, dst, n);
    default: return -1;
    }
}

static int cast_to(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *x, int to,
                   vx_tensor *out) {
    if (!vx_ew_convert_supported(x->dtype))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "input dtype %s not supported",
                          vx_dtype_name(x->dtype));
    if (!vx_ew_convert_supported(to))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "target dtype %s (%d) not supported",
                          vx_dtype_name(to), to);
    if (to == x->dtype) { /* the same values: a view (the executor copies it only if x
                             * lives on; VITS casts its [n, n] attention mask, a bool, to
                             * bool in every layer) */
        vx_tensor_view(out, x);
        return 0;
    }
    int rc = vx_op_alloc(ctx, out, to, x->ndim, x->dims);
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    if (x->numel) vx_ew_convert(x->data, x->dtype, out->data, to, x->numel);
    return 0;
}

int vx_op_Cast(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, vx_tensor *out,
               int n_out) {
    int rc = vx_ew_need(ctx, node, in, n_in, 1, n_out);
    if (rc) return rc;
    int64_t to = vx_attr_int(node, "to", -1);
    if (to < 0) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "missing attribute 'to'");
    if (to > 64)
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "target dtype %lld not supported",
                          (long long)to);
    return cast_to(ctx, node, in[0], (int)to, out);
}

int vx_op_CastLike(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                   vx_tensor *out, int n_out) {
    int rc = vx_ew_need(ctx, node, in, n_in, 2, n_out);
    if (rc) return rc;
    return cast_to(ctx, node, in[0], in[1]->dtype, out);
}

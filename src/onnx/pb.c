/* Protobuf wire format for the ONNX loader (see pb.h and the notes atop load.c). */
#include "onnx/pb.h"
#include "vox.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- errors */

int vx_pb_fail(loader *L, int code, const uint8_t *at, const char *fmt, ...) {
    if (!L->err || !L->errlen) return code;
    size_t k = 0;
    int n;
#define APPEND(...)                                                                                \
    do {                                                                                           \
        n = snprintf(L->err + k, L->errlen - k, __VA_ARGS__);                                      \
        if (n > 0) k = (size_t)n < L->errlen - k ? k + (size_t)n : L->errlen - 1;                  \
    } while (0)
    APPEND("onnx: ");
    for (int i = 0; i < L->depth && i < VX_MODEL_MAX_NESTING; i++) {
        const frame *f = &L->fr[i];
        APPEND("%s", f->what);
        if (f->index >= 0) APPEND("[%ld]", f->index);
        if (f->name && *f->name) APPEND(" '%.80s'", f->name);
        if (f->op) APPEND(" (%.40s)", f->op);
        APPEND(" > ");
    }
    if (k >= 3 && L->depth > 0) {
        k -= 3;
        L->err[k] = 0;
        APPEND(": ");
    }
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(L->err + k, L->errlen - k, fmt, ap);
    va_end(ap);
    if (n > 0) k = (size_t)n < L->errlen - k ? k + (size_t)n : L->errlen - 1;
    if (at && L->base && at >= L->base) APPEND(" (at byte %zu)", (size_t)(at - L->base));
#undef APPEND
    return code;
}

int vx_pb_push(loader *L, const char *what, long index, const char *name, const char *op) {
    if (L->depth >= VX_MODEL_MAX_NESTING)
        return vx_pb_fail(L, VOX_ERR_MODEL, NULL, "messages nested deeper than %d",
                          VX_MODEL_MAX_NESTING);
    L->fr[L->depth++] = (frame){what, index, name, op};
    return 0;
}
void vx_pb_pop(loader *L) { L->depth--; }

int vx_pb_nomem(loader *L) {
    return vx_pb_fail(L, VOX_ERR_NOMEM, NULL, "out of memory (or model metadata over %zu MiB)",
                      VX_MODEL_MAX_META_BYTES >> 20);
}

/* ---------------------------------------------------------------- wire format */

size_t vx_pb_left(const pb *b) { return (size_t)(b->end - b->p); }

int vx_pb_rd_varint(loader *L, pb *b, uint64_t *v, const char *field) {
    uint64_t r = 0;
    const uint8_t *start = b->p;
    for (int i = 0; i < 10; i++) {
        if (b->p >= b->end)
            return vx_pb_fail(L, VOX_ERR_MODEL, start, "%s: truncated varint", field);
        uint8_t c = *b->p++;
        r |= (uint64_t)(c & 0x7f) << (7 * i); /* bits beyond 64 are dropped, as protobuf does */
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return vx_pb_fail(L, VOX_ERR_MODEL, start, "%s: varint longer than 10 bytes", field);
}

int vx_pb_rd_tag(loader *L, pb *b, uint32_t *field, int *wt, const char *msg) {
    const uint8_t *at = b->p;
    uint64_t v = 0;
    int rc = vx_pb_rd_varint(L, b, &v, msg);
    if (rc) return rc;
    *wt = (int)(v & 7);
    if ((v >> 3) == 0 || (v >> 3) > 0x1fffffff)
        return vx_pb_fail(L, VOX_ERR_MODEL, at, "%s: invalid field number %llu", msg,
                          (unsigned long long)(v >> 3));
    *field = (uint32_t)(v >> 3);
    if (*wt == WT_SGROUP || *wt == WT_EGROUP)
        return vx_pb_fail(L, VOX_ERR_MODEL, at,
                          "%s: field %u uses protobuf groups (wire type %d), not supported", msg,
                          *field, *wt);
    if (*wt != WT_VARINT && *wt != WT_I64 && *wt != WT_LEN && *wt != WT_I32)
        return vx_pb_fail(L, VOX_ERR_MODEL, at, "%s: field %u has invalid wire type %d", msg,
                          *field, *wt);
    return 0;
}

int vx_pb_rd_len(loader *L, pb *b, pb *sub, const char *field) {
    const uint8_t *at = b->p;
    uint64_t n = 0;
    int rc = vx_pb_rd_varint(L, b, &n, field);
    if (rc) return rc;
    if (n > vx_pb_left(b))
        return vx_pb_fail(L, VOX_ERR_MODEL, at,
                          "%s: length %llu runs past the end of its message (%zu bytes left)",
                          field, (unsigned long long)n, vx_pb_left(b));
    sub->p = b->p;
    sub->end = b->p + n;
    b->p += n;
    return 0;
}

int vx_pb_rd_fixed(loader *L, pb *b, void *out, size_t n, const char *field) {
    if (vx_pb_left(b) < n)
        return vx_pb_fail(L, VOX_ERR_MODEL, b->p, "%s: truncated %zu-byte value", field, n);
    memcpy(out, b->p, n);
    b->p += n;
    return 0;
}

int vx_pb_skip(loader *L, pb *b, int wt, const char *msg) {
    uint64_t v;
    pb sub;
    switch (wt) {
    case WT_VARINT: return vx_pb_rd_varint(L, b, &v, msg);
    case WT_I64: return vx_pb_rd_fixed(L, b, &v, 8, msg);
    case WT_I32: return vx_pb_rd_fixed(L, b, &v, 4, msg);
    default: return vx_pb_rd_len(L, b, &sub, msg);
    }
}

int vx_pb_want(loader *L, const pb *b, int wt, int expected, const char *field) {
    static const char *names[] = {"varint", "fixed64", "length-delimited", "?", "?", "fixed32"};
    if (wt == expected) return 0;
    return vx_pb_fail(L, VOX_ERR_MODEL, b->p, "%s: wrong wire type %d (%s), expected %s", field, wt,
                      names[wt], names[expected]);
}

int vx_pb_rd_int(loader *L, pb *b, int wt, int64_t *out, const char *field) {
    uint64_t v = 0;
    int rc = vx_pb_want(L, b, wt, WT_VARINT, field);
    if (!rc) rc = vx_pb_rd_varint(L, b, &v, field);
    if (!rc) *out = (int64_t)v;
    return rc;
}

/* int32 / enum field: a varint whose value must fit in int32 (negatives are sign-extended). */
int vx_pb_rd_int32(loader *L, pb *b, int wt, int64_t *out, const char *field) {
    const uint8_t *at = b->p;
    *out = 0;
    int rc = vx_pb_rd_int(L, b, wt, out, field);
    if (!rc && (*out < INT32_MIN || *out > INT32_MAX))
        return vx_pb_fail(L, VOX_ERR_MODEL, at, "%s: value %lld out of int32 range", field,
                          (long long)*out);
    return rc;
}

int vx_pb_rd_str(loader *L, pb *b, int wt, const char **out, size_t *len, const char *field) {
    pb s;
    int rc = vx_pb_want(L, b, wt, WT_LEN, field);
    if (!rc) rc = vx_pb_rd_len(L, b, &s, field);
    if (rc) return rc;
    char *d = vx_arena_strndup(L->arena, (const char *)s.p, vx_pb_left(&s));
    if (!d) return vx_pb_nomem(L);
    *out = d;
    if (len) *len = vx_pb_left(&s);
    return 0;
}

int vx_pb_rd_msg(loader *L, pb *b, int wt, pb *sub, const char *field) {
    int rc = vx_pb_want(L, b, wt, WT_LEN, field);
    return rc ? rc : vx_pb_rd_len(L, b, sub, field);
}

/* Number of values in one occurrence of a repeated scalar field (packed or not);
 * consumes it. The count can never exceed the bytes consumed. */
int vx_pb_rep_count(loader *L, pb *b, int wt, int kind, int64_t *n, const char *field) {
    static const int unpacked_wt[] = {WT_VARINT, WT_I32, WT_I64};
    static const size_t width[] = {0, 4, 8};
    if (wt == WT_LEN) {
        pb s;
        int rc = vx_pb_rd_len(L, b, &s, field);
        if (rc) return rc;
        if (kind == K_VARINT) {
            size_t c = 0;
            for (const uint8_t *q = s.p; q < s.end; q++) c += !(*q & 0x80);
            if (s.p < s.end && (s.end[-1] & 0x80))
                return vx_pb_fail(L, VOX_ERR_MODEL, s.end, "%s: packed varints end mid-value",
                                  field);
            /* a varint may be at most 10 bytes; rep_read re-checks while decoding */
            *n += (int64_t)c;
        } else {
            if (vx_pb_left(&s) % width[kind])
                return vx_pb_fail(L, VOX_ERR_MODEL, s.p,
                                  "%s: packed length %zu is not a multiple of %zu", field,
                                  vx_pb_left(&s), width[kind]);
            *n += (int64_t)(vx_pb_left(&s) / width[kind]);
        }
        return 0;
    }
    int rc = vx_pb_want(L, b, wt, unpacked_wt[kind], field);
    if (!rc) rc = vx_pb_skip(L, b, wt, field);
    if (!rc) (*n)++;
    return rc;
}

/* Store one integer as dtype (the typed-data conversions of TensorProto). */
void vx_pb_put_int(void *dst, int dtype, int64_t i, uint64_t v) {
    switch (dtype) {
    case VX_INT64: ((int64_t *)dst)[i] = (int64_t)v; break;
    case VX_UINT64: ((uint64_t *)dst)[i] = v; break;
    case VX_INT32: ((int32_t *)dst)[i] = (int32_t)(uint32_t)v; break;
    case VX_UINT32: ((uint32_t *)dst)[i] = (uint32_t)v; break;
    case VX_INT16: ((int16_t *)dst)[i] = (int16_t)(uint16_t)v; break;
    case VX_UINT16:
    case VX_FLOAT16: ((uint16_t *)dst)[i] = (uint16_t)v; break; /* fp16: the bits */
    case VX_INT8: ((int8_t *)dst)[i] = (int8_t)(uint8_t)v; break;
    case VX_UINT8: ((uint8_t *)dst)[i] = (uint8_t)v; break;
    case VX_BOOL: ((uint8_t *)dst)[i] = v != 0; break;
    default: break;
    }
}

/* Decode one occurrence of a repeated scalar field into dst (elements of dtype for
 * varints, float for K_F32, double for K_F64), at index *k, never past cap. */
int vx_pb_rep_read(loader *L, pb *b, int wt, int kind, void *dst, int dtype, int64_t *k,
                   int64_t cap, const char *field) {
    static const int unpacked_wt[] = {WT_VARINT, WT_I32, WT_I64};
    pb s, *src = b;
    int single = wt != WT_LEN;
    if (single) {
        int rc = vx_pb_want(L, b, wt, unpacked_wt[kind], field);
        if (rc) return rc;
    } else {
        int rc = vx_pb_rd_len(L, b, &s, field);
        if (rc) return rc;
        src = &s;
    }
    for (int first = 1; single ? first : src->p < src->end; first = 0) {
        if (*k >= cap)
            return vx_pb_fail(L, VOX_ERR_MODEL, src->p, "%s: more values than expected (%lld)",
                              field, (long long)cap);
        int rc;
        if (kind == K_VARINT) {
            uint64_t v = 0;
            if ((rc = vx_pb_rd_varint(L, src, &v, field))) return rc;
            vx_pb_put_int(dst, dtype, *k, v);
        } else if (kind == K_F32) {
            if ((rc = vx_pb_rd_fixed(L, src, (float *)dst + *k, 4, field))) return rc;
        } else {
            if ((rc = vx_pb_rd_fixed(L, src, (double *)dst + *k, 8, field))) return rc;
        }
        (*k)++;
    }
    return 0;
}

/* pbw.h: a tiny protobuf writer for tests, plus helpers that build small ONNX models.
 *
 * Low level: pbw_varint / pbw_int / pbw_float / pbw_bytes / pbw_str / pbw_msg append
 * fields to a growable byte buffer. Packed and unpacked repeated fields are written
 * explicitly, so tests can produce both encodings.
 *
 * ONNX level (field numbers from onnx.proto):
 *     pbw g = {0}, attrs = {0}, m = {0};
 *     onnx_value_info(&g, 11, "x", VX_FLOAT, 2, (int64_t[]){1, -1});   // -1 -> dim_param "N"
 *     onnx_attr_int(&attrs, "axis", 1);
 *     onnx_node(&g, "Softmax", "sm", "x", "y", &attrs);               // comma-separated names
 *     onnx_init_f32(&g, "w", 1, (int64_t[]){3}, (float[]){1, 2, 3});   // raw_data initializer
 *     onnx_value_info(&g, 12, "y", VX_FLOAT, 2, (int64_t[]){1, -1});
 *     onnx_model(&m, 15, &g);                                          // wraps graph + opset
 *     vx_model_load_buffer(m.p, m.len, ...);
 *     pbw_free(&g); pbw_free(&attrs); pbw_free(&m);
 * onnx_node clears attrs after use so it can be reused for the next node.
 * Allocation failure aborts (test code). */
#ifndef VOX_TEST_PBW_H
#define VOX_TEST_PBW_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *p;
    size_t len, cap;
} pbw;

enum { PBW_VARINT = 0, PBW_I64 = 1, PBW_LEN = 2, PBW_I32 = 5 };

static inline void pbw_free(pbw *w) {
    free(w->p);
    w->p = NULL;
    w->len = w->cap = 0;
}
static inline void pbw_clear(pbw *w) { w->len = 0; }

static inline void pbw_raw(pbw *w, const void *d, size_t n) {
    if (w->len + n > w->cap) {
        size_t c = w->cap ? w->cap : 64;
        while (c < w->len + n) c *= 2;
        uint8_t *p = realloc(w->p, c);
        if (!p) {
            fprintf(stderr, "pbw: out of memory\n");
            abort();
        }
        w->p = p;
        w->cap = c;
    }
    if (n) memcpy(w->p + w->len, d, n);
    w->len += n;
}

static inline void pbw_varint(pbw *w, uint64_t v) {
    uint8_t b[10];
    int n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) b[n] |= 0x80;
        n++;
    } while (v);
    pbw_raw(w, b, (size_t)n);
}
static inline void pbw_tag(pbw *w, int field, int wt) {
    pbw_varint(w, ((uint64_t)field << 3) | (unsigned)wt);
}

/* Scalar fields */
static inline void pbw_int(pbw *w, int field, int64_t v) {
    pbw_tag(w, field, PBW_VARINT);
    pbw_varint(w, (uint64_t)v);
}
static inline void pbw_fixed32(pbw *w, int field, uint32_t v) {
    pbw_tag(w, field, PBW_I32);
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    pbw_raw(w, b, 4);
}
static inline void pbw_fixed64(pbw *w, int field, uint64_t v) {
    pbw_tag(w, field, PBW_I64);
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    pbw_raw(w, b, 8);
}
static inline void pbw_float(pbw *w, int field, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    pbw_fixed32(w, field, u);
}
static inline void pbw_double(pbw *w, int field, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    pbw_fixed64(w, field, u);
}
static inline void pbw_bytes(pbw *w, int field, const void *d, size_t n) {
    pbw_tag(w, field, PBW_LEN);
    pbw_varint(w, n);
    pbw_raw(w, d, n);
}
static inline void pbw_str(pbw *w, int field, const char *s) { pbw_bytes(w, field, s, strlen(s)); }
/* Embed sub as a length-delimited message field. */
static inline void pbw_msg(pbw *w, int field, const pbw *sub) {
    pbw_bytes(w, field, sub->p, sub->len);
}

/* Repeated scalars, packed (one LEN field) */
static inline void pbw_packed_ints(pbw *w, int field, const int64_t *v, int n) {
    pbw t = {0};
    for (int i = 0; i < n; i++) pbw_varint(&t, (uint64_t)v[i]);
    pbw_bytes(w, field, t.p, t.len);
    pbw_free(&t);
}
static inline void pbw_packed_floats(pbw *w, int field, const float *v, int n) {
    pbw_bytes(w, field, v, (size_t)n * 4); /* little-endian host */
}
static inline void pbw_packed_doubles(pbw *w, int field, const double *v, int n) {
    pbw_bytes(w, field, v, (size_t)n * 8);
}

/* ---------------------------------------------------------------- ONNX helpers */

/* TensorProto with raw_data (dtype: ONNX code; data: numel * element size bytes). */
static inline void onnx_tensor_raw(pbw *t, const char *name, int dtype, int ndim,
                                   const int64_t *dims, const void *data, size_t bytes) {
    for (int i = 0; i < ndim; i++) pbw_int(t, 1, dims[i]);
    pbw_int(t, 2, dtype);
    if (name) pbw_str(t, 8, name);
    pbw_bytes(t, 9, data, bytes);
}

static inline size_t onnx_numel(int ndim, const int64_t *dims) {
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)dims[i];
    return n;
}

/* Initializers (GraphProto.initializer = 5) with raw_data. */
static inline void onnx_init_raw(pbw *g, const char *name, int dtype, int ndim, const int64_t *dims,
                                 const void *data, size_t bytes) {
    pbw t = {0};
    onnx_tensor_raw(&t, name, dtype, ndim, dims, data, bytes);
    pbw_msg(g, 5, &t);
    pbw_free(&t);
}
static inline void onnx_init_f32(pbw *g, const char *name, int ndim, const int64_t *dims,
                                 const float *v) {
    onnx_init_raw(g, name, 1, ndim, dims, v, onnx_numel(ndim, dims) * 4);
}
static inline void onnx_init_i64(pbw *g, const char *name, int ndim, const int64_t *dims,
                                 const int64_t *v) {
    onnx_init_raw(g, name, 7, ndim, dims, v, onnx_numel(ndim, dims) * 8);
}

/* ValueInfoProto as GraphProto.input (field 11) or output (12). dims[i] < 0 writes a
 * symbolic dim_param "d<i>"; ndim < 0 writes no shape. */
static inline void onnx_value_info(pbw *g, int field, const char *name, int dtype, int ndim,
                                   const int64_t *dims) {
    pbw vi = {0}, type = {0}, tt = {0}, shape = {0}, dim = {0};
    pbw_str(&vi, 1, name);
    pbw_int(&tt, 1, dtype);
    if (ndim >= 0) {
        for (int i = 0; i < ndim; i++) {
            pbw_clear(&dim);
            if (dims[i] >= 0)
                pbw_int(&dim, 1, dims[i]);
            else {
                char p[16];
                snprintf(p, sizeof p, "d%d", i);
                pbw_str(&dim, 2, p);
            }
            pbw_msg(&shape, 1, &dim);
        }
        pbw_msg(&tt, 2, &shape);
    }
    pbw_msg(&type, 1, &tt);
    pbw_msg(&vi, 2, &type);
    pbw_msg(g, field, &vi);
    pbw_free(&vi);
    pbw_free(&type);
    pbw_free(&tt);
    pbw_free(&shape);
    pbw_free(&dim);
}

/* Attributes, appended to an attribute list (each entry a NodeProto.attribute = 5). */
static inline void onnx_attr_begin(pbw *a, const char *name, int type, pbw *body) {
    (void)a;
    pbw_clear(body);
    pbw_str(body, 1, name);
    pbw_int(body, 20, type);
}
static inline void onnx_attr_end(pbw *a, pbw *body) {
    pbw_msg(a, 5, body);
    pbw_free(body);
}
static inline void onnx_attr_int(pbw *a, const char *name, int64_t v) {
    pbw b = {0};
    onnx_attr_begin(a, name, 2, &b);
    pbw_int(&b, 3, v);
    onnx_attr_end(a, &b);
}
static inline void onnx_attr_float(pbw *a, const char *name, float v) {
    pbw b = {0};
    onnx_attr_begin(a, name, 1, &b);
    pbw_float(&b, 2, v);
    onnx_attr_end(a, &b);
}
static inline void onnx_attr_str(pbw *a, const char *name, const char *v) {
    pbw b = {0};
    onnx_attr_begin(a, name, 3, &b);
    pbw_str(&b, 4, v);
    onnx_attr_end(a, &b);
}
static inline void onnx_attr_ints(pbw *a, const char *name, const int64_t *v, int n) {
    pbw b = {0};
    onnx_attr_begin(a, name, 7, &b);
    pbw_packed_ints(&b, 8, v, n);
    onnx_attr_end(a, &b);
}
static inline void onnx_attr_floats(pbw *a, const char *name, const float *v, int n) {
    pbw b = {0};
    onnx_attr_begin(a, name, 6, &b);
    pbw_packed_floats(&b, 7, v, n);
    onnx_attr_end(a, &b);
}
/* TENSOR attribute (e.g. Constant's "value"); tensor is a TensorProto body. */
static inline void onnx_attr_tensor(pbw *a, const char *name, const pbw *tensor) {
    pbw b = {0};
    onnx_attr_begin(a, name, 4, &b);
    pbw_msg(&b, 5, tensor);
    onnx_attr_end(a, &b);
}

/* Comma-separated names as repeated string fields; an empty item ("a,,c") is an
 * omitted optional input. */
static inline void onnx_names(pbw *w, int field, const char *list) {
    if (!list || !*list) return;
    const char *s = list;
    for (;;) {
        const char *c = strchr(s, ',');
        size_t n = c ? (size_t)(c - s) : strlen(s);
        pbw_bytes(w, field, s, n);
        if (!c) break;
        s = c + 1;
    }
}

/* NodeProto (GraphProto.node = 1). attrs may be NULL; it is cleared after use. */
static inline void onnx_node(pbw *g, const char *op, const char *name, const char *inputs,
                             const char *outputs, pbw *attrs) {
    pbw n = {0};
    onnx_names(&n, 1, inputs);
    onnx_names(&n, 2, outputs);
    if (name) pbw_str(&n, 3, name);
    pbw_str(&n, 4, op);
    if (attrs) {
        pbw_raw(&n, attrs->p, attrs->len);
        pbw_clear(attrs);
    }
    pbw_msg(g, 1, &n);
    pbw_free(&n);
}

/* ModelProto: ir_version 8, producer "pbw", the default-domain opset, graph g. */
static inline void onnx_model(pbw *m, int opset, const pbw *g) {
    pbw op = {0};
    pbw_int(m, 1, 8);
    pbw_str(m, 2, "pbw");
    pbw_str(m, 3, "1");
    pbw_msg(m, 7, g);
    pbw_str(&op, 1, "");
    pbw_int(&op, 2, opset);
    pbw_msg(m, 8, &op);
    pbw_free(&op);
}
#endif

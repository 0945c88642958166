#include "engine/tensor.h"
#include <stdlib.h>
#include <string.h>

size_t vx_dtype_size(int dtype) {
    switch (dtype) {
    case VX_FLOAT: case VX_INT32: case VX_UINT32: return 4;
    case VX_INT64: case VX_UINT64: case VX_DOUBLE: return 8;
    case VX_UINT8: case VX_INT8: case VX_BOOL: return 1;
    case VX_UINT16: case VX_INT16: case VX_FLOAT16: return 2;
    default: return 0;
    }
}

const char *vx_dtype_name(int dtype) {
    switch (dtype) {
    case VX_FLOAT: return "float"; case VX_UINT8: return "uint8"; case VX_INT8: return "int8";
    case VX_UINT16: return "uint16"; case VX_INT16: return "int16"; case VX_INT32: return "int32";
    case VX_INT64: return "int64"; case VX_STRING: return "string"; case VX_BOOL: return "bool";
    case VX_FLOAT16: return "float16"; case VX_DOUBLE: return "double";
    case VX_UINT32: return "uint32"; case VX_UINT64: return "uint64";
    default: return "undefined";
    }
}

int vx_tensor_set_shape(vx_tensor *t, int ndim, const int64_t *dims) {
    if (ndim < 0 || ndim > VX_MAX_DIMS) return -1;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0 || dims[i] > VX_MAX_ELEMS) return -1;
        if (dims[i] && n > VX_MAX_ELEMS / dims[i]) return -1;
        n *= dims[i];
        t->dims[i] = dims[i];
    }
    for (int i = ndim; i < VX_MAX_DIMS; i++) t->dims[i] = 0;
    t->ndim = ndim;
    t->numel = n;
    return 0;
}

void *vx_aligned_alloc(size_t bytes) {
    if (bytes == 0) bytes = 64;
    size_t sz = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, sz);
    if (p) memset(p, 0, sz);
    return p;
}

void vx_aligned_free(void *p) { free(p); }

int vx_tensor_alloc(vx_tensor *t, int dtype, int ndim, const int64_t *dims) {
    vx_tensor_release(t);
    size_t es = vx_dtype_size(dtype);
    if (!es || vx_tensor_set_shape(t, ndim, dims)) return -1;
    t->dtype = dtype;
    t->data = vx_aligned_alloc((size_t)t->numel * es);
    if (!t->data) return -1;
    t->owned = 1;
    return 0;
}

void vx_tensor_release(vx_tensor *t) {
    if (t->owned) vx_aligned_free(t->data);
    memset(t, 0, sizeof *t);
}

void vx_tensor_view(vx_tensor *dst, const vx_tensor *src) {
    *dst = *src;
    dst->owned = 0;
}

size_t vx_tensor_bytes(const vx_tensor *t) { return (size_t)t->numel * vx_dtype_size(t->dtype); }

int vx_tensor_copy(vx_tensor *dst, const vx_tensor *src) {
    vx_tensor tmp = {0};
    if (vx_tensor_alloc(&tmp, src->dtype, src->ndim, src->dims)) return -1;
    if (src->numel) memcpy(tmp.data, src->data, vx_tensor_bytes(src));
    vx_tensor_release(dst);
    *dst = tmp;
    return 0;
}

int64_t vx_tensor_get_i64(const vx_tensor *t, int64_t i) {
    switch (t->dtype) {
    case VX_INT64: return ((const int64_t *)t->data)[i];
    case VX_INT32: return ((const int32_t *)t->data)[i];
    case VX_UINT32: return ((const uint32_t *)t->data)[i];
    case VX_UINT64: return (int64_t)((const uint64_t *)t->data)[i];
    case VX_INT16: return ((const int16_t *)t->data)[i];
    case VX_UINT16: return ((const uint16_t *)t->data)[i];
    case VX_INT8: return ((const int8_t *)t->data)[i];
    case VX_UINT8: case VX_BOOL: return ((const uint8_t *)t->data)[i];
    case VX_FLOAT: return (int64_t)((const float *)t->data)[i];
    case VX_DOUBLE: return (int64_t)((const double *)t->data)[i];
    default: return 0;
    }
}

double vx_tensor_get_f64(const vx_tensor *t, int64_t i) {
    switch (t->dtype) {
    case VX_FLOAT: return ((const float *)t->data)[i];
    case VX_DOUBLE: return ((const double *)t->data)[i];
    default: return (double)vx_tensor_get_i64(t, i);
    }
}

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

/* ------------------------------------------------------------ aligned blocks + recycling
 *
 * Every block carries a 64-byte header in front of the data: its usable capacity and,
 * while it sits in a recycling pool, the free-list link. So any block can be recycled,
 * whoever allocated it, and vx_aligned_free needs no size. */
#define BLK_MAGIC 0x766f78626c6b3634ULL   /* "voxblk64" */
#define BLK_HDR 64
typedef struct blk_hdr {
    uint64_t magic;
    size_t cap;               /* usable bytes after the header */
    struct blk_hdr *next;     /* free-list link while pooled */
} blk_hdr;

/* Size classes: multiples of 64 up to 512 bytes (classes 0..7), then 8 classes per
 * power of two (<= 12.5% rounding). */
#define N_CLASSES 256
#define BIG_BLOCK ((size_t)256 << 10)
static int class_of(size_t n, size_t *size) {
    if (n <= 512) {
        size_t c = n ? (n + 63) / 64 : 1;
        *size = c * 64;
        return (int)c - 1;
    }
    int e = 63 - __builtin_clzll((unsigned long long)(n - 1));   /* 2^e < n <= 2^(e+1) */
    size_t base = (size_t)1 << e, step = base / 8;
    size_t m = (n - base + step - 1) / step;                       /* 1..8 */
    *size = base + m * step;
    return 8 + (e - 9) * 8 + (int)m - 1;
}

/* Largest class whose size is <= cap (the class a block of that capacity can serve). */
static int floor_class(size_t cap) {
    size_t sz;
    int c = class_of(cap, &sz);
    return sz > cap ? c - 1 : c;
}

struct vx_bufpool {
    blk_hdr *free_list[N_CLASSES];
    size_t cached;            /* bytes sitting in free lists */
    vx_bufpool_stats st;
};

static _Thread_local vx_bufpool *tl_pool;

vx_bufpool *vx_bufpool_new(void) { return calloc(1, sizeof(vx_bufpool)); }

void vx_bufpool_free(vx_bufpool *p) {
    if (!p) return;
    if (tl_pool == p) tl_pool = NULL;
    for (int c = 0; c < N_CLASSES; c++)
        for (blk_hdr *h = p->free_list[c], *nx; h; h = nx) { nx = h->next; free(h); }
    free(p);
}

vx_bufpool *vx_bufpool_set_current(vx_bufpool *p) {
    vx_bufpool *old = tl_pool;
    tl_pool = p;
    return old;
}

void vx_bufpool_get_stats(const vx_bufpool *p, vx_bufpool_stats *s) {
    *s = p->st;
    s->cached_bytes = p->cached;
}

static void *blk_new(size_t cap) {
    blk_hdr *h = aligned_alloc(64, BLK_HDR + cap);
    if (!h) return NULL;
    h->magic = BLK_MAGIC;
    h->cap = cap;
    h->next = NULL;
    return (char *)h + BLK_HDR;
}

void *vx_aligned_alloc_raw(size_t bytes) {
    if (bytes > ((size_t)1 << 40)) return NULL;
    size_t sz;
    int c = class_of(bytes, &sz);
    vx_bufpool *p = tl_pool;
    if (p) {
        /* the exact class, else a slightly larger one (<= ~25% more) */
        for (int k = c; k < c + 3 && k < N_CLASSES; k++) {
            blk_hdr *h = p->free_list[k];
            if (!h) continue;
            p->free_list[k] = h->next;
            h->next = NULL;
            p->cached -= h->cap;
            p->st.hits++;
            return (char *)h + BLK_HDR;
        }
        p->st.misses++;
        /* A big miss means the working set moved to larger tensors (the vocoder's stages
         * grow in time as they go): parked big blocks of smaller classes belong to an
         * earlier phase, so give them back instead of holding both. */
        if (sz >= BIG_BLOCK)
            for (int k = c - 1; k >= 0; k--) {
                if (!p->free_list[k]) continue;
                if (p->free_list[k]->cap < BIG_BLOCK) break;
                for (blk_hdr *h = p->free_list[k], *nx; h; h = nx) {
                    nx = h->next;
                    p->cached -= h->cap;
                    free(h);
                }
                p->free_list[k] = NULL;
            }
    }
    return blk_new(sz);
}

void *vx_aligned_alloc(size_t bytes) {
    void *d = vx_aligned_alloc_raw(bytes);
    if (d) memset(d, 0, bytes ? bytes : 1);
    return d;
}

void vx_aligned_free(void *d) {
    if (!d) return;
    blk_hdr *h = (blk_hdr *)((char *)d - BLK_HDR);
    vx_bufpool *p = tl_pool;
    int c = p ? floor_class(h->cap) : -1;
    if (c >= 0 && c < N_CLASSES) {
        h->next = p->free_list[c];
        p->free_list[c] = h;
        p->cached += h->cap;
        if (p->cached > p->st.peak_cached) p->st.peak_cached = p->cached;
        return;
    }
    free(h);
}

static int tensor_alloc(vx_tensor *t, int dtype, int ndim, const int64_t *dims, int zero) {
    vx_tensor_release(t);
    size_t es = vx_dtype_size(dtype);
    if (!es || vx_tensor_set_shape(t, ndim, dims)) return -1;
    t->dtype = dtype;
    size_t bytes = (size_t)t->numel * es;
    t->data = zero ? vx_aligned_alloc(bytes) : vx_aligned_alloc_raw(bytes);
    if (!t->data) return -1;
    t->owned = 1;
    return 0;
}

int vx_tensor_alloc(vx_tensor *t, int dtype, int ndim, const int64_t *dims) {
    return tensor_alloc(t, dtype, ndim, dims, 1);
}

int vx_tensor_alloc_raw(vx_tensor *t, int dtype, int ndim, const int64_t *dims) {
    return tensor_alloc(t, dtype, ndim, dims, 0);
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
    if (vx_tensor_alloc_raw(&tmp, src->dtype, src->ndim, src->dims)) return -1;
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

/* Tensors: a dtype, a shape and a buffer. Plain struct; whoever allocates frees. */
#ifndef VX_TENSOR_H
#define VX_TENSOR_H
#include <stddef.h>
#include <stdint.h>

/* Element types use ONNX TensorProto.DataType codes. */
enum {
    VX_UNDEFINED = 0,
    VX_FLOAT = 1,
    VX_UINT8 = 2,
    VX_INT8 = 3,
    VX_UINT16 = 4,
    VX_INT16 = 5,
    VX_INT32 = 6,
    VX_INT64 = 7,
    VX_STRING = 8,
    VX_BOOL = 9,
    VX_FLOAT16 = 10,
    VX_DOUBLE = 11,
    VX_UINT32 = 12,
    VX_UINT64 = 13,
};

#define VX_MAX_DIMS 8
/* Explicit limit on one tensor's elements (guards malformed models and shape bugs). */
#define VX_MAX_ELEMS ((int64_t)1 << 32)

typedef struct vx_tensor {
    int dtype;
    int ndim;
    int64_t dims[VX_MAX_DIMS];
    int64_t numel; /* product of dims (1 for a scalar) */
    void *data;    /* numel * vx_dtype_size(dtype) bytes, or NULL if numel == 0 */
    int owned;     /* data was allocated for this tensor and is freed with it */
} vx_tensor;

/* Bytes per element; 0 for unsupported types. */
size_t vx_dtype_size(int dtype);
const char *vx_dtype_name(int dtype);
/* Sets dims/ndim/numel; returns 0, or -1 if ndim or the element count is out of limits. */
int vx_tensor_set_shape(vx_tensor *t, int ndim, const int64_t *dims);
/* Shape + dtype + zeroed owned storage (64-byte aligned). 0 on success. */
int vx_tensor_alloc(vx_tensor *t, int dtype, int ndim, const int64_t *dims);
/* Release owned storage and reset to empty. */
void vx_tensor_release(vx_tensor *t);
/* A view: same data, not owned. */
void vx_tensor_view(vx_tensor *dst, const vx_tensor *src);
/* Deep copy into dst (owned). */
int vx_tensor_copy(vx_tensor *dst, const vx_tensor *src);
size_t vx_tensor_bytes(const vx_tensor *t);
/* Read element i of an integer/bool/float tensor as int64 / double (for shapes, indices). */
int64_t vx_tensor_get_i64(const vx_tensor *t, int64_t i);
double vx_tensor_get_f64(const vx_tensor *t, int64_t i);

/* Shape + dtype + owned storage left uninitialized: for outputs the caller fully writes. */
int vx_tensor_alloc_raw(vx_tensor *t, int dtype, int ndim, const int64_t *dims);

void *vx_aligned_alloc(size_t bytes);     /* 64-byte aligned, zeroed; free with vx_aligned_free */
void *vx_aligned_alloc_raw(size_t bytes); /* the same, not zeroed */
void vx_aligned_free(void *p);            /* any block from vx_aligned_alloc*, or NULL */

/* Buffer recycling. While a pool is current on a thread, vx_aligned_free on that thread
 * puts blocks into the pool's size-class free lists instead of freeing them, and
 * vx_aligned_alloc* on that thread reuses them. Blocks can be freed on any thread, with
 * or without a current pool (every block knows its capacity). The executor makes one
 * pool current for the duration of a run, then frees it. */
typedef struct vx_bufpool vx_bufpool;
typedef struct vx_bufpool_stats {
    int64_t hits, misses; /* allocations served from the pool / from malloc */
    size_t cached_bytes;  /* bytes now in free lists */
    size_t peak_cached;
} vx_bufpool_stats;
/* Big blocks (>= 256 KiB) made while a pool is current skip the pool: they go through one
 * process-wide cache shared by all runs (tensor.c explains its budget). */
typedef struct vx_block_cache_stats {
    int64_t hits, misses, lent_larger;
    size_t evicted_bytes, cached_bytes, inuse_bytes, peak_inuse_bytes;
} vx_block_cache_stats;
void vx_block_cache_get_stats(vx_block_cache_stats *s);
/* Frees every cached block and resets the budget (the graph code calls it when the last
 * graph goes away). Blocks in use are not affected. */
void vx_block_cache_trim(void);
vx_bufpool *vx_bufpool_new(void);
void vx_bufpool_free(vx_bufpool *p); /* frees the cached blocks; detaches it if current */
vx_bufpool *vx_bufpool_set_current(vx_bufpool *p); /* returns the previous one */
void vx_bufpool_get_stats(const vx_bufpool *p, vx_bufpool_stats *s);
#endif

/* Shared helpers for the shape / indexing / data-movement kernels (ops_shape.c and
 * shape_*.c). Internal to those files; nothing here is part of the op contract. */
#ifndef VX_SHAPE_INTERNAL_H
#define VX_SHAPE_INTERNAL_H
#include <stdint.h>
#include <string.h>
#include "ops/op.h"
#include "vox.h"

/* Strided copies work on up to twice the tensor rank (Tile splits every axis in two). */
#define VX_SH_MAX_ND (2 * VX_MAX_DIMS)

/* memcpy that tolerates n == 0 with NULL pointers (empty tensors have data == NULL). */
static inline void vx_sh_copy(void *d, const void *s, size_t n) {
    if (n) memcpy(d, s, n);
}

/* Input i if given, else NULL (index past n_in counts as omitted). */
static inline const vx_tensor *vx_sh_opt(vx_tensor *const *in, int n_in, int i) {
    return i < n_in ? in[i] : NULL;
}

/* Required input i with a supported (fixed-size) dtype; fails with a clear message. */
int vx_sh_req(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, int i,
              const vx_tensor **t);
/* Normalise axis in [-rank, rank-1] into *out. */
int vx_sh_axis(vx_op_ctx *ctx, const vx_node *node, int64_t axis, int rank, int *out);
/* Validate an output shape: rank <= VX_MAX_DIMS, dims >= 0, element count (computed
 * without overflow) <= VX_MAX_ELEMS. */
int vx_sh_check_shape(vx_op_ctx *ctx, const vx_node *node, int ndim, const int64_t *dims);
/* vx_sh_check_shape + vx_op_alloc. */
int vx_sh_alloc(vx_op_ctx *ctx, const vx_node *node, vx_tensor *t, int dtype, int ndim,
                const int64_t *dims);
/* Read an integer tensor (int32/int64, scalar or 1-D) of at most max values. */
int vx_sh_ints(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *t, const char *what,
               int64_t *buf, int max, int *n);
/* Read a one-element integer tensor. */
int vx_sh_scalar_int(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *t, const char *what,
                     int64_t *v);
/* 1 if dtype is int32 or int64 (index tensors). */
int vx_sh_is_index(int dtype);
/* Read index element i of an int32/int64 tensor. */
static inline int64_t vx_sh_idx(const vx_tensor *t, int64_t i) {
    return t->dtype == VX_INT64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
}

/* vx_sh_ints quietly, for fused kernels that run the nodes when a parameter does not fit
 * their plan: the integers of a 1-D (or scalar) index tensor t of at most max elements
 * into buf, their count into *n; -1 (nothing reported) for anything else. */
static inline int vx_sh_try_ints(const vx_tensor *t, int64_t *buf, int max, int *n) {
    if (!t || !vx_sh_is_index(t->dtype) || t->ndim > 1 || t->numel > max) return -1;
    for (int64_t i = 0; i < t->numel; i++) buf[i] = vx_sh_idx(t, i);
    *n = (int)t->numel;
    return 0;
}
/* Normalise a possibly negative index against dim; -1 if out of range. */
static inline int64_t vx_sh_norm_index(int64_t v, int64_t dim) {
    if (v < 0) v += dim;
    return v >= 0 && v < dim ? v : -1;
}

/* Row-major element strides of a shape. */
void vx_sh_strides(int nd, const int64_t *dims, int64_t *str);
/* Product of dims (caller has validated the shape). */
int64_t vx_sh_numel(int nd, const int64_t *dims);
/* Drop size-1 axes and merge axes that are contiguous in the source; returns the new
 * rank (0 means a single element). d/s need VX_SH_MAX_ND entries. */
int vx_sh_merge(int nd, const int64_t *dims, const int64_t *sstr, int64_t *d, int64_t *s);
/* dst (contiguous, shape dims) = src viewed with element strides sstr (may be 0 or
 * negative; src points at the element of index 0). Innermost contiguous runs are copied
 * with memcpy. */
void vx_sh_strided_copy(void *dst, const void *src, size_t es, int nd, const int64_t *dims,
                        const int64_t *sstr);

/* dst[0..n) = the element at elem. */
void vx_sh_fill(void *dst, const void *elem, size_t es, int64_t n);
/* Store v converted to dtype at dst (float, double, float16, ints, bool). */
void vx_sh_store_f64(int dtype, void *dst, double v);
/* Load element i of any numeric tensor as double (float16 included). */
double vx_sh_load_f64(const vx_tensor *t, int64_t i);
uint16_t vx_sh_f32_to_f16(float f);
float vx_sh_f16_to_f32(uint16_t h);
/* "[2,3,4]" for messages. */
const char *vx_sh_str(char *buf, size_t len, int nd, const int64_t *dims);

/* Kernels, grouped by file. */
/* ops_shape.c */
int vx_op_constant(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
/* shape_move.c */
int vx_op_concat(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_split(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_slice(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_transpose(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_expand(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_tile(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_pad(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
/* shape_index.c */
int vx_op_gather(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_gather_elements(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_gather_nd(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_scatter_nd(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_scatter_elements(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_nonzero(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_onehot(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_topk(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
/* shape_gen.c */
int vx_op_constant_of_shape(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *,
                            int);
int vx_op_range(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_cumsum(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_trilu(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_eyelike(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_random_normal(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_random_uniform(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_random_normal_like(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *,
                             int);
int vx_op_random_uniform_like(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *,
                              int);
#endif

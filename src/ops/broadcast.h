/* Multidirectional (numpy) broadcasting for elementwise kernels.
 *
 * A vx_bcast is an iteration plan over the broadcast output shape. The output is
 * always walked in row-major order as `outer` rows of `inner` contiguous elements;
 * for each input the plan gives its element offset at the start of a row and its
 * stride along the row, which is always 0 (broadcast) or 1 (contiguous). Adjacent
 * axes that move together are merged and size-1 axes dropped, so common cases
 * collapse to one row:
 *   [1,192,T] + [1,192,T]  -> outer 1,   inner 192*T, strides 1/1
 *   [1,192,T] * scalar     -> outer 1,   inner 192*T, strides 1/0
 *   [1,192,T] * [1,192,1]  -> outer 192, inner T,     strides 1/0
 *
 * Typical kernel loop:
 *     vx_bcast b;
 *     if (vx_bcast_init(&b, 2, in)) -> incompatible shapes
 *     vx_op_alloc(ctx, out, dtype, b.out_ndim, b.out_dims);
 *     vx_bcast_pos p; vx_bcast_start(&b, &p);
 *     for (int64_t r = 0; r < b.outer; r++, vx_bcast_next(&b, &p))
 *         row_fn(A + p.off[0], b.istride[0], B + p.off[1], b.istride[1],
 *                O + r * b.inner, b.inner);
 */
#ifndef VX_BROADCAST_H
#define VX_BROADCAST_H
#include <stdint.h>
#include "tensor/tensor.h"

#define VX_BCAST_MAX_IN 4 /* inputs per plan (Where uses 3) */

typedef struct vx_bcast {
    int n_in;
    /* The broadcast result shape, unmerged: what the output tensor gets. */
    int out_ndim;
    int64_t out_dims[VX_MAX_DIMS];
    int64_t numel;
    /* The iteration plan (merged axes; ndim >= 1). */
    int ndim;
    int64_t dims[VX_MAX_DIMS];
    int64_t strides[VX_BCAST_MAX_IN][VX_MAX_DIMS]; /* in elements; 0 on broadcast axes */
    int64_t istride[VX_BCAST_MAX_IN];              /* stride along a row: 0 or 1 */
    int64_t inner;                                 /* elements per row (0 if the output is empty) */
    int64_t outer;                                 /* number of rows (0 if the output is empty) */
} vx_bcast;

/* Position of the current row: per-input element offsets. */
typedef struct vx_bcast_pos {
    int64_t idx[VX_MAX_DIMS];
    int64_t off[VX_BCAST_MAX_IN];
} vx_bcast_pos;

/* Plan from explicit shapes: input k has rank ndims[k] and dims dims[k]. Returns 0, or
 * -1 if the shapes are not broadcast-compatible, n_in is out of range, a rank exceeds
 * VX_MAX_DIMS or the result exceeds VX_MAX_ELEMS. */
int vx_bcast_init_dims(vx_bcast *b, int n_in, const int *ndims, const int64_t *const *dims);
/* Plan from tensors (their dims only). Same returns. */
int vx_bcast_init(vx_bcast *b, int n_in, const vx_tensor *const *in);

/* Odometer over rows: start at row 0, then advance one row at a time. */
void vx_bcast_start(const vx_bcast *b, vx_bcast_pos *p);
void vx_bcast_next(const vx_bcast *b, vx_bcast_pos *p);
/* Random access: offsets of row `row` (0 <= row < outer) without walking. */
void vx_bcast_row(const vx_bcast *b, int64_t row, int64_t *off);

/* Shape-only: broadcast of two shapes into (*nd, d). 0, or -1 if incompatible. */
int vx_broadcast_dims(int na, const int64_t *a, int nb, const int64_t *b, int *nd, int64_t *d);
/* Write a human-readable "[2,3,4]" into buf (for error messages); returns buf. */
const char *vx_shape_str(char *buf, size_t len, int ndim, const int64_t *dims);

/* Copy src broadcast into dst, which is already allocated with the target shape and
 * src's dtype (Expand, or seeding an accumulator). src must broadcast to exactly
 * dst's shape. Returns 0, or -1 on incompatible shape or dtype. */
int vx_broadcast_copy(const vx_tensor *src, vx_tensor *dst);
#endif

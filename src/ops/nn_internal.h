/* Shared helpers of the nn op family (ops_nn.c, nn_*.c). Not a public interface. */
#ifndef VX_NN_INTERNAL_H
#define VX_NN_INTERNAL_H
#include "ops/op.h"

/* Spatial geometry of a Conv/Pool-like op: per spatial axis input size, kernel size,
 * stride, dilation, begin/end padding and output size. */
typedef struct vx_geom {
    int nsp;
    int64_t in[VX_MAX_DIMS], k[VX_MAX_DIMS], s[VX_MAX_DIMS], d[VX_MAX_DIMS];
    int64_t pb[VX_MAX_DIMS], pe[VX_MAX_DIMS], out[VX_MAX_DIMS];
} vx_geom;

/* Reads strides, dilations (if use_dil), pads and auto_pad and computes output sizes
 * the ONNX way (floor, or ceil when ceil_mode). in/k have nsp entries. 0 or error. */
int vx_nn_geom(vx_op_ctx *ctx, const vx_node *node, int nsp, const int64_t *in, const int64_t *k,
               int use_dil, int ceil_mode, vx_geom *g);

/* g->out[i] from g's in, k, d, s, pb and pe of axis i (the ONNX way); 0 or a failure when
 * the kernel extent exceeds the padded input. */
int vx_nn_axis_out(vx_op_ctx *ctx, const vx_node *node, vx_geom *g, int i, int ceil_mode);

int64_t vx_nn_prod(const int64_t *d, int n);
/* Normalizes a possibly negative axis against rank; -1 if out of range. */
int vx_nn_axis(int64_t axis, int rank);

/* MatMuls run as row gathers since the process started (ops_nn.c; for tests). */
long vx_nn_matmul_gathers(void);
/* MatMuls run on the nonzero band of B since the process started (ops_nn.c; tests). */
long vx_nn_matmul_bands(void);
/* ... and as a column band for a fused chain (vx_nn_matmul_colband; tests). */
long vx_nn_matmul_colbands(void);

/* Rows [r0, r1) and columns [c0, c1) of a k x n matrix holding every nonzero element
 * (empty ranges when b is all zeros). */
void vx_nn_nonzero_band(const float *b, int64_t k, int64_t n, int64_t *r0, int64_t *r1, int64_t *c0,
                        int64_t *c1);
/* C = A [m x k] x B [k x n] where B is +0 outside rows [r0, r1) and columns [c0, c1)
 * (vx_nn_nonzero_band): columns [c0, c1) of C into band [m, c1 - c0]; the rest of C is +0
 * (A finite). */
void vx_nn_band_product(const float *a, int64_t m, int64_t k, const float *b, int64_t n, int64_t r0,
                        int64_t r1, int64_t c0, int64_t c1, float *band);
/* Every element is finite. */
int vx_nn_all_finite(const float *b, int64_t n);
/* A fused chain's index map (shape_chain.c, for nn_attn.c): which output elements copy
 * which input elements, for a chain planned over an input of the given dims whose Pads
 * all fill +0 (NULL otherwise, or when the chain has no plan). A run says output
 * elements [out, out + n) (offsets from the range asked for) are input elements
 * [in, in + n); every other output element is +0. */
typedef struct vx_chain_run {
    int64_t out, in, n;
} vx_chain_run;
typedef struct vx_chain_map vx_chain_map;
vx_chain_map *vx_chain_map_new(const vx_op_ctx *ctx, const vx_move_chain *c, vx_tensor *const *in,
                               int n_in, int nd, const int64_t *dims, int64_t *out_dims,
                               int *out_nd);
void vx_chain_map_free(vx_chain_map *m);
/* The runs of output elements [f, f + n): how many (at most cap written), -1 if more. */
int64_t vx_chain_map_runs(const vx_chain_map *m, int64_t f, int64_t n, vx_chain_run *runs,
                          int64_t cap);

/* C = A x B as its nonzero column band when the MatMul op would compute it that way
 * (nn_matmul.c; for the fused chains of shape_chain.c). */
int vx_nn_matmul_colband(const vx_op_ctx *ctx, const vx_tensor *a, const vx_tensor *b,
                         vx_tensor *band, int64_t *c0, int64_t *c1, int *ond, int64_t *od);

/* Whether a MatMul of A (rank nda, dims ad; finite: the caller checks) by B would run on
 * B's nonzero band [r0, r1) x [c0, c1) in every row block (nn_matmul.c), and its output
 * dims; for a fused chain making A (shape_chain.c). */
int vx_nn_matmul_rowband(const vx_op_ctx *ctx, int nda, const int64_t *ad, const vx_tensor *b,
                         int64_t *r0, int64_t *r1, int64_t *c0, int64_t *c1, int *ond, int64_t *od);

/* Ops implemented outside ops_nn.c. */
int vx_op_softmax(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_matmul(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_gemm(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
/* A float input t (named what in the message), or a failure. */
int vx_nn_need_float(vx_op_ctx *ctx, const vx_node *node, const vx_tensor *t, const char *what);
int vx_op_logsoftmax(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_reduce(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_argmax(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_argmin(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_layernorm(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_instancenorm(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_batchnorm(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_maxpool(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_avgpool(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_globalavgpool(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
int vx_op_globalmaxpool(vx_op_ctx *, const vx_node *, vx_tensor *const *, int, vx_tensor *, int);
#endif

/* The operator interface: one function per ONNX op type, looked up by name.
 * A kernel reads its inputs, computes the output shapes, allocates outputs with
 * vx_op_alloc (so the executor can later hand out pooled buffers) and fills them. */
#ifndef VX_OP_H
#define VX_OP_H
#include <stdint.h>
#include "kernels/kernels.h"
#include "onnx/model.h"
#include "tensor/tensor.h"
#include "util/tpool.h"

typedef struct vx_rng {
    uint64_t s[4];
} vx_rng; /* xoshiro256**, owned by the run */
void vx_rng_seed(vx_rng *r, uint64_t seed);
uint64_t vx_rng_next(vx_rng *r);                      /* 64 random bits */
double vx_rng_uniform(vx_rng *r);                     /* [0, 1) */
double vx_rng_normal(vx_rng *r);                      /* N(0, 1) */
void vx_rng_normal2(vx_rng *r, double *a, double *b); /* two independent N(0, 1) */

/* A fused chain of data-movement nodes (engine/fuse.c finds it, ops/shape_chain.c runs
 * it): Pad (constant) / Reshape / Slice applied in turn to the step's input 0, without
 * materializing the intermediates. node[i]'s inputs after its first are the step's
 * inputs arg[i] .. arg[i] + n_args[i] - 1. */
#define VX_CHAIN_MAX 8
typedef struct vx_move_chain {
    int n;
    const struct vx_node *node[VX_CHAIN_MAX];
    const struct vx_op_def *def[VX_CHAIN_MAX];
    int arg[VX_CHAIN_MAX], n_args[VX_CHAIN_MAX];
    /* The MatMul making the chain's input, when it was fused in too (fuse.c): the step's
     * input 0 is then the MatMul's A and input mm_b its B (shape_chain.c). */
    const struct vx_node *mm;
    const struct vx_op_def *mm_def;
    int mm_b;
    /* The MatMul reading the chain's output as its A, when fused in (the step is then that
     * MatMul's, its output the MatMul's; input mmc_b is the MatMul's B). */
    const struct vx_node *mmc;
    const struct vx_op_def *mmc_def;
    int mmc_b;
    char label[72]; /* "Pad+Reshape+Pad+Reshape+Slice" (profiles) */
} vx_move_chain;

/* A fused group of nodes with several inputs (engine/fuse_path.c finds it,
 * ops/length_path.c runs it): node[i]'s input j is src[arg[i] + j]: >= 0 the step's
 * input of that index, VX_GROUP_OMITTED an omitted input, else the output of node
 * -(src + 1) of the group. The step's output is the last node's. role[] names the nodes
 * the fast path reads (LP_* in length_path.c); -1 = absent. */
#define VX_GROUP_MAX 12
/* The length-regulator path's nodes (roles), in their run order. LP_MASK is the Mul
 * making the mask from its two factors, when the group could take it in. */
enum { LP_MASK, LP_LESS, LP_CAST, LP_RESHAPE, LP_PAD, LP_SLICE, LP_SUB, LP_UNSQ, LP_TRANSP,
       LP_MUL, LP_SQUEEZE, LP_N };
#define VX_GROUP_OMITTED (-1000)
typedef struct vx_node_group {
    int n;
    const struct vx_node *node[VX_GROUP_MAX];
    const struct vx_op_def *def[VX_GROUP_MAX];
    int arg[VX_GROUP_MAX], n_args[VX_GROUP_MAX];
    int last[VX_GROUP_MAX]; /* the last group node reading node i's output */
    int role[VX_GROUP_MAX];
    int src[VX_GROUP_MAX * 6];
    char label[96];
} vx_node_group;

/* The length regulator's path matrix in compact form (ops/length_path.c makes it, a
 * MatMul with vx_op_prep.sel_a reads it): an int32 tensor [B, T + 1] standing for the
 * float [B, T, X] matrix that is +0 except A[b][t][sel[b][t]] = 1 where sel >= 0;
 * sel[b][T] = X. */

/* WaveNet's gate, fused at load (engine/fuse_gate.c finds it, ops/ew_gate.c runs it):
 * out = Mul(Tanh(Slice(a, [0, c) on axis)), Sigmoid(Slice(a, [c, end) on axis))) where
 * a = Add(in0, in1) when `add` is set (in1 absent: the Add's other operand was zeros made
 * by ConstantOfShape(Shape(in0)) of value zval, and x_first says whether in0 was the Add's
 * first operand), else a = in0. The nodes and their defs run the step as they were when
 * the run-time shapes do not fit (each Slice rebuilt from its constant arguments). */
typedef struct vx_gate_plan {
    const struct vx_node *add, *slice[2], *tanh, *sigm; /* slice[0] feeds the Tanh */
    const struct vx_op_def *add_def, *slice_def[2], *tanh_def, *sigm_def, *mul_def;
    int64_t c;        /* channels per half */
    int64_t sl[2][4]; /* each Slice's starts, ends, axes, steps (one element each) */
    int sl_steps[2];  /* that Slice had a steps input */
    int zero_add;     /* the Add's other operand was the zeros of zval (no step input) */
    float zval;       /* +0 or -0 */
    int x_first;      /* zero_add: the kept operand was the Add's first input */
    int tanh_first;   /* the Mul's first operand is the Tanh */
    char label[48];   /* "Add+Slice+Tanh+Sigmoid+Mul" (profiles) */
} vx_gate_plan;

/* Load-time preparation of one step, made by the graph compiler (graph.c) and read by
 * the kernel of that step (ops_nn.c). Everything here is optional: a kernel must give the
 * same result when it is absent. */
typedef struct vx_op_prep {
    const vx_kernels *kernels; /* table the packing was made for */
    const void *wpacked;       /* constant weights pre-packed for that table, or NULL */
    /* Reduced precision (Conv / ConvTranspose of the frame-level half, engine/pack.c):
     * wpacked is in lowp's format, not the FP32 table's; the step runs on lowp when the
     * run-time shape matches pk, else in FP32 from the raw weights. */
    const struct vx_lowp_kernels *lowp;
    int64_t pk[4]; /* parameters the packing assumed (checked at run time) */
    /* Fusion (Conv only): the step runs LeakyRelu -> Conv -> Add as one node. */
    int64_t xpad[2]; /* Conv: a fused zero Pad of input 0's time axis (left, right), added
                        to the node's own pads (engine/fuse.c take_pad) */
    int leaky_in; /* input 0 is the LeakyRelu's input: apply it first */
    float alpha;
    int res;                        /* index of the Add's other input (added to the output), or 0 */
    int res_first;                  /* the residual was the Add's first input */
    const struct vx_node *add_node; /* the fused Add (for an unfused fallback) */
    const vx_move_chain *chain;     /* the step is this chain (vx_move_chain_def) */
    const vx_node_group *group;     /* the step is this group (vx_length_path_def) */
    const struct vx_attn_plan *attn; /* the step is this attention (vx_attn_def) */
    int sel_a; /* MatMul: input A may come as a compact selection (see vx_node_group) */
    float eps; /* vx_chan_norm_def: the LayerNorm's epsilon */
    const struct vx_node *sum_nodes[2]; /* vx_sum_div_def: the two fused Adds (fallback) */
    const vx_gate_plan *gate;           /* the step is this gate (vx_gate_def) */
} vx_op_prep;

typedef struct vx_op_ctx {
    int64_t opset;          /* default-domain opset of the model */
    vx_rng *rng;            /* per-run generator (RandomNormal*, RandomUniform*) */
    int threads;            /* threads the kernel may use (1 = scalar single-thread) */
    vx_tpool *pool;         /* thread pool, may be NULL */
    const vx_op_prep *prep; /* load-time preparation of this step, or NULL */
    unsigned inplace;       /* bit j: input j dies here, is run-owned and not aliased by
                              * another input: the kernel may overwrite it and return as
                              * output a view with the same data pointer and byte size */
    unsigned dying;         /* bit j: input j is run-owned, not kept, and dies at this step,
                              * but may share its buffer with other inputs of this step (the
                              * same value passed twice): only a kernel that knows how its
                              * reads and writes interleave may overwrite it (Conv's in-place
                              * residual, kernels/conv_par.h vx_par_conv1d_inplace) */
    char *err;              /* message buffer for failures */
    size_t errlen;
    /* > 0: vx_op_alloc / vx_op_alloc_raw refuse an output of more bytes (VOX_ERR_NOMEM,
     * and over_limit set). Constant folding at load sets it (engine/graph.c), so a tiny
     * model cannot make the load materialize a huge constant: such a node runs at run
     * time instead. */
    size_t max_bytes;
    int over_limit;
} vx_op_ctx;

/* in[i] is NULL for an omitted optional input. out[] tensors arrive empty. Returns 0 or
 * a negative VOX_ERR_* after writing a message with vx_op_fail. */
typedef int (*vx_op_fn)(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                        vx_tensor *out, int n_out);

typedef struct vx_op_def {
    const char *op_type; /* default domain only */
    vx_op_fn fn;
    int deterministic; /* 0 for random ops: never constant-folded */
} vx_op_def;

const vx_op_def *vx_op_find(const char *op_type);
/* The fused data-movement chain (ctx->prep->chain says which nodes). */
extern const vx_op_def vx_move_chain_def;
/* Shape of a broadcasting binary op's output from the op's inputs (ops_shape.c). */
extern const vx_op_def vx_shape_bcast_def;
/* Shape of a MatMul's output from its two inputs (ops_shape.c). */
extern const vx_op_def vx_shape_matmul_def;
/* VITS's relative-position attention, from the scores' MatMul to the output's Add, as
 * one step (engine/fuse_attn.c finds it, ops/nn_attn.c runs it): sub-step i is node[i]
 * (def[i], with chain[i] as its prep when it is a fused chain), reading src[arg[i] + j]
 * for j < n_args[i]: >= 0 the step's input of that index, < 0 the output of sub-step
 * -(src + 1). The step's output is the last sub-step's. */
enum { AT_SCORES, AT_REL, AT_ADD, AT_WHERE, AT_SOFTMAX, AT_MMV, AT_RELV, AT_OUT, AT_N };
#define VX_ATTN_SRC_MAX 160
typedef struct vx_attn_plan {
    const struct vx_node *node[AT_N];
    const struct vx_op_def *def[AT_N];
    const struct vx_move_chain *chain[AT_N];
    int arg[AT_N], n_args[AT_N];
    int src[VX_ATTN_SRC_MAX];
    int *slots; /* the step's input slots (its in[]) */
    int n_slots;
} vx_attn_plan;
extern const vx_op_def vx_attn_def;
long vx_attn_fast_runs(void); /* runs that took the row-block path (tests) */
/* LayerNorm over the channel axis of x [N, C, T] (VITS's transpose / layer_norm /
 * transpose, engine/fuse_norm.c): inputs x, gamma [C], beta [C]; epsilon in prep.eps. */
extern const vx_op_def vx_chan_norm_def;
/* Div(Add(Add(x, y), z), d) as one pass (engine/fuse.c vx_graph_fuse_sum): inputs x, y, z,
 * d; out = ((x + y) + z) / d, the nodes' own operations in their order. */
extern const vx_op_def vx_sum_div_def;
/* WaveNet's gate (ctx->prep->gate says which nodes): inputs in0 [, in1]; see
 * vx_gate_plan. */
extern const vx_op_def vx_gate_def;
long vx_gate_fast_runs(void); /* runs that computed the gate in one pass (tests) */
/* The fused length-regulator path (ctx->prep->group says which nodes). */
extern const vx_op_def vx_length_path_def;
long vx_length_path_fast_runs(void); /* runs that took the compact path (tests) */

/* Output storage, zeroed. */
int vx_op_alloc(vx_op_ctx *ctx, vx_tensor *t, int dtype, int ndim, const int64_t *dims);
/* The same, uninitialized: only for kernels that write every element. */
int vx_op_alloc_raw(vx_op_ctx *ctx, vx_tensor *t, int dtype, int ndim, const int64_t *dims);
/* Writes "OpType 'node name': message" into ctx->err; returns code. */
int vx_op_fail(vx_op_ctx *ctx, const vx_node *node, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Attribute helpers with ONNX defaults. */
int64_t vx_attr_int(const vx_node *n, const char *name, int64_t def);
float vx_attr_float(const vx_node *n, const char *name, float def);
const char *vx_attr_str(const vx_node *n, const char *name, const char *def);
/* Returns count (or -1 if absent) and sets *vals. */
int64_t vx_attr_ints(const vx_node *n, const char *name, const int64_t **vals);

/* Each kernel family exports a NULL-terminated table; op.c merges them. */
extern const vx_op_def vx_ops_elementwise[];
extern const vx_op_def vx_ops_shape[];
extern const vx_op_def vx_ops_nn[];
#endif

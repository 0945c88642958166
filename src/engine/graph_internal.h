/* The compiled graph's layout, shared by graph.c (compile) and exec.c (run). */
#ifndef VX_GRAPH_INTERNAL_H
#define VX_GRAPH_INTERNAL_H
#include "engine/pack_cache.h"
#include "engine/graph.h"
#include "kernels/kernels.h"
#include <pthread.h>

/* One node left to run at run time, in execution order. */
typedef struct vx_step {
    const vx_node *node;
    const vx_op_def *def;
    int n_in, n_out;
    int *in;  /* slot per input; -1 = omitted optional input */
    int *out; /* slot per output; -1 = output not named ("") */
    int n_free;
    int *free; /* slots whose last use is this step: released right after it */
    int has_prep;
    vx_op_prep prep;   /* load-time packing / fusion (vx_op_ctx.prep) */
    void *pack_owned;  /* owner of prep.wpacked */
    int pack_sure;     /* the packing matches the node's static attributes, so the kernel
                        * takes the packed path whenever vx_graph_step_reads_raw says so */
    const char *label; /* op type shown by profiles ("Conv+LeakyRelu+Add"...) */
} vx_step;

struct vx_graph {
    vx_model *model;
    void (*model_free)(vx_model *);

    int n_values;       /* slots */
    const char **names; /* slot -> value name (model arena) */
    int hash_cap;       /* power of two */
    int *hash;          /* slot + 1, 0 = empty */

    unsigned char *is_const;  /* slot is constant: its tensor is consts[slot] */
    vx_tensor *consts;        /* non-owned views: of initializers, attributes, const_store */
    vx_tensor *const_store;   /* owners of folded tensors (and Constant scalars/lists) */
    int *last_use;            /* slot -> last step that reads it; -1 = none */
    unsigned char *is_output; /* slot is a graph output (never released early) */
    unsigned char *elided;    /* slot was fused away at load: never produced */

    int *in_slots;  /* graph input i -> slot */
    int *out_slots; /* graph output i -> slot */

    int n_steps;
    vx_step *steps;
    int *step_ints; /* backing store of the steps' slot arrays */
    int max_in, max_out;

    int n_folded, n_consts, n_fused;

    /* Constants whose data was dropped after packing (pack.c: vx_graph_drop_consts), or
     * never copied by the loader (VX_LOAD_DEFER_COPIES): consts[s].data is NULL until
     * something that needs the raw values rebuilds it (vx_graph_const_restore). */
    const void **lazy_src; /* slot -> file bytes to rebuild from, or NULL */
    void **lazy_buf;       /* slot -> rebuilt copy (owned, free()) */
    pthread_mutex_t lazy_mu;
    int lazy_mu_init;

    int precision;    /* vx_graph_opts.precision (pack.c) */
    void *pack_arena; /* mmap'ed block holding the steps' packed weights (pack.c): anonymous,
                       * or a read-only mapping of a packed-weight cache file */
    size_t pack_arena_bytes;
    char *pack_cache_dir;  /* vx_graph_opts.pack_cache (owned), NULL = no cache */
    const char *pack_hit;  /* vx_graph_pack_cache's answer */
    int pack_key_ok;       /* pack_key names this graph's cache file (vx_graph_cache_aux_*) */
    vx_pack_key pack_key;

    struct vx_split *split; /* vx_graph_split (split.c): set once at load, then read-only */

    struct vx_group_list *groups; /* fused node groups (fuse_path.c), read by their steps */
    vx_move_chain *chains;        /* fused data-movement chains (fuse.c), read by their steps */
    struct vx_attn_list *attns;   /* fused attentions (fuse_attn.c), read by their steps */
    struct vx_gate_list *gates;   /* fused WaveNet gates (fuse_gate.c), read by their steps */
    int *chain_ints;              /* the chain steps' input slots */
};

/* Per-run state (exec.c): one value table and kernel scratch, in one allocation. The
 * split runs (split.c) drive the same steps over parts of the graph. */
typedef struct vx_run {
    const vx_graph *g;
    vx_tensor *vals;     /* slot -> tensor (constants are read from g->consts) */
    unsigned char *keep; /* slot must survive the run (outputs, extra outputs) */
    vx_tensor **in;      /* scratch: kernel input pointers */
    vx_tensor *out;      /* scratch: kernel outputs */
    int live, peak_live;
    size_t bytes, peak_bytes;
    char *block;           /* the allocation behind the tables */
    signed char *rec_ndim; /* or NULL: shape of every value produced (split analysis) */
    int64_t *rec_dims;     /* VX_MAX_DIMS per slot */
} vx_run;
int vx_run_begin(vx_run *r, const vx_graph *g); /* 0 or VOX_ERR_NOMEM */
/* Runs step k (inputs from r->vals / constants); releases values whose last use it is. */
int vx_run_step(vx_run *r, const vx_run_opts *o, vx_rng *rng, int k);
/* Hands slot s to the caller as an owned tensor. */
int vx_run_take(vx_run *r, int s, vx_tensor *dst);
void vx_run_clear(vx_run *r); /* releases every value */
void vx_run_end(vx_run *r);   /* releases every value and the tables */
int vx_graph_check_input(const vx_graph *g, int i, const vx_tensor *t, char *err, size_t errlen);

/* split.c: the frame-level part and its halo (stream.c runs it in windows). */
struct vx_split {
    unsigned char *in_r; /* step -> in the frame-level part */
    int n_bnd;
    int *bnd;      /* boundary slots (frame-varying values R reads, sliced per window) */
    int *bnd_rate; /* their samples per frame */
    int out_slot, out_rate;
    vx_split_info info;
    /* Cuts (split_cuts.c): after step cut_step[i], the values cut_vals[2j] (rate
     * cut_vals[2j+1]) for j in [cut_off[i], cut_off[i+1]) are cropped to frames
     * [a - cut_ctx[2i], b + cut_ctx[2i+1]] of a window [a, b). */
    int n_cuts;
    int *cut_step, *cut_ctx, *cut_off, *cut_vals;
};
void vx_split_free(struct vx_split *s);
/* Frames covering n samples at rate samples per frame (rounded up; none for n <= 0). */
static inline int64_t vx_split_frames(int64_t n, int64_t rate) {
    return n <= 0 ? 0 : (n + rate - 1) / rate;
}
/* Edge contamination of a proven-local step's outputs from its inputs' (split.c). */
void vx_split_step_contam(const vx_graph *g, const vx_step *st, const unsigned char *fv,
                          const int64_t *el, const int64_t *er, int64_t *l, int64_t *r);
/* Fills sp's cuts from the forward pass's frame kinds, rates and contamination. */
int vx_split_find_cuts(const vx_graph *g, struct vx_split *sp, const unsigned char *fv,
                       const int *rate, const int64_t *el, const int64_t *er);

/* Writes a message into err (if any) and returns code: the engine's error idiom. */
int vx_graph_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Slot of a value name, or -1. */
int vx_graph_slot(const vx_graph *g, const char *name);
/* A kernel output the rest of the graph can read: known dtype, consistent shape, data. */
int vx_graph_tensor_ok(const vx_tensor *t);
/* Environment switch set to "0" or "off". */
int vx_env_off(const char *name);
/* LeakyRelu -> Conv -> Add fusion (fuse.c); uses has n_values + 1 ints of scratch.
 * Returns the number of nodes fused away; their steps get node = NULL. */
int vx_graph_fuse(vx_graph *g, const vx_kernels *f, int *uses);
/* A fused node group and its step's input slots (owned by the graph). */
typedef struct vx_group_list {
    vx_node_group *group;
    int *ints;
    struct vx_group_list *next;
} vx_group_list;
/* Number of steps reading each slot (+1 if it is a graph output) into uses. */
void vx_graph_count_uses(const vx_graph *g, int *uses);
/* The step before `before` that makes slot s, or -1. */
int vx_graph_producer_before(const vx_graph *g, int s, int before);
/* Step k (may be -1: no) is an unfused op with n_in inputs and one output (the pattern
 * matchers of fuse_attn.c and fuse_norm.c). */
int vx_graph_step_is(const vx_graph *g, int k, const char *op, int n_in);
/* VITS's length-regulator path fused into one step (fuse_path.c; ops/length_path.c).
 * Returns the number of nodes fused away, or VOX_ERR_NOMEM. */
int vx_graph_fuse_path(vx_graph *g, int *uses);
/* Shape step sh, reading MatMul step mm's output, made ShapeOfMatMul over mm's inputs
 * (so that output need not exist; fuse.c). */
void vx_graph_shape_of_matmul(vx_step *sh, const vx_step *mm);
/* Pad / Reshape / Slice chains fused into one step each (fuse.c; ops/shape_chain.c).
 * Returns the number of nodes fused away, or VOX_ERR_NOMEM. */
int vx_graph_fuse_moves(vx_graph *g, int *uses);
/* Relative-position attentions fused into one step each (fuse_attn.c; ops/nn_attn.c).
 * Returns the number of nodes fused away, or VOX_ERR_NOMEM. */
typedef struct vx_attn_list {
    vx_attn_plan plan;
    struct vx_attn_list *next;
} vx_attn_list;
int vx_graph_fuse_attn(vx_graph *g, int *uses);
/* VITS's channel LayerNorms (Transpose ... Transpose) fused into one step each
 * (fuse_norm.c; ops/nn_norm.c). Returns the number of nodes fused away. */
int vx_graph_fuse_norm(vx_graph *g, int *uses);
/* Div(Add(Add(x, y), z), constant) as one step (fuse.c; ops vx_sum_div_def). Returns the
 * number of nodes fused away. */
int vx_graph_fuse_sum(vx_graph *g, int *uses);
/* WaveNet's gate (Add, Slice, Tanh, Slice, Sigmoid, Mul) as one step (fuse_gate.c; ops
 * vx_gate_def). Returns the number of nodes fused away, or VOX_ERR_NOMEM. */
typedef struct vx_gate_list {
    vx_gate_plan plan;
    struct vx_gate_list *next;
} vx_gate_list;
int vx_graph_fuse_gate(vx_graph *g, int *uses);
/* Slot s is a float constant with one element; its value in *v. */
int vx_graph_const_scalar(const vx_graph *g, int s, float *v);
/* Slot s is an int32 or int64 constant with one element; its value in *v. */
int vx_graph_const_int(const vx_graph *g, int s, int64_t *v);
/* Pre-pack constant conv weights for kern (pack.c). */
void vx_graph_pack(vx_graph *g, const vx_kernels *kern);
/* After packing (returns 0 or VOX_ERR_NOMEM): drop the raw data of constants that only packed steps read (and of
 * initializers no step reads): the loader's copies are freed (rebuilt on demand from the
 * file), pages of in-place views are returned to the file (they fault back in). */
int vx_graph_drop_consts(vx_graph *g);
/* Allocates lazy_src / lazy_buf / lazy_mu once; 0 or VOX_ERR_NOMEM. */
int vx_graph_lazy_init(vx_graph *g);
/* Whether step st, given its run-time inputs, may read the raw data of input j. */
int vx_graph_step_reads_raw(const vx_graph *g, const vx_step *st, int j, vx_tensor *const *in);
/* Makes dropped constant s readable again; 0 or VOX_ERR_NOMEM. Thread-safe. */
int vx_graph_const_restore(const vx_graph *g, int s);
#endif

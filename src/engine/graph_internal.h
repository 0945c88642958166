/* The compiled graph's layout, shared by graph.c (compile) and exec.c (run). */
#ifndef VX_GRAPH_INTERNAL_H
#define VX_GRAPH_INTERNAL_H
#include "engine/graph.h"
#include "kernels/kernels.h"
#include "kernels/x86/kernels_fused.h"

/* One node left to run at run time, in execution order. */
typedef struct vx_step {
    const vx_node *node;
    const vx_op_def *def;
    int n_in, n_out;
    int *in;        /* slot per input; -1 = omitted optional input */
    int *out;       /* slot per output; -1 = output not named ("") */
    int n_free;
    int *free;      /* slots whose last use is this step: released right after it */
    int has_prep;
    vx_op_prep prep;   /* load-time packing / fusion (vx_op_ctx.prep) */
    void *pack_owned;  /* owner of prep.wpacked */
    const char *label; /* op type shown by profiles ("Conv+LeakyRelu+Add"...) */
} vx_step;

struct vx_graph {
    vx_model *model;
    void (*model_free)(vx_model *);

    int n_values;              /* slots */
    const char **names;        /* slot -> value name (model arena) */
    int hash_cap;              /* power of two */
    int *hash;                 /* slot + 1, 0 = empty */

    unsigned char *is_const;   /* slot is constant: its tensor is consts[slot] */
    vx_tensor *consts;         /* non-owned views: of initializers, attributes, const_store */
    vx_tensor *const_store;    /* owners of folded tensors (and Constant scalars/lists) */
    int *last_use;             /* slot -> last step that reads it; -1 = none */
    unsigned char *is_output;  /* slot is a graph output (never released early) */
    unsigned char *elided;     /* slot was fused away at load: never produced */

    int *in_slots;             /* graph input i -> slot */
    int *out_slots;            /* graph output i -> slot */

    int n_steps;
    vx_step *steps;
    int *step_ints;            /* backing store of the steps' slot arrays */
    int max_in, max_out;

    int n_folded, n_consts, n_fused;
};

/* Slot of a value name, or -1. */
int vx_graph_slot(const vx_graph *g, const char *name);
/* A kernel output the rest of the graph can read: known dtype, consistent shape, data. */
int vx_graph_tensor_ok(const vx_tensor *t);
/* Environment switch set to "0" or "off". */
int vx_env_off(const char *name);
/* LeakyRelu -> Conv -> Add fusion (fuse.c); uses has n_values + 1 ints of scratch.
 * Returns the number of nodes fused away; their steps get node = NULL. */
int vx_graph_fuse(vx_graph *g, const vx_kernels_fused *f, int *uses);
/* Pre-pack constant conv weights for kern (pack.c). */
void vx_graph_pack(vx_graph *g, const vx_kernels *kern, const vx_kernels_fused *f);
#endif

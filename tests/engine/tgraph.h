/* Building test graphs by hand (tests/engine): nodes, compiling with and without a
 * fusion, tensor headers over test data. */
#ifndef VOX_TESTS_TGRAPH_H
#define VOX_TESTS_TGRAPH_H
#include "engine/graph.h"
#include "engine/graph_internal.h"
#include "onnx/model.h"
#include "tensor/tensor.h"
#include "test.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void tg_node(vx_node *n, const char **io, const char *op, int n_in, const char *const *ins,
                    const char *out) {
    n->name = out;
    n->op_type = op;
    n->domain = "";
    n->n_inputs = n_in;
    n->n_outputs = 1;
    for (int i = 0; i < n_in; i++) io[i] = ins[i];
    io[5] = out;
    n->inputs = &io[0];
    n->outputs = &io[5];
}

/* A model over the caller's arrays, opset 13: input i is names[i], of unknown shape and
 * (until the caller sets it) int64. */
static inline void tg_model(vx_model *m, vx_node *nodes, vx_value_info *ins,
                            const char *const *names, int n_in, vx_value_info *outs) {
    m->opset = 13;
    m->nodes = nodes;
    m->inputs = ins;
    m->outputs = outs;
    for (int i = 0; i < n_in; i++) {
        ins[i].name = names[i];
        ins[i].dtype = VX_INT64;
        ins[i].ndim = -1;
    }
    m->n_inputs = n_in;
}

/* The model compiled, with the environment switch off_env set to "0" during the compile
 * when fuse is 0 (the unfused graph a fusion is compared with); NULL on failure. */
static vx_graph *tg_compile(const vx_model *m, const char *off_env, int fuse) {
    char err[256] = "";
    vx_graph *g = NULL;
    if (!fuse) setenv(off_env, "0", 1);
    int rc = vx_graph_from_model((vx_model *)m, NULL, &g, err, sizeof err);
    unsetenv(off_env);
    CHECKF(rc == 0, "compile: %s", err);
    return rc ? NULL : g;
}

/* How many steps of compiled graph g run op type `op` (a fused step counts as its node's
 * type). */
static inline int tg_count_op(const vx_graph *g, const char *op) {
    int n = 0;
    for (int k = 0; k < g->n_steps; k++) n += !strcmp(g->steps[k].node->op_type, op);
    return n;
}

/* A tensor header over caller-owned data (not owned: nothing to release). */
static vx_tensor tg_tens(int dtype, void *data, int nd, const int64_t *dims) {
    vx_tensor t = {0};
    vx_tensor_set_shape(&t, nd, dims);
    t.dtype = dtype;
    t.data = data;
    return t;
}
/* The integer inputs of VITS's relative-position chains (attentions.py) for h heads and
 * length l: relative -> absolute is Pad p1, Reshape s1, Pad p2, Reshape s2, Slice a[3],
 * Slice b[4] (11 inputs); absolute -> relative (back) the first 7 with its own values. */
typedef struct tg_relpos {
    int64_t p1[8], s1[3], p2[6], s2[4], a[3], b[4], one;
} tg_relpos;

static inline void tg_relpos_init(tg_relpos *r, int64_t h, int64_t l, int back) {
    *r = (tg_relpos){.p1 = {0, 0, 0, 0, 0, 0, 0, 1},
                     .s1 = {1, h, l * 2 * l},
                     .p2 = {0, 0, 0, 0, 0, l - 1},
                     .s2 = {1, h, l + 1, 2 * l - 1},
                     .a = {0, l, 2},
                     .b = {l - 1, INT64_MAX, 3, 1},
                     .one = 1};
    if (back) { /* _absolute_position_to_relative_position */
        r->p1[7] = l - 1;
        r->s1[2] = l * l + l * (l - 1);
        r->p2[2] = l, r->p2[5] = 0;
        r->s2[2] = l, r->s2[3] = 2 * l;
        r->a[0] = 1, r->a[1] = INT64_MAX, r->a[2] = 3;
    }
}

/* Tensor headers over r, into in[0..7) (back) or in[0..11). */
static inline void tg_relpos_tensors(tg_relpos *r, int back, vx_tensor *in) {
    in[0] = tg_tens(VX_INT64, r->p1, 1, (int64_t[]){8});
    in[1] = tg_tens(VX_INT64, r->s1, 1, (int64_t[]){3});
    in[2] = tg_tens(VX_INT64, r->p2, 1, (int64_t[]){6});
    in[3] = tg_tens(VX_INT64, r->s2, 1, (int64_t[]){4});
    for (int i = 0; i < 3; i++) in[4 + i] = tg_tens(VX_INT64, &r->a[i], 1, &r->one);
    for (int i = 0; i < 4 && !back; i++) in[7 + i] = tg_tens(VX_INT64, &r->b[i], 1, &r->one);
}
#endif

/* Building test graphs by hand (tests/engine): nodes, compiling with and without a
 * fusion, tensor headers over test data. */
#ifndef VOX_TESTS_TGRAPH_H
#define VOX_TESTS_TGRAPH_H
#include "engine/graph.h"
#include "onnx/model.h"
#include "tensor/tensor.h"
#include "test.h"
#include <stdlib.h>

static void tg_node(vx_node *n, const char **io, const char *op, int n_in,
                    const char *const *ins, const char *out) {
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

/* A tensor header over caller-owned data (not owned: nothing to release). */
static vx_tensor tg_tens(int dtype, void *data, int nd, const int64_t *dims) {
    vx_tensor t = {0};
    vx_tensor_set_shape(&t, nd, dims);
    t.dtype = dtype;
    t.data = data;
    return t;
}
#endif

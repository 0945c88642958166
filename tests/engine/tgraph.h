/* Building test graphs by hand (tests/engine): one node whose input and output names live
 * in io[0..5] (inputs first, the output in io[5]). */
#ifndef VOX_TESTS_TGRAPH_H
#define VOX_TESTS_TGRAPH_H
#include "onnx/model.h"

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
#endif

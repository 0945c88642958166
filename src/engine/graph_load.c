/* vx_graph_load lives apart from graph.c so that programs compiling hand-built models
 * (tests) do not pull in the ONNX loader. */
#include "engine/graph.h"

int vx_graph_load(const char *onnx_path, vx_graph **out, char *err, size_t errlen) {
    return vx_graph_load_opts(onnx_path, NULL, out, err, errlen);
}

int vx_graph_load_opts(const char *onnx_path, const vx_graph_opts *o, vx_graph **out, char *err,
                       size_t errlen) {
    vx_model *m = NULL;
    if (out) *out = NULL;
    int rc = vx_model_load_flags(onnx_path, VX_LOAD_DEFER_COPIES, &m, err, errlen);
    if (rc) return rc;
    return vx_graph_from_model_opts(m, vx_model_free, NULL, o, out, err, errlen);
}

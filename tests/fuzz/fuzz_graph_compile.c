/* libFuzzer target for the graph compiler: a model that loads (onnx/) is compiled as
 * vox_voice_load would (engine/graph.c: constant folding, the fusion passes of fuse*.c,
 * weight packing) and freed. Any byte string must compile or be refused with a message,
 * never crash, hang or leak. fuzz_onnx_load covers the loader alone; this one reaches
 * the passes that pattern-match a loaded graph (gate, residual-block mean, attention,
 * LayerNorm, Pad into Conv, length regulator), which a hostile model file also reaches.
 * Seeds: tests/fuzz/corpus/fuzz_graph_compile/ (the loader's seeds). */
#include "engine/graph.h"
#include "onnx/model.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    vx_model *m = NULL;
    if (vx_model_load_buffer(data, size, &m, err, sizeof err)) return 0;
    vx_graph *g = NULL;
    err[0] = 0;
    /* the graph owns m from here: freed with g, or on failure */
    int rc = vx_graph_from_model(m, vx_model_free, &g, err, sizeof err);
    if (rc && (!err[0] || g)) abort(); /* every refusal must explain itself, no graph */
    vx_graph_free(g);
    return 0;
}

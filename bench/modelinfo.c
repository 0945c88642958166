/* Prints the kernel table vox dispatches to and an estimate of a Piper model's
 * Conv/ConvTranspose FP32 cost per second of audio:
 *   modelinfo MODEL.onnx SAMPLE_RATE  ->  "kernels=avx512 gflop_per_audio_s=5.21 hop=256"
 * Each conv runs at the frame rate times the product of the ConvTranspose strides that
 * precede it in file order (torch exports are topologically sorted); the frame rate is
 * sample_rate / hop, hop = product of all ConvTranspose strides. The text encoder's
 * and duration predictor's share (per phoneme, not per sample) is left out. */
#include "kernels/kernels.h"
#include "onnx/model.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const vx_tensor *init_of(const vx_model *m, const char *name) {
    for (int i = 0; i < m->n_inits; i++)
        if (!strcmp(m->init_names[i], name)) return &m->inits[i];
    return NULL;
}
static int64_t attr_i(const vx_node *n, const char *name, int64_t def) {
    const vx_attr *a = vx_node_attr(n, name);
    if (!a) return def;
    if (a->n > 0 && a->ints) return a->ints[0];
    return a->i;
}

int main(int argc, char **argv) {
    printf("kernels=%s", vx_kernels_get()->name);
    if (argc < 3) {
        printf("\n");
        return 0;
    }
    vx_model *m;
    char err[256];
    if (vx_model_load(argv[1], &m, err, sizeof err)) {
        printf("\n");
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double rate = atof(argv[2]);
    int64_t hop = 1;
    for (int i = 0; i < m->n_nodes; i++)
        if (!strcmp(m->nodes[i].op_type, "ConvTranspose"))
            hop *= attr_i(&m->nodes[i], "strides", 1);
    double up = 1, flop = 0; /* flop per frame */
    int n_conv = 0, n_unknown = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        const vx_node *n = &m->nodes[i];
        int tr = !strcmp(n->op_type, "ConvTranspose");
        if (!tr && strcmp(n->op_type, "Conv")) continue;
        const vx_tensor *w = n->n_inputs > 1 ? init_of(m, n->inputs[1]) : NULL;
        int64_t s = attr_i(n, "strides", 1);
        if (!w || w->ndim != 3) {
            n_unknown++;
            if (tr) up *= s;
            continue;
        }
        double macs =
            (double)w->dims[0] * w->dims[1] * w->dims[2]; /* per input (tr) / output step */
        flop += 2.0 * macs * up; /* conv: per output step at this rate; convtr: per input step */
        if (tr) up *= s;
        n_conv++;
    }
    printf(" gflop_per_audio_s=%.3f hop=%lld convs=%d unknown_weights=%d\n",
           flop * rate / hop * 1e-9, (long long)hop, n_conv, n_unknown);
    vx_model_free(m);
    return 0;
}

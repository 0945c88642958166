/* libFuzzer target for the ONNX loader: any byte string must load or be refused with
 * a message, never crash, hang, leak or allocate beyond what the input justifies.
 * Seeds: tests/fuzz/corpus/fuzz_onnx_load/ (small models written with tests/onnx/pbw.h,
 * regenerate with tests/onnx/gen_onnx_seeds.c). */
#include "onnx/model.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    vx_model *m = NULL;
    int rc = vx_model_load_buffer(data, size, &m, err, sizeof err);
    if (rc == 0) {
        /* touch what the executor will read, so bad pointers or sizes show up here */
        volatile uint64_t sum = 0;
        for (int i = 0; i < m->n_inits; i++) {
            const vx_tensor *t = &m->inits[i];
            size_t n = vx_tensor_bytes(t);
            for (size_t k = 0; k < n; k += 7) sum += ((const uint8_t *)t->data)[k];
            sum += strlen(m->init_names[i]);
        }
        for (int i = 0; i < m->n_nodes; i++) {
            const vx_node *nd = &m->nodes[i];
            sum += strlen(nd->op_type) + strlen(nd->name) + strlen(nd->domain);
            for (int k = 0; k < nd->n_inputs; k++) sum += strlen(nd->inputs[k]);
            for (int k = 0; k < nd->n_outputs; k++) sum += strlen(nd->outputs[k]);
            for (int k = 0; k < nd->n_attrs; k++) {
                const vx_attr *a = &nd->attrs[k];
                sum += strlen(a->name);
                if (a->type == VX_ATTR_INTS)
                    for (int64_t j = 0; j < a->n; j++) sum += (uint64_t)a->ints[j];
                if (a->type == VX_ATTR_FLOATS)
                    for (int64_t j = 0; j < a->n; j++) sum += (uint64_t)(a->floats[j] != 0);
                if (a->type == VX_ATTR_STRING || a->type == VX_ATTR_STRINGS)
                    sum += a->s_len ? (uint8_t)a->s[a->s_len - 1] : 0;
                if (a->type == VX_ATTR_TENSOR || a->type == VX_ATTR_TENSORS)
                    for (int64_t j = 0; j < a->n; j++) {
                        size_t n = vx_tensor_bytes(&a->t[j]);
                        if (n) sum += ((const uint8_t *)a->t[j].data)[n - 1];
                    }
            }
        }
        for (int i = 0; i < m->n_inputs; i++) sum += strlen(m->inputs[i].name);
        for (int i = 0; i < m->n_outputs; i++) sum += strlen(m->outputs[i].name);
        for (int i = 0; i < m->n_meta; i++)
            sum += strlen(m->meta[i].key) + strlen(m->meta[i].value);
        (void)sum;
    } else if (!err[0] || m) {
        abort(); /* every refusal must explain itself and return no model */
    }
    vx_model_free(m);
    return 0;
}

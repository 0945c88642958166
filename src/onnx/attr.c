#include "onnx/model.h"
#include <string.h>

const vx_attr *vx_node_attr(const vx_node *n, const char *name) {
    for (int i = 0; i < n->n_attrs; i++)
        if (n->attrs[i].name && !strcmp(n->attrs[i].name, name)) return &n->attrs[i];
    return NULL;
}

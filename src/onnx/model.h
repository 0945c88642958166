/* An ONNX model as plain structs: what the loader produces and the executor reads.
 * Strings and arrays live in the model's arena; initializer data points into the
 * mmap'ed file where alignment allows (tensor.owned = 0), else is copied (owned = 1). */
#ifndef VX_MODEL_H
#define VX_MODEL_H
#include <stddef.h>
#include <stdint.h>
#include "tensor/tensor.h"

enum {
    VX_ATTR_UNDEFINED = 0,
    VX_ATTR_FLOAT = 1,
    VX_ATTR_INT = 2,
    VX_ATTR_STRING = 3,
    VX_ATTR_TENSOR = 4,
    VX_ATTR_GRAPH = 5,
    VX_ATTR_FLOATS = 6,
    VX_ATTR_INTS = 7,
    VX_ATTR_STRINGS = 8,
    VX_ATTR_TENSORS = 9,
    VX_ATTR_GRAPHS = 10,
};

typedef struct vx_attr {
    const char *name;
    int type; /* VX_ATTR_* (ONNX AttributeProto.AttributeType) */
    float f;
    int64_t i;
    const char *s; /* NUL-terminated copy; s_len bytes (may contain NULs) */
    size_t s_len;
    vx_tensor *t;        /* VX_ATTR_TENSOR */
    const float *floats; /* VX_ATTR_FLOATS, n entries */
    const int64_t *ints; /* VX_ATTR_INTS, n entries */
    int64_t n;
} vx_attr;

typedef struct vx_node {
    const char *name; /* may be "" */
    const char *op_type;
    const char *domain; /* "" = ai.onnx */
    int n_inputs, n_outputs, n_attrs;
    const char **inputs; /* "" = optional input not given */
    const char **outputs;
    vx_attr *attrs;
} vx_node;

typedef struct vx_value_info {
    const char *name;
    int dtype;                 /* VX_* or 0 if unknown */
    int ndim;                  /* -1 if unknown */
    int64_t dims[VX_MAX_DIMS]; /* -1 for symbolic/unknown dims */
} vx_value_info;

typedef struct vx_meta {
    const char *key, *value;
} vx_meta;

typedef struct vx_model {
    int64_t ir_version;
    int64_t opset; /* version of the default ("" / "ai.onnx") domain */
    const char *producer_name, *producer_version, *graph_name;
    int n_nodes;
    vx_node *nodes; /* in file order */
    int n_inits;
    const char **init_names;
    vx_tensor *inits;
    int n_inputs;
    vx_value_info *inputs; /* excludes initializers */
    int n_outputs;
    vx_value_info *outputs;
    int n_meta;
    vx_meta *meta;
    /* private to the loader */
    const void **init_src; /* initializer i -> its file bytes when inits[i] is a copy */
    void *arena;
    void *map_base;
    size_t map_size;
    /* the file's identity when loaded from a file (device, inode, size, mtime and ctime
     * in ns): what the packed-weight cache keys on (engine/pack_cache.h) */
    int has_file_id;
    uint64_t file_id[5];
} vx_model;

/* Explicit loader limits. */
#define VX_MODEL_MAX_BYTES   ((size_t)2 << 30) /* 2 GiB file */
#define VX_MODEL_MAX_NODES   1000000
#define VX_MODEL_MAX_NESTING 64 /* protobuf message depth */

/* Load from a file (mmap). Returns 0, or a negative VOX_ERR_* with a message in err
 * naming the field or node at fault. */
int vx_model_load(const char *path, vx_model **out, char *err, size_t errlen);
/* Load from memory; the buffer must outlive the model (used by tests and fuzzing). */
int vx_model_load_buffer(const void *buf, size_t len, vx_model **out, char *err, size_t errlen);

/* VX_LOAD_DEFER_COPIES: initializers whose raw_data is misaligned for their element type
 * are not copied at load: inits[i].data is NULL (owned 0, shape and dtype set) and
 * vx_model_init_source(m, i) gives the (misaligned) file bytes. The owner reads them
 * from there (memcpy) or calls vx_model_init_materialize first. Other tensors (aligned
 * views, typed data, attribute tensors) are unaffected. */
#define VX_LOAD_DEFER_COPIES 1u
int vx_model_load_flags(const char *path, unsigned flags, vx_model **out, char *err, size_t errlen);
int vx_model_load_buffer_flags(const void *buf, size_t len, unsigned flags, vx_model **out,
                               char *err, size_t errlen);
/* Initializer i has deferred data (see VX_LOAD_DEFER_COPIES). */
int vx_model_init_deferred(const vx_model *m, int i);
/* Makes the deferred copy of initializer i (owned, aligned); 0 if it is not deferred.
 * 0 or VOX_ERR_NOMEM. Not thread-safe: for the model's single owner. */
int vx_model_init_materialize(vx_model *m, int i);
void vx_model_free(vx_model *m);

/* The bytes in the mapped file (or load buffer) that initializer i was copied from,
 * or NULL when inits[i] is not a copy of raw_data (a view, or typed data). Valid until
 * vx_model_free; lets an owner drop the copy and rebuild it when needed. */
const void *vx_model_init_source(const vx_model *m, int i);

/* Attribute lookup; NULL if absent. */
const vx_attr *vx_node_attr(const vx_node *n, const char *name);
#endif

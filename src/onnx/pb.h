/* The protobuf wire-format reader under the ONNX loader (load.c): the loader state,
 * error reporting with a "where are we" stack, and bounds-checked reads of varints,
 * tags, length-delimited blobs and repeated (packed or not) scalars. Internal to onnx/. */
#ifndef VX_ONNX_PB_H
#define VX_ONNX_PB_H
#include "onnx/model.h"
#include "util/arena.h"
#include <stddef.h>
#include <stdint.h>

/* Everything the model's arena may hold (strings, node and attribute arrays, int lists).
 * Initializer payloads are not counted: they are views or separate aligned buffers. */
#define VX_MODEL_MAX_META_BYTES ((size_t)1 << 30)

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

typedef struct {
    const uint8_t *p, *end;
} pb;

/* One level of "where are we" for error messages. */
typedef struct {
    const char *what; /* "graph", "node", "attribute", ... */
    long index;       /* -1: none */
    const char *name; /* may be NULL */
    const char *op;   /* op_type of a node, or NULL */
} frame;

typedef struct {
    vx_arena *arena;
    const uint8_t *base; /* start of the buffer: errors report byte offsets */
    char *err;
    size_t errlen;
    int depth;
    frame fr[VX_MODEL_MAX_NESTING];
    const void *last_raw; /* file bytes of the last initializer vx_onnx_parse_tensor copied */
    unsigned flags;       /* VX_LOAD_* */
    int defer_now;        /* parsing an initializer under VX_LOAD_DEFER_COPIES */
} loader;

/* Repeated scalars: kind says how one value is encoded. */
enum { K_VARINT, K_F32, K_F64 };

int vx_pb_fail(loader *L, int code, const uint8_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int vx_pb_push(loader *L, const char *what, long index, const char *name, const char *op);
void vx_pb_pop(loader *L);
int vx_pb_nomem(loader *L);
size_t vx_pb_left(const pb *b);
int vx_pb_rd_varint(loader *L, pb *b, uint64_t *v, const char *field);
int vx_pb_rd_tag(loader *L, pb *b, uint32_t *field, int *wt, const char *msg);
int vx_pb_rd_len(loader *L, pb *b, pb *sub, const char *field);
int vx_pb_rd_fixed(loader *L, pb *b, void *out, size_t n, const char *field);
int vx_pb_skip(loader *L, pb *b, int wt, const char *msg);
int vx_pb_want(loader *L, const pb *b, int wt, int expected, const char *field);
int vx_pb_rd_int(loader *L, pb *b, int wt, int64_t *out, const char *field);
int vx_pb_rd_int32(loader *L, pb *b, int wt, int64_t *out, const char *field);
int vx_pb_rd_str(loader *L, pb *b, int wt, const char **out, size_t *len, const char *field);
int vx_pb_rd_msg(loader *L, pb *b, int wt, pb *sub, const char *field);
int vx_pb_rep_count(loader *L, pb *b, int wt, int kind, int64_t *n, const char *field);
void vx_pb_put_int(void *dst, int dtype, int64_t i, uint64_t v);
int vx_pb_rep_read(loader *L, pb *b, int wt, int kind, void *dst, int dtype, int64_t *k,
                   int64_t cap, const char *field);
#endif

/* ONNX model loader: our own protobuf wire-format reader over an mmap of the file.
 *
 * Why not protobuf-c or nanopb: onnx.proto is small (we read ~12 message types), and
 *  - weights must stay zero-copy: an initializer's raw_data is a view into the mapping
 *    (protobuf-c would copy every initializer into malloc'ed memory, 63+ MB per voice);
 *  - every count and length comes from an untrusted file, so each one is checked
 *    against the bytes that remain before anything is allocated;
 *  - no generated code and no extra dependency.
 *
 * The wire format: a message is a sequence of (tag varint = field << 3 | wire type,
 * payload); payloads are a varint (0), 8 bytes (1), a length-prefixed blob (2) or
 * 4 bytes (5). Groups (3, 4) are obsolete and refused. Repeated scalars may be packed
 * (one blob) or not (one tag per value); both are accepted everywhere.
 *
 * Arrays are sized by a counting pass over a message before a filling pass, so every
 * allocation is exactly what the file describes (and bounded by its size). The reader
 * only recurses into the message types it knows, so nesting is bounded by the schema
 * (checked against VX_MODEL_MAX_NESTING anyway); unknown fields are skipped unparsed.
 *
 * Assumes a little-endian host (raw_data is little-endian and is used in place). */
#include "onnx/pb.h"
#include "vox.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ONNX loader uses raw_data in place and needs a little-endian host"
#endif

/* ---------------------------------------------------------------- tensors */

typedef struct {
    int64_t dims[VX_MAX_DIMS];
    int64_t ndim;
    int64_t dtype;
    const char *name;
    pb raw;
    int has_raw, has_ext, has_segment;
    int64_t location;
    int64_t n_float, n_i32, n_i64, n_f64, n_u64, n_str;
} tinfo;

/* Which typed field holds values of dtype, and how they are encoded. */
static int typed_field(int dtype, int *kind) {
    switch (dtype) {
    case VX_FLOAT: *kind = K_F32; return 4;
    case VX_DOUBLE: *kind = K_F64; return 10;
    case VX_INT64: *kind = K_VARINT; return 7;
    case VX_UINT32:
    case VX_UINT64: *kind = K_VARINT; return 11;
    default: *kind = K_VARINT; return 5; /* int32_data: int32/16/8, uint16/8, bool, float16 */
    }
}

static int tensor_scan(loader *L, pb m, tinfo *ti) {
    const char *M = "TensorProto";
    memset(ti, 0, sizeof *ti);
    ti->name = "";
    while (m.p < m.end) {
        uint32_t f;
        int wt, rc = vx_pb_rd_tag(L, &m, &f, &wt, M);
        int64_t k = ti->ndim;
        if (rc) return rc;
        switch (f) {
        case 1:
            rc = vx_pb_rep_read(L, &m, wt, K_VARINT, ti->dims, VX_INT64, &k, VX_MAX_DIMS,
                                "TensorProto.dims");
            ti->ndim = k;
            break;
        case 2: rc = vx_pb_rd_int32(L, &m, wt, &ti->dtype, "TensorProto.data_type"); break;
        case 3:
            ti->has_segment = 1;
            rc = vx_pb_skip(L, &m, wt, M);
            break;
        case 4:
            rc = vx_pb_rep_count(L, &m, wt, K_F32, &ti->n_float, "TensorProto.float_data");
            break;
        case 5:
            rc = vx_pb_rep_count(L, &m, wt, K_VARINT, &ti->n_i32, "TensorProto.int32_data");
            break;
        case 6:
            ti->n_str++;
            rc = vx_pb_skip(L, &m, wt, M);
            break;
        case 7:
            rc = vx_pb_rep_count(L, &m, wt, K_VARINT, &ti->n_i64, "TensorProto.int64_data");
            break;
        case 8: rc = vx_pb_rd_str(L, &m, wt, &ti->name, NULL, "TensorProto.name"); break;
        case 9:
            rc = vx_pb_rd_msg(L, &m, wt, &ti->raw, "TensorProto.raw_data");
            ti->has_raw = 1;
            break;
        case 10:
            rc = vx_pb_rep_count(L, &m, wt, K_F64, &ti->n_f64, "TensorProto.double_data");
            break;
        case 11:
            rc = vx_pb_rep_count(L, &m, wt, K_VARINT, &ti->n_u64, "TensorProto.uint64_data");
            break;
        case 13:
            ti->has_ext = 1;
            rc = vx_pb_skip(L, &m, wt, M);
            break;
        case 14: rc = vx_pb_rd_int32(L, &m, wt, &ti->location, "TensorProto.data_location"); break;
        default: rc = vx_pb_skip(L, &m, wt, M); break;
        }
        if (rc) return rc;
    }
    return 0;
}

/* Parse a TensorProto into t (zeroed by the caller). On failure t owns nothing.
 * *name_out (optional) gets the tensor's name. */
static int parse_tensor(loader *L, pb m, vx_tensor *t, const char **name_out) {
    tinfo ti;
    const uint8_t *at = m.p;
    int rc = tensor_scan(L, m, &ti);
    if (rc) return rc;
    const char *nm = ti.name;
    if (name_out) *name_out = nm;
    if (ti.has_ext || ti.location == 1)
        return vx_pb_fail(L, VOX_ERR_MODEL, at, "external data not supported (tensor '%.80s')", nm);
    if (ti.has_segment)
        return vx_pb_fail(L, VOX_ERR_MODEL, at, "segmented tensors not supported (tensor '%.80s')",
                          nm);
    if (ti.dtype == VX_STRING || ti.n_str)
        return vx_pb_fail(L, VOX_ERR_MODEL, at, "string tensors not supported (tensor '%.80s')",
                          nm);
    size_t es = vx_dtype_size((int)ti.dtype);
    if (!es)
        return vx_pb_fail(L, VOX_ERR_MODEL, at, "tensor '%.80s': data type %lld not supported", nm,
                          (long long)ti.dtype);
    for (int i = 0; i < ti.ndim; i++)
        if (ti.dims[i] < 0)
            return vx_pb_fail(L, VOX_ERR_MODEL, at, "tensor '%.80s': negative dimension %lld", nm,
                              (long long)ti.dims[i]);
    if (vx_tensor_set_shape(t, (int)ti.ndim, ti.dims))
        return vx_pb_fail(L, VOX_ERR_MODEL, at, "tensor '%.80s': more than %lld elements", nm,
                          (long long)VX_MAX_ELEMS);
    t->dtype = (int)ti.dtype;
    int64_t typed = ti.n_float + ti.n_i32 + ti.n_i64 + ti.n_f64 + ti.n_u64;
    size_t bytes = (size_t)t->numel * es; /* numel <= 2^32, es <= 8: no overflow */
    if (ti.has_raw) {
        if (typed)
            return vx_pb_fail(L, VOX_ERR_MODEL, at,
                              "tensor '%.80s': has both raw_data and typed data", nm);
        if (vx_pb_left(&ti.raw) != bytes)
            return vx_pb_fail(
                L, VOX_ERR_MODEL, at,
                "tensor '%.80s': raw_data has %zu bytes, its shape needs %zu (%lld x %s)", nm,
                vx_pb_left(&ti.raw), bytes, (long long)t->numel, vx_dtype_name(t->dtype));
        if (!bytes) return 0;
        if ((uintptr_t)ti.raw.p % es == 0) {
            /* Zero-copy: the tensor is a read-only view of the file mapping. */
            t->data = (void *)(uintptr_t)ti.raw.p;
        } else if (L->defer_now) {
            /* Misaligned, copy deferred (VX_LOAD_DEFER_COPIES): no data until
             * vx_model_init_materialize; the file bytes are vx_model_init_source. */
            t->data = NULL;
            t->owned = 0;
            L->last_raw = ti.raw.p;
        } else {
            /* Misaligned for its element type: copy so kernels can use aligned access
             * (fully written: no zeroing first). The file bytes stay known
             * (vx_model_init_source) so the copy can be dropped and rebuilt. */
            t->data = vx_aligned_alloc_raw(bytes);
            if (!t->data) return vx_pb_nomem(L);
            memcpy(t->data, ti.raw.p, bytes);
            t->owned = 1;
            L->last_raw = ti.raw.p;
        }
        return 0;
    }
    int kind, field = typed_field(t->dtype, &kind);
    int64_t have = field == 4    ? ti.n_float
                   : field == 5  ? ti.n_i32
                   : field == 7  ? ti.n_i64
                   : field == 10 ? ti.n_f64
                                 : ti.n_u64;
    if (have != typed)
        return vx_pb_fail(L, VOX_ERR_MODEL, at,
                          "tensor '%.80s': typed data in a field that does not match %s", nm,
                          vx_dtype_name(t->dtype));
    if (have != t->numel)
        return vx_pb_fail(L, VOX_ERR_MODEL, at, "tensor '%.80s': has %lld values, dims need %lld",
                          nm, (long long)have, (long long)t->numel);
    if (!bytes) return 0;
    t->data = vx_aligned_alloc(bytes);
    if (!t->data) return vx_pb_nomem(L);
    t->owned = 1;
    int64_t k = 0;
    while (m.p < m.end) {
        uint32_t f;
        int wt;
        if ((rc = vx_pb_rd_tag(L, &m, &f, &wt, "TensorProto"))) break;
        if ((int)f == field)
            rc = vx_pb_rep_read(L, &m, wt, kind, t->data, t->dtype, &k, t->numel,
                                "TensorProto typed data");
        else
            rc = vx_pb_skip(L, &m, wt, "TensorProto");
        if (rc) break;
    }
    if (rc) {
        vx_tensor_release(t);
        return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- attributes */

static int parse_attr(loader *L, pb m, vx_attr *a, const char *node_op) {
    const char *M = "AttributeProto";
    pb scan = m;
    int64_t type = 0, n_floats = 0, n_ints = 0, n_strings = 0, n_tensors = 0;
    int has_f = 0, has_i = 0, has_s = 0, has_t = 0, has_g = 0, has_sparse = 0, has_tp = 0,
        has_ref = 0;
    size_t str_bytes = 0;
    pb s_val = {0}, t_val = {0};
    int rc = 0;
    a->name = "";
    while (scan.p < scan.end) {
        uint32_t f;
        int wt;
        pb sub;
        if ((rc = vx_pb_rd_tag(L, &scan, &f, &wt, M))) return rc;
        switch (f) {
        case 1: rc = vx_pb_rd_str(L, &scan, wt, &a->name, NULL, "AttributeProto.name"); break;
        case 2:
            if (!(rc = vx_pb_want(L, &scan, wt, WT_I32, "AttributeProto.f")))
                rc = vx_pb_rd_fixed(L, &scan, &a->f, 4, "AttributeProto.f");
            has_f = 1;
            break;
        case 3:
            rc = vx_pb_rd_int(L, &scan, wt, &a->i, "AttributeProto.i");
            has_i = 1;
            break;
        case 4:
            rc = vx_pb_rd_msg(L, &scan, wt, &s_val, "AttributeProto.s");
            has_s = 1;
            break;
        case 5:
            rc = vx_pb_rd_msg(L, &scan, wt, &t_val, "AttributeProto.t");
            has_t = 1;
            break;
        case 6:
        case 11:
            has_g = 1;
            rc = vx_pb_skip(L, &scan, wt, M);
            break;
        case 7:
            rc = vx_pb_rep_count(L, &scan, wt, K_F32, &n_floats, "AttributeProto.floats");
            break;
        case 8: rc = vx_pb_rep_count(L, &scan, wt, K_VARINT, &n_ints, "AttributeProto.ints"); break;
        case 9:
            if (!(rc = vx_pb_rd_msg(L, &scan, wt, &sub, "AttributeProto.strings"))) {
                n_strings++;
                str_bytes += vx_pb_left(&sub) + 1;
            }
            break;
        case 10:
            rc = vx_pb_rd_msg(L, &scan, wt, &sub, "AttributeProto.tensors");
            n_tensors++;
            break;
        case 14:
        case 15:
            has_tp = 1;
            rc = vx_pb_skip(L, &scan, wt, M);
            break;
        case 20: rc = vx_pb_rd_int32(L, &scan, wt, &type, "AttributeProto.type"); break;
        case 21:
            has_ref = 1;
            rc = vx_pb_skip(L, &scan, wt, M);
            break;
        case 22:
        case 23:
            has_sparse = 1;
            rc = vx_pb_skip(L, &scan, wt, M);
            break;
        default: rc = vx_pb_skip(L, &scan, wt, M); break;
        }
        if (rc) return rc;
    }
    L->fr[L->depth - 1].name = a->name;
    if (!*a->name) return vx_pb_fail(L, VOX_ERR_MODEL, m.p, "AttributeProto.name is missing");
    if (has_g || type == VX_ATTR_GRAPH || type == VX_ATTR_GRAPHS)
        return vx_pb_fail(L, VOX_ERR_MODEL, m.p,
                          "subgraphs (If/Loop/Scan) not supported (node op %s)", node_op);
    if (has_sparse || type == 11 || type == 12)
        return vx_pb_fail(L, VOX_ERR_MODEL, m.p, "sparse tensor attributes not supported");
    if (has_tp || type == 13 || type == 14)
        return vx_pb_fail(L, VOX_ERR_MODEL, m.p, "type-proto attributes not supported");
    if (has_ref)
        return vx_pb_fail(L, VOX_ERR_MODEL, m.p, "ref_attr_name is only valid inside functions");
    if (type == 0) { /* IR v1 files have no type: infer it from the field present */
        type = n_tensors   ? VX_ATTR_TENSORS
               : has_t     ? VX_ATTR_TENSOR
               : n_strings ? VX_ATTR_STRINGS
               : has_s     ? VX_ATTR_STRING
               : n_ints    ? VX_ATTR_INTS
               : n_floats  ? VX_ATTR_FLOATS
               : has_i     ? VX_ATTR_INT
               : has_f     ? VX_ATTR_FLOAT
                           : 0;
        if (!type)
            return vx_pb_fail(L, VOX_ERR_MODEL, m.p, "attribute has neither a type nor a value");
    }
    if (type < VX_ATTR_FLOAT || type > VX_ATTR_GRAPHS)
        return vx_pb_fail(L, VOX_ERR_MODEL, m.p, "AttributeProto.type %lld not supported",
                          (long long)type);
    a->type = (int)type;
    switch (type) {
    case VX_ATTR_STRING: {
        char *d = vx_arena_strndup(L->arena, (const char *)s_val.p, vx_pb_left(&s_val));
        if (!d) return vx_pb_nomem(L);
        a->s = d;
        a->s_len = vx_pb_left(&s_val);
        return 0;
    }
    case VX_ATTR_TENSOR:
        if (!has_t)
            return vx_pb_fail(L, VOX_ERR_MODEL, m.p, "TENSOR attribute without AttributeProto.t");
        if (!(a->t = vx_arena_alloc(L->arena, sizeof *a->t))) return vx_pb_nomem(L);
        a->n = 1;
        return parse_tensor(L, t_val, a->t, NULL);
    case VX_ATTR_FLOAT:
    case VX_ATTR_INT: return 0;
    default: break;
    }
    /* Repeated kinds: allocate exactly, then fill in a second pass. */
    float *floats = NULL;
    int64_t *ints = NULL;
    char *strs = NULL;
    vx_tensor *tensors = NULL;
    if (type == VX_ATTR_FLOATS && n_floats &&
        !(floats = vx_arena_array(L->arena, (size_t)n_floats, sizeof *floats)))
        return vx_pb_nomem(L);
    if (type == VX_ATTR_INTS && n_ints &&
        !(ints = vx_arena_array(L->arena, (size_t)n_ints, sizeof *ints)))
        return vx_pb_nomem(L);
    if (type == VX_ATTR_STRINGS && !(strs = vx_arena_alloc(L->arena, str_bytes)))
        return vx_pb_nomem(L);
    if (type == VX_ATTR_TENSORS && n_tensors &&
        !(tensors = vx_arena_array(L->arena, (size_t)n_tensors, sizeof *tensors)))
        return vx_pb_nomem(L);
    a->floats = floats;
    a->ints = ints;
    a->t = tensors;
    a->s = strs;
    int64_t k = 0;
    size_t soff = 0;
    while (m.p < m.end) {
        uint32_t f;
        int wt;
        pb sub;
        if ((rc = vx_pb_rd_tag(L, &m, &f, &wt, M))) return rc;
        if (f == 7 && type == VX_ATTR_FLOATS)
            rc = vx_pb_rep_read(L, &m, wt, K_F32, floats, 0, &k, n_floats, "AttributeProto.floats");
        else if (f == 8 && type == VX_ATTR_INTS)
            rc = vx_pb_rep_read(L, &m, wt, K_VARINT, ints, VX_INT64, &k, n_ints,
                                "AttributeProto.ints");
        else if (f == 9 && type == VX_ATTR_STRINGS) {
            /* STRINGS: n strings stored back to back, each NUL-terminated, s_len bytes in all */
            if (!(rc = vx_pb_rd_len(L, &m, &sub, "AttributeProto.strings"))) {
                if (vx_pb_left(&sub)) memcpy(strs + soff, sub.p, vx_pb_left(&sub));
                soff += vx_pb_left(&sub) + 1;
                k++;
            }
        } else if (f == 10 && type == VX_ATTR_TENSORS) {
            if (!(rc = vx_pb_rd_len(L, &m, &sub, "AttributeProto.tensors"))) {
                rc = parse_tensor(L, sub, &tensors[k], NULL);
                if (!rc) a->n = ++k; /* a->n counts parsed tensors so free() sees them */
            }
        } else
            rc = vx_pb_skip(L, &m, wt, M);
        if (rc) return rc;
    }
    a->n = k;
    a->s_len = type == VX_ATTR_STRINGS ? str_bytes : 0;
    return 0;
}

/* ---------------------------------------------------------------- nodes */

static int parse_node(loader *L, pb m, vx_node *n, long index) {
    const char *M = "NodeProto";
    pb scan = m;
    int64_t n_in = 0, n_out = 0, n_attr = 0;
    int rc;
    n->name = n->domain = "";
    n->op_type = NULL;
    if ((rc = vx_pb_push(L, "node", index, NULL, NULL))) return rc;
    while (scan.p < scan.end) {
        uint32_t f;
        int wt;
        pb sub;
        if ((rc = vx_pb_rd_tag(L, &scan, &f, &wt, M))) return rc;
        switch (f) {
        case 1:
            rc = vx_pb_rd_msg(L, &scan, wt, &sub, "NodeProto.input");
            n_in++;
            break;
        case 2:
            rc = vx_pb_rd_msg(L, &scan, wt, &sub, "NodeProto.output");
            n_out++;
            break;
        case 3: rc = vx_pb_rd_str(L, &scan, wt, &n->name, NULL, "NodeProto.name"); break;
        case 4: rc = vx_pb_rd_str(L, &scan, wt, &n->op_type, NULL, "NodeProto.op_type"); break;
        case 5:
            rc = vx_pb_rd_msg(L, &scan, wt, &sub, "NodeProto.attribute");
            n_attr++;
            break;
        case 7: rc = vx_pb_rd_str(L, &scan, wt, &n->domain, NULL, "NodeProto.domain"); break;
        default: rc = vx_pb_skip(L, &scan, wt, M); break;
        }
        if (rc) return rc;
    }
    L->fr[L->depth - 1].name = n->name;
    L->fr[L->depth - 1].op = n->op_type;
    if (!n->op_type || !*n->op_type)
        return vx_pb_fail(L, VOX_ERR_MODEL, m.p, "NodeProto.op_type is missing");
    /* counts are bounded by the message size (>= 2 bytes per entry), so they fit in int */
    if (n_in && !(n->inputs = vx_arena_array(L->arena, (size_t)n_in, sizeof *n->inputs)))
        return vx_pb_nomem(L);
    if (n_out && !(n->outputs = vx_arena_array(L->arena, (size_t)n_out, sizeof *n->outputs)))
        return vx_pb_nomem(L);
    if (n_attr && !(n->attrs = vx_arena_array(L->arena, (size_t)n_attr, sizeof *n->attrs)))
        return vx_pb_nomem(L);
    while (m.p < m.end) {
        uint32_t f;
        int wt;
        pb sub;
        if ((rc = vx_pb_rd_tag(L, &m, &f, &wt, M))) return rc;
        if (f == 1)
            rc = vx_pb_rd_str(L, &m, wt, &n->inputs[n->n_inputs++], NULL, "NodeProto.input");
        else if (f == 2)
            rc = vx_pb_rd_str(L, &m, wt, &n->outputs[n->n_outputs++], NULL, "NodeProto.output");
        else if (f == 5) {
            if (!(rc = vx_pb_rd_msg(L, &m, wt, &sub, "NodeProto.attribute"))) {
                if (!(rc = vx_pb_push(L, "attribute", n->n_attrs, NULL, NULL))) {
                    /* counted before parsing so vx_model_free releases a partly parsed tensor */
                    rc = parse_attr(L, sub, &n->attrs[n->n_attrs++], n->op_type);
                    if (!rc) vx_pb_pop(L);
                }
            }
        } else
            rc = vx_pb_skip(L, &m, wt, M);
        if (rc) return rc;
    }
    vx_pb_pop(L);
    return 0;
}

/* ---------------------------------------------------------------- value infos */

static int parse_dims(loader *L, pb m, vx_value_info *v) {
    while (m.p < m.end) { /* TensorShapeProto */
        uint32_t f;
        int wt;
        pb dim;
        int rc = vx_pb_rd_tag(L, &m, &f, &wt, "TensorShapeProto");
        if (rc) return rc;
        if (f != 1) {
            if ((rc = vx_pb_skip(L, &m, wt, "TensorShapeProto"))) return rc;
            continue;
        }
        if ((rc = vx_pb_rd_msg(L, &m, wt, &dim, "TensorShapeProto.dim"))) return rc;
        if (v->ndim >= VX_MAX_DIMS)
            return vx_pb_fail(L, VOX_ERR_MODEL, dim.p, "more than %d dimensions", VX_MAX_DIMS);
        int64_t d = -1;
        while (dim.p < dim.end) { /* Dimension: dim_value=1 | dim_param=2 */
            int64_t val;
            if ((rc = vx_pb_rd_tag(L, &dim, &f, &wt, "TensorShapeProto.Dimension"))) return rc;
            if (f == 1) {
                if ((rc = vx_pb_rd_int(L, &dim, wt, &val, "Dimension.dim_value"))) return rc;
                d = val >= 0 ? val : -1;
            } else if (f == 2) {
                d = -1; /* symbolic */
                rc = vx_pb_skip(L, &dim, wt, "Dimension.dim_param");
            } else
                rc = vx_pb_skip(L, &dim, wt, "TensorShapeProto.Dimension");
            if (rc) return rc;
        }
        v->dims[v->ndim++] = d;
    }
    return 0;
}

static int parse_value_info(loader *L, pb m, vx_value_info *v) {
    int rc;
    v->name = "";
    v->ndim = -1;
    v->dtype = 0;
    while (m.p < m.end) {
        uint32_t f;
        int wt;
        pb type;
        if ((rc = vx_pb_rd_tag(L, &m, &f, &wt, "ValueInfoProto"))) return rc;
        if (f == 1) {
            rc = vx_pb_rd_str(L, &m, wt, &v->name, NULL, "ValueInfoProto.name");
            L->fr[L->depth - 1].name = v->name;
        } else if (f == 2 && !(rc = vx_pb_rd_msg(L, &m, wt, &type, "ValueInfoProto.type"))) {
            while (type.p < type.end) { /* TypeProto: only tensor_type=1 is read */
                pb tt;
                if ((rc = vx_pb_rd_tag(L, &type, &f, &wt, "TypeProto"))) return rc;
                if (f != 1) {
                    if ((rc = vx_pb_skip(L, &type, wt, "TypeProto"))) return rc;
                    continue;
                }
                if ((rc = vx_pb_rd_msg(L, &type, wt, &tt, "TypeProto.tensor_type"))) return rc;
                while (tt.p < tt.end) { /* TypeProto.Tensor: elem_type=1 shape=2 */
                    int64_t et;
                    pb shape;
                    if ((rc = vx_pb_rd_tag(L, &tt, &f, &wt, "TypeProto.Tensor"))) return rc;
                    if (f == 1) {
                        if ((rc = vx_pb_rd_int32(L, &tt, wt, &et, "TypeProto.Tensor.elem_type")))
                            return rc;
                        v->dtype = (int)et;
                    } else if (f == 2) {
                        if ((rc = vx_pb_rd_msg(L, &tt, wt, &shape, "TypeProto.Tensor.shape")))
                            return rc;
                        v->ndim = 0;
                        if ((rc = parse_dims(L, shape, v))) return rc;
                    } else if ((rc = vx_pb_skip(L, &tt, wt, "TypeProto.Tensor")))
                        return rc;
                }
            }
        } else if (f != 2)
            rc = vx_pb_skip(L, &m, wt, "ValueInfoProto");
        if (rc) return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- graph */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted initializer names: rejects duplicates, then drops graph inputs that are
 * initializers (old exporters list every weight as an input). Sorting rather than
 * hashing keeps the worst case O(n log n) whatever names a hostile file picks. */
static int init_sorted(loader *L, vx_model *md, const char ***out) {
    const char **v = vx_arena_array(L->arena, (size_t)md->n_inits + 1, sizeof *v);
    if (!v) return vx_pb_nomem(L);
    if (md->n_inits) memcpy(v, md->init_names, (size_t)md->n_inits * sizeof *v);
    qsort(v, (size_t)md->n_inits, sizeof *v, cmp_str);
    for (int i = 1; i < md->n_inits; i++)
        if (!strcmp(v[i - 1], v[i]))
            return vx_pb_fail(L, VOX_ERR_MODEL, NULL, "duplicate initializer '%.80s'", v[i]);
    *out = v;
    return 0;
}

static int parse_graph(loader *L, pb m, vx_model *md) {
    const char *M = "GraphProto";
    pb scan = m;
    int64_t n_node = 0, n_init = 0, n_in = 0, n_out = 0;
    int rc;
    md->graph_name = "";
    if ((rc = vx_pb_push(L, "graph", -1, NULL, NULL))) return rc;
    while (scan.p < scan.end) {
        uint32_t f;
        int wt;
        pb sub;
        if ((rc = vx_pb_rd_tag(L, &scan, &f, &wt, M))) return rc;
        switch (f) {
        case 1:
            rc = vx_pb_rd_msg(L, &scan, wt, &sub, "GraphProto.node");
            n_node++;
            break;
        case 2: rc = vx_pb_rd_str(L, &scan, wt, &md->graph_name, NULL, "GraphProto.name"); break;
        case 5:
            rc = vx_pb_rd_msg(L, &scan, wt, &sub, "GraphProto.initializer");
            n_init++;
            break;
        case 11:
            rc = vx_pb_rd_msg(L, &scan, wt, &sub, "GraphProto.input");
            n_in++;
            break;
        case 12:
            rc = vx_pb_rd_msg(L, &scan, wt, &sub, "GraphProto.output");
            n_out++;
            break;
        case 15: return vx_pb_fail(L, VOX_ERR_MODEL, scan.p, "sparse initializers not supported");
        default: rc = vx_pb_skip(L, &scan, wt, M); break;
        }
        if (rc) return rc;
    }
    L->fr[L->depth - 1].name = md->graph_name;
    if (n_node > VX_MODEL_MAX_NODES)
        return vx_pb_fail(L, VOX_ERR_MODEL, NULL, "%lld nodes, more than the limit %d",
                          (long long)n_node, VX_MODEL_MAX_NODES);
    if (n_init > VX_MODEL_MAX_NODES)
        return vx_pb_fail(L, VOX_ERR_MODEL, NULL, "%lld initializers, more than the limit %d",
                          (long long)n_init, VX_MODEL_MAX_NODES);
    if (n_in > VX_MODEL_MAX_NODES || n_out > VX_MODEL_MAX_NODES)
        return vx_pb_fail(L, VOX_ERR_MODEL, NULL, "too many graph inputs/outputs");
    if (!n_out) return vx_pb_fail(L, VOX_ERR_MODEL, NULL, "GraphProto has no outputs");
    vx_arena *A = L->arena;
    if ((n_node && !(md->nodes = vx_arena_array(A, (size_t)n_node, sizeof *md->nodes))) ||
        (n_init && !(md->inits = vx_arena_array(A, (size_t)n_init, sizeof *md->inits))) ||
        (n_init && !(md->init_names = vx_arena_array(A, (size_t)n_init, sizeof *md->init_names))) ||
        (n_init && !(md->init_src = vx_arena_array(A, (size_t)n_init, sizeof *md->init_src))) ||
        (n_in && !(md->inputs = vx_arena_array(A, (size_t)n_in, sizeof *md->inputs))) ||
        !(md->outputs = vx_arena_array(A, (size_t)n_out, sizeof *md->outputs)))
        return vx_pb_nomem(L);
    while (m.p < m.end) {
        uint32_t f;
        int wt;
        pb sub;
        if ((rc = vx_pb_rd_tag(L, &m, &f, &wt, M))) return rc;
        if (f == 1 || f == 5 || f == 11 || f == 12) {
            if ((rc = vx_pb_rd_len(L, &m, &sub, M))) return rc;
            if (f == 1) {
                /* counted before parsing so vx_model_free sees partly parsed attributes */
                rc = parse_node(L, sub, &md->nodes[md->n_nodes], md->n_nodes);
                md->n_nodes++;
            } else if (f == 5) {
                int i = md->n_inits;
                if (!(rc = vx_pb_push(L, "initializer", i, NULL, NULL))) {
                    L->last_raw = NULL;
                    L->defer_now = !!(L->flags & VX_LOAD_DEFER_COPIES);
                    rc = parse_tensor(L, sub, &md->inits[i], &md->init_names[i]);
                    L->defer_now = 0;
                    md->init_src[i] = L->last_raw;
                    if (!rc && !*md->init_names[i])
                        rc = vx_pb_fail(L, VOX_ERR_MODEL, sub.p, "TensorProto.name is missing");
                    md->n_inits++;
                    if (!rc) vx_pb_pop(L);
                }
            } else {
                vx_value_info *v =
                    f == 11 ? &md->inputs[md->n_inputs] : &md->outputs[md->n_outputs];
                if (!(rc = vx_pb_push(L, f == 11 ? "input" : "output",
                                      f == 11 ? md->n_inputs : md->n_outputs, NULL, NULL))) {
                    rc = parse_value_info(L, sub, v);
                    if (!rc && !*v->name)
                        rc = vx_pb_fail(L, VOX_ERR_MODEL, sub.p, "ValueInfoProto.name is missing");
                    if (!rc) vx_pb_pop(L);
                }
                if (f == 11)
                    md->n_inputs++;
                else
                    md->n_outputs++;
            }
        } else
            rc = vx_pb_skip(L, &m, wt, M);
        if (rc) return rc;
    }
    const char **sorted = NULL;
    if ((rc = init_sorted(L, md, &sorted))) return rc;
    int k = 0;
    for (int i = 0; i < md->n_inputs; i++)
        if (!md->n_inits ||
            !bsearch(&md->inputs[i].name, sorted, (size_t)md->n_inits, sizeof *sorted, cmp_str))
            md->inputs[k++] = md->inputs[i];
    md->n_inputs = k;
    vx_pb_pop(L);
    return 0;
}

/* ---------------------------------------------------------------- model */

static int parse_opset(loader *L, pb m, vx_model *md, int *found) {
    const char *domain = "";
    int64_t version = 0;
    while (m.p < m.end) {
        uint32_t f;
        int wt, rc = vx_pb_rd_tag(L, &m, &f, &wt, "OperatorSetIdProto");
        if (rc) return rc;
        if (f == 1)
            rc = vx_pb_rd_str(L, &m, wt, &domain, NULL, "OperatorSetIdProto.domain");
        else if (f == 2)
            rc = vx_pb_rd_int(L, &m, wt, &version, "OperatorSetIdProto.version");
        else
            rc = vx_pb_skip(L, &m, wt, "OperatorSetIdProto");
        if (rc) return rc;
    }
    if (!*domain || !strcmp(domain, "ai.onnx")) {
        if (version < 1 || version > 1000)
            return vx_pb_fail(L, VOX_ERR_MODEL, m.p, "opset version %lld out of range",
                              (long long)version);
        md->opset = version;
        *found = 1;
    }
    return 0;
}

static int parse_meta(loader *L, pb m, vx_meta *e) {
    e->key = e->value = "";
    while (m.p < m.end) {
        uint32_t f;
        int wt, rc = vx_pb_rd_tag(L, &m, &f, &wt, "StringStringEntryProto");
        if (rc) return rc;
        if (f == 1)
            rc = vx_pb_rd_str(L, &m, wt, &e->key, NULL, "StringStringEntryProto.key");
        else if (f == 2)
            rc = vx_pb_rd_str(L, &m, wt, &e->value, NULL, "StringStringEntryProto.value");
        else
            rc = vx_pb_skip(L, &m, wt, "StringStringEntryProto");
        if (rc) return rc;
    }
    return 0;
}

/* A friendlier message for files that are plainly something else. */
static const char *sniff(const uint8_t *b, size_t n) {
    if (n >= 4 && !memcmp(b, "RIFF", 4)) return "a RIFF/WAV file";
    if (n >= 4 && !memcmp(b,
                          "\x7f"
                          "ELF",
                          4))
        return "an ELF executable";
    if (n >= 4 && !memcmp(b, "PK\x03\x04", 4)) return "a zip archive";
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return "a gzip file";
    size_t i = 0;
    while (i < n && i < 64 && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) i++;
    if (i < n && (b[i] == '{' || b[i] == '[')) return "JSON text (a voice config?)";
    return NULL;
}

static int parse_model(loader *L, pb m, vx_model *md) {
    const char *M = "ModelProto";
    pb scan = m, graph = {0};
    int64_t n_meta = 0;
    int has_graph = 0, has_opset = 0, rc;
    md->producer_name = md->producer_version = md->graph_name = "";
    const char *what = sniff(m.p, vx_pb_left(&m));
    if (!vx_pb_left(&m)) return vx_pb_fail(L, VOX_ERR_MODEL, NULL, "empty file, not an ONNX model");
    if (what)
        return vx_pb_fail(L, VOX_ERR_MODEL, NULL, "not an ONNX model: this looks like %s", what);
    while (scan.p < scan.end) {
        uint32_t f;
        int wt;
        pb sub;
        if ((rc = vx_pb_rd_tag(L, &scan, &f, &wt, M))) return rc;
        switch (f) {
        case 1: rc = vx_pb_rd_int(L, &scan, wt, &md->ir_version, "ModelProto.ir_version"); break;
        case 2:
            rc = vx_pb_rd_str(L, &scan, wt, &md->producer_name, NULL, "ModelProto.producer_name");
            break;
        case 3:
            rc = vx_pb_rd_str(L, &scan, wt, &md->producer_version, NULL,
                              "ModelProto.producer_version");
            break;
        case 7:
            if (has_graph)
                return vx_pb_fail(L, VOX_ERR_MODEL, scan.p, "ModelProto.graph appears twice");
            rc = vx_pb_rd_msg(L, &scan, wt, &graph, "ModelProto.graph");
            has_graph = 1;
            break;
        case 8: rc = vx_pb_rd_msg(L, &scan, wt, &sub, "ModelProto.opset_import"); break;
        case 14:
            rc = vx_pb_rd_msg(L, &scan, wt, &sub, "ModelProto.metadata_props");
            n_meta++;
            break;
        default: rc = vx_pb_skip(L, &scan, wt, M); break;
        }
        if (rc) return rc;
    }
    if (!has_graph)
        return vx_pb_fail(L, VOX_ERR_MODEL, NULL,
                          "not an ONNX model (ModelProto.graph is missing)");
    if (n_meta && !(md->meta = vx_arena_array(L->arena, (size_t)n_meta, sizeof *md->meta)))
        return vx_pb_nomem(L);
    while (m.p < m.end) {
        uint32_t f;
        int wt;
        pb sub;
        if ((rc = vx_pb_rd_tag(L, &m, &f, &wt, M))) return rc;
        if (f == 8 && !(rc = vx_pb_rd_len(L, &m, &sub, M))) {
            if (!(rc = vx_pb_push(L, "opset_import", -1, NULL, NULL))) {
                rc = parse_opset(L, sub, md, &has_opset);
                if (!rc) vx_pb_pop(L);
            }
        } else if (f == 14 && !(rc = vx_pb_rd_len(L, &m, &sub, M))) {
            if (!(rc = vx_pb_push(L, "metadata_props", md->n_meta, NULL, NULL))) {
                rc = parse_meta(L, sub, &md->meta[md->n_meta++]);
                if (!rc) vx_pb_pop(L);
            }
        } else if (f != 8 && f != 14)
            rc = vx_pb_skip(L, &m, wt, M);
        if (rc) return rc;
    }
    if (!has_opset) {
        /* IR versions before 3 predate opset_import and mean opset 1 */
        if (md->ir_version >= 3)
            return vx_pb_fail(L, VOX_ERR_MODEL, NULL,
                              "ModelProto.opset_import has no entry for the default domain");
        md->opset = 1;
    }
    return parse_graph(L, graph, md);
}

/* ---------------------------------------------------------------- public API */

void vx_model_free(vx_model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_inits; i++) vx_tensor_release(&m->inits[i]);
    for (int i = 0; i < m->n_nodes; i++) {
        vx_node *n = &m->nodes[i];
        for (int j = 0; j < n->n_attrs; j++) {
            vx_attr *a = &n->attrs[j];
            if (a->t && (a->type == VX_ATTR_TENSOR || a->type == VX_ATTR_TENSORS))
                for (int64_t k = 0; k < a->n; k++) vx_tensor_release(&a->t[k]);
        }
    }
    if (m->arena) {
        vx_arena_free(m->arena);
        free(m->arena);
    }
    if (m->map_base) munmap(m->map_base, m->map_size);
    free(m);
}

int vx_model_load_buffer(const void *buf, size_t len, vx_model **out, char *err, size_t errlen) {
    return vx_model_load_buffer_flags(buf, len, 0, out, err, errlen);
}

int vx_model_load_buffer_flags(const void *buf, size_t len, unsigned flags, vx_model **out,
                               char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!out) return VOX_ERR_ARG;
    *out = NULL;
    if (!buf && len) return VOX_ERR_ARG;
    vx_model *md = calloc(1, sizeof *md);
    vx_arena *arena = malloc(sizeof *arena);
    if (!md || !arena) {
        free(md);
        free(arena);
        if (err && errlen) snprintf(err, errlen, "onnx: out of memory");
        return VOX_ERR_NOMEM;
    }
    vx_arena_init(arena, (size_t)256 << 10, VX_MODEL_MAX_META_BYTES);
    md->arena = arena;
    loader L = {.arena = arena, .base = buf, .err = err, .errlen = errlen, .flags = flags};
    int rc;
    if (len > VX_MODEL_MAX_BYTES)
        rc = vx_pb_fail(&L, VOX_ERR_MODEL, NULL, "model is %zu bytes, over the %zu MiB limit", len,
                        VX_MODEL_MAX_BYTES >> 20);
    else
        rc = parse_model(
            &L, (pb){buf ? buf : (const uint8_t *)"", (const uint8_t *)(buf ? buf : "") + len}, md);
    if (rc) {
        vx_model_free(md);
        return rc;
    }
    *out = md;
    return 0;
}

int vx_model_load(const char *path, vx_model **out, char *err, size_t errlen) {
    return vx_model_load_flags(path, 0, out, err, errlen);
}

int vx_model_load_flags(const char *path, unsigned flags, vx_model **out, char *err,
                        size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!out || !path) return VOX_ERR_ARG;
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (err && errlen) snprintf(err, errlen, "onnx: cannot open '%s': %s", path, strerror(e));
        return e == ENOENT ? VOX_ERR_NOT_FOUND : VOX_ERR_IO;
    }
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st))
        why = strerror(errno);
    else if (S_ISDIR(st.st_mode))
        why = "is a directory, not an ONNX model";
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_size == 0)
        why = "empty file, not an ONNX model";
    else if ((uint64_t)st.st_size > VX_MODEL_MAX_BYTES)
        why = "file larger than the 2 GiB model limit";
    if (why) {
        close(fd);
        if (err && errlen) snprintf(err, errlen, "onnx: '%s': %s", path, why);
        return VOX_ERR_MODEL;
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) {
        if (err && errlen) snprintf(err, errlen, "onnx: cannot map '%s': %s", path, strerror(e));
        return VOX_ERR_IO;
    }
    vx_model *md;
    int rc = vx_model_load_buffer_flags(map, size, flags, &md, err, errlen);
    if (rc) {
        munmap(map, size);
        /* name the file: prepend "path: " if there is room */
        if (err && errlen > 1) {
            size_t pl = strlen(path), el = strlen(err);
            if (pl + 2 + el < errlen && pl < 200) {
                memmove(err + pl + 2, err, el + 1);
                memcpy(err, path, pl);
                err[pl] = ':';
                err[pl + 1] = ' ';
            }
        }
        return rc;
    }
    md->map_base = map;
    md->map_size = size;
    *out = md;
    return 0;
}

const void *vx_model_init_source(const vx_model *m, int i) {
    return m && m->init_src && i >= 0 && i < m->n_inits ? m->init_src[i] : NULL;
}

int vx_model_init_deferred(const vx_model *m, int i) {
    return m && m->inits && i >= 0 && i < m->n_inits && !m->inits[i].data &&
           m->inits[i].numel > 0 && vx_model_init_source(m, i);
}

int vx_model_init_materialize(vx_model *m, int i) {
    if (!vx_model_init_deferred(m, i)) return 0;
    vx_tensor *t = &m->inits[i];
    size_t bytes = vx_tensor_bytes(t);
    void *d = vx_aligned_alloc_raw(bytes);
    if (!d) return VOX_ERR_NOMEM;
    memcpy(d, m->init_src[i], bytes);
    t->data = d;
    t->owned = 1;
    return 0;
}

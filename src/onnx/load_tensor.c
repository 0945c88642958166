/* ONNX loader, values: TensorProto -> vx_tensor (initializers and attribute tensors) and
 * AttributeProto -> vx_attr (load_internal.h says how the loader is split).
 *
 * Initializer payloads stay zero-copy where they can: raw_data is used in place as a view
 * into the file mapping when it is aligned for its element type, which assumes a
 * little-endian host (raw_data is little-endian). */
#include "onnx/load_internal.h"
#include "vox.h"
#include <stdint.h>
#include <string.h>

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
int vx_onnx_parse_tensor(loader *L, pb m, vx_tensor *t, const char **name_out) {
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

int vx_onnx_parse_attr(loader *L, pb m, vx_attr *a, const char *node_op) {
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
        return vx_onnx_parse_tensor(L, t_val, a->t, NULL);
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
                rc = vx_onnx_parse_tensor(L, sub, &tensors[k], NULL);
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

/* ONNX loader, structure: ModelProto (header fields, opset_import, metadata_props) and
 * its GraphProto (nodes, initializers, inputs, outputs), NodeProto and ValueInfoProto
 * (load_internal.h says how the loader is split). Each message is read in two passes: a
 * counting pass sizes every array exactly, a filling pass parses into it. */
#include "onnx/load_internal.h"
#include "vox.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
                    rc = vx_onnx_parse_attr(L, sub, &n->attrs[n->n_attrs++], n->op_type);
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
                    rc = vx_onnx_parse_tensor(L, sub, &md->inits[i], &md->init_names[i]);
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

int vx_onnx_parse_model(loader *L, pb m, vx_model *md) {
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

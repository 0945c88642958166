/* ONNX loader: the two shared Piper models, plus hand-built protobuf byte strings
 * (tests/onnx/pbw.h) for every encoding the loader accepts and many it must refuse. */
#include "test.h"
#include "onnx/pbw.h"
#include "onnx/model.h"
#include "vox.h"
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char err[512];

static int load(const pbw *m, vx_model **out) {
    return vx_model_load_buffer(m->p, m->len, out, err, sizeof err);
}

/* Loading must fail with VOX_ERR_MODEL and a message containing want. */
static void expect_fail(const pbw *m, const char *want, int line) {
    vx_model *md = NULL;
    err[0] = 0;
    int rc = load(m, &md);
    CHECKF(rc == VOX_ERR_MODEL && !md, "line %d: rc %d (want %d)", line, rc, VOX_ERR_MODEL);
    CHECKF(strstr(err, want) != NULL, "line %d: error '%s' lacks '%s'", line, err, want);
    vx_model_free(md);
}
#define EXPECT_FAIL(m, want) expect_fail(m, want, __LINE__)

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int count_op(const vx_model *m, const char *op) {
    int c = 0;
    for (int i = 0; i < m->n_nodes; i++) c += !strcmp(m->nodes[i].op_type, op);
    return c;
}

static const vx_value_info *find_input(const vx_model *m, const char *name) {
    for (int i = 0; i < m->n_inputs; i++)
        if (!strcmp(m->inputs[i].name, name)) return &m->inputs[i];
    return NULL;
}

/* Every node input names a graph input, an initializer or an earlier node's output:
 * a strong check that strings and repeated fields were split at the right bytes. */
static int undefined_inputs(const vx_model *m) {
    int bad = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        const vx_node *n = &m->nodes[i];
        for (int j = 0; j < n->n_inputs; j++) {
            const char *x = n->inputs[j];
            int ok = !*x;
            for (int k = 0; !ok && k < m->n_inputs; k++) ok = !strcmp(m->inputs[k].name, x);
            for (int k = 0; !ok && k < m->n_inits; k++) ok = !strcmp(m->init_names[k], x);
            for (int p = 0; !ok && p < i; p++)
                for (int o = 0; !ok && o < m->nodes[p].n_outputs; o++)
                    ok = !strcmp(m->nodes[p].outputs[o], x);
            if (!ok && bad++ < 5)
                fprintf(stderr, "node %d (%s) input '%s' undefined\n", i, n->op_type, x);
        }
    }
    return bad;
}

/* Weight payloads are random floats: all finite and not absurd if offsets are right. */
static int bad_floats(const vx_tensor *t) {
    if (t->dtype != VX_FLOAT) return 0;
    const float *f = t->data;
    int bad = 0;
    for (int64_t i = 0; i < t->numel; i++) bad += !(fabsf(f[i]) < 1e6f);
    return bad;
}

static void test_shared_model(const char *file, int multi_speaker) {
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s", test_shared_dir(), file);
    vx_model *m = NULL;
    double t0 = now_ms();
    int rc = vx_model_load(path, &m, err, sizeof err);
    double t1 = now_ms();
    CHECKF(rc == 0 && m, "%s: %s", path, err);
    if (!m) return;
    printf("%s: loaded in %.2f ms: %d nodes, %d initializers, opset %lld, ir %lld\n", file, t1 - t0,
           m->n_nodes, m->n_inits, (long long)m->opset, (long long)m->ir_version);
    CHECK_EQ_INT(m->opset, 15);
    CHECK(m->n_nodes > 1000);
    CHECK_EQ_INT(m->n_inputs, multi_speaker ? 4 : 3);
    const vx_value_info *in = find_input(m, "input"), *len = find_input(m, "input_lengths"),
                        *sc = find_input(m, "scales"), *sid = find_input(m, "sid");
    CHECK(in && len && sc);
    CHECK(multi_speaker ? sid != NULL : sid == NULL);
    if (in) {
        CHECK_EQ_INT(in->dtype, VX_INT64);
        CHECK_EQ_INT(in->ndim, 2);
        CHECK_EQ_INT(in->dims[0], -1); /* batch_size: symbolic (Piper's dynamic_axes) */
        CHECK_EQ_INT(in->dims[1], -1); /* phonemes: symbolic */
    }
    if (sc) {
        CHECK_EQ_INT(sc->dtype, VX_FLOAT);
        CHECK_EQ_INT(sc->ndim, 1);
        CHECK_EQ_INT(sc->dims[0], 3);
    }
    if (sid) CHECK_EQ_INT(sid->dtype, VX_INT64);
    CHECK_EQ_INT(m->n_outputs, 1);
    CHECK_STR(m->outputs[0].name, "output");
    CHECK_EQ_INT(m->outputs[0].dtype, VX_FLOAT);
    CHECK_EQ_INT(undefined_inputs(m), 0);
    int bad = 0, views = 0, nbytes_ok = 1;
    for (int i = 0; i < m->n_inits; i++) {
        const vx_tensor *t = &m->inits[i];
        bad += bad_floats(t);
        if (t->numel && !t->data) nbytes_ok = 0;
        if (t->numel && !t->owned) {
            views++;
            const uint8_t *p = t->data;
            if (p < (const uint8_t *)m->map_base ||
                p + vx_tensor_bytes(t) > (const uint8_t *)m->map_base + m->map_size)
                nbytes_ok = 0;
            if ((uintptr_t)p % vx_dtype_size(t->dtype)) nbytes_ok = 0;
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(nbytes_ok);
    printf("%s: %d of %d initializers are zero-copy views\n", file, views, m->n_inits);
    /* Constant nodes carry their value as a TENSOR attribute */
    int consts = 0, const_ok = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        const vx_node *n = &m->nodes[i];
        if (strcmp(n->op_type, "Constant")) continue;
        consts++;
        const vx_attr *a = vx_node_attr(n, "value");
        const_ok += a && a->type == VX_ATTR_TENSOR && a->t && (a->t->numel == 0 || a->t->data) &&
                    n->n_outputs == 1;
    }
    CHECK_EQ_INT(const_ok, consts);
    CHECK(consts > 0);
    if (!multi_speaker) {
        /* node counts from the reference ONNX tooling */
        CHECK_EQ_INT(consts, 2386);
        CHECK_EQ_INT(count_op(m, "Conv"), 129);
        CHECK_EQ_INT(count_op(m, "ConvTranspose"), 3);
        CHECK(m->n_nodes > 6000 && m->n_nodes < 6700);
        /* a Conv1d weight: 3-D float [out, in/group, k] */
        int conv_w = 0;
        for (int i = 0; i < m->n_nodes && !conv_w; i++) {
            const vx_node *n = &m->nodes[i];
            if (strcmp(n->op_type, "Conv") || n->n_inputs < 2) continue;
            for (int k = 0; k < m->n_inits; k++)
                if (!strcmp(m->init_names[k], n->inputs[1])) {
                    conv_w = m->inits[k].ndim == 3 && m->inits[k].dtype == VX_FLOAT;
                    break;
                }
        }
        CHECK(conv_w);
        /* best of a few loads (page cache warm) */
        double best = 1e9;
        for (int r = 0; r < 5; r++) {
            vx_model *m2 = NULL;
            double a = now_ms();
            rc = vx_model_load(path, &m2, err, sizeof err);
            double b = now_ms();
            CHECK_EQ_INT(rc, 0);
            vx_model_free(m2);
            if (b - a < best) best = b - a;
        }
        printf("%s: best warm load %.2f ms\n", file, best);
    }
    vx_model_free(m);
}

/* ---------------------------------------------------------------- synthetic models */

/* A small model using most features: returns the bytes in *m. */
static void build_small(pbw *m) {
    pbw g = {0}, a = {0}, t = {0};
    pbw_str(&g, 2, "small");
    onnx_value_info(&g, 11, "x", VX_FLOAT, 2, (int64_t[]){1, -1});
    onnx_value_info(&g, 11, "w", VX_FLOAT, 1, (int64_t[]){3}); /* also an initializer */
    onnx_init_f32(&g, "w", 1, (int64_t[]){3}, (float[]){1.5f, -2.0f, 3.25f});
    onnx_init_i64(&g, "shape", 1, (int64_t[]){2}, (int64_t[]){1, -1});
    onnx_attr_int(&a, "axis", -1);
    onnx_attr_float(&a, "alpha", 0.25f);
    onnx_attr_str(&a, "mode", "constant");
    onnx_attr_ints(&a, "pads", (int64_t[]){0, 1, -2, 300}, 4);
    onnx_attr_floats(&a, "scales", (float[]){1.0f, 2.5f}, 2);
    onnx_node(&g, "Mul", "mul0", "x,w", "y0", &a);
    onnx_tensor_raw(&t, "c", VX_INT64, 0, NULL, (int64_t[]){42}, 8);
    onnx_attr_tensor(&a, "value", &t);
    onnx_node(&g, "Constant", "const0", "", "c0", &a);
    onnx_node(&g, "Reshape", NULL, "y0,shape", "y1", NULL);
    onnx_node(&g, "Resize", "rs", "y1,,c0", "y", NULL);
    onnx_value_info(&g, 12, "y", VX_FLOAT, 2, (int64_t[]){1, -1});
    pbw meta = {0};
    pbw_str(&meta, 1, "author");
    pbw_str(&meta, 2, "vox");
    pbw_msg(m, 14, &meta);
    onnx_model(m, 13, &g);
    pbw_free(&g);
    pbw_free(&a);
    pbw_free(&t);
    pbw_free(&meta);
}

static void test_small(void) {
    pbw m = {0};
    build_small(&m);
    vx_model *md = NULL;
    int rc = load(&m, &md);
    CHECKF(rc == 0, "%s", err);
    if (!md) {
        pbw_free(&m);
        return;
    }
    CHECK_EQ_INT(md->ir_version, 8);
    CHECK_EQ_INT(md->opset, 13);
    CHECK_STR(md->producer_name, "pbw");
    CHECK_STR(md->graph_name, "small");
    CHECK_EQ_INT(md->n_meta, 1);
    if (md->n_meta == 1) {
        CHECK_STR(md->meta[0].key, "author");
        CHECK_STR(md->meta[0].value, "vox");
    }
    CHECK_EQ_INT(md->n_inputs, 1); /* "w" is an initializer */
    CHECK_STR(md->inputs[0].name, "x");
    CHECK_EQ_INT(md->inputs[0].ndim, 2);
    CHECK_EQ_INT(md->inputs[0].dims[1], -1);
    CHECK_EQ_INT(md->n_outputs, 1);
    CHECK_STR(md->outputs[0].name, "y");
    CHECK_EQ_INT(md->n_inits, 2);
    CHECK_STR(md->init_names[0], "w");
    const vx_tensor *w = &md->inits[0];
    CHECK_EQ_INT(w->dtype, VX_FLOAT);
    CHECK_EQ_INT(w->ndim, 1);
    CHECK_EQ_INT(w->numel, 3);
    float wv[3];
    memcpy(wv, w->data, sizeof wv);
    CHECK_NEAR(wv[0], 1.5, 0);
    CHECK_NEAR(wv[1], -2.0, 0);
    CHECK_NEAR(wv[2], 3.25, 0);
    CHECK_EQ_INT(vx_tensor_get_i64(&md->inits[1], 1), -1);
    CHECK_EQ_INT(md->n_nodes, 4);
    const vx_node *n = &md->nodes[0];
    CHECK_STR(n->op_type, "Mul");
    CHECK_STR(n->name, "mul0");
    CHECK_STR(n->domain, "");
    CHECK_EQ_INT(n->n_inputs, 2);
    CHECK_STR(n->inputs[1], "w");
    CHECK_EQ_INT(n->n_attrs, 5);
    const vx_attr *at = vx_node_attr(n, "axis");
    CHECK(at && at->type == VX_ATTR_INT && at->i == -1);
    at = vx_node_attr(n, "alpha");
    CHECK(at && at->type == VX_ATTR_FLOAT && at->f == 0.25f);
    at = vx_node_attr(n, "mode");
    CHECK(at && at->type == VX_ATTR_STRING && at->s_len == 8 && !strcmp(at->s, "constant"));
    at = vx_node_attr(n, "pads");
    CHECK(at && at->type == VX_ATTR_INTS && at->n == 4 && at->ints[0] == 0 && at->ints[2] == -2 &&
          at->ints[3] == 300);
    at = vx_node_attr(n, "scales");
    CHECK(at && at->type == VX_ATTR_FLOATS && at->n == 2 && at->floats[1] == 2.5f);
    CHECK(vx_node_attr(n, "nope") == NULL);
    n = &md->nodes[1];
    at = vx_node_attr(n, "value");
    CHECK(at && at->type == VX_ATTR_TENSOR && at->t && at->t->ndim == 0 && at->t->numel == 1 &&
          vx_tensor_get_i64(at->t, 0) == 42);
    CHECK_EQ_INT(n->n_inputs, 0);
    CHECK_STR(md->nodes[2].name, "");
    CHECK_EQ_INT(md->nodes[3].n_inputs, 3); /* "y1,,c0": the middle one omitted */
    if (md->nodes[3].n_inputs == 3) CHECK_STR(md->nodes[3].inputs[1], "");
    vx_model_free(md);

    /* Every strict prefix is an invalid model (opset_import is written last) and must
     * be refused cleanly; every single-byte corruption must not crash. */
    int prefix_fail = 0;
    for (size_t k = 0; k < m.len; k++) {
        uint8_t *cut = malloc(k ? k : 1);
        memcpy(cut, m.p, k);
        md = NULL;
        rc = vx_model_load_buffer(cut, k, &md, err, sizeof err);
        prefix_fail += rc < 0 && !md && err[0];
        vx_model_free(md);
        free(cut);
    }
    CHECK_EQ_INT(prefix_fail, (long long)m.len);
    static const uint8_t vals[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12};
    int crashes_none = 1;
    uint8_t *mut = malloc(m.len);
    for (size_t k = 0; k < m.len; k++)
        for (size_t v = 0; v < sizeof vals + 1; v++) {
            memcpy(mut, m.p, m.len);
            mut[k] = v < sizeof vals ? vals[v] : (uint8_t)(m.p[k] ^ 0x40);
            md = NULL;
            rc = vx_model_load_buffer(mut, m.len, &md, err, sizeof err);
            if (rc != 0 && (md || !err[0])) crashes_none = 0;
            if (rc == 0 && !md) crashes_none = 0;
            vx_model_free(md);
        }
    free(mut);
    CHECK(crashes_none);
    pbw_free(&m);
}

/* Typed TensorProto fields, packed and unpacked, for each element type. */
static void model_with_tensor(pbw *m, const pbw *t) {
    pbw g = {0};
    pbw_msg(&g, 5, t);
    onnx_value_info(&g, 12, "y", VX_FLOAT, -1, NULL);
    onnx_model(m, 15, &g);
    pbw_free(&g);
}

static vx_model *load_tensor(const pbw *t, int line) {
    pbw m = {0};
    model_with_tensor(&m, t);
    vx_model *md = NULL;
    int rc = load(&m, &md);
    CHECKF(rc == 0 && md && md->n_inits == 1, "line %d: %s", line, err);
    pbw_free(&m);
    return md;
}

static void test_typed(void) {
    pbw t = {0};
    vx_model *md;
    /* float_data unpacked (one fixed32 per value), dims unpacked */
    pbw_int(&t, 1, 2);
    pbw_int(&t, 1, 2);
    pbw_int(&t, 2, VX_FLOAT);
    pbw_str(&t, 8, "f");
    for (int i = 0; i < 4; i++) pbw_float(&t, 4, i * 0.5f - 1.0f);
    if ((md = load_tensor(&t, __LINE__))) {
        const vx_tensor *x = &md->inits[0];
        CHECK_EQ_INT(x->ndim, 2);
        CHECK_EQ_INT(x->numel, 4);
        CHECK_EQ_INT(x->owned, 1);
        CHECK_NEAR(((float *)x->data)[3], 0.5, 0);
        CHECK_EQ_INT((uintptr_t)x->data % 64, 0);
        vx_model_free(md);
    }
    /* float_data packed in two chunks, dims packed */
    pbw_clear(&t);
    pbw_packed_ints(&t, 1, (int64_t[]){3}, 1);
    pbw_int(&t, 2, VX_FLOAT);
    pbw_str(&t, 8, "f");
    pbw_packed_floats(&t, 4, (float[]){7, 8}, 2);
    pbw_float(&t, 4, 9);
    if ((md = load_tensor(&t, __LINE__))) {
        CHECK_NEAR(((float *)md->inits[0].data)[0], 7, 0);
        CHECK_NEAR(((float *)md->inits[0].data)[2], 9, 0);
        vx_model_free(md);
    }
    /* int32_data for narrow types: values and the bit pattern of float16 */
    static const struct {
        int dtype;
        int64_t in[3];
        int64_t out[3];
    } cases[] = {
        {VX_INT32, {-5, 2147483647, -2147483648LL}, {-5, 2147483647, -2147483648LL}},
        {VX_INT16, {-300, 32767, 5}, {-300, 32767, 5}},
        {VX_INT8, {-128, 127, -1}, {-128, 127, -1}},
        {VX_UINT8, {0, 255, 7}, {0, 255, 7}},
        {VX_UINT16, {65535, 1, 0}, {65535, 1, 0}},
        {VX_BOOL, {1, 0, 1}, {1, 0, 1}},
        {VX_INT64, {-1, INT64_MAX, INT64_MIN}, {-1, INT64_MAX, INT64_MIN}},
        {VX_UINT32, {4294967295LL, 0, 9}, {4294967295LL, 0, 9}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int packed = 0; packed < 2; packed++) {
            int field = cases[c].dtype == VX_INT64 ? 7 : cases[c].dtype == VX_UINT32 ? 11 : 5;
            pbw_clear(&t);
            pbw_int(&t, 1, 3);
            pbw_int(&t, 2, cases[c].dtype);
            pbw_str(&t, 8, "t");
            if (packed)
                pbw_packed_ints(&t, field, cases[c].in, 3);
            else
                for (int i = 0; i < 3; i++) pbw_int(&t, field, cases[c].in[i]);
            if ((md = load_tensor(&t, __LINE__))) {
                const vx_tensor *x = &md->inits[0];
                CHECK_EQ_INT(x->dtype, cases[c].dtype);
                for (int i = 0; i < 3; i++)
                    CHECKF(vx_tensor_get_i64(x, i) == cases[c].out[i],
                           "dtype %d packed %d [%d]: %lld", cases[c].dtype, packed, i,
                           (long long)vx_tensor_get_i64(x, i));
                vx_model_free(md);
            }
        }
    }
    /* float16 in int32_data: the raw bits (0x3c00 = 1.0) */
    pbw_clear(&t);
    pbw_int(&t, 1, 2);
    pbw_int(&t, 2, VX_FLOAT16);
    pbw_str(&t, 8, "h");
    pbw_packed_ints(&t, 5, (int64_t[]){0x3c00, 0xc000}, 2);
    if ((md = load_tensor(&t, __LINE__))) {
        const uint16_t *h = md->inits[0].data;
        CHECK_EQ_INT(h[0], 0x3c00);
        CHECK_EQ_INT(h[1], 0xc000);
        vx_model_free(md);
    }
    /* double_data unpacked + packed; uint64_data */
    pbw_clear(&t);
    pbw_int(&t, 1, 3);
    pbw_int(&t, 2, VX_DOUBLE);
    pbw_str(&t, 8, "d");
    pbw_double(&t, 10, 0.125);
    pbw_packed_doubles(&t, 10, (double[]){-1e300, 3}, 2);
    if ((md = load_tensor(&t, __LINE__))) {
        CHECK_NEAR(vx_tensor_get_f64(&md->inits[0], 0), 0.125, 0);
        CHECK_NEAR(vx_tensor_get_f64(&md->inits[0], 1), -1e300, 0);
        vx_model_free(md);
    }
    pbw_clear(&t);
    pbw_int(&t, 1, 1);
    pbw_int(&t, 2, VX_UINT64);
    pbw_str(&t, 8, "u");
    pbw_int(&t, 11, (int64_t)UINT64_MAX);
    if ((md = load_tensor(&t, __LINE__))) {
        CHECK(((uint64_t *)md->inits[0].data)[0] == UINT64_MAX);
        vx_model_free(md);
    }
    /* empty tensor: dims [0, 5], no data */
    pbw_clear(&t);
    pbw_int(&t, 1, 0);
    pbw_int(&t, 1, 5);
    pbw_int(&t, 2, VX_FLOAT);
    pbw_str(&t, 8, "e");
    if ((md = load_tensor(&t, __LINE__))) {
        CHECK_EQ_INT(md->inits[0].numel, 0);
        CHECK(md->inits[0].data == NULL);
        vx_model_free(md);
    }
    pbw_free(&t);
}

/* raw_data is used in place when aligned for its type, else copied. */
static void test_raw_alignment(void) {
    pbw t = {0}, m = {0};
    float v[5] = {1, 2, 3, 4, 5};
    onnx_tensor_raw(&t, "r", VX_FLOAT, 1, (int64_t[]){5}, v, sizeof v);
    model_with_tensor(&m, &t);
    uint8_t *buf = malloc(m.len + 8);
    int views = 0, copies = 0, right = 0;
    for (int shift = 0; shift < 4; shift++) {
        memcpy(buf + shift, m.p, m.len);
        vx_model *md = NULL;
        int rc = vx_model_load_buffer(buf + shift, m.len, &md, err, sizeof err);
        CHECKF(rc == 0, "%s", err);
        if (!md) continue;
        const vx_tensor *x = &md->inits[0];
        int inside = (uint8_t *)x->data >= buf && (uint8_t *)x->data < buf + m.len + 8;
        if (!x->owned && inside && (uintptr_t)x->data % 4 == 0) views++;
        if (x->owned && !inside) copies++;
        right += !memcmp(x->data, v, sizeof v);
        vx_model_free(md);
    }
    CHECK_EQ_INT(views, 1);
    CHECK_EQ_INT(copies, 3);
    CHECK_EQ_INT(right, 4);
    free(buf);
    pbw_free(&t);
    pbw_free(&m);
}

/* VX_LOAD_DEFER_COPIES: misaligned raw_data is not copied until materialized; aligned
 * raw_data is still a view. */
static void test_raw_deferred(void) {
    pbw t = {0}, m = {0};
    float v[5] = {1, 2, 3, 4, 5};
    onnx_tensor_raw(&t, "r", VX_FLOAT, 1, (int64_t[]){5}, v, sizeof v);
    model_with_tensor(&m, &t);
    uint8_t *buf = malloc(m.len + 8);
    int views = 0, deferred = 0, right = 0;
    for (int shift = 0; shift < 4; shift++) {
        memcpy(buf + shift, m.p, m.len);
        vx_model *md = NULL;
        int rc = vx_model_load_buffer_flags(buf + shift, m.len, VX_LOAD_DEFER_COPIES, &md, err,
                                            sizeof err);
        CHECKF(rc == 0, "%s", err);
        if (!md) continue;
        const vx_tensor *x = &md->inits[0];
        CHECK_EQ_INT(x->numel, 5);
        CHECK_EQ_INT(x->dtype, VX_FLOAT);
        if (x->data) {
            views += !x->owned && (uintptr_t)x->data % 4 == 0 && !vx_model_init_deferred(md, 0);
            CHECK_EQ_INT(vx_model_init_materialize(md, 0), 0); /* no-op */
        } else {
            deferred += !x->owned && vx_model_init_deferred(md, 0);
            const uint8_t *src = vx_model_init_source(md, 0);
            CHECK(src >= buf && src + sizeof v <= buf + m.len + 8 && !memcmp(src, v, sizeof v));
            CHECK_EQ_INT(vx_model_init_materialize(md, 0), 0);
            CHECK(x->data && x->owned && !vx_model_init_deferred(md, 0));
        }
        right += x->data && !memcmp(x->data, v, sizeof v);
        vx_model_free(md);
    }
    CHECK_EQ_INT(views, 1);
    CHECK_EQ_INT(deferred, 3);
    CHECK_EQ_INT(right, 4);
    free(buf);
    pbw_free(&t);
    pbw_free(&m);
}

/* Attributes: unpacked repeated values, STRINGS, TENSORS, type inferred (IR v1). */
static void test_attrs(void) {
    pbw g = {0}, a = {0}, b = {0}, t = {0}, m = {0};
    pbw_str(&b, 1, "ints");
    pbw_int(&b, 20, VX_ATTR_INTS);
    pbw_int(&b, 8, 5);
    pbw_int(&b, 8, -7);
    pbw_packed_ints(&b, 8, (int64_t[]){9}, 1);
    pbw_msg(&a, 5, &b);
    pbw_clear(&b);
    pbw_str(&b, 1, "floats");
    pbw_int(&b, 20, VX_ATTR_FLOATS);
    pbw_float(&b, 7, 1.5f);
    pbw_float(&b, 7, -0.5f);
    pbw_msg(&a, 5, &b);
    pbw_clear(&b);
    pbw_str(&b, 1, "strs");
    pbw_int(&b, 20, VX_ATTR_STRINGS);
    pbw_str(&b, 9, "ab");
    pbw_str(&b, 9, "");
    pbw_str(&b, 9, "xyz");
    pbw_msg(&a, 5, &b);
    pbw_clear(&b);
    pbw_str(&b, 1, "ts");
    pbw_int(&b, 20, VX_ATTR_TENSORS);
    onnx_tensor_raw(&t, "t0", VX_INT64, 1, (int64_t[]){1}, (int64_t[]){11}, 8);
    pbw_msg(&b, 10, &t);
    pbw_clear(&t);
    onnx_tensor_raw(&t, "t1", VX_FLOAT, 1, (int64_t[]){2}, (float[]){1, 2}, 8);
    pbw_msg(&b, 10, &t);
    pbw_clear(&t);
    pbw_msg(&a, 5, &b);
    pbw_clear(&b);
    pbw_str(&b, 1, "noType_i");
    pbw_int(&b, 3, 77); /* IR v1: no type field */
    pbw_msg(&a, 5, &b);
    pbw_clear(&b);
    pbw_str(&b, 1, "noType_f");
    pbw_float(&b, 2, 2.0f);
    pbw_msg(&a, 5, &b);
    pbw_clear(&b);
    pbw_str(&b, 1, "empty_ints");
    pbw_int(&b, 20, VX_ATTR_INTS);
    pbw_msg(&a, 5, &b);
    pbw_clear(&b);
    pbw_str(&b, 1, "dom");
    onnx_node(&g, "Op", "n", "x", "y", &a);
    onnx_value_info(&g, 11, "x", VX_FLOAT, -1, NULL);
    onnx_value_info(&g, 12, "y", VX_FLOAT, -1, NULL);
    onnx_model(&m, 15, &g);
    vx_model *md = NULL;
    int rc = load(&m, &md);
    CHECKF(rc == 0, "%s", err);
    if (md) {
        const vx_node *n = &md->nodes[0];
        const vx_attr *x = vx_node_attr(n, "ints");
        CHECK(x && x->n == 3 && x->ints[0] == 5 && x->ints[1] == -7 && x->ints[2] == 9);
        x = vx_node_attr(n, "floats");
        CHECK(x && x->n == 2 && x->floats[0] == 1.5f && x->floats[1] == -0.5f);
        x = vx_node_attr(n, "strs");
        CHECK(x && x->type == VX_ATTR_STRINGS && x->n == 3 && x->s_len == 8 &&
              !memcmp(x->s, "ab\0\0xyz\0", 8));
        x = vx_node_attr(n, "ts");
        CHECK(x && x->type == VX_ATTR_TENSORS && x->n == 2 &&
              vx_tensor_get_i64(&x->t[0], 0) == 11 && vx_tensor_get_f64(&x->t[1], 1) == 2.0);
        x = vx_node_attr(n, "noType_i");
        CHECK(x && x->type == VX_ATTR_INT && x->i == 77);
        x = vx_node_attr(n, "noType_f");
        CHECK(x && x->type == VX_ATTR_FLOAT && x->f == 2.0f);
        x = vx_node_attr(n, "empty_ints");
        CHECK(x && x->type == VX_ATTR_INTS && x->n == 0);
        vx_model_free(md);
    }
    pbw_free(&g);
    pbw_free(&a);
    pbw_free(&b);
    pbw_free(&t);
    pbw_free(&m);
}

/* Unknown fields of every wire type are skipped, anywhere. */
static void add_unknown(pbw *w) {
    pbw_int(w, 99, 12345678901LL);
    pbw_fixed64(w, 98, 1);
    pbw_fixed32(w, 97, 1);
    pbw_str(w, 96, "junk");
}

static void test_unknown_fields(void) {
    pbw g = {0}, n = {0}, t = {0}, m = {0}, vi = {0};
    add_unknown(&n);
    pbw_str(&n, 1, "x");
    pbw_str(&n, 2, "y");
    pbw_str(&n, 4, "Relu");
    pbw_str(&n, 6, "doc string"); /* NodeProto.doc_string */
    add_unknown(&n);
    pbw_msg(&g, 1, &n);
    add_unknown(&t);
    onnx_tensor_raw(&t, "w", VX_FLOAT, 1, (int64_t[]){1}, (float[]){4}, 4);
    add_unknown(&t);
    pbw_msg(&g, 5, &t);
    add_unknown(&g);
    onnx_value_info(&g, 11, "x", VX_FLOAT, -1, NULL);
    onnx_value_info(&g, 12, "y", VX_FLOAT, -1, NULL);
    pbw_str(&vi, 1, "y");
    add_unknown(&vi);
    pbw_msg(&g, 13, &vi); /* value_info: ignored */
    add_unknown(&m);
    onnx_model(&m, 15, &g);
    /* a deeply nested unknown message is skipped without recursion */
    pbw deep = {0}, tmp = {0};
    pbw_str(&deep, 1, "leaf");
    for (int i = 0; i < 5000; i++) {
        pbw_clear(&tmp);
        pbw_msg(&tmp, 1, &deep);
        pbw_clear(&deep);
        pbw_raw(&deep, tmp.p, tmp.len);
    }
    pbw_msg(&m, 25, &deep); /* ModelProto.functions: not read */
    vx_model *md = NULL;
    int rc = load(&m, &md);
    CHECKF(rc == 0, "%s", err);
    if (md) {
        CHECK_EQ_INT(md->n_nodes, 1);
        CHECK_STR(md->nodes[0].op_type, "Relu");
        CHECK_EQ_INT(md->n_inits, 1);
        CHECK_NEAR(((float *)md->inits[0].data)[0], 4, 0);
        vx_model_free(md);
    }
    pbw_free(&g);
    pbw_free(&n);
    pbw_free(&t);
    pbw_free(&m);
    pbw_free(&vi);
    pbw_free(&deep);
    pbw_free(&tmp);
}

/* One-node graph with a custom node body and a custom initializer body. */
static void build_with(pbw *m, const pbw *node, const pbw *init) {
    pbw g = {0};
    if (node) pbw_msg(&g, 1, node);
    if (init) pbw_msg(&g, 5, init);
    onnx_value_info(&g, 11, "x", VX_FLOAT, -1, NULL);
    onnx_value_info(&g, 12, "y", VX_FLOAT, -1, NULL);
    pbw_clear(m);
    onnx_model(m, 15, &g);
    pbw_free(&g);
}

static void test_refusals(void) {
    pbw m = {0}, n = {0}, t = {0}, a = {0}, sub = {0};

    /* external data */
    onnx_tensor_raw(&t, "ext_w", VX_FLOAT, 1, (int64_t[]){1}, (float[]){1}, 4);
    pbw_int(&t, 14, 1);
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "external data not supported (tensor 'ext_w')");
    pbw_clear(&t);
    pbw_int(&t, 1, 4);
    pbw_int(&t, 2, VX_FLOAT);
    pbw_str(&t, 8, "ext2");
    pbw_str(&sub, 1, "location");
    pbw_str(&sub, 2, "weights.bin");
    pbw_msg(&t, 13, &sub);
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "external data not supported (tensor 'ext2')");

    /* string tensor */
    pbw_clear(&t);
    pbw_int(&t, 1, 1);
    pbw_int(&t, 2, VX_STRING);
    pbw_str(&t, 8, "s");
    pbw_str(&t, 6, "hello");
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "string tensors not supported");
    /* unknown dtype */
    pbw_clear(&t);
    pbw_int(&t, 2, 77);
    pbw_str(&t, 8, "q");
    pbw_bytes(&t, 9, "abcd", 4);
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "data type 77 not supported");
    /* huge dims with tiny data: refused before any allocation */
    pbw_clear(&t);
    pbw_int(&t, 1, 1LL << 31);
    pbw_int(&t, 1, 1LL << 31);
    pbw_int(&t, 2, VX_FLOAT);
    pbw_str(&t, 8, "huge");
    pbw_float(&t, 4, 1);
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "tensor 'huge': more than");
    pbw_clear(&t);
    pbw_int(&t, 1, 1000000000);
    pbw_int(&t, 2, VX_FLOAT);
    pbw_str(&t, 8, "big");
    pbw_float(&t, 4, 1);
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "tensor 'big': has 1 values, dims need 1000000000");
    pbw_clear(&t);
    pbw_int(&t, 1, 1000000000);
    pbw_int(&t, 2, VX_FLOAT);
    pbw_str(&t, 8, "bigraw");
    pbw_bytes(&t, 9, "abcd", 4);
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "raw_data has 4 bytes");
    pbw_clear(&t);
    pbw_int(&t, 1, -3);
    pbw_int(&t, 2, VX_FLOAT);
    pbw_str(&t, 8, "neg");
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "negative dimension -3");
    pbw_clear(&t);
    for (int i = 0; i < 9; i++) pbw_int(&t, 1, 1);
    pbw_int(&t, 2, VX_FLOAT);
    pbw_float(&t, 4, 1);
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "TensorProto.dims");
    /* typed data in the wrong field */
    pbw_clear(&t);
    pbw_int(&t, 1, 1);
    pbw_int(&t, 2, VX_INT64);
    pbw_str(&t, 8, "wf");
    pbw_float(&t, 4, 1);
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "does not match int64");
    /* both raw and typed */
    pbw_clear(&t);
    pbw_int(&t, 1, 1);
    pbw_int(&t, 2, VX_FLOAT);
    pbw_str(&t, 8, "both");
    pbw_float(&t, 4, 1);
    pbw_bytes(&t, 9, "abcd", 4);
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "both raw_data and typed data");
    /* initializer without a name, duplicate names */
    pbw_clear(&t);
    onnx_tensor_raw(&t, NULL, VX_FLOAT, 1, (int64_t[]){1}, (float[]){1}, 4);
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "TensorProto.name is missing");
    pbw_clear(&t);
    onnx_tensor_raw(&t, "dup", VX_FLOAT, 1, (int64_t[]){1}, (float[]){1}, 4);
    {
        pbw g = {0};
        pbw_msg(&g, 5, &t);
        pbw_msg(&g, 5, &t);
        onnx_value_info(&g, 12, "y", VX_FLOAT, -1, NULL);
        pbw_clear(&m);
        onnx_model(&m, 15, &g);
        pbw_free(&g);
        EXPECT_FAIL(&m, "duplicate initializer 'dup'");
    }

    /* subgraph attribute: named node, refused at load */
    pbw_clear(&n);
    pbw_str(&n, 1, "cond");
    pbw_str(&n, 2, "y");
    pbw_str(&n, 3, "my_if");
    pbw_str(&n, 4, "If");
    pbw_clear(&sub);
    pbw_str(&sub, 2, "then");
    pbw_str(&a, 1, "then_branch");
    pbw_int(&a, 20, VX_ATTR_GRAPH);
    pbw_msg(&a, 6, &sub);
    pbw_msg(&n, 5, &a);
    build_with(&m, &n, NULL);
    EXPECT_FAIL(&m, "subgraphs (If/Loop/Scan) not supported");
    EXPECT_FAIL(&m, "my_if");
    /* deeply nested subgraphs: refused at the first level, no recursion */
    {
        pbw graph = {0}, node = {0}, attr = {0};
        for (int d = 0; d < 200; d++) {
            pbw_clear(&attr);
            pbw_str(&attr, 1, "body");
            pbw_msg(&attr, 6, &graph);
            pbw_clear(&node);
            pbw_str(&node, 4, "Loop");
            pbw_msg(&node, 5, &attr);
            pbw_clear(&graph);
            pbw_msg(&graph, 1, &node);
        }
        build_with(&m, &node, NULL);
        EXPECT_FAIL(&m, "subgraphs (If/Loop/Scan) not supported");
        pbw_free(&graph);
        pbw_free(&node);
        pbw_free(&attr);
    }
    /* sparse initializer */
    {
        pbw g = {0};
        pbw_str(&g, 15, "");
        onnx_value_info(&g, 12, "y", VX_FLOAT, -1, NULL);
        pbw_clear(&m);
        onnx_model(&m, 15, &g);
        pbw_free(&g);
        EXPECT_FAIL(&m, "sparse initializers not supported");
    }
    /* node without op_type; attribute without name; bad attribute type */
    pbw_clear(&n);
    pbw_str(&n, 1, "x");
    pbw_str(&n, 3, "anon");
    build_with(&m, &n, NULL);
    EXPECT_FAIL(&m, "op_type is missing");
    pbw_clear(&n);
    pbw_clear(&a);
    pbw_str(&n, 4, "Relu");
    pbw_str(&n, 3, "relu_7");
    pbw_int(&a, 3, 5);
    pbw_msg(&n, 5, &a);
    build_with(&m, &n, NULL);
    EXPECT_FAIL(&m, "AttributeProto.name is missing");
    EXPECT_FAIL(&m, "relu_7");
    pbw_clear(&n);
    pbw_clear(&a);
    pbw_str(&n, 4, "Relu");
    pbw_str(&a, 1, "weird");
    pbw_int(&a, 20, 42);
    pbw_msg(&n, 5, &a);
    build_with(&m, &n, NULL);
    EXPECT_FAIL(&m, "AttributeProto.type 42 not supported");
    EXPECT_FAIL(&m, "attribute[0] 'weird'");

    /* wire-level errors */
    pbw_clear(&m);
    pbw_str(&m, 1, "eight"); /* ir_version as a string */
    EXPECT_FAIL(&m, "ModelProto.ir_version: wrong wire type 2");
    pbw_clear(&m);
    pbw_tag(&m, 7, PBW_LEN);
    pbw_varint(&m, 1000);
    pbw_raw(&m, "abc", 3);
    EXPECT_FAIL(&m, "length 1000 runs past the end");
    pbw_clear(&m);
    pbw_tag(&m, 7, 3); /* start group */
    EXPECT_FAIL(&m, "groups");
    pbw_clear(&m);
    pbw_tag(&m, 7, 6);
    EXPECT_FAIL(&m, "invalid wire type 6");
    pbw_clear(&m);
    pbw_raw(&m, "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12); /* 11-byte varint */
    EXPECT_FAIL(&m, "longer than 10 bytes");
    pbw_clear(&m);
    pbw_raw(&m, "\x08\xff\xff", 3);
    EXPECT_FAIL(&m, "truncated varint");
    pbw_clear(&m);
    pbw_raw(&m, "\x00\x01", 2);
    EXPECT_FAIL(&m, "invalid field number 0");
    /* packed varints that stop mid-value */
    pbw_clear(&t);
    pbw_int(&t, 2, VX_INT64);
    pbw_str(&t, 8, "pk");
    pbw_int(&t, 1, 1);
    pbw_bytes(&t, 7, "\x05\x85", 2);
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "packed varints end mid-value");
    pbw_clear(&t);
    pbw_int(&t, 2, VX_FLOAT);
    pbw_str(&t, 8, "pf");
    pbw_int(&t, 1, 1);
    pbw_bytes(&t, 4, "\0\0\0\0\0", 5);
    build_with(&m, NULL, &t);
    EXPECT_FAIL(&m, "not a multiple of 4");
    /* model without graph / without default opset / two graphs / no outputs */
    pbw_clear(&m);
    pbw_int(&m, 1, 8);
    EXPECT_FAIL(&m, "ModelProto.graph is missing");
    {
        pbw g = {0};
        onnx_value_info(&g, 12, "y", VX_FLOAT, -1, NULL);
        pbw_clear(&m);
        pbw_int(&m, 1, 8);
        pbw_msg(&m, 7, &g);
        EXPECT_FAIL(&m, "no entry for the default domain");
        pbw_msg(&m, 7, &g);
        EXPECT_FAIL(&m, "graph appears twice");
        pbw_clear(&g);
        pbw_clear(&m);
        onnx_model(&m, 15, &g);
        EXPECT_FAIL(&m, "GraphProto has no outputs");
        pbw_free(&g);
    }
    /* not ONNX at all */
    pbw_clear(&m);
    EXPECT_FAIL(&m, "empty file");
    pbw_raw(&m, "RIFF\x24\0\0\0WAVEfmt ", 16);
    EXPECT_FAIL(&m, "RIFF/WAV");
    pbw_clear(&m);
    pbw_raw(&m, "{\"audio\": {}}", 13);
    EXPECT_FAIL(&m, "JSON");

    pbw_free(&m);
    pbw_free(&n);
    pbw_free(&t);
    pbw_free(&a);
    pbw_free(&sub);
}

static void test_files(void) {
    vx_model *md = NULL;
    int rc = vx_model_load("/nonexistent/x.onnx", &md, err, sizeof err);
    CHECK_EQ_INT(rc, VOX_ERR_NOT_FOUND);
    CHECK(strstr(err, "/nonexistent/x.onnx") != NULL);
    rc = vx_model_load("/tmp", &md, err, sizeof err);
    CHECK_EQ_INT(rc, VOX_ERR_MODEL);
    CHECK(strstr(err, "directory") != NULL);
    rc = vx_model_load("/dev/null", &md, err, sizeof err);
    CHECK_EQ_INT(rc, VOX_ERR_MODEL);
    CHECK(strstr(err, "not a regular file") != NULL);
    char path[64];
    snprintf(path, sizeof path, "/tmp/vox_onnx_fifo_%d", (int)getpid());
    if (mkfifo(path, 0600) == 0) { /* must be refused, not block waiting for a writer */
        rc = vx_model_load(path, &md, err, sizeof err);
        CHECK_EQ_INT(rc, VOX_ERR_MODEL);
        CHECK(strstr(err, "not a regular file") != NULL);
        unlink(path);
    }
    snprintf(path, sizeof path, "/tmp/vox_onnx_test_%d.onnx", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (f) fclose(f);
    rc = vx_model_load(path, &md, err, sizeof err);
    CHECK_EQ_INT(rc, VOX_ERR_MODEL);
    CHECK(strstr(err, "empty file") != NULL);
    /* a valid small model through the file path */
    pbw m = {0};
    build_small(&m);
    f = fopen(path, "wb");
    if (f) {
        fwrite(m.p, 1, m.len, f);
        fclose(f);
    }
    rc = vx_model_load(path, &md, err, sizeof err);
    CHECKF(rc == 0 && md && md->n_nodes == 4 && md->map_base, "%s", err);
    vx_model_free(md);
    /* a voice config is not a model */
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "%s/models/en_US-rand-medium.onnx.json", test_shared_dir());
    rc = vx_model_load(cfg, &md, err, sizeof err);
    CHECK_EQ_INT(rc, VOX_ERR_MODEL);
    CHECK(strstr(err, "JSON") != NULL);
    unlink(path);
    pbw_free(&m);
    /* tiny error buffers are never overrun */
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    rc = vx_model_load_buffer("\x08", 1, &md, tiny, 5);
    CHECK(rc == VOX_ERR_MODEL && tiny[4] == 0 && tiny[5] == 'x');
    rc = vx_model_load_buffer("\x08", 1, &md, NULL, 0);
    CHECK_EQ_INT(rc, VOX_ERR_MODEL);
}

int main(void) {
    test_small();
    test_typed();
    test_raw_alignment();
    test_raw_deferred();
    test_attrs();
    test_unknown_fields();
    test_refusals();
    test_files();
    test_shared_model("en_US-rand-medium.onnx", 0);
    test_shared_model("en_US-rand3spk-x_low.onnx", 1);
    TEST_SUMMARY();
}

/* Executor unit tests on hand-built graphs with tiny test-only kernels (passed to
 * vx_graph_from_model_ops, nothing registered globally). */
#include "engine/graph_internal.h"
#include "kernels/kernels.h"
#include "test.h"
#include "vox.h"
#include <pthread.h>
#include <stdatomic.h>

/* ------------------------------------------------------------ test kernels */

static atomic_int n_calls_mul2;
static volatile int *cancel_target;

static int k_add(vx_op_ctx *c, const vx_node *n, vx_tensor *const *in, int n_in, vx_tensor *out,
                 int n_out) {
    if (n_in != 2 || !in[0] || !in[1] || in[0]->numel != in[1]->numel || in[0]->dtype != VX_FLOAT)
        return vx_op_fail(c, n, VOX_ERR_MODEL, "bad inputs");
    int rc = vx_op_alloc(c, &out[0], VX_FLOAT, in[0]->ndim, in[0]->dims);
    if (rc) return rc;
    const float *a = in[0]->data, *b = in[1]->data;
    float *y = out[0].data;
    for (int64_t i = 0; i < in[0]->numel; i++) y[i] = a[i] + b[i];
    return 0;
}

static int k_mul2(vx_op_ctx *c, const vx_node *n, vx_tensor *const *in, int n_in, vx_tensor *out,
                  int n_out) {
    atomic_fetch_add(&n_calls_mul2, 1);
    int rc = vx_op_alloc(c, &out[0], VX_FLOAT, in[0]->ndim, in[0]->dims);
    if (rc) return rc;
    const float *a = in[0]->data;
    float *y = out[0].data;
    for (int64_t i = 0; i < in[0]->numel; i++) y[i] = 2 * a[i];
    return 0;
}

/* Output 0: shape of input 0 as int64. */
static int k_shape(vx_op_ctx *c, const vx_node *n, vx_tensor *const *in, int n_in, vx_tensor *out,
                   int n_out) {
    int64_t d = in[0]->ndim;
    int rc = vx_op_alloc(c, &out[0], VX_INT64, 1, &d);
    if (rc) return rc;
    for (int i = 0; i < in[0]->ndim; i++) ((int64_t *)out[0].data)[i] = in[0]->dims[i];
    return 0;
}

/* A zero-copy kernel: every output is a view of input 0 (like Reshape/Identity). */
static int k_view(vx_op_ctx *c, const vx_node *n, vx_tensor *const *in, int n_in, vx_tensor *out,
                  int n_out) {
    for (int j = 0; j < n_out; j++) vx_tensor_view(&out[j], in[0]);
    return 0;
}

static int k_rand(vx_op_ctx *c, const vx_node *n, vx_tensor *const *in, int n_in, vx_tensor *out,
                  int n_out) {
    int rc = vx_op_alloc(c, &out[0], VX_FLOAT, in[0]->ndim, in[0]->dims);
    if (rc) return rc;
    for (int64_t i = 0; i < in[0]->numel; i++)
        ((float *)out[0].data)[i] = (float)vx_rng_normal(c->rng);
    return 0;
}

static int k_fail(vx_op_ctx *c, const vx_node *n, vx_tensor *const *in, int n_in, vx_tensor *out,
                  int n_out) {
    vx_op_alloc(c, &out[0], VX_FLOAT, 0, NULL); /* partial output must not leak */
    return vx_op_fail(c, n, VOX_ERR_MODEL, "boom %d", 42);
}

/* A buggy kernel: succeeds without producing its output. */
static int k_nothing(vx_op_ctx *c, const vx_node *n, vx_tensor *const *in, int n_in, vx_tensor *out,
                     int n_out) {
    return 0;
}

static int k_cancel(vx_op_ctx *c, const vx_node *n, vx_tensor *const *in, int n_in, vx_tensor *out,
                    int n_out) {
    if (cancel_target) *cancel_target = 1;
    return k_mul2(c, n, in, n_in, out, n_out);
}

static const vx_op_def test_ops[] = {
    {"TAdd", k_add, 1},       {"TMul2", k_mul2, 1},       {"TShape", k_shape, 1},
    {"TView", k_view, 1},     {"TRand", k_rand, 0},       {"TFail", k_fail, 1},
    {"TCancel", k_cancel, 1}, {"TNothing", k_nothing, 1}, {0, 0, 0},
};

/* ------------------------------------------------------------ model builder */

#define MAXN 64
typedef struct tmodel {
    vx_model m;
    vx_node nodes[MAXN];
    const char *io[MAXN][8];
    vx_value_info ins[4], outs[8];
    const char *init_names[8];
    vx_tensor inits[8];
    float init_data[8][16];
    vx_attr attrs[8];
} tmodel;

static void tm_init(tmodel *t) {
    memset(t, 0, sizeof *t);
    t->m.opset = 15;
    t->m.nodes = t->nodes;
    t->m.inputs = t->ins;
    t->m.outputs = t->outs;
    t->m.init_names = t->init_names;
    t->m.inits = t->inits;
}

/* in_csv/out_csv: comma-separated names (a lone "-" is an omitted ""). Names must be
 * string literals: they are kept by pointer. Up to 4 inputs and 4 outputs. */
static vx_node *tm_node(tmodel *t, const char *name, const char *op, int n_in,
                        const char *const *ins, int n_out, const char *const *outs) {
    int k = t->m.n_nodes++;
    vx_node *n = &t->nodes[k];
    n->name = name;
    n->op_type = op;
    n->domain = "";
    n->n_inputs = n_in;
    n->n_outputs = n_out;
    for (int i = 0; i < n_in; i++) t->io[k][i] = ins[i];
    for (int i = 0; i < n_out; i++) t->io[k][4 + i] = outs[i];
    n->inputs = &t->io[k][0];
    n->outputs = &t->io[k][4];
    return n;
}
#define NODE(t, name, op, INS, OUTS)                                                               \
    tm_node(t, name, op, (int)(sizeof((const char *[])INS) / sizeof(char *)), (const char *[])INS, \
            (int)(sizeof((const char *[])OUTS) / sizeof(char *)), (const char *[])OUTS)
#define L(...)                                                                                     \
    { __VA_ARGS__ }

static void tm_input(tmodel *t, const char *name, int dtype, int ndim, int64_t d0) {
    vx_value_info *v = &t->ins[t->m.n_inputs++];
    v->name = name;
    v->dtype = dtype;
    v->ndim = ndim;
    for (int i = 0; i < VX_MAX_DIMS; i++) v->dims[i] = -1;
    if (ndim > 0) v->dims[0] = d0;
}

static void tm_output(tmodel *t, const char *name) {
    vx_value_info *v = &t->outs[t->m.n_outputs++];
    v->name = name;
    v->ndim = -1;
}

static void tm_init_f(tmodel *t, const char *name, int n, const float *vals) {
    int k = t->m.n_inits++;
    int64_t d = n;
    t->init_names[k] = name;
    memcpy(t->init_data[k], vals, (size_t)n * sizeof(float));
    vx_tensor_set_shape(&t->inits[k], 1, &d);
    t->inits[k].dtype = VX_FLOAT;
    t->inits[k].data = t->init_data[k];
}

static vx_graph *compile(tmodel *t, int expect_rc, char *err, size_t errlen) {
    vx_graph *g = NULL;
    int rc = vx_graph_from_model_ops(&t->m, NULL, test_ops, &g, err, errlen);
    CHECKF(rc == expect_rc, "compile rc %d (want %d): %s", rc, expect_rc, err);
    if (rc) CHECK(g == NULL);
    return g;
}

static vx_tensor vec(float *data, int64_t n) {
    vx_tensor t = {0};
    vx_tensor_set_shape(&t, 1, &n);
    t.dtype = VX_FLOAT;
    t.data = data;
    return t;
}

static float fval(const vx_tensor *t, int i) { return ((const float *)t->data)[i]; }

/* ------------------------------------------------------------ tests */

/* Nodes listed out of order run in dependency order and compute the right thing. */
static void test_order(void) {
    tmodel t;
    tm_init(&t);
    char err[256] = "";
    tm_input(&t, "x", VX_FLOAT, 1, 2);
    tm_init_f(&t, "w", 2, (float[]){1, 2});
    NODE(&t, "n3", "TMul2", L("b"), L("y"));
    NODE(&t, "n2", "TAdd", L("a", "a"), L("b"));
    NODE(&t, "n1", "TAdd", L("x", "w"), L("a"));
    tm_output(&t, "y");
    vx_graph *g = compile(&t, 0, err, sizeof err);
    if (!g) return;
    CHECK_EQ_INT(g->n_steps, 3);
    CHECK_STR(g->steps[0].node->name, "n1");
    CHECK_STR(g->steps[1].node->name, "n2");
    CHECK_STR(g->steps[2].node->name, "n3");
    float xd[2] = {10, 20};
    vx_tensor x = vec(xd, 2), y = {0};
    vx_run_opts o;
    vx_run_opts_init(&o);
    o.err = err;
    o.errlen = sizeof err;
    int rc = vx_graph_run(g, &o, &x, 1, &y);
    CHECKF(rc == 0, "%s", err);
    if (!rc) {
        CHECK_EQ_INT(y.numel, 2);
        CHECK(y.owned);
        CHECK_NEAR(fval(&y, 0), 44, 0); /* 2 * 2 * (10 + 1) */
        CHECK_NEAR(fval(&y, 1), 88, 0);
    }
    vx_tensor_release(&y);
    CHECK_EQ_INT(vx_graph_n_inputs(g), 1);
    CHECK_STR(vx_graph_input(g, 0)->name, "x");
    CHECK_STR(vx_graph_output(g, 0)->name, "y");
    CHECK_EQ_INT(vx_graph_find_input(g, "x"), 0);
    CHECK_EQ_INT(vx_graph_find_input(g, "y"), -1);
    CHECK_STR(vx_graph_first_output_of(g, "TAdd"), "a");
    CHECK(vx_graph_first_output_of(g, "Ceil") == NULL);

    /* Input validation: count, dtype, rank, fixed dims. */
    int64_t xi[2] = {1, 2};
    vx_tensor bad = vec((float *)xi, 2);
    bad.dtype = VX_INT64;
    CHECK_EQ_INT(vx_graph_run(g, &o, &bad, 1, &y), VOX_ERR_ARG);
    CHECK(strstr(err, "'x'") && strstr(err, "int64"));
    vx_tensor x3 = vec(xd, 3);
    CHECK_EQ_INT(vx_graph_run(g, &o, &x3, 1, &y), VOX_ERR_ARG);
    CHECK(strstr(err, "dimension 0"));
    CHECK_EQ_INT(vx_graph_run(g, &o, &x, 0, &y), VOX_ERR_ARG);
    vx_tensor xs = x;
    xs.ndim = 2;
    xs.dims[1] = 1;
    CHECK_EQ_INT(vx_graph_run(g, &o, &xs, 1, &y), VOX_ERR_ARG);
    CHECK(strstr(err, "rank"));
    CHECK(y.data == NULL);
    vx_graph_free(g);
}

static void test_errors(void) {
    char err[256];
    tmodel t;

    /* A cycle: a -> c -> a. */
    tm_init(&t);
    tm_input(&t, "x", VX_FLOAT, 1, 2);
    NODE(&t, "p", "TAdd", L("x", "c"), L("a"));
    NODE(&t, "q", "TMul2", L("a"), L("c"));
    NODE(&t, "r", "TMul2", L("a"), L("y"));
    tm_output(&t, "y");
    err[0] = 0;
    compile(&t, VOX_ERR_MODEL, err, sizeof err);
    CHECKF(strstr(err, "cycle") && (strstr(err, "'a'") || strstr(err, "'c'")), "%s", err);

    /* A self loop. */
    tm_init(&t);
    tm_input(&t, "x", VX_FLOAT, 1, 2);
    NODE(&t, "s", "TAdd", L("x", "z"), L("z"));
    tm_output(&t, "z");
    compile(&t, VOX_ERR_MODEL, err, sizeof err);
    CHECKF(strstr(err, "cycle") && strstr(err, "'z'"), "%s", err);

    /* An input nobody produces. */
    tm_init(&t);
    tm_input(&t, "x", VX_FLOAT, 1, 2);
    NODE(&t, "m", "TAdd", L("x", "nope"), L("y"));
    tm_output(&t, "y");
    compile(&t, VOX_ERR_MODEL, err, sizeof err);
    CHECKF(strstr(err, "'nope'") && strstr(err, "'m'"), "%s", err);

    /* Unknown op type: the node and the op are named. */
    tm_init(&t);
    tm_input(&t, "x", VX_FLOAT, 1, 2);
    NODE(&t, "weird", "NoSuchOp", L("x"), L("y"));
    tm_output(&t, "y");
    compile(&t, VOX_ERR_UNSUPPORTED, err, sizeof err);
    CHECKF(strstr(err, "'weird'") && strstr(err, "NoSuchOp"), "%s", err);

    /* Non-default domain. */
    tm_init(&t);
    tm_input(&t, "x", VX_FLOAT, 1, 2);
    NODE(&t, "dom", "TMul2", L("x"), L("y"))->domain = "com.microsoft";
    tm_output(&t, "y");
    compile(&t, VOX_ERR_UNSUPPORTED, err, sizeof err);
    CHECKF(strstr(err, "com.microsoft") && strstr(err, "'dom'"), "%s", err);

    /* A value produced twice. */
    tm_init(&t);
    tm_input(&t, "x", VX_FLOAT, 1, 2);
    NODE(&t, "d1", "TMul2", L("x"), L("y"));
    NODE(&t, "d2", "TMul2", L("x"), L("y"));
    tm_output(&t, "y");
    compile(&t, VOX_ERR_MODEL, err, sizeof err);
    CHECKF(strstr(err, "'y'") && strstr(err, "twice"), "%s", err);

    /* A graph output nothing produces. */
    tm_init(&t);
    tm_input(&t, "x", VX_FLOAT, 1, 2);
    NODE(&t, "d1", "TMul2", L("x"), L("y"));
    tm_output(&t, "ghost");
    compile(&t, VOX_ERR_MODEL, err, sizeof err);
    CHECKF(strstr(err, "'ghost'"), "%s", err);

    /* A kernel failure is reported with the node, and partial outputs are freed. */
    tm_init(&t);
    tm_input(&t, "x", VX_FLOAT, 1, 2);
    NODE(&t, "a1", "TMul2", L("x"), L("a"));
    NODE(&t, "bad", "TFail", L("a"), L("y"));
    tm_output(&t, "y");
    vx_graph *g = compile(&t, 0, err, sizeof err);
    if (g) {
        float xd[2] = {1, 2};
        vx_tensor x = vec(xd, 2), y = {0};
        vx_run_opts o;
        vx_run_opts_init(&o);
        o.err = err;
        o.errlen = sizeof err;
        CHECK_EQ_INT(vx_graph_run(g, &o, &x, 1, &y), VOX_ERR_MODEL);
        CHECK_STR(err, "node 'bad' (TFail): boom 42");
        CHECK(y.data == NULL);
        vx_graph_free(g);
    }

    /* A kernel that returns success without an output is caught, at run and at load. */
    tm_init(&t);
    tm_input(&t, "x", VX_FLOAT, 1, 2);
    tm_init_f(&t, "w", 2, (float[]){1, 2});
    NODE(&t, "lazy", "TNothing", L("x"), L("y"));
    tm_output(&t, "y");
    g = compile(&t, 0, err, sizeof err);
    if (g) {
        float xd[2] = {1, 2};
        vx_tensor x = vec(xd, 2), y = {0};
        vx_run_opts o;
        vx_run_opts_init(&o);
        o.err = err;
        o.errlen = sizeof err;
        CHECK_EQ_INT(vx_graph_run(g, &o, &x, 1, &y), VOX_ERR_INTERNAL);
        CHECKF(strstr(err, "'lazy'") && strstr(err, "no valid tensor"), "%s", err);
        vx_graph_free(g);
    }
    t.nodes[0].inputs[0] = "w"; /* now a constant node: folded at load */
    compile(&t, VOX_ERR_INTERNAL, err, sizeof err);
    CHECKF(strstr(err, "'lazy'") && strstr(err, "folding"), "%s", err);
}

/* Constants are found and folded once at load; random and input-fed nodes are not. */
static void test_folding(void) {
    tmodel t;
    tm_init(&t);
    char err[256] = "";
    tm_input(&t, "x", VX_FLOAT, 1, 2);
    tm_init_f(&t, "w", 2, (float[]){1, 2});
    static const float kv[2] = {3, 4};
    t.attrs[0] = (vx_attr){.name = "value_floats", .type = VX_ATTR_FLOATS, .floats = kv, .n = 2};
    vx_node *cn = NODE(&t, "const", "Constant", L(), L("k"));
    cn->n_attrs = 1;
    cn->attrs = &t.attrs[0];
    NODE(&t, "f1", "TMul2", L("k"), L("k2"));       /* folded */
    NODE(&t, "f2", "TMul2", L("w"), L("w2"));       /* folded */
    NODE(&t, "f3", "TAdd", L("k2", "w2"), L("kw")); /* folded */
    NODE(&t, "r", "TRand", L("w"), L("noise"));     /* random: stays */
    NODE(&t, "d1", "TAdd", L("x", "kw"), L("y"));   /* dynamic */
    NODE(&t, "d2", "TShape", L("x"), L("shp"));     /* dynamic */
    tm_output(&t, "y");
    tm_output(&t, "noise");
    tm_output(&t, "shp");
    tm_output(&t, "k2"); /* a constant output */
    atomic_store(&n_calls_mul2, 0);
    vx_graph *g = compile(&t, 0, err, sizeof err);
    if (!g) return;
    vx_graph_stats st;
    vx_graph_get_stats(g, &st);
    CHECK_EQ_INT(st.n_nodes, 7);
    CHECK_EQ_INT(st.n_folded, 4);
    CHECK_EQ_INT(st.n_steps, 3);
    CHECK_EQ_INT(atomic_load(&n_calls_mul2), 2);
    /* w2 fed only the folded f3: dropped; kw and k2 are kept. */
    CHECK_EQ_INT(g->is_const[vx_graph_slot(g, "w2")], 2);
    CHECK_EQ_INT(g->is_const[vx_graph_slot(g, "kw")], 1);

    float xd[2] = {100, 200};
    vx_tensor x = vec(xd, 2), outs[5] = {{0}};
    vx_run_opts o;
    vx_run_opts_init(&o);
    o.err = err;
    o.errlen = sizeof err;
    const char *extra[] = {"w2"};
    o.extra_outputs = extra;
    o.n_extra_outputs = 1;
    CHECK_EQ_INT(vx_graph_run(g, &o, &x, 1, outs), VOX_ERR_UNSUPPORTED);
    o.n_extra_outputs = 0;
    int rc = vx_graph_run(g, &o, &x, 1, outs);
    CHECKF(rc == 0, "%s", err);
    CHECK_EQ_INT(atomic_load(&n_calls_mul2), 2); /* nothing folded re-ran */
    if (!rc) {
        CHECK_NEAR(fval(&outs[0], 0), 100 + 6 + 2, 0);
        CHECK_NEAR(fval(&outs[0], 1), 200 + 8 + 4, 0);
        CHECK_EQ_INT(outs[2].dtype, VX_INT64);
        CHECK_EQ_INT(((int64_t *)outs[2].data)[0], 2);
        CHECK(outs[3].owned);
        CHECK_NEAR(fval(&outs[3], 1), 8, 0);
        for (int i = 0; i < 4; i++) CHECK(outs[i].owned);
    }
    for (int i = 0; i < 5; i++) vx_tensor_release(&outs[i]);
    vx_graph_free(g);
}

/* A chain of 12 nodes keeps at most 2 intermediates alive; extras are kept; views work. */
static void test_release_and_views(void) {
    tmodel t;
    tm_init(&t);
    char err[256] = "";
    static const char *names[13] = {"x",  "v1", "v2", "v3",  "v4",  "v5", "v6",
                                    "v7", "v8", "v9", "v10", "v11", "v12"};
    tm_input(&t, "x", VX_FLOAT, 1, -1);
    for (int i = 0; i < 12; i++) {
        /* v4 = view(v3): v3's buffer moves to v4; v8 = view(v7) while v7 is still read
         * later: a copy. */
        const char *op = i == 3 || i == 7 ? "TView" : "TMul2";
        tm_node(&t, names[i + 1], op, 1, &names[i], 1, &names[i + 1]);
    }
    NODE(&t, "sum", "TAdd", L("v7", "v12"), L("y"));
    NODE(&t, "xv", "TView", L("x"), L("xview")); /* view of a caller input, returned */
    tm_output(&t, "y");
    tm_output(&t, "xview");
    vx_graph *g = compile(&t, 0, err, sizeof err);
    if (!g) return;
    float xd[3] = {1, 2, 3};
    vx_tensor x = vec(xd, 3), outs[3] = {{0}};
    vx_run_stats rs = {0};
    vx_run_opts o;
    vx_run_opts_init(&o);
    o.err = err;
    o.errlen = sizeof err;
    o.stats = &rs;
    int rc = vx_graph_run(g, &o, &x, 1, outs);
    CHECKF(rc == 0, "%s", err);
    if (!rc) {
        /* v7 = 2^6 x (one of the first seven steps is a view); v12 = 2^10 x (two views). */
        CHECK_NEAR(fval(&outs[0], 2), 3 * (64 + 1024), 0);
        CHECK_NEAR(fval(&outs[1], 1), 2, 0);
        CHECK(outs[1].owned && outs[1].data != xd);
        CHECK_EQ_INT(rs.steps_run, 14);
        CHECKF(rs.peak_live <= 4, "peak_live %d", rs.peak_live);
        CHECK_EQ_INT(rs.live_at_end, 1); /* y; xview is a view of x until returned */
    }
    for (int i = 0; i < 2; i++) vx_tensor_release(&outs[i]);

    /* Extra outputs are kept alive, returned in order, and may repeat a graph output. */
    const char *extra[] = {"v3", "v4", "y"};
    o.extra_outputs = extra;
    o.n_extra_outputs = 3;
    vx_tensor outs5[5] = {{0}};
    rc = vx_graph_run(g, &o, &x, 1, outs5);
    CHECKF(rc == 0, "%s", err);
    if (!rc) {
        CHECK_NEAR(fval(&outs5[2], 0), 8, 0);
        CHECK_NEAR(fval(&outs5[3], 0), 8, 0);
        CHECK(outs5[2].data != outs5[3].data);
        CHECK(outs5[4].data != outs5[0].data);
        CHECK_NEAR(fval(&outs5[4], 2), fval(&outs5[0], 2), 0);
        CHECK_EQ_INT(rs.live_at_end, 3); /* y, v3, v4 (a copy: v3 is kept) */
    }
    for (int i = 0; i < 5; i++) vx_tensor_release(&outs5[i]);
    const char *ghost[] = {"ghost"};
    o.extra_outputs = ghost;
    o.n_extra_outputs = 1;
    CHECK_EQ_INT(vx_graph_run(g, &o, &x, 1, outs5), VOX_ERR_NOT_FOUND);
    CHECK(strstr(err, "ghost"));

    /* Profile: per op type and per node. */
    vx_profile *p = vx_profile_new(g);
    CHECK(p != NULL);
    o.n_extra_outputs = 0;
    o.profile = p;
    CHECK_EQ_INT(vx_graph_run(g, &o, &x, 1, outs), 0);
    for (int i = 0; i < 2; i++) vx_tensor_release(&outs[i]);
    if (p) {
        CHECK_EQ_INT(p->runs, 1);
        CHECK_EQ_INT(p->step_calls[0], 1);
        char buf[4096] = "";
        FILE *f = fmemopen(buf, sizeof buf - 1, "w");
        vx_profile_print(g, p, f, 3);
        fclose(f);
        CHECK(strstr(buf, "TMul2") && strstr(buf, "TView") && strstr(buf, "top 3 nodes"));
    }
    vx_profile_free(p);
    vx_graph_free(g);
}

static void test_cancel(void) {
    tmodel t;
    tm_init(&t);
    char err[256] = "";
    tm_input(&t, "x", VX_FLOAT, 1, 2);
    NODE(&t, "c1", "TCancel", L("x"), L("a"));
    NODE(&t, "c2", "TMul2", L("a"), L("y"));
    tm_output(&t, "y");
    vx_graph *g = compile(&t, 0, err, sizeof err);
    if (!g) return;
    float xd[2] = {1, 2};
    vx_tensor x = vec(xd, 2), y = {0};
    volatile int flag = 0;
    cancel_target = &flag;
    vx_run_stats rs = {0};
    vx_run_opts o;
    vx_run_opts_init(&o);
    o.err = err;
    o.errlen = sizeof err;
    o.cancel = &flag;
    o.stats = &rs;
    atomic_store(&n_calls_mul2, 0);
    CHECK_EQ_INT(vx_graph_run(g, &o, &x, 1, &y), VOX_ERR_CANCELLED);
    CHECK_EQ_INT(atomic_load(&n_calls_mul2), 1); /* c2 never ran */
    CHECK(y.data == NULL);
    CHECK_EQ_INT(rs.steps_run, 1);
    cancel_target = NULL;
    flag = 0;
    CHECK_EQ_INT(vx_graph_run(g, &o, &x, 1, &y), 0);
    vx_tensor_release(&y);
    vx_graph_free(g);
}

/* Concurrent runs on one graph: same seed, same output, in both threads. */
typedef struct job {
    const vx_graph *g;
    uint64_t seed;
    float out[64];
    int rc;
} job;

static void *job_run(void *arg) {
    job *j = arg;
    float xd[64];
    for (int i = 0; i < 64; i++) xd[i] = (float)i;
    vx_tensor x = vec(xd, 64);
    for (int rep = 0; rep < 200 && !j->rc; rep++) {
        vx_tensor y[2] = {{0}};
        vx_run_opts o;
        vx_run_opts_init(&o);
        o.seed = j->seed;
        j->rc = vx_graph_run(j->g, &o, &x, 1, y);
        if (!j->rc) {
            if (rep && memcmp(j->out, y[0].data, sizeof j->out)) j->rc = -100;
            memcpy(j->out, y[0].data, sizeof j->out);
        }
        vx_tensor_release(&y[0]);
        vx_tensor_release(&y[1]);
    }
    return NULL;
}

static void test_threads(void) {
    tmodel t;
    tm_init(&t);
    char err[256] = "";
    tm_input(&t, "x", VX_FLOAT, 1, 64);
    NODE(&t, "r", "TRand", L("x"), L("n"));
    NODE(&t, "a", "TAdd", L("x", "n"), L("s"));
    NODE(&t, "m", "TMul2", L("s"), L("y"));
    NODE(&t, "v", "TView", L("s"), L("sv"));
    tm_output(&t, "y");
    tm_output(&t, "sv");
    vx_graph *g = compile(&t, 0, err, sizeof err);
    if (!g) return;
    job j[3] = {{g, 7, {0}, 0}, {g, 7, {0}, 0}, {g, 8, {0}, 0}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, job_run, &j[i]);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(j[i].rc, 0);
    CHECK(!memcmp(j[0].out, j[1].out, sizeof j[0].out));
    CHECK(memcmp(j[0].out, j[2].out, sizeof j[0].out) != 0);
    CHECK(j[0].out[5] != 10); /* noise was added */
    vx_graph_free(g);
}

/* Random wiring: out-of-order nodes, cycles, missing inputs, views and type errors. Every
 * graph must compile or fail cleanly, and every compiled graph must run or fail cleanly
 * (the sanitizer build checks memory). Results are checked against a direct evaluation
 * when all ops are numeric. */
static uint64_t rs_state = 12345;
static int rnd(int n) {
    rs_state = rs_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int)((rs_state >> 33) % (uint64_t)n);
}

/* Direct evaluation of a random graph of TAdd/TMul2/TView on 2-vectors (acyclic). */
typedef struct rnode {
    const char *op;
    int n_in;
    const char *ins[2];
} rnode;
static void ref_eval(const rnode *nodes, const char *name, const float *x, float *y, int depth) {
    if (!strcmp(name, "x")) {
        y[0] = x[0];
        y[1] = x[1];
        return;
    }
    if (!strcmp(name, "w") || depth > 40) {
        y[0] = 1;
        y[1] = 2;
        return;
    }
    const rnode *n = &nodes[atoi(name + 1)];
    float a[2], b[2];
    ref_eval(nodes, n->ins[0], x, a, depth + 1);
    if (!strcmp(n->op, "TAdd")) {
        ref_eval(nodes, n->ins[1], x, b, depth + 1);
        y[0] = a[0] + b[0];
        y[1] = a[1] + b[1];
    } else if (!strcmp(n->op, "TMul2")) {
        y[0] = 2 * a[0];
        y[1] = 2 * a[1];
    } else {
        y[0] = a[0];
        y[1] = a[1];
    }
}

static void test_random_graphs(void) {
    static const char *vn[24] = {"v0",  "v1",  "v2",  "v3",  "v4",  "v5",  "v6",   "v7",
                                 "v8",  "v9",  "v10", "v11", "v12", "v13", "v14",  "v15",
                                 "v16", "v17", "v18", "v19", "x",   "w",   "nope", ""};
    static const char *ops[5] = {"TAdd", "TMul2", "TView", "TShape", "TRand"};
    int compiled = 0, ran = 0, cycles = 0;
    for (int it = 0; it < 400; it++) {
        tmodel t;
        tm_init(&t);
        char err[256] = "";
        tm_input(&t, "x", VX_FLOAT, 1, 2);
        tm_init_f(&t, "w", 2, (float[]){1, 2});
        int nn = 1 + rnd(20), numeric = it % 3 != 0;
        rnode rn[20];
        int order[20];
        for (int i = 0; i < nn; i++) order[i] = i;
        for (int i = nn - 1; i > 0; i--) {
            int j = rnd(i + 1), tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        for (int k = 0; k < nn; k++) {
            int i = order[k]; /* node i produces v<i>; file order is shuffled */
            const char *op = ops[rnd(it % 3 ? 3 : 5)];
            int n_in = !strcmp(op, "TAdd") ? 2 : 1;
            const char *ins[2];
            for (int j = 0; j < n_in; j++) {
                int r = rnd(100);
                ins[j] = r < 3               ? vn[22]
                         : r < 25            ? vn[20]
                         : r < 35            ? vn[21]
                         : (i > 0 && r < 97) ? vn[rnd(i)]
                                             : vn[rnd(nn)]; /* rnd(nn): maybe a cycle */
            }
            tm_node(&t, vn[i], op, n_in, ins, 1, &vn[i]);
            rn[i] = (rnode){op, n_in, {ins[0], n_in > 1 ? ins[1] : NULL}};
        }
        tm_output(&t, vn[nn - 1]);
        if (nn > 2) tm_output(&t, vn[rnd(nn)]);
        vx_graph *g = NULL;
        int rc = vx_graph_from_model_ops(&t.m, NULL, test_ops, &g, err, sizeof err);
        CHECKF(rc == 0 || rc == VOX_ERR_MODEL, "rc %d: %s", rc, err);
        CHECK((rc == 0) == (g != NULL));
        if (rc) {
            cycles += strstr(err, "cycle") != NULL;
            continue;
        }
        compiled++;
        float xd[2] = {3, 5};
        vx_tensor x = vec(xd, 2), outs[2] = {{0}};
        vx_run_stats st = {0};
        vx_run_opts o;
        vx_run_opts_init(&o);
        o.err = err;
        o.errlen = sizeof err;
        o.stats = &st;
        rc = vx_graph_run(g, &o, &x, 1, outs);
        CHECKF(rc == 0 || (rc == VOX_ERR_MODEL && strstr(err, "bad inputs")), "rc %d: %s", rc, err);
        if (!rc) {
            ran++;
            CHECK(st.live_at_end <= vx_graph_n_outputs(g));
            for (int i = 0; i < vx_graph_n_outputs(g); i++)
                CHECK(outs[i].owned || outs[i].numel == 0);
            for (int i = 0; numeric && i < vx_graph_n_outputs(g); i++) {
                float want[2];
                ref_eval(rn, vx_graph_output(g, i)->name, xd, want, 0);
                CHECK_EQ_INT(outs[i].numel, 2);
                if (outs[i].numel == 2) {
                    CHECK_NEAR(fval(&outs[i], 0), want[0], 0);
                    CHECK_NEAR(fval(&outs[i], 1), want[1], 0);
                }
            }
        } else {
            CHECK(outs[0].data == NULL && outs[1].data == NULL);
        }
        for (int i = 0; i < 2; i++) vx_tensor_release(&outs[i]);
        vx_graph_free(g);
    }
    printf("random graphs: %d compiled, %d ran, %d cycles found\n", compiled, ran, cycles);
    CHECK(compiled > 50 && ran > 20 && cycles > 10);
}

/* LeakyRelu -> Conv -> Add is fused at load into one step (when the kernel table has
 * fused kernels); the result must equal the plain computation whatever the residual's
 * shape (same shape: fused kernel; broadcast: fallback) and input order. */
static void test_conv_fusion(void) {
    enum { C = 2, T = 9, K = 3 };
    static const int64_t pads[2] = {1, 1};
    float wv[C * C * K], bv[C], xv[C * T], rfull[C * T], rb[C];
    for (int i = 0; i < C * C * K; i++) wv[i] = (float)((i * 7) % 5 - 2) * 0.25f;
    for (int i = 0; i < C; i++) {
        bv[i] = 0.5f * (float)i - 0.25f;
        rb[i] = 3.0f + (float)i;
    }
    for (int i = 0; i < C * T; i++) {
        xv[i] = (float)((i * 5) % 11 - 5) * 0.3f;
        rfull[i] = (float)i * 0.125f;
    }
    /* reference: y[co][t] = b + sum w * leaky(x)[ci][t + kk - 1] */
    float want[C * T];
    for (int co = 0; co < C; co++)
        for (int t = 0; t < T; t++) {
            float acc = bv[co];
            for (int ci = 0; ci < C; ci++)
                for (int kk = 0; kk < K; kk++) {
                    int ti = t + kk - 1;
                    if (ti < 0 || ti >= T) continue;
                    float v = xv[ci * T + ti];
                    v = v >= 0 ? v : 0.01f * v;
                    acc += wv[(co * C + ci) * K + kk] * v;
                }
            want[co * T + t] = acc;
        }
    int fused_kernels = vx_kernels_get() != NULL;
    for (int variant = 0; variant < 4; variant++) {
        int bcast = variant & 1, res_first = variant >> 1;
        tmodel t;
        tm_init(&t);
        tm_init_f(&t, "W", C * C * K, wv);
        int64_t wd[3] = {C, C, K};
        vx_tensor_set_shape(&t.inits[0], 3, wd);
        tm_init_f(&t, "B", C, bv);
        tm_input(&t, "x", VX_FLOAT, 3, 1);
        tm_input(&t, "r", VX_FLOAT, -1, 1);
        NODE(&t, "lk", "LeakyRelu", L("x"), L("l"));
        vx_node *cv = NODE(&t, "cv", "Conv", L("l", "W", "B"), L("c"));
        t.attrs[0] = (vx_attr){.name = "pads", .type = VX_ATTR_INTS, .ints = pads, .n = 2};
        cv->attrs = &t.attrs[0];
        cv->n_attrs = 1;
        if (res_first)
            NODE(&t, "add", "Add", L("r", "c"), L("y"));
        else
            NODE(&t, "add", "Add", L("c", "r"), L("y"));
        tm_output(&t, "y");
        char err[256] = "";
        vx_graph *g = NULL;
        int rc = vx_graph_from_model(&t.m, NULL, &g, err, sizeof err);
        CHECKF(rc == 0, "compile: %s", err);
        if (rc) continue;
        vx_graph_stats st;
        vx_graph_get_stats(g, &st);
        CHECK_EQ_INT(st.n_steps, fused_kernels ? 1 : 3);
        vx_tensor in[2] = {{0}}, out[2] = {{0}};
        int64_t xd[3] = {1, C, T}, rd[3] = {1, C, bcast ? 1 : T};
        vx_tensor_set_shape(&in[0], 3, xd);
        in[0].dtype = VX_FLOAT;
        in[0].data = xv;
        vx_tensor_set_shape(&in[1], 3, rd);
        in[1].dtype = VX_FLOAT;
        in[1].data = bcast ? rb : rfull;
        vx_run_opts o;
        vx_run_opts_init(&o);
        o.err = err;
        o.errlen = sizeof err;
        rc = vx_graph_run(g, &o, in, 2, out);
        CHECKF(rc == 0, "run: %s", err);
        if (!rc) {
            CHECK_EQ_INT(out[0].numel, C * T);
            CHECK_EQ_INT(out[0].ndim, 3);
            for (int i = 0; i < C * T && out[0].numel == C * T; i++)
                CHECK_NEAR(fval(&out[0], i), want[i] + (bcast ? rb[i / T] : rfull[i]), 1e-5);
        }
        vx_tensor_release(&out[0]);
        /* an intermediate fused away cannot be asked for */
        const char *extra[1] = {"l"};
        o.extra_outputs = extra;
        o.n_extra_outputs = 1;
        rc = vx_graph_run(g, &o, in, 2, out);
        CHECK_EQ_INT(rc, fused_kernels ? VOX_ERR_UNSUPPORTED : 0);
        for (int i = 0; i < 2; i++) vx_tensor_release(&out[i]);
        vx_graph_free(g);
    }
}

int main(void) {
    test_conv_fusion();
    test_order();
    test_errors();
    test_folding();
    test_release_and_views();
    test_cancel();
    test_threads();
    test_random_graphs();
    TEST_SUMMARY();
}

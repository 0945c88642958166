/* Shape / indexing / data-movement kernels: hand-computed expectations per op, the
 * opset-dependent forms, negative axes and indices, empty tensors and error cases. */
#include "test.h"
#include "ops/op.h"
#include "vox.h"
#include <stdint.h>

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define F(...) ((const float[]){__VA_ARGS__})
#define I(...) ((const int64_t[]){__VA_ARGS__})
#define NA(a)  ((int)(sizeof(a) / sizeof((a)[0])))

static char errbuf[512];
static vx_rng run_rng;
static vx_op_ctx ctx = {
    .opset = 17, .rng = &run_rng, .threads = 1, .err = errbuf, .errlen = sizeof errbuf};

/* Every tensor a test makes lives here and is released at the end. */
static vx_tensor pool[512];
static int npool;

static vx_tensor *mk(int dtype, int nd, const int64_t *dims, const void *vals) {
    if (npool >= NA(pool) - 8) {
        fprintf(stderr, "tensor pool exhausted\n");
        exit(2);
    }
    vx_tensor *t = &pool[npool++];
    if (vx_tensor_alloc(t, dtype, nd, dims)) {
        fprintf(stderr, "alloc failed\n");
        exit(2);
    }
    if (vals && t->numel) memcpy(t->data, vals, vx_tensor_bytes(t));
    return t;
}
static vx_tensor *tf(int nd, const int64_t *dims, const float *v) {
    return mk(VX_FLOAT, nd, dims, v);
}
static vx_tensor *ti(int nd, const int64_t *dims, const int64_t *v) {
    return mk(VX_INT64, nd, dims, v);
}
static vx_tensor *vi(int n, const int64_t *v) { return ti(1, D(n), v); } /* 1-D int64 */
static vx_tensor *si(int64_t v) { return ti(0, NULL, &v); }              /* int64 scalar */

static vx_attr a_int(const char *name, int64_t v) {
    vx_attr a = {.name = name, .type = VX_ATTR_INT, .i = v};
    return a;
}
static vx_attr a_ints(const char *name, const int64_t *v, int n) {
    vx_attr a = {.name = name, .type = VX_ATTR_INTS, .ints = v, .n = n};
    return a;
}
static vx_attr a_float(const char *name, float v) {
    vx_attr a = {.name = name, .type = VX_ATTR_FLOAT, .f = v};
    return a;
}
static vx_attr a_floats(const char *name, const float *v, int n) {
    vx_attr a = {.name = name, .type = VX_ATTR_FLOATS, .floats = v, .n = n};
    return a;
}
static vx_attr a_str(const char *name, const char *s) {
    vx_attr a = {.name = name, .type = VX_ATTR_STRING, .s = s, .s_len = strlen(s)};
    return a;
}
static vx_attr a_tensor(const char *name, vx_tensor *t) {
    vx_attr a = {.name = name, .type = VX_ATTR_TENSOR, .t = t};
    return a;
}

/* Run op with up to 4 outputs; outputs are added to the pool. */
static int run(const char *op, vx_attr *attrs, int na, vx_tensor **in, int n_in, vx_tensor **outs,
               int n_out) {
    const vx_op_def *d = vx_op_find(op);
    CHECKF(d != NULL, "op %s not registered", op);
    if (!d) return -999;
    vx_node node = {.name = "t",
                    .op_type = op,
                    .domain = "",
                    .n_inputs = n_in,
                    .n_outputs = n_out,
                    .n_attrs = na,
                    .attrs = attrs};
    if (npool + n_out >= NA(pool)) {
        fprintf(stderr, "tensor pool exhausted\n");
        exit(2);
    }
    vx_tensor *o = &pool[npool];
    npool += n_out;
    for (int i = 0; i < n_out; i++) {
        memset(&o[i], 0, sizeof o[i]);
        if (outs) outs[i] = &o[i];
    }
    errbuf[0] = 0;
    return d->fn(&ctx, &node, in, n_in, o, n_out);
}
/* Single output convenience; returns NULL (and records a failure) on error. */
static vx_tensor *run1(const char *op, vx_attr *attrs, int na, vx_tensor **in, int n_in) {
    vx_tensor *o;
    int rc = run(op, attrs, na, in, n_in, &o, 1);
    CHECKF(rc == 0, "%s failed: %d %s", op, rc, errbuf);
    return rc ? NULL : o;
}
/* Expect a failure with code rc and a non-empty message. */
static void expect_fail(const char *op, vx_attr *attrs, int na, vx_tensor **in, int n_in,
                        int code) {
    int rc = run(op, attrs, na, in, n_in, NULL, 1);
    CHECKF(rc == code, "%s: expected %d, got %d (%s)", op, code, rc, errbuf);
    CHECKF(errbuf[0] != 0, "%s: empty error message", op);
}

static int same_shape(const vx_tensor *t, int nd, const int64_t *dims) {
    if (t->ndim != nd) return 0;
    for (int i = 0; i < nd; i++)
        if (t->dims[i] != dims[i]) return 0;
    return 1;
}
#define CHECK_F(t, nd, dims, vals) check_f(__LINE__, t, nd, dims, vals)
#define CHECK_I(t, nd, dims, vals) check_i(__LINE__, t, nd, dims, vals)
static void check_f(int line, const vx_tensor *t, int nd, const int64_t *dims, const float *v) {
    CHECKF(t != NULL, "line %d: no output", line);
    if (!t) return;
    CHECKF(t->dtype == VX_FLOAT && same_shape(t, nd, dims), "line %d: dtype %d rank %d", line,
           t->dtype, t->ndim);
    if (t->dtype != VX_FLOAT || !same_shape(t, nd, dims)) return;
    for (int64_t i = 0; i < t->numel; i++)
        CHECKF(((float *)t->data)[i] == v[i], "line %d: [%lld] %g != %g", line, (long long)i,
               ((float *)t->data)[i], v[i]);
}
static void check_i(int line, const vx_tensor *t, int nd, const int64_t *dims, const int64_t *v) {
    CHECKF(t != NULL, "line %d: no output", line);
    if (!t) return;
    CHECKF(t->dtype == VX_INT64 && same_shape(t, nd, dims), "line %d: dtype %d rank %d", line,
           t->dtype, t->ndim);
    if (t->dtype != VX_INT64 || !same_shape(t, nd, dims)) return;
    for (int64_t i = 0; i < t->numel; i++)
        CHECKF(((int64_t *)t->data)[i] == v[i], "line %d: [%lld] %lld != %lld", line, (long long)i,
               (long long)((int64_t *)t->data)[i], (long long)v[i]);
}

static const float X24[24] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                              12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

static void test_constant(void) {
    vx_attr a1[] = {a_floats("value_floats", F(1, 2, 3), 3)};
    CHECK_F(run1("Constant", a1, 1, NULL, 0), 1, D(3), F(1, 2, 3));
    vx_attr a2[] = {a_int("value_int", 7)};
    CHECK_I(run1("Constant", a2, 1, NULL, 0), 0, NULL, I(7));
    vx_attr a3[] = {a_tensor("value", tf(2, D(1, 2), F(5, 6)))};
    CHECK_F(run1("Constant", a3, 1, NULL, 0), 2, D(1, 2), F(5, 6));
    vx_attr a4[] = {a_tensor("sparse_value", tf(1, D(1), F(1)))};
    expect_fail("Constant", a4, 1, NULL, 0, VOX_ERR_UNSUPPORTED);
    expect_fail("Constant", NULL, 0, NULL, 0, VOX_ERR_MODEL);
}

static void test_shape_size(void) {
    vx_tensor *x = tf(3, D(2, 3, 4), X24);
    CHECK_I(run1("Shape", NULL, 0, &x, 1), 1, D(3), I(2, 3, 4));
    vx_attr a1[] = {a_int("start", -2)};
    CHECK_I(run1("Shape", a1, 1, &x, 1), 1, D(2), I(3, 4));
    vx_attr a2[] = {a_int("start", 1), a_int("end", -1)};
    CHECK_I(run1("Shape", a2, 2, &x, 1), 1, D(1), I(3));
    vx_attr a3[] = {a_int("start", -10), a_int("end", 10)}; /* clamped */
    CHECK_I(run1("Shape", a3, 2, &x, 1), 1, D(3), I(2, 3, 4));
    vx_attr a4[] = {a_int("start", 2), a_int("end", 1)};
    CHECK_I(run1("Shape", a4, 2, &x, 1), 1, D(0), NULL);
    CHECK_I(run1("Size", NULL, 0, &x, 1), 0, NULL, I(24));
    vx_tensor *e = tf(2, D(3, 0), NULL);
    CHECK_I(run1("Size", NULL, 0, &e, 1), 0, NULL, I(0));
}

static void test_reshape_family(void) {
    vx_tensor *x = tf(3, D(2, 3, 4), X24);
    vx_tensor *in[2] = {x, vi(2, I(4, -1))};
    CHECK_F(run1("Reshape", NULL, 0, in, 2), 2, D(4, 6), X24);
    in[1] = vi(2, I(0, -1));
    CHECK_F(run1("Reshape", NULL, 0, in, 2), 2, D(2, 12), X24);
    in[1] = vi(2, I(5, -1));
    expect_fail("Reshape", NULL, 0, in, 2, VOX_ERR_MODEL);
    in[1] = vi(2, I(-1, -1));
    expect_fail("Reshape", NULL, 0, in, 2, VOX_ERR_MODEL);
    in[1] = vi(2, I(5, 5));
    expect_fail("Reshape", NULL, 0, in, 2, VOX_ERR_MODEL);
    in[1] = vi(4, I(2, 3, 4, 0)); /* 0 copies a dim the input lacks */
    expect_fail("Reshape", NULL, 0, in, 2, VOX_ERR_MODEL);
    /* allowzero: 0 is a real zero; without it the 0 copies input dim 1 (= 3). */
    vx_tensor *e[2] = {tf(2, D(0, 3), NULL), vi(2, I(3, 0))};
    vx_attr az[] = {a_int("allowzero", 1)};
    CHECK_F(run1("Reshape", az, 1, e, 2), 2, D(3, 0), NULL);
    expect_fail("Reshape", NULL, 0, e, 2, VOX_ERR_MODEL);

    vx_attr f1[] = {a_int("axis", -1)};
    CHECK_F(run1("Flatten", f1, 1, &x, 1), 2, D(6, 4), X24);
    vx_attr f0[] = {a_int("axis", 0)};
    CHECK_F(run1("Flatten", f0, 1, &x, 1), 2, D(1, 24), X24);
    CHECK_F(run1("Flatten", NULL, 0, &x, 1), 2, D(2, 12), X24);

    /* Squeeze: opset 11 attribute vs opset 13 input. */
    vx_tensor *y = tf(3, D(1, 3, 1), F(1, 2, 3));
    ctx.opset = 11;
    vx_attr s11[] = {a_ints("axes", I(-3), 1)};
    CHECK_F(run1("Squeeze", s11, 1, &y, 1), 2, D(3, 1), F(1, 2, 3));
    ctx.opset = 13;
    vx_tensor *sq[2] = {y, vi(2, I(0, -1))};
    CHECK_F(run1("Squeeze", NULL, 0, sq, 2), 1, D(3), F(1, 2, 3));
    CHECK_F(run1("Squeeze", NULL, 0, &y, 1), 1, D(3), F(1, 2, 3));
    sq[1] = vi(0, NULL); /* empty axes input: squeeze every 1 */
    CHECK_F(run1("Squeeze", NULL, 0, sq, 2), 1, D(3), F(1, 2, 3));
    sq[1] = vi(1, I(1));
    expect_fail("Squeeze", NULL, 0, sq, 2, VOX_ERR_MODEL); /* dim 3 is not 1 */
    sq[1] = vi(1, I(3));
    expect_fail("Squeeze", NULL, 0, sq, 2, VOX_ERR_MODEL); /* axis out of range */

    vx_tensor *v = tf(1, D(3), F(1, 2, 3));
    ctx.opset = 11;
    vx_attr u11[] = {a_ints("axes", I(0, -1), 2)};
    CHECK_F(run1("Unsqueeze", u11, 1, &v, 1), 3, D(1, 3, 1), F(1, 2, 3));
    ctx.opset = 13;
    vx_tensor *us[2] = {v, vi(1, I(1))};
    CHECK_F(run1("Unsqueeze", NULL, 0, us, 2), 2, D(3, 1), F(1, 2, 3));
    us[1] = vi(2, I(0, -3)); /* both name axis 0 of the rank-3 output */
    expect_fail("Unsqueeze", NULL, 0, us, 2, VOX_ERR_MODEL);
    vx_tensor *s = tf(0, NULL, F(4));
    us[0] = s;
    us[1] = vi(1, I(0));
    CHECK_F(run1("Unsqueeze", NULL, 0, us, 2), 1, D(1), F(4));
    ctx.opset = 17;
}

static void test_concat_split(void) {
    vx_tensor *in[3] = {tf(2, D(2, 1), F(1, 2)), tf(2, D(2, 0), NULL),
                        tf(2, D(2, 2), F(3, 4, 5, 6))};
    vx_attr ax[] = {a_int("axis", -1)};
    CHECK_F(run1("Concat", ax, 1, in, 3), 2, D(2, 3), F(1, 3, 4, 2, 5, 6));
    vx_attr ax0[] = {a_int("axis", 0)};
    vx_tensor *in2[2] = {in[0], in[2]};
    expect_fail("Concat", ax0, 1, in2, 2, VOX_ERR_MODEL); /* dim 1: 1 vs 2 */

    vx_tensor *x = tf(2, D(3, 2), F(1, 2, 3, 4, 5, 6));
    vx_tensor *o[3];
    ctx.opset = 13;
    vx_tensor *sin[2] = {x, vi(2, I(1, 2))};
    CHECK_EQ_INT(run("Split", NULL, 0, sin, 2, o, 2), 0);
    CHECK_F(o[0], 2, D(1, 2), F(1, 2));
    CHECK_F(o[1], 2, D(2, 2), F(3, 4, 5, 6));
    sin[1] = vi(0, NULL); /* empty split input: equal parts */
    CHECK_EQ_INT(run("Split", NULL, 0, sin, 2, o, 3), 0);
    CHECK_F(o[1], 2, D(1, 2), F(3, 4));
    sin[1] = vi(2, I(1, 1));
    CHECKF(run("Split", NULL, 0, sin, 2, o, 2) == VOX_ERR_MODEL, "bad split sum");
    ctx.opset = 11;
    vx_attr s11[] = {a_int("axis", -1), a_ints("split", I(1, 1), 2)};
    CHECK_EQ_INT(run("Split", s11, 2, &x, 1, o, 2), 0);
    CHECK_F(o[0], 2, D(3, 1), F(1, 3, 5));
    CHECK_F(o[1], 2, D(3, 1), F(2, 4, 6));
    ctx.opset = 17;
    CHECK_EQ_INT(run("Split", NULL, 0, &x, 1, o, 3), 0); /* equal parts */
    CHECK_F(o[0], 2, D(1, 2), F(1, 2));
    CHECK_F(o[2], 2, D(1, 2), F(5, 6));
    CHECKF(run("Split", NULL, 0, &x, 1, o, 2) == VOX_ERR_MODEL, "3 rows into 2 parts");
}

static void test_slice(void) {
    vx_tensor *x = tf(1, D(10), X24);
    vx_tensor *in[5] = {x, vi(1, I(-1)), vi(1, I(INT64_MIN)), vi(1, I(0)), vi(1, I(-1))};
    CHECK_F(run1("Slice", NULL, 0, in, 5), 1, D(10), F(9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
    in[1] = vi(1, I(1));
    in[2] = vi(1, I(1000));
    in[4] = vi(1, I(3));
    CHECK_F(run1("Slice", NULL, 0, in, 5), 1, D(3), F(1, 4, 7));
    in[1] = vi(1, I(20));
    in[2] = vi(1, I(30));
    in[4] = vi(1, I(1));
    CHECK_F(run1("Slice", NULL, 0, in, 5), 1, D(0), NULL);
    in[1] = vi(1, I(100));
    in[2] = vi(1, I(-100));
    in[4] = vi(1, I(-4)); /* clamp to 9 */
    CHECK_F(run1("Slice", NULL, 0, in, 5), 1, D(3), F(9, 5, 1));
    in[1] = vi(1, I(INT64_MAX));
    in[2] = vi(1, I(2));
    in[4] = vi(1, I(INT64_MIN));
    CHECK_F(run1("Slice", NULL, 0, in, 5), 1, D(1), F(9));
    in[4] = vi(1, I(0));
    expect_fail("Slice", NULL, 0, in, 5, VOX_ERR_MODEL);

    /* [3,4], axis -1, start 3, end 0, step -2: columns 3 and 1; no axes/steps given */
    vx_tensor *m = tf(2, D(3, 4), X24);
    vx_tensor *in2[5] = {m, vi(1, I(3)), vi(1, I(0)), vi(1, I(-1)), vi(1, I(-2))};
    CHECK_F(run1("Slice", NULL, 0, in2, 5), 2, D(3, 2), F(3, 1, 7, 5, 11, 9));
    vx_tensor *in3[3] = {m, vi(2, I(1, 1)), vi(2, I(-1, 3))};
    CHECK_F(run1("Slice", NULL, 0, in3, 3), 2, D(1, 2), F(5, 6));
    vx_tensor *in4[4] = {m, vi(2, I(0, 0)), vi(2, I(1, 1)), vi(2, I(1, -1))};
    expect_fail("Slice", NULL, 0, in4, 4, VOX_ERR_MODEL); /* repeated axis */
    /* a negative step over an empty axis reads nothing (it once made one element out of
     * bounds: start clamped to 0, end to -1) */
    vx_tensor *e = tf(2, D(3, 0), X24);
    vx_tensor *in5[5] = {e, vi(1, I(-2)), vi(1, I(-1)), vi(1, I(-1)), vi(1, I(-1))};
    CHECK_F(run1("Slice", NULL, 0, in5, 5), 2, D(3, 0), NULL);
    in5[1] = vi(1, I(0));
    in5[2] = vi(1, I(INT64_MIN));
    CHECK_F(run1("Slice", NULL, 0, in5, 5), 2, D(3, 0), NULL);
    ctx.opset = 9;                                        /* attribute form */
    vx_attr at[] = {a_ints("starts", I(1), 1), a_ints("ends", I(3), 1), a_ints("axes", I(0), 1)};
    CHECK_F(run1("Slice", at, 3, &m, 1), 2, D(2, 4), X24 + 4);
    ctx.opset = 17;
}

static void test_gather(void) {
    vx_tensor *x = tf(2, D(3, 2), F(1, 2, 3, 4, 5, 6));
    vx_tensor *in[2] = {x, vi(2, I(-1, 0))};
    CHECK_F(run1("Gather", NULL, 0, in, 2), 2, D(2, 2), F(5, 6, 1, 2));
    vx_attr a1[] = {a_int("axis", -1)};
    in[1] = ti(2, D(1, 2), I(1, 0));
    CHECK_F(run1("Gather", a1, 1, in, 2), 3, D(3, 1, 2), F(2, 1, 4, 3, 6, 5));
    in[1] = si(1); /* scalar index drops the axis */
    CHECK_F(run1("Gather", NULL, 0, in, 2), 1, D(2), F(3, 4));
    in[1] = vi(2, I(0, 3));
    expect_fail("Gather", NULL, 0, in, 2, VOX_ERR_ARG);
    in[1] = vi(1, I(-4));
    expect_fail("Gather", NULL, 0, in, 2, VOX_ERR_ARG);
    in[1] = vi(0, NULL);
    CHECK_F(run1("Gather", NULL, 0, in, 2), 2, D(0, 2), NULL);
    int32_t i32[2] = {2, -3};
    in[1] = mk(VX_INT32, 1, D(2), i32);
    CHECK_F(run1("Gather", NULL, 0, in, 2), 2, D(2, 2), F(5, 6, 1, 2));

    /* GatherElements (spec example), with a negative index. */
    vx_tensor *g[2] = {tf(2, D(2, 2), F(1, 2, 3, 4)), ti(2, D(2, 2), I(0, 0, -1, 0))};
    CHECK_F(run1("GatherElements", a1, 1, g, 2), 2, D(2, 2), F(1, 1, 4, 3));
    vx_tensor *g3[2] = {tf(2, D(3, 3), F(1, 2, 3, 4, 5, 6, 7, 8, 9)),
                        ti(2, D(2, 3), I(1, 2, 0, 2, 0, 0))};
    CHECK_F(run1("GatherElements", NULL, 0, g3, 2), 2, D(2, 3), F(4, 8, 3, 7, 2, 3));
    g[1] = ti(2, D(2, 2), I(0, 2, 0, 0));
    expect_fail("GatherElements", a1, 1, g, 2, VOX_ERR_ARG);

    /* GatherND */
    vx_tensor *n0[2] = {tf(2, D(2, 2), F(0, 1, 2, 3)), ti(2, D(2, 2), I(0, 0, 1, 1))};
    CHECK_F(run1("GatherND", NULL, 0, n0, 2), 1, D(2), F(0, 3));
    n0[1] = ti(2, D(2, 1), I(1, -2));
    CHECK_F(run1("GatherND", NULL, 0, n0, 2), 2, D(2, 2), F(2, 3, 0, 1));
    vx_tensor *n1[2] = {tf(3, D(2, 2, 2), F(0, 1, 2, 3, 4, 5, 6, 7)), ti(2, D(2, 1), I(1, 0))};
    vx_attr bd[] = {a_int("batch_dims", 1)};
    CHECK_F(run1("GatherND", bd, 1, n1, 2), 2, D(2, 2), F(2, 3, 4, 5));
    n1[1] = ti(2, D(2, 2), I(1, 0, 0, 1)); /* batch_dims 1, k = 2: scalars */
    CHECK_F(run1("GatherND", bd, 1, n1, 2), 1, D(2), F(2, 5));
    n1[1] = ti(2, D(2, 1), I(1, 2));
    expect_fail("GatherND", bd, 1, n1, 2, VOX_ERR_ARG);
}

static void test_scatter(void) {
    vx_tensor *in[3] = {tf(1, D(8), F(1, 2, 3, 4, 5, 6, 7, 8)), ti(2, D(4, 1), I(4, 3, 1, 7)),
                        tf(1, D(4), F(9, 10, 11, 12))};
    CHECK_F(run1("ScatterND", NULL, 0, in, 3), 1, D(8), F(1, 11, 3, 10, 9, 6, 7, 12));
    vx_attr add[] = {a_str("reduction", "add")}, mul[] = {a_str("reduction", "mul")};
    in[1] = ti(2, D(2, 1), I(0, -8));
    in[2] = tf(1, D(2), F(10, 20));
    CHECK_F(run1("ScatterND", add, 1, in, 3), 1, D(8), F(31, 2, 3, 4, 5, 6, 7, 8));
    CHECK_F(run1("ScatterND", mul, 1, in, 3), 1, D(8), F(200, 2, 3, 4, 5, 6, 7, 8));
    in[1] = ti(2, D(2, 1), I(0, 8));
    expect_fail("ScatterND", NULL, 0, in, 3, VOX_ERR_ARG);
    /* slices: data [2,2], indices [[1]], updates [[7,8]] */
    vx_tensor *s2[3] = {tf(2, D(2, 2), F(1, 2, 3, 4)), ti(2, D(1, 1), I(1)),
                        tf(2, D(1, 2), F(7, 8))};
    CHECK_F(run1("ScatterND", NULL, 0, s2, 3), 2, D(2, 2), F(1, 2, 7, 8));
    s2[2] = tf(2, D(1, 3), F(7, 8, 9));
    expect_fail("ScatterND", NULL, 0, s2, 3, VOX_ERR_MODEL);

    /* ScatterElements (spec examples) */
    vx_tensor *e[3] = {tf(2, D(3, 3), F(0, 0, 0, 0, 0, 0, 0, 0, 0)),
                       ti(2, D(2, 3), I(1, 0, 2, 0, 2, 1)),
                       tf(2, D(2, 3), F(1.0f, 1.1f, 1.2f, 2.0f, 2.1f, 2.2f))};
    CHECK_F(run1("ScatterElements", NULL, 0, e, 3), 2, D(3, 3),
            F(2.0f, 1.1f, 0, 1.0f, 0, 2.2f, 0, 2.1f, 1.2f));
    vx_tensor *e2[3] = {tf(2, D(1, 5), F(1, 2, 3, 4, 5)), ti(2, D(1, 2), I(1, -4)),
                        tf(2, D(1, 2), F(1.5f, 2.5f))};
    vx_attr ax1add[] = {a_int("axis", 1), a_str("reduction", "add")};
    CHECK_F(run1("ScatterElements", ax1add, 2, e2, 3), 2, D(1, 5), F(1, 6, 3, 4, 5));
    vx_attr ax1[] = {a_int("axis", 1)};
    e2[1] = ti(2, D(1, 2), I(1, 5));
    expect_fail("ScatterElements", ax1, 1, e2, 3, VOX_ERR_ARG);
}

static float naive_at(const vx_tensor *x, const int *perm, const int64_t *oidx) {
    int64_t off = 0, str = 1, ii[VX_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) ii[perm[i]] = oidx[i];
    for (int i = x->ndim - 1; i >= 0; i--) {
        off += ii[i] * str;
        str *= x->dims[i];
    }
    return ((float *)x->data)[off];
}

/* Transpose against index math done here, element by element. */
static void check_transpose(int nd, const int64_t *dims, const int *perm) {
    int64_t n = 1, pv[VX_MAX_DIMS], od[VX_MAX_DIMS];
    for (int i = 0; i < nd; i++) {
        n *= dims[i];
        pv[i] = perm[i];
        od[i] = dims[perm[i]];
    }
    vx_tensor *x = tf(nd, dims, NULL);
    for (int64_t i = 0; i < n; i++) ((float *)x->data)[i] = (float)i;
    vx_attr a[] = {a_ints("perm", pv, nd)};
    vx_tensor *o = run1("Transpose", a, 1, &x, 1);
    if (!o) return;
    CHECK(same_shape(o, nd, od));
    int64_t idx[VX_MAX_DIMS] = {0}, bad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (((float *)o->data)[i] != naive_at(x, perm, idx)) bad++;
        for (int k = nd - 1; k >= 0; k--) {
            if (++idx[k] < od[k]) break;
            idx[k] = 0;
        }
    }
    CHECKF(bad == 0, "%lld mismatches", (long long)bad);
}

static void test_transpose(void) {
    vx_tensor *x = tf(2, D(2, 3), F(1, 2, 3, 4, 5, 6));
    CHECK_F(run1("Transpose", NULL, 0, &x, 1), 2, D(3, 2), F(1, 4, 2, 5, 3, 6));
    vx_attr bad[] = {a_ints("perm", I(0, 0), 2)};
    expect_fail("Transpose", bad, 1, &x, 1, VOX_ERR_MODEL);
    check_transpose(3, D(1, 192, 1001), (const int[]){0, 2, 1});
    check_transpose(4, D(3, 5, 7, 2), (const int[]){2, 0, 3, 1});
    check_transpose(4, D(2, 3, 4, 5), (const int[]){0, 2, 1, 3});
    check_transpose(3, D(37, 1, 65), (const int[]){2, 1, 0});
    /* dtype-agnostic: int64 and uint8 */
    vx_tensor *xi = ti(2, D(2, 2), I(1, 2, 3, 4));
    CHECK_I(run1("Transpose", NULL, 0, &xi, 1), 2, D(2, 2), I(1, 3, 2, 4));
    uint8_t b[6] = {1, 2, 3, 4, 5, 6};
    vx_tensor *xb = mk(VX_UINT8, 2, D(3, 2), b);
    vx_tensor *ob = run1("Transpose", NULL, 0, &xb, 1);
    CHECK(ob && ob->dtype == VX_UINT8 && !memcmp(ob->data, (uint8_t[]){1, 3, 5, 2, 4, 6}, 6));
    vx_tensor *e = tf(3, D(2, 0, 3), NULL);
    vx_tensor *oe = run1("Transpose", NULL, 0, &e, 1);
    CHECK(oe && same_shape(oe, 3, D(3, 0, 2)));
}

static void test_expand_tile(void) {
    vx_tensor *in[2] = {tf(2, D(3, 1), F(1, 2, 3)), vi(3, I(2, 1, 4))};
    CHECK_F(run1("Expand", NULL, 0, in, 2), 3, D(2, 3, 4),
            F(1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
    in[1] = vi(1, I(1)); /* shape smaller than input: output keeps the input shape */
    CHECK_F(run1("Expand", NULL, 0, in, 2), 2, D(3, 1), F(1, 2, 3));
    in[1] = vi(2, I(2, 2));
    expect_fail("Expand", NULL, 0, in, 2, VOX_ERR_MODEL);
    in[0] = tf(0, NULL, F(5));
    in[1] = vi(4, I(1 << 20, 1 << 20, 1 << 20, 1 << 20));
    expect_fail("Expand", NULL, 0, in, 2, VOX_ERR_NOMEM);

    vx_tensor *t[2] = {tf(2, D(2, 2), F(1, 2, 3, 4)), vi(2, I(1, 2))};
    CHECK_F(run1("Tile", NULL, 0, t, 2), 2, D(2, 4), F(1, 2, 1, 2, 3, 4, 3, 4));
    t[1] = vi(2, I(2, 1));
    CHECK_F(run1("Tile", NULL, 0, t, 2), 2, D(4, 2), F(1, 2, 3, 4, 1, 2, 3, 4));
    t[1] = vi(2, I(0, 3));
    CHECK_F(run1("Tile", NULL, 0, t, 2), 2, D(0, 6), NULL);
    t[1] = vi(2, I(INT64_MAX / 2, 3));
    expect_fail("Tile", NULL, 0, t, 2, VOX_ERR_NOMEM);
    t[1] = vi(1, I(2));
    expect_fail("Tile", NULL, 0, t, 2, VOX_ERR_MODEL);
}

static void test_pad(void) {
    vx_tensor *x = tf(2, D(3, 2), F(1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f));
    vx_tensor *in[3] = {x, vi(4, I(0, 2, 0, 0)), NULL};
    CHECK_F(run1("Pad", NULL, 0, in, 2), 2, D(3, 4),
            F(0, 0, 1.0f, 1.2f, 0, 0, 2.3f, 3.4f, 0, 0, 4.5f, 5.7f));
    vx_attr refl[] = {a_str("mode", "reflect")}, edge[] = {a_str("mode", "edge")};
    CHECK_F(run1("Pad", refl, 1, in, 2), 2, D(3, 4),
            F(1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f));
    CHECK_F(run1("Pad", edge, 1, in, 2), 2, D(3, 4),
            F(1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f, 4.5f, 4.5f, 5.7f));
    /* constant_value input, both axes, and a negative pad that crops row 0 */
    in[1] = vi(4, I(-1, 1, 1, 0));
    in[2] = tf(0, NULL, F(7));
    CHECK_F(run1("Pad", NULL, 0, in, 3), 2, D(3, 3), F(7, 2.3f, 3.4f, 7, 4.5f, 5.7f, 7, 7, 7));
    /* reflect on a 1-D row: [1,2,3] pads (2, 2) -> [3,2,1,2,3,2,1] */
    vx_tensor *r[2] = {tf(1, D(3), F(1, 2, 3)), vi(2, I(2, 2))};
    CHECK_F(run1("Pad", refl, 1, r, 2), 1, D(7), F(3, 2, 1, 2, 3, 2, 1));
    CHECK_F(run1("Pad", edge, 1, r, 2), 1, D(7), F(1, 1, 1, 2, 3, 3, 3));
    r[1] = vi(2, I(-2, -2));
    expect_fail("Pad", NULL, 0, r, 2, VOX_ERR_MODEL);
    r[1] = vi(3, I(1, 1, 1));
    expect_fail("Pad", NULL, 0, r, 2, VOX_ERR_MODEL);
    r[1] = vi(2, I(INT64_MAX, 0));
    expect_fail("Pad", NULL, 0, r, 2, VOX_ERR_NOMEM);
    /* empty input, constant mode */
    vx_tensor *e[2] = {tf(1, D(0), NULL), vi(2, I(1, 2))};
    CHECK_F(run1("Pad", NULL, 0, e, 2), 1, D(3), F(0, 0, 0));
    expect_fail("Pad", edge, 1, e, 2, VOX_ERR_MODEL);
    /* opset 2 attribute form */
    ctx.opset = 2;
    vx_attr old[] = {a_ints("pads", I(1, 0), 2), a_float("value", 9)};
    vx_tensor *o1 = r[0];
    CHECK_F(run1("Pad", old, 2, &o1, 1), 1, D(4), F(9, 1, 2, 3));
    ctx.opset = 17;
    /* int64 data */
    vx_tensor *pi[3] = {vi(2, I(5, 6)), vi(2, I(1, 1)), si(-1)};
    CHECK_I(run1("Pad", NULL, 0, pi, 3), 1, D(4), I(-1, 5, 6, -1));
}

static void test_generators(void) {
    vx_tensor *s = vi(2, I(2, 3));
    CHECK_F(run1("ConstantOfShape", NULL, 0, &s, 1), 2, D(2, 3), F(0, 0, 0, 0, 0, 0));
    vx_attr v5[] = {a_tensor("value", vi(1, I(5)))};
    CHECK_I(run1("ConstantOfShape", v5, 1, &s, 1), 2, D(2, 3), I(5, 5, 5, 5, 5, 5));
    vx_tensor *empty = vi(0, NULL); /* empty shape: a scalar */
    CHECK_I(run1("ConstantOfShape", v5, 1, &empty, 1), 0, NULL, I(5));
    vx_tensor *huge = vi(3, I(1 << 20, 1 << 20, 1 << 20));
    expect_fail("ConstantOfShape", NULL, 0, &huge, 1, VOX_ERR_NOMEM);
    huge = vi(2, I(INT64_MAX, INT64_MAX));
    expect_fail("ConstantOfShape", NULL, 0, &huge, 1, VOX_ERR_NOMEM);
    vx_tensor *neg = vi(2, I(2, -1));
    expect_fail("ConstantOfShape", NULL, 0, &neg, 1, VOX_ERR_MODEL);

    /* Range: float count = ceil((2-1)/0.3) = 4, int count = ceil((4-10)/-3) = 2 */
    vx_tensor *rf[3] = {tf(0, NULL, F(1)), tf(0, NULL, F(2)), tf(0, NULL, F(0.5f))};
    CHECK_F(run1("Range", NULL, 0, rf, 3), 1, D(2), F(1, 1.5f));
    rf[2] = tf(0, NULL, F(0.3f));
    vx_tensor *o = run1("Range", NULL, 0, rf, 3);
    CHECK(o && o->numel == 4);
    if (o && o->numel == 4) CHECK_NEAR(((float *)o->data)[3], 1.9, 1e-6);
    vx_tensor *ri[3] = {si(10), si(4), si(-3)};
    CHECK_I(run1("Range", NULL, 0, ri, 3), 1, D(2), I(10, 7));
    ri[1] = si(10);
    CHECK_I(run1("Range", NULL, 0, ri, 3), 1, D(0), NULL);
    ri[0] = si(INT64_MIN);
    ri[1] = si(INT64_MAX);
    ri[2] = si(INT64_MAX);
    CHECK_I(run1("Range", NULL, 0, ri, 3), 1, D(3), I(INT64_MIN, -1, INT64_MAX - 1));
    ri[0] = si(0);
    ri[2] = si(1);
    expect_fail("Range", NULL, 0, ri, 3, VOX_ERR_NOMEM);
    ri[2] = si(0);
    expect_fail("Range", NULL, 0, ri, 3, VOX_ERR_ARG);
    rf[1] = tf(0, NULL, F(1e30f));
    rf[2] = tf(0, NULL, F(1e-30f));
    expect_fail("Range", NULL, 0, rf, 3, VOX_ERR_NOMEM);

    /* EyeLike, Trilu */
    vx_tensor *x23 = tf(2, D(2, 3), NULL);
    vx_attr k1[] = {a_int("k", 1)};
    CHECK_F(run1("EyeLike", k1, 1, &x23, 1), 2, D(2, 3), F(0, 1, 0, 0, 0, 1));
    vx_attr ik[] = {a_int("dtype", VX_INT64), a_int("k", -1)};
    CHECK_I(run1("EyeLike", ik, 2, &x23, 1), 2, D(2, 3), I(0, 0, 0, 1, 0, 0));
    vx_tensor *m = tf(2, D(3, 3), F(1, 2, 3, 4, 5, 6, 7, 8, 9));
    CHECK_F(run1("Trilu", NULL, 0, &m, 1), 2, D(3, 3), F(1, 2, 3, 0, 5, 6, 0, 0, 9));
    vx_attr lower[] = {a_int("upper", 0)};
    vx_tensor *tk[2] = {m, si(-1)};
    CHECK_F(run1("Trilu", lower, 1, tk, 2), 2, D(3, 3), F(0, 0, 0, 4, 0, 0, 7, 8, 0));
    tk[1] = si(1);
    CHECK_F(run1("Trilu", NULL, 0, tk, 2), 2, D(3, 3), F(0, 2, 3, 0, 0, 6, 0, 0, 0));
    tk[1] = si(INT64_MIN);
    CHECK_F(run1("Trilu", NULL, 0, tk, 2), 2, D(3, 3), F(1, 2, 3, 4, 5, 6, 7, 8, 9));
}

static void test_index_misc(void) {
    vx_tensor *x = tf(2, D(2, 2), F(1, 0, 1, -0.0f));
    CHECK_I(run1("NonZero", NULL, 0, &x, 1), 2, D(2, 2), I(0, 1, 0, 0));
    vx_tensor *z = tf(2, D(2, 3), NULL);
    CHECK_I(run1("NonZero", NULL, 0, &z, 1), 2, D(2, 0), NULL);
    vx_tensor *xi = vi(4, I(0, 3, 0, -2));
    CHECK_I(run1("NonZero", NULL, 0, &xi, 1), 2, D(1, 2), I(1, 3));

    /* CumSum */
    vx_tensor *c[2] = {tf(1, D(4), F(1, 2, 3, 4)), si(0)};
    CHECK_F(run1("CumSum", NULL, 0, c, 2), 1, D(4), F(1, 3, 6, 10));
    vx_attr ex[] = {a_int("exclusive", 1)}, rv[] = {a_int("reverse", 1)},
            exrv[] = {a_int("exclusive", 1), a_int("reverse", 1)};
    CHECK_F(run1("CumSum", ex, 1, c, 2), 1, D(4), F(0, 1, 3, 6));
    CHECK_F(run1("CumSum", rv, 1, c, 2), 1, D(4), F(10, 9, 7, 4));
    CHECK_F(run1("CumSum", exrv, 2, c, 2), 1, D(4), F(9, 7, 4, 0));
    vx_tensor *c2[2] = {ti(2, D(2, 3), I(1, 2, 3, 4, 5, 6)), si(-2)};
    CHECK_I(run1("CumSum", NULL, 0, c2, 2), 2, D(2, 3), I(1, 2, 3, 5, 7, 9));
    c2[1] = si(1);
    CHECK_I(run1("CumSum", exrv, 2, c2, 2), 2, D(2, 3), I(5, 3, 0, 11, 6, 0));
    c2[1] = si(2);
    expect_fail("CumSum", NULL, 0, c2, 2, VOX_ERR_MODEL);

    /* OneHot: out-of-range index 5 gives an all-off row */
    vx_tensor *oh[3] = {vi(3, I(0, -1, 5)), tf(0, NULL, F(3)), tf(1, D(2), F(0, 1))};
    CHECK_F(run1("OneHot", NULL, 0, oh, 3), 2, D(3, 3), F(1, 0, 0, 0, 0, 1, 0, 0, 0));
    vx_attr a0[] = {a_int("axis", 0)};
    oh[2] = tf(1, D(2), F(-1, 2));
    CHECK_F(run1("OneHot", a0, 1, oh, 3), 2, D(3, 3), F(2, -1, -1, -1, -1, -1, -1, 2, -1));

    /* TopK */
    vx_tensor *tk[2] = {tf(1, D(5), F(1, 3, 2, 5, 4)), vi(1, I(2))};
    vx_tensor *o[2];
    CHECK_EQ_INT(run("TopK", NULL, 0, tk, 2, o, 2), 0);
    CHECK_F(o[0], 1, D(2), F(5, 4));
    CHECK_I(o[1], 1, D(2), I(3, 4));
    vx_attr sm[] = {a_int("largest", 0)};
    CHECK_EQ_INT(run("TopK", sm, 1, tk, 2, o, 2), 0);
    CHECK_F(o[0], 1, D(2), F(1, 2));
    CHECK_I(o[1], 1, D(2), I(0, 2));
    vx_tensor *t2[2] = {tf(2, D(2, 3), F(1, 9, 9, 7, 8, 0)), vi(1, I(1))};
    vx_attr ax0[] = {a_int("axis", 0)};
    CHECK_EQ_INT(run("TopK", ax0, 1, t2, 2, o, 2), 0);
    CHECK_F(o[0], 2, D(1, 3), F(7, 9, 9));
    CHECK_I(o[1], 2, D(1, 3), I(1, 0, 0));
    CHECK_EQ_INT(run("TopK", NULL, 0, t2, 2, o, 2), 0); /* tie: lower index first */
    CHECK_F(o[0], 2, D(2, 1), F(9, 8));
    CHECK_I(o[1], 2, D(2, 1), I(1, 1));
    tk[1] = vi(1, I(6));
    CHECKF(run("TopK", NULL, 0, tk, 2, o, 2) == VOX_ERR_ARG, "K > dim");
}

static void stats(const vx_tensor *t, double *mean, double *sd) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < t->numel; i++) {
        double v = ((float *)t->data)[i];
        s += v;
        s2 += v * v;
    }
    *mean = s / t->numel;
    *sd = sqrt(s2 / t->numel - *mean * *mean);
}

static void test_random(void) {
    vx_tensor *x = tf(1, D(20000), NULL);
    vx_rng_seed(&run_rng, 42);
    vx_tensor *a = run1("RandomNormalLike", NULL, 0, &x, 1);
    vx_rng_seed(&run_rng, 42);
    vx_tensor *b = run1("RandomNormalLike", NULL, 0, &x, 1);
    vx_rng_seed(&run_rng, 43);
    vx_tensor *c = run1("RandomNormalLike", NULL, 0, &x, 1);
    if (!a || !b || !c) return;
    CHECK(!memcmp(a->data, b->data, vx_tensor_bytes(a)));
    CHECK(memcmp(a->data, c->data, vx_tensor_bytes(a)) != 0);
    double m, s;
    stats(a, &m, &s);
    CHECK_NEAR(m, 0, 0.05);
    CHECK_NEAR(s, 1, 0.05);
    /* drawn in Box-Muller pairs (cosine, sine): neighbours must stay uncorrelated, and the
     * tails normal (P(|z| > 2) = 4.55%) */
    double cxy = 0;
    int64_t tail = 0;
    const float *av = a->data;
    for (int64_t i = 0; i + 1 < a->numel; i++) cxy += ((double)av[i] - m) * ((double)av[i + 1] - m);
    for (int64_t i = 0; i < a->numel; i++) tail += fabsf(av[i]) > 2;
    CHECK_NEAR(cxy / (double)(a->numel - 1) / (s * s), 0, 0.03);
    CHECK_NEAR((double)tail / (double)a->numel, 0.0455, 0.006);
    vx_attr ms[] = {a_float("mean", 2), a_float("scale", 3)};
    vx_tensor *d = run1("RandomNormalLike", ms, 2, &x, 1);
    if (d) {
        stats(d, &m, &s);
        CHECK_NEAR(m, 2, 0.15);
        CHECK_NEAR(s, 3, 0.15);
    }
    /* seed attribute: same numbers whatever the run generator's state */
    vx_attr sd[] = {a_float("seed", 7), a_ints("shape", I(4, 5), 2)};
    vx_rng_seed(&run_rng, 1);
    vx_tensor *e = run1("RandomNormal", sd, 2, NULL, 0);
    vx_rng_seed(&run_rng, 2);
    vx_tensor *f = run1("RandomNormal", sd, 2, NULL, 0);
    CHECK(e && f && same_shape(e, 2, D(4, 5)) && !memcmp(e->data, f->data, 80));
    vx_attr un[] = {a_float("low", 2), a_float("high", 4), a_ints("shape", I(1000), 1)};
    vx_tensor *u = run1("RandomUniform", un, 3, NULL, 0);
    if (u) {
        int in_range = 1;
        for (int i = 0; i < 1000; i++) {
            float v = ((float *)u->data)[i];
            if (!(v >= 2 && v <= 4)) in_range = 0;
        }
        CHECK(in_range);
        stats(u, &m, &s);
        CHECK_NEAR(m, 3, 0.1);
    }
    vx_attr dbl[] = {a_int("dtype", VX_DOUBLE)};
    vx_tensor *ud = run1("RandomUniformLike", dbl, 1, &x, 1);
    CHECK(ud && ud->dtype == VX_DOUBLE && ud->numel == 20000);
    vx_tensor *xi = vi(2, I(1, 2)); /* int input, no dtype: not a float type */
    expect_fail("RandomUniformLike", NULL, 0, &xi, 1, VOX_ERR_UNSUPPORTED);
    CHECK(vx_op_find("RandomNormal")->deterministic == 0);
    CHECK(vx_op_find("RandomUniformLike")->deterministic == 0);
    CHECK(vx_op_find("Transpose")->deterministic == 1);
}

static void test_missing_inputs(void) {
    vx_tensor *none[2] = {NULL, NULL};
    const char *ops[] = {"Shape", "Reshape", "Transpose", "Gather",  "Slice",  "Expand",
                         "Tile",  "Pad",     "ScatterND", "NonZero", "CumSum", "TopK"};
    for (int i = 0; i < NA(ops); i++) {
        int rc = run(ops[i], NULL, 0, none, 2, NULL, 1);
        CHECKF(rc < 0 && errbuf[0], "%s with missing input: rc %d", ops[i], rc);
    }
}

int main(void) {
    test_constant();
    test_shape_size();
    test_reshape_family();
    test_concat_split();
    test_slice();
    test_gather();
    test_scatter();
    test_transpose();
    test_expand_tile();
    test_pad();
    test_generators();
    test_index_misc();
    test_random();
    test_missing_inputs();
    for (int i = 0; i < npool; i++) vx_tensor_release(&pool[i]);
    TEST_SUMMARY();
}

/* Elementwise kernels: hand-computed expected values for every op, broadcasting,
 * integer edge cases, casts (incl. float16) and error paths. */
#include "test.h"
#include "ops/op.h"
#include "ops/ew_ops.h"
#include "vox.h"
#include <float.h>
#include <stdint.h>

#define D(...)   ((const int64_t[]){__VA_ARGS__})
#define F(...)   ((const float[]){__VA_ARGS__})
#define DB(...)  ((const double[]){__VA_ARGS__})
#define L(...)   ((const int64_t[]){__VA_ARGS__})
#define I32(...) ((const int32_t[]){__VA_ARGS__})
#define B(...)   ((const uint8_t[]){__VA_ARGS__})

static char errbuf[256];
static vx_op_ctx ctx = {.opset = 17, .threads = 1, .err = errbuf, .errlen = sizeof errbuf};

/* Input tensors come from a pool released between tests. */
static vx_tensor pool[64];
static int npool;

static vx_tensor *mk(int dt, int ndim, const int64_t *dims, const void *vals) {
    vx_tensor *t = &pool[npool++];
    if (vx_tensor_alloc(t, dt, ndim, dims)) {
        fprintf(stderr, "alloc failed\n");
        exit(2);
    }
    if (vals && t->numel) memcpy(t->data, vals, vx_tensor_bytes(t));
    return t;
}
static void pool_reset(void) {
    for (int i = 0; i < npool; i++) vx_tensor_release(&pool[i]);
    npool = 0;
}

static vx_attr attr_i(const char *name, int64_t v) {
    vx_attr a = {.name = name, .type = VX_ATTR_INT, .i = v};
    return a;
}
static vx_attr attr_f(const char *name, float v) {
    vx_attr a = {.name = name, .type = VX_ATTR_FLOAT, .f = v};
    return a;
}

/* Runs op on inputs; out must hold n_out empty tensors. */
static int run(const char *op, vx_attr *attrs, int n_attrs, vx_tensor **in, int n_in,
               vx_tensor *out, int n_out) {
    vx_node node = {.name = "n1",
                    .op_type = op,
                    .domain = "",
                    .n_inputs = n_in,
                    .n_outputs = n_out,
                    .n_attrs = n_attrs,
                    .attrs = attrs};
    const vx_op_def *d = vx_op_find(op);
    if (!d) {
        fprintf(stderr, "op %s not registered\n", op);
        return -999;
    }
    errbuf[0] = 0;
    for (int i = 0; i < n_out; i++) vx_tensor_release(&out[i]);
    return d->fn(&ctx, &node, in, n_in, out, n_out);
}

static int same_shape(const vx_tensor *t, int ndim, const int64_t *dims) {
    if (t->ndim != ndim) {
        fprintf(stderr, "  ndim %d, want %d\n", t->ndim, ndim);
        return 0;
    }
    for (int i = 0; i < ndim; i++)
        if (t->dims[i] != dims[i]) {
            fprintf(stderr, "  dim %d is %lld\n", i, (long long)t->dims[i]);
            return 0;
        }
    return 1;
}

/* Values compared as doubles (NaN matches NaN; infinities must match exactly). */
static int vals_near(const vx_tensor *t, int dtype, int ndim, const int64_t *dims,
                     const double *want, double tol) {
    if (t->dtype != dtype) {
        fprintf(stderr, "  dtype %s, want %s\n", vx_dtype_name(t->dtype), vx_dtype_name(dtype));
        return 0;
    }
    if (!same_shape(t, ndim, dims)) return 0;
    for (int64_t i = 0; i < t->numel; i++) {
        double g = vx_tensor_get_f64(t, i), w = want[i];
        int ok = (isnan(w) && isnan(g)) || g == w || (isfinite(w) && fabs(g - w) <= tol);
        if (!ok) {
            fprintf(stderr, "  [%lld] got %.9g want %.9g\n", (long long)i, g, w);
            return 0;
        }
    }
    return 1;
}
/* Exact int64 values. */
static int vals_i64(const vx_tensor *t, int dtype, int ndim, const int64_t *dims,
                    const int64_t *want) {
    if (t->dtype != dtype || !same_shape(t, ndim, dims)) {
        fprintf(stderr, "  dtype/shape\n");
        return 0;
    }
    for (int64_t i = 0; i < t->numel; i++)
        if (vx_tensor_get_i64(t, i) != want[i]) {
            fprintf(stderr, "  [%lld] got %lld want %lld\n", (long long)i,
                    (long long)vx_tensor_get_i64(t, i), (long long)want[i]);
            return 0;
        }
    return 1;
}

static vx_tensor out[2];

/* One float unary op on a [n] vector. */
static int unary_f(const char *op, vx_attr *attrs, int na, int n, const float *x,
                   const double *want, double tol) {
    vx_tensor *in[1] = {mk(VX_FLOAT, 1, D(n), x)};
    int rc = run(op, attrs, na, in, 1, out, 1);
    if (rc) {
        fprintf(stderr, "  %s failed: %s\n", op, errbuf);
        return 0;
    }
    int ok = vals_near(&out[0], VX_FLOAT, 1, D(n), want, tol);
    if (!ok) fprintf(stderr, "  (op %s)\n", op);
    return ok;
}

static void test_broadcast_add(void) {
    vx_tensor *in[2];
    in[0] = mk(VX_FLOAT, 2, D(3, 1), F(1, 2, 3));
    in[1] = mk(VX_FLOAT, 2, D(1, 4), F(10, 20, 30, 40));
    CHECK_EQ_INT(run("Add", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 2, D(3, 4),
                    DB(11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43), 0));
    /* [2,3,4] + [4] */
    float a[24];
    double w[24];
    for (int i = 0; i < 24; i++) a[i] = (float)i;
    for (int i = 0; i < 24; i++) w[i] = i + 100.0 * (i % 4 + 1);
    in[0] = mk(VX_FLOAT, 3, D(2, 3, 4), a);
    in[1] = mk(VX_FLOAT, 1, D(4), F(100, 200, 300, 400));
    CHECK_EQ_INT(run("Add", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 3, D(2, 3, 4), w, 0));
    /* [4] + [2,3,4]: same result, operands swapped */
    vx_tensor *sw[2] = {in[1], in[0]};
    CHECK_EQ_INT(run("Add", NULL, 0, sw, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 3, D(2, 3, 4), w, 0));
    /* scalar + tensor, tensor - scalar, scalar - tensor */
    in[0] = mk(VX_FLOAT, 0, NULL, F(5));
    in[1] = mk(VX_FLOAT, 2, D(2, 2), F(1, 2, 3, 4));
    CHECK_EQ_INT(run("Add", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 2, D(2, 2), DB(6, 7, 8, 9), 0));
    CHECK_EQ_INT(run("Sub", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 2, D(2, 2), DB(4, 3, 2, 1), 0));
    vx_tensor *rs[2] = {in[1], in[0]};
    CHECK_EQ_INT(run("Sub", NULL, 0, rs, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 2, D(2, 2), DB(-4, -3, -2, -1), 0));
    /* scalar + scalar stays rank 0 */
    in[1] = mk(VX_FLOAT, 0, NULL, F(0.25f));
    CHECK_EQ_INT(run("Mul", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 0, NULL, DB(1.25), 0));
    /* empty: [0,3] + [1,3] -> [0,3]; [0] * scalar -> [0] */
    in[0] = mk(VX_FLOAT, 2, D(0, 3), NULL);
    in[1] = mk(VX_FLOAT, 2, D(1, 3), F(1, 2, 3));
    CHECK_EQ_INT(run("Add", NULL, 0, in, 2, out, 1), 0);
    CHECK(same_shape(&out[0], 2, D(0, 3)));
    CHECK_EQ_INT(out[0].numel, 0);
    in[0] = mk(VX_INT64, 1, D(0), NULL);
    in[1] = mk(VX_INT64, 0, NULL, L(3));
    CHECK_EQ_INT(run("Div", NULL, 0, in, 2, out, 1), 0);
    CHECK(same_shape(&out[0], 1, D(0)));
    CHECK_EQ_INT(run("Equal", NULL, 0, in, 2, out, 1), 0);
    CHECK_EQ_INT(out[0].dtype, VX_BOOL);
    CHECK_EQ_INT(out[0].numel, 0);
    /* [1,192,T] * [1,192,1] and * [1,1,T] against a plain loop */
    enum { C = 192, T = 37 };
    static float x[C * T], g[C], h[T];
    for (int i = 0; i < C * T; i++) x[i] = (float)(i % 101) * 0.5f - 7;
    for (int i = 0; i < C; i++) g[i] = (float)(i % 13) - 6;
    for (int i = 0; i < T; i++) h[i] = (float)(i % 7) * 0.25f;
    in[0] = mk(VX_FLOAT, 3, D(1, C, T), x);
    in[1] = mk(VX_FLOAT, 3, D(1, C, 1), g);
    CHECK_EQ_INT(run("Mul", NULL, 0, in, 2, out, 1), 0);
    int ok = same_shape(&out[0], 3, D(1, C, T));
    for (int c = 0; c < C && ok; c++)
        for (int t = 0; t < T; t++) ok &= ((float *)out[0].data)[c * T + t] == x[c * T + t] * g[c];
    CHECK(ok);
    in[1] = mk(VX_FLOAT, 3, D(1, 1, T), h);
    CHECK_EQ_INT(run("Sub", NULL, 0, in, 2, out, 1), 0);
    ok = same_shape(&out[0], 3, D(1, C, T));
    for (int c = 0; c < C && ok; c++)
        for (int t = 0; t < T; t++) ok &= ((float *)out[0].data)[c * T + t] == x[c * T + t] - h[t];
    CHECK(ok);
    pool_reset();
}

static void test_arith(void) {
    vx_tensor *in[2];
    in[0] = mk(VX_FLOAT, 1, D(4), F(1, 7, -1, 3));
    in[1] = mk(VX_FLOAT, 1, D(4), F(4, 2, 0, -0.5f));
    CHECK_EQ_INT(run("Div", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(4), DB(0.25, 3.5, -INFINITY, -6), 0));
    CHECK_EQ_INT(run("Mul", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(4), DB(4, 14, -0.0, -1.5), 0));
    /* double */
    in[0] = mk(VX_DOUBLE, 1, D(2), DB(0.1, 1e300));
    in[1] = mk(VX_DOUBLE, 1, D(2), DB(0.2, 1e300));
    CHECK_EQ_INT(run("Add", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_DOUBLE, 1, D(2), DB(0.1 + 0.2, 2e300), 0));
    /* int64 division truncates toward zero; /0 and MIN/-1 are defined */
    in[0] = mk(VX_INT64, 1, D(8), L(7, -7, 7, -7, 5, INT64_MIN, 9007199254740993LL, 1));
    in[1] = mk(VX_INT64, 1, D(8), L(2, 2, -2, -2, 0, -1, 1, 3));
    CHECK_EQ_INT(run("Div", NULL, 0, in, 2, out, 1), 0);
    CHECK(
        vals_i64(&out[0], VX_INT64, 1, D(8), L(3, -3, -3, 3, 0, INT64_MIN, 9007199254740993LL, 0)));
    /* shape arithmetic as Piper graphs do it: int64 scalar broadcast */
    in[0] = mk(VX_INT64, 1, D(3), L(1, 192, 417));
    in[1] = mk(VX_INT64, 0, NULL, L(2));
    CHECK_EQ_INT(run("Div", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(3), L(0, 96, 208)));
    CHECK_EQ_INT(run("Mul", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(3), L(2, 384, 834)));
    /* int64 wrap-around and large exact values */
    in[0] = mk(VX_INT64, 1, D(3), L(INT64_MAX, 4294967296LL, INT64_MIN));
    in[1] = mk(VX_INT64, 1, D(3), L(1, 3, 1));
    CHECK_EQ_INT(run("Add", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(3), L(INT64_MIN, 4294967299LL, INT64_MIN + 1)));
    CHECK_EQ_INT(run("Mul", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(3), L(INT64_MAX, 12884901888LL, INT64_MIN)));
    CHECK_EQ_INT(run("Sub", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(3), L(INT64_MAX - 1, 4294967293LL, INT64_MAX)));
    /* int32 and int8 */
    in[0] = mk(VX_INT32, 1, D(4), I32(-9, 9, INT32_MIN, 100));
    in[1] = mk(VX_INT32, 1, D(4), I32(4, -4, -1, 0));
    CHECK_EQ_INT(run("Div", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT32, 1, D(4), L(-2, -2, INT32_MIN, 0)));
    in[0] = mk(VX_INT8, 1, D(2), (const int8_t[]){127, -128});
    in[1] = mk(VX_INT8, 1, D(2), (const int8_t[]){1, -1});
    CHECK_EQ_INT(run("Add", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT8, 1, D(2), L(-128, 127)));
    in[0] = mk(VX_UINT8, 1, D(2), B(200, 7));
    in[1] = mk(VX_UINT8, 1, D(2), B(100, 2));
    CHECK_EQ_INT(run("Add", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_UINT8, 1, D(2), L(44, 9)));
    CHECK_EQ_INT(run("Div", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_UINT8, 1, D(2), L(2, 3)));
    pool_reset();
}

static void test_mod_pow(void) {
    vx_tensor *in[2];
    vx_attr fm1 = attr_i("fmod", 1);
    in[0] = mk(VX_INT64, 1, D(6), L(5, -5, 5, -5, 7, 3));
    in[1] = mk(VX_INT64, 1, D(6), L(3, 3, -3, -3, 0, -1));
    CHECK_EQ_INT(run("Mod", NULL, 0, in, 2, out, 1), 0); /* sign of divisor */
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(6), L(2, 1, -1, -2, 0, 0)));
    CHECK_EQ_INT(run("Mod", &fm1, 1, in, 2, out, 1), 0); /* sign of dividend */
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(6), L(2, -2, 2, -2, 0, 0)));
    in[0] = mk(VX_INT32, 1, D(2), I32(-7, 6));
    in[1] = mk(VX_INT32, 0, NULL, I32(4));
    CHECK_EQ_INT(run("Mod", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT32, 1, D(2), L(1, 2)));
    in[0] = mk(VX_FLOAT, 1, D(3), F(5.5f, -5.5f, 4));
    in[1] = mk(VX_FLOAT, 1, D(3), F(2, 2, 2));
    CHECK_EQ_INT(run("Mod", &fm1, 1, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(3), DB(1.5, -1.5, 0), 0));
    CHECK_EQ_INT(run("Mod", NULL, 0, in, 2, out, 1), VOX_ERR_MODEL); /* float needs fmod=1 */
    CHECK(strstr(errbuf, "fmod") != NULL);

    /* Pow: float ^ float, exponent 2 exact, float ^ int64, int ^ int, int ^ float */
    in[0] = mk(VX_FLOAT, 1, D(4), F(2, 3, 1.1f, -2));
    in[1] = mk(VX_FLOAT, 0, NULL, F(2));
    CHECK_EQ_INT(run("Pow", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(4), DB(4, 9, (double)(1.1f * 1.1f), 4), 0));
    in[1] = mk(VX_FLOAT, 1, D(4), F(0.5f, -1, 0, 3));
    CHECK_EQ_INT(run("Pow", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(4), DB(1.41421356, 1.0 / 3, 1, -8), 1e-6));
    in[1] = mk(VX_INT64, 1, D(1), L(3));
    CHECK_EQ_INT(run("Pow", NULL, 0, in, 2, out, 1), 0);
    CHECK_EQ_INT(out[0].dtype, VX_FLOAT);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(4), DB(8, 27, 1.331, -8), 1e-6));
    in[0] = mk(VX_INT64, 1, D(5), L(3, 2, 2, -1, 5));
    in[1] = mk(VX_INT64, 1, D(5), L(4, 62, -1, -3, 0));
    CHECK_EQ_INT(run("Pow", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(5), L(81, 4611686018427387904LL, 0, -1, 1)));
    in[0] = mk(VX_INT32, 1, D(3), I32(2, 9, 10));
    in[1] = mk(VX_FLOAT, 1, D(3), F(0.5f, 0.5f, 2));
    CHECK_EQ_INT(run("Pow", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT32, 1, D(3), L(1, 3, 100)));
    in[0] = mk(VX_DOUBLE, 1, D(2), DB(2, 10));
    in[1] = mk(VX_INT32, 1, D(2), I32(10, -2));
    CHECK_EQ_INT(run("Pow", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_DOUBLE, 1, D(2), DB(1024, 0.01), 1e-17));
    in[0] = mk(VX_BOOL, 1, D(1), B(1));
    CHECK_EQ_INT(run("Pow", NULL, 0, in, 2, out, 1), VOX_ERR_UNSUPPORTED);
    pool_reset();
}

static void test_variadic(void) {
    vx_tensor *in[3];
    in[0] = mk(VX_FLOAT, 1, D(3), F(1, 5, 3));
    in[1] = mk(VX_FLOAT, 1, D(1), F(4));
    in[2] = mk(VX_FLOAT, 2, D(2, 1), F(0, 6));
    CHECK_EQ_INT(run("Max", NULL, 0, in, 3, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 2, D(2, 3), DB(4, 5, 4, 6, 6, 6), 0));
    CHECK_EQ_INT(run("Min", NULL, 0, in, 3, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 2, D(2, 3), DB(0, 0, 0, 1, 4, 3), 0));
    CHECK_EQ_INT(run("Sum", NULL, 0, in, 3, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 2, D(2, 3), DB(5, 9, 7, 11, 15, 13), 0));
    CHECK_EQ_INT(run("Mean", NULL, 0, in, 3, out, 1), 0);
    CHECK(
        vals_near(&out[0], VX_FLOAT, 2, D(2, 3), DB(5 / 3., 3, 7 / 3., 11 / 3., 5, 13 / 3.), 1e-6));
    /* one input: a copy */
    CHECK_EQ_INT(run("Sum", NULL, 0, in, 1, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(3), DB(1, 5, 3), 0));
    /* NaN propagates from either side */
    in[0] = mk(VX_FLOAT, 1, D(3), F(NAN, 1, 2));
    in[1] = mk(VX_FLOAT, 1, D(3), F(0, NAN, 3));
    CHECK_EQ_INT(run("Max", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(3), DB(NAN, NAN, 3), 0));
    CHECK_EQ_INT(run("Min", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(3), DB(NAN, NAN, 2), 0));
    /* int64 */
    in[0] = mk(VX_INT64, 1, D(2), L(INT64_MIN, 5));
    in[1] = mk(VX_INT64, 0, NULL, L(-3));
    CHECK_EQ_INT(run("Max", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(2), L(-3, 5)));
    CHECK_EQ_INT(run("Min", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(2), L(INT64_MIN, -3)));
    /* errors: incompatible shapes, mixed dtypes, Mean on ints */
    in[1] = mk(VX_INT64, 1, D(3), L(1, 2, 3));
    CHECK_EQ_INT(run("Sum", NULL, 0, in, 2, out, 1), VOX_ERR_MODEL);
    CHECK(strstr(errbuf, "[2]") && strstr(errbuf, "[3]"));
    CHECK_EQ_INT(run("Mean", NULL, 0, in, 1, out, 1), VOX_ERR_UNSUPPORTED);
    in[1] = mk(VX_FLOAT, 1, D(2), F(1, 2));
    CHECK_EQ_INT(run("Max", NULL, 0, in, 2, out, 1), VOX_ERR_MODEL);
    CHECK_EQ_INT(run("Max", NULL, 0, in, 0, out, 1), VOX_ERR_MODEL);
    pool_reset();
}

static void test_compare_logic(void) {
    vx_tensor *in[2];
    in[0] = mk(VX_FLOAT, 1, D(4), F(1, 2, 3, NAN));
    in[1] = mk(VX_FLOAT, 1, D(4), F(1, 5, -3, NAN));
    CHECK_EQ_INT(run("Equal", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(1, 0, 0, 0)));
    CHECK_EQ_INT(run("Less", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(0, 1, 0, 0)));
    CHECK_EQ_INT(run("LessOrEqual", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(1, 1, 0, 0)));
    CHECK_EQ_INT(run("Greater", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(0, 0, 1, 0)));
    CHECK_EQ_INT(run("GreaterOrEqual", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(1, 0, 1, 0)));
    /* int64 with broadcast: [2,1] vs [3] */
    in[0] = mk(VX_INT64, 2, D(2, 1), L(1, 3));
    in[1] = mk(VX_INT64, 1, D(3), L(0, 1, 2));
    CHECK_EQ_INT(run("Less", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 2, D(2, 3), L(0, 0, 1, 0, 0, 0)));
    CHECK_EQ_INT(run("Greater", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 2, D(2, 3), L(1, 0, 0, 1, 1, 1)));
    CHECK_EQ_INT(run("Equal", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 2, D(2, 3), L(0, 1, 0, 0, 0, 0)));
    /* bool logic: truth tables */
    in[0] = mk(VX_BOOL, 1, D(4), B(0, 0, 1, 1));
    in[1] = mk(VX_BOOL, 1, D(4), B(0, 1, 0, 1));
    CHECK_EQ_INT(run("And", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(0, 0, 0, 1)));
    CHECK_EQ_INT(run("Or", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(0, 1, 1, 1)));
    CHECK_EQ_INT(run("Xor", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(0, 1, 1, 0)));
    CHECK_EQ_INT(run("Equal", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(1, 0, 0, 1)));
    CHECK_EQ_INT(run("Not", NULL, 0, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(1, 1, 0, 0)));
    /* bool scalar broadcast */
    in[1] = mk(VX_BOOL, 0, NULL, B(1));
    CHECK_EQ_INT(run("And", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(0, 0, 1, 1)));
    /* logic on floats and ordering on bools are refused */
    in[0] = mk(VX_FLOAT, 1, D(1), F(1));
    in[1] = mk(VX_FLOAT, 1, D(1), F(1));
    CHECK_EQ_INT(run("And", NULL, 0, in, 2, out, 1), VOX_ERR_UNSUPPORTED);
    CHECK(strstr(errbuf, "float") != NULL);
    CHECK_EQ_INT(run("Not", NULL, 0, in, 1, out, 1), VOX_ERR_UNSUPPORTED);
    pool_reset();
}

static void test_prelu_where(void) {
    vx_tensor *in[3];
    in[0] = mk(VX_FLOAT, 2, D(2, 3), F(-1, 2, -3, 4, -5, 6));
    in[1] = mk(VX_FLOAT, 1, D(3), F(0.5f, 0.25f, 2));
    CHECK_EQ_INT(run("PRelu", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 2, D(2, 3), DB(-0.5, 2, -6, 4, -1.25, 6), 0));
    /* slope must not grow X */
    in[0] = mk(VX_FLOAT, 1, D(3), F(-1, 2, -3));
    in[1] = mk(VX_FLOAT, 2, D(2, 3), F(1, 1, 1, 1, 1, 1));
    CHECK_EQ_INT(run("PRelu", NULL, 0, in, 2, out, 1), VOX_ERR_MODEL);
    /* Where: cond [2,1], X [1,3], Y scalar */
    in[0] = mk(VX_BOOL, 2, D(2, 1), B(1, 0));
    in[1] = mk(VX_FLOAT, 2, D(1, 3), F(1, 2, 3));
    in[2] = mk(VX_FLOAT, 0, NULL, F(9));
    CHECK_EQ_INT(run("Where", NULL, 0, in, 3, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 2, D(2, 3), DB(1, 2, 3, 9, 9, 9), 0));
    /* all three same shape, int64 */
    in[0] = mk(VX_BOOL, 1, D(3), B(0, 1, 0));
    in[1] = mk(VX_INT64, 1, D(3), L(INT64_MAX, 2, 3));
    in[2] = mk(VX_INT64, 1, D(3), L(-1, -2, INT64_MIN));
    CHECK_EQ_INT(run("Where", NULL, 0, in, 3, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(3), L(-1, 2, INT64_MIN)));
    /* cond broadcast along rows: [3] against X [2,3] and Y [2,1] */
    in[1] = mk(VX_INT64, 2, D(2, 3), L(1, 2, 3, 4, 5, 6));
    in[2] = mk(VX_INT64, 2, D(2, 1), L(-1, -2));
    CHECK_EQ_INT(run("Where", NULL, 0, in, 3, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 2, D(2, 3), L(-1, 2, -1, -2, 5, -2)));
    /* errors */
    in[0] = mk(VX_FLOAT, 1, D(3), F(1, 0, 1));
    CHECK_EQ_INT(run("Where", NULL, 0, in, 3, out, 1), VOX_ERR_MODEL);
    CHECK(strstr(errbuf, "bool") != NULL);
    in[0] = mk(VX_BOOL, 1, D(4), B(1, 0, 1, 0));
    CHECK_EQ_INT(run("Where", NULL, 0, in, 3, out, 1), VOX_ERR_MODEL);
    CHECK(strstr(errbuf, "[4]") != NULL);
    pool_reset();
}

static void test_unary(void) {
    vx_attr a[2];
    CHECK(unary_f("Neg", NULL, 0, 3, F(1, -2, 0), DB(-1, 2, 0), 0));
    CHECK(unary_f("Abs", NULL, 0, 3, F(-1.5f, 2, -INFINITY), DB(1.5, 2, INFINITY), 0));
    CHECK(unary_f("Sqrt", NULL, 0, 3, F(4, 2, -1), DB(2, 1.41421356, NAN), 1e-7));
    CHECK(unary_f("Exp", NULL, 0, 3, F(0, 1, -INFINITY), DB(1, 2.71828183, 0), 1e-6));
    CHECK(unary_f("Log", NULL, 0, 3, F(1, 2.71828183f, 0), DB(0, 1, -INFINITY), 1e-6));
    CHECK(unary_f("Erf", NULL, 0, 4, F(0, 0.5f, -1, 5), DB(0, 0.520499878, -0.842700793, 1), 1e-7));
    CHECK(
        unary_f("Tanh", NULL, 0, 4, F(0, 0.5f, 20, -1), DB(0, 0.462117157, 1, -0.761594156), 1e-7));
    CHECK(unary_f("Sigmoid", NULL, 0, 6, F(0, 2, -2, -100, 100, -1000),
                  DB(0.5, 0.880797078, 0.119202922, 3.72007598e-44, 1, 0), 1e-7));
    CHECK(unary_f("Relu", NULL, 0, 3, F(-1, 0, 2), DB(0, 0, 2), 0));
    CHECK(unary_f("LeakyRelu", NULL, 0, 2, F(-2, 3), DB(-0.02, 3), 1e-8));
    a[0] = attr_f("alpha", 0.5f);
    CHECK(unary_f("LeakyRelu", a, 1, 2, F(-2, 3), DB(-1, 3), 0));
    CHECK(unary_f("Elu", NULL, 0, 2, F(-1, 2), DB(-0.632120559, 2), 1e-7));
    CHECK(unary_f("Elu", a, 1, 2, F(-1, 2), DB(-0.316060279, 2), 1e-7));
    CHECK(unary_f("Selu", NULL, 0, 3, F(-1, 2, 0), DB(-1.11133074, 2.10140204, 0), 1e-6));
    CHECK(unary_f("Softplus", NULL, 0, 5, F(0, 1, 100, -100, -1),
                  DB(0.693147181, 1.31326169, 100, 3.72007598e-44, 0.313261688), 1e-6));
    CHECK(unary_f("Softsign", NULL, 0, 3, F(1, -3, 0), DB(0.5, -0.75, 0), 0));
    CHECK(unary_f("HardSigmoid", NULL, 0, 4, F(0, 10, -10, 1), DB(0.5, 1, 0, 0.7), 1e-7));
    a[1] = attr_f("beta", 0.0f);
    CHECK(unary_f("HardSigmoid", a, 2, 3, F(1, 3, -1), DB(0.5, 1, 0), 0));
    CHECK(unary_f("Ceil", NULL, 0, 3, F(1.2f, -1.2f, 3), DB(2, -1, 3), 0));
    CHECK(unary_f("Floor", NULL, 0, 3, F(1.2f, -1.2f, 3), DB(1, -2, 3), 0));
    CHECK(unary_f("Round", NULL, 0, 8, F(0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f, 2.6f, -2.6f),
                  DB(0, 2, 2, 0, -2, 2, 3, -3), 0));
    CHECK(unary_f("Sign", NULL, 0, 4, F(-3, 0, 2, NAN), DB(-1, 0, 1, NAN), 0));
    CHECK(unary_f("Reciprocal", NULL, 0, 3, F(4, -0.5f, 0), DB(0.25, -2, INFINITY), 0));
    CHECK(unary_f("Sin", NULL, 0, 2, F(0, (float)M_PI_2), DB(0, 1), 1e-7));
    CHECK(unary_f("Cos", NULL, 0, 2, F(0, (float)M_PI), DB(1, -1), 1e-7));
    CHECK(unary_f("Identity", NULL, 0, 2, F(-7, NAN), DB(-7, NAN), 0));

    /* IsNaN / IsInf -> bool */
    vx_tensor *in[3] = {mk(VX_FLOAT, 1, D(4), F(NAN, 1, INFINITY, -INFINITY))};
    CHECK_EQ_INT(run("IsNaN", NULL, 0, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(1, 0, 0, 0)));
    CHECK_EQ_INT(run("IsInf", NULL, 0, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(0, 0, 1, 1)));
    a[0] = attr_i("detect_negative", 0);
    CHECK_EQ_INT(run("IsInf", a, 1, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(0, 0, 1, 0)));
    a[0] = attr_i("detect_positive", 0);
    CHECK_EQ_INT(run("IsInf", a, 1, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(0, 0, 0, 1)));

    /* integer unary ops */
    in[0] = mk(VX_INT64, 1, D(4), L(-5, 0, 7, INT64_MIN));
    CHECK_EQ_INT(run("Neg", NULL, 0, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(4), L(5, 0, -7, INT64_MIN)));
    CHECK_EQ_INT(run("Abs", NULL, 0, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(4), L(5, 0, 7, INT64_MIN)));
    CHECK_EQ_INT(run("Sign", NULL, 0, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(4), L(-1, 0, 1, -1)));
    CHECK_EQ_INT(run("Relu", NULL, 0, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(4), L(0, 0, 7, 0)));
    CHECK_EQ_INT(run("Identity", NULL, 0, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(4), L(-5, 0, 7, INT64_MIN)));
    CHECK_EQ_INT(run("Exp", NULL, 0, in, 1, out, 1), VOX_ERR_UNSUPPORTED);
    CHECK(strstr(errbuf, "int64") != NULL);
    in[0] = mk(VX_INT32, 1, D(2), I32(INT32_MIN, -3));
    CHECK_EQ_INT(run("Neg", NULL, 0, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT32, 1, D(2), L(INT32_MIN, 3)));

    /* double precision paths */
    in[0] = mk(VX_DOUBLE, 1, D(3), DB(1, -1, 0.5));
    CHECK_EQ_INT(run("Exp", NULL, 0, in, 1, out, 1), 0);
    CHECK(vals_near(&out[0], VX_DOUBLE, 1, D(3), DB(M_E, 1 / M_E, 1.6487212707001282), 1e-15));
    CHECK_EQ_INT(run("Sigmoid", NULL, 0, in, 1, out, 1), 0);
    CHECK(vals_near(&out[0], VX_DOUBLE, 1, D(3),
                    DB(0.7310585786300049, 0.2689414213699951, 0.6224593312018546), 1e-15));

    /* scalar and empty inputs */
    in[0] = mk(VX_FLOAT, 0, NULL, F(-4));
    CHECK_EQ_INT(run("Abs", NULL, 0, in, 1, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 0, NULL, DB(4), 0));
    in[0] = mk(VX_FLOAT, 3, D(2, 0, 5), NULL);
    CHECK_EQ_INT(run("Tanh", NULL, 0, in, 1, out, 1), 0);
    CHECK(same_shape(&out[0], 3, D(2, 0, 5)));
    CHECK_EQ_INT(run("Identity", NULL, 0, in, 1, out, 1), 0);
    CHECK_EQ_INT(out[0].numel, 0);

    /* Dropout: identity + optional all-true mask; training refused */
    in[0] = mk(VX_FLOAT, 2, D(1, 3), F(1, -2, 3));
    CHECK_EQ_INT(run("Dropout", NULL, 0, in, 1, out, 2), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 2, D(1, 3), DB(1, -2, 3), 0));
    CHECK(vals_i64(&out[1], VX_BOOL, 2, D(1, 3), L(1, 1, 1)));
    in[1] = mk(VX_FLOAT, 0, NULL, F(0.5f));
    in[2] = mk(VX_BOOL, 0, NULL, B(0));
    CHECK_EQ_INT(run("Dropout", NULL, 0, in, 3, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 2, D(1, 3), DB(1, -2, 3), 0));
    in[2] = mk(VX_BOOL, 0, NULL, B(1));
    CHECK_EQ_INT(run("Dropout", NULL, 0, in, 3, out, 1), VOX_ERR_UNSUPPORTED);
    pool_reset();
}

static void test_clip(void) {
    vx_tensor *in[3];
    in[0] = mk(VX_FLOAT, 1, D(5), F(-5, -1, 0, 1, 5));
    in[1] = mk(VX_FLOAT, 0, NULL, F(-2));
    in[2] = mk(VX_FLOAT, 0, NULL, F(3));
    CHECK_EQ_INT(run("Clip", NULL, 0, in, 3, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(5), DB(-2, -1, 0, 1, 3), 0));
    vx_tensor *only_max[3] = {in[0], NULL, in[2]};
    CHECK_EQ_INT(run("Clip", NULL, 0, only_max, 3, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(5), DB(-5, -1, 0, 1, 3), 0));
    CHECK_EQ_INT(run("Clip", NULL, 0, in, 2, out, 1), 0); /* min only */
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(5), DB(-2, -1, 0, 1, 5), 0));
    CHECK_EQ_INT(run("Clip", NULL, 0, in, 1, out, 1), 0); /* neither */
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(5), DB(-5, -1, 0, 1, 5), 0));
    vx_tensor *swapped[3] = {in[0], in[2], in[1]}; /* min > max -> max */
    CHECK_EQ_INT(run("Clip", NULL, 0, swapped, 3, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(5), DB(-2, -2, -2, -2, -2), 0));
    /* int64 (opset 12+) */
    in[0] = mk(VX_INT64, 1, D(3), L(INT64_MIN, 5, INT64_MAX));
    in[1] = mk(VX_INT64, 1, D(1), L(-10));
    CHECK_EQ_INT(run("Clip", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(3), L(-10, 5, INT64_MAX)));
    /* errors: dtype mismatch, non-scalar bound */
    CHECK_EQ_INT(run("Clip", NULL, 0, (vx_tensor *[]){in[0], in[2]}, 2, out, 1), VOX_ERR_MODEL);
    in[1] = mk(VX_INT64, 1, D(2), L(1, 2));
    CHECK_EQ_INT(run("Clip", NULL, 0, in, 2, out, 1), VOX_ERR_MODEL);
    CHECK(strstr(errbuf, "scalar") != NULL);
    /* opset 6: bounds are attributes */
    vx_attr a[2] = {attr_f("min", -1), attr_f("max", 0.5f)};
    ctx.opset = 6;
    in[0] = mk(VX_FLOAT, 1, D(3), F(-3, 0.25f, 3));
    CHECK_EQ_INT(run("Clip", a, 2, in, 1, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(3), DB(-1, 0.25, 0.5), 0));
    CHECK_EQ_INT(run("Clip", a + 1, 1, in, 1, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(3), DB(-3, 0.25, 0.5), 0));
    ctx.opset = 17;
    pool_reset();
}

static uint16_t f16bits(const vx_tensor *t, int64_t i) { return ((const uint16_t *)t->data)[i]; }

static void test_cast(void) {
    vx_tensor *in[2];
    vx_attr to;
    in[0] = mk(VX_FLOAT, 1, D(5), F(1.9f, -1.9f, 2.5f, -0.0f, 1e10f));
    to = attr_i("to", VX_INT32);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT32, 1, D(5), L(1, -1, 2, 0, INT32_MIN)));
    to = attr_i("to", VX_INT64);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(5), L(1, -1, 2, 0, 10000000000LL)));
    in[0] = mk(VX_FLOAT, 1, D(4), F(0, 0.5f, -0.0f, NAN));
    to = attr_i("to", VX_BOOL);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_BOOL, 1, D(4), L(0, 1, 0, 1)));
    to = attr_i("to", VX_INT64);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(4), L(0, 0, 0, INT64_MIN)));
    /* bool -> float, int64 -> float/int32/uint8, double -> float */
    in[0] = mk(VX_BOOL, 1, D(3), B(1, 0, 1));
    to = attr_i("to", VX_FLOAT);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(3), DB(1, 0, 1), 0));
    in[0] = mk(VX_INT64, 1, D(4), L(4294967297LL, -1, 16777217, 300));
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(4), DB(4294967296.0, -1, 16777216, 300), 0));
    to = attr_i("to", VX_INT32);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT32, 1, D(4), L(1, -1, 16777217, 300)));
    to = attr_i("to", VX_UINT8);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_UINT8, 1, D(4), L(1, 255, 1, 44)));
    to = attr_i("to", VX_DOUBLE);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(vals_near(&out[0], VX_DOUBLE, 1, D(4), DB(4294967297.0, -1, 16777217, 300), 0));
    in[0] = mk(VX_DOUBLE, 1, D(2), DB(0.1, 1e300));
    to = attr_i("to", VX_FLOAT);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(2), DB((double)0.1f, INFINITY), 0));
    /* float -> double -> float round trip is exact */
    float rt[5] = {0.1f, -3.4e38f, 1e-45f, 123.456f, -0.0f};
    in[0] = mk(VX_FLOAT, 1, D(5), rt);
    to = attr_i("to", VX_DOUBLE);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    vx_tensor mid = {0};
    vx_tensor_copy(&mid, &out[0]);
    vx_tensor *in2[1] = {&mid};
    to = attr_i("to", VX_FLOAT);
    CHECK_EQ_INT(run("Cast", &to, 1, in2, 1, out, 1), 0);
    CHECK(!memcmp(out[0].data, rt, sizeof rt));
    vx_tensor_release(&mid);

    /* float16: known encodings */
    in[0] =
        mk(VX_FLOAT, 1, D(10),
           F(1, -2, 65504, 65520, 1e-8f, 5.9604645e-8f, 0.1f, 6.1035156e-5f, INFINITY, 0.333333f));
    to = attr_i("to", VX_FLOAT16);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK_EQ_INT(out[0].dtype, VX_FLOAT16);
    uint16_t want[10] = {0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0000,
                         0x0001, 0x2e66, 0x0400, 0x7c00, 0x3555};
    int ok = 1;
    for (int i = 0; i < 10; i++)
        if (f16bits(&out[0], i) != want[i]) {
            ok = 0;
            fprintf(stderr, "  f16[%d] = %04x want %04x\n", i, f16bits(&out[0], i), want[i]);
        }
    CHECK(ok);
    in[0] = mk(VX_FLOAT, 1, D(1), F(NAN));
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK((f16bits(&out[0], 0) & 0x7c00) == 0x7c00 && (f16bits(&out[0], 0) & 0x3ff));
    /* float16 -> float and -> int64 */
    in[0] = mk(VX_FLOAT16, 1, D(5), ((const uint16_t[]){0x3555, 0xc000, 0x0001, 0xfc00, 0x4b00}));
    to = attr_i("to", VX_FLOAT);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(5),
                    DB(0.333251953125, -2, 5.9604644775390625e-8, -INFINITY, 14), 0));
    to = attr_i("to", VX_INT64);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 1, D(5), L(0, -2, 0, INT64_MIN, 14)));
    /* every non-NaN half survives half -> float -> half */
    ok = 1;
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;
        if (vx_f32_to_f16(vx_f16_to_f32((uint16_t)h)) != h) {
            ok = 0;
            break;
        }
    }
    CHECK(ok);
    /* rounding is to nearest even: halfway between 1 and 1+2^-10 goes to 1; 3 ulp/2 up */
    CHECK_EQ_INT(vx_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);
    CHECK_EQ_INT(vx_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);
    CHECK_EQ_INT(vx_f32_to_f16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
#ifdef __FLT16_MAX__
    /* the compiler's own conversion as an independent reference */
    ok = 1;
    uint32_t s = 12345;
    for (int i = 0; i < 200000 && ok; i++) {
        s = s * 1664525u + 1013904223u;
        uint32_t bits = (s & 0x807fffffu) | ((s % 50u + 98u) << 23); /* around half's range */
        float f;
        memcpy(&f, &bits, 4);
        _Float16 r = (_Float16)f;
        uint16_t rb;
        memcpy(&rb, &r, 2);
        if (vx_f32_to_f16(f) != rb) {
            ok = 0;
            fprintf(stderr, "  f16(%a) mismatch\n", f);
        }
    }
    CHECK(ok);
#endif

    /* CastLike takes the dtype of its second input */
    in[0] = mk(VX_INT64, 1, D(2), L(3, -4));
    in[1] = mk(VX_FLOAT, 0, NULL, F(0));
    CHECK_EQ_INT(run("CastLike", NULL, 0, in, 2, out, 1), 0);
    CHECK(vals_near(&out[0], VX_FLOAT, 1, D(2), DB(3, -4), 0));
    /* empty and scalar casts */
    in[0] = mk(VX_FLOAT, 2, D(0, 4), NULL);
    to = attr_i("to", VX_INT64);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(same_shape(&out[0], 2, D(0, 4)));
    in[0] = mk(VX_INT32, 0, NULL, I32(-7));
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), 0);
    CHECK(vals_i64(&out[0], VX_INT64, 0, NULL, L(-7)));
    /* errors: missing 'to', string target */
    CHECK_EQ_INT(run("Cast", NULL, 0, in, 1, out, 1), VOX_ERR_MODEL);
    CHECK(strstr(errbuf, "'to'") != NULL);
    to = attr_i("to", VX_STRING);
    CHECK_EQ_INT(run("Cast", &to, 1, in, 1, out, 1), VOX_ERR_UNSUPPORTED);
    CHECK(strstr(errbuf, "string") != NULL);
    pool_reset();
}

static void test_errors(void) {
    vx_tensor *in[2];
    in[0] = mk(VX_FLOAT, 1, D(3), F(1, 2, 3));
    in[1] = mk(VX_FLOAT, 1, D(4), F(1, 2, 3, 4));
    CHECK_EQ_INT(run("Add", NULL, 0, in, 2, out, 1), VOX_ERR_MODEL);
    CHECK(strstr(errbuf, "Add 'n1'") != NULL);
    CHECK(strstr(errbuf, "[3] and [4] cannot be broadcast") != NULL);
    in[1] = mk(VX_INT64, 1, D(3), L(1, 2, 3));
    CHECK_EQ_INT(run("Mul", NULL, 0, in, 2, out, 1), VOX_ERR_MODEL);
    CHECK(strstr(errbuf, "float") && strstr(errbuf, "int64"));
    in[0] = mk(VX_FLOAT16, 1, D(1), ((const uint16_t[]){0x3c00}));
    in[1] = mk(VX_FLOAT16, 1, D(1), ((const uint16_t[]){0x3c00}));
    CHECK_EQ_INT(run("Add", NULL, 0, in, 2, out, 1), VOX_ERR_UNSUPPORTED);
    CHECK(strstr(errbuf, "float16") != NULL);
    in[0] = mk(VX_BOOL, 1, D(1), B(1));
    CHECK_EQ_INT(run("Sigmoid", NULL, 0, in, 1, out, 1), VOX_ERR_UNSUPPORTED);
    CHECK(strstr(errbuf, "bool") != NULL);
    /* missing inputs */
    CHECK_EQ_INT(run("Add", NULL, 0, in, 1, out, 1), VOX_ERR_MODEL);
    vx_tensor *hole[2] = {in[0], NULL};
    CHECK_EQ_INT(run("Sub", NULL, 0, hole, 2, out, 1), VOX_ERR_MODEL);
    CHECK_EQ_INT(run("Relu", NULL, 0, in, 0, out, 1), VOX_ERR_MODEL);
    CHECK_EQ_INT(run("Relu", NULL, 0, in, 1, out, 0), VOX_ERR_MODEL);
    pool_reset();
}

int main(void) {
    test_broadcast_add();
    test_arith();
    test_mod_pow();
    test_variadic();
    test_compare_logic();
    test_prelu_where();
    test_unary();
    test_clip();
    test_cast();
    test_errors();
    for (int i = 0; i < 2; i++) vx_tensor_release(&out[i]);
    TEST_SUMMARY();
}

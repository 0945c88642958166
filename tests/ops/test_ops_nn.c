/* Op-level checks of the nn family through the op registry: hand-computed cases for each
 * attribute, ONNX backend-test values, N-D comparisons with naive loops written here, and
 * error cases that must fail with a clear message instead of crashing. */
#include "test.h"
#include "ops/nn_internal.h"
#include "ops/op.h"
#include "vox.h"
#include <stdint.h>

static char errbuf[512];

/* ------------------------------------------------------------------ helpers */

#define MAXA 8
typedef struct nodebuf {
    vx_attr attrs[MAXA];
    int n;
    const char *outs[3];
    vx_node node;
} nodebuf;

static void nb_init(nodebuf *b, const char *op) {
    memset(b, 0, sizeof *b);
    b->outs[0] = "Y";
    b->outs[1] = "Y1";
    b->outs[2] = "Y2";
    b->node.name = "t";
    b->node.op_type = op;
    b->node.domain = "";
    b->node.n_outputs = 3;
    b->node.outputs = b->outs;
}
static void a_int(nodebuf *b, const char *name, int64_t v) {
    vx_attr *a = &b->attrs[b->n++];
    a->name = name;
    a->type = VX_ATTR_INT;
    a->i = v;
}
static void a_float(nodebuf *b, const char *name, float v) {
    vx_attr *a = &b->attrs[b->n++];
    a->name = name;
    a->type = VX_ATTR_FLOAT;
    a->f = v;
}
static void a_str(nodebuf *b, const char *name, const char *s) {
    vx_attr *a = &b->attrs[b->n++];
    a->name = name;
    a->type = VX_ATTR_STRING;
    a->s = s;
    a->s_len = strlen(s);
}
static void a_ints(nodebuf *b, const char *name, const int64_t *v, int n) {
    vx_attr *a = &b->attrs[b->n++];
    a->name = name;
    a->type = VX_ATTR_INTS;
    a->ints = v;
    a->n = n;
}

static vx_tensor mk(int dtype, int ndim, const int64_t *dims, const void *data) {
    vx_tensor t = {0};
    if (vx_tensor_alloc(&t, dtype, ndim, dims)) {
        fprintf(stderr, "alloc failed\n");
        exit(2);
    }
    if (data && t.numel) memcpy(t.data, data, vx_tensor_bytes(&t));
    return t;
}
static vx_tensor mkf(int ndim, const int64_t *dims, const float *data) {
    return mk(VX_FLOAT, ndim, dims, data);
}

/* The thread pool and count run() hands the kernels (NULL / 1: single thread). */
static vx_tpool *run_pool;
static int run_threads = 1;

/* Runs op with inputs (NULL entries = omitted); returns the code; outputs in out[]. */
static int run(nodebuf *b, int64_t opset, vx_tensor **in, int n_in, vx_tensor *out, int n_out) {
    b->node.attrs = b->attrs;
    b->node.n_attrs = b->n;
    b->node.n_inputs = n_in;
    const vx_op_def *d = vx_op_find(b->node.op_type);
    if (!d) {
        fprintf(stderr, "op %s not registered\n", b->node.op_type);
        return -999;
    }
    vx_op_ctx ctx = {.opset = opset,
                     .threads = run_threads,
                     .pool = run_pool,
                     .err = errbuf,
                     .errlen = sizeof errbuf};
    errbuf[0] = 0;
    for (int i = 0; i < n_out; i++) memset(&out[i], 0, sizeof out[i]);
    int rc = d->fn(&ctx, &b->node, (vx_tensor *const *)in, n_in, out, n_out);
    if (rc) CHECKF(errbuf[0] != 0, "no error message for %s", b->node.op_type);
    return rc;
}

static void check_vals(const vx_tensor *t, const float *want, int64_t n, double tol,
                       const char *what) {
    CHECKF(t->numel == n, "%s: numel %lld != %lld", what, (long long)t->numel, (long long)n);
    if (t->numel != n) return;
    const float *v = t->data;
    for (int64_t i = 0; i < n; i++)
        CHECKF(fabs(v[i] - want[i]) <= tol * (1 + fabs(want[i])), "%s[%lld]: %.7g vs %.7g", what,
               (long long)i, v[i], want[i]);
}
static void check_dims(const vx_tensor *t, int ndim, const int64_t *dims, const char *what) {
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->dims[i] == dims[i];
    CHECKF(ok, "%s: wrong shape (ndim %d)", what, t->ndim);
}
static void rel(vx_tensor *t, int n) {
    for (int i = 0; i < n; i++) vx_tensor_release(&t[i]);
}

static uint64_t rs = 0x9E3779B97F4A7C15ULL;
static float rf(void) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((double)(rs >> 11) / 9007199254740992.0 * 2 - 1);
}
static int64_t ri(int64_t lo, int64_t hi) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return lo + (int64_t)((rs >> 33) % (uint64_t)(hi - lo + 1));
}
static void fill(vx_tensor *t) {
    float *p = t->data;
    for (int64_t i = 0; i < t->numel; i++) p[i] = rf();
}

/* --------------------------------------------------------------------- Conv */

static void test_conv_1d_hand(void) {
    nodebuf b;
    vx_tensor o[1];
    int64_t xd[3] = {1, 1, 5}, wd[3] = {1, 1, 3};
    float xv[5] = {1, 2, 3, 4, 5}, wv[3] = {1, 0, -1};
    vx_tensor x = mkf(3, xd, xv), w = mkf(3, wd, wv);
    vx_tensor *in[3] = {&x, &w, NULL};
    /* pads 1,1: y[t] = x[t-1] - x[t+1] */
    static const int64_t p11[2] = {1, 1};
    nb_init(&b, "Conv");
    a_ints(&b, "pads", p11, 2);
    CHECK_EQ_INT(run(&b, 13, in, 3, o, 1), 0);
    {
        float want[5] = {-2, -2, -2, -2, 4};
        check_vals(&o[0], want, 5, 0, "conv pads");
    }
    int64_t od[3] = {1, 1, 5};
    check_dims(&o[0], 3, od, "conv pads");
    rel(o, 1);
    /* no pads, 2 inputs only */
    nb_init(&b, "Conv");
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    {
        float want[3] = {-2, -2, -2};
        check_vals(&o[0], want, 3, 0, "conv valid");
    }
    rel(o, 1);
    /* SAME_UPPER with k=2: total pad 1 goes to the end: y[t] = x[t] + 10 x[t+1] */
    float w2v[2] = {1, 10};
    int64_t w2d[3] = {1, 1, 2};
    vx_tensor w2 = mkf(3, w2d, w2v);
    vx_tensor *in2[2] = {&x, &w2};
    nb_init(&b, "Conv");
    a_str(&b, "auto_pad", "SAME_UPPER");
    CHECK_EQ_INT(run(&b, 13, in2, 2, o, 1), 0);
    {
        float want[5] = {21, 32, 43, 54, 5};
        check_vals(&o[0], want, 5, 0, "conv SAME_UPPER");
    }
    rel(o, 1);
    nb_init(&b, "Conv");
    a_str(&b, "auto_pad", "SAME_LOWER");
    CHECK_EQ_INT(run(&b, 13, in2, 2, o, 1), 0);
    {
        float want[5] = {10, 21, 32, 43, 54};
        check_vals(&o[0], want, 5, 0, "conv SAME_LOWER");
    }
    rel(o, 1);
    /* SAME_UPPER with stride 2 on 5 samples, k=2: out 3, total pad 1 at the end */
    static const int64_t s2[1] = {2};
    nb_init(&b, "Conv");
    a_str(&b, "auto_pad", "SAME_UPPER");
    a_ints(&b, "strides", s2, 1);
    CHECK_EQ_INT(run(&b, 13, in2, 2, o, 1), 0);
    {
        float want[3] = {21, 43, 5};
        check_vals(&o[0], want, 3, 0, "conv SAME_UPPER s2");
    }
    rel(o, 1);
    nb_init(&b, "Conv");
    a_str(&b, "auto_pad", "VALID");
    a_ints(&b, "strides", s2, 1);
    CHECK_EQ_INT(run(&b, 13, in2, 2, o, 1), 0);
    {
        float want[2] = {21, 43};
        check_vals(&o[0], want, 2, 0, "conv VALID s2");
    }
    rel(o, 1);
    /* stride 2, dilation 2 on 0..9 with w = [1, 1]: y[t] = x[2t] + x[2t+2] */
    float x10[10];
    for (int i = 0; i < 10; i++) x10[i] = (float)i;
    int64_t x10d[3] = {1, 1, 10};
    vx_tensor xx = mkf(3, x10d, x10);
    float w11[2] = {1, 1};
    vx_tensor w3 = mkf(3, w2d, w11);
    vx_tensor *in3[2] = {&xx, &w3};
    static const int64_t d2[1] = {2};
    nb_init(&b, "Conv");
    a_ints(&b, "strides", s2, 1);
    a_ints(&b, "dilations", d2, 1);
    CHECK_EQ_INT(run(&b, 13, in3, 2, o, 1), 0);
    {
        float want[4] = {2, 6, 10, 14};
        check_vals(&o[0], want, 4, 0, "conv stride+dilation");
    }
    rel(o, 1);
    vx_tensor_release(&x);
    vx_tensor_release(&w);
    vx_tensor_release(&w2);
    vx_tensor_release(&xx);
    vx_tensor_release(&w3);
}

static void test_conv_groups_hand(void) {
    nodebuf b;
    vx_tensor o[1];
    /* C=4, group=2, M=2, k=1: y0 = x0 + 2 x1, y1 = 3 x2 + 4 x3 */
    int64_t xd[3] = {1, 4, 2}, wd[3] = {2, 2, 1};
    float xv[8] = {1, 2, 10, 20, 100, 200, 1000, 2000}, wv[4] = {1, 2, 3, 4};
    vx_tensor x = mkf(3, xd, xv), w = mkf(3, wd, wv);
    vx_tensor *in[2] = {&x, &w};
    nb_init(&b, "Conv");
    a_int(&b, "group", 2);
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    {
        float want[4] = {21, 42, 4300, 8600};
        check_vals(&o[0], want, 4, 0, "conv group 2");
    }
    rel(o, 1);
    /* depthwise with bias and padding: C=M=group=3, k=2, pads [1,0] */
    int64_t xd2[3] = {1, 3, 3}, wd2[3] = {3, 1, 2}, bd[1] = {3};
    float xv2[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, wv2[6] = {1, 1, 2, 0, 0, -1}, bv[3] = {10, 20, 30};
    vx_tensor x2 = mkf(3, xd2, xv2), w2 = mkf(3, wd2, wv2), bias = mkf(1, bd, bv);
    vx_tensor *in2[3] = {&x2, &w2, &bias};
    static const int64_t p10[2] = {1, 0};
    nb_init(&b, "Conv");
    a_int(&b, "group", 3);
    a_ints(&b, "pads", p10, 2);
    CHECK_EQ_INT(run(&b, 13, in2, 3, o, 1), 0);
    /* ch0: y[t] = x[t-1] + x[t] + 10; ch1: 2 x[t-1] + 20; ch2: -x[t] + 30 */
    {
        float want[9] = {11, 13, 15, 20, 28, 30, 23, 22, 21};
        check_vals(&o[0], want, 9, 0, "conv depthwise");
    }
    rel(o, 1);
    vx_tensor_release(&x);
    vx_tensor_release(&w);
    vx_tensor_release(&x2);
    vx_tensor_release(&w2);
    vx_tensor_release(&bias);
}

static void test_conv_2d_onnx(void) {
    /* ONNX backend tests test_basic_conv_with_padding / _without_padding / strides */
    nodebuf b;
    vx_tensor o[1];
    float xv[35];
    for (int i = 0; i < 35; i++) xv[i] = (float)i;
    float ones[9];
    for (int i = 0; i < 9; i++) ones[i] = 1;
    int64_t xd[4] = {1, 1, 5, 5}, wd[4] = {1, 1, 3, 3};
    vx_tensor x = mkf(4, xd, xv), w = mkf(4, wd, ones);
    vx_tensor *in[2] = {&x, &w};
    static const int64_t p1[4] = {1, 1, 1, 1}, ks[2] = {3, 3}, s2[2] = {2, 2};
    nb_init(&b, "Conv");
    a_ints(&b, "pads", p1, 4);
    a_ints(&b, "kernel_shape", ks, 2);
    CHECK_EQ_INT(run(&b, 11, in, 2, o, 1), 0);
    {
        float want[25] = {12,  21, 27, 33,  24,  33,  54,  63, 72,  51,  63,  99, 108,
                          117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84};
        check_vals(&o[0], want, 25, 0, "conv2d pad");
    }
    rel(o, 1);
    nb_init(&b, "Conv");
    CHECK_EQ_INT(run(&b, 11, in, 2, o, 1), 0);
    {
        float want[9] = {54, 63, 72, 99, 108, 117, 144, 153, 162};
        check_vals(&o[0], want, 9, 0, "conv2d nopad");
    }
    rel(o, 1);
    int64_t xd7[4] = {1, 1, 7, 5};
    vx_tensor x7 = mkf(4, xd7, xv);
    vx_tensor *in7[2] = {&x7, &w};
    nb_init(&b, "Conv");
    a_ints(&b, "pads", p1, 4);
    a_ints(&b, "strides", s2, 2);
    CHECK_EQ_INT(run(&b, 11, in7, 2, o, 1), 0);
    {
        float want[12] = {12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124};
        check_vals(&o[0], want, 12, 0, "conv2d strides");
        int64_t od[4] = {1, 1, 4, 3};
        check_dims(&o[0], 4, od, "conv2d strides");
    }
    rel(o, 1);
    vx_tensor_release(&x);
    vx_tensor_release(&w);
    vx_tensor_release(&x7);
}

/* naive N-D conv (nsp = 1..3) on [N, C, ...] for random comparisons */
static void naive_conv_nd(const vx_tensor *x, const vx_tensor *w, const float *bias, int64_t group,
                          const int64_t *s, const int64_t *d, const int64_t *pb, const vx_tensor *y,
                          double *out) {
    int nsp = x->ndim - 2;
    int64_t n = x->dims[0], c = x->dims[1], m = y->dims[1], cig = c / group, cog = m / group;
    int64_t O[3] = {1, 1, 1}, I[3] = {1, 1, 1}, K[3] = {1, 1, 1}, S[3] = {1, 1, 1},
            D[3] = {1, 1, 1}, P[3] = {0, 0, 0};
    for (int i = 0; i < nsp; i++) {
        O[i] = y->dims[2 + i];
        I[i] = x->dims[2 + i];
        K[i] = w->dims[2 + i];
        S[i] = s[i];
        D[i] = d[i];
        P[i] = pb[i];
    }
    const float *xv = x->data, *wv = w->data;
    int64_t il = I[0] * I[1] * I[2], ol = O[0] * O[1] * O[2], kl = K[0] * K[1] * K[2];
    for (int64_t b = 0; b < n; b++)
        for (int64_t co = 0; co < m; co++)
            for (int64_t o0 = 0; o0 < O[0]; o0++)
                for (int64_t o1 = 0; o1 < O[1]; o1++)
                    for (int64_t o2 = 0; o2 < O[2]; o2++) {
                        double acc = bias ? bias[co] : 0;
                        for (int64_t ci = 0; ci < cig; ci++)
                            for (int64_t k0 = 0; k0 < K[0]; k0++)
                                for (int64_t k1 = 0; k1 < K[1]; k1++)
                                    for (int64_t k2 = 0; k2 < K[2]; k2++) {
                                        int64_t i0 = o0 * S[0] + k0 * D[0] - P[0],
                                                i1 = o1 * S[1] + k1 * D[1] - P[1],
                                                i2 = o2 * S[2] + k2 * D[2] - P[2];
                                        if (i0 < 0 || i0 >= I[0] || i1 < 0 || i1 >= I[1] ||
                                            i2 < 0 || i2 >= I[2])
                                            continue;
                                        acc += (double)wv[(co * cig + ci) * kl +
                                                          (k0 * K[1] + k1) * K[2] + k2] *
                                               xv[(b * c + (co / cog) * cig + ci) * il +
                                                  (i0 * I[1] + i1) * I[2] + i2];
                                    }
                        out[(b * m + co) * ol + (o0 * O[1] + o1) * O[2] + o2] = acc;
                    }
}

static void test_conv_random_nd(void) {
    for (int rep = 0; rep < 60; rep++) {
        int nsp = 1 + rep % 3;
        int64_t group = ri(1, 3), cig = ri(1, 5), cog = ri(1, 6), n = ri(1, 2);
        int64_t xd[5] = {n, cig * group}, wd[5] = {cog * group, cig};
        int64_t s[3], d[3], pads[6], pb[3];
        for (int i = 0; i < nsp; i++) {
            wd[2 + i] = ri(1, nsp == 1 ? 7 : 3);
            s[i] = ri(1, 3);
            d[i] = ri(1, 2);
            pads[i] = ri(0, 2);
            pads[nsp + i] = ri(0, 2);
            int64_t dk = (wd[2 + i] - 1) * d[i] + 1;
            xd[2 + i] = ri(dk > 2 ? dk - 2 : 1, nsp == 1 ? 40 : 9);
            if (xd[2 + i] + pads[i] + pads[nsp + i] < dk) xd[2 + i] = dk;
            pb[i] = pads[i];
        }
        vx_tensor x = mkf(2 + nsp, xd, NULL), w = mkf(2 + nsp, wd, NULL);
        int64_t bd[1] = {cog * group};
        vx_tensor bias = mkf(1, bd, NULL);
        fill(&x);
        fill(&w);
        fill(&bias);
        vx_tensor *in[3] = {&x, &w, &bias};
        nodebuf b;
        vx_tensor o[1];
        nb_init(&b, "Conv");
        a_int(&b, "group", group);
        a_ints(&b, "strides", s, nsp);
        a_ints(&b, "dilations", d, nsp);
        a_ints(&b, "pads", pads, 2 * nsp);
        int use_b = rep & 1;
        int rc = run(&b, 13, in, use_b ? 3 : 2, o, 1);
        CHECKF(rc == 0, "conv nd rep %d: %s", rep, errbuf);
        if (rc) continue;
        int ok = o[0].ndim == 2 + nsp && o[0].dims[1] == cog * group;
        for (int i = 0; ok && i < nsp; i++)
            ok = o[0].dims[2 + i] ==
                 (xd[2 + i] + pads[i] + pads[nsp + i] - ((wd[2 + i] - 1) * d[i] + 1)) / s[i] + 1;
        CHECKF(ok, "conv nd rep %d: output shape", rep);
        if (ok) {
            double *ref = malloc((size_t)o[0].numel * sizeof *ref);
            naive_conv_nd(&x, &w, use_b ? bias.data : NULL, group, s, d, pb, &o[0], ref);
            double e = 0;
            for (int64_t i = 0; i < o[0].numel; i++)
                e = fmax(e, fabs(((float *)o[0].data)[i] - ref[i]));
            CHECKF(e < 1e-4, "conv nd rep %d (nsp %d) err %g", rep, nsp, e);
            free(ref);
        }
        rel(o, 1);
        vx_tensor_release(&x);
        vx_tensor_release(&w);
        vx_tensor_release(&bias);
    }
}

static void test_conv_errors(void) {
    nodebuf b;
    vx_tensor o[1];
    int64_t xd[3] = {1, 4, 6}, wd[3] = {2, 3, 3}, wd2[3] = {3, 2, 3}, bd[1] = {5};
    vx_tensor x = mkf(3, xd, NULL), w = mkf(3, wd, NULL), w2 = mkf(3, wd2, NULL),
              bias = mkf(1, bd, NULL);
    vx_tensor *in[2] = {&x, &w};
    nb_init(&b, "Conv");
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), VOX_ERR_MODEL); /* 4 channels vs W's 3 */
    CHECK(strstr(errbuf, "channel") != NULL);
    vx_tensor *in2[2] = {&x, &w2};
    nb_init(&b, "Conv");
    a_int(&b, "group", 2);
    CHECK_EQ_INT(run(&b, 13, in2, 2, o, 1), VOX_ERR_MODEL); /* 3 outputs not divisible by 2 */
    nb_init(&b, "Conv");
    a_int(&b, "group", 0);
    CHECK_EQ_INT(run(&b, 13, in2, 2, o, 1), VOX_ERR_MODEL);
    nb_init(&b, "Conv");
    a_int(&b, "group", 3);
    CHECK_EQ_INT(run(&b, 13, in2, 2, o, 1), VOX_ERR_MODEL); /* 4 channels, group 3 */
    static const int64_t wd_ok[3] = {2, 4, 3};
    vx_tensor w3 = mkf(3, wd_ok, NULL);
    vx_tensor *in3[3] = {&x, &w3, &bias};
    nb_init(&b, "Conv");
    CHECK_EQ_INT(run(&b, 13, in3, 3, o, 1), VOX_ERR_MODEL); /* bias length 5 vs 2 */
    nb_init(&b, "Conv");
    a_str(&b, "auto_pad", "SIDEWAYS");
    CHECK_EQ_INT(run(&b, 13, in3, 2, o, 1), VOX_ERR_MODEL);
    CHECK(strstr(errbuf, "SIDEWAYS") != NULL);
    static const int64_t ks[1] = {5}, st0[1] = {0}, pads3[3] = {1, 1, 1}, dil[1] = {4};
    nb_init(&b, "Conv");
    a_ints(&b, "kernel_shape", ks, 1);
    CHECK_EQ_INT(run(&b, 13, in3, 2, o, 1), VOX_ERR_MODEL);
    nb_init(&b, "Conv");
    a_ints(&b, "strides", st0, 1);
    CHECK_EQ_INT(run(&b, 13, in3, 2, o, 1), VOX_ERR_MODEL);
    nb_init(&b, "Conv");
    a_ints(&b, "pads", pads3, 3);
    CHECK_EQ_INT(run(&b, 13, in3, 2, o, 1), VOX_ERR_MODEL);
    nb_init(&b, "Conv");
    a_ints(&b, "dilations", dil, 1); /* extent 9 > 6 samples */
    CHECK_EQ_INT(run(&b, 13, in3, 2, o, 1), VOX_ERR_MODEL);
    int64_t xd2[2] = {4, 6};
    vx_tensor x2 = mkf(2, xd2, NULL);
    vx_tensor *in4[2] = {&x2, &w3};
    nb_init(&b, "Conv");
    CHECK_EQ_INT(run(&b, 13, in4, 2, o, 1), VOX_ERR_MODEL); /* rank 2 */
    vx_tensor xi = mk(VX_INT64, 3, xd, NULL);
    vx_tensor *in5[2] = {&xi, &w3};
    nb_init(&b, "Conv");
    CHECK_EQ_INT(run(&b, 13, in5, 2, o, 1), VOX_ERR_UNSUPPORTED);
    vx_tensor *in6[2] = {&x, NULL};
    nb_init(&b, "Conv");
    CHECK(run(&b, 13, in6, 2, o, 1) < 0);
    vx_tensor_release(&x);
    vx_tensor_release(&w);
    vx_tensor_release(&w2);
    vx_tensor_release(&w3);
    vx_tensor_release(&bias);
    vx_tensor_release(&x2);
    vx_tensor_release(&xi);
}

/* ------------------------------------------------------------ ConvTranspose */

static void naive_convtr_nd(const vx_tensor *x, const vx_tensor *w, const float *bias,
                            int64_t group, const int64_t *s, const int64_t *d, const int64_t *pb,
                            const vx_tensor *y, double *out) {
    int nsp = x->ndim - 2;
    int64_t n = x->dims[0], c = x->dims[1], m = y->dims[1], cig = c / group, cog = m / group;
    int64_t O[2] = {1, 1}, I[2] = {1, 1}, K[2] = {1, 1}, S[2] = {1, 1}, D[2] = {1, 1},
            P[2] = {0, 0};
    for (int i = 0; i < nsp; i++) {
        O[i] = y->dims[2 + i];
        I[i] = x->dims[2 + i];
        K[i] = w->dims[2 + i];
        S[i] = s[i];
        D[i] = d[i];
        P[i] = pb[i];
    }
    int64_t ol = O[0] * O[1], il = I[0] * I[1], kl = K[0] * K[1];
    const float *xv = x->data, *wv = w->data;
    for (int64_t i = 0; i < n * m * ol; i++) out[i] = bias ? bias[(i / ol) % m] : 0;
    for (int64_t b = 0; b < n; b++)
        for (int64_t ci = 0; ci < c; ci++)
            for (int64_t cc = 0; cc < cog; cc++)
                for (int64_t i0 = 0; i0 < I[0]; i0++)
                    for (int64_t i1 = 0; i1 < I[1]; i1++)
                        for (int64_t k0 = 0; k0 < K[0]; k0++)
                            for (int64_t k1 = 0; k1 < K[1]; k1++) {
                                int64_t o0 = i0 * S[0] + k0 * D[0] - P[0],
                                        o1 = i1 * S[1] + k1 * D[1] - P[1];
                                if (o0 < 0 || o0 >= O[0] || o1 < 0 || o1 >= O[1]) continue;
                                int64_t co = (ci / cig) * cog + cc;
                                out[(b * m + co) * ol + o0 * O[1] + o1] +=
                                    (double)xv[(b * c + ci) * il + i0 * I[1] + i1] *
                                    wv[(ci * cog + cc) * kl + k0 * K[1] + k1];
                            }
}

static void test_convtr_hand(void) {
    nodebuf b;
    vx_tensor o[1];
    /* 1-D: x = [1,2,3], w = [1,1,1]: y = [1,3,6,5,3] */
    int64_t xd[3] = {1, 1, 3}, wd[3] = {1, 1, 3};
    float xv[3] = {1, 2, 3}, wv[3] = {1, 1, 1};
    vx_tensor x = mkf(3, xd, xv), w = mkf(3, wd, wv);
    vx_tensor *in[2] = {&x, &w};
    nb_init(&b, "ConvTranspose");
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    {
        float want[5] = {1, 3, 6, 5, 3};
        check_vals(&o[0], want, 5, 0, "convtr basic");
    }
    rel(o, 1);
    /* stride 2: y = [1,1,3,2,5,3,3]; output_padding 1 appends one more (0) */
    static const int64_t s2[1] = {2}, op1[1] = {1};
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "strides", s2, 1);
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    {
        float want[7] = {1, 1, 3, 2, 5, 3, 3};
        check_vals(&o[0], want, 7, 0, "convtr stride");
    }
    rel(o, 1);
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "strides", s2, 1);
    a_ints(&b, "output_padding", op1, 1);
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    {
        float want[8] = {1, 1, 3, 2, 5, 3, 3, 0};
        check_vals(&o[0], want, 8, 0, "convtr output_padding");
    }
    rel(o, 1);
    /* pads [1, 2]: drop 1 at the start, 2 at the end */
    static const int64_t p12[2] = {1, 2};
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "strides", s2, 1);
    a_ints(&b, "pads", p12, 2);
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    {
        float want[4] = {1, 3, 2, 5};
        check_vals(&o[0], want, 4, 0, "convtr pads");
    }
    rel(o, 1);
    /* output_shape 6 (natural 7, total padding 1): NOTSET puts it at the start, SAME_UPPER at the end */
    static const int64_t os6[1] = {6};
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "strides", s2, 1);
    a_ints(&b, "output_shape", os6, 1);
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    {
        float want[6] = {1, 3, 2, 5, 3, 3};
        check_vals(&o[0], want, 6, 0, "convtr output_shape");
    }
    rel(o, 1);
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "strides", s2, 1);
    a_ints(&b, "output_shape", os6, 1);
    a_str(&b, "auto_pad", "SAME_UPPER");
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    {
        float want[6] = {1, 1, 3, 2, 5, 3};
        check_vals(&o[0], want, 6, 0, "convtr output_shape SAME_UPPER");
    }
    rel(o, 1);
    /* auto_pad SAME_UPPER without output_shape: out = in * stride = 6 */
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "strides", s2, 1);
    a_str(&b, "auto_pad", "SAME_UPPER");
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    {
        float want[6] = {1, 1, 3, 2, 5, 3};
        check_vals(&o[0], want, 6, 0, "convtr SAME_UPPER");
    }
    rel(o, 1);
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "strides", s2, 1);
    a_str(&b, "auto_pad", "SAME_LOWER");
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    {
        float want[6] = {1, 3, 2, 5, 3, 3};
        check_vals(&o[0], want, 6, 0, "convtr SAME_LOWER");
    }
    rel(o, 1);
    /* dilation 2, bias: x*[1,1,1] at offsets 0,2,4 */
    static const int64_t d2[1] = {2};
    int64_t bd[1] = {1};
    float bv[1] = {0.5f};
    vx_tensor bias = mkf(1, bd, bv);
    vx_tensor *inb[3] = {&x, &w, &bias};
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "dilations", d2, 1);
    CHECK_EQ_INT(run(&b, 13, inb, 3, o, 1), 0);
    {
        float want[7] = {1.5f, 2.5f, 4.5f, 2.5f, 4.5f, 2.5f, 3.5f};
        check_vals(&o[0], want, 7, 0, "convtr dilation");
    }
    rel(o, 1);
    vx_tensor_release(&x);
    vx_tensor_release(&w);
    vx_tensor_release(&bias);

    /* ONNX test_convtranspose_pads (2-D): strides [3,2], pads [1,2,1,2], W ones [1,2,3,3] */
    float x2v[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8}, ones[18];
    for (int i = 0; i < 18; i++) ones[i] = 1;
    int64_t x2d[4] = {1, 1, 3, 3}, w2d[4] = {1, 2, 3, 3};
    vx_tensor x2 = mkf(4, x2d, x2v), w2 = mkf(4, w2d, ones);
    vx_tensor *in2[2] = {&x2, &w2};
    static const int64_t st[2] = {3, 2}, pd[4] = {1, 2, 1, 2};
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "strides", st, 2);
    a_ints(&b, "pads", pd, 4);
    CHECK_EQ_INT(run(&b, 11, in2, 2, o, 1), 0);
    {
        float plane[21] = {1, 1, 3, 1, 1, 3, 7, 4, 9, 7, 4, 9, 7, 4, 9, 13, 7, 15, 13, 7, 15},
              want[42];
        memcpy(want, plane, sizeof plane);
        memcpy(want + 21, plane, sizeof plane);
        int64_t od[4] = {1, 2, 7, 3};
        check_dims(&o[0], 4, od, "convtr2d pads");
        check_vals(&o[0], want, 42, 0, "convtr2d pads");
    }
    rel(o, 1);
    /* output_shape [10, 8] is larger than the natural 9x7 (ONNX test_convtranspose_output_shape):
     * total padding -1 per axis; floor(-1/2) = -1 puts it at the end for NOTSET, so the
     * natural output is extended by a row and column of zeros. */
    static const int64_t os2[2] = {10, 8}, s32[2] = {3, 2}, zero2[2] = {0, 0}, dil1[2] = {1, 1};
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "strides", s32, 2);
    a_ints(&b, "output_shape", os2, 2);
    CHECK_EQ_INT(run(&b, 11, in2, 2, o, 1), 0);
    {
        int64_t od[4] = {1, 2, 10, 8};
        check_dims(&o[0], 4, od, "convtr2d output_shape");
        double ref[160];
        naive_convtr_nd(&x2, &w2, NULL, 1, s32, dil1, zero2, &o[0], ref);
        float want[160];
        for (int i = 0; i < 160; i++) want[i] = (float)ref[i];
        check_vals(&o[0], want, 160, 0, "convtr2d output_shape");
        CHECK_NEAR(((float *)o[0].data)[9 * 8 + 7], 0, 0);
        CHECK_NEAR(((float *)o[0].data)[8 * 8 + 6], 8, 0); /* natural[8][6] = x[2][2] */
    }
    rel(o, 1);
    /* SAME_UPPER with the same output_shape shifts by one instead (pads begin = -1) */
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "strides", s32, 2);
    a_ints(&b, "output_shape", os2, 2);
    a_str(&b, "auto_pad", "SAME_UPPER");
    CHECK_EQ_INT(run(&b, 11, in2, 2, o, 1), 0);
    if (o[0].numel == 160) {
        CHECK_NEAR(((float *)o[0].data)[0], 0, 0);
        CHECK_NEAR(((float *)o[0].data)[9 * 8 + 7], 8, 0);
    }
    rel(o, 1);
    vx_tensor_release(&x2);
    vx_tensor_release(&w2);
}

static void test_convtr_random(void) {
    for (int rep = 0; rep < 50; rep++) {
        int nsp = 1 + rep % 2;
        int64_t group = ri(1, 3), cig = ri(1, 5), cog = ri(1, 5), n = ri(1, 2);
        int64_t xd[4] = {n, cig * group}, wd[4] = {cig * group, cog};
        int64_t s[2], d[2], pads[4], opad[2], pb[2];
        for (int i = 0; i < nsp; i++) {
            wd[2 + i] = ri(1, 5);
            s[i] = ri(1, 4);
            d[i] = ri(1, 2);
            xd[2 + i] = ri(1, nsp == 1 ? 30 : 7);
            pads[i] = ri(0, 2);
            pads[nsp + i] = ri(0, 2);
            opad[i] = ri(0, (s[i] > d[i] ? s[i] : d[i]) - 1);
            pb[i] = pads[i];
        }
        vx_tensor x = mkf(2 + nsp, xd, NULL), w = mkf(2 + nsp, wd, NULL);
        int64_t bd[1] = {cog * group};
        vx_tensor bias = mkf(1, bd, NULL);
        fill(&x);
        fill(&w);
        fill(&bias);
        vx_tensor *in[3] = {&x, &w, &bias};
        nodebuf b;
        vx_tensor o[1];
        nb_init(&b, "ConvTranspose");
        a_int(&b, "group", group);
        a_ints(&b, "strides", s, nsp);
        a_ints(&b, "dilations", d, nsp);
        a_ints(&b, "pads", pads, 2 * nsp);
        a_ints(&b, "output_padding", opad, nsp);
        int use_b = rep & 1;
        int rc = run(&b, 13, in, use_b ? 3 : 2, o, 1);
        int64_t want_len[2];
        int valid = 1;
        for (int i = 0; i < nsp; i++) {
            want_len[i] = s[i] * (xd[2 + i] - 1) + opad[i] + (wd[2 + i] - 1) * d[i] + 1 - pads[i] -
                          pads[nsp + i];
            if (want_len[i] < 0) valid = 0;
        }
        if (!valid) {
            CHECK(rc < 0);
            vx_tensor_release(&x);
            vx_tensor_release(&w);
            vx_tensor_release(&bias);
            continue;
        }
        CHECKF(rc == 0, "convtr rep %d: %s", rep, errbuf);
        if (rc) continue;
        int ok = o[0].dims[1] == cog * group;
        for (int i = 0; i < nsp; i++) ok = ok && o[0].dims[2 + i] == want_len[i];
        CHECKF(ok, "convtr rep %d shape", rep);
        if (ok && o[0].numel) {
            double *ref = malloc((size_t)o[0].numel * sizeof *ref);
            naive_convtr_nd(&x, &w, use_b ? bias.data : NULL, group, s, d, pb, &o[0], ref);
            double e = 0;
            for (int64_t i = 0; i < o[0].numel; i++)
                e = fmax(e, fabs(((float *)o[0].data)[i] - ref[i]));
            CHECKF(e < 1e-4, "convtr rep %d (nsp %d) err %g", rep, nsp, e);
            free(ref);
        }
        rel(o, 1);
        vx_tensor_release(&x);
        vx_tensor_release(&w);
        vx_tensor_release(&bias);
    }
}

static void test_convtr_errors(void) {
    nodebuf b;
    vx_tensor o[1];
    int64_t xd[3] = {1, 4, 5}, wd[3] = {3, 2, 3};
    vx_tensor x = mkf(3, xd, NULL), w = mkf(3, wd, NULL);
    vx_tensor *in[2] = {&x, &w};
    nb_init(&b, "ConvTranspose");
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), VOX_ERR_MODEL); /* W has 3 input channels */
    int64_t wd2[3] = {4, 2, 3};
    vx_tensor w2 = mkf(3, wd2, NULL);
    vx_tensor *in2[2] = {&x, &w2};
    nb_init(&b, "ConvTranspose");
    a_int(&b, "group", 3);
    CHECK_EQ_INT(run(&b, 13, in2, 2, o, 1), VOX_ERR_MODEL);
    static const int64_t op5[1] = {5}, osbad[2] = {1, 2};
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "output_padding", op5, 1);
    CHECK_EQ_INT(run(&b, 13, in2, 2, o, 1), VOX_ERR_MODEL);
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "output_shape", osbad, 2);
    CHECK_EQ_INT(run(&b, 13, in2, 2, o, 1), VOX_ERR_MODEL);
    static const int64_t dhuge[1] = {(int64_t)1 << 50}, oshuge[1] = {(int64_t)1 << 40};
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "dilations", dhuge, 1);
    CHECK_EQ_INT(run(&b, 13, in2, 2, o, 1), VOX_ERR_MODEL);
    nb_init(&b, "ConvTranspose");
    a_ints(&b, "output_shape", oshuge, 1);
    CHECK(run(&b, 13, in2, 2, o, 1) < 0);
    vx_tensor_release(&x);
    vx_tensor_release(&w);
    vx_tensor_release(&w2);
}

/* ------------------------------------------------------------- MatMul, Gemm */

/* The exact sum a GEMM makes of one output: +0, then every product in order. */
static float sum_f32(const float *a, const float *b, int64_t k, int64_t n, int64_t i, int64_t j) {
    float s = 0.0f;
    for (int64_t p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
    return s;
}

/* A selection matrix (0/1, at most one 1 per row) times B runs as a row gather (ops_nn.c):
 * bit for bit the GEMM's result, and not taken when A or B does not allow it. */
static void test_matmul_gather(void) {
    enum { M = 300, K = 40, N = 24 };
    static float av[M * K], bv[K * N];
    uint32_t r = 12345;
    for (int i = 0; i < M; i++) /* every 7th row selects nothing (masked frames) */
        if (i % 7) av[i * K + (i * 13 + 5) % K] = 1.0f;
    for (int i = 0; i < K * N; i++) {
        r = r * 1664525u + 1013904223u;
        bv[i] = ((float)(r >> 8) / 16777216.0f - 0.5f) * 8.0f;
    }
    bv[5 * N + 3] = -0.0f; /* selected by some rows: the gather must give +0 like a sum */
    int64_t ad[3] = {1, M, K}, bd[3] = {1, K, N};
    vx_tensor a = mkf(3, ad, av), bb = mkf(3, bd, bv);
    vx_tensor *in[2] = {&a, &bb};
    vx_tensor o[1];
    nodebuf b;
    nb_init(&b, "MatMul");
    long g0 = vx_nn_matmul_gathers();
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    CHECK_EQ_INT((int)(vx_nn_matmul_gathers() - g0), 1);
    int same = 1;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float want = sum_f32(av, bv, K, N, i, j), got = ((float *)o[0].data)[i * N + j];
            if (memcmp(&want, &got, 4)) same = 0;
        }
    CHECK(same);
    rel(o, 1);
    float *A = a.data, *B = bb.data; /* mkf copied av, bv */
    /* an entry other than 0 or 1: a GEMM, not a gather */
    A[2 * K + 1] = 0.5f;
    g0 = vx_nn_matmul_gathers();
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    CHECK_EQ_INT((int)(vx_nn_matmul_gathers() - g0), 0);
    CHECK_NEAR(((float *)o[0].data)[2 * N], 0.5f * B[1 * N] + B[((2 * 13 + 5) % K) * N], 1e-5);
    rel(o, 1);
    A[2 * K + 1] = 0.0f;
    /* two ones in a row: a GEMM (row 3 selects column (3 * 13 + 5) % 40 = 4) */
    A[3 * K + 39] = 1.0f;
    g0 = vx_nn_matmul_gathers();
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    CHECK_EQ_INT((int)(vx_nn_matmul_gathers() - g0), 0);
    CHECK_NEAR(((float *)o[0].data)[3 * N + 2], B[4 * N + 2] + B[39 * N + 2], 1e-5);
    rel(o, 1);
    A[3 * K + 39] = 0.0f;
    /* B with an infinity: 0 * inf = NaN in every row that does not select it, as a GEMM */
    B[9 * N + 0] = INFINITY;
    g0 = vx_nn_matmul_gathers();
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    CHECK_EQ_INT((int)(vx_nn_matmul_gathers() - g0), 0);
    CHECK(isnan(((float *)o[0].data)[1 * N + 0]));
    rel(o, 1);
    vx_tensor_release(&a);
    vx_tensor_release(&bb);
}

/* Uniform in [-scale/2, scale/2) from an LCG state. */
static float lcg_f(uint32_t *r, float scale) {
    *r = *r * 1664525u + 1013904223u;
    return ((float)(*r >> 8) / 16777216.0f - 0.5f) * scale;
}

/* MatMul A x B into o[0]. */
static int run_matmul(vx_tensor *a, vx_tensor *b, vx_tensor *o) {
    nodebuf nb;
    nb_init(&nb, "MatMul");
    vx_tensor *in[2] = {a, b};
    return run(&nb, 13, in, 2, o, 1);
}

/* MatMul by a B that is zero outside a band of rows or columns (VITS's zero-padded
 * relative embeddings) multiplies only the band: the same bits as the full GEMM here (the
 * band's products fall in one K block), +0 outside the band's columns, and the full GEMM
 * when A is not finite (0 * inf = NaN). */
static void test_matmul_band(void) {
    enum { BATCH = 2, M = 200, K = 127, N = 48 };
    static float av[BATCH * M * K], bv[K * N], want[BATCH * M * N];
    uint32_t r = 777;
    for (int i = 0; i < BATCH * M * K; i++) av[i] = lcg_f(&r, 4.0f);
    const vx_kernels *kern = vx_kernels_get();
    for (int mode = 0; mode < 2; mode++) { /* 0: rows 60..68 nonzero; 1: columns 10..18 */
        memset(bv, 0, sizeof bv);
        for (int p = 0; p < K; p++)
            for (int j = 0; j < N; j++) {
                float v = lcg_f(&r, 4.0f);
                if (mode ? (j >= 10 && j < 19) : (p >= 60 && p < 69)) bv[p * N + j] = v;
            }
        kern->sgemm(0, 0, BATCH * M, N, K, 1.0f, av, K, bv, N, 0.0f, want, N);
        int64_t ad[3] = {BATCH, M, K}, bd[2] = {K, N};
        vx_tensor a = mkf(3, ad, av), bb = mkf(2, bd, bv);
        vx_tensor o[1];
        long b0 = vx_nn_matmul_bands();
        CHECK_EQ_INT(run_matmul(&a, &bb, o), 0);
        CHECKF(vx_nn_matmul_bands() - b0 == 1, "mode %d: band used %ld times", mode,
               vx_nn_matmul_bands() - b0);
        CHECKF(!memcmp(o[0].data, want, sizeof want), "mode %d: band == full GEMM, bit for bit",
               mode);
        rel(o, 1);
        /* an infinity in A: the full GEMM, NaN where it meets B's zeros */
        float *A = a.data;
        A[5 * K + (mode ? 3 : 100)] = INFINITY;
        b0 = vx_nn_matmul_bands();
        CHECK_EQ_INT(run_matmul(&a, &bb, o), 0);
        CHECK_EQ_INT((int)(vx_nn_matmul_bands() - b0), 0);
        CHECK(isnan(((float *)o[0].data)[5 * N + (mode ? 0 : 20)]));
        rel(o, 1);
        vx_tensor_release(&a);
        vx_tensor_release(&bb);
    }
}

/* MatMul over a thread pool (blocks of rows) gives the single-thread bits: plain GEMM,
 * a batch of GEMMs against one B, the band path, and a selection matrix (gather). */
static void test_matmul_threads(void) {
    enum { BATCH = 3, M = 300, K = 96, N = 160 };
    static float av[BATCH * M * K], bv[BATCH * K * N], sel[M * K];
    uint32_t r = 99;
    for (int i = 0; i < BATCH * M * K; i++) av[i] = lcg_f(&r, 4.0f);
    for (int i = 0; i < BATCH * K * N; i++) bv[i] = lcg_f(&r, 4.0f);
    for (int i = 0; i < M; i++) sel[i * K + (i * 7) % K] = 1.0f;
    vx_tpool *pool = vx_tpool_create(3);
    CHECK(pool != NULL);
    for (int c = 0; c < 4 && pool; c++) {
        /* 0: [B,M,K] x [B,K,N]; 1: [B,M,K] x [K,N]; 2: B zero outside rows 40..49;
         * 3: selection A [M,K] x [K,N] */
        float bz[K * N];
        memcpy(bz, bv, sizeof bz);
        if (c == 2)
            for (int p = 0; p < K; p++)
                if (p < 40 || p >= 50) memset(bz + p * N, 0, N * sizeof(float));
        int64_t ad[3] = {c == 3 ? 1 : BATCH, M, K}, bd3[3] = {BATCH, K, N}, bd2[2] = {K, N};
        vx_tensor a = mkf(3, ad, c == 3 ? sel : av);
        vx_tensor bb = c == 0 ? mkf(3, bd3, bv) : mkf(2, bd2, c == 2 ? bz : bv);
        vx_tensor o1[1], o3[1];
        CHECK_EQ_INT(run_matmul(&a, &bb, o1), 0);
        run_pool = pool;
        run_threads = 3;
        CHECK_EQ_INT(run_matmul(&a, &bb, o3), 0);
        run_pool = NULL;
        run_threads = 1;
        CHECKF(o1[0].numel == o3[0].numel &&
                   !memcmp(o1[0].data, o3[0].data, vx_tensor_bytes(&o1[0])),
               "case %d: 3 threads == 1 thread, bit for bit", c);
        rel(o1, 1);
        rel(o3, 1);
        vx_tensor_release(&a);
        vx_tensor_release(&bb);
    }
    vx_tpool_free(pool);
}

static void naive_mm(const float *a, const float *b, int64_t m, int64_t k, int64_t n, double *c) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++) s += (double)a[i * k + p] * b[p * n + j];
            c[i * n + j] = s;
        }
}

static void test_matmul(void) {
    nodebuf b;
    vx_tensor o[1];
    float av[6] = {1, 2, 3, 4, 5, 6}, bv[6] = {7, 8, 9, 10, 11, 12};
    int64_t ad[2] = {2, 3}, bd[2] = {3, 2};
    vx_tensor a = mkf(2, ad, av), bb = mkf(2, bd, bv);
    vx_tensor *in[2] = {&a, &bb};
    nb_init(&b, "MatMul");
    CHECK_EQ_INT(run(&b, 13, in, 2, o, 1), 0);
    {
        float want[4] = {58, 64, 139, 154};
        check_vals(&o[0], want, 4, 0, "matmul 2x2");
    }
    rel(o, 1);
    /* 1-D x 2-D: [3] x [3,2] -> [2] */
    int64_t vd[1] = {3};
    vx_tensor v = mkf(1, vd, av);
    vx_tensor *in1[2] = {&v, &bb};
    CHECK_EQ_INT(run(&b, 13, in1, 2, o, 1), 0);
    {
        float want[2] = {58, 64};
        check_vals(&o[0], want, 2, 0, "matmul 1d x 2d");
        CHECK_EQ_INT(o[0].ndim, 1);
    }
    rel(o, 1);
    /* 2-D x 1-D: [2,3] x [3] -> [2] */
    vx_tensor v2 = mkf(1, vd, bv); /* 7 8 9 */
    vx_tensor *in2[2] = {&a, &v2};
    CHECK_EQ_INT(run(&b, 13, in2, 2, o, 1), 0);
    {
        float want[2] = {50, 122};
        check_vals(&o[0], want, 2, 0, "matmul 2d x 1d");
        CHECK_EQ_INT(o[0].ndim, 1);
    }
    rel(o, 1);
    vx_tensor *in3[2] = {&v, &v2};
    CHECK_EQ_INT(run(&b, 13, in3, 2, o, 1), 0);
    {
        float want[1] = {50};
        check_vals(&o[0], want, 1, 0, "matmul dot");
        CHECK_EQ_INT(o[0].ndim, 0);
    }
    rel(o, 1);
    /* batch broadcast: [2,1,4,3] x [3,3,5] -> [2,3,4,5]; and [2,4,3] x [3,5] */
    int64_t bad[4] = {2, 1, 4, 3}, bbd[3] = {3, 3, 5};
    vx_tensor ba = mkf(4, bad, NULL), bb2 = mkf(3, bbd, NULL);
    fill(&ba);
    fill(&bb2);
    vx_tensor *in4[2] = {&ba, &bb2};
    CHECK_EQ_INT(run(&b, 13, in4, 2, o, 1), 0);
    {
        int64_t od[4] = {2, 3, 4, 5};
        check_dims(&o[0], 4, od, "matmul broadcast");
        double ref[20];
        double e = 0;
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++) {
                naive_mm((float *)ba.data + i * 12, (float *)bb2.data + j * 15, 4, 3, 5, ref);
                for (int q = 0; q < 20; q++)
                    e = fmax(e, fabs(((float *)o[0].data)[(i * 3 + j) * 20 + q] - ref[q]));
            }
        CHECKF(e < 1e-5, "matmul broadcast err %g", e);
    }
    rel(o, 1);
    int64_t b2d[2] = {3, 5};
    vx_tensor b2 = mkf(2, b2d, NULL);
    fill(&b2);
    vx_tensor *in5[2] = {&ba, &b2};
    CHECK_EQ_INT(run(&b, 13, in5, 2, o, 1), 0);
    {
        double ref[40], e = 0;
        naive_mm(ba.data, b2.data, 8, 3, 5, ref);
        for (int q = 0; q < 40; q++) e = fmax(e, fabs(((float *)o[0].data)[q] - ref[q]));
        CHECKF(e < 1e-5, "matmul 3d x 2d err %g", e);
        int64_t od[4] = {2, 1, 4, 5};
        check_dims(&o[0], 4, od, "matmul 4d x 2d");
    }
    rel(o, 1);
    /* errors */
    vx_tensor *bad1[2] = {&a, &a};
    CHECK_EQ_INT(run(&b, 13, bad1, 2, o, 1), VOX_ERR_MODEL);
    CHECK(strstr(errbuf, "inner") != NULL);
    int64_t bcd[3] = {2, 3, 5};
    vx_tensor bc = mkf(3, bcd, NULL);
    int64_t b3d[3] = {3, 4, 3};
    vx_tensor b3 = mkf(3, b3d, NULL);
    vx_tensor *bad2[2] = {&b3, &bc}; /* batch 3 vs 2 */
    CHECK_EQ_INT(run(&b, 13, bad2, 2, o, 1), VOX_ERR_MODEL);
    /* int64 */
    int64_t ia[4] = {1, 2, 3, 4}, ib[4] = {5, 6, 7, 8}, d22[2] = {2, 2};
    vx_tensor ta = mk(VX_INT64, 2, d22, ia), tb = mk(VX_INT64, 2, d22, ib);
    vx_tensor *in6[2] = {&ta, &tb};
    CHECK_EQ_INT(run(&b, 13, in6, 2, o, 1), 0);
    CHECK_EQ_INT(o[0].dtype, VX_INT64);
    if (o[0].dtype == VX_INT64) {
        const int64_t *r = o[0].data;
        CHECK(r[0] == 19 && r[1] == 22 && r[2] == 43 && r[3] == 50);
    }
    rel(o, 1);
    vx_tensor *bad3[2] = {&ta, &a};
    CHECK_EQ_INT(run(&b, 13, bad3, 2, o, 1), VOX_ERR_UNSUPPORTED);
    vx_tensor_release(&a);
    vx_tensor_release(&bb);
    vx_tensor_release(&v);
    vx_tensor_release(&v2);
    vx_tensor_release(&ba);
    vx_tensor_release(&bb2);
    vx_tensor_release(&b2);
    vx_tensor_release(&bc);
    vx_tensor_release(&b3);
    vx_tensor_release(&ta);
    vx_tensor_release(&tb);
}

static void test_gemm(void) {
    nodebuf b;
    vx_tensor o[1];
    /* A^T with transA: A stored [3,2] = [[1,4],[2,5],[3,6]] is [[1,2,3],[4,5,6]]^T */
    float at[6] = {1, 4, 2, 5, 3, 6}, btv[6] = {7, 9, 11, 8, 10, 12}; /* B^T stored [2,3] */
    int64_t atd[2] = {3, 2}, btd[2] = {2, 3};
    vx_tensor a = mkf(2, atd, at), bt = mkf(2, btd, btv);
    float cv[2] = {1, 2};
    int64_t cd[1] = {2};
    vx_tensor c = mkf(1, cd, cv);
    vx_tensor *in[3] = {&a, &bt, &c};
    nb_init(&b, "Gemm");
    a_int(&b, "transA", 1);
    a_int(&b, "transB", 1);
    a_float(&b, "alpha", 2);
    a_float(&b, "beta", 10);
    CHECK_EQ_INT(run(&b, 13, in, 3, o, 1), 0);
    {
        float want[4] = {126, 148, 288, 328};
        check_vals(&o[0], want, 4, 0, "gemm trans alpha beta C[N]");
    }
    rel(o, 1);
    /* C [M,1] broadcast over columns, no transposes */
    float av[6] = {1, 2, 3, 4, 5, 6}, bv[6] = {7, 8, 9, 10, 11, 12};
    int64_t ad[2] = {2, 3}, bd[2] = {3, 2}, c2d[2] = {2, 1};
    vx_tensor a2 = mkf(2, ad, av), b2 = mkf(2, bd, bv), c2 = mkf(2, c2d, cv);
    vx_tensor *in2[3] = {&a2, &b2, &c2};
    nb_init(&b, "Gemm");
    CHECK_EQ_INT(run(&b, 13, in2, 3, o, 1), 0);
    {
        float want[4] = {59, 65, 141, 156};
        check_vals(&o[0], want, 4, 0, "gemm C[M,1]");
    }
    rel(o, 1);
    vx_tensor *in3[2] = {&a2, &b2};
    CHECK_EQ_INT(run(&b, 13, in3, 2, o, 1), 0);
    {
        float want[4] = {58, 64, 139, 154};
        check_vals(&o[0], want, 4, 0, "gemm no C");
    }
    rel(o, 1);
    vx_tensor *bad[3] = {&a2, &b2, &c}; /* C [2] vs N = 2 is fine; use wrong: [3] */
    int64_t c3d[1] = {3};
    vx_tensor c3 = mkf(1, c3d, NULL);
    bad[2] = &c3;
    CHECK_EQ_INT(run(&b, 13, bad, 3, o, 1), VOX_ERR_MODEL);
    vx_tensor *bad2[2] = {&a2, &a2};
    CHECK_EQ_INT(run(&b, 13, bad2, 2, o, 1), VOX_ERR_MODEL);
    vx_tensor_release(&a);
    vx_tensor_release(&bt);
    vx_tensor_release(&c);
    vx_tensor_release(&a2);
    vx_tensor_release(&b2);
    vx_tensor_release(&c2);
    vx_tensor_release(&c3);
}

/* ------------------------------------------------------------------ Softmax */

static void test_softmax(void) {
    nodebuf b;
    vx_tensor o[1];
    float xv[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    int64_t xd[3] = {2, 2, 2};
    vx_tensor x = mkf(3, xd, xv);
    vx_tensor *in[1] = {&x};
    /* opset 11, axis 1: each batch's 4 values normalized together */
    nb_init(&b, "Softmax");
    a_int(&b, "axis", 1);
    CHECK_EQ_INT(run(&b, 11, in, 1, o, 1), 0);
    {
        double z = exp(0) + exp(1) + exp(2) + exp(3);
        float want[8];
        for (int i = 0; i < 8; i++) want[i] = (float)(exp(i % 4) / z);
        check_vals(&o[0], want, 8, 1e-6, "softmax opset 11");
    }
    rel(o, 1);
    /* opset 13, axis 1: pairs (x[b,0,k], x[b,1,k]) differ by 2 */
    CHECK_EQ_INT(run(&b, 13, in, 1, o, 1), 0);
    {
        float lo = (float)(1 / (1 + exp(2))), hi = (float)(exp(2) / (1 + exp(2)));
        float want[8] = {lo, lo, hi, hi, lo, lo, hi, hi};
        check_vals(&o[0], want, 8, 1e-6, "softmax opset 13");
    }
    rel(o, 1);
    /* defaults: opset 11 axis=1, opset 13 axis=-1 */
    nb_init(&b, "Softmax");
    CHECK_EQ_INT(run(&b, 13, in, 1, o, 1), 0);
    {
        float lo = (float)(1 / (1 + exp(1))), hi = (float)(exp(1) / (1 + exp(1)));
        float want[8] = {lo, hi, lo, hi, lo, hi, lo, hi};
        check_vals(&o[0], want, 8, 1e-6, "softmax default 13");
    }
    rel(o, 1);
    nb_init(&b, "LogSoftmax");
    a_int(&b, "axis", -1);
    CHECK_EQ_INT(run(&b, 13, in, 1, o, 1), 0);
    {
        float lo = (float)-log(1 + exp(1)), hi = (float)(1 - log(1 + exp(1)));
        float want[8] = {lo, hi, lo, hi, lo, hi, lo, hi};
        check_vals(&o[0], want, 8, 1e-6, "logsoftmax");
    }
    rel(o, 1);
    /* large values must not overflow */
    float big[2] = {1000, 1000};
    int64_t bd[1] = {2};
    vx_tensor xb = mkf(1, bd, big);
    vx_tensor *inb[1] = {&xb};
    nb_init(&b, "Softmax");
    CHECK_EQ_INT(run(&b, 13, inb, 1, o, 1), 0);
    {
        float want[2] = {0.5f, 0.5f};
        check_vals(&o[0], want, 2, 1e-7, "softmax big");
    }
    rel(o, 1);
    nb_init(&b, "Softmax");
    a_int(&b, "axis", 3);
    CHECK_EQ_INT(run(&b, 13, in, 1, o, 1), VOX_ERR_MODEL);
    vx_tensor_release(&x);
    vx_tensor_release(&xb);
}

/* --------------------------------------------------------------- reductions */

/* naive reduction over a [2,3,4] tensor by mask, for all kinds */
static double naive_reduce(const char *op, const float *x, int mask, int i0, int i1, int i2) {
    const int D[3] = {2, 3, 4};
    double acc = !strcmp(op, "ReduceProd")  ? 1
                 : !strcmp(op, "ReduceMax") ? -INFINITY
                 : !strcmp(op, "ReduceMin") ? INFINITY
                                            : 0;
    int cnt = 0;
    double mx = -INFINITY;
    for (int pass = 0; pass < 2; pass++)
        for (int a = 0; a < D[0]; a++)
            for (int b = 0; b < D[1]; b++)
                for (int c = 0; c < D[2]; c++) {
                    if (!(mask & 1) && a != i0) continue;
                    if (!(mask & 2) && b != i1) continue;
                    if (!(mask & 4) && c != i2) continue;
                    double v = x[(a * 3 + b) * 4 + c];
                    if (pass == 0) {
                        if (v > mx) mx = v;
                        continue;
                    }
                    cnt++;
                    if (!strcmp(op, "ReduceSum") || !strcmp(op, "ReduceMean"))
                        acc += v;
                    else if (!strcmp(op, "ReduceProd"))
                        acc *= v;
                    else if (!strcmp(op, "ReduceMax"))
                        acc = fmax(acc, v);
                    else if (!strcmp(op, "ReduceMin"))
                        acc = fmin(acc, v);
                    else if (!strcmp(op, "ReduceL1"))
                        acc += fabs(v);
                    else if (!strcmp(op, "ReduceL2") || !strcmp(op, "ReduceSumSquare"))
                        acc += v * v;
                    else if (!strcmp(op, "ReduceLogSumExp"))
                        acc += exp(v - mx);
                }
    if (!strcmp(op, "ReduceMean")) acc /= cnt;
    if (!strcmp(op, "ReduceL2")) acc = sqrt(acc);
    if (!strcmp(op, "ReduceLogSumExp")) acc = mx + log(acc);
    return acc;
}

/* ReduceSum / ReduceMean whose reduced axes end innermost (LayerNorm's ReduceMean over
 * channels) sum rows in double lanes (nn_reduce.c: sum_row): for values of a modest
 * range the double sums are exact in any order, so the result must be bit for bit the
 * sequential double sum rounded to float; rows shorter and longer than the lanes, and
 * reduced axes in front of the row as well. */
static void test_reduce_rows(void) {
    int64_t xd[3] = {3, 5, 37};
    vx_tensor x = mkf(3, xd, NULL);
    fill(&x);
    const float *xv = x.data;
    static const int masks[] = {4, 6, 5, 7};
    int bad = 0;
    for (int op = 0; op < 2; op++)
        for (size_t mi = 0; mi < sizeof masks / sizeof *masks; mi++) {
            int mask = masks[mi];
            int64_t axes[3];
            int na = 0;
            for (int a = 0; a < 3; a++)
                if (mask & (1 << a)) axes[na++] = a;
            nodebuf b;
            vx_tensor o[1], *in1[1] = {&x};
            nb_init(&b, op ? "ReduceMean" : "ReduceSum");
            a_int(&b, "keepdims", 0);
            a_ints(&b, "axes", axes, na);
            int rc = run(&b, 11, in1, 1, o, 1);
            CHECKF(rc == 0, "reduce rows: %s", errbuf);
            if (rc) continue;
            int64_t k = 0, cnt = 1;
            for (int a = 0; a < 3; a++) cnt *= mask & (1 << a) ? xd[a] : 1;
            for (int64_t i0 = 0; i0 < ((mask & 1) ? 1 : 3); i0++)
                for (int64_t i1 = 0; i1 < ((mask & 2) ? 1 : 5); i1++) {
                    double acc = 0;
                    for (int64_t a0 = 0; a0 < 3; a0++)
                        for (int64_t a1 = 0; a1 < 5; a1++)
                            for (int64_t a2 = 0; a2 < 37; a2++)
                                if (((mask & 1) || a0 == i0) && ((mask & 2) || a1 == i1))
                                    acc += xv[(a0 * 5 + a1) * 37 + a2];
                    float want = (float)(op ? acc / (double)cnt : acc);
                    bad += memcmp(&want, &((float *)o[0].data)[k++], sizeof want) != 0;
                }
            CHECK_EQ_INT(k, o[0].numel);
            rel(o, 1);
        }
    CHECKF(bad == 0, "%d reduced rows differ from the sequential double sum", bad);
    vx_tensor_release(&x);
}

static void test_reduce(void) {
    static const char *ops[] = {"ReduceSum", "ReduceMean",      "ReduceMax",
                                "ReduceMin", "ReduceProd",      "ReduceL1",
                                "ReduceL2",  "ReduceSumSquare", "ReduceLogSumExp"};
    int64_t xd[3] = {2, 3, 4};
    vx_tensor x = mkf(3, xd, NULL);
    fill(&x);
    for (int i = 0; i < 24; i++)
        ((float *)x.data)[i] = ((float *)x.data)[i] * 1.5f + (i == 5 ? 0.0f : 0.1f);
    const float *xv = x.data;
    vx_tensor *in1[1] = {&x};
    for (size_t oi = 0; oi < sizeof ops / sizeof ops[0]; oi++)
        for (int mask = 0; mask < 8; mask++)
            for (int keep = 0; keep < 2; keep++)
                for (int form = 0; form < 3;
                     form++) { /* 0: attr (opset 11), 1: input (opset 18), 2: negative attr */
                    int64_t axes[3];
                    int na = 0;
                    for (int a = 0; a < 3; a++)
                        if (mask & (1 << a)) axes[na++] = form == 2 ? a - 3 : a;
                    nodebuf b;
                    vx_tensor o[1];
                    nb_init(&b, ops[oi]);
                    a_int(&b, "keepdims", keep);
                    int64_t ad[1] = {na};
                    vx_tensor at = mk(VX_INT64, 1, ad, axes);
                    vx_tensor *in2[2] = {&x, &at};
                    int rc;
                    if (form == 1)
                        rc = run(&b, 18, in2, 2, o, 1);
                    else {
                        if (na) a_ints(&b, "axes", axes, na);
                        rc = run(&b, 11, in1, 1, o, 1);
                    }
                    CHECKF(rc == 0, "%s: %s", ops[oi], errbuf);
                    int eff = mask ? mask : 7; /* no axes: reduce all */
                    int64_t od[3];
                    int on = 0;
                    for (int a = 0; a < 3; a++) {
                        if (eff & (1 << a)) {
                            if (keep) od[on++] = 1;
                        } else
                            od[on++] = xd[a];
                    }
                    if (!rc) {
                        check_dims(&o[0], on, od, ops[oi]);
                        const float *y = o[0].data;
                        int64_t k = 0;
                        double e = 0;
                        for (int a = 0; a < ((eff & 1) ? 1 : 2); a++)
                            for (int bb = 0; bb < ((eff & 2) ? 1 : 3); bb++)
                                for (int c = 0; c < ((eff & 4) ? 1 : 4); c++) {
                                    double r = naive_reduce(ops[oi], xv, eff, a, bb, c);
                                    e = fmax(e, fabs(y[k++] - r) / (1 + fabs(r)));
                                }
                        CHECKF(e < 1e-5 && k == o[0].numel, "%s mask %d keep %d form %d err %g",
                               ops[oi], mask, keep, form, e);
                        rel(o, 1);
                    }
                    vx_tensor_release(&at);
                }
    /* ReduceSum opset 13 takes axes as an input; noop_with_empty_axes returns the input */
    {
        nodebuf b;
        vx_tensor o[1];
        int64_t ax[1] = {1}, ad[1] = {1}, ed[1] = {0};
        vx_tensor at = mk(VX_INT64, 1, ad, ax), empty = mk(VX_INT64, 1, ed, NULL);
        vx_tensor *in2[2] = {&x, &at}, *in3[2] = {&x, &empty};
        nb_init(&b, "ReduceSum");
        a_int(&b, "keepdims", 0);
        CHECK_EQ_INT(run(&b, 13, in2, 2, o, 1), 0);
        int64_t od[2] = {2, 4};
        check_dims(&o[0], 2, od, "reducesum 13");
        CHECK_NEAR(((float *)o[0].data)[5], xv[12 + 1] + xv[16 + 1] + xv[20 + 1], 1e-5);
        rel(o, 1);
        nb_init(&b, "ReduceSum");
        a_int(&b, "noop_with_empty_axes", 1);
        CHECK_EQ_INT(run(&b, 13, in3, 2, o, 1), 0);
        check_dims(&o[0], 3, xd, "noop");
        CHECK_NEAR(((float *)o[0].data)[7], xv[7], 0);
        rel(o, 1);
        nb_init(&b, "ReduceSum");
        CHECK_EQ_INT(run(&b, 13, in3, 2, o, 1), 0); /* empty axes, no noop: all */
        CHECK_EQ_INT(o[0].numel, 1);
        rel(o, 1);
        /* errors: out of range axis, repeated axis, float axes tensor */
        int64_t bad[2] = {3, 0}, rep[2] = {1, -2};
        nb_init(&b, "ReduceMean");
        a_ints(&b, "axes", bad, 1);
        CHECK_EQ_INT(run(&b, 11, in1, 1, o, 1), VOX_ERR_MODEL);
        nb_init(&b, "ReduceMean");
        a_ints(&b, "axes", rep, 2);
        CHECK_EQ_INT(run(&b, 11, in1, 1, o, 1), VOX_ERR_MODEL);
        vx_tensor fa = mkf(1, ad, NULL);
        vx_tensor *in4[2] = {&x, &fa};
        nb_init(&b, "ReduceSum");
        CHECK_EQ_INT(run(&b, 13, in4, 2, o, 1), VOX_ERR_MODEL);
        vx_tensor_release(&at);
        vx_tensor_release(&empty);
        vx_tensor_release(&fa);
    }
    /* int64 Sum / Max / Min */
    {
        nodebuf b;
        vx_tensor o[1];
        int64_t iv[6] = {5, -2, 7, 1, 9, -4}, id[2] = {2, 3}, ax[1] = {1};
        vx_tensor xi = mk(VX_INT64, 2, id, iv);
        vx_tensor *in[1] = {&xi};
        nb_init(&b, "ReduceSum");
        a_ints(&b, "axes", ax, 1);
        CHECK_EQ_INT(run(&b, 11, in, 1, o, 1), 0);
        if (o[0].dtype == VX_INT64) {
            const int64_t *r = o[0].data;
            CHECK(r[0] == 10 && r[1] == 6);
        } else
            CHECK(0);
        rel(o, 1);
        nb_init(&b, "ReduceMax");
        a_int(&b, "keepdims", 0);
        CHECK_EQ_INT(run(&b, 11, in, 1, o, 1), 0);
        CHECK_EQ_INT(o[0].ndim, 0);
        CHECK_EQ_INT(((int64_t *)o[0].data)[0], 9);
        rel(o, 1);
        nb_init(&b, "ReduceMin");
        a_ints(&b, "axes", ax, 1);
        CHECK_EQ_INT(run(&b, 11, in, 1, o, 1), 0);
        CHECK(((int64_t *)o[0].data)[0] == -2 && ((int64_t *)o[0].data)[1] == -4);
        rel(o, 1);
        nb_init(&b, "ReduceL2");
        CHECK_EQ_INT(run(&b, 11, in, 1, o, 1), VOX_ERR_UNSUPPORTED);
        vx_tensor_release(&xi);
    }
    vx_tensor_release(&x);
}

static void test_argmax(void) {
    nodebuf b;
    vx_tensor o[1];
    float xv[6] = {1, 5, 5, 7, 2, 7};
    int64_t xd[2] = {2, 3};
    vx_tensor x = mkf(2, xd, xv);
    vx_tensor *in[1] = {&x};
    nb_init(&b, "ArgMax");
    a_int(&b, "axis", 1);
    CHECK_EQ_INT(run(&b, 13, in, 1, o, 1), 0);
    {
        int64_t od[2] = {2, 1};
        check_dims(&o[0], 2, od, "argmax");
        const int64_t *r = o[0].data;
        CHECK(r[0] == 1 && r[1] == 0);
    }
    rel(o, 1);
    nb_init(&b, "ArgMax");
    a_int(&b, "axis", -1);
    a_int(&b, "select_last_index", 1);
    a_int(&b, "keepdims", 0);
    CHECK_EQ_INT(run(&b, 13, in, 1, o, 1), 0);
    {
        CHECK_EQ_INT(o[0].ndim, 1);
        const int64_t *r = o[0].data;
        CHECK(r[0] == 2 && r[1] == 2);
    }
    rel(o, 1);
    nb_init(&b, "ArgMin");
    CHECK_EQ_INT(run(&b, 13, in, 1, o, 1), 0);
    {
        int64_t od[2] = {1, 3};
        check_dims(&o[0], 2, od, "argmin");
        const int64_t *r = o[0].data;
        CHECK(r[0] == 0 && r[1] == 1 && r[2] == 0);
    }
    rel(o, 1);
    nb_init(&b, "ArgMin");
    a_int(&b, "axis", 2);
    CHECK_EQ_INT(run(&b, 13, in, 1, o, 1), VOX_ERR_MODEL);
    vx_tensor_release(&x);
}

/* ---------------------------------------------------------- normalizations */

static void test_norms(void) {
    nodebuf b;
    vx_tensor o[3];
    float xv[6] = {1, 2, 3, 4, 6, 8}, sv[3] = {1, 2, 0.5f}, bv[3] = {0, 1, -1};
    int64_t xd[2] = {2, 3}, sd[1] = {3};
    vx_tensor x = mkf(2, xd, xv), s = mkf(1, sd, sv), bb = mkf(1, sd, bv);
    vx_tensor *in[3] = {&x, &s, &bb};
    nb_init(&b, "LayerNormalization");
    a_float(&b, "epsilon", 0);
    CHECK_EQ_INT(run(&b, 17, in, 3, o, 3), 0);
    {
        double r = sqrt(2.0 / 3.0), inv1 = 1 / r, inv2 = 1 / (2 * r);
        float want[6] = {(float)(-inv1),     1, (float)(0.5 * inv1 - 1),
                         (float)(-2 * inv2), 1, (float)(0.5 * 2 * inv2 - 1)};
        check_vals(&o[0], want, 6, 1e-5, "layernorm");
        float wm[2] = {2, 6}, wi[2] = {(float)inv1, (float)inv2};
        check_vals(&o[1], wm, 2, 1e-6, "layernorm mean");
        check_vals(&o[2], wi, 2, 1e-5, "layernorm invstd");
        int64_t md[2] = {2, 1};
        check_dims(&o[1], 2, md, "layernorm mean");
    }
    rel(o, 3);
    /* axis 0: all 6 values together, no bias */
    nb_init(&b, "LayerNormalization");
    a_int(&b, "axis", 0);
    int64_t s6d[2] = {2, 3};
    float ones[6] = {1, 1, 1, 1, 1, 1};
    vx_tensor s6 = mkf(2, s6d, ones);
    vx_tensor *in2[2] = {&x, &s6};
    CHECK_EQ_INT(run(&b, 17, in2, 2, o, 1), 0);
    {
        double m = 4, v = (9 + 4 + 1 + 0 + 4 + 16) / 6.0, k = 1 / sqrt(v + 1e-5);
        float want[6];
        for (int i = 0; i < 6; i++) want[i] = (float)((xv[i] - m) * k);
        check_vals(&o[0], want, 6, 1e-5, "layernorm axis 0");
    }
    rel(o, 1);
    vx_tensor *bad[2] = {&x, &bb};
    nb_init(&b, "LayerNormalization");
    a_int(&b, "axis", 0);
    CHECK_EQ_INT(run(&b, 17, bad, 2, o, 1), VOX_ERR_MODEL); /* scale 3 vs 6 */

    /* InstanceNormalization on [1,2,3] */
    int64_t id[3] = {1, 2, 3}, cd[1] = {2};
    float sc[2] = {2, 1}, bi[2] = {1, 0};
    vx_tensor xi = mkf(3, id, xv), isc = mkf(1, cd, sc), ib = mkf(1, cd, bi);
    vx_tensor *in3[3] = {&xi, &isc, &ib};
    nb_init(&b, "InstanceNormalization");
    a_float(&b, "epsilon", 0);
    CHECK_EQ_INT(run(&b, 13, in3, 3, o, 1), 0);
    {
        double r = sqrt(2.0 / 3.0);
        float want[6] = {(float)(1 - 2 / r), 1, (float)(1 + 2 / r),
                         (float)(-1 / r),    0, (float)(1 / r)};
        check_vals(&o[0], want, 6, 1e-5, "instancenorm");
    }
    rel(o, 1);
    /* BatchNormalization: y = (x - mean) / sqrt(var + eps) * scale + B */
    float mu[2] = {1, 2}, var[2] = {4, 0.25f};
    vx_tensor mt = mkf(1, cd, mu), vt = mkf(1, cd, var);
    vx_tensor *in4[5] = {&xi, &isc, &ib, &mt, &vt};
    nb_init(&b, "BatchNormalization");
    a_float(&b, "epsilon", 0);
    CHECK_EQ_INT(run(&b, 15, in4, 5, o, 1), 0);
    {
        float want[6] = {1, 2, 3, 4, 8, 12};
        check_vals(&o[0], want, 6, 1e-6, "batchnorm");
    }
    rel(o, 1);
    nb_init(&b, "BatchNormalization");
    a_int(&b, "training_mode", 1);
    CHECK_EQ_INT(run(&b, 15, in4, 5, o, 1), VOX_ERR_UNSUPPORTED);
    vx_tensor *in5[5] = {&xi, &s, &ib, &mt, &vt};
    nb_init(&b, "BatchNormalization");
    CHECK_EQ_INT(run(&b, 15, in5, 5, o, 1), VOX_ERR_MODEL);
    vx_tensor_release(&x);
    vx_tensor_release(&s);
    vx_tensor_release(&bb);
    vx_tensor_release(&s6);
    vx_tensor_release(&xi);
    vx_tensor_release(&isc);
    vx_tensor_release(&ib);
    vx_tensor_release(&mt);
    vx_tensor_release(&vt);
}

/* ------------------------------------------------------------------ pooling */

static void test_pools(void) {
    nodebuf b;
    vx_tensor o[2];
    float xv[5] = {1, 3, 2, 5, 4};
    int64_t xd[3] = {1, 1, 5};
    vx_tensor x = mkf(3, xd, xv);
    vx_tensor *in[1] = {&x};
    static const int64_t k2[1] = {2}, k3[1] = {3}, s2[1] = {2}, p11[2] = {1, 1};
    nb_init(&b, "MaxPool");
    a_ints(&b, "kernel_shape", k2, 1);
    CHECK_EQ_INT(run(&b, 12, in, 1, o, 2), 0);
    {
        float want[4] = {3, 3, 5, 5};
        check_vals(&o[0], want, 4, 0, "maxpool");
        const int64_t *ix = o[1].data;
        CHECK(o[1].numel == 4 && ix[0] == 1 && ix[1] == 1 && ix[2] == 3 && ix[3] == 3);
    }
    rel(o, 2);
    nb_init(&b, "MaxPool");
    a_ints(&b, "kernel_shape", k2, 1);
    a_ints(&b, "strides", s2, 1);
    CHECK_EQ_INT(run(&b, 12, in, 1, o, 1), 0);
    {
        float want[2] = {3, 5};
        check_vals(&o[0], want, 2, 0, "maxpool s2");
    }
    rel(o, 1);
    nb_init(&b, "MaxPool");
    a_ints(&b, "kernel_shape", k2, 1);
    a_ints(&b, "strides", s2, 1);
    a_int(&b, "ceil_mode", 1);
    CHECK_EQ_INT(run(&b, 12, in, 1, o, 1), 0);
    {
        float want[3] = {3, 5, 4};
        check_vals(&o[0], want, 3, 0, "maxpool ceil");
    }
    rel(o, 1);
    nb_init(&b, "AveragePool");
    a_ints(&b, "kernel_shape", k3, 1);
    a_ints(&b, "pads", p11, 2);
    CHECK_EQ_INT(run(&b, 11, in, 1, o, 1), 0);
    {
        float want[5] = {2, 2, 10 / 3.0f, 11 / 3.0f, 4.5f};
        check_vals(&o[0], want, 5, 1e-6, "avgpool exclude pad");
    }
    rel(o, 1);
    nb_init(&b, "AveragePool");
    a_ints(&b, "kernel_shape", k3, 1);
    a_ints(&b, "pads", p11, 2);
    a_int(&b, "count_include_pad", 1);
    CHECK_EQ_INT(run(&b, 11, in, 1, o, 1), 0);
    {
        float want[5] = {4 / 3.0f, 2, 10 / 3.0f, 11 / 3.0f, 3};
        check_vals(&o[0], want, 5, 1e-6, "avgpool include pad");
    }
    rel(o, 1);
    nb_init(&b, "AveragePool");
    a_ints(&b, "kernel_shape", k3, 1);
    a_str(&b, "auto_pad", "SAME_UPPER");
    CHECK_EQ_INT(run(&b, 11, in, 1, o, 1), 0);
    {
        float want[5] = {2, 2, 10 / 3.0f, 11 / 3.0f, 4.5f};
        check_vals(&o[0], want, 5, 1e-6, "avgpool SAME_UPPER");
    }
    rel(o, 1);
    /* 2-D max pool 2x2 stride 2 on 4x4 */
    float x4[16];
    for (int i = 0; i < 16; i++) x4[i] = (float)((i * 7) % 16);
    int64_t x4d[4] = {1, 1, 4, 4};
    vx_tensor xx = mkf(4, x4d, x4);
    vx_tensor *in2[1] = {&xx};
    static const int64_t k22[2] = {2, 2}, s22[2] = {2, 2};
    nb_init(&b, "MaxPool");
    a_ints(&b, "kernel_shape", k22, 2);
    a_ints(&b, "strides", s22, 2);
    CHECK_EQ_INT(run(&b, 12, in2, 1, o, 1), 0);
    {
        float want[4];
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 2; c++) {
                float m = -1;
                for (int dr = 0; dr < 2; dr++)
                    for (int dc = 0; dc < 2; dc++) m = fmaxf(m, x4[(2 * r + dr) * 4 + 2 * c + dc]);
                want[r * 2 + c] = m;
            }
        check_vals(&o[0], want, 4, 0, "maxpool 2d");
    }
    rel(o, 1);
    nb_init(&b, "GlobalAveragePool");
    CHECK_EQ_INT(run(&b, 12, in2, 1, o, 1), 0);
    {
        float want[1] = {7.5f};
        check_vals(&o[0], want, 1, 1e-6, "global avg");
        int64_t od[4] = {1, 1, 1, 1};
        check_dims(&o[0], 4, od, "global avg");
    }
    rel(o, 1);
    nb_init(&b, "GlobalMaxPool");
    CHECK_EQ_INT(run(&b, 12, in2, 1, o, 1), 0);
    {
        float want[1] = {15};
        check_vals(&o[0], want, 1, 0, "global max");
    }
    rel(o, 1);
    static const int64_t khuge[1] = {(int64_t)1 << 62}, phuge[2] = {(int64_t)1 << 40, 0};
    nb_init(&b, "MaxPool");
    a_ints(&b, "kernel_shape", khuge, 1);
    CHECK_EQ_INT(run(&b, 12, in, 1, o, 1), VOX_ERR_MODEL); /* absurd kernel: no overflow */
    nb_init(&b, "AveragePool");
    a_ints(&b, "kernel_shape", k2, 1);
    a_ints(&b, "pads", phuge, 2);
    CHECK_EQ_INT(run(&b, 12, in, 1, o, 1), VOX_ERR_MODEL);
    nb_init(&b, "MaxPool");
    CHECK_EQ_INT(run(&b, 12, in, 1, o, 1), VOX_ERR_MODEL); /* no kernel_shape */
    static const int64_t k9[1] = {9};
    nb_init(&b, "MaxPool");
    a_ints(&b, "kernel_shape", k9, 1);
    CHECK_EQ_INT(run(&b, 12, in, 1, o, 1), VOX_ERR_MODEL); /* window larger than input */
    vx_tensor_release(&x);
    vx_tensor_release(&xx);
}

int main(void) {
    test_conv_1d_hand();
    test_conv_groups_hand();
    test_conv_2d_onnx();
    test_conv_random_nd();
    test_conv_errors();
    test_convtr_hand();
    test_convtr_random();
    test_convtr_errors();
    test_matmul();
    test_matmul_gather();
    test_matmul_band();
    test_matmul_threads();
    test_gemm();
    test_softmax();
    test_reduce();
    test_reduce_rows();
    test_argmax();
    test_norms();
    test_pools();
    TEST_SUMMARY();
}

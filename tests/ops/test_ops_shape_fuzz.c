/* Robustness of the shape kernels on random (mostly invalid) inputs: every call must
 * either succeed with a well-formed output or fail with a VOX_ERR_* code and a message.
 * Run under ASan/UBSan this also proves no out-of-bounds access on bad indices/shapes. */
#include "test.h"
#include "ops/op.h"
#include "vox.h"
#include <stdint.h>

static uint64_t st = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) { /* xorshift64*: fixed seed, reproducible */
    st ^= st >> 12;
    st ^= st << 25;
    st ^= st >> 27;
    return st * 0x2545f4914f6cdd1dULL;
}
static int64_t rint_in(int64_t lo, int64_t hi) {
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static const char *ops[] = {
    "Constant",
    "Shape",
    "Size",
    "Reshape",
    "Flatten",
    "Squeeze",
    "Unsqueeze",
    "Concat",
    "Split",
    "Slice",
    "Transpose",
    "Expand",
    "Tile",
    "Pad",
    "Gather",
    "GatherElements",
    "GatherND",
    "ScatterND",
    "ScatterElements",
    "NonZero",
    "OneHot",
    "TopK",
    "ConstantOfShape",
    "Range",
    "CumSum",
    "Trilu",
    "EyeLike",
    "RandomNormal",
    "RandomUniform",
    "RandomNormalLike",
    "RandomUniformLike",
};
static const int dtypes[] = {VX_FLOAT, VX_INT64, VX_INT64, VX_INT32, VX_UINT8, VX_BOOL, VX_DOUBLE};

static void rand_tensor(vx_tensor *t) {
    int dt = dtypes[rnd() % (sizeof dtypes / sizeof dtypes[0])];
    int nd = (int)rint_in(0, 4);
    int64_t dims[4];
    for (int i = 0; i < nd; i++) dims[i] = rnd() % 8 == 0 ? 0 : rint_in(1, 4);
    if (vx_tensor_alloc(t, dt, nd, dims)) {
        fprintf(stderr, "alloc\n");
        exit(2);
    }
    for (int64_t i = 0; i < t->numel; i++) {
        int64_t v = rint_in(-5, 5);
        switch (dt) {
        case VX_FLOAT: ((float *)t->data)[i] = (float)v; break;
        case VX_DOUBLE: ((double *)t->data)[i] = (double)v / 2; break;
        case VX_INT64: ((int64_t *)t->data)[i] = v; break;
        case VX_INT32: ((int32_t *)t->data)[i] = (int32_t)v; break;
        default: ((uint8_t *)t->data)[i] = (uint8_t)(v & 1); break;
        }
    }
}

static const int64_t ints_pool[][4] = {{0, 1, 2, 3}, {-1, 0, 1, 2},  {2, 0, 1, 3},
                                       {1, 1, 2, 2}, {-2, -1, 5, 9}, {3, 2, 1, 0}};
static const float floats_pool[] = {1, 2, 3, 4};

int main(void) {
    char err[256];
    vx_rng rng;
    vx_rng_seed(&rng, 1);
    vx_op_ctx ctx = {.opset = 17, .rng = &rng, .threads = 1, .err = err, .errlen = sizeof err};
    const char *int_names[] = {"axis",  "batch_dims", "exclusive", "reverse",
                               "upper", "k",          "largest",   "allowzero",
                               "start", "end",        "value_int", "dtype"};
    const char *ints_names[] = {"axes", "perm", "split", "starts",
                                "ends", "pads", "shape", "value_ints"};
    int n_ok = 0, n_err = 0, bad = 0;
    for (int iter = 0; iter < 30000; iter++) {
        const char *op = ops[rnd() % (sizeof ops / sizeof ops[0])];
        ctx.opset = rnd() % 4 == 0 ? 11 : rnd() % 2 ? 13 : 17;
        vx_tensor tin[5] = {{0}}, vt = {0}, out[2] = {{0}};
        vx_tensor *in[5] = {0};
        int n_in = (int)rint_in(0, 5);
        for (int i = 0; i < n_in; i++) {
            if (rnd() % 10 == 0) continue; /* omitted optional input */
            rand_tensor(&tin[i]);
            in[i] = &tin[i];
        }
        vx_attr attrs[6];
        int na = (int)rint_in(0, 6);
        for (int i = 0; i < na; i++) {
            vx_attr a = {0};
            switch (rnd() % 5) {
            case 0:
            case 1:
                a.name = int_names[rnd() % (sizeof int_names / sizeof int_names[0])];
                a.type = VX_ATTR_INT;
                a.i = a.name[0] == 'd' ? dtypes[rnd() % 7] : rint_in(-4, 4);
                break;
            case 2:
                a.name = ints_names[rnd() % (sizeof ints_names / sizeof ints_names[0])];
                a.type = VX_ATTR_INTS;
                a.ints = ints_pool[rnd() % 6];
                a.n = rint_in(0, 4);
                break;
            case 3:
                a.name = rnd() % 2 ? "mode" : "reduction";
                a.type = VX_ATTR_STRING;
                a.s = (const char *[]){"constant", "reflect", "edge", "wrap",
                                       "add",      "mul",     "max",  "bogus"}[rnd() % 8];
                break;
            default:
                if (rnd() % 2) {
                    rand_tensor(&vt);
                    a.name = "value";
                    a.type = VX_ATTR_TENSOR;
                    a.t = &vt;
                } else {
                    a.name = rnd() % 2 ? "value_floats" : "seed";
                    a.type = a.name[0] == 's' ? VX_ATTR_FLOAT : VX_ATTR_FLOATS;
                    a.f = 3;
                    a.floats = floats_pool;
                    a.n = rint_in(0, 4);
                }
            }
            attrs[i] = a;
        }
        int n_out = (int)rint_in(1, 2);
        vx_node node = {.name = "fuzz",
                        .op_type = op,
                        .domain = "",
                        .n_inputs = n_in,
                        .n_outputs = n_out,
                        .n_attrs = na,
                        .attrs = attrs};
        err[0] = 0;
        const vx_op_def *d = vx_op_find(op);
        CHECKF(d != NULL, "%s missing", op);
        if (!d) break;
        int rc = d->fn(&ctx, &node, in, n_in, out, n_out);
        if (rc == 0) {
            n_ok++;
            int64_t n = 1;
            for (int i = 0; i < out[0].ndim; i++) n *= out[0].dims[i];
            if (n != out[0].numel || (n && !out[0].data) || !vx_dtype_size(out[0].dtype)) {
                bad++;
                fprintf(stderr, "iter %d %s: malformed output\n", iter, op);
            }
        } else {
            n_err++;
            if (rc > 0 || rc < VOX_ERR_EMPTY || !err[0]) {
                bad++;
                fprintf(stderr, "iter %d %s: rc %d msg '%s'\n", iter, op, rc, err);
            }
        }
        for (int i = 0; i < 5; i++) vx_tensor_release(&tin[i]);
        for (int i = 0; i < 2; i++) vx_tensor_release(&out[i]);
        vx_tensor_release(&vt);
    }
    CHECK_EQ_INT(bad, 0);
    CHECKF(n_ok > 1000, "only %d successful calls", n_ok); /* the fuzz reaches real work */
    CHECKF(n_err > 1000, "only %d failing calls", n_err);
    printf("fuzz: %d ok, %d rejected\n", n_ok, n_err);
    TEST_SUMMARY();
}

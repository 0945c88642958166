/* WaveNet's gate Mul(Tanh(Slice(a)), Sigmoid(Slice(a))), a = Add(x, g), becomes one step
 * (engine/fuse_gate.c vx_graph_fuse_gate, ops/ew_gate.c vx_gate_def), on hand-built graphs
 * compiled with the fusion and without it (VOX_FUSE_GATE=0):
 * - g zeros made by ConstantOfShape(Shape(x)) (value +0, -0 or absent; x holds -0s, which
 *   x + 0 turns into +0), g a graph input, either Add order, either Mul order: the fused
 *   graph has no Tanh, Sigmoid, Slice, Add (nor ConstantOfShape, Shape) step and gives the
 *   same bits as the nodes and as the gate computed here element by element with the
 *   kernel table's tanh / sigmoid, on 1 and 2 threads, rows shorter and longer than the
 *   op's block;
 * - a g of the same shape, one value per channel (a speaker's, [1, 2C, 1]), per time
 *   ([1, 1, T]) or a scalar runs fused; shapes it does not take (x and g both broadcast,
 *   an axis other than 2C channels at run time) run the nodes: same bits;
 * - a Conv whose fused residual Add is the gate's gives it back to the gate;
 * - an a read elsewhere keeps its Add (the gate reads a); gates it must not take (an
 *   intermediate that is a graph output, a Slice that is not an exact half) stay nodes.
 * Run without VOX_CPU, it re-runs itself once per other kernel path this CPU has: the
 * scalar table's tanh keeps a -0 that the SIMD ones do not, so only there does dropping
 * the Add of +0 (which makes x's -0s +0) show in the output. */
#include "engine/graph_internal.h"
#include "kernels/kernels.h"
#include "test.h"
#include "tgraph.h"
#include "util/tpool.h"
#include "vox.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    V_ZERO,     /* ConstantOfShape(Shape(x)) of +0, Add(x, z), Mul(t, s) */
    V_ZERO_NEG, /* of -0, Add(z, x), Mul(s, t) */
    V_ZERO_DEF, /* no value attribute (float 0) */
    V_G,        /* g a graph input, Add(x, g) */
    V_G_REV,    /* Add(g, x), Mul(s, t), Slices with steps and an end past 2C */
    V_CONV,     /* x -> Conv (residual Add fused by vx_graph_fuse) + g -> gate */
    V_A_OUT,    /* a is also a graph output: the Add stays */
    N_T_OUT,    /* Tanh's output is a graph output: no fusion */
    N_HALF,     /* Slices [1, C + 1) and [C + 1, 2C + 1): no fusion */
    V_N
};
static const char *const vnames[] = {"zero",   "zero-neg", "zero-default", "g",   "g-rev",
                                     "conv+g", "a-output", "t-output",     "half"};

#define CIN 3 /* the conv variant's input channels */

typedef struct gt_model {
    vx_model m;
    vx_node nodes[12];
    const char *io[12][6];
    vx_value_info ins[2], outs[2];
    const char *init_names[10];
    vx_tensor inits[10];
    int64_t sl[2][4]; /* each Slice's starts, ends, axes, steps */
    float w[64 * 2 * CIN], b[64 * 2];
    vx_attr value;
    vx_tensor value_t;
    float zval;
} gt_model;

static int zero_graph(int v) { return v == V_ZERO || v == V_ZERO_NEG || v == V_ZERO_DEF; }
static int add_rev(int v) { return v == V_ZERO_NEG || v == V_G_REV; }
static int mul_rev(int v) { return v == V_ZERO_NEG || v == V_G_REV; }

static void init(gt_model *t, int *n, const char *name, int dtype, void *data, int nd,
                 const int64_t *dims) {
    t->init_names[*n] = name;
    t->inits[*n] = tg_tens(dtype, data, nd, dims);
    (*n)++;
}

/* the next node of t (n counts them) */
#define NODE(...) (tg_node(&t->nodes[n], t->io[n], __VA_ARGS__), n++)

/* inputs x (and g): xn = Neg(x) [or the conv of x], a = Add(xn, g or zeros),
 * t = Tanh(Slice(a, 0:C)), s = Sigmoid(Slice(a, C:2C)), o = Mul(t, s) */
static void build(gt_model *t, int v, int64_t c) {
    memset(t, 0, sizeof *t);
    static const char *const names[] = {"x", "g"};
    int has_g = !zero_graph(v);
    tg_model(&t->m, t->nodes, t->ins, names, has_g ? 2 : 1, t->outs);
    for (int i = 0; i < 2; i++) t->ins[i].dtype = VX_FLOAT;
    static const int64_t one = 1;
    int64_t off = v == N_HALF;
    int64_t sl[2][4] = {{off, c + off, 1, 1},
                        {c + off, v == V_G_REV ? INT64_MAX : 2 * c + off, 1, 1}};
    memcpy(t->sl, sl, sizeof sl);
    int ni = 0;
    static const char *const sn[2][4] = {{"s0", "e0", "ax0", "st0"}, {"s1", "e1", "ax1", "st1"}};
    for (int i = 0; i < 2; i++)
        for (int q = 0; q < 4; q++) init(t, &ni, sn[i][q], VX_INT64, &t->sl[i][q], 1, &one);
    int n = 0;
    if (v == V_CONV) {
        for (int i = 0; i < 2 * c * CIN; i++) t->w[i] = (float)((i * 37) % 23 - 11) / 16.0f;
        for (int i = 0; i < 2 * c; i++) t->b[i] = (float)((i * 5) % 7 - 3) / 8.0f;
        init(t, &ni, "w", VX_FLOAT, t->w, 3, (int64_t[]){2 * c, CIN, 1});
        init(t, &ni, "b", VX_FLOAT, t->b, 1, (int64_t[]){2 * c});
        static const char *const ci[] = {"x", "w", "b"};
        NODE("Conv", 3, ci, "xn");
    } else {
        static const char *const ni_[] = {"x"};
        NODE("Neg", 1, ni_, "xn");
    }
    t->m.init_names = t->init_names;
    t->m.inits = t->inits;
    t->m.n_inits = ni;
    const char *z = "g";
    if (zero_graph(v)) {
        static const char *const shi[] = {"xn"}, *const czi[] = {"sh"};
        NODE("Shape", 1, shi, "sh");
        vx_node *cz = &t->nodes[n];
        NODE("ConstantOfShape", 1, czi, "zeros");
        if (v != V_ZERO_DEF) {
            t->zval = v == V_ZERO_NEG ? -0.0f : 0.0f;
            t->value_t = tg_tens(VX_FLOAT, &t->zval, 1, &one);
            t->value = (vx_attr){.name = "value", .type = VX_ATTR_TENSOR, .t = &t->value_t};
            cz->attrs = &t->value;
            cz->n_attrs = 1;
        }
        z = "zeros";
    }
    const char *ai[] = {add_rev(v) ? z : "xn", add_rev(v) ? "xn" : z};
    NODE("Add", 2, ai, "a");
    static const char *const s0i[] = {"a", "s0", "e0", "ax0", "st0"};
    static const char *const s1i[] = {"a", "s1", "e1", "ax1", "st1"};
    /* steps given only where the variant says so (V_G_REV), else absent (4 inputs) */
    NODE("Slice", v == V_G_REV ? 5 : 4, s0i, "ts");
    static const char *const ti[] = {"ts"}, *const si[] = {"ss"};
    NODE("Tanh", 1, ti, "t");
    NODE("Slice", v == V_G_REV ? 5 : 4, s1i, "ss");
    NODE("Sigmoid", 1, si, "s");
    const char *mi[] = {mul_rev(v) ? "s" : "t", mul_rev(v) ? "t" : "s"};
    NODE("Mul", 2, mi, "o");
    t->m.n_nodes = n;
    t->outs[0].name = "o";
    t->outs[1].name = v == V_A_OUT ? "a" : "t";
    t->m.n_outputs = v == V_A_OUT || v == N_T_OUT ? 2 : 1;
}

static float val(int64_t i, unsigned m) {
    int64_t r = (i * m) % 2003;
    return r % 5 == 0 ? 0.0f : (float)r / 250.0f - 4.0f; /* zeros: Neg makes -0s */
}

/* One run's shapes: x [1, xc, xt] (the conv variant: [1, CIN, xt]), g [gd...]. */
typedef struct shapes {
    int64_t xc, xt;
    int gnd;
    int64_t gd[3];
    int fast; /* the fused step is expected to compute it itself (else the nodes) */
} shapes;

/* The gate computed here, element by element (one-element calls of the kernel table:
 * the fused step's rows start and end elsewhere in its calls than the nodes' do). */
static void reference(int v, const shapes *sh, int64_t c, const float *x, const float *g,
                      float *ref) {
    const vx_kernels *k = vx_kernels_get();
    int64_t tl = sh->xt;
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t i = 0; i < tl; i++) {
            float a[2], r[2];
            for (int h = 0; h < 2; h++) {
                int64_t cc = ch + h * c, gi = 0;
                float xn = -x[cc * tl + i], z;
                if (zero_graph(v)) {
                    z = v == V_ZERO_NEG ? -0.0f : 0.0f;
                } else { /* g broadcast into [1, 2c, tl] */
                    int64_t gc = sh->gnd >= 2 ? sh->gd[sh->gnd - 2] : 1,
                            gt = sh->gnd >= 1 ? sh->gd[sh->gnd - 1] : 1;
                    gi = (gc > 1 ? cc : 0) * gt + (gt > 1 ? i : 0);
                    z = g[gi];
                }
                a[h] = add_rev(v) ? z + xn : xn + z;
            }
            k->tanh_f32(&a[0], &r[0], 1);
            k->sigmoid_f32(&a[1], &r[1], 1);
            ref[ch * tl + i] = mul_rev(v) ? r[1] * r[0] : r[0] * r[1];
        }
}

static long fast_runs, node_runs;

/* Runs both graphs; 1 if the outputs have the same bytes as each other and (where this
 * file can compute it) as the gate computed here. */
static int same(const vx_graph *gf, const vx_graph *gu, int v, int64_t c, const shapes *sh,
                vx_tpool *pool) {
    int64_t xc = v == V_CONV ? CIN : sh->xc, xdims[3] = {1, xc, sh->xt}, nx = xc * sh->xt, ng = 1;
    for (int d = 0; d < sh->gnd; d++) ng *= sh->gd[d];
    int64_t tl = sh->xt, gt = sh->gnd ? sh->gd[sh->gnd - 1] : 1;
    if (gt > tl) tl = gt;
    int64_t no = c * tl;
    float *x = malloc((size_t)nx * sizeof *x), *g = malloc((size_t)ng * sizeof *g),
          *ref = malloc((size_t)(no ? no : 1) * sizeof *ref);
    for (int64_t i = 0; i < nx; i++) x[i] = val(i, 2654435761u);
    for (int64_t i = 0; i < ng; i++) g[i] = val(i, 40503u) / 2.0f;
    int check_ref = v != V_CONV && sh->xc == 2 * c && sh->xt == tl;
    if (check_ref) reference(v, sh, c, x, g, ref);
    vx_tensor in[2] = {tg_tens(VX_FLOAT, x, 3, xdims), tg_tens(VX_FLOAT, g, sh->gnd, sh->gd)};
    vx_tensor y1[2] = {0}, y2[2] = {0};
    vx_run_opts o;
    vx_run_opts_init(&o);
    o.pool = pool;
    o.threads = pool ? 2 : 1;
    int n_in = zero_graph(v) ? 1 : 2;
    long f0 = vx_gate_fast_runs();
    CHECK_EQ_INT(vx_graph_run(gf, &o, in, n_in, y1), 0);
    long took = vx_gate_fast_runs() - f0;
    CHECK_EQ_INT(vx_graph_run(gu, &o, in, n_in, y2), 0);
    CHECKF(took == sh->fast && vx_gate_fast_runs() == f0 + took, "%s: the fused step %s", vnames[v],
           took ? "computed it itself" : "ran the nodes");
    int ok = y1[0].numel == no && y2[0].numel == no && y1[0].ndim == 3 && y1[0].dims[1] == c &&
             !memcmp(y1[0].data, y2[0].data, (size_t)no * sizeof(float)) &&
             (!check_ref || !memcmp(y1[0].data, ref, (size_t)no * sizeof(float)));
    if (gf->model->n_outputs > 1) /* the second output (a or t) too */
        ok &= y1[1].numel == y2[1].numel &&
              !memcmp(y1[1].data, y2[1].data, (size_t)y1[1].numel * sizeof(float));
    for (int i = 0; i < 2; i++) {
        vx_tensor_release(&y1[i]);
        vx_tensor_release(&y2[i]);
    }
    free(x), free(g), free(ref);
    if (sh->fast)
        fast_runs++;
    else
        node_runs++;
    return ok;
}

/* Fused gate steps of g; those that took the Add in *with_add, those with a second
 * input in *two_in. */
static int count_gates(const vx_graph *g, int *with_add, int *two_in) {
    int n = 0;
    *with_add = *two_in = 0;
    for (int k = 0; k < g->n_steps; k++) {
        const vx_step *st = &g->steps[k];
        if (st->def != &vx_gate_def) continue;
        n++;
        *with_add += st->prep.gate && st->prep.gate->add;
        *two_in += st->n_in == 2;
    }
    return n;
}

static void check_counts(const vx_graph *gf, const vx_graph *gu, int v) {
    static const char *const ops[] = {"Tanh", "Sigmoid",         "Slice",
                                      "Add",  "ConstantOfShape", "Shape"};
    int fuses = v < N_T_OUT, with_add, two_in;
    int gates = count_gates(gf, &with_add, &two_in);
    CHECKF(gates == fuses, "%s: %d fused gates", vnames[v], gates);
    CHECKF(count_gates(gu, &with_add, &two_in) == 0, "%s: gate with VOX_FUSE_GATE=0", vnames[v]);
    count_gates(gf, &with_add, &two_in);
    CHECKF(with_add == (fuses && v != V_A_OUT), "%s: %d gates took the Add", vnames[v], with_add);
    CHECKF(two_in == (v == V_G || v == V_G_REV || v == V_CONV), "%s: %d gates read g", vnames[v],
           two_in);
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        int want_u = !strcmp(ops[i], "Slice") ? 2 : 1;
        if (!zero_graph(v) && (!strcmp(ops[i], "ConstantOfShape") || !strcmp(ops[i], "Shape")))
            want_u = 0;
        if (v == V_CONV && !strcmp(ops[i], "Add")) want_u = 0; /* the Conv's residual */
        int want_f = fuses ? (v == V_A_OUT && !strcmp(ops[i], "Add")) : want_u;
        CHECKF(tg_count_op(gu, ops[i]) == want_u, "%s: unfused graph has %d %s steps", vnames[v],
               tg_count_op(gu, ops[i]), ops[i]);
        CHECKF(tg_count_op(gf, ops[i]) == want_f, "%s: fused graph has %d %s steps", vnames[v],
               tg_count_op(gf, ops[i]), ops[i]);
    }
    if (v == V_CONV) { /* the conv is plain again in the fused graph, still Conv+Add unfused */
        for (int k = 0; k < gf->n_steps; k++)
            if (!strcmp(gf->steps[k].node->op_type, "Conv"))
                CHECKF(!gf->steps[k].prep.res, "conv+g: the conv kept the gate's Add");
    }
}

int main(int argc, char **argv) {
    (void)argc;
    printf("kernel path %s\n", vx_kernels_get()->name);
    vx_tpool *pool = vx_tpool_create(2);
    static const int64_t cs[] = {1, 3, 64};
    /* lengths: one element, under the op's 512-element block, over it, and long enough
     * for 2 threads (2 x 64 x 1100 elements) */
    static const int64_t tls[] = {1, 17, 1100};
    for (size_t ci = 0; ci < sizeof cs / sizeof *cs; ci++) {
        int64_t c = cs[ci];
        for (int v = 0; v < V_N; v++) {
            gt_model t;
            build(&t, v, c);
            vx_graph *gf = tg_compile(&t.m, "VOX_FUSE_GATE", 1),
                     *gu = tg_compile(&t.m, "VOX_FUSE_GATE", 0);
            if (!gf || !gu) return 1;
            check_counts(gf, gu, v);
            int fuses = v < N_T_OUT;
            int64_t xc = v == N_HALF ? 2 * c + 1 : 2 * c;
            for (size_t ti = 0; ti < sizeof tls / sizeof *tls; ti++) {
                int64_t tl = tls[ti];
                shapes runs[8];
                int nr = 0;
                if (zero_graph(v) || v == N_HALF || v == N_T_OUT) {
                    runs[nr++] = (shapes){xc, tl, 3, {1, xc, tl}, fuses};
                    /* 3C channels at run time: not two halves, the nodes run */
                    if (zero_graph(v)) runs[nr++] = (shapes){3 * c, tl, 0, {0}, 0};
                } else {
                    runs[nr++] = (shapes){xc, tl, 3, {1, xc, tl}, fuses}; /* same shape */
                    runs[nr++] = (shapes){xc, tl, 3, {1, xc, 1}, fuses};  /* per channel */
                    runs[nr++] = (shapes){xc, tl, 3, {1, 1, tl}, fuses};  /* per time */
                    runs[nr++] = (shapes){xc, tl, 1, {1}, fuses};         /* a scalar */
                    /* x and g both broadcast: the gate reading a (the Add kept) still
                     * computes it */
                    runs[nr++] = (shapes){xc, 1, 3, {1, 1, tl}, v == V_A_OUT};
                    /* (V_G_REV's sigmoid half runs to the end: 2C channels, no Mul) */
                    if (v != V_G_REV) runs[nr++] = (shapes){3 * c, tl, 3, {1, 3 * c, tl}, 0};
                    if (v == V_CONV) nr = 2; /* x is the conv's: [1, CIN, T]; g fits it */
                }
                if (!zero_graph(v) && v != N_HALF && v != N_T_OUT && v != V_CONV && tl == 1)
                    nr = 4; /* "both broadcast" is the same-shape run at length 1 */
                for (int r = 0; r < nr; r++)
                    for (int th = 0; th < 2; th++)
                        CHECKF(same(gf, gu, v, c, &runs[r], th ? pool : NULL),
                               "%s, C %lld, x [1, %lld, %lld], g rank %d [.., %lld, %lld], %d "
                               "thread(s): differs from the nodes or from the gate computed here",
                               vnames[v], (long long)c, (long long)runs[r].xc,
                               (long long)runs[r].xt, runs[r].gnd,
                               (long long)(runs[r].gnd > 1 ? runs[r].gd[runs[r].gnd - 2] : 1),
                               (long long)(runs[r].gnd ? runs[r].gd[runs[r].gnd - 1] : 1), th + 1);
            }
            vx_graph_free(gf);
            vx_graph_free(gu);
        }
    }
    CHECKF(fast_runs > 0 && node_runs > 0, "runs: %ld fused, %ld through the nodes", fast_runs,
           node_runs);
    vx_tpool_free(pool);
    if (!getenv("VOX_CPU")) {
        static const char *const paths[] = {"avx512", "avx2", "neon", "scalar"};
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
            if (!vx_kernels_by_name(paths[i]) || !strcmp(paths[i], vx_kernels_get()->name))
                continue;
            int st = test_run_child(argv[0], (const char *const[]){"VOX_CPU", paths[i], NULL});
            CHECKF(st == 0, "kernel path %s: child exited with %d", paths[i], st);
        }
    }
    TEST_SUMMARY();
}

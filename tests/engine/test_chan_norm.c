/* VITS's channel LayerNorm (Transpose, ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt,
 * Div, Mul gamma, Add beta, Transpose) fused into one step (engine/fuse_norm.c,
 * ops/nn_norm.c), on a hand-built graph of exactly that structure, compiled with the
 * fusion and without it (VOX_FUSE_NORM=0):
 * - the graph compiles to one ChannelLayerNorm step and agrees with the nodes within
 *   float rounding (the channel sums run in another order) for several [n, c, t];
 * - a variant it must not take (exponent 3, or the deviation also a graph output) stays
 *   unfused and still runs. */
#include "engine/graph_internal.h"
#include "test.h"
#include "tgraph.h"
#include "vox.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N_NODES = 11 };

typedef struct norm_model {
    vx_model m;
    vx_node nodes[N_NODES];
    const char *io[N_NODES][6];
    vx_value_info ins[1], outs[2];
    const char *init_names[4];
    vx_tensor inits[4];
    float two, eps, gamma[256], beta[256];
    int64_t perm[3], axes[1], one, c;
    vx_attr tr_attr, mean_attr;
} norm_model;

static void build(norm_model *t, int64_t c, float expo, int d_out) {
    memset(t, 0, sizeof *t);
    static const char *const names[] = {"x"};
    tg_model(&t->m, t->nodes, t->ins, names, 1, t->outs);
    t->ins[0].dtype = VX_FLOAT;
    t->c = c;
    t->two = expo;
    t->eps = 1e-5f;
    for (int64_t i = 0; i < c; i++) {
        t->gamma[i] = 0.5f + 0.01f * (float)i;
        t->beta[i] = 0.1f * (float)(i % 7) - 0.3f;
    }
    t->one = 1;
    static const char *const in_names[] = {"two", "eps", "gamma", "beta"};
    float *data[] = {&t->two, &t->eps, t->gamma, t->beta};
    for (int i = 0; i < 4; i++) {
        t->init_names[i] = in_names[i];
        t->inits[i] = tg_tens(VX_FLOAT, data[i], i < 2 ? 0 : 1, i < 2 ? NULL : &t->c);
    }
    t->m.init_names = t->init_names;
    t->m.inits = t->inits;
    t->m.n_inits = 4;
    t->perm[0] = 0, t->perm[1] = 2, t->perm[2] = 1;
    t->axes[0] = -1;
    t->tr_attr = (vx_attr){.name = "perm", .type = VX_ATTR_INTS, .ints = t->perm, .n = 3};
    t->mean_attr = (vx_attr){.name = "axes", .type = VX_ATTR_INTS, .ints = t->axes, .n = 1};
    struct {
        const char *op;
        int n_in;
        const char *in[2], *out;
    } spec[N_NODES] = {
        {"Transpose", 1, {"x"}, "t"},    {"ReduceMean", 1, {"t"}, "m"},
        {"Sub", 2, {"t", "m"}, "d"},     {"Pow", 2, {"d", "two"}, "p"},
        {"ReduceMean", 1, {"p"}, "v"},   {"Add", 2, {"v", "eps"}, "a"},
        {"Sqrt", 1, {"a"}, "s"},         {"Div", 2, {"d", "s"}, "n"},
        {"Mul", 2, {"n", "gamma"}, "g"}, {"Add", 2, {"beta", "g"}, "b"},
        {"Transpose", 1, {"b"}, "y"},
    };
    for (int i = 0; i < N_NODES; i++) {
        tg_node(&t->nodes[i], t->io[i], spec[i].op, spec[i].n_in, spec[i].in, spec[i].out);
        if (!strcmp(spec[i].op, "Transpose")) t->nodes[i].attrs = &t->tr_attr;
        if (!strcmp(spec[i].op, "ReduceMean")) t->nodes[i].attrs = &t->mean_attr;
        t->nodes[i].n_attrs = t->nodes[i].attrs ? 1 : 0;
    }
    t->m.n_nodes = N_NODES;
    t->outs[0].name = "y";
    t->outs[1].name = "d";
    t->m.n_outputs = d_out ? 2 : 1;
}

static int count_norm_steps(const vx_graph *g) {
    int n = 0;
    for (int k = 0; k < g->n_steps; k++)
        n += g->steps[k].node && g->steps[k].def == &vx_chan_norm_def;
    return n;
}

/* Runs both graphs on random x [nb, c, tl]; the worst |fused - unfused| relative to 1 +
 * |unfused| (the outputs are O(1) by construction). */
static double compare(const vx_graph *gf, const vx_graph *gu, int64_t nb, int64_t c, int64_t tl,
                      int n_out) {
    int64_t dims[3] = {nb, c, tl}, n = nb * c * tl;
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = (float)((i * 2654435761u) % 2003) / 250.0f - 4.0f;
    vx_tensor in = tg_tens(VX_FLOAT, x, 3, dims), y1[2] = {0}, y2[2] = {0};
    vx_run_opts o;
    vx_run_opts_init(&o);
    CHECK_EQ_INT(vx_graph_run(gf, &o, &in, 1, y1), 0);
    CHECK_EQ_INT(vx_graph_run(gu, &o, &in, 1, y2), 0);
    double worst = 0;
    if (y1[0].numel == n && y2[0].numel == n)
        for (int64_t i = 0; i < n; i++) {
            float a = ((float *)y1[0].data)[i], b = ((float *)y2[0].data)[i];
            double e = fabs((double)a - b) / (1.0 + fabs(b));
            if (!(e <= worst)) worst = e;
        }
    else
        worst = INFINITY;
    CHECK(y1[0].ndim == 3 && y1[0].dims[0] == nb && y1[0].dims[1] == c && y1[0].dims[2] == tl);
    for (int i = 0; i < n_out; i++) {
        vx_tensor_release(&y1[i]);
        vx_tensor_release(&y2[i]);
    }
    free(x);
    return worst;
}

int main(void) {
    static const int64_t shapes[][3] = {
        {1, 192, 300}, {1, 7, 13}, {2, 5, 1}, {1, 1, 9}, {3, 64, 40}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        norm_model t;
        build(&t, shapes[s][1], 2.0f, 0);
        vx_graph *gf = tg_compile(&t.m, "VOX_FUSE_NORM", 1),
                 *gu = tg_compile(&t.m, "VOX_FUSE_NORM", 0);
        if (!gf || !gu) return 1;
        CHECK_EQ_INT(count_norm_steps(gf), 1);
        CHECK_EQ_INT(count_norm_steps(gu), 0);
        double e = compare(gf, gu, shapes[s][0], shapes[s][1], shapes[s][2], 1);
        CHECKF(e <= 2e-6, "fused vs nodes [%lld, %lld, %lld]: %g", (long long)shapes[s][0],
               (long long)shapes[s][1], (long long)shapes[s][2], e);
        vx_graph_free(gf);
        vx_graph_free(gu);
    }
    /* not this norm: the exponent is 3, or d is read outside (a graph output) */
    for (int variant = 0; variant < 2; variant++) {
        norm_model t;
        build(&t, 16, variant ? 2.0f : 3.0f, variant);
        vx_graph *gf = tg_compile(&t.m, "VOX_FUSE_NORM", 1),
                 *gu = tg_compile(&t.m, "VOX_FUSE_NORM", 0);
        if (!gf || !gu) return 1;
        CHECKF(count_norm_steps(gf) == 0, "variant %d fused", variant);
        CHECK(compare(gf, gu, 1, 16, 20, 1 + variant) == 0.0);
        vx_graph_free(gf);
        vx_graph_free(gu);
    }
    TEST_SUMMARY();
}

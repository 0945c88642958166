/* A zero Pad of the time axis read only by a Conv becomes the conv's own padding
 * (engine/fuse.c take_pad, ops_nn.c add_pads), on hand-built graphs compiled with the
 * fusion and without it (VOX_FUSE_PAD=0):
 * - Pad -> Conv and LeakyRelu -> Pad -> Conv (the LeakyRelu is then read on the fly too)
 *   compile without a Pad step and give the same bits as the nodes, for several pads,
 *   kernels, dilations and the conv's own pads, on 1 and 2 threads;
 * - Pads it must not take (a value other than +0, -0 included; a channel-axis pad; the
 *   padded tensor also a graph output; reflect mode) stay as they are and still run. */
#include "engine/graph_internal.h"
#include "test.h"
#include "tgraph.h"
#include "util/tpool.h"
#include "vox.h"
#include <stdlib.h>
#include <string.h>

typedef struct pc_model {
    vx_model m;
    vx_node nodes[3];
    const char *io[3][6];
    vx_value_info ins[1], outs[2];
    const char *init_names[4];
    vx_tensor inits[4];
    int64_t pads[6], wdims[3], c_out, one;
    float w[8 * 8 * 5], b[8], value;
    int64_t conv_pads[2], dil;
    vx_attr conv_attr[2], pad_attr, leaky_attr;
} pc_model;

enum { V_PLAIN, V_LEAKY, V_VALUE, V_NEGZERO, V_CHANNEL, V_OUTPUT, V_REFLECT };

/* x [1, c, t] -> (LeakyRelu) -> Pad(pl, pr) -> Conv(k, dil, own pads) -> y */
static void build(pc_model *t, int variant, int64_t c, int64_t k, int64_t dil, int64_t pl,
                  int64_t pr, int64_t cpl, int64_t cpr) {
    memset(t, 0, sizeof *t);
    static const char *const names[] = {"x"};
    tg_model(&t->m, t->nodes, t->ins, names, 1, t->outs);
    t->ins[0].dtype = VX_FLOAT;
    t->c_out = c;
    t->wdims[0] = c, t->wdims[1] = c, t->wdims[2] = k;
    for (int64_t i = 0; i < c * c * k; i++)
        t->w[i] = (float)((i * 40503u) % 211) / 105.0f - 1.0f;
    for (int64_t i = 0; i < c; i++) t->b[i] = 0.1f * (float)(i % 5) - 0.2f;
    t->pads[2] = pl, t->pads[5] = pr;
    if (variant == V_CHANNEL) t->pads[1] = 1;
    t->value = variant == V_VALUE ? 0.5f : variant == V_NEGZERO ? -0.0f : 0.0f;
    t->one = 6;
    static const char *const in_names[] = {"w", "b", "pads", "value"};
    t->inits[0] = tg_tens(VX_FLOAT, t->w, 3, t->wdims);
    t->inits[1] = tg_tens(VX_FLOAT, t->b, 1, &t->c_out);
    t->inits[2] = tg_tens(VX_INT64, t->pads, 1, &t->one);
    t->inits[3] = tg_tens(VX_FLOAT, &t->value, 0, NULL);
    for (int i = 0; i < 4; i++) t->init_names[i] = in_names[i];
    t->m.init_names = t->init_names;
    t->m.inits = t->inits;
    t->m.n_inits = 4;
    int leaky = variant == V_LEAKY, n = 0;
    if (leaky) {
        static const char *const li[] = {"x"};
        tg_node(&t->nodes[n], t->io[n], "LeakyRelu", 1, li, "l");
        t->leaky_attr = (vx_attr){.name = "alpha", .type = VX_ATTR_FLOAT, .f = 0.1f};
        t->nodes[n].attrs = &t->leaky_attr;
        t->nodes[n++].n_attrs = 1;
    }
    const char *pi[] = {leaky ? "l" : "x", "pads", "value"};
    tg_node(&t->nodes[n], t->io[n], "Pad", 3, pi, "p");
    if (variant == V_REFLECT) {
        t->pad_attr = (vx_attr){.name = "mode", .type = VX_ATTR_STRING, .s = "reflect", .s_len = 7};
        t->nodes[n].attrs = &t->pad_attr;
        t->nodes[n].n_attrs = 1;
        t->nodes[n].n_inputs = 2;
    }
    n++;
    static const char *const ci[] = {"p", "w", "b"};
    tg_node(&t->nodes[n], t->io[n], "Conv", 3, ci, "y");
    t->conv_pads[0] = cpl, t->conv_pads[1] = cpr;
    t->dil = dil;
    t->conv_attr[0] = (vx_attr){.name = "pads", .type = VX_ATTR_INTS, .ints = t->conv_pads, .n = 2};
    t->conv_attr[1] = (vx_attr){.name = "dilations", .type = VX_ATTR_INTS, .ints = &t->dil, .n = 1};
    t->nodes[n].attrs = t->conv_attr;
    t->nodes[n++].n_attrs = 2;
    t->m.n_nodes = n;
    t->outs[0].name = "y";
    t->outs[1].name = "p";
    t->m.n_outputs = variant == V_OUTPUT ? 2 : 1;
}

/* Runs both graphs on x [1, c, tl]; 1 if every output has the same bytes. */
static int same(const vx_graph *gf, const vx_graph *gu, int64_t c, int64_t tl, int n_out,
                vx_tpool *pool) {
    int64_t dims[3] = {1, c, tl}, n = c * tl;
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = (float)((i * 2654435761u) % 2003) / 250.0f - 4.0f;
    vx_tensor in = tg_tens(VX_FLOAT, x, 3, dims), y1[2] = {0}, y2[2] = {0};
    vx_run_opts o;
    vx_run_opts_init(&o);
    o.pool = pool;
    o.threads = pool ? 2 : 1;
    CHECK_EQ_INT(vx_graph_run(gf, &o, &in, 1, y1), 0);
    CHECK_EQ_INT(vx_graph_run(gu, &o, &in, 1, y2), 0);
    int ok = 1;
    for (int i = 0; i < n_out; i++) {
        ok &= y1[i].numel == y2[i].numel && y1[i].numel > 0 && y1[i].ndim == y2[i].ndim &&
              !memcmp(y1[i].dims, y2[i].dims, sizeof(int64_t) * (size_t)y1[i].ndim) &&
              !memcmp(y1[i].data, y2[i].data, vx_tensor_bytes(&y1[i]));
        vx_tensor_release(&y1[i]);
        vx_tensor_release(&y2[i]);
    }
    free(x);
    return ok;
}

int main(void) {
    vx_tpool *pool = vx_tpool_create(2);
    /* c, k, dilation, Pad left/right, the conv's own pads, time length */
    static const int64_t cases[][8] = {
        {8, 3, 1, 1, 1, 0, 0, 300}, {8, 3, 1, 2, 0, 0, 0, 97},  {5, 5, 2, 3, 5, 1, 0, 40},
        {3, 1, 1, 0, 2, 0, 0, 17},  {8, 3, 1, 4, 4, 1, 1, 3},   {1, 2, 3, 0, 3, 0, 0, 9},
        {8, 5, 1, 2, 2, 0, 0, 2000}};
    for (size_t s = 0; s < sizeof cases / sizeof *cases; s++)
        for (int variant = V_PLAIN; variant <= V_LEAKY; variant++) {
            const int64_t *q = cases[s];
            pc_model t;
            build(&t, variant, q[0], q[1], q[2], q[3], q[4], q[5], q[6]);
            vx_graph *gf = tg_compile(&t.m, "VOX_FUSE_PAD", 1),
                     *gu = tg_compile(&t.m, "VOX_FUSE_PAD", 0);
            if (!gf || !gu) return 1;
            CHECKF(tg_count_op(gf, "Pad") == 0 && tg_count_op(gu, "Pad") == 1,
                   "case %zu variant %d: Pad steps fused %d, unfused %d", s, variant,
                   tg_count_op(gf, "Pad"), tg_count_op(gu, "Pad"));
            CHECKF(variant != V_LEAKY || tg_count_op(gf, "LeakyRelu") == 0,
                   "case %zu: the LeakyRelu before the Pad was not taken in", s);
            for (int th = 0; th < 2; th++)
                CHECKF(same(gf, gu, q[0], q[7], 1, th ? pool : NULL),
                       "case %zu variant %d, %d thread(s): fused differs from the nodes", s,
                       variant, th + 1);
            vx_graph_free(gf);
            vx_graph_free(gu);
        }
    for (int variant = V_VALUE; variant <= V_REFLECT; variant++) {
        pc_model t;
        build(&t, variant, 4, 3, 1, 1, 1, 0, 0);
        vx_graph *gf = tg_compile(&t.m, "VOX_FUSE_PAD", 1),
                 *gu = tg_compile(&t.m, "VOX_FUSE_PAD", 0);
        if (!gf || !gu) return 1;
        CHECKF(tg_count_op(gf, "Pad") == 1, "variant %d: a Pad that must stay was fused", variant);
        if (variant == V_CHANNEL) { /* the conv then sees 5 channels where W has 4 */
            vx_graph_free(gf);
            vx_graph_free(gu);
            continue;
        }
        CHECKF(same(gf, gu, 4, 50, variant == V_OUTPUT ? 2 : 1, NULL), "variant %d differs",
               variant);
        vx_graph_free(gf);
        vx_graph_free(gu);
    }
    vx_tpool_free(pool);
    TEST_SUMMARY();
}

/* Div(Add(Add(x, y), z), constant) becomes one step (engine/fuse.c vx_graph_fuse_sum,
 * ops vx_sum_div_def), on hand-built graphs compiled with the fusion and without it
 * (VOX_FUSE_SUM=0):
 * - the fused graph has no Add step, gives the same bits as the nodes and as
 *   ((x + y) + z) / d computed here, on 1 and 2 threads, with its inputs made inside the
 *   graph (so the step may write over one of them) or given from outside;
 * - a z that broadcasts compiles fused but runs the nodes' path, same bits;
 * - sums it must not take (an intermediate also a graph output, a divisor computed at
 *   run time) keep their Adds. */
#include "engine/graph_internal.h"
#include "test.h"
#include "tgraph.h"
#include "util/tpool.h"
#include "vox.h"
#include <stdlib.h>
#include <string.h>

enum { V_OWNED, V_INPUTS, V_BCAST, V_OUTPUT, V_RUNTIME_D };

typedef struct sd_model {
    vx_model m;
    vx_node nodes[6];
    const char *io[6][6];
    vx_value_info ins[4], outs[2];
    const char *init_names[1];
    vx_tensor inits[1];
    float d;
} sd_model;

/* inputs x, y, z (and d): [owned: a = Abs(x), b = Neg(y)] s1 = Add(a, b),
 * s2 = Add(z, s1) (the first Add second: the fusion must find it either way), o = s2 / d */
static void build(sd_model *t, int variant) {
    memset(t, 0, sizeof *t);
    static const char *const names[] = {"x", "y", "z", "d"};
    int runtime_d = variant == V_RUNTIME_D;
    tg_model(&t->m, t->nodes, t->ins, names, runtime_d ? 4 : 3, t->outs);
    for (int i = 0; i < 4; i++) t->ins[i].dtype = VX_FLOAT;
    t->d = 3.0f;
    if (!runtime_d) {
        static const char *const in_names[] = {"d"};
        t->inits[0] = tg_tens(VX_FLOAT, &t->d, 0, NULL);
        t->init_names[0] = in_names[0];
        t->m.init_names = t->init_names;
        t->m.inits = t->inits;
        t->m.n_inits = 1;
    }
    int n = 0, owned = variant != V_INPUTS;
    if (owned) {
        static const char *const ai[] = {"x"}, *const ni[] = {"y"};
        tg_node(&t->nodes[n], t->io[n], "Abs", 1, ai, "a");
        n++;
        tg_node(&t->nodes[n], t->io[n], "Neg", 1, ni, "b");
        n++;
    }
    const char *s1i[] = {owned ? "a" : "x", owned ? "b" : "y"};
    tg_node(&t->nodes[n], t->io[n], "Add", 2, s1i, "s1");
    n++;
    static const char *const s2i[] = {"z", "s1"};
    tg_node(&t->nodes[n], t->io[n], "Add", 2, s2i, "s2");
    n++;
    static const char *const oi[] = {"s2", "d"};
    tg_node(&t->nodes[n], t->io[n], "Div", 2, oi, "o");
    n++;
    t->m.n_nodes = n;
    t->outs[0].name = "o";
    t->outs[1].name = "s1";
    t->m.n_outputs = variant == V_OUTPUT ? 2 : 1;
}

static float val(int64_t i, unsigned m) { return (float)((i * m) % 2003) / 250.0f - 4.0f; }

/* Runs both graphs on [1, c, tl] inputs (z [1, 1, tl] when bcast); 1 if the outputs have
 * the same bytes as each other and as the sum computed here. */
static int same(const vx_graph *gf, const vx_graph *gu, int variant, int64_t c, int64_t tl,
                vx_tpool *pool) {
    int64_t dims[3] = {1, c, tl}, zdims[3] = {1, variant == V_BCAST ? 1 : c, tl}, n = c * tl;
    float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y),
          *z = malloc((size_t)n * sizeof *z), *ref = malloc((size_t)n * sizeof *ref), d = 3.0f;
    for (int64_t i = 0; i < n; i++) x[i] = val(i, 2654435761u), y[i] = val(i, 40503u);
    for (int64_t i = 0; i < zdims[1] * tl; i++) z[i] = val(i, 7919u);
    int owned = variant != V_INPUTS;
    for (int64_t i = 0; i < n; i++) {
        float a = owned ? (x[i] < 0 ? -x[i] : x[i]) : x[i], b = owned ? -y[i] : y[i];
        float s1 = a + b, s2 = z[variant == V_BCAST ? i % tl : i] + s1;
        ref[i] = s2 / d;
    }
    vx_tensor in[4] = {tg_tens(VX_FLOAT, x, 3, dims), tg_tens(VX_FLOAT, y, 3, dims),
                       tg_tens(VX_FLOAT, z, 3, zdims), tg_tens(VX_FLOAT, &d, 0, NULL)};
    vx_tensor y1[2] = {0}, y2[2] = {0};
    vx_run_opts o;
    vx_run_opts_init(&o);
    o.pool = pool;
    o.threads = pool ? 2 : 1;
    int n_in = variant == V_RUNTIME_D ? 4 : 3;
    CHECK_EQ_INT(vx_graph_run(gf, &o, in, n_in, y1), 0);
    CHECK_EQ_INT(vx_graph_run(gu, &o, in, n_in, y2), 0);
    int ok = y1[0].numel == n && y2[0].numel == n &&
             !memcmp(y1[0].data, y2[0].data, (size_t)n * sizeof(float)) &&
             !memcmp(y1[0].data, ref, (size_t)n * sizeof(float));
    for (int i = 0; i < 2; i++) {
        vx_tensor_release(&y1[i]);
        vx_tensor_release(&y2[i]);
    }
    free(x), free(y), free(z), free(ref);
    return ok;
}

int main(void) {
    vx_tpool *pool = vx_tpool_create(2);
    /* channels, length: short (one thread's work) and long enough to split */
    static const int64_t sizes[][2] = {{1, 1}, {3, 17}, {32, 5000}, {8, 40001}};
    for (int variant = V_OWNED; variant <= V_RUNTIME_D; variant++) {
        sd_model t;
        build(&t, variant);
        vx_graph *gf = tg_compile(&t.m, "VOX_FUSE_SUM", 1),
                 *gu = tg_compile(&t.m, "VOX_FUSE_SUM", 0);
        if (!gf || !gu) return 1;
        int fuses = variant <= V_BCAST;
        CHECKF(tg_count_op(gu, "Add") == 2, "variant %d: unfused graph has %d Add steps", variant,
               tg_count_op(gu, "Add"));
        CHECKF(tg_count_op(gf, "Add") == (fuses ? 0 : 2),
               "variant %d: fused graph has %d Add steps", variant, tg_count_op(gf, "Add"));
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (int th = 0; th < 2; th++)
                CHECKF(same(gf, gu, variant, sizes[s][0], sizes[s][1], th ? pool : NULL),
                       "variant %d, [1, %lld, %lld], %d thread(s): differs from the nodes or "
                       "from ((x + y) + z) / d",
                       variant, (long long)sizes[s][0], (long long)sizes[s][1], th + 1);
        vx_graph_free(gf);
        vx_graph_free(gu);
    }
    vx_tpool_free(pool);
    TEST_SUMMARY();
}

/* A MatMul fused into the Pad/Reshape/Slice chain reading it (engine/fuse.c:
 * fuse_chain_matmul, ops/shape_chain.c: matmul_chain): VITS's relative logits, queries
 * [1, h, l, d] x zero-padded relative embeddings [1, d, 2l-1], into the relative-to-
 * absolute conversion, with a Shape of the MatMul's output as a second graph output.
 * Compiled with the MatMul fused and without it (VOX_FUSE_CHAIN_MATMUL=0), both graphs
 * must give the same bits (or both fail), on 1 and on 3 threads: embeddings with the
 * VITS band of 9 columns (the banded path, counted), dense ones, all-zero ones, queries
 * with an infinity, lengths 1..40 and a mismatched inner dimension. */
#include "engine/graph_internal.h"
#include "ops/nn_internal.h"
#include "test.h"
#include "tgraph.h"
#include "util/tpool.h"
#include "vox.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

enum { I_Q, I_E, I_P1, I_S1, I_P2, I_S2, I_A0, I_A1, I_A2, I_B0, I_B1, I_B2, I_B3, N_IN };
static const char *in_names[N_IN] = {"q",  "e",  "p1", "s1", "p2", "s2", "a0",
                                     "a1", "a2", "b0", "b1", "b2", "b3"};

typedef struct tgraph {
    vx_model m;
    vx_node nodes[8];
    const char *io[8][6];
    vx_value_info ins[N_IN], outs[2];
} tgraph;

static void build(tgraph *t) {
    memset(t, 0, sizeof *t);
    tg_model(&t->m, t->nodes, t->ins, in_names, N_IN, t->outs);
    for (int i = 0; i <= I_E; i++) t->ins[i].dtype = VX_FLOAT;
    int k = 0;
    tg_node(&t->nodes[k], t->io[k], "MatMul", 2, (const char *[]){"q", "e"}, "x"), k++;
    tg_node(&t->nodes[k], t->io[k], "Shape", 1, (const char *[]){"x"}, "xs"), k++;
    tg_node(&t->nodes[k], t->io[k], "Pad", 2, (const char *[]){"x", "p1"}, "t0"), k++;
    tg_node(&t->nodes[k], t->io[k], "Reshape", 2, (const char *[]){"t0", "s1"}, "t1"), k++;
    tg_node(&t->nodes[k], t->io[k], "Pad", 2, (const char *[]){"t1", "p2"}, "t2"), k++;
    tg_node(&t->nodes[k], t->io[k], "Reshape", 2, (const char *[]){"t2", "s2"}, "t3"), k++;
    tg_node(&t->nodes[k], t->io[k], "Slice", 4, (const char *[]){"t3", "a0", "a1", "a2"}, "t4"),
        k++;
    tg_node(&t->nodes[k], t->io[k], "Slice", 5, (const char *[]){"t4", "b0", "b1", "b2", "b3"},
            "y"),
        k++;
    t->m.n_nodes = k;
    t->outs[0].name = "y";
    t->outs[1].name = "xs";
    t->outs[0].ndim = t->outs[1].ndim = -1;
    t->m.n_outputs = 2;
}

/* The way back: attention weights [1, h, l, l] -> [1, h, l, 2l-1] (abs -> rel chain),
 * then x the relative value embeddings [1, 2l-1, d] (9 nonzero rows). Inputs as above
 * with q the weights and e the embeddings. */
static void build_back(tgraph *t) {
    build(t);
    int k = 0;
    tg_node(&t->nodes[k], t->io[k], "Pad", 2, (const char *[]){"q", "p1"}, "t0"), k++;
    tg_node(&t->nodes[k], t->io[k], "Reshape", 2, (const char *[]){"t0", "s1"}, "t1"), k++;
    tg_node(&t->nodes[k], t->io[k], "Pad", 2, (const char *[]){"t1", "p2"}, "t2"), k++;
    tg_node(&t->nodes[k], t->io[k], "Reshape", 2, (const char *[]){"t2", "s2"}, "t3"), k++;
    tg_node(&t->nodes[k], t->io[k], "Slice", 4, (const char *[]){"t3", "a0", "a1", "a2"}, "x"), k++;
    tg_node(&t->nodes[k], t->io[k], "MatMul", 2, (const char *[]){"x", "e"}, "y"), k++;
    t->m.n_nodes = k;
    t->m.n_outputs = 1;
}

static vx_graph *compile(tgraph *t, int fuse) {
    return tg_compile(&t->m, "VOX_FUSE_CHAIN_MATMUL", fuse);
}

static uint32_t rnd(uint32_t *s, uint32_t n) {
    *s = *s * 1664525u + 1013904223u;
    return (*s >> 8) % n;
}

enum { E_BAND, E_DENSE, E_ZERO, Q_INF, E_BADK };

/* One case: h heads, length l, d channels, embeddings of the given kind. 1 if the two
 * graphs agree; *ran counts the cases that ran. */
static int same(const vx_graph *gf, const vx_graph *gu, const vx_run_opts *base, int back,
                int64_t h, int64_t l, int64_t d, int kind, uint32_t *s, int *ran) {
    /* forward: q [1, h, l, d] x e [1, d, 2l-1], band of columns; back: q [1, h, l, l]
     * (weights) through the chain, x e [1, 2l-1, d], band of rows */
    int64_t w = 2 * l - 1, ed = kind == E_BADK ? d + 1 : d, qc = back ? l : d;
    int64_t er = back ? (kind == E_BADK ? w + 1 : w) : ed, ec = back ? d : w;
    float *q = malloc((size_t)(h * l * qc) * sizeof *q), *e = calloc((size_t)(er * ec), sizeof *e);
    for (int64_t i = 0; i < h * l * qc; i++) q[i] = (float)((int)rnd(s, 2001) - 1000) / 300.0f;
    if (kind == Q_INF) q[rnd(s, (uint32_t)(h * l * qc))] = INFINITY;
    /* VITS: 9 embeddings (relative -4..4) at positions l-5 .. l+3, cut at the edges */
    for (int64_t r = 0; r < er; r++)
        for (int64_t c = 0; c < ec; c++) {
            int64_t j = back ? r : c;
            if (kind == E_DENSE || (kind != E_ZERO && j >= l - 5 && j <= l + 3))
                e[r * ec + c] = (float)((int)rnd(s, 2001) - 1000) / 500.0f;
        }
    tg_relpos rp;
    tg_relpos_init(&rp, h, l, back);
    vx_tensor in[N_IN];
    in[I_Q] = tg_tens(VX_FLOAT, q, 4, (int64_t[]){1, h, l, qc});
    in[I_E] = tg_tens(VX_FLOAT, e, 3, (int64_t[]){1, er, ec});
    tg_relpos_tensors(&rp, 0, &in[I_P1]); /* the back graph does not read the last 4 */
    vx_run_opts o = *base;
    char e1[256] = "", e2[256] = "";
    vx_tensor y1[2], y2[2];
    memset(y1, 0, sizeof y1);
    memset(y2, 0, sizeof y2);
    o.err = e1;
    o.errlen = sizeof e1;
    int r1 = vx_graph_run(gf, &o, in, N_IN, y1);
    o.err = e2;
    int r2 = vx_graph_run(gu, &o, in, N_IN, y2);
    int eq = (r1 != 0) == (r2 != 0);
    for (int i = 0; i < (back ? 1 : 2) && eq && !r1; i++)
        eq = y1[i].dtype == y2[i].dtype && y1[i].numel == y2[i].numel && y1[i].ndim == y2[i].ndim &&
             !memcmp(y1[i].dims, y2[i].dims, sizeof(int64_t) * (size_t)y1[i].ndim) &&
             (!y1[i].numel || !memcmp(y1[i].data, y2[i].data, vx_tensor_bytes(&y1[i])));
    if (!r1 && !r2) (*ran)++;
    if (!eq && !r1 && !r2 && getenv("VOX_TEST_VERBOSE") && y1[0].numel == y2[0].numel) {
        const float *a = y1[0].data, *yb = y2[0].data;
        for (int64_t i = 0, shown = 0; i < y1[0].numel && shown < 4; i++)
            if (memcmp(&a[i], &yb[i], 4)) {
                fprintf(stderr, "  [%lld] %.9g vs %.9g\n", (long long)i, a[i], yb[i]);
                shown++;
            }
    }
    if (!eq)
        fprintf(stderr, "%s h %lld l %lld d %lld kind %d: fused rc %d (%s), unfused rc %d (%s)\n",
                back ? "back" : "forward", (long long)h, (long long)l, (long long)d, kind, r1, e1,
                r2, e2);
    for (int i = 0; i < 2; i++) {
        vx_tensor_release(&y1[i]);
        vx_tensor_release(&y2[i]);
    }
    free(q);
    free(e);
    return eq;
}

/* All cases on one pair of graphs; returns the number that disagree. */
static int run_cases(const vx_graph *gf, const vx_graph *gu, int back, vx_tpool *pool,
                     uint32_t *seed, int *n, int *ran) {
    int bad = 0;
    for (int threads = 1; threads <= 3; threads += 2) {
        vx_run_opts o;
        vx_run_opts_init(&o);
        o.threads = threads;
        o.pool = threads > 1 ? pool : NULL;
        for (int64_t l = 1; l <= 40; l += l < 12 ? 1 : 7)
            for (int kind = E_BAND; kind <= E_BADK; kind++, (*n)++)
                bad += !same(gf, gu, &o, back, 2, l, kind == E_DENSE ? 8 : 96, kind, seed, ran);
        /* long enough for several row blocks over the threads */
        long b0 = vx_nn_matmul_colbands();
        bad += !same(gf, gu, &o, back, 2, 300, 96, E_BAND, seed, ran), (*n)++;
        CHECKF(vx_nn_matmul_colbands() > b0, "%s, l = 300 on %d thread(s): no band",
               back ? "back" : "forward", threads);
    }
    return bad;
}

static int has_label(const vx_graph *g, const char *label) {
    int n = 0;
    for (int k = 0; k < g->n_steps; k++) n += !strcmp(g->steps[k].label, label);
    return n;
}

int main(void) {
    vx_tpool *pool = vx_tpool_create(3);
    uint32_t seed = 99;
    int bad = 0, n = 0, ran = 0;
    for (int back = 0; back < 2; back++) {
        tgraph t;
        if (back)
            build_back(&t);
        else
            build(&t);
        vx_graph *gf = compile(&t, 1), *gu = compile(&t, 0);
        if (gf && gu) {
            /* forward: ShapeOfMatMul + MatMul+chain, unfused MatMul, Shape, chain; back:
             * chain+MatMul as one step, unfused two */
            CHECK_EQ_INT(gf->n_steps, back ? 1 : 2);
            CHECK_EQ_INT(gu->n_steps, back ? 2 : 3);
            CHECK_EQ_INT(has_label(gf, back ? "Pad+Reshape+Pad+Reshape+Slice+MatMul"
                                            : "MatMul+Pad+Reshape+Pad+Reshape+Slice+Slice"),
                         1);
            bad += run_cases(gf, gu, back, pool, &seed, &n, &ran);
        }
        vx_graph_free(gf);
        vx_graph_free(gu);
    }
    CHECKF(bad == 0, "%d of %d cases disagree", bad, n);
    CHECKF(ran >= n * 3 / 5, "%d of %d cases ran", ran, n);
    printf("# %d cases (both directions, 1 and 3 threads): %d ran, all agreed: %s\n", n, ran,
           bad ? "no" : "yes");
    vx_tpool_free(pool);
    TEST_SUMMARY();
}

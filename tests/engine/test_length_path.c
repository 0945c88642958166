/* The fused length-regulator path (engine/fuse_path.c, ops/length_path.c, the compact
 * MatMul in ops/nn_matmul.c): VITS's generate_path as a graph whose values and
 * parameters are all graph inputs, compiled with the fusion and without it
 * (VOX_FUSE_PATH=0), must give the same bits (or both fail) for every output: the two
 * MatMuls (rank-3 and rank-2 B) and the Shape of the mask. Random VITS-like inputs take
 * the compact path (counted); others must fall back to the nodes and still agree:
 * decreasing or NaN durations, masks other than 0/1, other pads/slices/axes, B with an
 * infinity, shapes that do not fit. */
#include "engine/graph_internal.h"
#include "test.h"
#include "tgraph.h"
#include "vox.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

enum { I_XM, I_YM, I_RNG, I_CUM, I_SHP, I_PADS, I_S0, I_S1, I_SA, I_UA, I_QA, I_B3, I_B2, N_IN };
static const char *in_names[N_IN] = {"xm", "ym", "rng", "cum", "shp", "pads", "s0",
                                     "s1", "sa", "ua",  "qa",  "b3",  "b2"};
enum { N_NODES = 14 };

typedef struct tgraph {
    vx_model m;
    vx_node nodes[N_NODES];
    const char *io[N_NODES][6];
    vx_value_info ins[N_IN], outs[3];
    vx_attr to, perm;
    int64_t perm_v[4];
} tgraph;

static void node(tgraph *t, int k, const char *op, int n_in, const char *const *ins,
                 const char *out) {
    tg_node(&t->nodes[k], t->io[k], op, n_in, ins, out);
}

static void build(tgraph *t) {
    memset(t, 0, sizeof *t);
    tg_model(&t->m, t->nodes, t->ins, in_names, N_IN, t->outs);
    for (int i = 0; i < N_IN; i++)
        if (i <= I_CUM || i >= I_B3) t->ins[i].dtype = VX_FLOAT;
    int k = 0;
    node(t, k++, "Mul", 2, (const char *[]){"xm", "ym"}, "mask");
    node(t, k++, "Shape", 1, (const char *[]){"mask"}, "mshape");
    node(t, k++, "Less", 2, (const char *[]){"rng", "cum"}, "l");
    node(t, k++, "Cast", 1, (const char *[]){"l"}, "c");
    node(t, k++, "Reshape", 2, (const char *[]){"c", "shp"}, "r");
    node(t, k++, "Pad", 2, (const char *[]){"r", "pads"}, "pd");
    node(t, k++, "Slice", 4, (const char *[]){"pd", "s0", "s1", "sa"}, "sl");
    node(t, k++, "Sub", 2, (const char *[]){"r", "sl"}, "s");
    node(t, k++, "Unsqueeze", 2, (const char *[]){"s", "ua"}, "u");
    node(t, k++, "Transpose", 1, (const char *[]){"u"}, "tr");
    node(t, k++, "Mul", 2, (const char *[]){"tr", "mask"}, "m4");
    node(t, k++, "Squeeze", 2, (const char *[]){"m4", "qa"}, "p");
    node(t, k++, "MatMul", 2, (const char *[]){"p", "b3"}, "y3");
    node(t, k++, "MatMul", 2, (const char *[]){"p", "b2"}, "y2");
    t->m.n_nodes = k;
    t->to = (vx_attr){.name = "to", .type = VX_ATTR_INT, .i = VX_FLOAT};
    t->nodes[3].attrs = &t->to;
    t->nodes[3].n_attrs = 1;
    t->perm_v[0] = 0, t->perm_v[1] = 1, t->perm_v[2] = 3, t->perm_v[3] = 2;
    t->perm = (vx_attr){.name = "perm", .type = VX_ATTR_INTS, .ints = t->perm_v, .n = 4};
    t->nodes[9].attrs = &t->perm;
    t->nodes[9].n_attrs = 1;
    const char *on[3] = {"y3", "y2", "mshape"};
    for (int i = 0; i < 3; i++) {
        t->outs[i].name = on[i];
        t->outs[i].ndim = -1;
    }
    t->m.n_outputs = 3;
}

static vx_graph *compile(tgraph *t, int fuse) { return tg_compile(&t->m, "VOX_FUSE_PATH", fuse); }

/* One case: sizes, data and parameters (the graph inputs). */
typedef struct tcase {
    int64_t B, X, T, C;
    float xm[2 * 64], ym[2 * 400], rng[400], cum[2 * 64], b3[2 * 64 * 5], b2[64 * 3];
    int64_t shp[3], pads[6], s0, s1, sa, ua, qa;
    int nshp;
} tcase;

static uint32_t rnd(uint32_t *s, uint32_t n) {
    *s = *s * 1664525u + 1013904223u;
    return (*s >> 8) % n;
}

/* A VITS-like case: integer durations >= 0, masks of 0s and 1s. */
static void vits_case(tcase *c, uint32_t *s) {
    memset(c, 0, sizeof *c);
    c->B = 1 + rnd(s, 2);
    c->X = 1 + rnd(s, 60);
    c->C = 5;
    int64_t tot = 0;
    for (int64_t b = 0; b < c->B; b++) {
        float run = 0;
        for (int64_t x = 0; x < c->X; x++) {
            run += (float)rnd(s, 7);
            c->cum[b * c->X + x] = run;
            c->xm[b * c->X + x] = rnd(s, 8) ? 1.0f : 0.0f;
        }
        if ((int64_t)run > tot) tot = (int64_t)run;
    }
    c->T = tot + rnd(s, 3);
    if (c->T > 400) c->T = 400;
    if (c->T < 1) c->T = 1;
    for (int64_t t = 0; t < c->T; t++) c->rng[t] = (float)t;
    for (int64_t b = 0; b < c->B; b++)
        for (int64_t t = 0; t < c->T; t++) c->ym[b * c->T + t] = t < c->T - (int64_t)rnd(s, 3);
    for (int64_t i = 0; i < c->B * c->X * c->C; i++)
        c->b3[i] = (float)((int)rnd(s, 2001) - 1000) / 7.0f;
    for (int64_t i = 0; i < c->X * 3; i++) c->b2[i] = (float)((int)rnd(s, 2001) - 1000) / 3.0f;
    if (rnd(s, 4) == 0) c->b3[0] = -0.0f;
    c->shp[0] = c->B, c->shp[1] = c->X, c->shp[2] = c->T;
    c->nshp = 3;
    memset(c->pads, 0, sizeof c->pads);
    c->pads[1] = 1;
    c->s0 = 0, c->s1 = -1, c->sa = 1, c->ua = 1, c->qa = 1;
}

/* Runs both graphs; 1 if both failed or every output is identical. */
static int same(const vx_graph *gf, const vx_graph *gu, tcase *c, int *ran, const char *what) {
    vx_tensor in[N_IN];
    int64_t one = 1, six = 6;
    in[I_XM] = tg_tens(VX_FLOAT, c->xm, 4, (int64_t[]){c->B, 1, 1, c->X});
    in[I_YM] = tg_tens(VX_FLOAT, c->ym, 4, (int64_t[]){c->B, 1, c->T, 1});
    in[I_RNG] = tg_tens(VX_FLOAT, c->rng, 2, (int64_t[]){1, c->T});
    in[I_CUM] = tg_tens(VX_FLOAT, c->cum, 2, (int64_t[]){c->B * c->X, 1});
    in[I_SHP] = tg_tens(VX_INT64, c->shp, 1, (int64_t[]){c->nshp});
    in[I_PADS] = tg_tens(VX_INT64, c->pads, 1, &six);
    in[I_S0] = tg_tens(VX_INT64, &c->s0, 1, &one);
    in[I_S1] = tg_tens(VX_INT64, &c->s1, 1, &one);
    in[I_SA] = tg_tens(VX_INT64, &c->sa, 1, &one);
    in[I_UA] = tg_tens(VX_INT64, &c->ua, 1, &one);
    in[I_QA] = tg_tens(VX_INT64, &c->qa, 1, &one);
    in[I_B3] = tg_tens(VX_FLOAT, c->b3, 3, (int64_t[]){c->B, c->X, c->C});
    in[I_B2] = tg_tens(VX_FLOAT, c->b2, 2, (int64_t[]){c->X, 3});
    vx_run_opts o;
    char e1[256] = "", e2[256] = "";
    vx_tensor y1[3], y2[3];
    memset(y1, 0, sizeof y1);
    memset(y2, 0, sizeof y2);
    vx_run_opts_init(&o);
    o.err = e1;
    o.errlen = sizeof e1;
    int r1 = vx_graph_run(gf, &o, in, N_IN, y1);
    o.err = e2;
    int r2 = vx_graph_run(gu, &o, in, N_IN, y2);
    int eq = (r1 != 0) == (r2 != 0);
    for (int i = 0; i < 3 && eq && !r1; i++)
        eq = y1[i].dtype == y2[i].dtype && y1[i].ndim == y2[i].ndim && y1[i].numel == y2[i].numel &&
             !memcmp(y1[i].dims, y2[i].dims, sizeof(int64_t) * (size_t)y1[i].ndim) &&
             (!y1[i].numel || !memcmp(y1[i].data, y2[i].data, vx_tensor_bytes(&y1[i])));
    if (!r1 && !r2) (*ran)++;
    if (!eq)
        fprintf(stderr, "%s: fused rc %d (%s) vs unfused rc %d (%s), B %lld X %lld T %lld\n", what,
                r1, e1, r2, e2, (long long)c->B, (long long)c->X, (long long)c->T);
    for (int i = 0; i < 3; i++) {
        vx_tensor_release(&y1[i]);
        vx_tensor_release(&y2[i]);
    }
    return eq;
}

/* Changes the case one way (k); *compact: the compact path may still be taken (the
 * change keeps the path a selection), else it must not be. */
static const char *spoil(tcase *c, int k, uint32_t *s, int *compact) {
    int64_t x = rnd(s, (uint32_t)c->X), t = rnd(s, (uint32_t)c->T);
    *compact = k == 7 || k == 11;
    switch (k) {
    case 0:
        c->cum[0] = c->cum[c->X - 1] + 5.0f; /* one phoneme: nothing to decrease */
        *compact = c->X == 1;
        return "decreasing durations";
    case 1: c->cum[x] = NAN, *compact = c->X == 1; return "NaN duration"; /* X = 1: no order */
    case 2: c->xm[x] = 0.5f; return "mask 0.5";
    case 3: c->ym[t] = -0.0f; return "mask -0";
    case 4: c->pads[1] = 0, c->pads[4] = 1; return "pad at the end";
    case 5: c->s0 = 1, c->s1 = c->X + 1; return "slice from 1";
    case 6: c->ua = 2; return "unsqueeze axis 2";
    case 7: c->b3[rnd(s, (uint32_t)(c->B * c->X * c->C))] = INFINITY; return "B with inf";
    case 8: c->shp[0] = c->B * c->X, c->shp[1] = 1; return "reshape to [N, 1, T]";
    case 9: c->shp[2] = -1; return "reshape with -1";
    case 10: c->shp[2] = c->T + 1; return "reshape that does not fit";
    case 11: c->rng[t] = NAN; return "NaN frame index";
    default: c->qa = 0; return "squeeze axis 0";
    }
}

int main(void) {
    tgraph t;
    build(&t);
    vx_graph *gf = compile(&t, 1), *gu = compile(&t, 0);
    if (!gf || !gu) {
        vx_graph_free(gf);
        vx_graph_free(gu);
        TEST_SUMMARY();
    }
    /* fused: ShapeOfBroadcast, the path, two MatMuls; unfused: the 14 nodes, Pad and
     * Slice as one (fuse.c's move chains) */
    CHECK_EQ_INT(gf->n_steps, 4);
    CHECK_EQ_INT(gu->n_steps, N_NODES - 1);
    int paths = 0;
    for (int k = 0; k < gf->n_steps; k++) paths += gf->steps[k].has_prep && gf->steps[k].prep.group;
    CHECK_EQ_INT(paths, 1);

    uint32_t seed = 777;
    int agree = 0, ran = 0, n = 0;
    long f0 = vx_length_path_fast_runs();
    tcase c;
    for (int i = 0; i < 500; i++, n++) {
        vits_case(&c, &seed);
        agree += same(gf, gu, &c, &ran, "vits");
    }
    long fast = vx_length_path_fast_runs() - f0;
    CHECKF(agree == n, "%d of %d VITS-like cases agree", agree, n);
    CHECKF(ran == n && fast == n, "%d of %d ran, %ld on the compact path", ran, n, fast);
    /* spoiled cases: the nodes run (or both fail), the results still agree */
    int sagree = 0, sn = 0, sran = 0;
    f0 = vx_length_path_fast_runs();
    for (int i = 0; i < 13 * 40; i++, sn++) {
        vits_case(&c, &seed);
        int compact;
        const char *what = spoil(&c, i % 13, &seed, &compact);
        long before = vx_length_path_fast_runs();
        sagree += same(gf, gu, &c, &sran, what);
        CHECKF(compact || vx_length_path_fast_runs() == before, "%s took the compact path", what);
    }
    long sfast = vx_length_path_fast_runs() - f0;
    CHECKF(sagree == sn, "%d of %d spoiled cases agree", sagree, sn);
    /* B with an infinity keeps the compact path: the MatMul makes the dense matrix */
    CHECKF(sfast >= 80, "%ld spoiled cases took the compact path", sfast);
    CHECKF(sran > sn / 3, "%d of %d spoiled cases ran", sran, sn);
    printf("# %d VITS-like cases (all compact), %d spoiled (%d ran, %ld compact): agreed %s\n", n,
           sn, sran, sfast, agree == n && sagree == sn ? "yes" : "no");
    vx_graph_free(gf);
    vx_graph_free(gu);
    TEST_SUMMARY();
}

/* Fused Pad / Reshape / Slice chains (engine/fuse.c, ops/shape_chain.c): a graph of
 * Pad -> Reshape -> Pad -> Reshape -> Slice -> Slice, all parameters graph inputs (known
 * only at run time, as in Piper's attention), compiled with the fusion and without it
 * (VOX_FUSE_MOVES=0), must give the same bits, or the same error, for VITS's two
 * relative-position conversions and for random parameters, including ones the fused
 * plan leaves to the nodes (other Pad modes, negative pads, Slice steps). */
#include "engine/graph_internal.h"
#include "test.h"
#include "tgraph.h"
#include "vox.h"
#include <stdint.h>
#include <stdlib.h>

enum { IN_X, IN_P1, IN_S1, IN_P2, IN_S2, IN_A0, IN_A1, IN_A2, IN_B0, IN_B1, IN_B2, IN_B3, N_IN };
static const char *in_names[N_IN] = {"x",  "p1", "s1", "p2", "s2", "a0",
                                     "a1", "a2", "b0", "b1", "b2", "b3"};

typedef struct tgraph {
    vx_model m;
    vx_node nodes[6];
    const char *io[6][6];
    vx_value_info ins[N_IN], outs[1];
    vx_attr mode_attr;
} tgraph;

static void node(tgraph *t, int k, const char *op, int n_in, const char *const *ins,
                 const char *out) {
    tg_node(&t->nodes[k], t->io[k], op, n_in, ins, out);
}

/* mode: the first Pad's mode attribute (NULL: constant). */
static void build(tgraph *t, const char *mode) {
    memset(t, 0, sizeof *t);
    t->m.opset = 13;
    t->m.nodes = t->nodes;
    t->m.inputs = t->ins;
    t->m.outputs = t->outs;
    for (int i = 0; i < N_IN; i++) {
        t->ins[i].name = in_names[i];
        t->ins[i].dtype = i == IN_X ? VX_FLOAT : VX_INT64;
        t->ins[i].ndim = i == IN_X ? 4 : 1;
        for (int d = 0; d < VX_MAX_DIMS; d++) t->ins[i].dims[d] = -1;
    }
    t->m.n_inputs = N_IN;
    node(t, 0, "Pad", 2, (const char *[]){"x", "p1"}, "t0");
    node(t, 1, "Reshape", 2, (const char *[]){"t0", "s1"}, "t1");
    node(t, 2, "Pad", 2, (const char *[]){"t1", "p2"}, "t2");
    node(t, 3, "Reshape", 2, (const char *[]){"t2", "s2"}, "t3");
    node(t, 4, "Slice", 4, (const char *[]){"t3", "a0", "a1", "a2"}, "t4");
    node(t, 5, "Slice", 5, (const char *[]){"t4", "b0", "b1", "b2", "b3"}, "y");
    t->m.n_nodes = 6;
    if (mode) {
        t->mode_attr.name = "mode";
        t->mode_attr.type = VX_ATTR_STRING;
        t->mode_attr.s = mode;
        t->mode_attr.s_len = strlen(mode);
        t->nodes[0].attrs = &t->mode_attr;
        t->nodes[0].n_attrs = 1;
    }
    t->outs[0].name = "y";
    t->outs[0].ndim = -1;
    t->m.n_outputs = 1;
}

static vx_graph *compile(tgraph *t, int moves) {
    return tg_compile(&t->m, "VOX_FUSE_MOVES", moves);
}

static int n_chain_steps(const vx_graph *g) {
    int n = 0;
    for (int k = 0; k < g->n_steps; k++) n += g->steps[k].has_prep && g->steps[k].prep.chain;
    return n;
}

typedef struct params {
    int64_t x[4], p1[8], s1[4], p2[6], s2[4], a[3][2], b[4][2];
    int ns1, ns2, na, nb;
} params;

static vx_tensor ints(int64_t *v, int64_t n) {
    return tg_tens(VX_INT64, v, 1, &n);
}

/* Runs both graphs on p; returns 1 if both failed or gave identical tensors. */
static int same(const vx_graph *gf, const vx_graph *gu, params *p, uint32_t *seed, int *ok) {
    vx_tensor in[N_IN];
    memset(in, 0, sizeof in);
    int64_t n = p->x[0] * p->x[1] * p->x[2] * p->x[3];
    float *xd = malloc((size_t)(n ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        xd[i] = (float)(int32_t)*seed / 65536.0f;
    }
    vx_tensor_set_shape(&in[IN_X], 4, p->x);
    in[IN_X].dtype = VX_FLOAT;
    in[IN_X].data = xd;
    in[IN_P1] = ints(p->p1, 8);
    in[IN_S1] = ints(p->s1, p->ns1);
    in[IN_P2] = ints(p->p2, 2 * p->ns1);
    in[IN_S2] = ints(p->s2, p->ns2);
    int64_t av[3][2], bv[4][4];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < p->na; j++) av[i][j] = p->a[i][j];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < p->nb; j++) bv[i][j] = p->b[i][j];
    for (int i = 0; i < 3; i++) in[IN_A0 + i] = ints(av[i], p->na);
    for (int i = 0; i < 4; i++) in[IN_B0 + i] = ints(bv[i], p->nb);
    vx_run_opts o;
    char e1[256] = "", e2[256] = "";
    vx_tensor y1 = {0}, y2 = {0};
    vx_run_opts_init(&o);
    o.err = e1;
    o.errlen = sizeof e1;
    int r1 = vx_graph_run(gf, &o, in, N_IN, &y1);
    o.err = e2;
    int r2 = vx_graph_run(gu, &o, in, N_IN, &y2);
    int eq = r1 == r2;
    if (eq && !r1) {
        eq = y1.ndim == y2.ndim && y1.numel == y2.numel &&
             !memcmp(y1.dims, y2.dims, sizeof(int64_t) * (size_t)y1.ndim) &&
             (!y1.numel || !memcmp(y1.data, y2.data, vx_tensor_bytes(&y1)));
        (*ok)++;
    }
    if (!eq) {
        fprintf(stderr, "fused rc %d (%s) vs unfused rc %d (%s); x %lld %lld %lld %lld\n", r1, e1,
                r2, e2, (long long)p->x[0], (long long)p->x[1], (long long)p->x[2],
                (long long)p->x[3]);
        if (getenv("VOX_TEST_VERBOSE") && !r1 && y1.numel == y2.numel) {
            const float *a = y1.data, *b = y2.data;
            int shown = 0;
            for (int64_t i = 0; i < y1.numel && shown < 6; i++)
                if (memcmp(&a[i], &b[i], 4)) {
                    fprintf(stderr, "  [%lld] %g vs %g\n", (long long)i, a[i], b[i]);
                    shown++;
                }
        }
        if (getenv("VOX_TEST_VERBOSE")) {
            fprintf(stderr, "p1");
            for (int i = 0; i < 8; i++) fprintf(stderr, " %lld", (long long)p->p1[i]);
            fprintf(stderr, " s1 %lld %lld %lld p2", (long long)p->s1[0], (long long)p->s1[1],
                    (long long)p->s1[2]);
            for (int i = 0; i < 6; i++) fprintf(stderr, " %lld", (long long)p->p2[i]);
            fprintf(stderr, " s2 %lld %lld %lld %lld a", (long long)p->s2[0], (long long)p->s2[1],
                    (long long)p->s2[2], (long long)p->s2[3]);
            for (int j = 0; j < p->na; j++)
                fprintf(stderr, " [%lld %lld %lld]", (long long)p->a[0][j], (long long)p->a[1][j],
                        (long long)p->a[2][j]);
            fprintf(stderr, " b [%lld %lld %lld %lld] y1 nd %d numel %lld y2 nd %d numel %lld\n",
                    (long long)p->b[0][0], (long long)p->b[1][0], (long long)p->b[2][0],
                    (long long)p->b[3][0], y1.ndim, (long long)y1.numel, y2.ndim,
                    (long long)y2.numel);
        }
    }
    vx_tensor_release(&y1);
    vx_tensor_release(&y2);
    free(xd);
    return eq;
}

/* VITS: [b, h, l, 2l-1] relative logits -> [b, h, l, l] absolute (and the same code path
 * with x = [b, h, l, l] for the way back, see below). */
static void vits_rel_to_abs(params *p, int64_t b, int64_t h, int64_t l) {
    memset(p, 0, sizeof *p);
    int64_t x[4] = {b, h, l, 2 * l - 1};
    memcpy(p->x, x, sizeof x);
    p->p1[7] = 1; /* last axis: 0 before, 1 after */
    p->ns1 = 3;
    p->s1[0] = b, p->s1[1] = h, p->s1[2] = l * 2 * l;
    p->p2[5] = l - 1;
    p->ns2 = 4;
    p->s2[0] = b, p->s2[1] = h, p->s2[2] = l + 1, p->s2[3] = 2 * l - 1;
    p->na = 1, p->a[0][0] = 0, p->a[1][0] = l, p->a[2][0] = 2; /* [:, :, :l] */
    p->nb = 1, p->b[0][0] = l - 1, p->b[1][0] = INT64_MAX, p->b[2][0] = 3, p->b[3][0] = 1;
}

static void vits_abs_to_rel(params *p, int64_t b, int64_t h, int64_t l) {
    memset(p, 0, sizeof *p);
    int64_t x[4] = {b, h, l, l};
    memcpy(p->x, x, sizeof x);
    p->p1[7] = l - 1;
    p->ns1 = 3;
    p->s1[0] = b, p->s1[1] = h, p->s1[2] = l * l + l * (l - 1);
    p->p2[2] = l; /* flat axis: l in front */
    p->ns2 = 4;
    p->s2[0] = b, p->s2[1] = h, p->s2[2] = l, p->s2[3] = 2 * l;
    p->na = 1, p->a[0][0] = 1, p->a[1][0] = INT64_MAX, p->a[2][0] = 3; /* [..., 1:] */
    p->nb = 1, p->b[0][0] = 0, p->b[1][0] = INT64_MAX, p->b[2][0] = 0, p->b[3][0] = 1;
}

static int64_t rnd(uint32_t *s, int64_t lo, int64_t hi) {
    *s = *s * 1664525u + 1013904223u;
    return lo + (int64_t)((*s >> 8) % (uint32_t)(hi - lo + 1));
}

/* Random shapes and parameters: sometimes invalid (both must fail the same way),
 * sometimes outside the fused plan (negative pads, steps 2 or -1). */
static void random_params(params *p, uint32_t *s) {
    memset(p, 0, sizeof *p);
    for (int i = 0; i < 4; i++) p->x[i] = rnd(s, 0, 4) ? rnd(s, 1, 5) : (rnd(s, 0, 3) ? 1 : 0);
    for (int i = 0; i < 8; i++) p->p1[i] = rnd(s, 0, 5) ? rnd(s, 0, 3) : rnd(s, -1, 0);
    int64_t d[4];
    for (int i = 0; i < 4; i++) d[i] = p->x[i] + p->p1[i] + p->p1[i + 4];
    /* reshape 1: merge the last two axes, or keep, or -1 / 0 forms */
    int form = (int)rnd(s, 0, 3);
    p->ns1 = 3;
    p->s1[0] = form == 2 ? 0 : d[0];
    p->s1[1] = d[1];
    p->s1[2] = form == 1 ? -1 : d[2] * d[3];
    if (form == 3) p->s1[2] += rnd(s, 0, 1); /* maybe a wrong size: both fail */
    for (int i = 0; i < 6; i++) p->p2[i] = rnd(s, 0, 4) ? rnd(s, 0, 4) : rnd(s, -1, 0);
    int64_t e[3] = {d[0] + p->p2[0] + p->p2[3], d[1] + p->p2[1] + p->p2[4],
                    d[2] * d[3] + p->p2[2] + p->p2[5]};
    int64_t c = rnd(s, 1, 4), flat = e[2];
    p->ns2 = 4;
    p->s2[0] = e[0], p->s2[1] = e[1];
    if (flat % c == 0 || rnd(s, 0, 3) == 0) {
        p->s2[2] = c;
        p->s2[3] = flat / (c ? c : 1);
    } else {
        p->s2[2] = 1;
        p->s2[3] = flat;
    }
    p->na = (int)rnd(s, 1, 2);
    for (int j = 0; j < p->na; j++) {
        p->a[0][j] = rnd(s, -3, 3);
        p->a[1][j] = rnd(s, 0, 3) ? rnd(s, -3, 6) : INT64_MAX;
        p->a[2][j] = (j + rnd(s, 2, 3)) % 4;
    }
    if (p->na == 2 && p->a[2][0] == p->a[2][1]) p->a[2][1] = (p->a[2][0] + 1) % 4;
    p->nb = 1;
    p->b[0][0] = rnd(s, -2, 2);
    p->b[1][0] = rnd(s, -1, 8);
    p->b[2][0] = rnd(s, -4, 3);
    p->b[3][0] = rnd(s, 0, 5) ? 1 : (rnd(s, 0, 1) ? 2 : -1);
}

int main(void) {
    tgraph t;
    build(&t, NULL);
    vx_graph *gf = compile(&t, 1), *gu = compile(&t, 0);
    if (!gf || !gu) {
        vx_graph_free(gf);
        vx_graph_free(gu);
        TEST_SUMMARY();
    }
    /* the six nodes are one step when fused, six steps when not */
    CHECK_EQ_INT(n_chain_steps(gf), 1);
    CHECK_EQ_INT(gf->n_steps, 1);
    CHECK_EQ_INT(n_chain_steps(gu), 0);
    CHECK_EQ_INT(gu->n_steps, 6);
    if (gf->n_steps == 1) CHECK_STR(gf->steps[0].label, "Pad+Reshape+Pad+Reshape+Slice+Slice");

    uint32_t seed = 12345;
    int ok = 0;
    params p;
    int64_t ls[] = {1, 2, 3, 7, 16, 33};
    for (size_t i = 0; i < sizeof ls / sizeof *ls; i++) {
        vits_rel_to_abs(&p, 1, 2, ls[i]);
        CHECKF(same(gf, gu, &p, &seed, &ok), "rel->abs, l = %lld", (long long)ls[i]);
        vits_abs_to_rel(&p, 1, 2, ls[i]);
        CHECKF(same(gf, gu, &p, &seed, &ok), "abs->rel, l = %lld", (long long)ls[i]);
    }
    CHECK_EQ_INT(ok, 12);
    int agree = 0, ran = 0;
    ok = 0;
    for (int i = 0; i < 3000; i++) {
        random_params(&p, &seed);
        agree += same(gf, gu, &p, &seed, &ok);
        ran++;
    }
    CHECKF(agree == ran, "%d of %d random chains agree", agree, ran);
    /* the random cases must mostly be valid, or they test only error paths */
    CHECKF(ok > ran / 4, "%d of %d random chains ran", ok, ran);
    printf("# %d random chains: %d ran, all agreed: %s\n", ran, ok, agree == ran ? "yes" : "no");
    vx_graph_free(gf);
    vx_graph_free(gu);

    /* a Pad mode the plan does not cover still runs (the nodes, one by one) */
    build(&t, "reflect");
    gf = compile(&t, 1);
    gu = compile(&t, 0);
    if (gf && gu) {
        CHECK_EQ_INT(n_chain_steps(gf), 1);
        ok = 0;
        vits_rel_to_abs(&p, 1, 2, 5);
        CHECK(same(gf, gu, &p, &seed, &ok));
        CHECK_EQ_INT(ok, 1);
    }
    vx_graph_free(gf);
    vx_graph_free(gu);
    TEST_SUMMARY();
}

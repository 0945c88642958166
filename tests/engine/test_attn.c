/* VITS's relative-position attention fused into one step (engine/fuse_attn.c,
 * ops/nn_attn.c), on a hand-built graph with the text encoder's exact structure:
 * scores Q K, relative logits Q Emb_k through the relative-to-absolute Pad/Reshape/Slice
 * chain, Add, Where(mask, -1e4, .), Softmax, P V, P through the absolute-to-relative
 * chain times Emb_v, Add; plus Shape(P) as a second output (rewritten at load). Compiled
 * with the fusion and without it (VOX_FUSE_ATTN=0), on 1 and 3 threads:
 * - the row-block path agrees with the nodes within float rounding (the GEMMs sum in
 *   another order), for lengths 1..40 and 300 and 600 (several row blocks), random
 *   masks of rank 4 and 2, and is counted;
 * - where it must not apply (an infinite query, a NaN key: the bands would skip
 *   inf x 0 or NaN x 0), the nodes run and the bits are the unfused graph's own;
 * - Shape(P) is the same. */
#include "engine/graph_internal.h"
#include "test.h"
#include "tgraph.h"
#include "util/tpool.h"
#include "vox.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

enum {
    I_Q,
    I_K,
    I_V,
    I_EK,
    I_EV,
    I_COND,
    I_X,
    I_P1,
    I_S1,
    I_P2,
    I_S2,
    I_A0,
    I_A1,
    I_A2,
    I_B0,
    I_B1,
    I_B2,
    I_B3,
    I_Q1,
    I_T1,
    I_Q2,
    I_T2,
    I_C0,
    I_C1,
    I_C2,
    N_IN
};
static const char *in_names[N_IN] = {"q",   "k",   "v",   "ek",  "ev", "cond", "xv", "p1", "s1",
                                     "p2",  "s2",  "a0",  "a1",  "a2", "b0",   "b1", "b2", "b3",
                                     "bp1", "bs1", "bp2", "bs2", "c0", "c1",   "c2"};

typedef struct tgraph {
    vx_model m;
    vx_node nodes[24];
    const char *io[24][6];
    vx_value_info ins[N_IN], outs[2];
} tgraph;

static void build(tgraph *t) {
    memset(t, 0, sizeof *t);
    tg_model(&t->m, t->nodes, t->ins, in_names, N_IN, t->outs);
    for (int i = 0; i <= I_X; i++) t->ins[i].dtype = i == I_COND ? VX_BOOL : VX_FLOAT;
    int k = 0;
#define N(op, n, out, ...)                                                                         \
    tg_node(&t->nodes[k], t->io[k], op, n, (const char *[]){__VA_ARGS__}, out), k++
    N("MatMul", 2, "sc", "q", "k");
    N("MatMul", 2, "x", "q", "ek");
    N("Pad", 2, "t0", "x", "p1");
    N("Reshape", 2, "t1", "t0", "s1");
    N("Pad", 2, "t2", "t1", "p2");
    N("Reshape", 2, "t3", "t2", "s2");
    N("Slice", 4, "t4", "t3", "a0", "a1", "a2");
    N("Slice", 5, "rel", "t4", "b0", "b1", "b2", "b3");
    N("Add", 2, "y", "sc", "rel");
    N("Where", 3, "w", "cond", "xv", "y");
    N("Softmax", 1, "p", "w");
    N("Shape", 1, "ps", "p");
    N("MatMul", 2, "o1", "p", "v");
    N("Pad", 2, "u0", "p", "bp1");
    N("Reshape", 2, "u1", "u0", "bs1");
    N("Pad", 2, "u2", "u1", "bp2");
    N("Reshape", 2, "u3", "u2", "bs2");
    N("Slice", 4, "rw", "u3", "c0", "c1", "c2");
    N("MatMul", 2, "o2", "rw", "ev");
    N("Add", 2, "out", "o1", "o2");
#undef N
    t->m.n_nodes = k;
    t->outs[0].name = "out";
    t->outs[1].name = "ps";
    t->outs[0].ndim = t->outs[1].ndim = -1;
    t->m.n_outputs = 2;
}

static uint32_t rnd(uint32_t *s, uint32_t n) {
    *s = *s * 1664525u + 1013904223u;
    return (*s >> 8) % n;
}

enum { C_VITS, C_RANDOM, C_RANK2, Q_INF, K_NAN, N_KINDS };

/* One case: h heads, length l, d channels. Returns 1 if the graphs agree. */
static int same(const vx_graph *gf, const vx_graph *gu, const vx_run_opts *base, int64_t h,
                int64_t l, int64_t d, int kind, uint32_t *s, int *fast) {
    int64_t w = 2 * l - 1;
    float *q = malloc((size_t)(h * l * d) * sizeof *q),
          *k = malloc((size_t)(h * l * d) * sizeof *k);
    float *v = malloc((size_t)(h * l * d) * sizeof *v);
    float *ek = calloc((size_t)(d * w), sizeof *ek), *ev = calloc((size_t)(w * d), sizeof *ev);
    unsigned char *cond = malloc((size_t)(h * l * l));
    for (int64_t i = 0; i < h * l * d; i++) {
        q[i] = (float)((int)rnd(s, 2001) - 1000) / 300.0f;
        k[i] = (float)((int)rnd(s, 2001) - 1000) / 300.0f;
        v[i] = (float)((int)rnd(s, 2001) - 1000) / 300.0f;
    }
    if (kind == Q_INF) q[rnd(s, (uint32_t)(h * l * d))] = INFINITY;
    /* a NaN key at time 0 (never masked): finite queries, so only the probabilities
     * show it, NaN in every unmasked row */
    if (kind == K_NAN) k[(rnd(s, (uint32_t)h) * d + rnd(s, (uint32_t)d)) * l] = NAN;
    /* 9 relative embeddings (-4..4) at positions l-5 .. l+3, cut at the edges */
    for (int64_t r = 0; r < d; r++)
        for (int64_t j = l - 5; j <= l + 3; j++)
            if (j >= 0 && j < w) {
                ek[r * w + j] = (float)((int)rnd(s, 2001) - 1000) / 500.0f;
                ev[j * d + r] = (float)((int)rnd(s, 2001) - 1000) / 500.0f;
            }
    /* VITS: the outer product of a sequence mask (the last few positions padded) */
    int64_t valid = l > 3 ? l - (int64_t)rnd(s, 3) : l, cn = kind == C_RANDOM ? h * l * l : l * l;
    for (int64_t i = 0; i < cn; i++) {
        int64_t r = i / l % l, c = i % l;
        cond[i] = kind == C_RANDOM ? rnd(s, 4) == 0 : !(r < valid && c < valid);
    }
    float xv = -1e4f;
    tg_relpos fw, bk;
    tg_relpos_init(&fw, h, l, 0);
    tg_relpos_init(&bk, h, l, 1);
    vx_tensor in[N_IN];
    in[I_Q] = tg_tens(VX_FLOAT, q, 4, (int64_t[]){1, h, l, d});
    in[I_K] = tg_tens(VX_FLOAT, k, 4, (int64_t[]){1, h, d, l});
    in[I_V] = tg_tens(VX_FLOAT, v, 4, (int64_t[]){1, h, l, d});
    in[I_EK] = tg_tens(VX_FLOAT, ek, 3, (int64_t[]){1, d, w});
    in[I_EV] = tg_tens(VX_FLOAT, ev, 3, (int64_t[]){1, w, d});
    in[I_COND] = kind == C_RANDOM  ? tg_tens(VX_BOOL, cond, 4, (int64_t[]){1, h, l, l})
                 : kind == C_RANK2 ? tg_tens(VX_BOOL, cond, 2, (int64_t[]){l, l})
                                   : tg_tens(VX_BOOL, cond, 4, (int64_t[]){1, 1, l, l});
    in[I_X] = tg_tens(VX_FLOAT, &xv, 0, NULL);
    tg_relpos_tensors(&fw, 0, &in[I_P1]);
    tg_relpos_tensors(&bk, 1, &in[I_Q1]);
    vx_run_opts o = *base;
    char e1[256] = "", e2[256] = "";
    vx_tensor y1[2], y2[2];
    memset(y1, 0, sizeof y1);
    memset(y2, 0, sizeof y2);
    o.err = e1;
    o.errlen = sizeof e1;
    long f0 = vx_attn_fast_runs();
    int r1 = vx_graph_run(gf, &o, in, N_IN, y1);
    int took = vx_attn_fast_runs() > f0;
    *fast += took;
    o.err = e2;
    int r2 = vx_graph_run(gu, &o, in, N_IN, y2);
    int eq = !r1 && !r2;
    for (int i = 0; i < 2 && eq; i++)
        eq = y1[i].dtype == y2[i].dtype && y1[i].numel == y2[i].numel && y1[i].ndim == y2[i].ndim &&
             !memcmp(y1[i].dims, y2[i].dims, sizeof(int64_t) * (size_t)y1[i].ndim);
    double maxd = 0, maxv = 0;
    if (eq && took) { /* float rounding of the GEMMs' sums (values ~1, sums of <= 600) */
        const float *a = y1[0].data, *b = y2[0].data;
        for (int64_t i = 0; i < y1[0].numel; i++) {
            double dd = fabs((double)a[i] - b[i]);
            if (!(dd <= maxd)) maxd = dd; /* NaN propagates */
            if (fabs(b[i]) > maxv) maxv = fabs(b[i]);
        }
        eq = maxd <= 1e-5 * (1 + maxv);
    } else if (eq) { /* the nodes ran: their own bits */
        eq = !memcmp(y1[0].data, y2[0].data, vx_tensor_bytes(&y1[0]));
    }
    if (eq) eq = !memcmp(y1[1].data, y2[1].data, vx_tensor_bytes(&y1[1]));
    int nonfinite = kind == Q_INF || kind == K_NAN;
    if (eq && nonfinite) eq = !took;
    if (eq && !nonfinite) eq = took;
    if (!eq)
        fprintf(stderr,
                "h %lld l %lld d %lld kind %d threads %d: fused rc %d (%s) fast %d, "
                "unfused rc %d (%s), max diff %g (max |y| %g)\n",
                (long long)h, (long long)l, (long long)d, kind, base->threads, r1, e1, took, r2, e2,
                maxd, maxv);
    for (int i = 0; i < 2; i++) {
        vx_tensor_release(&y1[i]);
        vx_tensor_release(&y2[i]);
    }
    free(q), free(k), free(v), free(ek), free(ev), free(cond);
    return eq;
}

int main(void) {
    vx_tpool *pool = vx_tpool_create(3);
    uint32_t seed = 7;
    int bad = 0, n = 0, fast = 0;
    tgraph t;
    build(&t);
    vx_graph *gf = tg_compile(&t.m, "VOX_FUSE_ATTN", 1), *gu = tg_compile(&t.m, "VOX_FUSE_ATTN", 0);
    if (gf && gu) {
        int fused = 0, unfused = 0;
        for (int k = 0; k < gf->n_steps; k++) fused += !strcmp(gf->steps[k].label, "RelAttention");
        for (int k = 0; k < gu->n_steps; k++)
            unfused += !strcmp(gu->steps[k].label, "RelAttention");
        CHECK_EQ_INT(fused, 1);
        CHECK_EQ_INT(unfused, 0);
        for (int threads = 1; threads <= 3; threads += 2) {
            vx_run_opts o;
            vx_run_opts_init(&o);
            o.threads = threads;
            o.pool = threads > 1 ? pool : NULL;
            for (int64_t l = 1; l <= 40; l += l < 12 ? 1 : 7)
                for (int kind = 0; kind < N_KINDS; kind++, n++)
                    bad += !same(gf, gu, &o, 2, l, l < 20 ? 8 : 96, kind, &seed, &fast);
            for (int kind = 0; kind < N_KINDS; kind++, n++)
                bad += !same(gf, gu, &o, 2, kind == C_VITS ? 600 : 300, 96, kind, &seed, &fast);
        }
    }
    vx_graph_free(gf);
    vx_graph_free(gu);
    CHECKF(n > 0 && bad == 0, "%d of %d cases disagree", bad, n);
    CHECKF(fast == n - 2 * n / N_KINDS, "%d of %d cases took the row-block path", fast, n);
    printf("# %d cases (1 and 3 threads): %d on the row-block path, all agreed: %s\n", n, fast,
           bad ? "no" : "yes");
    vx_tpool_free(pool);
    TEST_SUMMARY();
}

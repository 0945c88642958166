/* VITS's relative-position attention as one step, computed in blocks of query rows.
 *
 * Why: the text encoder's attention (Piper's enc_p, 6 layers, 2 heads) writes five
 * [h, n, n] tensors per layer one after the other: the scores (Q K^T), the relative
 * logits turned absolute (a fused Pad/Reshape chain, shape_chain.c), their sum, the
 * masked scores (Where) and the softmax, and reads them back for the two products with
 * V and with the relative value embeddings. At 3,000 phonemes each is 72 MB, and each
 * pass is a trip through memory. Here a block of RB query rows goes through all of it
 * while it is in cache: its scores (one GEMM), the relative logits added from the chain's
 * index map (only the nonzero band of Q x Emb_k is ever made), mask, softmax, P V (GEMM)
 * and the relative weights gathered from P through the second chain's index map times
 * the nonzero rows of Emb_v. Memory is RB x n per thread instead of several n x n per
 * layer, and the blocks spread over the voice's threads.
 *
 * Exactness: every element is what the nodes compute, up to the order of the sums in
 * the two GEMMs (K blocking, as in any GEMM) and the zeros the bands leave out (exact
 * for finite inputs, which is checked). The index maps are the chains' own (the
 * chain's plan, walked without moving data), checked to stay inside the query row. When
 * anything is not as this path needs (shapes, broadcasting, a Pad constant other than
 * +0, a map leaving the row, non-finite values), the nodes run one by one as before. */
#include "ops/nn_internal.h"
#include "kernels/kernels.h"
#include "tensor/tensor.h"
#include "util/tpool.h"
#include "vox.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifndef RB
#define RB 256 /* query rows per block */
#endif
#define RUNS_CAP 64 /* chain runs per row (the VITS maps need 1-3) */

static atomic_long fast_runs;
long vx_attn_fast_runs(void) { return atomic_load(&fast_runs); }

/* Input j of sub-step i: a step input, another sub-step's output or NULL. */
static vx_tensor *sub_in(const vx_attn_plan *p, int i, int j, vx_tensor *const *in, int n_in,
                         vx_tensor *tmp) {
    if (j >= p->n_args[i]) return NULL;
    int s = p->src[p->arg[i] + j];
    if (s >= 0) return s < n_in ? in[s] : NULL;
    return tmp && -s - 1 < i ? &tmp[-s - 1] : NULL;
}

/* The nodes one by one, each sub-step's output released after its last reader. */
static int run_nodes(vx_op_ctx *ctx, const vx_attn_plan *p, vx_tensor *const *in, int n_in,
                     vx_tensor *out) {
    vx_tensor tmp[AT_N];
    memset(tmp, 0, sizeof tmp);
    int rc = 0;
    for (int i = 0; i < AT_N && !rc; i++) {
        vx_tensor *args[VX_ATTN_SRC_MAX];
        for (int j = 0; j < p->n_args[i]; j++) args[j] = sub_in(p, i, j, in, n_in, tmp);
        vx_op_prep prep;
        memset(&prep, 0, sizeof prep);
        prep.chain = p->chain[i];
        vx_op_ctx sub = *ctx;
        sub.prep = p->chain[i] ? &prep : NULL;
        sub.inplace = sub.dying = 0;
        vx_tensor *dst = i == AT_N - 1 ? out : &tmp[i];
        rc = p->def[i]->fn(&sub, p->node[i], args, p->n_args[i], dst, 1);
        for (int q = 0; q < i; q++) { /* outputs nobody after i reads */
            int later = 0;
            for (int r = i + 1; r < AT_N; r++)
                for (int j = 0; j < p->n_args[r]; j++) later |= p->src[p->arg[r] + j] == -q - 1;
            if (!later) vx_tensor_release(&tmp[q]);
        }
    }
    for (int q = 0; q < AT_N - 1; q++) vx_tensor_release(&tmp[q]);
    return rc;
}

/* One float matrix per batch (rank 2, or leading dims all 1) of rows x cols. */
static int one_matrix(const vx_tensor *t, int64_t rows, int64_t cols) {
    if (!t || t->dtype != VX_FLOAT || !t->data || t->ndim < 2) return 0;
    for (int i = 0; i < t->ndim - 2; i++)
        if (t->dims[i] != 1) return 0;
    return t->dims[t->ndim - 2] == rows && t->dims[t->ndim - 1] == cols;
}

typedef struct attn_job {
    const vx_kernels *kern;
    int64_t nb, t, t2, dk, dv; /* batches (heads), query rows, keys, key and value widths */
    const float *q, *k, *v;    /* [nb, t, dk], [nb, dk, t2], [nb, t2, dv] */
    /* relative logits: the chain over C = Q x Emb_k ([nb * t, n1], nonzero only in
     * columns [b0, b1), held as band [nb * t, b1 - b0]) */
    const vx_chain_map *m1;
    const float *band;
    int64_t n1, b0, b1;
    /* mask: cond (bool) broadcast to [nb, t, t2] by strides cs; x where it is true */
    const unsigned char *cond;
    int64_t cs[3];
    float x;
    /* relative weights: the chain over P, columns [q0, q1) of its [nb * t, n2] output,
     * times rows [q0, q1), columns [e0, e1) of Emb_v ([n2, dv]) */
    const vx_chain_map *m2;
    const float *ev;
    int64_t n2, q0, q1, e0, e1;
    float *out; /* [nb, t, dv] */
    /* scratch: one slot of slot_floats per chunk of blocks (claimed with next_slot),
     * made by the calling thread so that the run's buffer cache recycles it */
    float *scratch;
    int64_t slot_floats;
    atomic_int next_slot, bad;
} attn_job;

/* Adds the relative logits of query row `row` (over all batches) into s[t2]. */
static int add_rel(const attn_job *j, int64_t row, float *s, vx_chain_run *runs) {
    int64_t n = vx_chain_map_runs(j->m1, row * j->t2, j->t2, runs, RUNS_CAP), w = j->b1 - j->b0;
    if (n < 0) return -1;
    for (int64_t u = 0; u < n; u++) { /* each row of C the run crosses: its band part */
        int64_t in0 = runs[u].in, in1 = in0 + runs[u].n;
        for (int64_t r = in0 / j->n1; r * j->n1 < in1; r++) {
            int64_t lo = r * j->n1 + j->b0, hi = r * j->n1 + j->b1;
            if (lo < in0) lo = in0;
            if (hi > in1) hi = in1;
            const float *bd = j->band + r * w + (lo - r * j->n1 - j->b0);
            float *so = s + runs[u].out + (lo - in0);
            for (int64_t i = 0; i < hi - lo; i++) so[i] += bd[i];
        }
    }
    return 0;
}

/* The relative weights of query row `row`: a[q1 - q0] from its probabilities p[t2]. */
static int gather_relw(const attn_job *j, int64_t row, const float *p, float *a,
                       vx_chain_run *runs) {
    int64_t w = j->q1 - j->q0, n = vx_chain_map_runs(j->m2, row * j->n2 + j->q0, w, runs, RUNS_CAP);
    if (n < 0) return -1;
    memset(a, 0, (size_t)w * sizeof *a);
    for (int64_t u = 0; u < n; u++) {
        int64_t i0 = runs[u].in - row * j->t2; /* must stay inside this row of P */
        if (i0 < 0 || i0 + runs[u].n > j->t2) return -1;
        memcpy(a + runs[u].out, p + i0, (size_t)runs[u].n * sizeof *a);
    }
    return 0;
}

/* Whether any of n bools is set (OR of the bytes: vectorizes, a byte per element). */
static int any_set(const unsigned char *c, int64_t n) {
    unsigned char o = 0;
    for (int64_t i = 0; i < n; i++) o |= c[i];
    return o != 0;
}

static void attn_block(void *arg, int64_t b, int64_t e) {
    attn_job *j = arg;
    int64_t nblk = (j->t + RB - 1) / RB, w2 = j->q1 - j->q0;
    float *s = j->scratch + atomic_fetch_add(&j->next_slot, 1) * j->slot_floats;
    vx_chain_run runs[RUNS_CAP];
    float *p = s, *a = s + RB * j->t2, *o2 = a + RB * w2; /* softmax in place: p = s */
    for (int64_t blk = b; blk < e && !atomic_load(&j->bad); blk++) {
        int64_t h = blk / nblk, r0 = blk % nblk * RB, r1 = r0 + RB < j->t ? r0 + RB : j->t;
        int64_t m = r1 - r0, row0 = h * j->t + r0;
        j->kern->sgemm(0, 0, m, j->t2, j->dk, 1.0f, j->q + row0 * j->dk, j->dk,
                       j->k + h * j->dk * j->t2, j->t2, 0.0f, s, j->t2);
        for (int64_t r = 0; r < m; r++) {
            float *sr = s + r * j->t2;
            if (add_rel(j, row0 + r, sr, runs)) goto bad;
            const unsigned char *c = j->cond + h * j->cs[0] + (r0 + r) * j->cs[1];
            if (j->cs[2] == 1) {
                if (any_set(c, j->t2)) /* a row of zeros, as in every unpadded batch: no pass */
                    for (int64_t col = 0; col < j->t2; col++) sr[col] = c[col] ? j->x : sr[col];
            } else if (c[0]) { /* one flag for the whole row */
                for (int64_t col = 0; col < j->t2; col++) sr[col] = j->x;
            }
        }
        j->kern->softmax_f32(s, p, m, j->t2);
        float *out = j->out + row0 * j->dv;
        j->kern->sgemm(0, 0, m, j->dv, j->t2, 1.0f, p, j->t2, j->v + h * j->t2 * j->dv, j->dv, 0.0f,
                       out, j->dv);
        /* The band product below skips P's columns facing Emb_v's zero rows: exact only
         * if P is finite. Checked on P V instead of P (22x fewer values, one pass over
         * the block's probabilities less): every output of a row sums P's whole row, and
         * a NaN or infinite term leaves a sum NaN or infinite, so a finite P V row means
         * a finite P row (a non-finite V also fails it, and takes the nodes' path). */
        if (!vx_nn_all_finite(out, m * j->dv)) goto bad;
        for (int64_t r = 0; r < m; r++)
            if (gather_relw(j, row0 + r, p + r * j->t2, a + r * w2, runs)) goto bad;
        memset(o2, 0, (size_t)(m * j->dv) * sizeof *o2);
        if (w2 > 0 && j->e1 > j->e0)
            j->kern->sgemm(0, 0, m, j->e1 - j->e0, w2, 1.0f, a, w2, j->ev + j->q0 * j->dv + j->e0,
                           j->dv, 0.0f, o2 + j->e0, j->dv);
        for (int64_t i = 0; i < m * j->dv; i++) out[i] = out[i] + o2[i]; /* Add(P V, relative) */
    }
    return;
bad:
    atomic_store(&j->bad, 1);
}

/* Strides of cond (bool) broadcast over the scores' [batch..., t, t2] = sd, with the
 * batch dims merged into one index: cs[0] per batch, cs[1] per row, cs[2] per column.
 * 0 if cond does not broadcast to exactly sd, or its batch dims do not merge. */
static int cond_strides(const vx_tensor *c, int nd, const int64_t *sd, int64_t *cs) {
    if (c->dtype != VX_BOOL || !c->data || c->ndim > nd) return 0;
    int64_t full[VX_MAX_DIMS];
    int bcast = 0, whole = 0;
    for (int i = 0; i < nd; i++) {
        int ci = i - (nd - c->ndim);
        full[i] = ci >= 0 ? c->dims[ci] : 1;
        if (full[i] != 1 && full[i] != sd[i]) return 0;
        if (i < nd - 2 && sd[i] != 1) {
            bcast |= full[i] == 1;
            whole |= full[i] != 1;
        }
    }
    if (bcast && whole) return 0;
    cs[2] = full[nd - 1] == 1 ? 0 : 1;
    cs[1] = full[nd - 2] == 1 ? 0 : full[nd - 1];
    cs[0] = whole ? full[nd - 2] * full[nd - 1] : 0;
    return 1;
}

/* The row-block path; 1 when it does not apply (the caller runs the nodes). */
static int attn_fast(vx_op_ctx *ctx, const vx_attn_plan *p, vx_tensor *const *in, int n_in,
                     vx_tensor *out) {
    vx_tensor *q = sub_in(p, AT_SCORES, 0, in, n_in, NULL),
              *k = sub_in(p, AT_SCORES, 1, in, n_in, NULL);
    vx_tensor *ek =
        sub_in(p, AT_REL, p->chain[AT_REL] ? p->chain[AT_REL]->mm_b : 0, in, n_in, NULL);
    vx_tensor *cond = sub_in(p, AT_WHERE, 0, in, n_in, NULL),
              *x = sub_in(p, AT_WHERE, 1, in, n_in, NULL);
    vx_tensor *v = sub_in(p, AT_MMV, 1, in, n_in, NULL);
    vx_tensor *ev =
        sub_in(p, AT_RELV, p->chain[AT_RELV] ? p->chain[AT_RELV]->mmc_b : 0, in, n_in, NULL);
    if (!q || !k || !ek || !cond || !x || !v || !ev) return 1;
    if (p->src[p->arg[AT_REL]] != p->src[p->arg[AT_SCORES]]) return 1; /* Q feeds both */
    int nd = q->ndim;
    if (nd < 3 || nd > VX_MAX_DIMS || k->ndim != nd || v->ndim != nd || q->dtype != VX_FLOAT ||
        k->dtype != VX_FLOAT || v->dtype != VX_FLOAT || !q->data || !k->data || !v->data)
        return 1;
    for (int i = 0; i < nd - 2; i++)
        if (k->dims[i] != q->dims[i] || v->dims[i] != q->dims[i]) return 1;
    int64_t nb = vx_nn_prod(q->dims, nd - 2), t = q->dims[nd - 2], dk = q->dims[nd - 1];
    int64_t t2 = k->dims[nd - 1], dv = v->dims[nd - 1];
    if (k->dims[nd - 2] != dk || v->dims[nd - 2] != t2 || !nb || !t || !t2 || !dk || !dv) return 1;
    if (x->dtype != VX_FLOAT || x->numel != 1 || !x->data) return 1;
    const vx_node *sm = p->node[AT_SOFTMAX];
    int64_t ax = vx_attr_int(sm, "axis", ctx->opset < 13 ? 1 : -1);
    if (vx_nn_axis(ax, nd) != nd - 1) return 1;
    int64_t sd[VX_MAX_DIMS];
    memcpy(sd, q->dims, sizeof(int64_t) * (size_t)nd);
    sd[nd - 1] = t2;
    attn_job j = {.kern = vx_kernels_get(),
                  .nb = nb,
                  .t = t,
                  .t2 = t2,
                  .dk = dk,
                  .dv = dv,
                  .q = q->data,
                  .k = k->data,
                  .v = v->data,
                  .cond = cond->data,
                  .x = *(const float *)x->data};
    if (!cond_strides(cond, nd, sd, j.cs)) return 1;
    if (!vx_nn_all_finite(j.q, q->numel)) return 1;
    /* relative logits: C = Q x Emb_k on Emb_k's nonzero rows only */
    int64_t n1 = ek->dims[ek->ndim - 1];
    if (!one_matrix(ek, dk, n1) || ek->ndim > nd) return 1; /* (a higher rank adds dims) */
    int64_t kr0, kr1, kc0, kc1;
    vx_nn_nonzero_band(ek->data, dk, n1, &kr0, &kr1, &kc0, &kc1);
    if (kc1 <= kc0) kc0 = kc1 = 0;
    int64_t cd[VX_MAX_DIMS], od[VX_MAX_DIMS];
    memcpy(cd, q->dims, sizeof(int64_t) * (size_t)nd);
    cd[nd - 1] = n1;
    int ond = 0, rc = 1;
    vx_tensor *args[VX_ATTN_SRC_MAX];
    for (int i = 0; i < p->n_args[AT_REL]; i++) args[i] = sub_in(p, AT_REL, i, in, n_in, NULL);
    vx_chain_map *m1 =
        vx_chain_map_new(ctx, p->chain[AT_REL], args, p->n_args[AT_REL], nd, cd, od, &ond);
    vx_chain_map *m2 = NULL;
    float *band = NULL;
    if (!m1 || ond != nd || memcmp(od, sd, sizeof(int64_t) * (size_t)nd)) goto done;
    /* relative weights: the chain over P ([..., t, t2]), then x Emb_v's nonzero rows */
    for (int i = 0; i < p->n_args[AT_RELV]; i++) args[i] = sub_in(p, AT_RELV, i, in, n_in, NULL);
    args[0] = q; /* a placeholder: the map reads only the dims below */
    m2 = vx_chain_map_new(ctx, p->chain[AT_RELV], args, p->n_args[AT_RELV], nd, sd, od, &ond);
    if (!m2 || ond != nd) goto done;
    for (int i = 0; i < nd - 1; i++)
        if (od[i] != sd[i]) goto done;
    int64_t n2 = od[nd - 1];
    if (!one_matrix(ev, n2, dv) || ev->ndim > nd || !vx_nn_all_finite(ev->data, ev->numel))
        goto done;
    j.m1 = m1;
    j.m2 = m2;
    j.n1 = n1;
    j.n2 = n2;
    j.b0 = kc0;
    j.b1 = kc1;
    j.ev = ev->data;
    vx_nn_nonzero_band(ev->data, n2, dv, &j.q0, &j.q1, &j.e0, &j.e1);
    if (j.q1 <= j.q0) j.q0 = j.q1 = 0;
    band = malloc((size_t)(nb * t * (kc1 - kc0) + 1) * sizeof(float));
    if (!band) goto done;
    vx_nn_band_product(j.q, nb * t, dk, ek->data, n1, kr0, kr1, kc0, kc1, band);
    j.band = band;
    int64_t odims[VX_MAX_DIMS];
    memcpy(odims, q->dims, sizeof(int64_t) * (size_t)nd);
    odims[nd - 1] = dv;
    if ((rc = vx_op_alloc_raw(ctx, out, VX_FLOAT, nd, odims))) goto done;
    j.out = out->data;
    atomic_init(&j.bad, 0);
    atomic_init(&j.next_slot, 0);
    int64_t nblk = nb * ((t + RB - 1) / RB), chunks = 1;
    if (ctx->pool && ctx->threads > 1 && nblk > 1)
        chunks = ctx->threads < nblk ? ctx->threads : nblk;
    j.slot_floats = RB * t2 + RB * (j.q1 - j.q0 + dv);
    j.scratch = vx_aligned_alloc_raw((size_t)(chunks * j.slot_floats) * sizeof(float));
    if (!j.scratch) {
        vx_tensor_release(out);
        rc = vx_op_fail(ctx, p->node[AT_OUT], VOX_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (chunks > 1)
        vx_tpool_for_chunks(ctx->pool, nblk, chunks, attn_block, &j);
    else
        attn_block(&j, 0, nblk);
    vx_aligned_free(j.scratch);
    if (atomic_load(&j.bad)) {
        vx_tensor_release(out);
        rc = 1;
    } else {
        atomic_fetch_add(&fast_runs, 1);
    }
done:
    free(band);
    vx_chain_map_free(m1);
    vx_chain_map_free(m2);
    return rc;
}

static int op_attn(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                   vx_tensor *out, int n_out) {
    const vx_attn_plan *p = ctx->prep ? ctx->prep->attn : NULL;
    if (!p || n_out < 1)
        return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "fused attention without its plan");
    int rc = attn_fast(ctx, p, in, n_in, out);
    if (rc <= 0) return rc;
    /* The nodes one by one. Shapes read from P were rewritten at load to the scores'
     * (fuse_attn.c), so P must have that shape: a mask that broadcasts beyond the scores
     * is refused rather than run with the wrong shapes. */
    vx_tensor *q = sub_in(p, AT_SCORES, 0, in, n_in, NULL),
              *k = sub_in(p, AT_SCORES, 1, in, n_in, NULL);
    vx_tensor *cond = sub_in(p, AT_WHERE, 0, in, n_in, NULL);
    if (q && k && cond && cond->ndim > (q->ndim > k->ndim ? q->ndim : k->ndim))
        return vx_op_fail(
            ctx, node, VOX_ERR_MODEL,
            "attention mask of rank %d is wider than its scores (VOX_FUSE_ATTN=0 runs it unfused)",
            cond->ndim);
    return run_nodes(ctx, p, in, n_in, out);
}

const vx_op_def vx_attn_def = {"RelAttention", op_attn, 1};

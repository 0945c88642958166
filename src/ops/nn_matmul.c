/* MatMul and Gemm: the wrappers check shapes and broadcasting; a float MatMul runs as a
 * row gather (a 0/1 selection matrix A), on the nonzero band of a mostly-zero B, or as a
 * GEMM from the kernel table, over the voice's threads in blocks of rows. */
#include "ops/nn_internal.h"
#include "kernels/kernels.h"
#include "vox.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- MatMul */

static void matmul_i64(int64_t m, int64_t n, int64_t k, const int64_t *a, const int64_t *b,
                       int64_t *c) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            uint64_t s = 0; /* wraps on overflow instead of UB */
            for (int64_t p = 0; p < k; p++) s += (uint64_t)a[i * k + p] * (uint64_t)b[p * n + j];
            c[i * n + j] = (int64_t)s;
        }
}

/*
 * A float MatMul whose A is a selection matrix (every entry 0 or 1, at most one 1 per row)
 * and whose B is finite is a gather of B's rows: row i of C is B's row j where A[i][j] = 1,
 * or zeros. VITS's length regulator is such a MatMul (frames x phonemes path matrix times
 * the phoneme statistics, O(frames x phonemes x channels)); as a gather it is O(frames x
 * channels). The result is bit for bit what a GEMM gives: each sum is +0 plus one product
 * 1 * b and products 0 * b = +-0, and adding +-0 to a finite value or to +0 changes nothing,
 * in any order, so the sum is exactly 0.0f + b (b = -0 gives +0, as below). Non-finite B
 * (0 * inf = NaN) keeps the GEMM. Checked at run time, so it needs no graph pattern and
 * costs one pass over A that stops at the first entry other than 0 or 1 (an ordinary
 * MatMul's A: at once). VOX_MATMUL_GATHER=0 turns it off (for comparisons).
 */
static int matmul_gather_on = 1;
static int matmul_band_on = 1; /* see matmul_band */
static atomic_long matmul_gathers;
long vx_nn_matmul_gathers(void) { return atomic_load(&matmul_gathers); }
static pthread_once_t matmul_gather_once = PTHREAD_ONCE_INIT;
static void matmul_gather_read_env(void) {
    const char *v = getenv("VOX_MATMUL_GATHER");
    matmul_gather_on = !(v && (!strcmp(v, "0") || !strcmp(v, "off")));
    v = getenv("VOX_MATMUL_BAND");
    matmul_band_on = !(v && (!strcmp(v, "0") || !strcmp(v, "off")));
}

/* A [m x k] is a selection matrix. */
static int is_selection(const float *a, int64_t m, int64_t k) {
    for (int64_t i = 0; i < m; i++) {
        int ones = 0;
        for (int64_t p = 0; p < k; p++) {
            float v = a[i * k + p];
            if (v == 1.0f) {
                if (++ones > 1) return 0;
            } else if (v != 0.0f) {
                return 0;
            }
        }
    }
    return 1;
}

/* By the exponent bits (all ones: inf or NaN), OR-ed over blocks so that the loop
 * vectorizes; a non-finite value stops the scan at the end of its block. */
int vx_nn_all_finite(const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i += 1024) {
        int64_t e = n - i < 1024 ? n - i : 1024;
        uint32_t bad = 0;
        for (int64_t q = 0; q < e; q++) {
            uint32_t u;
            memcpy(&u, &b[i + q], sizeof u);
            bad |= (u & 0x7f800000u) == 0x7f800000u;
        }
        if (bad) return 0;
    }
    return 1;
}

/* C [m x n] = A [m x k] (a selection matrix) x B [k x n], as row copies. */
static void gather_rows(const float *a, const float *b, float *c, int64_t m, int64_t n, int64_t k) {
    for (int64_t i = 0; i < m; i++) {
        float *ci = c + i * n;
        const float *bj = NULL;
        for (int64_t p = 0; p < k && !bj; p++)
            if (a[i * k + p] == 1.0f) bj = b + p * n;
        for (int64_t q = 0; q < n; q++) ci[q] = bj ? 0.0f + bj[q] : 0.0f;
    }
}

/*
 * A B that is zero outside a band of rows [r0, r1) and columns [c0, c1) (VITS's
 * relative-position attention pads its 2w+1 = 9 relative embeddings with zeros to
 * 2n-1 rows, then multiplies the n x (2n-1) attention weights with them, and the
 * queries with their transpose): only the band is multiplied, C is +0 outside the
 * columns. Exact for finite A (0 * inf = NaN keeps the full GEMM): the skipped products
 * are +-0, and adding +-0 to a running sum changes nothing; the GEMM over the band sums
 * the same products in the same order, so the result is the full GEMM's unless the
 * kernel would have split the band's products across two of its K blocks (then the
 * grouping, not the terms, differs). VOX_MATMUL_BAND=0 turns it off.
 */
static atomic_long matmul_bands;
long vx_nn_matmul_bands(void) { return atomic_load(&matmul_bands); }
static atomic_long matmul_colbands;
long vx_nn_matmul_colbands(void) { return atomic_load(&matmul_colbands); }

/* The rows and columns of B [k x n] holding its nonzero entries (empty: r0 = r1 = 0). */
void vx_nn_nonzero_band(const float *b, int64_t k, int64_t n, int64_t *r0, int64_t *r1, int64_t *c0,
                        int64_t *c1) {
    *r0 = k, *r1 = 0, *c0 = n, *c1 = 0;
    for (int64_t p = 0; p < k; p++) {
        const float *row = b + p * n;
        int64_t lo = 0, hi = n;
        while (lo < n && row[lo] == 0.0f) lo++;
        if (lo == n) continue;
        while (row[hi - 1] == 0.0f) hi--;
        if (p < *r0) *r0 = p;
        *r1 = p + 1;
        if (lo < *c0) *c0 = lo;
        if (hi > *c1) *c1 = hi;
    }
    if (*r1 == 0) *r0 = *c0 = *c1 = 0;
}

/* C = A x B on B's nonzero band, if that saves at least half the work; 1 if done. */
static int matmul_band(const vx_kernels *kern, int64_t m, int64_t n, int64_t k, const float *a,
                       const float *b, float *c) {
    if (!matmul_band_on || m * n * k < ((int64_t)1 << 18)) return 0;
    int64_t r0, r1, c0, c1;
    vx_nn_nonzero_band(b, k, n, &r0, &r1, &c0, &c1);
    if ((r1 - r0) * (c1 - c0) * 2 > k * n || !vx_nn_all_finite(a, m * k)) return 0;
    memset(c, 0, (size_t)(m * n) * sizeof(float));
    if (r1 > r0 && c1 > c0)
        kern->sgemm(0, 0, m, c1 - c0, r1 - r0, 1.0f, a + r0, k, b + r0 * n + c0, n, 0.0f, c + c0,
                    n);
    atomic_fetch_add(&matmul_bands, 1);
    return 1;
}

/* C = A x B on float matrices: the gather when A selects rows, the band of a B that is
 * mostly zeros, else GEMM. */
static void matmul_f32(const vx_kernels *kern, int64_t m, int64_t n, int64_t k, const float *a,
                       const float *b, float *c) {
    pthread_once(&matmul_gather_once, matmul_gather_read_env);
    if (matmul_gather_on && m * k >= 4096 && is_selection(a, m, k) && vx_nn_all_finite(b, k * n)) {
        gather_rows(a, b, c, m, n, k);
        atomic_fetch_add(&matmul_gathers, 1);
    } else if (!matmul_band(kern, m, n, k, a, b, c)) {
        kern->sgemm(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    }
}

/* A float MatMul over the voice's threads: blocks of rows of C, each its own
 * matmul_f32. Every element is the same sum as in one call (GEMM blocks only K the same
 * way for any M; the gather and the band are exact), so the bits do not depend on the
 * thread count. */
typedef struct mm_job {
    const vx_kernels *kern;
    int64_t m, n, k, rows; /* rows per chunk */
    const float *a, *b;
    float *c;
} mm_job;

static void mm_chunk(void *arg, int64_t b, int64_t e) {
    const mm_job *j = arg;
    int64_t r0 = b * j->rows, r1 = e * j->rows < j->m ? e * j->rows : j->m;
    if (r1 > r0) matmul_f32(j->kern, r1 - r0, j->n, j->k, j->a + r0 * j->k, j->b, j->c + r0 * j->n);
}

static void matmul_f32_par(const vx_op_ctx *ctx, const vx_kernels *kern, int64_t m, int64_t n,
                           int64_t k, const float *a, const float *b, float *c) {
    int t = ctx->threads;
    if (!ctx->pool || t < 2 || m < 128 || m * n * k < ((int64_t)1 << 21)) {
        matmul_f32(kern, m, n, k, a, b, c);
        return;
    }
    int64_t rows = (m + 4 * t - 1) / (4 * t); /* about 4 chunks per thread */
    rows = (rows + 15) / 16 * 16;
    if (rows < 32) rows = 32;
    mm_job j = {.kern = kern, .m = m, .n = n, .k = k, .rows = rows, .a = a, .b = b, .c = c};
    int64_t nch = (m + rows - 1) / rows;
    vx_tpool_for_chunks(ctx->pool, nch, nch, mm_chunk, &j);
}

/* The MatMul C = A x B as the nonzero column band of C, for a fused chain reading C
 * (shape_chain.c): taken only when the op itself would compute C on B's nonzero band (or
 * by the gather, which gives the same bits) for every block of rows it would use, so
 * the values are the op's own: C is +0 outside columns [c0, c1), band holds the rest as
 * [rows of C, c1 - c0] (owned: the caller releases it). B must be one matrix (rank 2,
 * or batch dims all 1). Returns 1 with band/c0/c1/dims set, 0 when the op must run. */
/* B is one matrix for a MatMul with A of rank nda: (rank 2, or batch dims all 1), and
 * every row block matmul_f32_par would give matmul_f32 passes matmul_band's size test. */
static int band_blocks_ok(const vx_op_ctx *ctx, int nda, const int64_t *ad, const vx_tensor *b) {
    if (!matmul_band_on || nda < 2 || b->dtype != VX_FLOAT || b->ndim < 2 || !b->data) return 0;
    int ba = nda - 2, bb = b->ndim - 2;
    for (int i = 0; i < bb; i++)
        if (b->dims[i] != 1) return 0;
    int64_t m = ad[nda - 2], k = ad[nda - 1], n = b->dims[b->ndim - 1];
    if (b->dims[b->ndim - 2] != k || !m || !n || !k) return 0;
    int64_t call_m = bb == 0 ? vx_nn_prod(ad, ba) * m : m, rows = call_m, t = ctx->threads;
    if (ctx->pool && t >= 2 && call_m >= 128 && call_m * n * k >= ((int64_t)1 << 21)) {
        rows = (call_m + 4 * t - 1) / (4 * t);
        rows = (rows + 15) / 16 * 16;
        if (rows < 32) rows = 32;
    }
    int64_t last = call_m % rows ? call_m % rows : rows;
    return (last < rows ? last : rows) * n * k >= ((int64_t)1 << 18);
}

/* The MatMul's output dims for A of rank nda and a one-matrix B. */
static int mm_out_dims(int nda, const int64_t *ad, const vx_tensor *b, int64_t *od) {
    int ba = nda - 2, bb = b->ndim - 2, nb = ba > bb ? ba : bb, on = 0;
    for (int i = 0; i < nb; i++) od[on++] = i - (nb - ba) >= 0 ? ad[i - (nb - ba)] : 1;
    od[on++] = ad[nda - 2];
    od[on++] = b->dims[b->ndim - 1];
    return on;
}

void vx_nn_band_product(const float *a, int64_t m, int64_t k, const float *b, int64_t n, int64_t r0,
                        int64_t r1, int64_t c0, int64_t c1, float *band) {
    int64_t w = c1 - c0;
    if (w <= 0) return;
    if (r1 > r0)
        vx_kernels_get()->sgemm(0, 0, m, w, r1 - r0, 1.0f, a + r0, k, b + r0 * n + c0, n, 0.0f,
                                band, w);
    else
        memset(band, 0, (size_t)(m * w) * sizeof(float));
}

int vx_nn_matmul_rowband(const vx_op_ctx *ctx, int nda, const int64_t *ad, const vx_tensor *b,
                         int64_t *r0, int64_t *r1, int64_t *c0, int64_t *c1, int *ond,
                         int64_t *od) {
    pthread_once(&matmul_gather_once, matmul_gather_read_env);
    if (!band_blocks_ok(ctx, nda, ad, b)) return 0;
    int64_t k = ad[nda - 1], n = b->dims[b->ndim - 1];
    vx_nn_nonzero_band(b->data, k, n, r0, r1, c0, c1);
    if ((*r1 - *r0) * (*c1 - *c0) * 2 > k * n) return 0;
    *ond = mm_out_dims(nda, ad, b, od);
    atomic_fetch_add(&matmul_colbands, 1);
    return 1;
}

int vx_nn_matmul_colband(const vx_op_ctx *ctx, const vx_tensor *a, const vx_tensor *b,
                         vx_tensor *band, int64_t *c0, int64_t *c1, int *ond, int64_t *od) {
    pthread_once(&matmul_gather_once, matmul_gather_read_env);
    if (a->dtype != VX_FLOAT || !a->data || !band_blocks_ok(ctx, a->ndim, a->dims, b)) return 0;
    int ba = a->ndim - 2;
    int64_t m = a->dims[a->ndim - 2], k = a->dims[a->ndim - 1], n = b->dims[b->ndim - 1];
    int64_t nbatch = vx_nn_prod(a->dims, ba);
    int64_t r0, r1;
    vx_nn_nonzero_band(b->data, k, n, &r0, &r1, c0, c1);
    if ((r1 - r0) * (*c1 - *c0) * 2 > k * n || !vx_nn_all_finite(a->data, a->numel)) return 0;
    *ond = mm_out_dims(a->ndim, a->dims, b, od);
    int64_t w = *c1 - *c0, bd[2] = {nbatch * m, w};
    if (vx_tensor_alloc_raw(band, VX_FLOAT, 2, bd)) return 0;
    vx_nn_band_product(a->data, nbatch * m, k, b->data, n, r0, r1, *c0, *c1, band->data);
    atomic_fetch_add(&matmul_colbands, 1);
    return 1;
}

/* A given as a compact selection (ops/length_path.c; op.h): int32 [B, T + 1] standing for
 * the float [B, T, X] matrix of +0s with 1.0 at (t, sel[t]). With a finite float B of X
 * rows the product is the gather above (the same bits as the GEMM on the dense matrix);
 * otherwise the dense matrix is made and multiplied as usual. */
static int matmul_sel(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                      vx_tensor *out, int n_out) {
    const vx_tensor *a = in[0], *b = in[1];
    if (a->ndim != 2 || a->dims[1] < 1 || !a->data)
        return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "malformed selection matrix");
    const int32_t *sel = a->data;
    int64_t nb = a->dims[0], t = a->dims[1] - 1, x = sel[t];
    for (int64_t i = 0; i < a->numel; i++) {
        int last = i % (t + 1) == t;
        if (x < 1 || (last ? sel[i] != x : sel[i] < -1 || sel[i] >= x))
            return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "malformed selection matrix");
    }
    int gather = b->dtype == VX_FLOAT && b->data &&
                 ((b->ndim == 2 && b->dims[0] == x) ||
                  (b->ndim == 3 && b->dims[1] == x && (b->dims[0] == nb || b->dims[0] == 1))) &&
                 vx_nn_all_finite(b->data, b->numel);
    if (gather) {
        int64_t n = b->dims[b->ndim - 1], od[3] = {nb, t, n};
        int rc = vx_op_alloc_raw(ctx, out, VX_FLOAT, 3, od);
        if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
        for (int64_t i = 0; i < nb; i++) {
            const float *bi =
                (const float *)b->data + (b->ndim == 3 && b->dims[0] > 1 ? i * x * n : 0);
            for (int64_t r = 0; r < t; r++) {
                int32_t j = sel[i * (t + 1) + r];
                float *ci = (float *)out->data + (i * t + r) * n;
                for (int64_t q = 0; q < n; q++) ci[q] = j >= 0 ? 0.0f + bi[j * n + q] : 0.0f;
            }
        }
        atomic_fetch_add(&matmul_gathers, 1);
        return 0;
    }
    vx_tensor dense, *args[2] = {&dense, in[1]};
    memset(&dense, 0, sizeof dense);
    int64_t dd[3] = {nb, t, x};
    if (vx_tensor_alloc(&dense, VX_FLOAT, 3, dd))
        return vx_op_fail(ctx, node, VOX_ERR_NOMEM, "cannot allocate the dense path matrix");
    for (int64_t i = 0; i < nb; i++)
        for (int64_t r = 0; r < t; r++) {
            int32_t j = sel[i * (t + 1) + r];
            if (j >= 0) ((float *)dense.data)[(i * t + r) * x + j] = 1.0f;
        }
    int rc = vx_op_matmul(ctx, node, args, 2, out, n_out);
    vx_tensor_release(&dense);
    return rc;
}

int vx_op_matmul(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                 vx_tensor *out, int n_out) {
    if (n_in < 2 || !in[0] || !in[1] || n_out < 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs inputs A and B");
    if (ctx->prep && ctx->prep->sel_a && in[0]->dtype == VX_INT32)
        return matmul_sel(ctx, node, in, n_in, out, n_out);
    const vx_tensor *a = in[0], *b = in[1];
    if (a->dtype != b->dtype || (a->dtype != VX_FLOAT && a->dtype != VX_INT64))
        return vx_op_fail(ctx, node, VOX_ERR_UNSUPPORTED, "types %s x %s not supported",
                          vx_dtype_name(a->dtype), vx_dtype_name(b->dtype));
    if (a->ndim < 1 || b->ndim < 1)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "inputs must have rank >= 1");
    /* numpy rules: 1-D A is [1, K] and 1-D B is [K, 1]; the added axis is dropped. */
    int64_t m = a->ndim == 1 ? 1 : a->dims[a->ndim - 2], k = a->dims[a->ndim - 1];
    int64_t kb = b->ndim == 1 ? b->dims[0] : b->dims[b->ndim - 2];
    int64_t n = b->ndim == 1 ? 1 : b->dims[b->ndim - 1];
    if (k != kb)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                          "inner dimensions differ: A [..., %lld] x B [%lld, ...]", (long long)k,
                          (long long)kb);
    int ba = a->ndim > 2 ? a->ndim - 2 : 0, bb = b->ndim > 2 ? b->ndim - 2 : 0;
    int nb = ba > bb ? ba : bb;
    int64_t bd[VX_MAX_DIMS], sa[VX_MAX_DIMS], sb[VX_MAX_DIMS];
    /* batch broadcast with per-operand batch strides (in matrices), 0 where broadcast */
    int64_t stra = 1, strb = 1;
    for (int i = nb - 1; i >= 0; i--) {
        int ia = i - (nb - ba), ib = i - (nb - bb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                              "batch dimensions %lld and %lld do not broadcast", (long long)da,
                              (long long)db);
        bd[i] = da > db ? da : db;
        if (da == 0 || db == 0) bd[i] = 0;
        sa[i] = da == 1 ? 0 : stra;
        sb[i] = db == 1 ? 0 : strb;
        stra *= da;
        strb *= db;
    }
    int64_t od[VX_MAX_DIMS];
    int on = 0;
    for (int i = 0; i < nb; i++) od[on++] = bd[i];
    if (a->ndim > 1) od[on++] = m;
    if (b->ndim > 1) od[on++] = n;
    int rc = vx_op_alloc(ctx, &out[0], a->dtype, on, od);
    if (rc) return vx_op_fail(ctx, node, rc, "cannot allocate output");
    int64_t nbatch = vx_nn_prod(bd, nb);
    if (out[0].numel == 0) return 0;
    const vx_kernels *kern = vx_kernels_get();
    if (a->dtype == VX_FLOAT && bb == 0) {
        /* B is one matrix: all of A's batches are one tall GEMM. */
        matmul_f32_par(ctx, kern, nbatch * m, n, k, a->data, b->data, out[0].data);
        return 0;
    }
    int64_t idx[VX_MAX_DIMS] = {0};
    for (int64_t t = 0; t < nbatch; t++) {
        int64_t oa = 0, ob = 0;
        for (int i = 0; i < nb; i++) {
            oa += idx[i] * sa[i];
            ob += idx[i] * sb[i];
        }
        if (a->dtype == VX_FLOAT)
            matmul_f32_par(ctx, kern, m, n, k, (const float *)a->data + oa * m * k,
                           (const float *)b->data + ob * k * n, (float *)out[0].data + t * m * n);
        else
            matmul_i64(m, n, k, (const int64_t *)a->data + oa * m * k,
                       (const int64_t *)b->data + ob * k * n, (int64_t *)out[0].data + t * m * n);
        for (int i = nb - 1; i >= 0; i--) {
            if (++idx[i] < bd[i]) break;
            idx[i] = 0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ Gemm */

int vx_op_gemm(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, vx_tensor *out,
               int n_out) {
    if (n_in < 2 || n_out < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs inputs A and B");
    const vx_tensor *a = in[0], *b = in[1], *c = n_in > 2 ? in[2] : NULL;
    int rc;
    if ((rc = vx_nn_need_float(ctx, node, a, "A")) || (rc = vx_nn_need_float(ctx, node, b, "B")))
        return rc;
    if (c && (rc = vx_nn_need_float(ctx, node, c, "C"))) return rc;
    if (a->ndim != 2 || b->ndim != 2)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "A and B must be 2-D");
    int ta = vx_attr_int(node, "transA", 0) != 0, tb = vx_attr_int(node, "transB", 0) != 0;
    float alpha = vx_attr_float(node, "alpha", 1.0f), beta = vx_attr_float(node, "beta", 1.0f);
    int64_t m = ta ? a->dims[1] : a->dims[0], k = ta ? a->dims[0] : a->dims[1];
    int64_t kb = tb ? b->dims[1] : b->dims[0], n = tb ? b->dims[0] : b->dims[1];
    if (k != kb)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "inner dimensions differ: %lld vs %lld",
                          (long long)k, (long long)kb);
    /* C broadcasts unidirectionally to [M, N]: row/column strides 0 on size-1 axes */
    int64_t cs_r = 0, cs_c = 0;
    if (c) {
        int64_t cr = c->ndim == 2 ? c->dims[0] : 1, cc = c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
        if (c->ndim > 2 || (cr != 1 && cr != m) || (cc != 1 && cc != n))
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "C does not broadcast to [%lld, %lld]",
                              (long long)m, (long long)n);
        cs_r = cr == 1 ? 0 : cc;
        cs_c = cc == 1 ? 0 : 1;
    }
    int64_t od[2] = {m, n};
    if ((rc = vx_op_alloc(ctx, &out[0], VX_FLOAT, 2, od)))
        return vx_op_fail(ctx, node, rc, "cannot allocate output");
    float *y = out[0].data;
    int use_c = c && beta != 0.0f && c->numel > 0;
    if (use_c) {
        const float *cd = c->data;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) y[i * n + j] = beta * cd[i * cs_r + j * cs_c];
    }
    vx_kernels_get()->sgemm(ta, tb, m, n, k, alpha, a->data, a->dims[1], b->data, b->dims[1],
                            use_c ? 1.0f : 0.0f, y, n);
    return 0;
}

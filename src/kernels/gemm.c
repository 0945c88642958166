/* Portable SGEMM: a naive reference and a cache-blocked version (Goto-style packing).
 *
 * The blocked version packs alpha*op(A) into MR-row panels and op(B) into NR-column
 * panels so the micro-kernel reads both sequentially; the micro-kernel is a fixed-size
 * MR x NR accumulator loop that gcc -O3 keeps in registers and vectorizes over NR even
 * at the baseline ISA (SSE2 on x86-64: 8 accumulators + operands fit in 16 xmm; 4x8 measured
 * ~4x faster than 6x8, 8x8 or 4x16, which gcc spills to the stack). */
#include "kernels/kernels.h"
#include <stdlib.h>
#include <string.h>

#define MR 4
#define NR 8
#define KC 256
#define MC 96  /* multiple of MR; MC*KC floats of packed A (~96 KB) stay in L2 */
#define NC 512 /* KC*NC floats of packed B (512 KB) */

static inline float a_at(const float *a, int64_t lda, int ta, int64_t i, int64_t p) {
    return ta ? a[p * lda + i] : a[i * lda + p];
}
static inline float b_at(const float *b, int64_t ldb, int tb, int64_t p, int64_t j) {
    return tb ? b[j * ldb + p] : b[p * ldb + j];
}

/* Scales C by beta, treating beta == 0 as "overwrite" so stale NaNs do not survive. */
static void scale_c(int64_t m, int64_t n, float beta, float *c, int64_t ldc) {
    if (beta == 1.0f) return;
    for (int64_t i = 0; i < m; i++) {
        float *row = c + i * ldc;
        if (beta == 0.0f)
            memset(row, 0, (size_t)n * sizeof *row);
        else
            for (int64_t j = 0; j < n; j++) row[j] *= beta;
    }
}

void vx_sgemm_ref(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                  int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    scale_c(m, n, beta, c, ldc);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float s = 0.0f;
            for (int64_t p = 0; p < k; p++) s += a_at(a, lda, ta, i, p) * b_at(b, ldb, tb, p, j);
            c[i * ldc + j] += alpha * s;
        }
}

/* dst[panel][p][i] = alpha * op(A)[i0 + panel*MR + i][p0 + p], zero-padded to MR rows. */
static void pack_a(int ta, const float *a, int64_t lda, int64_t i0, int64_t mc, int64_t p0,
                   int64_t kc, float alpha, float *dst) {
    for (int64_t ir = 0; ir < mc; ir += MR) {
        int64_t mr = mc - ir < MR ? mc - ir : MR;
        for (int64_t p = 0; p < kc; p++) {
            for (int64_t i = 0; i < mr; i++) dst[i] = alpha * a_at(a, lda, ta, i0 + ir + i, p0 + p);
            for (int64_t i = mr; i < MR; i++) dst[i] = 0.0f;
            dst += MR;
        }
    }
}

/* dst[panel][p][j] = op(B)[p0 + p][j0 + panel*NR + j], zero-padded to NR columns. */
static void pack_b(int tb, const float *b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
                   int64_t nc, float *dst) {
    for (int64_t jr = 0; jr < nc; jr += NR) {
        int64_t nr = nc - jr < NR ? nc - jr : NR;
        if (!tb && nr == NR) {
            for (int64_t p = 0; p < kc; p++) {
                memcpy(dst, b + (p0 + p) * ldb + j0 + jr, NR * sizeof *dst);
                dst += NR;
            }
            continue;
        }
        for (int64_t p = 0; p < kc; p++) {
            for (int64_t j = 0; j < nr; j++) dst[j] = b_at(b, ldb, tb, p0 + p, j0 + jr + j);
            for (int64_t j = nr; j < NR; j++) dst[j] = 0.0f;
            dst += NR;
        }
    }
}

/* c[0..mr)[0..nr) = (first ? beta*c : c) + a_panel * b_panel. */
static void micro(int64_t kc, const float *restrict a, const float *restrict b, float *restrict c,
                  int64_t ldc, int64_t mr, int64_t nr, int first, float beta) {
    float acc[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = 0.0f;
    for (int64_t p = 0; p < kc; p++) {
        const float *ap = a + p * MR, *bp = b + p * NR;
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) acc[i][j] += ap[i] * bp[j];
    }
    for (int64_t i = 0; i < mr; i++) {
        float *row = c + i * ldc;
        if (first && beta == 0.0f)
            for (int64_t j = 0; j < nr; j++) row[j] = acc[i][j];
        else if (first && beta != 1.0f)
            for (int64_t j = 0; j < nr; j++) row[j] = beta * row[j] + acc[i][j];
        else
            for (int64_t j = 0; j < nr; j++) row[j] += acc[i][j];
    }
}

void vx_sgemm_generic(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                      int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    /* Tiny products: packing costs more than it saves. */
    if (m * n * k < 4096) {
        vx_sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    int64_t kcap = k < KC ? k : KC;
    int64_t ncap = n < NC ? (n + NR - 1) / NR * NR : NC;
    int64_t mcap = m < MC ? (m + MR - 1) / MR * MR : MC;
    float *ap = malloc((size_t)(mcap * kcap) * sizeof *ap);
    float *bp = malloc((size_t)(ncap * kcap) * sizeof *bp);
    if (!ap || !bp) { /* no scratch: still correct, just slow */
        free(ap);
        free(bp);
        vx_sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    for (int64_t jc = 0; jc < n; jc += NC) {
        int64_t nc = n - jc < NC ? n - jc : NC;
        for (int64_t pc = 0; pc < k; pc += KC) {
            int64_t kc = k - pc < KC ? k - pc : KC;
            pack_b(tb, b, ldb, pc, kc, jc, nc, bp);
            for (int64_t ic = 0; ic < m; ic += MC) {
                int64_t mc = m - ic < MC ? m - ic : MC;
                pack_a(ta, a, lda, ic, mc, pc, kc, alpha, ap);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int64_t nr = nc - jr < NR ? nc - jr : NR;
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int64_t mr = mc - ir < MR ? mc - ir : MR;
                        micro(kc, ap + ir * kc, bp + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc,
                              mr, nr, pc == 0, beta);
                    }
                }
            }
        }
    }
    free(ap);
    free(bp);
}

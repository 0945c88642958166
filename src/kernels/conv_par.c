/* Parallel drivers for the conv kernels: split the output time axis of one conv over
 * the thread pool (util/tpool.h). They live with the kernels, not in the pool, because
 * they know the kernels' tiling (alignment, in-place halos). */
#include "kernels/conv_par.h"
#include "vox.h"
#include <stdlib.h>
#include <string.h>

/* ---- parallel conv drivers ---- */

#define PAR_ALIGN 64
#define PIECE_MIN_UNITS 8 /* aligned units a piece needs before a thread gets two */

typedef struct {
    const vx_kernels *k;
    const vx_kernels *f;
    const vx_conv1d_params *p;
    const vx_convtr1d_params *tp;
    const vx_conv1d_fuse *fuse;
    const float *x, *w, *bias;
    const void *wpacked;
    float *y;
    int64_t t0, t1, align, units, n_pieces;
    int err;
    /* in-place conv: the original input around every piece's two ends */
    float *strips;
    int64_t pad_l, pad_r, tile;
} par_job;

/* Piece i covers alignment units [i*units/n, (i+1)*units/n): sizes differ by at most
 * one unit, so pieces balance even when there are only a few. */
static void piece_range(const par_job *j, int64_t i, int64_t *tb, int64_t *te);
static void par_fail(par_job *j, int rc);

static void par_fn(void *arg, int64_t b, int64_t e) {
    par_job *j = arg;
    int64_t tb, te, unused;
    piece_range(j, b, &tb, &unused);
    piece_range(j, e - 1, &unused, &te);
    if (te <= tb) return;
    int rc;
    if (j->tp) {
        rc = j->f->convtr1d_range_f32(j->tp, j->x, j->w, j->wpacked, j->bias, tb, te, j->y);
    } else {
        vx_conv1d_params q = *j->p;
        q.t_begin = tb;
        q.t_end = te;
        rc = j->f ? j->f->conv1d_fused_f32(&q, j->x, j->w, j->wpacked, j->bias, j->fuse, j->y)
                  : j->k->conv1d_f32(&q, j->x, j->w, j->wpacked, j->bias, j->y);
    }
    if (rc) par_fail(j, rc);
}

/* Splits [j->t0, j->t1) into pieces of >= ~2 MFLOP (flop_per_t per output sample), two
 * per thread (fewer, but a multiple of the thread count when possible, if the work is
 * small), on multiples of `align` samples (the kernel's micro-tile width, so no piece
 * computes padding columns); runs them; returns the first error. */
static void plan_pieces(vx_tpool *pool, par_job *j, int64_t flop_per_t, int64_t align) {
    int64_t total = j->t1 - j->t0;
    if (align < 1) align = PAR_ALIGN;
    int nt = vx_tpool_threads(pool);
    int64_t min_piece = flop_per_t > 0 ? (int64_t)2000000 / flop_per_t : total;
    if (min_piece < align) min_piece = align;
    int64_t units = (total + align - 1) / align;
    /* Two pieces per thread balance a noisy machine, but every piece reads the whole
     * weight again and pays its own ragged tile edge: a short conv (the text encoder's,
     * a few hundred phonemes) gets one piece per thread. Medium, 663 ids, 2 threads:
     * first audio 68-69 -> 63-64 ms. */
    int64_t per = units >= (int64_t)nt * 2 * PIECE_MIN_UNITS ? 2 : 1;
    int64_t n_pieces = nt <= 1 ? 1 : (int64_t)nt * per;
    if (total / n_pieces < min_piece) {
        n_pieces = total / min_piece;
        if (n_pieces > nt) n_pieces -= n_pieces % nt;
    }
    if (n_pieces > units) n_pieces = units;
    if (n_pieces < 1) n_pieces = 1;
    j->align = align;
    j->units = units;
    j->n_pieces = n_pieces;
    j->err = 0;
}

/* Piece i's output times [*tb, *te) (empty when *te <= *tb). */
static void piece_range(const par_job *j, int64_t i, int64_t *tb, int64_t *te) {
    *tb = j->t0 + i * j->units / j->n_pieces * j->align;
    *te = j->t0 + (i + 1) * j->units / j->n_pieces * j->align;
    if (*te > j->t1) *te = j->t1;
}

static void par_go(vx_tpool *pool, par_job *j, vx_tpool_fn fn) {
    if (j->n_pieces <= 1)
        fn(j, 0, 1);
    else
        vx_tpool_for_chunks(pool, j->n_pieces, j->n_pieces, fn, j);
}

static int par_run(vx_tpool *pool, par_job *j, int64_t flop_per_t, int64_t align) {
    if (j->t1 - j->t0 <= 0) return 0;
    plan_pieces(pool, j, flop_per_t, align);
    par_go(pool, j, par_fn);
    return j->err;
}

static void par_fail(par_job *j, int rc) {
    int zero = 0;
    __atomic_compare_exchange_n(&j->err, &zero, rc, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static int64_t conv_align(const vx_kernels *f) { return f->conv_nr > 0 ? f->conv_nr : PAR_ALIGN; }

int vx_par_conv1d(vx_tpool *pool, const vx_kernels *k, const vx_conv1d_params *p, const float *x,
                  const float *w, const void *wpacked, const float *bias, float *y) {
    par_job j = {.k = k,
                 .p = p,
                 .x = x,
                 .w = w,
                 .bias = bias,
                 .wpacked = wpacked,
                 .y = y,
                 .t0 = p->t_begin,
                 .t1 = p->t_end};
    return par_run(pool, &j, (p->c_in / (p->group > 0 ? p->group : 1)) * p->c_out * p->k,
                   conv_align(k));
}

int vx_par_conv1d_fused(vx_tpool *pool, const vx_kernels *f, const vx_conv1d_params *p,
                        const float *x, const float *w, const void *wpacked, const float *bias,
                        const vx_conv1d_fuse *fuse, float *y) {
    par_job j = {.f = f,
                 .p = p,
                 .fuse = fuse,
                 .x = x,
                 .w = w,
                 .bias = bias,
                 .wpacked = wpacked,
                 .y = y,
                 .t0 = p->t_begin,
                 .t1 = p->t_end};
    return par_run(pool, &j, (p->c_in / (p->group > 0 ? p->group : 1)) * p->c_out * p->k,
                   conv_align(f));
}

int vx_par_convtr1d(vx_tpool *pool, const vx_kernels *k, const vx_kernels *f,
                    const vx_convtr1d_params *p, const float *x, const float *w,
                    const void *wpacked, const float *bias, float *y) {
    par_job j = {.k = k,
                 .f = f,
                 .tp = p,
                 .x = x,
                 .w = w,
                 .bias = bias,
                 .wpacked = wpacked,
                 .y = y,
                 .t0 = 0,
                 .t1 = p->t_out};
    int64_t s = p->stride > 0 ? p->stride : 1;
    return par_run(pool, &j, (p->c_in / (p->group > 0 ? p->group : 1)) * p->c_out * p->k / s,
                   PAR_ALIGN);
}

/* ---- in-place residual conv ----
 *
 * x = conv(LeakyReLU(x)) + bias + x over a "same" stride-1 conv keeps one tensor alive
 * instead of two: that is what bounds the peak memory of HiFi-GAN's residual stacks,
 * whose [32, audio samples] tensors are the largest of a Piper run. The catch is that
 * output time t needs x in [t - pad_l, t + pad_r], so overwriting x must never destroy
 * input a later output still reads. Each piece runs its tiles left to right and feeds
 * the kernel a private window of the original input: the left halo comes from the
 * previous tile's window (those times were just overwritten), the rest from x, except
 * times past the piece's end, which the next piece may already have written: both ends
 * of every piece are saved before any piece starts. Same kernel, same summation order
 * per output as the out-of-place path, so the results are identical. */

#define INPLACE_TILE 2048

int vx_conv1d_inplace_ok(const vx_conv1d_params *p) {
    int64_t span = (p->k - 1) * p->dilation;
    return p->stride == 1 && p->c_in == p->c_out && p->t_in == p->t_out && p->ldx == p->ldy &&
           p->ldx >= p->t_in && p->t_begin == 0 && p->t_end == p->t_out && p->k >= 1 &&
           p->dilation >= 1 && p->pad >= 0 && p->pad <= span && p->pad <= INPLACE_TILE &&
           span <= 4 * INPLACE_TILE;
}

/* dst[c][i] = x[c][t + i] for i < n, zero where t + i is outside [0, t_in). */
static void copy_cols(const vx_conv1d_params *p, const float *x, int64_t t, int64_t n, float *dst,
                      int64_t ldd) {
    for (int64_t c = 0; c < p->c_in; c++) {
        const float *xr = x + c * p->ldx;
        float *d = dst + c * ldd;
        for (int64_t i = 0; i < n; i++) {
            int64_t s = t + i;
            d[i] = s >= 0 && s < p->t_in ? xr[s] : 0.0f;
        }
    }
}

/* A kernel that copies or converts its input window anyway (conv_inplace: the SIMD FP32
 * tables and bf16) reads each piece straight from x and the saved strips, sparing the
 * window copy (7% of a bf16 run of the medium voice, 6% of an FP32 one: the residual
 * stacks' tensors do not fit in cache). */
static void inplace_direct_fn(void *arg, int64_t b, int64_t e) {
    par_job *j = arg;
    const vx_conv1d_params *p = j->p;
    int64_t C = p->c_in, pl = j->pad_l;
    for (int64_t i = b; i < e; i++) {
        vx_conv1d_params q = *p;
        piece_range(j, i, &q.t_begin, &q.t_end);
        if (q.t_end <= q.t_begin) continue;
        vx_conv1d_fuse fu = *j->fuse;
        fu.res = j->y;
        fu.ldr = p->ldy;
        fu.halo_l = j->strips + i * C * (pl + j->pad_r);
        fu.halo_r = fu.halo_l + C * pl;
        int rc = j->f->conv1d_fused_f32(&q, j->y, j->w, j->wpacked, j->bias, &fu, j->y);
        if (rc) par_fail(j, rc);
    }
}

static void inplace_fn(void *arg, int64_t b, int64_t e) {
    par_job *j = arg;
    const vx_conv1d_params *p = j->p;
    int64_t C = p->c_in, pl = j->pad_l, pr = j->pad_r, B = j->tile, ldw = B + pl + pr;
    float *win = malloc((size_t)(C * ldw) * sizeof *win);
    if (!win) {
        par_fail(j, VOX_ERR_NOMEM);
        return;
    }
    float *x = j->y;
    for (int64_t i = b; i < e; i++) {
        int64_t tb, te;
        piece_range(j, i, &tb, &te);
        const float *ls = j->strips + i * C * (pl + pr), *rs = ls + C * pl;
        int64_t prev_n = 0;
        for (int64_t t0 = tb; t0 < te; t0 += B) {
            int64_t n = te - t0 < B ? te - t0 : B;
            for (int64_t c = 0; c < C; c++) {
                float *w = win + c * ldw;
                if (t0 == tb)
                    memcpy(w, ls + c * pl, (size_t)pl * sizeof *w);
                else
                    memmove(w, w + prev_n, (size_t)pl * sizeof *w);
                /* times [t0, t0 + n + pr): from x below te, from the saved strip after */
                int64_t direct = te - t0 < n + pr ? te - t0 : n + pr;
                memcpy(w + pl, x + c * p->ldx + t0, (size_t)direct * sizeof *w);
                if (direct < n + pr)
                    memcpy(w + pl + direct, rs + c * pr + (t0 + direct - te),
                           (size_t)(n + pr - direct) * sizeof *w);
            }
            vx_conv1d_params q = *p;
            q.t_in = n + pl + pr;
            q.t_out = n;
            q.pad = 0;
            q.ldx = ldw;
            q.t_begin = 0;
            q.t_end = n;
            vx_conv1d_fuse fu = *j->fuse;
            fu.res = x + t0;
            fu.ldr = p->ldy;
            int rc = j->f->conv1d_fused_f32(&q, win, j->w, j->wpacked, j->bias, &fu, x + t0);
            if (rc) {
                par_fail(j, rc);
                free(win);
                return;
            }
            prev_n = n;
        }
    }
    free(win);
}

int vx_par_conv1d_inplace(vx_tpool *pool, const vx_kernels *f, const vx_conv1d_params *p,
                          const float *w, const void *wpacked, const float *bias, int leaky,
                          float alpha, float *x) {
    if (!vx_conv1d_inplace_ok(p)) return VOX_ERR_ARG;
    if (p->t_out <= 0 || p->c_out <= 0) return 0;
    vx_conv1d_fuse fu = {.leaky_in = leaky, .alpha = alpha, .res = NULL, .ldr = p->ldy};
    int64_t align = conv_align(f), span = (p->k - 1) * p->dilation;
    par_job j = {.f = f,
                 .p = p,
                 .fuse = &fu,
                 .w = w,
                 .bias = bias,
                 .wpacked = wpacked,
                 .y = x,
                 .t0 = 0,
                 .t1 = p->t_out,
                 .pad_l = p->pad,
                 .pad_r = span - p->pad};
    j.tile = (INPLACE_TILE + align - 1) / align * align;
    plan_pieces(pool, &j, (p->c_in / (p->group > 0 ? p->group : 1)) * p->c_out * p->k, align);
    int64_t strip = p->c_in * span;
    j.strips = malloc((size_t)(j.n_pieces * strip + 1) * sizeof(float));
    if (!j.strips) return VOX_ERR_NOMEM;
    for (int64_t i = 0; i < j.n_pieces; i++) {
        int64_t tb, te;
        piece_range(&j, i, &tb, &te);
        float *ls = j.strips + i * strip;
        copy_cols(p, x, tb - j.pad_l, j.pad_l, ls, j.pad_l);
        copy_cols(p, x, te, j.pad_r, ls + p->c_in * j.pad_l, j.pad_r);
    }
    par_go(pool, &j, f->conv_inplace && p->group == 1 ? inplace_direct_fn : inplace_fn);
    free(j.strips);
    return j.err;
}

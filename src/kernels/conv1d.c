/* Portable Conv1d / ConvTranspose1d: direct references and GEMM-based fast paths.
 *
 * Conv1d is an implicit GEMM over time tiles: for each tile the im2col matrix
 * [c_in/group * k][tile] is built in a bounded scratch buffer (about 1 MB) and multiplied
 * by the weights, which are already [c_out][c_in/group * k] in the ONNX layout. Audio
 * decoders run this on signals of over a million samples, so nothing here is O(T*C*K).
 * ConvTranspose1d is a GEMM (W^T * x tile) followed by a col2im scatter-add. */
#include "kernels/kernels.h"
#include "vox.h"
#include <stdlib.h>
#include <string.h>

#define SCRATCH_FLOATS (256 * 1024) /* 1 MB of im2col / col2im scratch */
#define MIN_TILE       16
#define DIRECT_TILE    512

void vx_conv1d_ref(const vx_conv1d_params *p, const float *x, const float *w, const float *bias,
                   float *y) {
    int64_t cig = p->c_in / p->group, cog = p->c_out / p->group;
    for (int64_t co = 0; co < p->c_out; co++) {
        int64_t g = co / cog;
        for (int64_t t = p->t_begin; t < p->t_end; t++) {
            float s = bias ? bias[co] : 0.0f;
            for (int64_t ci = 0; ci < cig; ci++)
                for (int64_t kk = 0; kk < p->k; kk++) {
                    int64_t src = t * p->stride + kk * p->dilation - p->pad;
                    if (src >= 0 && src < p->t_in)
                        s += w[(co * cig + ci) * p->k + kk] * x[(g * cig + ci) * p->ldx + src];
                }
            y[co * p->ldy + t] = s;
        }
    }
}

/* The j in [0, n) with 0 <= (t0+j)*stride + off < t_in form the range [*lo, *hi). */
static void valid_range(int64_t t0, int64_t n, int64_t stride, int64_t off, int64_t t_in,
                        int64_t *lo, int64_t *hi) {
    /* src(j) = (t0 + j)*stride + off, increasing in j. */
    int64_t base = t0 * stride + off;
    int64_t a = 0, b = n;
    if (base < 0) a = (-base + stride - 1) / stride;
    /* need base + j*stride <= t_in - 1 */
    if (t_in - 1 - base < 0)
        b = 0;
    else {
        int64_t m = (t_in - 1 - base) / stride + 1;
        if (m < b) b = m;
    }
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* Few output channels per group (depthwise, or the 32->1 post conv): a direct loop over
 * time tiles vectorizes over t and beats a GEMM whose M dimension would be nearly empty. */
static void conv1d_direct(const vx_conv1d_params *p, const float *x, const float *w,
                          const float *bias, float *y) {
    int64_t cig = p->c_in / p->group, cog = p->c_out / p->group;
    float acc[DIRECT_TILE];
    for (int64_t t0 = p->t_begin; t0 < p->t_end; t0 += DIRECT_TILE) {
        int64_t n = p->t_end - t0 < DIRECT_TILE ? p->t_end - t0 : DIRECT_TILE;
        for (int64_t co = 0; co < p->c_out; co++) {
            int64_t g = co / cog;
            float b0 = bias ? bias[co] : 0.0f;
            for (int64_t j = 0; j < n; j++) acc[j] = b0;
            for (int64_t ci = 0; ci < cig; ci++) {
                const float *xr = x + (g * cig + ci) * p->ldx;
                const float *wr = w + (co * cig + ci) * p->k;
                for (int64_t kk = 0; kk < p->k; kk++) {
                    int64_t off = kk * p->dilation - p->pad, lo, hi;
                    valid_range(t0, n, p->stride, off, p->t_in, &lo, &hi);
                    float wv = wr[kk];
                    if (p->stride == 1) {
                        int64_t s0 = t0 + off;
                        for (int64_t j = lo; j < hi; j++) acc[j] += wv * xr[s0 + j];
                    } else {
                        for (int64_t j = lo; j < hi; j++)
                            acc[j] += wv * xr[(t0 + j) * p->stride + off];
                    }
                }
            }
            memcpy(y + co * p->ldy + t0, acc, (size_t)n * sizeof *acc);
        }
    }
}

/* col[(ci*k + kk)][j] = x[ci][(t0+j)*stride + kk*dil - pad] or 0 outside the signal. */
static void im2col_1d(const vx_conv1d_params *p, const float *xg, int64_t cig, int64_t t0,
                      int64_t n, float *col) {
    for (int64_t ci = 0; ci < cig; ci++) {
        const float *xr = xg + ci * p->ldx;
        for (int64_t kk = 0; kk < p->k; kk++) {
            float *row = col + (ci * p->k + kk) * n;
            int64_t off = kk * p->dilation - p->pad, lo, hi;
            valid_range(t0, n, p->stride, off, p->t_in, &lo, &hi);
            if (lo > 0) memset(row, 0, (size_t)lo * sizeof *row);
            if (p->stride == 1) {
                if (hi > lo) memcpy(row + lo, xr + t0 + lo + off, (size_t)(hi - lo) * sizeof *row);
            } else {
                for (int64_t j = lo; j < hi; j++) row[j] = xr[(t0 + j) * p->stride + off];
            }
            if (hi < n) memset(row + hi, 0, (size_t)(n - hi) * sizeof *row);
        }
    }
}

static void fill_bias(float *y, int64_t ldy, const float *bias, int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < n; j++) y[r * ldy + j] = bias[r];
}

int vx_conv1d_generic(const vx_conv1d_params *p, const float *x, const float *w,
                      const void *wpacked, const float *bias, float *y) {
    (void)wpacked; /* the generic path uses the ONNX layout directly */
    const vx_kernels *kern = vx_kernels_get();
    int64_t cig = p->c_in / p->group, cog = p->c_out / p->group, kd = cig * p->k;
    if (p->t_end <= p->t_begin || p->c_out <= 0) return 0;
    if (cog < 4) {
        conv1d_direct(p, x, w, bias, y);
        return 0;
    }
    /* Pointwise conv: x itself is the B matrix (unless end padding adds outputs). */
    int pointwise = p->k == 1 && p->stride == 1 && p->pad == 0 && p->t_end <= p->t_in;
    int64_t tile = SCRATCH_FLOATS / (kd > 0 ? kd : 1);
    if (tile < MIN_TILE) tile = MIN_TILE;
    if (tile > p->t_end - p->t_begin) tile = p->t_end - p->t_begin;
    float *col = NULL;
    if (!pointwise) {
        col = malloc((size_t)(kd * tile + 1) * sizeof *col); /* +1: never malloc(0) */
        if (!col) return VOX_ERR_NOMEM;
    }
    for (int64_t g = 0; g < p->group; g++) {
        const float *xg = x + g * cig * p->ldx, *wg = w + g * cog * kd;
        const float *bg = bias ? bias + g * cog : NULL;
        float *yg = y + g * cog * p->ldy;
        if (pointwise) {
            int64_t n = p->t_end - p->t_begin;
            if (bg) fill_bias(yg + p->t_begin, p->ldy, bg, cog, n);
            kern->sgemm(0, 0, cog, n, cig, 1.0f, wg, kd, xg + p->t_begin, p->ldx, bg ? 1.0f : 0.0f,
                        yg + p->t_begin, p->ldy);
            continue;
        }
        for (int64_t t0 = p->t_begin; t0 < p->t_end; t0 += tile) {
            int64_t n = p->t_end - t0 < tile ? p->t_end - t0 : tile;
            im2col_1d(p, xg, cig, t0, n, col);
            if (bg) fill_bias(yg + t0, p->ldy, bg, cog, n);
            kern->sgemm(0, 0, cog, n, kd, 1.0f, wg, kd, col, n, bg ? 1.0f : 0.0f, yg + t0, p->ldy);
        }
    }
    free(col);
    return 0;
}

void vx_convtr1d_ref(const vx_convtr1d_params *p, const float *x, const float *w, const float *bias,
                     float *y) {
    int64_t cig = p->c_in / p->group, cog = p->c_out / p->group;
    for (int64_t co = 0; co < p->c_out; co++)
        for (int64_t t = 0; t < p->t_out; t++) y[co * p->t_out + t] = bias ? bias[co] : 0.0f;
    for (int64_t ci = 0; ci < p->c_in; ci++) {
        int64_t g = ci / cig;
        for (int64_t c = 0; c < cog; c++) {
            int64_t co = g * cog + c;
            for (int64_t t = 0; t < p->t_in; t++)
                for (int64_t kk = 0; kk < p->k; kk++) {
                    int64_t o = t * p->stride + kk * p->dilation - p->pad;
                    float v = x[ci * p->t_in + t];
                    if (p->leaky_in && v < 0.0f) v *= p->alpha;
                    if (o >= 0 && o < p->t_out)
                        y[co * p->t_out + o] += v * w[(ci * cog + c) * p->k + kk];
                }
        }
    }
}

/* Output times [t_begin, t_end) only: the input frames whose taps can land there are
 * multiplied out (GEMM into columns) and scattered, clipped to the range. The whole range
 * is the plain ConvTranspose. */
int vx_convtr1d_generic_range(const vx_convtr1d_params *p, const float *x, const float *w,
                              const float *bias, int64_t t_begin, int64_t t_end, float *y) {
    const vx_kernels *kern = vx_kernels_get();
    int64_t cig = p->c_in / p->group, cog = p->c_out / p->group, rows = cog * p->k;
    for (int64_t co = 0; co < p->c_out; co++) {
        float b0 = bias ? bias[co] : 0.0f;
        for (int64_t t = t_begin; t < t_end; t++) y[co * p->t_out + t] = b0;
    }
    if (p->t_in <= 0 || rows <= 0 || t_end <= t_begin) return 0;
    /* frame ti writes ti*stride + kk*dilation - pad for kk in [0, k) */
    int64_t lo_num = t_begin + p->pad - (p->k - 1) * p->dilation;
    int64_t ti0 = lo_num <= 0 ? 0 : lo_num / p->stride;
    int64_t ti1 = (t_end - 1 + p->pad) / p->stride + 1;
    if (ti1 > p->t_in) ti1 = p->t_in;
    if (ti0 >= ti1) return 0;
    int64_t tile = SCRATCH_FLOATS / rows;
    if (tile < MIN_TILE) tile = MIN_TILE;
    if (tile > ti1 - ti0) tile = ti1 - ti0;
    /* leaky_in: the tile's input frames through the LeakyReLU first (xl) */
    float *col = malloc((size_t)(rows * tile + (p->leaky_in ? cig * tile : 0)) * sizeof *col);
    if (!col) return VOX_ERR_NOMEM;
    float *xl = col + rows * tile;
    for (int64_t g = 0; g < p->group; g++) {
        const float *xg = x + g * cig * p->t_in, *wg = w + g * cig * rows;
        float *yg = y + g * cog * p->t_out;
        for (int64_t t0 = ti0; t0 < ti1; t0 += tile) {
            int64_t n = ti1 - t0 < tile ? ti1 - t0 : tile;
            const float *b = xg + t0;
            int64_t ldb = p->t_in;
            if (p->leaky_in) {
                for (int64_t ci = 0; ci < cig; ci++)
                    for (int64_t j = 0; j < n; j++) {
                        float v = xg[ci * p->t_in + t0 + j];
                        xl[ci * n + j] = v < 0.0f ? v * p->alpha : v;
                    }
                b = xl;
                ldb = n;
            }
            /* col[(c*k + kk)][j] = sum_ci w[ci][c][kk] * f(x[ci][t0 + j]) */
            kern->sgemm(1, 0, rows, n, cig, 1.0f, wg, rows, b, ldb, 0.0f, col, n);
            for (int64_t c = 0; c < cog; c++) {
                float *yr = yg + c * p->t_out;
                for (int64_t kk = 0; kk < p->k; kk++) {
                    const float *row = col + (c * p->k + kk) * n;
                    int64_t off = kk * p->dilation - p->pad;
                    /* o = (t0 + j)*stride + off must lie in [t_begin, t_end) */
                    int64_t base = t0 * p->stride + off, lo = 0, hi = n;
                    if (base < t_begin) lo = (t_begin - base + p->stride - 1) / p->stride;
                    if (t_end - 1 - base < 0)
                        hi = 0;
                    else {
                        int64_t m = (t_end - 1 - base) / p->stride + 1;
                        if (m < hi) hi = m;
                    }
                    if (p->stride == 1)
                        for (int64_t j = lo; j < hi; j++) yr[base + j] += row[j];
                    else
                        for (int64_t j = lo; j < hi; j++) yr[base + j * p->stride] += row[j];
                }
            }
        }
    }
    free(col);
    return 0;
}

int vx_convtr1d_generic(const vx_convtr1d_params *p, const float *x, const float *w,
                        const float *bias, float *y) {
    return vx_convtr1d_generic_range(p, x, w, bias, 0, p->t_out, y);
}

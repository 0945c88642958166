/* Per-CPU compute kernels behind one dispatch table.
 *
 * The ONNX op wrappers (ops_nn.c) validate shapes and attributes, then call the hot
 * loops through vx_kernels_get(), which picks the best implementation for this CPU once.
 * Every entry has a plain scalar reference (vx_*_ref) that tests compare faster paths
 * against. All buffers are contiguous float32, row-major, with explicit leading dims. */
#ifndef VX_KERNELS_H
#define VX_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/* One 1-D convolution over a single batch item:
 *   y[co][t] = bias[co] + sum_{ci in group(co)} sum_k w[co][ci'][k] * x[ci][t*stride + k*dilation - pad]
 * x is [c_in][t_in] (row stride ldx >= t_in), y is [c_out][t_out] (row stride ldy >= t_out),
 * w is [c_out][c_in/group][k] (the ONNX layout). Taps outside [0, t_in) read as zero.
 * Only output times [t_begin, t_end) are written, so a caller can split the time axis
 * across threads; t_end = t_out computes everything. */
typedef struct vx_conv1d_params {
    int64_t c_in, c_out, group;
    int64_t t_in, t_out;
    int64_t k, stride, dilation, pad;   /* pad = left padding; right padding is implied by t_out */
    int64_t ldx, ldy;
    int64_t t_begin, t_end;
} vx_conv1d_params;

/* One 1-D transposed convolution over a single batch item:
 *   y[co][t*stride + k*dilation - pad] += x[ci][t] * w[ci][co'][k]   (co in group(ci))
 * then + bias. x is [c_in][t_in], y is [c_out][t_out] (fully written), w is
 * [c_in][c_out/group][k] (the ONNX layout). Positions outside [0, t_out) are dropped. */
typedef struct vx_convtr1d_params {
    int64_t c_in, c_out, group;
    int64_t t_in, t_out;
    int64_t k, stride, dilation, pad;
} vx_convtr1d_params;

typedef struct vx_kernels {
    const char *name;   /* "scalar", "avx2", "avx512", "neon" */

    /* C = alpha * op(A) * op(B) + beta * C, row-major like cblas_sgemm(CblasRowMajor).
     * op(A) is M x K: A[m*lda + k] (trans_a = 0) or A[k*lda + m] (trans_a = 1); likewise
     * op(B) is K x N. beta == 0 means C is write-only (its old contents, even NaN, are
     * ignored). Never fails. */
    void (*sgemm)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                  float *c, int64_t ldc);

    /* Conv1d as above. wpacked: weights pre-packed by conv1d_pack (NULL = use w).
     * bias may be NULL. Returns 0 or VOX_ERR_NOMEM (scratch allocation). Scratch is
     * bounded (about 1 MB) whatever t_in is. */
    int (*conv1d_f32)(const vx_conv1d_params *p, const float *x, const float *w,
                      const void *wpacked, const float *bias, float *y);
    /* Optional (NULL when the implementation uses raw weights): bytes needed for packed
     * weights, and the packing itself, so an executor can pack once per model. */
    size_t (*conv1d_pack_bytes)(const vx_conv1d_params *p);
    void (*conv1d_pack)(const vx_conv1d_params *p, const float *w, void *dst);

    /* ConvTranspose1d as above; bias may be NULL. Returns 0 or VOX_ERR_NOMEM. */
    int (*convtr1d_f32)(const vx_convtr1d_params *p, const float *x, const float *w,
                        const float *bias, float *y);
} vx_kernels;

/* The implementation for this CPU, chosen on first call (thread-safe: idempotent).
 * env VOX_CPU=scalar|avx2|avx512|neon forces a path (falls back to scalar if the
 * requested one is not built in or not supported by the CPU). */
const vx_kernels *vx_kernels_get(void);
/* A specific table by name, or NULL if not available on this CPU/build. */
const vx_kernels *vx_kernels_by_name(const char *name);

/* The portable tables and scalar references (src/ops). The generic conv
 * paths run their GEMMs through vx_kernels_get()->sgemm, so they also speed up when a
 * SIMD table is chosen (and per-arch tables may fall back to them); with VOX_CPU=scalar
 * everything is portable C. */
extern const vx_kernels vx_kernels_scalar;
void vx_sgemm_ref(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                  float *c, int64_t ldc);
void vx_sgemm_generic(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                      const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                      float *c, int64_t ldc);
void vx_conv1d_ref(const vx_conv1d_params *p, const float *x, const float *w,
                   const float *bias, float *y);
int vx_conv1d_generic(const vx_conv1d_params *p, const float *x, const float *w,
                      const void *wpacked, const float *bias, float *y);
void vx_convtr1d_ref(const vx_convtr1d_params *p, const float *x, const float *w,
                     const float *bias, float *y);
int vx_convtr1d_generic(const vx_convtr1d_params *p, const float *x, const float *w,
                        const float *bias, float *y);

/* Per-arch tables, defined by src/kernels/x86/ *_avx2.c / *_avx512.c and
 * src/kernels/arm/ *_neon.c when those exist. dispatch.c references them only under
 * VOX_KERNELS_HAVE_AVX2 / _AVX512 / _NEON. */
extern const vx_kernels vx_kernels_avx2;
extern const vx_kernels vx_kernels_avx512;
extern const vx_kernels vx_kernels_neon;
#endif

/* Per-CPU compute kernels behind one dispatch table.
 *
 * Pure math: no ONNX, no tensors. The ONNX operators (src/ops/ops_nn.c) validate shapes
 * and attributes, then call the hot loops through vx_kernels_get(), which builds the best
 * table for this CPU once. Every entry has a portable scalar version that tests
 * (tests/kernels/test_simd_kernels.c) compare faster paths against. All buffers are contiguous float32, row-major, with explicit leading dims. */
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
    int64_t k, stride, dilation, pad; /* pad = left padding; right padding is implied by t_out */
    int64_t ldx, ldy;
    int64_t t_begin, t_end;
} vx_conv1d_params;

/* One 1-D transposed convolution over a single batch item:
 *   y[co][t*stride + k*dilation - pad] += f(x[ci][t]) * w[ci][co'][k]   (co in group(ci))
 * then + bias, f = LeakyReLU_alpha if leaky_in, else identity. x is [c_in][t_in], y is
 * [c_out][t_out] (fully written), w is [c_in][c_out/group][k] (the ONNX layout).
 * Positions outside [0, t_out) are dropped. */
typedef struct vx_convtr1d_params {
    int64_t c_in, c_out, group;
    int64_t t_in, t_out;
    int64_t k, stride, dilation, pad;
    int leaky_in; /* HiFi-GAN's LeakyReLU before each upsampler, read on the fly */
    float alpha;
} vx_convtr1d_params;

/* Extra work folded into a conv1d:
 *   y = conv(leaky_in ? LeakyReLU_alpha(x) : x) + bias + (res ? res : 0)
 * res is [c_out][ldr] (indexed at the same output times as y); it may alias y only if
 * ldr == ldy (each element is read before it is written).
 * In place (halo_l non-NULL; only for a table with conv_inplace set): y == x == res,
 * stride 1, one group, c_in == c_out, ldx == ldy == ldr, and x outside [t_begin, t_end)
 * may already hold other pieces' outputs, so the input times the conv reads there come
 * from halo_l [c_in][pad] (times t_begin - pad ...) and halo_r [c_in][span - pad] (times
 * t_end ...), zero outside [0, t_in). The kernel reads its own piece's input before it
 * overwrites it (conv_par.c, vx_par_conv1d_inplace). */
typedef struct vx_conv1d_fuse {
    int leaky_in;
    float alpha;
    const float *res;
    int64_t ldr;
    const float *halo_l, *halo_r;
} vx_conv1d_fuse;

typedef struct vx_kernels {
    const char *name; /* "scalar", "avx2", "avx512", "neon" */

    /* C = alpha * op(A) * op(B) + beta * C, row-major like cblas_sgemm(CblasRowMajor).
     * op(A) is M x K: A[m*lda + k] (trans_a = 0) or A[k*lda + m] (trans_a = 1); likewise
     * op(B) is K x N. beta == 0 means C is write-only (its old contents, even NaN, are
     * ignored). Never fails. */
    void (*sgemm)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                  int64_t ldc);

    /* Conv1d as above. wpacked: weights pre-packed by conv1d_pack (NULL = use w).
     * bias may be NULL. Returns 0 or VOX_ERR_NOMEM (scratch allocation). Scratch is
     * bounded (about 1 MB) whatever t_in is. */
    int (*conv1d_f32)(const vx_conv1d_params *p, const float *x, const float *w,
                      const void *wpacked, const float *bias, float *y);
    /* Bytes needed for packed weights (0: this table uses raw weights, pass wpacked
     * NULL), and the packing itself, so an executor can pack once per model. */
    size_t (*conv1d_pack_bytes)(const vx_conv1d_params *p);
    void (*conv1d_pack)(const vx_conv1d_params *p, const float *w, void *dst);

    /* ConvTranspose1d as above; bias may be NULL. Returns 0 or VOX_ERR_NOMEM. */
    int (*convtr1d_f32)(const vx_convtr1d_params *p, const float *x, const float *w,
                        const float *bias, float *y);

    /* As conv1d_f32 (same packed weights from conv1d_pack) plus the fusion. f may be
     * NULL (plain conv). Returns 0 or VOX_ERR_NOMEM. */
    int (*conv1d_fused_f32)(const vx_conv1d_params *p, const float *x, const float *w,
                            const void *wpacked, const float *bias, const vx_conv1d_fuse *f,
                            float *y);
    /* ConvTranspose1d weight pre-packing (0 bytes = not packable: pass wpacked NULL). */
    size_t (*convtr1d_pack_bytes)(const vx_convtr1d_params *p);
    void (*convtr1d_pack)(const vx_convtr1d_params *p, const float *w, void *dst);
    /* ConvTranspose1d writing only output times [t_begin, t_end) of every channel, so a
     * caller can split the output across threads. wpacked from convtr1d_pack or NULL.
     * Returns 0 or VOX_ERR_NOMEM. */
    int (*convtr1d_range_f32)(const vx_convtr1d_params *p, const float *x, const float *w,
                              const void *wpacked, const float *bias, int64_t t_begin,
                              int64_t t_end, float *y);
    /* y[i] = tanh(x[i]) / sigmoid(x[i]) in float, vectorized; within a few ulp of the
     * correctly rounded result (tests/kernels/test_ew_fast.c). y may equal x; NaN
     * passes through. */
    void (*tanh_f32)(const float *x, float *y, int64_t n);
    void (*sigmoid_f32)(const float *x, float *y, int64_t n);
    /* Softmax of each of rows contiguous rows of len floats: y = e^(x - max) / sum. A
     * row with a NaN (or only infinities of one sign) gives NaN. y may equal x. */
    void (*softmax_f32)(const float *x, float *y, int64_t rows, int64_t len);
    /* y[i] = erf(x[i]) in float (the duration predictor's GELU); scalar: libm's erff,
     * SIMD: a few ulp from the correctly rounded result. y may equal x; NaN passes. */
    void (*erf_f32)(const float *x, float *y, int64_t n);
    /* 2 * pairs normal deviates from pairs random words (Box-Muller: the word's high 32
     * bits make u1 in (0, 1], the low ones u2 in [0, 1)): y = mean + scale * N. Scalar:
     * libm's logf/sqrtf/cosf/sinf; SIMD: polynomials within a few ulp of those. */
    void (*normal_f32)(const uint64_t *w, float *y, int64_t pairs, float mean, float scale);
    /* dst[a * dst_a + b] = src[a + b * src_b] for a < A, b < B: a plane of 4-byte elements
     * transposed (bits moved, never computed on). Transpose's inner loop (ops). */
    void (*transpose_u32)(uint32_t *dst, const uint32_t *src, int64_t A, int64_t B,
                          int64_t dst_a, int64_t src_b);
    /* conv1d output time micro-tile width (samples): ranges split on multiples of it
     * waste no padding columns. */
    int conv_nr;
    /* conv1d_fused_f32 runs a residual conv in place from halos (vx_conv1d_fuse), with
     * no window copy: the cores that copy or convert their input window anyway (the SIMD
     * FP32 tables, the reduced-precision ones) */
    int conv_inplace;
} vx_kernels;

/* Conv outputs of at least this many elements, written anew, go out with non-temporal
 * stores where a core can (x86 FP32 and bf16/int8 AVX-512): they do not fit in cache,
 * and a normal store first reads every line it writes. */
#define VX_STREAM_MIN_ELEMS ((int64_t)2 << 20)

/* Registration, the dav1d way: vx_kernels_init_scalar fills every entry with portable
 * C (so no entry is ever NULL), then each arch's init overrides the entries its CPU
 * flags allow (x86/x86.h, arm/arm.h). dispatch.c is the one place that calls them. */
enum {
    VX_CPU_AVX2 = 1u << 0,   /* AVX2 + FMA + F16C */
    VX_CPU_AVX512 = 1u << 1, /* AVX-512 F/BW/VL/DQ */
    VX_CPU_NEON = 1u << 2,   /* AArch64 Advanced SIMD (baseline there) */
};
/* Flags of this CPU that this build has kernels for. */
unsigned vx_cpu_flags(void);
void vx_kernels_init_scalar(vx_kernels *k);
/* Scalar init, then every arch override that `flags` allows. */
void vx_kernels_init(vx_kernels *k, unsigned flags);

/* The table for this CPU, made on first call (thread-safe). env VOX_CPU=scalar|avx2|
 * avx512|neon forces a level (scalar when the requested one is not built in or not
 * supported by the CPU). */
const vx_kernels *vx_kernels_get(void);
/* The table of one level by name ("scalar", "avx2", "avx512", "neon"), or NULL when this
 * build or CPU lacks it. Tables are process-wide singletons: pointers compare equal. */
const vx_kernels *vx_kernels_by_name(const char *name);

/* Scalar references and the portable paths (kernels/gemm.c, conv1d.c, scalar.c). The
 * portable conv paths run their GEMMs through vx_kernels_get()->sgemm, so they also
 * speed up when a SIMD table is chosen; with VOX_CPU=scalar everything is portable C. */
/* The scalar transpose (x86 uses it for the edges of its 8 x 8 blocks). */
void vx_transpose_u32_scalar(uint32_t *dst, const uint32_t *src, int64_t A, int64_t B,
                             int64_t dst_a, int64_t src_b);
void vx_sgemm_ref(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                  int64_t ldc);
void vx_sgemm_generic(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                      const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                      float *c, int64_t ldc);
void vx_conv1d_ref(const vx_conv1d_params *p, const float *x, const float *w, const float *bias,
                   float *y);
int vx_conv1d_generic(const vx_conv1d_params *p, const float *x, const float *w,
                      const void *wpacked, const float *bias, float *y);
void vx_convtr1d_ref(const vx_convtr1d_params *p, const float *x, const float *w, const float *bias,
                     float *y);
int vx_convtr1d_generic(const vx_convtr1d_params *p, const float *x, const float *w,
                        const float *bias, float *y);
int vx_convtr1d_generic_range(const vx_convtr1d_params *p, const float *x, const float *w,
                              const float *bias, int64_t t_begin, int64_t t_end, float *y);
#endif

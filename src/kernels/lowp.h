/* Reduced-precision (bf16, int8) Conv1d / ConvTranspose1d / GEMM kernels.
 *
 * Same shapes and fused epilogue as the FP32 kernels (kernels.h):
 *   y = conv(leaky_in ? LeakyReLU_alpha(x) : x) + bias + res
 * with FP32 inputs, outputs, bias and residual; only the multiply-accumulate runs in the
 * reduced format. Weights are packed once (at load) into the format; activations are
 * converted on the fly, window by window, inside the kernel.
 *
 * bf16: weights and activations rounded to bfloat16 (round to nearest even, denormals
 *   to zero, as VCVTNEPS2BF16 does); products summed in FP32 (exact bf16 x bf16
 *   products, one FP32 rounding per add, as VDPBF16PS does: the odd element of a pair
 *   is added first, then the even one). Bound per output against the FP32 result:
 *   |err| <= (2u + u^2) * sum |w x| + FP32 summation error, u = 2^-8.
 * int8: weights symmetric per output channel (sw = max|w[co]| / 127, wq = rne(w / sw));
 *   activations symmetric per window (one scale per block of VX_LOWP_I8_QB output
 *   times, aligned to time 0, and per input-channel chunk: sx = max|x| / 127 over the
 *   inputs that block reads), stored as u8 (xq + 128, zero padding = 128); exact int32
 *   sums per chunk, then y += (float)isum * (sx * sw[co]). A non-finite activation
 *   makes its block's outputs NaN.
 *
 * Reduction order (the same in every implementation, so that the emulation matches the
 * SIMD paths): input channels in units (pairs for bf16, quads for int8; a missing channel
 * of the last unit is zero), units in chunks of vx_lowp_chunk(K) units, inside a chunk
 * unit by unit, tap by tap. Each chunk is summed from zero and added to the output
 * accumulator (FP32). Results do not depend on how [t_begin, t_end) is split.
 *
 * Packed weights (shared by every implementation of one format; vx_lowp_pack):
 *   per group g, per panel of VX_LOWP_MR output channels (mr = min(MR, cog - co0)):
 *   u32 words [(u * K + k) * mr + i] = the unit u of channel co0+i at tap k (bf16: low
 *   half channel 2u, high half 2u+1; int8: byte b = channel 4u+b). Panel offset =
 *   (g*cog + co0) * nu * K words. int8 then appends int32 corr[c_out][nchunk]
 *   (128 * sum of wq over the chunk: removes the u8 offset) and float sw[c_out].
 *
 * Implementations: the emulations (every CPU), bf16 on AVX512-BF16, int8 on AVX512-VNNI
 * and on AVX-VNNI (256-bit VEX, for CPUs without AVX-512; chosen when AVX512-VNNI is
 * absent, or by name "int8-avxvnni") (x86/lowp_*.c). AMX tiles (tdpbf16ps / tdpbssd) are
 * not written (no CPU here to test them on).
 *
 * Limits: every dimension > 0, group divides c_in and c_out, t_in <= 2^31, K <=
 * VX_LOWP_MAX_K (an int8 chunk's int32 sum, at most 4 * 255 * 127 per unit and tap, cannot
 * overflow); a violation returns VOX_ERR_ARG (and packing reports 0 bytes, so the engine
 * keeps such a layer in FP32). Scratch per call is bounded (about 1.5 MB) whatever T is. */
#ifndef VX_LOWP_H
#define VX_LOWP_H
#include "kernels/kernels.h"
#include "kernels/kernels.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef enum vx_lowp_fmt { VX_LOWP_FP32 = 0, VX_LOWP_BF16 = 1, VX_LOWP_INT8 = 2 } vx_lowp_fmt;

#define VX_LOWP_MR    8     /* output channels per packed panel */
#define VX_LOWP_CHUNK 256   /* reduction steps (unit x tap) per chunk */
#define VX_LOWP_I8_QB 384   /* int8 activation-scale block (output times) */
#define VX_LOWP_MAX_K 16384 /* taps */

static inline int64_t vx_lowp_unit(vx_lowp_fmt f) { return f == VX_LOWP_INT8 ? 4 : 2; }
/* units per chunk for a kernel of K taps */
static inline int64_t vx_lowp_chunk(int64_t K) {
    int64_t c = VX_LOWP_CHUNK / (K > 0 ? K : 1);
    return c < 1 ? 1 : c;
}

/* What a conv core does beyond vx_conv1d_params: LeakyReLU on the input, a residual
 * added on the way out (res [c_out][ldr] at the output times; may alias y if ldr ==
 * ldy), and an output time step (1; the stride for a ConvTranspose phase). */
typedef struct vx_lowp_job {
    int leaky;
    float alpha;
    const float *res;
    int64_t ldr;
    int64_t ostride;
    const float *halo_l, *halo_r; /* in place (vx_conv1d_fuse); cores with `inplace` only */
} vx_lowp_job;

/* Every phase of one ConvTranspose at once (vx_lowp_convtr1d_range, when all phases have
 * the same tap count kr > 0): w[r] = phase r's packed weights (a stride-1 conv of kr
 * taps, vx_lowp_convtr_pack), output times [t_begin, t_end). */
typedef struct vx_lowp_tr {
    const vx_convtr1d_params *p;
    const void *w[64];
    int64_t kr, t_begin, t_end;
} vx_lowp_tr;

typedef struct vx_lowp_kernels {
    const char *name; /* "bf16-emul", "bf16-avx512", "int8-emul", "int8-vnni",
                              "int8-avxvnni" */
    vx_lowp_fmt fmt;
    /* One conv over output times [t_begin, t_end) (y[co*ldy + t*ostride]), weights
     * from vx_lowp_pack, bias may be NULL. Shapes are already checked (vx_lowp_conv1d).
     * Returns 0 or VOX_ERR_NOMEM. */
    int (*core)(const vx_conv1d_params *p, const float *x, const void *wpacked, const float *bias,
                const vx_lowp_job *job, float *y);
    /* Optional (NULL: phase by phase through core): a ConvTranspose's phases over one
     * converted input window per tile, with results identical to the phase-by-phase
     * path. Returns 0 or VOX_ERR_NOMEM. */
    int (*core_tr)(const vx_lowp_tr *t, const float *x, const float *bias, float *y);
    /* core runs in place from the job's halos (vx_conv1d_fuse: stride 1, one group) */
    int inplace;
} vx_lowp_kernels;

/* Conv1d over one batch item (kernels.h semantics; t_begin..t_end written) with the
 * fused epilogue f (may be NULL). Returns 0, VOX_ERR_NOMEM, or VOX_ERR_ARG (bad shape). */
int vx_lowp_conv1d(const vx_lowp_kernels *k, const vx_conv1d_params *p, const float *x,
                   const void *wpacked, const float *bias, const vx_conv1d_fuse *f, float *y);
/* ConvTranspose1d writing output times [t_begin, t_end) of every channel (y is
 * [c_out][t_out]); needs vx_lowp_convtr_ok(p); weights from vx_lowp_convtr_pack. */
int vx_lowp_convtr1d_range(const vx_lowp_kernels *k, const vx_convtr1d_params *p, const float *x,
                           const void *wpacked, const float *bias, int64_t t_begin, int64_t t_end,
                           float *y);

/* Portable emulations (every CPU): the numerical definition the SIMD paths match. */
extern const vx_lowp_kernels vx_lowp_bf16_emul;
extern const vx_lowp_kernels vx_lowp_int8_emul;

/* The fastest implementation of fmt on this CPU (emulation if no SIMD path applies), or
 * one by name (NULL if unknown, not built in, or the CPU lacks it). env VOX_LOWP=emul
 * forces the emulation. */
const vx_lowp_kernels *vx_lowp_get(vx_lowp_fmt fmt);
const vx_lowp_kernels *vx_lowp_by_name(const char *name);
/* The per-arch part of vx_lowp_by_name (kernels/dispatch.c, the one registration). */
const vx_lowp_kernels *vx_lowp_arch_by_name(const char *name);

/* Weight packing (shared by every implementation of a format). */
size_t vx_lowp_pack_bytes(vx_lowp_fmt fmt, const vx_conv1d_params *p); /* 0: bad shape */
void vx_lowp_pack(vx_lowp_fmt fmt, const vx_conv1d_params *p, const float *w, void *dst);
int vx_lowp_convtr_ok(const vx_convtr1d_params *p);
size_t vx_lowp_convtr_pack_bytes(vx_lowp_fmt fmt, const vx_convtr1d_params *p);
void vx_lowp_convtr_pack(vx_lowp_fmt fmt, const vx_convtr1d_params *p, const float *w, void *dst);

/* GEMM with pre-packed A: C[m][n] (+)= sum_k A[m][k] * B[k][n] (+ bias[m]); A is packed
 * with vx_lowp_gemm_pack (a K=1 conv of c_in = k, c_out = m), B row-major with row stride
 * ldb, accumulate = 1 adds into C (beta 1), 0 overwrites (beta 0). */
size_t vx_lowp_gemm_pack_bytes(vx_lowp_fmt fmt, int64_t m, int64_t k);
void vx_lowp_gemm_pack(vx_lowp_fmt fmt, int64_t m, int64_t k, const float *a, int64_t lda,
                       void *dst);
int vx_lowp_gemm(const vx_lowp_kernels *kern, int64_t m, int64_t n, int64_t k, const void *apacked,
                 const float *b, int64_t ldb, const float *bias, int accumulate, float *c,
                 int64_t ldc);

/* k as a fused FP32-style table (conv1d_fused_f32, convtr1d_range_f32 and conv_nr only;
 * raw weights ignored, wpacked required) for the parallel drivers of conv_par.h. */
const vx_kernels *vx_lowp_fused(const vx_lowp_kernels *k);

/* ---- shared pieces of the definition (used by the emulation and the SIMD drivers) ---- */

/* Float -> bf16 bits: round to nearest even; denormals -> signed zero; NaN stays a quiet
 * NaN with its sign and top payload bits; overflow rounds to infinity. */
static inline uint16_t vx_bf16_from_f32(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    if ((u & 0x7f800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
static inline float vx_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    if ((u & 0x7f800000u) == 0) u &= 0x80000000u; /* denormal in: zero (DAZ) */
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Per-output-channel int8 weight scale and quantizer (shared by packing and tests). */
static inline float vx_i8_quant(float v, float inv) {
    float q = __builtin_nearbyintf(v * inv);
    if (q != q) return 0.0f; /* NaN (only with a NaN scale, whose block is NaN anyway) */
    return q > 127.0f ? 127.0f : q < -127.0f ? -127.0f : q;
}

/* Offsets into an int8 pack (units of bytes) and its chunk count. */
static inline int64_t vx_lowp_units(vx_lowp_fmt f, int64_t cig) {
    int64_t u = vx_lowp_unit(f);
    return (cig + u - 1) / u;
}
static inline int64_t vx_lowp_nchunk(int64_t nu, int64_t K) {
    int64_t c = vx_lowp_chunk(K);
    return (nu + c - 1) / c;
}
#endif

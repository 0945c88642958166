/* Optional fused / extended kernel entries, beside the vx_kernels table (kernels.h).
 *
 * Use: const vx_kernels_fused *f = vx_kernels_fused_for(vx_kernels_get());
 * f is NULL when the active table has no fused entries (scalar): fall back to the
 * unfused ops. The header has no intrinsics and compiles on every architecture. */
#ifndef VX_KERNELS_FUSED_H
#define VX_KERNELS_FUSED_H
#include "kernels/kernels.h"

/* Extra work folded into a conv1d:
 *   y = conv(leaky_in ? LeakyReLU_alpha(x) : x) + bias + (res ? res : 0)
 * res is [c_out][ldr] (indexed at the same output times as y); it may alias y only if
 * ldr == ldy (each element is read before it is written). */
typedef struct vx_conv1d_fuse {
    int leaky_in;
    float alpha;
    const float *res;
    int64_t ldr;
} vx_conv1d_fuse;

typedef struct vx_kernels_fused {
    const char *name;
    /* As vx_kernels.conv1d_f32 (same packed weights from conv1d_pack) plus the fusion.
     * f may be NULL (plain conv). Returns 0 or VOX_ERR_NOMEM. */
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
    /* conv1d output time micro-tile width (samples): ranges split on multiples of it
     * waste no padding columns. */
    int conv_nr;
} vx_kernels_fused;

extern const vx_kernels_fused vx_kernels_fused_avx2;
extern const vx_kernels_fused vx_kernels_fused_avx512;
extern const vx_kernels_fused vx_kernels_fused_neon;

static inline const vx_kernels_fused *vx_kernels_fused_for(const vx_kernels *k) {
#if defined(VOX_HAVE_X86) && defined(__has_include)
#if __has_include("kernels/x86/kernels_avx512.h")
    if (k == &vx_kernels_avx512) return &vx_kernels_fused_avx512;
#endif
#if __has_include("kernels/x86/kernels_avx2.h")
    if (k == &vx_kernels_avx2) return &vx_kernels_fused_avx2;
#endif
#elif defined(VOX_HAVE_NEON) && defined(__has_include)
#if __has_include("kernels/arm/kernels_neon.h")
    if (k == &vx_kernels_neon) return &vx_kernels_fused_neon;
#endif
#endif
    (void)k;
    return (const vx_kernels_fused *)0;
}
#endif

/* The reduced-precision cores seen through the FP32 fused-table interface (fused.h), so
 * that the parallel conv drivers (conv_par.c: time split, in-place residual) run them
 * unchanged. One static table per implementation: the drivers hold no user pointer. The
 * raw-weight argument is ignored: these entries need packed weights (vx_lowp_pack). */
#include "kernels/lowp.h"

#define SHIM(ID, NR_ALIGN)                                                                         \
    static const vx_lowp_kernels *ID##_k;                                                          \
    static int ID##_conv(const vx_conv1d_params *p, const float *x, const float *w,                \
                         const void *wp, const float *bias, const vx_conv1d_fuse *f, float *y) {   \
        (void)w;                                                                                   \
        return vx_lowp_conv1d(__atomic_load_n(&ID##_k, __ATOMIC_ACQUIRE), p, x, wp, bias, f, y);   \
    }                                                                                              \
    static int ID##_tr(const vx_convtr1d_params *p, const float *x, const float *w,                \
                       const void *wp, const float *bias, int64_t tb, int64_t te, float *y) {      \
        (void)w;                                                                                   \
        return vx_lowp_convtr1d_range(__atomic_load_n(&ID##_k, __ATOMIC_ACQUIRE), p, x, wp, bias,  \
                                      tb, te, y);                                                  \
    }                                                                                              \
    static const vx_kernels ID##_fused = {.name = #ID,                                             \
                                          .conv1d_fused_f32 = ID##_conv,                           \
                                          .convtr1d_range_f32 = ID##_tr,                           \
                                          .conv_nr = NR_ALIGN};                                    \
    static const vx_kernels ID##_fused_ip = {.name = #ID,                                          \
                                             .conv1d_fused_f32 = ID##_conv,                        \
                                             .convtr1d_range_f32 = ID##_tr,                        \
                                             .conv_nr = NR_ALIGN,                                  \
                                             .conv_inplace = 1};

/* int8 pieces on its activation-scale blocks (lowp.h): no block is quantized twice */
SHIM(bf16_0, 48)
SHIM(bf16_1, 48)
SHIM(int8_0, VX_LOWP_I8_QB)
SHIM(int8_1, VX_LOWP_I8_QB)

/* The table of slot ID for k: the in-place one when k's core runs in place. */
#define TABLE(ID, k) ((k)->inplace ? &ID##_fused_ip : &ID##_fused)

const vx_kernels *vx_lowp_fused(const vx_lowp_kernels *k) {
    if (!k) return NULL;
    /* the emulation in slot 0, the SIMD path (if any) in slot 1 */
    int simd = k != &vx_lowp_bf16_emul && k != &vx_lowp_int8_emul;
    if (k->fmt == VX_LOWP_BF16) {
        if (simd) {
            __atomic_store_n(&bf16_1_k, k, __ATOMIC_RELEASE);
            return TABLE(bf16_1, k);
        }
        __atomic_store_n(&bf16_0_k, k, __ATOMIC_RELEASE);
        return TABLE(bf16_0, k);
    }
    if (k->fmt == VX_LOWP_INT8) {
        if (simd) {
            __atomic_store_n(&int8_1_k, k, __ATOMIC_RELEASE);
            return TABLE(int8_1, k);
        }
        __atomic_store_n(&int8_0_k, k, __ATOMIC_RELEASE);
        return TABLE(int8_0, k);
    }
    return NULL;
}

/* The x86 reduced-precision tables (lowp_bf16.c: AVX512-BF16; lowp_vnni.c: AVX512-VNNI;
 * lowp_avxvnni.c: AVX-VNNI, 256-bit).
 * Their presence registers them with vx_lowp_by_name (kernels/lowp_ref.c), which checks
 * the CPU flags before handing one out. */
#ifndef VX_LOWP_X86_H
#define VX_LOWP_X86_H
#include "kernels/lowp.h"
extern const vx_lowp_kernels vx_lowp_bf16_avx512;
extern const vx_lowp_kernels vx_lowp_int8_vnni;
extern const vx_lowp_kernels vx_lowp_int8_avxvnni;
#endif

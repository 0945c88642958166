/* NEON (AArch64 Advanced SIMD) kernel table (kern_neon.c). Its presence registers it in
 * dispatch.c. */
#ifndef VX_KERNELS_NEON_H
#define VX_KERNELS_NEON_H
#include "kernels/kernels.h"
extern const vx_kernels vx_kernels_neon;
#endif

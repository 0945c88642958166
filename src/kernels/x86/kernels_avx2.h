/* AVX2+FMA kernel table (kern_avx2.c). Its presence registers it in dispatch.c. */
#ifndef VX_KERNELS_AVX2_H
#define VX_KERNELS_AVX2_H
#include "kernels/kernels.h"
extern const vx_kernels vx_kernels_avx2;
#endif

/* AVX-512 (F/BW/VL/DQ) kernel table (kern_avx512.c). Its presence registers it in dispatch.c. */
#ifndef VX_KERNELS_AVX512_H
#define VX_KERNELS_AVX512_H
#include "kernels/kernels.h"
extern const vx_kernels vx_kernels_avx512;
#endif

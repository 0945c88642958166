/* AArch64 kernel registration, called only by kernels/dispatch.c. */
#ifndef VX_KERNELS_ARM_H
#define VX_KERNELS_ARM_H
#include "kernels/kernels.h"
/* Overrides the entries of k that `flags` allow (NEON). */
void vx_kernels_init_arm(vx_kernels *k, unsigned flags);
void vx_kernels_set_neon(vx_kernels *k);
#endif

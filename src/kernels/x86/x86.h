/* x86 kernel registration: flag detection and the overrides, called only by
 * kernels/dispatch.c. */
#ifndef VX_KERNELS_X86_H
#define VX_KERNELS_X86_H
#include "kernels/kernels.h"
unsigned vx_cpu_flags_x86(void);
/* Overrides the entries of k that `flags` allow, in rising order (avx2, then avx512). */
void vx_kernels_init_x86(vx_kernels *k, unsigned flags);
/* Per-file setters (kern_avx2.c, kern_avx512.c, built with their -m flags). */
void vx_kernels_set_avx2(vx_kernels *k);
void vx_kernels_set_avx512(vx_kernels *k);
#endif

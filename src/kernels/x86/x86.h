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
/* transpose_avx2.c: 8 x 8 register transposes (the avx512 table keeps it too). */
void vx_transpose_u32_avx2(uint32_t *dst, const uint32_t *src, int64_t A, int64_t B, int64_t dst_a,
                           int64_t src_b);
#endif

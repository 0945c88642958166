/* AArch64: NEON is baseline, so the only override is the NEON table. */
#include "kernels/arm/arm.h"

void vx_kernels_init_arm(vx_kernels *k, unsigned flags) {
    if (flags & VX_CPU_NEON) vx_kernels_set_neon(k);
}

/* x86: which SIMD levels this CPU has, and the table overrides for them. Built without
 * -m flags: it only asks the CPU and calls the setters of files that are. */
#include "kernels/x86/x86.h"

unsigned vx_cpu_flags_x86(void) {
    __builtin_cpu_init();
    unsigned f = 0;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f |= VX_CPU_AVX2;
    if ((f & VX_CPU_AVX2) && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq"))
        f |= VX_CPU_AVX512;
    return f;
}

void vx_kernels_init_x86(vx_kernels *k, unsigned flags) {
    if (!(flags & VX_CPU_AVX2)) return;
    vx_kernels_set_avx2(k);
    k->transpose_u32 = vx_transpose_u32_avx2;
    if (!(flags & VX_CPU_AVX512)) return;
    vx_kernels_set_avx512(k);
}

/* Chooses the kernel table for this CPU once.
 *
 * A per-arch table is registered by creating its header: src/kernels/x86/kernels_avx2.h
 * (declaring `extern const vx_kernels vx_kernels_avx2;`), kernels_avx512.h, or
 * src/kernels/arm/kernels_neon.h. Its presence is detected with __has_include, so adding
 * an implementation needs no edit here and a build without it still links. */
#include "kernels/kernels.h"
#include <stdlib.h>
#include <string.h>

#if defined(VOX_HAVE_X86) && defined(__has_include)
#if __has_include("kernels/x86/kernels_avx2.h")
#include "kernels/x86/kernels_avx2.h"
#define VX_HAVE_AVX2_TABLE 1
#endif
#if __has_include("kernels/x86/kernels_avx512.h")
#include "kernels/x86/kernels_avx512.h"
#define VX_HAVE_AVX512_TABLE 1
#endif
#endif
#if defined(VOX_HAVE_NEON) && defined(__has_include)
#if __has_include("kernels/arm/kernels_neon.h")
#include "kernels/arm/kernels_neon.h"
#define VX_HAVE_NEON_TABLE 1
#endif
#endif

const vx_kernels vx_kernels_scalar = {
    .name = "scalar",
    .sgemm = vx_sgemm_generic,
    .conv1d_f32 = vx_conv1d_generic,
    .conv1d_pack_bytes = NULL,
    .conv1d_pack = NULL,
    .convtr1d_f32 = vx_convtr1d_generic,
};

const vx_kernels *vx_kernels_by_name(const char *name) {
    if (!name) return NULL;
    if (!strcmp(name, "scalar")) return &vx_kernels_scalar;
#if defined(VX_HAVE_AVX512_TABLE)
    if (!strcmp(name, "avx512")) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("fma"))
            return &vx_kernels_avx512;
        return NULL;
    }
#endif
#if defined(VX_HAVE_AVX2_TABLE)
    if (!strcmp(name, "avx2")) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            return &vx_kernels_avx2;
        return NULL;
    }
#endif
#if defined(VX_HAVE_NEON_TABLE)
    if (!strcmp(name, "neon")) return &vx_kernels_neon;   /* NEON is baseline on aarch64 */
#endif
    return NULL;
}

static const vx_kernels *pick(void) {
    const char *force = getenv("VOX_CPU");
    if (force && *force) {
        const vx_kernels *k = vx_kernels_by_name(force);
        return k ? k : &vx_kernels_scalar;
    }
    static const char *const order[] = { "avx512", "avx2", "neon" };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const vx_kernels *k = vx_kernels_by_name(order[i]);
        if (k) return k;
    }
    return &vx_kernels_scalar;
}

const vx_kernels *vx_kernels_get(void) {
    /* Racing first calls compute the same answer, so a relaxed publish is enough. */
    static const vx_kernels *chosen;
    const vx_kernels *k = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
    if (!k) {
        k = pick();
        __atomic_store_n(&chosen, k, __ATOMIC_RELEASE);
    }
    return k;
}

/* Builds the kernel tables, the dav1d way: the scalar init fills every entry, then each
 * architecture's init overrides what the CPU flags allow. This is the one place that
 * names the per-arch inits; adding a path means a flag, an override in that arch's
 * init, and nothing else here. */
#include "kernels/kernels.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(VOX_HAVE_X86)
#include "kernels/x86/x86.h"
#endif
#if defined(VOX_HAVE_NEON)
#include "kernels/arm/arm.h"
#endif

unsigned vx_cpu_flags(void) {
    unsigned f = 0;
#if defined(VOX_HAVE_X86)
    f |= vx_cpu_flags_x86();
#endif
#if defined(VOX_HAVE_NEON)
    f |= VX_CPU_NEON; /* baseline on AArch64 */
#endif
    return f;
}

void vx_kernels_init(vx_kernels *k, unsigned flags) {
    vx_kernels_init_scalar(k);
#if defined(VOX_HAVE_X86)
    vx_kernels_init_x86(k, flags);
#endif
#if defined(VOX_HAVE_NEON)
    vx_kernels_init_arm(k, flags);
#endif
}

/* One table per level, each built once with the flags up to that level. */
static const struct level {
    const char *name;
    unsigned flags;
} levels[] = {
    {"scalar", 0},
    {"avx2", VX_CPU_AVX2},
    {"avx512", VX_CPU_AVX2 | VX_CPU_AVX512},
    {"neon", VX_CPU_NEON},
};
#define N_LEVELS (sizeof levels / sizeof levels[0])
static vx_kernels tables[N_LEVELS];
static int available[N_LEVELS];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build_tables(void) {
    unsigned cpu = vx_cpu_flags();
    for (size_t i = 0; i < N_LEVELS; i++) {
        available[i] = (levels[i].flags & cpu) == levels[i].flags;
        if (available[i]) vx_kernels_init(&tables[i], levels[i].flags);
    }
}

const vx_kernels *vx_kernels_by_name(const char *name) {
    if (!name) return NULL;
    pthread_once(&tables_once, build_tables);
    for (size_t i = 0; i < N_LEVELS; i++)
        if (!strcmp(name, levels[i].name)) return available[i] ? &tables[i] : NULL;
    return NULL;
}

static const vx_kernels *pick(void) {
    const char *force = getenv("VOX_CPU");
    if (force && *force) {
        const vx_kernels *k = vx_kernels_by_name(force);
        return k ? k : vx_kernels_by_name("scalar");
    }
    static const char *const order[] = {"avx512", "avx2", "neon"};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const vx_kernels *k = vx_kernels_by_name(order[i]);
        if (k) return k;
    }
    return vx_kernels_by_name("scalar");
}

const vx_kernels *vx_kernels_get(void) {
    /* Racing first calls compute the same answer, so a plain atomic publish is enough. */
    static const vx_kernels *chosen;
    const vx_kernels *k = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
    if (!k) {
        k = pick();
        __atomic_store_n(&chosen, k, __ATOMIC_RELEASE);
    }
    return k;
}

/* ---- reduced-precision cores (kernels/lowp.h): the per-arch half of vx_lowp_by_name.
 * The CPU checks run here, in a file built with baseline flags. */
#include "kernels/lowp.h"
#if defined(VOX_HAVE_X86)
#include "kernels/x86/lowp_x86.h"
#include <cpuid.h>
/* AVX-VNNI: CPUID.(EAX=7, ECX=1):EAX bit 4 (clang's __builtin_cpu_supports has no name for
 * it; the OS's YMM state is covered by the avx2 check beside it). */
static int cpu_avxvnni(void) {
    unsigned a, b, c, d;
    return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1);
}
static int cpu_avx512_base(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}
#endif

const vx_lowp_kernels *vx_lowp_arch_by_name(const char *name) {
#if defined(VOX_HAVE_X86)
    if (!strcmp(name, "bf16-avx512"))
        return cpu_avx512_base() && __builtin_cpu_supports("avx512bf16") ? &vx_lowp_bf16_avx512
                                                                         : NULL;
    if (!strcmp(name, "int8-vnni"))
        return cpu_avx512_base() && __builtin_cpu_supports("avx512vnni") ? &vx_lowp_int8_vnni
                                                                         : NULL;
    if (!strcmp(name, "int8-avxvnni")) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_avxvnni()
                   ? &vx_lowp_int8_avxvnni
                   : NULL;
    }
#endif
    (void)name;
    return NULL;
}

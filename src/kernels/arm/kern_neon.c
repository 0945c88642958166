/* NEON kernels: 8 x 12 fp32 micro-tile (24 of the 32 q registers as accumulators).
 * The algorithms are shared with the x86 tables (src/kernels/x86/simd_tmpl.h, which
 * is architecture-neutral C over the vector macros below). */
#include <arm_neon.h>
#define VT            float32x4_t
#define VL            4
#define VLOADU(p)     vld1q_f32(p)
#define VSTOREU(p, v) vst1q_f32((p), (v))
#define VSET1(f)      vdupq_n_f32(f)
#define VZERO()       vdupq_n_f32(0.0f)
#define VFMA(a, b, c) vfmaq_f32((c), (a), (b))
#define VADD(a, b)    vaddq_f32((a), (b))
#ifndef MRMAX
#define MRMAX 8
#endif
#ifndef NV
#define NV 3
#endif
#define SFX(name) name##_neon
#include "kernels/simd_tmpl.h"
#include "kernels/arm/arm.h"

VX_TABLE_SETTER("neon")

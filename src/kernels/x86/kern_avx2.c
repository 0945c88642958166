/* AVX2+FMA kernels: 6 x 16 fp32 micro-tile (12 ymm accumulators). */
#include <immintrin.h>
#define VT            __m256
#define VL            8
#define VLOADU(p)     _mm256_loadu_ps(p)
#define VSTOREU(p, v) _mm256_storeu_ps((p), (v))
#define VSET1(f)      _mm256_set1_ps(f)
#define VZERO()       _mm256_setzero_ps()
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b)    _mm256_add_ps((a), (b))
#define VSTREAM(p, v) _mm256_stream_ps((p), (v))
#define VSFENCE()     _mm_sfence()
#ifndef MRMAX
#define MRMAX 6
#endif
#ifndef NV
#define NV 2
#endif
#define SFX(name) name##_avx2
#include "kernels/simd_tmpl.h"
#include "kernels/x86/x86.h"

VX_TABLE_SETTER("avx2")

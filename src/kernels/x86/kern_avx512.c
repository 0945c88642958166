/* AVX-512 kernels: 8 x 48 fp32 micro-tile (24 zmm accumulators; 8 rows divide every
 * channel count of Piper's decoder, so no tail panels there). */
#include <immintrin.h>
#define VT            __m512
#define VL            16
#define VLOADU(p)     _mm512_loadu_ps(p)
#define VSTOREU(p, v) _mm512_storeu_ps((p), (v))
#define VSET1(f)      _mm512_set1_ps(f)
#define VZERO()       _mm512_setzero_ps()
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VADD(a, b)    _mm512_add_ps((a), (b))
#define VSTREAM(p, v) _mm512_stream_ps((p), (v))
#define VSFENCE()     _mm_sfence()
#ifndef MRMAX
#define MRMAX 8
#endif
#ifndef NV
#define NV 3
#endif
#define SFX(name) name##_avx512
#include "kernels/simd_tmpl.h"
#include "kernels/x86/x86.h"

VX_TABLE_SETTER("avx512")

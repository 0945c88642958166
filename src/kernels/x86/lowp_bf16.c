/* bf16 conv core on AVX512-BF16 (VCVTNEPS2BF16 for the activations, VDPBF16PS for the
 * products): compiled with -mavx512bf16; handed out only when the CPU has it. */
#define LOWP_I8 0
#include "kernels/x86/lowp_tmpl.h"

const vx_lowp_kernels vx_lowp_bf16_avx512 = {"bf16-avx512", VX_LOWP_BF16, core, core_tr, 1};

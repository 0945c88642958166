/* int8 conv core on AVX512-VNNI (VPDPBUSD: u8 activations x s8 weights into int32):
 * compiled with -mavx512vnni; handed out only when the CPU has it. */
#define LOWP_I8 1
#include "kernels/x86/lowp_tmpl.h"

const vx_lowp_kernels vx_lowp_int8_vnni = {"int8-vnni", VX_LOWP_INT8, core, core_tr, 0};

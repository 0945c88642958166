/* int8 conv core on AVX-VNNI (VEX VPDPBUSD on 256-bit registers: u8 activations x s8
 * weights into int32), for CPUs with AVX-VNNI but no AVX512-VNNI (Alder Lake and later
 * client cores) and selectable by name where both exist. Compiled with -mavxvnni and no
 * AVX-512 flag (CMakeLists.txt); handed out only when the CPU has it. Same packing and
 * numerics as lowp_vnni.c: bit-identical to the emulation. */
#define LOWP_I8   1
#define LOWP_W256 1
#include "kernels/x86/lowp_tmpl.h"

const vx_lowp_kernels vx_lowp_int8_avxvnni = {"int8-avxvnni", VX_LOWP_INT8, core, core_tr, 0};

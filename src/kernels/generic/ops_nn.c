/* Placeholder table; the nn kernels replace this file. */
#include "engine/op.h"
const vx_op_def vx_ops_nn[] = { { 0, 0, 0 } };

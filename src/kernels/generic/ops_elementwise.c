/* Placeholder table; the elementwise kernels replace this file. */
#include "engine/op.h"
const vx_op_def vx_ops_elementwise[] = { { 0, 0, 0 } };

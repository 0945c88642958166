/* Placeholder table; the shape kernels replace this file. */
#include "engine/op.h"
const vx_op_def vx_ops_shape[] = { { 0, 0, 0 } };

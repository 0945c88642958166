/* Internal to the elementwise kernels (ops_elementwise.c, ew_unary.c, ew_cast.c), plus
 * the dtype conversion helpers, which other kernels may use too. */
#ifndef VX_EW_OPS_H
#define VX_EW_OPS_H
#include <stdint.h>
#include "ops/op.h"

/* IEEE half <-> float. float->half rounds to nearest even; overflow gives inf; NaN
 * stays NaN (quieted). */
uint16_t vx_f32_to_f16(float f);
float vx_f16_to_f32(uint16_t h);

/* float -> integer with truncation toward zero. NaN and out-of-range values give the
 * type's minimum (INT32_MIN / INT64_MIN), the result x86's cvttss2si produces, which is
 * what onnxruntime and numpy give on x86; never C undefined behaviour. */
int32_t vx_f2i32(double v);
int64_t vx_f2i64(double v);

/* Convert n elements from dtype sdt to dtype ddt (Cast semantics). Supports float,
 * double, float16, bool, int8/16/32/64, uint8/16/32/64. Returns 0, or -1 if a dtype is
 * not supported. */
int vx_ew_convert(const void *src, int sdt, void *dst, int ddt, int64_t n);
int vx_ew_convert_supported(int dtype);

/* Shared argument checks: at least `need` inputs present (non-NULL), at least one
 * output. Returns 0 or a failure code (message written). */
int vx_ew_need(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, int need,
               int n_out);

/* Parallel split of n elementwise elements over pool (a vx_tpool *, may be NULL):
 * *chunks > 1 = split in that many contiguous chunks, else run inline. Elementwise
 * work below ~2 x VX_EW_PAR_MIN elements stays on the calling thread. */
#define VX_EW_PAR_MIN ((int64_t)32768)
void vx_ew_par_chunks(void *pool, int64_t n, int64_t *chunks);

/* Kernels living outside ops_elementwise.c (signature vx_op_fn). */
#define VX_EW_DECL(name)                                                                           \
    int vx_op_##name(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,          \
                     vx_tensor *out, int n_out);
VX_EW_DECL(Neg)
VX_EW_DECL(Abs) VX_EW_DECL(Sqrt) VX_EW_DECL(Exp) VX_EW_DECL(Log) VX_EW_DECL(Erf) VX_EW_DECL(Tanh)
    VX_EW_DECL(Sigmoid) VX_EW_DECL(Relu) VX_EW_DECL(LeakyRelu) VX_EW_DECL(Elu) VX_EW_DECL(Selu)
        VX_EW_DECL(Softplus) VX_EW_DECL(Softsign) VX_EW_DECL(HardSigmoid) VX_EW_DECL(Ceil)
            VX_EW_DECL(Floor) VX_EW_DECL(Round) VX_EW_DECL(Sign) VX_EW_DECL(Reciprocal)
                VX_EW_DECL(Sin) VX_EW_DECL(Cos) VX_EW_DECL(IsNaN) VX_EW_DECL(IsInf) VX_EW_DECL(Not)
                    VX_EW_DECL(Identity) VX_EW_DECL(Dropout) VX_EW_DECL(Clip) VX_EW_DECL(Cast)
                        VX_EW_DECL(CastLike)
#endif

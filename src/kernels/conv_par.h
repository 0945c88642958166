/* Parallel drivers for the conv kernels over the thread pool (util/tpool.h). */
#ifndef VX_CONV_PAR_H
#define VX_CONV_PAR_H
#include "kernels/kernels.h"
#include "util/tpool.h"

/* Parallel drivers: split the output time axis of one conv over the pool (inline when
 * p is NULL or busy) in pieces of >= ~2 MFLOP, about two per thread, aligned to 64
 * samples. Same contract and return value as the kernel they call (the first error of
 * any piece is returned). Pass packed weights (conv1d_pack / convtr1d_pack) made once
 * per model: without them every piece packs its own copy. */
int vx_par_conv1d(vx_tpool *pool, const vx_kernels *k, const vx_conv1d_params *p, const float *x,
                  const float *w, const void *wpacked, const float *bias, float *y);
/* f->conv1d_fused_f32 (LeakyReLU on the input, residual add) split the same way. */
int vx_par_conv1d_fused(vx_tpool *pool, const vx_kernels *f, const vx_conv1d_params *p,
                        const float *x, const float *w, const void *wpacked, const float *bias,
                        const vx_conv1d_fuse *fuse, float *y);
/* x = conv(leaky ? LeakyReLU_alpha(x) : x) + bias + x, written over x (so the residual
 * stack of a vocoder holds one tensor where it would hold two), split like the others.
 * Only for convs vx_conv1d_inplace_ok accepts: stride 1, c_in == c_out, t_out == t_in,
 * ldx == ldy, the whole output (t_begin 0, t_end t_out), 0 <= pad <= the kernel's span,
 * halo within the tile. Returns VOX_ERR_ARG for any other conv (nothing written), else
 * as the kernel: the result equals the out-of-place fused path's bit for bit. */
int vx_conv1d_inplace_ok(const vx_conv1d_params *p);
int vx_par_conv1d_inplace(vx_tpool *pool, const vx_kernels *f, const vx_conv1d_params *p,
                          const float *w, const void *wpacked, const float *bias, int leaky,
                          float alpha, float *x);
/* ConvTranspose1d: split over output time with f->convtr1d_range_f32; with f == NULL
 * (scalar table) it runs k->convtr1d_f32 on the calling thread. wpacked from
 * f->convtr1d_pack (or NULL). */
int vx_par_convtr1d(vx_tpool *pool, const vx_kernels *k, const vx_kernels *f,
                    const vx_convtr1d_params *p, const float *x, const float *w,
                    const void *wpacked, const float *bias, float *y);
#endif

/* A persistent thread pool for data-parallel loops, plus parallel drivers for the
 * conv kernels.
 *
 * vx_pool_for(p, n, fn, arg) splits [0, n) into contiguous chunks and runs
 * fn(arg, begin, end) on them with the pool's worker threads AND the calling thread,
 * returning when every chunk is done. No thread is created per call: workers spin
 * briefly after a job, then sleep on a futex.
 *
 * Concurrency: one job runs at a time. A submission that finds the pool busy (another
 * synthesis thread, or a nested call from inside a task) runs fn(arg, 0, n) inline on
 * the submitting thread, so several syntheses can share one pool and nesting never
 * deadlocks. With p == NULL, vx_pool_for runs fn(arg, 0, n) inline. */
#ifndef VX_POOL_H
#define VX_POOL_H
#include <stdint.h>
#include "kernels/kernels.h"
#include "kernels/x86/kernels_fused.h"   /* arch-neutral despite its directory */

typedef struct vx_pool vx_pool;

/* n_threads counts the caller: n_threads - 1 workers are started. 0 (or < 0) = all
 * online cores. Returns NULL on failure (out of memory / thread creation failed). */
vx_pool *vx_pool_create(int n_threads);
void vx_pool_free(vx_pool *p);
/* Threads that take part in a job (workers + caller); 1 for NULL. */
int vx_pool_threads(const vx_pool *p);

typedef void (*vx_pool_fn)(void *arg, int64_t begin, int64_t end);
/* About 4 chunks per thread (dynamic balancing), never more than n. */
void vx_pool_for(vx_pool *p, int64_t n, vx_pool_fn fn, void *arg);
/* The same with an explicit chunk count (clamped to [1, n]). */
void vx_pool_for_chunks(vx_pool *p, int64_t n, int64_t n_chunks, vx_pool_fn fn, void *arg);

/* Parallel drivers: split the output time axis of one conv over the pool (inline when
 * p is NULL or busy) in pieces of >= ~2 MFLOP, about two per thread, aligned to 64
 * samples. Same contract and return value as the kernel they call (the first error of
 * any piece is returned). Pass packed weights (conv1d_pack / convtr1d_pack) made once
 * per model: without them every piece packs its own copy. */
int vx_par_conv1d(vx_pool *pool, const vx_kernels *k, const vx_conv1d_params *p,
                  const float *x, const float *w, const void *wpacked, const float *bias,
                  float *y);
/* f->conv1d_fused_f32 (LeakyReLU on the input, residual add) split the same way. */
int vx_par_conv1d_fused(vx_pool *pool, const vx_kernels_fused *f, const vx_conv1d_params *p,
                        const float *x, const float *w, const void *wpacked, const float *bias,
                        const vx_conv1d_fuse *fuse, float *y);
/* x = conv(leaky ? LeakyReLU_alpha(x) : x) + bias + x, written over x (so the residual
 * stack of a vocoder holds one tensor where it would hold two), split like the others.
 * Only for convs vx_conv1d_inplace_ok accepts: stride 1, c_in == c_out, t_out == t_in,
 * ldx == ldy, the whole output (t_begin 0, t_end t_out), 0 <= pad <= the kernel's span,
 * halo within the tile. Returns VOX_ERR_ARG for any other conv (nothing written), else
 * as the kernel: the result equals the out-of-place fused path's bit for bit. */
int vx_conv1d_inplace_ok(const vx_conv1d_params *p);
int vx_par_conv1d_inplace(vx_pool *pool, const vx_kernels_fused *f, const vx_conv1d_params *p,
                          const float *w, const void *wpacked, const float *bias, int leaky,
                          float alpha, float *x);
/* ConvTranspose1d: split over output time with f->convtr1d_range_f32; with f == NULL
 * (scalar table) it runs k->convtr1d_f32 on the calling thread. wpacked from
 * f->convtr1d_pack (or NULL). */
int vx_par_convtr1d(vx_pool *pool, const vx_kernels *k, const vx_kernels_fused *f,
                    const vx_convtr1d_params *p, const float *x, const float *w,
                    const void *wpacked, const float *bias, float *y);
#endif

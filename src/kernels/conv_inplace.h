/* The in-place residual conv run straight from x (vx_conv1d_fuse.halo_l/halo_r; the
 * driver is conv_par.c's vx_par_conv1d_inplace): the piece [t_begin, t_end) runs its
 * tiles left to right, and each tile's input window is filled from three sources, in
 * time order: the original x before the tile (the previous tile has overwritten it), x
 * itself (not yet written: this piece writes from the tile on, other pieces only outside
 * it), the saved strip after the piece. The carry is the first source for the next tile,
 * saved before this tile writes. Shared by the FP32 template (simd_tmpl.h) and the
 * reduced-precision cores (x86/lowp_tmpl.h); static inline, compiled with each includer's
 * flags. */
#ifndef VX_CONV_INPLACE_H
#define VX_CONV_INPLACE_H
#include "kernels/kernels.h"
#include <stdint.h>

/* The next tile's carry: the original x at [t1 - pad, t1), [c_in][pad], saved before the
 * tile of outputs [t0, t1) overwrites it; times before t0 come from this tile's `cur`. */
static inline void vx_inplace_save_carry(const vx_conv1d_params *p, const float *x,
                                         const float *cur, int64_t t0, int64_t t1, float *next) {
    int64_t pad = p->pad;
    for (int64_t c = 0; c < p->c_in; c++)
        for (int64_t i = 0; i < pad; i++) {
            int64_t t = t1 - pad + i;
            next[c * pad + i] = t >= t0 ? x[c * p->ldx + t] : cur[c * pad + t - (t0 - pad)];
        }
}

/* The window of the tile starting at t0 (input times t0 - pad ..., len of them) in three
 * parts: *a from the carry, *b from x at [t0, t_end), the rest from halo_r (zero past it). */
static inline void vx_inplace_parts(const vx_conv1d_params *p, int64_t t0, int64_t len,
                                    int64_t *a, int64_t *b) {
    *a = p->pad < len ? p->pad : len;
    *b = len - *a < p->t_end - t0 ? len - *a : p->t_end - t0;
}

/* Whether the arguments of an in-place call are what the cores assume. */
static inline int vx_inplace_args_ok(const vx_conv1d_params *p, const float *x,
                                     const vx_conv1d_fuse *f, const float *y) {
    return f->halo_r && x == y && f->res == y && p->stride == 1 && p->group == 1 &&
           p->c_in == p->c_out && p->ldx == p->ldy && f->ldr == p->ldy;
}
#endif

/* VITS's length regulator path, computed in compact form.
 *
 * Why: a Piper voice expands its per-phoneme statistics to frames with a 0/1 path
 * matrix [frames x phonemes] (VITS generate_path):
 *     cum  = CumSum(durations)                    [B * X, 1]
 *     s    = Cast(Less(Range(T), cum)) -> [B, X, T]   frame t < cum[x]
 *     p    = s - Slice(Pad(s, 1 phoneme in front))   the phoneme whose span holds t
 *     path = Squeeze(Transpose(Unsqueeze(p)) * mask)  [B, T, X]
 *     m_p  = MatMul(path, stats^T) ...
 * Every node writes a [phonemes x frames] tensor: at 800 phonemes (~4,900 frames) seven
 * of them cost ~40 ms and 16 MB each; at 3,000 phonemes 216 MB each. Only one entry per
 * frame is nonzero, so the path is a list: for each frame, its phoneme (or none).
 *
 * What: engine/fuse_path.c finds the nodes by their structure and makes them one step.
 * At run time this kernel checks that the actual parameters are the ones above (Cast to
 * float, pad one phoneme in front with 0, slice it back, the axes and permutation, a
 * mask of exact 0s and 1s, durations whose running sum never decreases), then writes the
 * path as an int32 [B, T + 1] selection (op.h); the MatMuls reading it gather rows
 * (nn_matmul.c). Under those conditions the float path is exactly +0 everywhere except
 * 1.0 at (t, x0(t)) = the first phoneme with t < cum[x] when its mask is 1, which is what
 * the selection says; the MatMul gives the dense GEMM's bits (nn_matmul.c explains why).
 * Anything else (other parameters, a decreasing sum, NaN, a mask value other than 0/1)
 * runs the original nodes one by one, so the result is the nodes' own in every case. */
#include "ops/shape_internal.h"
#include "tensor/tensor.h"
#include "vox.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fast_runs;
long vx_length_path_fast_runs(void) { return atomic_load(&fast_runs); }

/* The group's external input j of node role r (NULL: omitted, internal or absent). */
static const vx_tensor *ext(const vx_node_group *g, vx_tensor *const *in, int n_in, int r,
                            int j) {
    int i = g->role[r];
    if (i < 0 || j >= g->n_args[i]) return NULL;
    int s = g->src[g->arg[i] + j];
    return s >= 0 && s < n_in ? in[s] : NULL;
}

static int present(const vx_node_group *g, int r, int j) {
    int i = g->role[r];
    return i >= 0 && j < g->n_args[i] && g->src[g->arg[i] + j] != VX_GROUP_OMITTED;
}


/* A one-element axes list (input from opset 13, attribute before) equal to want. */
static int one_axis(const vx_op_ctx *ctx, const vx_node *node, const vx_tensor *t, int rank,
                    int64_t want) {
    int64_t v[VX_MAX_DIMS];
    int n = 0;
    if (ctx->opset >= 13) {
        if (vx_sh_try_ints(t, v, VX_MAX_DIMS, &n)) return 0;
    } else {
        const int64_t *a;
        int64_t na = vx_attr_ints(node, "axes", &a);
        if (na != 1) return 0;
        v[0] = a[0];
        n = 1;
    }
    return n == 1 && (v[0] < 0 ? v[0] + rank : v[0]) == want;
}

static int is_f32(const vx_tensor *t) { return t && t->dtype == VX_FLOAT && (t->data || !t->numel); }

/* A mask factor: float, broadcasting to [B, 1, T, X] (its own axes 1 or equal), every
 * value exactly +0 or 1; its strides over [B, 1, T, X] (0 on broadcast axes). */
static int mask_factor(const vx_tensor *f, const int64_t *full, int64_t *str) {
    if (!is_f32(f) || f->ndim > 4 || !f->numel) return 0;
    int64_t s = 1;
    for (int a = 3; a >= 0; a--) {
        int fa = a - (4 - f->ndim);
        int64_t d = fa >= 0 ? f->dims[fa] : 1;
        if (d != 1 && d != full[a]) return 0;
        str[a] = d == 1 ? 0 : s;
        s *= d;
    }
    const uint32_t *u = f->data;
    for (int64_t i = 0; i < f->numel; i++)
        if (u[i] != 0u && u[i] != 0x3f800000u) return 0;
    return 1;
}

/* The parameters of the nodes between Less and Squeeze are those of generate_path. */
static int params_ok(const vx_op_ctx *ctx, const vx_node_group *g, vx_tensor *const *in,
                     int n_in, int64_t N, int64_t T, int64_t *B, int64_t *X) {
    int64_t v[8];
    int n;
    if (vx_attr_int(g->node[g->role[LP_CAST]], "to", 0) != VX_FLOAT) return 0;
    if (vx_sh_try_ints(ext(g, in, n_in, LP_RESHAPE, 1), v, 8, &n) || n != 3 || v[0] < 1 || v[1] < 1 ||
        v[2] != T || v[1] > INT32_MAX || v[0] > N / v[1] || v[0] * v[1] != N)
        return 0;
    *B = v[0];
    *X = v[1];
    /* Pad: constant 0, one phoneme in front on axis 1 */
    const vx_node *pad = g->node[g->role[LP_PAD]];
    if (ctx->opset < 11 || strcmp(vx_attr_str(pad, "mode", "constant"), "constant")) return 0;
    if (vx_sh_try_ints(ext(g, in, n_in, LP_PAD, 1), v, 8, &n) || n != 6) return 0;
    for (int i = 0; i < 6; i++)
        if (v[i] != (i == 1)) return 0;
    const vx_tensor *cv = ext(g, in, n_in, LP_PAD, 2);
    if (present(g, LP_PAD, 2) && !cv) return 0;
    if (cv && cv->numel && (!is_f32(cv) || cv->numel != 1 || *(const float *)cv->data != 0.0f))
        return 0;
    if (present(g, LP_PAD, 3)) return 0;
    /* Slice: [0, X) of the X + 1 rows on axis 1, step 1 */
    int64_t st[2], en[2], ax[2], sp[2];
    int ns, ne, na, nsp = 1;
    sp[0] = 1;
    if (ctx->opset < 10 || vx_sh_try_ints(ext(g, in, n_in, LP_SLICE, 1), st, 2, &ns) ||
        vx_sh_try_ints(ext(g, in, n_in, LP_SLICE, 2), en, 2, &ne) ||
        vx_sh_try_ints(ext(g, in, n_in, LP_SLICE, 3), ax, 2, &na) ||
        (present(g, LP_SLICE, 4) && vx_sh_try_ints(ext(g, in, n_in, LP_SLICE, 4), sp, 2, &nsp)))
        return 0;
    if (ns != 1 || ne != 1 || na != 1 || nsp != 1 || sp[0] != 1) return 0;
    if ((ax[0] < 0 ? ax[0] + 3 : ax[0]) != 1) return 0;
    int64_t d = *X + 1, s = st[0] < 0 ? st[0] + d : st[0], e = en[0] < 0 ? en[0] + d : en[0];
    s = s < 0 ? 0 : s > d ? d : s;
    e = e < 0 ? 0 : e > d ? d : e;
    if (s != 0 || e != *X) return 0;
    /* Unsqueeze axis 1, Transpose [0, 1, 3, 2], Squeeze axis 1 */
    if (!one_axis(ctx, g->node[g->role[LP_UNSQ]], ext(g, in, n_in, LP_UNSQ, 1), 4, 1) ||
        !one_axis(ctx, g->node[g->role[LP_SQUEEZE]], ext(g, in, n_in, LP_SQUEEZE, 1), 4, 1))
        return 0;
    const int64_t *perm;
    if (vx_attr_ints(g->node[g->role[LP_TRANSP]], "perm", &perm) != 4 || perm[0] != 0 ||
        perm[1] != 1 || perm[2] != 3 || perm[3] != 2)
        return 0;
    return 1;
}

/* Each batch's running sum never decreases (false on NaN). */
static int nondecreasing(const float *cum, int64_t B, int64_t X) {
    for (int64_t b = 0; b < B; b++)
        for (int64_t x = 1; x < X; x++)
            if (!(cum[b * X + x] >= cum[b * X + x - 1])) return 0;
    return 1;
}

/* The first x with r < c[x] in a nondecreasing c, or n (r NaN: n). */
static int64_t first_above(const float *c, int64_t n, float r) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (r < c[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The compact path, or 0 if the run-time values need the nodes. */
static int fast_path(vx_op_ctx *ctx, const vx_node_group *g, vx_tensor *const *in, int n_in,
                     vx_tensor *out, int *rc) {
    const vx_tensor *rng = ext(g, in, n_in, LP_LESS, 0), *cum = ext(g, in, n_in, LP_LESS, 1);
    if (!is_f32(rng) || !is_f32(cum) || rng->ndim != 2 || rng->dims[0] != 1 || cum->ndim != 2 ||
        cum->dims[1] != 1 || !cum->numel || rng->dims[1] > INT32_MAX - 1)
        return 0;
    int64_t T = rng->dims[1], N = cum->dims[0], B, X;
    if (!params_ok(ctx, g, in, n_in, N, T, &B, &X)) return 0;
    /* the mask: Mul's other input, or the fused Mul's two factors */
    const vx_tensor *f[2] = {NULL, NULL};
    int nf = 0;
    if (g->role[LP_MASK] >= 0) {
        f[0] = ext(g, in, n_in, LP_MASK, 0);
        f[1] = ext(g, in, n_in, LP_MASK, 1);
        nf = 2;
    } else {
        int i = g->role[LP_MUL];
        for (int j = 0; j < 2; j++)
            if (g->src[g->arg[i] + j] >= 0) f[nf++] = ext(g, in, n_in, LP_MUL, j);
    }
    if (!nf) return 0;
    int64_t full[4] = {B, 1, T, X}, str[2][4];
    for (int k = 0; k < nf; k++)
        if (!mask_factor(f[k], full, str[k])) return 0;
    const float *c = cum->data, *r = rng->data;
    if (!nondecreasing(c, B, X)) return 0;
    int64_t od[2] = {B, T + 1};
    if ((*rc = vx_sh_alloc(ctx, g->node[g->n - 1], out, VX_INT32, 2, od))) return 1;
    int32_t *sel = out->data;
    for (int64_t b = 0; b < B; b++) {
        int32_t *row = sel + b * (T + 1);
        for (int64_t t = 0; t < T; t++) {
            int64_t x = first_above(c + b * X, X, r[t]);
            int on = x < X;
            for (int k = 0; k < nf && on; k++) {
                int64_t o = b * str[k][0] + t * str[k][2] + x * str[k][3];
                on = ((const float *)f[k]->data)[o] == 1.0f;
            }
            row[t] = on ? (int32_t)x : -1;
        }
        row[T] = (int32_t)X;
    }
    atomic_fetch_add(&fast_runs, 1);
    return 1;
}

/* The group's nodes one by one; intermediates are released after their last reader. */
static int run_group(vx_op_ctx *ctx, const vx_node_group *g, vx_tensor *const *in, int n_in,
                     vx_tensor *out) {
    vx_tensor tmp[VX_GROUP_MAX];
    memset(tmp, 0, sizeof tmp);
    int rc = 0;
    for (int i = 0; i < g->n && !rc; i++) {
        vx_tensor *args[8];
        int na = g->n_args[i];
        if (na > 8) {
            rc = vx_op_fail(ctx, g->node[i], VOX_ERR_MODEL, "too many inputs");
            break;
        }
        for (int j = 0; j < na; j++) {
            int s = g->src[g->arg[i] + j];
            args[j] = s == VX_GROUP_OMITTED ? NULL : s >= 0 ? (s < n_in ? in[s] : NULL) : &tmp[-s - 1];
        }
        vx_tensor *dst = i == g->n - 1 ? out : &tmp[i];
        memset(dst, 0, sizeof *dst);
        vx_op_ctx sub = *ctx;
        sub.prep = NULL;
        sub.inplace = sub.dying = 0;
        rc = g->def[i]->fn(&sub, g->node[i], args, na, dst, 1);
        if (!rc && !dst->owned && dst->data) { /* a view must not outlive what it shows */
            vx_tensor own;
            memset(&own, 0, sizeof own);
            rc = vx_tensor_copy(&own, dst);
            vx_tensor_release(dst);
            *dst = own;
            if (rc) rc = vx_op_fail(ctx, g->node[i], VOX_ERR_NOMEM, "out of memory");
        }
        for (int k = 0; k < i; k++)
            if (g->last[k] == i) vx_tensor_release(&tmp[k]);
    }
    for (int k = 0; k < g->n; k++) vx_tensor_release(&tmp[k]);
    return rc;
}

static int op_length_path(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                          vx_tensor *out, int n_out) {
    const vx_node_group *g = ctx->prep ? ctx->prep->group : NULL;
    if (!g || g->n < 1 || n_out < 1)
        return vx_op_fail(ctx, node, VOX_ERR_INTERNAL, "fused path without its nodes");
    int rc = 0;
    if (fast_path(ctx, g, in, n_in, out, &rc)) return rc;
    return run_group(ctx, g, in, n_in, out);
}

const vx_op_def vx_length_path_def = {"LengthPath", op_length_path, 1};

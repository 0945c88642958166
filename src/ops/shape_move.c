/* Data-movement kernels: Concat, Split, Slice, Transpose, Expand, Tile, Pad.
 * All are dtype-agnostic (bytes by element size) and copy the innermost contiguous run
 * with memcpy; Transpose uses cache-blocked 2-D tiles when the innermost axis moves. */
#include "ops/shape_internal.h"
#include "kernels/kernels.h"
#include "util/tpool.h"
#include <stdlib.h>

/* ------------------------------------------------------------------ Concat */

int vx_op_concat(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                 vx_tensor *out, int n_out) {
    const vx_tensor *x0, *x;
    int rc, a;
    if (n_in < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs at least one input");
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x0))) return rc;
    if (!vx_node_attr(node, "axis"))
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "attribute 'axis' is required");
    if (x0->ndim == 0) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "cannot concat scalars");
    if ((rc = vx_sh_axis(ctx, node, vx_attr_int(node, "axis", 0), x0->ndim, &a))) return rc;
    int64_t dims[VX_MAX_DIMS];
    memcpy(dims, x0->dims, sizeof dims);
    dims[a] = 0;
    for (int i = 0; i < n_in; i++) {
        if ((rc = vx_sh_req(ctx, node, in, n_in, i, &x))) return rc;
        if (x->dtype != x0->dtype || x->ndim != x0->ndim)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "input %d: dtype/rank mismatch", i);
        for (int k = 0; k < x->ndim; k++)
            if (k != a && x->dims[k] != x0->dims[k])
                return vx_op_fail(ctx, node, VOX_ERR_MODEL,
                                  "input %d: dim %d is %lld, expected %lld", i, k,
                                  (long long)x->dims[k], (long long)x0->dims[k]);
        dims[a] += x->dims[a]; /* <= 4096 inputs of <= 2^32 each: no overflow */
    }
    if ((rc = vx_sh_alloc(ctx, node, out, x0->dtype, x0->ndim, dims))) return rc;
    if (!out->numel) return 0;
    size_t es = vx_dtype_size(x0->dtype);
    int64_t outer = vx_sh_numel(a, dims), inner = vx_sh_numel(x0->ndim - a - 1, dims + a + 1);
    char *o = out->data;
    for (int64_t r = 0; r < outer; r++)
        for (int i = 0; i < n_in; i++) {
            size_t bytes = (size_t)(in[i]->dims[a] * inner) * es;
            if (!bytes) continue;
            memcpy(o, (const char *)in[i]->data + r * bytes, bytes);
            o += bytes;
        }
    return 0;
}

/* ------------------------------------------------------------------ Split */

int vx_op_split(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, vx_tensor *out,
                int n_out) {
    const vx_tensor *x, *st;
    int rc, a;
    if (n_out < 1) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "needs at least one output");
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x))) return rc;
    if (x->ndim == 0) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "cannot split a scalar");
    if ((rc = vx_sh_axis(ctx, node, vx_attr_int(node, "axis", 0), x->ndim, &a))) return rc;
    int64_t dim = x->dims[a];
    int64_t *split = calloc((size_t)n_out, sizeof *split);
    if (!split) return vx_op_fail(ctx, node, VOX_ERR_NOMEM, "out of memory");
    int n = -1;
    const int64_t *av;
    int64_t na;
    if ((st = vx_sh_opt(in, n_in, 1)) && st->numel) { /* opset >= 13: input (empty = absent) */
        rc = vx_sh_ints(ctx, node, st, "split", split, n_out, &n);
        if (rc) goto done;
    } else if ((na = vx_attr_ints(node, "split", &av)) >= 0) { /* before 13: attribute */
        if (na != n_out) {
            rc = vx_op_fail(ctx, node, VOX_ERR_MODEL, "split has %lld values for %d outputs",
                            (long long)na, n_out);
            goto done;
        }
        memcpy(split, av, (size_t)na * sizeof *split);
        n = (int)na;
    }
    if (n < 0) { /* equal parts; opset 18 lets the last one be smaller */
        int64_t part = (dim + n_out - 1) / n_out;
        if (dim % n_out && ctx->opset < 18) {
            rc = vx_op_fail(ctx, node, VOX_ERR_MODEL, "dim %lld does not split into %d parts",
                            (long long)dim, n_out);
            goto done;
        }
        for (int i = 0; i < n_out; i++) {
            int64_t left = dim - part * i;
            split[i] = left < 0 ? 0 : left < part ? left : part;
        }
    } else {
        int64_t sum = 0;
        if (n != n_out) {
            rc = vx_op_fail(ctx, node, VOX_ERR_MODEL, "split has %d values for %d outputs", n,
                            n_out);
            goto done;
        }
        for (int i = 0; i < n; i++) {
            if (split[i] < 0 || split[i] > dim) {
                rc = vx_op_fail(ctx, node, VOX_ERR_MODEL, "bad split value %lld",
                                (long long)split[i]);
                goto done;
            }
            sum += split[i];
        }
        if (sum != dim) {
            rc = vx_op_fail(ctx, node, VOX_ERR_MODEL, "split sums to %lld, axis has %lld",
                            (long long)sum, (long long)dim);
            goto done;
        }
    }
    size_t es = vx_dtype_size(x->dtype);
    int64_t outer = vx_sh_numel(a, x->dims), inner = vx_sh_numel(x->ndim - a - 1, x->dims + a + 1);
    int64_t off = 0;
    for (int i = 0; i < n_out; i++) {
        int64_t dims[VX_MAX_DIMS];
        memcpy(dims, x->dims, sizeof dims);
        dims[a] = split[i];
        if ((rc = vx_sh_alloc(ctx, node, &out[i], x->dtype, x->ndim, dims))) goto done;
        size_t bytes = (size_t)(split[i] * inner) * es, src_row = (size_t)(dim * inner) * es;
        if (bytes)
            for (int64_t r = 0; r < outer; r++)
                memcpy((char *)out[i].data + r * bytes,
                       (const char *)x->data + r * src_row + (size_t)(off * inner) * es, bytes);
        off += split[i];
    }
done:
    free(split);
    return rc;
}

/* ------------------------------------------------------------------ Slice */

int vx_op_slice(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, vx_tensor *out,
                int n_out) {
    const vx_tensor *x, *t;
    int rc, ns, ne, na = -1, nst = -1;
    int64_t starts[VX_MAX_DIMS], ends[VX_MAX_DIMS], axes[VX_MAX_DIMS], steps[VX_MAX_DIMS];
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x))) return rc;
    if (n_in >= 3 || ctx->opset >= 10) { /* opset 10+: inputs */
        if ((rc = vx_sh_req(ctx, node, in, n_in, 1, &t)) ||
            (rc = vx_sh_ints(ctx, node, t, "starts", starts, VX_MAX_DIMS, &ns)) ||
            (rc = vx_sh_req(ctx, node, in, n_in, 2, &t)) ||
            (rc = vx_sh_ints(ctx, node, t, "ends", ends, VX_MAX_DIMS, &ne)))
            return rc;
        if ((t = vx_sh_opt(in, n_in, 3)) &&
            (rc = vx_sh_ints(ctx, node, t, "axes", axes, VX_MAX_DIMS, &na)))
            return rc;
        if ((t = vx_sh_opt(in, n_in, 4)) &&
            (rc = vx_sh_ints(ctx, node, t, "steps", steps, VX_MAX_DIMS, &nst)))
            return rc;
    } else { /* opset 1: attributes */
        const int64_t *v;
        int64_t k;
        struct {
            const char *name;
            int64_t *dst;
            int *n;
        } at[3] = {{"starts", starts, &ns}, {"ends", ends, &ne}, {"axes", axes, &na}};
        ns = ne = -1;
        for (int i = 0; i < 3; i++) {
            if ((k = vx_attr_ints(node, at[i].name, &v)) < 0) continue;
            if (k > VX_MAX_DIMS)
                return vx_op_fail(ctx, node, VOX_ERR_MODEL, "too many %s", at[i].name);
            memcpy(at[i].dst, v, (size_t)k * sizeof *v);
            *at[i].n = (int)k;
        }
        if (ns < 0 || ne < 0)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "starts and ends are required");
    }
    if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "starts/ends/axes/steps lengths differ");
    int r = x->ndim;
    int64_t first[VX_MAX_DIMS], step[VX_MAX_DIMS], dims[VX_MAX_DIMS], str[VX_MAX_DIMS];
    int seen[VX_MAX_DIMS] = {0};
    for (int i = 0; i < r; i++) {
        first[i] = 0;
        step[i] = 1;
        dims[i] = x->dims[i];
    }
    for (int i = 0; i < ns; i++) {
        int a;
        if ((rc = vx_sh_axis(ctx, node, na >= 0 ? axes[i] : i, r, &a))) return rc;
        if (seen[a]++) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "axis %d repeated", a);
        int64_t d = x->dims[a], s = starts[i], e = ends[i], st = nst >= 0 ? steps[i] : 1;
        if (st == 0) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "step 0 on axis %d", a);
        if (s < 0) s += d; /* INT64_MIN + d cannot overflow: d >= 0 */
        if (e < 0) e += d;
        int64_t cnt;
        if (st > 0) {
            s = s < 0 ? 0 : s > d ? d : s;
            e = e < 0 ? 0 : e > d ? d : e;
            if (st > d) st = d > 0 ? d : 1; /* same result, keeps stride math small */
            cnt = e > s ? (e - s - 1) / st + 1 : 0;
        } else {
            s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
            e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
            if (st < -d) st = d > 0 ? -d : -1;
            cnt = s > e ? (s - e - 1) / -st + 1 : 0;
        }
        /* an empty axis: a negative step clamps start to 0 and end to -1, which would
         * count one element; there is nothing to read */
        if (d == 0) cnt = 0;
        first[a] = s;
        step[a] = st;
        dims[a] = cnt;
    }
    if ((rc = vx_sh_alloc(ctx, node, out, x->dtype, r, dims))) return rc;
    if (!out->numel) return 0;
    vx_sh_strides(r, x->dims, str);
    int64_t base = 0, sstr[VX_MAX_DIMS];
    for (int i = 0; i < r; i++) {
        base += first[i] * str[i];
        sstr[i] = str[i] * step[i];
    }
    size_t es = vx_dtype_size(x->dtype);
    vx_sh_strided_copy(out->data, (const char *)x->data + base * (int64_t)es, es, r, dims, sstr);
    return 0;
}

/* ------------------------------------------------------------------ Transpose */

/* dst[a*dst_a + b] = src[a + b*src_b] for a < A, b < B, in T x T tiles so both the
 * strided reads and the contiguous writes stay in cache. */
#define TILE 32
#define DEF_T2D(name, T)                                                                           \
    static void name(T *dst, const T *src, int64_t A, int64_t B, int64_t dst_a, int64_t src_b) {   \
        for (int64_t a0 = 0; a0 < A; a0 += TILE)                                                   \
            for (int64_t b0 = 0; b0 < B; b0 += TILE) {                                             \
                int64_t a1 = a0 + TILE < A ? a0 + TILE : A, b1 = b0 + TILE < B ? b0 + TILE : B;    \
                for (int64_t a = a0; a < a1; a++)                                                  \
                    for (int64_t b = b0; b < b1; b++) dst[a * dst_a + b] = src[a + b * src_b];     \
            }                                                                                      \
    }
DEF_T2D(t2d_1, uint8_t)
DEF_T2D(t2d_2, uint16_t)
DEF_T2D(t2d_8, uint64_t)

static void t2d_any(char *dst, const char *src, size_t es, int64_t A, int64_t B, int64_t dst_a,
                    int64_t src_b) {
    for (int64_t a = 0; a < A; a++)
        for (int64_t b = 0; b < B; b++)
            memcpy(dst + (a * dst_a + b) * (int64_t)es, src + (a + b * src_b) * (int64_t)es, es);
}

typedef struct t2d_job {
    char *dst;
    const char *src;
    int64_t A, B, dst_a, src_b;
} t2d_job;

/* Rows [8 u0, 8 u1) of dst: the kernel table's 4-byte transpose (SIMD on x86). */
static void t2d_rows(void *arg, int64_t u0, int64_t u1) {
    const t2d_job *j = arg;
    int64_t a0 = u0 * 8, a1 = u1 * 8 < j->A ? u1 * 8 : j->A;
    vx_kernels_get()->transpose_u32((uint32_t *)j->dst + a0 * j->dst_a,
                                    (const uint32_t *)j->src + a0, a1 - a0, j->B, j->dst_a,
                                    j->src_b);
}

static void transpose2d(const vx_op_ctx *ctx, char *dst, const char *src, size_t es, int64_t A,
                        int64_t B, int64_t dst_a, int64_t src_b) {
    switch (es) {
    case 1: t2d_1((uint8_t *)dst, (const uint8_t *)src, A, B, dst_a, src_b); break;
    case 2: t2d_2((uint16_t *)dst, (const uint16_t *)src, A, B, dst_a, src_b); break;
    case 4: {
        t2d_job j = {dst, src, A, B, dst_a, src_b};
        /* over the threads when there is enough to move (rows of dst in 8-row chunks) */
        if (ctx->pool && ctx->threads > 1 && A >= 16 && A * B >= ((int64_t)1 << 16))
            vx_tpool_for_chunks(ctx->pool, (A + 7) / 8, ctx->threads, t2d_rows, &j);
        else
            t2d_rows(&j, 0, (A + 7) / 8);
        break;
    }
    case 8: t2d_8((uint64_t *)dst, (const uint64_t *)src, A, B, dst_a, src_b); break;
    default: t2d_any(dst, src, es, A, B, dst_a, src_b);
    }
}

int vx_op_transpose(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                    vx_tensor *out, int n_out) {
    const vx_tensor *x;
    int rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x))) return rc;
    int r = x->ndim, perm[VX_MAX_DIMS], used[VX_MAX_DIMS] = {0};
    const int64_t *pv;
    int64_t np = vx_attr_ints(node, "perm", &pv);
    if (np >= 0 && np != r)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "perm has %lld entries for rank %d",
                          (long long)np, r);
    for (int i = 0; i < r; i++) {
        int64_t p = np >= 0 ? pv[i] : r - 1 - i; /* default: reverse the axes */
        if (p < 0 || p >= r || used[p]++)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "perm is not a permutation");
        perm[i] = (int)p;
    }
    int64_t dims[VX_MAX_DIMS], istr[VX_MAX_DIMS], sstr[VX_MAX_DIMS];
    vx_sh_strides(r, x->dims, istr);
    for (int i = 0; i < r; i++) {
        dims[i] = x->dims[perm[i]];
        sstr[i] = istr[perm[i]];
    }
    if ((rc = vx_sh_alloc(ctx, node, out, x->dtype, r, dims))) return rc;
    if (!out->numel) return 0;
    size_t es = vx_dtype_size(x->dtype);
    int64_t d[VX_SH_MAX_ND], s[VX_SH_MAX_ND];
    int m = vx_sh_merge(r, dims, sstr, d, s), j = -1;
    for (int i = 0; i < m; i++)
        if (s[i] == 1) j = i;
    if (m == 0 || s[m - 1] == 1 || j < 0) { /* innermost run is contiguous: memcpy rows */
        vx_sh_strided_copy(out->data, x->data, es, r, dims, sstr);
        return 0;
    }
    /* Output axis j reads the input's contiguous axis, output axis m-1 writes contiguous
     * memory: tile-transpose that (j, m-1) plane for every index of the other axes. */
    int64_t dstr[VX_SH_MAX_ND], idx[VX_SH_MAX_ND] = {0};
    vx_sh_strides(m, d, dstr);
    int oax[VX_SH_MAX_ND], no = 0;
    for (int i = 0; i < m - 1; i++)
        if (i != j) oax[no++] = i;
    int64_t planes = 1, soff = 0, doff = 0;
    for (int k = 0; k < no; k++) planes *= d[oax[k]];
    for (int64_t p = 0; p < planes; p++) {
        transpose2d(ctx, (char *)out->data + doff * (int64_t)es,
                    (const char *)x->data + soff * (int64_t)es, es, d[j], d[m - 1], dstr[j],
                    s[m - 1]);
        for (int k = no - 1; k >= 0; k--) {
            int ax = oax[k];
            soff += s[ax];
            doff += dstr[ax];
            if (++idx[ax] < d[ax]) break;
            soff -= s[ax] * d[ax];
            doff -= dstr[ax] * d[ax];
            idx[ax] = 0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ Expand, Tile */

int vx_op_expand(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in,
                 vx_tensor *out, int n_out) {
    const vx_tensor *x, *st;
    int64_t shape[VX_MAX_DIMS], dims[VX_MAX_DIMS], istr[VX_MAX_DIMS], sstr[VX_MAX_DIMS];
    int ns, rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 1, &st)) ||
        (rc = vx_sh_ints(ctx, node, st, "shape", shape, VX_MAX_DIMS, &ns)))
        return rc;
    int r = x->ndim > ns ? x->ndim : ns;
    vx_sh_strides(x->ndim, x->dims, istr);
    for (int i = 0; i < r; i++) { /* align from the right, numpy style */
        int xi = i - (r - x->ndim), si = i - (r - ns);
        int64_t xd = xi >= 0 ? x->dims[xi] : 1, sd = si >= 0 ? shape[si] : 1;
        if (sd < 0)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "negative shape value %lld", (long long)sd);
        if (xd == sd || sd == 1)
            dims[i] = xd;
        else if (xd == 1)
            dims[i] = sd;
        else {
            char a[200], b[200];
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "cannot expand %s to %s",
                              vx_sh_str(a, sizeof a, x->ndim, x->dims),
                              vx_sh_str(b, sizeof b, ns, shape));
        }
        sstr[i] = xi >= 0 && xd == dims[i] ? istr[xi] : 0;
    }
    if ((rc = vx_sh_alloc(ctx, node, out, x->dtype, r, dims))) return rc;
    if (out->numel) vx_sh_strided_copy(out->data, x->data, vx_dtype_size(x->dtype), r, dims, sstr);
    return 0;
}

int vx_op_tile(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, vx_tensor *out,
               int n_out) {
    const vx_tensor *x, *rt;
    int64_t rep[VX_MAX_DIMS], dims[VX_MAX_DIMS], istr[VX_MAX_DIMS];
    int nr, rc;
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x)) ||
        (rc = vx_sh_req(ctx, node, in, n_in, 1, &rt)) ||
        (rc = vx_sh_ints(ctx, node, rt, "repeats", rep, VX_MAX_DIMS, &nr)))
        return rc;
    int r = x->ndim;
    if (nr != r)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "repeats has %d values for rank %d", nr, r);
    for (int i = 0; i < r; i++) {
        if (rep[i] < 0)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "negative repeat %lld", (long long)rep[i]);
        if (x->dims[i] && rep[i] > VX_MAX_ELEMS / x->dims[i]) /* before multiplying */
            return vx_op_fail(ctx, node, VOX_ERR_NOMEM, "tiled axis %d is too large", i);
        dims[i] = x->dims[i] * rep[i];
    }
    if ((rc = vx_sh_alloc(ctx, node, out, x->dtype, r, dims))) return rc;
    if (!out->numel) return 0;
    /* Output axis i = (repeat, original index): a 2r-D strided view with stride 0 on the
     * repeat axes. */
    int64_t vd[VX_SH_MAX_ND], vs[VX_SH_MAX_ND];
    vx_sh_strides(r, x->dims, istr);
    for (int i = 0; i < r; i++) {
        vd[2 * i] = rep[i];
        vs[2 * i] = 0;
        vd[2 * i + 1] = x->dims[i];
        vs[2 * i + 1] = istr[i];
    }
    vx_sh_strided_copy(out->data, x->data, vx_dtype_size(x->dtype), 2 * r, vd, vs);
    return 0;
}

/* ------------------------------------------------------------------ Pad */

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

/* Source index of output position o on an axis of size d padded by pb in front, or -1
 * for the constant. */
static int64_t pad_src(int mode, int64_t o, int64_t pb, int64_t d) {
    int64_t i = o - pb;
    if (i >= 0 && i < d) return i;
    switch (mode) {
    case PAD_EDGE: return i < 0 ? 0 : d - 1;
    case PAD_WRAP: return ((i % d) + d) % d;
    case PAD_REFLECT: {
        if (d == 1) return 0;
        int64_t p = 2 * (d - 1);
        i = ((i % p) + p) % p;
        return i < d ? i : p - i;
    }
    default: return -1;
    }
}

int vx_op_pad(vx_op_ctx *ctx, const vx_node *node, vx_tensor *const *in, int n_in, vx_tensor *out,
              int n_out) {
    const vx_tensor *x, *t;
    int rc, np = -1, nax = -1;
    int64_t pads[2 * VX_MAX_DIMS], axv[VX_MAX_DIMS];
    if ((rc = vx_sh_req(ctx, node, in, n_in, 0, &x))) return rc;
    int r = x->ndim;
    size_t es = vx_dtype_size(x->dtype);
    const char *ms = vx_attr_str(node, "mode", "constant");
    int mode = !strcmp(ms, "constant")  ? PAD_CONSTANT
               : !strcmp(ms, "reflect") ? PAD_REFLECT
               : !strcmp(ms, "edge")    ? PAD_EDGE
               : !strcmp(ms, "wrap")    ? PAD_WRAP
                                        : -1;
    if (mode < 0) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "unknown mode '%s'", ms);
    unsigned char cval[16] = {0};       /* the constant, as one element of x's dtype */
    if ((t = vx_sh_opt(in, n_in, 1))) { /* opset >= 11: inputs */
        if ((rc = vx_sh_ints(ctx, node, t, "pads", pads, 2 * VX_MAX_DIMS, &np))) return rc;
        if ((t = vx_sh_opt(in, n_in, 2)) && t->numel) {
            if (t->dtype != x->dtype || t->numel != 1)
                return vx_op_fail(ctx, node, VOX_ERR_MODEL, "constant_value must be one %s",
                                  vx_dtype_name(x->dtype));
            memcpy(cval, t->data, es);
        }
        if ((t = vx_sh_opt(in, n_in, 3)) &&
            (rc = vx_sh_ints(ctx, node, t, "axes", axv, VX_MAX_DIMS, &nax)))
            return rc;
    } else { /* before 11: attributes */
        const int64_t *v;
        int64_t k = vx_attr_ints(node, "pads", &v);
        if (k < 0) k = vx_attr_ints(node, "paddings", &v);
        if (k < 0 || k > 2 * VX_MAX_DIMS)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "missing or bad pads");
        memcpy(pads, v, (size_t)k * sizeof *v);
        np = (int)k;
        vx_sh_store_f64(x->dtype, cval, vx_attr_float(node, "value", 0));
    }
    int64_t pb[VX_MAX_DIMS] = {0}, pe[VX_MAX_DIMS] = {0}, dims[VX_MAX_DIMS];
    int n = nax >= 0 ? nax : r;
    if (np != 2 * n)
        return vx_op_fail(ctx, node, VOX_ERR_MODEL, "pads has %d values, expected %d", np, 2 * n);
    int seen[VX_MAX_DIMS] = {0};
    for (int i = 0; i < n; i++) {
        int a = i;
        if (nax >= 0 && (rc = vx_sh_axis(ctx, node, axv[i], r, &a))) return rc;
        if (seen[a]++) return vx_op_fail(ctx, node, VOX_ERR_MODEL, "axis %d repeated", a);
        pb[a] = pads[i];
        pe[a] = pads[i + n];
    }
    for (int a = 0; a < r; a++) {
        int64_t d = x->dims[a];
        if (pb[a] < -VX_MAX_ELEMS || pb[a] > VX_MAX_ELEMS || pe[a] < -VX_MAX_ELEMS ||
            pe[a] > VX_MAX_ELEMS)
            return vx_op_fail(ctx, node, VOX_ERR_NOMEM, "pad on axis %d is too large", a);
        dims[a] = d + pb[a] + pe[a];
        if (dims[a] < 0)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "negative pads remove more than axis %d",
                              a);
        if (mode != PAD_CONSTANT && d == 0 && dims[a] > 0)
            return vx_op_fail(ctx, node, VOX_ERR_MODEL, "cannot %s-pad the empty axis %d", ms, a);
    }
    if ((rc = vx_sh_alloc(ctx, node, out, x->dtype, r, dims))) return rc;
    if (!out->numel) return 0;
    char *o = out->data;
    if (r == 0) {
        memcpy(o, x->data, es);
        return 0;
    }
    /* Fill with the constant (by doubling copies), then copy the mapped elements. */
    if (mode == PAD_CONSTANT) vx_sh_fill(o, cval, es, out->numel);
    if (!x->numel) return 0; /* all constant (x->data may be NULL) */
    int64_t tot = 0, *map[VX_MAX_DIMS], istr[VX_MAX_DIMS];
    for (int a = 0; a < r; a++) tot += dims[a];
    int64_t *buf = malloc((size_t)tot * sizeof *buf);
    if (!buf) return vx_op_fail(ctx, node, VOX_ERR_NOMEM, "out of memory");
    int64_t k = 0;
    for (int a = 0; a < r; k += dims[a], a++) {
        map[a] = buf + k;
        for (int64_t i = 0; i < dims[a]; i++) map[a][i] = pad_src(mode, i, pb[a], x->dims[a]);
    }
    vx_sh_strides(r, x->dims, istr);
    int64_t L = dims[r - 1], D = x->dims[r - 1], P = pb[r - 1];
    /* The part of a row that maps 1:1 onto the source row: one memcpy. */
    int64_t lo = P > 0 ? P : 0, hi = P + D < L ? P + D : L;
    int64_t rows = out->numel / L, idx[VX_MAX_DIMS] = {0};
    const char *xs = x->data;
    for (int64_t row = 0; row < rows; row++, o += L * (int64_t)es) {
        int64_t soff = 0;
        int skip = 0;
        for (int a = 0; a < r - 1; a++) {
            int64_t s = map[a][idx[a]];
            if (s < 0) {
                skip = 1;
                break;
            }
            soff += s * istr[a];
        }
        if (!skip) {
            const char *srow = xs + soff * (int64_t)es;
            if (hi > lo)
                memcpy(o + lo * (int64_t)es, srow + (lo - P) * (int64_t)es, (size_t)(hi - lo) * es);
            for (int64_t i = 0; i < L; i++) {
                if (i == lo && hi > lo) {
                    i = hi - 1;
                    continue;
                }
                int64_t s = map[r - 1][i];
                if (s >= 0) memcpy(o + i * (int64_t)es, srow + s * (int64_t)es, es);
            }
        }
        for (int a = r - 2; a >= 0; a--) {
            if (++idx[a] < dims[a]) break;
            idx[a] = 0;
        }
    }
    free(buf);
    return 0;
}

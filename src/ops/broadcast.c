#include "ops/broadcast.h"
#include <stdio.h>
#include <string.h>

int vx_bcast_init_dims(vx_bcast *b, int n_in, const int *ndims, const int64_t *const *dims) {
    memset(b, 0, sizeof *b);
    if (n_in < 1 || n_in > VX_BCAST_MAX_IN) return -1;
    b->n_in = n_in;
    int nd = 0;
    for (int k = 0; k < n_in; k++) {
        if (ndims[k] < 0 || ndims[k] > VX_MAX_DIMS) return -1;
        if (ndims[k] > nd) nd = ndims[k];
    }
    /* Result shape, right-aligned: each axis is 1, or the one size every non-1 input has. */
    int64_t numel = 1;
    for (int i = 0; i < nd; i++) {
        int64_t d = 1;
        for (int k = 0; k < n_in; k++) {
            int ax = i - (nd - ndims[k]);
            int64_t dk = ax >= 0 ? dims[k][ax] : 1;
            if (dk < 0) return -1;
            if (dk == 1) continue;
            if (d == 1)
                d = dk;
            else if (d != dk)
                return -1;
        }
        if (d > VX_MAX_ELEMS || (d && numel > VX_MAX_ELEMS / d)) return -1;
        numel *= d;
        b->out_dims[i] = d;
    }
    b->out_ndim = nd;
    b->numel = numel;
    if (numel == 0) { /* nothing to walk */
        b->ndim = 1;
        return 0;
    }

    /* Per-input strides on the aligned output axes (0 where the input is broadcast). */
    int64_t st[VX_BCAST_MAX_IN][VX_MAX_DIMS];
    for (int k = 0; k < n_in; k++) {
        int64_t s = 1;
        for (int i = nd - 1; i >= 0; i--) {
            int ax = i - (nd - ndims[k]);
            int64_t dk = ax >= 0 ? dims[k][ax] : 1;
            st[k][i] = dk == 1 ? 0 : s;
            s *= dk;
        }
    }
    /* Drop size-1 output axes, then merge an axis into the previous kept one when every
     * input steps through both as one run (outer stride == inner stride * inner size). */
    int m = 0;
    for (int i = 0; i < nd; i++) {
        int64_t d = b->out_dims[i];
        if (d == 1) continue;
        int merge = m > 0;
        for (int k = 0; k < n_in && merge; k++)
            if (b->strides[k][m - 1] != st[k][i] * d) merge = 0;
        if (merge) {
            b->dims[m - 1] *= d;
            for (int k = 0; k < n_in; k++) b->strides[k][m - 1] = st[k][i];
        } else {
            b->dims[m] = d;
            for (int k = 0; k < n_in; k++) b->strides[k][m] = st[k][i];
            m++;
        }
    }
    if (m == 0) { /* all axes are 1: a single element */
        b->dims[0] = 1;
        for (int k = 0; k < n_in; k++) b->strides[k][0] = 0;
        m = 1;
    }
    b->ndim = m;
    b->inner = b->dims[m - 1];
    b->outer = numel / b->inner;
    /* The last kept axis of an input is either broadcast or its innermost real axis. */
    for (int k = 0; k < n_in; k++) b->istride[k] = b->strides[k][m - 1] ? 1 : 0;
    return 0;
}

int vx_bcast_init(vx_bcast *b, int n_in, const vx_tensor *const *in) {
    int ndims[VX_BCAST_MAX_IN];
    const int64_t *dims[VX_BCAST_MAX_IN];
    if (n_in < 1 || n_in > VX_BCAST_MAX_IN) return -1;
    for (int k = 0; k < n_in; k++) {
        if (!in[k]) return -1;
        ndims[k] = in[k]->ndim;
        dims[k] = in[k]->dims;
    }
    return vx_bcast_init_dims(b, n_in, ndims, dims);
}

void vx_bcast_start(const vx_bcast *b, vx_bcast_pos *p) {
    memset(p, 0, sizeof *p);
    (void)b;
}

void vx_bcast_next(const vx_bcast *b, vx_bcast_pos *p) {
    /* Carry through the outer axes (all but the last, which is the row itself). */
    for (int i = b->ndim - 2; i >= 0; i--) {
        if (++p->idx[i] < b->dims[i]) {
            for (int k = 0; k < b->n_in; k++) p->off[k] += b->strides[k][i];
            return;
        }
        p->idx[i] = 0;
        for (int k = 0; k < b->n_in; k++) p->off[k] -= b->strides[k][i] * (b->dims[i] - 1);
    }
}

void vx_bcast_row(const vx_bcast *b, int64_t row, int64_t *off) {
    for (int k = 0; k < b->n_in; k++) off[k] = 0;
    for (int i = b->ndim - 2; i >= 0 && row; i--) {
        int64_t q = row / b->dims[i], r = row - q * b->dims[i];
        for (int k = 0; k < b->n_in; k++) off[k] += r * b->strides[k][i];
        row = q;
    }
}

int vx_broadcast_dims(int na, const int64_t *a, int nb, const int64_t *bd, int *nd, int64_t *d) {
    vx_bcast b;
    int ndims[2] = {na, nb};
    const int64_t *dims[2] = {a, bd};
    if (vx_bcast_init_dims(&b, 2, ndims, dims)) return -1;
    *nd = b.out_ndim;
    memcpy(d, b.out_dims, sizeof(int64_t) * (size_t)b.out_ndim);
    return 0;
}

const char *vx_shape_str(char *buf, size_t len, int ndim, const int64_t *dims) {
    size_t k = 0;
    if (!len) return buf;
    buf[0] = 0;
    k += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < ndim && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, i ? ",%lld" : "%lld", (long long)dims[i]);
    if (k < len) snprintf(buf + k, len - k, "]");
    return buf;
}

int vx_broadcast_copy(const vx_tensor *src, vx_tensor *dst) {
    vx_bcast b;
    const vx_tensor *in[2] = {src, dst};
    size_t es = vx_dtype_size(src->dtype);
    if (!es || src->dtype != dst->dtype || vx_bcast_init(&b, 2, in)) return -1;
    if (b.out_ndim != dst->ndim || memcmp(b.out_dims, dst->dims, sizeof(int64_t) * dst->ndim))
        return -1;
    if (!b.numel) return 0;
    const char *s = src->data;
    char *o = dst->data;
    vx_bcast_pos p;
    vx_bcast_start(&b, &p);
    for (int64_t r = 0; r < b.outer; r++, vx_bcast_next(&b, &p)) {
        const char *row = s + (size_t)p.off[0] * es;
        char *out = o + (size_t)(r * b.inner) * es;
        if (b.istride[0]) {
            memcpy(out, row, (size_t)b.inner * es);
        } else { /* one value repeated along the row */
            for (int64_t j = 0; j < b.inner; j++) memcpy(out + (size_t)j * es, row, es);
        }
    }
    return 0;
}

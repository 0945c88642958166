/* Load-time weight pre-packing for the active kernel table (graph.c: optimize_steps). */
#include "engine/graph_internal.h"
#include "kernels/x86/kernels_fused.h"
#include "vox.h"
#include "engine/tensor.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* kernel_shape, when given, agrees with the weight's last dim (what the packing used). */
static int kernel_shape_ok(const vx_node *n, const vx_tensor *w) {
    const int64_t *ks;
    int nks = vx_attr_ints(n, "kernel_shape", &ks);
    return nks < 0 || (nks == 1 && ks[0] == w->dims[2]);
}

/* Pre-packed constant conv weights for the active kernel table. */
void vx_graph_pack(vx_graph *g, const vx_kernels *kern, const vx_kernels_fused *f) {
    for (int k = 0; k < g->n_steps; k++) {
        vx_step *st = &g->steps[k];
        if (!st->node || st->n_in < 2 || st->in[1] < 0 || !g->is_const[st->in[1]]) continue;
        const vx_tensor *w = &g->consts[st->in[1]];
        if (w->dtype != VX_FLOAT || w->ndim != 3 || !w->numel) continue;
        int64_t group = vx_attr_int(st->node, "group", 1);
        if (group < 1) continue;
        size_t bytes = 0;
        void *dst = NULL;
        if (!strcmp(st->node->op_type, "Conv") && kern->conv1d_pack_bytes && kern->conv1d_pack) {
            vx_conv1d_params p = { .c_in = w->dims[1] * group, .c_out = w->dims[0], .group = group,
                                   .k = w->dims[2], .stride = 1, .dilation = 1 };
            if (p.c_out % group) continue;
            bytes = kern->conv1d_pack_bytes(&p);
            if (!bytes || !(dst = vx_aligned_alloc_raw(bytes))) continue;
            kern->conv1d_pack(&p, w->data, dst);
            st->prep.pk[0] = p.c_in; st->prep.pk[1] = p.c_out; st->prep.pk[2] = group; st->prep.pk[3] = p.k;
        } else if (!strcmp(st->node->op_type, "ConvTranspose") && f && f->convtr1d_pack_bytes) {
            /* the pad must be static: no auto_pad / output_shape */
            const char *ap = vx_attr_str(st->node, "auto_pad", "NOTSET");
            const int64_t *v;
            if ((*ap && strcmp(ap, "NOTSET")) || vx_attr_ints(st->node, "output_shape", &v) >= 0) continue;
            int64_t s1 = 1, d1 = 1, pad = 0;
            if (vx_attr_ints(st->node, "strides", &v) == 1) s1 = v[0];
            if (vx_attr_ints(st->node, "dilations", &v) == 1) d1 = v[0];
            if (vx_attr_ints(st->node, "pads", &v) == 2) pad = v[0];
            if (s1 < 1 || s1 > (1 << 24) || d1 < 1 || d1 > (1 << 24) || pad < 0 || pad > (1 << 24)) continue;
            vx_convtr1d_params p = { .c_in = w->dims[0], .c_out = w->dims[1] * group, .group = group,
                                     .k = w->dims[2], .stride = s1, .dilation = d1, .pad = pad };
            bytes = f->convtr1d_pack_bytes(&p);
            if (!bytes || !(dst = vx_aligned_alloc_raw(bytes))) continue;
            f->convtr1d_pack(&p, w->data, dst);
            st->prep.pk[0] = p.c_in; st->prep.pk[1] = p.c_out; st->prep.pk[2] = group;
            st->prep.pk[3] = (p.k << 40) ^ (p.stride << 20) ^ (p.pad) ^ (p.dilation << 52);
        } else {
            continue;
        }
        st->has_prep = 1;
        st->pack_sure = kernel_shape_ok(st->node, w) && !vx_env_off("VOX_DROP_CONSTS");
        st->prep.kernels = kern;
        st->prep.wpacked = dst;
        st->pack_owned = dst;
    }
}


/* Mirrors the packed-path conditions of Conv / ConvTranspose (ops_nn.c): with the packing
 * made for the process's kernel table and matching static attributes (pack_sure), the
 * kernel uses prep.wpacked and never reads W when X is a float [N, C, T] with the packed
 * channel count (and a fused residual is float). Anything else may read the raw W. */
int vx_graph_step_reads_raw(const vx_graph *g, const vx_step *st, int j, vx_tensor *const *in) {
    (void)g;
    if (j != 1 || !st->pack_sure || !st->has_prep || !st->prep.wpacked) return 1;
    if (st->prep.kernels != (const void *)vx_kernels_get()) return 1;
    const vx_tensor *x = in[0];
    if (!x || x->dtype != VX_FLOAT || x->ndim != 3 || x->dims[1] != st->prep.pk[0]) return 1;
    if (st->prep.res) {
        const vx_tensor *r = st->prep.res < st->n_in ? in[st->prep.res] : NULL;
        if (!r || r->dtype != VX_FLOAT) return 1;
    }
    return 0;
}

void vx_graph_drop_consts(vx_graph *g) {
    const vx_model *m = g->model;
    if (!m || !m->n_inits || vx_env_off("VOX_DROP_CONSTS")) return;
    /* slots some step may read raw */
    unsigned char *raw = calloc((size_t)g->n_values + 1, 1);
    g->lazy_src = calloc((size_t)g->n_values + 1, sizeof *g->lazy_src);
    g->lazy_buf = calloc((size_t)g->n_values + 1, sizeof *g->lazy_buf);
    if (!raw || !g->lazy_src || !g->lazy_buf || pthread_mutex_init(&g->lazy_mu, NULL)) {
        free(raw);
        free(g->lazy_src); g->lazy_src = NULL;
        free(g->lazy_buf); g->lazy_buf = NULL;
        return;
    }
    g->lazy_mu_init = 1;
    for (int k = 0; k < g->n_steps; k++) {
        const vx_step *st = &g->steps[k];
        for (int j = 0; j < st->n_in; j++) {
            int s = st->in[j];
            if (s >= 0 && (j != 1 || !st->pack_sure || !st->prep.wpacked)) raw[s] = 1;
        }
    }
    const char *map = m->map_base;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    vx_bufpool *old = vx_bufpool_set_current(NULL);   /* copies go back to the system */
    for (int i = 0; i < m->n_inits; i++) {
        vx_tensor *t = &m->inits[i];
        int s = vx_graph_slot(g, m->init_names[i]);
        if (s < 0 || g->is_const[s] != 1 || raw[s] || g->is_output[s] || !t->data || !t->numel ||
            g->consts[s].data != t->data || g->consts[s].owned)
            continue;
        const void *src = vx_model_init_source(m, i);
        if (t->owned && src) {
            vx_aligned_free(t->data);
            t->data = NULL;
            t->owned = 0;
            g->consts[s].data = NULL;
            g->lazy_src[s] = src;
        } else if (!t->owned && map && (const char *)t->data >= map &&
                   (const char *)t->data + vx_tensor_bytes(t) <= map + m->map_size) {
            /* clean pages of the read-only private file mapping: dropping them only
             * frees memory; a later read faults them back in from the file */
            uintptr_t b = ((uintptr_t)t->data + page - 1) & ~(uintptr_t)(page - 1);
            uintptr_t e = ((uintptr_t)t->data + vx_tensor_bytes(t)) & ~(uintptr_t)(page - 1);
            if (e > b) madvise((void *)b, e - b, MADV_DONTNEED);
        }
    }
    vx_bufpool_set_current(old);
    free(raw);
}

int vx_graph_const_restore(const vx_graph *cg, int s) {
    vx_graph *g = (vx_graph *)cg;   /* shared by runs: guarded by lazy_mu */
    if (!g->lazy_src || !g->lazy_src[s]) return 0;
    if (__atomic_load_n(&g->consts[s].data, __ATOMIC_ACQUIRE)) return 0;
    int rc = 0;
    pthread_mutex_lock(&g->lazy_mu);
    if (!g->consts[s].data) {
        size_t bytes = vx_tensor_bytes(&g->consts[s]);
        void *d = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
        if (d) {
            memcpy(d, g->lazy_src[s], bytes);
            g->lazy_buf[s] = d;
            __atomic_store_n(&g->consts[s].data, d, __ATOMIC_RELEASE);
        } else {
            rc = VOX_ERR_NOMEM;
        }
    }
    pthread_mutex_unlock(&g->lazy_mu);
    return rc;
}

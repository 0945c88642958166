/* Load-time weight pre-packing for the active kernel table (graph.c: optimize_steps). */
#include "engine/graph_internal.h"
#include "kernels/x86/kernels_fused.h"
#include <string.h>

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
        st->prep.kernels = kern;
        st->prep.wpacked = dst;
        st->pack_owned = dst;
    }
}


/* Load-time weight pre-packing for the active kernel table (graph.c: optimize_steps). */
#include "engine/graph_internal.h"
#include "engine/pack_cache.h"
#include "kernels/kernels.h"
#include "kernels/lowp.h"
#include "vox.h"
#include "tensor/tensor.h"
#include "util/tpool.h"
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

/* One packing job: the step, its parameters and its destination buffer. */
typedef struct pack_job {
    vx_step *st;
    const vx_tensor *w;
    int tr; /* 0 = Conv (kern->conv1d_pack), 1 = ConvTranspose (f->convtr1d_pack) */
    vx_conv1d_params cp;
    vx_convtr1d_params tp;
    size_t bytes;
    void *dst;
    const void *src; /* deferred weight (w->data NULL): its misaligned file bytes */
    int own;         /* dst is its own block (no arena): the step owns it */
    int lowp;        /* vx_lowp_fmt of the packing, 0 = the FP32 table's */
} pack_job;

#define PACK_MAX_THREADS 64
typedef struct pack_ctx {
    pack_job *jobs;
    const vx_kernels *kern;
    /* aligned staging buffers for deferred weights, one per concurrently running
     * pack_range (claimed with busy[]), each big enough for the largest such weight */
    int n_scratch;
    float *scratch[PACK_MAX_THREADS];
    int busy[PACK_MAX_THREADS];
    const char *map; /* the model file's read-only mapping (or NULL) */
    size_t map_size, page;
} pack_ctx;

/* Once a weight is packed, the file pages it was read from leave RSS (clean pages of the
 * read-only private mapping: a later raw read faults them back in from the file). Done
 * per weight, the load peak is the packed copy plus one weight instead of both copies
 * of every weight (vx_graph_drop_consts used to do it only after all packing). */
static void drop_file_pages(const pack_ctx *c, const void *p, size_t bytes) {
    const char *a = p;
    if (!c->map || !bytes || a < c->map || a + bytes > c->map + c->map_size) return;
    uintptr_t b = ((uintptr_t)a + c->page - 1) & ~(uintptr_t)(c->page - 1);
    uintptr_t e = ((uintptr_t)a + bytes) & ~(uintptr_t)(c->page - 1);
    if (e > b) madvise((void *)b, e - b, MADV_DONTNEED);
}

/* Each job writes only its own dst and reads only its weight (and a staging buffer it
 * claimed): jobs run on any thread. */
static void pack_range(void *arg, int64_t b, int64_t e) {
    pack_ctx *c = arg;
    for (int64_t i = b; i < e; i++) {
        pack_job *j = &c->jobs[i];
        const float *w = j->w->data;
        int slot = -1;
        if (j->src) {
            for (int q = 0; slot < 0; q = (q + 1) % c->n_scratch)
                if (!__atomic_exchange_n(&c->busy[q], 1, __ATOMIC_ACQUIRE)) slot = q;
            memcpy(c->scratch[slot], j->src, vx_tensor_bytes(j->w));
            w = c->scratch[slot];
        }
        if (j->lowp && j->tr)
            vx_lowp_convtr_pack((vx_lowp_fmt)j->lowp, &j->tp, w, j->dst);
        else if (j->lowp)
            vx_lowp_pack((vx_lowp_fmt)j->lowp, &j->cp, w, j->dst);
        else if (j->tr)
            c->kern->convtr1d_pack(&j->tp, w, j->dst);
        else
            c->kern->conv1d_pack(&j->cp, w, j->dst);
        if (slot >= 0) __atomic_store_n(&c->busy[slot], 0, __ATOMIC_RELEASE);
        drop_file_pages(c, j->src ? j->src : j->w->data, vx_tensor_bytes(j->w));
    }
}

static int job_cmp(const void *a, const void *b) { /* largest first: balances the pool */
    size_t x = ((const pack_job *)a)->bytes, y = ((const pack_job *)b)->bytes;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Reduced precision applies to the frame-level half of a Piper model only: the flow and
 * the HiFi-GAN decoder (torch export names /flow/... and /dec/...). The text encoder
 * (/enc_p/) and the duration predictor (/dp/) stay FP32, so durations, sample counts
 * and timings do not depend on the precision. */
static int lowp_scope(const vx_node *n) {
    const char *s = n->name ? n->name : "";
    return !strncmp(s, "/dec/", 5) || !strncmp(s, "/flow/", 6);
}

/* The packed-weight cache key (pack_cache.h) for this graph's jobs: the model file's
 * identity, the build, the kernel tables and every job's step, parameters and size (in
 * step order: that is the arena's layout). 0, or -1: no cache for this graph. */
static int cache_key(const vx_graph *g, const vx_kernels *kern, const pack_job *jobs, int nj,
                     vx_pack_key *key) {
    if (!g->pack_cache_dir || !nj || !g->model || !g->model->has_file_id || vx_pack_key_init(key))
        return -1;
    for (int i = 0; i < 5; i++) vx_pack_key_add(key, g->model->file_id[i]);
    vx_pack_key_str(key, kern->name);
    vx_pack_key_add(key, (uint64_t)g->precision);
    vx_pack_key_add(key, (uint64_t)nj);
    for (int i = 0; i < nj; i++) {
        const pack_job *j = &jobs[i];
        const vx_lowp_kernels *lk = j->lowp ? vx_lowp_get((vx_lowp_fmt)j->lowp) : NULL;
        if (j->lowp && !lk) return -1;
        vx_pack_key_str(key, lk ? lk->name : "");
        uint64_t w[] = {(uint64_t)(j->st - g->steps), (uint64_t)j->tr, (uint64_t)j->lowp,
                        (uint64_t)j->bytes};
        for (size_t q = 0; q < sizeof w / sizeof w[0]; q++) vx_pack_key_add(key, w[q]);
        int64_t p[] = {j->cp.c_in, j->cp.c_out, j->cp.group, j->cp.k, j->cp.stride,
                       j->cp.dilation, j->tp.c_in, j->tp.c_out, j->tp.group, j->tp.k,
                       j->tp.stride, j->tp.dilation, j->tp.pad};
        for (size_t q = 0; q < sizeof p / sizeof p[0]; q++) vx_pack_key_add(key, (uint64_t)p[q]);
    }
    return 0;
}

/* Pre-packed constant conv weights for the active kernel table. The packs are
 * independent, so they run on a short-lived pool (all cores) during the load; or, with a
 * packed-weight cache, they are mapped from the file an earlier load wrote. */
void vx_graph_pack(vx_graph *g, const vx_kernels *kern) {
    pack_job *jobs = calloc((size_t)g->n_steps + 1, sizeof *jobs);
    if (!jobs) return;
    int nj = 0;
    size_t total = 0, max_src = 0;
    for (int k = 0; k < g->n_steps; k++) {
        vx_step *st = &g->steps[k];
        if (!st->node || st->n_in < 2 || st->in[1] < 0 || !g->is_const[st->in[1]]) continue;
        const vx_tensor *w = &g->consts[st->in[1]];
        const void *src = w->data ? NULL : g->lazy_src ? g->lazy_src[st->in[1]] : NULL;
        if (w->dtype != VX_FLOAT || w->ndim != 3 || !w->numel || (!w->data && !src)) continue;
        int64_t group = vx_attr_int(st->node, "group", 1);
        if (group < 1) continue;
        pack_job *j = &jobs[nj];
        int is_conv = !strcmp(st->node->op_type, "Conv");
        /* convs with fewer than VX_LOWP_MR outputs stay FP32: that is HiFi-GAN's conv_post
         * (32 -> 1), a sum with heavy cancellation that lost ~20 dB of SNR in either
         * format on the shared models (vox infer --compare) for ~1% of the FLOPs */
        int lp = g->precision && lowp_scope(st->node) && (!is_conv || w->dims[0] >= VX_LOWP_MR)
                     ? g->precision
                     : 0;
        if (is_conv && lp) {
            vx_conv1d_params p = {.c_in = w->dims[1] * group,
                                  .c_out = w->dims[0],
                                  .group = group,
                                  .k = w->dims[2],
                                  .stride = 1,
                                  .dilation = 1};
            if (p.c_out % group) continue;
            j->cp = p;
            j->lowp = lp;
            j->bytes = vx_lowp_pack_bytes((vx_lowp_fmt)lp, &p);
            st->prep.pk[0] = p.c_in;
            st->prep.pk[1] = p.c_out;
            st->prep.pk[2] = group;
            st->prep.pk[3] = p.k;
        } else if (is_conv) {
            vx_conv1d_params p = {.c_in = w->dims[1] * group,
                                  .c_out = w->dims[0],
                                  .group = group,
                                  .k = w->dims[2],
                                  .stride = 1,
                                  .dilation = 1};
            if (p.c_out % group) continue;
            j->cp = p;
            j->bytes = kern->conv1d_pack_bytes(&p);
            st->prep.pk[0] = p.c_in;
            st->prep.pk[1] = p.c_out;
            st->prep.pk[2] = group;
            st->prep.pk[3] = p.k;
        } else if (!strcmp(st->node->op_type, "ConvTranspose")) {
            /* the pad must be static: no auto_pad / output_shape */
            const char *ap = vx_attr_str(st->node, "auto_pad", "NOTSET");
            const int64_t *v;
            if ((*ap && strcmp(ap, "NOTSET")) || vx_attr_ints(st->node, "output_shape", &v) >= 0)
                continue;
            int64_t s1 = 1, d1 = 1, pad = 0;
            if (vx_attr_ints(st->node, "strides", &v) == 1) s1 = v[0];
            if (vx_attr_ints(st->node, "dilations", &v) == 1) d1 = v[0];
            if (vx_attr_ints(st->node, "pads", &v) == 2) pad = v[0];
            if (s1 < 1 || s1 > (1 << 24) || d1 < 1 || d1 > (1 << 24) || pad < 0 || pad > (1 << 24))
                continue;
            vx_convtr1d_params p = {.c_in = w->dims[0],
                                    .c_out = w->dims[1] * group,
                                    .group = group,
                                    .k = w->dims[2],
                                    .stride = s1,
                                    .dilation = d1,
                                    .pad = pad,
                                    .t_in = 1};
            j->tr = 1;
            j->tp = p;
            if (lp && vx_lowp_convtr_ok(&p)) {
                j->lowp = lp;
                j->bytes = vx_lowp_convtr_pack_bytes((vx_lowp_fmt)lp, &p);
            } else {
                j->bytes = kern->convtr1d_pack_bytes(&p);
            }
            st->prep.pk[0] = p.c_in;
            st->prep.pk[1] = p.c_out;
            st->prep.pk[2] = group;
            st->prep.pk[3] = (p.k << 40) ^ (p.stride << 20) ^ (p.pad) ^ (p.dilation << 52);
        } else {
            continue;
        }
        if (!j->bytes || j->bytes > ((size_t)1 << 40)) {
            memset(j, 0, sizeof *j);
            continue;
        }
        j->st = st;
        j->w = w;
        j->src = src;
        if (src && vx_tensor_bytes(w) > max_src) max_src = vx_tensor_bytes(w);
        total += j->bytes;
        nj++;
    }
    /* Destinations: one anonymous mapping for all packs (huge pages where the system
     * allows them on request: a few faults instead of one per 4 KiB page at load, fewer
     * TLB misses at run time), owned by g->pack_arena; else one block per step. */
    size_t arena = 0;
    for (int i = 0; i < nj; i++) arena += (jobs[i].bytes + 63) & ~(size_t)63;
    char *base = NULL;
    vx_pack_key key;
    int use_arena = !vx_env_off("VOX_PACK_ARENA");
    int cached = use_arena && !cache_key(g, kern, jobs, nj, &key), hit = 0;
    if (cached) {
        g->pack_key_ok = 1;
        g->pack_key = key;
    }
    if (cached && (base = vx_pack_cache_get(g->pack_cache_dir, &key, arena))) {
        hit = 1;
        g->pack_arena = base;
        g->pack_arena_bytes = arena;
        g->pack_hit = "hit";
    }
    if (nj && !base && use_arena) {
        void *p = mmap(NULL, arena, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
#ifdef MADV_HUGEPAGE
            if (arena >= ((size_t)2 << 20)) madvise(p, arena, MADV_HUGEPAGE);
#endif
            base = p;
            g->pack_arena = p;
            g->pack_arena_bytes = arena;
        }
    }
    size_t off = 0;
    for (int i = 0; i < nj; i++) {
        if (base) {
            jobs[i].dst = base + off;
            off += (jobs[i].bytes + 63) & ~(size_t)63;
        } else if (!(jobs[i].dst = vx_aligned_alloc_raw(jobs[i].bytes))) {
            jobs[i--] = jobs[--nj]; /* left unpacked: read raw */
        } else {
            jobs[i].own = 1;
        }
    }
    pack_ctx c = {.jobs = jobs, .kern = kern, .page = (size_t)sysconf(_SC_PAGESIZE)};
    if (g->model && g->model->map_base && !vx_env_off("VOX_DROP_CONSTS")) {
        c.map = g->model->map_base;
        c.map_size = g->model->map_size;
    }
    vx_tpool *pool = NULL;
    if (nj && !hit) {
        int all = nj;
        qsort(jobs, (size_t)nj, sizeof *jobs, job_cmp);
        /* below ~1 MB of packing a thread costs more than it saves */
        if (nj > 1 && total >= ((size_t)1 << 20) && !vx_env_off("VOX_PACK_THREADS"))
            pool = vx_tpool_create(0);
        int nt = vx_tpool_threads(pool);
        c.n_scratch = max_src ? (nt < PACK_MAX_THREADS ? nt : PACK_MAX_THREADS) : 0;
        for (int q = 0; q < c.n_scratch; q++)
            if (!(c.scratch[q] = vx_aligned_alloc_raw(max_src))) c.n_scratch = q;
        if (max_src && !c.n_scratch) {
            /* no staging memory: leave the deferred weights unpacked (read raw) */
            for (int i = 0; i < nj; i++)
                if (jobs[i].src) {
                    if (jobs[i].own) vx_aligned_free(jobs[i].dst);
                    jobs[i--] = jobs[--nj];
                }
        }
        /* a busy or NULL pool runs inline (one claimant); otherwise at most nt run at once,
         * more than n_scratch only if a buffer failed: then claimants wait their turn */
        if (nj) vx_tpool_for_chunks(pool, nj, nj, pack_range, &c);
        vx_tpool_free(pool);
        for (int q = 0; q < c.n_scratch; q++) vx_aligned_free(c.scratch[q]);
        /* stored only when every job packed into the arena (the layout the key names) */
        if (cached && base && nj == all)
            g->pack_hit = vx_pack_cache_put(g->pack_cache_dir, &key, base, arena) ? "miss" : "stored";
    }
    for (int i = 0; i < nj; i++) {
        vx_step *st = jobs[i].st;
        st->has_prep = 1;
        st->pack_sure = kernel_shape_ok(st->node, jobs[i].w) && !vx_env_off("VOX_DROP_CONSTS");
        st->prep.kernels = kern;
        st->prep.lowp = jobs[i].lowp ? vx_lowp_get((vx_lowp_fmt)jobs[i].lowp) : NULL;
        st->prep.wpacked = jobs[i].dst;
        st->pack_owned = jobs[i].own ? jobs[i].dst : NULL;
    }
    free(jobs);
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

int vx_graph_lazy_init(vx_graph *g) {
    if (g->lazy_mu_init) return 0;
    g->lazy_src = calloc((size_t)g->n_values + 1, sizeof *g->lazy_src);
    g->lazy_buf = calloc((size_t)g->n_values + 1, sizeof *g->lazy_buf);
    if (!g->lazy_src || !g->lazy_buf || pthread_mutex_init(&g->lazy_mu, NULL)) {
        free(g->lazy_src);
        g->lazy_src = NULL;
        free(g->lazy_buf);
        g->lazy_buf = NULL;
        return VOX_ERR_NOMEM;
    }
    g->lazy_mu_init = 1;
    return 0;
}

/* Deferred initializers (never copied at load) that might be read raw get their copy
 * now, so that run-time restores stay rare: all of them when raw is NULL. */
static int restore_deferred(vx_graph *g, const unsigned char *raw) {
    if (!g->lazy_src) return 0;
    for (int s = 0; s < g->n_values; s++)
        if (g->lazy_src[s] && !g->consts[s].data && g->is_const[s] == 1 &&
            (!raw || raw[s] || g->is_output[s]) && vx_graph_const_restore(g, s))
            return VOX_ERR_NOMEM;
    return 0;
}

int vx_graph_drop_consts(vx_graph *g) {
    const vx_model *m = g->model;
    if (!m || !m->n_inits || vx_env_off("VOX_DROP_CONSTS")) return restore_deferred(g, NULL);
    /* slots some step may read raw */
    unsigned char *raw = calloc((size_t)g->n_values + 1, 1);
    if (!raw || vx_graph_lazy_init(g)) {
        free(raw);
        return restore_deferred(g, NULL);
    }
    for (int k = 0; k < g->n_steps; k++) {
        const vx_step *st = &g->steps[k];
        for (int j = 0; j < st->n_in; j++) {
            int s = st->in[j];
            if (s >= 0 && (j != 1 || !st->pack_sure || !st->prep.wpacked)) raw[s] = 1;
        }
    }
    int rc = restore_deferred(g, raw);
    const char *map = m->map_base;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    vx_bufpool *old = vx_bufpool_set_current(NULL); /* copies go back to the system */
    for (int i = 0; i < m->n_inits; i++) {
        vx_tensor *t = &m->inits[i];
        int s = vx_graph_slot(g, m->init_names[i]);
        const char *src0 = s >= 0 && !t->data && !g->consts[s].data ? g->lazy_src[s] : NULL;
        if (src0 && map && src0 >= map && src0 + vx_tensor_bytes(t) <= map + m->map_size) {
            /* deferred and still lazy: its file pages, read once for packing, go too */
            uintptr_t b = ((uintptr_t)src0 + page - 1) & ~(uintptr_t)(page - 1);
            uintptr_t e = ((uintptr_t)src0 + vx_tensor_bytes(t)) & ~(uintptr_t)(page - 1);
            if (e > b) madvise((void *)b, e - b, MADV_DONTNEED);
            continue;
        }
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
    return rc;
}

int vx_graph_const_restore(const vx_graph *cg, int s) {
    vx_graph *g = (vx_graph *)cg; /* shared by runs: guarded by lazy_mu */
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

const char *vx_graph_pack_cache(const vx_graph *g) { return g ? g->pack_hit : "off"; }

int vx_graph_cache_aux_get(const vx_graph *g, const char *name, void *val, size_t n) {
    return g && g->pack_key_ok ? vx_pack_cache_aux_get(g->pack_cache_dir, &g->pack_key, name, val, n)
                               : -1;
}

int vx_graph_cache_aux_put(const vx_graph *g, const char *name, const void *val, size_t n) {
    return g && g->pack_key_ok ? vx_pack_cache_aux_put(g->pack_cache_dir, &g->pack_key, name, val, n)
                               : -1;
}

int vx_graph_lowp_steps(const vx_graph *g, size_t *packed_bytes) {
    int n = 0;
    size_t b = 0;
    for (int k = 0; k < g->n_steps; k++) {
        const vx_step *st = &g->steps[k];
        if (!st->has_prep || !st->prep.lowp || !st->prep.wpacked) continue;
        n++;
        vx_lowp_fmt fmt = st->prep.lowp->fmt;
        if (!strcmp(st->node->op_type, "Conv")) {
            vx_conv1d_params p = {.c_in = st->prep.pk[0],
                                  .c_out = st->prep.pk[1],
                                  .group = st->prep.pk[2],
                                  .k = st->prep.pk[3]};
            b += vx_lowp_pack_bytes(fmt, &p);
        } else {
            const int64_t *v;
            int64_t s1 = 1, pad = 0;
            if (vx_attr_ints(st->node, "strides", &v) == 1) s1 = v[0];
            if (vx_attr_ints(st->node, "pads", &v) == 2) pad = v[0];
            vx_convtr1d_params p = {.c_in = st->prep.pk[0],
                                    .c_out = st->prep.pk[1],
                                    .group = 1,
                                    .k = g->consts[st->in[1]].dims[2],
                                    .stride = s1,
                                    .dilation = 1,
                                    .pad = pad,
                                    .t_in = 1};
            b += vx_lowp_convtr_pack_bytes(fmt, &p);
        }
    }
    if (packed_bytes) *packed_bytes = b;
    return n;
}

int vx_graph_lowp_outputs(const vx_graph *g, const char **names, int max) {
    int n = 0;
    for (int k = 0; k < g->n_steps; k++) {
        const vx_step *st = &g->steps[k];
        if (!st->has_prep || !st->prep.lowp || !st->prep.wpacked || st->n_out < 1 || st->out[0] < 0)
            continue;
        if (names && n < max) names[n] = g->names[st->out[0]];
        n++;
    }
    return n;
}

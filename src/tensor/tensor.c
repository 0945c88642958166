#include "tensor/tensor.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

size_t vx_dtype_size(int dtype) {
    switch (dtype) {
    case VX_FLOAT:
    case VX_INT32:
    case VX_UINT32: return 4;
    case VX_INT64:
    case VX_UINT64:
    case VX_DOUBLE: return 8;
    case VX_UINT8:
    case VX_INT8:
    case VX_BOOL: return 1;
    case VX_UINT16:
    case VX_INT16:
    case VX_FLOAT16: return 2;
    default: return 0;
    }
}

const char *vx_dtype_name(int dtype) {
    switch (dtype) {
    case VX_FLOAT: return "float";
    case VX_UINT8: return "uint8";
    case VX_INT8: return "int8";
    case VX_UINT16: return "uint16";
    case VX_INT16: return "int16";
    case VX_INT32: return "int32";
    case VX_INT64: return "int64";
    case VX_STRING: return "string";
    case VX_BOOL: return "bool";
    case VX_FLOAT16: return "float16";
    case VX_DOUBLE: return "double";
    case VX_UINT32: return "uint32";
    case VX_UINT64: return "uint64";
    default: return "undefined";
    }
}

int vx_tensor_set_shape(vx_tensor *t, int ndim, const int64_t *dims) {
    if (ndim < 0 || ndim > VX_MAX_DIMS) return -1;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0 || dims[i] > VX_MAX_ELEMS) return -1;
        if (dims[i] && n > VX_MAX_ELEMS / dims[i]) return -1;
        n *= dims[i];
        t->dims[i] = dims[i];
    }
    for (int i = ndim; i < VX_MAX_DIMS; i++) t->dims[i] = 0;
    t->ndim = ndim;
    t->numel = n;
    return 0;
}

/* ------------------------------------------------------------ aligned blocks + recycling
 *
 * Every block carries a 64-byte header in front of the data: its usable capacity, how it
 * was obtained and, while it sits in a free list, the link. So any block can be recycled,
 * whoever allocated it, and vx_aligned_free needs no size.
 *
 * Two levels of recycling:
 * - small blocks (< BIG_BLOCK) made during a run go through that run's pool (one per
 *   vx_graph_run, made current on its thread), freed with the run;
 * - big blocks made during any run live on in one process-wide cache shared by all
 *   runs and threads. Without it every run faulted its big tensors in afresh (~57k page
 *   faults, ~230 MB zeroed per medium-voice run of 17 s audio) and gave them back to
 *   the OS at the end, so a server's RSS swung by the size of a run. The cache's rule
 *   keeps peak memory where it was: big bytes in use + cached never exceed the most big
 *   bytes ever in use at once (+ the block being made), so cached blocks are evicted
 *   before a fresh block would raise the peak, and a cached block larger than needed is
 *   lent out before anything fresh is mapped. Hard limit: VX_BLOCK_CACHE_MAX cached bytes
 *   (env VOX_TENSOR_CACHE_MB, 0 = no cache). vx_block_cache_trim empties it (called when
 *   the last graph is freed).
 * Big blocks of >= HUGE_BLOCK are mapped directly with transparent huge pages advised:
 * 512x fewer page faults and TLB misses in the conv kernels' streams. */
#define BLK_MAGIC 0x766f78626c6b3634ULL /* "voxblk64" */
#define BLK_HDR   64
typedef struct blk_hdr {
    uint64_t magic;
    size_t cap;           /* usable bytes after the header */
    struct blk_hdr *next; /* free-list link while pooled */
    size_t map_bytes;     /* > 0: mmap'ed region of this size starting at map_base */
    void *map_base;
    int cacheable; /* made during a run: returns to the process cache */
} blk_hdr;

/* Size classes: multiples of 64 up to 512 bytes (classes 0..7), then 8 classes per
 * power of two (<= 12.5% rounding). */
#define N_CLASSES          256
#define BIG_BLOCK          ((size_t)256 << 10)
#define HUGE_BLOCK         ((size_t)4 << 20)
#define HUGE_PAGE          ((size_t)2 << 20)
#define VX_BLOCK_CACHE_MAX ((size_t)4 << 30)
static int class_of(size_t n, size_t *size) {
    if (n <= 512) {
        size_t c = n ? (n + 63) / 64 : 1;
        *size = c * 64;
        return (int)c - 1;
    }
    int e = 63 - __builtin_clzll((unsigned long long)(n - 1)); /* 2^e < n <= 2^(e+1) */
    size_t base = (size_t)1 << e, step = base / 8;
    size_t m = (n - base + step - 1) / step; /* 1..8 */
    *size = base + m * step;
    return 8 + (e - 9) * 8 + (int)m - 1;
}

/* Largest class whose size is <= cap (the class a block of that capacity can serve). */
static int floor_class(size_t cap) {
    size_t sz;
    int c = class_of(cap, &sz);
    return sz > cap ? c - 1 : c;
}

struct vx_bufpool {
    blk_hdr *free_list[N_CLASSES];
    size_t cached; /* bytes sitting in free lists */
    vx_bufpool_stats st;
};

static _Thread_local vx_bufpool *tl_pool;

/* The process-wide cache of big blocks (see above). */
static struct {
    pthread_mutex_t mu;
    blk_hdr *free_list[N_CLASSES];
    size_t cached;     /* bytes in free_list */
    size_t inuse;      /* bytes of cacheable blocks handed out */
    size_t peak_inuse; /* the budget: most bytes ever in use at once */
    size_t limit;      /* max cached bytes (set once, read_limit) */
    vx_block_cache_stats st;
} bc = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void blk_release(blk_hdr *h) {
    if (h->map_bytes)
        munmap(h->map_base, h->map_bytes);
    else
        free(h);
}

vx_bufpool *vx_bufpool_new(void) { return calloc(1, sizeof(vx_bufpool)); }

void vx_bufpool_free(vx_bufpool *p) {
    if (!p) return;
    if (tl_pool == p) tl_pool = NULL;
    for (int c = 0; c < N_CLASSES; c++)
        for (blk_hdr *h = p->free_list[c], *nx; h; h = nx) {
            nx = h->next;
            blk_release(h);
        }
    free(p);
}

vx_bufpool *vx_bufpool_set_current(vx_bufpool *p) {
    vx_bufpool *old = tl_pool;
    tl_pool = p;
    return old;
}

void vx_bufpool_get_stats(const vx_bufpool *p, vx_bufpool_stats *s) {
    *s = p->st;
    s->cached_bytes = p->cached;
}

static void *blk_new(size_t cap, int cacheable) {
    blk_hdr *h;
    size_t map = 0;
    void *base = NULL;
    if (cap >= HUGE_BLOCK) {
        /* header on the last 64 bytes of a page so the data starts page-aligned, and
         * the region 2 MiB-aligned so THP can back it */
        size_t want = (BLK_HDR + cap + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE + HUGE_PAGE;
        base = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) return NULL;
        uintptr_t a = ((uintptr_t)base + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        size_t head = a - (uintptr_t)base;
        if (head < BLK_HDR) a += HUGE_PAGE, head += HUGE_PAGE;
        (void)head;
#ifdef MADV_HUGEPAGE
        madvise((void *)a, want - (a - (uintptr_t)base), MADV_HUGEPAGE);
#endif
        map = want;
        h = (blk_hdr *)(a - BLK_HDR);
    } else {
        h = aligned_alloc(64, BLK_HDR + cap);
        if (!h) return NULL;
    }
    h->magic = BLK_MAGIC;
    h->cap = cap;
    h->next = NULL;
    h->map_bytes = map;
    h->map_base = base;
    h->cacheable = cacheable;
    return (char *)h + BLK_HDR;
}

static pthread_once_t limit_once = PTHREAD_ONCE_INIT;
static void read_limit(void) {
    const char *e = getenv("VOX_TENSOR_CACHE_MB");
    char *end = NULL;
    unsigned long long mb = e && *e ? strtoull(e, &end, 10) : 0;
    bc.limit = e && *e && end && !*end ? (size_t)(mb > (1u << 22) ? (1u << 22) : mb) << 20
                                       : VX_BLOCK_CACHE_MAX;
}

static size_t cache_limit(void) {
    pthread_once(&limit_once, read_limit);
    return bc.limit;
}

static blk_hdr *cache_pop(int c) {
    blk_hdr *h = bc.free_list[c];
    bc.free_list[c] = h->next;
    h->next = NULL;
    bc.cached -= h->cap;
    return h;
}

/* A big block for a run: a cached one of the right size, else a fresh one if it stays
 * within the budget, else a larger cached one, else evict cached blocks and make one. */
static void *big_alloc(size_t sz, int c) {
    pthread_mutex_lock(&bc.mu);
    blk_hdr *h = NULL;
    for (int k = c; k < c + 3 && k < N_CLASSES && !h; k++)
        if (bc.free_list[k]) h = cache_pop(k);
    size_t budget = bc.peak_inuse > bc.inuse + sz ? bc.peak_inuse : bc.inuse + sz;
    if (!h && bc.inuse + bc.cached + sz > budget)
        for (int k = c + 3; k < N_CLASSES && !h; k++)
            if (bc.free_list[k]) {
                h = cache_pop(k);
                bc.st.lent_larger++;
            }
    if (h) {
        bc.st.hits++;
    } else {
        bc.st.misses++;
        /* smallest first: the large ones are what the next run's last stage needs */
        for (int k = 0; k < N_CLASSES && bc.inuse + bc.cached + sz > budget; k++)
            while (bc.free_list[k] && bc.inuse + bc.cached + sz > budget) {
                blk_hdr *v = cache_pop(k);
                bc.st.evicted_bytes += v->cap;
                blk_release(v);
            }
    }
    size_t cap = h ? h->cap : sz;
    bc.inuse += cap;
    if (bc.inuse > bc.peak_inuse) bc.peak_inuse = bc.inuse;
    pthread_mutex_unlock(&bc.mu);
    if (h) return (char *)h + BLK_HDR;
    void *d = blk_new(sz, 1);
    if (!d) {
        pthread_mutex_lock(&bc.mu);
        bc.inuse -= sz;
        pthread_mutex_unlock(&bc.mu);
    }
    return d;
}

static void big_free(blk_hdr *h) {
    pthread_mutex_lock(&bc.mu);
    bc.inuse -= h->cap;
    int c = floor_class(h->cap);
    if (c >= 0 && c < N_CLASSES && bc.cached + h->cap <= cache_limit()) {
        h->next = bc.free_list[c];
        bc.free_list[c] = h;
        bc.cached += h->cap;
        h = NULL;
    }
    pthread_mutex_unlock(&bc.mu);
    if (h) blk_release(h);
}

void vx_block_cache_trim(void) {
    pthread_mutex_lock(&bc.mu);
    blk_hdr *all = NULL;
    for (int c = 0; c < N_CLASSES; c++)
        while (bc.free_list[c]) {
            blk_hdr *h = cache_pop(c);
            h->next = all;
            all = h;
        }
    bc.peak_inuse = bc.inuse;
    pthread_mutex_unlock(&bc.mu);
    for (blk_hdr *nx; all; all = nx) {
        nx = all->next;
        blk_release(all);
    }
}

void vx_block_cache_get_stats(vx_block_cache_stats *s) {
    pthread_mutex_lock(&bc.mu);
    *s = bc.st;
    s->cached_bytes = bc.cached;
    s->inuse_bytes = bc.inuse;
    s->peak_inuse_bytes = bc.peak_inuse;
    pthread_mutex_unlock(&bc.mu);
}

static void *alloc_raw(size_t bytes);

/* Debug builds (the sanitizer suite) fill every uninitialized block with NaNs, so a
 * kernel that reads output memory it did not write fails the reference tests instead
 * of silently depending on what a recycled block held before. */
void *vx_aligned_alloc_raw(size_t bytes) {
    void *d = alloc_raw(bytes);
#ifndef NDEBUG
    if (d && bytes) memset(d, 0xff, bytes);
#endif
    return d;
}

static void *alloc_raw(size_t bytes) {
    if (bytes > ((size_t)1 << 40)) return NULL;
    size_t sz;
    int c = class_of(bytes, &sz);
    vx_bufpool *p = tl_pool;
    if (!p) return blk_new(sz, 0);
    if (sz >= BIG_BLOCK && cache_limit() > 0) return big_alloc(sz, c);
    /* the exact class, else a slightly larger one (<= ~25% more) */
    for (int k = c; k < c + 3 && k < N_CLASSES; k++) {
        blk_hdr *h = p->free_list[k];
        if (!h) continue;
        p->free_list[k] = h->next;
        h->next = NULL;
        p->cached -= h->cap;
        p->st.hits++;
        return (char *)h + BLK_HDR;
    }
    p->st.misses++;
    return blk_new(sz, 0);
}

void *vx_aligned_alloc(size_t bytes) {
    void *d = alloc_raw(bytes);
    if (d) memset(d, 0, bytes ? bytes : 1);
    return d;
}

void vx_aligned_free(void *d) {
    if (!d) return;
    blk_hdr *h = (blk_hdr *)((char *)d - BLK_HDR);
    if (h->cacheable) {
        big_free(h);
        return;
    }
    vx_bufpool *p = tl_pool;
    int c = p && h->cap < BIG_BLOCK ? floor_class(h->cap) : -1;
    if (c >= 0 && c < N_CLASSES) {
        h->next = p->free_list[c];
        p->free_list[c] = h;
        p->cached += h->cap;
        if (p->cached > p->st.peak_cached) p->st.peak_cached = p->cached;
        return;
    }
    blk_release(h);
}

static int tensor_alloc(vx_tensor *t, int dtype, int ndim, const int64_t *dims, int zero) {
    vx_tensor_release(t);
    size_t es = vx_dtype_size(dtype);
    if (!es || vx_tensor_set_shape(t, ndim, dims)) return -1;
    t->dtype = dtype;
    size_t bytes = (size_t)t->numel * es;
    t->data = zero ? vx_aligned_alloc(bytes) : vx_aligned_alloc_raw(bytes);
    if (!t->data) return -1;
    t->owned = 1;
    return 0;
}

int vx_tensor_alloc(vx_tensor *t, int dtype, int ndim, const int64_t *dims) {
    return tensor_alloc(t, dtype, ndim, dims, 1);
}

int vx_tensor_alloc_raw(vx_tensor *t, int dtype, int ndim, const int64_t *dims) {
    return tensor_alloc(t, dtype, ndim, dims, 0);
}

void vx_tensor_release(vx_tensor *t) {
    if (t->owned) vx_aligned_free(t->data);
    memset(t, 0, sizeof *t);
}

void vx_tensor_view(vx_tensor *dst, const vx_tensor *src) {
    *dst = *src;
    dst->owned = 0;
}

size_t vx_tensor_bytes(const vx_tensor *t) { return (size_t)t->numel * vx_dtype_size(t->dtype); }

int vx_tensor_copy(vx_tensor *dst, const vx_tensor *src) {
    vx_tensor tmp = {0};
    if (vx_tensor_alloc_raw(&tmp, src->dtype, src->ndim, src->dims)) return -1;
    if (src->numel) memcpy(tmp.data, src->data, vx_tensor_bytes(src));
    vx_tensor_release(dst);
    *dst = tmp;
    return 0;
}

int64_t vx_tensor_get_i64(const vx_tensor *t, int64_t i) {
    switch (t->dtype) {
    case VX_INT64: return ((const int64_t *)t->data)[i];
    case VX_INT32: return ((const int32_t *)t->data)[i];
    case VX_UINT32: return ((const uint32_t *)t->data)[i];
    case VX_UINT64: return (int64_t)((const uint64_t *)t->data)[i];
    case VX_INT16: return ((const int16_t *)t->data)[i];
    case VX_UINT16: return ((const uint16_t *)t->data)[i];
    case VX_INT8: return ((const int8_t *)t->data)[i];
    case VX_UINT8:
    case VX_BOOL: return ((const uint8_t *)t->data)[i];
    case VX_FLOAT: return (int64_t)((const float *)t->data)[i];
    case VX_DOUBLE: return (int64_t)((const double *)t->data)[i];
    default: return 0;
    }
}

double vx_tensor_get_f64(const vx_tensor *t, int64_t i) {
    switch (t->dtype) {
    case VX_FLOAT: return ((const float *)t->data)[i];
    case VX_DOUBLE: return ((const double *)t->data)[i];
    default: return (double)vx_tensor_get_i64(t, i);
    }
}

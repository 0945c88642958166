/* Tensor blocks: the per-run pool for small blocks and the process-wide cache of big
 * blocks (tensor.c): reuse, the peak budget (evict before growing, lend a larger block
 * before mapping a fresh one), frees from other threads, huge-block alignment, trim, and
 * concurrent use (run under ASan in CI). The cache is process state, so every check
 * looks at differences of its counters. */
#include "test.h"
#include "tensor/tensor.h"
#include <pthread.h>
#include <stdint.h>

#define MB ((size_t)1 << 20)

static vx_block_cache_stats stats(void) {
    vx_block_cache_stats s;
    vx_block_cache_get_stats(&s);
    return s;
}

static void *free_later;
static void *free_fn(void *arg) {
    (void)arg;
    vx_aligned_free(free_later);
    return NULL;
}

typedef struct {
    int id, ok;
} worker_t;
static void *worker(void *arg) {
    worker_t *w = arg;
    vx_bufpool *p = vx_bufpool_new();
    vx_bufpool_set_current(p);
    w->ok = 1;
    uint32_t s = 77u + (uint32_t)w->id;
    for (int it = 0; it < 400; it++) {
        void *b[4];
        size_t sz[4];
        for (int i = 0; i < 4; i++) {
            s = s * 1664525u + 1013904223u;
            sz[i] = (s >> 8) % (6 * MB) + 1;
            b[i] = vx_aligned_alloc_raw(sz[i]);
            if (!b[i]) {
                w->ok = 0;
                continue;
            }
            memset(b[i], w->id + i, sz[i]);
        }
        for (int i = 0; i < 4; i++) {
            if (!b[i]) continue;
            const unsigned char *c = b[i];
            w->ok &=
                c[0] == (unsigned char)(w->id + i) && c[sz[i] - 1] == (unsigned char)(w->id + i);
            vx_aligned_free(b[i]);
        }
    }
    vx_bufpool_set_current(NULL);
    vx_bufpool_free(p);
    return NULL;
}

int main(void) {
    /* Outside a run nothing is cached: blocks go straight back. */
    vx_block_cache_stats s0 = stats();
    void *a = vx_aligned_alloc(3 * MB);
    CHECK(a && (uintptr_t)a % 64 == 0);
    vx_aligned_free(a);
    vx_block_cache_stats s1 = stats();
    CHECK_EQ_INT(s1.cached_bytes, s0.cached_bytes);
    CHECK_EQ_INT(s1.misses, s0.misses);

    vx_bufpool *p = vx_bufpool_new();
    CHECK(p != NULL);
    vx_bufpool_set_current(p);

    /* zeroed allocation really is zero, also for a reused block */
    unsigned char *z = vx_aligned_alloc(MB);
    memset(z, 0xab, MB);
    vx_aligned_free(z);
    z = vx_aligned_alloc(MB);
    int allzero = 1;
    for (size_t i = 0; i < MB; i++) allzero &= z[i] == 0;
    CHECK(allzero);
    vx_aligned_free(z);

    /* reuse: the same size comes back as the same block (a hit) */
    vx_block_cache_trim();
    s0 = stats();
    void *b1 = vx_aligned_alloc_raw(2 * MB);
    vx_aligned_free(b1);
    void *b2 = vx_aligned_alloc_raw(2 * MB - 1000);
    CHECK(b1 == b2);
    s1 = stats();
    CHECK_EQ_INT(s1.misses - s0.misses, 1);
    CHECK_EQ_INT(s1.hits - s0.hits, 1);
    CHECK_EQ_INT(s1.inuse_bytes - s0.inuse_bytes, 2 * MB);
    vx_aligned_free(b2);

    /* budget: after trim the peak is what is in use (0); a 1 MiB block is cached, then
     * an 8 MiB one would hold 9 MiB where the peak in use is 8: the 1 MiB is evicted */
    vx_block_cache_trim();
    s0 = stats();
    CHECK_EQ_INT(s0.cached_bytes, 0);
    void *sm = vx_aligned_alloc_raw(MB);
    vx_aligned_free(sm);
    CHECK_EQ_INT(stats().cached_bytes, MB);
    void *big = vx_aligned_alloc_raw(8 * MB);
    s1 = stats();
    CHECK_EQ_INT(s1.evicted_bytes - s0.evicted_bytes, MB);
    CHECK_EQ_INT(s1.cached_bytes, 0);
    CHECK_EQ_INT(s1.peak_inuse_bytes, 8 * MB);
    /* huge blocks start on a 2 MiB boundary and are fully writable */
    CHECK((uintptr_t)big % (2 * MB) == 0);
    memset(big, 1, 8 * MB);
    vx_aligned_free(big);

    /* lending: with the 8 MiB block cached and the peak at 8 MiB, a fresh 1 MiB block
     * would raise the total: the 8 MiB one is lent instead */
    s0 = stats();
    void *lent = vx_aligned_alloc_raw(MB);
    s1 = stats();
    CHECK(lent == big);
    CHECK_EQ_INT(s1.lent_larger - s0.lent_larger, 1);
    CHECK_EQ_INT(s1.inuse_bytes, 8 * MB);
    vx_aligned_free(lent);

    /* a block freed on another thread (no pool current there) returns to the cache */
    vx_block_cache_trim();
    free_later = vx_aligned_alloc_raw(5 * MB);
    pthread_t th;
    pthread_create(&th, NULL, free_fn, NULL);
    pthread_join(th, NULL);
    s1 = stats();
    CHECK_EQ_INT(s1.inuse_bytes, 0);
    CHECK(s1.cached_bytes >= 5 * MB);

    /* small blocks stay in the run pool, not in the process cache */
    s0 = stats();
    void *small = vx_aligned_alloc_raw(1000);
    vx_aligned_free(small);
    void *small2 = vx_aligned_alloc_raw(1000);
    CHECK(small == small2);
    vx_aligned_free(small2);
    s1 = stats();
    CHECK_EQ_INT(s1.hits + s1.misses, s0.hits + s0.misses);

    vx_bufpool_set_current(NULL);
    vx_bufpool_free(p);

    /* concurrent runs sharing the cache: every block intact, nothing left in use, and
     * the cache never holds more than the peak in use */
    worker_t w[3];
    pthread_t tw[3];
    for (int i = 0; i < 3; i++) {
        w[i].id = i;
        pthread_create(&tw[i], NULL, worker, &w[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(tw[i], NULL);
        CHECK(w[i].ok);
    }
    s1 = stats();
    CHECK_EQ_INT(s1.inuse_bytes, 0);
    CHECK(s1.cached_bytes <= s1.peak_inuse_bytes);

    vx_block_cache_trim();
    s1 = stats();
    CHECK_EQ_INT(s1.cached_bytes, 0);
    CHECK_EQ_INT(s1.peak_inuse_bytes, 0);
    TEST_SUMMARY();
}

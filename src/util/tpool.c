/* Persistent thread pool (see pool.h).
 *
 * One job slot. The job is published through a 64-bit "ticket":
 *   gen (32 bits) | n_chunks (16 bits) | next chunk index (16 bits)
 * Threads claim chunk indices with a CAS on the ticket, so a thread holding a stale
 * view of an older job can never claim a chunk of a newer one; and the job's fields
 * (fn, arg, n) are read only after a successful claim, at which point the job cannot
 * complete (the claimed chunk is not yet counted in `done`), so they are stable.
 * The submitter publishes, runs chunks itself, then waits for done == n_chunks.
 * Idle workers spin for a short while, then sleep on a futex (wake_seq). */
#include "util/tpool.h"
#include "vox.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define cpu_relax() __asm__ __volatile__("" ::: "memory")
#endif

#define MAX_CHUNKS 4096
#define SPIN_IDLE  4000 /* pause iterations before a worker sleeps (~50-100 us) */

struct vx_tpool {
    int n_threads;
    pthread_t *th;
    int n_started;
    /* job */
    vx_tpool_fn fn;
    void *arg;
    int64_t n;
    uint64_t ticket; /* atomic */
    int done;        /* atomic: finished chunks */
    uint32_t gen;    /* submitter-only */
    int busy;        /* atomic: a job is in flight */
    /* sleeping */
    int wake_seq; /* atomic futex word */
    int sleepers; /* atomic */
    int quit;     /* atomic */
};

static long futex(int *addr, int op, int val) {
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

static inline int claimable(uint64_t t) { return (t & 0xffff) < ((t >> 16) & 0xffff); }

/* Runs chunks of the current job until none are left; returns whether any ran. */
static int run_chunks(vx_tpool *p) {
    int worked = 0;
    for (;;) {
        uint64_t t = __atomic_load_n(&p->ticket, __ATOMIC_ACQUIRE);
        if (!claimable(t)) return worked;
        if (!__atomic_compare_exchange_n(&p->ticket, &t, t + 1, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        int64_t i = (int64_t)(t & 0xffff), nch = (int64_t)((t >> 16) & 0xffff);
        int64_t n = p->n;
        int64_t b = n * i / nch, e = n * (i + 1) / nch;
        if (e > b) p->fn(p->arg, b, e);
        __atomic_fetch_add(&p->done, 1, __ATOMIC_RELEASE);
        worked = 1;
    }
}

static void *worker(void *arg) {
    vx_tpool *p = arg;
    for (;;) {
        if (__atomic_load_n(&p->quit, __ATOMIC_ACQUIRE)) break;
        if (run_chunks(p)) continue;
        int found = 0;
        for (int i = 0; i < SPIN_IDLE; i++) {
            if (claimable(__atomic_load_n(&p->ticket, __ATOMIC_ACQUIRE)) ||
                __atomic_load_n(&p->quit, __ATOMIC_ACQUIRE)) {
                found = 1;
                break;
            }
            cpu_relax();
        }
        if (found) continue;
        __atomic_fetch_add(&p->sleepers, 1, __ATOMIC_SEQ_CST);
        int seq = __atomic_load_n(&p->wake_seq, __ATOMIC_SEQ_CST);
        if (!claimable(__atomic_load_n(&p->ticket, __ATOMIC_SEQ_CST)) &&
            !__atomic_load_n(&p->quit, __ATOMIC_SEQ_CST))
            futex(&p->wake_seq, FUTEX_WAIT_PRIVATE, seq);
        __atomic_fetch_sub(&p->sleepers, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void wake_all(vx_tpool *p) {
    __atomic_fetch_add(&p->wake_seq, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&p->sleepers, __ATOMIC_SEQ_CST) > 0)
        futex(&p->wake_seq, FUTEX_WAKE_PRIVATE, INT_MAX);
}

vx_tpool *vx_tpool_create(int n_threads) {
    if (n_threads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = c > 0 ? (int)c : 1;
    }
    if (n_threads > 256) n_threads = 256;
    vx_tpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n_threads = n_threads;
    if (n_threads > 1) {
        p->th = calloc((size_t)(n_threads - 1), sizeof *p->th);
        if (!p->th) {
            free(p);
            return NULL;
        }
        for (int i = 0; i < n_threads - 1; i++) {
            if (pthread_create(&p->th[i], NULL, worker, p)) {
                vx_tpool_free(p);
                return NULL;
            }
            p->n_started++;
        }
    }
    return p;
}

void vx_tpool_free(vx_tpool *p) {
    if (!p) return;
    __atomic_store_n(&p->quit, 1, __ATOMIC_SEQ_CST);
    wake_all(p);
    for (int i = 0; i < p->n_started; i++) pthread_join(p->th[i], NULL);
    free(p->th);
    free(p);
}

int vx_tpool_threads(const vx_tpool *p) { return p ? p->n_threads : 1; }

void vx_tpool_for_chunks(vx_tpool *p, int64_t n, int64_t n_chunks, vx_tpool_fn fn, void *arg) {
    if (n <= 0) return;
    if (n_chunks > n) n_chunks = n;
    if (n_chunks > MAX_CHUNKS) n_chunks = MAX_CHUNKS;
    int expected = 0;
    if (!p || p->n_threads <= 1 || n_chunks <= 1 ||
        !__atomic_compare_exchange_n(&p->busy, &expected, 1, 0, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED)) {
        fn(arg, 0, n); /* no pool, nothing to split, or busy (concurrent / nested) */
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    __atomic_store_n(&p->done, 0, __ATOMIC_RELAXED);
    p->gen++;
    uint64_t t = ((uint64_t)p->gen << 32) | ((uint64_t)n_chunks << 16);
    __atomic_store_n(&p->ticket, t, __ATOMIC_SEQ_CST);
    wake_all(p);
    run_chunks(p);
    for (int spins = 0; __atomic_load_n(&p->done, __ATOMIC_ACQUIRE) < n_chunks; spins++) {
        if (spins < 100000)
            cpu_relax();
        else
            sched_yield();
    }
    __atomic_store_n(&p->busy, 0, __ATOMIC_RELEASE);
}

void vx_tpool_for(vx_tpool *p, int64_t n, vx_tpool_fn fn, void *arg) {
    vx_tpool_for_chunks(p, n, (int64_t)vx_tpool_threads(p) * 4, fn, arg);
}

/*
 * pool.h — the synthesis worker pool: a queue of intrusive task nodes served by N threads,
 * and a completion list handed back to the event loop through a uv_async_t.
 * Nodes live inside the jobs that own them, so queueing never allocates.
 *
 * Order: earliest deadline first. Each node carries the time by which its result is
 * needed (speech.c: a request's first sentence at its arrival, a later sentence when the
 * audio before it has played); nodes with equal deadlines run in the order pushed.
 *
 * Exclusive runs: a worker that finds the pool otherwise idle (no other worker running,
 * nothing queued) may take every core for its current task; until it ends that, the
 * other workers take nothing, so at most `workers` threads ever compute at once.
 */
#ifndef VX_POOL_H
#define VX_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct vx_node {
    struct vx_node *next;      /* completion list; sibling link while queued */
    struct vx_node *child;     /* while queued: first child in the pairing heap */
    int kind;
    size_t idx;
    void *job;
    double deadline;           /* queue key: earliest first (vx_now() seconds) */
    uint64_t seq;              /* set by push: ties run in push order */
} vx_node;

typedef struct vx_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    vx_node *heap;             /* queued nodes: a pairing heap on (deadline, seq) */
    uint64_t seq;
    atomic_int depth;          /* queued, not yet taken */
    atomic_int busy;           /* being run */
    int exclusive;             /* a worker holds every core: the others wait */
    int stop;
    pthread_t *threads;
    int n_threads;
    void (*run)(struct vx_pool *p, vx_node *n);
    void *ctx;
    /* completions */
    pthread_mutex_t dmu;
    vx_node *dhead, *dtail;
    uv_async_t *async;
} vx_pool;

int vx_pool_start(vx_pool *p, int n_threads, void (*run)(vx_pool *, vx_node *), void *ctx,
                  uv_async_t *async);
/* Queue n by n->deadline (set it first). Any thread. */
void vx_pool_push(vx_pool *p, vx_node *n);
/* From a worker, inside run(): if no other worker is running and nothing is queued, claim
 * the whole machine (the other workers take no task until vx_pool_end_exclusive) and
 * return 1; else 0. */
int vx_pool_try_exclusive(vx_pool *p);
void vx_pool_end_exclusive(vx_pool *p);
/* From a worker: hand a finished node back to the loop. */
void vx_pool_done(vx_pool *p, vx_node *n);
/* On the loop: take every completion, oldest first. */
vx_node *vx_pool_take_done(vx_pool *p);
/* Let the workers finish what is queued, then join them. */
void vx_pool_stop(vx_pool *p);

#endif

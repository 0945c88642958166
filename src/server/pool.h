/*
 * pool.h — the synthesis worker pool: a FIFO of intrusive task nodes served by N threads,
 * and a completion list handed back to the event loop through a uv_async_t.
 * Nodes live inside the jobs that own them, so queueing never allocates.
 */
#ifndef VX_POOL_H
#define VX_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <uv.h>

typedef struct vx_node {
    struct vx_node *next;
    int kind;
    size_t idx;
    void *job;
} vx_node;

typedef struct vx_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    vx_node *head, *tail;
    atomic_int depth;          /* queued, not yet taken */
    atomic_int busy;           /* being run */
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
void vx_pool_push(vx_pool *p, vx_node *n);
/* Queue ahead of everything waiting: the rest of an already-started request. */
void vx_pool_push_front(vx_pool *p, vx_node *n);
/* From a worker: hand a finished node back to the loop. */
void vx_pool_done(vx_pool *p, vx_node *n);
/* On the loop: take every completion, oldest first. */
vx_node *vx_pool_take_done(vx_pool *p);
/* Let the workers finish what is queued, then join them. */
void vx_pool_stop(vx_pool *p);

#endif

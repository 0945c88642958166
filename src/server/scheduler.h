/*
 * scheduler.h — voxd's synthesis scheduler (vx_sched; the engine's thread pool is the other,
 * unrelated vx_pool): a queue of intrusive tasks served by N worker threads, and a
 * completion list handed back to the event loop through a uv_async_t.
 * Tasks live inside the jobs that own them, so queueing never allocates.
 * (Not "sched.h": src/server is on the include path, and the system <sched.h> must win.)
 *
 * Order: earliest deadline first. Each task carries the time by which its result is
 * needed (speech.c: a request's first sentence at its arrival, a later sentence when the
 * audio before it has played); tasks with equal deadlines run in the order pushed.
 *
 * Exclusive runs: a worker that finds the pool otherwise idle (no other worker running,
 * nothing queued) may take every core for its current task; until it ends that, the
 * other workers take nothing, so at most `workers` threads ever compute at once.
 */
#ifndef VX_SCHEDULER_H
#define VX_SCHEDULER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct vx_task {
    struct vx_task *next;  /* completion list; sibling link while queued */
    struct vx_task *child; /* while queued: first child in the pairing heap */
    int kind;
    size_t idx;
    void *job;
    double deadline; /* queue key: earliest first (vx_now() seconds) */
    uint64_t seq;    /* set by push: ties run in push order */
} vx_task;

typedef struct vx_sched {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    vx_task *heap; /* queued tasks: a pairing heap on (deadline, seq) */
    uint64_t seq;
    atomic_int depth; /* queued, not yet taken */
    atomic_int busy;  /* being run */
    int exclusive;    /* a worker holds every core: the others wait */
    int stop;
    pthread_t *threads;
    int n_threads;
    void (*run)(struct vx_sched *p, vx_task *n);
    void *ctx;
    /* completions */
    pthread_mutex_t dmu;
    vx_task *dhead, *dtail;
    uv_async_t *async;
} vx_sched;

int vx_sched_start(vx_sched *p, int n_threads, void (*run)(vx_sched *, vx_task *), void *ctx,
                   uv_async_t *async);
/* Queue n by n->deadline (set it first). Any thread. */
void vx_sched_push(vx_sched *p, vx_task *n);
/* From a worker, inside run(): if no other worker is running and nothing is queued, claim
 * the whole machine (the other workers take no task until vx_sched_end_exclusive) and
 * return 1; else 0. */
int vx_sched_try_exclusive(vx_sched *p);
void vx_sched_end_exclusive(vx_sched *p);
/* From a worker: hand a finished task back to the loop. */
void vx_sched_done(vx_sched *p, vx_task *n);
/* On the loop: take every completion, oldest first. */
vx_task *vx_sched_take_done(vx_sched *p);
/* Let the workers finish what is queued, then join them. vx_sched_take_done still works
 * afterwards, so the loop can drain the last completions. */
void vx_sched_stop(vx_sched *p);

#endif

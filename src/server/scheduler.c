/* scheduler.c — worker threads, deadline order and completion hand-off. See scheduler.h. */
#include "scheduler.h"

#include <stdlib.h>

/* ------------------------------------------------------------ pairing heap
 * Intrusive (child / next links in the task), no allocation, O(1) push and O(log n)
 * amortized pop: queues stay cheap however many requests are admitted. */

static int before(const vx_task *a, const vx_task *b) {
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

/* Two roots (next == NULL) into one. */
static vx_task *meld(vx_task *a, vx_task *b) {
    if (!a) return b;
    if (!b) return a;
    if (before(b, a)) {
        vx_task *t = a;
        a = b;
        b = t;
    }
    b->next = a->child;
    a->child = b;
    return a;
}

/* The children of a popped root (a list through next) into one heap: meld them in pairs
 * left to right, then the pairs right to left. */
static vx_task *merge_pairs(vx_task *list) {
    vx_task *pairs = NULL; /* melded pairs, last first (a stack through next) */
    while (list) {
        vx_task *a = list, *b = a->next;
        list = b ? b->next : NULL;
        a->next = NULL;
        if (b) b->next = NULL;
        vx_task *m = meld(a, b);
        m->next = pairs;
        pairs = m;
    }
    vx_task *root = NULL;
    while (pairs) {
        vx_task *n = pairs->next;
        pairs->next = NULL;
        root = meld(root, pairs);
        pairs = n;
    }
    return root;
}

static vx_task *heap_pop(vx_sched *p) {
    vx_task *n = p->heap;
    if (!n) return NULL;
    p->heap = merge_pairs(n->child);
    n->child = n->next = NULL;
    return n;
}

/* ------------------------------------------------------------ workers */

static void *worker_main(void *arg) {
    vx_sched *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->exclusive || (!p->heap && !p->stop)) pthread_cond_wait(&p->cv, &p->mu);
        vx_task *n = heap_pop(p);
        if (!n) { /* stop requested and nothing left */
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        atomic_fetch_sub(&p->depth, 1);
        atomic_fetch_add(&p->busy, 1);
        pthread_mutex_unlock(&p->mu);
        p->run(p, n);
        atomic_fetch_sub(&p->busy, 1);
    }
}

int vx_sched_start(vx_sched *p, int n_threads, void (*run)(vx_sched *, vx_task *), void *ctx,
                   uv_async_t *async) {
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_mutex_init(&p->dmu, NULL);
    p->heap = NULL;
    p->seq = 0;
    p->dhead = p->dtail = NULL;
    atomic_init(&p->depth, 0);
    atomic_init(&p->busy, 0);
    p->exclusive = 0;
    p->stop = 0;
    p->run = run;
    p->ctx = ctx;
    p->async = async;
    p->threads = calloc((size_t)n_threads, sizeof(pthread_t));
    if (!p->threads) return -1;
    p->n_threads = 0;
    for (int i = 0; i < n_threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p)) break;
        p->n_threads++;
    }
    return p->n_threads ? 0 : -1;
}

void vx_sched_push(vx_sched *p, vx_task *n) {
    n->next = n->child = NULL;
    pthread_mutex_lock(&p->mu);
    n->seq = p->seq++;
    p->heap = meld(p->heap, n);
    atomic_fetch_add(&p->depth, 1);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

int vx_sched_try_exclusive(vx_sched *p) {
    pthread_mutex_lock(&p->mu);
    /* busy counts the caller; a worker still finishing counts too (then: no). Workers
     * take tasks under mu and check `exclusive` first, so none starts after this. */
    int ok = !p->exclusive && !p->heap && atomic_load(&p->busy) == 1;
    if (ok) p->exclusive = 1;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

void vx_sched_end_exclusive(vx_sched *p) {
    pthread_mutex_lock(&p->mu);
    p->exclusive = 0;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void vx_sched_done(vx_sched *p, vx_task *n) {
    n->next = NULL;
    pthread_mutex_lock(&p->dmu);
    if (p->dtail)
        p->dtail->next = n;
    else
        p->dhead = n;
    p->dtail = n;
    pthread_mutex_unlock(&p->dmu);
    if (p->async) uv_async_send(p->async);
}

vx_task *vx_sched_take_done(vx_sched *p) {
    pthread_mutex_lock(&p->dmu);
    vx_task *n = p->dhead;
    p->dhead = p->dtail = NULL;
    pthread_mutex_unlock(&p->dmu);
    return n;
}

void vx_sched_stop(vx_sched *p) {
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_threads; i++) pthread_join(p->threads[i], NULL);
    free(p->threads);
    p->threads = NULL;
    p->n_threads = 0;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    /* dmu stays: the loop drains the done list after the workers are joined (on_async in
     * stop_loop, and any async callback still pending). A default mutex holds no
     * resources, so it is never destroyed. */
}

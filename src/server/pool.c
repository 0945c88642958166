/* pool.c — worker threads and completion hand-off. See pool.h. */
#include "pool.h"

#include <stdlib.h>

static void *worker_main(void *arg) {
    vx_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->stop) pthread_cond_wait(&p->cv, &p->mu);
        vx_node *n = p->head;
        if (!n) { /* stop requested and nothing left */
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        p->head = n->next;
        if (!p->head) p->tail = NULL;
        n->next = NULL;
        atomic_fetch_sub(&p->depth, 1);
        atomic_fetch_add(&p->busy, 1);
        pthread_mutex_unlock(&p->mu);
        p->run(p, n);
        atomic_fetch_sub(&p->busy, 1);
    }
}

int vx_pool_start(vx_pool *p, int n_threads, void (*run)(vx_pool *, vx_node *), void *ctx,
                  uv_async_t *async) {
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_mutex_init(&p->dmu, NULL);
    p->head = p->tail = p->dhead = p->dtail = NULL;
    atomic_init(&p->depth, 0);
    atomic_init(&p->busy, 0);
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

void vx_pool_push(vx_pool *p, vx_node *n) {
    n->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->tail) p->tail->next = n;
    else p->head = n;
    p->tail = n;
    atomic_fetch_add(&p->depth, 1);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void vx_pool_push_front(vx_pool *p, vx_node *n) {
    pthread_mutex_lock(&p->mu);
    n->next = p->head;
    p->head = n;
    if (!p->tail) p->tail = n;
    atomic_fetch_add(&p->depth, 1);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void vx_pool_done(vx_pool *p, vx_node *n) {
    n->next = NULL;
    pthread_mutex_lock(&p->dmu);
    if (p->dtail) p->dtail->next = n;
    else p->dhead = n;
    p->dtail = n;
    pthread_mutex_unlock(&p->dmu);
    uv_async_send(p->async);
}

vx_node *vx_pool_take_done(vx_pool *p) {
    pthread_mutex_lock(&p->dmu);
    vx_node *n = p->dhead;
    p->dhead = p->dtail = NULL;
    pthread_mutex_unlock(&p->dmu);
    return n;
}

void vx_pool_stop(vx_pool *p) {
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
    pthread_mutex_destroy(&p->dmu);
}

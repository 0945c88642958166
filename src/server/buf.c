/* buf.c — byte buffers and their pool. See buf.h. */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

void vx_buf_pool_init(vx_buf_pool *p) {
    pthread_mutex_init(&p->mu, NULL);
    p->head = NULL;
    p->n = 0;
}

vx_buf *vx_buf_get(vx_buf_pool *p) {
    pthread_mutex_lock(&p->mu);
    vx_buf *b = p->head;
    if (b) {
        p->head = b->next;
        p->n--;
    }
    pthread_mutex_unlock(&p->mu);
    if (!b) {
        b = calloc(1, sizeof(*b));
        if (!b) return NULL;
    }
    b->len = 0;
    b->next = NULL;
    b->pool = p;
    return b;
}

void vx_buf_put(vx_buf *b) {
    if (!b) return;
    vx_buf_pool *p = b->pool;
    if (p) {
        pthread_mutex_lock(&p->mu);
        if (p->n < VX_BUF_POOL_MAX && b->cap <= VX_BUF_KEEP_MAX) {
            b->next = p->head;
            p->head = b;
            p->n++;
            b = NULL;
        }
        pthread_mutex_unlock(&p->mu);
    }
    if (b) {
        free(b->data);
        free(b);
    }
}

void vx_buf_pool_drain(vx_buf_pool *p) {
    pthread_mutex_lock(&p->mu);
    vx_buf *b = p->head;
    p->head = NULL;
    p->n = 0;
    pthread_mutex_unlock(&p->mu);
    while (b) {
        vx_buf *n = b->next;
        free(b->data);
        free(b);
        b = n;
    }
    pthread_mutex_destroy(&p->mu);
}

int vx_buf_reserve(vx_buf *b, size_t extra) {
    if (extra > VX_BUF_MAX || b->len + extra > VX_BUF_MAX) return -1;
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

int vx_buf_append(vx_buf *b, const void *p, size_t n) {
    if (vx_buf_reserve(b, n)) return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/*
 * buf.h — voxd's growable byte buffers and the pool they are recycled through, so in
 * steady state a request allocates nothing for bodies, audio or output. The pool is a
 * field of the server state (vx_server.bufs); a buffer goes back to the pool it came from.
 * Thread-safe: workers take buffers for audio, the loop returns them.
 */
#ifndef VX_BUF_H
#define VX_BUF_H

#include <pthread.h>
#include <stddef.h>

#define VX_BUF_POOL_MAX 128               /* buffers kept for reuse */
#define VX_BUF_KEEP_MAX (1u << 20)        /* a buffer larger than this is freed, not pooled */
#define VX_BUF_MAX      ((size_t)1 << 31) /* no buffer grows past this (then: out of memory) */

typedef struct vx_buf_pool vx_buf_pool;

typedef struct vx_buf {
    char *data;
    size_t len, cap;
    struct vx_buf *next; /* pool free list */
    vx_buf_pool *pool;   /* where vx_buf_put returns it; NULL: freed */
} vx_buf;

struct vx_buf_pool {
    pthread_mutex_t mu;
    vx_buf *head;
    int n;
};

void vx_buf_pool_init(vx_buf_pool *p);
void vx_buf_pool_drain(vx_buf_pool *p);      /* free the pooled buffers (at exit) */
vx_buf *vx_buf_get(vx_buf_pool *p);          /* empty buffer, or NULL (no memory) */
void vx_buf_put(vx_buf *b);                  /* back to its pool; NULL is fine */
int vx_buf_reserve(vx_buf *b, size_t extra); /* 0 or -1 (no memory, or past VX_BUF_MAX) */
int vx_buf_append(vx_buf *b, const void *p, size_t n);

#endif

/* engine.c — buffer pool, cancellation control and the voice registry. See engine.h. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ buffers */

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static vx_buf *pool_head;
static int pool_n;

vx_buf *vx_buf_get(void) {
    pthread_mutex_lock(&pool_mu);
    vx_buf *b = pool_head;
    if (b) {
        pool_head = b->next;
        pool_n--;
    }
    pthread_mutex_unlock(&pool_mu);
    if (!b) {
        b = calloc(1, sizeof(*b));
        if (!b) return NULL;
    }
    b->len = 0;
    b->next = NULL;
    return b;
}

void vx_buf_put(vx_buf *b) {
    if (!b) return;
    pthread_mutex_lock(&pool_mu);
    if (pool_n < VX_BUF_POOL_MAX && b->cap <= VX_BUF_KEEP_MAX) {
        b->next = pool_head;
        pool_head = b;
        pool_n++;
        b = NULL;
    }
    pthread_mutex_unlock(&pool_mu);
    if (b) {
        free(b->data);
        free(b);
    }
}

void vx_buf_pool_drain(void) {
    pthread_mutex_lock(&pool_mu);
    vx_buf *b = pool_head;
    pool_head = NULL;
    pool_n = 0;
    pthread_mutex_unlock(&pool_mu);
    while (b) {
        vx_buf *n = b->next;
        free(b->data);
        free(b);
        b = n;
    }
}

int vx_buf_reserve(vx_buf *b, size_t extra) {
    if (extra > ((size_t)1 << 31) || b->len + extra > ((size_t)1 << 31)) return -1;
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

/* ------------------------------------------------------------ cancellation */

void vx_ctl_init(vx_ctl *c) {
    pthread_mutex_init(&c->mu, NULL);
    atomic_init(&c->cancelled, 0);
    c->fn = NULL;
    c->arg = NULL;
}

void vx_ctl_destroy(vx_ctl *c) { pthread_mutex_destroy(&c->mu); }

int vx_ctl_arm(vx_ctl *c, void (*fn)(void *), void *arg) {
    pthread_mutex_lock(&c->mu);
    int cancelled = atomic_load(&c->cancelled);
    if (!cancelled) {
        c->fn = fn;
        c->arg = arg;
    }
    pthread_mutex_unlock(&c->mu);
    return cancelled ? -1 : 0;
}

void vx_ctl_disarm(vx_ctl *c) {
    pthread_mutex_lock(&c->mu);
    c->fn = NULL;
    c->arg = NULL;
    pthread_mutex_unlock(&c->mu);
}

void vx_ctl_cancel(vx_ctl *c) {
    pthread_mutex_lock(&c->mu);
    atomic_store(&c->cancelled, 1);
    if (c->fn) c->fn(c->arg);
    pthread_mutex_unlock(&c->mu);
}

/* ------------------------------------------------------------ voice registry */

void vx_voices_init(vx_voices *vs, vx_engine *e) {
    memset(vs, 0, sizeof(*vs));
    pthread_mutex_init(&vs->mu, NULL);
    pthread_mutex_init(&vs->load_mu, NULL);
    vs->engine = e;
    atomic_init(&vs->n, 0);
}

void vx_voices_free(vx_voices *vs) {
    int n = atomic_load(&vs->n);
    for (int i = 0; i < n; i++) vs->engine->free_voice(vs->engine, vs->ents[i].voice);
    atomic_store(&vs->n, 0);
    pthread_mutex_destroy(&vs->mu);
    pthread_mutex_destroy(&vs->load_mu);
}

vx_voice_ent *vx_voices_find(vx_voices *vs, const char *name) {
    /* Entries are written before n is published (release/acquire): no lock needed. */
    int n = atomic_load_explicit(&vs->n, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (!strcmp(vs->ents[i].meta.name, name)) return &vs->ents[i];
    return NULL;
}

int vx_voices_get(vx_voices *vs, const char *name, vx_voice_ent **out, char *err,
                  size_t errlen) {
    if ((*out = vx_voices_find(vs, name))) return VOX_OK;
    if (!vx_voice_name_ok(name)) {
        snprintf(err, errlen, "voice '%.100s' not found", name);
        return VOX_ERR_NOT_FOUND;
    }
    pthread_mutex_lock(&vs->load_mu);
    int rc = VOX_OK;
    if (!(*out = vx_voices_find(vs, name))) {
        int n = atomic_load(&vs->n);
        if (n >= VX_MAX_VOICES) {
            snprintf(err, errlen, "too many voices loaded (limit %d)", VX_MAX_VOICES);
            rc = VOX_ERR_NOMEM;
        } else {
            vx_voice_ent *e = &vs->ents[n];
            memset(e, 0, sizeof(*e));
            rc = vs->engine->load(vs->engine, name, &e->voice, &e->meta, err, errlen);
            if (rc == VOX_OK) {
                /* Registered under the requested name so lookups hit next time. */
                snprintf(e->meta.name, sizeof(e->meta.name), "%s", name);
                atomic_store_explicit(&vs->n, n + 1, memory_order_release);
                *out = e;
            }
        }
    }
    pthread_mutex_unlock(&vs->load_mu);
    return rc;
}

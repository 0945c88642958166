/* backend.c — synthesis parameters and the cancellation control shared by voxd's backends. */
#include "backend.h"

#include <string.h>

void vx_synth_params_init(vx_synth_params *p) {
    memset(p, 0, sizeof(*p));
    p->speaker_id = -1;
    p->speed = 1.0f;
    p->noise_scale = p->noise_w = p->length_scale = p->sentence_silence = -1.0f;
    p->text_norm = 1;
    p->loudness = -1;
    p->chunk_frames = -1;
}

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

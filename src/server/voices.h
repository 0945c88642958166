/*
 * voices.h — voxd's voice registry (voices loaded through the backend, by name) and the
 * scan of the data dirs for voices not loaded yet.
 *
 * Threads: loads run on worker threads, lookups and listings on the event loop too. Every
 * read or write of the table is under `mu` (short: a load itself runs outside it, under
 * `load_mu`); code walking ents[0..n) takes vx_voices_lock and skips slots not `live`.
 *
 * Eviction: the table holds VX_MAX_VOICES voices. When it is full and another voice is
 * asked for, the least recently used voice that nobody holds (refs == 0) is unloaded to
 * make room; if every voice is held, the request fails (VOX_ERR_NOMEM, 503). A job holds
 * its voice from vx_voices_get until vx_voices_put (job_free); voices loaded at start-up
 * (default voice, --preload) keep the start-up reference, so they are never evicted.
 */
#ifndef VX_VOICES_H
#define VX_VOICES_H

#include <pthread.h>
#include <stdatomic.h>

#include "backend.h"

#define VX_MAX_VOICES 64

typedef struct vx_voice_ent {
    vx_voice_meta meta;
    void *voice;
    int live;                /* slot holds a loaded voice (else free or being filled) */
    int refs;                /* holders (jobs, start-up): never evicted while > 0 */
    unsigned long long used; /* vs->tick at the last vx_voices_get: the LRU order */
} vx_voice_ent;

typedef struct vx_voices {
    pthread_mutex_t mu;      /* guards n, ents, tick, evicted */
    pthread_mutex_t load_mu; /* serializes loads so a voice is loaded once */
    vx_backend *backend;
    vx_voice_ent ents[VX_MAX_VOICES];
    atomic_int n;            /* slots ever used (high-water mark); read under mu */
    unsigned long long tick; /* use counter for the LRU order */
    unsigned long evicted;   /* voices unloaded to make room, since start */
} vx_voices;

void vx_voices_init(vx_voices *vs, vx_backend *b);
void vx_voices_free(vx_voices *vs);
/* Whether a voice of that name is loaded now (it may be evicted right after: a yes/no only,
 * the entry is not held). Takes the lock: not under vx_voices_lock. */
int vx_voices_loaded(vx_voices *vs, const char *name);
/* Find or load (worker threads), and hold it: *out stays valid until vx_voices_put. Returns
 * a VOX_ERR_* code on failure (nothing held then). */
int vx_voices_get(vx_voices *vs, const char *name, vx_voice_ent **out, char *err, size_t errlen);
/* Drop a hold taken by vx_voices_get (any thread; NULL is a no-op). */
void vx_voices_put(vx_voices *vs, vx_voice_ent *e);
/* Walking ents[0..n) (listings): under the lock, skipping slots not live; the lock is short,
 * do not call other vx_voices_* functions inside. */
void vx_voices_lock(vx_voices *vs);
void vx_voices_unlock(vx_voices *vs);

/* Each Piper voice (<name>.onnx with <name>.onnx.json) in dirs that is not loaded yet, with
 * its config's speaker names in id order (valid during the call). At most 256 a scan. */
typedef void (*vx_voice_found_fn)(void *ctx, const vx_voice_meta *m, const char *const *speakers,
                                  int n_speakers);
void vx_voices_scan(vx_voices *vs, const char *const *dirs, int n_dirs, vx_voice_found_fn found,
                    void *ctx);

#endif

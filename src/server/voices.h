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
#include "espeak_names.h"

#define VX_MAX_VOICES 64
#define VX_MAX_FAILED 32 /* load errors remembered for the listing (the latest ones) */

typedef struct vx_voice_ent {
    vx_voice_meta meta;
    void *voice;
    int live;                /* slot holds a loaded voice (else free or being filled) */
    int refs;                /* holders (jobs, start-up): never evicted while > 0 */
    unsigned long long used; /* vs->tick at the last vx_voices_get: the LRU order */
} vx_voice_ent;

/* A voice that failed to load, and why (the listing marks it; a later load may succeed). */
typedef struct vx_voice_failure {
    char name[VX_VOICE_NAME_MAX];
    char err[256];
} vx_voice_failure;

typedef struct vx_voices {
    pthread_mutex_t mu;      /* guards n, ents, tick, evicted */
    pthread_mutex_t load_mu; /* serializes loads so a voice is loaded once */
    vx_backend *backend;
    vx_voice_ent ents[VX_MAX_VOICES];
    atomic_int n;                           /* slots ever used (high-water mark); read under mu */
    unsigned long long tick;                /* use counter for the LRU order */
    unsigned long evicted;                  /* voices unloaded to make room, since start */
    vx_voice_failure failed[VX_MAX_FAILED]; /* ring, under mu; name "" = free */
    int failed_next;
    vx_espeak_names espeak; /* installed espeak-ng voices, immutable once set */
    int espeak_checked;     /* 1: "espeak:" names are checked against `espeak` */
} vx_voices;

void vx_voices_init(vx_voices *vs, vx_backend *b);
void vx_voices_free(vx_voices *vs);
/* From now on (call before any lookup), a name "espeak:<x>" must be an installed espeak-ng
 * voice (espeak_names.h): anything else is VOX_ERR_NOT_FOUND before any load, and each
 * voice is registered under its canonical spelling. Lists the installed voices once
 * (libespeak-ng); returns a VOX_ERR_* code with a message if that fails. Without this call
 * (the stub backend) espeak names are only case-folded. */
int vx_voices_check_espeak(vx_voices *vs, char *err, size_t errlen);
/* The registry's spelling of a requested name into buf (canonical espeak name, or the name
 * as it is): 0, or VOX_ERR_NOT_FOUND with a message when no such voice can exist. */
int vx_voices_canonical(vx_voices *vs, const char *name, char *buf, size_t n, char *err,
                        size_t errlen);
/* The error of the last failed load of `name` since it last loaded (1), or 0. Takes mu. */
int vx_voices_load_error(vx_voices *vs, const char *name, char *err, size_t errlen);
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
/* The same scan, also giving the voices that would not load, with error set (else NULL):
 * a config that fails validation, a model file missing (libvox's VOX_LIST_BROKEN), or a
 * voice whose last load failed (vx_voices_load_error). m then has name and kind only. */
typedef void (*vx_voice_status_fn)(void *ctx, const vx_voice_meta *m, const char *const *speakers,
                                   int n_speakers, const char *error);
void vx_voices_scan_status(vx_voices *vs, const char *const *dirs, int n_dirs,
                           vx_voice_status_fn found, void *ctx);

#endif

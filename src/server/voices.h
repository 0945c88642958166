/*
 * voices.h — voxd's voice registry (voices loaded through the backend, by name) and the
 * scan of the data dirs for voices not loaded yet.
 *
 * Threads: loads run on worker threads; lookups may run on the event loop (they take no
 * lock: entries are published with release/acquire and never move until vx_voices_free).
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
} vx_voice_ent;

typedef struct vx_voices {
    pthread_mutex_t mu;        /* guards n and ents */
    pthread_mutex_t load_mu;   /* serializes loads so a voice is loaded once */
    vx_backend *backend;
    vx_voice_ent ents[VX_MAX_VOICES];
    atomic_int n;
} vx_voices;

void vx_voices_init(vx_voices *vs, vx_backend *b);
void vx_voices_free(vx_voices *vs);
/* Loaded voice by name, or NULL. Entries never move or disappear until vx_voices_free. */
vx_voice_ent *vx_voices_find(vx_voices *vs, const char *name);
/* Find or load (worker threads). Returns a VOX_ERR_* code on failure. */
int vx_voices_get(vx_voices *vs, const char *name, vx_voice_ent **out, char *err, size_t errlen);

/* Each Piper voice (<name>.onnx with <name>.onnx.json) in dirs that is not loaded yet, with
 * its config's speaker names in id order (valid during the call). At most 256 a scan. */
typedef void (*vx_voice_found_fn)(void *ctx, const vx_voice_meta *m, const char *const *speakers,
                                  int n_speakers);
void vx_voices_scan(vx_voices *vs, const char *const *dirs, int n_dirs, vx_voice_found_fn found,
                    void *ctx);

#endif

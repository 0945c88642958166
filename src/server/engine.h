/*
 * engine.h — what voxd needs from a synthesizer, behind a small table of functions, so
 * the transport can be tested against a deterministic stub (engine_stub.c) as well as
 * the real libvox (engine_vox.c). Also: pooled byte buffers and the voice registry.
 *
 * Threads: load/split/synth run on worker threads; the registry lookups may run on the
 * event loop (they only take a mutex briefly, never while loading).
 */
#ifndef VX_ENGINE_H
#define VX_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "vox.h"

/* ------------------------------------------------------------ buffers */

/* A growable byte buffer. Buffers come from and go back to a process-wide pool, so in
 * steady state a request allocates nothing for audio or output. */
typedef struct vx_buf {
    char *data;
    size_t len, cap;
    struct vx_buf *next;   /* pool free list */
} vx_buf;

#define VX_BUF_POOL_MAX 128           /* buffers kept for reuse */
#define VX_BUF_KEEP_MAX (1u << 20)    /* a buffer larger than this is freed, not pooled */

vx_buf *vx_buf_get(void);
void vx_buf_put(vx_buf *b);
int vx_buf_reserve(vx_buf *b, size_t extra);  /* 0 or -1 (no memory) */
int vx_buf_append(vx_buf *b, const void *p, size_t n);
void vx_buf_pool_drain(void);

/* ------------------------------------------------------------ cancellation */

/* Per-task cancellation: the engine arms a cancel function while it synthesizes. */
typedef struct vx_ctl {
    pthread_mutex_t mu;
    atomic_int cancelled;
    void (*fn)(void *);
    void *arg;
} vx_ctl;

void vx_ctl_init(vx_ctl *c);
void vx_ctl_destroy(vx_ctl *c);
/* Arm fn(arg) as the way to stop the current work; 0 ok, -1 if already cancelled. */
int vx_ctl_arm(vx_ctl *c, void (*fn)(void *), void *arg);
void vx_ctl_disarm(vx_ctl *c);
void vx_ctl_cancel(vx_ctl *c);

/* ------------------------------------------------------------ engine */

typedef struct vx_voice_meta {
    char name[VX_VOICE_NAME_MAX];
    char kind[16], language[32], quality[16];
    int sample_rate, num_speakers;
    int threads;   /* inference threads one synthesis can use when run alone; 1 = no gain */
} vx_voice_meta;

typedef struct vx_engine {
    const char *name;
    int (*load)(struct vx_engine *e, const char *name, void **voice, vx_voice_meta *meta,
                char *err, size_t errlen);
    void (*free_voice)(struct vx_engine *e, void *voice);
    const char *(*speaker_name)(void *voice, int id);
    int (*split)(void *voice, const char *text, size_t len, vox_span **spans, size_t *n,
                 char *err, size_t errlen);
    /* Synthesize text (one sentence) and append s16le samples to out, on `threads`
     * threads (1 = the calling thread only; at most the voice's meta.threads). */
    int (*synth)(void *voice, const char *text, size_t len, const vx_speech_req *p, int threads,
                 vx_ctl *ctl, vx_buf *out, char *err, size_t errlen);
    /* engine state */
    const char *const *data_dirs;
    int n_data_dirs;
    int wide_threads;    /* threads a synthesis may use when it runs alone (<= workers) */
    int stub_delay_ms;   /* stub only: sleep per sentence */
} vx_engine;

void vx_engine_vox_init(vx_engine *e);
void vx_engine_stub_init(vx_engine *e, int delay_ms);

/* ------------------------------------------------------------ voice registry */

#define VX_MAX_VOICES 64

typedef struct vx_voice_ent {
    vx_voice_meta meta;
    void *voice;
} vx_voice_ent;

typedef struct vx_voices {
    pthread_mutex_t mu;        /* guards n and ents */
    pthread_mutex_t load_mu;   /* serializes loads so a voice is loaded once */
    vx_engine *engine;
    vx_voice_ent ents[VX_MAX_VOICES];
    atomic_int n;
} vx_voices;

void vx_voices_init(vx_voices *vs, vx_engine *e);
void vx_voices_free(vx_voices *vs);
/* Loaded voice by name, or NULL. Entries never move or disappear until vx_voices_free. */
vx_voice_ent *vx_voices_find(vx_voices *vs, const char *name);
/* Find or load (worker threads). Returns a VOX_ERR_* code on failure. */
int vx_voices_get(vx_voices *vs, const char *name, vx_voice_ent **out, char *err, size_t errlen);

#endif

/*
 * voices.c — the registry of loaded voices (each loaded once, on a worker, then shared by
 * every request), and the Piper voices in the data dirs for GET /v1/voices (voices not
 * loaded yet are listed too, so a client can pick one before its first use), found by
 * libvox's one scanner, vox_list_voices (validated configs: a listed voice loads).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voices.h"

/* ------------------------------------------------------------ voice registry */

void vx_voices_init(vx_voices *vs, vx_backend *e) {
    memset(vs, 0, sizeof(*vs));
    pthread_mutex_init(&vs->mu, NULL);
    pthread_mutex_init(&vs->load_mu, NULL);
    vs->backend = e;
    atomic_init(&vs->n, 0);
}

void vx_voices_free(vx_voices *vs) {
    int n = atomic_load(&vs->n);
    for (int i = 0; i < n; i++)
        if (vs->ents[i].live) vs->backend->free_voice(vs->backend, vs->ents[i].voice);
    atomic_store(&vs->n, 0);
    pthread_mutex_destroy(&vs->mu);
    pthread_mutex_destroy(&vs->load_mu);
}

void vx_voices_lock(vx_voices *vs) { pthread_mutex_lock(&vs->mu); }
void vx_voices_unlock(vx_voices *vs) { pthread_mutex_unlock(&vs->mu); }

static vx_voice_ent *find_locked(vx_voices *vs, const char *name) {
    int n = atomic_load_explicit(&vs->n, memory_order_relaxed);
    for (int i = 0; i < n; i++)
        if (vs->ents[i].live && !strcmp(vs->ents[i].meta.name, name)) return &vs->ents[i];
    return NULL;
}

static vx_voice_ent *find_hold(vx_voices *vs, const char *name) {
    pthread_mutex_lock(&vs->mu);
    vx_voice_ent *e = find_locked(vs, name);
    if (e) {
        e->refs++;
        e->used = ++vs->tick;
    }
    pthread_mutex_unlock(&vs->mu);
    return e;
}

int vx_voices_loaded(vx_voices *vs, const char *name) {
    pthread_mutex_lock(&vs->mu);
    int r = find_locked(vs, name) != NULL;
    pthread_mutex_unlock(&vs->mu);
    return r;
}

void vx_voices_put(vx_voices *vs, vx_voice_ent *e) {
    if (!e) return;
    pthread_mutex_lock(&vs->mu);
    if (e->refs > 0) e->refs--;
    pthread_mutex_unlock(&vs->mu);
}

/* The slot for a new voice (under mu): a free one, else the least recently used voice
 * nobody holds (to be evicted), else -1 (all held). */
static int pick_slot_locked(vx_voices *vs) {
    int n = atomic_load_explicit(&vs->n, memory_order_relaxed);
    for (int i = 0; i < n; i++)
        if (!vs->ents[i].live) return i;
    if (n < VX_MAX_VOICES) return n;
    int best = -1;
    for (int i = 0; i < n; i++)
        if (!vs->ents[i].refs && (best < 0 || vs->ents[i].used < vs->ents[best].used)) best = i;
    return best;
}

/* espeak-ng's voice names are case-insensitive: "espeak:EN-us" and "espeak:en-us" are one
 * voice, so one registry entry (a client cannot fill the registry with case variants).
 * Piper names are file names: kept as they are. */
static const char *canonical(const char *name, char *buf, size_t n) {
    if (strncmp(name, "espeak:", 7) || strlen(name) >= n) return name;
    size_t i = 0;
    for (; name[i]; i++) buf[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] + 32) : name[i];
    buf[i] = 0;
    return buf;
}

static int all_held(char *err, size_t errlen) {
    snprintf(err, errlen, "too many voices in use (limit %d loaded)", VX_MAX_VOICES);
    return VOX_ERR_NOMEM;
}

/* Under load_mu: load `name` and put it in a slot, evicting the LRU unheld voice when the
 * table is full. The load runs before the eviction (a voice that fails to load evicts
 * nothing), outside mu (lookups and listings go on meanwhile). */
static int load_new(vx_voices *vs, const char *name, vx_voice_ent **out, char *err, size_t errlen) {
    pthread_mutex_lock(&vs->mu);
    int room = pick_slot_locked(vs) >= 0;
    pthread_mutex_unlock(&vs->mu);
    if (!room) return all_held(err, errlen);
    void *voice = NULL;
    vx_voice_meta meta;
    memset(&meta, 0, sizeof(meta));
    int rc = vs->backend->load(vs->backend, name, &voice, &meta, err, errlen);
    if (rc != VOX_OK) return rc;
    /* Registered under the requested name so lookups hit next time. */
    snprintf(meta.name, sizeof(meta.name), "%s", name);
    void *victim = NULL;
    pthread_mutex_lock(&vs->mu);
    int i = pick_slot_locked(vs); /* again: holds may have been taken meanwhile */
    if (i >= 0) {
        vx_voice_ent *e = &vs->ents[i];
        if (e->live) {
            victim = e->voice;
            vs->evicted++;
        }
        e->meta = meta;
        e->voice = voice;
        e->live = 1;
        e->refs = 1;
        e->used = ++vs->tick;
        if (i == atomic_load_explicit(&vs->n, memory_order_relaxed))
            atomic_store_explicit(&vs->n, i + 1, memory_order_relaxed);
        *out = e;
    }
    pthread_mutex_unlock(&vs->mu);
    /* nobody holds the evicted voice and no lookup can find it now: free it unlocked */
    if (victim) vs->backend->free_voice(vs->backend, victim);
    if (i >= 0) return VOX_OK;
    vs->backend->free_voice(vs->backend, voice);
    return all_held(err, errlen);
}

int vx_voices_get(vx_voices *vs, const char *name, vx_voice_ent **out, char *err, size_t errlen) {
    char canon[VX_VOICE_NAME_MAX];
    name = canonical(name, canon, sizeof canon);
    if ((*out = find_hold(vs, name))) return VOX_OK;
    if (!vx_voice_name_ok(name)) {
        snprintf(err, errlen, "voice '%.100s' not found", name);
        return VOX_ERR_NOT_FOUND;
    }
    pthread_mutex_lock(&vs->load_mu);
    int rc = VOX_OK;
    if (!(*out = find_hold(vs, name))) rc = load_new(vs, name, out, err, errlen);
    pthread_mutex_unlock(&vs->load_mu);
    return rc;
}

/* ------------------------------------------------------------ directory scan */

#define VX_SCAN_MAX_VOICES   256  /* listed per request, over all data dirs */
#define VX_SCAN_MAX_SPEAKERS 1000 /* speaker names listed per voice */

typedef struct scan {
    vx_voices *vs;
    vx_voice_found_fn found;
    void *ctx;
    int listed;
} scan;

static int on_entry(const vox_voice_entry *e, void *user) {
    scan *sc = user;
    if (strlen(e->name) >= VX_VOICE_NAME_MAX || !vx_voice_name_ok(e->name) ||
        vx_voices_loaded(sc->vs, e->name))
        return 0; /* a name no request could ask for, or listed as loaded already */
    vx_voice_meta m;
    memset(&m, 0, sizeof(m));
    snprintf(m.name, sizeof(m.name), "%s", e->name);
    snprintf(m.kind, sizeof(m.kind), "%s", e->kind);
    snprintf(m.language, sizeof(m.language), "%s", e->language);
    snprintf(m.quality, sizeof(m.quality), "%s", e->quality);
    m.sample_rate = e->sample_rate;
    m.num_speakers = e->num_speakers;
    int n_sp = e->speakers ? e->num_speakers : 0;
    sc->found(sc->ctx, &m, e->speakers, n_sp < VX_SCAN_MAX_SPEAKERS ? n_sp : VX_SCAN_MAX_SPEAKERS);
    return ++sc->listed >= VX_SCAN_MAX_VOICES;
}

void vx_voices_scan(vx_voices *vs, const char *const *dirs, int n_dirs, vx_voice_found_fn found,
                    void *ctx) {
    /* server.c always passes dirs (the default one without --data-dir): never libvox's
     * defaults, which include the working directory */
    if (n_dirs <= 0) return;
    vox_load_options o;
    vox_load_options_init(&o);
    o.data_dirs = dirs;
    o.n_data_dirs = n_dirs;
    scan sc = {vs, found, ctx, 0};
    vox_list_voices(&o, VOX_LIST_PIPER, on_entry, &sc);
}

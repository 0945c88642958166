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
    for (int i = 0; i < n; i++) vs->backend->free_voice(vs->backend, vs->ents[i].voice);
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

int vx_voices_get(vx_voices *vs, const char *name, vx_voice_ent **out, char *err,
                  size_t errlen) {
    char canon[VX_VOICE_NAME_MAX];
    name = canonical(name, canon, sizeof canon);
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
            rc = vs->backend->load(vs->backend, name, &e->voice, &e->meta, err, errlen);
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

/* ------------------------------------------------------------ directory scan */

#define VX_SCAN_MAX_VOICES 256     /* listed per request, over all data dirs */
#define VX_SCAN_MAX_SPEAKERS 1000  /* speaker names listed per voice */

typedef struct scan {
    vx_voices *vs;
    vx_voice_found_fn found;
    void *ctx;
    int listed;
} scan;

static int on_entry(const vox_voice_entry *e, void *user) {
    scan *sc = user;
    if (strlen(e->name) >= VX_VOICE_NAME_MAX || !vx_voice_name_ok(e->name) ||
        vx_voices_find(sc->vs, e->name))
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

/*
 * voices.c — the registry of loaded voices (each loaded once, on a worker, then shared by
 * every request), and the Piper voices in the data dirs for GET /v1/voices (voices not
 * loaded yet are listed too, so a client can pick one before its first use), found by
 * libvox's one scanner, vox_list_voices (validated configs: a listed voice loads; the
 * listing also gets the voices that would not load, with why, and those whose last load
 * failed, from the registry's memory of load errors).
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

int vx_voices_check_espeak(vx_voices *vs, char *err, size_t errlen) {
    int rc = vx_espeak_names_build(&vs->espeak, err, errlen);
    if (rc == VOX_OK) vs->espeak_checked = 1;
    return rc;
}

void vx_voices_free(vx_voices *vs) {
    vx_espeak_names_free(&vs->espeak);
    vs->espeak_checked = 0;
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
    char canon[VX_VOICE_NAME_MAX], err[8];
    if (!vx_voices_canonical(vs, name, canon, sizeof canon, err, sizeof err)) name = canon;
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

/* espeak-ng's voice names are case-insensitive and have aliases: "espeak:EN-us",
 * "espeak:en-us" and "espeak:gmw/en-US" are one voice, so one registry entry (a client
 * cannot fill the registry with spellings), and a name that is no installed voice is
 * refused here, before anything loads (espeak_names.h). Piper names are file names: kept
 * as they are. Without the installed list (stub backend), espeak names are case-folded. */
int vx_voices_canonical(vx_voices *vs, const char *name, char *buf, size_t n, char *err,
                        size_t errlen) {
    int espeak = !strncmp(name, "espeak:", 7);
    if (espeak && vs->espeak_checked) {
        if (!vx_espeak_names_resolve(&vs->espeak, name + 7, buf, n)) return 0;
        snprintf(err, errlen,
                 "voice '%.100s' not found: not an installed espeak-ng voice (GET /v1/voices, "
                 "vox --list-voices)",
                 name);
        return VOX_ERR_NOT_FOUND;
    }
    if (strlen(name) >= n) {
        snprintf(err, errlen, "voice name too long");
        return VOX_ERR_NOT_FOUND;
    }
    size_t i = 0;
    for (; name[i]; i++)
        buf[i] = espeak && name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] + 32) : name[i];
    buf[i] = 0;
    return 0;
}

/* Under mu: the failure slot of name, or NULL. */
static vx_voice_failure *failure_locked(vx_voices *vs, const char *name) {
    for (int i = 0; i < VX_MAX_FAILED; i++)
        if (vs->failed[i].name[0] && !strcmp(vs->failed[i].name, name)) return &vs->failed[i];
    return NULL;
}

/* Remember (rc != OK) or forget (OK) a load failure of name: a ring of the latest ones. */
static void note_load(vx_voices *vs, const char *name, int rc, const char *err) {
    pthread_mutex_lock(&vs->mu);
    vx_voice_failure *f = failure_locked(vs, name);
    if (rc == VOX_OK) {
        if (f) f->name[0] = 0;
    } else {
        if (!f) {
            f = &vs->failed[vs->failed_next];
            vs->failed_next = (vs->failed_next + 1) % VX_MAX_FAILED;
            snprintf(f->name, sizeof f->name, "%s", name);
        }
        snprintf(f->err, sizeof f->err, "%s", err[0] ? err : vox_strerror(rc));
    }
    pthread_mutex_unlock(&vs->mu);
}

int vx_voices_load_error(vx_voices *vs, const char *name, char *err, size_t errlen) {
    pthread_mutex_lock(&vs->mu);
    vx_voice_failure *f = failure_locked(vs, name);
    if (f) snprintf(err, errlen, "%s", f->err);
    pthread_mutex_unlock(&vs->mu);
    return f != NULL;
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
    if (errlen) err[0] = 0;
    int rc = vs->backend->load(vs->backend, name, &voice, &meta, err, errlen);
    note_load(vs, name, rc, err);
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
    *out = NULL;
    if (!vx_voice_name_ok(name)) {
        snprintf(err, errlen, "voice '%.100s' not found", name);
        return VOX_ERR_NOT_FOUND;
    }
    int rc = vx_voices_canonical(vs, name, canon, sizeof canon, err, errlen);
    if (rc) return rc;
    name = canon;
    if ((*out = find_hold(vs, name))) return VOX_OK;
    if (!vx_voice_name_ok(name)) {
        snprintf(err, errlen, "voice '%.100s' not found", name);
        return VOX_ERR_NOT_FOUND;
    }
    pthread_mutex_lock(&vs->load_mu);
    if (!(*out = find_hold(vs, name))) rc = load_new(vs, name, out, err, errlen);
    pthread_mutex_unlock(&vs->load_mu);
    return rc;
}

/* ------------------------------------------------------------ directory scan */

#define VX_SCAN_MAX_VOICES   256  /* listed per request, over all data dirs */
#define VX_SCAN_MAX_SPEAKERS 1000 /* speaker names listed per voice */

typedef struct scan {
    vx_voices *vs;
    vx_voice_status_fn found;
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
    char lerr[256];
    const char *error = e->error;
    if (!error && vx_voices_load_error(sc->vs, e->name, lerr, sizeof lerr)) error = lerr;
    if (error) {
        sc->found(sc->ctx, &m, NULL, 0, error);
        return ++sc->listed >= VX_SCAN_MAX_VOICES;
    }
    snprintf(m.language, sizeof(m.language), "%s", e->language);
    snprintf(m.quality, sizeof(m.quality), "%s", e->quality);
    m.sample_rate = e->sample_rate;
    m.num_speakers = e->num_speakers;
    int n_sp = e->speakers ? e->num_speakers : 0;
    sc->found(sc->ctx, &m, e->speakers, n_sp < VX_SCAN_MAX_SPEAKERS ? n_sp : VX_SCAN_MAX_SPEAKERS,
              NULL);
    return ++sc->listed >= VX_SCAN_MAX_VOICES;
}

static void scan_dirs(vx_voices *vs, const char *const *dirs, int n_dirs, unsigned what,
                      vx_voice_status_fn found, void *ctx) {
    /* server.c always passes dirs (the default one without --data-dir): never libvox's
     * defaults, which include the working directory */
    if (n_dirs <= 0) return;
    vox_load_options o;
    vox_load_options_init(&o);
    o.data_dirs = dirs;
    o.n_data_dirs = n_dirs;
    scan sc = {vs, found, ctx, 0};
    vox_list_voices(&o, what, on_entry, &sc);
}

void vx_voices_scan_status(vx_voices *vs, const char *const *dirs, int n_dirs,
                           vx_voice_status_fn found, void *ctx) {
    scan_dirs(vs, dirs, n_dirs, VOX_LIST_PIPER | VOX_LIST_BROKEN, found, ctx);
}

/* vx_voices_scan's callers see loadable voices only. */
typedef struct only_ok {
    vx_voice_found_fn found;
    void *ctx;
} only_ok;

static void if_ok(void *ctx, const vx_voice_meta *m, const char *const *speakers, int n_speakers,
                  const char *error) {
    only_ok *o = ctx;
    if (!error) o->found(o->ctx, m, speakers, n_speakers);
}

void vx_voices_scan(vx_voices *vs, const char *const *dirs, int n_dirs, vx_voice_found_fn found,
                    void *ctx) {
    only_ok o = {found, ctx};
    scan_dirs(vs, dirs, n_dirs, VOX_LIST_PIPER, if_ok, &o);
}

/*
 * voices.c — the registry of loaded voices (each loaded once, on a worker, then shared by
 * every request), and the Piper voices in the data dirs for GET /v1/voices (voices not
 * loaded yet are listed too, so a client can pick one before its first use).
 *
 * The directory scan (vx_voices_scan) is a second reader of Piper's .onnx.json and validates little: it is to be
 * replaced by vox_list_voices() (include/vox.h, the one scanner with validated configs).
 * The swap is this file's one function: call vox_list_voices over s->cfg.data_dirs and
 * hand each voice it returns to found(); nothing else in voxd reads voice configs.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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
#define VX_SCAN_MAX_CONFIG (1 << 20)
#define VX_SCAN_MAX_SPEAKERS 1000

/* name.onnx.json -> meta and speaker names (in id order), for a voice not loaded yet. */
static int read_voice_config(const char *path, vx_voice_meta *m, vx_voice_found_fn found,
                             void *ctx) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char *buf = malloc(VX_SCAN_MAX_CONFIG);
    size_t n = buf ? fread(buf, 1, VX_SCAN_MAX_CONFIG - 1, f) : 0;
    fclose(f);
    if (!buf) return -1;
    cJSON *root = cJSON_ParseWithLength(buf, n);
    free(buf);
    if (!root) return -1;
    snprintf(m->kind, sizeof(m->kind), "piper");
    const cJSON *audio = cJSON_GetObjectItem(root, "audio");
    const cJSON *sr = cJSON_GetObjectItem(audio, "sample_rate");
    const cJSON *q = cJSON_GetObjectItem(audio, "quality");
    const cJSON *lang = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "language"), "code");
    const cJSON *ns = cJSON_GetObjectItem(root, "num_speakers");
    m->sample_rate = cJSON_IsNumber(sr) ? sr->valueint : 22050;
    m->num_speakers = cJSON_IsNumber(ns) ? ns->valueint : 1;
    snprintf(m->quality, sizeof(m->quality), "%s", cJSON_IsString(q) ? q->valuestring : "");
    snprintf(m->language, sizeof(m->language), "%s", cJSON_IsString(lang) ? lang->valuestring : "");
    /* speaker_id_map {"name": id}: names in id order, for the page's speaker picker */
    const cJSON *map = cJSON_GetObjectItem(root, "speaker_id_map");
    int n_sp = m->num_speakers > 1 ? m->num_speakers : 0;
    if (n_sp > VX_SCAN_MAX_SPEAKERS) n_sp = VX_SCAN_MAX_SPEAKERS;
    const char **names = n_sp ? calloc((size_t)n_sp, sizeof(*names)) : NULL;
    char (*defs)[16] = n_sp ? calloc((size_t)n_sp, sizeof(*defs)) : NULL;
    if (n_sp && (!names || !defs)) n_sp = 0;
    for (int id = 0; id < n_sp; id++) {
        const cJSON *it, *name = NULL;
        cJSON_ArrayForEach(it, map) if (cJSON_IsNumber(it) && it->valueint == id) name = it;
        snprintf(defs[id], sizeof(defs[id]), "%d", id);
        names[id] = name ? name->string : defs[id];
    }
    found(ctx, m, names, n_sp);
    free(names);
    free(defs);
    cJSON_Delete(root);
    return 0;
}

void vx_voices_scan(vx_voices *vs, const char *const *dirs, int n_dirs, vx_voice_found_fn found, void *ctx) {
    int listed = 0;
    for (int d = 0; d < n_dirs; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir) continue;
        struct dirent *e;
        while ((e = readdir(dir)) && listed < VX_SCAN_MAX_VOICES) {
            size_t l = strlen(e->d_name);
            if (l < 6 || l >= VX_VOICE_NAME_MAX || strcmp(e->d_name + l - 5, ".onnx")) continue;
            vx_voice_meta m;
            memset(&m, 0, sizeof(m));
            memcpy(m.name, e->d_name, l - 5);
            if (!vx_voice_name_ok(m.name) || vx_voices_find(vs, m.name)) continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s.json", dirs[d], e->d_name);
            if (read_voice_config(path, &m, found, ctx)) continue;
            listed++;
        }
        closedir(dir);
    }
}

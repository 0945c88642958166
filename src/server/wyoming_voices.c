/*
 * wyoming_voices.c — voices as Wyoming sees them: which voice a synthesize event names
 * ({name}, {language}, or the default) and the describe -> info answer listing every voice
 * voxd can speak.
 */
#include "wyoming_internal.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ voices */

/* "en_US", "en-us": one form for comparing. */
static void lang_norm(const char *in, char *out, size_t cap) {
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++) {
        char ch = in[i] == '_' ? '-' : in[i];
        out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    out[i] = 0;
}

typedef struct lang_find {
    char want[64];
    char found[VX_VOICE_NAME_MAX];
} lang_find;

static void lang_scanned(void *ctx, const vx_voice_meta *m, const char *const *sp, int nsp) {
    lang_find *f = ctx;
    char l[64];
    lang_norm(m->language, l, sizeof l);
    if (!f->found[0] && !strcmp(l, f->want)) snprintf(f->found, sizeof f->found, "%s", m->name);
}

/* The voice a request names: 0, or -1 with err set. */
int vx_wy_pick_voice(vx_server *s, const vx_wy_synth *sy, char *out, size_t cap, char *err,
                     size_t errlen) {
    if (sy->name && *sy->name) {
        if (strlen(sy->name) >= cap || !vx_voice_name_ok(sy->name)) {
            snprintf(err, errlen, "voice '%.100s' not found", sy->name);
            return -1;
        }
        snprintf(out, cap, "%s", sy->name);
        return 0;
    }
    if (sy->language && *sy->language) {
        lang_find f = {{0}, {0}};
        lang_norm(sy->language, f.want, sizeof f.want);
        vx_voices_lock(&s->voices);
        int n = atomic_load_explicit(&s->voices.n, memory_order_relaxed);
        for (int i = 0; i < n && !f.found[0]; i++) {
            if (!s->voices.ents[i].live) continue;
            const vx_voice_meta *m = &s->voices.ents[i].meta;
            char l[64];
            lang_norm(m->language, l, sizeof l);
            if (!strcmp(m->kind, "piper") && !strcmp(l, f.want))
                snprintf(f.found, sizeof f.found, "%s", m->name);
        }
        vx_voices_unlock(&s->voices);
        if (!f.found[0])
            vx_voices_scan(&s->voices, s->cfg.data_dirs, s->cfg.n_data_dirs, lang_scanned, &f);
        if (!f.found[0]) snprintf(f.found, sizeof f.found, "espeak:%.50s", f.want);
        if (strlen(f.found) >= cap || !vx_voice_name_ok(f.found)) {
            snprintf(err, errlen, "no voice for language '%.60s'", sy->language);
            return -1;
        }
        snprintf(out, cap, "%s", f.found);
        return 0;
    }
    snprintf(out, cap, "%s", s->cfg.default_voice);
    return 0;
}

/* ------------------------------------------------------------ describe */

static cJSON *attribution(const char *name, const char *url) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "name", name);
    cJSON_AddStringToObject(a, "url", url);
    return a;
}

static cJSON *voice_obj(const char *name, const char *desc, const char *lang, int piper) {
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "name", name);
    cJSON_AddStringToObject(v, "description", desc);
    cJSON_AddItemToObject(v, "attribution",
                          piper
                              ? attribution("rhasspy/piper", "https://github.com/rhasspy/piper")
                              : attribution("espeak-ng", "https://github.com/espeak-ng/espeak-ng"));
    cJSON_AddBoolToObject(v, "installed", 1);
    cJSON_AddNullToObject(v, "version");
    cJSON *langs = cJSON_AddArrayToObject(v, "languages");
    cJSON_AddItemToArray(langs, cJSON_CreateString(lang));
    return v;
}

static void add_speakers(cJSON *v, const char *const *names, int n) {
    if (n <= 1) {
        cJSON_AddNullToObject(v, "speakers");
        return;
    }
    cJSON *sp = cJSON_AddArrayToObject(v, "speakers");
    for (int i = 0; i < n && i < 1000; i++) {
        cJSON *o = cJSON_CreateObject();
        char def[16];
        snprintf(def, sizeof def, "%d", i);
        cJSON_AddStringToObject(o, "name", names[i] ? names[i] : def);
        cJSON_AddItemToArray(sp, o);
    }
}

static void piper_scanned(void *ctx, const vx_voice_meta *m, const char *const *sp, int nsp) {
    cJSON *arr = ctx;
    char d[320];
    snprintf(d, sizeof d, "Piper %s (%s)", m->name, m->quality);
    cJSON *v = voice_obj(m->name, d, m->language, 1);
    add_speakers(v, sp, nsp);
    cJSON_AddItemToArray(arr, v);
}

static int espeak_found(const char *name, const char *language, void *user) {
    cJSON *pair = cJSON_CreateArray();
    cJSON_AddItemToArray(pair, cJSON_CreateString(name));
    cJSON_AddItemToArray(pair, cJSON_CreateString(language ? language : name));
    cJSON_AddItemToArray(user, pair);
    return 0;
}

void vx_wy_describe(wy_conn *c) {
    vx_wyoming *w = c->w;
    vx_server *s = w->srv;
    if (!w->espeak) {
        w->espeak = cJSON_CreateArray();
        if (w->espeak) vox_list_espeak_voices(NULL, espeak_found, w->espeak);
    }
    cJSON *root = cJSON_CreateObject();
    static const char *const empty[] = {"asr", "handle", "intent", "wake", "mic", "snd"};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++)
        cJSON_AddArrayToObject(root, empty[i]);
    cJSON *tts = cJSON_AddArrayToObject(root, "tts");
    cJSON *prog = cJSON_CreateObject();
    cJSON_AddItemToArray(tts, prog);
    cJSON_AddStringToObject(prog, "name", "vox");
    cJSON_AddStringToObject(prog, "description",
                            "vox: neural text to speech (Piper voices, espeak-ng)");
    cJSON_AddItemToObject(prog, "attribution",
                          attribution("vox", "https://github.com/vox-tts/vox"));
    cJSON_AddBoolToObject(prog, "installed", 1);
    cJSON_AddStringToObject(prog, "version", VOX_VERSION);
    cJSON_AddBoolToObject(prog, "supports_synthesize_streaming", 1);
    cJSON *arr = cJSON_AddArrayToObject(prog, "voices");
    vx_voices_lock(&s->voices);
    int n = atomic_load_explicit(&s->voices.n, memory_order_relaxed);
    for (int i = 0; i < n; i++) {
        if (!s->voices.ents[i].live) continue;
        const vx_voice_meta *m = &s->voices.ents[i].meta;
        void *vv = s->voices.ents[i].voice;
        int piper = !strcmp(m->kind, "piper");
        char d[320];
        snprintf(d, sizeof d, "%s %s (%s)", piper ? "Piper" : "espeak-ng", m->name, m->quality);
        cJSON *v = voice_obj(m->name, d, m->language, piper);
        const char *names[1000];
        int k = m->num_speakers < 1000 ? m->num_speakers : 1000;
        for (int j = 0; j < k; j++) names[j] = s->backend.speaker_name(vv, j);
        add_speakers(v, names, k);
        cJSON_AddItemToArray(arr, v);
    }
    vx_voices_unlock(&s->voices);
    vx_voices_scan(&s->voices, s->cfg.data_dirs, s->cfg.n_data_dirs, piper_scanned, arr);
    const cJSON *pair;
    cJSON_ArrayForEach(pair, w->espeak) {
        const char *nm = cJSON_GetArrayItem(pair, 0)->valuestring;
        const char *lg = cJSON_GetArrayItem(pair, 1)->valuestring;
        char full[VX_VOICE_NAME_MAX];
        snprintf(full, sizeof full, "espeak:%s", nm);
        if (vx_voices_loaded(&s->voices, full)) continue; /* listed as loaded */
        char d[320];
        snprintf(d, sizeof d, "espeak-ng %s", nm);
        cJSON *v = voice_obj(full, d, lg, 0);
        cJSON_AddNullToObject(v, "speakers");
        cJSON_AddItemToArray(arr, v);
    }
    vx_wy_send_event(c, "info", root);
}

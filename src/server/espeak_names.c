/*
 * espeak_names.c — the installed espeak-ng voices and variants, listed once, and the
 * check of a requested "espeak:<name>" against them (see espeak_names.h for the rules,
 * which follow libespeak-ng 1.51's SetVoiceByName / SelectVoiceByName).
 */
#include "espeak_names.h"

#include <espeak-ng/speak_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text/espeak.h"
#include "vox.h"

static void lower_copy(char *dst, const char *src) {
    size_t i = 0;
    for (; src[i] && i + 1 < VX_ESPEAK_NAME_MAX; i++)
        dst[i] = src[i] >= 'A' && src[i] <= 'Z' ? (char)(src[i] + 32) : src[i];
    dst[i] = 0;
}

static const char *last_part(const char *id) {
    const char *b = strrchr(id, '/');
    return b ? b + 1 : id;
}

static int fits(const char *s) { return s && *s && strlen(s) < VX_ESPEAK_NAME_MAX; }

/* Copy one voice of espeak_ListVoices(NULL) (strings are espeak-ng's until its next list). */
static int add_voice(vx_espeak_names *t, const espeak_VOICE *v) {
    const char *id = v->identifier ? v->identifier : "";
    const char *lang = v->languages && v->languages[0] ? v->languages + 1 : "";
    if (!fits(last_part(id)) || !strncmp(id, "mb/", 3)) return 0;
    vx_espeak_voice_name *e = &t->voices[t->n_voices];
    memset(e, 0, sizeof *e);
    lower_copy(e->file, last_part(id));
    if (fits(v->name) && !strchr(v->name, ' ')) lower_copy(e->name, v->name);
    if (fits(lang)) lower_copy(e->lang, lang);
    t->n_voices++;
    return 0;
}

static int list_locked(vx_espeak_names *t) {
    const espeak_VOICE **l = espeak_ListVoices(NULL);
    int n = 0;
    while (l && l[n]) n++;
    t->voices = calloc(n ? (size_t)n : 1, sizeof *t->voices);
    if (!t->voices) return VOX_ERR_NOMEM;
    for (int i = 0; i < n; i++) add_voice(t, l[i]);
    /* the next list frees this one: everything needed was copied */
    espeak_VOICE spec;
    memset(&spec, 0, sizeof spec);
    spec.languages = "variant";
    l = espeak_ListVoices(&spec);
    for (n = 0; l && l[n]; n++) {}
    t->variants = calloc(n ? (size_t)n : 1, sizeof *t->variants);
    if (!t->variants) return VOX_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        const char *f = l[i]->identifier ? last_part(l[i]->identifier) : "";
        if (fits(f)) snprintf(t->variants[t->n_variants++], VX_ESPEAK_NAME_MAX, "%s", f);
    }
    return VOX_OK;
}

int vx_espeak_names_build(vx_espeak_names *t, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    vx_espeak_lock();
    int rc = vx_espeak_init_locked(NULL, err, errlen);
    if (rc > 0) rc = list_locked(t);
    vx_espeak_unlock();
    if (rc == VOX_ERR_NOMEM) snprintf(err, errlen, "out of memory listing espeak-ng voices");
    if (rc != VOX_OK) vx_espeak_names_free(t);
    return rc;
}

void vx_espeak_names_free(vx_espeak_names *t) {
    free(t->voices);
    free(t->variants);
    memset(t, 0, sizeof *t);
}

/* The voice `base` (lower case) names, in espeak-ng's order of preference: its voice name,
 * then a file name; else a main language (vox's listed name). */
static const vx_espeak_voice_name *find_voice(const vx_espeak_names *t, const char *base) {
    for (int i = 0; i < t->n_voices; i++)
        if (!strcmp(t->voices[i].name, base)) return &t->voices[i];
    for (int i = 0; i < t->n_voices; i++)
        if (!strcmp(t->voices[i].file, base)) return &t->voices[i];
    for (int i = 0; i < t->n_voices; i++)
        if (!strcmp(t->voices[i].lang, base)) return &t->voices[i];
    return NULL;
}

/* The variant file `v` names ("" = none): numbers as espeak-ng maps them. */
static const char *find_variant(const vx_espeak_names *t, const char *v) {
    char num[8];
    if (v[0] >= '0' && v[0] <= '9') {
        if (strspn(v, "0123456789") != strlen(v) || strlen(v) > 2) return NULL;
        int k = atoi(v);
        if (k < 1 || k > 19) return NULL;
        snprintf(num, sizeof num, k < 10 ? "m%d" : "f%d", k < 10 ? k : k - 10);
        v = num;
    }
    for (int i = 0; i < t->n_variants; i++)
        if (!strcasecmp(t->variants[i], v)) return t->variants[i];
    return NULL;
}

int vx_espeak_names_resolve(const vx_espeak_names *t, const char *name, char *out, size_t outlen) {
    char base[VX_ESPEAK_NAME_MAX];
    const char *plus = strchr(name, '+');
    size_t bl = plus ? (size_t)(plus - name) : strlen(name);
    if (!bl || bl >= sizeof base) return -1;
    memcpy(base, name, bl);
    base[bl] = 0;
    lower_copy(base, base);
    const vx_espeak_voice_name *v = find_voice(t, base);
    if (!v) return -1;
    const char *var = plus && plus[1] ? find_variant(t, plus + 1) : "";
    if (!var) return -1;
    int n = snprintf(out, outlen, "espeak:%s%s%s", v->file, *var ? "+" : "", var);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

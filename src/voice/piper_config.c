/* Piper voice config parser (cJSON). Field semantics follow piper1-gpl's
 * PiperConfig.from_dict: required fields are the ones Piper indexes directly. */
#include "voice/piper_config.h"
#include "text/unicode.h"
#include "vox.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s) {
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

/* A JSON string as a phoneme key (1..VX_PIPER_MAX_KEY_CP codepoints). */
static int to_key(const char *s, vx_phoneme_key *k) {
    size_t len = strlen(s), i = 0;
    k->len = 0;
    while (i < len) {
        if (k->len >= VX_PIPER_MAX_KEY_CP) return -1;
        k->cp[k->len++] = vx_utf8_next(s, len, &i);
    }
    return k->len > 0 ? 0 : -1;
}

static int key_cmp(const uint32_t *a, int al, const uint32_t *b, int bl) {
    for (int i = 0; i < al && i < bl; i++)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return al < bl ? -1 : al > bl;
}

static int cmp_ids(const void *a, const void *b) {
    const vx_phoneme_key *x = &((const vx_phoneme_ids *)a)->key,
                         *y = &((const vx_phoneme_ids *)b)->key;
    return key_cmp(x->cp, x->len, y->cp, y->len);
}
static int cmp_map(const void *a, const void *b) {
    const vx_phoneme_key *x = &((const vx_phoneme_mapping *)a)->from,
                         *y = &((const vx_phoneme_mapping *)b)->from;
    return key_cmp(x->cp, x->len, y->cp, y->len);
}
static int cmp_spk(const void *a, const void *b) {
    int x = ((const vx_speaker *)a)->id, y = ((const vx_speaker *)b)->id;
    return (x > y) - (x < y);
}

typedef struct ctx {
    char *err;
    size_t errlen;
} ctx;

static int fail(ctx *c, int code, const char *fmt, const char *field) {
    snprintf(c->err, c->errlen, fmt, field);
    return code;
}

/* Integer in [lo, hi]; missing: *out = def unless required. */
static int get_int(ctx *c, const cJSON *obj, const char *name, const char *path, int required,
                   int def, long lo, long hi, int *out) {
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
    if (!v || cJSON_IsNull(v)) {
        if (required) return fail(c, VOX_ERR_CONFIG, "voice config: missing field '%s'", path);
        *out = def;
        return 0;
    }
    double d = v->valuedouble;
    if (!cJSON_IsNumber(v) || d != floor(d) || d < (double)lo || d > (double)hi)
        return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' must be an integer in range",
                    path);
    *out = (int)d;
    return 0;
}

static int get_float(ctx *c, const cJSON *obj, const char *name, const char *path, float def,
                     float *out) {
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble > 1000)
        return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' must be a number in [0, 1000]",
                    path);
    *out = (float)v->valuedouble;
    return 0;
}

static int get_str(ctx *c, const cJSON *obj, const char *name, const char *path, int required,
                   char **out) {
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
    *out = NULL;
    if (!v || cJSON_IsNull(v)) {
        if (required) return fail(c, VOX_ERR_CONFIG, "voice config: missing field '%s'", path);
        return 0;
    }
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= VX_PIPER_MAX_NAME)
        return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' must be a short string", path);
    if (!(*out = dup_str(v->valuestring))) return fail(c, VOX_ERR_NOMEM, "out of memory%s", "");
    return 0;
}

static const cJSON *get_obj(ctx *c, const cJSON *root, const char *name, int required, int *rc) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    *rc = 0;
    if (!v || cJSON_IsNull(v)) {
        if (required) *rc = fail(c, VOX_ERR_CONFIG, "voice config: missing field '%s'", name);
        return NULL;
    }
    if (!cJSON_IsObject(v)) {
        *rc = fail(c, VOX_ERR_CONFIG, "voice config: field '%s' must be an object", name);
        return NULL;
    }
    return v;
}

static int parse_id_map(ctx *c, const cJSON *m, vx_piper_config *cfg) {
    int n = cJSON_GetArraySize(m);
    if (n <= 0)
        return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' is empty", "phoneme_id_map");
    if (n > (int)VX_PIPER_MAX_PHONEMES)
        return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' has too many entries",
                    "phoneme_id_map");
    cfg->id_map = calloc((size_t)n, sizeof *cfg->id_map);
    if (!cfg->id_map) return fail(c, VOX_ERR_NOMEM, "out of memory%s", "");
    const cJSON *e;
    cJSON_ArrayForEach(e, m) {
        vx_phoneme_ids *p = &cfg->id_map[cfg->n_id_map];
        if (!e->string || to_key(e->string, &p->key))
            return fail(c, VOX_ERR_CONFIG, "voice config: bad phoneme key in '%s'",
                        "phoneme_id_map");
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) < 1 ||
            cJSON_GetArraySize(e) > VX_PIPER_MAX_IDS_PER_PHONEME)
            return fail(c, VOX_ERR_CONFIG,
                        "voice config: field '%s' values must be arrays of 1-16 ids",
                        "phoneme_id_map");
        const cJSON *id;
        cJSON_ArrayForEach(id, e) {
            double d = id->valuedouble;
            if (!cJSON_IsNumber(id) || d != floor(d) || d < 0 || d > 1e9)
                return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' has a bad id",
                            "phoneme_id_map");
            p->ids[p->n_ids++] = (int64_t)d;
        }
        cfg->n_id_map++;
    }
    qsort(cfg->id_map, cfg->n_id_map, sizeof *cfg->id_map, cmp_ids);
    for (size_t i = 1; i < cfg->n_id_map; i++)
        if (!cmp_ids(&cfg->id_map[i - 1], &cfg->id_map[i]))
            return fail(c, VOX_ERR_CONFIG, "voice config: duplicate key in '%s'", "phoneme_id_map");
    return 0;
}

static int parse_phoneme_map(ctx *c, const cJSON *m, vx_piper_config *cfg) {
    int n = cJSON_GetArraySize(m);
    if (n > (int)VX_PIPER_MAX_PHONEMES)
        return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' has too many entries",
                    "phoneme_map");
    if (n <= 0) return 0;
    cfg->phoneme_map = calloc((size_t)n, sizeof *cfg->phoneme_map);
    if (!cfg->phoneme_map) return fail(c, VOX_ERR_NOMEM, "out of memory%s", "");
    const cJSON *e;
    cJSON_ArrayForEach(e, m) {
        vx_phoneme_mapping *p = &cfg->phoneme_map[cfg->n_phoneme_map];
        if (!e->string || to_key(e->string, &p->from))
            return fail(c, VOX_ERR_CONFIG, "voice config: bad phoneme key in '%s'", "phoneme_map");
        cfg->n_phoneme_map++;
        int k = cJSON_IsArray(e) ? cJSON_GetArraySize(e) : -1;
        if (k < 0 || k > VX_PIPER_MAX_IDS_PER_PHONEME)
            return fail(c, VOX_ERR_CONFIG,
                        "voice config: field '%s' values must be arrays of phonemes",
                        "phoneme_map");
        p->to = calloc((size_t)(k ? k : 1), sizeof *p->to);
        if (!p->to) return fail(c, VOX_ERR_NOMEM, "out of memory%s", "");
        const cJSON *t;
        cJSON_ArrayForEach(t, e) {
            if (!cJSON_IsString(t) || to_key(t->valuestring, &p->to[p->n_to]))
                return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' has a bad phoneme",
                            "phoneme_map");
            p->n_to++;
        }
    }
    qsort(cfg->phoneme_map, cfg->n_phoneme_map, sizeof *cfg->phoneme_map, cmp_map);
    return 0;
}

static int parse_clusters(ctx *c, const cJSON *v, vx_piper_config *cfg) {
    if (!v || cJSON_IsNull(v)) return 0;
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (n < 0 || n > (int)VX_PIPER_MAX_PHONEMES)
        return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' must be an array of arrays",
                    "vowel_clusters");
    if (n == 0) return 0;
    cfg->vowel_clusters = calloc((size_t)n, sizeof *cfg->vowel_clusters);
    if (!cfg->vowel_clusters) return fail(c, VOX_ERR_NOMEM, "out of memory%s", "");
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        vx_phoneme_key *k = &cfg->vowel_clusters[cfg->n_vowel_clusters];
        if (!cJSON_IsArray(e))
            return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' must be an array of arrays",
                        "vowel_clusters");
        /* A cluster is a tuple of phonemes; the merged phoneme is their concatenation. */
        const cJSON *p;
        cJSON_ArrayForEach(p, e) {
            vx_phoneme_key one;
            if (!cJSON_IsString(p) || to_key(p->valuestring, &one) || one.len != 1 ||
                k->len >= VX_PIPER_MAX_KEY_CP)
                return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' has a bad phoneme",
                            "vowel_clusters");
            k->cp[k->len++] = one.cp[0];
        }
        if (k->len < 2)
            return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' entries need 2+ phonemes",
                        "vowel_clusters");
        cfg->n_vowel_clusters++;
    }
    return 0;
}

static int parse_speakers(ctx *c, const cJSON *m, vx_piper_config *cfg) {
    int n = cJSON_GetArraySize(m);
    if (n > (int)VX_PIPER_MAX_SPEAKERS)
        return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' has too many entries",
                    "speaker_id_map");
    if (n <= 0) return 0;
    cfg->speakers = calloc((size_t)n, sizeof *cfg->speakers);
    if (!cfg->speakers) return fail(c, VOX_ERR_NOMEM, "out of memory%s", "");
    const cJSON *e;
    cJSON_ArrayForEach(e, m) {
        double d = e->valuedouble;
        if (!e->string || strlen(e->string) >= VX_PIPER_MAX_NAME || !cJSON_IsNumber(e) ||
            d != floor(d) || d < 0 || d >= VX_PIPER_MAX_SPEAKERS)
            return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' must map names to ids",
                        "speaker_id_map");
        vx_speaker *s = &cfg->speakers[cfg->n_speakers];
        if (!(s->name = dup_str(e->string))) return fail(c, VOX_ERR_NOMEM, "out of memory%s", "");
        s->id = (int)d;
        cfg->n_speakers++;
    }
    qsort(cfg->speakers, cfg->n_speakers, sizeof *cfg->speakers, cmp_spk);
    return 0;
}

static int parse_root(ctx *c, const cJSON *root, vx_piper_config *cfg) {
    int rc;
    if (!cJSON_IsObject(root))
        return fail(c, VOX_ERR_CONFIG, "voice config: %s is not a JSON object", "top level");
    const cJSON *audio = get_obj(c, root, "audio", 1, &rc);
    if (rc) return rc;
    if ((rc = get_int(c, audio, "sample_rate", "audio.sample_rate", 1, 0, 1000, 384000,
                      &cfg->sample_rate)) ||
        (rc = get_str(c, audio, "quality", "audio.quality", 0, &cfg->quality)))
        return rc;

    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(root, "phoneme_type");
    if (pt && !cJSON_IsNull(pt)) {
        if (!cJSON_IsString(pt))
            return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' must be a string",
                        "phoneme_type");
        if (!strcmp(pt->valuestring, "text"))
            cfg->phoneme_type_text = 1;
        else if (strcmp(pt->valuestring, "espeak")) {
            char name[64];
            snprintf(name, sizeof name, "%s", pt->valuestring);
            return fail(c, VOX_ERR_UNSUPPORTED, "voice config: unsupported phoneme_type '%s'",
                        name);
        }
    }
    const cJSON *esp = get_obj(c, root, "espeak", !cfg->phoneme_type_text, &rc);
    if (rc) return rc;
    if ((rc =
             get_str(c, esp, "voice", "espeak.voice", !cfg->phoneme_type_text, &cfg->espeak_voice)))
        return rc;

    const cJSON *inf = get_obj(c, root, "inference", 0, &rc);
    if (rc) return rc;
    if ((rc = get_float(c, inf, "noise_scale", "inference.noise_scale", 0.667f,
                        &cfg->noise_scale)) ||
        (rc = get_float(c, inf, "length_scale", "inference.length_scale", 1.0f,
                        &cfg->length_scale)) ||
        (rc = get_float(c, inf, "noise_w", "inference.noise_w", 0.8f, &cfg->noise_w)))
        return rc;

    const cJSON *idm = get_obj(c, root, "phoneme_id_map", 1, &rc);
    if (rc || (rc = parse_id_map(c, idm, cfg))) return rc;
    const cJSON *pm = get_obj(c, root, "phoneme_map", 0, &rc);
    if (rc || (pm && (rc = parse_phoneme_map(c, pm, cfg)))) return rc;
    if ((rc = parse_clusters(c, cJSON_GetObjectItemCaseSensitive(root, "vowel_clusters"), cfg)))
        return rc;

    if ((rc =
             get_int(c, root, "num_symbols", "num_symbols", 1, 0, 1, 1 << 20, &cfg->num_symbols)) ||
        (rc = get_int(c, root, "num_speakers", "num_speakers", 1, 1, 1, VX_PIPER_MAX_SPEAKERS,
                      &cfg->num_speakers)) ||
        (rc = get_int(c, root, "hop_length", "hop_length", 0, 256, 1, 1 << 16, &cfg->hop_length)) ||
        (rc = get_int(c, root, "default_speaker_id", "default_speaker_id", 0, 0, 0,
                      VX_PIPER_MAX_SPEAKERS - 1, &cfg->default_speaker_id)))
        return rc;
    /* An id past the model's embedding table would index out of bounds at inference. */
    for (size_t i = 0; i < cfg->n_id_map; i++)
        for (int k = 0; k < cfg->id_map[i].n_ids; k++)
            if (cfg->id_map[i].ids[k] >= cfg->num_symbols)
                return fail(c, VOX_ERR_CONFIG,
                            "voice config: field '%s' has an id not below num_symbols",
                            "phoneme_id_map");
    if (cfg->default_speaker_id >= cfg->num_speakers)
        return fail(c, VOX_ERR_CONFIG, "voice config: field '%s' is not below num_speakers",
                    "default_speaker_id");
    const cJSON *spk = get_obj(c, root, "speaker_id_map", 0, &rc);
    if (rc || (spk && (rc = parse_speakers(c, spk, cfg)))) return rc;
    for (size_t i = 0; i < cfg->n_speakers; i++)
        if (cfg->speakers[i].id >= cfg->num_speakers)
            return fail(c, VOX_ERR_CONFIG,
                        "voice config: field '%s' has an id not below num_speakers",
                        "speaker_id_map");
    const cJSON *lang = get_obj(c, root, "language", 0, &rc);
    if (rc || (rc = get_str(c, lang, "code", "language.code", 0, &cfg->language_code))) return rc;
    if ((rc = get_str(c, root, "dataset", "dataset", 0, &cfg->dataset))) return rc;

    /* Piper's id conversion needs these three. */
    static const uint32_t specials[3] = {'_', '^', '$'};
    for (int i = 0; i < 3; i++)
        if (!vx_piper_config_ids(cfg, &specials[i], 1)) {
            char k[2] = {(char)specials[i], 0};
            return fail(c, VOX_ERR_CONFIG, "voice config: phoneme_id_map lacks '%s'", k);
        }
    return 0;
}

int vx_piper_config_parse(const char *json, size_t len, vx_piper_config **out, char *err,
                          size_t errlen) {
    ctx c = {err, errlen};
    *out = NULL;
    if (!json || len > VX_PIPER_CONFIG_MAX_BYTES)
        return fail(&c, VOX_ERR_CONFIG, "voice config: %s", json ? "too large" : "no text");
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return fail(&c, VOX_ERR_CONFIG, "voice config: %s", "invalid JSON");
    vx_piper_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        cJSON_Delete(root);
        return fail(&c, VOX_ERR_NOMEM, "out of memory%s", "");
    }
    int rc = parse_root(&c, root, cfg);
    cJSON_Delete(root);
    if (rc) {
        vx_piper_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

int vx_piper_config_load(const char *path, vx_piper_config **out, char *err, size_t errlen) {
    ctx c = {err, errlen};
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open voice config '%s': %s", path, strerror(errno));
        return errno == ENOENT ? VOX_ERR_NOT_FOUND : VOX_ERR_IO;
    }
    char *buf = malloc(VX_PIPER_CONFIG_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return fail(&c, VOX_ERR_NOMEM, "out of memory%s", "");
    }
    size_t n = fread(buf, 1, VX_PIPER_CONFIG_MAX_BYTES + 1, f);
    int rd_err = ferror(f);
    fclose(f);
    int rc;
    if (rd_err)
        rc = fail(&c, VOX_ERR_IO, "cannot read voice config '%s'", path);
    else if (n > VX_PIPER_CONFIG_MAX_BYTES)
        rc = fail(&c, VOX_ERR_CONFIG, "voice config '%s' is too large", path);
    else
        rc = vx_piper_config_parse(buf, n, out, err, errlen);
    free(buf);
    return rc;
}

void vx_piper_config_free(vx_piper_config *c) {
    if (!c) return;
    free(c->quality);
    free(c->espeak_voice);
    free(c->id_map);
    for (size_t i = 0; i < c->n_phoneme_map; i++) free(c->phoneme_map[i].to);
    free(c->phoneme_map);
    free(c->vowel_clusters);
    for (size_t i = 0; i < c->n_speakers; i++) free(c->speakers[i].name);
    free(c->speakers);
    free(c->language_code);
    free(c->dataset);
    free(c);
}

const vx_phoneme_ids *vx_piper_config_ids(const vx_piper_config *c, const uint32_t *key, int len) {
    size_t lo = 0, hi = c->n_id_map;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = key_cmp(key, len, c->id_map[mid].key.cp, c->id_map[mid].key.len);
        if (r < 0)
            hi = mid;
        else if (r > 0)
            lo = mid + 1;
        else
            return &c->id_map[mid];
    }
    return NULL;
}

const vx_phoneme_mapping *vx_piper_config_map(const vx_piper_config *c, const uint32_t *key,
                                              int len) {
    size_t lo = 0, hi = c->n_phoneme_map;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = key_cmp(key, len, c->phoneme_map[mid].from.cp, c->phoneme_map[mid].from.len);
        if (r < 0)
            hi = mid;
        else if (r > 0)
            lo = mid + 1;
        else
            return &c->phoneme_map[mid];
    }
    return NULL;
}

int vx_piper_config_speaker(const vx_piper_config *c, const char *name) {
    for (size_t i = 0; i < c->n_speakers; i++)
        if (!strcmp(c->speakers[i].name, name)) return c->speakers[i].id;
    return -1;
}

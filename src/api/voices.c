/* The one voice-directory scanner: vox_list_voices (vox.h) for the CLI, the server and
 * any program; voice loading looks names up in the same dirs (vx_voice_dirs_get). Piper
 * configs are validated by the loader's own parser, so a listed voice is loadable. */
#include "api/voices.h"
#include "voice/piper_config.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void vx_voice_dirs_get(const vox_load_options *o, vx_voice_dirs *vd) {
    if (o && o->data_dirs && o->n_data_dirs > 0) {
        vd->dirs = o->data_dirs;
        vd->n = o->n_data_dirs;
        return;
    }
    int k = 0;
    const char *home = getenv("HOME");
    if (home && snprintf(vd->home, sizeof vd->home, "%s/.local/share/vox/voices", home) <
                    (int)sizeof vd->home)
        vd->defaults[k++] = vd->home;
    vd->defaults[k++] = ".";
    vd->dirs = vd->defaults;
    vd->n = k;
}

typedef struct espeak_list {
    int (*fn)(const vox_voice_entry *, void *);
    void *user;
    int stopped;
} espeak_list;

static int espeak_entry(const char *name, const char *language, void *user) {
    espeak_list *l = user;
    char full[160];
    snprintf(full, sizeof full, "espeak:%s", name);
    vox_voice_entry e = {.name = full,
                         .kind = "espeak",
                         .language = language,
                         .quality = "espeak",
                         .sample_rate = 22050,
                         .num_speakers = 1};
    return l->stopped = l->fn(&e, l->user);
}

/* Speaker names in id order; an id the map does not name is listed as its number. */
static const char **speaker_names(const vx_piper_config *c, char (**nums)[12]) {
    const char **spk = calloc((size_t)c->num_speakers, sizeof *spk);
    *nums = calloc((size_t)c->num_speakers, sizeof **nums);
    if (!spk || !*nums) {
        free(spk);
        free(*nums);
        *nums = NULL;
        return NULL;
    }
    for (int id = 0; id < c->num_speakers; id++) {
        snprintf((*nums)[id], sizeof(*nums)[id], "%d", id);
        spk[id] = (*nums)[id];
    }
    for (size_t i = 0; i < c->n_speakers; i++)
        if (c->speakers[i].id >= 0 && c->speakers[i].id < c->num_speakers)
            spk[c->speakers[i].id] = c->speakers[i].name;
    return spk;
}

/* A voice that would not load, for VOX_LIST_BROKEN: its name, path and why. */
static int broken_entry(const char *name, const char *model, const char *why,
                        int (*fn)(const vox_voice_entry *, void *), void *user) {
    vox_voice_entry e = {.name = name,
                         .kind = "piper",
                         .language = "",
                         .quality = "",
                         .path = model,
                         .num_speakers = 1,
                         .error = why};
    return fn(&e, user);
}

/* One Piper voice: NAME.onnx in dir with a valid NAME.onnx.json. Returns fn's answer
 * (0 when the voice was skipped; a broken one is reported instead when `broken`). */
static int piper_entry(const char *dir, const char *file, int broken,
                       int (*fn)(const vox_voice_entry *, void *), void *user) {
    char model[PATH_MAX], cfgp[PATH_MAX + 8], name[256];
    size_t l = strlen(file);
    if (l - 5 > 200 || snprintf(model, sizeof model, "%s/%s", dir, file) >= (int)sizeof model)
        return 0;
    snprintf(cfgp, sizeof cfgp, "%s.json", model);
    snprintf(name, sizeof name, "%.*s", (int)(l - 5), file);
    struct stat st;
    vx_piper_config *c = NULL;
    char err[256];
    if (stat(model, &st) || !S_ISREG(st.st_mode)) {
        snprintf(err, sizeof err, "model file '%s' is missing or not a regular file", file);
        return broken ? broken_entry(name, model, err, fn, user) : 0;
    }
    if (vx_piper_config_load(cfgp, &c, err, sizeof err))
        return broken ? broken_entry(name, model, err, fn, user) : 0;
    char(*nums)[12] = NULL;
    const char **spk = c->num_speakers > 1 ? speaker_names(c, &nums) : NULL;
    int r = 0;
    if (c->num_speakers <= 1 || spk) {
        vox_voice_entry e = {.name = name,
                             .kind = "piper",
                             .language = c->language_code ? c->language_code : "",
                             .quality = c->quality ? c->quality : "",
                             .path = model,
                             .sample_rate = c->sample_rate,
                             .num_speakers = c->num_speakers > 1 ? c->num_speakers : 1,
                             .speakers = spk};
        r = fn(&e, user);
    }
    free(nums);
    free(spk);
    vx_piper_config_free(c);
    return r;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .onnx names of one dir, sorted (readdir order is the file system's); with
 * `configs`, NAME.onnx for each NAME.onnx.json instead (to find configs without a model). */
static int dir_models(const char *dir, int configs, char ***out, int *n, int cap) {
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    char **v = calloc((size_t)cap, sizeof *v);
    if (!v) {
        closedir(d);
        return VOX_ERR_NOMEM;
    }
    const char *ext = configs ? ".onnx.json" : ".onnx";
    size_t el = strlen(ext);
    struct dirent *e;
    while ((e = readdir(d)) && *n < cap) {
        size_t l = strlen(e->d_name);
        if (l <= el || e->d_name[0] == '.' || strcmp(e->d_name + l - el, ext)) continue;
        if (!(v[*n] = strndup(e->d_name, configs ? l - 5 : l))) break;
        (*n)++;
    }
    closedir(d);
    qsort(v, (size_t)*n, sizeof *v, cmp_str);
    *out = v;
    return 0;
}

static int listed_before(char **seen, int n_seen, const char *file) {
    for (int i = 0; i < n_seen; i++)
        if (!strcmp(seen[i], file)) return 1;
    return 0;
}

static int list_piper(const vox_load_options *opt, int broken,
                      int (*fn)(const vox_voice_entry *, void *), void *user) {
    vx_voice_dirs vd;
    vx_voice_dirs_get(opt, &vd);
    char **seen = calloc(VOX_MAX_LISTED_VOICES, sizeof *seen);
    if (!seen) return VOX_ERR_NOMEM;
    int n_seen = 0, rc = VOX_OK, stop = 0;
    /* pass 0: the models, as loading finds them; pass 1 (broken voices only): configs
     * whose model is in no dir */
    for (int pass = 0; pass < 1 + broken; pass++)
        for (int d = 0; d < vd.n && !stop && rc == VOX_OK; d++) {
            char **files;
            int nf;
            if ((rc = dir_models(vd.dirs[d], pass, &files, &nf, VOX_MAX_LISTED_VOICES))) break;
            for (int i = 0; i < nf; i++) {
                if (!stop && n_seen < VOX_MAX_LISTED_VOICES &&
                    !listed_before(seen, n_seen, files[i])) {
                    seen[n_seen++] = files[i];
                    files[i] = NULL;
                    stop = piper_entry(vd.dirs[d], seen[n_seen - 1], broken, fn, user);
                }
                free(files[i]);
            }
            free(files);
        }
    for (int i = 0; i < n_seen; i++) free(seen[i]);
    free(seen);
    return rc;
}

int vox_list_voices(const vox_load_options *opt, unsigned what,
                    int (*fn)(const vox_voice_entry *v, void *user), void *user) {
    if (!fn) return VOX_ERR_ARG;
    if (what & VOX_LIST_ESPEAK) {
        espeak_list l = {fn, user, 0};
        int rc = vox_list_espeak_voices(opt ? opt->espeak_data : NULL, espeak_entry, &l);
        if (rc || l.stopped) return rc;
    }
    return what & VOX_LIST_PIPER ? list_piper(opt, !!(what & VOX_LIST_BROKEN), fn, user) : VOX_OK;
}

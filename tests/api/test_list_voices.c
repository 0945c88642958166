/* vox_list_voices: the one scanner. Valid Piper voices are listed with their config's
 * facts, invalid or config-less ones are not, a name in two dirs is listed once, espeak
 * voices come with VOX_LIST_ESPEAK, and fn's non-zero return stops the walk. */
#include "test.h"
#include "vox.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct seen {
    int n, n_espeak, en_us, multi_ok;
    char names[16][64];
    char paths[16][512];
    int stop_after;
} seen;

static int on_voice(const vox_voice_entry *v, void *user) {
    seen *s = user;
    if (!strcmp(v->kind, "espeak")) {
        s->n_espeak++;
        if (!strcmp(v->name, "espeak:en-us")) s->en_us = 1;
    } else if (s->n < 16) {
        snprintf(s->names[s->n], sizeof s->names[0], "%s", v->name);
        snprintf(s->paths[s->n], sizeof s->paths[0], "%s", v->path);
        if (v->num_speakers == 3 && v->speakers && !strcmp(v->speakers[2], "speaker2") &&
            v->sample_rate == 16000)
            s->multi_ok = 1;
        s->n++;
    }
    return s->stop_after && s->n + s->n_espeak >= s->stop_after;
}

static void put(const char *dir, const char *name, const char *text) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void link_voice(const char *dir, const char *as) {
    char cwd[256], src[768], dst[768];
    const char *sh = test_shared_dir();
    if (!getcwd(cwd, sizeof cwd)) return;
    snprintf(src, sizeof src, "%s%s%s/models/en_US-rand3spk-x_low.onnx", sh[0] == '/' ? "" : cwd,
             sh[0] == '/' ? "" : "/", sh);
    snprintf(dst, sizeof dst, "%s/%s.onnx", dir, as);
    CHECK(symlink(src, dst) == 0);
    strcat(src, ".json");
    strcat(dst, ".json");
    CHECK(symlink(src, dst) == 0);
}

int main(void) {
    char d1[] = "/tmp/vox-lv1-XXXXXX", d2[] = "/tmp/vox-lv2-XXXXXX";
    CHECK(mkdtemp(d1) && mkdtemp(d2));
    link_voice(d1, "good");
    link_voice(d2, "good"); /* same name in the second dir: listed once */
    link_voice(d2, "other");
    put(d1, "broken.onnx", "x");
    put(d1, "broken.onnx.json", "{not json");
    put(d1, "noconfig.onnx", "x");
    put(d1, ".hidden.onnx", "x");
    put(d1, "readme.txt", "x");

    const char *dirs[2] = {d1, d2};
    vox_load_options lo;
    vox_load_options_init(&lo);
    lo.data_dirs = dirs;
    lo.n_data_dirs = 2;
    seen s = {0};
    CHECK_EQ_INT(vox_list_voices(&lo, VOX_LIST_PIPER, on_voice, &s), VOX_OK);
    CHECK_EQ_INT(s.n, 2);
    CHECK_EQ_INT(s.n_espeak, 0);
    CHECK_STR(s.names[0], "good");
    CHECK(strstr(s.paths[0], d1) == s.paths[0]); /* the first dir wins, as loading does */
    CHECK_STR(s.names[1], "other");
    CHECK(s.multi_ok);

    /* every listed name loads */
    for (int i = 0; i < s.n; i++) {
        vox_voice *v = NULL;
        char err[256];
        CHECKF(vox_voice_load(s.names[i], &lo, &v, err, sizeof err) == VOX_OK, "%s: %s", s.names[i],
               err);
        vox_voice_free(v);
    }

    seen e = {0};
    CHECK_EQ_INT(vox_list_voices(&lo, VOX_LIST_ESPEAK | VOX_LIST_PIPER, on_voice, &e), VOX_OK);
    CHECK(e.n_espeak > 10);
    CHECK(e.en_us);
    CHECK_EQ_INT(e.n, 2);

    seen st = {.stop_after = 1};
    CHECK_EQ_INT(vox_list_voices(&lo, VOX_LIST_PIPER, on_voice, &st), VOX_OK);
    CHECK_EQ_INT(st.n, 1);
    CHECK_EQ_INT(vox_list_voices(&lo, VOX_LIST_PIPER, NULL, NULL), VOX_ERR_ARG);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", d1, d2);
    CHECK(system(cmd) == 0);
    TEST_SUMMARY();
}

/* Unit tests of the voice registry (src/server/voices.h): a full registry evicts the least
 * recently used voice nobody holds to load another, never a held one; all held -> an error
 * and nothing unloaded; a voice that fails to load evicts nothing; holds taken and dropped
 * from several threads at once never see their voice freed (run under ASan/TSan). The
 * backend is a counting one: each voice is its own heap copy of its name.
 * Also: "espeak:" names checked against the installed espeak-ng voices before any load
 * (unknown -> not found, no load, no entry; spellings of one voice -> one entry; every
 * canonical name really loads that voice in libvox); load errors remembered for the
 * listing; the scan reports broken Piper voices with their error (needs ../shared). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "voices.h"

/* libespeak-ng 1.51 (Debian 12) leaks 1344 bytes inside espeak_SetVoiceByName for some
 * voices (66 of the ~330 loads below, allocated and lost in the library): leak checking
 * is paused around those loads only, so the registry's own leaks are still caught. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VX_LSAN 1
#endif
#elif defined(__SANITIZE_ADDRESS__)
#define VX_LSAN 1
#endif
#ifdef VX_LSAN
#include <sanitizer/lsan_interface.h>
#define LSAN_PAUSE()  __lsan_disable()
#define LSAN_RESUME() __lsan_enable()
#else
#define LSAN_PAUSE()
#define LSAN_RESUME()
#endif

static int loads, frees, heal;
static char last_freed[VX_VOICE_NAME_MAX];
static pthread_mutex_t count_mu = PTHREAD_MUTEX_INITIALIZER;

static int count_load(vx_backend *e, const char *name, void **voice, vx_voice_meta *m, char *err,
                      size_t errlen) {
    if (!strncmp(name, "fail-", 5) && !heal) {
        snprintf(err, errlen, "voice '%.100s' not found", name);
        return VOX_ERR_NOT_FOUND;
    }
    char *v = strdup(name);
    if (!v) return VOX_ERR_NOMEM;
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->kind, sizeof(m->kind), "stub");
    m->sample_rate = 16000;
    *voice = v;
    pthread_mutex_lock(&count_mu);
    loads++;
    pthread_mutex_unlock(&count_mu);
    return VOX_OK;
}

static void count_free(vx_backend *e, void *voice) {
    pthread_mutex_lock(&count_mu);
    frees++;
    snprintf(last_freed, sizeof last_freed, "%s", (char *)voice);
    pthread_mutex_unlock(&count_mu);
    free(voice);
}

static vx_backend B;
static vx_voices V;

static vx_voice_ent *get(const char *name, int *rc) {
    vx_voice_ent *e = NULL;
    char err[256] = "";
    *rc = vx_voices_get(&V, name, &e, err, sizeof err);
    return e;
}

static int n_live(void) {
    vx_voices_lock(&V);
    int c = 0, n = atomic_load(&V.n);
    for (int i = 0; i < n; i++) c += V.ents[i].live;
    vx_voices_unlock(&V);
    return c;
}

static void test_lru(void) {
    char name[32];
    int rc;
    vx_voice_ent *held = get("v0", &rc); /* held throughout, least recently used */
    CHECK_EQ_INT(rc, VOX_OK);
    for (int i = 1; i < VX_MAX_VOICES; i++) {
        snprintf(name, sizeof name, "v%d", i);
        vx_voices_put(&V, get(name, &rc));
        CHECK_EQ_INT(rc, VOX_OK);
    }
    CHECK_EQ_INT(loads, VX_MAX_VOICES);
    CHECK_EQ_INT(n_live(), VX_MAX_VOICES);
    vx_voices_put(&V, get("v1", &rc)); /* v1 used again: v2 is now the LRU unheld one */
    CHECK_EQ_INT(loads, VX_MAX_VOICES);

    vx_voice_ent *e = get("new", &rc); /* one more: loads, v2 goes */
    CHECK_EQ_INT(rc, VOX_OK);
    CHECK(e && e->live && !strcmp((char *)e->voice, "new"));
    CHECK_EQ_INT(frees, 1);
    CHECK_STR(last_freed, "v2");
    CHECK(!vx_voices_loaded(&V, "v2"));
    CHECK(vx_voices_loaded(&V, "v0")); /* held: never evicted although older */
    CHECK(vx_voices_loaded(&V, "v1"));
    CHECK(vx_voices_loaded(&V, "new"));
    CHECK_EQ_INT(n_live(), VX_MAX_VOICES);
    CHECK_EQ_INT((int)V.evicted, 1);
    vx_voices_put(&V, e);

    /* the next one evicts v3 (v0 still held), and v2 comes back evicting v4 */
    vx_voices_put(&V, get("new2", &rc));
    CHECK_STR(last_freed, "v3");
    vx_voices_put(&V, get("v2", &rc));
    CHECK_EQ_INT(rc, VOX_OK);
    CHECK_STR(last_freed, "v4");
    CHECK(vx_voices_loaded(&V, "v2"));
    CHECK(held && held->live && !strcmp((char *)held->voice, "v0"));
    CHECK_EQ_INT(frees, 3);

    /* a voice that fails to load evicts nothing */
    get("fail-x", &rc);
    CHECK_EQ_INT(rc, VOX_ERR_NOT_FOUND);
    CHECK_EQ_INT(frees, 3);
    CHECK_EQ_INT(n_live(), VX_MAX_VOICES);
    vx_voices_put(&V, held);
}

static void test_all_held(void) {
    vx_voice_ent *hold[VX_MAX_VOICES];
    int rc, nh = 0;
    vx_voices_lock(&V);
    int n = atomic_load(&V.n);
    char names[VX_MAX_VOICES][VX_VOICE_NAME_MAX];
    for (int i = 0; i < n; i++) snprintf(names[i], sizeof names[i], "%s", V.ents[i].meta.name);
    vx_voices_unlock(&V);
    for (int i = 0; i < n; i++) {
        hold[nh] = get(names[i], &rc);
        CHECK_EQ_INT(rc, VOX_OK);
        if (hold[nh]) nh++;
    }
    int l0 = loads, f0 = frees;
    vx_voice_ent *e = get("one-too-many", &rc);
    CHECK_EQ_INT(rc, VOX_ERR_NOMEM); /* 503: every voice in use */
    CHECK(e == NULL);
    CHECK_EQ_INT(loads, l0);
    CHECK_EQ_INT(frees, f0);
    CHECK_EQ_INT(n_live(), VX_MAX_VOICES);
    /* one let go: that one makes room */
    CHECK_STR(hold[5]->meta.name, names[5]);
    vx_voices_put(&V, hold[5]);
    e = get("one-too-many", &rc);
    CHECK_EQ_INT(rc, VOX_OK);
    CHECK_STR(last_freed, names[5]);
    vx_voices_put(&V, e);
    for (int i = 0; i < nh; i++)
        if (i != 5) vx_voices_put(&V, hold[i]);
}

/* Threads get and put voices among more names than slots: a held voice's memory must stay
 * its own (ASan/TSan catch a free under it). */
#define THREADS 4
#define ROUNDS  3000

static int bad;

static void *churn(void *arg) {
    unsigned seed = (unsigned)(size_t)arg;
    char name[32];
    for (int r = 0; r < ROUNDS; r++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(name, sizeof name, "c%u", (seed >> 8) % (VX_MAX_VOICES + 16));
        int rc;
        vx_voice_ent *e = get(name, &rc);
        if (rc == VOX_ERR_NOMEM) continue; /* all held at that moment: allowed */
        if (rc != VOX_OK || !e || strcmp((char *)e->voice, name) || strcmp(e->meta.name, name))
            __atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
        vx_voices_put(&V, e);
    }
    return NULL;
}

static void test_threads(void) {
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, churn, (void *)(size_t)(i + 1));
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    CHECK_EQ_INT(bad, 0);
    CHECK(n_live() <= VX_MAX_VOICES);
    vx_voices_lock(&V);
    int held = 0, n = atomic_load(&V.n);
    for (int i = 0; i < n; i++) held += V.ents[i].refs;
    vx_voices_unlock(&V);
    CHECK_EQ_INT(held, 0);                 /* every get was put */
    CHECK_EQ_INT(loads - frees, n_live()); /* nothing leaked, nothing freed twice */
}

/* An unknown espeak name: not found, no load, no registry entry, the installed-list message. */
static void check_refused(const char *name) {
    int l0 = loads, n0 = atomic_load(&V.n), live0 = n_live();
    vx_voice_ent *e = NULL;
    char err[256] = "";
    int rc = vx_voices_get(&V, name, &e, err, sizeof err);
    CHECKF(rc == VOX_ERR_NOT_FOUND, "%s: rc %d", name, rc);
    CHECK(e == NULL);
    CHECKF(loads == l0, "%s: loaded", name);
    CHECK_EQ_INT(atomic_load(&V.n), n0);
    CHECK_EQ_INT(n_live(), live0);
    CHECKF(strstr(err, "not an installed espeak-ng voice") != NULL, "%s: '%s'", name, err);
}

/* A valid spelling: loads (or finds) the entry of its canonical name. */
static void check_accepted(const char *name, const char *canon) {
    int rc;
    vx_voice_ent *e = get(name, &rc);
    CHECKF(rc == VOX_OK, "%s: rc %d", name, rc);
    if (e) CHECKF(!strcmp(e->meta.name, canon), "%s: '%s', want '%s'", name, e->meta.name, canon);
    vx_voices_put(&V, e);
}

static void test_espeak_names(void) {
    char err[256] = "";
    CHECK_EQ_INT(vx_voices_check_espeak(&V, err, sizeof err), VOX_OK);
    CHECKF(V.espeak.n_voices >= 50 && V.espeak.n_variants >= 10, "%d voices, %d variants",
           V.espeak.n_voices, V.espeak.n_variants);
    static const char *const bad[] = {
        "espeak:xx-nope",     "espeak:no-such-voice", "espeak:en-us+nosuch",
        "espeak:en-us+f3+f2", "espeak:adam",          "espeak:zh",
        "espeak:en-us+0",     "espeak:en-us+20",      "espeak:en-us+123456",
        "espeak:mb-en1",      "espeak:+f3",           "espeak:a",
        "espeak:EN-XX",       "espeak:english"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) check_refused(bad[i]);
    int l0 = loads;
    /* README's names and other spellings of them: one entry each */
    check_accepted("espeak:en-us", "espeak:en-us");
    check_accepted("espeak:EN-US", "espeak:en-us");
    check_accepted("espeak:en-US", "espeak:en-us");
    check_accepted("espeak:En-Us+", "espeak:en-us");
    CHECK_EQ_INT(loads, l0 + 1);
    check_accepted("espeak:en", "espeak:en");
    check_accepted("espeak:en-gb", "espeak:en"); /* gmw/en's language, as vox lists it */
    check_accepted("espeak:de", "espeak:de");
    check_accepted("espeak:fr-fr", "espeak:fr");
    check_accepted("espeak:FR", "espeak:fr");
    check_accepted("espeak:afrikaans", "espeak:af"); /* espeak-ng's one-word voice name */
    check_accepted("espeak:cmn-latn-pinyin", "espeak:cmn-latn-pinyin");
    check_accepted("espeak:en-us+f3", "espeak:en-us+f3");
    check_accepted("espeak:EN-US+F3", "espeak:en-us+f3");
    check_accepted("espeak:en-us+13", "espeak:en-us+f3");     /* espeak-ng: 10 + n = female n */
    check_accepted("espeak:en-us+alex", "espeak:en-us+Alex"); /* the file's own case */
    check_accepted("espeak:de+m3", "espeak:de+m3");
    check_accepted("espeak:de+3", "espeak:de+m3");
    CHECK_EQ_INT(loads, l0 + 9);
    CHECK(vx_voices_loaded(&V, "espeak:EN-GB")); /* lookups canonicalize too */
    CHECK(!vx_voices_loaded(&V, "espeak:xx-nope"));
}

/* Every installed voice, by its canonical name and by its listed language, loads in libvox
 * as that voice (its language); a variant loads too: the check refuses nothing espeak-ng
 * has and its spelling picks the voice espeak-ng would. */
static void test_espeak_real_loads(void) {
    LSAN_PAUSE();
    const vx_espeak_names *t = &V.espeak;
    int bad_load = 0, bad_lang = 0;
    for (int i = 0; i < t->n_voices; i++) {
        const char *spell[2] = {t->voices[i].file, t->voices[i].lang};
        for (int k = 0; k < 2; k++) {
            char in[96], canon[96], err[256];
            if (!spell[k][0]) continue;
            snprintf(in, sizeof in, "%s", spell[k]);
            if (vx_espeak_names_resolve(t, in, canon, sizeof canon)) {
                bad_load++;
                fprintf(stderr, "  not resolved: %s\n", in);
                continue;
            }
            vox_voice *v = NULL;
            if (vox_voice_load(canon, NULL, &v, err, sizeof err)) {
                bad_load++;
                fprintf(stderr, "  %s (%s): %s\n", in, canon, err);
                continue;
            }
            vox_voice_info info;
            vox_voice_get_info(v, &info);
            /* the voice whose file that is: its main language (k=1: the one asked for) */
            if (strcasecmp(info.language, t->voices[i].lang) &&
                !(k == 1 && strcmp(canon + 7, t->voices[i].file))) {
                bad_lang++;
                fprintf(stderr, "  %s -> %s: language %s, want %s\n", in, canon, info.language,
                        t->voices[i].lang);
            }
            vox_voice_free(v);
        }
    }
    CHECKF(bad_load == 0, "%d installed voices do not load", bad_load);
    CHECKF(bad_lang == 0, "%d names load another voice", bad_lang);
    int bad_var = 0;
    for (int i = 0; i < t->n_variants; i++) {
        char in[96], canon[96], err[256];
        snprintf(in, sizeof in, "en-us+%s", t->variants[i]);
        vox_voice *v = NULL;
        if (vx_espeak_names_resolve(t, in, canon, sizeof canon) ||
            vox_voice_load(canon, NULL, &v, err, sizeof err))
            bad_var++;
        vox_voice_free(v);
    }
    LSAN_RESUME();
    CHECK_EQ_INT(bad_var, 0);
}

static void test_load_errors(void) {
    char err[256] = "";
    int rc;
    get("fail-remembered", &rc);
    CHECK_EQ_INT(rc, VOX_ERR_NOT_FOUND);
    CHECK(vx_voices_load_error(&V, "fail-remembered", err, sizeof err));
    CHECK(strstr(err, "fail-remembered") != NULL);
    CHECK(!vx_voices_load_error(&V, "v0", err, sizeof err));
    heal = 1; /* it loads now: forgotten */
    vx_voices_put(&V, get("fail-remembered", &rc));
    heal = 0;
    CHECK_EQ_INT(rc, VOX_OK);
    CHECK(!vx_voices_load_error(&V, "fail-remembered", err, sizeof err));
    /* bounded: the latest VX_MAX_FAILED failures are remembered, older ones dropped */
    char name[32];
    for (int i = 0; i < VX_MAX_FAILED + 5; i++) {
        snprintf(name, sizeof name, "fail-%d", i);
        get(name, &rc);
    }
    CHECK(!vx_voices_load_error(&V, "fail-0", err, sizeof err));
    CHECK(vx_voices_load_error(&V, "fail-5", err, sizeof err));
    snprintf(name, sizeof name, "fail-%d", VX_MAX_FAILED + 4);
    CHECK(vx_voices_load_error(&V, name, err, sizeof err));
}

/* ------------------------------------------------------------ scan with errors */

typedef struct seen {
    char names[16][VX_VOICE_NAME_MAX];
    char errs[16][256];
    int rate[16], n;
} seen;

static void on_status(void *ctx, const vx_voice_meta *m, const char *const *speakers,
                      int n_speakers, const char *error) {
    seen *s = ctx;
    if (s->n >= 16) return;
    snprintf(s->names[s->n], sizeof s->names[0], "%s", m->name);
    snprintf(s->errs[s->n], sizeof s->errs[0], "%s", error ? error : "");
    s->rate[s->n++] = m->sample_rate;
}

static void on_found(void *ctx, const vx_voice_meta *m, const char *const *speakers,
                     int n_speakers) {
    on_status(ctx, m, speakers, n_speakers, NULL);
}

static const char *err_of(const seen *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name)) return s->errs[i];
    return NULL;
}

static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static void test_scan_errors(void) {
    const char *shared = getenv("VOX_SHARED") ? getenv("VOX_SHARED") : "../shared";
    char model[512], cfg[520], cmd[2048];
    snprintf(model, sizeof model, "%s/models/en_US-rand-medium.onnx", shared);
    snprintf(cfg, sizeof cfg, "%s.json", model);
    if (access(model, R_OK) || access(cfg, R_OK)) {
        fprintf(stderr, "  no %s: scan checks not run (counted as failed)\n", model);
        CHECK(0);
        return;
    }
    char dir[] = "/tmp/vx-test-voices.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    /* good, bad-json, bad-rate (config invalid), no-model (config alone), no-config (model
     * alone); models are symlinks (the scan only stats them) */
    char *abs = realpath(model, NULL), *absc = realpath(cfg, NULL);
    snprintf(cmd, sizeof cmd,
             "cd %s && for v in good bad-json bad-rate no-config; do ln -s '%s' $v.onnx; done &&"
             " cp '%s' good.onnx.json && cp '%s' no-model.onnx.json &&"
             " sed 's/\"sample_rate\": *[0-9]*/\"sample_rate\": -5/' '%s' > bad-rate.onnx.json",
             dir, abs, absc, absc, absc);
    free(abs);
    free(absc);
    CHECK_EQ_INT(system(cmd), 0);
    char p[600];
    snprintf(p, sizeof p, "%s/bad-json.onnx.json", dir);
    CHECK_EQ_INT(write_file(p, "{\"audio\": {\"sample_rate\": 22050,"), 0);
    const char *dirs[1] = {dir};
    seen all = {0}, ok = {0};
    vx_voices_scan_status(&V, dirs, 1, on_status, &all);
    vx_voices_scan(&V, dirs, 1, on_found, &ok);
    CHECK_EQ_INT(all.n, 5);
    CHECK(err_of(&all, "good") && !err_of(&all, "good")[0]);
    const char *e1 = err_of(&all, "bad-json"), *e2 = err_of(&all, "bad-rate"),
               *e3 = err_of(&all, "no-model");
    CHECKF(e1 && e1[0], "bad-json: '%s'", e1 ? e1 : "(not listed)");
    CHECKF(e2 && strstr(e2, "sample_rate"), "bad-rate: '%s'", e2 ? e2 : "(not listed)");
    CHECKF(e3 && strstr(e3, "no-model.onnx"), "no-model: '%s'", e3 ? e3 : "(not listed)");
    const char *e5 = err_of(&all, "no-config");
    CHECKF(e5 && strstr(e5, ".onnx.json"), "no-config: '%s'", e5 ? e5 : "(not listed)");
    for (int i = 0; i < all.n; i++)
        if (all.errs[i][0]) CHECK_EQ_INT(all.rate[i], 0); /* no raw metadata */
    CHECK_EQ_INT(ok.n, 1);                                /* the plain scan: loadable voices only */
    CHECK(err_of(&ok, "good") != NULL);
    /* a valid config whose load failed is listed with that load's error */
    seen after = {0};
    heal = 0;
    int rc;
    get("fail-listed", &rc);
    snprintf(cmd, sizeof cmd,
             "cd %s && ln -s good.onnx fail-listed.onnx && cp good.onnx.json "
             "fail-listed.onnx.json",
             dir);
    CHECK_EQ_INT(system(cmd), 0);
    vx_voices_scan_status(&V, dirs, 1, on_status, &after);
    const char *e4 = err_of(&after, "fail-listed");
    CHECKF(e4 && strstr(e4, "fail-listed"), "fail-listed: '%s'", e4 ? e4 : "(not listed)");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void) {
    memset(&B, 0, sizeof B);
    B.name = "count";
    B.load = count_load;
    B.free_voice = count_free;
    vx_voices_init(&V, &B);
    test_lru();
    test_all_held();
    test_threads();
    test_espeak_names();
    test_espeak_real_loads();
    test_load_errors();
    test_scan_errors();
    vx_voices_free(&V);
    CHECK_EQ_INT(loads, frees);
    TEST_SUMMARY();
}

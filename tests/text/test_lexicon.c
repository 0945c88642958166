/* Pronunciation lexicon: source parsing (errors name the line), case rules, multi-word
 * keys, last-wins duplicates, image validation against damage, the FILE.vxlex cache,
 * application in the normalizer (IPA for Piper, respellings for espeak), an entry
 * changing the phonemes of a Piper and an espeak voice, and hot reload under load
 * losing no request. */
#include "test.h"
#include "text/lexicon.h"
#include "text/norm.h"
#include "text/phonemize.h"
#include "vox.h"
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

static vx_lex *compile(const char *src, unsigned char **img, size_t *n) {
    char err[256];
    vx_lex *l = NULL;
    if (vx_lex_compile(src, strlen(src), img, n, err, sizeof err)) return NULL;
    if (vx_lex_validate(*img, *n, err, sizeof err) ||
        vx_lex_from_memory(*img, *n, &l, err, sizeof err))
        return NULL;
    return l;
}

static const char *find(const vx_lex *l, const char *key) {
    static char buf[1100];
    vx_lex_hit h;
    if (!vx_lex_find(l, key, strlen(key), &h)) return NULL;
    snprintf(buf, sizeof buf, "%s%.*s", h.kind == VX_LEX_IPA ? "ipa:" : "", (int)h.value_len,
             h.value);
    return buf;
}

static void basics(void) {
    unsigned char *img;
    size_t n;
    vx_lex *l = compile("# comment\n"
                        "tomato\t/təˈmɑːtoʊ/\n"
                        "nginx\tengine x\r\n"
                        "!US\tU S\n"
                        "us\tuss\n"
                        "New   York\t/nuː jˈɔːɹk/\n"
                        "new york city\tthe big apple\n"
                        "Éclair\tay clair\n"
                        "ПРИВЕТ\tprivet\n"
                        "dup\tfirst\n"
                        "dup\tsecond\n"
                        "\n   \n",
                        &img, &n);
    CHECK(l != NULL);
    if (!l) return;
    CHECK_EQ_INT(vx_lex_count(l), 9);
    CHECK_EQ_INT(vx_lex_max_words(l), 3);
    CHECK_STR(find(l, "tomato"), "ipa:təˈmɑːtoʊ");
    CHECK_STR(find(l, "ToMaTo"), "ipa:təˈmɑːtoʊ"); /* case-free */
    CHECK_STR(find(l, "nginx"), "engine x");       /* CRLF stripped */
    CHECK_STR(find(l, "US"), "U S");               /* exact wins */
    CHECK_STR(find(l, "us"), "uss");
    CHECK_STR(find(l, "Us"), "uss");
    CHECK_STR(find(l, "new york"), "ipa:nuː jˈɔːɹk"); /* spaces collapsed */
    CHECK_STR(find(l, "éclair"), "ay clair");         /* Latin-1 folding */
    CHECK_STR(find(l, "привет"), "privet");           /* Cyrillic folding */
    CHECK_STR(find(l, "dup"), "second");              /* a later line wins */
    CHECK(find(l, "tomatoes") == NULL);
    CHECK(find(l, "tomat") == NULL);
    CHECK(find(l, "") == NULL);

    /* in the normalizer: longest match, word boundaries, IPA only for phoneme voices */
    const char *t = "New York City has US tomatoes, a tomato, and nginx.";
    vx_norm o;
    char err[256];
    vx_norm_opts no = {"en-us", 1, l, 1};
    CHECK_EQ_INT(vx_normalize_opts(&no, t, strlen(t), &o, err, sizeof err), 0);
    CHECK_STR(o.text, "the big apple has U S tomatoes, a [[təˈmɑːtoʊ]], and engine x.");
    size_t lo, hi;
    const char *w = strstr(o.text, "[[");
    vx_norm_map(&o, (size_t)(w - o.text), (size_t)(w - o.text) + 2, &lo, &hi);
    CHECK(lo == 33 && hi == 39); /* "tomato" */
    vx_norm_free(&o);
    no.ipa = 0;
    CHECK_EQ_INT(vx_normalize_opts(&no, t, strlen(t), &o, err, sizeof err), 0);
    CHECK_STR(o.text, "the big apple has U S tomatoes, a tomato, and engine x.");
    vx_norm_free(&o);
    t = "New York is big.";
    no.ipa = 1;
    no.rules = 0;
    CHECK_EQ_INT(vx_normalize_opts(&no, t, strlen(t), &o, err, sizeof err), 0);
    CHECK_STR(o.text, "[[nuː jˈɔːɹk]] is big.");
    vx_norm_free(&o);
    /* IPA words in a row share one block: one word gap between them, not two */
    t = "new york  tomato, tomato";
    CHECK_EQ_INT(vx_normalize_opts(&no, t, strlen(t), &o, err, sizeof err), 0);
    CHECK_STR(o.text, "[[nuː jˈɔːɹk təˈmɑːtoʊ]], [[təˈmɑːtoʊ]]");
    vx_norm_map(&o, 0, 4, &lo, &hi);
    CHECK(lo == 0 && hi == 16);
    vx_norm_free(&o);
    vx_lex_release(l);
    free(img);
}

static void errors(void) {
    static const struct {
        const char *src, *want;
    } bad[] = {
        {"ok\tfine\nnotab\n", "line 2"},     {"word\t/unclosed\n", "line 1: IPA"},
        {"\t/a/\n", "line 1: empty key"},    {"a b c d e f g h i\tx\n", "more than 8 words"},
        {"a\tb [[c]]\n", "not allowed"},     {"a\t\n", "empty pronunciation"},
        {"a\tb\x01\n", "control character"}, {"ok\tx\nbad\t\xff\xfe\n", "line 2: invalid UTF-8"},
        {"a\t//\n", "line 1: IPA"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char *img = NULL;
        size_t n;
        char err[256] = "";
        int rc = vx_lex_compile(bad[i].src, strlen(bad[i].src), &img, &n, err, sizeof err);
        CHECKF(rc != 0 && strstr(err, bad[i].want), "case %zu: rc %d, '%s'", i, rc, err);
        free(img);
    }
    char big[VX_LEX_MAX_KEY + 20];
    memset(big, 'a', sizeof big);
    memcpy(big + VX_LEX_MAX_KEY + 5, "\tx\n", 4);
    unsigned char *img = NULL;
    size_t n;
    char err[256];
    CHECK(vx_lex_compile(big, strlen(big), &img, &n, err, sizeof err) != 0 &&
          strstr(err, "key longer"));
    free(img);
}

/* Damaged images: refused by validation, and lookups in a header-valid but damaged
 * image stay inside the map (ASan checks the reads). */
static void damage(void) {
    unsigned char *img;
    size_t n;
    vx_lex *l = compile("alpha\ta\nbeta\tb\ngamma\t/g/\n", &img, &n);
    CHECK(l != NULL);
    if (!l) return;
    vx_lex_release(l);
    char err[256];
    CHECK(vx_lex_validate(img, 10, err, sizeof err) != 0);
    CHECK(vx_lex_validate(img, n - 1, err, sizeof err) != 0);
    unsigned char *c = malloc(n);
    memcpy(c, img, n);
    c[0] = 'X';
    CHECK(vx_lex_validate(c, n, err, sizeof err) != 0);
    CHECK(vx_lex_from_memory(c, n, &l, err, sizeof err) != 0);
    /* entry 1's key offset far outside */
    memcpy(c, img, n);
    uint32_t off = 0x7FFFFFFF;
    memcpy(c + 64 + 20, &off, 4);
    CHECK(vx_lex_validate(c, n, err, sizeof err) != 0 && strstr(err, "out of bounds"));
    CHECK_EQ_INT(vx_lex_from_memory(c, n, &l, err, sizeof err), 0);
    if (l) {
        vx_lex_hit h;
        CHECK(!vx_lex_find(l, "beta", 4, &h));
        vx_lex_find(l, "alpha", 5, &h);
        vx_lex_find(l, "gamma", 5, &h);
        vx_lex_release(l);
    }
    /* swapped entries: out of order */
    memcpy(c, img, n);
    memcpy(c + 64, img + 64 + 20, 20);
    memcpy(c + 64 + 20, img + 64, 20);
    CHECK(vx_lex_validate(c, n, err, sizeof err) != 0 && strstr(err, "order"));
    /* every single-byte corruption of the header and index: never a crash */
    for (size_t i = 0; i < 64 + 3 * 20; i++) {
        memcpy(c, img, n);
        c[i] ^= 0xA5;
        vx_lex_validate(c, n, err, sizeof err);
        if (!vx_lex_from_memory(c, n, &l, err, sizeof err)) {
            vx_lex_hit h;
            vx_lex_find(l, "beta", 4, &h);
            vx_lex_find(l, "zzz", 3, &h);
            vx_lex_release(l);
        }
    }
    free(c);
    free(img);
}

static void write_file(const char *path, const char *s) {
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.w", path);
    FILE *f = fopen(tmp, "w");
    fputs(s, f);
    fclose(f);
    rename(tmp, path); /* atomic replace, as an editor or deploy would */
}

static void files(const char *dir) {
    char src[256], cache[300], imgp[300], err[256];
    snprintf(src, sizeof src, "%s/words.lex", dir);
    snprintf(cache, sizeof cache, "%s.vxlex", src);
    snprintf(imgp, sizeof imgp, "%s/words.img", dir);
    write_file(src, "peking\tbeijing\n");
    vx_lex *l;
    CHECK_EQ_INT(vx_lex_open(src, &l, err, sizeof err), 0);
    struct stat a, b;
    CHECK(stat(cache, &a) == 0);
    if (l) {
        CHECK_STR(find(l, "Peking"), "beijing");
        vx_lex_release(l);
    }
    CHECK_EQ_INT(vx_lex_open(src, &l, err, sizeof err), 0); /* reuses the cache */
    CHECK(stat(cache, &b) == 0 && a.st_ino == b.st_ino && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec);
    vx_lex_release(l);
    CHECK_EQ_INT(vox_lexicon_compile(src, imgp, err, sizeof err), 0);
    vox_lexicon *vl;
    CHECK_EQ_INT(vox_lexicon_open(imgp, &vl, err, sizeof err), 0);
    CHECK_EQ_INT(vox_lexicon_size(vl), 1);
    vox_lexicon_free(vl);
    CHECK(vox_lexicon_open("/nonexistent/x.lex", &vl, err, sizeof err) == VOX_ERR_NOT_FOUND);
    write_file(src, "broken line\n");
    CHECK(vox_lexicon_open(src, &vl, err, sizeof err) == VOX_ERR_CONFIG && strstr(err, "line 1"));
}

/* The phonemes of a word change for a Piper-style phonemization (IPA entry) and for an
 * espeak voice (respelling), and equal those of the pronunciation given. */
static void voices(void) {
    unsigned char *img;
    size_t n;
    vx_lex *l = compile("peking\tbay jing\nzebra\t/zˈɛbɹə/\n", &img, &n);
    CHECK(l != NULL);
    if (!l) return;
    vx_phonemize_opts po = {"en-us", NULL, 0};
    const char *t = "A zebra in Peking.";
    vx_norm o;
    char err[256];
    vx_norm_opts no = {"en-us", 1, l, 1};
    CHECK_EQ_INT(vx_normalize_opts(&no, t, strlen(t), &o, err, sizeof err), 0);
    vx_sentence *s1, *s2;
    size_t n1, n2;
    CHECK_EQ_INT(vx_phonemize(&po, o.text, o.len, &s1, &n1, err, sizeof err), 0);
    const char *want = "A [[zˈɛbɹə]] in bay jing.";
    CHECK_EQ_INT(vx_phonemize(&po, want, strlen(want), &s2, &n2, err, sizeof err), 0);
    CHECK(n1 == 1 && n2 == 1 && s1[0].n_phonemes == s2[0].n_phonemes &&
          !memcmp(s1[0].phonemes, s2[0].phonemes, s1[0].n_phonemes * 4));
    vx_sentences_free(s1, n1);
    vx_sentences_free(s2, n2);
    CHECK_EQ_INT(vx_phonemize(&po, t, strlen(t), &s2, &n2, err, sizeof err), 0);
    CHECK(n2 == 1 && s2[0].n_phonemes != 0);
    vx_norm_free(&o);
    CHECK_EQ_INT(vx_normalize_opts(&no, t, strlen(t), &o, err, sizeof err), 0);
    CHECK_EQ_INT(vx_phonemize(&po, o.text, o.len, &s1, &n1, err, sizeof err), 0);
    CHECK(!(s1[0].n_phonemes == s2[0].n_phonemes &&
            !memcmp(s1[0].phonemes, s2[0].phonemes, s2[0].n_phonemes * 4)));
    vx_sentences_free(s1, n1);
    vx_sentences_free(s2, n2);
    vx_norm_free(&o);

    /* espeak voice through libvox: phoneme timings follow the respelling */
    vox_voice *v;
    CHECK_EQ_INT(vox_voice_load("espeak:en-us", NULL, &v, err, sizeof err), VOX_OK);
    char ph[3][512];
    const char *texts[3] = {"Peking", "Peking", "bay jing"};
    for (int k = 0; k < 3 && v; k++) {
        vox_synth_options so;
        vox_synth_options_init(&so);
        so.timings = 1;
        so.lexicon = k == 1 ? (vox_lexicon *)l : NULL;
        vox_synth *s;
        ph[k][0] = 0;
        CHECK_EQ_INT(vox_synth_start(v, texts[k], strlen(texts[k]), &so, &s), VOX_OK);
        vox_chunk c;
        do {
            if (vox_synth_next(s, &c)) break;
            for (size_t i = 0; i < c.n_phonemes; i++)
                if (c.phonemes[i].phoneme)
                    strncat(ph[k], c.phonemes[i].phoneme, sizeof ph[k] - strlen(ph[k]) - 1);
            if (k == 1)
                for (size_t i = 0; i < c.n_words; i++)
                    CHECK(c.words[i].text_offset == 0 && c.words[i].text_length == 6);
        } while (!c.last);
        vox_synth_free(s);
    }
    CHECKF(strcmp(ph[0], ph[1]) && !strcmp(ph[1], ph[2]), "'%s' '%s' '%s'", ph[0], ph[1], ph[2]);
    vox_voice_free(v);
    vx_lex_release(l);
    free(img);
}

/* Hot reload under load: threads keep starting syntheses with the watch's current
 * lexicon while the file is replaced; every request succeeds, and once reloaded the
 * new entry is what a request gets. */
typedef struct load {
    vox_lexicon_watch *w;
    vox_voice *v;
    int ok, failed, stop;
    int saw_new;
} load;

static void *worker(void *arg) {
    load *ld = arg;
    while (!__atomic_load_n(&ld->stop, __ATOMIC_ACQUIRE)) {
        vox_lexicon *lx = vox_lexicon_watch_get(ld->w);
        vox_synth_options so;
        vox_synth_options_init(&so);
        so.lexicon = lx;
        vox_synth *s;
        const char *t = "Peking.";
        int rc = vox_synth_start(ld->v, t, strlen(t), &so, &s);
        vox_lexicon_free(lx); /* the synthesis holds its own reference */
        vox_chunk c;
        if (!rc) rc = vox_synth_next(s, &c);
        if (!rc && c.n_samples == 0) rc = -100;
        vx_lex_hit h;
        vox_lexicon *now = vox_lexicon_watch_get(ld->w);
        if (vx_lex_find((vx_lex *)now, "peking", 6, &h) && h.value_len == 7 &&
            !memcmp(h.value, "beijing", 7))
            __atomic_store_n(&ld->saw_new, 1, __ATOMIC_RELEASE);
        vox_lexicon_free(now);
        vox_synth_free(s);
        if (rc)
            __atomic_add_fetch(&ld->failed, 1, __ATOMIC_RELAXED);
        else
            __atomic_add_fetch(&ld->ok, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void reload(const char *dir) {
    char src[256], err[256];
    snprintf(src, sizeof src, "%s/hot.lex", dir);
    write_file(src, "peking\tbay jing\n");
    load ld = {0};
    CHECK_EQ_INT(vox_lexicon_watch_open(src, 0, &ld.w, err, sizeof err), 0);
    CHECK_EQ_INT(vox_voice_load("espeak:en-us", NULL, &ld.v, err, sizeof err), VOX_OK);
    if (!ld.w || !ld.v) return;
    pthread_t th[3];
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, worker, &ld);
    for (int r = 0; r < 6; r++) {
        usleep(60000);
        write_file(src, r % 2 ? "peking\tbay jing\n" : "peking\tbeijing\n# filler\n");
    }
    write_file(src, "peking\tbeijing\n");
    usleep(150000);
    __atomic_store_n(&ld.stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    unsigned reloads = vx_lex_watch_status((vx_lex_watch *)ld.w, err, sizeof err);
    printf("reload under load: %d requests ok, %d failed, %u reloads\n", ld.ok, ld.failed, reloads);
    CHECK(ld.ok > 0);
    CHECK_EQ_INT(ld.failed, 0);
    CHECK(reloads >= 1);
    CHECK(ld.saw_new);
    vox_lexicon *lx = vox_lexicon_watch_get(ld.w);
    CHECK_STR(find((vx_lex *)lx, "peking"), "beijing");
    vox_lexicon_free(lx);
    /* a broken file keeps the last good lexicon */
    write_file(src, "no tab here\n");
    usleep(20000);
    lx = vox_lexicon_watch_get(ld.w);
    CHECK_STR(find((vx_lex *)lx, "peking"), "beijing");
    vox_lexicon_free(lx);
    vx_lex_watch_status((vx_lex_watch *)ld.w, err, sizeof err);
    CHECK(strstr(err, "line 1") != NULL);
    vox_lexicon_watch_free(ld.w);
    vox_voice_free(ld.v);
}

int main(void) {
    char dir[] = "/tmp/vox_lex_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    basics();
    errors();
    damage();
    files(dir);
    voices();
    reload(dir);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {}
    TEST_SUMMARY();
}

/* Text normalization: the corpus tests/text/norm/<lang>.tsv (written form -> an accepted
 * spoken form) is checked by phonemizing both with espeak-ng the way Piper does (the
 * written form normalized, the spoken form as it is) and comparing the phonemes, so any
 * spelling with the same pronunciation passes. Plus: span mapping back to the input,
 * identity on text with nothing to normalize, limits, and the libvox integration
 * (timings point at "$500"; text_norm = 0 leaves the text alone). */
#include "test.h"
#include "text/norm.h"
#include "text/phonemize.h"
#include "vox.h"

static char *phonemes(const char *voice, const char *text, size_t len) {
    vx_phonemize_opts o = {voice, NULL, 0};
    vx_sentence *s;
    size_t n;
    char err[256];
    if (vx_phonemize(&o, text, len, &s, &n, err, sizeof err)) return NULL;
    size_t cap = 64, k = 0;
    for (size_t i = 0; i < n; i++) cap += s[i].n_phonemes * 4 + 4;
    char *out = malloc(cap);
    for (size_t i = 0; out && i < n; i++) {
        if (i) out[k++] = '|';
        for (size_t j = 0; j < s[i].n_phonemes; j++) {
            uint32_t c = s[i].phonemes[j];
            if (c < 0x80)
                out[k++] = (char)c;
            else if (c < 0x800) {
                out[k++] = (char)(0xC0 | c >> 6);
                out[k++] = (char)(0x80 | (c & 63));
            } else if (c < 0x10000) {
                out[k++] = (char)(0xE0 | c >> 12);
                out[k++] = (char)(0x80 | ((c >> 6) & 63));
                out[k++] = (char)(0x80 | (c & 63));
            } else {
                out[k++] = (char)(0xF0 | c >> 18);
                out[k++] = (char)(0x80 | ((c >> 12) & 63));
                out[k++] = (char)(0x80 | ((c >> 6) & 63));
                out[k++] = (char)(0x80 | (c & 63));
            }
        }
    }
    if (out) out[k] = 0;
    vx_sentences_free(s, n);
    return out;
}

/* Returns the number of cases checked. */
/* tag: the normalizer's language; voice: the espeak-ng voice that phonemizes. */
static int corpus(const char *file, const char *tag, const char *voice, const char *gb_voice) {
    FILE *f = fopen(file, "r");
    CHECKF(f != NULL, "cannot open %s", file);
    if (!f) return 0;
    char line[2048], err[256];
    int n = 0, bad = 0;
    const char *tag0 = tag;
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r')) line[--l] = 0;
        if (!l || line[0] == '#') continue;
        char *tab = strchr(line, '\t');
        CHECKF(tab != NULL, "%s: no tab in '%s'", file, line);
        if (!tab) continue;
        *tab = 0;
        const char *written = line, *spoken = tab + 1, *v = voice;
        if (!strncmp(written, "gb:", 3)) {
            written += 3;
            v = gb_voice;
            tag = "en-gb";
        }
        vx_norm nm;
        int rc = vx_normalize(tag, written, strlen(written), &nm, err, sizeof err);
        CHECKF(rc == 0, "%s: normalize '%s': %s", file, written, err);
        if (rc) continue;
        char *a = phonemes(v, nm.text, nm.len), *b = phonemes(v, spoken, strlen(spoken));
        int ok = a && b && !strcmp(a, b);
        CHECKF(ok, "%s [%s] '%s' -> '%s' (%s), want '%s' (%s)", file, v, written, nm.text,
               a ? a : "?", spoken, b ? b : "?");
        bad += !ok;
        n++;
        free(a);
        free(b);
        vx_norm_free(&nm);
        tag = tag0;
    }
    fclose(f);
    printf("%s: %d cases, %d differ\n", file, n, bad);
    return n;
}

static void spans(void) {
    const char *t = "It costs $500 today, at 8:30 pm.";
    vx_norm n;
    char err[256];
    CHECK_EQ_INT(vx_normalize("en-us", t, strlen(t), &n, err, sizeof err), 0);
    CHECK_STR(n.text, "It costs five hundred dollars today, at eight thirty PM.");
    const char *w = strstr(n.text, "hundred");
    size_t lo, hi;
    vx_norm_map(&n, (size_t)(w - n.text), (size_t)(w - n.text) + 7, &lo, &hi);
    CHECK_EQ_INT(lo, 9);
    CHECK_EQ_INT(hi, 13); /* "$500" */
    w = strstr(n.text, "today");
    vx_norm_map(&n, (size_t)(w - n.text), (size_t)(w - n.text) + 5, &lo, &hi);
    CHECK_EQ_INT(lo, 14);
    CHECK_EQ_INT(hi, 19); /* copied words map exactly */
    w = strstr(n.text, "thirty");
    vx_norm_map(&n, (size_t)(w - n.text), (size_t)(w - n.text) + 6, &lo, &hi);
    CHECK(lo == 24 && hi == 31); /* "8:30 pm" */
    /* whole text maps to whole text; every byte maps inside the input, monotonically */
    vx_norm_map(&n, 0, n.len, &lo, &hi);
    CHECK(lo == 0 && hi == strlen(t));
    size_t prev = 0;
    int mono = 1;
    for (size_t i = 0; i < n.len; i++) {
        vx_norm_map(&n, i, i + 1, &lo, &hi);
        if (lo < prev || hi > strlen(t) || hi < lo) mono = 0;
        prev = lo;
    }
    CHECK(mono);
    /* pieces cover the output contiguously */
    size_t o = 0;
    int contiguous = 1;
    for (size_t i = 0; i < n.np; i++) {
        if (n.p[i].out_off != o) contiguous = 0;
        o += n.p[i].out_len;
    }
    CHECK(contiguous && o == n.len);
    vx_norm_free(&n);
}

static void identity(void) {
    const char *texts[] = {"Hello world. This has nothing to read out loud differently!",
                           "Quotes \"and\" (brackets), semicolons; and dashes - too.", "",
                           "Ünïcödé wörds stay as they are: café, naïve, Straße.",
                           "[[ h ə l oʊ ]] raw phonemes and [[$500]] stay."};
    const char *langs[] = {"en-us", "de", "fr", "es", "xx", NULL};
    for (int l = 0; langs[l]; l++)
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            vx_norm n;
            char err[256];
            CHECK_EQ_INT(vx_normalize(langs[l], texts[i], strlen(texts[i]), &n, err, sizeof err),
                         0);
            CHECKF(n.len == strlen(texts[i]) && !memcmp(n.text, texts[i], n.len),
                   "%s: '%s' -> '%s'", langs[l], texts[i], n.text);
            CHECK(n.np <= 1);
            vx_norm_free(&n);
        }
}

static void limits(void) {
    /* "½ " (3 bytes) says "one half " (9): 300k of them exceed the output limit */
    size_t k = 300000, len = 3 * k;
    char *t = malloc(len + 1);
    for (size_t i = 0; i < k; i++) memcpy(t + 3 * i, "\xC2\xBD ", 3);
    t[len] = 0;
    vx_norm n;
    char err[256] = "";
    CHECK_EQ_INT(vx_normalize("en-us", t, len, &n, err, sizeof err), VOX_ERR_TOO_LONG);
    CHECK(strstr(err, "exceeds") != NULL);
    CHECK(n.text == NULL);
    /* long digit runs read digit by digit, never overflow */
    memset(t, '9', 40);
    t[40] = 0;
    CHECK_EQ_INT(vx_normalize("en-us", t, 40, &n, err, sizeof err), 0);
    CHECK(n.len > 0);
    vx_norm_free(&n);
    free(t);
    CHECK(vx_roman_value("MMXXVI", 6) == 2026);
    CHECK(vx_roman_value("IIII", 4) == 0);
    CHECK(vx_roman_value("VX", 2) == 0);
    int reg;
    CHECK(vx_norm_lang_for("en_GB", &reg) == &vx_norm_en && reg == VX_NORM_REGION_GB);
    CHECK(vx_norm_lang_for("en-us", &reg) == &vx_norm_en && reg == VX_NORM_REGION_US);
    CHECK(vx_norm_lang_for("es-419", &reg) == &vx_norm_es);
    CHECK(vx_norm_lang_for("eo", &reg) == NULL);
    CHECK(vx_norm_lang_for("english", &reg) == NULL);
}

/* Through libvox with an espeak voice: word timings of "five hundred dollars" all point
 * at "$500"; with text_norm = 0 the words are espeak's own reading of the text. */
static void api(void) {
    vox_voice *v;
    char err[256];
    CHECK_EQ_INT(vox_voice_load("espeak:en-us", NULL, &v, err, sizeof err), VOX_OK);
    if (!v) return;
    const char *t = "Pay $500 now.";
    for (int norm = 1; norm >= 0; norm--) {
        vox_synth_options o;
        vox_synth_options_init(&o);
        CHECK_EQ_INT(o.text_norm, 1);
        o.text_norm = norm;
        o.timings = 1;
        vox_synth *s;
        CHECK_EQ_INT(vox_synth_start(v, t, strlen(t), &o, &s), VOX_OK);
        vox_chunk c;
        size_t words = 0, at500 = 0, samples = 0;
        int bad_span = 0;
        do {
            if (vox_synth_next(s, &c)) break;
            samples += c.n_samples;
            if (c.text_offset + c.text_length > strlen(t)) bad_span = 1;
            for (size_t i = 0; i < c.n_words; i++) {
                words++;
                if (c.words[i].text_offset + c.words[i].text_length > strlen(t)) bad_span = 1;
                if (c.words[i].text_offset == 4 && c.words[i].text_length == 4) at500++;
            }
        } while (!c.last);
        CHECK(samples > 0);
        CHECK(!bad_span);
        /* "five hundred dollars": one word timing for "$500" */
        if (norm) CHECKF(at500 == 1 && words == 3, "%zu of %zu words point at $500", at500, words);
        vox_synth_free(s);
    }
    vox_voice_free(v);
}

int main(void) {
    int en = corpus("tests/text/norm/en.tsv", "en-us", "en-us", "en");
    int de = corpus("tests/text/norm/de.tsv", "de", "de", "de");
    int fr = corpus("tests/text/norm/fr.tsv", "fr-fr", "fr", "fr");
    int es = corpus("tests/text/norm/es.tsv", "es", "es", "es");
    CHECKF(en >= 200, "English corpus has %d cases", en);
    CHECKF(de >= 20 && fr >= 20 && es >= 20, "de %d, fr %d, es %d cases", de, fr, es);
    spans();
    identity();
    limits();
    api();
    TEST_SUMMARY();
}

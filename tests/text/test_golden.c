/* Golden corpus: recompute Piper phoneme ids for tests/text/golden/<lang>.txt and
 * compare with <lang>.ids, whose "OK" lines scripts/golden/confirm.sh confirmed
 * against an independent implementation (sherpa-onnx's piper-phonemize + espeak-ng).
 * "DIFF" lines are known differences (see golden/README.md) and are not compared. */
#include "test.h"
#include "voice/ids.h"
#include "text/phonemize.h"
#include "voice/piper_config.h"

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

/* Our ids for one text line in the golden format. */
static char *ids_line(const vx_piper_config *c, const char *voice, const char *text) {
    vx_phonemize_opts o = {voice, NULL, 0};
    vx_sentence *s;
    size_t n, cap = 1 << 16, k = 0;
    char err[256];
    char *out = malloc(cap);
    if (!out || vx_phonemize(&o, text, strlen(text), &s, &n, err, sizeof err)) {
        free(out);
        return NULL;
    }
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t *ids;
        size_t ni;
        if (vx_phonemes_to_ids(c, s[i].phonemes, s[i].n_phonemes, &ids, &ni, NULL, err, sizeof err))
            break;
        if (i) k += (size_t)snprintf(out + k, cap - k, " | ");
        for (size_t j = 0; j < ni && k < cap - 32; j++)
            k += (size_t)snprintf(out + k, cap - k, j ? ",%lld" : "%lld", (long long)ids[j]);
        free(ids);
    }
    vx_sentences_free(s, n);
    return out;
}

static void check_lang(const vx_piper_config *c, const char *lang, const char *voice,
                       int min_lines) {
    char path[256];
    snprintf(path, sizeof path, "tests/text/golden/%s.txt", lang);
    char *text = read_all(path);
    snprintf(path, sizeof path, "tests/text/golden/%s.ids", lang);
    char *exp = read_all(path);
    CHECKF(text && exp, "missing golden files for %s", lang);
    if (!text || !exp) {
        free(text);
        free(exp);
        return;
    }
    int lines = 0, ok = 0, confirmed = 0, known = 0;
    char *tsave, *esave;
    char *t = strtok_r(text, "\n", &tsave);
    char *e = strtok_r(exp, "\n", &esave);
    for (; t && e; t = strtok_r(NULL, "\n", &tsave), e = strtok_r(NULL, "\n", &esave)) {
        lines++;
        char *tab = strchr(e, '\t');
        CHECKF(tab != NULL, "%s line %d: bad format", lang, lines);
        if (!tab) continue;
        *tab = 0;
        if (strcmp(e, "OK")) {
            known++;
            continue;
        }
        confirmed++;
        char *ours = ids_line(c, voice, t);
        int same = ours && !strcmp(ours, tab + 1);
        CHECKF(same, "%s line %d differs: %s\n  ours: %s\n  want: %s", lang, lines, t,
               ours ? ours : "(error)", tab + 1);
        ok += same;
        free(ours);
    }
    CHECKF(!t && !e, "%s: .txt and .ids line counts differ", lang);
    CHECKF(lines >= min_lines, "%s: %d lines, want >= %d", lang, lines, min_lines);
    printf("%s: %d lines, %d oracle-confirmed, %d match, %d known differences\n", lang, lines,
           confirmed, ok, known);
    free(text);
    free(exp);
}

int main(void) {
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/models/en_US-rand-medium.onnx.json", test_shared_dir());
    vx_piper_config *c;
    CHECKF(vx_piper_config_load(path, &c, err, sizeof err) == 0, "%s", err);
    if (!c) TEST_SUMMARY();
    check_lang(c, "en", "en-us", 80);
    check_lang(c, "tricky", "en-us", 30);
    check_lang(c, "de", "de", 10);
    check_lang(c, "fr", "fr", 10);
    check_lang(c, "es", "es", 10);
    vx_piper_config_free(c);
    TEST_SUMMARY();
}

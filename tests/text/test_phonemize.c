/* Unit tests for the Piper front end: clause terminators, sentence ends, raw
 * phonemes, NFD, spans. Expected phoneme strings for espeak are written with the
 * terminator rules spelled out in phonemize.c (and confirmed against the oracle in
 * the golden corpus); they are checked by pattern (terminator at the end, sentence
 * count) so that espeak's own pronunciations are not hard-coded here. */
#include "test.h"
#include "text/clause.h"
#include "text/espeak.h"
#include "text/phonemize.h"
#include "text/unicode.h"
#include "vox.h"

static char g_buf[1 << 16];

/* Phonemes of sentence i as UTF-8 (static buffer). */
static const char *ph_str(const vx_sentence *s) {
    size_t k = 0;
    for (size_t j = 0; j < s->n_phonemes && k + 4 < sizeof g_buf; j++)
        k += vx_utf8_put(s->phonemes[j], g_buf + k);
    g_buf[k] = 0;
    return g_buf;
}

static size_t run(const char *voice, const char *text, vx_sentence **s) {
    vx_phonemize_opts o = {voice, NULL, 0};
    size_t n = 0;
    char err[256] = "";
    int rc = vx_phonemize(&o, text, strlen(text), s, &n, err, sizeof err);
    CHECKF(rc == 0, "'%s': %s", text, err);
    return rc ? 0 : n;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* text -> expected sentence count and, per sentence, the expected ending. */
static void expect(const char *voice, const char *text, int n_expected,
                   const char *const *endings) {
    vx_sentence *s = NULL;
    size_t n = run(voice, text, &s);
    CHECKF((int)n == n_expected, "'%s': %zu sentences, want %d", text, n, n_expected);
    for (size_t i = 0; i < n && (int)i < n_expected; i++) {
        const char *p = ph_str(&s[i]);
        CHECKF(ends_with(p, endings[i]), "'%s' sentence %zu '%s' should end with '%s'", text, i, p,
               endings[i]);
    }
    vx_sentences_free(s, n);
}

/* Does sentence contain the substring? */
static int contains(const vx_sentence *s, const char *sub) {
    return strstr(ph_str(s), sub) != NULL;
}

static void test_terminators(void) {
    expect("en-us", "Hello world.", 1, (const char *[]){"d."});
    expect("en-us", "Hello world", 1, (const char *[]){"d"}); /* EOF: nothing */
    expect("en-us", "Is it?", 1, (const char *[]){"?"});
    expect("en-us", "Stop!", 1, (const char *[]){"!"});
    expect("en-us", "Really?! Yes.", 2, (const char *[]){"?", "."}); /* ?! counts as ? */
    expect("en-us", "No!? Yes.", 2, (const char *[]){"!", "."});     /* first decides */
    /* , : ; add a space and do not end the sentence */
    vx_sentence *s;
    size_t n = run("en-us", "One, two: three; four.", &s);
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        CHECK(contains(&s[0], ", "));
        CHECK(contains(&s[0], ": "));
        CHECK(contains(&s[0], "; "));
        CHECK(ends_with(ph_str(&s[0]), "."));
    }
    vx_sentences_free(s, n);
    /* dashes end a clause as ';' */
    n = run("en-us", "Yes \xe2\x80\x94 no.", &s); /* em dash */
    CHECK(n == 1 && contains(&s[0], "; "));
    vx_sentences_free(s, n);
    n = run("en-us", "Yes \xe2\x80\x93 no.", &s); /* en dash */
    CHECK(n == 1 && contains(&s[0], "; "));
    vx_sentences_free(s, n);
    /* ellipsis: nothing appended, no sentence end, next clause joins with no space */
    n = run("en-us", "Wait... what.", &s);
    CHECK_EQ_INT(n, 1);
    if (n == 1)
        CHECK(!contains(&s[0], " ") && !contains(&s[0], ".w") && ends_with(ph_str(&s[0]), "."));
    vx_sentences_free(s, n);
    n = run("en-us", "Wait\xe2\x80\xa6 what.", &s);
    CHECK_EQ_INT(n, 1);
    if (n == 1) CHECK(!contains(&s[0], " "));
    vx_sentences_free(s, n);
    /* two dots are not an ellipsis (and not a terminator before a space+lower word) */
    n = run("en-us", "a.. b.", &s);
    CHECK_EQ_INT(n, 1);
    vx_sentences_free(s, n);
    /* a dot before a lower-case word does not end the clause */
    expect("en-us", "Call me at 5 p.m. tomorrow.", 1, (const char *[]){"."});
    /* ... but espeak ends a sentence after an abbreviation before a capital */
    expect("en-us", "Ask Dr. Smith.", 2, (const char *[]){".", "."});
    expect("en-us", "On Jan. First.", 2, (const char *[]){".", "."});
    /* a blank line ends a sentence with nothing appended; a single newline does not */
    expect("en-us", "Hello\n\nWorld", 2, (const char *[]){"oʊ", "d"});
    expect("en-us", "Hello.\n\nWorld.", 2, (const char *[]){"oʊ", "."});
    expect("en-us", "Hello\nworld.", 1, (const char *[]){"."});
    /* closing quote: the terminator still counts; the empty clause is dropped */
    expect("en-us", "He said \"yes.\"", 1, (const char *[]){"."});
    expect("en-us", "\"Yes,\" he said.", 1, (const char *[]){"."});
    /* punctuation needs a space, bracket, quote or the end after it */
    expect("en-us", "It is 3.14 now.", 1, (const char *[]){"."});
    /* inverted Spanish marks at a clause start are ignored */
    expect("es",
           "\xc2\xbf"
           "Qu\xc3\xa9 tal?",
           1, (const char *[]){"?"});
    /* German ordinal dot before a lower-case word / a capital */
    expect("de", "Am 3. oktober.", 1, (const char *[]){"."});
    expect("de", "Am 3. Oktober.", 2, (const char *[]){".", "."});
    /* non-ASCII classes follow Unicode tables: a dot before a lower-case é */
    expect("fr", "Il est 5 h. \xc3\xa9t\xc3\xa9.", 1, (const char *[]){"."});
    /* nothing to say */
    n = run("en-us", "", &s);
    CHECK_EQ_INT(n, 0);
    vx_sentences_free(s, n);
    n = run("en-us", " ... \"\" () ", &s);
    CHECK_EQ_INT(n, 0);
    vx_sentences_free(s, n);
}

static void test_lang_flags_nfd(void) {
    vx_sentence *s;
    /* espeak switches language for some words and marks it "(en)...(fr)"; Piper drops
     * the marks. */
    size_t n = run("fr", "Le weekend.", &s);
    CHECK(n == 1 && !contains(&s[0], "(") && !contains(&s[0], ")"));
    vx_sentences_free(s, n);
    /* NFD: German ich -> ç decomposes to c + U+0327 */
    n = run("de", "ich.", &s);
    CHECK(n == 1 && contains(&s[0], "c\xcc\xa7") && !contains(&s[0], "\xc3\xa7"));
    vx_sentences_free(s, n);
}

static void test_raw_phonemes(void) {
    vx_sentence *s;
    size_t n = run("en-us", "[[ h ə l ˈoʊ ]]", &s);
    CHECK_EQ_INT(n, 1);
    if (n == 1) CHECK_STR(ph_str(&s[0]), "h ə l ˈoʊ"); /* stripped, taken as is */
    vx_sentences_free(s, n);
    /* spaces around the block come from the neighbouring text; the text after the block
     * continues the sentence; a raw block never splits sentences */
    n = run("en-us", "Say [[ a ]] now. Bye.", &s);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK(contains(&s[0], " a "));
        CHECK(ends_with(ph_str(&s[0]), "."));
    }
    vx_sentences_free(s, n);
    /* a block after a finished sentence joins that sentence (Piper's phonemes[-1]) */
    n = run("en-us", "Hi. [[ x ]]", &s);
    CHECK_EQ_INT(n, 1);
    if (n == 1) CHECK(ends_with(ph_str(&s[0]), ". x"));
    vx_sentences_free(s, n);
    /* not a block: newline inside, or unclosed */
    n = run("en-us", "[[ a\nb ]] c.", &s);
    CHECK(n >= 1);
    vx_sentences_free(s, n);
    n = run("en-us", "[[ a", &s);
    (void)n;
    vx_sentences_free(s, n);
}

static void test_spans(void) {
    vx_sentence *s;
    const char *t = "  Hello world.  How are you?  ";
    size_t n = run("en-us", t, &s);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_EQ_INT(s[0].offset, 2);
        CHECK_EQ_INT(s[0].length, strlen("Hello world."));
        CHECK_EQ_INT(s[1].offset, 16);
        CHECK_EQ_INT(s[1].length, strlen("How are you?"));
        CHECK_EQ_INT(s[0].n_words, 2);
        if (s[0].n_words == 2) {
            CHECK_EQ_INT(s[0].words[1].offset, 8);
            CHECK_EQ_INT(s[0].words[1].length, 5);
            CHECK(s[0].words[0].ph_end <= s[0].words[1].ph_start);
            CHECK(s[0].words[1].ph_end <= s[0].n_phonemes);
        }
    }
    vx_sentences_free(s, n);
    /* byte offsets refer to the original text, with multibyte characters */
    t = "Caf\xc3\xa9 cr\xc3\xa8me. Na\xc3\xafve.";
    n = run("en-us", t, &s);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_EQ_INT(s[1].offset, 14);
        CHECK_EQ_INT(s[1].length, 7);
    }
    vx_sentences_free(s, n);
}

/* Over-long words: libespeak-ng 1.51 smashes its stack on a ~170-byte word after "x ."
 * (found by fuzz_phonemize: "x ." and 200 digits aborted the process before the fix).
 * vx_espeak_text breaks words every VX_ESPEAK_MAX_WORD bytes; spans stay on the original
 * text: one sentence over the whole input, words in order inside it. */
static void test_long_words(void) {
    static char t[512];
    int k = snprintf(t, sizeof t, "x .");
    for (int i = 0; i < 200; i++) t[k++] = (char)('0' + (i * 7 + 3) % 10);
    k += snprintf(t + k, sizeof t - (size_t)k, " x. ");
    for (int i = 0; i < 200; i++) t[k++] = (char)('a' + (i * 5 + 1) % 26);
    t[k++] = '.';
    t[k] = 0;
    vx_sentence *s = NULL;
    size_t n = run("en-us", t, &s);
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        CHECK_EQ_INT(s[0].offset, 0);
        CHECK_EQ_INT(s[0].length, strlen(t));
        CHECK(s[0].n_phonemes > 200);
        CHECK_EQ_INT(s[0].n_words, 8); /* x, 3 pieces of digits, x., 3 pieces of letters */
        size_t end = 0;
        for (size_t w = 0; w < s[0].n_words; w++) {
            CHECK(s[0].words[w].offset >= end);
            end = s[0].words[w].offset + s[0].words[w].length;
        }
        CHECK(end <= strlen(t));
    }
    vx_sentences_free(s, n);
    /* A word of VX_ESPEAK_MAX_WORD - 3 bytes is left whole. */
    memset(t, 'a', VX_ESPEAK_MAX_WORD - 3);
    t[VX_ESPEAK_MAX_WORD - 3] = 0;
    n = run("en-us", t, &s);
    CHECK_EQ_INT(n, 1);
    if (n == 1) CHECK_EQ_INT(s[0].n_words, 1);
    vx_sentences_free(s, n);
    /* The map back to the text: NUL becomes a space, inserted spaces point after them. */
    char *o;
    size_t *at, ol;
    static const char in[] = "ab\0c";
    CHECK(vx_espeak_text(in, 4, &o, &ol, &at) == 0);
    CHECK(ol == 4 && !strcmp(o, "ab c") && at[3] == 3 && at[4] == 4 && at[5] == 5);
    free(o);
    free(at);
    memset(t, 'z', 250);
    CHECK(vx_espeak_text(t, 250, &o, &ol, &at) == 0);
    CHECK_EQ_INT(ol, 252);
    CHECK(o[VX_ESPEAK_MAX_WORD - 3] == ' ' && at[VX_ESPEAK_MAX_WORD - 3] == VX_ESPEAK_MAX_WORD - 3);
    CHECK(at[VX_ESPEAK_MAX_WORD - 2] == VX_ESPEAK_MAX_WORD - 3 && at[ol] == 250);
    free(o);
    free(at);
}

static void test_text_type(void) {
    vx_phonemize_opts o = {"en-us", NULL, 1};
    vx_sentence *s;
    size_t n;
    char err[128];
    const char *t = "Caf\xc3\xa9. Ok!";
    CHECK_EQ_INT(vx_phonemize(&o, t, strlen(t), &s, &n, err, sizeof err), 0);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_STR(ph_str(&s[0]), "Cafe\xcc\x81."); /* NFD codepoints of the text */
        CHECK_STR(ph_str(&s[1]), "Ok!");
    }
    vx_sentences_free(s, n);
}

static void test_nfd(void) {
    uint32_t in[] = {0xE7, 0x1E69, 0xAC00, 'a', 0x323, 0x301, 0x307}, *out = NULL;
    size_t n = 0, cap = 0;
    CHECK_EQ_INT(vx_uni_nfd(in, 7, &out, &n, &cap, 100), 0);
    /* ç = c U+0327; ṩ = s U+0323 U+0307; 가 = U+1100 U+1161; a + 0301(230) 0323(220)
     * reorders to a 0323 0301 0307 */
    uint32_t want[] = {'c', 0x327, 's', 0x323, 0x307, 0x1100, 0x1161, 'a', 0x323, 0x301, 0x307};
    CHECK_EQ_INT(n, 11);
    for (size_t i = 0; i < 11 && i < n; i++) CHECKF(out[i] == want[i], "nfd[%zu]=%X", i, out[i]);
    CHECK_EQ_INT(vx_uni_nfd(in, 7, &out, &n, &cap, 12), -1); /* limit */
    free(out);
    CHECK(vx_uni_isalpha(0xE9) && !vx_uni_isalpha('1') && vx_uni_isalnum('1'));
    CHECK(vx_uni_islower(0xE9) && vx_uni_isupper(0xC9) && !vx_uni_isspace(0xA0));
    CHECK(vx_uni_isspace(0x2003) && !vx_uni_isdigit(0x661));
}

static void test_errors(void) {
    vx_phonemize_opts o = {"no-such-voice-xx", NULL, 0};
    vx_sentence *s;
    size_t n;
    char err[128] = "";
    CHECK(vx_phonemize(&o, "hi", 2, &s, &n, err, sizeof err) == VOX_ERR_NOT_FOUND);
    CHECK(strstr(err, "no-such-voice-xx") != NULL);
    o.espeak_voice = "en-us";
    CHECK(vx_phonemize(&o, "hi", VX_PHONEMIZE_MAX_TEXT + 1, &s, &n, err, sizeof err) ==
          VOX_ERR_TOO_LONG);
    CHECK(vx_phonemize(NULL, "hi", 2, &s, &n, err, sizeof err) == VOX_ERR_ARG);
    /* NUL and U+0001 inside the text are spaces, not an early end */
    CHECK_EQ_INT(vx_phonemize(&o,
                              "a\0b.\x01"
                              "C.",
                              6, &s, &n, err, sizeof err),
                 0);
    CHECK_EQ_INT(n, 2);
    vx_sentences_free(s, n);
}

static void test_clause_reader(void) {
    /* The reader alone: terminator codes as espeak's ReadClause returns them. */
    const char *t = "Hi, you; there: ok? yes! no. End";
    uint32_t cp[64];
    size_t n = 0, i = 0, len = strlen(t);
    while (i < len) cp[n++] = vx_utf8_next(t, len, &i);
    cp[n++] = 0;
    vx_clause_lang lang;
    vx_clause_lang_for("en", &lang);
    vx_clause_reader r;
    vx_clause_reader_init(&r, cp, n, &lang);
    const int want[] = {VX_CLAUSE_COMMA,    VX_CLAUSE_SEMICOLON,   VX_CLAUSE_COLON,
                        VX_CLAUSE_QUESTION, VX_CLAUSE_EXCLAMATION, VX_CLAUSE_PERIOD,
                        VX_CLAUSE_EOF};
    for (int k = 0; k < 7; k++) {
        vx_clause cl;
        vx_clause_read(&r, &cl);
        CHECKF(cl.terminator == want[k], "clause %d: %x want %x", k, cl.terminator, want[k]);
    }
    CHECK(!vx_clause_more(&r));
    CHECK_STR(vx_clause_punct(VX_CLAUSE_COMMA), ", ");
    CHECK_STR(vx_clause_punct(VX_CLAUSE_PARAGRAPH), "");
    CHECK(vx_clause_ends_sentence(VX_CLAUSE_PARAGRAPH) && !vx_clause_ends_sentence(VX_CLAUSE_NONE));
}

int main(void) {
    test_terminators();
    test_lang_flags_nfd();
    test_raw_phonemes();
    test_spans();
    test_long_words();
    test_text_type();
    test_nfd();
    test_errors();
    test_clause_reader();
    TEST_SUMMARY();
}

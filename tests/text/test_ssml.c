/* SSML: a test per element (through the parser and through libvox with the Piper test
 * voice and an espeak voice), errors with line and column, and the billion-laughs
 * document refused. */
#include "test.h"
#include "text/ssml.h"
#include "vox.h"
#include <math.h>

static vox_voice *piper, *esp;

typedef struct run {
    size_t samples, chunks;
    float peak;
    double hash; /* a fingerprint of the samples */
    char phonemes[2048];
    vox_mark marks[16];
    char mark_names[16][128]; /* copies: a chunk's mark names live until the next chunk */
    size_t n_marks;
    double word_start[64], word_end[64];
    size_t words;
    int rc;
    char err[512];
} run;

static run say(vox_voice *v, const char *text) {
    run r;
    memset(&r, 0, sizeof r);
    vox_synth_options o;
    vox_synth_options_init(&o);
    o.noise_scale = 0;
    o.noise_w = 0;
    o.timings = 1;
    vox_synth *s;
    r.rc = vox_synth_start(v, text, strlen(text), &o, &s);
    vox_chunk c;
    while (!r.rc) {
        r.rc = vox_synth_next(s, &c);
        if (r.rc) break;
        r.samples += c.n_samples;
        r.chunks += c.n_samples > 0;
        for (size_t i = 0; i < c.n_samples; i++) {
            if (fabsf(c.samples[i]) > r.peak) r.peak = fabsf(c.samples[i]);
            r.hash += c.samples[i] * (double)((i % 997) + 1);
        }
        for (size_t i = 0; i < c.n_phonemes; i++)
            if (c.phonemes[i].phoneme)
                strncat(r.phonemes, c.phonemes[i].phoneme,
                        sizeof r.phonemes - strlen(r.phonemes) - 1);
        for (size_t i = 0; i < c.n_marks && r.n_marks < 16; i++) {
            snprintf(r.mark_names[r.n_marks], sizeof r.mark_names[0], "%s", c.marks[i].name);
            r.marks[r.n_marks] = c.marks[i];
            r.marks[r.n_marks].name = NULL; /* use mark_names (r is returned by value) */
            r.n_marks++;
        }
        for (size_t i = 0; i < c.n_words && r.words < 64; i++) {
            r.word_start[r.words] = c.words[i].start;
            r.word_end[r.words++] = c.words[i].end;
        }
        if (c.last) break;
    }
    snprintf(r.err, sizeof r.err, "%s", vox_synth_error(s));
    vox_synth_free(s);
    return r;
}

static void parse_check(const char *doc, const char *want_text, size_t want_blocks) {
    vx_ssml x;
    char err[256];
    int rc = vx_ssml_parse(doc, strlen(doc), 1, "en-us", &x, err, sizeof err);
    CHECKF(rc == 0, "%s: %s", doc, err);
    if (rc) return;
    /* the blocks' texts, joined with '|' */
    char got[1024] = "";
    for (size_t i = 0; i < x.nb; i++) {
        if (i) strcat(got, "|");
        strncat(got, x.text.text + x.b[i].lo, x.b[i].hi - x.b[i].lo);
    }
    CHECKF(!strcmp(got, want_text) && x.nb == want_blocks,
           "%s -> '%s' (%zu blocks), want '%s' (%zu)", doc, got, x.nb, want_text, want_blocks);
    vx_ssml_free(&x);
}

static void parser(void) {
    CHECK(vx_ssml_detect("<speak>hi</speak>", 17));
    CHECK(vx_ssml_detect("\xEF\xBB\xBF  <?xml version=\"1.0\"?>\n<speak version=\"1.1\">", 42));
    CHECK(!vx_ssml_detect("<speaker>", 9));
    CHECK(!vx_ssml_detect("speak to me", 11));
    parse_check("<speak>Hello world.</speak>", "Hello world.", 1);
    parse_check("<speak><p><s>One.</s><s>Two.</s></p><p>Three.</p></speak>", "One.|Two.|Three.", 3);
    parse_check("<speak>A &amp; B &lt; C</speak>", "A & B < C", 1);
    parse_check("<speak>Go <break time=\"1s\"/> now</speak>", "Go|now", 2);
    parse_check("<speak><sub alias=\"World Wide Web\">WWW</sub> rocks</speak>",
                "World Wide Web rocks", 1);
    parse_check("<speak><say-as interpret-as=\"characters\">abc</say-as></speak>", "a b c", 1);
    parse_check("<speak><say-as interpret-as=\"spell-out\">NASA</say-as></speak>", "N A S A", 1);
    parse_check("<speak><say-as interpret-as=\"digits\">123</say-as></speak>", "1 2 3", 1);
    parse_check("<speak><say-as interpret-as=\"ordinal\">3</say-as> place</speak>", "3rd place", 1);
    parse_check("<speak><say-as interpret-as=\"cardinal\">42</say-as></speak>", "42", 1);
    parse_check("<speak><say-as interpret-as=\"date\" format=\"mdy\">12/02/2026</say-as></speak>",
                "2026-12-02", 1);
    parse_check("<speak><say-as interpret-as=\"date\" format=\"dmy\">2.12.26</say-as></speak>",
                "2026-12-02", 1);
    parse_check("<speak><say-as interpret-as=\"time\">8:30 pm</say-as></speak>", "8:30 pm", 1);
    parse_check("<speak><say-as interpret-as=\"telephone\">555-1234</say-as></speak>",
                "5 5 5, 1 2 3 4", 1);
    parse_check("<speak><say-as interpret-as=\"currency\">$5</say-as></speak>", "$5", 1);
    parse_check("<speak>a <phoneme alphabet=\"ipa\" ph=\"təˈmɑːtoʊ\">tomato</phoneme></speak>",
                "a [[təˈmɑːtoʊ]]", 1);
    parse_check("<speak>We <emphasis level=\"strong\">really</emphasis> do</speak>", "We really do",
                1);
    parse_check("<speak>x <prosody rate=\"slow\">y</prosody> z</speak>", "x|y|z", 3);
    parse_check("<speak><voice name=\"espeak:en-us\">hi</voice> there</speak>", "hi|there", 2);
    parse_check("<speak xml:lang=\"de\"><lang xml:lang=\"fr\">oui</lang> ja</speak>", "oui|ja", 2);

    /* attributes of blocks, marks, maps back to the document */
    const char *d =
        "<speak xml:lang=\"de-DE\">Hallo <mark name=\"m\"/><prosody rate=\"50%\" volume=\"-6dB\" "
        "pitch=\"+10%\">Welt</prosody><break strength=\"strong\"/></speak>";
    vx_ssml x;
    char err[256];
    CHECK_EQ_INT(vx_ssml_parse(d, strlen(d), 0, "de", &x, err, sizeof err), 0);
    CHECK_EQ_INT(x.nb, 3);
    if (x.nb == 3) {
        CHECK_STR(x.b[0].lang, "de-DE");
        CHECK_NEAR(x.b[1].rate, 0.5, 1e-6);
        CHECK_NEAR(x.b[1].volume, 0.501187, 1e-4);
        CHECK_NEAR(x.b[1].pitch, 1.1, 1e-6);
        CHECK_NEAR(x.b[2].break_after, 0.75, 1e-9);
        CHECK(x.b[2].lo == x.b[2].hi);
    }
    CHECK_EQ_INT(x.nm, 1);
    if (x.nm) {
        CHECK_STR(x.m[0].name, "m");
        CHECK_EQ_INT(x.m[0].block, 0);
        CHECK(!strncmp(d + x.m[0].src, "<mark", 5));
    }
    size_t lo, hi;
    const char *w = strstr(x.text.text, "Welt");
    vx_norm_map(&x.text, (size_t)(w - x.text.text), (size_t)(w - x.text.text) + 4, &lo, &hi);
    CHECK(hi - lo == 4 && !memcmp(d + lo, "Welt", 4));
    vx_ssml_free(&x);
}

static void errors(void) {
    static const struct {
        const char *doc, *want;
    } bad[] = {
        {"<speak>hi</spek>", "line 1, column"},
        {"<speak>\nline two <b>bold</b></speak>",
         "line 2, column 10: unsupported SSML element <b>"},
        {"<voice>hi</voice>", "root element must be <speak>"},
        {"<speak>a <break time=\"soon\"/></speak>", "bad break time"},
        {"<speak>a <break time=\"61s\"/></speak>", "longer than 60 s"},
        {"<speak><prosody rate=\"fastest\">a</prosody></speak>", "bad prosody rate"},
        {"<speak><phoneme alphabet=\"x-sampa\" ph=\"a\">a</phoneme></speak>", "alphabet"},
        {"<speak><say-as interpret-as=\"poem\">a</say-as></speak>", "interpret-as"},
        {"<speak>&foo;</speak>", "line 1, column"},
        {"<speak><sub>WWW</sub></speak>", "needs alias"},
        {"<speak><say-as interpret-as=\"digits\"><b/></say-as></speak>", "inside"},
        {"<speak>unclosed", "line 1"},
        /* the billion laughs: any DOCTYPE is refused before an entity is expanded */
        {"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
         " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
         " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
         " <!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n]>\n"
         "<speak>&lol9;</speak>",
         "DOCTYPE is not allowed"},
        {"<!DOCTYPE speak SYSTEM \"file:///etc/passwd\"><speak>x</speak>", "DOCTYPE"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vx_ssml x;
        char err[256] = "";
        int rc = vx_ssml_parse(bad[i].doc, strlen(bad[i].doc), 1, "en", &x, err, sizeof err);
        CHECKF(rc == VOX_ERR_SSML && strstr(err, bad[i].want), "case %zu: rc %d '%s'", i, rc, err);
    }
    /* deep nesting and many elements are bounded */
    char deep[2048] = "<speak>";
    for (int i = 0; i < 40; i++) strcat(deep, "<emphasis>");
    strcat(deep, "x");
    vx_ssml x;
    char err[256];
    CHECK(vx_ssml_parse(deep, strlen(deep), 1, "en", &x, err, sizeof err) == VOX_ERR_SSML &&
          strstr(err, "deeper"));
    /* through libvox: the error code and the message */
    if (esp) {
        run r = say(esp, "<speak>oops</speak");
        CHECK_EQ_INT(r.rc, VOX_ERR_SSML);
        CHECK(strstr(r.err, "line 1, column") != NULL);
    }
}

static void audio(vox_voice *v, const char *kind) {
    int sr = 22050;
    /* <break time="1s"/> adds one second (two blocks either way; only the pause differs) */
    run a = say(v, "<speak><s>Hello there</s><s>General Kenobi</s></speak>");
    run b = say(v, "<speak>Hello there<break time=\"1s\"/>General Kenobi</speak>");
    CHECK(a.rc == 0 && b.rc == 0);
    long diff = (long)b.samples - (long)a.samples;
    CHECKF(labs(diff - sr) <= 256, "%s: break added %ld samples, want %d +- 256", kind, diff, sr);
    run c = say(v, "<speak>Hello there<break strength=\"x-strong\"/>General Kenobi</speak>");
    CHECKF(labs((long)c.samples - (long)a.samples - sr) <= 256, "%s: x-strong break", kind);
    run d = say(v, "<speak><break time=\"250ms\"/></speak>");
    CHECKF(d.rc == 0 && labs((long)d.samples - sr / 4) <= 1, "%s: a lone break is %zu samples",
           kind, d.samples);
    /* prosody: slower is longer, softer is quieter */
    run n = say(v, "<speak>The quick brown fox.</speak>");
    run slow = say(v, "<speak><prosody rate=\"slow\">The quick brown fox.</prosody></speak>");
    run soft = say(v, "<speak><prosody volume=\"soft\">The quick brown fox.</prosody></speak>");
    CHECKF(slow.samples > n.samples * 1.15, "%s: slow %zu vs %zu", kind, slow.samples, n.samples);
    CHECKF(fabsf(soft.peak - n.peak * 0.5f) < 0.01f, "%s: soft peak %g vs %g", kind, soft.peak,
           n.peak);
    /* marks: inside the audio, in order, at word starts */
    run m = say(v, "<speak><mark name=\"a\"/>One two <mark name=\"b\"/>three.<break "
                   "time=\"500ms\"/><mark name=\"c\"/>Four.<mark name=\"d\"/></speak>");
    CHECK_EQ_INT(m.n_marks, 4);
    double dur = m.samples / (double)sr;
    for (size_t i = 0; i < m.n_marks; i++) {
        CHECKF(m.marks[i].time >= 0 && m.marks[i].time <= dur + 1e-9, "%s: mark %s at %g of %g",
               kind, m.mark_names[i], m.marks[i].time, dur);
        if (i) CHECK(m.marks[i].time >= m.marks[i - 1].time);
    }
    if (m.n_marks == 4 && m.words >= 4) {
        CHECK_STR(m.mark_names[1], "b");
        CHECK_NEAR(m.marks[0].time, 0, 1e-9);
        CHECK_NEAR(m.marks[1].time, m.word_start[2], 1e-9);   /* "three" */
        CHECK(m.marks[2].time >= m.word_end[2] + 0.5 - 0.02); /* after the break */
        CHECK_NEAR(m.marks[3].time, dur, 1e-6);
    }
    /* sub, say-as and emphasis change what is said */
    run s1 = say(v, "<speak><sub alias=\"World Wide Web\">WWW</sub></speak>");
    run s2 = say(v, "World Wide Web");
    CHECKF(s1.rc == 0 && !strcmp(s1.phonemes, s2.phonemes), "%s: sub '%s' vs '%s'", kind,
           s1.phonemes, s2.phonemes);
    run e1 = say(v, "<speak>We <emphasis>really</emphasis> do.</speak>");
    run e2 = say(v, "We really do.");
    CHECKF(e1.rc == 0 && !strcmp(e1.phonemes, e2.phonemes), "%s: emphasis", kind);
    run o1 = say(v, "<speak>the <say-as interpret-as=\"ordinal\">3</say-as> time</speak>");
    run o2 = say(v, "the third time");
    CHECKF(o1.rc == 0 && !strcmp(o1.phonemes, o2.phonemes), "%s: ordinal '%s' vs '%s'", kind,
           o1.phonemes, o2.phonemes);
    run t1 =
        say(v, "<speak><say-as interpret-as=\"date\" format=\"dmy\">02/12/2026</say-as></speak>");
    run t2 = say(v, "December second, twenty twenty-six");
    CHECKF(t1.rc == 0 && !strcmp(t1.phonemes, t2.phonemes), "%s: date '%s' vs '%s'", kind,
           t1.phonemes, t2.phonemes);
}

int main(void) {
    char err[512];
    if (vox_voice_load("espeak:en-us", NULL, &esp, err, sizeof err)) {
        CHECKF(0, "%s", err);
        esp = NULL;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/models/en_US-rand-medium.onnx", test_shared_dir());
    if (vox_voice_load(path, NULL, &piper, err, sizeof err)) {
        CHECKF(0, "%s", err);
        piper = NULL;
    }
    parser();
    errors();
    if (piper) {
        audio(piper, "piper");
        /* <phoneme> yields exactly its phonemes (Piper voices take IPA) */
        run p = say(piper, "<speak><phoneme alphabet=\"ipa\" ph=\"həlˈoʊ\">hi</phoneme></speak>");
        CHECKF(p.rc == 0 && !strcmp(p.phonemes, "həlˈoʊ"), "phoneme: '%s' (%s)", p.phonemes, p.err);
        /* <voice name>: an espeak voice inside a Piper synthesis */
        run v = say(piper, "<speak>Neural. <voice name=\"espeak:en-us\">Formant.</voice></speak>");
        CHECKF(v.rc == 0 && v.chunks == 2, "voice: rc %d, %zu chunks (%s)", v.rc, v.chunks, v.err);
        run nv = say(piper, "<speak><voice name=\"no-such-voice\">x</voice></speak>");
        CHECKF(nv.rc == VOX_ERR_NOT_FOUND && strstr(nv.err, "no-such-voice"), "%d %s", nv.rc,
               nv.err);
    }
    if (esp) {
        audio(esp, "espeak");
        /* <phoneme> on an espeak voice: the content is said (espeak does not take IPA) */
        run p1 = say(esp, "<speak><phoneme ph=\"tˈʌmɑːtoʊ\">tomato</phoneme></speak>");
        run p2 = say(esp, "tomato");
        CHECK(p1.rc == 0 && !strcmp(p1.phonemes, p2.phonemes));
        /* pitch reaches espeak */
        run h1 = say(esp, "<speak><prosody pitch=\"x-high\">High.</prosody></speak>");
        run h2 = say(esp, "High.");
        CHECK(h1.rc == 0 && h2.rc == 0 && h1.hash != h2.hash);
    }
    vox_voice_free(piper);
    vox_voice_free(esp);
    TEST_SUMMARY();
}

/* Text -> Piper phoneme sentences (see phonemize.h).
 *
 * The algorithm is Piper's (piper1-gpl voice.py + phonemize_espeak.py, and
 * piper-phonemize's phonemize.cpp, which agree):
 *   1. Split the text on raw phoneme blocks "[[ ... ]]" (regex \[\[.*?\]\], no
 *      newlines inside). A block's stripped content goes codepoint by codepoint into
 *      the current sentence, with a space before/after when the neighbouring text
 *      ends/starts with a space; the text after a block continues that sentence.
 *   2. Every other part goes through espeak-ng one clause at a time
 *      (espeak_TextToPhonemes, IPA). Per clause: drop "(lang)" switch flags, append
 *      the terminator (". ? !" or ", : ;" plus a space), NFD-decompose, and close the
 *      sentence when the clause ends one. Terminators and sentence ends come from our
 *      mirror of espeak's clause reader (clause.c), because Debian's 1.51 has no
 *      espeak_TextToPhonemesWithTerminator.
 * Sentences with no phonemes are dropped.
 */
#include "util/vec.h"
#include "text/phonemize.h"
#include "util/log.h"
#include "text/clause.h"
#include "text/espeak.h"
#include "text/unicode.h"
#include "vox.h"
#include <espeak-ng/speak_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- growing arrays */

typedef VX_VEC(uint32_t) u32buf;
typedef VX_VEC(vx_word) wordbuf;

static int u32_push(u32buf *b, uint32_t c) {
    return b->n >= VX_PHONEMIZE_MAX_PHONEMES ? -1 : vx_vec_push(b, c);
}

/* The sentence being built and the finished ones. */
typedef struct builder {
    vx_sentence *s;
    size_t n, cap;
    u32buf ph; /* phonemes of the open sentence */
    wordbuf words;
    size_t off_lo, off_hi; /* byte span of the open sentence; lo > hi: none yet */
    int open;              /* a sentence is open (Piper's "phonemes[-1]") */
    int last_empty;        /* the last sentence closed had no phonemes (dropped) */
} builder;

static void span_add(builder *b, size_t lo, size_t hi) {
    if (b->off_lo > b->off_hi) {
        b->off_lo = lo;
        b->off_hi = hi;
        return;
    }
    if (lo < b->off_lo) b->off_lo = lo;
    if (hi > b->off_hi) b->off_hi = hi;
}

static void builder_reset_open(builder *b) {
    b->ph.n = 0;
    b->words.n = 0;
    b->off_lo = 1;
    b->off_hi = 0;
}

/* Close the open sentence; an empty one is dropped. */
static int builder_close(builder *b) {
    b->open = 0;
    b->last_empty = b->ph.n == 0;
    if (b->ph.n == 0) {
        builder_reset_open(b);
        return 0;
    }
    if (vx_grow((void **)&b->s, &b->cap, b->n + 1, sizeof *b->s, 8)) return -1;
    vx_sentence *s = &b->s[b->n];
    memset(s, 0, sizeof *s);
    s->phonemes = malloc(b->ph.n * sizeof *s->phonemes);
    if (b->words.n) s->words = malloc(b->words.n * sizeof *s->words);
    if (!s->phonemes || (b->words.n && !s->words)) {
        free(s->phonemes);
        free(s->words);
        return -1;
    }
    memcpy(s->phonemes, b->ph.v, b->ph.n * sizeof *s->phonemes);
    s->n_phonemes = b->ph.n;
    if (b->words.n) memcpy(s->words, b->words.v, b->words.n * sizeof *s->words);
    s->n_words = b->words.n;
    if (b->off_lo <= b->off_hi) {
        s->offset = b->off_lo;
        s->length = b->off_hi - b->off_lo;
    }
    b->n++;
    builder_reset_open(b);
    return 0;
}

static void builder_free(builder *b) {
    vx_sentences_free(b->s, b->n);
    free(b->ph.v);
    free(b->words.v);
}

/* ------------------------------------------------------------------ text parts */

/* Codepoints of text[lo..hi) with the byte offset of each (plus one past the end). */
typedef struct cpseq {
    uint32_t *cp;
    size_t *off;
    size_t n;
} cpseq;

static int decode(const char *text, size_t lo, size_t hi, cpseq *out) {
    size_t cap = hi - lo + 1;
    out->cp = malloc(cap * sizeof *out->cp);
    out->off = malloc((cap + 1) * sizeof *out->off);
    out->n = 0;
    if (!out->cp || !out->off) return -1;
    size_t i = lo;
    while (i < hi) {
        out->off[out->n] = i;
        out->cp[out->n++] = vx_utf8_next(text, hi, &i);
    }
    out->off[out->n] = hi;
    return 0;
}

static void cpseq_free(cpseq *s) {
    free(s->cp);
    free(s->off);
}

/* Word mapping for one clause: text words are whitespace-separated runs within the
 * clause span (its terminator excluded); phoneme words are space-separated runs of
 * the clause's phonemes (ph_lo..ph_hi in the open sentence). Equal counts map one to
 * one; otherwise phoneme words are spread proportionally over text words. */
static int map_words(builder *b, const cpseq *t, const vx_clause *cl, size_t ph_lo, size_t ph_hi) {
    size_t last = cl->last;
    if (cl->first > cl->last) return 0;
    if (cl->term_idx == last) {
        if (last == cl->first) return 0;
        last--;
    }
    /* text words */
    size_t tw[2 * 64], ntw = 0; /* spans as index pairs; extra words merge into the last */
    for (size_t i = cl->first; i <= last; i++) {
        if (vx_uni_isspace(t->cp[i])) continue;
        size_t j = i;
        while (j + 1 <= last && !vx_uni_isspace(t->cp[j + 1])) j++;
        if (ntw < 64) {
            tw[2 * ntw] = i;
            tw[2 * ntw + 1] = j;
            ntw++;
        } else
            tw[2 * (ntw - 1) + 1] = j;
        i = j;
    }
    /* phoneme words */
    size_t pw[2 * 64], npw = 0;
    for (size_t i = ph_lo; i < ph_hi; i++) {
        if (b->ph.v[i] == ' ') continue;
        size_t j = i;
        while (j + 1 < ph_hi && b->ph.v[j + 1] != ' ') j++;
        if (npw < 64) {
            pw[2 * npw] = i;
            pw[2 * npw + 1] = j + 1;
            npw++;
        } else
            pw[2 * (npw - 1) + 1] = j + 1;
        i = j;
    }
    for (size_t k = 0; k < ntw; k++) {
        vx_word w;
        w.offset = t->off[tw[2 * k]];
        w.length = t->off[tw[2 * k + 1] + 1] - w.offset;
        w.ph_start = w.ph_end = ph_hi;
        if (npw) {
            /* phoneme words [p0, p1) go to text word k */
            size_t p0 = k * npw / ntw, p1 = (k + 1) * npw / ntw;
            if (ntw == npw) {
                p0 = k;
                p1 = k + 1;
            }
            if (p1 > p0) {
                w.ph_start = pw[2 * p0];
                w.ph_end = pw[2 * (p1 - 1) + 1];
            }
        }
        if (vx_vec_push(&b->words, w)) return -1;
    }
    return 0;
}

/* Append a clause's espeak phoneme string (UTF-8) plus terminator, Piper style. */
static int add_clause_phonemes(builder *b, const char *ph, const char *punct) {
    u32buf raw = {0};
    size_t len = strlen(ph), i = 0;
    int rc = 0;
    while (i < len && !rc) {
        uint32_t c = vx_utf8_next(ph, len, &i);
        if (c == '(') { /* language switch flag "(en)": drop it, as Piper's \([^)]+\) */
            const char *close = memchr(ph + i, ')', len - i);
            if (close && close > ph + i) {
                i = (size_t)(close - ph) + 1;
                continue;
            }
        }
        rc = u32_push(&raw, c);
    }
    for (const char *p = punct; *p && !rc; p++) rc = u32_push(&raw, (unsigned char)*p);
    if (!rc) {
        size_t before = b->ph.n;
        rc = vx_uni_nfd(raw.v, raw.n, &b->ph.v, &b->ph.n, &b->ph.cap, VX_PHONEMIZE_MAX_PHONEMES);
        if (rc) b->ph.n = before;
    }
    free(raw.v);
    return rc;
}

/* ---------------------------------------------------------------- espeak parts */

static void clause_lang(vx_clause_lang *cl) {
    /* espeak's translator name is the language of the selected voice ("en-us" -> en). */
    espeak_VOICE *v = espeak_GetCurrentVoice();
    const char *lang = v && v->languages ? v->languages + 1 : "";
    vx_clause_lang_for(lang, cl);
}

static int phonemize_espeak_part(builder *b, const char *text, size_t lo, size_t hi,
                                 const vx_clause_lang *lang, int text_mode, char *err,
                                 size_t errlen) {
    cpseq t = {0};
    /* espeak reads a C string (vx_espeak_text: no NUL, no U+0001, no over-long words);
     * the clause reader reads the same code points, at offsets in the original text. */
    char *copy = NULL;
    size_t *at = NULL, copy_len = 0;
    uint32_t *stream = NULL;
    int bad = text_mode ? decode(text, lo, hi, &t)
                        : vx_espeak_text(text + lo, hi - lo, &copy, &copy_len, &at) ||
                              decode(copy, 0, copy_len, &t);
    if (!bad && !text_mode)
        for (size_t i = 0; i <= t.n; i++) t.off[i] = lo + at[t.off[i]];
    for (size_t i = 0; !bad && i < t.n; i++)
        if (t.cp[i] == 0 || t.cp[i] == 1) t.cp[i] = ' ';
    /* espeak decodes strlen+1 bytes: the terminating NUL is part of what it reads. */
    if (!bad) stream = malloc((t.n + 1) * sizeof *stream);
    if (!stream) {
        free(copy);
        free(at);
        cpseq_free(&t);
        snprintf(err, errlen, "out of memory");
        return VOX_ERR_NOMEM;
    }
    memcpy(stream, t.cp, t.n * sizeof *stream);
    stream[t.n] = 0;

    vx_clause_reader rd;
    vx_clause_reader_init(&rd, stream, t.n + 1, lang);
    const void *p = copy;
    int rc = 0;
    while (!rc) {
        vx_clause cl;
        size_t ph_lo;
        vx_clause_read(&rd, &cl);
        if (!text_mode) {
            const char *ph =
                p ? espeak_TextToPhonemes(&p, espeakCHARS_AUTO, espeakPHONEMES_IPA) : "";
            /* Both must have stopped at the same place; if not, trust espeak's position
             * (the terminator guess may then be off, never the phonemes). */
            size_t esp_at = p ? (size_t)((const char *)p - copy) : copy_len + 1;
            size_t esp_pos = at[esp_at < copy_len + 1 ? esp_at : copy_len + 1];
            size_t our_pos = rd.pos <= t.n ? t.off[rd.pos] - lo : hi - lo + 1;
            if (esp_pos != our_pos) {
                VX_DEBUG("clause reader at byte %zu, espeak at %zu", our_pos, esp_pos);
                size_t k = 0;
                while (k < t.n && t.off[k] - lo < esp_pos) k++;
                rd.pos = esp_pos > hi - lo ? t.n + 1 : k;
                rd.ungot = 0;
            }
            if (!b->open) {
                b->open = 1;
                builder_reset_open(b);
            }
            ph_lo = b->ph.n;
            if (ph && add_clause_phonemes(b, ph, vx_clause_punct(cl.terminator))) rc = -1;
        } else {
            if (!b->open) {
                b->open = 1;
                builder_reset_open(b);
            }
            ph_lo = b->ph.n;
            if (cl.first <= cl.last) {
                size_t before = b->ph.n;
                if (vx_uni_nfd(t.cp + cl.first, cl.last - cl.first + 1, &b->ph.v, &b->ph.n,
                               &b->ph.cap, VX_PHONEMIZE_MAX_PHONEMES)) {
                    b->ph.n = before;
                    rc = -1;
                }
            }
        }
        if (!rc && cl.first <= cl.last && cl.last < t.n) {
            span_add(b, t.off[cl.first], t.off[cl.last + 1]);
            if (map_words(b, &t, &cl, ph_lo, b->ph.n)) rc = -1;
        }
        if (!rc && vx_clause_ends_sentence(cl.terminator) && builder_close(b)) rc = -1;
        /* espeak decides where the text ends (it makes the phonemes); the reader only
         * supplies terminators. Without espeak, the reader decides. */
        if (text_mode ? !vx_clause_more(&rd) : !p) break;
    }
    free(stream);
    free(copy);
    free(at);
    cpseq_free(&t);
    if (rc) {
        snprintf(err, errlen, "phonemizer: out of memory or more than %u phonemes",
                 VX_PHONEMIZE_MAX_PHONEMES);
        return VOX_ERR_NOMEM;
    }
    return 0;
}

/* ------------------------------------------------------------- [[ raw phonemes ]] */

/* Find the next "[[...]]" at or after from (no newline inside, shortest match, as
 * Python's re "." does). Returns 1 and sets [*s, *e) to the whole block. */
static int find_block(const char *text, size_t len, size_t from, size_t *s, size_t *e) {
    for (size_t i = from; i + 1 < len; i++) {
        if (text[i] != '[' || text[i + 1] != '[') continue;
        for (size_t j = i + 2; j + 1 < len && text[j] != '\n'; j++)
            if (text[j] == ']' && text[j + 1] == ']') {
                *s = i;
                *e = j + 2;
                return 1;
            }
    }
    return 0;
}

static int is_py_space(uint32_t c) { /* Python str.strip() whitespace */
    return (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Piper appends a raw block to its last sentence, even a finished one: take the last
 * sentence back into the builder (unless the last one was empty). */
static int builder_reopen(builder *b) {
    b->open = 1;
    builder_reset_open(b);
    if (b->last_empty || b->n == 0) return 0;
    vx_sentence *s = &b->s[--b->n];
    int rc = 0;
    for (size_t i = 0; i < s->n_phonemes && !rc; i++) rc = u32_push(&b->ph, s->phonemes[i]);
    for (size_t i = 0; i < s->n_words && !rc; i++) rc = vx_vec_push(&b->words, s->words[i]);
    if (s->length || s->n_phonemes) span_add(b, s->offset, s->offset + s->length);
    free(s->phonemes);
    free(s->words);
    return rc;
}

static int add_raw_block(builder *b, const char *text, size_t len, size_t s, size_t e) {
    if (!b->open && builder_reopen(b)) return -1;
    if (s > 0 && text[s - 1] == ' ' && u32_push(&b->ph, ' ')) return -1;
    cpseq t = {0};
    if (decode(text, s + 2, e - 2, &t)) {
        cpseq_free(&t);
        return -1;
    }
    size_t a = 0, z = t.n;
    while (a < z && is_py_space(t.cp[a])) a++;
    while (z > a && is_py_space(t.cp[z - 1])) z--;
    int rc = 0;
    for (size_t i = a; i < z && !rc; i++) rc = u32_push(&b->ph, t.cp[i]);
    cpseq_free(&t);
    if (!rc && e < len && text[e] == ' ') rc = u32_push(&b->ph, ' ');
    span_add(b, s, e);
    return rc;
}

/* ----------------------------------------------------------------------- API */

int vx_phonemize(const vx_phonemize_opts *o, const char *text, size_t len, vx_sentence **out,
                 size_t *n, char *err, size_t errlen) {
    if (out) *out = NULL;
    if (n) *n = 0;
    if (!o || !out || !n || (!text && len)) {
        snprintf(err, errlen, "vx_phonemize: invalid argument");
        return VOX_ERR_ARG;
    }
    if (len > VX_PHONEMIZE_MAX_TEXT) {
        snprintf(err, errlen, "text too long (%zu bytes, limit %u)", len, VX_PHONEMIZE_MAX_TEXT);
        return VOX_ERR_TOO_LONG;
    }
    const char *voice = o->espeak_voice && *o->espeak_voice ? o->espeak_voice : "en-us";
    builder b;
    memset(&b, 0, sizeof b);
    builder_reset_open(&b);
    int rc = 0;
    vx_clause_lang lang;

    if (o->phoneme_type_text) {
        vx_clause_lang_for(voice, &lang);
        rc = phonemize_espeak_part(&b, text, 0, len, &lang, 1, err, errlen);
    } else {
        vx_espeak_lock();
        rc = vx_espeak_init_locked(o->espeak_data, err, errlen);
        if (rc >= 0) rc = vx_espeak_set_voice_locked(voice, err, errlen);
        if (rc >= 0) {
            rc = 0;
            /* Options another espeak user may have left set would change clauses. */
            espeak_SetParameter(espeakPUNCTUATION, espeakPUNCT_NONE, 0);
            espeak_SetParameter(espeakLINELENGTH, 0, 0);
            /* Drop any lookahead character a previous caller left in espeak's reader. */
            const void *empty = "";
            espeak_TextToPhonemes(&empty, espeakCHARS_AUTO, espeakPHONEMES_IPA);
            clause_lang(&lang);
            size_t pos = 0, bs = 0, be = 0;
            int prev_raw = 0;
            while (!rc && pos <= len) {
                int has = find_block(text, len, pos, &bs, &be);
                size_t part_end = has ? bs : len;
                /* Text after a raw block continues its sentence (Piper: the part's first
                 * sentence is appended to the block's). */
                if (!prev_raw) b.open = 0;
                if (part_end > pos || !has)
                    rc = phonemize_espeak_part(&b, text, pos, part_end, &lang, 0, err, errlen);
                if (rc || !has) break;
                if (add_raw_block(&b, text, len, bs, be)) {
                    snprintf(err, errlen, "phonemizer: out of memory");
                    rc = VOX_ERR_NOMEM;
                }
                prev_raw = 1;
                pos = be;
            }
        }
        vx_espeak_unlock();
    }
    if (!rc && b.open && builder_close(&b)) {
        snprintf(err, errlen, "phonemizer: out of memory");
        rc = VOX_ERR_NOMEM;
    }
    if (rc) {
        builder_free(&b);
        return rc;
    }
    free(b.ph.v);
    free(b.words.v);
    *out = b.s;
    *n = b.n;
    return 0;
}

void vx_sentences_free(vx_sentence *s, size_t n) {
    if (!s) return;
    for (size_t i = 0; i < n; i++) {
        free(s[i].phonemes);
        free(s[i].words);
    }
    free(s);
}

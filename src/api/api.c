/* The public API: option defaults, voice loading by name, and the streaming synthesis
 * loop shared by every voice kind (validate → plan sentences → render one per call). */
#include "vox.h"
#include "audio/wav.h"
#include "api/voices.h"
#include "text/lexicon.h"
#include "text/norm.h"
#include "text/ssml.h"
#include "voice/voice.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *vox_version(void) { return VOX_VERSION; }

void vox_wav_header(uint8_t hdr[44], int sample_rate, uint64_t n_samples) {
    vx_wav_header(hdr, sample_rate, n_samples);
}

const char *vox_strerror(int code) {
    switch (code) {
    case VOX_OK: return "success";
    case VOX_ERR_ARG: return "invalid argument";
    case VOX_ERR_NOMEM: return "out of memory or size limit exceeded";
    case VOX_ERR_IO: return "I/O error";
    case VOX_ERR_UTF8: return "invalid UTF-8 in input text";
    case VOX_ERR_TOO_LONG: return "input too long";
    case VOX_ERR_NOT_FOUND: return "not found";
    case VOX_ERR_MODEL: return "invalid or unsupported model";
    case VOX_ERR_CONFIG: return "invalid voice config";
    case VOX_ERR_ESPEAK: return "espeak-ng error";
    case VOX_ERR_CANCELLED: return "cancelled";
    case VOX_ERR_UNSUPPORTED: return "unsupported";
    case VOX_ERR_INTERNAL: return "internal error";
    case VOX_ERR_EMPTY: return "nothing to speak";
    case VOX_ERR_SSML: return "malformed or unsupported SSML";
    default: return "unknown error";
    }
}

void vox_load_options_init(vox_load_options *o) { memset(o, 0, sizeof *o); }

int vox_precision_parse(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "fp32")) return VOX_PRECISION_FP32;
    if (!strcmp(s, "bf16")) return VOX_PRECISION_BF16;
    if (!strcmp(s, "int8")) return VOX_PRECISION_INT8;
    return -1;
}

void vox_synth_options_init(vox_synth_options *o) {
    memset(o, 0, sizeof *o);
    o->speaker_id = -1;
    o->length_scale = 0.0f;
    o->noise_scale = -1.0f;
    o->noise_w = -1.0f;
    o->rate = 1.0f;
    o->pitch = 1.0f;
    o->volume = 1.0f;
    o->sentence_silence = 0.0f;
    o->normalize = 1;
    o->text_norm = 1;
    o->chunk_frames = 8;
}

void vx_audio_free(vx_audio *a) {
    free(a->samples);
    free(a->words);
    free(a->phonemes);
    free(a->phoneme_text);
    memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------------ voice lookup */

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* A bare voice name must never walk out of the voice directories. */
static int safe_voice_name(const char *name) {
    if (!*name || strlen(name) > 200 || name[0] == '.') return 0;
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20) return 0;
    return 1;
}

static int find_in_dirs(const char *name, const vox_load_options *o, char *path, size_t cap) {
    vx_voice_dirs vd;
    vx_voice_dirs_get(o, &vd);
    for (int i = 0; i < vd.n; i++) {
        if (snprintf(path, cap, "%s/%s.onnx", vd.dirs[i], name) < (int)cap && is_file(path))
            return 1;
        if (snprintf(path, cap, "%s/%s", vd.dirs[i], name) < (int)cap && ends_with(name, ".onnx") &&
            is_file(path))
            return 1;
    }
    return 0;
}

int vox_voice_load(const char *name, const vox_load_options *opt, vox_voice **out, char *err,
                   size_t errlen) {
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!out || !name) {
        snprintf(err, errlen, "voice name missing");
        return VOX_ERR_ARG;
    }
    *out = NULL;
    vox_load_options defaults;
    if (!opt) {
        vox_load_options_init(&defaults);
        opt = &defaults;
    }
    if (!strncmp(name, "espeak:", 7)) return vx_espeak_voice_load(name + 7, opt, out, err, errlen);
    if (strchr(name, '/') || ends_with(name, ".onnx")) {
        if (!is_file(name)) {
            snprintf(err, errlen, "voice not found: no model file '%s'", name);
            return VOX_ERR_NOT_FOUND;
        }
        return vx_piper_voice_load(name, opt, out, err, errlen);
    }
    char path[PATH_MAX];
    if (safe_voice_name(name) && find_in_dirs(name, opt, path, sizeof path))
        return vx_piper_voice_load(path, opt, out, err, errlen);
    snprintf(err, errlen,
             "voice not found: '%s' (use espeak:<name>, a path to a .onnx file, or a voice name "
             "in the data dirs)",
             name);
    return VOX_ERR_NOT_FOUND;
}

void vox_voice_free(vox_voice *v) {
    if (v) v->ops->free(v);
}

void vox_voice_get_info(const vox_voice *v, vox_voice_info *out) { *out = v->info; }

const char *vox_voice_speaker_name(const vox_voice *v, int id) {
    return v->ops->speaker_name ? v->ops->speaker_name(v, id) : NULL;
}

/* --------------------------------------------------------------- synthesis */

/* One block of speech: plain text is one block; SSML gives one per run of text with the
 * same prosody, voice and language (src/text/ssml.h), each followed by its <break>. */
typedef struct sblock {
    vox_voice *voice;      /* the synthesis' voice, or one loaded for <voice name> */
    vox_synth_options opt; /* the synthesis' options with the block's prosody */
    char *text;            /* what the voice plans (normalized when options.text_norm) */
    size_t len;
    vx_norm norm; /* text -> the block's raw text, when has_norm */
    int has_norm;
    size_t doc_lo, doc_hi; /* the block's raw text in the document text */
    vx_plan plan;
    double break_after;         /* seconds of silence after its last sentence */
    size_t first_mark, n_marks; /* its SSML marks: s->ssml.m[first_mark ...] */
} sblock;

#define MAX_EXTRA_VOICES 8 /* distinct <voice name> voices in one synthesis */

struct vox_synth {
    vox_voice *voice;
    vox_synth_options opt;
    char *doc; /* private, scrubbed copy of the input: the caller's buffer
                                 may go away */
    size_t doc_len;
    vx_ssml ssml; /* when is_ssml: the text said, mapped to the document */
    int is_ssml;
    const char *dtext; /* the document text: ssml.text.text, or doc */
    sblock *b;
    size_t nb;
    size_t bi, si; /* next block and sentence to render */
    vox_voice *extra[MAX_EXTRA_VOICES];
    size_t nextra;
    vx_lex *lex;        /* our reference to options.lexicon */
    vox_mark marks[64]; /* marks of the chunk handed out last (at most 64 per chunk;
                                 more in one sentence are dropped and counted in the error) */
    int chunk;          /* chunks handed out */
    int done;
    int speaker_id;
    double t0; /* seconds of audio emitted before the current chunk */
    atomic_int cancel;
    volatile int cancel_flag; /* mirrored for voice code that polls a plain int */
    vx_audio cur;             /* audio of the chunk handed out last */
    void *pst;                /* the sentence being streamed in chunks (voice stream handle) */
    int pst_frames;           /* frames of its next chunk */
    int16_t *pcm;
    size_t pcm_cap;
    char err[512];
};

static int check_text(const char *text, size_t len, char *err, size_t errlen) {
    if (len > VOX_MAX_TEXT_BYTES) {
        snprintf(err, errlen, "input text is %zu bytes; the limit is %u", len, VOX_MAX_TEXT_BYTES);
        return VOX_ERR_TOO_LONG;
    }
    size_t bad = 0;
    if (vox_utf8_check(text, len, &bad) != VOX_OK) {
        snprintf(err, errlen, "invalid UTF-8 in input text at byte offset %zu", bad);
        return VOX_ERR_UTF8;
    }
    return VOX_OK;
}

/* NUL and other C0 controls (except tab/newline/CR) carry no speech and confuse
 * espeak-ng, which stops at NUL: they become spaces, so byte offsets stay valid. */
static void scrub_controls(char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7F) s[i] = ' ';
    }
}

/* A private, NUL-terminated, scrubbed copy of the caller's text (NULL if out of memory). */
static char *clean_copy(const char *text, size_t len) {
    char *c = malloc(len + 1);
    if (!c) return NULL;
    if (len) memcpy(c, text, len);
    c[len] = 0;
    scrub_controls(c, len);
    return c;
}

static int check_options(const vox_synth_options *o, char *err, size_t errlen) {
#define RANGE(f, lo, hi, name)                                                                     \
    if (!(o->f >= (lo) && o->f <= (hi))) {                                                         \
        snprintf(err, errlen, "%s must be in [%g, %g], got %g", name, (double)(lo), (double)(hi),  \
                 (double)o->f);                                                                    \
        return VOX_ERR_ARG;                                                                        \
    }
    if (o->length_scale > 0) { RANGE(length_scale, 0.05, 20.0, "length_scale") }
    if (o->noise_scale >= 0) { RANGE(noise_scale, 0.0, 10.0, "noise_scale") }
    if (o->noise_w >= 0) { RANGE(noise_w, 0.0, 10.0, "noise_w") }
    RANGE(rate, 0.1, 10.0, "rate")
    RANGE(pitch, 0.0, 2.0, "pitch")
    RANGE(volume, 0.0, 100.0, "volume")
    RANGE(sentence_silence, 0.0, 60.0, "sentence_silence")
#undef RANGE
    if (o->threads < 0) {
        snprintf(err, errlen, "threads must be >= 0, got %d", o->threads);
        return VOX_ERR_ARG;
    }
    if (o->chunk_frames < 0 || o->chunk_frames > VOX_CHUNK_FRAMES_MAX) {
        snprintf(err, errlen, "chunk_frames must be in [0, %d], got %d", VOX_CHUNK_FRAMES_MAX,
                 o->chunk_frames);
        return VOX_ERR_ARG;
    }
    if (o->normalize < VOX_NORMALIZE_OFF || o->normalize > VOX_NORMALIZE_STEADY) {
        snprintf(err, errlen, "normalize must be VOX_NORMALIZE_OFF, _PEAK or _STEADY, got %d",
                 o->normalize);
        return VOX_ERR_ARG;
    }
    return VOX_OK;
}

/* The voice for <voice name>: the synthesis' own when the name matches, else loaded
 * once per synthesis (default load options) and kept for the synthesis. */
static int block_voice(vox_synth *s, const char *name, vox_voice **out) {
    if (!*name || !strcmp(name, s->voice->name)) {
        *out = s->voice;
        return 0;
    }
    for (size_t i = 0; i < s->nextra; i++)
        if (!strcmp(s->extra[i]->name, name)) {
            *out = s->extra[i];
            return 0;
        }
    if (s->nextra == MAX_EXTRA_VOICES) {
        snprintf(s->err, sizeof s->err, "SSML: more than %d voices in one synthesis",
                 MAX_EXTRA_VOICES);
        return VOX_ERR_SSML;
    }
    char e[400];
    vox_voice *v;
    int rc = vox_voice_load(name, NULL, &v, e, sizeof e);
    if (rc) {
        snprintf(s->err, sizeof s->err, "SSML <voice name=\"%s\">: %s", name, e);
        return rc;
    }
    if (v->info.sample_rate != s->voice->info.sample_rate) {
        snprintf(s->err, sizeof s->err,
                 "SSML <voice name=\"%s\">: its sample rate %d differs from %d", name,
                 v->info.sample_rate, s->voice->info.sample_rate);
        vox_voice_free(v);
        return VOX_ERR_UNSUPPORTED;
    }
    s->extra[s->nextra++] = v;
    *out = v;
    return 0;
}

/* Options, text, normalization and sentence plan of one block. */
static int block_prepare(vox_synth *s, sblock *b, const vx_ssml_block *sb) {
    int rc = 0;
    b->opt = s->opt;
    b->voice = s->voice;
    if (sb) {
        rc = block_voice(s, sb->voice, &b->voice);
        if (rc) return rc;
        b->opt.rate *= sb->rate;
        if (b->opt.length_scale > 0) b->opt.length_scale /= sb->rate;
        b->opt.pitch *= sb->pitch;
        if (b->opt.pitch > 2) b->opt.pitch = 2;
        b->opt.volume *= sb->volume;
        b->break_after = sb->break_after;
        if (b->voice != s->voice) {
            b->opt.speaker_id = -1;
            b->opt.speaker = NULL;
            rc = b->voice->ops->speaker(b->voice, &b->opt, &b->opt.speaker_id, s->err,
                                        sizeof s->err);
            if (rc) return rc;
        }
    }
    vox_voice *v = b->voice;
    b->len = b->doc_hi - b->doc_lo;
    b->text = malloc(b->len + 1);
    if (!b->text) return VOX_ERR_NOMEM;
    memcpy(b->text, s->dtext + b->doc_lo, b->len);
    b->text[b->len] = 0;
    if (s->opt.text_norm || s->lex) {
        const char *tag = sb && sb->lang[0] ? sb->lang : v->language;
        vx_norm_opts no = {tag, s->opt.text_norm, s->lex, !strcmp(v->kind, "piper")};
        rc = vx_normalize_opts(&no, b->text, b->len, &b->norm, s->err, sizeof s->err);
        if (rc) return rc;
        free(b->text);
        b->text = b->norm.text; /* owned by b->norm from here on */
        b->len = b->norm.len;
        b->has_norm = 1;
    }
    if (b->len) rc = v->ops->plan(v, b->text, b->len, &b->plan, s->err, sizeof s->err);
    return rc;
}

static int block_yields(const sblock *b) { return b->plan.n || b->break_after > 0 || b->n_marks; }

int vox_synth_start(vox_voice *v, const char *text, size_t len, const vox_synth_options *o,
                    vox_synth **out) {
    if (!out) return VOX_ERR_ARG;
    *out = NULL;
    vox_synth *s = calloc(1, sizeof *s);
    if (!s) return VOX_ERR_NOMEM;
    *out = s; /* handed out even on error, so the caller can read vox_synth_error */
    s->voice = v;
    s->done = 1;
    if (o)
        s->opt = *o;
    else
        vox_synth_options_init(&s->opt);
    if (!v || (!text && len)) {
        snprintf(s->err, sizeof s->err, "voice or text missing");
        return VOX_ERR_ARG;
    }
    int rc = check_text(text, len, s->err, sizeof s->err);
    if (!rc) rc = check_options(&s->opt, s->err, sizeof s->err);
    if (!rc) rc = v->ops->speaker(v, &s->opt, &s->speaker_id, s->err, sizeof s->err);
    if (rc) return rc;
    s->opt.speaker_id = s->speaker_id;
    s->doc = clean_copy(text, len);
    if (!s->doc) return VOX_ERR_NOMEM;
    s->doc_len = len;
    if (s->opt.lexicon) s->lex = vx_lex_ref((vx_lex *)s->opt.lexicon);
    s->is_ssml = s->opt.input_format == VOX_INPUT_SSML ||
                 (s->opt.input_format == VOX_INPUT_AUTO && vx_ssml_detect(s->doc, len));
    size_t nb = 1;
    if (s->is_ssml) {
        rc = vx_ssml_parse(s->doc, len, !strcmp(v->kind, "piper"), v->language, &s->ssml, s->err,
                           sizeof s->err);
        if (rc) return rc;
        s->dtext = s->ssml.text.text;
        nb = s->ssml.nb;
    } else {
        s->dtext = s->doc;
    }
    s->b = calloc(nb ? nb : 1, sizeof *s->b);
    if (!s->b) return VOX_ERR_NOMEM;
    s->nb = nb;
    size_t sentences = 0, yields = 0;
    for (size_t i = 0; i < nb; i++) {
        sblock *b = &s->b[i];
        const vx_ssml_block *sb = s->is_ssml ? &s->ssml.b[i] : NULL;
        b->doc_lo = sb ? sb->lo : 0;
        b->doc_hi = sb ? sb->hi : len;
        rc = block_prepare(s, b, sb);
        if (rc) return rc;
        sentences += b->plan.n;
    }
    for (size_t m = 0; m < s->ssml.nm; m++) { /* marks are in block order */
        size_t bi = s->ssml.m[m].block < nb ? s->ssml.m[m].block : nb - 1;
        if (!s->b[bi].n_marks) s->b[bi].first_mark = m;
        s->b[bi].n_marks++;
    }
    for (size_t i = 0; i < nb; i++) yields += block_yields(&s->b[i]);
    if (!sentences && !yields) {
        snprintf(s->err, sizeof s->err, "input text has nothing to speak");
        return VOX_ERR_EMPTY;
    }
    s->done = 0;
    return VOX_OK;
}

int vox_text_is_ssml(const char *text, size_t len) { return text && vx_ssml_detect(text, len); }

int vox_ssml_check(const char *text, size_t len, char *err, size_t errlen) {
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    int rc = check_text(text, len, err, errlen);
    if (rc) return rc;
    vx_ssml x;
    rc = vx_ssml_parse(text, len, 1, "en", &x, err, errlen);
    if (!rc) vx_ssml_free(&x);
    return rc;
}

/* Volume, trailing silence (sentence silence, then a break) and the int16 copy. */
static int finish_chunk(vox_synth *s, vx_audio *a, const vox_synth_options *o, double extra) {
    int sr = s->voice->info.sample_rate;
    size_t sil = (size_t)(o->sentence_silence * sr + 0.5) + (size_t)(extra * sr + 0.5);
    if (sil) {
        float *p = realloc(a->samples, (a->n + sil) * sizeof *p);
        if (!p) return VOX_ERR_NOMEM;
        memset(p + a->n, 0, sil * sizeof *p);
        a->samples = p;
        a->n += sil;
    }
    if (o->volume != 1.0f)
        for (size_t i = 0; i < a->n; i++) a->samples[i] *= o->volume;
    if (a->n > s->pcm_cap) {
        int16_t *p = realloc(s->pcm, a->n * sizeof *p);
        if (!p) return VOX_ERR_NOMEM;
        s->pcm = p;
        s->pcm_cap = a->n;
    }
    vx_pcm_f32_to_s16(a->samples, s->pcm, a->n);
    return VOX_OK;
}

static void shift_timings(vox_timing *t, size_t n, double t0) {
    for (size_t i = 0; i < n; i++) {
        t[i].start += t0;
        t[i].end += t0;
    }
}

/* A span of a block's (normalized) text -> the document text. */
static void to_doc(const sblock *b, size_t *lo, size_t *hi) {
    if (b->has_norm) vx_norm_map(&b->norm, *lo, *hi, lo, hi);
    *lo += b->doc_lo;
    *hi += b->doc_lo;
}

/* The document text -> the caller's input (SSML: the document's bytes). */
static void to_input(const vox_synth *s, size_t *lo, size_t *hi) {
    if (s->is_ssml) vx_norm_map(&s->ssml.text, *lo, *hi, lo, hi);
}

static void map_span(const vox_synth *s, const sblock *b, size_t *off, size_t *len) {
    size_t lo = *off, hi = *off + *len;
    to_doc(b, &lo, &hi);
    to_input(s, &lo, &hi);
    *off = lo;
    *len = hi - lo;
}

static void map_timings(const vox_synth *s, const sblock *b, vox_timing *t, size_t n) {
    for (size_t i = 0; i < n; i++) map_span(s, b, &t[i].text_offset, &t[i].text_length);
}

/* Spoken words of one written token ("five hundred dollars" for "$500") become one
 * word timing spanning their time, so subtitles show "$500" once. */
static size_t merge_words(vox_timing *t, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && t[k - 1].text_offset == t[i].text_offset &&
            t[k - 1].text_length == t[i].text_length && !t[i].phoneme) {
            if (t[i].end > t[k - 1].end) t[k - 1].end = t[i].end;
            continue;
        }
        t[k++] = t[i];
    }
    return k;
}

/* Marks of block b that this chunk reaches: in sentence si, those before the end of its
 * text (the last sentence also takes the rest). A mark's time is the start of the first
 * word at or after it, else the end of the sentence's speech. Word offsets are still in
 * block coordinates here. speech_end: seconds, absolute. */
static size_t chunk_marks(vox_synth *s, const sblock *b, size_t si, double speech_end) {
    size_t n = 0, lo_bound = 0, hi_bound = SIZE_MAX;
    if (si > 0) {
        size_t lo = b->plan.spans[si - 1].offset, hi = lo + b->plan.spans[si - 1].length;
        to_doc(b, &lo, &hi);
        lo_bound = hi;
    }
    if (si + 1 < b->plan.n) {
        size_t lo = b->plan.spans[si].offset, hi = lo + b->plan.spans[si].length;
        to_doc(b, &lo, &hi);
        hi_bound = hi;
    }
    for (size_t k = 0; k < b->n_marks; k++) {
        const vx_ssml_mark *m = &s->ssml.m[b->first_mark + k];
        if (m->pos < lo_bound || m->pos >= hi_bound) continue;
        double t = speech_end;
        for (size_t w = 0; w < s->cur.n_words; w++) {
            size_t lo = s->cur.words[w].text_offset, hi = lo + s->cur.words[w].text_length;
            to_doc(b, &lo, &hi);
            if (lo >= m->pos) {
                t = s->cur.words[w].start;
                break;
            }
        }
        if (n == sizeof s->marks / sizeof s->marks[0]) break;
        s->marks[n].name = m->name;
        s->marks[n].time = t;
        s->marks[n].text_offset = m->src;
        n++;
    }
    return n;
}

static int more_after(const vox_synth *s, size_t bi, size_t si) {
    if (bi < s->nb && si < s->b[bi].plan.n) return 1;
    for (size_t i = bi + 1; i < s->nb; i++)
        if (block_yields(&s->b[i])) return 1;
    return 0;
}

int vox_synth_next(vox_synth *s, vox_chunk *c) {
    if (!s || !c) return VOX_ERR_ARG;
    memset(c, 0, sizeof *c);
    c->sample_rate = s->voice ? s->voice->info.sample_rate : 0;
    if (atomic_load(&s->cancel)) {
        snprintf(s->err, sizeof s->err, "synthesis cancelled");
        return VOX_ERR_CANCELLED;
    }
    if (s->done) {
        c->last = 1;
        return VOX_OK;
    }
    s->t0 += s->cur.n / (double)s->voice->info.sample_rate;
    vx_audio_free(&s->cur);
    while (s->bi < s->nb && !block_yields(&s->b[s->bi])) s->bi++;
    if (s->bi >= s->nb) {
        s->done = 1;
        c->last = 1;
        return VOX_OK;
    }
    sblock *b = &s->b[s->bi];
    size_t si = s->si;
    int rc = 0, is_last_of_block = b->plan.n == 0 || si + 1 >= b->plan.n;
    double speech_end = s->t0;
    int sentence_done = 1, marks_now = 1;
    const vx_voice_ops *ops = b->plan.n ? b->voice->ops : NULL;
    if (ops && ops->stream_begin && b->opt.chunk_frames > 0 &&
        b->opt.normalize != VOX_NORMALIZE_PEAK) {
        /* inside the sentence: the voice's chunks (vox.h: the chunk contract) */
        int first = !s->pst, slast = 0;
        vx_audio meta = {0};
        size_t total = 0;
        if (first) {
            rc = ops->stream_begin(b->voice, &b->plan, si, &b->opt, &s->cancel_flag, &s->pst, &meta,
                                   &total, s->err, sizeof s->err);
            s->pst_frames = b->opt.chunk_frames;
        }
        if (!rc)
            rc = ops->stream_next(s->pst, s->pst_frames, &s->cur, &slast, s->err, sizeof s->err);
        if (!rc && s->cancel_flag) rc = VOX_ERR_CANCELLED;
        s->pst_frames =
            s->pst_frames * 2 > VOX_CHUNK_FRAMES_MAX ? VOX_CHUNK_FRAMES_MAX : s->pst_frames * 2;
        if (!rc && first) { /* the sentence's timings ride on its first chunk */
            s->cur.words = meta.words;
            s->cur.n_words = meta.n_words;
            s->cur.phonemes = meta.phonemes;
            s->cur.n_phonemes = meta.n_phonemes;
            s->cur.phoneme_text = meta.phoneme_text;
            meta.words = meta.phonemes = NULL;
            meta.phoneme_text = NULL;
        }
        vx_audio_free(&meta);
        if (rc || slast) {
            if (s->pst) ops->stream_end(s->pst);
            s->pst = NULL;
        }
        sentence_done = slast;
        marks_now = first; /* marks are placed by word timings: with the first chunk */
        speech_end = s->t0 + (double)total / s->voice->info.sample_rate;
        vox_synth_options o = b->opt;
        if (!slast) o.sentence_silence = 0;
        if (!rc) rc = finish_chunk(s, &s->cur, &o, slast && is_last_of_block ? b->break_after : 0);
    } else if (b->plan.n) {
        rc = b->voice->ops->synth(b->voice, &b->plan, si, b->text, &b->opt, &s->cancel_flag,
                                  &s->cur, s->err, sizeof s->err);
        if (!rc && s->cancel_flag) rc = VOX_ERR_CANCELLED;
        speech_end = s->t0 + s->cur.n / (double)s->voice->info.sample_rate;
        if (!rc) rc = finish_chunk(s, &s->cur, &b->opt, is_last_of_block ? b->break_after : 0);
    } else {
        /* a break (or marks) with no text before it: a chunk of silence */
        vox_synth_options o = b->opt;
        o.sentence_silence = 0;
        rc = finish_chunk(s, &s->cur, &o, b->break_after);
    }
    if (rc) {
        if (rc == VOX_ERR_CANCELLED) snprintf(s->err, sizeof s->err, "synthesis cancelled");
        s->done = 1;
        vx_audio_free(&s->cur);
        return rc;
    }
    shift_timings(s->cur.words, s->cur.n_words, s->t0);
    shift_timings(s->cur.phonemes, s->cur.n_phonemes, s->t0);
    size_t nm = b->n_marks && marks_now ? chunk_marks(s, b, si, speech_end) : 0;
    map_timings(s, b, s->cur.words, s->cur.n_words);
    if (b->has_norm || s->is_ssml) s->cur.n_words = merge_words(s->cur.words, s->cur.n_words);
    map_timings(s, b, s->cur.phonemes, s->cur.n_phonemes);
    c->samples = s->cur.samples;
    c->pcm16 = s->pcm;
    c->n_samples = s->cur.n;
    c->sentence_index = s->chunk;
    if (sentence_done) s->chunk++;
    if (b->plan.n) {
        c->text_offset = b->plan.spans[si].offset;
        c->text_length = b->plan.spans[si].length;
        map_span(s, b, &c->text_offset, &c->text_length);
    } else {
        size_t lo = b->doc_hi, hi = b->doc_hi;
        to_input(s, &lo, &hi);
        c->text_offset = lo;
        c->text_length = hi - lo;
    }
    if (s->opt.timings) {
        c->words = s->cur.words;
        c->n_words = s->cur.n_words;
        c->phonemes = s->cur.phonemes;
        c->n_phonemes = s->cur.n_phonemes;
    }
    c->marks = nm ? s->marks : NULL;
    c->n_marks = nm;
    if (!sentence_done) return VOX_OK; /* more chunks of this sentence */
    if (is_last_of_block) {
        s->bi++;
        s->si = 0;
    } else
        s->si++;
    s->done = !more_after(s, s->bi, s->si);
    c->last = s->done;
    return VOX_OK;
}

void vox_synth_cancel(vox_synth *s) {
    if (!s) return;
    atomic_store(&s->cancel, 1);
    s->cancel_flag = 1;
}

const char *vox_synth_error(const vox_synth *s) { return s ? s->err : "no synthesis"; }

void vox_synth_free(vox_synth *s) {
    if (!s) return;
    for (size_t i = 0; i < s->nb; i++) {
        sblock *b = &s->b[i];
        if (b->plan.impl && b->voice) b->voice->ops->plan_free(b->plan.impl);
        free(b->plan.spans);
        if (b->has_norm)
            vx_norm_free(&b->norm);
        else
            free(b->text);
    }
    if (s->pst && s->bi < s->nb && s->b[s->bi].voice) s->b[s->bi].voice->ops->stream_end(s->pst);
    free(s->b);
    for (size_t i = 0; i < s->nextra; i++) vox_voice_free(s->extra[i]);
    vx_audio_free(&s->cur);
    free(s->pcm);
    free(s->doc);
    vx_ssml_free(&s->ssml);
    vx_lex_release(s->lex);
    free(s);
}

int vox_split_sentences(vox_voice *v, const char *text, size_t len, vox_span **spans, size_t *n,
                        char *err, size_t errlen) {
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    *spans = NULL;
    *n = 0;
    int rc = check_text(text, len, err, errlen);
    if (rc) return rc;
    char *copy = clean_copy(text, len);
    if (!copy) return VOX_ERR_NOMEM;
    vx_plan p = {0};
    rc = v->ops->plan(v, copy, len, &p, err, errlen);
    if (!rc) {
        *spans = p.spans;
        *n = p.n;
        p.spans = NULL;
    }
    if (p.impl) v->ops->plan_free(p.impl);
    free(p.spans);
    free(copy);
    return rc;
}

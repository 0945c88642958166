/* The public API: option defaults, voice loading by name, and the streaming synthesis
 * loop shared by every voice kind (validate → plan sentences → render one per call). */
#include "vox.h"
#include "audio/wav.h"
#include "api/voices.h"
#include "voice/voice.h"
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
        if (snprintf(path, cap, "%s/%s.onnx", vd.dirs[i], name) < (int)cap && is_file(path)) return 1;
        if (snprintf(path, cap, "%s/%s", vd.dirs[i], name) < (int)cap && ends_with(name, ".onnx") &&
            is_file(path))
            return 1;
    }
    return 0;
}

int vox_voice_load(const char *name, const vox_load_options *opt, vox_voice **out, char *err,
                   size_t errlen) {
    char dummy[8];
    if (!err) { err = dummy; errlen = sizeof dummy; }
    if (!out || !name) {
        snprintf(err, errlen, "voice name missing");
        return VOX_ERR_ARG;
    }
    *out = NULL;
    vox_load_options defaults;
    if (!opt) { vox_load_options_init(&defaults); opt = &defaults; }
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
             "in the data dirs)", name);
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

struct vox_synth {
    vox_voice *voice;
    vox_synth_options opt;
    char *text;               /* private copy: the caller's buffer may go away */
    size_t len;
    vx_plan plan;
    size_t next;              /* next sentence to render */
    int done;
    int speaker_id;
    double t0;                /* seconds of audio emitted before the current chunk */
    atomic_int cancel;
    volatile int cancel_flag; /* mirrored for voice code that polls a plain int */
    vx_audio cur;             /* audio of the chunk handed out last */
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
#define RANGE(f, lo, hi, name)                                                          \
    if (!(o->f >= (lo) && o->f <= (hi))) {                                              \
        snprintf(err, errlen, "%s must be in [%g, %g], got %g", name, (double)(lo),     \
                 (double)(hi), (double)o->f);                                          \
        return VOX_ERR_ARG;                                                             \
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
    return VOX_OK;
}

int vox_synth_start(vox_voice *v, const char *text, size_t len, const vox_synth_options *o,
                    vox_synth **out) {
    if (!out) return VOX_ERR_ARG;
    *out = NULL;
    vox_synth *s = calloc(1, sizeof *s);
    if (!s) return VOX_ERR_NOMEM;
    *out = s;   /* handed out even on error, so the caller can read vox_synth_error */
    s->voice = v;
    s->done = 1;
    if (o) s->opt = *o; else vox_synth_options_init(&s->opt);
    if (!v || (!text && len)) {
        snprintf(s->err, sizeof s->err, "voice or text missing");
        return VOX_ERR_ARG;
    }
    int rc = check_text(text, len, s->err, sizeof s->err);
    if (!rc) rc = check_options(&s->opt, s->err, sizeof s->err);
    if (!rc) rc = v->ops->speaker(v, &s->opt, &s->speaker_id, s->err, sizeof s->err);
    if (rc) return rc;
    s->text = clean_copy(text, len);
    if (!s->text) return VOX_ERR_NOMEM;
    s->len = len;
    s->opt.speaker_id = s->speaker_id;
    rc = v->ops->plan(v, s->text, len, &s->plan, s->err, sizeof s->err);
    if (rc) return rc;
    if (s->plan.n == 0) {
        snprintf(s->err, sizeof s->err, "input text has nothing to speak");
        return VOX_ERR_EMPTY;
    }
    s->done = 0;
    return VOX_OK;
}

/* Volume, trailing sentence silence and the int16 copy. */
static int finish_chunk(vox_synth *s, vx_audio *a) {
    size_t sil = (size_t)(s->opt.sentence_silence * s->voice->info.sample_rate + 0.5);
    if (sil) {
        float *p = realloc(a->samples, (a->n + sil) * sizeof *p);
        if (!p) return VOX_ERR_NOMEM;
        memset(p + a->n, 0, sil * sizeof *p);
        a->samples = p;
        a->n += sil;
    }
    if (s->opt.volume != 1.0f)
        for (size_t i = 0; i < a->n; i++) a->samples[i] *= s->opt.volume;
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
    for (size_t i = 0; i < n; i++) { t[i].start += t0; t[i].end += t0; }
}

int vox_synth_next(vox_synth *s, vox_chunk *c) {
    if (!s || !c) return VOX_ERR_ARG;
    memset(c, 0, sizeof *c);
    c->sample_rate = s->voice ? s->voice->info.sample_rate : 0;
    if (atomic_load(&s->cancel)) {
        snprintf(s->err, sizeof s->err, "synthesis cancelled");
        return VOX_ERR_CANCELLED;
    }
    if (s->done) { c->last = 1; return VOX_OK; }
    s->t0 += s->cur.n / (double)s->voice->info.sample_rate;
    vx_audio_free(&s->cur);
    size_t i = s->next;
    int rc = s->voice->ops->synth(s->voice, &s->plan, i, s->text, &s->opt, &s->cancel_flag,
                                  &s->cur, s->err, sizeof s->err);
    if (!rc && s->cancel_flag) rc = VOX_ERR_CANCELLED;
    if (!rc) rc = finish_chunk(s, &s->cur);
    if (rc) {
        if (rc == VOX_ERR_CANCELLED) snprintf(s->err, sizeof s->err, "synthesis cancelled");
        s->done = 1;
        vx_audio_free(&s->cur);
        return rc;
    }
    shift_timings(s->cur.words, s->cur.n_words, s->t0);
    shift_timings(s->cur.phonemes, s->cur.n_phonemes, s->t0);
    s->next++;
    s->done = s->next >= s->plan.n;
    c->samples = s->cur.samples;
    c->pcm16 = s->pcm;
    c->n_samples = s->cur.n;
    c->last = s->done;
    c->sentence_index = (int)i;
    c->text_offset = s->plan.spans[i].offset;
    c->text_length = s->plan.spans[i].length;
    if (s->opt.timings) {
        c->words = s->cur.words; c->n_words = s->cur.n_words;
        c->phonemes = s->cur.phonemes; c->n_phonemes = s->cur.n_phonemes;
    }
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
    if (s->plan.impl && s->voice) s->voice->ops->plan_free(s->plan.impl);
    free(s->plan.spans);
    vx_audio_free(&s->cur);
    free(s->pcm);
    free(s->text);
    free(s);
}

int vox_split_sentences(vox_voice *v, const char *text, size_t len, vox_span **spans, size_t *n,
                        char *err, size_t errlen) {
    char dummy[8];
    if (!err) { err = dummy; errlen = sizeof dummy; }
    *spans = NULL;
    *n = 0;
    int rc = check_text(text, len, err, errlen);
    if (rc) return rc;
    char *copy = clean_copy(text, len);
    if (!copy) return VOX_ERR_NOMEM;
    vx_plan p = {0};
    rc = v->ops->plan(v, copy, len, &p, err, errlen);
    if (!rc) { *spans = p.spans; *n = p.n; p.spans = NULL; }
    if (p.impl) v->ops->plan_free(p.impl);
    free(p.spans);
    free(copy);
    return rc;
}

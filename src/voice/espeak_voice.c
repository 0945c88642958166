/* Built-in espeak-ng voices ("espeak:<name>"): formant synthesis by libespeak-ng.
 * Sentences come from the same espeak-ng clause splitter the Piper front end uses,
 * then each sentence is synthesized by espeak_Synth under the process-wide lock. */
#include "util/vec.h"
#include "voice/voice.h"
#include "text/espeak.h"
#include "text/phonemize.h"
#include "util/utf8.h"
#include <espeak-ng/speak_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct espeak_voice {
    char espeak_name[128];
    char data_dir[1024]; /* "" = system data */
} espeak_voice;

/* What the synth callback collects for one sentence. */
typedef struct synth_sink {
    float *samples;
    size_t n, cap;
    vox_timing *words;
    size_t n_words, cap_words;
    vox_timing *phonemes; /* .phoneme is an offset into ph_text until finished */
    size_t n_phonemes, cap_phonemes;
    char *ph_text;
    size_t ph_len, ph_cap;
    volatile int *cancel;
    int oom;
} synth_sink;

static const char *data_dir_or_null(const espeak_voice *ev) {
    return ev->data_dir[0] ? ev->data_dir : NULL;
}

static int sink_samples(synth_sink *k, const short *wav, int n) {
    if (vx_grow((void **)&k->samples, &k->cap, k->n + (size_t)n, sizeof *k->samples, 16384))
        return -1;
    for (int i = 0; i < n; i++) k->samples[k->n + i] = wav[i] / 32768.0f;
    k->n += (size_t)n;
    return 0;
}

static int sink_word(synth_sink *k, const espeak_EVENT *e) {
    if (vx_grow((void **)&k->words, &k->cap_words, k->n_words + 1, sizeof *k->words, 32)) return -1;
    vox_timing *t = &k->words[k->n_words++];
    memset(t, 0, sizeof *t);
    /* text_position is 1-based in characters; converted to bytes by the caller. */
    t->text_offset = e->text_position > 0 ? (size_t)e->text_position - 1 : 0;
    t->text_length = e->length > 0 ? (size_t)e->length : 0;
    t->start = e->audio_position / 1000.0;
    return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    return vx_grow(p, cap, need, elem, 64);
}

static int sink_phoneme(synth_sink *k, const espeak_EVENT *e) {
    size_t len = strnlen(e->id.string, sizeof e->id.string);
    if (!len) return 0;
    if (grow((void **)&k->phonemes, &k->cap_phonemes, k->n_phonemes + 1, sizeof *k->phonemes) ||
        grow((void **)&k->ph_text, &k->ph_cap, k->ph_len + len + 1, 1))
        return -1;
    vox_timing *t = &k->phonemes[k->n_phonemes++];
    memset(t, 0, sizeof *t);
    t->start = e->audio_position / 1000.0;
    t->phoneme = (const char *)(uintptr_t)k->ph_len;
    memcpy(k->ph_text + k->ph_len, e->id.string, len);
    k->ph_text[k->ph_len + len] = 0;
    k->ph_len += len + 1;
    return 0;
}

static int synth_callback(short *wav, int numsamples, espeak_EVENT *events) {
    synth_sink *k = events ? (synth_sink *)events->user_data : NULL;
    if (!k) return 1;
    if (wav && numsamples > 0 && sink_samples(k, wav, numsamples)) {
        k->oom = 1;
        return 1;
    }
    for (espeak_EVENT *e = events; e->type != espeakEVENT_LIST_TERMINATED; e++)
        if ((e->type == espeakEVENT_WORD && sink_word(k, e)) ||
            (e->type == espeakEVENT_PHONEME && sink_phoneme(k, e))) {
            k->oom = 1;
            return 1;
        }
    return *k->cancel ? 1 : 0; /* non-zero asks espeak to stop */
}

/* Character index → byte offset inside s (valid UTF-8). */
static size_t char_to_byte(const char *s, size_t len, size_t chars) {
    size_t i = 0;
    while (i < len && chars) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
        chars--;
    }
    return i;
}

/* s is the text espeak read (vx_espeak_text), at maps its bytes back to the span's. */
static void finish_word_timings(synth_sink *k, const char *s, size_t len, const size_t *at,
                                size_t base, double total) {
    for (size_t i = 0; i < k->n_words; i++) {
        vox_timing *t = &k->words[i];
        size_t b0 = at[char_to_byte(s, len, t->text_offset)];
        size_t b1 = at[char_to_byte(s, len, t->text_offset + t->text_length)];
        t->text_offset = base + b0;
        t->text_length = b1 - b0;
        t->end = i + 1 < k->n_words ? k->words[i + 1].start : total;
        if (t->end < t->start) t->end = t->start;
    }
}

/* Phoneme ends are the next phoneme's start; each phoneme belongs to the word whose
 * time span holds its start. */
static void finish_phoneme_timings(synth_sink *k, double total) {
    size_t w = 0;
    for (size_t i = 0; i < k->n_phonemes; i++) {
        vox_timing *t = &k->phonemes[i];
        t->phoneme = k->ph_text + (uintptr_t)t->phoneme;
        if (t->start > total) t->start = total;
        t->end = i + 1 < k->n_phonemes ? k->phonemes[i + 1].start : total;
        if (t->end > total) t->end = total;
        if (t->end < t->start) t->end = t->start;
        while (w + 1 < k->n_words && k->words[w + 1].start <= t->start) w++;
        if (k->n_words && k->words[w].start <= t->start) {
            t->text_offset = k->words[w].text_offset;
            t->text_length = k->words[w].text_length;
        }
    }
}

static int ev_plan(vox_voice *v, const char *text, size_t len, vx_plan *out, char *err,
                   size_t errlen) {
    espeak_voice *ev = v->impl;
    vx_phonemize_opts po = {.espeak_voice = ev->espeak_name, .espeak_data = data_dir_or_null(ev)};
    vx_sentence *ss = NULL;
    size_t n = 0;
    int rc = vx_phonemize(&po, text, len, &ss, &n, err, errlen);
    if (rc) return rc;
    out->spans = calloc(n ? n : 1, sizeof *out->spans);
    if (!out->spans) {
        vx_sentences_free(ss, n);
        return VOX_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        out->spans[i].offset = ss[i].offset;
        out->spans[i].length = ss[i].length;
    }
    out->n = n;
    out->impl = NULL;
    vx_sentences_free(ss, n);
    return VOX_OK;
}

/* libespeak-ng ends a synthesis with a run of exact zeros whose length depends on what the
 * process synthesized before, not on this text: Debian's 1.51, en-us+Denis, "Yes!" is the
 * same 8,396 samples and then 154 zeros at process start, 352 after "Hello world.", 1,234
 * after "Does it work?". A server interleaves requests, so the same sentence would end
 * 50 ms earlier or later depending on another client. The run is replaced by a fixed
 * 10 ms (the end-of-text pause espeak's TranslateClause asks for), so a sentence's audio
 * depends only on its own text and options. */
#define EV_END_PAUSE_MS 10
static int fix_end_pause(synth_sink *k, int sample_rate) {
    while (k->n && k->samples[k->n - 1] == 0.0f) k->n--;
    size_t pad = (size_t)sample_rate * EV_END_PAUSE_MS / 1000;
    if (vx_grow((void **)&k->samples, &k->cap, k->n + pad, sizeof *k->samples, 16384)) return -1;
    memset(k->samples + k->n, 0, pad * sizeof *k->samples);
    k->n += pad;
    return 0;
}

/* Everything vox sets per request (voice, rate, pitch, volume) is set on every call, so no
 * request inherits another's settings. What remains is libespeak-ng's own: two counters of
 * its wave generator (Flutter_ix in AdvanceParameters, cycle_count in Wavegen, 1.51 and
 * master) are function statics that neither espeak_SetVoiceByName nor espeak_Terminate +
 * espeak_Initialize resets, and the library exports no way to reach them. Voices with
 * flutter or roughness therefore differ by a few samples per synthesis inside one process;
 * voices without both are bit-exact (tests/voice/test_espeak_repro.c). */
static int ev_synth(vox_voice *v, const vx_plan *p, size_t idx, const char *text,
                    const vox_synth_options *o, volatile int *cancel, vx_audio *out, char *err,
                    size_t errlen) {
    espeak_voice *ev = v->impl;
    const vox_span *sp = &p->spans[idx];
    char *buf;
    size_t *at, blen;
    if (vx_espeak_text(text + sp->offset, sp->length, &buf, &blen, &at)) return VOX_ERR_NOMEM;
    synth_sink k = {.cancel = cancel};
    int rc = 0;
    vx_espeak_lock();
    int r = vx_espeak_init_locked(data_dir_or_null(ev), err, errlen);
    if (r < 0) rc = r;
    if (!rc) rc = vx_espeak_set_voice_locked(ev->espeak_name, err, errlen);
    if (!rc) {
        int wpm = (int)(espeakRATE_NORMAL * o->rate + 0.5f);
        wpm = wpm < espeakRATE_MINIMUM   ? espeakRATE_MINIMUM
              : wpm > espeakRATE_MAXIMUM ? espeakRATE_MAXIMUM
                                         : wpm;
        espeak_SetParameter(espeakRATE, wpm, 0);
        espeak_SetParameter(espeakPITCH, (int)(50 * o->pitch + 0.5f), 0);
        espeak_SetParameter(espeakVOLUME, 100, 0); /* our own gain is applied later */
        espeak_SetSynthCallback(synth_callback);
        espeak_ERROR e =
            espeak_Synth(buf, blen + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, &k);
        if (e != EE_OK) {
            snprintf(err, errlen, "espeak_Synth failed (%d)", (int)e);
            rc = VOX_ERR_ESPEAK;
        }
    }
    vx_espeak_unlock();
    if (!rc && !k.oom && fix_end_pause(&k, v->info.sample_rate)) k.oom = 1;
    if (!rc && k.oom) {
        snprintf(err, errlen, "out of memory during synthesis");
        rc = VOX_ERR_NOMEM;
    }
    if (!rc && *cancel) rc = VOX_ERR_CANCELLED;
    if (rc) {
        free(k.samples);
        free(k.words);
        free(k.phonemes);
        free(k.ph_text);
        free(buf);
        free(at);
        return rc;
    }
    double total = k.n / (double)v->info.sample_rate;
    finish_word_timings(&k, buf, blen, at, sp->offset, total);
    finish_phoneme_timings(&k, total);
    free(buf);
    free(at);
    out->phonemes = k.phonemes;
    out->n_phonemes = k.n_phonemes;
    out->phoneme_text = k.ph_text;
    out->samples = k.samples;
    out->n = k.n;
    out->words = k.words;
    out->n_words = k.n_words;
    return VOX_OK;
}

static void ev_plan_free(void *impl) { (void)impl; }

static int ev_speaker(const vox_voice *v, const vox_synth_options *o, int *id, char *err,
                      size_t errlen) {
    (void)v;
    if ((o->speaker && *o->speaker) || o->speaker_id > 0) {
        snprintf(err, errlen, "espeak voices have a single speaker (valid: 0)");
        return VOX_ERR_NOT_FOUND;
    }
    *id = -1;
    return VOX_OK;
}

static void ev_free(vox_voice *v) {
    free(v->impl);
    free(v);
}

static const vx_voice_ops espeak_ops = {
    .plan = ev_plan,
    .synth = ev_synth,
    .plan_free = ev_plan_free,
    .speaker = ev_speaker,
    .speaker_name = NULL,
    .free = ev_free,
};

int vx_espeak_voice_load(const char *name, const vox_load_options *o, vox_voice **out, char *err,
                         size_t errlen) {
    *out = NULL;
    if (!*name || strlen(name) >= sizeof((espeak_voice *)0)->espeak_name) {
        snprintf(err, errlen, "invalid espeak voice name '%s'", name);
        return VOX_ERR_ARG;
    }
    if (o->espeak_data && strlen(o->espeak_data) >= sizeof((espeak_voice *)0)->data_dir) {
        snprintf(err, errlen, "espeak data path too long");
        return VOX_ERR_ARG;
    }
    vox_voice *v = calloc(1, sizeof *v);
    espeak_voice *ev = calloc(1, sizeof *ev);
    if (!v || !ev) {
        free(v);
        free(ev);
        return VOX_ERR_NOMEM;
    }
    snprintf(ev->espeak_name, sizeof ev->espeak_name, "%s", name);
    if (o->espeak_data) snprintf(ev->data_dir, sizeof ev->data_dir, "%s", o->espeak_data);
    int rc = 0;
    vx_espeak_lock();
    int rate = vx_espeak_init_locked(data_dir_or_null(ev), err, errlen);
    if (rate < 0) rc = rate;
    if (!rc) rc = vx_espeak_set_voice_locked(name, err, errlen);
    if (!rc) {
        espeak_VOICE *cur = espeak_GetCurrentVoice();
        /* languages = priority byte + name, repeated; the first is the main one. */
        const char *lang = cur && cur->languages && cur->languages[0] ? cur->languages + 1 : name;
        snprintf(v->language, sizeof v->language, "%s", lang);
    }
    vx_espeak_unlock();
    if (rc) {
        free(ev);
        free(v);
        return rc;
    }
    v->ops = &espeak_ops;
    v->impl = ev;
    snprintf(v->name, sizeof v->name, "espeak:%s", name);
    snprintf(v->kind, sizeof v->kind, "espeak");
    snprintf(v->quality, sizeof v->quality, "espeak");
    v->info = (vox_voice_info){.name = v->name,
                               .kind = v->kind,
                               .language = v->language,
                               .quality = v->quality,
                               .sample_rate = rate,
                               .num_speakers = 1};
    *out = v;
    return VOX_OK;
}

int vox_list_espeak_voices(const char *espeak_data,
                           int (*fn)(const char *name, const char *language, void *user),
                           void *user) {
    char err[256];
    vx_espeak_lock();
    int rc = vx_espeak_init_locked(espeak_data, err, sizeof err);
    if (rc < 0) {
        vx_espeak_unlock();
        return rc;
    }
    const espeak_VOICE **list = espeak_ListVoices(NULL);
    /* Copy out under the lock: the callback may call back into vox. */
    size_t n = 0;
    while (list && list[n]) n++;
    char(*names)[2][128] = calloc(n ? n : 1, sizeof *names);
    if (!names) {
        vx_espeak_unlock();
        return VOX_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const char *lang =
            list[i]->languages && list[i]->languages[0] ? list[i]->languages + 1 : "";
        const char *id = list[i]->identifier ? list[i]->identifier : "";
        const char *base = strrchr(id, '/');
        snprintf(names[i][0], 128, "%s", lang[0] ? lang : base ? base + 1 : id);
        snprintf(names[i][1], 128, "%s", lang);
    }
    vx_espeak_unlock();
    for (size_t i = 0; i < n; i++)
        if (fn(names[i][0], names[i][1], user)) break;
    free(names);
    return VOX_OK;
}

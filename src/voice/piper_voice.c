/* Piper voices: VITS models exported to ONNX plus their .onnx.json config.
 * Text → espeak-ng phonemes (Piper's rules) → ids → our graph engine → audio, one
 * sentence per call, with Piper's post-processing and per-phoneme timings read from the
 * duration predictor (the graph's Ceil output). */
#include "voice/voice.h"
#include "engine/graph.h"
#include "engine/pack_cache.h"
#include "util/tpool.h"
#include "voice/ids.h"
#include "text/phonemize.h"
#include "util/utf8.h"
#include "voice/piper_config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct piper_voice {
    vx_piper_config *cfg;
    vx_graph *graph;
    int in_ids, in_lengths, in_scales, in_sid; /* graph input indexes (-1 if absent) */
    const char *durations;                     /* name of the Ceil output, or NULL */
    int threads;
    vx_tpool *pool; /* one per voice, shared by its syntheses (NULL: single-threaded) */
    char espeak_data[1024];
    float steady_gain; /* VOX_NORMALIZE_STEADY: gain measured at load (calibrate) */
} piper_voice;

typedef struct piper_plan {
    vx_sentence *sentences;
    size_t n;
} piper_plan;

static vx_phonemize_opts phonemize_opts(const piper_voice *pv) {
    vx_phonemize_opts o = {.espeak_voice = pv->cfg->espeak_voice,
                           .espeak_data = pv->espeak_data[0] ? pv->espeak_data : NULL,
                           .phoneme_type_text = pv->cfg->phoneme_type_text};
    return o;
}

static int pv_plan(vox_voice *v, const char *text, size_t len, vx_plan *out, char *err,
                   size_t errlen) {
    piper_voice *pv = v->impl;
    vx_phonemize_opts po = phonemize_opts(pv);
    piper_plan *pp = calloc(1, sizeof *pp);
    if (!pp) return VOX_ERR_NOMEM;
    int rc = vx_phonemize(&po, text, len, &pp->sentences, &pp->n, err, errlen);
    if (rc) {
        free(pp);
        return rc;
    }
    out->spans = calloc(pp->n ? pp->n : 1, sizeof *out->spans);
    if (!out->spans) {
        vx_sentences_free(pp->sentences, pp->n);
        free(pp);
        return VOX_ERR_NOMEM;
    }
    for (size_t i = 0; i < pp->n; i++) {
        out->spans[i].offset = pp->sentences[i].offset;
        out->spans[i].length = pp->sentences[i].length;
    }
    out->n = pp->n;
    out->impl = pp;
    return VOX_OK;
}

static void pv_plan_free(void *impl) {
    piper_plan *pp = impl;
    if (!pp) return;
    vx_sentences_free(pp->sentences, pp->n);
    free(pp);
}

/* Per-phoneme timings from the durations (frames per id). Piper pads every phoneme
 * with PAD ids; BOS, its PAD and each phoneme's trailing PAD count for the phoneme they
 * belong to (EOS for the last), so phoneme durations add up to the sentence audio. */
static int make_timings(const piper_voice *pv, const vx_sentence *s, const int32_t *id_ph,
                        size_t n_ids, const vx_tensor *dur, size_t n_samples, vx_audio *out) {
    int sr = pv->cfg->sample_rate, hop = pv->cfg->hop_length;
    size_t np = s->n_phonemes;
    if (!np || dur->numel != (int64_t)n_ids) return 0;
    double *ph_frames = calloc(np, sizeof *ph_frames);
    if (!ph_frames) return VOX_ERR_NOMEM;
    size_t cur = 0;
    int seen = 0;
    for (size_t i = 0; i < n_ids; i++) {
        double f = vx_tensor_get_f64(dur, (int64_t)i);
        if (id_ph[i] >= 0 && (size_t)id_ph[i] < np) {
            if (seen && (size_t)id_ph[i] != cur) { /* new phoneme */
            }
            cur = (size_t)id_ph[i];
            seen = 1;
        }
        ph_frames[cur] += f; /* BOS/PAD before the first phoneme land on phoneme 0 */
    }
    /* Phoneme strings: each codepoint as UTF-8, NUL-separated. */
    out->phoneme_text = malloc(np * 5 + 1);
    out->phonemes = calloc(np, sizeof *out->phonemes);
    out->words = calloc(s->n_words ? s->n_words : 1, sizeof *out->words);
    if (!out->phoneme_text || !out->phonemes || !out->words) {
        free(ph_frames);
        return VOX_ERR_NOMEM;
    }
    double scale = (double)hop / sr, t = 0, total = (double)n_samples / sr;
    char *txt = out->phoneme_text;
    size_t k = 0;
    double *ph_start = calloc(np + 1, sizeof *ph_start);
    if (!ph_start) {
        free(ph_frames);
        return VOX_ERR_NOMEM;
    }
    for (size_t p = 0; p < np; p++) {
        ph_start[p] = t;
        double d = ph_frames[p] * scale;
        char *sp = txt;
        txt += vx_utf8_encode(s->phonemes[p], txt);
        *txt++ = 0;
        if (d <= 0 && s->phonemes[p] == ' ') continue; /* dropped (not in the id map) */
        vox_timing *pt = &out->phonemes[k++];
        pt->phoneme = sp;
        pt->start = t;
        pt->end = t + d > total ? total : t + d;
        /* The phoneme's word, for callers that want text spans. */
        for (size_t w = 0; w < s->n_words; w++)
            if (p >= s->words[w].ph_start && p < s->words[w].ph_end) {
                pt->text_offset = s->words[w].offset;
                pt->text_length = s->words[w].length;
                break;
            }
        t += d;
    }
    ph_start[np] = t;
    out->n_phonemes = k;
    for (size_t w = 0; w < s->n_words; w++) {
        const vx_word *sw = &s->words[w];
        vox_timing *wt = &out->words[w];
        wt->text_offset = sw->offset;
        wt->text_length = sw->length;
        size_t a = sw->ph_start < np ? sw->ph_start : np, b = sw->ph_end < np ? sw->ph_end : np;
        wt->start = ph_start[a] > total ? total : ph_start[a];
        wt->end = ph_start[b > a ? b : a] > total ? total : ph_start[b > a ? b : a];
        if (w && wt->start < out->words[w - 1].start) wt->start = out->words[w - 1].start;
        if (wt->end < wt->start) wt->end = wt->start;
    }
    out->n_words = s->n_words;
    free(ph_start);
    free(ph_frames);
    return 0;
}

/* Piper's post-processing: peak-normalize each sentence (unless disabled). Volume and
 * clipping to int16 happen in the shared synthesis loop. */
static void normalize(float *x, size_t n) {
    float peak = 0;
    for (size_t i = 0; i < n; i++) peak = fmaxf(peak, fabsf(x[i]));
    if (peak < 1e-8f) {
        memset(x, 0, n * sizeof *x);
        return;
    }
    float g = 1.0f / peak;
    for (size_t i = 0; i < n; i++) x[i] *= g;
}

/* One sentence's graph inputs (ids, lengths, scales, sid) and run options: the same for a
 * whole run (pv_synth) and a windowed one (pv_stream_begin). The tensors point into *r, so
 * r lives as long as the run; the caller frees r->ids and r->id_ph. */
typedef struct pv_run {
    int64_t *ids;
    int32_t *id_ph;
    size_t n_ids;
    float scales[3];
    int64_t len, sid, d_ids[2], d_one[1], d_scales[1];
    vx_tensor in[8];
    int n_in;
    vx_run_opts ro;
} pv_run;

static int pv_run_prepare(piper_voice *pv, const vx_sentence *s, size_t idx,
                          const vox_synth_options *o, volatile int *cancel, pv_run *r, char *err,
                          size_t errlen) {
    memset(r, 0, sizeof *r);
    int rc = vx_phonemes_to_ids(pv->cfg, s->phonemes, s->n_phonemes, &r->ids, &r->n_ids, &r->id_ph,
                                err, errlen);
    if (rc) return rc;
    r->scales[0] = o->noise_scale >= 0 ? o->noise_scale : pv->cfg->noise_scale;
    r->scales[1] = o->length_scale > 0              ? o->length_scale
                   : o->rate != 1.0f && o->rate > 0 ? 1.0f / o->rate
                                                    : pv->cfg->length_scale;
    r->scales[2] = o->noise_w >= 0 ? o->noise_w : pv->cfg->noise_w;
    r->len = (int64_t)r->n_ids;
    r->sid = o->speaker_id >= 0 ? o->speaker_id : 0;
    r->d_ids[0] = 1;
    r->d_ids[1] = r->len;
    r->d_one[0] = 1;
    r->d_scales[0] = 3;
    r->n_in = vx_graph_n_inputs(pv->graph);
    for (int i = 0; i < r->n_in && i < 8; i++) {
        vx_tensor *t = &r->in[i];
        if (i == pv->in_ids) {
            t->dtype = VX_INT64;
            vx_tensor_set_shape(t, 2, r->d_ids);
            t->data = r->ids;
        } else if (i == pv->in_lengths) {
            t->dtype = VX_INT64;
            vx_tensor_set_shape(t, 1, r->d_one);
            t->data = &r->len;
        } else if (i == pv->in_scales) {
            t->dtype = VX_FLOAT;
            vx_tensor_set_shape(t, 1, r->d_scales);
            t->data = r->scales;
        } else if (i == pv->in_sid) {
            t->dtype = VX_INT64;
            vx_tensor_set_shape(t, 1, r->d_one);
            t->data = &r->sid;
        }
    }
    vx_run_opts_init(&r->ro);
    /* threads 1: this synthesis stays on the calling thread (a server running one
     * synthesis per core); 0 or > 1: the voice's pool, if it has one. */
    vx_tpool *pool = o->threads == 1 ? NULL : pv->pool;
    r->ro.threads = pool ? vx_tpool_threads(pool) : 1;
    r->ro.pool = pool;
    r->ro.seed = o->seed ? o->seed + idx : 0x5eed + idx;
    r->ro.cancel = cancel;
    r->ro.err = err;
    r->ro.errlen = errlen;
    return 0;
}

static void steady(float *x, size_t n, float gain);

static int pv_synth(vox_voice *v, const vx_plan *p, size_t idx, const char *text,
                    const vox_synth_options *o, volatile int *cancel, vx_audio *out, char *err,
                    size_t errlen) {
    (void)text;
    piper_voice *pv = v->impl;
    const piper_plan *pp = p->impl;
    const vx_sentence *s = &pp->sentences[idx];
    pv_run run;
    int rc = pv_run_prepare(pv, s, idx, o, cancel, &run, err, errlen);
    if (rc) return rc;
    int64_t *ids = run.ids;
    int32_t *id_ph = run.id_ph;
    size_t n_ids = run.n_ids;
    vx_tensor *in = run.in;
    int n_in = run.n_in;
    vx_run_opts ro = run.ro;
    const char *extra[1] = {pv->durations};
    if (o->timings && pv->durations) {
        ro.extra_outputs = extra;
        ro.n_extra_outputs = 1;
    }
    int n_out = vx_graph_n_outputs(pv->graph) + ro.n_extra_outputs;
    vx_tensor *res = calloc((size_t)n_out, sizeof *res);
    if (!res) {
        free(ids);
        free(id_ph);
        return VOX_ERR_NOMEM;
    }
    rc = vx_graph_run(pv->graph, &ro, in, n_in, res);
    if (!rc && (res[0].dtype != VX_FLOAT || res[0].numel <= 0)) {
        snprintf(err, errlen, "model output is not float audio");
        rc = VOX_ERR_MODEL;
    }
    if (!rc) {
        size_t n = (size_t)res[0].numel;
        out->samples = malloc(n * sizeof(float));
        if (!out->samples)
            rc = VOX_ERR_NOMEM;
        else {
            memcpy(out->samples, res[0].data, n * sizeof(float));
            out->n = n;
            if (o->normalize == VOX_NORMALIZE_STEADY)
                steady(out->samples, n, pv->steady_gain);
            else if (o->normalize)
                normalize(out->samples, n);
            if (o->timings && pv->durations)
                rc = make_timings(pv, s, id_ph, n_ids, &res[n_out - 1], n, out);
        }
    }
    for (int i = 0; i < n_out; i++) vx_tensor_release(&res[i]);
    free(res);
    free(ids);
    free(id_ph);
    if (rc) vx_audio_free(out);
    return rc;
}

static const char *speaker_name(const vx_piper_config *c, int id) {
    for (size_t i = 0; i < c->n_speakers; i++)
        if (c->speakers[i].id == id) return c->speakers[i].name;
    return NULL;
}

static void append(char *buf, size_t cap, size_t *len, const char *s) {
    size_t n = strlen(s);
    if (*len + n + 1 >= cap) return;
    memcpy(buf + *len, s, n + 1);
    *len += n;
}

static int pv_speaker(const vox_voice *v, const vox_synth_options *o, int *id, char *err,
                      size_t errlen) {
    const piper_voice *pv = v->impl;
    const vx_piper_config *c = pv->cfg;
    if (c->num_speakers <= 1) {
        if ((o->speaker && *o->speaker) || o->speaker_id > 0) {
            snprintf(err, errlen, "voice '%s' has a single speaker (valid: 0)", v->name);
            return VOX_ERR_NOT_FOUND;
        }
        *id = -1;
        return VOX_OK;
    }
    if (o->speaker && *o->speaker) {
        int k = vx_piper_config_speaker(c, o->speaker);
        if (k >= 0) {
            *id = k;
            return VOX_OK;
        }
        /* A number given as a name is an id too. */
        char *end;
        long n = strtol(o->speaker, &end, 10);
        if (!*end && n >= 0 && n < c->num_speakers) {
            *id = (int)n;
            return VOX_OK;
        }
    } else if (o->speaker_id < 0) {
        *id = c->default_speaker_id >= 0 && c->default_speaker_id < c->num_speakers
                  ? c->default_speaker_id
                  : 0;
        return VOX_OK;
    } else if (o->speaker_id < c->num_speakers) {
        *id = o->speaker_id;
        return VOX_OK;
    }
    char list[768] = "";
    size_t len = 0;
    for (int i = 0; i < c->num_speakers && len < 700; i++) {
        char item[96];
        const char *nm = speaker_name(c, i);
        snprintf(item, sizeof item, "%s%d%s%s%s", i ? ", " : "", i, nm ? " (" : "", nm ? nm : "",
                 nm ? ")" : "");
        append(list, sizeof list, &len, item);
    }
    if (o->speaker && *o->speaker)
        snprintf(err, errlen, "unknown speaker '%s'; valid speakers: %s", o->speaker, list);
    else
        snprintf(err, errlen, "unknown speaker id %d; valid speakers: %s", o->speaker_id, list);
    return VOX_ERR_NOT_FOUND;
}

static const char *pv_speaker_name(const vox_voice *v, int id) {
    const piper_voice *pv = v->impl;
    return speaker_name(pv->cfg, id);
}

static void pv_free(vox_voice *v) {
    piper_voice *pv = v->impl;
    if (pv) {
        vx_graph_free(pv->graph);
        vx_tpool_free(pv->pool);
        vx_piper_config_free(pv->cfg);
        free(pv);
    }
    free(v);
}

/* ---- One sentence in chunks (engine/stream.c windows the frame-level part) ---- */

/* VOX_NORMALIZE_STEADY: one gain per voice and a soft limiter. Linear below the knee,
 * above it the excess is squashed by tanh, so |y| < 1 always: no clipping, and the level
 * of a sentence does not depend on its loudest sample (which a stream cannot know). */
#define STEADY_KNEE   0.9f
#define STEADY_TARGET 0.7f /* the calibration sentence's peak after the gain */
static void steady(float *x, size_t n, float gain) {
    for (size_t i = 0; i < n; i++) {
        float y = x[i] * gain, a = fabsf(y);
        if (a > STEADY_KNEE)
            y = copysignf(
                STEADY_KNEE + (1 - STEADY_KNEE) * tanhf((a - STEADY_KNEE) / (1 - STEADY_KNEE)), y);
        x[i] = y;
    }
}

typedef struct pv_stream {
    const piper_voice *pv;
    vx_stream *st;
    int normalize;
    float *buf; /* VOX_NORMALIZE_PEAK: the whole sentence, handed out once */
    size_t n_buf;
} pv_stream;

static void pv_stream_end(void *h) {
    pv_stream *ps = h;
    if (!ps) return;
    vx_stream_free(ps->st);
    free(ps->buf);
    free(ps);
}

static int pv_stream_begin(vox_voice *v, const vx_plan *p, size_t idx, const vox_synth_options *o,
                           volatile int *cancel, void **handle, vx_audio *meta, size_t *total,
                           char *err, size_t errlen) {
    piper_voice *pv = v->impl;
    const piper_plan *pp = p->impl;
    const vx_sentence *s = &pp->sentences[idx];
    *handle = NULL;
    pv_run run;
    int rc = pv_run_prepare(pv, s, idx, o, cancel, &run, err, errlen);
    if (rc) return rc;
    int64_t *ids = run.ids;
    int32_t *id_ph = run.id_ph;
    size_t n_ids = run.n_ids;
    vx_tensor *in = run.in;
    int n_in = run.n_in;
    vx_run_opts ro = run.ro;
    const char *extra[1] = {pv->durations};
    if (pv->durations) {
        ro.extra_outputs = extra;
        ro.n_extra_outputs = 1;
    }
    vx_tensor dur = {0};
    pv_stream *ps = calloc(1, sizeof *ps);
    if (!ps) rc = VOX_ERR_NOMEM;
    if (!rc) {
        ps->pv = pv;
        ps->normalize = o->normalize;
        rc = vx_stream_start(pv->graph, &ro, in, n_in, &dur, &ps->st);
    }
    size_t n = 0;
    if (!rc) {
        vx_split_info si;
        vx_graph_split_get(pv->graph, &si);
        n = vx_stream_windowed(ps->st) ? (size_t)vx_stream_frames(ps->st) * (size_t)si.out_rate : 0;
        if (!vx_stream_windowed(ps->st) || o->normalize == VOX_NORMALIZE_PEAK) {
            /* whole sentence first: unsplit graph, or Piper's peak normalization */
            vx_tensor c = {0};
            int got;
            while (!rc && (got = vx_stream_next(ps->st, 1 << 30, &c)) != 0) {
                if (got < 0) {
                    rc = got;
                    break;
                }
                float *nb = realloc(ps->buf, (ps->n_buf + (size_t)c.numel) * sizeof(float));
                if (!nb) {
                    rc = VOX_ERR_NOMEM;
                    break;
                }
                ps->buf = nb;
                memcpy(nb + ps->n_buf, c.data, (size_t)c.numel * sizeof(float));
                ps->n_buf += (size_t)c.numel;
            }
            vx_tensor_release(&c);
            n = ps->n_buf;
            if (!rc && o->normalize == VOX_NORMALIZE_PEAK)
                normalize(ps->buf, n);
            else if (!rc && o->normalize == VOX_NORMALIZE_STEADY)
                steady(ps->buf, n, pv->steady_gain);
        }
    }
    if (!rc && pv->durations && o->timings) rc = make_timings(pv, s, id_ph, n_ids, &dur, n, meta);
    vx_tensor_release(&dur);
    free(ids);
    free(id_ph);
    if (rc) {
        pv_stream_end(ps);
        return rc;
    }
    *total = n;
    *handle = ps;
    return 0;
}

static int pv_stream_next(void *h, int frames, vx_audio *out, int *last, char *err, size_t errlen) {
    pv_stream *ps = h;
    memset(out, 0, sizeof *out);
    *last = 0;
    if (ps->buf) { /* buffered sentence: all of it */
        out->samples = ps->buf;
        out->n = ps->n_buf;
        ps->buf = NULL;
        *last = 1;
        return 0;
    }
    vx_tensor c = {0};
    int got = vx_stream_next(ps->st, frames, &c);
    if (got < 0) {
        if (!err[0]) snprintf(err, errlen, "windowed synthesis failed");
        return got;
    }
    if (got == 0) {
        *last = 1;
        return 0;
    }
    out->samples = malloc((size_t)c.numel * sizeof(float) + 1);
    if (!out->samples) {
        vx_tensor_release(&c);
        return VOX_ERR_NOMEM;
    }
    memcpy(out->samples, c.data, (size_t)c.numel * sizeof(float));
    out->n = (size_t)c.numel;
    vx_tensor_release(&c);
    if (ps->normalize == VOX_NORMALIZE_STEADY) steady(out->samples, out->n, ps->pv->steady_gain);
    *last = vx_stream_frames(ps->st) > 0 && vx_stream_done(ps->st);
    return 0;
}

/* The steady gain: a fixed calibration sentence (ids of Piper's common map, noise off),
 * its peak brought to STEADY_TARGET. A function of the graph alone (fixed ids, no noise;
 * outputs do not depend on the thread count), so it is kept with the packed-weight cache
 * file: running the sentence was most of a voice load (medium test voice: ~240 of
 * ~280 ms), a cache hit reads 4 bytes. */
#define GAIN_AUX "piper/steady_gain"
static void calibrate(piper_voice *pv) {
    float cached;
    if (!vx_graph_cache_aux_get(pv->graph, GAIN_AUX, &cached, sizeof cached) &&
        isfinite(cached) && cached > 0) {
        pv->steady_gain = cached;
        return;
    }
    static const int64_t ids[] = {1, 0, 20, 0, 59, 0, 27, 0, 100, 0, 3, 0, 31, 0, 120, 0, 24, 0, 2};
    int64_t len = (int64_t)(sizeof ids / sizeof ids[0]), sid = 0;
    int64_t d_ids[2] = {1, len}, d_one[1] = {1}, d_scales[1] = {3};
    float scales[3] = {0, 1, 0};
    int n_in = vx_graph_n_inputs(pv->graph);
    vx_tensor in[8], out[4] = {{0}};
    memset(in, 0, sizeof in);
    for (int i = 0; i < n_in && i < 8; i++) {
        vx_tensor *t = &in[i];
        if (i == pv->in_ids) {
            t->dtype = VX_INT64;
            vx_tensor_set_shape(t, 2, d_ids);
            t->data = (void *)ids;
        } else if (i == pv->in_lengths) {
            t->dtype = VX_INT64;
            vx_tensor_set_shape(t, 1, d_one);
            t->data = &len;
        } else if (i == pv->in_scales) {
            t->dtype = VX_FLOAT;
            vx_tensor_set_shape(t, 1, d_scales);
            t->data = scales;
        } else if (i == pv->in_sid) {
            t->dtype = VX_INT64;
            vx_tensor_set_shape(t, 1, d_one);
            t->data = &sid;
        }
    }
    pv->steady_gain = 1.0f;
    vx_run_opts ro;
    vx_run_opts_init(&ro);
    ro.pool = pv->pool; /* results do not depend on the thread count */
    ro.threads = pv->pool ? vx_tpool_threads(pv->pool) : 1;
    if (vx_graph_n_outputs(pv->graph) > 4 || vx_graph_run(pv->graph, &ro, in, n_in, out)) return;
    float peak = 0;
    if (out[0].dtype == VX_FLOAT)
        for (int64_t i = 0; i < out[0].numel; i++)
            peak = fmaxf(peak, fabsf(((const float *)out[0].data)[i]));
    pv->steady_gain = STEADY_TARGET / fmaxf(peak, 1e-4f);
    for (int i = 0; i < 4; i++) vx_tensor_release(&out[i]);
    vx_graph_cache_aux_put(pv->graph, GAIN_AUX, &pv->steady_gain, sizeof pv->steady_gain);
}

static const vx_voice_ops piper_ops = {
    .plan = pv_plan,
    .synth = pv_synth,
    .plan_free = pv_plan_free,
    .speaker = pv_speaker,
    .speaker_name = pv_speaker_name,
    .free = pv_free,
    .stream_begin = pv_stream_begin,
    .stream_next = pv_stream_next,
    .stream_end = pv_stream_end,
};

/* Piper models name their inputs input / input_lengths / scales / sid; match by name,
 * falling back to position and type so re-exported models with other names still run. */
static int bind_inputs(piper_voice *pv, char *err, size_t errlen) {
    pv->in_ids = vx_graph_find_input(pv->graph, "input");
    pv->in_lengths = vx_graph_find_input(pv->graph, "input_lengths");
    pv->in_scales = vx_graph_find_input(pv->graph, "scales");
    pv->in_sid = vx_graph_find_input(pv->graph, "sid");
    int n = vx_graph_n_inputs(pv->graph);
    if (pv->in_ids < 0 && n >= 3) {
        pv->in_ids = 0;
        pv->in_lengths = 1;
        pv->in_scales = 2;
        pv->in_sid = n > 3 ? 3 : -1;
    }
    if (pv->in_ids < 0 || pv->in_lengths < 0 || pv->in_scales < 0 || n > 4 || n < 3) {
        snprintf(err, errlen, "model inputs are not Piper's (input, input_lengths, scales[, sid])");
        return VOX_ERR_MODEL;
    }
    if (pv->cfg->num_speakers > 1 && pv->in_sid < 0) {
        snprintf(err, errlen, "config lists %d speakers but the model has no sid input",
                 pv->cfg->num_speakers);
        return VOX_ERR_CONFIG;
    }
    return VOX_OK;
}

int vx_piper_voice_load(const char *onnx_path, const vox_load_options *o, vox_voice **out,
                        char *err, size_t errlen) {
    *out = NULL;
    char cfg_path[4096];
    if (o->config_path)
        snprintf(cfg_path, sizeof cfg_path, "%s", o->config_path);
    else
        snprintf(cfg_path, sizeof cfg_path, "%s.json", onnx_path);
    if (access(cfg_path, R_OK)) {
        snprintf(err, errlen, "voice config not found: '%s' (a Piper voice needs its .onnx.json)",
                 cfg_path);
        return VOX_ERR_NOT_FOUND;
    }
    vox_voice *v = calloc(1, sizeof *v);
    piper_voice *pv = calloc(1, sizeof *pv);
    if (!v || !pv) {
        free(v);
        free(pv);
        return VOX_ERR_NOMEM;
    }
    v->impl = pv;
    v->ops = &piper_ops;
    int rc = vx_piper_config_load(cfg_path, &pv->cfg, err, errlen);
    char cache_dir[4096];
    vx_graph_opts gopt = {.precision = o->precision,
                          .pack_cache = vx_pack_cache_dir(o->pack_cache, cache_dir, sizeof cache_dir)};
    if (o->precision < VOX_PRECISION_FP32 || o->precision > VOX_PRECISION_INT8) {
        snprintf(err, errlen, "precision %d: expected VOX_PRECISION_FP32, _BF16 or _INT8",
                 o->precision);
        rc = VOX_ERR_ARG;
    }
    if (!rc) rc = vx_graph_load_opts(onnx_path, &gopt, &pv->graph, err, errlen);
    if (!rc) rc = bind_inputs(pv, err, errlen);
    if (rc) {
        pv_free(v);
        return rc;
    }
    pv->durations = vx_graph_first_output_of(pv->graph, "Ceil");
    pv->threads = o->threads;
    /* threads 0 = all cores; 1 = no workers. A pool that cannot start only costs speed. */
    if (pv->threads != 1) pv->pool = vx_tpool_create(pv->threads > 0 ? pv->threads : 0);
    /* The frame-level split (windows inside a sentence); without one, sentences run whole.
     * Its probe runs and the calibration use the voice's threads: they are most of a
     * load that maps its weights from the cache. */
    char serr[256];
    if (vx_graph_split_piper(pv->graph, pv->pool, serr, sizeof serr)) { /* unsplit: still works */
    }
    calibrate(pv);
    if (o->espeak_data) snprintf(pv->espeak_data, sizeof pv->espeak_data, "%s", o->espeak_data);
    const char *base = strrchr(onnx_path, '/');
    base = base ? base + 1 : onnx_path;
    size_t bl = strlen(base);
    if (bl > 5 && !strcmp(base + bl - 5, ".onnx")) bl -= 5;
    snprintf(v->name, sizeof v->name, "%.*s", (int)bl, base);
    snprintf(v->kind, sizeof v->kind, "piper");
    snprintf(v->language, sizeof v->language, "%s",
             pv->cfg->language_code  ? pv->cfg->language_code
             : pv->cfg->espeak_voice ? pv->cfg->espeak_voice
                                     : "");
    snprintf(v->quality, sizeof v->quality, "%s", pv->cfg->quality ? pv->cfg->quality : "unknown");
    v->info =
        (vox_voice_info){.name = v->name,
                         .kind = v->kind,
                         .language = v->language,
                         .quality = v->quality,
                         .sample_rate = pv->cfg->sample_rate,
                         .num_speakers = pv->cfg->num_speakers > 0 ? pv->cfg->num_speakers : 1};
    *out = v;
    return VOX_OK;
}

int vx_piper_voice_print_phonemes(vox_voice *v, const char *text, size_t len, FILE *f, char *err,
                                  size_t errlen) {
    if (v->ops != &piper_ops) {
        snprintf(err, errlen, "--phonemes needs a Piper voice");
        return VOX_ERR_UNSUPPORTED;
    }
    piper_voice *pv = v->impl;
    vx_phonemize_opts po = phonemize_opts(pv);
    vx_sentence *ss = NULL;
    size_t n = 0;
    int rc = vx_phonemize(&po, text, len, &ss, &n, err, errlen);
    for (size_t i = 0; !rc && i < n; i++) {
        for (size_t k = 0; k < ss[i].n_phonemes; k++) {
            char b[4];
            fwrite(b, 1, vx_utf8_encode(ss[i].phonemes[k], b), f);
        }
        fputc('\t', f);
        int64_t *ids = NULL;
        int32_t *id_ph = NULL;
        size_t n_ids = 0;
        rc = vx_phonemes_to_ids(pv->cfg, ss[i].phonemes, ss[i].n_phonemes, &ids, &n_ids, &id_ph,
                                err, errlen);
        for (size_t k = 0; !rc && k < n_ids; k++)
            fprintf(f, "%s%lld", k ? "," : "", (long long)ids[k]);
        fputc('\n', f);
        free(ids);
        free(id_ph);
    }
    vx_sentences_free(ss, n);
    return rc;
}

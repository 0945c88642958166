/* backend_vox.c — voxd's synthesis backend on libvox (include/vox.h). */
#include "backend.h"

#include <stdio.h>
#include <string.h>

static int vox_load(vx_backend *e, const char *name, void **voice, vx_voice_meta *m, char *err,
                    size_t errlen) {
    vox_load_options o;
    vox_load_options_init(&o);
    o.data_dirs = e->data_dirs;
    o.n_data_dirs = e->n_data_dirs;
    /* Parallelism comes from the worker pool, one sentence per worker, each synthesis on
     * one thread. A neural voice also gets an inference pool of wide_threads threads,
     * used only by a synthesis that runs while every other worker is idle (job.c). */
    o.threads = e->wide_threads > 1 ? e->wide_threads : 1;
    o.precision = e->precision;
    for (int i = 0; i < e->n_voice_precision; i++)
        if (!strcmp(e->voice_precision[i].name, name))
            o.precision = e->voice_precision[i].precision;
    vox_voice *v = NULL;
    int rc = vox_voice_load(name, &o, &v, err, errlen);
    if (rc != VOX_OK) return rc;
    vox_voice_info info;
    vox_voice_get_info(v, &info);
    /* espeak voices synthesize on the calling thread whatever the option says */
    m->threads = info.kind && !strcmp(info.kind, "piper") ? o.threads : 1;
    m->windows_exact = o.precision != VOX_PRECISION_INT8;
    snprintf(m->name, sizeof(m->name), "%s", info.name ? info.name : name);
    snprintf(m->kind, sizeof(m->kind), "%s", info.kind ? info.kind : "");
    snprintf(m->language, sizeof(m->language), "%s", info.language ? info.language : "");
    snprintf(m->quality, sizeof(m->quality), "%s", info.quality ? info.quality : "");
    m->sample_rate = info.sample_rate;
    m->num_speakers = info.num_speakers;
    *voice = v;
    return VOX_OK;
}

static void vox_free_voice(vx_backend *e, void *voice) { vox_voice_free(voice); }

static const char *vox_speaker(void *voice, int id) { return vox_voice_speaker_name(voice, id); }

static int vox_split(void *voice, const char *text, size_t len, vox_span **spans, size_t *n,
                     char *err, size_t errlen) {
    return vox_split_sentences(voice, text, len, spans, n, err, errlen);
}

static void cancel_synth(void *arg) { vox_synth_cancel(arg); }

static int vox_synth_sentence(void *voice, const char *text, size_t len, const vx_synth_params *p,
                              int threads, vx_ctl *ctl, const vx_sink *out, char *err,
                              size_t errlen) {
    vox_synth_options o;
    vox_synth_options_init(&o);
    o.threads = threads > 1 ? 0 : 1; /* 0: the voice's inference pool (load-time threads) */
    o.speaker_id = p->speaker_id;
    o.speaker = p->speaker[0] ? p->speaker : NULL;
    if (p->length_scale > 0) o.length_scale = p->length_scale;
    if (p->noise_scale >= 0) o.noise_scale = p->noise_scale;
    if (p->noise_w >= 0) o.noise_w = p->noise_w;
    if (p->sentence_silence >= 0) o.sentence_silence = p->sentence_silence;
    o.rate = p->speed;
    o.text_norm = p->text_norm;
    o.input_format = p->input_format;
    o.lexicon = p->lexicon;
    if (p->loudness >= 0) o.normalize = p->loudness; /* STEADY: chunks within the sentence */
    if (p->chunk_frames >= 0) o.chunk_frames = p->chunk_frames;
    vox_synth *s = NULL;
    int rc = vox_synth_start(voice, text, len, &o, &s);
    if (rc != VOX_OK) {
        snprintf(err, errlen, "%s", s ? vox_synth_error(s) : vox_strerror(rc));
        if (!err[0]) snprintf(err, errlen, "%s", vox_strerror(rc));
        vox_synth_free(s);
        return rc;
    }
    if (vx_ctl_arm(ctl, cancel_synth, s)) {
        vox_synth_free(s);
        return VOX_ERR_CANCELLED;
    }
    for (;;) {
        vox_chunk ch;
        rc = vox_synth_next(s, &ch);
        if (rc != VOX_OK) {
            snprintf(err, errlen, "%s", vox_synth_error(s));
            if (!err[0]) snprintf(err, errlen, "%s", vox_strerror(rc));
            break;
        }
        if (ch.n_samples && out->write(out->arg, ch.pcm16, ch.n_samples, ch.last)) {
            snprintf(err, errlen, "out of memory");
            rc = VOX_ERR_NOMEM;
            break;
        }
        if (ch.last) break;
    }
    /* Disarm before freeing so a concurrent cancel never touches a freed synth. */
    vx_ctl_disarm(ctl);
    vox_synth_free(s);
    return rc;
}

void vx_backend_vox_init(vx_backend *e) {
    memset(e, 0, sizeof(*e));
    e->name = "vox";
    e->load = vox_load;
    e->free_voice = vox_free_voice;
    e->speaker_name = vox_speaker;
    e->split = vox_split;
    e->synth = vox_synth_sentence;
}

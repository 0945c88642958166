/* The one interface behind which espeak-ng voices and Piper (neural) voices live.
 * A voice splits text into sentences once per synthesis (the "plan"), then renders
 * sentences one at a time, so callers can stream. */
#ifndef VX_VOICE_H
#define VX_VOICE_H
#include "vox.h"
#include <stdio.h>

/* Audio of one sentence. Samples are malloc'd floats; timings are relative to the
 * sentence start and owned by the struct (vx_audio_free). */
typedef struct vx_audio {
    float *samples;
    size_t n;
    vox_timing *words;
    size_t n_words;
    vox_timing *phonemes;
    size_t n_phonemes;
    char *phoneme_text; /* storage for the phoneme strings the timings point into */
} vx_audio;

void vx_audio_free(vx_audio *a);

typedef struct vx_plan {
    vox_span *spans; /* sentence byte spans in the text */
    size_t n;
    void *impl; /* voice-specific, freed by ops->plan_free */
} vx_plan;

typedef struct vx_voice_ops {
    int (*plan)(vox_voice *v, const char *text, size_t len, vx_plan *out, char *err, size_t errlen);
    int (*synth)(vox_voice *v, const vx_plan *p, size_t i, const char *text,
                 const vox_synth_options *o, volatile int *cancel, vx_audio *out, char *err,
                 size_t errlen);
    void (*plan_free)(void *impl);
    /* Resolve speaker options to an id (or -1 for single-speaker voices). */
    int (*speaker)(const vox_voice *v, const vox_synth_options *o, int *id, char *err,
                   size_t errlen);
    const char *(*speaker_name)(const vox_voice *v, int id);
    void (*free)(vox_voice *v);
    /* Optional: one sentence in several chunks (NULL: synth only). stream_begin runs what
     * precedes the audio (a Piper voice: the text encoder and durations) and fills meta's
     * timings (no samples) and *total (samples the sentence will have); each stream_next
     * gives the next chunk of about `frames` model frames (*last = 1 on the sentence's
     * last); stream_end frees the handle. The audio is already loudness-processed for
     * o->normalize (VOX_NORMALIZE_STEADY: the voice's gain and a soft limiter). */
    int (*stream_begin)(vox_voice *v, const vx_plan *p, size_t i, const vox_synth_options *o,
                        volatile int *cancel, void **handle, vx_audio *meta, size_t *total,
                        char *err, size_t errlen);
    int (*stream_next)(void *handle, int frames, vx_audio *out, int *last, char *err,
                       size_t errlen);
    void (*stream_end)(void *handle);
} vx_voice_ops;

struct vox_voice {
    const vx_voice_ops *ops;
    vox_voice_info info;
    char name[256], language[64], quality[32], kind[16];
    void *impl;
};

int vx_espeak_voice_load(const char *espeak_name, const vox_load_options *o, vox_voice **out,
                         char *err, size_t errlen);
int vx_piper_voice_load(const char *onnx_path, const vox_load_options *o, vox_voice **out,
                        char *err, size_t errlen);
/* Print each sentence's phonemes and ids (tab-separated, one line per sentence). */
int vx_piper_voice_print_phonemes(vox_voice *v, const char *text, size_t len, FILE *f, char *err,
                                  size_t errlen);
#endif

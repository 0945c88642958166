/*
 * backend.h — what voxd needs from a synthesizer ("backend", so that "engine" means only
 * the ONNX engine), behind a small table of functions, so the server can be tested
 * against a deterministic stub (backend_stub.c) as well as the real libvox
 * (backend_vox.c). Also: the per-task cancellation control a backend arms.
 *
 * Threads: load/split/synth run on worker threads.
 */
#ifndef VX_BACKEND_H
#define VX_BACKEND_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "buf.h"
#include "vox.h"

/* ------------------------------------------------------------ cancellation */

/* Per-task cancellation: the backend arms a cancel function while it synthesizes. */
typedef struct vx_ctl {
    pthread_mutex_t mu;
    atomic_int cancelled;
    void (*fn)(void *);
    void *arg;
} vx_ctl;

void vx_ctl_init(vx_ctl *c);
void vx_ctl_destroy(vx_ctl *c);
/* Arm fn(arg) as the way to stop the current work; 0 ok, -1 if already cancelled. */
int vx_ctl_arm(vx_ctl *c, void (*fn)(void *), void *arg);
void vx_ctl_disarm(vx_ctl *c);
void vx_ctl_cancel(vx_ctl *c);

/* ------------------------------------------------------------ backends */

/* Where a synthesis puts its audio: write() gets each chunk as soon as it is made (several
 * per sentence when the voice streams inside a sentence), in order, `last` on the final
 * one; 0, or -1 when it could not keep it (out of memory: the synthesis fails with
 * VOX_ERR_NOMEM). */
typedef struct vx_sink {
    int (*write)(void *arg, const int16_t *pcm, size_t n, int last);
    void *arg;
} vx_sink;

typedef struct vx_voice_meta {
    char name[VX_VOICE_NAME_MAX];
    char kind[16], language[32], quality[16];
    int sample_rate, num_speakers;
    int threads;       /* inference threads one synthesis can use when run alone; 1 = no gain */
    int windows_exact; /* a sentence run in windows is the same bits as run whole (FP32,
                          bf16; int8 quantizes activations per window, so not int8) */
} vx_voice_meta;

/* How to speak: what a request may set beyond voice and text. */
typedef struct vx_synth_params {
    int speaker_id;                    /* -1: by name, or the voice's default */
    char speaker[VX_SPEAKER_NAME_MAX]; /* by name; "" = none (a job resolves it to an id) */
    float speed;                       /* 1 = normal, > 0 */
    float noise_scale, noise_w, length_scale, sentence_silence; /* < 0: the voice's default */
    int text_norm;        /* 1 (default): normalize text; 0: Piper's exact ids */
    int input_format;     /* VOX_INPUT_*: an SSML document is one "sentence" */
    vox_lexicon *lexicon; /* the job's reference (voxd --lexicon), or NULL */
    int loudness;         /* VOX_NORMALIZE_*, or -1: the server's (voxd --loudness, default STEADY,
                     which streams from inside a sentence; PEAK is Piper's per-sentence
                     level, so a sentence comes whole) */
    int chunk_frames;     /* -1: libvox's default first window (streams inside a sentence);
                         0: the sentence in one run (job_run.c decides per sentence) */
} vx_synth_params;

void vx_synth_params_init(vx_synth_params *p);

typedef struct vx_backend {
    const char *name;
    int (*load)(struct vx_backend *e, const char *name, void **voice, vx_voice_meta *meta,
                char *err, size_t errlen);
    void (*free_voice)(struct vx_backend *e, void *voice);
    const char *(*speaker_name)(void *voice, int id);
    int (*split)(void *voice, const char *text, size_t len, vox_span **spans, size_t *n, char *err,
                 size_t errlen);
    /* Synthesize text (one sentence) and hand its s16le samples to out, chunk by chunk as
     * they are made, on `threads` threads (1 = the calling thread only; at most the voice's
     * meta.threads). */
    int (*synth)(void *voice, const char *text, size_t len, const vx_synth_params *p, int threads,
                 vx_ctl *ctl, const vx_sink *out, char *err, size_t errlen);
    /* backend state */
    const char *const *data_dirs;
    int n_data_dirs;
    int wide_threads; /* threads a synthesis may use when it runs alone (<= workers) */
    int precision;    /* VOX_PRECISION_* for voices without an override */
    const vx_voice_precision *voice_precision;
    int n_voice_precision;
    int stub_delay_ms; /* stub only: sleep per sentence */
} vx_backend;

void vx_backend_vox_init(vx_backend *e);
void vx_backend_stub_init(vx_backend *e, int delay_ms);

#endif

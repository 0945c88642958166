/*
 * job.h — the speech job: the one protocol-neutral way a front end (HTTP/1.1 and HTTP/2
 * in openai.c today; Wyoming and gRPC next) gets speech out of voxd. A front end submits
 * text and options and receives, on the event-loop thread, the audio in order, then one
 * end event; it may cancel at any time. The job does the rest: voice lookup and load,
 * sentence split, scheduling on the workers (earliest deadline first, see scheduler.h),
 * admission (--queue), the deadline, metrics.
 *
 * Events (all on the loop thread, never from inside vx_job_submit or vx_job_cancel):
 *   on_start  once, before any audio: the voice is ready and the format known. With
 *             stream = 0 it comes only when all audio is made, with its exact size.
 *   on_audio  the audio bytes in order (in opts.format), one call per sentence or
 *             header; `data` is valid during the call only.
 *   on_end    once, last: status VX_JOB_OK when every byte was delivered, else why not.
 *             An error before on_start means nothing was sent: a front end can still
 *             answer with a clean error; after on_start it must abort its stream.
 * After on_end, or once the front end called vx_job_cancel, there are no more events and
 * the vx_job pointer must be forgotten. A callback may call vx_job_cancel on its own job
 * (then no further event comes) and may submit new jobs.
 *
 * Audio: the backends make 16-bit mono PCM at the voice's rate; the job's output stage
 * (audio_out.h) turns it into opts.format — any vx_audio_format of audio/encoder.h: mp3,
 * opus, aac, flac, wav, pcm (s16le) — resampled first when opts.sample_rate asks for
 * another rate. Encoded bytes go to on_audio as soon as the codec has them (one call per
 * sentence, plus the container header first); a non-streamed job is encoded whole and
 * delivered in one call, with its exact size in on_start and exact WAV/FLAC headers.
 *
 * A front end drives it like this (error handling shortened):
 *
 *     static void on_start(void *u, const vx_job_info *in) {
 *         send_header(u, in->mime, in->sample_rate, in->total_bytes); // -1: unknown length
 *     }
 *     static void on_audio(void *u, const void *p, size_t n) { send_bytes(u, p, n); }
 *     static void on_end(void *u, const vx_job_error *e) {
 *         struct my_req *r = u;
 *         r->job = NULL;                            // the handle is dead now
 *         if (e->status == VX_JOB_OK) finish(r);
 *         else if (r->started) abort_stream(r);
 *         else send_error(r, e->status, e->code, e->message);
 *     }
 *     static const vx_job_events events = {on_start, on_audio, on_end};
 *
 *     vx_job_opts o;
 *     vx_job_opts_init(&o);
 *     o.voice = "espeak:en-us";
 *     o.text = text;
 *     o.text_len = len;
 *     o.stream = 1;
 *     vx_job_error err;
 *     r->job = vx_job_submit(srv, &o, &events, r, &err);
 *     if (!r->job) send_error(r, err.status, err.code, err.message); // 429, 503, ...
 *     ...
 *     // the client went away:
 *     if (r->job) vx_job_cancel(r->job);
 */
#ifndef VX_JOB_H
#define VX_JOB_H

#include <stddef.h>

#include "audio/encoder.h"
#include "backend.h"

typedef struct vx_server vx_server;
typedef struct vx_job vx_job;
typedef struct vx_task vx_task;

typedef struct vx_job_opts {
    const char *voice;      /* vox voice name (vx_voice_name_ok), loaded on first use */
    const char *text;       /* UTF-8, at most --max-input code points; copied */
    size_t text_len;        /* bytes */
    vx_synth_params synth;  /* speaker, speed, scales (backend.h); init: voice defaults */
    vx_audio_format format; /* what on_audio carries; init: VX_AUDIO_PCM */
    int sample_rate;        /* 0 (init): the format's default (audio_out.h: the voice's
                                 rate; for mp3/aac the next rate they have); else 8000..48000,
                                 resampled (libsoxr) */
    vx_enc_options enc;     /* bitrate / compression (encoder.h bounds); init: defaults */
    int stream;             /* 1: each sentence goes out as soon as it and all before it
                                 are made, and later sentences are scheduled for when the
                                 audio before them will have played; 0 (init): all at once
                                 at the end, with the exact size (on_start.total_bytes) */
    double deadline;        /* vx_now() seconds by which the job must end (else
                                 VX_JOB_TIMEOUT); 0 (init): now + --timeout */
    int text_open;          /* 1: more text comes through vx_job_append until
                                 vx_job_close (see below); 0 (init): text is all of it */
} vx_job_opts;

void vx_job_opts_init(vx_job_opts *o);

typedef struct vx_job_info {
    const char *voice; /* the voice's name */
    int sample_rate;   /* of the audio as decoded, Hz (opus: 48000) */
    int channels;      /* 1 */
    int bits;          /* 16: signed little-endian samples */
    vx_audio_format format;
    const char *mime; /* vx_audio_content_type: "audio/mpeg", "audio/wav", ... */
    size_t n_sentences;
    long long total_bytes; /* stream = 0: the exact sum of all on_audio sizes; else -1 */
} vx_job_info;

/* Why a job ended. The HTTP status in brackets is what openai.c answers. */
typedef enum {
    VX_JOB_OK = 0,
    VX_JOB_INVALID,     /* cannot be spoken as asked: empty text, bad speaker [400] */
    VX_JOB_NOT_FOUND,   /* no such voice [404] */
    VX_JOB_BUSY,        /* --queue jobs are running already; retry shortly [429] */
    VX_JOB_UNAVAILABLE, /* shutting down, or out of memory [503] */
    VX_JOB_UNSUPPORTED, /* valid, but not supported by this build [501] */
    VX_JOB_TIMEOUT,     /* the deadline passed [504] */
    VX_JOB_FAILED,      /* the voice failed to load or to synthesize [500] */
} vx_job_status;

typedef struct vx_job_error {
    vx_job_status status;
    double audio_seconds; /* VX_JOB_OK: the audio delivered, in seconds */
    const char *code;     /* machine-readable: "voice_not_found", "queue_full", ... */
    char message[300];    /* for people */
} vx_job_error;

typedef struct vx_job_events {
    void (*on_start)(void *user, const vx_job_info *info);
    void (*on_audio)(void *user, const void *data, size_t n);
    void (*on_end)(void *user, const vx_job_error *result);
    /* Optional (NULL: not wanted). After the last on_audio of sentence `index` (streamed
     * jobs; a whole job has them all after its one on_audio): a front end that frames audio per sentence (Wyoming's audio-start/stop
     * groups, gRPC's sentence_index) closes the group here. `span` is the sentence's
     * bytes in the job's whole text (for an open job: all text appended so far). */
    void (*on_sentence_end)(void *user, size_t index, size_t offset, size_t length);
} vx_job_events;

/* Queue a job (loop thread). NULL with *err set when it is not admitted (VX_JOB_BUSY,
 * VX_JOB_UNAVAILABLE, VX_JOB_INVALID, VX_JOB_NOT_FOUND); events come later. */
vx_job *vx_job_submit(vx_server *s, const vx_job_opts *o, const vx_job_events *ev, void *user,
                      vx_job_error *err);
/* The front end is gone: stop the work, deliver nothing more (loop thread). */
void vx_job_cancel(vx_job *j);

/* Text that arrives in pieces (Wyoming synthesize-chunk, gRPC SynthesizeStream, text from
 * an LLM). Submit with opts.text_open = 1 (opts.text may be empty); vx_job_append adds
 * text, vx_job_close says no more comes (loop thread, both). The job speaks each sentence
 * as soon as it is complete in the text received so far — complete when the same splitter
 * as a whole text (backend split) has begun a later sentence after it, or at close — in
 * order, streamed (opts.stream is implied). --max-input bounds the stream's whole text
 * (VX_JOB_INVALID past it); on_start comes once, before the first sentence's audio; on_end
 * after close and the last sentence. vx_job_append returns 0, or -1 with *err set (too
 * long; invalid UTF-8). A piece may end inside a UTF-8 code point: the rest comes next.
 * A refused piece leaves the job as it was (the front end usually cancels it then).
 * Details: opts.text may hold the first piece; SSML cannot be open (VX_JOB_UNSUPPORTED).
 * on_start's n_sentences is the count known then. The splitter runs on the workers, one
 * split at a time per job over the text not yet in sentences, so many small pieces cost
 * few splits (job.c, "text in pieces"). A stream closed with nothing to speak ends with
 * VX_JOB_INVALID "empty_input" and no on_start (nothing was sent), text ending inside a
 * code point with VX_JOB_INVALID. Like vx_job_resume, vx_job_close may deliver this job's
 * events (its last sentences' audio, on_end) before it returns; vx_job_append only on_end
 * of a failure (out of memory). Sentence i is due (scheduler) when the audio before it
 * will have played, counted from when its text arrived if it came late.
 * Implemented by the Wyoming work (issue 15); gRPC's SynthesizeStream uses it too. */
int vx_job_append(vx_job *j, const char *text, size_t len, vx_job_error *err);
void vx_job_close(vx_job *j);

/* Flow control (loop thread), for a front end whose client reads slower than voxd speaks.
 * vx_job_pause: the response's output buffer is full. Sentences already running finish,
 * but no further sentence is queued and no audio is delivered until vx_job_resume, so a
 * paused job holds at most its queued window (--workers sentences) of audio and its
 * worker slots go to other jobs. The deadline still runs. Both may be called from inside
 * this job's own on_audio (then delivery stops, or goes on, after that call); neither
 * after on_end or vx_job_cancel. Idempotent. vx_job_paused: 1 while paused. */
void vx_job_pause(vx_job *j);
void vx_job_resume(vx_job *j);
int vx_job_paused(const vx_job *j);

/* Seconds of audio that text[0..len) will about make with p's speed options: the
 * scheduling estimate (VX_JOB_CHARS_PER_SEC characters a second at speed 1, plus the
 * sentence silence). Only the order of deadlines depends on it. */
#define VX_JOB_CHARS_PER_SEC 14.0
double vx_job_est_secs(const vx_synth_params *p, const char *text, size_t len);

/* For server.c: the worker side, the completions on the loop, timeouts, exit. */
void vx_job_run(vx_server *s, vx_task *t);     /* a worker runs a job's task */
void vx_job_on_done(vx_server *s, vx_task *t); /* the loop sees it completed */
void vx_job_sweep(vx_server *s, double now);   /* deadlines */
void vx_job_pool_drain(vx_server *s);          /* free recycled jobs at exit */

#endif

/*
 * job.c — speech jobs (job.h). A worker prepares a job (loads the voice if needed, splits
 * sentences) and synthesizes sentence 0 at once while the other sentences go to the queue
 * for the other workers. The loop delivers sentences in order as they complete. A job
 * outlives its front end until every task it queued has come back, so a cancel never
 * frees memory a worker still uses.
 *
 * Scheduling (scheduler.h): the queue runs earliest deadline first. A job's prepare task
 * (which runs sentence 0) is due at its submission; sentence k >= 1 is due when a
 * streaming client has played sentences 0..k-1, estimated from their text
 * (vx_job_est_secs), or at submission when the job is not streamed. So a new job's first
 * audio goes ahead of the later sentences of older jobs that are not due yet, and an
 * overdue sentence goes ahead of everything newer. Only the order changes: a queued task
 * still starts as soon as a worker is free.
 * Sentence 0 of a job that arrives while every worker is idle runs on all of the workers'
 * cores (the voice's inference threads) while the other workers wait: the first audio
 * comes in about half the time, and never more threads compute than there are workers
 * (the wide thread count is min(workers, usable cores), see server.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio_out.h"
#include "state.h"

#define VX_JOB_POOL_MAX 64 /* finished jobs kept for reuse */
#define VX_JOB_TAIL_EAGER                                                                          \
    512 /* open jobs: re-split an unfinished tail up to this
                                      many bytes on every piece (kick_split) */

typedef struct vx_sent {
    vx_task task;
    vx_ctl ctl;
    vx_buf *audio;
    int rc;
    int ready;   /* loop: completion seen */
    int threads; /* inference threads it ran on */
    double secs;
    const char *txt; /* the sentence's text: in j->text (whole jobs) or own */
    size_t off, len; /* its bytes in the job's whole text */
    char *own;       /* open jobs: a copy (j->text may move as pieces arrive) */
    char err[160];
} vx_sent;

/* A worker finds its sentence from its task: it never reads j->sents, which an open
 * job grows on the loop thread. */
static vx_sent *sent_of(vx_task *t) { return (vx_sent *)((char *)t - offsetof(vx_sent, task)); }

struct vx_job {
    vx_server *srv;
    vx_job *prev, *next; /* s->jobs */
    pthread_mutex_t mu;  /* guards sents/n against cancel */
    atomic_int cancelled;
    atomic_int outstanding; /* tasks queued or running, not yet seen by the loop */
    /* what was asked (read-only once queued, except synth.speaker: prepare resolves it) */
    char voice_name[VX_VOICE_NAME_MAX];
    char *text;
    size_t text_len;
    vx_synth_params synth;
    vx_audio_format format;
    int sample_rate, stream;
    vx_enc_options enc;
    /* prepare's results (worker; the loop reads them after the completion) */
    vx_voice_ent *voice;
    int prep_rc;
    vx_job_status prep_status; /* != OK: a refusal with prep_code (else from prep_rc) */
    const char *prep_code;
    char err[256];
    vox_span *spans;
    size_t n;
    vx_sent **sents;  /* each at a fixed address: tasks point into them */
    size_t sents_cap; /* allocated; recycled jobs keep them */
    vx_task prep_task;
    /* loop thread only */
    const vx_job_events *ev;
    void *user;     /* NULL: detached (ended or cancelled) */
    int delivering; /* inside a callback: free later */
    int paused;     /* vx_job_pause: no queueing, no delivery */
    size_t owed;    /* queue slots freed while paused, refilled on resume */
    size_t next_emit;
    size_t next_queue; /* sentences [0, next_queue) have been queued */
    double t_start, deadline, synth_secs;
    size_t audio_bytes; /* PCM delivered or held */
    int first_byte;
    vx_audio_out out; /* the output stage, begun once the voice is known */
    int out_ok, started;
    uint8_t *hold; /* encoded bytes not delivered yet: the container header
                                      before on_start, or a whole non-streamed job */
    size_t hold_len, hold_cap;
    int hold_failed;
    /* text in pieces (opts.text_open); loop thread, except the split task's fields, which
     * belong to the worker while split_busy */
    int open, closed, final_done;
    size_t text_cap;
    size_t text_ok;   /* text[0..text_ok) is whole code points, validated */
    size_t chars;     /* code points in it (--max-input) */
    size_t consumed;  /* text[0..consumed) is in sentences */
    size_t split_end; /* the text the last split result covered */
    int have_tail;    /* that split's last, unfinished sentence: */
    size_t tail_off, tail_len;
    int split_busy, split_closed;
    char *split_in; /* copy of text[split_base..) for the worker */
    size_t split_base, split_len;
    vox_span *split_spans;
    size_t split_n;
    int split_rc;
    char split_err[160];
    vx_task split_task;
    size_t running; /* sentence tasks queued or running (open jobs) */
    double due;     /* when the next sentence's audio is needed */
    vx_job *free_next;
};

void vx_job_opts_init(vx_job_opts *o) {
    memset(o, 0, sizeof(*o));
    vx_synth_params_init(&o->synth);
    o->format = VX_AUDIO_PCM;
    vx_enc_options_init(&o->enc);
}

/* ------------------------------------------------------------ life of a job */

static vx_job *job_new(vx_server *s) {
    vx_job *j = s->job_free;
    if (j) {
        s->job_free = j->free_next;
        s->n_job_free--;
        vx_sent **keep = j->sents;
        size_t cap = j->sents_cap;
        memset(j, 0, sizeof(*j));
        j->sents = keep;
        j->sents_cap = cap;
    } else {
        j = calloc(1, sizeof(*j));
        if (!j) return NULL;
    }
    j->srv = s;
    pthread_mutex_init(&j->mu, NULL);
    atomic_init(&j->cancelled, 0);
    atomic_init(&j->outstanding, 0);
    j->next = s->jobs;
    if (s->jobs) s->jobs->prev = j;
    s->jobs = j;
    s->n_jobs++;
    return j;
}

static void free_sents(vx_job *j) {
    for (size_t i = 0; i < j->sents_cap; i++) free(j->sents[i]);
    free(j->sents);
}

/* At least n sentence slots, each at a fixed address (0, or -1: out of memory). */
static int ensure_sents(vx_job *j, size_t n) {
    if (n <= j->sents_cap) return 0;
    size_t cap = j->sents_cap ? j->sents_cap : 4;
    while (cap < n) cap *= 2;
    vx_sent **p = realloc(j->sents, cap * sizeof(*p));
    if (!p) return -1;
    j->sents = p;
    for (; j->sents_cap < cap; j->sents_cap++)
        if (!(p[j->sents_cap] = calloc(1, sizeof(vx_sent)))) return -1;
    return 0;
}

static void job_free(vx_job *j) {
    vx_server *s = j->srv;
    if (j->prev)
        j->prev->next = j->next;
    else
        s->jobs = j->next;
    if (j->next) j->next->prev = j->prev;
    s->n_jobs--;
    for (size_t i = 0; i < j->n; i++) {
        vx_buf_put(j->sents[i]->audio);
        vx_ctl_destroy(&j->sents[i]->ctl);
        free(j->sents[i]->own);
        j->sents[i]->own = NULL;
    }
    free(j->spans);
    free(j->split_in);
    free(j->split_spans);
    j->split_in = NULL;
    j->split_spans = NULL;
    free(j->text);
    vox_lexicon_free(j->synth.lexicon);
    j->synth.lexicon = NULL;
    pthread_mutex_destroy(&j->mu);
    if (j->out_ok) vx_audio_out_free(&j->out);
    free(j->hold);
    j->hold = NULL;
    vx_voices_put(&s->voices, j->voice); /* the hold run_prepare took: evictable again */
    j->voice = NULL;
    if (s->n_job_free < VX_JOB_POOL_MAX) {
        j->free_next = s->job_free;
        s->job_free = j;
        s->n_job_free++;
    } else {
        free_sents(j);
        free(j);
    }
}

void vx_job_pool_drain(vx_server *s) {
    while (s->job_free) {
        vx_job *j = s->job_free;
        s->job_free = j->free_next;
        free_sents(j);
        free(j);
    }
    s->n_job_free = 0;
}

/* Stop the workers' part: queued sentences are skipped, running ones interrupted. */
static void job_cancel_tasks(vx_job *j) {
    pthread_mutex_lock(&j->mu);
    atomic_store(&j->cancelled, 1);
    for (size_t i = 0; i < j->n; i++) vx_ctl_cancel(&j->sents[i]->ctl);
    pthread_mutex_unlock(&j->mu);
}

/* Freed once detached, out of every callback, and every task has come back. */
static void job_maybe_free(vx_job *j) {
    if (!j->user && !j->delivering && atomic_load(&j->outstanding) == 0) job_free(j);
}

void vx_job_cancel(vx_job *j) {
    if (!j || !j->user) return;
    j->user = NULL;
    job_cancel_tasks(j);
    j->srv->metrics.cancelled++;
    job_maybe_free(j);
}

/* ------------------------------------------------------------ worker side */

double vx_job_est_secs(const vx_synth_params *p, const char *text, size_t len) {
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) chars += ((unsigned char)text[i] & 0xC0) != 0x80;
    double scale = p->length_scale > 0 ? p->length_scale : p->speed > 0 ? 1.0 / p->speed : 1;
    return (double)chars / VX_JOB_CHARS_PER_SEC * scale +
           (p->sentence_silence > 0 ? p->sentence_silence : 0);
}

static void run_sentence(vx_server *s, vx_job *j, vx_sent *st, int threads) {
    double t0 = vx_now();
    if (atomic_load(&j->cancelled)) {
        st->rc = VOX_ERR_CANCELLED;
    } else {
        st->threads = threads;
        st->audio = vx_buf_get(&s->bufs);
        if (!st->audio)
            st->rc = VOX_ERR_NOMEM;
        else
            st->rc = s->backend.synth(j->voice->voice, st->txt, st->len, &j->synth, threads,
                                      &st->ctl, st->audio, st->err, sizeof(st->err));
    }
    st->secs = vx_now() - t0;
    vx_sched_done(&s->sched, &st->task);
}

static int resolve_speaker(vx_server *s, vx_job *j) {
    const vx_voice_meta *m = &j->voice->meta;
    vx_synth_params *p = &j->synth;
    if (p->speaker[0]) {
        for (int id = 0; id < m->num_speakers && id < 100000; id++) {
            const char *nm = s->backend.speaker_name(j->voice->voice, id);
            if (nm && !strcmp(nm, p->speaker)) {
                p->speaker_id = id;
                p->speaker[0] = 0;
                return 0;
            }
        }
        snprintf(j->err, sizeof(j->err), "speaker '%.60s' not found in voice '%.60s'", p->speaker,
                 m->name);
        return -1;
    }
    if (p->speaker_id >= 0 && p->speaker_id >= m->num_speakers) {
        snprintf(j->err, sizeof(j->err), "speaker id %d out of range (voice has %d)", p->speaker_id,
                 m->num_speakers);
        return -1;
    }
    return 0;
}

/* Sentence tasks for spans[0..n): their deadlines, and which are queued now. */
static size_t setup_sentences(vx_server *s, vx_job *j, vox_span *spans, size_t n) {
    /* Streamed, sentence i is due once sentences 0..i-1 have played; not streamed,
     * nothing reaches the client before the last sentence: all are due at once. */
    double due = j->t_start;
    for (size_t i = 0; i < n; i++) {
        vx_sent *st = j->sents[i];
        memset(st, 0, sizeof(*st));
        vx_ctl_init(&st->ctl);
        st->task.kind = VX_TASK_SENTENCE;
        st->task.idx = i;
        st->task.job = j;
        st->task.deadline = due;
        st->txt = j->text + spans[i].offset;
        st->off = spans[i].offset;
        st->len = spans[i].length;
        if (j->stream)
            due += vx_job_est_secs(&j->synth, j->text + spans[i].offset, spans[i].length);
    }
    /* At most `workers` sentences of one job are queued at a time; the loop queues the
     * next as each completes. Long inputs cannot crowd out others, and audio far ahead
     * of the writer is not piled up. */
    size_t win = (size_t)(s->cfg.workers > 0 ? s->cfg.workers : 1);
    return n < win ? n : win;
}

static void run_prepare(vx_server *s, vx_job *j) {
    int rc = atomic_load(&j->cancelled) ? VOX_ERR_CANCELLED : VOX_OK;
    if (rc == VOX_OK)
        rc = vx_voices_get(&s->voices, j->voice_name, &j->voice, j->err, sizeof(j->err));
    if (rc == VOX_OK && resolve_speaker(s, j)) {
        rc = VOX_ERR_ARG;
        j->prep_status = VX_JOB_INVALID;
        j->prep_code = "speaker_not_found";
    }
    if (rc == VOX_OK && s->n_lex && !j->synth.lexicon) {
        /* the voice's own lexicon, else the one for every voice: one map for the whole job */
        int pick = -1;
        for (int i = 0; i < s->n_lex; i++) {
            if (!strcmp(s->lex_voice[i], j->voice_name)) {
                pick = i;
                break;
            }
            if (!s->lex_voice[i][0] && pick < 0) pick = i;
        }
        if (pick >= 0) j->synth.lexicon = vox_lexicon_watch_get(s->lex[pick]);
    }
    if (j->open) {
        /* an open job's text is split as it arrives (split tasks, below) */
        j->prep_rc = rc;
        vx_sched_done(&s->sched, &j->prep_task);
        return;
    }
    vox_span *spans = NULL;
    size_t n = 0, queued = 0;
    if (rc == VOX_OK && j->synth.input_format == VOX_INPUT_SSML) {
        /* an SSML document is synthesized whole (its breaks, marks and prosody span it) */
        spans = malloc(sizeof(*spans));
        if (!spans)
            rc = VOX_ERR_NOMEM;
        else {
            spans[0].offset = 0;
            spans[0].length = j->text_len;
            n = 1;
        }
    } else if (rc == VOX_OK) {
        rc = s->backend.split(j->voice->voice, j->text, j->text_len, &spans, &n, j->err,
                              sizeof(j->err));
    }
    if (rc == VOX_OK && n == 0) rc = VOX_ERR_EMPTY;
    if (rc == VOX_OK && ensure_sents(j, n)) rc = VOX_ERR_NOMEM;
    if (rc == VOX_OK) {
        size_t win = setup_sentences(s, j, spans, n);
        pthread_mutex_lock(&j->mu);
        if (atomic_load(&j->cancelled)) {
            rc = VOX_ERR_CANCELLED;
            for (size_t i = 0; i < n; i++) vx_ctl_destroy(&j->sents[i]->ctl);
        } else {
            j->spans = spans;
            j->n = n;
            spans = NULL;
            j->next_queue = queued = win;
            atomic_fetch_add(&j->outstanding, (int)queued);
        }
        pthread_mutex_unlock(&j->mu);
    }
    free(spans);
    j->prep_rc = rc;
    size_t n_now = rc == VOX_OK ? j->n : 0;
    /* Alone on the machine: sentence 0 takes every worker's core. Decided before this
     * job's own later sentences are queued, which then wait for it like all else. */
    int threads = 1;
    if (n_now && j->voice->meta.threads > 1 && vx_sched_try_exclusive(&s->sched))
        threads = j->voice->meta.threads;
    /* `queued`, not j->next_queue: once sentence 1 is queued it may complete, and the
     * loop then queues sentence `next_queue` and advances it, so re-reading it here
     * would queue that sentence a second time (a corrupt queue, a lost sentence, a 504). */
    for (size_t i = 1; i < queued; i++) vx_sched_push(&s->sched, &j->sents[i]->task);
    vx_sched_done(&s->sched, &j->prep_task);
    /* Sentence 0 right here: the first audio does not wait behind the queue. */
    if (n_now) run_sentence(s, j, j->sents[0], threads);
    if (threads > 1) vx_sched_end_exclusive(&s->sched);
}

/* An open job's split: the worker owns split_in/split_spans/split_rc until it is done. */
static void run_split(vx_server *s, vx_job *j) {
    j->split_spans = NULL;
    j->split_n = 0;
    j->split_err[0] = 0;
    if (atomic_load(&j->cancelled))
        j->split_rc = VOX_ERR_CANCELLED;
    else
        j->split_rc = s->backend.split(j->voice->voice, j->split_in, j->split_len, &j->split_spans,
                                       &j->split_n, j->split_err, sizeof(j->split_err));
    vx_sched_done(&s->sched, &j->split_task);
}

void vx_job_run(vx_server *s, vx_task *t) {
    vx_job *j = t->job;
    if (t->kind == VX_TASK_PREPARE) return run_prepare(s, j);
    if (t->kind == VX_TASK_SPLIT) return run_split(s, j);
    /* An open job's first sentence takes the wide path like a whole job's sentence 0
     * (in run_prepare): the first audio of a stream comes as soon as an HTTP answer's. */
    int threads = 1;
    if (j->open && t->idx == 0 && j->voice->meta.threads > 1 && vx_sched_try_exclusive(&s->sched))
        threads = j->voice->meta.threads;
    run_sentence(s, j, sent_of(t), threads);
    if (threads > 1) vx_sched_end_exclusive(&s->sched);
}

/* ------------------------------------------------------------ delivery (loop side) */

static int set_error(vx_job_error *e, vx_job_status st, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_error(vx_job_error *e, vx_job_status st, const char *code, const char *fmt, ...) {
    e->status = st;
    e->code = code;
    e->audio_seconds = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return -1;
}

/* The end: detach, then tell the front end (which may free itself or submit anew). */
static void finish(vx_job *j, const vx_job_error *e) {
    void *user = j->user;
    if (!user) return;
    j->user = NULL;
    j->delivering++;
    j->ev->on_end(user, e);
    j->delivering--;
}

static void fail(vx_job *j, vx_job_status st, const char *code, const char *msg) {
    job_cancel_tasks(j);
    vx_job_error e;
    set_error(&e, st, code, "%s", msg);
    finish(j, &e);
}

static void fail_rc(vx_job *j, int rc, const char *msg) {
    vx_job_status st = VX_JOB_FAILED;
    const char *code = "synthesis_failed";
    switch (rc) {
    case VOX_ERR_NOT_FOUND:
        st = VX_JOB_NOT_FOUND;
        code = "voice_not_found";
        break;
    case VOX_ERR_EMPTY:
        st = VX_JOB_INVALID;
        code = "empty_input";
        break;
    case VOX_ERR_UTF8:
    case VOX_ERR_TOO_LONG:
    case VOX_ERR_ARG:
        st = VX_JOB_INVALID;
        code = "invalid_value";
        break;
    case VOX_ERR_NOMEM:
        st = VX_JOB_UNAVAILABLE;
        code = "overloaded";
        break;
    case VOX_ERR_MODEL:
    case VOX_ERR_CONFIG:
    case VOX_ERR_IO: code = "voice_load_failed"; break;
    case VOX_ERR_UNSUPPORTED:
        st = VX_JOB_UNSUPPORTED;
        code = "not_supported";
        break;
    case VOX_ERR_SSML:
        st = VX_JOB_INVALID;
        code = "invalid_ssml";
        break;
    default: break;
    }
    fail(j, st, code, msg && *msg ? msg : vox_strerror(rc));
}

/* Hand bytes to the front end; 0 while it still listens. */
static int deliver(vx_job *j, const void *p, size_t n) {
    if (!j->user) return -1;
    if (!n) return 0;
    j->delivering++;
    j->ev->on_audio(j->user, p, n);
    j->delivering--;
    return j->user ? 0 : -1;
}

/*
 * Output stage (audio_out.h): PCM as the backend made it -> the bytes of j->format at the
 * asked rate. A streamed job delivers the encoder's bytes as they appear (the container
 * header waits in j->hold until on_start); a non-streamed job is encoded whole into j->hold
 * at the end, so on_start can give its exact size and WAV/FLAC headers are exact.
 */
static void out_emit(void *user, const void *p, size_t n) {
    vx_job *j = user;
    if (j->started && j->stream) {
        deliver(j, p, n);
        return;
    }
    if (j->hold_len + n > j->hold_cap) {
        size_t cap = j->hold_cap ? j->hold_cap : 65536;
        while (cap < j->hold_len + n) cap *= 2;
        uint8_t *q = realloc(j->hold, cap);
        if (!q) {
            j->hold_failed = 1;
            return;
        }
        j->hold = q;
        j->hold_cap = cap;
    }
    memcpy(j->hold + j->hold_len, p, n);
    j->hold_len += n;
}

static int out_push(vx_job *j, const vx_buf *pcm) {
    if (vx_audio_out_push(&j->out, (const int16_t *)pcm->data, pcm->len / 2, out_emit, j) ||
        j->hold_failed) {
        fail(j, VX_JOB_UNAVAILABLE, "overloaded", "encoding the audio failed (out of memory)");
        return -1;
    }
    return j->user ? 0 : -1;
}

static int out_end(vx_job *j) {
    if (vx_audio_out_end(&j->out, out_emit, j) || j->hold_failed) {
        fail(j, VX_JOB_UNAVAILABLE, "overloaded", "encoding the audio failed (out of memory)");
        return -1;
    }
    return j->user ? 0 : -1;
}

/* Deliver and forget what j->hold has. */
static int out_flush_hold(vx_job *j) {
    size_t n = j->hold_len;
    j->hold_len = 0;
    return deliver(j, j->hold, n);
}

static void start(vx_job *j, long long total_bytes) {
    vx_job_info in = {
        .voice = j->voice->meta.name,
        .sample_rate = j->out.rate,
        .channels = 1,
        .bits = 16,
        .format = j->format,
        .mime = vx_audio_content_type(j->format),
        .n_sentences = j->n,
        .total_bytes = total_bytes,
    };
    j->started = 1;
    j->delivering++;
    j->ev->on_start(j->user, &in);
    j->delivering--;
}

static void kick_split(vx_server *s, vx_job *j);
static void emit(vx_server *s, vx_job *j);

static void on_prepared(vx_server *s, vx_job *j) {
    if (!j->user) return;
    if (j->prep_rc != VOX_OK) {
        if (j->prep_status != VX_JOB_OK)
            fail(j, j->prep_status, j->prep_code, j->err);
        else
            fail_rc(j, j->prep_rc, j->err);
        return;
    }
    /* the voice's rate is known now: a rate or bitrate the format cannot do with it is
     * still a clean refusal, nothing has been delivered */
    char msg[256];
    vx_enc_options eo = j->enc;
    eo.patchable = !j->stream; /* encoded whole: exact headers, mp3 with its LAME tag */
    if (vx_audio_out_begin(&j->out, j->format, j->voice->meta.sample_rate, j->sample_rate, &eo, msg,
                           sizeof msg, out_emit, j)) {
        fail(j, VX_JOB_INVALID, "invalid_value", msg);
        return;
    }
    j->out_ok = 1;
    if (!j->stream) return;
    if (j->open) {
        /* on_start waits for the first sentence: a stream closed with nothing to speak
         * can still end with a clean error */
        kick_split(s, j);
        emit(s, j);
        return;
    }
    start(j, -1);
    if (j->user) out_flush_hold(j); /* the container header, if the format has one */
}

static void observe_first_byte(vx_server *s, vx_job *j) {
    if (j->first_byte) return;
    j->first_byte = 1;
    vx_hist_observe(&s->metrics.ttfb, vx_now() - j->t_start);
}

static void sentence_end(vx_job *j, size_t i) {
    if (!j->ev->on_sentence_end || !j->user) return;
    j->delivering++;
    j->ev->on_sentence_end(j->user, i, j->sents[i]->off, j->sents[i]->len);
    j->delivering--;
}

/* Every sentence is made: deliver what a non-streamed job held, then end. */
static void complete(vx_server *s, vx_job *j) {
    if (!j->stream) {
        for (size_t i = 0; i < j->n; i++) {
            if (out_push(j, j->sents[i]->audio)) return;
            vx_buf_put(j->sents[i]->audio);
            j->sents[i]->audio = NULL;
        }
    }
    if (!j->n) { /* an open job closed with nothing to speak; nothing was sent */
        fail(j, VX_JOB_INVALID, "empty_input", "the text has nothing to speak");
        return;
    }
    if (out_end(j)) return;
    if (!j->stream) {
        size_t off, len;
        const uint8_t *patch;
        vx_audio_out_patch(&j->out, &off, &patch, &len);
        if (len && off + len <= j->hold_len) memcpy(j->hold + off, patch, len);
        start(j, (long long)j->hold_len);
        observe_first_byte(s, j);
        if (out_flush_hold(j)) return;
        for (size_t i = 0; i < j->n && j->user; i++) sentence_end(j, i);
        if (!j->user) return;
    }
    double audio_s = (double)j->audio_bytes / 2.0 / j->voice->meta.sample_rate;
    s->metrics.audio_seconds += audio_s;
    if (audio_s > 0) vx_hist_observe(&s->metrics.rtf, j->synth_secs / audio_s);
    vx_hist_observe(&s->metrics.latency, vx_now() - j->t_start);
    vx_job_error ok = {.status = VX_JOB_OK, .code = "ok", .audio_seconds = audio_s};
    finish(j, &ok);
}

/* Queue up to k more sentences of j (a window slot came free). */
static void queue_next(vx_server *s, vx_job *j, size_t k) {
    while (k-- && !atomic_load(&j->cancelled) && j->next_queue < j->n) {
        atomic_fetch_add(&j->outstanding, 1);
        vx_sched_push(&s->sched, &j->sents[j->next_queue++]->task);
    }
}

/* An open job's window: its sentences appear over time, so it counts what is out
 * (`running`) instead of refilling one slot per completion. */
static void queue_fill(vx_server *s, vx_job *j) {
    size_t win = (size_t)(s->cfg.workers > 0 ? s->cfg.workers : 1);
    while (!j->paused && j->running < win && !atomic_load(&j->cancelled) && j->next_queue < j->n) {
        atomic_fetch_add(&j->outstanding, 1);
        j->running++;
        vx_sched_push(&s->sched, &j->sents[j->next_queue++]->task);
    }
}

/* An open job knows all its sentences: closed, and the last split is in. */
static int all_known(const vx_job *j) {
    return !j->open || (j->closed && j->final_done && !j->split_busy);
}

/* Sentences that are ready, in order; the end once all are. A pause (possibly from
 * inside on_audio) stops the loop; vx_job_resume runs it again. */
static void emit(vx_server *s, vx_job *j) {
    while (j->user && !j->paused && j->next_emit < j->n && j->sents[j->next_emit]->ready) {
        vx_sent *st = j->sents[j->next_emit];
        if (st->rc != VOX_OK) {
            fail_rc(j, st->rc, st->err);
            return;
        }
        if (j->open && !j->started) { /* an open job: on_start comes with its first audio */
            start(j, -1);
            if (!j->user || out_flush_hold(j)) return;
        }
        j->audio_bytes += st->audio->len;
        /* --max-audio, measured: the up-front estimate (openai.c) can be beaten by text
         * that speaks longer than it reads; past the bound the job ends (400, or an
         * aborted stream) */
        if (s->cfg.max_audio > 0 &&
            (double)j->audio_bytes / 2.0 / j->voice->meta.sample_rate > s->cfg.max_audio) {
            fail(j, VX_JOB_INVALID, "audio_too_long", "the audio passed --max-audio seconds");
            return;
        }
        j->next_emit++;
        if (j->stream) {
            observe_first_byte(s, j);
            if (out_push(j, st->audio)) return;
            vx_buf_put(st->audio);
            st->audio = NULL;
            sentence_end(j, j->next_emit - 1);
        }
    }
    if (j->user && !j->paused && j->next_emit == j->n && all_known(j)) complete(s, j);
}

void vx_job_pause(vx_job *j) {
    if (j && j->user) j->paused = 1;
}

int vx_job_paused(const vx_job *j) { return j && j->paused; }

void vx_job_resume(vx_job *j) {
    if (!j || !j->user || !j->paused) return;
    vx_server *s = j->srv;
    j->paused = 0;
    size_t k = j->owed;
    j->owed = 0;
    /* only once prepared (n is 0 before): the prepare completion queues the first window */
    if (j->open)
        queue_fill(s, j);
    else if (j->n && j->prep_rc == VOX_OK)
        queue_next(s, j, k);
    /* inside this job's own callback the running emit loop goes on by itself */
    if (j->delivering || !j->out_ok) return;
    emit(s, j);
    job_maybe_free(j);
}

/* ------------------------------------------------------------ text in pieces
 *
 * Design: the loop never runs the splitter. A Piper voice's splitter is its phonemizer's
 * clause pass under the process-wide espeak lock, so on the loop thread it could wait for
 * a worker's whole sentence; instead an open job has one split task at a time on the
 * workers, given a copy of the text not yet in sentences (text[consumed..]). Its result:
 * every sentence but the last is complete (a later one has begun after it), the last is
 * kept as the tail; at close the last one is complete too. Pieces that arrive while a
 * split runs are covered by the next one (coalesced: at most one split per worker round
 * trip, however many pieces), and at close a tail the last split already saw becomes the
 * final sentence without another split. The split always restarts at the first unfinished
 * sentence, so it sees exactly the text a whole-text split would see from there on.
 * Sentences get their own copy of their text (j->text grows, and may move, as pieces
 * come), and sit at fixed addresses (ensure_sents) since the scheduler holds their tasks.
 */

/* Length of the prefix of p[0..n) that ends on a code point boundary: a piece may end
 * inside a UTF-8 sequence, whose first bytes then wait for the rest. */
static size_t utf8_whole(const char *p, size_t n) {
    for (size_t k = n, back = 0; k > 0 && back < 4; k--, back++) {
        unsigned char b = (unsigned char)p[k - 1];
        if ((b & 0xC0) == 0x80) continue;
        /* a valid lead byte's length; anything else counts 1, and validation refuses it */
        size_t need = b >= 0xC2 && b <= 0xDF   ? 2
                      : b >= 0xE0 && b <= 0xEF ? 3
                      : b >= 0xF0 && b <= 0xF4 ? 4
                                               : 1;
        return k - 1 + need > n ? k - 1 : n;
    }
    return n; /* not a sequence's start within 4 bytes: let validation refuse it */
}

static int append_text(vx_job *j, const char *text, size_t len, vx_job_error *err) {
    if (!len) return 0;
    /* --max-input code points are at most 4 bytes each, plus a code point's first bytes */
    size_t max_bytes = j->srv->cfg.max_input * 4 + 3;
    if (len > max_bytes || j->text_len + len > max_bytes)
        return set_error(err, VX_JOB_INVALID, "invalid_value",
                         "text is over %zu characters (the limit)", j->srv->cfg.max_input);
    if (j->text_len + len + 1 > j->text_cap) {
        size_t need = j->text_len + len + 1;
        size_t cap = j->text_cap ? j->text_cap : 256;
        while (cap < need) cap *= 2;
        char *t = realloc(j->text, cap);
        if (!t) return set_error(err, VX_JOB_UNAVAILABLE, "overloaded", "out of memory");
        j->text = t;
        j->text_cap = cap;
    }
    /* the new bytes go in past text_len; they count only once they pass both checks */
    memcpy(j->text + j->text_len, text, len);
    size_t end = utf8_whole(j->text, j->text_len + len), chars = 0;
    if (end > j->text_ok && vx_api_utf8_count(j->text + j->text_ok, end - j->text_ok, &chars))
        return set_error(err, VX_JOB_INVALID, "invalid_value", "text is not valid UTF-8");
    if (j->chars + chars > j->srv->cfg.max_input)
        return set_error(err, VX_JOB_INVALID, "invalid_value",
                         "text is %zu characters; the limit is %zu", j->chars + chars,
                         j->srv->cfg.max_input);
    j->text_len += len;
    j->text[j->text_len] = 0;
    j->text_ok = end;
    j->chars += chars;
    return 0;
}

/* A complete sentence: text[off..off+len) becomes sentence j->n. */
static int commit_sentence(vx_server *s, vx_job *j, size_t off, size_t len) {
    if (ensure_sents(j, j->n + 1)) return -1;
    vx_sent *st = j->sents[j->n];
    memset(st, 0, sizeof(*st));
    if (!(st->own = malloc(len + 1))) return -1;
    memcpy(st->own, j->text + off, len);
    st->own[len] = 0;
    st->txt = st->own;
    st->off = off;
    st->len = len;
    vx_ctl_init(&st->ctl);
    st->task.kind = VX_TASK_SENTENCE;
    st->task.idx = j->n;
    st->task.job = j;
    /* due when the audio before it will have played, or now if the text came late */
    double now = vx_now();
    st->task.deadline = j->due > now ? j->due : now;
    j->due = st->task.deadline + vx_job_est_secs(&j->synth, st->txt, len);
    pthread_mutex_lock(&j->mu); /* job_cancel_tasks walks sents[0..n) */
    j->n++;
    pthread_mutex_unlock(&j->mu);
    return 0;
}

/* Start a split of the unfinished text if there is something new to split, or end the
 * text at close. Loop thread. */
static void kick_split(vx_server *s, vx_job *j) {
    if (!j->user || !j->open || !j->out_ok || j->split_busy || j->final_done) return;
    if (j->text_ok == j->split_end) {
        if (!j->closed) return;
        /* closed, and the last split saw all of it: its tail is the last sentence */
        if (j->have_tail && commit_sentence(s, j, j->tail_off, j->tail_len)) {
            fail(j, VX_JOB_UNAVAILABLE, "overloaded", "out of memory");
            return;
        }
        j->have_tail = 0;
        j->consumed = j->text_ok;
        j->final_done = 1;
        queue_fill(s, j);
        return;
    }
    size_t n = j->text_ok - j->consumed;
    /* A long unfinished tail is split again only once it has grown by a quarter (or at
     * the close): text without sentence ends, a byte at a time, would otherwise cost a
     * split of the whole tail per byte (quadratic); this keeps the total linear, and a
     * normal sentence (under VX_JOB_TAIL_EAGER bytes) is looked at on every piece. */
    if (!j->closed && n > VX_JOB_TAIL_EAGER && (j->text_ok - j->split_end) * 4 < n) return;
    char *in = malloc(n + 1);
    if (!in) {
        fail(j, VX_JOB_UNAVAILABLE, "overloaded", "out of memory");
        return;
    }
    memcpy(in, j->text + j->consumed, n);
    in[n] = 0;
    free(j->split_in);
    j->split_in = in;
    j->split_base = j->consumed;
    j->split_len = n;
    j->split_closed = j->closed;
    j->split_busy = 1;
    j->split_task.kind = VX_TASK_SPLIT;
    j->split_task.job = j;
    j->split_task.deadline = vx_now();
    atomic_fetch_add(&j->outstanding, 1);
    vx_sched_push(&s->sched, &j->split_task);
}

static void on_split(vx_server *s, vx_job *j) {
    j->split_busy = 0;
    vox_span *sp = j->split_spans;
    size_t n = j->split_n;
    j->split_spans = NULL;
    free(j->split_in);
    j->split_in = NULL;
    int rc = j->split_rc;
    if (rc == VOX_ERR_EMPTY) rc = VOX_OK, n = 0; /* nothing to speak yet */
    if (!j->user) {
        free(sp);
        return;
    }
    if (rc != VOX_OK) {
        free(sp);
        fail_rc(j, rc, j->split_err);
        return;
    }
    size_t done = j->split_closed ? n : n ? n - 1 : 0;
    for (size_t i = 0; i < n; i++) { /* spans past the text cannot be: refuse them */
        if (sp[i].offset > j->split_len || sp[i].length > j->split_len - sp[i].offset) {
            free(sp);
            fail(j, VX_JOB_FAILED, "synthesis_failed", "the splitter gave a bad span");
            return;
        }
    }
    for (size_t i = 0; i < done; i++) {
        if (commit_sentence(s, j, j->split_base + sp[i].offset, sp[i].length)) {
            free(sp);
            fail(j, VX_JOB_UNAVAILABLE, "overloaded", "out of memory");
            return;
        }
    }
    j->split_end = j->split_base + j->split_len;
    j->have_tail = 0;
    if (j->split_closed) {
        j->consumed = j->split_end;
        j->final_done = 1;
    } else if (n) {
        j->have_tail = 1;
        j->tail_off = j->split_base + sp[n - 1].offset;
        j->tail_len = sp[n - 1].length;
        j->consumed = j->tail_off;
    }
    free(sp);
    queue_fill(s, j);
    kick_split(s, j); /* text that came meanwhile, or the close */
    emit(s, j);
}

int vx_job_append(vx_job *j, const char *text, size_t len, vx_job_error *err) {
    if (!j || !j->user || !j->open || j->closed)
        return set_error(err, VX_JOB_INVALID, "invalid_value",
                         "the job takes no more text (not open, closed or ended)");
    if (!text && len) return set_error(err, VX_JOB_INVALID, "invalid_value", "no text");
    if (append_text(j, text, len, err)) return -1;
    kick_split(j->srv, j);
    job_maybe_free(j);
    return 0;
}

void vx_job_close(vx_job *j) {
    if (!j || !j->user || !j->open || j->closed) return;
    j->closed = 1;
    if (j->text_ok != j->text_len) {
        fail(j, VX_JOB_INVALID, "invalid_value", "the text ends inside a UTF-8 character");
    } else {
        kick_split(j->srv, j);
        if (j->user && !j->delivering && j->out_ok) emit(j->srv, j);
    }
    job_maybe_free(j);
}

void vx_job_on_done(vx_server *s, vx_task *t) {
    vx_job *j = t->job;
    atomic_fetch_sub(&j->outstanding, 1);
    if (t->kind == VX_TASK_PREPARE) {
        on_prepared(s, j);
    } else if (t->kind == VX_TASK_SPLIT) {
        on_split(s, j);
    } else {
        vx_sent *st = sent_of(t);
        st->ready = 1;
        s->metrics.synth_seconds += st->secs;
        if (st->threads > 1) s->metrics.wide_sentences++;
        j->synth_secs += st->secs;
        if (j->open) {
            j->running--;
            queue_fill(s, j);
        } else if (j->paused)
            j->owed++;
        else
            queue_next(s, j, 1);
        /* emit only once prepared: the prepare completion is always handed back first */
        emit(s, j);
    }
    job_maybe_free(j);
}

void vx_job_sweep(vx_server *s, double now) {
    /* A callback may end or free other jobs: after each timeout, look again from the head
     * (each job times out once: it is detached then). At most --queue jobs. */
    for (vx_job *j = s->jobs; j;) {
        if (!j->user || now <= j->deadline) {
            j = j->next;
            continue;
        }
        s->metrics.timeouts++;
        fail(j, VX_JOB_TIMEOUT, "timeout", "synthesis timed out");
        job_maybe_free(j);
        j = s->jobs;
    }
}

/* ------------------------------------------------------------ submit */

static int check_opts(vx_server *s, const vx_job_opts *o, vx_job_error *err) {
    size_t chars;
    if (!o->voice || strlen(o->voice) >= VX_VOICE_NAME_MAX || !vx_voice_name_ok(o->voice))
        return set_error(err, VX_JOB_NOT_FOUND, "voice_not_found", "voice '%.100s' not found",
                         o->voice ? o->voice : "");
    if (o->text_open && o->synth.input_format == VOX_INPUT_SSML)
        return set_error(err, VX_JOB_UNSUPPORTED, "not_supported",
                         "SSML cannot come in pieces: send the whole document");
    if (o->text_open)
        chars = 0; /* checked piece by piece (append_text) */
    else if (!o->text || vx_api_utf8_count(o->text, o->text_len, &chars))
        return set_error(err, VX_JOB_INVALID, "invalid_value", "text is not valid UTF-8");
    if (chars > s->cfg.max_input)
        return set_error(err, VX_JOB_INVALID, "invalid_value",
                         "text is %zu characters; the limit is %zu", chars, s->cfg.max_input);
    if ((unsigned)o->format >= VX_AUDIO_COUNT)
        return set_error(err, VX_JOB_UNSUPPORTED, "unsupported_format", "format %d",
                         (int)o->format);
    if (!(o->synth.speed > 0))
        return set_error(err, VX_JOB_INVALID, "invalid_value", "speed must be > 0");
    if (o->sample_rate &&
        (o->sample_rate < VX_AUDIO_RATE_MIN || o->sample_rate > VX_AUDIO_RATE_MAX))
        return set_error(err, VX_JOB_INVALID, "invalid_value",
                         "sample rate %d Hz is out of range (%d to %d)", o->sample_rate,
                         VX_AUDIO_RATE_MIN, VX_AUDIO_RATE_MAX);
    /* with an explicit rate the format's limits are known before the voice is */
    char msg[256];
    int enc_rate;
    if (o->sample_rate) vx_audio_out_rate(o->format, o->sample_rate, o->sample_rate, &enc_rate);
    if (o->sample_rate && vx_encoder_check(o->format, enc_rate, 1, &o->enc, msg, sizeof msg))
        return set_error(err, VX_JOB_INVALID, "invalid_value", "%s", msg);
    return 0;
}

vx_job *vx_job_submit(vx_server *s, const vx_job_opts *o, const vx_job_events *ev, void *user,
                      vx_job_error *err) {
    if (check_opts(s, o, err)) return NULL;
    if (s->draining) {
        set_error(err, VX_JOB_UNAVAILABLE, "shutting_down", "server is shutting down");
        return NULL;
    }
    if (s->n_jobs >= s->cfg.queue) {
        s->metrics.rejected_429++;
        set_error(err, VX_JOB_BUSY, "queue_full",
                  "server busy: %d speech requests in progress; retry shortly", s->n_jobs);
        return NULL;
    }
    vx_job *j = job_new(s);
    size_t len0 = o->text_open ? 0 : o->text_len;
    char *text = j ? malloc(len0 + 1) : NULL;
    if (!text) {
        if (j) job_free(j);
        set_error(err, VX_JOB_UNAVAILABLE, "overloaded", "out of memory");
        return NULL;
    }
    if (len0) memcpy(text, o->text, len0);
    text[len0] = 0;
    snprintf(j->voice_name, sizeof(j->voice_name), "%s", o->voice);
    j->text = text;
    j->text_len = len0;
    j->text_cap = len0 + 1;
    j->open = o->text_open != 0;
    if (j->open && o->text_len && append_text(j, o->text, o->text_len, err)) {
        job_free(j);
        return NULL;
    }
    j->synth = o->synth;
    j->format = o->format;
    j->sample_rate = o->sample_rate;
    j->enc = o->enc;
    j->stream = o->stream || j->open; /* an open job is streamed */
    j->ev = ev;
    j->user = user;
    j->t_start = vx_now();
    j->deadline = o->deadline > 0 ? o->deadline : j->t_start + s->cfg.timeout;
    j->prep_task.kind = VX_TASK_PREPARE;
    j->prep_task.job = j;
    j->prep_task.deadline = j->t_start; /* its sentence 0 is due now */
    atomic_store(&j->outstanding, 1);
    vx_sched_push(&s->sched, &j->prep_task);
    return j;
}

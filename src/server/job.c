/*
 * job.c — speech jobs (job.h): their life, delivery on the loop, submit. The worker side
 * is in job_run.c, text that arrives in pieces in job_text.c; job_int.h is what they share.
 * A worker prepares a job (loads the voice if needed, splits
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

#include "job_int.h"

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
int vx_job_ensure_sents(vx_job *j, size_t n) {
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
    vx_buf_put(j->part);
    j->part = NULL;
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
void vx_job_maybe_free(vx_job *j) {
    if (!j->user && !j->delivering && atomic_load(&j->outstanding) == 0) job_free(j);
}

void vx_job_cancel(vx_job *j) {
    if (!j || !j->user) return;
    j->user = NULL;
    job_cancel_tasks(j);
    j->srv->metrics.cancelled++;
    vx_job_maybe_free(j);
}

/* ------------------------------------------------------------ delivery (loop side) */

int vx_job_set_error(vx_job_error *e, vx_job_status st, const char *code, const char *fmt, ...) {
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

void vx_job_fail(vx_job *j, vx_job_status st, const char *code, const char *msg) {
    job_cancel_tasks(j);
    vx_job_error e;
    vx_job_set_error(&e, st, code, "%s", msg);
    finish(j, &e);
}

void vx_job_fail_rc(vx_job *j, int rc, const char *msg) {
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
    vx_job_fail(j, st, code, msg && *msg ? msg : vox_strerror(rc));
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
        vx_job_fail(j, VX_JOB_UNAVAILABLE, "overloaded",
                    "encoding the audio failed (out of memory)");
        return -1;
    }
    return j->user ? 0 : -1;
}

static int out_end(vx_job *j) {
    if (vx_audio_out_end(&j->out, out_emit, j) || j->hold_failed) {
        vx_job_fail(j, VX_JOB_UNAVAILABLE, "overloaded",
                    "encoding the audio failed (out of memory)");
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

static void on_prepared(vx_server *s, vx_job *j) {
    if (!j->user) return;
    if (j->prep_rc != VOX_OK) {
        if (j->prep_status != VX_JOB_OK)
            vx_job_fail(j, j->prep_status, j->prep_code, j->err);
        else
            vx_job_fail_rc(j, j->prep_rc, j->err);
        return;
    }
    /* the voice's rate is known now: a rate or bitrate the format cannot do with it is
     * still a clean refusal, nothing has been delivered */
    char msg[256];
    vx_enc_options eo = j->enc;
    eo.patchable = !j->stream; /* encoded whole: exact headers, mp3 with its LAME tag */
    if (vx_audio_out_begin(&j->out, j->format, j->voice->meta.sample_rate, j->sample_rate, &eo, msg,
                           sizeof msg, out_emit, j)) {
        vx_job_fail(j, VX_JOB_INVALID, "invalid_value", msg);
        return;
    }
    j->out_ok = 1;
    if (!j->stream) return;
    if (j->open) {
        /* on_start waits for the first sentence: a stream closed with nothing to speak
         * can still end with a clean error */
        vx_job_kick_split(s, j);
        vx_job_emit(s, j);
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
        vx_job_fail(j, VX_JOB_INVALID, "empty_input", "the text has nothing to speak");
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
void vx_job_queue_fill(vx_server *s, vx_job *j) {
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

/* Count audio against --max-audio, measured: the up-front estimate (openai.c) can be
 * beaten by text that speaks longer than it reads; past the bound the job ends (400, or an
 * aborted stream). 0 while within it. */
static int count_audio(vx_server *s, vx_job *j, size_t bytes) {
    j->audio_bytes += bytes;
    if (s->cfg.max_audio > 0 &&
        (double)j->audio_bytes / 2.0 / j->voice->meta.sample_rate > s->cfg.max_audio) {
        vx_job_fail(j, VX_JOB_INVALID, "audio_too_long", "the audio passed --max-audio seconds");
        return -1;
    }
    return 0;
}

/* Send a streamed job's PCM on (an open job's on_start comes with its first audio). */
static int stream_pcm(vx_server *s, vx_job *j, const vx_buf *pcm) {
    if (j->open && !j->started) {
        start(j, -1);
        if (!j->user || out_flush_hold(j)) return -1;
    }
    observe_first_byte(s, j);
    return out_push(j, pcm);
}

/* A streamed sentence still being made: send on what its worker has made so far. The copy
 * is taken under j->mu and sent without it, so the worker never waits for the client. */
static int stream_part(vx_server *s, vx_job *j, vx_sent *st) {
    if (!j->part && !(j->part = vx_buf_get(&s->bufs))) return 0; /* at its completion, then */
    j->part->len = 0;
    pthread_mutex_lock(&j->mu);
    int rc =
        st->audio && st->audio->len ? vx_buf_append(j->part, st->audio->data, st->audio->len) : 0;
    if (!rc && st->audio) st->audio->len = 0;
    pthread_mutex_unlock(&j->mu);
    if (rc || !j->part->len) return 0; /* out of memory: it stays for the completion */
    if (count_audio(s, j, j->part->len)) return -1;
    s->metrics.early_parts++;
    return stream_pcm(s, j, j->part);
}

/* Sentences that are ready, in order, and the made part of the next one when streamed; the
 * end once all are. A pause (possibly from inside on_audio) stops the loop; vx_job_resume
 * runs it again. */
void vx_job_emit(vx_server *s, vx_job *j) {
    while (j->user && !j->paused && j->next_emit < j->n) {
        vx_sent *st = j->sents[j->next_emit];
        if (!st->ready) {
            if (j->stream && j->out_ok) stream_part(s, j, st);
            return;
        }
        if (st->rc != VOX_OK) {
            vx_job_fail_rc(j, st->rc, st->err);
            return;
        }
        if (count_audio(s, j, st->audio->len)) return;
        j->next_emit++;
        if (j->stream) {
            if (stream_pcm(s, j, st->audio)) return;
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
        vx_job_queue_fill(s, j);
    else if (j->n && j->prep_rc == VOX_OK)
        queue_next(s, j, k);
    /* inside this job's own callback the running emit loop goes on by itself */
    if (j->delivering || !j->out_ok) return;
    vx_job_emit(s, j);
    vx_job_maybe_free(j);
}

void vx_job_on_done(vx_server *s, vx_task *t) {
    vx_job *j = t->job;
    atomic_fetch_sub(&j->outstanding, 1);
    if (t->kind == VX_TASK_PREPARE) {
        on_prepared(s, j);
    } else if (t->kind == VX_TASK_PROGRESS) {
        vx_sent *st = sent_of(t);
        pthread_mutex_lock(&j->mu);
        st->progress_sent = 0; /* later audio posts a new note */
        pthread_mutex_unlock(&j->mu);
        if (!j->delivering) vx_job_emit(s, j);
    } else if (t->kind == VX_TASK_SPLIT) {
        vx_job_on_split(s, j);
    } else {
        vx_sent *st = sent_of(t);
        st->ready = 1;
        s->metrics.synth_seconds += st->secs;
        if (st->threads > 1) s->metrics.wide_sentences++;
        j->synth_secs += st->secs;
        if (j->open) {
            j->running--;
            vx_job_queue_fill(s, j);
        } else if (j->paused)
            j->owed++;
        else
            queue_next(s, j, 1);
        /* emit only once prepared: the prepare completion is always handed back first */
        vx_job_emit(s, j);
    }
    vx_job_maybe_free(j);
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
        vx_job_fail(j, VX_JOB_TIMEOUT, "timeout", "synthesis timed out");
        vx_job_maybe_free(j);
        j = s->jobs;
    }
}

/* ------------------------------------------------------------ submit */

static int check_opts(vx_server *s, const vx_job_opts *o, vx_job_error *err) {
    size_t chars;
    if (!o->voice || strlen(o->voice) >= VX_VOICE_NAME_MAX || !vx_voice_name_ok(o->voice))
        return vx_job_set_error(err, VX_JOB_NOT_FOUND, "voice_not_found",
                                "voice '%.100s' not found", o->voice ? o->voice : "");
    if (o->text_open && o->synth.input_format == VOX_INPUT_SSML)
        return vx_job_set_error(err, VX_JOB_UNSUPPORTED, "not_supported",
                                "SSML cannot come in pieces: send the whole document");
    if (o->text_open)
        chars = 0; /* checked piece by piece (append_text) */
    else if (!o->text || vx_api_utf8_count(o->text, o->text_len, &chars))
        return vx_job_set_error(err, VX_JOB_INVALID, "invalid_value", "text is not valid UTF-8");
    if (chars > s->cfg.max_input)
        return vx_job_set_error(err, VX_JOB_INVALID, "invalid_value",
                                "text is %zu characters; the limit is %zu", chars,
                                s->cfg.max_input);
    if ((unsigned)o->format >= VX_AUDIO_COUNT)
        return vx_job_set_error(err, VX_JOB_UNSUPPORTED, "unsupported_format", "format %d",
                                (int)o->format);
    if (!(o->synth.speed > 0))
        return vx_job_set_error(err, VX_JOB_INVALID, "invalid_value", "speed must be > 0");
    if (o->sample_rate &&
        (o->sample_rate < VX_AUDIO_RATE_MIN || o->sample_rate > VX_AUDIO_RATE_MAX))
        return vx_job_set_error(err, VX_JOB_INVALID, "invalid_value",
                                "sample rate %d Hz is out of range (%d to %d)", o->sample_rate,
                                VX_AUDIO_RATE_MIN, VX_AUDIO_RATE_MAX);
    /* with an explicit rate the format's limits are known before the voice is */
    char msg[256];
    int enc_rate;
    if (o->sample_rate) vx_audio_out_rate(o->format, o->sample_rate, o->sample_rate, &enc_rate);
    if (o->sample_rate && vx_encoder_check(o->format, enc_rate, 1, &o->enc, msg, sizeof msg))
        return vx_job_set_error(err, VX_JOB_INVALID, "invalid_value", "%s", msg);
    return 0;
}

vx_job *vx_job_submit(vx_server *s, const vx_job_opts *o, const vx_job_events *ev, void *user,
                      vx_job_error *err) {
    if (check_opts(s, o, err)) return NULL;
    if (s->draining) {
        vx_job_set_error(err, VX_JOB_UNAVAILABLE, "shutting_down", "server is shutting down");
        return NULL;
    }
    if (s->n_jobs >= s->cfg.queue) {
        s->metrics.rejected_429++;
        vx_job_set_error(err, VX_JOB_BUSY, "queue_full",
                         "server busy: %d speech requests in progress; retry shortly", s->n_jobs);
        return NULL;
    }
    vx_job *j = job_new(s);
    size_t len0 = o->text_open ? 0 : o->text_len;
    char *text = j ? malloc(len0 + 1) : NULL;
    if (!text) {
        if (j) job_free(j);
        vx_job_set_error(err, VX_JOB_UNAVAILABLE, "overloaded", "out of memory");
        return NULL;
    }
    if (len0) memcpy(text, o->text, len0);
    text[len0] = 0;
    snprintf(j->voice_name, sizeof(j->voice_name), "%s", o->voice);
    j->text = text;
    j->text_len = len0;
    j->text_cap = len0 + 1;
    j->open = o->text_open != 0;
    if (j->open && o->text_len && vx_job_append_text(j, o->text, o->text_len, err)) {
        job_free(j);
        return NULL;
    }
    j->synth = o->synth;
    if (j->synth.loudness < 0) j->synth.loudness = s->cfg.loudness;
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

/*
 * speech.c — POST /v1/audio/speech: a request becomes a job; a worker prepares it (loads
 * the voice if needed, splits sentences) and synthesizes sentence 0 at once while the
 * other sentences go to the queue for the other workers. The loop writes sentences out
 * in order as they complete. A job outlives its request until every task it queued has
 * come back, so a disconnect never frees memory a worker still uses.
 *
 * Scheduling (pool.h): the queue runs earliest deadline first. A request's prepare task
 * (which runs sentence 0) is due at its arrival; sentence k >= 1 is due when a streaming
 * client has played sentences 0..k-1, estimated from their text (vx_speech_est_secs), or
 * at arrival when the response is not streamed. So a new request's first audio goes
 * ahead of the later sentences of older requests that are not due yet, and an overdue
 * sentence goes ahead of everything newer. Only the order changes: a queued task still
 * starts as soon as a worker is free.
 * Sentence 0 of a request that arrives while every worker is idle runs on all of the
 * workers' cores (the voice's inference threads) while the other workers wait: the first
 * audio comes in about half the time, and never more threads compute than there are
 * workers (the wide thread count is min(workers, usable cores), see server.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/wav.h"
#include "conn.h"

typedef struct vx_sent {
    vx_task node;
    vx_ctl ctl;
    vx_buf *audio;
    int rc;
    int ready;          /* loop: completion seen */
    int threads;        /* inference threads it ran on */
    double secs;
    char err[160];
} vx_sent;

struct vx_job {
    vx_server *srv;
    vx_job *prev, *next;
    pthread_mutex_t mu;            /* guards sents/n against cancel */
    atomic_int cancelled;
    atomic_int outstanding;        /* nodes queued or running, not yet seen by the loop */
    vx_speech_req sp;
    vx_voice_ent *voice;
    int prep_rc, prep_status;
    const char *prep_code;
    char err[256];
    vox_span *spans;
    size_t n;
    vx_sent *sents;
    size_t sents_cap;              /* pooled jobs keep their sentence array */
    vx_task prep_task;
    /* loop thread only */
    vx_req *req;
    size_t next_emit;
    size_t next_queue;             /* sentences [0, next_queue) have been queued */
    double t_start, deadline, synth_secs;
    size_t audio_bytes;
    int first_byte;
    vx_job *free_next;
};

/* Finished jobs are kept for reuse (bounded), so steady state allocates no job memory. */
#define VX_JOB_POOL_MAX 64

static vx_job *job_new(vx_server *s) {
    vx_job *j = s->job_free;
    if (j) {
        s->job_free = j->free_next;
        s->n_job_free--;
        vx_sent *keep = j->sents;
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

static void job_free(vx_job *j) {
    vx_server *s = j->srv;
    if (j->prev) j->prev->next = j->next;
    else s->jobs = j->next;
    if (j->next) j->next->prev = j->prev;
    s->n_jobs--;
    for (size_t i = 0; i < j->n; i++) {
        vx_buf_put(j->sents[i].audio);
        vx_ctl_destroy(&j->sents[i].ctl);
    }
    free(j->spans);
    vx_speech_free(&j->sp);
    pthread_mutex_destroy(&j->mu);
    if (s->n_job_free < VX_JOB_POOL_MAX) {
        j->free_next = s->job_free;
        s->job_free = j;
        s->n_job_free++;
    } else {
        free(j->sents);
        free(j);
    }
}

void vx_speech_pool_drain(vx_server *s) {
    while (s->job_free) {
        vx_job *j = s->job_free;
        s->job_free = j->free_next;
        free(j->sents);
        free(j);
    }
    s->n_job_free = 0;
}

static void job_cancel(vx_job *j) {
    pthread_mutex_lock(&j->mu);
    atomic_store(&j->cancelled, 1);
    for (size_t i = 0; i < j->n; i++) vx_ctl_cancel(&j->sents[i].ctl);
    pthread_mutex_unlock(&j->mu);
}

/* Unlink job and request; the job lives on until its outstanding tasks come back. */
static vx_req *job_take_req(vx_job *j) {
    vx_req *r = j->req;
    if (r) r->job = NULL;
    j->req = NULL;
    return r;
}

static void job_maybe_free(vx_job *j) {
    if (!j->req && atomic_load(&j->outstanding) == 0) job_free(j);
}

/* ------------------------------------------------------------ worker side */

double vx_speech_est_secs(const vx_speech_req *sp, const char *text, size_t len) {
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) chars += ((unsigned char)text[i] & 0xC0) != 0x80;
    double scale = sp->length_scale > 0 ? sp->length_scale : sp->speed > 0 ? 1.0 / sp->speed : 1;
    return (double)chars / VX_SPEECH_CHARS_PER_SEC * scale +
           (sp->sentence_silence > 0 ? sp->sentence_silence : 0);
}

static void run_sentence(vx_server *s, vx_job *j, size_t i, int threads) {
    vx_sent *st = &j->sents[i];
    double t0 = vx_now();
    if (atomic_load(&j->cancelled)) {
        st->rc = VOX_ERR_CANCELLED;
    } else {
        st->threads = threads;
        st->audio = vx_buf_get(&s->bufs);
        if (!st->audio) st->rc = VOX_ERR_NOMEM;
        else
            st->rc = s->backend.synth(j->voice->voice, j->sp.input + j->spans[i].offset,
                                     j->spans[i].length, &j->sp, threads, &st->ctl, st->audio,
                                     st->err, sizeof(st->err));
    }
    st->secs = vx_now() - t0;
    vx_sched_done(&s->sched, &st->node);
}

static int resolve_speaker(vx_server *s, vx_job *j) {
    const vx_voice_meta *m = &j->voice->meta;
    if (j->sp.speaker[0]) {
        for (int id = 0; id < m->num_speakers && id < 100000; id++) {
            const char *nm = s->backend.speaker_name(j->voice->voice, id);
            if (nm && !strcmp(nm, j->sp.speaker)) {
                j->sp.speaker_id = id;
                j->sp.speaker[0] = 0;
                return 0;
            }
        }
        snprintf(j->err, sizeof(j->err), "speaker '%.60s' not found in voice '%.60s'",
                 j->sp.speaker, m->name);
        return -1;
    }
    if (j->sp.speaker_id >= 0 && j->sp.speaker_id >= m->num_speakers) {
        snprintf(j->err, sizeof(j->err), "speaker id %d out of range (voice has %d)",
                 j->sp.speaker_id, m->num_speakers);
        return -1;
    }
    return 0;
}

static void run_prepare(vx_server *s, vx_job *j) {
    int rc = atomic_load(&j->cancelled) ? VOX_ERR_CANCELLED : VOX_OK;
    if (rc == VOX_OK) rc = vx_voices_get(&s->voices, j->sp.voice, &j->voice, j->err,
                                         sizeof(j->err));
    if (rc == VOX_OK && resolve_speaker(s, j)) {
        rc = VOX_ERR_ARG;
        j->prep_status = 400;
        j->prep_code = "speaker_not_found";
    }
    vox_span *spans = NULL;
    size_t n = 0, queued = 0;
    if (rc == VOX_OK)
        rc = s->backend.split(j->voice->voice, j->sp.input, j->sp.input_len, &spans, &n, j->err,
                             sizeof(j->err));
    if (rc == VOX_OK && n == 0) rc = VOX_ERR_EMPTY;
    if (rc == VOX_OK && n > j->sents_cap) {
        vx_sent *ns = realloc(j->sents, n * sizeof(*ns));
        if (!ns) rc = VOX_ERR_NOMEM;
        else {
            j->sents = ns;
            j->sents_cap = n;
        }
    }
    if (rc == VOX_OK) {
        memset(j->sents, 0, n * sizeof(*j->sents));
        /* Streamed, sentence i is due once sentences 0..i-1 have played; not streamed,
         * nothing reaches the client before the last sentence: all are due at once. */
        double due = j->t_start;
        for (size_t i = 0; i < n; i++) {
            vx_ctl_init(&j->sents[i].ctl);
            j->sents[i].node.kind = VX_TASK_SENTENCE;
            j->sents[i].node.idx = i;
            j->sents[i].node.job = j;
            j->sents[i].node.deadline = due;
            if (j->sp.stream)
                due += vx_speech_est_secs(&j->sp, j->sp.input + spans[i].offset, spans[i].length);
        }
        pthread_mutex_lock(&j->mu);
        if (atomic_load(&j->cancelled)) {
            rc = VOX_ERR_CANCELLED;
            for (size_t i = 0; i < n; i++) vx_ctl_destroy(&j->sents[i].ctl);
        } else {
            j->spans = spans;
            j->n = n;
            spans = NULL;
            /* At most `workers` sentences of one request are queued at a time; the loop
             * queues the next as each completes. Long inputs cannot crowd out others,
             * and audio far ahead of the writer is not piled up. */
            size_t win = (size_t)(s->cfg.workers > 0 ? s->cfg.workers : 1);
            j->next_queue = queued = n < win ? n : win;
            atomic_fetch_add(&j->outstanding, (int)queued);
        }
        pthread_mutex_unlock(&j->mu);
    }
    free(spans);
    j->prep_rc = rc;
    size_t n_now = rc == VOX_OK ? j->n : 0;
    /* Alone on the machine: sentence 0 takes every worker's core. Decided before this
     * request's own later sentences are queued, which then wait for it like all else. */
    int threads = 1;
    if (n_now && j->voice->meta.threads > 1 && vx_sched_try_exclusive(&s->sched))
        threads = j->voice->meta.threads;
    /* `queued`, not j->next_queue: once sentence 1 is queued it may complete, and the
     * loop then queues sentence `next_queue` and advances it, so re-reading it here
     * would queue that sentence a second time (a corrupt queue, a lost sentence, a 504). */
    for (size_t i = 1; i < queued; i++) vx_sched_push(&s->sched, &j->sents[i].node);
    vx_sched_done(&s->sched, &j->prep_task);
    /* Sentence 0 right here: the first audio does not wait behind the queue. */
    if (n_now) run_sentence(s, j, 0, threads);
    if (threads > 1) vx_sched_end_exclusive(&s->sched);
}

void vx_speech_worker(vx_sched *p, vx_task *n) {
    vx_server *s = p->ctx;
    if (n->kind == VX_TASK_LOAD) {
        vx_voice_ent *e;
        size_t i = n->idx;
        const char *name = i == 0 ? s->cfg.default_voice : s->cfg.preload[i - 1];
        s->load_rc[i] = vx_voices_get(&s->voices, name, &e, s->load_err[i],
                                      sizeof(s->load_err[i]));
        vx_sched_done(p, n);
    } else if (n->kind == VX_TASK_PREPARE) {
        run_prepare(s, n->job);
    } else {
        vx_job *j = n->job;
        run_sentence(s, j, n->idx, 1);
    }
}

/* ------------------------------------------------------------ loop side */

static void finish_error(vx_job *j, int status, const char *type, const char *code,
                         const char *msg) {
    vx_req *r = job_take_req(j);
    if (!r) return;
    if (r->head_sent) {
        vx_resp_abort(r);
        return;
    }
    vx_api_error e;
    vx_api_set_error(&e, status, type, code, NULL, "%s", msg);
    vx_resp_error(r, &e);
}

static void fail_rc(vx_job *j, int rc, const char *msg) {
    int st = 500;
    const char *code = "synthesis_failed", *type = "server_error";
    switch (rc) {
    case VOX_ERR_NOT_FOUND: st = 404; code = "voice_not_found"; type = "invalid_request_error"; break;
    case VOX_ERR_EMPTY: st = 400; code = "empty_input"; type = "invalid_request_error"; break;
    case VOX_ERR_UTF8: case VOX_ERR_TOO_LONG: case VOX_ERR_ARG:
        st = 400; code = "invalid_value"; type = "invalid_request_error"; break;
    case VOX_ERR_NOMEM: st = 503; code = "overloaded"; break;
    case VOX_ERR_MODEL: case VOX_ERR_CONFIG: case VOX_ERR_IO: code = "voice_load_failed"; break;
    case VOX_ERR_UNSUPPORTED: st = 501; code = "not_supported"; break;
    default: break;
    }
    char buf[300];
    snprintf(buf, sizeof(buf), "%s", msg && *msg ? msg : vox_strerror(rc));
    finish_error(j, st, type, code, buf);
}

static void content_headers(vx_job *j, vx_hdr *h, int *nh, char *rate) {
    snprintf(rate, 16, "%d", j->voice->meta.sample_rate);
    h[(*nh)++] = (vx_hdr){"content-type", j->sp.format == VX_FMT_WAV ? "audio/wav" : "audio/pcm"};
    h[(*nh)++] = (vx_hdr){"x-sample-rate", rate};
    h[(*nh)++] = (vx_hdr){"cache-control", "no-store"};
}

static void on_prepared(vx_server *s, vx_job *j) {
    vx_req *r = j->req;
    if (!r) return;
    if (j->prep_rc != VOX_OK) {
        if (j->prep_status)
            finish_error(j, j->prep_status, "invalid_request_error", j->prep_code, j->err);
        else
            fail_rc(j, j->prep_rc, j->err);
        return;
    }
    if (!j->sp.stream) return;
    vx_hdr h[4];
    int nh = 0;
    char rate[16];
    content_headers(j, h, &nh, rate);
    vx_resp_start(r, 200, h, nh, -1);
    if (j->sp.format == VX_FMT_WAV) {
        uint8_t wh[44];
        vx_wav_header(wh, j->voice->meta.sample_rate, UINT64_MAX); /* streaming sizes */
        vx_resp_body(r, wh, sizeof(wh));
    }
}

static void observe_first_byte(vx_server *s, vx_job *j) {
    if (j->first_byte) return;
    j->first_byte = 1;
    vx_hist_observe(&s->metrics.ttfb, vx_now() - j->t_start);
}

static void complete(vx_server *s, vx_job *j) {
    vx_req *r = j->req;
    if (!j->sp.stream) {
        vx_hdr h[4];
        int nh = 0;
        char rate[16];
        content_headers(j, h, &nh, rate);
        int wav = j->sp.format == VX_FMT_WAV;
        vx_resp_start(r, 200, h, nh, (long long)j->audio_bytes + (wav ? 44 : 0));
        if (wav) {
            uint8_t wh[44];
            vx_wav_header(wh, j->voice->meta.sample_rate, j->audio_bytes / 2);
            vx_resp_body(r, wh, sizeof(wh));
        }
        observe_first_byte(s, j);
        for (size_t i = 0; i < j->n; i++) {
            vx_resp_body(r, j->sents[i].audio->data, j->sents[i].audio->len);
            vx_buf_put(j->sents[i].audio);
            j->sents[i].audio = NULL;
        }
    }
    double audio_s = (double)j->audio_bytes / 2.0 / j->voice->meta.sample_rate;
    s->metrics.audio_seconds += audio_s;
    if (audio_s > 0) vx_hist_observe(&s->metrics.rtf, j->synth_secs / audio_s);
    vx_hist_observe(&s->metrics.latency, vx_now() - j->t_start);
    job_take_req(j);
    vx_resp_end(r); /* may start the next pipelined request: r is gone after this */
}

static void emit(vx_server *s, vx_job *j) {
    vx_req *r = j->req;
    if (!r) return;
    while (j->next_emit < j->n && j->sents[j->next_emit].ready) {
        vx_sent *st = &j->sents[j->next_emit];
        if (st->rc != VOX_OK) {
            job_cancel(j);
            fail_rc(j, st->rc, st->err);
            return;
        }
        j->audio_bytes += st->audio->len;
        if (j->sp.stream) {
            observe_first_byte(s, j);
            vx_resp_body(r, st->audio->data, st->audio->len);
            vx_buf_put(st->audio);
            st->audio = NULL;
        }
        j->next_emit++;
    }
    if (j->next_emit == j->n) complete(s, j);
}

void vx_speech_on_done(vx_server *s, vx_task *n) {
    vx_job *j = n->job;
    atomic_fetch_sub(&j->outstanding, 1);
    if (n->kind == VX_TASK_PREPARE) {
        on_prepared(s, j);
    } else {
        vx_sent *st = &j->sents[n->idx];
        st->ready = 1;
        s->metrics.synth_seconds += st->secs;
        if (st->threads > 1) s->metrics.wide_sentences++;
        j->synth_secs += st->secs;
        if (!atomic_load(&j->cancelled) && j->next_queue < j->n) {
            atomic_fetch_add(&j->outstanding, 1);
            vx_sched_push(&s->sched, &j->sents[j->next_queue++].node);
        }
        /* emit only once prepared: the prepare completion is always handed back first */
        emit(s, j);
    }
    job_maybe_free(j);
}

void vx_speech_detach(vx_req *r) {
    vx_job *j = r->job;
    if (!j) return;
    job_take_req(j);
    job_cancel(j);
    j->srv->metrics.cancelled++;
    job_maybe_free(j);
}

void vx_speech_sweep(vx_server *s, double now) {
    vx_job *j = s->jobs;
    while (j) {
        vx_job *next = j->next;
        if (j->req && now > j->deadline) {
            s->metrics.timeouts++;
            job_cancel(j);
            finish_error(j, 504, "server_error", "timeout", "synthesis timed out");
            job_maybe_free(j);
        }
        j = next;
    }
}

void vx_speech_start(vx_server *s, vx_req *r) {
    vx_api_error e;
    vx_speech_req sp;
    const char *body = r->body ? r->body->data : "";
    size_t len = r->body ? r->body->len : 0;
    if (vx_speech_parse(body ? body : "", len, &s->api, &sp, &e)) {
        vx_resp_error(r, &e);
        return;
    }
    if (s->draining) {
        vx_speech_free(&sp);
        vx_api_set_error(&e, 503, "server_error", "shutting_down", NULL, "server is shutting down");
        vx_resp_error(r, &e);
        return;
    }
    if (s->n_jobs >= s->cfg.queue) {
        vx_speech_free(&sp);
        s->metrics.rejected_429++;
        vx_api_set_error(&e, 429, "rate_limit_error", "queue_full",
                         NULL, "server busy: %d speech requests in progress; retry shortly",
                         s->n_jobs);
        char *js = vx_api_error_json(&e);
        vx_hdr h[1] = {{"retry-after", "1"}};
        vx_resp_simple(r, 429, "application/json", js, js ? strlen(js) : 0, h, 1);
        free(js);
        return;
    }
    vx_job *j = job_new(s);
    if (!j) {
        vx_speech_free(&sp);
        vx_api_set_error(&e, 503, "server_error", "overloaded", NULL, "out of memory");
        vx_resp_error(r, &e);
        return;
    }
    j->sp = sp;
    j->req = r;
    r->job = j;
    j->t_start = r->t_start;
    j->deadline = r->t_start + s->cfg.timeout;
    j->prep_task.kind = VX_TASK_PREPARE;
    j->prep_task.job = j;
    j->prep_task.deadline = j->t_start; /* its sentence 0 is due now */
    atomic_store(&j->outstanding, 1);
    vx_sched_push(&s->sched, &j->prep_task);
}

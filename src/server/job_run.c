/* job_run.c — the worker side of speech jobs (job.c has the design): prepare (voice,
 * speaker, lexicon, sentence split), one sentence's synthesis, an open job's split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_int.h"

double vx_job_est_secs(const vx_synth_params *p, const char *text, size_t len) {
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) chars += ((unsigned char)text[i] & 0xC0) != 0x80;
    double scale = p->length_scale > 0 ? p->length_scale : p->speed > 0 ? 1.0 / p->speed : 1;
    return (double)chars / VX_JOB_CHARS_PER_SEC * scale +
           (p->sentence_silence > 0 ? p->sentence_silence : 0);
}

/* The backend's sink: each chunk joins the sentence's untaken audio. A streamed job's loop
 * hears of it (one progress note in the completion list at a time) and sends it on while
 * the rest of the sentence is still being made. */
static int sent_write(void *arg, const int16_t *pcm, size_t n, int last) {
    vx_sent *st = arg;
    vx_job *j = st->task.job;
    pthread_mutex_lock(&j->mu);
    int rc = vx_buf_append(st->audio, pcm, n * 2);
    int post = !rc && j->stream && !last && !st->progress_sent; /* last: completion follows */
    if (post) {
        st->progress_sent = 1;
        atomic_fetch_add(&j->outstanding, 1); /* the job outlives the note */
    }
    pthread_mutex_unlock(&j->mu);
    if (post) vx_sched_done(&j->srv->sched, &st->progress);
    return rc;
}

static void run_sentence(vx_server *s, vx_job *j, vx_sent *st, int threads) {
    double t0 = vx_now();
    if (atomic_load(&j->cancelled)) {
        st->rc = VOX_ERR_CANCELLED;
    } else {
        st->threads = threads;
        vx_buf *b = vx_buf_get(&s->bufs);
        pthread_mutex_lock(&j->mu); /* a streamed job's loop may look for audio already */
        st->audio = b;
        pthread_mutex_unlock(&j->mu);
        if (!b)
            st->rc = VOX_ERR_NOMEM;
        else {
            /* A sentence streams from a small first window only when a listener waits
             * for it: streamed and due now (a job's first sentence; a later one only when
             * synthesis has fallen behind playback). The sentences made ahead of playback
             * run in the largest windows (VOX_CHUNK_FRAMES_MAX frames): with the split's
             * cuts these cost no more than a one-shot run (bench/stream.sh: 0.93-1.07x at
             * 200-2,000 ids) and keep a worker's frame-level tensors to one window's
             * whatever the sentence's length (medium, 800 ids: 159 MB peak instead of
             * 574); the audio is the same bits. An int8 voice quantizes per window: it
             * keeps the request's schedule, so its audio does not depend on timing (and
             * equals the CLI's). */
            vx_synth_params sp = j->synth;
            if (j->voice->meta.windows_exact && (!j->stream || st->task.deadline > t0))
                sp.chunk_frames = VOX_CHUNK_FRAMES_MAX;
            vx_sink out = {sent_write, st};
            st->rc = s->backend.synth(j->voice->voice, st->txt, st->len, &sp, threads, &st->ctl,
                                      &out, st->err, sizeof(st->err));
        }
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
        vx_sent_tasks_init(st, j, i);
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
    if (rc == VOX_OK && !j->synth.lexicon) j->synth.lexicon = vx_lexicons_for(s, j->voice_name);
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
    if (rc == VOX_OK && vx_job_ensure_sents(j, n)) rc = VOX_ERR_NOMEM;
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

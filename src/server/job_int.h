/* job_int.h — what job.c (life, delivery, submit), job_run.c (the worker side) and
 * job_text.c (text in pieces) share: the job and sentence structs and the loop-side
 * steps the others call. Private to those three files. */
#ifndef VX_JOB_INT_H
#define VX_JOB_INT_H
#include "audio_out.h"
#include "state.h"

#define VX_JOB_POOL_MAX 64 /* finished jobs kept for reuse */
/* open jobs: an unfinished tail up to this many bytes is re-split on every piece */
#define VX_JOB_TAIL_EAGER 512

typedef struct vx_sent {
    vx_task task;
    vx_ctl ctl;
    /* Audio made and not yet taken by the loop. The worker appends chunks as they are made;
     * a streamed job's loop takes them as they come (under j->mu) while the sentence is
     * still being made, so this holds the untaken part only; the rest is the worker's
     * until its completion. */
    vx_buf *audio;
    vx_task progress;  /* posted to the loop when new audio arrives (streamed jobs) */
    int progress_sent; /* j->mu: progress is in the completion list */
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
static inline vx_sent *sent_of(vx_task *t) {
    if (t->kind == VX_TASK_PROGRESS) return (vx_sent *)((char *)t - offsetof(vx_sent, progress));
    return (vx_sent *)((char *)t - offsetof(vx_sent, task));
}

/* Sentence i's tasks (its synthesis and its progress notes), on a zeroed st. */
static inline void vx_sent_tasks_init(vx_sent *st, vx_job *j, size_t i) {
    st->task.kind = VX_TASK_SENTENCE;
    st->task.idx = i;
    st->task.job = j;
    st->progress.kind = VX_TASK_PROGRESS;
    st->progress.idx = i;
    st->progress.job = j;
}

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
    vx_buf *part;  /* loop: a streamed sentence's audio taken while it is being made */
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

/* job.c: life and delivery (loop thread, except ensure_sents: the preparing worker) */
int vx_job_ensure_sents(vx_job *j, size_t n);
void vx_job_maybe_free(vx_job *j);
int vx_job_set_error(vx_job_error *e, vx_job_status st, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void vx_job_fail(vx_job *j, vx_job_status st, const char *code, const char *msg);
void vx_job_fail_rc(vx_job *j, int rc, const char *msg);
void vx_job_queue_fill(vx_server *s, vx_job *j);
void vx_job_emit(vx_server *s, vx_job *j);
/* job_text.c: an open job's text and split, on the loop */
int vx_job_append_text(vx_job *j, const char *text, size_t len, vx_job_error *err);
void vx_job_kick_split(vx_server *s, vx_job *j);
void vx_job_on_split(vx_server *s, vx_job *j);
#endif

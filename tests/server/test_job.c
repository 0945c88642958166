/* Unit tests of the speech-job interface (src/server/job.h), driven the way a front end
 * drives it, with no HTTP: event order (on_start, audio in order, on_end last, nothing
 * after), streamed and whole delivery with exact sizes, WAV headers, errors before any
 * audio, cancel (also from inside a callback), deadlines, admission. The synthesis is the
 * deterministic stub backend: 10 ms of 16 kHz audio (320 bytes) per input byte. */
#include <string.h>

#include "audio/wav.h"
#include "job.h"
#include "state.h"
#include "test.h"

#define MAXEV 64

typedef struct rec {
    char ev[MAXEV]; /* 's' start, 'a' audio, 'e' end, in order */
    int n;
    vx_job_info info;
    size_t bytes, first_len;
    unsigned char first[44];
    vx_job_error end;
    int cancel_after_audio; /* call vx_job_cancel from inside on_audio */
    int pause_after_audio;  /* call vx_job_pause from inside on_audio */
    vx_job *job;
} rec;

static void ev_start(void *u, const vx_job_info *in) {
    rec *r = u;
    if (r->n < MAXEV) r->ev[r->n++] = 's';
    r->info = *in;
}

static void ev_audio(void *u, const void *p, size_t n) {
    rec *r = u;
    if (r->n < MAXEV) r->ev[r->n++] = 'a';
    if (!r->bytes) {
        r->first_len = n;
        memcpy(r->first, p, n < 44 ? n : 44);
    }
    r->bytes += n;
    if (r->pause_after_audio) vx_job_pause(r->job);
    if (r->cancel_after_audio) {
        vx_job_cancel(r->job);
        r->job = NULL;
    }
}

static void ev_end(void *u, const vx_job_error *e) {
    rec *r = u;
    if (r->n < MAXEV) r->ev[r->n++] = 'e';
    r->end = *e;
    r->job = NULL;
}

static const vx_job_events EV = {ev_start, ev_audio, ev_end, NULL};

static vx_server *S;
static uv_loop_t loop;
static uv_timer_t sweep;

static void on_async(uv_async_t *h) {
    for (vx_task *t = vx_sched_take_done(&S->sched), *next; t; t = next) {
        next = t->next;
        vx_job_on_done(S, t);
    }
}

static void on_sweep(uv_timer_t *t) { vx_job_sweep(S, vx_now()); }
static void run_task(vx_sched *p, vx_task *t) { vx_job_run(p->ctx, t); }

/* The loop until every job is gone (or 10 s). */
static void drain(void) {
    double end = vx_now() + 10;
    while (S->n_jobs > 0 && vx_now() < end) uv_run(&loop, UV_RUN_ONCE);
}

static vx_job *submit(rec *r, const char *text, int stream, vx_audio_format fmt) {
    memset(r, 0, sizeof(*r));
    vx_job_opts o;
    vx_job_opts_init(&o);
    o.voice = "espeak:a";
    o.text = text;
    o.text_len = strlen(text);
    o.stream = stream;
    o.format = fmt;
    return r->job = vx_job_submit(S, &o, &EV, r, &r->end);
}

static const char *TEXT = "One two. Three four five! Six?"; /* 3 sentences, 28 bytes */

static void test_streamed(void) {
    rec r;
    CHECK(submit(&r, TEXT, 1, VX_AUDIO_PCM) != NULL);
    CHECK_EQ_INT(r.n, 0); /* nothing from inside submit */
    drain();
    CHECK(!strcmp(r.ev, "saaae"));
    CHECK_EQ_INT(r.end.status, VX_JOB_OK);
    CHECK_EQ_INT(r.info.sample_rate, 16000);
    CHECK_EQ_INT(r.info.channels, 1);
    CHECK_EQ_INT(r.info.bits, 16);
    CHECK_EQ_INT((int)r.info.n_sentences, 3);
    CHECK_EQ_INT((int)r.info.total_bytes, -1);
    CHECK(r.info.mime && !strcmp(r.info.mime, "audio/pcm"));
    CHECK_EQ_INT((int)r.bytes, 28 * 320);
    CHECK_EQ_INT((int)r.first_len, 8 * 320); /* "One two." first: in order */
}

static void test_whole_wav(void) {
    rec r;
    CHECK(submit(&r, TEXT, 0, VX_AUDIO_WAV) != NULL);
    drain();
    CHECK(!strcmp(r.ev, "sae")); /* not streamed: encoded whole, one delivery */
    CHECK_EQ_INT(r.end.status, VX_JOB_OK);
    CHECK(r.info.mime && !strcmp(r.info.mime, "audio/wav"));
    CHECK_EQ_INT((int)r.info.total_bytes, 44 + 28 * 320);
    CHECK_EQ_INT((int)r.bytes, 44 + 28 * 320);
    CHECK_EQ_INT((int)r.first_len, 44 + 28 * 320);
    unsigned char want[44];
    vx_wav_header(want, 16000, 28 * 160);
    CHECK(!memcmp(r.first, want, 44));
    /* streamed WAV: the header says "until the end of the stream" */
    CHECK(submit(&r, TEXT, 1, VX_AUDIO_WAV) != NULL);
    drain();
    vx_wav_header(want, 16000, UINT64_MAX);
    CHECK(!memcmp(r.first, want, 44));
    CHECK(!strcmp(r.ev, "saaaae"));
}

static void test_errors(void) {
    rec r;
    vx_job_opts o;
    CHECK(submit(&r, "Hi.", 1, VX_AUDIO_PCM));
    drain();
    CHECK_EQ_INT(r.end.status, VX_JOB_OK);
    /* no such voice (the stub knows only stub:* and espeak:*): an error, no start */
    memset(&r, 0, sizeof(r));
    vx_job_opts_init(&o);
    o.voice = "nope";
    o.text = "Hi.";
    o.text_len = 3;
    CHECK((r.job = vx_job_submit(S, &o, &EV, &r, &r.end)) != NULL);
    drain();
    CHECK(!strcmp(r.ev, "e"));
    CHECK_EQ_INT(r.end.status, VX_JOB_NOT_FOUND);
    CHECK(r.end.code && !strcmp(r.end.code, "voice_not_found"));
    /* unknown speaker */
    memset(&r, 0, sizeof(r));
    o.voice = "espeak:a";
    snprintf(o.synth.speaker, sizeof(o.synth.speaker), "nobody");
    CHECK((r.job = vx_job_submit(S, &o, &EV, &r, &r.end)) != NULL);
    drain();
    CHECK(!strcmp(r.ev, "e"));
    CHECK_EQ_INT(r.end.status, VX_JOB_INVALID);
    CHECK(r.end.code && !strcmp(r.end.code, "speaker_not_found"));
    /* a rate out of bounds, or one mp3 does not have: refused at submit */
    memset(&r, 0, sizeof(r));
    o.synth.speaker[0] = 0;
    o.sample_rate = 7999;
    CHECK(vx_job_submit(S, &o, &EV, &r, &r.end) == NULL);
    CHECK_EQ_INT(r.end.status, VX_JOB_INVALID);
    o.sample_rate = 20000;
    o.format = VX_AUDIO_MP3;
    CHECK(vx_job_submit(S, &o, &EV, &r, &r.end) == NULL);
    CHECK_EQ_INT(r.end.status, VX_JOB_INVALID);
    CHECK(strstr(r.end.message, "20000") != NULL);
    o.format = VX_AUDIO_PCM;
    /* another rate: resampled (the stub speaks at 16 kHz) */
    memset(&r, 0, sizeof(r));
    o.sample_rate = 24000;
    CHECK((r.job = vx_job_submit(S, &o, &EV, &r, &r.end)) != NULL);
    drain();
    CHECK_EQ_INT(r.end.status, VX_JOB_OK);
    CHECK_EQ_INT(r.info.sample_rate, 24000);
    CHECK_EQ_INT((int)r.bytes, 3 * 320 * 3 / 2); /* "Hi." 3 bytes of stub audio, x1.5 */
    CHECK_NEAR(r.end.audio_seconds, 3 * 160 / 16000.0, 1e-9);
    /* nothing to speak */
    CHECK(submit(&r, "   ", 1, VX_AUDIO_PCM));
    drain();
    CHECK(!strcmp(r.ev, "e"));
    CHECK_EQ_INT(r.end.status, VX_JOB_INVALID);
    CHECK(r.end.code && !strcmp(r.end.code, "empty_input"));
    /* refused at submit: invalid UTF-8, a voice name that could be a path */
    CHECK(submit(&r, "\xc0\xaf", 1, VX_AUDIO_PCM) == NULL);
    CHECK_EQ_INT(r.end.status, VX_JOB_INVALID);
    o.sample_rate = 0;
    o.voice = "../etc/passwd";
    CHECK(vx_job_submit(S, &o, &EV, &r, &r.end) == NULL);
    CHECK_EQ_INT(r.end.status, VX_JOB_NOT_FOUND);
    CHECK_EQ_INT(S->n_jobs, 0);
}

static void test_cancel(void) {
    S->backend.stub_delay_ms = 100;
    rec r;
    uint64_t before = S->metrics.cancelled;
    vx_job *j = submit(&r, TEXT, 1, VX_AUDIO_PCM);
    CHECK(j != NULL);
    vx_job_cancel(j);
    drain();
    CHECK_EQ_INT(r.n, 0); /* not a single event after cancel */
    CHECK_EQ_INT(S->n_jobs, 0);
    CHECK_EQ_INT((int)(S->metrics.cancelled - before), 1);
    /* cancel from inside on_audio: the first sentence arrives, then nothing */
    CHECK(submit(&r, TEXT, 1, VX_AUDIO_PCM));
    r.cancel_after_audio = 1;
    drain();
    CHECK(!strcmp(r.ev, "sa"));
    CHECK_EQ_INT(S->n_jobs, 0);
    S->backend.stub_delay_ms = 0;
}

/* Flow control: paused from inside on_audio, nothing more is delivered and no more than
 * the window (2 workers) of sentences is made; resume delivers the rest in order. */
static void test_pause(void) {
    static const char *SIX = "A. B. C. D. E. F."; /* 6 sentences */
    rec r;
    vx_job *j = submit(&r, SIX, 1, VX_AUDIO_PCM);
    CHECK(j != NULL);
    r.job = j;
    r.pause_after_audio = 1;
    double end = vx_now() + 0.5;
    while (vx_now() < end) uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(!strcmp(r.ev, "sa")); /* one sentence, then held */
    CHECK(vx_job_paused(j));
    CHECK_EQ_INT(S->n_jobs, 1);
    /* the window is not refilled while paused: nothing is queued */
    CHECK_EQ_INT(atomic_load(&S->sched.depth), 0);
    r.pause_after_audio = 0;
    vx_job_resume(j);
    drain();
    CHECK(!strcmp(r.ev, "saaaaaae"));
    CHECK_EQ_INT(r.end.status, VX_JOB_OK);
    CHECK_EQ_INT((int)r.bytes, 12 * 320); /* "A." x 6, 2 bytes each after the split */
    /* pause before any audio, resume from outside: same bytes */
    j = submit(&r, SIX, 1, VX_AUDIO_PCM);
    r.job = j;
    vx_job_pause(j);
    end = vx_now() + 0.3;
    while (vx_now() < end) uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(!strchr(r.ev, 'a'));
    CHECK_EQ_INT(S->n_jobs, 1);
    vx_job_resume(j);
    vx_job_resume(j); /* idempotent */
    drain();
    CHECK_EQ_INT(r.end.status, VX_JOB_OK);
    CHECK_EQ_INT((int)r.bytes, 12 * 320);
    CHECK_EQ_INT(S->n_jobs, 0);
}

static void test_deadline(void) {
    S->backend.stub_delay_ms = 400;
    rec r;
    memset(&r, 0, sizeof(r));
    vx_job_opts o;
    vx_job_opts_init(&o);
    o.voice = "espeak:a";
    o.text = TEXT;
    o.text_len = strlen(TEXT);
    o.stream = 1;
    o.deadline = vx_now() + 0.1;
    CHECK((r.job = vx_job_submit(S, &o, &EV, &r, &r.end)) != NULL);
    drain();
    CHECK_EQ_INT(r.end.status, VX_JOB_TIMEOUT);
    CHECK(r.n >= 1 && r.ev[r.n - 1] == 'e');
    CHECK(!strchr(r.ev, 'a')); /* no sentence was done in 0.1 s */
    S->backend.stub_delay_ms = 0;
}

static void test_admission(void) {
    S->backend.stub_delay_ms = 50;
    rec r[3];
    CHECK(submit(&r[0], "A.", 1, VX_AUDIO_PCM) != NULL);
    CHECK(submit(&r[1], "B.", 1, VX_AUDIO_PCM) != NULL);
    CHECK(submit(&r[2], "C.", 1, VX_AUDIO_PCM) == NULL); /* --queue 2 */
    CHECK_EQ_INT(r[2].end.status, VX_JOB_BUSY);
    CHECK(r[2].end.code && !strcmp(r[2].end.code, "queue_full"));
    drain();
    CHECK_EQ_INT(r[0].end.status, VX_JOB_OK);
    CHECK_EQ_INT(r[1].end.status, VX_JOB_OK);
    S->draining = 1;
    CHECK(submit(&r[2], "C.", 1, VX_AUDIO_PCM) == NULL);
    CHECK_EQ_INT(r[2].end.status, VX_JOB_UNAVAILABLE);
    S->draining = 0;
    S->backend.stub_delay_ms = 0;
}

/* ------------------------------------------------------------ text in pieces */

typedef struct srec {
    rec r;                   /* first: the rec callbacks see a srec as a rec */
    size_t off[16], len[16]; /* on_sentence_end spans, by index */
    size_t sent_bytes[16];   /* audio bytes of each sentence */
    size_t n_sent, bytes_at_last;
    int bad_index; /* an index out of order */
} srec;

static void ev_sentence_end(void *u, size_t index, size_t offset, size_t length) {
    srec *q = u;
    if (q->r.n < MAXEV) q->r.ev[q->r.n++] = 'n';
    if (index != q->n_sent || index >= 16) {
        q->bad_index = 1;
        return;
    }
    q->off[index] = offset;
    q->len[index] = length;
    q->sent_bytes[index] = q->r.bytes - q->bytes_at_last;
    q->bytes_at_last = q->r.bytes;
    q->n_sent++;
}

static const vx_job_events EVS = {ev_start, ev_audio, ev_end, ev_sentence_end};

static vx_job *submit_open(srec *q, const char *first) {
    memset(q, 0, sizeof(*q));
    vx_job_opts o;
    vx_job_opts_init(&o);
    o.voice = "espeak:a";
    o.text = first;
    o.text_len = first ? strlen(first) : 0;
    o.text_open = 1;
    return q->r.job = vx_job_submit(S, &o, &EVS, q, &q->r.end);
}

static int append(srec *q, const char *piece) {
    vx_job_error e;
    int rc = vx_job_append(q->r.job, piece, strlen(piece), &e);
    if (rc) q->r.end = e;
    return rc;
}

/* Run the loop for up to `secs`, until `c` appears in the event string. */
static int run_until(rec *r, char c, double secs) {
    double end = vx_now() + secs;
    while (!memchr(r->ev, c, (size_t)r->n) && vx_now() < end) uv_run(&loop, UV_RUN_NOWAIT);
    return memchr(r->ev, c, (size_t)r->n) != NULL;
}

/* Split mid-sentence and mid-word: the same sentences as the whole text, each spoken as
 * soon as a later one has begun, the first before the text is closed. */
static void test_open_pieces(void) {
    srec q;
    CHECK(submit_open(&q, "") != NULL);
    CHECK_EQ_INT(append(&q, "One tw"), 0);
    CHECK_EQ_INT(append(&q, "o. Thr"), 0); /* sentence 0 complete: "Thr" began */
    CHECK(run_until(&q.r, 'n', 2));
    CHECK(!strcmp(q.r.ev, "san"));               /* spoken before the close */
    CHECK_EQ_INT((int)q.sent_bytes[0], 8 * 320); /* "One two." */
    CHECK_EQ_INT(append(&q, "ee four five"), 0);
    CHECK(!run_until(&q.r, 'e', 0.2)); /* "Three four five" may go on: held */
    CHECK_EQ_INT((int)q.n_sent, 1);
    CHECK_EQ_INT(append(&q, "! Si"), 0);
    CHECK_EQ_INT(append(&q, "x?"), 0);
    vx_job_close(q.r.job);
    drain();
    CHECK(!strcmp(q.r.ev, "sananane"));
    CHECK_EQ_INT(q.r.end.status, VX_JOB_OK);
    CHECK(!q.bad_index);
    CHECK_EQ_INT((int)q.n_sent, 3);
    /* the spans of the whole text's split, in the whole text */
    static const size_t want_off[3] = {0, 9, 26}, want_len[3] = {8, 16, 4};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT((int)q.off[i], (int)want_off[i]);
        CHECK_EQ_INT((int)q.len[i], (int)want_len[i]);
        CHECK_EQ_INT((int)q.sent_bytes[i], (int)want_len[i] * 320);
    }
    CHECK_EQ_INT((int)q.r.bytes, 28 * 320); /* as the whole text makes */
    CHECK_EQ_INT(q.r.info.sample_rate, 16000);
    /* the same text whole, streamed: the same sentence events */
    srec w;
    memset(&w, 0, sizeof(w));
    vx_job_opts o;
    vx_job_opts_init(&o);
    o.voice = "espeak:a";
    o.text = TEXT;
    o.text_len = strlen(TEXT);
    o.stream = 1;
    CHECK((w.r.job = vx_job_submit(S, &o, &EVS, &w, &w.r.end)) != NULL);
    drain();
    CHECK(!strcmp(w.r.ev, "sananane"));
    for (int i = 0; i < 3; i++) CHECK_EQ_INT((int)w.off[i], (int)q.off[i]);
    /* whole and not streamed: one delivery, then every sentence's end */
    o.stream = 0;
    memset(&w, 0, sizeof(w));
    CHECK((w.r.job = vx_job_submit(S, &o, &EVS, &w, &w.r.end)) != NULL);
    drain();
    CHECK(!strcmp(w.r.ev, "sannne"));
    /* one byte at a time, the first piece in opts.text: the same result */
    CHECK(submit_open(&q, "O") != NULL);
    for (const char *p = TEXT + 1; *p; p++) {
        char b[2] = {*p, 0};
        CHECK_EQ_INT(append(&q, b), 0);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    vx_job_close(q.r.job);
    drain();
    CHECK(!strcmp(q.r.ev, "sananane"));
    CHECK_EQ_INT((int)q.r.bytes, 28 * 320);
    for (int i = 0; i < 3; i++) CHECK_EQ_INT((int)q.off[i], (int)want_off[i]);
    /* the close with no new text since the last split: its tail is the last sentence */
    CHECK(submit_open(&q, "Ab. Cd") != NULL);
    CHECK(run_until(&q.r, 'n', 2));
    double t = vx_now() + 0.05;
    while (vx_now() < t) uv_run(&loop, UV_RUN_NOWAIT); /* the tail's split is in */
    vx_job_close(q.r.job);
    drain();
    CHECK(!strcmp(q.r.ev, "sanane"));
    CHECK_EQ_INT((int)q.off[1], 4);
    CHECK_EQ_INT((int)q.len[1], 2);
}

/* Text without sentence ends, a byte at a time: the splits stay linear in the text
 * (a long unfinished tail is split again only once it grew by a quarter). */
static atomic_size_t split_calls, split_bytes;
static int (*stub_split)(void *, const char *, size_t, vox_span **, size_t *, char *, size_t);
static int counting_split(void *v, const char *t, size_t n, vox_span **sp, size_t *k, char *err,
                          size_t errlen) {
    atomic_fetch_add(&split_calls, 1);
    atomic_fetch_add(&split_bytes, n);
    return stub_split(v, t, n, sp, k, err, errlen);
}

static void test_open_long_tail(void) {
    stub_split = S->backend.split;
    S->backend.split = counting_split;
    srec q;
    CHECK(submit_open(&q, "") != NULL);
    int refused = 0;
    for (int i = 0; i < 3000; i++) {
        refused += append(&q, "a") != 0;
        uv_run(&loop, UV_RUN_NOWAIT); /* splits complete as pieces come */
    }
    CHECK_EQ_INT(refused, 0);
    CHECK_EQ_INT(append(&q, ". Next."), 0);
    vx_job_close(q.r.job);
    drain();
    CHECK_EQ_INT(q.r.end.status, VX_JOB_OK);
    CHECK_EQ_INT((int)q.n_sent, 2);
    CHECK_EQ_INT((int)q.len[0], 3001);
    size_t calls = atomic_load(&split_calls), bytes = atomic_load(&split_bytes);
    printf("long tail: %zu splits over %zu bytes for 3007 bytes of text\n", calls, bytes);
    /* without the growth rule this run splits about 400 kB (measured: 411 kB; every
     * piece split in full would be 4.5 MB); with it, about 25 kB */
    CHECK(bytes < 150000);
    S->backend.split = stub_split;
}

static void test_open_utf8_and_limits(void) {
    srec q;
    /* a piece ends inside "é" (C3 A9): the rest comes next */
    CHECK(submit_open(&q, "Caf\xc3") != NULL);
    CHECK_EQ_INT(append(&q, "\xa9 ok. N"), 0);
    CHECK_EQ_INT(append(&q, "ext."), 0);
    vx_job_close(q.r.job);
    drain();
    CHECK_EQ_INT(q.r.end.status, VX_JOB_OK);
    CHECK(!strcmp(q.r.ev, "sanane"));
    CHECK_EQ_INT((int)q.len[0], 9); /* "Café ok." is 9 bytes */
    CHECK_EQ_INT((int)q.r.bytes, (9 + 5) * 320);
    /* bad bytes: refused, and the job goes on as it was */
    CHECK(submit_open(&q, "Hi. ") != NULL);
    CHECK_EQ_INT(append(&q, "\xff"), -1);
    CHECK_EQ_INT(q.r.end.status, VX_JOB_INVALID);
    CHECK_EQ_INT(append(&q, "\xc3\x28"), -1); /* a lead byte, then no continuation */
    CHECK_EQ_INT(append(&q, "Yo."), 0);
    vx_job_close(q.r.job);
    drain();
    CHECK_EQ_INT(q.r.end.status, VX_JOB_OK);
    CHECK_EQ_INT((int)q.r.bytes, 6 * 320);
    /* closed inside a code point */
    CHECK(submit_open(&q, "Hi. \xe2\x82") != NULL);
    vx_job_close(q.r.job);
    drain();
    CHECK_EQ_INT(q.r.end.status, VX_JOB_INVALID);
    CHECK(!strchr(q.r.ev, 's'));
    /* empty, or nothing to speak, then closed: a clean error, nothing was sent */
    CHECK(submit_open(&q, NULL) != NULL);
    vx_job_close(q.r.job);
    drain();
    CHECK(!strcmp(q.r.ev, "e"));
    CHECK_EQ_INT(q.r.end.status, VX_JOB_INVALID);
    CHECK(q.r.end.code && !strcmp(q.r.end.code, "empty_input"));
    CHECK(submit_open(&q, "   ") != NULL);
    CHECK_EQ_INT(append(&q, "  "), 0);
    vx_job_close(q.r.job);
    drain();
    CHECK(!strcmp(q.r.ev, "e"));
    CHECK(q.r.end.code && !strcmp(q.r.end.code, "empty_input"));
    /* --max-input bounds the whole stream, counted in code points */
    size_t keep = S->cfg.max_input;
    S->cfg.max_input = 10;
    CHECK(submit_open(&q, "\xc3\xa9\xc3\xa9\xc3\xa9.") != NULL); /* 4 code points */
    CHECK_EQ_INT(append(&q, "abcde."), 0);                       /* 10 */
    CHECK_EQ_INT(append(&q, "x"), -1);
    CHECK_EQ_INT(q.r.end.status, VX_JOB_INVALID);
    CHECK(strstr(q.r.end.message, "10") != NULL);
    vx_job_close(q.r.job);
    drain();
    CHECK_EQ_INT(q.r.end.status, VX_JOB_OK); /* what was admitted is spoken */
    CHECK_EQ_INT((int)q.r.bytes, (7 + 6) * 320);
    memset(&q, 0, sizeof(q));
    vx_job_opts o;
    vx_job_opts_init(&o);
    o.voice = "espeak:a";
    o.text = "abcdefghijkl"; /* 12 in the first piece: refused */
    o.text_len = 12;
    o.text_open = 1;
    CHECK(vx_job_submit(S, &o, &EVS, &q, &q.r.end) == NULL);
    CHECK_EQ_INT(q.r.end.status, VX_JOB_INVALID);
    S->cfg.max_input = keep;
    /* no append after close */
    CHECK(submit_open(&q, "A.") != NULL);
    vx_job *j = q.r.job;
    vx_job_close(j);
    vx_job_error e;
    CHECK_EQ_INT(vx_job_append(j, "B.", 2, &e), -1);
    drain();
    CHECK_EQ_INT(q.r.end.status, VX_JOB_OK);
    CHECK_EQ_INT(S->n_jobs, 0);
}

static void test_open_cancel_pause(void) {
    S->backend.stub_delay_ms = 100;
    srec q;
    CHECK(submit_open(&q, "One two. Three") != NULL);
    double t = vx_now() + 0.05;
    while (vx_now() < t) uv_run(&loop, UV_RUN_NOWAIT); /* sentence 0 is being made */
    vx_job_cancel(q.r.job);
    drain();
    CHECK_EQ_INT(q.r.n, 0);
    CHECK_EQ_INT(S->n_jobs, 0);
    /* cancel from inside the first sentence's audio, text still open */
    CHECK(submit_open(&q, "One two. Three") != NULL);
    q.r.cancel_after_audio = 1;
    drain();
    CHECK(!strcmp(q.r.ev, "sa"));
    CHECK_EQ_INT(S->n_jobs, 0);
    S->backend.stub_delay_ms = 0;
    /* paused: the text goes on arriving, nothing is delivered until resumed */
    CHECK(submit_open(&q, "A. B") != NULL);
    vx_job_pause(q.r.job);
    CHECK_EQ_INT(append(&q, ". C. D."), 0);
    vx_job_close(q.r.job);
    t = vx_now() + 0.3;
    while (vx_now() < t) uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_EQ_INT(q.r.n, 0);
    CHECK_EQ_INT(S->n_jobs, 1);
    vx_job_resume(q.r.job);
    drain();
    CHECK(!strcmp(q.r.ev, "sanananane"));
    CHECK_EQ_INT((int)q.r.bytes, 8 * 320);
    /* an unknown voice: the error comes before anything */
    memset(&q, 0, sizeof(q));
    vx_job_opts o;
    vx_job_opts_init(&o);
    o.voice = "nope";
    o.text_open = 1;
    CHECK((q.r.job = vx_job_submit(S, &o, &EVS, &q, &q.r.end)) != NULL);
    CHECK_EQ_INT(append(&q, "Hello."), 0);
    drain();
    CHECK(!strcmp(q.r.ev, "e"));
    CHECK_EQ_INT(q.r.end.status, VX_JOB_NOT_FOUND);
    /* SSML cannot be open */
    o.voice = "espeak:a";
    o.synth.input_format = VOX_INPUT_SSML;
    CHECK(vx_job_submit(S, &o, &EVS, &q, &q.r.end) == NULL);
    CHECK_EQ_INT(q.r.end.status, VX_JOB_UNSUPPORTED);
    CHECK_EQ_INT(S->n_jobs, 0);
}

/* A job holds its voice (the registry never evicts it) until the job is freed. */
static void test_voice_holds(void) {
    rec r;
    CHECK(submit(&r, "Hold.", 1, VX_AUDIO_PCM) != NULL);
    r.pause_after_audio = 1; /* stays alive, its voice known, until resumed */
    double t = vx_now() + 5;
    while (r.n < 2 && vx_now() < t) uv_run(&loop, UV_RUN_ONCE);
    vx_voices_lock(&S->voices);
    int refs = -1;
    for (int i = 0; i < atomic_load(&S->voices.n); i++)
        if (S->voices.ents[i].live && !strcmp(S->voices.ents[i].meta.name, "espeak:a"))
            refs = S->voices.ents[i].refs;
    vx_voices_unlock(&S->voices);
    CHECK_EQ_INT(refs, 1); /* this job's hold; every earlier job dropped its own */
    if (r.job) vx_job_resume(r.job);
    drain();
    CHECK_EQ_INT(r.end.status, VX_JOB_OK);
    vx_voices_lock(&S->voices);
    for (int i = 0; i < atomic_load(&S->voices.n); i++)
        if (S->voices.ents[i].live && !strcmp(S->voices.ents[i].meta.name, "espeak:a"))
            refs = S->voices.ents[i].refs;
    vx_voices_unlock(&S->voices);
    CHECK_EQ_INT(refs, 0);
}

int main(void) {
    S = calloc(1, sizeof(*S));
    vx_server_config_init(&S->cfg);
    S->cfg.workers = 2;
    S->cfg.queue = 2;
    vx_buf_pool_init(&S->bufs);
    vx_metrics_init(&S->metrics);
    vx_backend_stub_init(&S->backend, 0);
    S->backend.wide_threads = 1;
    vx_voices_init(&S->voices, &S->backend);
    uv_loop_init(&loop);
    S->loop = &loop;
    uv_async_init(&loop, &S->async, on_async);
    uv_timer_init(&loop, &sweep);
    uv_timer_start(&sweep, on_sweep, 20, 20);
    CHECK_EQ_INT(vx_sched_start(&S->sched, 2, run_task, S, &S->async), 0);
    test_streamed();
    test_whole_wav();
    test_errors();
    test_cancel();
    test_pause();
    test_deadline();
    test_admission();
    test_open_pieces();
    test_open_utf8_and_limits();
    test_open_long_tail();
    test_open_cancel_pause();
    test_voice_holds();
    vx_sched_stop(&S->sched);
    on_async(&S->async);
    uv_close((uv_handle_t *)&S->async, NULL);
    uv_close((uv_handle_t *)&sweep, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    vx_voices_free(&S->voices);
    vx_job_pool_drain(S);
    vx_buf_pool_drain(&S->bufs);
    free(S);
    TEST_SUMMARY();
}

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
    char ev[MAXEV];              /* 's' start, 'a' audio, 'e' end, in order */
    int n;
    vx_job_info info;
    size_t bytes, first_len;
    unsigned char first[44];
    vx_job_error end;
    int cancel_after_audio;      /* call vx_job_cancel from inside on_audio */
    int pause_after_audio;       /* call vx_job_pause from inside on_audio */
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
    CHECK_EQ_INT((int)r.bytes, 3 * 320 * 3 / 2);   /* "Hi." 3 bytes of stub audio, x1.5 */
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
    static const char *SIX = "A. B. C. D. E. F.";  /* 6 sentences */
    rec r;
    vx_job *j = submit(&r, SIX, 1, VX_AUDIO_PCM);
    CHECK(j != NULL);
    r.job = j;
    r.pause_after_audio = 1;
    double end = vx_now() + 0.5;
    while (vx_now() < end) uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(!strcmp(r.ev, "sa"));         /* one sentence, then held */
    CHECK(vx_job_paused(j));
    CHECK_EQ_INT(S->n_jobs, 1);
    /* the window is not refilled while paused: nothing is queued */
    CHECK_EQ_INT(atomic_load(&S->sched.depth), 0);
    r.pause_after_audio = 0;
    vx_job_resume(j);
    drain();
    CHECK(!strcmp(r.ev, "saaaaaae"));
    CHECK_EQ_INT(r.end.status, VX_JOB_OK);
    CHECK_EQ_INT((int)r.bytes, 12 * 320);  /* "A." x 6, 2 bytes each after the split */
    /* pause before any audio, resume from outside: same bytes */
    j = submit(&r, SIX, 1, VX_AUDIO_PCM);
    r.job = j;
    vx_job_pause(j);
    end = vx_now() + 0.3;
    while (vx_now() < end) uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(!strchr(r.ev, 'a'));
    CHECK_EQ_INT(S->n_jobs, 1);
    vx_job_resume(j);
    vx_job_resume(j);                   /* idempotent */
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

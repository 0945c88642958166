/*
 * openai.c — POST /v1/audio/speech, OpenAI's speech API, over HTTP/1.1 and HTTP/2: the
 * JSON body (api.c) becomes a speech job (job.h); the job's events become the response
 * (headers at on_start, body at on_audio, end or error at on_end). Nothing here knows
 * about workers or sentences, and nothing in job.c knows about HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

static void on_start(void *user, const vx_job_info *in) {
    vx_req *r = user;
    char rate[16];
    snprintf(rate, sizeof(rate), "%d", in->sample_rate);
    vx_hdr h[3] = {{"content-type", in->mime}, {"x-sample-rate", rate},
                   {"cache-control", "no-store"}};
    vx_resp_start(r, 200, h, 3, in->total_bytes);
}

static void on_audio(void *user, const void *data, size_t n) { vx_resp_body(user, data, n); }

static int http_status(vx_job_status st) {
    switch (st) {
    case VX_JOB_OK: return 200;
    case VX_JOB_INVALID: return 400;
    case VX_JOB_NOT_FOUND: return 404;
    case VX_JOB_BUSY: return 429;
    case VX_JOB_UNAVAILABLE: return 503;
    case VX_JOB_UNSUPPORTED: return 501;
    case VX_JOB_TIMEOUT: return 504;
    case VX_JOB_FAILED: break;
    }
    return 500;
}

static const char *error_type(vx_job_status st) {
    if (st == VX_JOB_INVALID || st == VX_JOB_NOT_FOUND) return "invalid_request_error";
    return st == VX_JOB_BUSY ? "rate_limit_error" : "server_error";
}

/* A job error as an OpenAI error response (429 says when to retry). */
static void resp_job_error(vx_req *r, const vx_job_error *je) {
    vx_api_error e;
    vx_api_set_error(&e, http_status(je->status), error_type(je->status), je->code, NULL, "%s",
                     je->message);
    if (je->status != VX_JOB_BUSY) return vx_resp_error(r, &e);
    char *js = vx_api_error_json(&e);
    vx_hdr h[1] = {{"retry-after", "1"}};
    vx_resp_simple(r, e.status, "application/json", js, js ? strlen(js) : 0, h, 1);
    free(js);
}

static void on_end(void *user, const vx_job_error *e) {
    vx_req *r = user;
    r->job = NULL;
    if (e->status == VX_JOB_OK) vx_resp_end(r); /* may start the next pipelined request */
    else if (r->head_sent) vx_resp_abort(r);    /* a truncated body tells the client */
    else resp_job_error(r, e);
}

static const vx_job_events speech_events = {on_start, on_audio, on_end};

void vx_openai_speech(vx_server *s, vx_req *r) {
    vx_api_error e;
    vx_speech_req sp;
    const char *body = r->body ? r->body->data : "";
    size_t len = r->body ? r->body->len : 0;
    if (vx_speech_parse(body ? body : "", len, &s->api, &sp, &e)) return vx_resp_error(r, &e);
    vx_job_opts o;
    vx_job_opts_init(&o);
    o.voice = sp.voice;
    o.text = sp.input;
    o.text_len = sp.input_len;
    o.format = sp.format == VX_FMT_WAV ? VX_AUDIO_WAV : VX_AUDIO_PCM;
    o.stream = sp.stream;
    o.synth.speed = sp.speed;
    o.synth.speaker_id = sp.speaker_id;
    snprintf(o.synth.speaker, sizeof(o.synth.speaker), "%s", sp.speaker);
    o.synth.noise_scale = sp.noise_scale;
    o.synth.noise_w = sp.noise_w;
    o.synth.length_scale = sp.length_scale;
    o.synth.sentence_silence = sp.sentence_silence;
    o.synth.text_norm = sp.text_norm;
    o.synth.input_format = sp.input_format;
    o.deadline = r->t_start + s->cfg.timeout;
    vx_job_error je;
    r->job = vx_job_submit(s, &o, &speech_events, r, &je); /* copies what it keeps */
    vx_speech_free(&sp);
    if (!r->job) resp_job_error(r, &je);
}

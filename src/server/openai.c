/*
 * openai.c — POST /v1/audio/speech, OpenAI's speech API, over HTTP/1.1 and HTTP/2: the
 * JSON body (api.c) becomes a speech job (job.h); the job's events become the response
 * (headers at on_start, body at on_audio, end or error at on_end). Nothing here knows
 * about workers or sentences, and nothing in job.c knows about HTTP.
 *
 * OpenAI behaviour: response_format mp3 (the default), opus, aac, flac, wav, pcm (24 kHz
 * unless sample_rate says otherwise); the audio's rate is also in X-Sample-Rate.
 * stream_format "sse" frames whatever the format's bytes are as server-sent events:
 *   data: {"type":"speech.audio.delta","audio":"<base64 of at most VX_SSE_CHUNK bytes>"}
 *   ...
 *   data: {"type":"speech.audio.done","usage":{"input_tokens":N,"output_tokens":M,
 *          "total_tokens":N+M}}
 * The deltas' audio, decoded and concatenated, is exactly the plain response. vox has no
 * tokenizer: input_tokens counts input characters, output_tokens 20 ms frames of audio.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

#define VX_SSE_CHUNK 12288 /* raw audio bytes per speech.audio.delta (16 KiB of base64) */

static void on_start(void *user, const vx_job_info *in) {
    vx_req *r = user;
    char rate[16];
    snprintf(rate, sizeof(rate), "%d", in->sample_rate);
    vx_hdr h[3] = {{"content-type", r->sse ? "text/event-stream" : in->mime},
                   {"x-sample-rate", rate},
                   {"cache-control", "no-store"}};
    vx_resp_start(r, 200, h, 3, r->sse ? -1 : in->total_bytes);
}

static size_t b64(const uint8_t *in, size_t n, char *out) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = out;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = t[v >> 18];
        *o++ = t[v >> 12 & 63];
        *o++ = t[v >> 6 & 63];
        *o++ = t[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        *o++ = t[v >> 18];
        *o++ = t[v >> 12 & 63];
        *o++ = i + 1 < n ? t[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    return (size_t)(o - out);
}

static void sse_deltas(vx_req *r, const uint8_t *p, size_t n) {
    static const char head[] = "data: {\"type\":\"speech.audio.delta\",\"audio\":\"";
    static const char tail[] = "\"}\n\n";
    static char ev[sizeof head + (VX_SSE_CHUNK + 2) / 3 * 4 + sizeof tail]; /* loop thread only */
    for (size_t off = 0; off < n; off += VX_SSE_CHUNK) {
        size_t k = n - off < VX_SSE_CHUNK ? n - off : VX_SSE_CHUNK;
        size_t len = sizeof head - 1;
        memcpy(ev, head, len);
        len += b64(p + off, k, ev + len);
        memcpy(ev + len, tail, sizeof tail - 1);
        vx_resp_body(r, ev, len + sizeof tail - 1);
    }
}

static void on_audio(void *user, const void *data, size_t n) {
    vx_req *r = user;
    if (r->sse)
        sse_deltas(r, data, n);
    else
        vx_resp_body(r, data, n);
}

static void sse_done(vx_req *r, double audio_seconds) {
    long long in = (long long)r->sse_chars, out = (long long)ceil(audio_seconds * 50);
    char ev[200];
    int k = snprintf(ev, sizeof ev,
                     "data: {\"type\":\"speech.audio.done\",\"usage\":{"
                     "\"input_tokens\":%lld,\"output_tokens\":%lld,\"total_tokens\":%lld}}\n\n",
                     in, out, in + out);
    vx_resp_body(r, ev, (size_t)k);
}

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
    if (e->status == VX_JOB_OK) {
        if (r->sse) sse_done(r, e->audio_seconds);
        vx_resp_end(r); /* may start the next pipelined request */
    } else if (r->head_sent)
        vx_resp_abort(r); /* a truncated body tells the client */
    else
        resp_job_error(r, e);
}

static const vx_job_events speech_events = {on_start, on_audio, on_end, NULL};

/* --max-audio up front: the job's estimate plus the silence after each sentence end (an
 * upper count: every terminator), so "A? " x 1,365 with 5 s pauses is a 400 at once and
 * costs no synthesis. job.c still measures the real audio against the same bound. */
static double est_audio_secs(const vx_synth_params *p, const char *t, size_t n) {
    size_t ends = 0;
    for (size_t i = 0; i < n; i++)
        ends += t[i] == '.' || t[i] == '!' || t[i] == '?' || t[i] == '\n';
    return vx_job_est_secs(p, t, n) + (p->sentence_silence > 0 ? p->sentence_silence : 0) * ends;
}

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
    o.format = sp.format;
    /* OpenAI's pcm is 24 kHz: clients play it at that rate without reading a header */
    o.sample_rate = sp.sample_rate              ? sp.sample_rate
                    : sp.format == VX_AUDIO_PCM ? VX_OPENAI_PCM_RATE
                                                : 0;
    o.enc = sp.enc;
    o.stream = sp.stream;
    r->sse = sp.sse;
    r->sse_chars = sp.input_chars;
    o.synth.speed = sp.speed;
    o.synth.speaker_id = sp.speaker_id;
    snprintf(o.synth.speaker, sizeof(o.synth.speaker), "%s", sp.speaker);
    o.synth.noise_scale = sp.noise_scale;
    o.synth.noise_w = sp.noise_w;
    o.synth.length_scale = sp.length_scale;
    o.synth.sentence_silence = sp.sentence_silence;
    o.synth.text_norm = sp.text_norm;
    o.synth.loudness = sp.loudness;
    o.synth.input_format = sp.input_format;
    o.deadline = r->t_start + s->cfg.timeout;
    double est = est_audio_secs(&o.synth, o.text, o.text_len);
    if (s->cfg.max_audio > 0 && est > s->cfg.max_audio) {
        vx_api_set_error(&e, 400, "invalid_request_error", "audio_too_long", "input",
                         "this request would make about %.0f s of audio; the maximum is %.0f s",
                         est, s->cfg.max_audio);
        vx_speech_free(&sp);
        return vx_resp_error(r, &e);
    }
    vx_job_error je;
    r->job = vx_job_submit(s, &o, &speech_events, r, &je); /* copies what it keeps */
    vx_speech_free(&sp);
    if (!r->job) resp_job_error(r, &je);
}

/*
 * wyoming_session.c — the Wyoming session of one connection: the events that ask for speech
 * (synthesize, synthesize-start/chunk/stop, describe, ping) turned into speech jobs (job.h),
 * and the job's audio turned into audio-start/chunk/stop groups. The connection's modes
 * (WY_IDLE ...) are this file's state machine; wyoming.c does the bytes, wyoming.c's top
 * comment says which events are answered and how.
 */
#include "wyoming_internal.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ audio groups */

static void send_audio(wy_conn *c, const char *type, const void *payload, size_t plen) {
    char d[96];
    int n = snprintf(d, sizeof d, "{\"rate\":%d,\"width\":2,\"channels\":1}", c->rate);
    vx_wy_send_raw(c, type, d, (size_t)n, payload, plen);
}

static void group_start(wy_conn *c) {
    if (c->group) return;
    c->group = 1;
    c->has_carry = 0;
    send_audio(c, "audio-start", NULL, 0);
}

static void group_stop(wy_conn *c) {
    if (!c->group) return;
    c->group = 0;
    vx_wy_send_raw(c, "audio-stop", NULL, 0, NULL, 0);
}

/* ------------------------------------------------------------ job events */

static void ev_start(void *u, const vx_job_info *in) {
    wy_conn *c = u;
    c->rate = in->sample_rate;
    if (c->mode == WY_ONESHOT) group_start(c);
}

static void ev_audio(void *u, const void *p, size_t n) {
    wy_conn *c = u;
    const unsigned char *b = p;
    group_start(c); /* streams: a group per sentence, opened by its first audio */
    unsigned char pair[2];
    if (c->has_carry && n) {
        pair[0] = c->carry;
        pair[1] = b[0];
        send_audio(c, "audio-chunk", pair, 2);
        b++;
        n--;
        c->has_carry = 0;
    }
    size_t max = VX_WY_CHUNK_SAMPLES * 2;
    while (n >= 2) {
        size_t k = n < max ? n & ~(size_t)1 : max;
        send_audio(c, "audio-chunk", b, k);
        b += k;
        n -= k;
    }
    if (n) {
        c->carry = b[0];
        c->has_carry = 1;
    }
    vx_wy_flush(c);
    if (vx_wy_pending(c) > VX_WY_WRITE_HIGH && c->job) vx_job_pause(c->job);
}

static void ev_sentence_end(void *u, size_t index, size_t offset, size_t length) {
    wy_conn *c = u;
    if (c->mode != WY_ONESHOT) group_stop(c);
    vx_wy_flush(c);
}

static void ev_end(void *u, const vx_job_error *e) {
    wy_conn *c = u;
    c->job = NULL;
    int ok = e->status == VX_JOB_OK;
    group_stop(c);
    if (c->mode == WY_ONESHOT) {
        if (!ok) vx_wy_send_error(c, e->message, e->code);
        c->mode = WY_IDLE;
    } else if (c->mode == WY_STREAM) {
        /* failed while text still comes: say so now, synthesize-stopped at the stop */
        vx_wy_send_error(c, e->message, e->code);
        c->mode = WY_STREAM_FAILED;
    } else if (c->mode == WY_STREAM_STOP) {
        /* a stream with nothing to speak is not an error: it just ends */
        if (!ok && strcmp(e->code ? e->code : "", "empty_input"))
            vx_wy_send_error(c, e->message, e->code);
        vx_wy_send_raw(c, "synthesize-stopped", NULL, 0, NULL, 0);
        c->mode = WY_IDLE;
    }
    vx_wy_flush(c);
    if (c->mode == WY_IDLE) vx_wy_process(c); /* events that waited for this answer */
}

static const vx_job_events EVENTS = {ev_start, ev_audio, ev_end, ev_sentence_end};

/* ------------------------------------------------------------ requests */

static vx_job *submit(wy_conn *c, const vx_wy_synth *sy, int open) {
    vx_server *s = c->w->srv;
    char voice[VX_VOICE_NAME_MAX], err[200];
    if (vx_wy_pick_voice(s, sy, voice, sizeof voice, err, sizeof err)) {
        vx_wy_send_error(c, err, "voice_not_found");
        return NULL;
    }
    vx_job_opts o;
    vx_job_opts_init(&o);
    o.voice = voice;
    o.text = open ? "" : sy->text;
    o.text_len = open ? 0 : sy->text_len;
    o.text_open = open;
    o.stream = 1;
    o.format = VX_AUDIO_PCM;
    if (sy->speaker && *sy->speaker) {
        if (strlen(sy->speaker) >= sizeof o.synth.speaker) {
            vx_wy_send_error(c, "speaker name too long", "speaker_not_found");
            return NULL;
        }
        snprintf(o.synth.speaker, sizeof o.synth.speaker, "%s", sy->speaker);
    }
    vx_job_error e;
    vx_job *j = vx_job_submit(s, &o, &EVENTS, c, &e);
    if (!j) vx_wy_send_error(c, e.message, e.code);
    return j;
}

static void on_synthesize(wy_conn *c, const cJSON *data) {
    if (c->mode == WY_STREAM || c->mode == WY_STREAM_FAILED) return; /* the stream's copy */
    vx_wy_synth sy;
    char err[160];
    if (vx_wy_get_synth(data, 1, &sy, err, sizeof err))
        return vx_wy_send_error(c, err, "bad_event");
    c->rate = 0;
    c->group = 0;
    c->mode = WY_ONESHOT;
    if (!(c->job = submit(c, &sy, 0))) c->mode = WY_IDLE;
}

static void on_stream_start(wy_conn *c, const cJSON *data) {
    if (c->mode != WY_IDLE)
        return vx_wy_send_error(c, "synthesize-start inside a stream", "already_streaming");
    vx_wy_synth sy;
    char err[160];
    c->group = 0;
    /* a refused start still makes a stream: its chunks are ignored, its stop answered */
    c->mode = WY_STREAM_FAILED;
    if (vx_wy_get_synth(data, 0, &sy, err, sizeof err))
        return vx_wy_send_error(c, err, "bad_event");
    if ((c->job = submit(c, &sy, 1))) c->mode = WY_STREAM;
}

static void on_stream_chunk(wy_conn *c, const cJSON *data) {
    if (c->mode == WY_STREAM_FAILED) return;
    if (c->mode != WY_STREAM)
        return vx_wy_send_error(
            c, "synthesize-chunk outside a stream (send synthesize-start first)", "not_streaming");
    vx_wy_synth sy;
    char err[160];
    vx_job_error e;
    if (vx_wy_get_synth(data, 1, &sy, err, sizeof err)) {
        vx_wy_send_error(c, err, "bad_event");
    } else if (vx_job_append(c->job, sy.text, sy.text_len, &e)) {
        vx_wy_send_error(c, e.message, e.code);
    } else {
        return;
    }
    /* the stream cannot be spoken as sent: end its job, answer its stop */
    vx_job_cancel(c->job);
    c->job = NULL;
    group_stop(c);
    c->mode = WY_STREAM_FAILED;
}

static void on_stream_stop(wy_conn *c) {
    if (c->mode == WY_STREAM_FAILED) {
        group_stop(c);
        vx_wy_send_raw(c, "synthesize-stopped", NULL, 0, NULL, 0);
        c->mode = WY_IDLE;
        return;
    }
    if (c->mode != WY_STREAM)
        return vx_wy_send_error(c, "synthesize-stop outside a stream", "not_streaming");
    c->mode = WY_STREAM_STOP;
    vx_job_close(c->job); /* may end it (ev_end) before it returns */
}

void vx_wy_handle(wy_conn *c, const vx_wy_event *ev) {
    const char *t = ev->type;
    if (!strcmp(t, "describe"))
        vx_wy_describe(c);
    else if (!strcmp(t, "synthesize"))
        on_synthesize(c, ev->data);
    else if (!strcmp(t, "synthesize-start"))
        on_stream_start(c, ev->data);
    else if (!strcmp(t, "synthesize-chunk"))
        on_stream_chunk(c, ev->data);
    else if (!strcmp(t, "synthesize-stop"))
        on_stream_stop(c);
    else if (!strcmp(t, "ping")) {
        cJSON *d = cJSON_CreateObject();
        const cJSON *txt = cJSON_GetObjectItemCaseSensitive(ev->data, "text");
        if (cJSON_IsString(txt)) cJSON_AddStringToObject(d, "text", txt->valuestring);
        vx_wy_send_event(c, "pong", d);
    } else {
        char msg[160];
        snprintf(msg, sizeof msg, "unknown event type '%.64s'", t);
        vx_wy_send_error(c, msg, "unknown_event");
    }
}

/*
 * grpc.c — the vox.v1.Speech gRPC service (proto/vox/v1/speech.proto) and
 * grpc.health.v1.Health, on voxd's HTTP/2 streams (http2.c hands over every stream whose
 * content-type is application/grpc[+proto]; same port, TLS with ALPN h2 or h2c).
 * Synthesis goes through the speech-job interface (job.h) only; the framing and request
 * checks are in grpc_msg.c.
 *
 * A call: request headers (path = method, grpc-timeout -> the job's deadline, auth,
 * grpc-encoding) -> request messages -> response HEADERS, DATA of length-prefixed
 * messages, trailers (grpc-status, grpc-message). An error before any message is sent goes
 * out trailers-only (one HEADERS frame with END_STREAM).
 *
 * Flow control: nghttp2 sends DATA only as the client's windows allow; what the job makes
 * meanwhile waits in the call's output buffer. Past VX_GRPC_OUT_HIGH queued bytes the job
 * is paused (vx_job_pause: no more sentences are queued or delivered), and resumed once
 * the client has taken the buffer down to VX_GRPC_OUT_LOW, so a reader that does not read
 * holds at most HIGH + one sentence of audio and no worker. RST_STREAM cancels the job.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/health/v1/health.pb-c.h>

#include "conn.h"
#include "grpc.h"
#include "grpc_msg.h"

#define VX_GRPC_OUT_HIGH    (256u << 10) /* queued response bytes that pause the job */
#define VX_GRPC_OUT_LOW     (64u << 10)  /* ... and resume it once drained to this */
#define VX_GRPC_AUDIO_CHUNK (64u << 10)  /* audio bytes per AudioChunk message at most */
#define VX_GRPC_MAX_VOICES  512          /* ListVoices: loaded + scanned voices listed */
#define VX_GRPC_RETRY_MS    "1000"       /* grpc-retry-pushback-ms when the queue is full */
#define VX_GRPC_DISCARD_MAX                                                                        \
    (16u << 20) /* request bytes dropped after the call ended, then
                                           RST_STREAM */

enum { M_NONE, M_LIST, M_SYNTH, M_STREAM, M_CHECK, M_WATCH };

static const struct {
    const char *path;
    int method;
} methods[] = {
    {"/vox.v1.Speech/ListVoices", M_LIST},         {"/vox.v1.Speech/Synthesize", M_SYNTH},
    {"/vox.v1.Speech/SynthesizeStream", M_STREAM}, {"/grpc.health.v1.Health/Check", M_CHECK},
    {"/grpc.health.v1.Health/Watch", M_WATCH},
};

struct vx_grpc_call {
    int is_grpc;
    int method;
    double timeout; /* grpc-timeout in seconds; 0: none */
    int timeout_bad;
    int enc_bad; /* grpc-encoding other than identity */
    vx_grpc_deframer in;
    int n_msgs;   /* request messages received */
    uint8_t *req; /* unary request message (copied), req_len bytes */
    size_t req_len;
    int dispatched;   /* the unary call was answered or its job submitted */
    int resp_started; /* response HEADERS submitted */
    int ended;        /* final status decided: no more messages */
    int trailers_sent;
    int status;        /* grpc-status for the trailers */
    char message[400]; /* grpc-message, percent-encoded */
    int retry;         /* add grpc-retry-pushback-ms */
    vx_buf *out;       /* response bytes nghttp2 has not taken yet */
    size_t out_off;
    int deferred, in_read;
    int sentence, sample_rate; /* for the next AudioChunk */
    int closed_by_client;      /* END_STREAM seen */
    int watch_status;          /* Health/Watch: the last status sent, 0 before */
    size_t discarded;          /* request bytes after the end */
};

/* ------------------------------------------------------------ headers */

static int hdr_is(const uint8_t *n, size_t nl, const char *want) {
    return nl == strlen(want) && !memcmp(n, want, nl);
}

void vx_grpc_header(vx_req *r, const uint8_t *name, size_t nl, const uint8_t *value, size_t vl) {
    if (nl < 2 || (name[0] != 'c' && name[0] != 'g')) return; /* the common case: not ours */
    int ctype = hdr_is(name, nl, "content-type");
    if (!ctype && (nl < 5 || memcmp(name, "grpc-", 5))) return;
    /* application/grpc, application/grpc+proto, application/grpc;params */
    int grpc_ctype = ctype && vl >= 16 && !memcmp(value, "application/grpc", 16) &&
                     (vl == 16 || value[16] == '+' || value[16] == ';');
    if (ctype && !grpc_ctype && !r->grpc) return; /* plain HTTP: nothing allocated */
    if (!r->grpc && !(r->grpc = calloc(1, sizeof(*r->grpc)))) return;
    vx_grpc_call *g = r->grpc;
    if (ctype) {
        g->is_grpc = grpc_ctype;
    } else if (hdr_is(name, nl, "grpc-timeout")) {
        if (vx_grpc_parse_timeout((const char *)value, vl, &g->timeout)) g->timeout_bad = 1;
    } else if (hdr_is(name, nl, "grpc-encoding")) {
        g->enc_bad = !(vl == 8 && !memcmp(value, "identity", 8));
    }
}

int vx_grpc_is(const vx_req *r) { return r->grpc && r->grpc->is_grpc; }

/* ------------------------------------------------------------ response */

static ssize_t read_cb(nghttp2_session *h2, int32_t sid, uint8_t *buf, size_t length,
                       uint32_t *flags, nghttp2_data_source *src, void *user);

static void touch(vx_req *r) {
    vx_grpc_call *g = r->grpc;
    if (g->deferred && !g->in_read) {
        g->deferred = 0;
        nghttp2_session_resume_data(r->c->h2, r->stream_id);
    }
    vx_conn_touch(r->c);
}

#define NV(k, v)                                                                                   \
    (nghttp2_nv) { (uint8_t *)(k), (uint8_t *)(v), strlen(k), strlen(v), NGHTTP2_NV_FLAG_NONE }

static void start_response(vx_req *r) {
    vx_grpc_call *g = r->grpc;
    if (g->resp_started) return;
    g->resp_started = 1;
    nghttp2_nv nv[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                       NV("grpc-accept-encoding", "identity")};
    nghttp2_data_provider prd = {.source.ptr = r, .read_callback = read_cb};
    nghttp2_submit_response(r->c->h2, r->stream_id, nv, 3, &prd);
    vx_conn_touch(r->c);
}

/* The status nv list: grpc-status, grpc-message, maybe retry pushback. */
static size_t status_nv(vx_grpc_call *g, nghttp2_nv *nv, char *st) {
    size_t n = 0;
    snprintf(st, 8, "%d", g->status);
    nv[n++] = NV("grpc-status", st);
    if (g->message[0]) nv[n++] = NV("grpc-message", g->message);
    if (g->retry) nv[n++] = NV("grpc-retry-pushback-ms", VX_GRPC_RETRY_MS);
    return n;
}

static void cancel_job(vx_req *r) {
    if (r->job) vx_job_cancel(r->job);
    r->job = NULL;
}

/* The call's final status. Before any response: trailers-only. Else after the queued
 * messages (read_cb sends the trailers). */
static void finish(vx_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finish(vx_req *r, int status, const char *fmt, ...) {
    vx_grpc_call *g = r->grpc;
    if (g->ended) return;
    g->ended = 1;
    if (status != VX_GRPC_OK) cancel_job(r);
    g->status = status;
    char raw[300] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
    }
    vx_grpc_percent_encode(raw, g->message, sizeof g->message);
    if (g->resp_started) {
        /* a client whose window is shut would never let the trailers through (they wait
         * behind the queued messages): an error then resets the stream instead */
        nghttp2_session *h2 = r->c->h2;
        if (status != VX_GRPC_OK && g->out && g->out->len > g->out_off &&
            (nghttp2_session_get_stream_remote_window_size(h2, r->stream_id) <= 0 ||
             nghttp2_session_get_remote_window_size(h2) <= 0)) {
            g->trailers_sent = 1;
            nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, r->stream_id, NGHTTP2_CANCEL);
        }
        touch(r);
        return;
    }
    g->trailers_sent = 1;
    char st[8];
    nghttp2_nv nv[6] = {NV(":status", "200"), NV("content-type", "application/grpc")};
    size_t n = 2 + status_nv(g, nv + 2, st);
    nghttp2_submit_response(r->c->h2, r->stream_id, nv, n, NULL);
    vx_conn_touch(r->c);
}

static void maybe_pause(vx_req *r) {
    vx_grpc_call *g = r->grpc;
    if (r->job && g->out->len - g->out_off > VX_GRPC_OUT_HIGH) vx_job_pause(r->job);
}

/* Queue one message: the prefix, then m packed in place. */
static int send_msg(vx_req *r, const ProtobufCMessage *m) {
    vx_grpc_call *g = r->grpc;
    if (g->ended) return -1;
    start_response(r);
    if (!g->out && !(g->out = vx_buf_get(&r->c->srv->bufs))) goto nomem;
    size_t n = protobuf_c_message_get_packed_size(m);
    if (n > UINT32_MAX || vx_buf_reserve(g->out, 5 + n)) goto nomem;
    uint8_t *p = (uint8_t *)g->out->data + g->out->len;
    vx_grpc_prefix(p, (uint32_t)n);
    protobuf_c_message_pack(m, p + 5);
    g->out->len += 5 + n;
    maybe_pause(r);
    touch(r);
    return 0;
nomem:
    finish(r, VX_GRPC_UNAVAILABLE, "out of memory");
    return -1;
}

static ssize_t read_cb(nghttp2_session *h2, int32_t sid, uint8_t *buf, size_t length,
                       uint32_t *flags, nghttp2_data_source *src, void *user) {
    vx_req *r = src->ptr;
    vx_grpc_call *g = r->grpc;
    size_t n = 0;
    if (g->out && g->out->len > g->out_off) {
        size_t avail = g->out->len - g->out_off;
        n = avail < length ? avail : length;
        memcpy(buf, g->out->data + g->out_off, n);
        g->out_off += n;
        if (g->out_off == g->out->len)
            g->out->len = g->out_off = 0;
        else if (g->out_off >= VX_GRPC_OUT_LOW && g->out_off * 2 >= g->out->len) {
            /* keep the buffer from creeping forward over a long stream */
            memmove(g->out->data, g->out->data + g->out_off, g->out->len - g->out_off);
            g->out->len -= g->out_off;
            g->out_off = 0;
        }
    }
    /* drained enough: the paused job goes on (its audio lands in out, read next time) */
    if (r->job && vx_job_paused(r->job) &&
        (!g->out || g->out->len - g->out_off <= VX_GRPC_OUT_LOW)) {
        g->in_read = 1;
        vx_job_resume(r->job);
        g->in_read = 0;
    }
    int empty = !g->out || g->out->len == g->out_off;
    if (empty && g->ended) {
        if (!g->trailers_sent) {
            g->trailers_sent = 1;
            char st[8];
            nghttp2_nv nv[4];
            size_t k = status_nv(g, nv, st);
            nghttp2_submit_trailer(h2, sid, nv, k);
        }
        *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        return (ssize_t)n;
    }
    if (!n) {
        g->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    return (ssize_t)n;
}

/* ------------------------------------------------------------ job events */

static int grpc_status_of(vx_job_status st) {
    switch (st) {
    case VX_JOB_OK: return VX_GRPC_OK;
    case VX_JOB_INVALID: return VX_GRPC_INVALID_ARGUMENT;
    case VX_JOB_NOT_FOUND: return VX_GRPC_NOT_FOUND;
    case VX_JOB_BUSY: return VX_GRPC_RESOURCE_EXHAUSTED;
    case VX_JOB_UNAVAILABLE: return VX_GRPC_UNAVAILABLE;
    case VX_JOB_UNSUPPORTED: return VX_GRPC_UNIMPLEMENTED;
    case VX_JOB_TIMEOUT: return VX_GRPC_DEADLINE_EXCEEDED;
    case VX_JOB_FAILED: break;
    }
    return VX_GRPC_INTERNAL;
}

/* The request field a job error is about, so INVALID_ARGUMENT names it. */
static const char *field_of(const vx_job_error *e) {
    const char *c = e->code ? e->code : "";
    if (!strcmp(c, "voice_not_found")) return "voice";
    if (!strcmp(c, "speaker_not_found") || strstr(e->message, "speaker")) return "speaker";
    if (strstr(e->message, "sample rate") || strstr(e->message, "Hz")) return "sample_rate";
    if (!strcmp(c, "unsupported_format")) return "format";
    if (!strcmp(c, "empty_input") || strstr(e->message, "text")) return "text";
    return NULL;
}

static void finish_job_error(vx_req *r, const vx_job_error *e) {
    const char *f = field_of(e);
    r->grpc->retry = e->status == VX_JOB_BUSY;
    finish(r, grpc_status_of(e->status), "%s%s%s (%s)", f ? f : "", f ? ": " : "", e->message,
           e->code ? e->code : "error");
}

static void ev_start(void *user, const vx_job_info *in) {
    vx_req *r = user;
    r->grpc->sample_rate = in->sample_rate;
    start_response(r);
}

static void send_audio(vx_req *r, const uint8_t *p, size_t n, int last) {
    Vox__V1__AudioChunk m = VOX__V1__AUDIO_CHUNK__INIT;
    m.audio.data = (uint8_t *)p;
    m.audio.len = n;
    m.sample_rate = r->grpc->sample_rate;
    m.sentence_index = r->grpc->sentence;
    m.last = last;
    send_msg(r, &m.base);
}

static void ev_audio(void *user, const void *data, size_t n) {
    vx_req *r = user;
    const uint8_t *p = data;
    for (size_t off = 0; off < n && !r->grpc->ended; off += VX_GRPC_AUDIO_CHUNK)
        send_audio(r, p + off, n - off < VX_GRPC_AUDIO_CHUNK ? n - off : VX_GRPC_AUDIO_CHUNK, 0);
}

static void ev_sentence_end(void *user, size_t index, size_t offset, size_t length) {
    vx_req *r = user;
    (void)offset, (void)length;
    r->grpc->sentence = (int)index + 1;
}

static void ev_end(void *user, const vx_job_error *e) {
    vx_req *r = user;
    r->job = NULL;
    if (e->status != VX_JOB_OK) return finish_job_error(r, e);
    send_audio(r, NULL, 0, 1); /* the stream's end, with the rate for a client that got none */
    finish(r, VX_GRPC_OK, NULL);
}

static const vx_job_events job_events = {ev_start, ev_audio, ev_end, ev_sentence_end};

/* ------------------------------------------------------------ methods */

static double deadline_of(vx_req *r) {
    vx_server *s = r->c->srv;
    double t = s->cfg.timeout;
    if (r->grpc->timeout > 0 && r->grpc->timeout < t) t = r->grpc->timeout;
    return r->t_start + t;
}

static void do_synthesize(vx_req *r) {
    vx_server *s = r->c->srv;
    vx_grpc_call *g = r->grpc;
    Vox__V1__SynthesizeRequest *q = vox__v1__synthesize_request__unpack(NULL, g->req_len, g->req);
    if (!q) return finish(r, VX_GRPC_INVALID_ARGUMENT, "request: not a vox.v1.SynthesizeRequest");
    vx_job_opts o;
    char msg[256];
    if (vx_grpc_synth_opts(q, s->cfg.default_voice, 1, &o, msg, sizeof msg)) {
        vox__v1__synthesize_request__free_unpacked(q, NULL);
        return finish(r, VX_GRPC_INVALID_ARGUMENT, "%s", msg);
    }
    o.deadline = deadline_of(r);
    vx_job_error je;
    r->job = vx_job_submit(s, &o, &job_events, r, &je); /* copies what it keeps */
    vox__v1__synthesize_request__free_unpacked(q, NULL);
    if (!r->job) finish_job_error(r, &je);
}

/* ListVoices: loaded voices (with their speakers), then voices in --data-dir not loaded. */
typedef struct {
    vx_server *s;
    Vox__V1__Voice *v;
    Vox__V1__Voice **pv;
    size_t n;
} voice_list;

static char *dupstr(const char *p) { return strdup(p ? p : ""); }

static void add_voice(voice_list *L, const vx_voice_meta *m, void *voice, const char *const *names,
                      int n_names) {
    if (L->n >= VX_GRPC_MAX_VOICES) return;
    Vox__V1__Voice *v = &L->v[L->n];
    vox__v1__voice__init(v);
    v->name = dupstr(m->name);
    v->kind = dupstr(m->kind);
    v->language = dupstr(m->language);
    v->quality = dupstr(m->quality);
    v->sample_rate = m->sample_rate;
    int ns = m->num_speakers > 1 ? m->num_speakers : 0;
    if (ns > 1000) ns = 1000;
    v->speakers = ns ? calloc((size_t)ns, sizeof(char *)) : NULL;
    for (int i = 0; v->speakers && i < ns; i++) {
        const char *nm =
            names ? (i < n_names ? names[i] : NULL) : L->s->backend.speaker_name(voice, i);
        char def[16];
        snprintf(def, sizeof def, "%d", i);
        v->speakers[v->n_speakers++] = dupstr(nm ? nm : def);
    }
    L->pv[L->n++] = v;
}

static void on_scanned(void *ctx, const vx_voice_meta *m, const char *const *speakers, int n) {
    add_voice(ctx, m, NULL, speakers, n);
}

static void do_list_voices(vx_req *r) {
    vx_server *s = r->c->srv;
    voice_list L = {s, calloc(VX_GRPC_MAX_VOICES, sizeof(Vox__V1__Voice)),
                    calloc(VX_GRPC_MAX_VOICES, sizeof(Vox__V1__Voice *)), 0};
    if (!L.v || !L.pv) {
        free(L.v);
        free(L.pv);
        return finish(r, VX_GRPC_UNAVAILABLE, "out of memory");
    }
    int n = atomic_load_explicit(&s->voices.n, memory_order_acquire);
    for (int i = 0; i < n; i++)
        add_voice(&L, &s->voices.ents[i].meta, s->voices.ents[i].voice, NULL, 0);
    vx_voices_scan(&s->voices, s->cfg.data_dirs, s->cfg.n_data_dirs, on_scanned, &L);
    Vox__V1__ListVoicesResponse resp = VOX__V1__LIST_VOICES_RESPONSE__INIT;
    resp.voices = L.pv;
    resp.n_voices = L.n;
    if (!send_msg(r, &resp.base)) finish(r, VX_GRPC_OK, NULL);
    for (size_t i = 0; i < L.n; i++) {
        Vox__V1__Voice *v = &L.v[i];
        free(v->name), free(v->kind), free(v->language), free(v->quality);
        for (size_t k = 0; k < v->n_speakers; k++) free(v->speakers[k]);
        free(v->speakers);
    }
    free(L.v);
    free(L.pv);
}

/* Health: "" (the server) and "vox.v1.Speech" are known; SERVING once ready, NOT_SERVING
 * while loading and from the start of a drain. */
static int health_now(vx_server *s) {
    return s->ready && !s->draining
               ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
               : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
}

static int send_health(vx_req *r, int status) {
    Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    resp.status = status;
    r->grpc->watch_status = status;
    return send_msg(r, &resp.base);
}

static void do_health(vx_req *r, int watch) {
    vx_grpc_call *g = r->grpc;
    Grpc__Health__V1__HealthCheckRequest *q =
        grpc__health__v1__health_check_request__unpack(NULL, g->req_len, g->req);
    if (!q) return finish(r, VX_GRPC_INVALID_ARGUMENT, "request: not a HealthCheckRequest");
    int known = !q->service || !*q->service || !strcmp(q->service, "vox.v1.Speech");
    grpc__health__v1__health_check_request__free_unpacked(q, NULL);
    if (!known && !watch) return finish(r, VX_GRPC_NOT_FOUND, "service: unknown service");
    int st = known ? health_now(r->c->srv)
                   : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
    if (send_health(r, st)) return;
    /* Watch: the status now, then each change (vx_grpc_health_changed); the stream stays
     * open until the client ends it or the server drains. */
    if (!watch || (known && r->c->srv->draining)) finish(r, VX_GRPC_OK, NULL);
}

/* server.c: readiness changed (ready, or draining). Every open Watch of a known service
 * gets the new status; at drain its call ends, so watches do not hold the drain. */
void vx_grpc_health_changed(vx_server *s) {
    int st = health_now(s);
    for (vx_conn *c = s->conns; c; c = c->next)
        for (vx_req *r = c->h2 ? c->streams : NULL; r; r = r->next) {
            vx_grpc_call *g = r->grpc;
            if (!vx_grpc_is(r) || g->method != M_WATCH || !g->dispatched || g->ended ||
                g->watch_status ==
                    GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN)
                continue;
            if (g->watch_status != st && send_health(r, st)) continue;
            if (s->draining) finish(r, VX_GRPC_OK, NULL);
        }
}

static void dispatch_unary(vx_req *r) {
    vx_grpc_call *g = r->grpc;
    if (g->dispatched || g->ended) return;
    g->dispatched = 1;
    switch (g->method) {
    case M_LIST: do_list_voices(r); break;
    case M_SYNTH: do_synthesize(r); break;
    case M_CHECK: do_health(r, 0); break;
    case M_WATCH: do_health(r, 1); break;
    }
}

/* ------------------------------------------------------------ SynthesizeStream */

/* The first TextChunk carries config (its text, if any, is the first piece): the job is
 * submitted open; each later TextChunk's text is appended; the client's END_STREAM closes
 * it. The job speaks each sentence as soon as it is complete in the text so far. */
static void stream_msg(vx_req *r, const uint8_t *p, size_t n) {
    vx_server *s = r->c->srv;
    vx_grpc_call *g = r->grpc;
    Vox__V1__TextChunk *t = vox__v1__text_chunk__unpack(NULL, n, p);
    if (!t) return finish(r, VX_GRPC_INVALID_ARGUMENT, "request: not a vox.v1.TextChunk");
    int is_config = t->kind_case == VOX__V1__TEXT_CHUNK__KIND_CONFIG && t->config;
    if (g->n_msgs == 1 && !is_config) {
        finish(r, VX_GRPC_INVALID_ARGUMENT, "config: the first TextChunk must carry config");
    } else if (g->n_msgs == 1) {
        vx_job_opts o;
        char msg[256];
        if (vx_grpc_synth_opts(t->config, s->cfg.default_voice, 0, &o, msg, sizeof msg)) {
            finish(r, VX_GRPC_INVALID_ARGUMENT, "%s", msg);
        } else {
            o.text_open = 1;
            o.deadline = deadline_of(r);
            vx_job_error je;
            r->job = vx_job_submit(s, &o, &job_events, r, &je);
            if (!r->job) finish_job_error(r, &je);
            /* text may now pause between messages (an LLM thinking): the job's deadline
             * (grpc-timeout, at most --timeout) bounds the call, not http2.c's per-stream
             * --header-timeout for requests that stall */
            else
                r->routed = 1;
        }
    } else if (is_config) {
        finish(r, VX_GRPC_INVALID_ARGUMENT, "config: only the first TextChunk carries config");
    } else if (r->job && t->kind_case == VOX__V1__TEXT_CHUNK__KIND_TEXT && t->text) {
        vx_job_error je;
        if (vx_job_append(r->job, t->text, strlen(t->text), &je)) finish_job_error(r, &je);
    }
    vox__v1__text_chunk__free_unpacked(t, NULL);
}

static void stream_end(vx_req *r) {
    if (!r->grpc->n_msgs)
        return finish(r, VX_GRPC_INVALID_ARGUMENT, "config: the stream sent no TextChunk");
    if (r->job) vx_job_close(r->job); /* may end the call before it returns */
}

/* ------------------------------------------------------------ hooks from http2.c */

static int auth_ok(vx_req *r) {
    vx_server *s = r->c->srv;
    if (!s->cfg.api_key || !*s->cfg.api_key) return 1;
    if (r->auth_too_long) return 0;
    return vx_auth_ok(r->auth, r->auth_len, s->cfg.api_key);
}

void vx_grpc_headers_done(vx_req *r) {
    vx_grpc_call *g = r->grpc;
    r->t_start = vx_now();
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (!strcmp(r->path, methods[i].path)) g->method = methods[i].method;
    if (r->h2_err)
        return finish(r, VX_GRPC_RESOURCE_EXHAUSTED, "request headers too large (HTTP %d)",
                      r->h2_err);
    if (strcmp(r->method, "POST"))
        return finish(r, VX_GRPC_UNIMPLEMENTED, "method %s: gRPC calls are POST", r->method);
    if (!g->method) return finish(r, VX_GRPC_UNIMPLEMENTED, "unknown method %.200s", r->path);
    if (g->enc_bad)
        return finish(r, VX_GRPC_UNIMPLEMENTED,
                      "grpc-encoding: only identity (uncompressed messages) is supported");
    if (g->timeout_bad) return finish(r, VX_GRPC_INVALID_ARGUMENT, "grpc-timeout: malformed");
    if (g->method != M_CHECK && g->method != M_WATCH && !auth_ok(r))
        return finish(r, VX_GRPC_UNAUTHENTICATED,
                      "invalid or missing API key (authorization: Bearer <key>)");
}

void vx_grpc_data(vx_req *r, const uint8_t *p, size_t n) {
    vx_grpc_call *g = r->grpc;
    if (g->ended) {
        /* answered: the rest of the upload is dropped, but not forever */
        size_t before = g->discarded;
        g->discarded += n;
        if (before <= VX_GRPC_DISCARD_MAX && g->discarded > VX_GRPC_DISCARD_MAX)
            nghttp2_submit_rst_stream(r->c->h2, NGHTTP2_FLAG_NONE, r->stream_id, NGHTTP2_CANCEL);
        return;
    }
    while (n && !g->ended) {
        size_t used = 0;
        int rc = vx_grpc_deframe(&g->in, p, n, VX_GRPC_MAX_MSG, &used);
        p += used;
        n -= used;
        if (rc == VX_GRPC_DF_TOO_BIG)
            return finish(r, VX_GRPC_RESOURCE_EXHAUSTED,
                          "request message of %zu bytes; the limit is %u", g->in.msg_len,
                          VX_GRPC_MAX_MSG);
        if (rc == VX_GRPC_DF_NOMEM) return finish(r, VX_GRPC_UNAVAILABLE, "out of memory");
        if (rc != VX_GRPC_DF_MSG) continue;
        g->n_msgs++;
        if (g->in.compressed)
            return finish(r, VX_GRPC_UNIMPLEMENTED, "compressed messages are not supported");
        if (g->method == M_STREAM)
            stream_msg(r, g->in.msg, g->in.msg_len);
        else if (g->n_msgs > 1)
            return finish(r, VX_GRPC_INVALID_ARGUMENT, "request: more than one message");
        else {
            /* unary request: answered at END_STREAM, when it is known to be the only one */
            g->req = malloc(g->in.msg_len ? g->in.msg_len : 1);
            if (!g->req) return finish(r, VX_GRPC_UNAVAILABLE, "out of memory");
            if (g->in.msg_len) memcpy(g->req, g->in.msg, g->in.msg_len);
            g->req_len = g->in.msg_len;
        }
        vx_grpc_deframer_next(&g->in);
    }
}

void vx_grpc_end_stream(vx_req *r) {
    vx_grpc_call *g = r->grpc;
    g->closed_by_client = 1;
    if (g->ended) return;
    if (!vx_grpc_deframer_idle(&g->in))
        return finish(r, VX_GRPC_INVALID_ARGUMENT, "request: the stream ended inside a message");
    if (g->method == M_STREAM) return stream_end(r);
    if (g->n_msgs != 1) return finish(r, VX_GRPC_INVALID_ARGUMENT, "request: no message");
    dispatch_unary(r);
}

void vx_grpc_free(vx_req *r) {
    vx_grpc_call *g = r->grpc;
    if (!g) return;
    cancel_job(r);
    vx_grpc_deframer_free(&g->in);
    free(g->req);
    vx_buf_put(g->out);
    free(g);
    r->grpc = NULL;
}

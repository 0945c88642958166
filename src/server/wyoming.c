/*
 * wyoming.c — the Wyoming protocol (rhasspy/wyoming, OHF-Voice/wyoming 1.7) as a voxd
 * front end over the speech-job interface (job.h). This file does the bytes: listener,
 * connections, timeouts, reading and writing. Framing is wyoming_parse.c, the session
 * (events -> speech jobs -> audio groups) wyoming_session.c, voice resolution and describe
 * wyoming_voices.c; wyoming_internal.h is what they share.
 *
 * Events answered, one request at a time per connection (events that come while an
 * answer is being made wait in the input buffer, bounded, reading paused):
 *   describe           -> info: one tts program "vox" with every voice voxd can speak
 *                         (loaded voices, Piper voices in the data dirs with their
 *                         language and speaker names, the espeak-ng voices) and
 *                         supports_synthesize_streaming.
 *   synthesize         -> audio-start {rate, width 2, channels 1}, audio-chunk x n,
 *                         audio-stop (one-shot; ignored inside a stream, where clients
 *                         send it for old servers).
 *   synthesize-start {voice}, synthesize-chunk {text} x n, synthesize-stop
 *                      -> one audio-start/chunk/stop group per sentence, each sent as
 *                         soon as the sentence is complete in the text so far and made
 *                         (job.h: text in pieces), then synthesize-stopped.
 *   ping               -> pong.
 * Voice: {name} (a voxd voice name; with {speaker}: a speaker name of that voice), else
 * {language} (the first Piper voice of that language, else espeak-ng's), else voxd's
 * default voice.
 * Audio: 16-bit mono PCM at the voice's rate, in chunks of at most VX_WY_CHUNK_SAMPLES
 * samples (1024: 46 ms at 22050 Hz, what wyoming-piper sends), so a satellite starts
 * playing early.
 * Errors: an error event {text, code} (code: the job's, or bad_event, unknown_event,
 * not_streaming, already_streaming); a broken framing (header line over the limit, not
 * a JSON object, bad lengths) gets one and the connection closes. Limits: header line
 * VX_WY_MAX_LINE, data max_body (as an HTTP body: --max-input's text as JSON), payload
 * VX_WY_MAX_PAYLOAD; a partial event must complete within --header-timeout, an idle
 * connection closes after --idle-timeout, a client that reads nothing for --write-timeout
 * is dropped. Output above VX_WY_WRITE_HIGH pauses the job (vx_job_pause) until it falls
 * below VX_WY_WRITE_LOW. A disconnect cancels the connection's job.
 */
#include "wyoming_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ output */

static void conn_close(wy_conn *c);

size_t vx_wy_pending(const wy_conn *c) { return c->out_len + c->wr_len; }

static int out_append(wy_conn *c, const void *p, size_t n) {
    if (c->closing) return -1;
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 8192;
        while (cap < c->out_len + n) cap *= 2;
        char *q = realloc(c->out, cap);
        if (!q) {
            conn_close(c);
            return -1;
        }
        c->out = q;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    c->w->srv->metrics.bytes_out += n;
    return 0;
}

static void on_write(uv_write_t *req, int status);

/* One write in flight; what comes meanwhile goes out together after it. */
void vx_wy_flush(wy_conn *c) {
    if (c->writing || c->closing || !c->out_len) return;
    char *t = c->wr;
    size_t tc = c->wr_cap;
    c->wr = c->out;
    c->wr_cap = c->out_cap;
    c->wr_len = c->out_len;
    c->out = t;
    c->out_cap = tc;
    c->out_len = 0;
    c->writing = 1;
    c->last_progress = vx_now();
    uv_buf_t b = uv_buf_init(c->wr, (unsigned)c->wr_len);
    if (uv_write(&c->wreq, &c->io.st, &b, 1, on_write)) {
        c->writing = 0;
        conn_close(c);
    }
}

static void on_write(uv_write_t *req, int status) {
    wy_conn *c = req->data;
    c->writing = 0;
    c->wr_len = 0;
    c->last_progress = vx_now();
    if (c->closing) return;
    if (status < 0) return conn_close(c);
    vx_wy_flush(c);
    if (c->job && vx_job_paused(c->job) && vx_wy_pending(c) < VX_WY_WRITE_LOW)
        vx_job_resume(c->job);
    if (!c->closing && c->close_after_write && !c->writing && !c->out_len) conn_close(c);
}

/* An event: header line, data (JSON, may be NULL), payload. */
void vx_wy_send_raw(wy_conn *c, const char *type, const char *data, size_t dlen,
                    const void *payload, size_t plen) {
    char head[256];
    size_t hl = vx_wy_header(head, sizeof head, type, dlen, plen);
    if (!hl || out_append(c, head, hl)) return;
    if (dlen && out_append(c, data, dlen)) return;
    if (plen) out_append(c, payload, plen);
}

void vx_wy_send_event(wy_conn *c, const char *type, cJSON *data) {
    char *js = data ? cJSON_PrintUnformatted(data) : NULL;
    cJSON_Delete(data);
    if (data && !js) return conn_close(c);
    vx_wy_send_raw(c, type, js, js ? strlen(js) : 0, NULL, 0);
    free(js);
}

void vx_wy_send_error(wy_conn *c, const char *text, const char *code) {
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "text", text);
    cJSON_AddStringToObject(d, "code", code ? code : "error");
    vx_wy_send_event(c, "error", d);
}

/* ------------------------------------------------------------ input */

static void read_start(wy_conn *c);

static int busy(const wy_conn *c) { return c->mode == WY_ONESHOT || c->mode == WY_STREAM_STOP; }

/* Every complete event while no answer is being made. */
void vx_wy_process(wy_conn *c) {
    if (c->in_process || c->closing) return;
    c->in_process = 1;
    size_t off = 0;
    while (!c->closing && !c->close_after_write && !busy(c)) {
        vx_wy_event ev;
        size_t used;
        char err[200];
        int rc = vx_wy_parse(&c->w->lim, c->in + off, c->in_len - off, &ev, &used, err, sizeof err);
        if (rc == VX_WY_MORE && !used) break;
        if (rc == VX_WY_BROKEN) {
            vx_wy_send_error(c, err, "bad_event");
            c->close_after_write = 1;
            break;
        }
        if (rc == VX_WY_BAD) vx_wy_send_error(c, err, "bad_event");
        if (rc == VX_WY_EVENT) {
            vx_wy_handle(c, &ev);
            vx_wy_event_free(&ev);
        }
        off += used;
    }
    if (off && !c->closing) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    c->in_process = 0;
    if (c->closing) return;
    vx_wy_flush(c);
    if (c->close_after_write && !c->writing && !c->out_len) return conn_close(c);
    if (!c->close_after_write) read_start(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    wy_conn *c = h->data;
    size_t want = 65536;
    if (c->in_cap - c->in_len < want) {
        size_t cap = c->in_cap ? c->in_cap : 65536;
        while (cap - c->in_len < want) cap *= 2;
        char *p = realloc(c->in, cap);
        if (!p) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        c->in = p;
        c->in_cap = cap;
    }
    *buf = uv_buf_init(c->in + c->in_len, (unsigned)want);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
    wy_conn *c = st->data;
    if (nread == 0) return;
    if (nread < 0) return conn_close(c); /* EOF or error: its job is cancelled */
    if (c->close_after_write) return;    /* answered with an error, closing: discard */
    c->in_len += (size_t)nread;
    c->last_active = vx_now();
    /* bounded: while an answer is made, read ahead at most VX_WY_READ_AHEAD; otherwise
     * the parser refuses an event over the limits before this grows past them */
    const vx_wy_limits *l = &c->w->lim;
    if (c->in_len > l->max_line + l->max_data + l->max_payload + VX_WY_READ_AHEAD) {
        vx_wy_send_error(c, "input over the limits", "bad_event");
        c->close_after_write = 1;
        vx_wy_flush(c);
        return;
    }
    if (busy(c)) {
        if (c->in_len > VX_WY_READ_AHEAD && c->reading) {
            uv_read_stop(&c->io.st);
            c->reading = 0;
        }
        return;
    }
    vx_wy_process(c);
}

static void read_start(wy_conn *c) {
    if (!c->reading && !c->closing && !uv_read_start(&c->io.st, on_alloc, on_read)) c->reading = 1;
}

/* ------------------------------------------------------------ connections */

static void on_closed(uv_handle_t *h) {
    wy_conn *c = h->data;
    free(c->in);
    free(c->out);
    free(c->wr);
    free(c);
}

static void conn_close(wy_conn *c) {
    if (c->closing) return;
    c->closing = 1;
    if (c->job) {
        vx_job_cancel(c->job);
        c->job = NULL;
    }
    vx_wyoming *w = c->w;
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    w->n_conns--;
    uv_close(&c->io.h, on_closed);
}

static void on_connection(uv_stream_t *l, int status) {
    vx_wyoming *w = l->data;
    vx_server *s = w->srv;
    if (status < 0) return;
    wy_conn *c = calloc(1, sizeof(*c));
    if (!c) return;
    c->w = w;
    if (w->is_pipe)
        uv_pipe_init(s->loop, &c->io.pipe, 0);
    else
        uv_tcp_init(s->loop, &c->io.tcp);
    c->io.h.data = c;
    c->wreq.data = c;
    if (uv_accept(l, &c->io.st) || s->draining || s->n_conns + w->n_conns >= s->cfg.max_conns) {
        c->closing = 1;
        uv_close(&c->io.h, (uv_close_cb)free);
        return;
    }
    if (!w->is_pipe) uv_tcp_nodelay(&c->io.tcp, 1);
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    w->n_conns++;
    s->metrics.connections_total++;
    c->last_active = c->last_progress = vx_now();
    read_start(c);
}

void vx_wyoming_sweep(vx_server *s, double now) {
    vx_wyoming *w = s->wyoming;
    if (!w) return;
    for (wy_conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        int idle = c->mode == WY_IDLE && !c->job;
        if (c->writing && now - c->last_progress > s->cfg.write_timeout)
            conn_close(c); /* the client stopped reading */
        else if (s->draining && (idle || now > s->drain_deadline))
            conn_close(c);
        else if (idle && c->in_len && now - c->last_active > s->cfg.header_timeout)
            conn_close(c); /* a partial event that does not complete */
        else if (idle && !c->in_len && now - c->last_active > s->cfg.idle_timeout)
            conn_close(c);
    }
}

/* ------------------------------------------------------------ listener */

static int parse_uri(vx_wyoming *w, const char *uri, char *host, size_t hcap, int *port, char *err,
                     size_t errlen) {
    if (!strncmp(uri, "unix://", 7)) {
        const char *p = uri + 7;
        if (!*p || strlen(p) >= sizeof w->path || strlen(p) >= 100) {
            snprintf(err, errlen, "--wyoming %s: bad socket path", uri);
            return -1;
        }
        snprintf(w->path, sizeof w->path, "%s", p);
        w->is_pipe = 1;
        return 0;
    }
    if (strncmp(uri, "tcp://", 6)) {
        snprintf(err, errlen, "--wyoming %s: want tcp://HOST[:PORT] or unix:///PATH", uri);
        return -1;
    }
    const char *h = uri + 6, *colon;
    *port = VX_WY_DEFAULT_PORT;
    size_t hl;
    if (*h == '[') { /* [v6]:port */
        const char *e = strchr(h, ']');
        if (!e) goto bad;
        hl = (size_t)(e - h - 1);
        h++;
        colon = e[1] == ':' ? e + 1 : NULL;
        if (e[1] && !colon) goto bad;
    } else {
        colon = strrchr(h, ':');
        hl = colon ? (size_t)(colon - h) : strlen(h);
    }
    if (!hl || hl >= hcap) goto bad;
    memcpy(host, h, hl);
    host[hl] = 0;
    if (colon) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (!colon[1] || *end || v < 0 || v > 65535) goto bad;
        *port = (int)v;
    }
    return 0;
bad:
    snprintf(err, errlen, "--wyoming %s: want tcp://HOST[:PORT] or unix:///PATH", uri);
    return -1;
}

int vx_wyoming_start(vx_server *s, const char *uri, char *err, size_t errlen) {
    vx_wyoming *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->srv = s;
    w->lim.max_line = VX_WY_MAX_LINE;
    w->lim.max_data = s->cfg.max_body;
    w->lim.max_payload = VX_WY_MAX_PAYLOAD;
    char host[128];
    int port = 0, rc;
    if (parse_uri(w, uri, host, sizeof host, &port, err, errlen)) {
        free(w);
        return -1;
    }
    w->l.h.data = w;
    if (w->is_pipe) {
        /* a socket left by an earlier run is replaced; any other file is not */
        struct stat st;
        if (!lstat(w->path, &st) && S_ISSOCK(st.st_mode)) unlink(w->path);
        uv_pipe_init(s->loop, &w->l.pipe, 0);
        w->l.h.data = w;
        if ((rc = uv_pipe_bind(&w->l.pipe, w->path)) ||
            (rc = uv_listen((uv_stream_t *)&w->l.pipe, 128, on_connection))) {
            snprintf(err, errlen, "cannot listen on %s: %s", uri, uv_strerror(rc));
            uv_close(&w->l.h, NULL);
            w->path[0] = 0;
            s->wyoming = w; /* freed with the server */
            return -1;
        }
        snprintf(w->where, sizeof w->where, "unix://%s", w->path);
    } else {
        struct sockaddr_storage ss;
        rc = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                               : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
        if (!rc) {
            uv_tcp_init(s->loop, &w->l.tcp);
            w->l.h.data = w;
            if ((rc = uv_tcp_bind(&w->l.tcp, (struct sockaddr *)&ss, 0)) ||
                (rc = uv_listen((uv_stream_t *)&w->l.tcp, 511, on_connection)))
                uv_close(&w->l.h, NULL);
        }
        if (rc) {
            snprintf(err, errlen, "cannot listen on %s: %s", uri, uv_strerror(rc));
            s->wyoming = w;
            return -1;
        }
        struct sockaddr_storage got;
        int len = sizeof(got);
        uv_tcp_getsockname(&w->l.tcp, (struct sockaddr *)&got, &len);
        int bound = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                                    : ((struct sockaddr_in *)&got)->sin_port);
        snprintf(w->where, sizeof w->where, "tcp://%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
                 strchr(host, ':') ? "]" : "", bound);
    }
    w->listening = 1;
    s->wyoming = w;
    vx_log(s, "wyoming on %s", w->where);
    return 0;
}

static void stop_listening(vx_wyoming *w) {
    if (!w->listening) return;
    w->listening = 0;
    uv_close(&w->l.h, NULL);
}

void vx_wyoming_drain(vx_server *s) {
    vx_wyoming *w = s->wyoming;
    if (!w) return;
    stop_listening(w);
    vx_wyoming_sweep(s, vx_now()); /* idle connections close now */
}

void vx_wyoming_stop(vx_server *s) {
    vx_wyoming *w = s->wyoming;
    if (!w) return;
    stop_listening(w);
    while (w->conns) conn_close(w->conns);
}

int vx_wyoming_conns(const vx_server *s) { return s->wyoming ? s->wyoming->n_conns : 0; }

void vx_wyoming_free(vx_server *s) {
    vx_wyoming *w = s->wyoming;
    if (!w) return;
    if (w->path[0]) unlink(w->path);
    cJSON_Delete(w->espeak);
    free(w);
    s->wyoming = NULL;
}

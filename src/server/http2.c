/*
 * http2.c — voxd's HTTP/2 front end on nghttp2 (h2 over TLS by ALPN, h2c by the client
 * preface on plaintext). nghttp2 does the framing, flow control and HPACK; this file
 * turns streams into requests (with voxd's header and body limits) and feeds response
 * bodies to nghttp2 through a deferred data source, so a slow stream waits without
 * blocking the others. Frames go out from vx_h2_pump, once per loop iteration, and stop
 * while more than VX_H2_WRITE_HIGH bytes wait for the socket.
 */
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "grpc.h"

#define VX_H2_MAX_STREAMS 100
#define VX_H2_DISCARD_MAX (16u << 20) /* request body bytes we drop after answering early */

/* ------------------------------------------------------------ responses */

static ssize_t h2_read_cb(nghttp2_session *h2, int32_t sid, uint8_t *buf, size_t length,
                          uint32_t *flags, nghttp2_data_source *src, void *user) {
    vx_req *r = src->ptr;
    size_t avail = r->out ? r->out->len - r->out_off : 0;
    if (!avail) {
        if (r->out_eof) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
            return 0;
        }
        r->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    size_t n = avail < length ? avail : length;
    memcpy(buf, r->out->data + r->out_off, n);
    r->out_off += n;
    r->out_progress = vx_now();
    if (r->out_off == r->out->len) {
        r->out->len = r->out_off = 0;
        if (r->out_eof) *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return (ssize_t)n;
}

static void h2_resume(vx_req *r) {
    if (r->deferred) {
        r->deferred = 0;
        nghttp2_session_resume_data(r->c->h2, r->stream_id);
    }
    vx_conn_touch(r->c);
}

void vx_h2_resp_start(vx_req *r, int status, const vx_hdr *h, int nh, long long content_length) {
    vx_conn *c = r->c;
    int no_body = status == 204 || status == 304;
    char cl[24], st[8];
    snprintf(cl, sizeof(cl), "%lld", content_length);
    snprintf(st, sizeof(st), "%d", status);
    nghttp2_nv nv[16];
    int n = 0;
#define NV(k, v)                                                                                   \
    nv[n++] =                                                                                      \
        (nghttp2_nv){(uint8_t *)(k), (uint8_t *)(v), strlen(k), strlen(v), NGHTTP2_NV_FLAG_NONE}
    NV(":status", st);
    NV("server", "voxd");
    for (int i = 0; i < nh && n < 14; i++) NV(h[i].name, h[i].value);
    if (content_length >= 0 && !no_body) NV("content-length", cl);
#undef NV
    r->out = vx_buf_get(&r->c->srv->bufs);
    nghttp2_data_provider prd = {.source.ptr = r, .read_callback = h2_read_cb};
    nghttp2_submit_response(c->h2, r->stream_id, nv, (size_t)n, no_body ? NULL : &prd);
    vx_conn_touch(c);
}

static size_t h2_out_pending(const vx_req *r) { return r->out ? r->out->len - r->out_off : 0; }

void vx_h2_resp_body(vx_req *r, const void *p, size_t n) {
    if (r->out_off && r->out_off >= r->out->len / 2) { /* keep the buffer compact */
        memmove(r->out->data, r->out->data + r->out_off, r->out->len - r->out_off);
        r->out->len -= r->out_off;
        r->out_off = 0;
    }
    if (!h2_out_pending(r)) r->out_progress = vx_now(); /* the output timeout starts */
    if (vx_buf_append(r->out, p, n)) {
        vx_resp_abort(r);
        return;
    }
    /* backpressure: the stream's window (or the socket) is slower than we speak; the
     * pump resumes the job below VX_RESP_OUT_LOW */
    if (r->job && h2_out_pending(r) > VX_RESP_OUT_HIGH) vx_job_pause(r->job);
    h2_resume(r);
}

/* Streams whose clients drained their output get their jobs going again. */
static void h2_resume_jobs(vx_conn *c) {
    for (vx_req *r = c->streams, *next; r && !c->closing; r = next) {
        next = r->next;
        /* gRPC streams keep their output (and their pause) in grpc.c */
        if (r->job && !vx_grpc_is(r) && vx_job_paused(r->job) &&
            h2_out_pending(r) < VX_RESP_OUT_LOW)
            vx_job_resume(r->job);
    }
}

void vx_h2_resp_end(vx_req *r) {
    r->out_eof = 1;
    h2_resume(r);
}

void vx_h2_resp_abort(vx_req *r) {
    nghttp2_submit_rst_stream(r->c->h2, NGHTTP2_FLAG_NONE, r->stream_id, NGHTTP2_INTERNAL_ERROR);
    vx_conn_touch(r->c);
}

/* ------------------------------------------------------------ requests */

static vx_req *h2_req(vx_conn *c, int32_t sid) {
    return nghttp2_session_get_stream_user_data(c->h2, sid);
}

static int h2_on_begin_headers(nghttp2_session *h2, const nghttp2_frame *f, void *user) {
    vx_conn *c = user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    vx_req *r = vx_req_new(c, f->hd.stream_id);
    if (!r) return NGHTTP2_ERR_CALLBACK_FAILURE;
    r->next = c->streams;
    if (c->streams) c->streams->prev = r;
    c->streams = r;
    c->n_streams++;
    r->in_last = vx_now();
    nghttp2_session_set_stream_user_data(h2, f->hd.stream_id, r);
    return 0;
}

static int h2_on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                        const uint8_t *value, size_t vl, uint8_t flags, void *user) {
    vx_conn *c = user;
    if (f->hd.type != NGHTTP2_HEADERS) return 0;
    vx_req *r = h2_req(c, f->hd.stream_id);
    if (!r || r->h2_err) return 0;
    r->h2_head_bytes += nl + vl + 32;
    if (r->h2_head_bytes > VX_H1_MAX_HEAD || ++r->h2_n_headers > VX_H1_MAX_HEADERS) {
        r->h2_err = 431;
        return 0;
    }
    if (nl == 7 && !memcmp(name, ":method", 7)) {
        if (vl >= sizeof(r->method))
            r->h2_err = 501;
        else {
            memcpy(r->method, value, vl);
            r->method[vl] = 0;
        }
    } else if (nl == 5 && !memcmp(name, ":path", 5)) {
        if (vl >= sizeof(r->path))
            r->h2_err = 414;
        else {
            memcpy(r->path, value, vl);
            r->path[vl] = 0;
        }
    } else if (nl == 13 && !memcmp(name, "authorization", 13)) {
        if (vl >= VX_AUTH_MAX)
            r->auth_too_long = 1;
        else {
            memcpy(r->auth, value, vl);
            r->auth_len = vl;
        }
    } else {
        vx_grpc_header(r, name, nl, value, vl); /* gRPC hook: content-type, grpc-* */
    }
    return 0;
}

static int h2_on_data(nghttp2_session *h2, uint8_t flags, int32_t sid, const uint8_t *data,
                      size_t len, void *user) {
    vx_conn *c = user;
    vx_req *r = h2_req(c, sid);
    if (!r) return 0;
    r->in_last = vx_now();
    if (vx_grpc_is(r)) { /* gRPC hook: grpc.c reads its messages as they arrive */
        vx_grpc_data(r, data, len);
        return 0;
    }
    if (r->body_overflow || r->head_sent) {
        /* Answered already (413): discard the upload so the client can read the answer,
         * but not forever. */
        r->discarded += len;
        if (r->discarded > VX_H2_DISCARD_MAX)
            nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
        return 0;
    }
    size_t have = r->body ? r->body->len : 0;
    if (have + len > c->srv->cfg.max_body) {
        r->body_overflow = 1;
        vx_resp_status_error(r, 413); /* answer now; the rest of the body is discarded */
        return 0;
    }
    if (!r->body && !(r->body = vx_buf_get(&c->srv->bufs))) return NGHTTP2_ERR_CALLBACK_FAILURE;
    if (vx_buf_append(r->body, data, len)) return NGHTTP2_ERR_CALLBACK_FAILURE;
    return 0;
}

static int h2_on_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *user) {
    vx_conn *c = user;
    if (f->hd.type == NGHTTP2_HEADERS) {
        vx_req *r = h2_req(c, f->hd.stream_id);
        if (r) r->in_last = vx_now(); /* the head is complete: the body timeout starts */
    }
    if (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) {
        /* gRPC hook: a gRPC call starts at its headers, not at the end of its body */
        vx_req *g = h2_req(c, f->hd.stream_id);
        if (g && vx_grpc_is(g)) {
            c->last_active = vx_now();
            if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
                vx_grpc_headers_done(g);
            if (f->hd.flags & NGHTTP2_FLAG_END_STREAM) {
                g->routed = 1; /* the request is complete: no per-stream request timeout */
                vx_grpc_end_stream(g);
            }
            return 0;
        }
    }
    if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
        !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    vx_req *r = h2_req(c, f->hd.stream_id);
    if (r) r->routed = 1;
    if (!r || r->head_sent || r->done) return 0;
    c->last_active = vx_now();
    if (r->h2_err)
        vx_resp_status_error(r, r->h2_err);
    else {
        r->t_start = vx_now();
        vx_route(r);
    }
    return 0;
}

static void unlink_stream(vx_conn *c, vx_req *r) {
    if (r->prev)
        r->prev->next = r->next;
    else
        c->streams = r->next;
    if (r->next) r->next->prev = r->prev;
    c->n_streams--;
}

static int h2_on_stream_close(nghttp2_session *h2, int32_t sid, uint32_t code, void *user) {
    vx_conn *c = user;
    if (c->closing) return 0;
    vx_req *r = h2_req(c, sid);
    if (!r) return 0;
    nghttp2_session_set_stream_user_data(h2, sid, NULL);
    unlink_stream(c, r);
    c->last_active = vx_now();
    vx_req_free(r);
    return 0;
}

/* ------------------------------------------------------------ sessions */

static nghttp2_session_callbacks *h2_new_callbacks(void) {
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb)) return NULL;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, h2_on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, h2_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, h2_on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, h2_on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2_on_stream_close);
    return cb;
}

void vx_h2_callbacks_free(vx_server *s) {
    if (s->h2_callbacks) nghttp2_session_callbacks_del(s->h2_callbacks);
    s->h2_callbacks = NULL;
}

int vx_h2_start(vx_conn *c) {
    vx_server *s = c->srv;
    if (!s->h2_callbacks && !(s->h2_callbacks = h2_new_callbacks())) return -1;
    nghttp2_option *opt;
    nghttp2_option_new(&opt);
    nghttp2_option_set_max_send_header_block_length(opt, 65536);
    nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
    int rc = nghttp2_session_server_new2(&c->h2, s->h2_callbacks, c, opt);
    nghttp2_option_del(opt);
    if (rc) return -1;
    c->proto = VX_PROTO_H2;
    c->head_start = 0; /* from now on the idle timeout applies, per connection */
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, VX_H2_MAX_STREAMS},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, VX_H1_MAX_HEAD},
    };
    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, 2);
    vx_conn_touch(c);
    return 0;
}

void vx_h2_feed(vx_conn *c, const char *p, size_t n) {
    ssize_t rc = nghttp2_session_mem_recv(c->h2, (const uint8_t *)p, n);
    if (rc < 0) {
        /* a fatal error (a flood, a callback failure): say GOAWAY, then close */
        nghttp2_session_terminate_session(
            c->h2, rc == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
        c->goaway_sent = 1;
        vx_conn_close_flush(c);
        return;
    }
    vx_conn_touch(c);
}

/*
 * Per stream: a request (HEADERS to END_STREAM) with no bytes for --header-timeout is
 * reset; output pending with nothing taken for --write-timeout (a window the client never
 * opens) ends the whole connection: its streams are reset, GOAWAY, close.
 */
void vx_h2_sweep(vx_conn *c, double now) {
    const vx_server_config *cfg = &c->srv->cfg;
    int stalled = 0;
    for (vx_req *r = c->streams; r; r = r->next) {
        if (!r->routed && now - r->in_last > cfg->header_timeout) {
            r->routed = 1;
            nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, r->stream_id, NGHTTP2_CANCEL);
            vx_conn_touch(c);
        }
        if (h2_out_pending(r) && now - r->out_progress > cfg->write_timeout) stalled = 1;
    }
    if (!stalled) return;
    for (vx_req *r = c->streams; r; r = r->next)
        nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, r->stream_id, NGHTTP2_CANCEL);
    if (!c->goaway_sent) vx_h2_goaway(c);
    vx_conn_close_flush(c);
}

void vx_h2_pump(vx_conn *c) {
    h2_resume_jobs(c);
    while (!c->closing && c->write_pending < VX_H2_WRITE_HIGH) {
        const uint8_t *d;
        ssize_t n = nghttp2_session_mem_send(c->h2, &d);
        if (n < 0) {
            vx_conn_close(c);
            return;
        }
        if (n == 0) break;
        vx_conn_send(c, d, (size_t)n);
    }
    if (c->closing) return;
    h2_resume_jobs(c);
    if (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2))
        c->close_after_write = 1;
    if (c->goaway_sent && c->n_streams == 0) c->close_after_write = 1;
}

void vx_h2_goaway(vx_conn *c) {
    nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->h2),
                          NGHTTP2_NO_ERROR, NULL, 0);
    c->goaway_sent = 1;
    vx_conn_touch(c);
}

/* The connection is closing: its streams' requests go (nghttp2 calls nothing back). */
void vx_h2_close_streams(vx_conn *c) {
    while (c->streams) {
        vx_req *r = c->streams;
        c->streams = r->next;
        if (c->h2) nghttp2_session_set_stream_user_data(c->h2, r->stream_id, NULL);
        vx_req_free(r);
    }
}

void vx_h2_conn_free(vx_conn *c) {
    if (c->h2) nghttp2_session_del(c->h2);
    c->h2 = NULL;
}

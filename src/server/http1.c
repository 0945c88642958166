/*
 * http1.c — voxd's HTTP/1.1 front end: request framing on the strict parser
 * (http1_parse.c), bodies by Content-Length or chunked, keep-alive, pipelining (one
 * request answered at a time, the next one parsed when it is done), chunked streaming
 * responses, and HTTP/1.0 clients (no chunking: an unknown length ends with the close).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

void vx_h1_resp_start(vx_req *r, int status, const vx_hdr *h, int nh, long long content_length) {
    vx_conn *c = r->c;
    int no_body = status == 204 || status == 304;
    char head[2048];
    int len = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nserver: voxd\r\n", status,
                       vx_status_reason(status));
    for (int i = 0; i < nh && len < (int)sizeof(head) - 200; i++)
        len +=
            snprintf(head + len, sizeof(head) - (size_t)len, "%s: %s\r\n", h[i].name, h[i].value);
    /* HTTP/1.0 has no chunked encoding: an unknown length ends with the connection. */
    int h10 = c->h1.minor == 0;
    if (c->srv->draining || (content_length < 0 && h10)) c->keep_alive = 0;
    if (no_body)
        ;
    else if (content_length >= 0)
        len += snprintf(head + len, sizeof(head) - (size_t)len, "content-length: %lld\r\n",
                        content_length);
    else if (!h10)
        len += snprintf(head + len, sizeof(head) - (size_t)len, "transfer-encoding: chunked\r\n");
    r->chunked = content_length < 0 && !h10 && !no_body;
    len += snprintf(head + len, sizeof(head) - (size_t)len, "connection: %s\r\n\r\n",
                    c->keep_alive ? "keep-alive" : "close");
    vx_conn_send(c, head, (size_t)len);
    vx_conn_touch(c);
}

void vx_h1_resp_body(vx_req *r, const void *p, size_t n) {
    vx_conn *c = r->c;
    if (r->chunked) {
        char hex[24];
        int k = snprintf(hex, sizeof(hex), "%zx\r\n", n);
        vx_conn_send(c, hex, (size_t)k);
        vx_conn_send(c, p, n);
        vx_conn_send(c, "\r\n", 2);
    } else {
        vx_conn_send(c, p, n);
    }
    vx_conn_touch(c);
    /* backpressure: the client reads slower than we speak; vx_h1_drained resumes */
    if (r->job && vx_conn_out_buffered(c) > VX_RESP_OUT_HIGH) vx_job_pause(r->job);
}

static void h1_next_request(vx_conn *c) {
    c->h1_wait_flush = 0;
    c->h1state = VX_H1_HEAD;
    c->head_start = 0;
    c->last_active = vx_now();
    if (!c->reading && !c->closing) vx_conn_read_start(c);
    if (!c->in_process && c->in->len) vx_h1_process(c);
}

static void h1_request_done(vx_conn *c) {
    vx_req *r = c->req;
    c->req = NULL;
    if (r) vx_req_free(r);
    vx_conn_touch(c);
    if (!c->keep_alive || c->srv->draining) {
        c->close_after_write = 1;
        return;
    }
    /* pipelining: the next request is parsed only once this response is (mostly) flushed,
     * so a client that sends many requests and reads nothing holds one response's output */
    if (vx_conn_out_buffered(c) >= VX_RESP_OUT_LOW)
        c->h1_wait_flush = 1;
    else
        h1_next_request(c);
}

void vx_h1_drained(vx_conn *c) {
    if (c->closing) return;
    if (c->req && c->req->job && vx_job_paused(c->req->job))
        vx_job_resume(c->req->job);
    else if (c->h1_wait_flush && !c->req)
        h1_next_request(c);
}

void vx_h1_resp_end(vx_req *r) {
    if (r->chunked) vx_conn_send(r->c, "0\r\n\r\n", 5);
    h1_request_done(r->c);
}

void vx_h1_resp_abort(vx_req *r) {
    vx_conn *c = r->c;
    /* A truncated chunked body (no last chunk) tells the client the response failed. */
    c->keep_alive = 0;
    c->close_after_write = 1;
    vx_conn_touch(c);
}

void vx_h1_fail(vx_conn *c, int status) {
    vx_api_error e;
    vx_api_set_error(&e, status, "invalid_request_error", "bad_request", NULL, "%s",
                     vx_status_reason(status));
    char *js = vx_api_error_json(&e);
    char head[256];
    size_t n = js ? strlen(js) : 0;
    int k = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nserver: voxd\r\ncontent-type: application/json\r\n"
                     "content-length: %zu\r\nconnection: close\r\n\r\n",
                     status, vx_status_reason(status), n);
    vx_conn_send(c, head, (size_t)k);
    vx_conn_send(c, js, n);
    free(js);
    vx_metrics_request(&c->srv->metrics, VX_ROUTE_OTHER, status);
    if (c->req) {
        vx_req_free(c->req);
        c->req = NULL;
    }
    c->h1state = VX_H1_BUSY;
    c->keep_alive = 0;
    c->close_after_write = 1;
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
    vx_conn_touch(c);
}

static void in_consume(vx_buf *b, size_t n) {
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

static int h1_start_request(vx_conn *c) {
    vx_server *s = c->srv;
    const vx_h1_request *h = &c->h1;
    if (h->target_len >= VX_PATH_MAX) return -414;
    vx_req *r = vx_req_new(c, 0);
    if (!r) return -503;
    c->req = r;
    snprintf(r->method, sizeof(r->method), "%s", h->method);
    memcpy(r->path, h->target, h->target_len);
    r->path[h->target_len] = 0;
    size_t al;
    const char *a = vx_h1_header_get(h, "authorization", &al);
    if (a) {
        if (al >= VX_AUTH_MAX)
            r->auth_too_long = 1;
        else {
            memcpy(r->auth, a, al);
            r->auth_len = al;
        }
    }
    c->keep_alive = h->keep_alive && !s->draining;
    if (h->content_length > (int64_t)s->cfg.max_body) return -413;
    if (h->content_length > 0 || h->chunked) {
        if (!(r->body = vx_buf_get(&s->bufs)) || vx_buf_reserve(r->body, s->cfg.max_body + 1))
            return -503;
    }
    if (h->expect_continue) vx_conn_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    return 0;
}

/* The body of c->req, once complete: 1 (consumed from c->in), 0 (need more), -status. */
static int h1_read_body(vx_conn *c) {
    vx_server *s = c->srv;
    vx_buf *in = c->in;
    size_t hl = c->h1.head_len, consumed = 0;
    vx_req *r = c->req;
    if (c->h1.chunked) {
        size_t outlen = 0;
        int rc = vx_h1_dechunk(in->data + hl, in->len - hl, r->body->data, s->cfg.max_body,
                               &consumed, &outlen);
        if (rc == 0 && in->len - hl > 2 * s->cfg.max_body + 4096) rc = -413;
        if (rc <= 0) return rc;
        r->body->len = outlen;
    } else {
        size_t cl = c->h1.content_length > 0 ? (size_t)c->h1.content_length : 0;
        if (in->len - hl < cl) return 0;
        if (cl) vx_buf_append(r->body, in->data + hl, cl);
        consumed = cl;
    }
    in_consume(in, hl + consumed);
    return 1;
}

void vx_h1_process(vx_conn *c) {
    if (c->in_process) return;
    c->in_process = 1;
    while (!c->closing && c->proto == VX_PROTO_H1) {
        vx_buf *in = c->in;
        if (c->h1state == VX_H1_HEAD) {
            if (!in->len) break;
            if (!c->head_start) c->head_start = vx_now();
            int rc = vx_h1_parse_head(in->data, in->len, &c->h1);
            if (rc == 0) break;
            if (rc < 0) {
                vx_h1_fail(c, -rc);
                break;
            }
            rc = h1_start_request(c);
            if (rc < 0) {
                vx_h1_fail(c, -rc);
                break;
            }
            c->h1state = VX_H1_BODY;
        }
        if (c->h1state == VX_H1_BODY) {
            int rc = h1_read_body(c);
            if (rc == 0) break;
            if (rc < 0) {
                vx_h1_fail(c, -rc);
                break;
            }
            c->h1state = VX_H1_BUSY;
            c->head_start = 0;
            c->req->t_start = vx_now();
            vx_route(c->req);
            continue;
        }
        break; /* BUSY: wait for the response to finish */
    }
    c->in_process = 0;
}

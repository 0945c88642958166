/*
 * resp.c — one HTTP exchange (an HTTP/1.1 request or an HTTP/2 stream) and its response.
 * Routes and speech answer through these calls whatever the protocol; each call goes to
 * the connection's front end (http1.c, http2.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "grpc.h"

/* Request objects are recycled (loop thread only, bounded). */
#define VX_REQ_POOL_MAX 256

vx_req *vx_req_new(vx_conn *c, int32_t stream_id) {
    vx_server *s = c->srv;
    vx_req *r = s->req_free;
    if (r) {
        s->req_free = r->next;
        s->n_req_free--;
        memset(r, 0, sizeof(*r));
    } else if (!(r = calloc(1, sizeof(*r)))) {
        return NULL;
    }
    r->c = c;
    r->stream_id = stream_id;
    r->route = VX_ROUTE_OTHER;
    r->t_start = vx_now();
    return r;
}

void vx_req_free(vx_req *r) {
    vx_grpc_free(r);                   /* a gRPC call's state and job (grpc.c) */
    if (r->job) vx_job_cancel(r->job); /* the client is gone before its audio */
    r->job = NULL;
    vx_buf_put(r->body);
    vx_buf_put(r->out);
    vx_server *s = r->c->srv;
    if (s->n_req_free < VX_REQ_POOL_MAX) {
        r->next = s->req_free;
        s->req_free = r;
        s->n_req_free++;
    } else {
        free(r);
    }
}

void vx_req_pool_drain(vx_server *s) {
    while (s->req_free) {
        vx_req *r = s->req_free;
        s->req_free = r->next;
        free(r);
    }
    s->n_req_free = 0;
}

const char *vx_status_reason(int st) {
    switch (st) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void vx_resp_start(vx_req *r, int status, const vx_hdr *h, int nh, long long content_length) {
    if (r->head_sent) return;
    r->head_sent = 1;
    r->status = status;
    if (r->route >= 0) vx_metrics_request(&r->c->srv->metrics, r->route, status);
    if (r->c->proto == VX_PROTO_H2)
        vx_h2_resp_start(r, status, h, nh, content_length);
    else
        vx_h1_resp_start(r, status, h, nh, content_length);
}

void vx_resp_body(vx_req *r, const void *p, size_t n) {
    if (!n || r->done) return;
    if (r->c->proto == VX_PROTO_H2)
        vx_h2_resp_body(r, p, n);
    else
        vx_h1_resp_body(r, p, n);
}

void vx_resp_end(vx_req *r) {
    if (r->done) return;
    r->done = 1;
    if (r->c->proto == VX_PROTO_H2)
        vx_h2_resp_end(r);
    else
        vx_h1_resp_end(r);
}

void vx_resp_abort(vx_req *r) {
    r->done = 1;
    if (r->c->proto == VX_PROTO_H2)
        vx_h2_resp_abort(r);
    else
        vx_h1_resp_abort(r);
}

void vx_resp_simple(vx_req *r, int status, const char *ctype, const char *body, size_t n,
                    const vx_hdr *extra, int n_extra) {
    vx_hdr h[8];
    int nh = 0;
    if (ctype) h[nh++] = (vx_hdr){"content-type", ctype};
    for (int i = 0; i < n_extra && nh < 8; i++) h[nh++] = extra[i];
    vx_resp_start(r, status, h, nh, (long long)n);
    vx_resp_body(r, body, n);
    vx_resp_end(r);
}

void vx_resp_error(vx_req *r, const vx_api_error *e) {
    char *js = vx_api_error_json(e);
    vx_hdr h[1] = {{"www-authenticate", "Bearer"}};
    vx_resp_simple(r, e->status, "application/json", js ? js : "{}", js ? strlen(js) : 2, h,
                   e->status == 401);
    free(js);
}

void vx_resp_status_error(vx_req *r, int status) {
    vx_api_error e;
    vx_api_set_error(&e, status, "invalid_request_error", "bad_request", NULL, "%s",
                     vx_status_reason(status));
    vx_resp_error(r, &e);
}

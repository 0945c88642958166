/*
 * conn.h — voxd's internal types and the functions its files call across each other.
 *
 * Files, one concern each (h2o's split), protocols above the speech-job interface:
 *   server.c      lifecycle: listen, accept, signals, drain, the worker completions
 *   conn.c        a connection's read path (protocol detection) and write path (pooled
 *                 64 KiB write blocks, coalesced once per loop iteration), timeouts, close
 *   tls.c         TLS 1.3 (1.2 optional) over memory BIOs, ALPN h2 / http/1.1
 *   http1.c       HTTP/1.1 front end (framing, keep-alive, pipelining) on http1_parse.c
 *   http2.c       HTTP/2 front end on nghttp2
 *   resp.c        requests and responses, the same calls for both protocols
 *   routes.c      the routing table and the small JSON endpoints
 *   openai.c      POST /v1/audio/speech: an OpenAI request (api.c) as a speech job
 *   ---------     job.h: the protocol-neutral interface every front end uses
 *   job.c         speech jobs: voice, sentences, scheduling, order, cancel, deadlines
 *   scheduler.c   the worker threads and their earliest-deadline-first queue
 *   voices.c      the registry of loaded voices and the voice-directory listing
 *   backend*.c    synthesis backends: libvox, and a deterministic stub for tests
 *   buf.c         pooled byte buffers;  metrics.c  Prometheus metrics
 * The state of the whole process is one struct, vx_server (state.h).
 */
#ifndef VX_CONN_H
#define VX_CONN_H

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "http1_parse.h"
#include "job.h"
#include "state.h"

#define VX_AUTH_MAX 512
#define VX_PATH_MAX 1024

typedef struct vx_hdr {
    const char *name, *value;
} vx_hdr;

/* One HTTP exchange: an HTTP/1.1 request or an HTTP/2 stream. Loop thread only. */
struct vx_req {
    vx_conn *c;
    int32_t stream_id;   /* h2; 0 for HTTP/1.1 */
    vx_req *next, *prev; /* h2: the connection's open streams */
    char method[16];
    char path[VX_PATH_MAX];
    char auth[VX_AUTH_MAX];
    size_t auth_len;
    int auth_too_long;
    int h2_err; /* h2: status to answer when headers broke a limit */
    size_t h2_head_bytes;
    int h2_n_headers;
    vx_buf *body;
    int body_overflow;
    size_t discarded; /* h2: body bytes dropped after an early answer */
    int route;
    int status; /* sent status, 0 before */
    int head_sent;
    int chunked; /* h1 streaming response */
    int done;    /* response complete */
    double t_start;
    /* h2 output */
    vx_buf *out;
    size_t out_off;
    int out_eof, deferred;
    vx_job *job;
    int routed;                /* h2: the request is complete (or timed out) */
    double in_last;            /* h2: last request bytes (HEADERS, DATA) on this stream */
    double out_progress;       /* h2: output became pending, or was last taken */
    int sse;                   /* OpenAI stream_format "sse" (openai.c) */
    size_t sse_chars;          /* input characters, for speech.audio.done's usage */
    struct vx_grpc_call *grpc; /* gRPC call state (grpc.c), NULL for other streams */
};

enum { VX_PROTO_DETECT, VX_PROTO_H1, VX_PROTO_H2 };
enum { VX_H1_HEAD, VX_H1_BODY, VX_H1_BUSY };

struct vx_wblock {
    uv_write_t wr;
    vx_conn *c;
    struct vx_wblock *next; /* pool free list */
    size_t len;
    char data[65536];
};

struct vx_conn {
    uv_tcp_t tcp;
    vx_server *srv;
    vx_conn *prev, *next; /* all connections */
    vx_conn *dirty_next;
    int dirty;
    int tls_listener;
    SSL *ssl;
    BIO *rbio, *wbio;
    int proto;
    nghttp2_session *h2;
    vx_req *streams;
    int n_streams;
    vx_buf *in;
    int h1state;
    vx_h1_request h1;
    vx_req *req; /* h1 current request */
    int keep_alive;
    int in_process;
    int closing;
    int close_after_write;
    int goaway_sent;
    int reading;
    int lingering; /* response done: FIN sent, draining input before close */
    uv_shutdown_t sreq;
    double linger_start;
    vx_wblock *wcur;
    size_t write_pending;
    double last_active, head_start, last_write_progress;
    int h1_wait_flush;          /* response done: the next request waits for the flush */
    int input_dead;             /* closing after a flush: input is discarded */
    unsigned long long written; /* bytes the socket accepted */
    double wt_start;            /* --min-rate window: start, and `written` then */
    unsigned long long wt_bytes;
};

#define VX_H2_WRITE_HIGH (1u << 20) /* stop producing h2 frames above this many unsent bytes */
/* Backpressure: a response (an h1 connection's output, an h2 stream's) holding more than
 * VX_RESP_OUT_HIGH unsent bytes pauses its speech job (job.h) until the client drained it
 * below VX_RESP_OUT_LOW; so memory per response is about HIGH plus one sentence's audio. */
#define VX_RESP_OUT_HIGH (256u << 10)
#define VX_RESP_OUT_LOW  (64u << 10)
/* The kernel's send buffer per connection (Linux doubles it): without a fixed size it grows
 * to tcp_wmem's maximum (4 MiB) per client, kernel memory that RSS does not show and that
 * hides a slow reader from --min-rate for minutes. 64 KiB (128 in fact) still carries
 * megabytes a second at WAN round trips, far above any audio rate. */
#define VX_SOCK_SNDBUF    (64 << 10)
#define VX_LINGER_SECONDS 2.0 /* after the last response: drain input this long */

/* Connections (conn.c). */
void vx_conn_send(vx_conn *c, const void *data, size_t n);
/* Room in the current write block (a new block when full); NULL when the connection is
 * closing or out of memory (it is closed then). vx_conn_out_commit: n bytes were filled. */
char *vx_conn_out_space(vx_conn *c, size_t *avail);
void vx_conn_out_commit(vx_conn *c, size_t n);
void vx_conn_touch(vx_conn *c);       /* flush (and pump h2) before the next poll */
void vx_conn_on_check(uv_check_t *h); /* the once-per-iteration flush */
void vx_conn_feed(vx_conn *c, const char *p, size_t n); /* plaintext in: detect, h1, h2 */
void vx_conn_read_start(vx_conn *c);
void vx_conn_close(vx_conn *c);
void vx_conn_close_flush(vx_conn *c); /* close once what is queued (GOAWAY, alert) is out */
size_t vx_conn_out_buffered(const vx_conn *c); /* queued, not yet taken by the socket */
void vx_conn_sweep(vx_server *s, double now);  /* header, idle, write and linger timeouts */
void vx_wblock_pool_drain(vx_server *s);

/* TLS (tls.c). */
SSL_CTX *vx_tls_ctx_new(const vx_server_config *cfg, char *err, size_t errlen);
int vx_tls_conn_init(vx_conn *c, SSL_CTX *ctx); /* 0 or -1 */
void vx_tls_feed(vx_conn *c, const char *p, size_t n);
void vx_tls_send(vx_conn *c, const void *data, size_t n);
void vx_tls_shutdown(vx_conn *c); /* close_notify, if the handshake finished */
int vx_tls_handshaking(const vx_conn *c);
void vx_tls_conn_free(vx_conn *c);

/* HTTP/1.1 (http1.c). */
void vx_h1_process(vx_conn *c);
void vx_h1_fail(vx_conn *c, int status); /* error answer, then close */
void vx_h1_resp_start(vx_req *r, int status, const vx_hdr *h, int nh, long long content_length);
void vx_h1_resp_body(vx_req *r, const void *p, size_t n);
void vx_h1_resp_end(vx_req *r);
void vx_h1_resp_abort(vx_req *r);
void vx_h1_drained(vx_conn *c); /* output fell below VX_RESP_OUT_LOW */

/* HTTP/2 (http2.c). */
int vx_h2_start(vx_conn *c); /* 0 or -1 */
void vx_h2_feed(vx_conn *c, const char *p, size_t n);
void vx_h2_pump(vx_conn *c); /* frames out, up to VX_H2_WRITE_HIGH */
void vx_h2_goaway(vx_conn *c);
void vx_h2_sweep(vx_conn *c, double now); /* per-stream request and output timeouts */
void vx_h2_close_streams(vx_conn *c);
void vx_h2_conn_free(vx_conn *c);
void vx_h2_resp_start(vx_req *r, int status, const vx_hdr *h, int nh, long long content_length);
void vx_h2_resp_body(vx_req *r, const void *p, size_t n);
void vx_h2_resp_end(vx_req *r);
void vx_h2_resp_abort(vx_req *r);
void vx_h2_callbacks_free(vx_server *s);

/* Requests (resp.c). */
vx_req *vx_req_new(vx_conn *c, int32_t stream_id);
void vx_req_free(vx_req *r);
void vx_req_pool_drain(vx_server *s);
const char *vx_status_reason(int status);

/* Responses (server.c), the same for both protocols. */
void vx_resp_start(vx_req *r, int status, const vx_hdr *h, int nh, long long content_length);
void vx_resp_body(vx_req *r, const void *p, size_t n);
void vx_resp_end(vx_req *r);
void vx_resp_abort(vx_req *r);
void vx_resp_simple(vx_req *r, int status, const char *ctype, const char *body, size_t n,
                    const vx_hdr *extra, int n_extra);
void vx_resp_error(vx_req *r, const vx_api_error *e);
void vx_resp_status_error(vx_req *r, int status); /* a protocol error: "bad_request" + reason */

/* Routes (routes.c): a complete request (head and body) is answered. */
void vx_route(vx_req *r);

/* POST /v1/audio/speech (openai.c): the request becomes a speech job (job.h). */
void vx_openai_speech(vx_server *s, vx_req *r);

#endif

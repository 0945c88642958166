/*
 * conn.h — internal types of voxd shared by server.c (transport) and speech.c (jobs).
 */
#ifndef VX_CONN_H
#define VX_CONN_H

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "api.h"
#include "engine.h"
#include "http1.h"
#include "metrics.h"
#include "pool.h"
#include "server.h"

typedef struct vx_server vx_server;
typedef struct vx_conn vx_conn;
typedef struct vx_req vx_req;
typedef struct vx_job vx_job;

#define VX_AUTH_MAX 512
#define VX_PATH_MAX 1024

typedef struct vx_hdr {
    const char *name, *value;
} vx_hdr;

/* One HTTP exchange: an HTTP/1.1 request or an HTTP/2 stream. Loop thread only. */
struct vx_req {
    vx_conn *c;
    int32_t stream_id;            /* h2; 0 for HTTP/1.1 */
    vx_req *next, *prev;          /* h2: the connection's open streams */
    char method[16];
    char path[VX_PATH_MAX];
    char auth[VX_AUTH_MAX];
    size_t auth_len;
    int auth_too_long;
    int h2_err;                   /* h2: status to answer when headers broke a limit */
    size_t h2_head_bytes;
    int h2_n_headers;
    vx_buf *body;
    int body_overflow;
    size_t discarded;             /* h2: body bytes dropped after an early answer */
    int route;
    int status;                   /* sent status, 0 before */
    int head_sent;
    int chunked;                  /* h1 streaming response */
    int done;                     /* response complete */
    double t_start;
    /* h2 output */
    vx_buf *out;
    size_t out_off;
    int out_eof, deferred;
    vx_job *job;
};

enum { VX_PROTO_DETECT, VX_PROTO_H1, VX_PROTO_H2 };
enum { VX_H1_HEAD, VX_H1_BODY, VX_H1_BUSY };

typedef struct vx_wblock {
    uv_write_t wr;
    vx_conn *c;
    struct vx_wblock *next;       /* pool free list */
    size_t len;
    char data[65536];
} vx_wblock;

struct vx_conn {
    uv_tcp_t tcp;
    vx_server *srv;
    vx_conn *prev, *next;         /* all connections */
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
    vx_req *req;                  /* h1 current request */
    int keep_alive;
    int in_process;
    int closing;
    int close_after_write;
    int goaway_sent;
    int reading;
    int lingering;                /* response done: FIN sent, draining input before close */
    uv_shutdown_t sreq;
    double linger_start;
    vx_wblock *wcur;
    size_t write_pending;
    double last_active, head_start, last_write_progress;
};

struct vx_server {
    vx_server_config cfg;
    uv_loop_t *loop;
    uv_tcp_t listener, plain_listener;
    int have_listener, have_plain;
    uv_async_t async;
    uv_timer_t sweep;
    uv_check_t check;
    uv_idle_t idle;
    uv_signal_t sigterm, sigint;
    SSL_CTX *ssl_ctx;
    vx_engine engine;
    vx_voices voices;
    vx_pool pool;
    vx_api_config api;
    vx_metrics metrics;
    vx_conn *conns;
    int n_conns;
    vx_conn *dirty;
    vx_job *jobs;                 /* live jobs (loop thread) */
    int n_jobs;
    vx_wblock *wfree;
    int n_wfree;
    int ready;
    int draining;
    double drain_deadline;
    int exit_code;
    vx_node load_nodes[9];        /* default voice + preloads */
    int load_rc[9];
    char load_err[9][256];
    int loads_pending;
};

double vx_now(void);

/* Responses (server.c), the same for both protocols. */
void vx_resp_start(vx_req *r, int status, const vx_hdr *h, int nh, long long content_length);
void vx_resp_body(vx_req *r, const void *p, size_t n);
void vx_resp_end(vx_req *r);
void vx_resp_abort(vx_req *r);
void vx_resp_simple(vx_req *r, int status, const char *ctype, const char *body, size_t n,
                    const vx_hdr *extra, int n_extra);
void vx_resp_error(vx_req *r, const vx_api_error *e);
void vx_conn_touch(vx_conn *c);

/* Speech jobs (speech.c). */
void vx_speech_start(vx_server *s, vx_req *r);
void vx_speech_detach(vx_req *r);           /* the request is gone: cancel its job */
void vx_speech_on_done(vx_server *s, vx_node *n);
void vx_speech_worker(vx_pool *p, vx_node *n);
void vx_speech_sweep(vx_server *s, double now);
void vx_speech_pool_drain(void);            /* free pooled jobs at exit */
/* Seconds of audio that text[0..len) will about make with sp's speed options: the
 * scheduling estimate (VX_SPEECH_CHARS_PER_SEC characters a second at speed 1, plus the
 * sentence silence). Only the order of deadlines depends on it. */
#define VX_SPEECH_CHARS_PER_SEC 14.0
double vx_speech_est_secs(const vx_speech_req *sp, const char *text, size_t len);

enum { VX_NODE_PREPARE = 1, VX_NODE_SENTENCE = 2, VX_NODE_LOAD = 3 };

#endif

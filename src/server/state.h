/*
 * state.h — the state of a voxd process in one struct (as redis keeps its own in
 * struct redisServer): configuration, the event loop and its handles, connections, the
 * scheduler, voices, jobs, metrics and every recycling pool. vx_server_run allocates the
 * one instance and hands it to each handle (handle->data) and connection (c->srv); no
 * file of voxd keeps state of its own in statics.
 *
 * Threads: the event loop owns everything here except what is marked otherwise
 * (the scheduler, the voice registry and the buffer pool are thread-safe; load_* are
 * written by the worker that runs the load task and read by the loop after it is done).
 */
#ifndef VX_STATE_H
#define VX_STATE_H

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "api.h"
#include "backend.h"
#include "buf.h"
#include "job.h"
#include "metrics.h"
#include "scheduler.h"
#include "server.h"
#include "voices.h"

typedef struct vx_server vx_server;
typedef struct vx_conn vx_conn;
typedef struct vx_req vx_req;
typedef struct vx_job vx_job;
typedef struct vx_wblock vx_wblock;

/* vx_task.kind */
enum {
    VX_TASK_PREPARE = 1,
    VX_TASK_SENTENCE = 2,
    VX_TASK_LOAD = 3,
    VX_TASK_SPLIT = 4,   /* an open job's text split (job.c) */
    VX_TASK_PROGRESS = 5 /* a sentence has new audio (job.c); not a task a worker runs */
};

#define VX_MAX_LOADS 9 /* the default voice + up to 8 preloads */

struct vx_server {
    vx_server_config cfg;
    vx_api_config api; /* the OpenAI layer's view of cfg */
    /* event loop (server.c) */
    uv_loop_t *loop;
    uv_tcp_t listener, plain_listener;
    int have_listener, have_plain;
    uv_async_t async; /* workers -> loop: completions are waiting */
    uv_timer_t sweep; /* timeouts, 4 times a second */
    uv_check_t check; /* flushes dirty connections once per iteration */
    uv_idle_t idle;
    uv_signal_t sigterm, sigint;
    int ready; /* every start-up voice is loaded */
    int draining;
    double drain_deadline;
    int exit_code;
    /* connections (conn.c) */
    vx_conn *conns;
    int n_conns;
    vx_conn *dirty;   /* to flush at the next check */
    vx_wblock *wfree; /* recycled write blocks */
    int n_wfree;
    char read_buf[65536]; /* one loop thread: reads are consumed synchronously */
    /* protocols */
    SSL_CTX *ssl_ctx;                        /* NULL: no TLS (tls.c) */
    char tls_buf[16384];                     /* decrypted bytes, consumed at once (tls.c) */
    nghttp2_session_callbacks *h2_callbacks; /* made at the first h2 connection (http2.c) */
    vx_req *req_free;                        /* recycled request objects (resp.c) */
    int n_req_free;
    /* synthesis */
    vx_backend backend;
    vx_voices voices;
    vox_lexicon_watch *lex[8];            /* --lexicon: one watch per spec (hot reload) */
    char lex_voice[8][VX_VOICE_NAME_MAX]; /* its voice, "" = every voice */
    int n_lex;
    vx_sched sched;
    vx_buf_pool bufs; /* thread-safe */
    vx_job *jobs;     /* live jobs */
    int n_jobs;
    vx_job *job_free; /* recycled jobs */
    int n_job_free;
    vx_task load_tasks[VX_MAX_LOADS];
    int load_rc[VX_MAX_LOADS];
    char load_err[VX_MAX_LOADS][256];
    int loads_pending;
    vx_metrics metrics;
    struct vx_wyoming *wyoming; /* --wyoming front end (wyoming.c), or NULL */
    char home_voices[512];      /* the default voice dir without --data-dir (server.c) */
};

double vx_now(void);
void vx_log(vx_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* lexicons.c: --lexicon (open at start-up: 0, or -1 with a message on stderr) */
int vx_lexicons_open(vx_server *s);
vox_lexicon *vx_lexicons_for(vx_server *s, const char *voice);
void vx_lexicons_close(vx_server *s);

#endif

/*
 * server.h — voxd: an OpenAI-compatible speech server on libvox.
 *
 * Transport: libuv event loop + nghttp2 (HTTP/2) + OpenSSL (TLS 1.3, ALPN) + our own strict
 * HTTP/1.1 parser (http1.c). Why not h2o: Debian 12 ships h2o 2.2.5 (2018), without the
 * fixes and APIs of 2.3; nghttp2 1.52 + libuv 1.44 + OpenSSL 3.0 are current in Debian 12,
 * small, and each does one thing, which keeps the I/O path ours to reason about.
 * Synthesis runs on a worker pool; the loop thread never calls into the engine.
 */
#ifndef VX_SERVER_H
#define VX_SERVER_H

#include <stddef.h>

#include "api.h"

typedef struct vx_server_config {
    const char *host;          /* default 127.0.0.1 */
    int port;                  /* default 5500; 0 = any free port */
    int plain_port;            /* with TLS: also serve plaintext (h1/h2c) here; -1 = none */
    int workers;               /* 0 = number of CPUs */
    int queue;                 /* speech requests admitted at once; more -> 429 */
    const char *default_voice; /* default espeak:en-us */
    const char *preload[8];    /* more voices to load at start; /readyz waits for all */
    int n_preload;
    const char *data_dirs[8];
    int n_data_dirs;
    const char *lexicons[8]; /* "FILE" (every voice) or "VOICE=FILE"; reloaded on change */
    int n_lexicons;
    int precision; /* VOX_PRECISION_* for Piper voices (default FP32) */
    int loudness;  /* VOX_NORMALIZE_* of requests that do not ask (default STEADY: streams) */
    vx_voice_precision voice_precision[8]; /* per-voice overrides (--voice-precision) */
    int n_voice_precision;
    const char *api_key;   /* NULL/"" = no auth */
    size_t max_input;      /* characters, default 4096 */
    size_t max_body;       /* bytes; default derived from max_input */
    double timeout;        /* per speech request, seconds (default 60) */
    double header_timeout; /* a request head must arrive within this (default 10 s) */
    double idle_timeout;   /* keep-alive idle connections close after this (default 60 s) */
    double write_timeout;  /* a client that reads nothing for this long is dropped (30 s) */
    double min_rate;       /* with output pending, the client must take this many bytes
                                   a second over each write-timeout window (default 1024) */
    double max_audio;      /* seconds of audio per request at most (default 600); more
                                   is a 400 (estimated up front) or an aborted stream */
    int max_conns;         /* default 1024 */
    const char *tls_cert, *tls_key;
    int tls12; /* also allow TLS 1.2 */
    vx_alias aliases[VX_MAX_ALIASES];
    int n_aliases;
    int stub_delay_ms; /* >= 0: use the stub engine (tests); -1: libvox */
    int quiet;
    const char *port_file; /* write the bound port(s) here once listening (tests) */
    const char *wyoming;   /* --wyoming tcp://HOST[:PORT] | unix:///PATH (wyoming.h) */
    int no_http;           /* --no-http: Wyoming only */
} vx_server_config;

void vx_server_config_init(vx_server_config *c);
/* Run until SIGTERM/SIGINT has drained in-flight requests. Returns the exit code. */
int vx_server_run(const vx_server_config *c);

#endif

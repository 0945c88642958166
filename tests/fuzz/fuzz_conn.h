/*
 * fuzz_conn.h — a voxd connection without a network, for the connection-level fuzz targets
 * (fuzz_http_h2.c, fuzz_http_h1conn.c): one server state (no workers, --queue 0, so a
 * speech request is parsed to the end and answered 429 without synthesis), one connection
 * on one end of a socketpair whose other end is drained and discarded. Input goes through
 * vx_conn_feed exactly as the read callback hands it on, in pieces; after each piece the
 * loop's once-per-iteration flush runs; at the end the timeouts fire (a sweep far in the
 * future) and the connection closes.
 */
#ifndef VX_FUZZ_CONN_H
#define VX_FUZZ_CONN_H

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/conn.h"

static vx_server *fz_srv;
static uv_loop_t fz_loop;

static void fz_init(void) {
    if (fz_srv) return;
    fz_srv = calloc(1, sizeof(*fz_srv));
    vx_server *s = fz_srv;
    vx_server_config_init(&s->cfg);
    s->cfg.queue = 0;
    s->cfg.quiet = 1;
    s->cfg.max_body = s->cfg.max_input * 12 + 16384;
    s->api.default_voice = s->cfg.default_voice;
    s->api.max_input_chars = s->cfg.max_input;
    uv_loop_init(&fz_loop);
    s->loop = &fz_loop;
    uv_idle_init(&fz_loop, &s->idle);
    s->check.data = s;
    vx_buf_pool_init(&s->bufs);
    vx_metrics_init(&s->metrics);
    vx_voices_init(&s->voices, &s->backend);
}

static void fz_drain(int fd) {
    char b[65536];
    while (read(fd, b, sizeof b) > 0) {}
}

/* Feeds data in pieces whose sizes come from `sizes` (cycled; 0 -> 1). */
static void fz_run(const char *prefix, size_t plen, const uint8_t *data, size_t size,
                   const uint8_t *sizes, size_t n_sizes) {
    fz_init();
    vx_server *s = fz_srv;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv)) return;
    vx_conn *c = calloc(1, sizeof(*c));
    c->srv = s;
    uv_tcp_init(&fz_loop, &c->tcp);
    c->tcp.data = c;
    uv_tcp_open(&c->tcp, sv[0]);
    c->in = vx_buf_get(&s->bufs);
    s->conns = c;
    s->n_conns = 1;
    c->proto = VX_PROTO_DETECT;
    c->last_active = c->last_write_progress = c->head_start = vx_now();
    if (plen) vx_conn_feed(c, prefix, plen);
    size_t off = 0, k = 0;
    while (off < size && !c->closing) {
        size_t n = n_sizes ? sizes[k++ % n_sizes] : size;
        if (!n) n = 1;
        if (n > size - off) n = size - off;
        if (!c->lingering && !c->input_dead) vx_conn_feed(c, (const char *)data + off, n);
        off += n;
        vx_conn_on_check(&s->check);
        fz_drain(sv[1]);
    }
    if (!c->closing) {
        vx_conn_sweep(s, vx_now() + 1e6); /* every timeout fires */
        vx_conn_on_check(&s->check);
    }
    if (!c->closing) vx_conn_close(c);
    uv_run(&fz_loop, UV_RUN_NOWAIT); /* close callbacks: the connection is freed */
    close(sv[1]);
}

#endif

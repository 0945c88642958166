/*
 * conn.c — a connection's byte paths.
 *
 * Output: every byte for a connection goes through vx_conn_send into pooled 64 KiB write
 * blocks; blocks are submitted to uv_write when full and, for the rest, once per loop
 * iteration from a uv_check handle (so many small writes coalesce into one syscall).
 * Input: TLS (tls.c) or plaintext bytes reach vx_conn_feed, which tells HTTP/2 (the
 * client preface) from HTTP/1.1 and hands them on.
 * Also here: the per-connection timeouts and the close (with a lingering FIN first).
 */
#include <stdlib.h>
#include <string.h>

#include "conn.h"

#define VX_WBLOCK_POOL_MAX 64

/* ------------------------------------------------------------ write blocks */

static vx_wblock *wblock_get(vx_server *s) {
    vx_wblock *b = s->wfree;
    if (b) {
        s->wfree = b->next;
        s->n_wfree--;
    } else if (!(b = malloc(sizeof(*b)))) {
        return NULL;
    }
    b->len = 0;
    b->next = NULL;
    return b;
}

static void wblock_put(vx_server *s, vx_wblock *b) {
    if (s->n_wfree < VX_WBLOCK_POOL_MAX) {
        b->next = s->wfree;
        s->wfree = b;
        s->n_wfree++;
    } else {
        free(b);
    }
}

void vx_wblock_pool_drain(vx_server *s) {
    while (s->wfree) {
        vx_wblock *b = s->wfree;
        s->wfree = b->next;
        free(b);
    }
    s->n_wfree = 0;
}

static void on_write(uv_write_t *wr, int status) {
    vx_wblock *b = wr->data;
    vx_conn *c = b->c;
    vx_server *s = c->srv;
    c->write_pending -= b->len;
    c->written += b->len;
    c->last_write_progress = vx_now();
    wblock_put(s, b);
    if (status < 0) {
        vx_conn_close(c);
        return;
    }
    if (c->write_pending < VX_H2_WRITE_HIGH / 2 || (c->close_after_write && !c->write_pending))
        vx_conn_touch(c);
    if (c->proto == VX_PROTO_H1 && vx_conn_out_buffered(c) < VX_RESP_OUT_LOW) vx_h1_drained(c);
}

size_t vx_conn_out_buffered(const vx_conn *c) {
    return c->write_pending + (c->wcur ? c->wcur->len : 0);
}

static void submit(vx_conn *c) {
    vx_wblock *b = c->wcur;
    c->wcur = NULL;
    if (!b) return;
    if (!b->len || c->closing) {
        wblock_put(c->srv, b);
        return;
    }
    b->c = c;
    b->wr.data = b;
    uv_buf_t ub = uv_buf_init(b->data, (unsigned)b->len);
    c->write_pending += b->len;
    if (uv_write(&b->wr, (uv_stream_t *)&c->tcp, &ub, 1, on_write)) {
        c->write_pending -= b->len;
        wblock_put(c->srv, b);
        vx_conn_close(c);
    }
}

char *vx_conn_out_space(vx_conn *c, size_t *avail) {
    if (c->closing) return NULL;
    if (!c->wcur && !(c->wcur = wblock_get(c->srv))) {
        vx_conn_close(c);
        return NULL;
    }
    *avail = sizeof(c->wcur->data) - c->wcur->len;
    return c->wcur->data + c->wcur->len;
}

void vx_conn_out_commit(vx_conn *c, size_t n) {
    c->wcur->len += n;
    if (c->wcur->len == sizeof(c->wcur->data)) submit(c);
}

static void out_raw(vx_conn *c, const char *p, size_t n) {
    while (n) {
        size_t k;
        char *dst = vx_conn_out_space(c, &k);
        if (!dst) return;
        if (k > n) k = n;
        memcpy(dst, p, k);
        vx_conn_out_commit(c, k);
        p += k;
        n -= k;
    }
}

void vx_conn_send(vx_conn *c, const void *data, size_t n) {
    if (c->closing || !n) return;
    c->srv->metrics.bytes_out += n;
    if (c->ssl)
        vx_tls_send(c, data, n);
    else
        out_raw(c, data, n);
}

static void on_idle(uv_idle_t *h) {}

void vx_conn_touch(vx_conn *c) {
    if (c->dirty || c->closing) return;
    c->dirty = 1;
    c->dirty_next = c->srv->dirty;
    c->srv->dirty = c;
    /* An active idle handle makes the next poll non-blocking, so the check runs soon. */
    uv_idle_start(&c->srv->idle, on_idle);
}

static void on_shutdown(uv_shutdown_t *req, int status) {}

/*
 * Closing right after the last write would make the kernel answer unread request bytes
 * with a RST, which can destroy the response before the client reads it. So: send FIN
 * (after the pending writes), keep reading and discarding for up to VX_LINGER_SECONDS,
 * then close.
 */
static void conn_linger(vx_conn *c) {
    if (c->lingering || c->closing) return;
    c->lingering = 1;
    c->linger_start = vx_now();
    if (c->ssl) {
        vx_tls_shutdown(c);
        submit(c);
    }
    if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown)) {
        vx_conn_close(c);
        return;
    }
    vx_conn_read_start(c);
}

void vx_conn_on_check(uv_check_t *h) {
    vx_server *s = h->data;
    while (s->dirty) {
        vx_conn *list = s->dirty;
        s->dirty = NULL;
        while (list) {
            vx_conn *c = list;
            list = c->dirty_next;
            c->dirty = 0;
            c->dirty_next = NULL;
            if (c->closing || c->lingering) continue;
            if (c->h2) vx_h2_pump(c);
            if (c->closing) continue;
            submit(c);
            if (c->close_after_write && !c->write_pending) conn_linger(c);
        }
    }
    uv_idle_stop(&s->idle);
}

/* ------------------------------------------------------------ read path */

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

void vx_conn_feed(vx_conn *c, const char *p, size_t n) {
    vx_server *s = c->srv;
    if (c->proto == VX_PROTO_H2) return vx_h2_feed(c, p, n);
    /* HTTP/1.1 (and protocol detection): buffer, bounded. */
    if (vx_buf_append(c->in, p, n)) return vx_conn_close(c);
    if (c->proto == VX_PROTO_DETECT) {
        size_t k = c->in->len < 24 ? c->in->len : 24;
        if (memcmp(c->in->data, h2_preface, k)) {
            c->proto = VX_PROTO_H1;
        } else if (k == 24) {
            if (vx_h2_start(c)) return vx_conn_close(c);
            size_t len = c->in->len;
            c->in->len = 0;
            return vx_h2_feed(c, c->in->data, len);
        } else {
            return;
        }
    }
    if (c->in->len > VX_H1_MAX_HEAD + 2 * s->cfg.max_body + 65536 && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp); /* pipelined too far ahead: pause the client */
        c->reading = 0;
    }
    vx_h1_process(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    vx_server *s = ((vx_conn *)h->data)->srv;
    *buf = uv_buf_init(s->read_buf, sizeof(s->read_buf));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
    vx_conn *c = st->data;
    if (nread == 0) return;
    if (nread < 0) {
        vx_conn_close(c);
        return;
    }
    if (c->lingering || c->input_dead) return; /* discard */
    c->last_active = vx_now();
    if (c->ssl)
        vx_tls_feed(c, buf->base, (size_t)nread);
    else
        vx_conn_feed(c, buf->base, (size_t)nread);
}

void vx_conn_read_start(vx_conn *c) {
    if (!c->reading && !c->closing && !uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read))
        c->reading = 1;
}

/* ------------------------------------------------------------ timeouts and close */

/*
 * The write timeout: with output pending, each --write-timeout window must see the socket
 * take at least --min-rate bytes a second (and some bytes at all), so a client that reads
 * a little now and then to keep the connection is dropped too.
 */
static int write_stalled(vx_server *s, vx_conn *c, double now) {
    if (!c->write_pending) {
        c->wt_start = 0;
        return 0;
    }
    if (!c->wt_start) {
        c->wt_start = now;
        c->wt_bytes = c->written;
        return 0;
    }
    double dt = now - c->wt_start;
    if (dt < s->cfg.write_timeout) return 0;
    unsigned long long got = c->written - c->wt_bytes;
    if (!got || (double)got < s->cfg.min_rate * dt) return 1;
    c->wt_start = now;
    c->wt_bytes = c->written;
    return 0;
}

void vx_conn_sweep(vx_server *s, double now) {
    for (vx_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->h2 && !c->closing && !c->lingering) vx_h2_sweep(c, now);
        if (c->closing) continue;
        int busy = c->req || c->n_streams > 0;
        if (c->lingering) {
            if (now - c->linger_start > VX_LINGER_SECONDS) vx_conn_close(c);
        } else if (write_stalled(s, c, now)) {
            vx_conn_close(c); /* the client stopped reading, or reads too slowly */
        } else if (vx_tls_handshaking(c)) {
            if (now - c->head_start > s->cfg.header_timeout) vx_conn_close(c);
        } else if (c->proto != VX_PROTO_H2 && c->head_start && c->h1state != VX_H1_BUSY &&
                   now - c->head_start > s->cfg.header_timeout) {
            if (c->proto == VX_PROTO_H1)
                vx_h1_fail(c, 408);
            else
                vx_conn_close(c);
        } else if (!busy && !c->head_start && now - c->last_active > s->cfg.idle_timeout) {
            if (c->h2 && !c->goaway_sent)
                vx_h2_goaway(c);
            else if (!c->h2)
                vx_conn_close(c);
        }
    }
}

static void on_conn_closed(uv_handle_t *h) {
    vx_conn *c = h->data;
    vx_server *s = c->srv;
    /* Drop from the dirty list if it got there after the last check. */
    for (vx_conn **pp = &s->dirty; *pp; pp = &(*pp)->dirty_next)
        if (*pp == c) {
            *pp = c->dirty_next;
            break;
        }
    vx_tls_conn_free(c);
    vx_h2_conn_free(c);
    vx_buf_put(c->in);
    if (c->wcur) wblock_put(s, c->wcur);
    free(c);
}

/* An error ends the connection, but what is queued for it (an HTTP/2 GOAWAY, a TLS alert,
 * an error answer) goes out first: the close waits for the writes, bounded by the write
 * timeout, then lingers. Input from now on is discarded. */
void vx_conn_close_flush(vx_conn *c) {
    if (c->closing) return;
    c->input_dead = 1;
    c->close_after_write = 1;
    vx_conn_touch(c);
}

void vx_conn_close(vx_conn *c) {
    if (c->closing) return;
    c->closing = 1;
    vx_server *s = c->srv;
    if (c->req) {
        vx_req_free(c->req);
        c->req = NULL;
    }
    vx_h2_close_streams(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->n_conns--;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

/*
 * server.c — voxd's transport: libuv event loop, TLS via OpenSSL memory BIOs, HTTP/2 via
 * nghttp2, HTTP/1.1 via http1.c; routing and the small JSON endpoints.
 *
 * Output path: every byte for a connection goes through conn_send into pooled 64 KiB
 * write blocks; blocks are submitted to uv_write when full and, for the rest, once per
 * loop iteration from a uv_check handle (so many small writes coalesce into one syscall).
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/err.h>

#include "conn.h"

extern const char vx_web_index_html[];
extern const size_t vx_web_index_html_len;

#define VX_WBLOCK_POOL_MAX 64
#define VX_H2_WRITE_HIGH (1u << 20)   /* stop producing h2 frames above this many unsent bytes */
#define VX_H2_MAX_STREAMS 100
#define VX_H2_DISCARD_MAX (16u << 20) /* request body bytes we drop after answering early */

void vx_conn_read_start(vx_conn *c);

static char read_buf[65536];          /* one loop thread: reads are consumed synchronously */
static char tls_buf[16384];
static nghttp2_session_callbacks *h2_callbacks;

double vx_now(void) { return (double)uv_hrtime() / 1e9; }

static void logf_(vx_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(vx_server *s, const char *fmt, ...) {
    if (s->cfg.quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "voxd: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void vx_server_config_init(vx_server_config *c) {
    memset(c, 0, sizeof(*c));
    c->host = "127.0.0.1";
    c->port = 5500;
    c->plain_port = -1;
    c->queue = 64;
    c->default_voice = "espeak:en-us";
    c->max_input = 4096;
    c->timeout = 60;
    c->header_timeout = 10;
    c->idle_timeout = 60;
    c->write_timeout = 30;
    c->max_conns = 1024;
    c->stub_delay_ms = -1;
}

/* ------------------------------------------------------------ write path */

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

static void conn_close(vx_conn *c);

static void on_write(uv_write_t *wr, int status) {
    vx_wblock *b = wr->data;
    vx_conn *c = b->c;
    vx_server *s = c->srv;
    c->write_pending -= b->len;
    c->last_write_progress = vx_now();
    wblock_put(s, b);
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->write_pending < VX_H2_WRITE_HIGH / 2 || (c->close_after_write && !c->write_pending))
        vx_conn_touch(c);
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
        conn_close(c);
    }
}

static void out_raw(vx_conn *c, const char *p, size_t n) {
    while (n && !c->closing) {
        if (!c->wcur && !(c->wcur = wblock_get(c->srv))) {
            conn_close(c);
            return;
        }
        size_t k = sizeof(c->wcur->data) - c->wcur->len;
        if (k > n) k = n;
        memcpy(c->wcur->data + c->wcur->len, p, k);
        c->wcur->len += k;
        p += k;
        n -= k;
        if (c->wcur->len == sizeof(c->wcur->data)) submit(c);
    }
}

static void tls_drain(vx_conn *c) {
    while (!c->closing && BIO_ctrl_pending(c->wbio) > 0) {
        if (!c->wcur && !(c->wcur = wblock_get(c->srv))) {
            conn_close(c);
            return;
        }
        int k = BIO_read(c->wbio, c->wcur->data + c->wcur->len,
                         (int)(sizeof(c->wcur->data) - c->wcur->len));
        if (k <= 0) break;
        c->wcur->len += (size_t)k;
        if (c->wcur->len == sizeof(c->wcur->data)) submit(c);
    }
}

static void conn_send(vx_conn *c, const void *data, size_t n) {
    if (c->closing || !n) return;
    c->srv->metrics.bytes_out += n;
    if (!c->ssl) {
        out_raw(c, data, n);
        return;
    }
    const char *p = data;
    while (n) {
        int k = SSL_write(c->ssl, p, (int)(n > 16384 ? 16384 : n));
        if (k <= 0) {
            conn_close(c);
            return;
        }
        p += k;
        n -= (size_t)k;
        tls_drain(c);
    }
}

static uv_idle_t *idle_handle(vx_server *s) { return &s->idle; }
static void on_idle(uv_idle_t *h) {}

void vx_conn_touch(vx_conn *c) {
    if (c->dirty || c->closing) return;
    c->dirty = 1;
    c->dirty_next = c->srv->dirty;
    c->srv->dirty = c;
    /* An active idle handle makes the next poll non-blocking, so the check runs soon. */
    uv_idle_start(idle_handle(c->srv), on_idle);
}

static void h2_pump(vx_conn *c);
static void conn_linger(vx_conn *c);

static void on_check(uv_check_t *h) {
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
            if (c->h2) h2_pump(c);
            if (c->closing) continue;
            submit(c);
            if (c->close_after_write && !c->write_pending) conn_linger(c);
        }
    }
    uv_idle_stop(&s->idle);
}

/* ------------------------------------------------------------ requests */

/* Request objects are recycled (loop thread only, bounded). */
#define VX_REQ_POOL_MAX 256
static vx_req *req_pool;
static int req_pool_n;

static vx_req *req_new(vx_conn *c, int32_t stream_id) {
    vx_req *r = req_pool;
    if (r) {
        req_pool = r->next;
        req_pool_n--;
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

static void req_free(vx_req *r) {
    vx_speech_detach(r);
    vx_buf_put(r->body);
    vx_buf_put(r->out);
    if (req_pool_n < VX_REQ_POOL_MAX) {
        r->next = req_pool;
        req_pool = r;
        req_pool_n++;
    } else {
        free(r);
    }
}

static void req_pool_drain(void) {
    while (req_pool) {
        vx_req *r = req_pool;
        req_pool = r->next;
        free(r);
    }
    req_pool_n = 0;
}

static const char *reason(int st) {
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

void vx_resp_start(vx_req *r, int status, const vx_hdr *h, int nh, long long content_length) {
    vx_conn *c = r->c;
    if (r->head_sent) return;
    r->head_sent = 1;
    r->status = status;
    if (r->route >= 0) vx_metrics_request(&c->srv->metrics, r->route, status);
    int no_body = status == 204 || status == 304;
    char cl[24];
    snprintf(cl, sizeof(cl), "%lld", content_length);
    if (c->proto == VX_PROTO_H2) {
        nghttp2_nv nv[16];
        int n = 0;
        char st[8];
        snprintf(st, sizeof(st), "%d", status);
#define NV(k, v) nv[n++] = (nghttp2_nv){(uint8_t *)(k), (uint8_t *)(v), strlen(k), strlen(v), \
                                        NGHTTP2_NV_FLAG_NONE}
        NV(":status", st);
        NV("server", "voxd");
        for (int i = 0; i < nh && n < 14; i++) NV(h[i].name, h[i].value);
        if (content_length >= 0 && !no_body) NV("content-length", cl);
#undef NV
        r->out = vx_buf_get();
        nghttp2_data_provider prd = {.source.ptr = r, .read_callback = h2_read_cb};
        nghttp2_submit_response(c->h2, r->stream_id, nv, (size_t)n, no_body ? NULL : &prd);
        vx_conn_touch(c);
        return;
    }
    char head[2048];
    int len = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nserver: voxd\r\n", status,
                       reason(status));
    for (int i = 0; i < nh && len < (int)sizeof(head) - 200; i++)
        len += snprintf(head + len, sizeof(head) - (size_t)len, "%s: %s\r\n", h[i].name,
                        h[i].value);
    /* HTTP/1.0 has no chunked encoding: an unknown length ends with the connection. */
    int h10 = c->h1.minor == 0;
    if (c->srv->draining || (content_length < 0 && h10)) c->keep_alive = 0;
    if (no_body)
        ;
    else if (content_length >= 0)
        len += snprintf(head + len, sizeof(head) - (size_t)len, "content-length: %s\r\n", cl);
    else if (!h10)
        len += snprintf(head + len, sizeof(head) - (size_t)len, "transfer-encoding: chunked\r\n");
    r->chunked = content_length < 0 && !h10 && !no_body;
    len += snprintf(head + len, sizeof(head) - (size_t)len, "connection: %s\r\n\r\n",
                    c->keep_alive ? "keep-alive" : "close");
    conn_send(c, head, (size_t)len);
    vx_conn_touch(c);
}

void vx_resp_body(vx_req *r, const void *p, size_t n) {
    vx_conn *c = r->c;
    if (!n || r->done) return;
    if (c->proto == VX_PROTO_H2) {
        if (vx_buf_append(r->out, p, n)) {
            vx_resp_abort(r);
            return;
        }
        h2_resume(r);
        return;
    }
    if (r->chunked) {
        char hex[24];
        int k = snprintf(hex, sizeof(hex), "%zx\r\n", n);
        conn_send(c, hex, (size_t)k);
        conn_send(c, p, n);
        conn_send(c, "\r\n", 2);
    } else {
        conn_send(c, p, n);
    }
    vx_conn_touch(c);
}

static void h1_process(vx_conn *c);

static void h1_request_done(vx_conn *c) {
    vx_req *r = c->req;
    c->req = NULL;
    if (r) req_free(r);
    vx_conn_touch(c);
    if (!c->keep_alive || c->srv->draining) {
        c->close_after_write = 1;
        return;
    }
    c->h1state = VX_H1_HEAD;
    c->head_start = 0;
    c->last_active = vx_now();
    if (!c->reading && !c->closing) vx_conn_read_start(c);
    if (!c->in_process && c->in->len) h1_process(c);
}

void vx_resp_end(vx_req *r) {
    vx_conn *c = r->c;
    if (r->done) return;
    r->done = 1;
    if (c->proto == VX_PROTO_H2) {
        r->out_eof = 1;
        h2_resume(r);
        return;
    }
    if (r->chunked) conn_send(c, "0\r\n\r\n", 5);
    h1_request_done(c);
}

void vx_resp_abort(vx_req *r) {
    vx_conn *c = r->c;
    r->done = 1;
    if (c->proto == VX_PROTO_H2) {
        nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, r->stream_id, NGHTTP2_INTERNAL_ERROR);
        vx_conn_touch(c);
        return;
    }
    /* A truncated chunked body (no last chunk) tells the client the response failed. */
    c->keep_alive = 0;
    c->close_after_write = 1;
    vx_conn_touch(c);
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

static void resp_json(vx_req *r, int status, cJSON *root) {
    char *js = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    vx_resp_simple(r, status, "application/json", js ? js : "{}", js ? strlen(js) : 2, NULL, 0);
    free(js);
}

/* ------------------------------------------------------------ routes */

static void voice_json(cJSON *arr, vx_server *s, const vx_voice_meta *m, void *voice,
                       cJSON *speakers) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", m->name);
    cJSON_AddStringToObject(o, "object", "voice");
    cJSON_AddStringToObject(o, "kind", m->kind);
    cJSON_AddStringToObject(o, "language", m->language);
    cJSON_AddStringToObject(o, "quality", m->quality);
    cJSON_AddNumberToObject(o, "sample_rate", m->sample_rate);
    cJSON_AddNumberToObject(o, "num_speakers", m->num_speakers);
    cJSON *sp = speakers ? speakers : cJSON_CreateArray();
    cJSON_AddItemToObject(o, "speakers", sp);
    for (int i = 0; voice && m->num_speakers > 1 && i < m->num_speakers && i < 1000; i++) {
        const char *nm = s->engine.speaker_name(voice, i);
        char def[16];
        snprintf(def, sizeof(def), "%d", i);
        cJSON_AddItemToArray(sp, cJSON_CreateString(nm ? nm : def));
    }
    cJSON_AddBoolToObject(o, "loaded", voice != NULL);
    cJSON_AddBoolToObject(o, "default", !strcmp(m->name, s->cfg.default_voice));
    cJSON_AddItemToArray(arr, o);
}

/* Piper voice config (name.onnx.json) -> meta, for voices not loaded yet. */
static int read_voice_config(const char *path, vx_voice_meta *m, cJSON **speakers) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!buf) return -1;
    cJSON *root = cJSON_ParseWithLength(buf, n);
    free(buf);
    if (!root) return -1;
    snprintf(m->kind, sizeof(m->kind), "piper");
    const cJSON *audio = cJSON_GetObjectItem(root, "audio");
    const cJSON *sr = cJSON_GetObjectItem(audio, "sample_rate");
    const cJSON *q = cJSON_GetObjectItem(audio, "quality");
    const cJSON *lang = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "language"), "code");
    const cJSON *ns = cJSON_GetObjectItem(root, "num_speakers");
    m->sample_rate = cJSON_IsNumber(sr) ? sr->valueint : 22050;
    m->num_speakers = cJSON_IsNumber(ns) ? ns->valueint : 1;
    snprintf(m->quality, sizeof(m->quality), "%s", cJSON_IsString(q) ? q->valuestring : "");
    snprintf(m->language, sizeof(m->language), "%s", cJSON_IsString(lang) ? lang->valuestring : "");
    /* speaker_id_map {"name": id}: list names in id order for the page's speaker picker */
    const cJSON *map = cJSON_GetObjectItem(root, "speaker_id_map");
    *speakers = cJSON_CreateArray();
    for (int id = 0; m->num_speakers > 1 && id < m->num_speakers && id < 1000; id++) {
        const cJSON *it, *name = NULL;
        cJSON_ArrayForEach(it, map) if (cJSON_IsNumber(it) && it->valueint == id) name = it;
        char def[16];
        snprintf(def, sizeof(def), "%d", id);
        cJSON_AddItemToArray(*speakers, cJSON_CreateString(name ? name->string : def));
    }
    cJSON_Delete(root);
    return 0;
}

static void scan_data_dirs(vx_server *s, cJSON *arr) {
    int listed = 0;
    for (int d = 0; d < s->cfg.n_data_dirs; d++) {
        DIR *dir = opendir(s->cfg.data_dirs[d]);
        if (!dir) continue;
        struct dirent *e;
        while ((e = readdir(dir)) && listed < 256) {
            size_t l = strlen(e->d_name);
            if (l < 6 || l >= VX_VOICE_NAME_MAX || strcmp(e->d_name + l - 5, ".onnx")) continue;
            vx_voice_meta m;
            memset(&m, 0, sizeof(m));
            memcpy(m.name, e->d_name, l - 5);
            if (!vx_voice_name_ok(m.name) || vx_voices_find(&s->voices, m.name)) continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s.json", s->cfg.data_dirs[d], e->d_name);
            cJSON *speakers = NULL;
            if (read_voice_config(path, &m, &speakers)) continue;
            voice_json(arr, s, &m, NULL, speakers);
            listed++;
        }
        closedir(dir);
    }
}

static void route_voices(vx_server *s, vx_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "object", "list");
    cJSON *arr = cJSON_AddArrayToObject(root, "data");
    int n = atomic_load_explicit(&s->voices.n, memory_order_acquire);
    for (int i = 0; i < n; i++) voice_json(arr, s, &s->voices.ents[i].meta, s->voices.ents[i].voice, NULL);
    scan_data_dirs(s, arr);
    cJSON *al = cJSON_AddObjectToObject(root, "aliases");
    static const char *const names[] = {"alloy", "echo",  "fable", "onyx",   "nova",  "shimmer",
                                        "ash",   "coral", "sage",  "ballad", "verse"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = s->cfg.default_voice;
        for (int k = 0; k < s->cfg.n_aliases; k++)
            if (!strcmp(s->cfg.aliases[k].name, names[i])) v = s->cfg.aliases[k].voice;
        cJSON_AddStringToObject(al, names[i], v);
    }
    cJSON_AddStringToObject(root, "default", s->cfg.default_voice);
    resp_json(r, 200, root);
}

static void route_models(vx_server *s, vx_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "object", "list");
    cJSON *arr = cJSON_AddArrayToObject(root, "data");
    static const char *const models[] = {"tts-1", "tts-1-hd"};
    for (int i = 0; i < 2; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", models[i]);
        cJSON_AddStringToObject(o, "object", "model");
        cJSON_AddNumberToObject(o, "created", 0);
        cJSON_AddStringToObject(o, "owned_by", "vox");
        cJSON_AddItemToArray(arr, o);
    }
    /* Every loaded voice is also usable as a model name. */
    int n = atomic_load_explicit(&s->voices.n, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        const vx_voice_meta *m = &s->voices.ents[i].meta;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", m->name);
        cJSON_AddStringToObject(o, "object", "model");
        cJSON_AddNumberToObject(o, "created", 0);
        cJSON_AddStringToObject(o, "owned_by", "vox");
        cJSON_AddStringToObject(o, "language", m->language);
        cJSON_AddNumberToObject(o, "sample_rate", m->sample_rate);
        cJSON_AddNumberToObject(o, "num_speakers", m->num_speakers);
        cJSON_AddStringToObject(o, "quality", m->quality);
        cJSON_AddItemToArray(arr, o);
    }
    resp_json(r, 200, root);
}

static void route_metrics(vx_server *s, vx_req *r) {
    vx_buf *b = vx_buf_get();
    if (!b) return vx_resp_simple(r, 503, "text/plain", "no memory\n", 10, NULL, 0);
    /* Count this scrape before rendering so the output includes it. */
    vx_metrics_request(&s->metrics, VX_ROUTE_METRICS, 200);
    vx_metrics_render(&s->metrics, b, atomic_load(&s->pool.depth), s->n_jobs, s->n_conns,
                      s->pool.n_threads, s->ready);
    r->route = -1; /* already counted */
    vx_resp_simple(r, 200, "text/plain; version=0.0.4", b->data, b->len, NULL, 0);
    vx_buf_put(b);
}

static int auth_ok(vx_server *s, vx_req *r) {
    if (!s->cfg.api_key || !*s->cfg.api_key) return 1;
    if (r->auth_too_long) return 0;
    return vx_auth_ok(r->auth, r->auth_len, s->cfg.api_key);
}

static void dispatch(vx_req *r) {
    vx_conn *c = r->c;
    vx_server *s = c->srv;
    char *q = strchr(r->path, '?');
    if (q) *q = 0;
    const char *p = r->path, *m = r->method;
    int get = !strcmp(m, "GET"), post = !strcmp(m, "POST");
    struct { const char *path; int route, method_ok; } routes[] = {
        {"/v1/audio/speech", VX_ROUTE_SPEECH, post}, {"/v1/voices", VX_ROUTE_VOICES, get},
        {"/v1/models", VX_ROUTE_MODELS, get},        {"/healthz", VX_ROUTE_HEALTHZ, get},
        {"/readyz", VX_ROUTE_READYZ, get},           {"/metrics", VX_ROUTE_METRICS, get},
        {"/", VX_ROUTE_INDEX, get},                  {"/index.html", VX_ROUTE_INDEX, get},
    };
    int found = -1;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (!strcmp(p, routes[i].path)) found = (int)i;
    vx_api_error e;
    if (!strcmp(m, "OPTIONS")) {
        vx_hdr h[3] = {{"access-control-allow-origin", "*"},
                       {"access-control-allow-methods", "GET, POST, OPTIONS"},
                       {"access-control-allow-headers", "authorization, content-type"}};
        r->route = found >= 0 ? routes[found].route : VX_ROUTE_OTHER;
        vx_resp_simple(r, 204, NULL, NULL, 0, h, 3);
        return;
    }
    if (found < 0) {
        vx_api_set_error(&e, 404, "invalid_request_error", "not_found", NULL,
                         "no route for %.200s", p);
        return vx_resp_error(r, &e);
    }
    r->route = routes[found].route;
    if (!routes[found].method_ok) {
        vx_api_set_error(&e, 405, "invalid_request_error", "method_not_allowed", NULL,
                         "method %s not allowed on %s", m, p);
        return vx_resp_error(r, &e);
    }
    if (!strncmp(p, "/v1/", 4) && !auth_ok(s, r)) {
        vx_api_set_error(&e, 401, "invalid_request_error", "invalid_api_key", NULL,
                         "invalid or missing API key (Authorization: Bearer <key>)");
        return vx_resp_error(r, &e);
    }
    switch (r->route) {
    case VX_ROUTE_SPEECH: vx_speech_start(s, r); break;
    case VX_ROUTE_VOICES: route_voices(s, r); break;
    case VX_ROUTE_MODELS: route_models(s, r); break;
    case VX_ROUTE_HEALTHZ: vx_resp_simple(r, 200, "application/json", "{\"status\":\"ok\"}", 15, NULL, 0); break;
    case VX_ROUTE_READYZ:
        if (s->ready && !s->draining)
            vx_resp_simple(r, 200, "application/json", "{\"status\":\"ready\"}", 18, NULL, 0);
        else
            vx_resp_simple(r, 503, "application/json", "{\"status\":\"loading\"}", 20, NULL, 0);
        break;
    case VX_ROUTE_METRICS: route_metrics(s, r); break;
    case VX_ROUTE_INDEX:
        vx_resp_simple(r, 200, "text/html; charset=utf-8", vx_web_index_html,
                       vx_web_index_html_len, NULL, 0);
        break;
    }
}

/* ------------------------------------------------------------ HTTP/1.1 */

static void h1_fail(vx_conn *c, int status) {
    vx_api_error e;
    vx_api_set_error(&e, status, "invalid_request_error", "bad_request", NULL, "%s",
                     reason(status));
    char *js = vx_api_error_json(&e);
    char head[256];
    size_t n = js ? strlen(js) : 0;
    int k = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nserver: voxd\r\ncontent-type: application/json\r\n"
                     "content-length: %zu\r\nconnection: close\r\n\r\n",
                     status, reason(status), n);
    conn_send(c, head, (size_t)k);
    conn_send(c, js, n);
    free(js);
    vx_metrics_request(&c->srv->metrics, VX_ROUTE_OTHER, status);
    if (c->req) {
        req_free(c->req);
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
    vx_req *r = req_new(c, 0);
    if (!r) return -503;
    c->req = r;
    snprintf(r->method, sizeof(r->method), "%s", h->method);
    memcpy(r->path, h->target, h->target_len);
    r->path[h->target_len] = 0;
    size_t al;
    const char *a = vx_h1_header_get(h, "authorization", &al);
    if (a) {
        if (al >= VX_AUTH_MAX) r->auth_too_long = 1;
        else {
            memcpy(r->auth, a, al);
            r->auth_len = al;
        }
    }
    c->keep_alive = h->keep_alive && !s->draining;
    if (h->content_length > (int64_t)s->cfg.max_body) return -413;
    if (h->content_length > 0 || h->chunked) {
        if (!(r->body = vx_buf_get()) || vx_buf_reserve(r->body, s->cfg.max_body + 1)) return -503;
    }
    if (h->expect_continue) conn_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    return 0;
}

static void h1_process(vx_conn *c) {
    vx_server *s = c->srv;
    if (c->in_process) return;
    c->in_process = 1;
    while (!c->closing && c->proto == VX_PROTO_H1) {
        vx_buf *in = c->in;
        if (c->h1state == VX_H1_HEAD) {
            if (!in->len) break;
            if (!c->head_start) c->head_start = vx_now();
            int rc = vx_h1_parse_head(in->data, in->len, &c->h1);
            if (rc == 0) break;
            if (rc < 0) { h1_fail(c, -rc); break; }
            rc = h1_start_request(c);
            if (rc < 0) { h1_fail(c, -rc); break; }
            c->h1state = VX_H1_BODY;
        }
        if (c->h1state == VX_H1_BODY) {
            size_t hl = c->h1.head_len, consumed = 0;
            vx_req *r = c->req;
            if (c->h1.chunked) {
                size_t outlen = 0;
                int rc = vx_h1_dechunk(in->data + hl, in->len - hl, r->body->data,
                                       s->cfg.max_body, &consumed, &outlen);
                if (rc == 0 && in->len - hl > 2 * s->cfg.max_body + 4096) rc = -413;
                if (rc == 0) break;
                if (rc < 0) { h1_fail(c, -rc); break; }
                r->body->len = outlen;
            } else {
                size_t cl = c->h1.content_length > 0 ? (size_t)c->h1.content_length : 0;
                if (in->len - hl < cl) break;
                if (cl) vx_buf_append(r->body, in->data + hl, cl);
                consumed = cl;
            }
            in_consume(in, hl + consumed);
            c->h1state = VX_H1_BUSY;
            c->head_start = 0;
            r->t_start = vx_now();
            dispatch(r);
            continue;
        }
        break; /* BUSY: wait for the response to finish */
    }
    c->in_process = 0;
}

/* ------------------------------------------------------------ HTTP/2 */

static vx_req *h2_req(vx_conn *c, int32_t sid) {
    return nghttp2_session_get_stream_user_data(c->h2, sid);
}

static int h2_on_begin_headers(nghttp2_session *h2, const nghttp2_frame *f, void *user) {
    vx_conn *c = user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    vx_req *r = req_new(c, f->hd.stream_id);
    if (!r) return NGHTTP2_ERR_CALLBACK_FAILURE;
    r->next = c->streams;
    if (c->streams) c->streams->prev = r;
    c->streams = r;
    c->n_streams++;
    nghttp2_session_set_stream_user_data(h2, f->hd.stream_id, r);
    return 0;
}

static int h2_on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name,
                        size_t nl, const uint8_t *value, size_t vl, uint8_t flags, void *user) {
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
        if (vl >= sizeof(r->method)) r->h2_err = 501;
        else { memcpy(r->method, value, vl); r->method[vl] = 0; }
    } else if (nl == 5 && !memcmp(name, ":path", 5)) {
        if (vl >= sizeof(r->path)) r->h2_err = 414;
        else { memcpy(r->path, value, vl); r->path[vl] = 0; }
    } else if (nl == 13 && !memcmp(name, "authorization", 13)) {
        if (vl >= VX_AUTH_MAX) r->auth_too_long = 1;
        else { memcpy(r->auth, value, vl); r->auth_len = vl; }
    }
    return 0;
}

static void h2_error(vx_req *r, int status) {
    vx_api_error e;
    vx_api_set_error(&e, status, "invalid_request_error", "bad_request", NULL, "%s",
                     reason(status));
    vx_resp_error(r, &e);
}

static int h2_on_data(nghttp2_session *h2, uint8_t flags, int32_t sid, const uint8_t *data,
                      size_t len, void *user) {
    vx_conn *c = user;
    vx_req *r = h2_req(c, sid);
    if (!r) return 0;
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
        h2_error(r, 413); /* answer now; the rest of the body is discarded */
        return 0;
    }
    if (!r->body && !(r->body = vx_buf_get())) return NGHTTP2_ERR_CALLBACK_FAILURE;
    if (vx_buf_append(r->body, data, len)) return NGHTTP2_ERR_CALLBACK_FAILURE;
    return 0;
}

static int h2_on_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *user) {
    vx_conn *c = user;
    if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
        !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    vx_req *r = h2_req(c, f->hd.stream_id);
    if (!r || r->head_sent || r->done) return 0;
    c->last_active = vx_now();
    if (r->h2_err) h2_error(r, r->h2_err);
    else {
        r->t_start = vx_now();
        dispatch(r);
    }
    return 0;
}

static int h2_on_stream_close(nghttp2_session *h2, int32_t sid, uint32_t code, void *user) {
    vx_conn *c = user;
    if (c->closing) return 0;
    vx_req *r = h2_req(c, sid);
    if (!r) return 0;
    nghttp2_session_set_stream_user_data(h2, sid, NULL);
    if (r->prev) r->prev->next = r->next;
    else c->streams = r->next;
    if (r->next) r->next->prev = r->prev;
    c->n_streams--;
    c->last_active = vx_now();
    req_free(r);
    return 0;
}

static void h2_init_callbacks(void) {
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, h2_on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, h2_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, h2_on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, h2_on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2_on_stream_close);
    h2_callbacks = cb;
}

static int h2_start(vx_conn *c) {
    nghttp2_option *opt;
    nghttp2_option_new(&opt);
    nghttp2_option_set_max_send_header_block_length(opt, 65536);
    nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
    int rc = nghttp2_session_server_new2(&c->h2, h2_callbacks, c, opt);
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

static void h2_feed(vx_conn *c, const char *p, size_t n) {
    ssize_t rc = nghttp2_session_mem_recv(c->h2, (const uint8_t *)p, n);
    if (rc < 0) {
        conn_close(c);
        return;
    }
    vx_conn_touch(c);
}

static void h2_pump(vx_conn *c) {
    while (!c->closing && c->write_pending < VX_H2_WRITE_HIGH) {
        const uint8_t *d;
        ssize_t n = nghttp2_session_mem_send(c->h2, &d);
        if (n < 0) {
            conn_close(c);
            return;
        }
        if (n == 0) break;
        conn_send(c, d, (size_t)n);
    }
    if (c->closing) return;
    if (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2))
        c->close_after_write = 1;
    if (c->goaway_sent && c->n_streams == 0) c->close_after_write = 1;
}

/* ------------------------------------------------------------ connections */

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static void proto_feed(vx_conn *c, const char *p, size_t n) {
    vx_server *s = c->srv;
    if (c->proto == VX_PROTO_H2) return h2_feed(c, p, n);
    /* HTTP/1.1 (and protocol detection): buffer, bounded. */
    if (vx_buf_append(c->in, p, n)) return conn_close(c);
    if (c->proto == VX_PROTO_DETECT) {
        size_t k = c->in->len < 24 ? c->in->len : 24;
        if (memcmp(c->in->data, h2_preface, k)) {
            c->proto = VX_PROTO_H1;
        } else if (k == 24) {
            if (h2_start(c)) return conn_close(c);
            size_t len = c->in->len;
            c->in->len = 0;
            return h2_feed(c, c->in->data, len);
        } else {
            return;
        }
    }
    if (c->in->len > VX_H1_MAX_HEAD + 2 * s->cfg.max_body + 65536 && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp); /* pipelined too far ahead: pause the client */
        c->reading = 0;
    }
    h1_process(c);
}

static void tls_feed(vx_conn *c, const char *p, size_t n) {
    if (BIO_write(c->rbio, p, (int)n) != (int)n) return conn_close(c);
    if (!SSL_is_init_finished(c->ssl)) {
        int rc = SSL_do_handshake(c->ssl);
        tls_drain(c);
        if (rc <= 0) {
            int err = SSL_get_error(c->ssl, rc);
            if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) conn_close(c);
            vx_conn_touch(c);
            return;
        }
        const unsigned char *alpn = NULL;
        unsigned alen = 0;
        SSL_get0_alpn_selected(c->ssl, &alpn, &alen);
        if (alen == 2 && !memcmp(alpn, "h2", 2)) {
            if (h2_start(c)) return conn_close(c);
        } else {
            c->proto = VX_PROTO_H1;
        }
    }
    for (;;) {
        int k = SSL_read(c->ssl, tls_buf, sizeof(tls_buf));
        if (k <= 0) {
            int err = SSL_get_error(c->ssl, k);
            if (err == SSL_ERROR_ZERO_RETURN) c->close_after_write = 1;
            else if (err != SSL_ERROR_WANT_READ) conn_close(c);
            break;
        }
        proto_feed(c, tls_buf, (size_t)k);
        if (c->closing) return;
    }
    tls_drain(c);
    vx_conn_touch(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    *buf = uv_buf_init(read_buf, sizeof(read_buf));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
    vx_conn *c = st->data;
    if (nread == 0) return;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (c->lingering) return; /* discard */
    c->last_active = vx_now();
    if (c->ssl) tls_feed(c, buf->base, (size_t)nread);
    else proto_feed(c, buf->base, (size_t)nread);
}

static void on_shutdown(uv_shutdown_t *req, int status) {}

/*
 * Closing right after the last write would make the kernel answer unread request bytes
 * with a RST, which can destroy the response before the client reads it. So: send FIN
 * (after the pending writes), keep reading and discarding for up to VX_LINGER_SECONDS,
 * then close.
 */
#define VX_LINGER_SECONDS 2.0
static void conn_linger(vx_conn *c) {
    if (c->lingering || c->closing) return;
    c->lingering = 1;
    c->linger_start = vx_now();
    if (c->ssl && SSL_is_init_finished(c->ssl)) {
        SSL_shutdown(c->ssl); /* close_notify */
        tls_drain(c);
        submit(c);
    }
    if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown)) {
        conn_close(c);
        return;
    }
    vx_conn_read_start(c);
}

void vx_conn_read_start(vx_conn *c) {
    if (!c->reading && !c->closing && !uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read))
        c->reading = 1;
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
    if (c->ssl) SSL_free(c->ssl);
    if (c->h2) nghttp2_session_del(c->h2);
    vx_buf_put(c->in);
    if (c->wcur) wblock_put(s, c->wcur);
    free(c);
}

static void conn_close(vx_conn *c) {
    if (c->closing) return;
    c->closing = 1;
    vx_server *s = c->srv;
    if (c->req) {
        req_free(c->req);
        c->req = NULL;
    }
    while (c->streams) {
        vx_req *r = c->streams;
        c->streams = r->next;
        if (c->h2) nghttp2_session_set_stream_user_data(c->h2, r->stream_id, NULL);
        req_free(r);
    }
    if (c->prev) c->prev->next = c->next;
    else s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->n_conns--;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_connection(uv_stream_t *l, int status) {
    vx_server *s = l->data;
    if (status < 0) return;
    vx_conn *c = calloc(1, sizeof(*c));
    if (!c) return;
    c->srv = s;
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) || s->draining || s->n_conns >= s->cfg.max_conns ||
        !(c->in = vx_buf_get())) {
        vx_buf_put(c->in);
        c->closing = 1;
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    s->metrics.connections_total++;
    c->last_active = c->last_write_progress = c->head_start = vx_now();
    c->proto = VX_PROTO_DETECT;
    if (l == (uv_stream_t *)&s->listener && s->ssl_ctx) {
        c->ssl = SSL_new(s->ssl_ctx);
        c->rbio = BIO_new(BIO_s_mem());
        c->wbio = BIO_new(BIO_s_mem());
        if (!c->ssl || !c->rbio || !c->wbio) {
            BIO_free(c->rbio);
            BIO_free(c->wbio);
            c->rbio = c->wbio = NULL;
            return conn_close(c);
        }
        SSL_set_bio(c->ssl, c->rbio, c->wbio);
        SSL_set_accept_state(c->ssl);
    }
    vx_conn_read_start(c);
}

/* ------------------------------------------------------------ TLS */

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg) {
    /* Prefer h2, else http/1.1; with neither, continue without ALPN (HTTP/1.1). */
    static const unsigned char pref[] = "\x02h2\x08http/1.1";
    if (SSL_select_next_proto((unsigned char **)out, outlen, pref, sizeof(pref) - 1, in, inlen) ==
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK;
}

static SSL_CTX *tls_ctx(const vx_server_config *cfg, char *err, size_t errlen) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return NULL;
    SSL_CTX_set_min_proto_version(ctx, cfg->tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (cfg->tls12)
        SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20"); /* h2's TLS 1.2 rules */
    /* Resumption: server-side session cache for TLS 1.2 ids, stateless tickets (two per
     * handshake by default) for TLS 1.3. */
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"voxd", 4);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, 4096);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        unsigned long e = ERR_get_error();
        snprintf(err, errlen, "TLS certificate/key: %s", e ? ERR_reason_error_string(e) : "?");
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* ------------------------------------------------------------ lifecycle */

static void close_listeners(vx_server *s) {
    if (s->have_listener) {
        uv_close((uv_handle_t *)&s->listener, NULL);
        s->have_listener = 0;
    }
    if (s->have_plain) {
        uv_close((uv_handle_t *)&s->plain_listener, NULL);
        s->have_plain = 0;
    }
}

static void begin_drain(vx_server *s) {
    if (s->draining) return;
    s->draining = 1;
    s->drain_deadline = vx_now() + s->cfg.timeout + 5;
    close_listeners(s);
    for (vx_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->h2) {
            nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE,
                                  nghttp2_session_get_last_proc_stream_id(c->h2),
                                  NGHTTP2_NO_ERROR, NULL, 0);
            c->goaway_sent = 1;
            vx_conn_touch(c);
        } else if (!c->req && c->h1state != VX_H1_BUSY) {
            conn_close(c);
        } else {
            c->keep_alive = 0;
        }
    }
}

static void on_async(uv_async_t *h);

static void stop_loop(vx_server *s) {
    close_listeners(s);
    /* Workers first: after the join, nothing can touch the async handle. */
    vx_pool_stop(&s->pool);
    on_async(&s->async);
    uv_close((uv_handle_t *)&s->async, NULL);
    uv_close((uv_handle_t *)&s->sweep, NULL);
    uv_close((uv_handle_t *)&s->check, NULL);
    uv_close((uv_handle_t *)&s->idle, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
}

static void on_signal(uv_signal_t *h, int signum) {
    vx_server *s = h->data;
    if (s->draining && signum == SIGINT) {
        s->drain_deadline = 0; /* second Ctrl-C: stop now */
        return;
    }
    if (!s->draining)
        logf_(s, "signal %d: draining (%d connections, %d requests in flight)", signum,
              s->n_conns, s->n_jobs);
    begin_drain(s);
}

static void on_async(uv_async_t *h) {
    vx_server *s = h->data;
    vx_node *n = vx_pool_take_done(&s->pool);
    while (n) {
        vx_node *next = n->next;
        if (n->kind == VX_NODE_LOAD) {
            size_t i = n->idx;
            const char *name = i == 0 ? s->cfg.default_voice : s->cfg.preload[i - 1];
            if (s->load_rc[i] != VOX_OK) {
                fprintf(stderr, "voxd: cannot load voice '%s': %s\n", name, s->load_err[i]);
                s->exit_code = 1;
                begin_drain(s);
                s->drain_deadline = 0;
            } else {
                logf_(s, "voice %s loaded", name);
                if (--s->loads_pending == 0) {
                    s->ready = 1;
                    logf_(s, "ready");
                }
            }
        } else {
            vx_speech_on_done(s, n);
        }
        n = next;
    }
}

static void on_sweep(uv_timer_t *t) {
    vx_server *s = t->data;
    double now = vx_now();
    for (vx_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        int busy = c->req || c->n_streams > 0;
        if (c->lingering) {
            if (now - c->linger_start > VX_LINGER_SECONDS) conn_close(c);
        } else if (c->write_pending && now - c->last_write_progress > s->cfg.write_timeout) {
            conn_close(c); /* the client stopped reading */
        } else if (c->ssl && !SSL_is_init_finished(c->ssl)) {
            if (now - c->head_start > s->cfg.header_timeout) conn_close(c);
        } else if (c->proto != VX_PROTO_H2 && c->head_start && c->h1state != VX_H1_BUSY &&
                   now - c->head_start > s->cfg.header_timeout) {
            if (c->proto == VX_PROTO_H1) h1_fail(c, 408);
            else conn_close(c);
        } else if (!busy && !c->head_start && now - c->last_active > s->cfg.idle_timeout) {
            if (c->h2 && !c->goaway_sent) {
                nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE,
                                      nghttp2_session_get_last_proc_stream_id(c->h2),
                                      NGHTTP2_NO_ERROR, NULL, 0);
                c->goaway_sent = 1;
                vx_conn_touch(c);
            } else if (!c->h2) {
                conn_close(c);
            }
        }
    }
    vx_speech_sweep(s, now);
    if (s->draining) {
        if (now > s->drain_deadline)
            for (vx_conn *c = s->conns, *next; c; c = next) {
                next = c->next;
                conn_close(c);
            }
        if (!s->n_conns && (!s->n_jobs || now > s->drain_deadline)) stop_loop(s);
    }
}

static int listen_on(vx_server *s, uv_tcp_t *t, const char *host, int port, int *bound) {
    struct sockaddr_storage ss;
    int rc = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                               : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (rc) return rc;
    uv_tcp_init(s->loop, t);
    t->data = s;
    if ((rc = uv_tcp_bind(t, (struct sockaddr *)&ss, 0)) ||
        (rc = uv_listen((uv_stream_t *)t, 511, on_connection))) {
        uv_close((uv_handle_t *)t, NULL);
        return rc;
    }
    struct sockaddr_storage got;
    int len = sizeof(got);
    uv_tcp_getsockname(t, (struct sockaddr *)&got, &len);
    *bound = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                             : ((struct sockaddr_in *)&got)->sin_port);
    return 0;
}

static int usable_cores(void) {
    cpu_set_t set;
    if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int server_init(vx_server *s, const vx_server_config *cfg) {
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    if (s->cfg.workers <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->cfg.workers = n > 0 ? (int)(n > 64 ? 64 : n) : 2;
    }
    if (s->cfg.queue <= 0) s->cfg.queue = 1;
    /* JSON escapes can take 6 bytes per character, UTF-8 up to 4: bound the body by that. */
    if (!s->cfg.max_body) s->cfg.max_body = s->cfg.max_input * 6 + 16384;
    s->api.default_voice = s->cfg.default_voice;
    s->api.max_input_chars = s->cfg.max_input;
    s->api.aliases = s->cfg.aliases;
    s->api.n_aliases = s->cfg.n_aliases;
    vx_metrics_init(&s->metrics);
    if (s->cfg.stub_delay_ms >= 0) vx_engine_stub_init(&s->engine, s->cfg.stub_delay_ms);
    else vx_engine_vox_init(&s->engine);
    s->engine.data_dirs = s->cfg.data_dirs;
    s->engine.n_data_dirs = s->cfg.n_data_dirs;
    /* A synthesis that runs alone may use every worker's core, never more cores than the
     * process may run on: at most `workers` threads compute at once either way. */
    int cores = usable_cores();
    s->engine.wide_threads = s->cfg.workers < cores ? s->cfg.workers : cores;
    vx_voices_init(&s->voices, &s->engine);
    if (!vx_voice_name_ok(s->cfg.default_voice)) {
        fprintf(stderr, "voxd: invalid default voice name '%s'\n", s->cfg.default_voice);
        return -1;
    }
    if (s->cfg.n_preload > 8) s->cfg.n_preload = 8;
    for (int i = 0; i < s->cfg.n_preload; i++)
        if (!vx_voice_name_ok(s->cfg.preload[i])) {
            fprintf(stderr, "voxd: invalid voice name '%s'\n", s->cfg.preload[i]);
            return -1;
        }
    return 0;
}

int vx_server_run(const vx_server_config *cfg) {
    static vx_server srv; /* one server per process: signals are per process anyway */
    vx_server *s = &srv;
    if (server_init(s, cfg)) return 2;
    signal(SIGPIPE, SIG_IGN);
    char err[256];
    if (s->cfg.tls_cert || s->cfg.tls_key) {
        if (!s->cfg.tls_cert || !s->cfg.tls_key) {
            fprintf(stderr, "voxd: --tls-cert and --tls-key go together\n");
            return 2;
        }
        if (!(s->ssl_ctx = tls_ctx(&s->cfg, err, sizeof(err)))) {
            fprintf(stderr, "voxd: %s\n", err);
            return 2;
        }
    }
    if (!h2_callbacks) h2_init_callbacks();
    s->loop = uv_default_loop();
    int port = 0, plain = 0, rc;
    if ((rc = listen_on(s, &s->listener, s->cfg.host, s->cfg.port, &port))) {
        fprintf(stderr, "voxd: cannot listen on %s:%d: %s\n", s->cfg.host, s->cfg.port,
                uv_strerror(rc));
        return 2;
    }
    s->have_listener = 1;
    if (s->ssl_ctx && s->cfg.plain_port >= 0) {
        if ((rc = listen_on(s, &s->plain_listener, s->cfg.host, s->cfg.plain_port, &plain))) {
            fprintf(stderr, "voxd: cannot listen on %s:%d: %s\n", s->cfg.host, s->cfg.plain_port,
                    uv_strerror(rc));
            return 2;
        }
        s->have_plain = 1;
    }
    uv_async_init(s->loop, &s->async, on_async);
    s->async.data = s;
    if (vx_pool_start(&s->pool, s->cfg.workers, vx_speech_worker, s, &s->async)) {
        fprintf(stderr, "voxd: cannot start worker threads\n");
        return 2;
    }
    uv_timer_init(s->loop, &s->sweep);
    s->sweep.data = s;
    uv_timer_start(&s->sweep, on_sweep, 250, 250);
    uv_check_init(s->loop, &s->check);
    s->check.data = s;
    uv_check_start(&s->check, on_check);
    uv_idle_init(s->loop, &s->idle);
    s->idle.data = s;
    uv_signal_init(s->loop, &s->sigterm);
    s->sigterm.data = s;
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    uv_signal_init(s->loop, &s->sigint);
    s->sigint.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    /* The default voice loads on a worker: the server answers /healthz meanwhile. */
    s->loads_pending = 1 + s->cfg.n_preload;
    for (int i = 0; i < s->loads_pending; i++) {
        s->load_nodes[i].kind = VX_NODE_LOAD;
        s->load_nodes[i].idx = (size_t)i;
        vx_pool_push(&s->pool, &s->load_nodes[i]);
    }
    logf_(s, "listening on %s://%s:%d (%s, %d workers, queue %d, engine %s)",
          s->ssl_ctx ? "https" : "http", s->cfg.host, port,
          s->ssl_ctx ? "h2+http/1.1 via ALPN" : "http/1.1 + h2c", s->cfg.workers, s->cfg.queue,
          s->engine.name);
    if (plain) logf_(s, "also plaintext (http/1.1 + h2c) on %s:%d", s->cfg.host, plain);
    if (s->cfg.port_file) {
        FILE *f = fopen(s->cfg.port_file, "w");
        if (f) {
            fprintf(f, "%d %d\n", port, plain);
            fclose(f);
        }
    }
    uv_run(s->loop, UV_RUN_DEFAULT);
    /* Remaining close callbacks. */
    uv_run(s->loop, UV_RUN_DEFAULT);
    uv_loop_close(s->loop);
    vx_voices_free(&s->voices);
    while (s->wfree) {
        vx_wblock *b = s->wfree;
        s->wfree = b->next;
        free(b);
    }
    vx_buf_pool_drain();
    vx_speech_pool_drain();
    req_pool_drain();
    if (s->ssl_ctx) SSL_CTX_free(s->ssl_ctx);
    logf_(s, "stopped");
    return s->exit_code;
}

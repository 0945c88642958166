/* http1_parse.c — strict HTTP/1.1 request head parser and chunked decoder (http1_parse.h). */
#include "http1_parse.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 tchar: the characters a method or header name may use. */
static int is_tchar(unsigned char c) {
    if (c >= '0' && c <= '9') return 1;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field value bytes: visible ASCII, SP, HTAB and obs-text (>= 0x80). */
static int is_vchar(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

static int token_has(const char *v, size_t n, const char *tok) {
    /* Comma-separated, case-insensitive token list membership (Connection header). */
    size_t tl = strlen(tok), i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        size_t s = i;
        while (i < n && v[i] != ',') i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
        if (e - s == tl && !strncasecmp(v + s, tok, tl)) return 1;
    }
    return 0;
}

/* Find the CRLFCRLF ending the head within the first `lim` bytes; 0 if absent. */
static size_t find_head_end(const char *buf, size_t len) {
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            return i + 1;
    return 0;
}

static int parse_request_line(const char *p, size_t n, vx_h1_request *r) {
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i])) i++;
    if (i == 0 || i >= n || p[i] != ' ') return -400;
    if (i > VX_H1_MAX_METHOD) return -501;
    memcpy(r->method, p, i);
    r->method[i] = 0;
    size_t t0 = ++i;
    while (i < n && p[i] != ' ') {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7f) return -400;
        i++;
    }
    if (i == t0 || i >= n) return -400;
    if (i - t0 > VX_H1_MAX_TARGET) return -414;
    r->target = p + t0;
    r->target_len = i - t0;
    i++;
    if (n - i != 8 || memcmp(p + i, "HTTP/1.", 7)) {
        if (n - i == 8 && !memcmp(p + i, "HTTP/", 5)) return -505;
        return -400;
    }
    char m = p[i + 7];
    if (m != '0' && m != '1') return -505;
    r->minor = m - '0';
    return 0;
}

static int parse_content_length(const char *v, size_t n, int64_t *out) {
    if (n == 0 || n > 15) return -1; /* 15 digits: far above any limit, no overflow */
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return -1;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return 0;
}

/* Interpret the headers voxd cares about for framing and connection reuse. */
static int interpret_headers(vx_h1_request *r) {
    int have_host = 0, conn_close = 0, conn_keep = 0, have_te = 0;
    r->content_length = -1;
    for (int k = 0; k < r->n_headers; k++) {
        const vx_h1_header *h = &r->headers[k];
        if (h->name_len == 14 && !strncasecmp(h->name, "content-length", 14)) {
            int64_t cl;
            if (parse_content_length(h->value, h->value_len, &cl)) return -400;
            if (r->content_length >= 0 && r->content_length != cl) return -400;
            r->content_length = cl;
        } else if (h->name_len == 17 && !strncasecmp(h->name, "transfer-encoding", 17)) {
            if (have_te) return -400;
            have_te = 1;
            /* Only plain "chunked" is supported; gzip etc. are not. */
            if (h->value_len != 7 || strncasecmp(h->value, "chunked", 7)) return -501;
            r->chunked = 1;
        } else if (h->name_len == 4 && !strncasecmp(h->name, "host", 4)) {
            if (have_host) return -400;
            have_host = 1;
        } else if (h->name_len == 10 && !strncasecmp(h->name, "connection", 10)) {
            conn_close |= token_has(h->value, h->value_len, "close");
            conn_keep |= token_has(h->value, h->value_len, "keep-alive");
        } else if (h->name_len == 6 && !strncasecmp(h->name, "expect", 6)) {
            if (h->value_len == 12 && !strncasecmp(h->value, "100-continue", 12))
                r->expect_continue = 1;
            else
                return -400; /* RFC 9110: unknown expectation -> 417; keep it simple */
        }
    }
    /* Both framings at once is the classic smuggling vector: refuse it. */
    if (r->chunked && r->content_length >= 0) return -400;
    /* RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 request is a framing fault; close. */
    if (r->chunked && r->minor == 0) return -400;
    if (r->minor == 1 && !have_host) return -400;
    r->keep_alive = r->minor == 1 ? !conn_close : (conn_keep && !conn_close);
    return 0;
}

int vx_h1_parse_head(const char *buf, size_t len, vx_h1_request *r) {
    memset(r, 0, sizeof(*r));
    r->content_length = -1;
    size_t scan = len < VX_H1_MAX_HEAD ? len : VX_H1_MAX_HEAD;
    /* RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request.
     * We do not: strictness costs clients nothing here. */
    size_t end = find_head_end(buf, scan);
    if (!end) {
        /* A bare LF or a NUL anywhere in what we have is already fatal: fail fast. */
        for (size_t i = 0; i < scan; i++) {
            if (buf[i] == 0) return -400;
            if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')) return -400;
        }
        /* A request line that is already too long answers 414, not 431. */
        const char *nl = memchr(buf, '\r', scan);
        if (!nl && scan > VX_H1_MAX_TARGET + VX_H1_MAX_METHOD + 16) return -414;
        return len >= VX_H1_MAX_HEAD ? -431 : 0;
    }
    /* Walk lines; every line ends in CRLF and contains no bare CR or LF. */
    size_t pos = 0;
    int line_no = 0;
    while (pos < end - 2) {
        const char *p = buf + pos;
        size_t n = 0;
        while (pos + n < end && p[n] != '\r' && p[n] != '\n') n++;
        if (pos + n + 1 >= end || p[n] != '\r' || p[n + 1] != '\n') return -400;
        if (line_no == 0) {
            int rc = parse_request_line(p, n, r);
            if (rc) return rc;
        } else {
            if (n == 0) return -400;
            if (p[0] == ' ' || p[0] == '\t') return -400; /* obs-fold */
            size_t c = 0;
            while (c < n && is_tchar((unsigned char)p[c])) c++;
            if (c == 0 || c >= n || p[c] != ':') return -400;
            if (r->n_headers >= VX_H1_MAX_HEADERS) return -431;
            size_t v = c + 1, e = n;
            while (v < e && (p[v] == ' ' || p[v] == '\t')) v++;
            while (e > v && (p[e - 1] == ' ' || p[e - 1] == '\t')) e--;
            for (size_t k = v; k < e; k++)
                if (!is_vchar((unsigned char)p[k])) return -400;
            vx_h1_header *h = &r->headers[r->n_headers++];
            h->name = p;
            h->name_len = c;
            h->value = p + v;
            h->value_len = e - v;
        }
        pos += n + 2;
        line_no++;
    }
    if (line_no == 0) return -400;
    int rc = interpret_headers(r);
    if (rc) return rc;
    r->head_len = end;
    return (int)end;
}

const char *vx_h1_header_get(const vx_h1_request *r, const char *name, size_t *vlen) {
    size_t nl = strlen(name);
    for (int k = 0; k < r->n_headers; k++) {
        const vx_h1_header *h = &r->headers[k];
        if (h->name_len == nl && !strncasecmp(h->name, name, nl)) {
            if (vlen) *vlen = h->value_len;
            return h->value;
        }
    }
    return NULL;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
    return -1;
}

int vx_h1_dechunk(const char *buf, size_t len, char *out, size_t outcap, size_t *consumed,
                  size_t *outlen) {
    size_t pos = 0, o = 0;
    for (;;) {
        /* chunk-size [ chunk-ext ] CRLF */
        size_t i = pos, size = 0;
        int digits = 0;
        while (i < len && hexval(buf[i]) >= 0) {
            if (++digits > 16) return -400; /* RFC 9112 allows leading zeros; 16 fit size_t */
            size = size * 16 + (size_t)hexval(buf[i]);
            i++;
        }
        if (i == len) return 0;
        if (!digits) return -400;
        if (size > ((size_t)1 << 40)) return -413;
        /* Then ";" (an extension, after optional blanks) or CRLF, nothing else: a parser
         * behind a proxy that reads "0x2b" as 0x2b would see another body (smuggling). */
        size_t ws = i;
        while (ws < len && (buf[ws] == ' ' || buf[ws] == '\t')) ws++;
        if (ws == len) return 0;
        if (buf[ws] != ';' && (buf[ws] != '\r' || ws != i)) return -400;
        /* Skip chunk extensions up to CRLF, bounded. */
        size_t ext = 0;
        while (i < len && buf[i] != '\r') {
            if (buf[i] == '\n' || ++ext > 256) return -400;
            i++;
        }
        if (i + 1 >= len) return 0;
        if (buf[i + 1] != '\n') return -400;
        i += 2;
        if (size == 0) {
            /* Trailer section: lines until an empty one. Trailers are ignored. */
            size_t tbytes = 0;
            for (;;) {
                size_t s = i;
                while (i < len && buf[i] != '\r') {
                    if (buf[i] == '\n' || ++tbytes > 4096) return -400;
                    i++;
                }
                if (i + 1 >= len) return 0;
                if (buf[i + 1] != '\n') return -400;
                i += 2;
                if (i - 2 == s) break;
            }
            *consumed = i;
            *outlen = o;
            return 1;
        }
        if (size > outcap - o) return -413;
        if (len - i < size + 2) return 0;
        memcpy(out + o, buf + i, size);
        o += size;
        i += size;
        if (buf[i] != '\r' || buf[i + 1] != '\n') return -400;
        pos = i + 2;
    }
}

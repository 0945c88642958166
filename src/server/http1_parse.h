/*
 * http1_parse.h — a small, strict HTTP/1.1 request parser (RFC 9112) with explicit limits.
 *
 * It parses only what voxd needs: the request line, headers, and the framing of the body
 * (Content-Length or chunked). Anything ambiguous that could enable request smuggling is
 * rejected (both Content-Length and Transfer-Encoding, differing duplicate lengths,
 * obs-fold, whitespace before the colon, bare CR/LF, control characters).
 * The parser never allocates: headers point into the caller's buffer.
 */
#ifndef VX_HTTP1_PARSE_H
#define VX_HTTP1_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define VX_H1_MAX_HEAD    16384 /* request line + headers, bytes; more -> 431 */
#define VX_H1_MAX_HEADERS 64    /* header fields; more -> 431 */
#define VX_H1_MAX_TARGET  4096  /* request-target bytes; more -> 414 */
#define VX_H1_MAX_METHOD  15

typedef struct vx_h1_header {
    const char *name, *value;
    size_t name_len, value_len;
} vx_h1_header;

typedef struct vx_h1_request {
    char method[VX_H1_MAX_METHOD + 1];
    const char *target;
    size_t target_len;
    int minor; /* HTTP/1.<minor>: 0 or 1 */
    vx_h1_header headers[VX_H1_MAX_HEADERS];
    int n_headers;
    int64_t content_length; /* -1 when absent */
    int chunked;            /* Transfer-Encoding: chunked */
    int keep_alive;         /* after this request, per version and Connection */
    int expect_continue;    /* Expect: 100-continue */
    size_t head_len;        /* bytes of the head including the final CRLFCRLF */
} vx_h1_request;

/*
 * Parse a request head from buf[0..len). Returns:
 *   > 0  the head is complete; its length (also in r->head_len)
 *     0  need more bytes (len < VX_H1_MAX_HEAD and no end of head yet)
 *   < 0  minus the HTTP status to answer with: -400, -414, -431, -501, -505
 */
int vx_h1_parse_head(const char *buf, size_t len, vx_h1_request *r);

/* Case-insensitive header lookup; returns the value or NULL, value length in *vlen. */
const char *vx_h1_header_get(const vx_h1_request *r, const char *name, size_t *vlen);

/*
 * Decode a complete chunked body from buf[0..len) into out (capacity outcap).
 * Returns 1 when the whole body (through the last chunk and trailers) is present, with
 * *consumed bytes of input and *outlen decoded bytes; 0 when more input is needed;
 * -400 malformed, -413 decoded body larger than outcap.
 * Stateless by design: the caller re-runs it on the grown buffer (bounded by its limits).
 */
int vx_h1_dechunk(const char *buf, size_t len, char *out, size_t outcap, size_t *consumed,
                  size_t *outlen);

#endif

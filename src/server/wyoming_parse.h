/*
 * wyoming_parse.h — the Wyoming protocol's event framing (rhasspy/wyoming, OHF-Voice),
 * pure: bytes in, events out, no I/O, so it can be fuzzed (tests/fuzz/fuzz_wyoming.c).
 *
 * An event is one JSON header line, {"type": T, "data": {...}, "data_length": N,
 * "payload_length": M, "version": V}, then N bytes of JSON data (an object whose members
 * are merged over the header's own "data", as wyoming's event.py does) and M bytes of
 * payload. Old clients put data inline in the header only; both framings are read.
 *
 * Limits (vx_wy_limits, every one checked before anything is buffered past it): the header
 * line, the data and the payload lengths. A header over its limit, a header that is not a
 * JSON object with a string "type", or a length that is not a non-negative integer within
 * its limit breaks the framing (VX_WY_BROKEN: the stream cannot be resynchronized, the
 * connection answers with an error event and closes). Data that is not a JSON object is
 * a bad event (VX_WY_BAD: the framing holds, an error event answers it, the connection
 * goes on).
 */
#ifndef VX_WYOMING_PARSE_H
#define VX_WYOMING_PARSE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define VX_WY_MAX_LINE    16384      /* default header line limit, bytes with the '\n' */
#define VX_WY_MAX_PAYLOAD (1u << 20) /* default payload limit: a TTS server takes no audio */
#define VX_WY_TYPE_MAX    64         /* event type names, bytes */
#define VX_WY_VERSION     "1.7.0"    /* written in our headers: streaming synthesis */

typedef struct vx_wy_limits {
    size_t max_line, max_data, max_payload;
} vx_wy_limits;

enum { VX_WY_MORE = 0, VX_WY_EVENT = 1, VX_WY_BAD = 2, VX_WY_BROKEN = -1 };

typedef struct vx_wy_event {
    char type[VX_WY_TYPE_MAX];
    cJSON *data;         /* an object, owned (vx_wy_event_free); never NULL on EVENT */
    const char *payload; /* into the parsed buffer, valid while it is */
    size_t payload_len;
} vx_wy_event;

/* Parse the first event of buf[0..len). VX_WY_MORE: incomplete (read more; *consumed 0).
 * VX_WY_EVENT: *ev filled, *consumed its bytes. VX_WY_BAD: *consumed its bytes, ev->type
 * set (may be ""), err says why. VX_WY_BROKEN: err says why. Empty lines are skipped
 * (consumed, VX_WY_MORE with *consumed > 0). */
int vx_wy_parse(const vx_wy_limits *lim, const char *buf, size_t len, vx_wy_event *ev,
                size_t *consumed, char *err, size_t errlen);
void vx_wy_event_free(vx_wy_event *ev);

/* What synthesize / synthesize-start / synthesize-chunk carry, read from ev->data: text
 * (synthesize, synthesize-chunk: a string, required when need_text), voice {name,
 * language, speaker} (each a string or absent). Strings point into data. 0, or -1 with
 * err set (wrong types, no text). */
typedef struct vx_wy_synth {
    const char *text;
    size_t text_len;
    const char *name, *language, *speaker;
} vx_wy_synth;
int vx_wy_get_synth(const cJSON *data, int need_text, vx_wy_synth *out, char *err, size_t errlen);

/* The header line of an event we send (with its '\n'): type, version, data_length when
 * data_len > 0, payload_length when payload_len > 0. Returns its length, or 0 if cap is
 * too small. type is one of ours (no escaping needed: checked). */
size_t vx_wy_header(char *dst, size_t cap, const char *type, size_t data_len, size_t payload_len);

#endif

/* libFuzzer target: voxd's Wyoming event framing (wyoming_parse.c). The input is a byte
 * stream of events, parsed as the connection does (event after event, skipping what
 * each consumed, stopping at a broken framing), with the synthesize fields read from
 * each event's data; the first byte picks small limits or the defaults, so both the
 * limit checks and deep parses are reached. Checks the parser's promises: consumed within
 * the input, payload inside the event, data an object, type NUL-terminated. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wyoming_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    vx_wy_limits lim = {VX_WY_MAX_LINE, 65536, VX_WY_MAX_PAYLOAD};
    if (data[0] & 1) lim = (vx_wy_limits){64, 48, 32};
    const char *p = (const char *)data + 1;
    size_t n = size - 1, off = 0;
    for (int k = 0; k < 1000 && off <= n; k++) {
        vx_wy_event ev;
        size_t used;
        char err[200];
        int rc = vx_wy_parse(&lim, p + off, n - off, &ev, &used, err, sizeof err);
        if (used > n - off) abort();
        if (rc == VX_WY_BROKEN) {
            if (!memchr(err, 0, sizeof err) || !err[0]) abort();
            break;
        }
        if (rc == VX_WY_MORE && !used) break;
        if (rc == VX_WY_EVENT) {
            if (!ev.data || !cJSON_IsObject(ev.data) || !memchr(ev.type, 0, sizeof ev.type))
                abort();
            if (ev.payload_len > lim.max_payload) abort();
            if (ev.payload_len &&
                (ev.payload < p + off || ev.payload + ev.payload_len > p + off + used))
                abort();
            vx_wy_synth sy;
            if (vx_wy_get_synth(ev.data, data[0] & 2, &sy, err, sizeof err) == 0 && sy.text &&
                strlen(sy.text) != sy.text_len)
                abort();
            vx_wy_event_free(&ev);
        }
        if (!used) abort(); /* EVENT and BAD always consume */
        off += used;
    }
    char head[256];
    size_t hl = vx_wy_header(head, sizeof head, "audio-chunk", n, off);
    if (!hl || head[hl - 1] != '\n') abort();
    return 0;
}

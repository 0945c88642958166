/*
 * grpc_msg.c — gRPC framing and request checking, with no connection state (grpc_msg.h).
 * Everything here takes client bytes: every length is checked before it is used.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_msg.h"

int vx_grpc_deframe(vx_grpc_deframer *d, const uint8_t *p, size_t n, size_t max, size_t *used) {
    size_t off = 0;
    if (d->hdr_have < 5) {
        size_t k = 5 - d->hdr_have < n ? 5 - d->hdr_have : n;
        memcpy(d->hdr + d->hdr_have, p, k);
        d->hdr_have += k;
        off = k;
        if (d->hdr_have < 5) {
            *used = off;
            return VX_GRPC_DF_MORE;
        }
        d->compressed = d->hdr[0] != 0;
        d->msg_len =
            (size_t)d->hdr[1] << 24 | (size_t)d->hdr[2] << 16 | (size_t)d->hdr[3] << 8 | d->hdr[4];
        d->msg_have = 0;
        if (d->msg_len > max) {
            *used = off;
            return VX_GRPC_DF_TOO_BIG;
        }
        if (d->msg_len > d->msg_cap) {
            uint8_t *m = realloc(d->msg, d->msg_len);
            if (!m) {
                *used = off;
                return VX_GRPC_DF_NOMEM;
            }
            d->msg = m;
            d->msg_cap = d->msg_len;
        }
    }
    size_t want = d->msg_len - d->msg_have, k = want < n - off ? want : n - off;
    if (k) memcpy(d->msg + d->msg_have, p + off, k);
    d->msg_have += k;
    *used = off + k;
    return d->msg_have == d->msg_len ? VX_GRPC_DF_MSG : VX_GRPC_DF_MORE;
}

void vx_grpc_deframer_next(vx_grpc_deframer *d) {
    d->hdr_have = 0;
    d->msg_len = d->msg_have = 0;
    d->compressed = 0;
}

int vx_grpc_deframer_idle(const vx_grpc_deframer *d) { return d->hdr_have == 0; }

void vx_grpc_deframer_free(vx_grpc_deframer *d) {
    free(d->msg);
    memset(d, 0, sizeof(*d));
}

void vx_grpc_prefix(uint8_t h[5], uint32_t len) {
    h[0] = 0;
    h[1] = (uint8_t)(len >> 24);
    h[2] = (uint8_t)(len >> 16);
    h[3] = (uint8_t)(len >> 8);
    h[4] = (uint8_t)len;
}

int vx_grpc_parse_timeout(const char *v, size_t n, double *secs) {
    if (n < 2 || n > VX_GRPC_TIMEOUT_MAX_DIGITS + 1) return -1;
    double x = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (v[i] < '0' || v[i] > '9') return -1;
        x = x * 10 + (v[i] - '0');
    }
    switch (v[n - 1]) {
    case 'H': x *= 3600; break;
    case 'M': x *= 60; break;
    case 'S': break;
    case 'm': x /= 1e3; break;
    case 'u': x /= 1e6; break;
    case 'n': x /= 1e9; break;
    default: return -1;
    }
    *secs = x;
    return 0;
}

size_t vx_grpc_percent_encode(const char *in, char *out, size_t cap) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    if (!cap) return 0;
    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        int plain = c >= 0x20 && c <= 0x7E && c != '%';
        if (o + (plain ? 1 : 3) >= cap) break;
        if (plain)
            out[o++] = (char)c;
        else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = 0;
    return o;
}

static int bad(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(char *msg, size_t msglen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
    return -1;
}

int vx_grpc_synth_opts(const Vox__V1__SynthesizeRequest *q, const char *default_voice,
                       int need_text, vx_job_opts *o, char *msg, size_t msglen) {
    static const vx_audio_format fmts[] = {
        [VOX__V1__AUDIO_FORMAT__PCM_S16LE] = VX_AUDIO_PCM,
        [VOX__V1__AUDIO_FORMAT__WAV] = VX_AUDIO_WAV,
        [VOX__V1__AUDIO_FORMAT__MP3] = VX_AUDIO_MP3,
        [VOX__V1__AUDIO_FORMAT__OPUS] = VX_AUDIO_OPUS,
        [VOX__V1__AUDIO_FORMAT__FLAC] = VX_AUDIO_FLAC,
        [VOX__V1__AUDIO_FORMAT__AAC] = VX_AUDIO_AAC,
        [VOX__V1__AUDIO_FORMAT__PCM_F32LE] = VX_AUDIO_PCM_F32,
    };
    vx_job_opts_init(o);
    const char *text = q->text ? q->text : "";
    if (need_text && !*text) return bad(msg, msglen, "text: must not be empty");
    if ((unsigned)q->format >= sizeof(fmts) / sizeof(fmts[0]))
        return bad(msg, msglen, "format: unknown AudioFormat %d", (int)q->format);
    if (!isfinite(q->speed) || q->speed < 0 || q->speed > 10)
        return bad(msg, msglen, "speed: must be 0 (the default, 1) or in (0, 10], not %g",
                   (double)q->speed);
    if (q->sample_rate &&
        (q->sample_rate < VX_AUDIO_RATE_MIN || q->sample_rate > VX_AUDIO_RATE_MAX))
        return bad(msg, msglen, "sample_rate: must be 0 (the format's default) or %d..%d, not %d",
                   VX_AUDIO_RATE_MIN, VX_AUDIO_RATE_MAX, (int)q->sample_rate);
    const char *sp = q->speaker ? q->speaker : "";
    if (strlen(sp) >= sizeof(o->synth.speaker))
        return bad(msg, msglen, "speaker: longer than %zu bytes", sizeof(o->synth.speaker) - 1);
    /* q->timings is accepted; the backends give no word timings, so `words` stays empty */
    o->voice = q->voice && *q->voice ? q->voice : default_voice;
    o->text = text;
    o->text_len = strlen(text);
    o->format = fmts[q->format];
    o->sample_rate = q->sample_rate;
    o->synth.speed = q->speed > 0 ? q->speed : 1.0f;
    snprintf(o->synth.speaker, sizeof(o->synth.speaker), "%s", sp);
    o->stream = 1;
    return 0;
}

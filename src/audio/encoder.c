/* encoder.c — the format table, option checks, the push/convert/drain plumbing shared by
 * every encoder, and the two formats that need no codec library (wav, raw pcm). */
#include "audio/enc_internal.h"
#include "audio/wav.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name, *ctype, *ext;
} fmt_info[VX_AUDIO_COUNT] = {
    [VX_AUDIO_MP3] = {"mp3", "audio/mpeg", "mp3"},
    [VX_AUDIO_OPUS] = {"opus", "audio/ogg; codecs=opus", "opus"},
    [VX_AUDIO_AAC] = {"aac", "audio/aac", "aac"},
    [VX_AUDIO_FLAC] = {"flac", "audio/flac", "flac"},
    [VX_AUDIO_WAV] = {"wav", "audio/wav", "wav"},
    [VX_AUDIO_PCM] = {"pcm", "audio/pcm", "pcm"},
    [VX_AUDIO_PCM_F32] = {"pcm_f32le", "audio/pcm", "f32"},
};

int vx_audio_format_parse(const char *name, vx_audio_format *out) {
    static const struct {
        const char *n;
        vx_audio_format f;
    } alias[] = {
        {"mp3", VX_AUDIO_MP3},           {"opus", VX_AUDIO_OPUS},     {"ogg", VX_AUDIO_OPUS},
        {"aac", VX_AUDIO_AAC},           {"flac", VX_AUDIO_FLAC},     {"wav", VX_AUDIO_WAV},
        {"pcm", VX_AUDIO_PCM},           {"pcm_s16le", VX_AUDIO_PCM}, {"s16le", VX_AUDIO_PCM},
        {"pcm_f32le", VX_AUDIO_PCM_F32}, {"f32le", VX_AUDIO_PCM_F32},
    };
    for (size_t i = 0; name && i < sizeof alias / sizeof alias[0]; i++)
        if (!strcmp(name, alias[i].n)) {
            *out = alias[i].f;
            return 0;
        }
    return -1;
}

static int fmt_ok(vx_audio_format f) { return (unsigned)f < VX_AUDIO_COUNT; }
const char *vx_audio_format_name(vx_audio_format f) { return fmt_ok(f) ? fmt_info[f].name : "?"; }
const char *vx_audio_content_type(vx_audio_format f) {
    return fmt_ok(f) ? fmt_info[f].ctype : "application/octet-stream";
}
const char *vx_audio_extension(vx_audio_format f) { return fmt_ok(f) ? fmt_info[f].ext : "bin"; }

/* The MPEG audio rates (mp3: MPEG-1/2/2.5; AAC's table has the same ones in 8–48 kHz). */
static const int mpeg_rates[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};
#define N_MPEG_RATES (int)(sizeof mpeg_rates / sizeof mpeg_rates[0])

int vx_audio_rate_supported(vx_audio_format f, int rate) {
    if (!fmt_ok(f) || rate < VX_AUDIO_RATE_MIN || rate > VX_AUDIO_RATE_MAX) return 0;
    if (f != VX_AUDIO_MP3 && f != VX_AUDIO_AAC) return 1;
    for (int i = 0; i < N_MPEG_RATES; i++)
        if (mpeg_rates[i] == rate) return 1;
    return 0;
}

int vx_audio_rate_for(vx_audio_format f, int wanted) {
    if (wanted < VX_AUDIO_RATE_MIN) wanted = VX_AUDIO_RATE_MIN;
    if (wanted > VX_AUDIO_RATE_MAX) wanted = VX_AUDIO_RATE_MAX;
    if (vx_audio_rate_supported(f, wanted)) return wanted;
    for (int i = 0; i < N_MPEG_RATES; i++) /* never lose bandwidth: the next rate up */
        if (mpeg_rates[i] >= wanted) return mpeg_rates[i];
    return VX_AUDIO_RATE_MAX;
}

int vx_audio_decoded_rate(vx_audio_format f, int rate) { return f == VX_AUDIO_OPUS ? 48000 : rate; }

void vx_enc_options_init(vx_enc_options *o) {
    o->bitrate = 0;
    o->compression = -1;
    o->patchable = 0;
}

static int errf(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t n, const char *fmt, ...) {
    if (err && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Bitrate bounds in bits/s for (format, rate); max 0 = the format takes no bitrate. */
static void bitrate_bounds(vx_audio_format f, int rate, int *lo, int *hi, int *def) {
    *lo = *hi = *def = 0;
    switch (f) {
    case VX_AUDIO_MP3:
        if (rate < 32000) {
            *lo = 8000;
            *hi = 160000;
        } else {
            *lo = 32000;
            *hi = 320000;
        }
        *def = 64000;
        break;
    case VX_AUDIO_OPUS:
        *lo = 6000;
        *hi = 256000;
        *def = 32000;
        break;
    case VX_AUDIO_AAC:
        *lo = 16000;
        *hi = 256000;
        /* 96 kbit/s: libavcodec's rate loop converges sooner with bits to spare, so it
         * costs less CPU than 64 (1.40 against 1.74 ms per audio second at 22,050 Hz,
         * bench/audio_bench.c's method) and sounds closer to the input (log-mel distance
         * on espeak speech decoded by ffmpeg 0.41 dB against 1.48). Rates that cannot
         * carry it (AAC-LC: 6,144 bits per 1,024-sample frame) are capped by libavcodec. */
        *def = 96000;
        break;
    default: break;
    }
}

static void compression_bounds(vx_audio_format f, int *lo, int *hi, int *def) {
    *lo = 0;
    *hi = -1;
    *def = -1;
    switch (f) {
    case VX_AUDIO_FLAC:
        *hi = 8;
        *def = 5;
        break;
    /* The defaults keep encoding within 5% of the medium voice's synthesis time
     * (bench/audio_bench.c). mp3: lame's quality 5 adds noise shaping that costs 1.5x
     * quality 7 (1.74 against 1.17 ms per audio second at 22,050 Hz; at >= 32 kHz, twice
     * the frames per second, 6.7% of synthesis against 3.7%). opus: complexity 5 turns on
     * CELT's pitch pre-filter search, 1.4x complexity 4 (2.13 against 1.50 ms per audio
     * second); on espeak speech decoded by ffmpeg the log-mel distance to the input moves
     * from 4.47 to 4.48 dB, and 4.22 dB at complexity 10. Callers who want the effort ask
     * for it. */
    case VX_AUDIO_MP3:
        *hi = 9;
        *def = 7;
        break;
    case VX_AUDIO_OPUS:
        *hi = 10;
        *def = 4;
        break;
    default: break;
    }
}

int vx_encoder_check(vx_audio_format f, int rate, int channels, const vx_enc_options *o, char *err,
                     size_t errlen) {
    if (!fmt_ok(f)) return errf(err, errlen, "unknown audio format %d", (int)f);
    const char *nm = fmt_info[f].name;
    if (rate < VX_AUDIO_RATE_MIN || rate > VX_AUDIO_RATE_MAX)
        return errf(err, errlen, "sample_rate %d is out of range (%d to %d Hz)", rate,
                    VX_AUDIO_RATE_MIN, VX_AUDIO_RATE_MAX);
    if (!vx_audio_rate_supported(f, rate))
        return errf(err, errlen,
                    "%s does not support sample_rate %d (supported: 8000, 11025, "
                    "12000, 16000, 22050, 24000, 32000, 44100, 48000)",
                    nm, rate);
    if (channels < 1 || channels > 2)
        return errf(err, errlen, "channels %d is out of range (1 or 2)", channels);
    vx_enc_options d;
    vx_enc_options_init(&d);
    if (!o) o = &d;
    int lo, hi, def;
    bitrate_bounds(f, rate, &lo, &hi, &def);
    if (o->bitrate && !hi)
        return errf(err, errlen, "bitrate does not apply to %s (send 0 or leave it out)", nm);
    if (o->bitrate && (o->bitrate < lo || o->bitrate > hi))
        return errf(err, errlen, "bitrate %d is out of range for %s at %d Hz (%d to %d bits/s)",
                    o->bitrate, nm, rate, lo, hi);
    compression_bounds(f, &lo, &hi, &def);
    if (o->compression != -1 && hi < 0)
        return errf(err, errlen, "compression does not apply to %s (leave it out)", nm);
    if (o->compression != -1 && (o->compression < lo || o->compression > hi))
        return errf(err, errlen, "compression %d is out of range for %s (%d to %d)", o->compression,
                    nm, lo, hi);
    return 0;
}

int vx_enc_emit(vx_encoder *e, const void *p, size_t n) {
    if (e->failed) return -1;
    if (e->out_pos == e->out_len) e->out_pos = e->out_len = 0; /* all consumed: reuse */
    if (e->out_len + n > e->out_cap) {
        if (e->out_pos) { /* slide the unconsumed tail down before growing */
            memmove(e->out, e->out + e->out_pos, e->out_len - e->out_pos);
            e->out_len -= e->out_pos;
            e->out_pos = 0;
        }
        size_t cap = e->out_cap ? e->out_cap : 4096;
        while (cap < e->out_len + n) cap *= 2;
        if (cap != e->out_cap) {
            uint8_t *q = realloc(e->out, cap);
            if (!q) return vx_enc_fail(e, "out of memory");
            e->out = q;
            e->out_cap = cap;
        }
    }
    if (n) memcpy(e->out + e->out_len, p, n);
    e->out_len += n;
    return 0;
}

int vx_enc_fail(vx_encoder *e, const char *fmt, ...) {
    if (!e->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->err, sizeof e->err, fmt, ap);
        va_end(ap);
    }
    e->failed = 1;
    return -1;
}

/* ---------------------------------------------------------------- wav, pcm */

static int wav_init(vx_encoder *e, const vx_enc_options *o) {
    uint8_t h[44];
    vx_wav_header_ch(h, e->rate, e->channels, UINT64_MAX); /* streaming: length unknown */
    return vx_enc_emit(e, h, sizeof h);
}
static int s16_push(vx_encoder *e, const float *f, const int16_t *s, size_t frames) {
    _Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host expected");
    return vx_enc_emit(e, s, frames * e->channels * sizeof(int16_t));
}
static int f32_push(vx_encoder *e, const float *f, const int16_t *s, size_t frames) {
    return vx_enc_emit(e, f, frames * e->channels * sizeof(float));
}
static int wav_finish(vx_encoder *e) {
    vx_wav_header_ch(e->patch, e->rate, e->channels, e->frames);
    e->patch_off = 0;
    e->patch_len = 44;
    return 0;
}
static int none(vx_encoder *e) { return 0; }
static int none_init(vx_encoder *e, const vx_enc_options *o) { return 0; }
static void none_free(vx_encoder *e) {}

static const vx_enc_ops wav_ops = {0, wav_init, s16_push, wav_finish, none_free};
static const vx_enc_ops pcm_ops = {0, none_init, s16_push, none, none_free};
static const vx_enc_ops f32_ops = {1, none_init, f32_push, none, none_free};

static const vx_enc_ops *ops_for(vx_audio_format f) {
    switch (f) {
    case VX_AUDIO_MP3: return &vx_enc_mp3_ops;
    case VX_AUDIO_OPUS: return &vx_enc_opus_ops;
    case VX_AUDIO_AAC: return &vx_enc_aac_ops;
    case VX_AUDIO_FLAC: return &vx_enc_flac_ops;
    case VX_AUDIO_WAV: return &wav_ops;
    case VX_AUDIO_PCM: return &pcm_ops;
    default: return &f32_ops;
    }
}

/* ---------------------------------------------------------------- common */

vx_encoder *vx_encoder_create(vx_audio_format f, int rate, int channels, const vx_enc_options *o,
                              char *err, size_t errlen) {
    vx_enc_options d;
    vx_enc_options_init(&d);
    if (!o) o = &d;
    if (vx_encoder_check(f, rate, channels, o, err, errlen)) return NULL;
    vx_encoder *e = calloc(1, sizeof *e);
    if (!e) {
        errf(err, errlen, "out of memory");
        return NULL;
    }
    e->fmt = f;
    e->ops = ops_for(f);
    e->rate = rate;
    e->channels = channels;
    e->patchable = o->patchable;
    int lo, hi, def;
    bitrate_bounds(f, rate, &lo, &hi, &def);
    /* defaults are per channel; an explicit bitrate is the stream's total */
    e->bitrate = o->bitrate ? o->bitrate : def * channels;
    compression_bounds(f, &lo, &hi, &def);
    e->compression = o->compression != -1 ? o->compression : def;
    size_t n = (size_t)VX_ENC_BLOCK * channels;
    e->fbuf = malloc(n * sizeof(float));
    e->sbuf = malloc(n * sizeof(int16_t));
    if (!e->fbuf || !e->sbuf) {
        errf(err, errlen, "out of memory");
        vx_encoder_free(e);
        return NULL;
    }
    if (e->ops->init(e, o)) {
        errf(err, errlen, "%s encoder: %s", fmt_info[f].name, e->err[0] ? e->err : "init failed");
        vx_encoder_free(e);
        return NULL;
    }
    return e;
}

static int push(vx_encoder *e, const float *f, const int16_t *s, size_t frames) {
    if (e->failed) return -1;
    if (e->finished) return vx_enc_fail(e, "push after finish");
    int ch = e->channels;
    for (size_t done = 0; done < frames;) {
        size_t n = frames - done < VX_ENC_BLOCK ? frames - done : VX_ENC_BLOCK;
        const float *bf = NULL;
        const int16_t *bs = NULL;
        if (e->ops->wants_float) {
            if (f) {
                /* clip and scrub NaN here so no codec ever sees them */
                for (size_t i = 0; i < n * ch; i++) {
                    float x = f[done * ch + i];
                    e->fbuf[i] = x != x ? 0.0f : x > 1.0f ? 1.0f : x < -1.0f ? -1.0f : x;
                }
            } else {
                for (size_t i = 0; i < n * ch; i++)
                    e->fbuf[i] = s[done * ch + i] * (1.0f / 32768.0f);
            }
            bf = e->fbuf;
        } else if (f) {
            vx_pcm_f32_to_s16(f + done * ch, e->sbuf, n * ch);
            bs = e->sbuf;
        } else {
            bs = s + done * ch;
        }
        if (e->ops->push(e, bf, bs, n)) return vx_enc_fail(e, "encoding failed");
        e->frames += n;
        done += n;
    }
    return 0;
}

int vx_encoder_push_f32(vx_encoder *e, const float *pcm, size_t frames) {
    return push(e, pcm, NULL, frames);
}
int vx_encoder_push_s16(vx_encoder *e, const int16_t *pcm, size_t frames) {
    return push(e, NULL, pcm, frames);
}

int vx_encoder_finish(vx_encoder *e) {
    if (e->failed) return -1;
    if (e->finished) return 0;
    e->finished = 1;
    if (e->ops->finish(e)) return vx_enc_fail(e, "finishing the stream failed");
    return 0;
}

const uint8_t *vx_encoder_data(const vx_encoder *e, size_t *len) {
    *len = e->out_len - e->out_pos;
    return e->out ? e->out + e->out_pos : (const uint8_t *)"";
}

void vx_encoder_consume(vx_encoder *e, size_t n) {
    size_t avail = e->out_len - e->out_pos;
    e->out_pos += n < avail ? n : avail;
    if (e->out_pos == e->out_len) e->out_pos = e->out_len = 0;
}

int vx_encoder_patch(const vx_encoder *e, size_t *offset, const uint8_t **bytes, size_t *len) {
    *offset = e->patch_off;
    *bytes = e->patch;
    *len = e->finished && !e->failed ? e->patch_len : 0;
    return 0;
}

uint64_t vx_encoder_frames(const vx_encoder *e) { return e->frames; }
const char *vx_encoder_error(const vx_encoder *e) { return e->err; }

void vx_encoder_free(vx_encoder *e) {
    if (!e) return;
    if (e->ops) e->ops->destroy(e);
    free(e->out);
    free(e->fbuf);
    free(e->sbuf);
    free(e);
}

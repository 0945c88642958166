/* audio_out.c — encoder + resampler + SSE framing for one response. See audio_out.h. */
#include "audio_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vx_audio_out_rate(vx_audio_format f, int voice, int want, int *enc_rate) {
    if (f == VX_AUDIO_OPUS) { /* coded from min(voice, want); decoded at 48 kHz */
        *enc_rate = want && want < voice ? want : voice;
        return 48000;
    }
    int r = want ? want : vx_audio_rate_for(f, voice);
    *enc_rate = r;
    return r;
}

/* Send what the encoder has ready. */
static int drain(vx_audio_out *o, vx_emit_fn emit, void *user) {
    size_t n;
    const uint8_t *p = vx_encoder_data(o->enc, &n);
    if (!n) return 0;
    emit(user, p, n);
    vx_encoder_consume(o->enc, n);
    return 0;
}

int vx_audio_out_begin(vx_audio_out *o, vx_audio_format fmt, int voice_rate, int want_rate,
                       const vx_enc_options *eo, char *err, size_t errlen, vx_emit_fn emit,
                       void *user) {
    memset(o, 0, sizeof *o);
    o->fmt = fmt;
    o->voice_rate = voice_rate;
    int enc_rate;
    o->rate = vx_audio_out_rate(fmt, voice_rate, want_rate, &enc_rate);
    o->enc = vx_encoder_create(fmt, enc_rate, 1, eo, err, errlen);
    if (!o->enc) return -1;
    if (enc_rate != voice_rate) {
        o->rs = vx_resampler_create(voice_rate, enc_rate, 1, VX_RESAMPLE_HQ, err, errlen);
        if (!o->rs) {
            vx_audio_out_free(o);
            return -1;
        }
    }
    return drain(o, emit, user); /* a header (wav, flac, ogg) goes out at once */
}

int vx_audio_out_push(vx_audio_out *o, const int16_t *pcm, size_t n, vx_emit_fn emit, void *user) {
    o->frames_in += n;
    if (!o->rs && o->fmt != VX_AUDIO_OPUS && o->fmt != VX_AUDIO_AAC) {
        if (vx_encoder_push_s16(o->enc, pcm, n)) return -1; /* s16 codecs: no float trip */
        return drain(o, emit, user);
    }
    for (size_t off = 0; off < n;) { /* float, in pieces, through the resampler */
        size_t k = n - off < 8192 ? n - off : 8192;
        if (o->fcap < k) {
            float *f = realloc(o->fbuf, 8192 * sizeof(float));
            if (!f) return -1;
            o->fbuf = f;
            o->fcap = 8192;
        }
        for (size_t i = 0; i < k; i++) o->fbuf[i] = pcm[off + i] * (1.0f / 32768.0f);
        const float *x = o->fbuf;
        size_t m = k;
        if (o->rs && vx_resampler_push(o->rs, o->fbuf, k, &x, &m)) return -1;
        if (m && vx_encoder_push_f32(o->enc, x, m)) return -1;
        if (drain(o, emit, user)) return -1;
        off += k;
    }
    return 0;
}

int vx_audio_out_end(vx_audio_out *o, vx_emit_fn emit, void *user) {
    if (o->rs) {
        const float *x;
        size_t m;
        if (vx_resampler_finish(o->rs, &x, &m) || (m && vx_encoder_push_f32(o->enc, x, m)))
            return -1;
    }
    return vx_encoder_finish(o->enc) || drain(o, emit, user) ? -1 : 0;
}

void vx_audio_out_patch(const vx_audio_out *o, size_t *offset, const uint8_t **bytes, size_t *len) {
    *len = 0;
    if (!o->enc) return;
    vx_encoder_patch(o->enc, offset, bytes, len);
}

void vx_audio_out_free(vx_audio_out *o) {
    vx_encoder_free(o->enc);
    vx_resampler_free(o->rs);
    free(o->fbuf);
    memset(o, 0, sizeof *o);
}

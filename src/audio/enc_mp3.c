/* mp3 through libmp3lame, CBR. The LAME tag (encoder delay and padding for gapless decoding)
 * is only known after the end, so it is written only when the caller will patch the start
 * (options.patchable); a plain stream has none. */
#include "audio/enc_internal.h"
#include <lame/lame.h>
#include <stdlib.h>

typedef struct {
    lame_global_flags *gf;
    uint8_t *buf;
    size_t cap;
} mp3_state;

/* The bitrates each MPEG version allows (kbit/s); the nearest one is used. */
static int nearest_kbps(int bps, int mpeg1) {
    static const int v1[] = {32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320};
    static const int v2[] = {8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160};
    const int *t = mpeg1 ? v1 : v2;
    int best = t[0];
    for (int i = 0; i < 14; i++)
        if (abs(t[i] * 1000 - bps) < abs(best * 1000 - bps)) best = t[i];
    return best;
}

static int mp3_init(vx_encoder *e, const vx_enc_options *o) {
    mp3_state *st = calloc(1, sizeof *st);
    if (!st) return vx_enc_fail(e, "out of memory");
    e->impl = st;
    st->gf = lame_init();
    if (!st->gf) return vx_enc_fail(e, "lame_init failed");
    lame_set_in_samplerate(st->gf, e->rate);
    lame_set_out_samplerate(st->gf, e->rate);   /* never let lame resample on its own */
    lame_set_num_channels(st->gf, e->channels);
    lame_set_mode(st->gf, e->channels == 1 ? MONO : JOINT_STEREO);
    lame_set_VBR(st->gf, vbr_off);
    lame_set_brate(st->gf, nearest_kbps(e->bitrate, e->rate >= 32000));
    lame_set_quality(st->gf, e->compression);
    lame_set_bWriteVbrTag(st->gf, e->patchable);
    if (lame_init_params(st->gf) < 0) return vx_enc_fail(e, "lame rejected the parameters");
    /* lame's documented worst case for n samples is 1.25 n + 7200 bytes */
    st->cap = (size_t)(1.25 * VX_ENC_BLOCK) + 7200;
    st->buf = malloc(st->cap);
    return st->buf ? 0 : vx_enc_fail(e, "out of memory");
}

static int mp3_push(vx_encoder *e, const float *f, const int16_t *s, size_t frames) {
    mp3_state *st = e->impl;
    int n = e->channels == 1
        ? lame_encode_buffer(st->gf, s, s, (int)frames, st->buf, (int)st->cap)
        : lame_encode_buffer_interleaved(st->gf, (short *)s, (int)frames, st->buf, (int)st->cap);
    if (n < 0) return vx_enc_fail(e, "lame_encode_buffer failed (%d)", n);
    return vx_enc_emit(e, st->buf, (size_t)n);
}

static int mp3_finish(vx_encoder *e) {
    mp3_state *st = e->impl;
    int n = lame_encode_flush(st->gf, st->buf, (int)st->cap);
    if (n < 0) return vx_enc_fail(e, "lame_encode_flush failed (%d)", n);
    if (vx_enc_emit(e, st->buf, (size_t)n)) return -1;
    if (e->patchable) {   /* the tag frame replaces the placeholder lame put first */
        size_t k = lame_get_lametag_frame(st->gf, e->patch, sizeof e->patch);
        if (k > sizeof e->patch)
            return vx_enc_fail(e, "LAME tag larger than %zu bytes", sizeof e->patch);
        e->patch_off = 0;
        e->patch_len = k;
    }
    return 0;
}

static void mp3_free(vx_encoder *e) {
    mp3_state *st = e->impl;
    if (!st) return;
    if (st->gf) lame_close(st->gf);
    free(st->buf);
    free(st);
}

const vx_enc_ops vx_enc_mp3_ops = {0, mp3_init, mp3_push, mp3_finish, mp3_free};

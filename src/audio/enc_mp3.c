/* mp3 through libmp3lame, CBR.
 * Gapless timing: lame's own LAME tag (frame count, encoder delay, end padding) is known only
 * after the end, so it is written only when the caller will patch the start
 * (options.patchable). A plain stream starts instead with a tag frame of ours that carries
 * what is known at the start, the encoder delay: decoders that read LAME tags (ffmpeg, so
 * browsers built on it) skip that frame and trim the delay. The end padding is unknown
 * then; finish drops the last frame when it decodes to padding only, so a stream decodes to
 * its pushed length plus less than one frame (ffmpeg: n + padding - 529, measured by
 * tests/audio/test_encoder.c). */
#include "audio/enc_internal.h"
#include <lame/lame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    lame_global_flags *gf;
    uint8_t *buf;
    size_t cap;
} mp3_state;

/* The bitrates (kbit/s) of bitrate index 1..14, for MPEG-1 and for MPEG-2/2.5 layer III. */
static const int kbps_v1[] = {32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320};
static const int kbps_v2[] = {8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160};

/* The nearest bitrate the MPEG version allows. */
static int nearest_kbps(int bps, int mpeg1) {
    const int *t = mpeg1 ? kbps_v1 : kbps_v2;
    int best = t[0];
    for (int i = 0; i < 14; i++)
        if (abs(t[i] * 1000 - bps) < abs(best * 1000 - bps)) best = t[i];
    return best;
}

/* Bytes of a layer III frame without the padding slot. */
static int frame_bytes(int kbps, int rate) {
    return (rate >= 32000 ? 144000 : 72000) * kbps / rate;
}

/* CRC-16 (polynomial 0x8005, reflected, zero start) as the LAME tag's own CRC field. */
static unsigned crc16(const uint8_t *p, size_t n) {
    unsigned c = 0;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0xA001 : c >> 1;
    }
    return c;
}

/* The stream's first frame: an "Info" (CBR Xing) frame with a LAME extension whose delay
 * field is lame's encoder delay. Xing readers skip the frame only when it announces a frame
 * count or a byte count, neither known yet: the byte count says 0xFFFFFFFF, the largest,
 * which ffmpeg takes for a growing file (it warns when it knows a smaller file size). No
 * frame count: a wrong one would make readers trim or report a wrong duration. Its side
 * info is zero, so a decoder that knows no tags plays it as one frame of silence. */
static size_t stream_tag(const vx_encoder *e, lame_global_flags *gf, uint8_t *f, size_t cap) {
    int mpeg1 = e->rate >= 32000, mpeg25 = e->rate < 16000;
    int side = mpeg1 ? (e->channels == 1 ? 17 : 32) : (e->channels == 1 ? 9 : 17);
    size_t need = 4 + (size_t)side + 12 + 36;
    const int *t = mpeg1 ? kbps_v1 : kbps_v2;
    int kbps = lame_get_brate(gf), idx = 0;
    for (int i = 0; i < 14 && !idx; i++) /* the stream's bitrate, or the least that fits */
        if (t[i] >= kbps && (size_t)frame_bytes(t[i], e->rate) >= need) idx = i + 1;
    if (!idx) return 0;
    size_t len = (size_t)frame_bytes(t[idx - 1], e->rate);
    if (len > cap) return 0;
    static const int rates[3][3] = {
        {44100, 48000, 32000}, {22050, 24000, 16000}, {11025, 12000, 8000}};
    int row = mpeg1 ? 0 : mpeg25 ? 2 : 1, sr = 0;
    while (sr < 3 && rates[row][sr] != e->rate) sr++;
    if (sr == 3) return 0;
    memset(f, 0, len);
    f[0] = 0xFF; /* sync, version, layer III, no CRC */
    f[1] = (uint8_t)(0xE0 | (mpeg1 ? 3 : mpeg25 ? 0 : 2) << 3 | 1 << 1 | 1);
    f[2] = (uint8_t)(idx << 4 | sr << 2);
    f[3] = (uint8_t)((e->channels == 1 ? 3 : 1) << 6); /* mono or joint stereo */
    uint8_t *p = f + 4 + side;
    memcpy(p, "Info", 4);
    p[7] = 2;               /* flags: byte count present */
    memset(p + 8, 0xFF, 4); /* byte count: unknown, the largest */
    p += 12;
    char ver[10];
    snprintf(ver, sizeof ver, "LAME%-5s", get_lame_short_version());
    memcpy(p, ver, 9);
    p[9] = 1; /* tag revision 0, CBR */
    int lp = lame_get_lowpassfreq(gf) / 100;
    p[10] = (uint8_t)(lp < 0 ? 0 : lp > 255 ? 255 : lp);
    p[20] = (uint8_t)(kbps > 255 ? 255 : kbps);
    unsigned delay = (unsigned)lame_get_encoder_delay(gf) & 0xFFF; /* padding: unknown, 0 */
    p[21] = (uint8_t)(delay >> 4);
    p[22] = (uint8_t)((delay & 15) << 4);
    unsigned c = crc16(f, (size_t)(p + 34 - f));
    p[34] = (uint8_t)(c >> 8);
    p[35] = (uint8_t)c;
    return len;
}

/* After the flush: when lame's end padding reaches past the decoder delay by a whole frame,
 * the last frame decodes to padding only (each frame's output depends on it and the frames
 * before), so it is dropped. It is the last `len` bytes of the flush; its header confirms it.
 * Returns the bytes to keep. */
static size_t drop_padding_frame(const vx_encoder *e, lame_global_flags *gf, const uint8_t *b,
                                 size_t n) {
    int fs = lame_get_framesize(gf);
    if (lame_get_encoder_padding(gf) < fs + 529) return n;
    size_t len = (size_t)frame_bytes(lame_get_brate(gf), e->rate);
    for (size_t l = len; l <= len + 1; l++) { /* with or without the padding slot */
        if (n < l) break;
        const uint8_t *h = b + n - l;
        if (h[0] == 0xFF && (h[1] & 0xE0) == 0xE0 && (size_t)(l - len) == (size_t)(h[2] >> 1 & 1))
            return n - l;
    }
    return n;
}

static int mp3_init(vx_encoder *e, const vx_enc_options *o) {
    mp3_state *st = calloc(1, sizeof *st);
    if (!st) return vx_enc_fail(e, "out of memory");
    e->impl = st;
    st->gf = lame_init();
    if (!st->gf) return vx_enc_fail(e, "lame_init failed");
    lame_set_in_samplerate(st->gf, e->rate);
    lame_set_out_samplerate(st->gf, e->rate); /* never let lame resample on its own */
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
    if (!st->buf) return vx_enc_fail(e, "out of memory");
    if (!e->patchable) {
        size_t k = stream_tag(e, st->gf, st->buf, st->cap);
        if (k && vx_enc_emit(e, st->buf, k)) return -1;
    }
    return 0;
}

static int mp3_push(vx_encoder *e, const float *f, const int16_t *s, size_t frames) {
    mp3_state *st = e->impl;
    int n = e->channels == 1 ? lame_encode_buffer(st->gf, s, s, (int)frames, st->buf, (int)st->cap)
                             : lame_encode_buffer_interleaved(st->gf, (short *)s, (int)frames,
                                                              st->buf, (int)st->cap);
    if (n < 0) return vx_enc_fail(e, "lame_encode_buffer failed (%d)", n);
    return vx_enc_emit(e, st->buf, (size_t)n);
}

static int mp3_finish(vx_encoder *e) {
    mp3_state *st = e->impl;
    int n = lame_encode_flush(st->gf, st->buf, (int)st->cap);
    if (n < 0) return vx_enc_fail(e, "lame_encode_flush failed (%d)", n);
    size_t keep = e->patchable ? (size_t)n : drop_padding_frame(e, st->gf, st->buf, (size_t)n);
    if (vx_enc_emit(e, st->buf, keep)) return -1;
    if (e->patchable) { /* the tag frame replaces the placeholder lame put first */
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

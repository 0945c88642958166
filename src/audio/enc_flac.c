/* FLAC through libFLAC's stream encoder with a write callback (16-bit, streamable subset).
 * Without a seek callback the STREAMINFO at the start says "length unknown"; libFLAC hands
 * the final STREAMINFO (length, MD5) to the metadata callback, kept as the stream's patch. */
#include "audio/enc_internal.h"
#include <FLAC/stream_encoder.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    FLAC__StreamEncoder *enc;
    FLAC__int32 buf[VX_ENC_BLOCK * 2];
} flac_state;

static FLAC__StreamEncoderWriteStatus flac_write(const FLAC__StreamEncoder *enc,
                                                 const FLAC__byte buffer[], size_t bytes,
                                                 uint32_t samples, uint32_t frame, void *user) {
    return vx_enc_emit(user, buffer, bytes) ? FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR
                                            : FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
}

static void put_be(uint8_t *p, uint64_t v, int nbytes) {
    for (int i = nbytes - 1; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

/* STREAMINFO body (34 bytes) as it sits at byte 8 of the stream ("fLaC" + block header). */
static void flac_metadata(const FLAC__StreamEncoder *enc, const FLAC__StreamMetadata *m,
                          void *user) {
    vx_encoder *e = user;
    if (m->type != FLAC__METADATA_TYPE_STREAMINFO) return;
    const FLAC__StreamMetadata_StreamInfo *si = &m->data.stream_info;
    uint8_t *p = e->patch;
    put_be(p, si->min_blocksize, 2);
    put_be(p + 2, si->max_blocksize, 2);
    put_be(p + 4, si->min_framesize, 3);
    put_be(p + 7, si->max_framesize, 3);
    /* 20 bits rate, 3 bits channels-1, 5 bits bps-1, 36 bits total samples */
    uint64_t v = (uint64_t)si->sample_rate << 44 | (uint64_t)(si->channels - 1) << 41 |
                 (uint64_t)(si->bits_per_sample - 1) << 36 | (si->total_samples & 0xFFFFFFFFFull);
    put_be(p + 10, v, 8);
    memcpy(p + 18, si->md5sum, 16);
    e->patch_off = 8;
    e->patch_len = 34;
}

static int flac_init(vx_encoder *e, const vx_enc_options *o) {
    flac_state *st = calloc(1, sizeof *st);
    if (!st) return vx_enc_fail(e, "out of memory");
    e->impl = st;
    st->enc = FLAC__stream_encoder_new();
    if (!st->enc) return vx_enc_fail(e, "out of memory");
    FLAC__bool ok = FLAC__stream_encoder_set_channels(st->enc, (uint32_t)e->channels) &&
                    FLAC__stream_encoder_set_bits_per_sample(st->enc, 16) &&
                    FLAC__stream_encoder_set_sample_rate(st->enc, (uint32_t)e->rate) &&
                    FLAC__stream_encoder_set_compression_level(st->enc, (uint32_t)e->compression) &&
                    FLAC__stream_encoder_set_streamable_subset(st->enc, true);
    if (!ok) return vx_enc_fail(e, "libFLAC rejected the parameters");
    FLAC__StreamEncoderInitStatus rc =
        FLAC__stream_encoder_init_stream(st->enc, flac_write, NULL, NULL, flac_metadata, e);
    if (rc != FLAC__STREAM_ENCODER_INIT_STATUS_OK)
        return vx_enc_fail(e, "FLAC init: %s", FLAC__StreamEncoderInitStatusString[rc]);
    return 0;
}

static int flac_push(vx_encoder *e, const float *f, const int16_t *s, size_t frames) {
    flac_state *st = e->impl;
    for (size_t i = 0; i < frames * e->channels; i++) st->buf[i] = s[i];
    if (!FLAC__stream_encoder_process_interleaved(st->enc, st->buf, (uint32_t)frames))
        return vx_enc_fail(e, "FLAC: %s", FLAC__stream_encoder_get_resolved_state_string(st->enc));
    return 0;
}

static int flac_finish(vx_encoder *e) {
    flac_state *st = e->impl;
    if (!FLAC__stream_encoder_finish(st->enc))
        return vx_enc_fail(e, "FLAC finish: %s",
                           FLAC__stream_encoder_get_resolved_state_string(st->enc));
    return 0;
}

static void flac_free(vx_encoder *e) {
    flac_state *st = e->impl;
    if (!st) return;
    if (st->enc) FLAC__stream_encoder_delete(st->enc); /* finishes first if still open */
    free(st);
}

const vx_enc_ops vx_enc_flac_ops = {0, flac_init, flac_push, flac_finish, flac_free};

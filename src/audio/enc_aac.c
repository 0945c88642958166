/* AAC-LC in ADTS through libavcodec's native encoder. The ADTS header (7 bytes per frame) is
 * written here: it is a fixed bit layout, and pulling in libavformat for it would add a
 * muxer, its I/O layer and its probing to the server for 20 lines of bit packing. */
#include "audio/enc_internal.h"
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    AVCodecContext *ctx;
    AVFrame *frame; /* one codec frame being filled (planar float) */
    AVPacket *pkt;
    int fill; /* frames already in `frame` */
    int freq_index;
} aac_state;

static int freq_index(int rate) {
    static const int t[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                            22050, 16000, 12000, 11025, 8000,  7350};
    for (int i = 0; i < 13; i++)
        if (t[i] == rate) return i;
    return -1;
}

static int write_adts(vx_encoder *e, aac_state *st, const uint8_t *p, int n) {
    uint8_t h[7];
    unsigned len = (unsigned)n + 7;
    if (len > 0x1FFF) return vx_enc_fail(e, "aac frame too large for ADTS (%d bytes)", n);
    unsigned prof = 1; /* AAC LC: audio object type 2, minus 1 */
    unsigned ch = (unsigned)e->channels;
    h[0] = 0xFF;
    h[1] = 0xF1; /* sync, MPEG-4, layer 0, no CRC */
    h[2] = (uint8_t)(prof << 6 | (unsigned)st->freq_index << 2 | ch >> 2);
    h[3] = (uint8_t)((ch & 3) << 6 | len >> 11);
    h[4] = (uint8_t)(len >> 3);
    h[5] = (uint8_t)((len & 7) << 5 | 0x1F); /* buffer fullness 0x7FF: VBR */
    h[6] = 0xFC;                             /* fullness low bits, one raw data block */
    if (vx_enc_emit(e, h, 7)) return -1;
    return vx_enc_emit(e, p, (size_t)n);
}

/* Send one frame (NULL = flush) and write every packet the encoder returns. */
static int encode(vx_encoder *e, aac_state *st, AVFrame *fr) {
    int rc = avcodec_send_frame(st->ctx, fr);
    if (rc < 0) return vx_enc_fail(e, "avcodec_send_frame failed (%d)", rc);
    for (;;) {
        rc = avcodec_receive_packet(st->ctx, st->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return 0;
        if (rc < 0) return vx_enc_fail(e, "avcodec_receive_packet failed (%d)", rc);
        rc = write_adts(e, st, st->pkt->data, st->pkt->size);
        av_packet_unref(st->pkt);
        if (rc) return -1;
    }
}

/* libavcodec logs encoder statistics ("Qavg: ...") to stderr at info level; vox reports
 * errors itself. */
static void quiet_av(void) { av_log_set_level(AV_LOG_ERROR); }

static int aac_init(vx_encoder *e, const vx_enc_options *o) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, quiet_av);
    aac_state *st = calloc(1, sizeof *st);
    if (!st) return vx_enc_fail(e, "out of memory");
    e->impl = st;
    st->freq_index = freq_index(e->rate);
    const AVCodec *c = avcodec_find_encoder_by_name("aac");
    if (!c) return vx_enc_fail(e, "libavcodec has no native aac encoder");
    st->ctx = avcodec_alloc_context3(c);
    st->frame = av_frame_alloc();
    st->pkt = av_packet_alloc();
    if (!st->ctx || !st->frame || !st->pkt) return vx_enc_fail(e, "out of memory");
    st->ctx->sample_fmt = AV_SAMPLE_FMT_FLTP;
    st->ctx->sample_rate = e->rate;
    st->ctx->bit_rate = e->bitrate;
    st->ctx->profile = FF_PROFILE_AAC_LOW;
    st->ctx->thread_count = 1;
    st->ctx->time_base = (AVRational){1, e->rate};
    av_channel_layout_default(&st->ctx->ch_layout, e->channels);
    /* The "fast" coder: the default two-loop search costs 1.7x as much CPU (8.6% of the
     * medium voice's synthesis time at 22050 Hz against 3.7%, bench/audio_bench.c) for a
     * difference speech at 64 kbit/s does not show. */
    av_opt_set(st->ctx->priv_data, "aac_coder", "fast", 0);
    int rc = avcodec_open2(st->ctx, c, NULL);
    if (rc < 0) return vx_enc_fail(e, "avcodec_open2(aac) failed (%d)", rc);
    st->frame->format = AV_SAMPLE_FMT_FLTP;
    st->frame->sample_rate = e->rate;
    st->frame->nb_samples = st->ctx->frame_size;
    if (av_channel_layout_copy(&st->frame->ch_layout, &st->ctx->ch_layout) < 0 ||
        av_frame_get_buffer(st->frame, 0) < 0)
        return vx_enc_fail(e, "out of memory");
    return 0;
}

static int aac_push(vx_encoder *e, const float *f, const int16_t *s, size_t frames) {
    aac_state *st = e->impl;
    int fs = st->ctx->frame_size, ch = e->channels;
    for (size_t i = 0; i < frames;) {
        if (av_frame_make_writable(st->frame) < 0) return vx_enc_fail(e, "out of memory");
        size_t n = frames - i;
        if (n > (size_t)(fs - st->fill)) n = (size_t)(fs - st->fill);
        for (int c = 0; c < ch; c++) { /* interleaved → planar */
            float *dst = (float *)st->frame->data[c] + st->fill;
            for (size_t k = 0; k < n; k++) dst[k] = f[(i + k) * ch + c];
        }
        st->fill += (int)n;
        i += n;
        if (st->fill == fs) {
            st->frame->nb_samples = fs;
            st->frame->pts = (int64_t)(e->frames + i) - fs;
            if (encode(e, st, st->frame)) return -1;
            st->fill = 0;
        }
    }
    return 0;
}

static int aac_finish(vx_encoder *e) {
    aac_state *st = e->impl;
    if (st->fill) { /* the encoder takes a short last frame (AV_CODEC_CAP_SMALL_LAST_FRAME) */
        st->frame->nb_samples = st->fill;
        st->frame->pts = (int64_t)e->frames - st->fill;
        if (encode(e, st, st->frame)) return -1;
        st->fill = 0;
    }
    return encode(e, st, NULL);
}

static void aac_free(vx_encoder *e) {
    aac_state *st = e->impl;
    if (!st) return;
    avcodec_free_context(&st->ctx);
    av_frame_free(&st->frame);
    av_packet_free(&st->pkt);
    free(st);
}

const vx_enc_ops vx_enc_aac_ops = {1, aac_init, aac_push, aac_finish, aac_free};

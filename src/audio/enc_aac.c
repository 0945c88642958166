/* AAC-LC in ADTS through libavcodec's native encoder. The ADTS header (7 bytes per frame) is
 * written here: it is a fixed bit layout, and pulling in libavformat for it would add a
 * muxer, its I/O layer and its probing to the server for 20 lines of bit packing.
 *
 * libavcodec and libavutil are opened with dlopen the first time an aac encoder is made,
 * not linked: Debian's libavcodec needs ~100 further shared libraries (x265, rav1e, rsvg,
 * glib, icu, ...), and linking them made every vox and voxd process start 41 ms slower
 * and hold 14.7 MB more RSS (an empty program linked with our other libraries and with
 * or without these two: 5.9 vs 20.6 MB, 12 vs 54 ms), for a format most requests never
 * ask for. The headers still come from the -dev packages, so the types and the soname
 * (libavcodec.so.<major>) are those of the version built against. */
#include "audio/enc_internal.h"
#include <dlfcn.h>
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define AVCODEC_SONAME "libavcodec.so." AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR)
#define AVUTIL_SONAME  "libavutil.so." AV_STRINGIFY(LIBAVUTIL_VERSION_MAJOR)

/* The entry points used here, resolved once (av_load). */
static struct {
    int ok;
    char err[160];
    const AVCodec *(*find_encoder_by_name)(const char *);
    AVCodecContext *(*alloc_context3)(const AVCodec *);
    int (*open2)(AVCodecContext *, const AVCodec *, AVDictionary **);
    void (*free_context)(AVCodecContext **);
    int (*send_frame)(AVCodecContext *, const AVFrame *);
    int (*receive_packet)(AVCodecContext *, AVPacket *);
    AVPacket *(*packet_alloc)(void);
    void (*packet_unref)(AVPacket *);
    void (*packet_free)(AVPacket **);
    AVFrame *(*frame_alloc)(void);
    int (*frame_get_buffer)(AVFrame *, int);
    int (*frame_make_writable)(AVFrame *);
    void (*frame_free)(AVFrame **);
    void (*log_set_level)(int);
    int (*opt_set)(void *, const char *, const char *, int);
    void (*layout_default)(AVChannelLayout *, int);
    int (*layout_copy)(AVChannelLayout *, const AVChannelLayout *);
} av;

static int av_sym(void *lib, const char *soname, const char *name, void *fn) {
    void *p = dlsym(lib, name);
    if (!p) {
        snprintf(av.err, sizeof av.err, "%s has no %s", soname, name);
        return -1;
    }
    memcpy(fn, &p, sizeof p); /* object pointer to function pointer, as POSIX dlsym allows */
    return 0;
}

/* Both libraries stay open for the life of the process (never dlclose'd). libavcodec
 * logs encoder statistics ("Qavg: ...") to stderr at info level; vox reports errors
 * itself. */
static void av_load(void) {
    void *cod = dlopen(AVCODEC_SONAME, RTLD_NOW | RTLD_LOCAL);
    void *utl = cod ? dlopen(AVUTIL_SONAME, RTLD_NOW | RTLD_LOCAL) : NULL;
    if (!cod || !utl) {
        const char *why = dlerror();
        snprintf(av.err, sizeof av.err, "aac needs %s: %s", cod ? AVUTIL_SONAME : AVCODEC_SONAME,
                 why ? why : "not found");
        return;
    }
    const char *c = AVCODEC_SONAME, *u = AVUTIL_SONAME;
    if (av_sym(cod, c, "avcodec_find_encoder_by_name", &av.find_encoder_by_name) ||
        av_sym(cod, c, "avcodec_alloc_context3", &av.alloc_context3) ||
        av_sym(cod, c, "avcodec_open2", &av.open2) ||
        av_sym(cod, c, "avcodec_free_context", &av.free_context) ||
        av_sym(cod, c, "avcodec_send_frame", &av.send_frame) ||
        av_sym(cod, c, "avcodec_receive_packet", &av.receive_packet) ||
        av_sym(cod, c, "av_packet_alloc", &av.packet_alloc) ||
        av_sym(cod, c, "av_packet_unref", &av.packet_unref) ||
        av_sym(cod, c, "av_packet_free", &av.packet_free) ||
        av_sym(utl, u, "av_frame_alloc", &av.frame_alloc) ||
        av_sym(utl, u, "av_frame_get_buffer", &av.frame_get_buffer) ||
        av_sym(utl, u, "av_frame_make_writable", &av.frame_make_writable) ||
        av_sym(utl, u, "av_frame_free", &av.frame_free) ||
        av_sym(utl, u, "av_log_set_level", &av.log_set_level) ||
        av_sym(utl, u, "av_opt_set", &av.opt_set) ||
        av_sym(utl, u, "av_channel_layout_default", &av.layout_default) ||
        av_sym(utl, u, "av_channel_layout_copy", &av.layout_copy))
        return;
    av.log_set_level(AV_LOG_ERROR);
    av.ok = 1;
}

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
    int rc = av.send_frame(st->ctx, fr);
    if (rc < 0) return vx_enc_fail(e, "avcodec_send_frame failed (%d)", rc);
    for (;;) {
        rc = av.receive_packet(st->ctx, st->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return 0;
        if (rc < 0) return vx_enc_fail(e, "avcodec_receive_packet failed (%d)", rc);
        rc = write_adts(e, st, st->pkt->data, st->pkt->size);
        av.packet_unref(st->pkt);
        if (rc) return -1;
    }
}

static int aac_init(vx_encoder *e, const vx_enc_options *o) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, av_load);
    if (!av.ok) return vx_enc_fail(e, "%s", av.err);
    aac_state *st = calloc(1, sizeof *st);
    if (!st) return vx_enc_fail(e, "out of memory");
    e->impl = st;
    st->freq_index = freq_index(e->rate);
    const AVCodec *c = av.find_encoder_by_name("aac");
    if (!c) return vx_enc_fail(e, "libavcodec has no native aac encoder");
    st->ctx = av.alloc_context3(c);
    st->frame = av.frame_alloc();
    st->pkt = av.packet_alloc();
    if (!st->ctx || !st->frame || !st->pkt) return vx_enc_fail(e, "out of memory");
    st->ctx->sample_fmt = AV_SAMPLE_FMT_FLTP;
    st->ctx->sample_rate = e->rate;
    st->ctx->bit_rate = e->bitrate;
    st->ctx->profile = FF_PROFILE_AAC_LOW;
    st->ctx->thread_count = 1;
    st->ctx->time_base = (AVRational){1, e->rate};
    av.layout_default(&st->ctx->ch_layout, e->channels);
    /* The "fast" coder: the default two-loop search costs 1.7x as much CPU (8.6% of the
     * medium voice's synthesis time at 22050 Hz against 3.7%, bench/audio_bench.c) for a
     * difference speech at 64 kbit/s does not show. */
    av.opt_set(st->ctx->priv_data, "aac_coder", "fast", 0);
    /* Temporal noise shaping and perceptual noise substitution off: together 10% of the
     * encoder's CPU (1.99 -> 1.79 ms per audio second at 22,050 Hz), and on espeak speech
     * decoded by ffmpeg the log-mel distance to the input improves without them (1.73 ->
     * 1.48 dB; libavcodec's native TNS is known to hurt more than it helps). */
    av.opt_set(st->ctx->priv_data, "aac_tns", "0", 0);
    av.opt_set(st->ctx->priv_data, "aac_pns", "0", 0);
    int rc = av.open2(st->ctx, c, NULL);
    if (rc < 0) return vx_enc_fail(e, "avcodec_open2(aac) failed (%d)", rc);
    st->frame->format = AV_SAMPLE_FMT_FLTP;
    st->frame->sample_rate = e->rate;
    st->frame->nb_samples = st->ctx->frame_size;
    if (av.layout_copy(&st->frame->ch_layout, &st->ctx->ch_layout) < 0 ||
        av.frame_get_buffer(st->frame, 0) < 0)
        return vx_enc_fail(e, "out of memory");
    return 0;
}

static int aac_push(vx_encoder *e, const float *f, const int16_t *s, size_t frames) {
    aac_state *st = e->impl;
    int fs = st->ctx->frame_size, ch = e->channels;
    for (size_t i = 0; i < frames;) {
        if (av.frame_make_writable(st->frame) < 0) return vx_enc_fail(e, "out of memory");
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
    av.free_context(&st->ctx);
    av.frame_free(&st->frame);
    av.packet_free(&st->pkt);
    free(st);
}

const vx_enc_ops vx_enc_aac_ops = {1, aac_init, aac_push, aac_finish, aac_free};

/* Opus in Ogg (RFC 7845) with libopus and libogg.
 *
 * Why not libopusenc: measured on the medium voice (bench/audio_bench.c), libopusenc costs
 * 10–12 ms CPU per audio second — 15% of synthesis — where libopus alone in the mode below
 * costs ~2.3 ms. libopusenc always resamples to 48 kHz with its own (speex) resampler, and
 * every frame it issues multistream ctls whose size computation runs CPUID (a trap to the
 * hypervisor on VMs: 22% of its profile). The Ogg encapsulation itself is small: two header
 * packets and granule positions, done here with libogg.
 *
 * Choices:
 *   - Input at an Opus rate (8/12/16/24/48 kHz) goes straight to libopus; other rates are
 *     resampled (libsoxr, vx_resampler) to the next Opus rate up, so 22050 Hz speech is
 *     coded at 24 kHz — no bandwidth is lost and 48 kHz is never paid for. The header
 *     records the original rate.
 *   - OPUS_APPLICATION_RESTRICTED_LOWDELAY (CELT only): SILK/hybrid mode costs 7–8 ms per
 *     audio second here (3x CELT) for a gain only at bitrates below the 32 kbit/s default.
 *   - 20 ms frames; an Ogg page at least every 200 ms of audio so a stream leaves early
 *     without one page per packet.
 *   - Pre-skip = the encoder's lookahead, and the last page's granule position = pre-skip +
 *     the pushed length, so decoders trim the stream to exactly what was pushed.
 */
#include "audio/enc_internal.h"
#include "audio/resample.h"
#include <ogg/ogg.h>
#include <opus.h>
#include <stdlib.h>
#include <string.h>

#define OPUS_PAGE_MS 200
/* One fixed serial number: a file holds one logical stream, so nothing needs it unique,
 * and a fixed one makes the same audio give the same bytes. */
#define OPUS_SERIALNO 0x766f7821

typedef struct {
    OpusEncoder *enc;
    vx_resampler *rs; /* NULL when the input rate is an Opus rate */
    int coded_rate;   /* rate given to libopus */
    int frame;        /* samples per channel per 20 ms frame at coded_rate */
    int pre_skip;     /* 48 kHz samples */
    float *pend;      /* frame being filled (interleaved) */
    int fill;
    int64_t coded; /* samples per channel passed to libopus, at coded_rate */
    int64_t real;  /* of which real audio (the rest is end padding) */
    int64_t last_page_granule;
    ogg_stream_state os;
    int os_ok;
    int64_t packetno;
    unsigned char pkt[4000]; /* max Opus packet for one 20 ms frame is 1275 bytes per stream */
} opus_state;

static int opus_rate_for(int rate) {
    static const int r[] = {8000, 12000, 16000, 24000, 48000};
    for (int i = 0; i < 5; i++)
        if (r[i] >= rate) return r[i];
    return 48000;
}

static int emit_pages(vx_encoder *e, opus_state *st, int force) {
    ogg_page pg;
    while (force ? ogg_stream_flush(&st->os, &pg) : ogg_stream_pageout(&st->os, &pg)) {
        if (vx_enc_emit(e, pg.header, (size_t)pg.header_len) ||
            vx_enc_emit(e, pg.body, (size_t)pg.body_len))
            return -1;
        st->last_page_granule = ogg_page_granulepos(&pg);
    }
    return 0;
}

static int put_packet(vx_encoder *e, opus_state *st, unsigned char *p, long n, int64_t gran,
                      int bos, int eos) {
    ogg_packet op = {p, n, bos, eos, gran, st->packetno++};
    if (ogg_stream_packetin(&st->os, &op)) return vx_enc_fail(e, "ogg_stream_packetin failed");
    return 0;
}

static void le16(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void le32(unsigned char *p, uint32_t v) {
    le16(p, v & 0xFFFF);
    le16(p + 2, v >> 16);
}

static int write_headers(vx_encoder *e, opus_state *st) {
    unsigned char head[19];
    memcpy(head, "OpusHead", 8);
    head[8] = 1; /* version */
    head[9] = (unsigned char)e->channels;
    le16(head + 10, (unsigned)st->pre_skip);
    le32(head + 12, (uint32_t)e->rate); /* the input's rate, informational */
    le16(head + 16, 0);                 /* output gain */
    head[18] = 0;                       /* mapping family 0: mono/stereo */
    if (put_packet(e, st, head, sizeof head, 0, 1, 0) || emit_pages(e, st, 1)) return -1;
    const char *vendor = opus_get_version_string();
    size_t vl = strlen(vendor);
    unsigned char tags[8 + 4 + 128 + 4];
    if (vl > 128) vl = 128;
    memcpy(tags, "OpusTags", 8);
    le32(tags + 8, (uint32_t)vl);
    memcpy(tags + 12, vendor, vl);
    le32(tags + 12 + vl, 0); /* no user comments */
    return put_packet(e, st, tags, (long)(16 + vl), 0, 0, 0) || emit_pages(e, st, 1) ? -1 : 0;
}

static int opus_init(vx_encoder *e, const vx_enc_options *o) {
    opus_state *st = calloc(1, sizeof *st);
    if (!st) return vx_enc_fail(e, "out of memory");
    e->impl = st;
    st->coded_rate = opus_rate_for(e->rate);
    st->frame = st->coded_rate / 50;
    st->pend = malloc((size_t)st->frame * e->channels * sizeof(float));
    if (!st->pend) return vx_enc_fail(e, "out of memory");
    if (st->coded_rate != e->rate) {
        st->rs = vx_resampler_create(e->rate, st->coded_rate, e->channels, VX_RESAMPLE_HQ, e->err,
                                     sizeof e->err);
        if (!st->rs) return vx_enc_fail(e, "%s", e->err);
    }
    int err = 0;
    st->enc = opus_encoder_create(st->coded_rate, e->channels, OPUS_APPLICATION_RESTRICTED_LOWDELAY,
                                  &err);
    if (!st->enc) return vx_enc_fail(e, "opus_encoder_create: %s", opus_strerror(err));
    opus_int32 la = 0;
    if (opus_encoder_ctl(st->enc, OPUS_SET_BITRATE(e->bitrate)) != OPUS_OK ||
        opus_encoder_ctl(st->enc, OPUS_SET_COMPLEXITY(e->compression)) != OPUS_OK ||
        opus_encoder_ctl(st->enc, OPUS_GET_LOOKAHEAD(&la)) != OPUS_OK)
        return vx_enc_fail(e, "opus rejected the parameters");
    st->pre_skip = la * (48000 / st->coded_rate);
    if (ogg_stream_init(&st->os, OPUS_SERIALNO)) return vx_enc_fail(e, "ogg_stream_init failed");
    st->os_ok = 1;
    /* the header pages go out at once: a client has a valid stream immediately */
    return write_headers(e, st);
}

/* Encode the full frame in st->pend; eos marks the stream's last packet. */
static int encode_frame(vx_encoder *e, opus_state *st, int eos) {
    opus_int32 n = opus_encode_float(st->enc, st->pend, st->frame, st->pkt, sizeof st->pkt);
    if (n < 0) return vx_enc_fail(e, "opus_encode: %s", opus_strerror(n));
    st->coded += st->frame;
    int scale = 48000 / st->coded_rate;
    /* A granule counts every decoded 48 kHz sample, pre-skip included; the last packet's
     * ends at the real audio, which makes decoders drop the end padding. */
    int64_t gran = eos ? st->pre_skip + st->real * scale : st->coded * scale;
    if (put_packet(e, st, st->pkt, n, gran, 0, eos)) return -1;
    int flush = eos || gran - st->last_page_granule >= OPUS_PAGE_MS * 48;
    return emit_pages(e, st, flush);
}

static int feed(vx_encoder *e, opus_state *st, const float *f, size_t frames) {
    int ch = e->channels;
    st->real += (int64_t)frames;
    for (size_t i = 0; i < frames;) {
        size_t n = frames - i;
        if (n > (size_t)(st->frame - st->fill)) n = (size_t)(st->frame - st->fill);
        memcpy(st->pend + (size_t)st->fill * ch, f + i * ch, n * ch * sizeof(float));
        st->fill += (int)n;
        i += n;
        if (st->fill == st->frame) {
            if (encode_frame(e, st, 0)) return -1;
            st->fill = 0;
        }
    }
    return 0;
}

static int opus_push(vx_encoder *e, const float *f, const int16_t *s, size_t frames) {
    opus_state *st = e->impl;
    if (!st->rs) return feed(e, st, f, frames);
    const float *out;
    size_t n;
    if (vx_resampler_push(st->rs, f, frames, &out, &n)) return vx_enc_fail(e, "resampling failed");
    return feed(e, st, out, n);
}

static int opus_finish(vx_encoder *e) {
    opus_state *st = e->impl;
    if (st->rs) {
        const float *out;
        size_t n;
        if (vx_resampler_finish(st->rs, &out, &n) || feed(e, st, out, n))
            return vx_enc_fail(e, "resampling failed");
    }
    /* pad with silence until the encoder has also emitted its lookahead */
    int64_t need = st->real + st->pre_skip / (48000 / st->coded_rate);
    int ch = e->channels;
    do {
        memset(st->pend + (size_t)st->fill * ch, 0,
               (size_t)(st->frame - st->fill) * ch * sizeof(float));
        st->fill = 0;
        int last = st->coded + st->frame >= need;
        if (encode_frame(e, st, last)) return -1;
    } while (st->coded < need);
    return emit_pages(e, st, 1);
}

static void opus_free(vx_encoder *e) {
    opus_state *st = e->impl;
    if (!st) return;
    if (st->enc) opus_encoder_destroy(st->enc);
    if (st->os_ok) ogg_stream_clear(&st->os);
    vx_resampler_free(st->rs);
    free(st->pend);
    free(st);
}

const vx_enc_ops vx_enc_opus_ops = {1, opus_init, opus_push, opus_finish, opus_free};

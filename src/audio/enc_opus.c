/* Opus in Ogg through libopusenc. libopusenc resamples rates other than Opus's own to 48 kHz
 * internally and records the input rate in the header; pre-skip and the last page's granule
 * position make decoders trim the stream to exactly the pushed length. */
#include "audio/enc_internal.h"
#include <opus/opusenc.h>
#include <stdlib.h>

/* Pages are cut at least every 200 ms of audio, so a stream's bytes leave early without a
 * page per 20 ms packet (that would cost ~1.4 kbit/s of Ogg headers). */
#define OPUS_MUX_DELAY_48K 9600
/* libopusenc holds back this much audio before encoding (default 2 s, for chaining streams,
 * which we never do): one 20 ms frame keeps the first bytes early. */
#define OPUS_DECISION_DELAY_48K 960

/* A fixed Ogg serial number: libopusenc would draw one from rand() (the process's shared
 * sequence); one logical stream per file needs no unique serial, and a fixed one makes the
 * same audio give the same bytes. */
#define OPUS_SERIALNO 0x766f7821

static int opus_write(void *user, const unsigned char *p, opus_int32 len) {
    return vx_enc_emit(user, p, (size_t)len) ? 1 : 0;
}
static int opus_close(void *user) { return 0; }

static int opus_init(vx_encoder *e, const vx_enc_options *o) {
    OggOpusComments *c = ope_comments_create();
    if (!c) return vx_enc_fail(e, "out of memory");
    OpusEncCallbacks cb = {opus_write, opus_close};
    int err = 0;
    OggOpusEnc *enc = ope_encoder_create_callbacks(&cb, e, c, e->rate, e->channels, 0, &err);
    ope_comments_destroy(c);   /* the encoder keeps its own copy */
    if (!enc) return vx_enc_fail(e, "ope_encoder_create: %s", ope_strerror(err));
    e->impl = enc;
    if (ope_encoder_ctl(enc, OPUS_SET_BITRATE(e->bitrate)) != OPE_OK ||
        ope_encoder_ctl(enc, OPUS_SET_COMPLEXITY(e->compression)) != OPE_OK ||
        ope_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)) != OPE_OK ||
        ope_encoder_ctl(enc, OPE_SET_MUXING_DELAY(OPUS_MUX_DELAY_48K)) != OPE_OK ||
        ope_encoder_ctl(enc, OPE_SET_DECISION_DELAY(OPUS_DECISION_DELAY_48K)) != OPE_OK ||
        ope_encoder_ctl(enc, OPE_SET_SERIALNO(OPUS_SERIALNO)) != OPE_OK)
        return vx_enc_fail(e, "opus rejected the parameters");
    /* the two header pages go out at once: a client sees a valid stream immediately */
    err = ope_encoder_flush_header(enc);
    return err == OPE_OK ? 0 : vx_enc_fail(e, "opus header: %s", ope_strerror(err));
}

static int opus_push(vx_encoder *e, const float *f, const int16_t *s, size_t frames) {
    int err = ope_encoder_write_float(e->impl, f, (int)frames);
    return err == OPE_OK ? 0 : vx_enc_fail(e, "opus: %s", ope_strerror(err));
}

static int opus_finish(vx_encoder *e) {
    int err = ope_encoder_drain(e->impl);
    return err == OPE_OK ? 0 : vx_enc_fail(e, "opus drain: %s", ope_strerror(err));
}

static void opus_free(vx_encoder *e) {
    if (e->impl) ope_encoder_destroy(e->impl);
}

const vx_enc_ops vx_enc_opus_ops = {1, opus_init, opus_push, opus_finish, opus_free};

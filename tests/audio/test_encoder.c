/* Streaming encoders (src/audio/encoder.h), checked against an independent decoder (ffmpeg):
 * every format at several rates, mono and stereo, decodes to the rate, channel count and
 * length pushed (exact for flac/wav/pcm; mp3 streams: less than one frame more, with no
 * delay left; aac: the 1024 ADTS priming samples plus less than one frame; at 48 kHz and exact
 * length for opus), with the pushed samples back (exact for lossless, a
 * correlation after alignment for lossy); chunked and one-shot encoding give the same bytes;
 * bytes leave before the end; bad options are refused with messages naming the field. */
#include "test.h"
#include "audio/encoder.h"
#include "audio/wav.h"
#include "ffdecode.h"
#include <stdint.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/vox_test_enc_XXXXXX";

typedef struct {
    uint8_t *p;
    size_t n, cap;
} bytes;
static void bput(bytes *b, const uint8_t *p, size_t n) {
    if (!n) return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void drain(vx_encoder *e, bytes *b) {
    size_t n;
    const uint8_t *p = vx_encoder_data(e, &n);
    bput(b, p, n);
    vx_encoder_consume(e, n);
}

/* Speech-like test signal: three partials under a syllable-rate envelope, with pauses. */
static float *make_signal(int rate, int ch, size_t frames) {
    float *x = malloc(frames * ch * sizeof(float));
    for (size_t i = 0; i < frames; i++) {
        double t = (double)i / rate;
        double env = 0.5 * (1 - cos(2 * M_PI * 3.0 * t));
        if (fmod(t, 0.9) > 0.7) env = 0; /* a pause */
        double v = 0.35 * sin(2 * M_PI * 180 * t) + 0.2 * sin(2 * M_PI * 730 * t + 1) +
                   0.1 * sin(2 * M_PI * 2300 * t + 2);
        for (int c = 0; c < ch; c++) x[i * ch + c] = (float)(env * v * (c ? 0.6 : 1.0));
    }
    return x;
}

/* Encode in chunks of pseudo-random sizes (chunk_max 0 = one push). */
static int encode(vx_audio_format f, int rate, int ch, const vx_enc_options *o, const float *x,
                  size_t frames, size_t chunk_max, bytes *out, size_t *before_finish) {
    char err[256];
    vx_encoder *e = vx_encoder_create(f, rate, ch, o, err, sizeof err);
    if (!e) {
        fprintf(stderr, "create %s: %s\n", vx_audio_format_name(f), err);
        return -1;
    }
    uint32_t seed = 12345;
    int rc = 0;
    for (size_t i = 0; i < frames && !rc;) {
        seed = seed * 1103515245u + 12345u;
        size_t n = chunk_max ? 1 + (seed >> 8) % chunk_max : frames;
        if (n > frames - i) n = frames - i;
        rc = vx_encoder_push_f32(e, x + i * ch, n);
        drain(e, out);
        i += n;
    }
    if (before_finish) *before_finish = out->n;
    if (!rc) rc = vx_encoder_finish(e);
    drain(e, out);
    /* pushing after finish is an error, not a crash */
    if (!rc && vx_encoder_push_f32(e, x, 1) == 0) rc = -1;
    vx_encoder_free(e);
    return rc;
}

static const char *rawspec(vx_audio_format f, int rate, int ch, char *buf, size_t n) {
    if (f != VX_AUDIO_PCM && f != VX_AUDIO_PCM_F32) return NULL;
    snprintf(buf, n, "-f %s -ar %d -ac %d", f == VX_AUDIO_PCM ? "s16le" : "f32le", rate, ch);
    return buf;
}

/* One format at one rate and channel count: decode, length, content. */
static void check_format(vx_audio_format f, int rate, int ch) {
    const char *nm = vx_audio_format_name(f);
    size_t frames = (size_t)(rate * 1.7);
    float *x = make_signal(rate, ch, frames);
    bytes a = {0}, b = {0};
    size_t early = 0;
    CHECKF(encode(f, rate, ch, NULL, x, frames, 3000, &a, &early) == 0, "%s %d", nm, rate);
    CHECKF(encode(f, rate, ch, NULL, x, frames, 0, &b, NULL) == 0, "%s %d one-shot", nm, rate);
    /* chunk boundaries must not change the stream at all */
    CHECKF(a.n == b.n && a.n && !memcmp(a.p, b.p, a.n),
           "%s %d ch%d: chunked %zu bytes vs "
           "one-shot %zu differ",
           nm, rate, ch, a.n, b.n);
    /* streamed: most bytes were ready before finish (the tail is at most a few frames) */
    CHECKF(early > a.n / 2, "%s %d: only %zu of %zu bytes before finish", nm, rate, early, a.n);

    char path[600], rs[96];
    snprintf(path, sizeof path, "%s/t_%d_%d.%s", tmpdir, rate, ch, vx_audio_extension(f));
    CHECK(write_file(path, a.p, a.n) == 0);
    const char *raw = rawspec(f, rate, ch, rs, sizeof rs);
    ff_probe_info pi;
    CHECKF(ff_probe(path, raw, &pi) == 0, "%s: ffprobe failed", nm);
    int drate = vx_audio_decoded_rate(f, rate);
    CHECKF(pi.rate == drate, "%s: decoded rate %d, want %d", nm, pi.rate, drate);
    CHECKF(pi.channels == ch, "%s: %d channels, want %d", nm, pi.channels, ch);

    size_t nd = 0;
    float *d = ff_decode(path, raw, ch, 0, &nd);
    CHECKF(d != NULL, "%s: ffmpeg could not decode", nm);
    if (!d) goto out;
    long want = f == VX_AUDIO_OPUS ? lround((double)frames * 48000 / rate) : (long)frames;
    long extra = (long)nd - want;
    /* mono reference of channel 0 at the decoded rate (opus: compare after ffmpeg resamples
     * the decode back to the input rate) */
    float *ref = malloc(frames * sizeof(float));
    for (size_t i = 0; i < frames; i++) ref[i] = x[i * ch];
    if (f == VX_AUDIO_FLAC || f == VX_AUDIO_WAV || f == VX_AUDIO_PCM || f == VX_AUDIO_PCM_F32) {
        CHECKF(extra == 0, "%s %d: decoded %zu frames, pushed %zu", nm, rate, nd, frames);
        /* bit exact: the s16 formats give back exactly the rounded samples */
        double maxerr = 0;
        for (size_t i = 0; i < frames * ch && i < nd * ch; i++) {
            int16_t s;
            vx_pcm_f32_to_s16(&x[i], &s, 1);
            double want_v = f == VX_AUDIO_PCM_F32 ? x[i] : s / 32768.0;
            double e = fabs(d[i] - want_v);
            if (e > maxerr) maxerr = e;
        }
        CHECKF(maxerr == 0, "%s %d: max sample error %g", nm, rate, maxerr);
    } else {
        int frame = f == VX_AUDIO_AAC   ? 1024
                    : f == VX_AUDIO_MP3 ? (rate >= 32000 ? 1152 : 576)
                                        : 960;
        if (f == VX_AUDIO_OPUS) {
            /* Ogg Opus trims pre-skip and end: the exact length, give or take rounding */
            CHECKF(labs(extra) <= 1, "opus %d: decoded %zu at 48 kHz, want %ld", rate, nd, want);
        } else {
            /* mp3: the stream's tag frame makes ffmpeg trim the delay, the end keeps less
             * than a frame of padding; aac: ADTS cannot say "skip", so the 1024 priming
             * samples come first, then less than a frame of padding */
            long delay = f == VX_AUDIO_MP3 ? 0 : 1024;
            CHECKF(extra >= delay && extra < delay + frame,
                   "%s %d: %ld extra frames "
                   "(delay %ld, frame %d)",
                   nm, rate, extra, delay, frame);
        }
        free(d);
        d = ff_decode(path, raw, ch, rate, &nd); /* at the input rate, for alignment */
        if (!d) goto out_ref;
        float *d0 = malloc(nd * sizeof(float));
        for (size_t i = 0; i < nd; i++) d0[i] = d[i * ch];
        double corr = 0;
        int lag = best_lag(ref, frames, d0, nd, 2600, &corr);
        printf("%-5s %5d Hz ch%d: %7zu bytes, %+ld frames vs input, lag %d, corr %.4f\n", nm, rate,
               ch, a.n, extra, lag, corr);
        long want_lag = f == VX_AUDIO_AAC ? 1024 : 0;
        CHECKF(lag == want_lag, "%s %d: decoded audio lags %d frames, want %ld", nm, rate, lag,
               want_lag);
        /* stereo opus codes the two correlated channels jointly: 0.95 measured */
        CHECKF(corr > (ch == 2 && f == VX_AUDIO_OPUS ? 0.93 : 0.97),
               "%s %d: correlation %.4f after alignment (lag %d)", nm, rate, corr, lag);
        free(d0);
    }
out_ref:
    free(ref);
out:
    free(d);
    remove(path);
    free(a.p);
    free(b.p);
    free(x);
}

/* mp3 streams over lengths, rates and bitrates: the tag frame (its bitrate raised where the
 * stream's frames are too small for it), the trimmed delay and the dropped padding frame
 * leave ffmpeg with the pushed length plus less than one frame, the audio at lag 0. */
static void check_mp3_stream_length(int rate, int ch, int bitrate) {
    int frame = rate >= 32000 ? 1152 : 576;
    long worst = -1;
    for (size_t frames = 3000; frames < 3000 + 2 * (size_t)frame; frames += 97) {
        float *x = make_signal(rate, ch, frames);
        vx_enc_options o;
        vx_enc_options_init(&o);
        o.bitrate = bitrate;
        bytes a = {0};
        char path[600];
        snprintf(path, sizeof path, "%s/len.mp3", tmpdir);
        int ok = encode(VX_AUDIO_MP3, rate, ch, &o, x, frames, 0, &a, NULL) == 0 &&
                 write_file(path, a.p, a.n) == 0;
        CHECKF(ok, "mp3 %d Hz %d bit/s: %zu frames did not encode", rate, bitrate, frames);
        size_t nd = 0;
        float *d = ok ? ff_decode(path, NULL, ch, 0, &nd) : NULL;
        long extra = (long)nd - (long)frames;
        CHECKF(d && extra >= 0 && extra < frame,
               "mp3 %d Hz ch%d %d bit/s, %zu frames: decoded "
               "%zu (%+ld, frame %d)",
               rate, ch, bitrate, frames, nd, extra, frame);
        if (extra > worst) worst = extra;
        if (d && frames == 3000 && bitrate >= 32000) { /* content in place, not shifted */
            float *m = malloc(frames * sizeof(float)), *dm = malloc(nd * sizeof(float));
            for (size_t i = 0; i < frames; i++) m[i] = x[i * ch];
            for (size_t i = 0; i < nd; i++) dm[i] = d[i * ch];
            double corr = 0;
            int lag = best_lag(m, frames, dm, nd, 1200, &corr);
            CHECKF(lag == 0 && corr > 0.9, "mp3 %d Hz %d bit/s: lag %d corr %.3f", rate, bitrate,
                   lag, corr);
            free(m);
            free(dm);
        }
        free(d);
        free(a.p);
        free(x);
        remove(path);
    }
    printf("mp3   %5d Hz ch%d %6d bit/s: at most %+ld frames over %d lengths (frame %d)\n", rate,
           ch, bitrate, worst, (2 * frame + 96) / 97, frame);
}

/* wav and flac: the patch (exact header / STREAMINFO) makes a file with the right length;
 * mp3 with options.patchable: the LAME tag makes ffmpeg decode exactly the pushed length. */
static void check_patch(vx_audio_format f, int rate) {
    size_t frames = 12345;
    float *x = make_signal(rate, 1, frames);
    bytes a = {0};
    char err[200];
    vx_enc_options eo;
    vx_enc_options_init(&eo);
    eo.patchable = 1;
    vx_encoder *e = vx_encoder_create(f, rate, 1, &eo, err, sizeof err);
    CHECK(e != NULL);
    CHECK(vx_encoder_push_f32(e, x, frames) == 0);
    drain(e, &a);
    size_t off, len;
    const uint8_t *pb;
    vx_encoder_patch(e, &off, &pb, &len);
    CHECKF(len == 0, "%s: a patch before finish", vx_audio_format_name(f));
    CHECK(vx_encoder_finish(e) == 0);
    drain(e, &a);
    vx_encoder_patch(e, &off, &pb, &len);
    CHECK(len > 0 && off + len <= a.n);
    if (len && off + len <= a.n) memcpy(a.p + off, pb, len);
    uint8_t saved[64] = {0};
    memcpy(saved, pb, len < sizeof saved ? len : sizeof saved); /* pb dies with e */
    pb = saved;
    vx_encoder_free(e);
    char path[600], cmd[800];
    snprintf(path, sizeof path, "%s/patch.%s", tmpdir, vx_audio_extension(f));
    write_file(path, a.p, a.n);
    if (f == VX_AUDIO_MP3) {
        size_t nd = 0;
        float *d = ff_decode(path, NULL, 1, 0, &nd);
        CHECKF(d && nd == frames, "mp3 %d Hz with LAME tag: decoded %zu frames, pushed %zu", rate,
               nd, frames);
        double corr = 0;
        if (d) best_lag(x, frames, d, nd, 0, &corr);
        CHECKF(corr > 0.97, "mp3 with LAME tag: correlation at lag 0 is %.4f", corr);
        free(d);
    } else {
        snprintf(cmd, sizeof cmd,
                 "ffprobe -v error -show_entries stream=duration_ts -of csv=p=0 '%s'", path);
        FILE *p = popen(cmd, "r");
        long ts = -1;
        if (p && fscanf(p, "%ld", &ts) != 1) ts = -1;
        if (p) pclose(p);
        CHECKF(ts == (long)frames, "%s patched: ffprobe duration_ts %ld, want %zu",
               vx_audio_format_name(f), ts, frames);
    }
    if (f == VX_AUDIO_FLAC) { /* the MD5 in the patched STREAMINFO matches the audio */
        snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -i '%s' -f s16le - | md5sum", path);
        FILE *q = popen(cmd, "r");
        char md5[40] = "";
        if (q && fscanf(q, "%32s", md5) != 1) md5[0] = 0;
        if (q) pclose(q);
        char hex[33];
        for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", pb[18 + i]);
        CHECK_STR(md5, hex);
    }
    remove(path);
    free(a.p);
    free(x);
}

static void check_bad(vx_audio_format f, int rate, int ch, int bitrate, int comp,
                      const char *needle) {
    vx_enc_options o = {.bitrate = bitrate, .compression = comp};
    char err[256] = "";
    vx_encoder *e = vx_encoder_create(f, rate, ch, &o, err, sizeof err);
    CHECKF(e == NULL, "%s rate %d ch %d bitrate %d comp %d accepted", vx_audio_format_name(f), rate,
           ch, bitrate, comp);
    CHECKF(strstr(err, needle) != NULL, "error '%s' does not mention '%s'", err, needle);
    CHECK(vx_encoder_check(f, rate, ch, &o, err, sizeof err) == -1);
    vx_encoder_free(e);
}

int main(void) {
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    if (system("ffmpeg -version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "ffmpeg is required (scripts/packages.txt)\n");
        return 1;
    }
    static const vx_audio_format all[] = {VX_AUDIO_MP3,    VX_AUDIO_OPUS, VX_AUDIO_AAC,
                                          VX_AUDIO_FLAC,   VX_AUDIO_WAV,  VX_AUDIO_PCM,
                                          VX_AUDIO_PCM_F32};
    static const int rates[] = {22050, 24000, 16000, 48000};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++)
            check_format(all[i], rates[r], 1);
        check_format(all[i], 44100, 2);
    }
    check_format(VX_AUDIO_FLAC, 20000, 1); /* rates outside the MPEG table: flac/opus/pcm */
    check_format(VX_AUDIO_OPUS, 20000, 1);
    check_mp3_stream_length(22050, 1, 0);
    check_mp3_stream_length(44100, 2, 0);
    check_mp3_stream_length(8000, 1, 8000);  /* MPEG-2.5 */
    check_mp3_stream_length(24000, 1, 8000); /* tag frame needs a larger bitrate */
    check_mp3_stream_length(32000, 1, 32000);
    check_patch(VX_AUDIO_WAV, 16000);
    check_patch(VX_AUDIO_FLAC, 16000);
    check_patch(VX_AUDIO_MP3, 22050);
    check_patch(VX_AUDIO_MP3, 44100);

    /* names, content types */
    vx_audio_format f;
    CHECK(vx_audio_format_parse("mp3", &f) == 0 && f == VX_AUDIO_MP3);
    CHECK(vx_audio_format_parse("opus", &f) == 0 && f == VX_AUDIO_OPUS);
    CHECK(vx_audio_format_parse("pcm", &f) == 0 && f == VX_AUDIO_PCM);
    CHECK(vx_audio_format_parse("MP3", &f) == -1);
    CHECK(vx_audio_format_parse("ogg-vorbis", &f) == -1);
    CHECK(vx_audio_format_parse(NULL, &f) == -1);
    CHECK_STR(vx_audio_content_type(VX_AUDIO_MP3), "audio/mpeg");
    CHECK_STR(vx_audio_content_type(VX_AUDIO_AAC), "audio/aac");
    CHECK_STR(vx_audio_content_type(VX_AUDIO_FLAC), "audio/flac");
    CHECK_EQ_INT(vx_audio_rate_for(VX_AUDIO_MP3, 20000), 22050);
    CHECK_EQ_INT(vx_audio_rate_for(VX_AUDIO_FLAC, 20000), 20000);
    CHECK_EQ_INT(vx_audio_rate_for(VX_AUDIO_AAC, 48000), 48000);

    /* bad options: refused, and the message names the field and its bounds */
    check_bad(VX_AUDIO_MP3, 7999, 1, 0, -1, "8000 to 48000");
    check_bad(VX_AUDIO_FLAC, 48001, 1, 0, -1, "sample_rate");
    check_bad(VX_AUDIO_MP3, 20000, 1, 0, -1, "does not support sample_rate 20000");
    check_bad(VX_AUDIO_AAC, 37000, 1, 0, -1, "does not support");
    check_bad(VX_AUDIO_WAV, 22050, 3, 0, -1, "channels");
    check_bad(VX_AUDIO_WAV, 22050, 0, 0, -1, "channels");
    check_bad(VX_AUDIO_MP3, 22050, 1, 320000, -1, "8000 to 160000");
    check_bad(VX_AUDIO_MP3, 44100, 1, 16000, -1, "32000 to 320000");
    check_bad(VX_AUDIO_OPUS, 24000, 1, 5000, -1, "6000 to 256000");
    check_bad(VX_AUDIO_OPUS, 24000, 1, 600000, -1, "bitrate");
    check_bad(VX_AUDIO_AAC, 24000, 1, -64000, -1, "bitrate");
    check_bad(VX_AUDIO_FLAC, 24000, 1, 128000, -1, "does not apply");
    check_bad(VX_AUDIO_PCM, 24000, 1, 0, 3, "compression does not apply");
    check_bad(VX_AUDIO_FLAC, 24000, 1, 0, 9, "0 to 8");
    check_bad(VX_AUDIO_FLAC, 24000, 1, 0, -2, "compression");
    check_bad(VX_AUDIO_MP3, 24000, 1, 0, 10, "0 to 9");
    check_bad((vx_audio_format)99, 24000, 1, 0, -1, "unknown audio format");

    /* the option bounds themselves are accepted */
    vx_enc_options lo = {.bitrate = 6000, .compression = 0},
                   hi = {.bitrate = 256000, .compression = 10};
    char err[200];
    vx_encoder *e = vx_encoder_create(VX_AUDIO_OPUS, 24000, 1, &lo, err, sizeof err);
    CHECKF(e != NULL, "%s", err);
    vx_encoder_free(e);
    e = vx_encoder_create(VX_AUDIO_OPUS, 24000, 1, &hi, err, sizeof err);
    CHECKF(e != NULL, "%s", err);
    vx_encoder_free(e);
    vx_enc_options m = {.bitrate = 160000, .compression = 9};
    e = vx_encoder_create(VX_AUDIO_MP3, 22050, 1, &m, err, sizeof err);
    CHECKF(e != NULL, "%s", err);
    vx_encoder_free(e);

    /* a different bitrate really changes the stream size (the option is honoured) */
    float *x = make_signal(24000, 1, 48000);
    bytes b1 = {0}, b2 = {0};
    vx_enc_options o1 = {.bitrate = 32000, .compression = -1},
                   o2 = {.bitrate = 128000, .compression = -1};
    encode(VX_AUDIO_MP3, 24000, 1, &o1, x, 48000, 0, &b1, NULL);
    encode(VX_AUDIO_MP3, 24000, 1, &o2, x, 48000, 0, &b2, NULL);
    CHECKF(b2.n > 3 * b1.n, "mp3 128k %zu bytes vs 32k %zu", b2.n, b1.n);
    free(b1.p);
    free(b2.p);
    b1 = (bytes){0};
    b2 = (bytes){0};
    vx_enc_options f0 = {.compression = 0}, f8 = {.compression = 8};
    encode(VX_AUDIO_FLAC, 24000, 1, &f0, x, 48000, 0, &b1, NULL);
    encode(VX_AUDIO_FLAC, 24000, 1, &f8, x, 48000, 0, &b2, NULL);
    CHECKF(b2.n < b1.n, "flac level 8 %zu bytes vs level 0 %zu", b2.n, b1.n);
    free(b1.p);
    free(b2.p);

    /* NaN and out-of-range floats never reach a codec as such */
    for (int i = 0; i < 100; i++) x[i] = i % 2 ? NAN : 7.0f;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        bytes b = {0};
        CHECKF(encode(all[i], 24000, 1, NULL, x, 4800, 0, &b, NULL) == 0, "%s with NaN",
               vx_audio_format_name(all[i]));
        free(b.p);
    }
    free(x);
    rmdir(tmpdir);
    TEST_SUMMARY();
}

/* Unit tests of gRPC's pure parts (grpc_msg.c): the deframer at every split point, the
 * size limit, grpc-timeout, grpc-message encoding, SynthesizeRequest -> job options. */
#include <stdint.h>
#include <stdlib.h>

#include "grpc_msg.h"
#include "test.h"

/* Two messages (3 bytes, 0 bytes) and a third (300 bytes), fed split at i and j. */
static void test_deframe(void) {
    uint8_t s[5 + 3 + 5 + 5 + 300];
    size_t n = 0;
    vx_grpc_prefix(s, 3);
    memcpy(s + 5, "abc", 3);
    vx_grpc_prefix(s + 8, 0);
    vx_grpc_prefix(s + 13, 300);
    s[13] = 1; /* compressed flag on the third */
    for (int k = 0; k < 300; k++) s[18 + k] = (uint8_t)k;
    n = sizeof s;
    int all_ok = 1;
    for (size_t i = 0; i <= n; i++)
        for (size_t j = i; j <= n; j += 7) {
            vx_grpc_deframer d;
            memset(&d, 0, sizeof d);
            size_t cuts[4] = {0, i, j, n}, got = 0, lens[3] = {0};
            int comp[3] = {0};
            for (int c = 0; c < 3; c++) {
                const uint8_t *p = s + cuts[c];
                size_t left = cuts[c + 1] - cuts[c];
                while (left) {
                    size_t used;
                    int rc = vx_grpc_deframe(&d, p, left, 1000, &used);
                    p += used;
                    left -= used;
                    if (rc == VX_GRPC_DF_MSG) {
                        if (got < 3) {
                            lens[got] = d.msg_len;
                            comp[got] = d.compressed;
                            if (got == 0 && memcmp(d.msg, "abc", 3)) all_ok = 0;
                            if (got == 2 && (d.msg[0] != 0 || d.msg[299] != (uint8_t)299))
                                all_ok = 0;
                        }
                        got++;
                        vx_grpc_deframer_next(&d);
                    } else if (rc != VX_GRPC_DF_MORE) {
                        all_ok = 0;
                        break;
                    }
                }
            }
            if (got != 3 || lens[0] != 3 || lens[1] != 0 || lens[2] != 300 || comp[0] || !comp[2] ||
                !vx_grpc_deframer_idle(&d))
                all_ok = 0;
            vx_grpc_deframer_free(&d);
        }
    CHECK(all_ok);
    /* a zero-length message at the very end completes without more bytes */
    vx_grpc_deframer d;
    memset(&d, 0, sizeof d);
    size_t used;
    CHECK_EQ_INT(vx_grpc_deframe(&d, s + 8, 5, 1000, &used), VX_GRPC_DF_MSG);
    CHECK_EQ_INT(used, 5);
    vx_grpc_deframer_next(&d);
    /* over the limit: refused at the prefix, nothing allocated */
    uint8_t big[5];
    vx_grpc_prefix(big, 1001);
    CHECK_EQ_INT(vx_grpc_deframe(&d, big, 5, 1000, &used), VX_GRPC_DF_TOO_BIG);
    CHECK(d.msg_cap < 1001);
    vx_grpc_prefix(big, 0xFFFFFFFFu);
    vx_grpc_deframer_next(&d);
    CHECK_EQ_INT(vx_grpc_deframe(&d, big, 5, VX_GRPC_MAX_MSG, &used), VX_GRPC_DF_TOO_BIG);
    vx_grpc_deframer_free(&d);
}

static void test_timeout(void) {
    double t;
    CHECK(vx_grpc_parse_timeout("100m", 4, &t) == 0 && t > 0.0999 && t < 0.1001);
    CHECK(vx_grpc_parse_timeout("2S", 2, &t) == 0 && t == 2);
    CHECK(vx_grpc_parse_timeout("1H", 2, &t) == 0 && t == 3600);
    CHECK(vx_grpc_parse_timeout("3M", 2, &t) == 0 && t == 180);
    CHECK(vx_grpc_parse_timeout("5000u", 5, &t) == 0 && t > 0.004999 && t < 0.005001);
    CHECK(vx_grpc_parse_timeout("99999999n", 9, &t) == 0 && t < 0.1);
    CHECK_EQ_INT(vx_grpc_parse_timeout("123456789S", 10, &t), -1); /* 9 digits */
    CHECK_EQ_INT(vx_grpc_parse_timeout("S", 1, &t), -1);
    CHECK_EQ_INT(vx_grpc_parse_timeout("10", 2, &t), -1);
    CHECK_EQ_INT(vx_grpc_parse_timeout("1s", 2, &t), -1);
    CHECK_EQ_INT(vx_grpc_parse_timeout("-1S", 3, &t), -1);
    CHECK_EQ_INT(vx_grpc_parse_timeout("", 0, &t), -1);
}

static void test_percent(void) {
    char out[32];
    vx_grpc_percent_encode("a b%c\n\xc3\xa9", out, sizeof out);
    CHECK_STR(out, "a b%25c%0A%C3%A9");
    CHECK_EQ_INT(vx_grpc_percent_encode("abc%", out, 6), 3); /* "%25" does not fit: cut */
    CHECK_STR(out, "abc");
    CHECK_EQ_INT(vx_grpc_percent_encode("abcdef", out, 4), 3);
}

static void test_opts(void) {
    Vox__V1__SynthesizeRequest q = VOX__V1__SYNTHESIZE_REQUEST__INIT;
    vx_job_opts o;
    char msg[256];
    q.text = "Hi.";
    CHECK_EQ_INT(vx_grpc_synth_opts(&q, "espeak:en-us", 1, &o, msg, sizeof msg), 0);
    CHECK_STR(o.voice, "espeak:en-us");
    CHECK(o.format == VX_AUDIO_PCM && o.sample_rate == 0 && o.synth.speed == 1 && o.stream);
    q.voice = "v";
    q.format = VOX__V1__AUDIO_FORMAT__PCM_F32LE;
    q.speed = 1.5f;
    q.sample_rate = 22050;
    q.speaker = "amy";
    CHECK_EQ_INT(vx_grpc_synth_opts(&q, "d", 1, &o, msg, sizeof msg), 0);
    CHECK(!strcmp(o.voice, "v") && o.format == VX_AUDIO_PCM_F32 && o.synth.speed == 1.5f &&
          o.sample_rate == 22050 && !strcmp(o.synth.speaker, "amy"));
    q.format = VOX__V1__AUDIO_FORMAT__MP3;
    CHECK(vx_grpc_synth_opts(&q, "d", 1, &o, msg, sizeof msg) == 0 && o.format == VX_AUDIO_MP3);
    Vox__V1__SynthesizeRequest b = q;
    b.text = "";
    CHECK(vx_grpc_synth_opts(&b, "d", 1, &o, msg, sizeof msg) == -1 && !strncmp(msg, "text:", 5));
    CHECK_EQ_INT(vx_grpc_synth_opts(&b, "d", 0, &o, msg, sizeof msg), 0); /* a stream's config */
    b = q;
    b.format = (Vox__V1__AudioFormat)7;
    CHECK(vx_grpc_synth_opts(&b, "d", 1, &o, msg, sizeof msg) == -1 && !strncmp(msg, "format:", 7));
    b = q;
    b.speed = -0.5f;
    CHECK(vx_grpc_synth_opts(&b, "d", 1, &o, msg, sizeof msg) == -1 && !strncmp(msg, "speed:", 6));
    b.speed = 0.0f / 0.0f;
    CHECK(vx_grpc_synth_opts(&b, "d", 1, &o, msg, sizeof msg) == -1 && !strncmp(msg, "speed:", 6));
    b = q;
    b.sample_rate = 7999;
    CHECK(vx_grpc_synth_opts(&b, "d", 1, &o, msg, sizeof msg) == -1 &&
          !strncmp(msg, "sample_rate:", 12));
    b.sample_rate = 48001;
    CHECK(vx_grpc_synth_opts(&b, "d", 1, &o, msg, sizeof msg) == -1);
    b = q;
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    b.speaker = longname;
    CHECK(vx_grpc_synth_opts(&b, "d", 1, &o, msg, sizeof msg) == -1 &&
          !strncmp(msg, "speaker:", 8));
}

int main(void) {
    test_deframe();
    test_timeout();
    test_percent();
    test_opts();
    TEST_SUMMARY();
}

/* Unit tests of voxd's pure parts: the HTTP/1.1 parser, chunked decoding, the speech
 * request parser, voice-name validation, WAV header, auth. */
#include <stdint.h>

#include "api.h"
#include "audio/wav.h"
#include "http1_parse.h"
#include "test.h"

static int parse(const char *s, vx_h1_request *r) { return vx_h1_parse_head(s, strlen(s), r); }

static void test_head(void) {
    vx_h1_request r;
    const char *ok = "POST /v1/audio/speech?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n"
                     "Authorization:  Bearer k \r\n\r\nBODY";
    int n = parse(ok, &r);
    CHECK_EQ_INT(n, (int)strlen(ok) - 4);
    CHECK_STR(r.method, "POST");
    CHECK(r.target_len == 20 && !memcmp(r.target, "/v1/audio/speech?x=1", 20));
    CHECK_EQ_INT(r.content_length, 12);
    CHECK_EQ_INT(r.keep_alive, 1);
    size_t vl;
    const char *v = vx_h1_header_get(&r, "AUTHORIZATION", &vl);
    CHECK(v && vl == 8 && !memcmp(v, "Bearer k", 8));            /* OWS trimmed */
    CHECK_EQ_INT(parse("GET / HTTP/1.1\r\nHost: a\r\n", &r), 0); /* incomplete */
    CHECK_EQ_INT(parse("GET / HTTP/1.1\r\n\r\n", &r), -400);     /* no Host */
    CHECK_EQ_INT(parse("GET / HTTP/1.0\r\n\r\n", &r), 18);       /* 1.0: Host optional */
    CHECK_EQ_INT(r.keep_alive, 0);
    CHECK_EQ_INT(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r) > 0, 1);
    CHECK_EQ_INT(r.keep_alive, 1);
    CHECK_EQ_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", &r) > 0, 1);
    CHECK_EQ_INT(r.keep_alive, 0);
    CHECK_EQ_INT(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n", &r), -505);
    CHECK_EQ_INT(parse("GET / FTP/1.1\r\nHost: a\r\n\r\n", &r), -400);
    CHECK_EQ_INT(parse("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", &r), -400);
    CHECK_EQ_INT(parse("GET / HTTP/1.1\nHost: a\n\n", &r), -400);        /* bare LF */
    CHECK_EQ_INT(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n", &r), -400); /* space before colon */
    CHECK_EQ_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", &r), -400); /* obs-fold */
    CHECK_EQ_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n", &r), -400);
    CHECK_EQ_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r), -400);
    CHECK_EQ_INT(
        parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &r),
        -400);
    CHECK_EQ_INT(
        parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", &r) >
            0,
        1);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", &r), -400);
    CHECK_EQ_INT(
        parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", &r),
        -400);
    CHECK_EQ_INT(
        parse(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            &r),
        -400);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", &r), -501);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &r) > 0,
                 1);
    /* HTTP/1.0 has no Transfer-Encoding (RFC 9112 6.1): 400, and the connection closes */
    CHECK_EQ_INT(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", &r), -400);
    CHECK_EQ_INT(r.chunked, 1);
    CHECK_EQ_INT(parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", &r) > 0, 1);
    CHECK_EQ_INT(r.expect_continue, 1);
    CHECK_EQ_INT(parse("VERYLONGMETHODNAME / HTTP/1.1\r\nHost: a\r\n\r\n", &r), -501);
    /* limits: header count, head size, target length */
    static char big[VX_H1_MAX_HEAD + 8192];
    int k = sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < VX_H1_MAX_HEADERS; i++) k += sprintf(big + k, "X-%d: v\r\n", i);
    sprintf(big + k, "\r\n");
    CHECK_EQ_INT(parse(big, &r), -431);
    memset(big, 'a', sizeof(big) - 1);
    memcpy(big, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 28);
    big[sizeof(big) - 1] = 0;
    CHECK_EQ_INT(parse(big, &r), -431);
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', VX_H1_MAX_TARGET + 100);
    big[5 + VX_H1_MAX_TARGET + 100] = 0;
    CHECK_EQ_INT(parse(big, &r), -414);
    CHECK_EQ_INT(vx_h1_parse_head("", 0, &r), 0);
    CHECK_EQ_INT(vx_h1_parse_head("\r\n\r\n", 4, &r), -400);
    CHECK_EQ_INT(vx_h1_parse_head("G\0T / HTTP/1.1\r\n", 16, &r), -400);
}

static void test_dechunk(void) {
    char out[64];
    size_t used, n;
    const char *b = "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    CHECK_EQ_INT(vx_h1_dechunk(b, strlen(b), out, sizeof(out), &used, &n), 1);
    CHECK_EQ_INT(n, 9);
    CHECK(!memcmp(out, "Wikipedia", 9));
    CHECK_EQ_INT(used, strlen(b) - 4);
    CHECK_EQ_INT(vx_h1_dechunk(b, 10, out, sizeof(out), &used, &n), 0);
    CHECK_EQ_INT(vx_h1_dechunk("4\r\nWikiXX", 9, out, sizeof(out), &used, &n), -400);
    CHECK_EQ_INT(vx_h1_dechunk("zz\r\n", 4, out, sizeof(out), &used, &n), -400);
    CHECK_EQ_INT(vx_h1_dechunk("41\r\n", 4, out, sizeof(out), &used, &n), -413);
    CHECK_EQ_INT(vx_h1_dechunk("123456789\r\n", 11, out, sizeof(out), &used, &n), -413);
    /* strict chunk-size (issue 18): 1-16 hex digits, then ";" or CRLF, nothing else */
    CHECK_EQ_INT(vx_h1_dechunk("0x2b\r\n", 6, out, sizeof(out), &used, &n), -400);
    CHECK_EQ_INT(vx_h1_dechunk("2bzz\r\n", 6, out, sizeof(out), &used, &n), -400);
    CHECK_EQ_INT(vx_h1_dechunk("4 \r\nWiki\r\n0\r\n\r\n", 17, out, sizeof(out), &used, &n), -400);
    CHECK_EQ_INT(vx_h1_dechunk("00000000000000000\r\n\r\n", 21, out, sizeof(out), &used, &n), -400);
    b = "0000000000000004\r\nWiki\r\n4 ;x\r\npedi\r\n0\r\n\r\n";
    CHECK_EQ_INT(vx_h1_dechunk(b, strlen(b), out, sizeof(out), &used, &n), 1);
    CHECK_EQ_INT(n, 8);
    CHECK_EQ_INT(vx_h1_dechunk("0\r\n\r\n", 5, out, sizeof(out), &used, &n), 1);
    CHECK_EQ_INT(n, 0);
}

static int sp(const char *json, vx_speech_req *r, vx_api_error *e) {
    static const vx_alias al[1] = {{"nova", "espeak:de"}};
    vx_api_config c = {"espeak:en-us", 10, al, 1};
    return vx_speech_parse(json, strlen(json), &c, r, e);
}

static void test_speech(void) {
    vx_speech_req r;
    vx_api_error e;
    /* issue 18: one JSON object and nothing after it; no NUL in strings; silence <= 5 s */
    CHECK_EQ_INT(sp("{\"input\":\"Hi.\"} xyz", &r, &e), -1);
    CHECK_EQ_INT(e.status, 400);
    CHECK_EQ_INT(sp("{\"input\":\"Hi.\"}{}", &r, &e), -1);
    CHECK_EQ_INT(sp("{\"input\":\"Hi.\"} \r\n", &r, &e), 0);
    vx_speech_free(&r);
    CHECK_EQ_INT(sp("{\"input\":\"Hi.\",\"voice\":\"en_US-rand-medium\\u0000x\"}", &r, &e), -1);
    CHECK_EQ_INT(e.status, 400);
    CHECK_EQ_INT(sp("{\"input\":\"a\\u0000b\"}", &r, &e), -1);
    CHECK_EQ_INT(sp("{\"input\":\"a\\\\u0000b\"}", &r, &e), 0); /* an escaped backslash: text */
    CHECK_EQ_INT(r.input_len, 8);
    vx_speech_free(&r);
    CHECK_EQ_INT(sp("{\"input\":\"a\",\"sentence_silence\":5}", &r, &e), 0);
    vx_speech_free(&r);
    CHECK_EQ_INT(sp("{\"input\":\"a\",\"sentence_silence\":5.5}", &r, &e), -1);
    CHECK_EQ_INT(sp("{\"input\":\"h\xc3\xa9llo\",\"voice\":\"alloy\"}", &r, &e), 0);
    CHECK_STR(r.voice, "espeak:en-us");
    CHECK_EQ_INT(r.input_chars, 5);
    CHECK_EQ_INT(r.format, VX_AUDIO_MP3); /* OpenAI's default */
    CHECK_EQ_INT(r.sample_rate, 0);
    CHECK_EQ_INT(r.sse, 0);
    CHECK_EQ_INT(r.stream, 1);
    vx_speech_free(&r);
    /* every OpenAI format, sse, the rate/bitrate/compression extensions, instructions */
    static const struct {
        const char *name;
        vx_audio_format f;
    } fmts[] = {{"mp3", VX_AUDIO_MP3},   {"opus", VX_AUDIO_OPUS}, {"aac", VX_AUDIO_AAC},
                {"flac", VX_AUDIO_FLAC}, {"wav", VX_AUDIO_WAV},   {"pcm", VX_AUDIO_PCM}};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        char js[200];
        snprintf(js, sizeof js,
                 "{\"input\":\"x\",\"response_format\":\"%s\","
                 "\"stream_format\":\"sse\",\"instructions\":\"calm\"}",
                 fmts[i].name);
        CHECKF(sp(js, &r, &e) == 0, "%s: %s", fmts[i].name, e.message);
        CHECK_EQ_INT(r.format, fmts[i].f);
        CHECK_EQ_INT(r.sse, 1);
        vx_speech_free(&r);
    }
    CHECK_EQ_INT(sp("{\"input\":\"x\",\"response_format\":\"opus\",\"sample_rate\":16000,"
                    "\"bitrate\":24000,\"compression\":3,\"stream_format\":\"audio\"}",
                    &r, &e),
                 0);
    CHECK_EQ_INT(r.sample_rate, 16000);
    CHECK_EQ_INT(r.enc.bitrate, 24000);
    CHECK_EQ_INT(r.enc.compression, 3);
    CHECK_EQ_INT(r.sse, 0);
    vx_speech_free(&r);
    /* all 13 OpenAI voice names are aliases (to the default voice unless mapped) */
    static const char *const ov[] = {"alloy", "ash",  "ballad",  "coral", "echo",  "fable",
                                     "onyx",  "sage", "shimmer", "verse", "marin", "cedar"};
    for (size_t i = 0; i < sizeof ov / sizeof ov[0]; i++) {
        char js[100];
        snprintf(js, sizeof js, "{\"input\":\"x\",\"voice\":\"%s\",\"model\":\"gpt-4o-mini-tts\"}",
                 ov[i]);
        CHECKF(sp(js, &r, &e) == 0, "%s", ov[i]);
        CHECK_STR(r.voice, "espeak:en-us");
        vx_speech_free(&r);
    }
    CHECK_EQ_INT(sp("{\"input\":\"x\",\"speed\":0.25}", &r, &e), 0);
    vx_speech_free(&r);
    CHECK_EQ_INT(sp("{\"input\":\"x\",\"speed\":4.0}", &r, &e), 0);
    vx_speech_free(&r);
    CHECK_EQ_INT(sp("{\"input\":\"x\",\"voice\":\"nova\",\"response_format\":\"pcm\",\"speed\":2,"
                    "\"stream\":false,\"speaker\":\"bob\",\"noise_scale\":0.5}",
                    &r, &e),
                 0);
    CHECK_STR(r.voice, "espeak:de");
    CHECK_EQ_INT(r.format, VX_AUDIO_PCM);
    CHECK_EQ_INT(r.stream, 0);
    CHECK_NEAR(r.speed, 2.0, 1e-6);
    CHECK_NEAR(r.noise_scale, 0.5, 1e-6);
    CHECK_STR(r.speaker, "bob");
    vx_speech_free(&r);
    CHECK_EQ_INT(sp("{\"input\":\"x\",\"model\":\"en_US-lessac-medium\"}", &r, &e), 0);
    CHECK_STR(r.voice, "en_US-lessac-medium");
    vx_speech_free(&r);
    CHECK_EQ_INT(sp("{\"input\":\"x\",\"voice\":{\"id\":\"espeak:fr\"}}", &r, &e), 0);
    CHECK_STR(r.voice, "espeak:fr");
    vx_speech_free(&r);
    struct {
        const char *json;
        int status;
        const char *code;
    } bad[] = {
        {"{", 400, "invalid_json"},
        {"[]", 400, "invalid_json"},
        {"{\"model\":\"tts-1\"}", 400, "missing_required_parameter"},
        {"{\"input\":5}", 400, "invalid_type"},
        {"{\"input\":\"\"}", 400, "invalid_value"},
        {"{\"input\":\"12345678901\"}", 400, "string_above_max_length"},
        {"{\"input\":\"\xff\"}", 400, "invalid_value"},
        {"{\"input\":\"x\",\"response_format\":\"ogg\"}", 400, "invalid_value"},
        {"{\"input\":\"x\",\"response_format\":\"MP3\"}", 400, "invalid_value"},
        {"{\"input\":\"x\",\"response_format\":3}", 400, "invalid_type"},
        {"{\"input\":\"x\",\"speed\":4.5}", 400, "invalid_value"},
        {"{\"input\":\"x\",\"speed\":0.2}", 400, "invalid_value"},
        {"{\"input\":\"x\",\"sample_rate\":7999}", 400, "invalid_value"},
        {"{\"input\":\"x\",\"sample_rate\":48001}", 400, "invalid_value"},
        {"{\"input\":\"x\",\"sample_rate\":22050.5}", 400, "invalid_type"},
        {"{\"input\":\"x\",\"sample_rate\":20000}", 400, "invalid_value"}, /* not an mp3 rate */
        {"{\"input\":\"x\",\"bitrate\":1000}", 400, "invalid_value"},
        {"{\"input\":\"x\",\"response_format\":\"opus\",\"bitrate\":600000}", 400, "invalid_value"},
        {"{\"input\":\"x\",\"response_format\":\"wav\",\"bitrate\":64000}", 400, "invalid_value"},
        {"{\"input\":\"x\",\"response_format\":\"flac\",\"compression\":9}", 400, "invalid_value"},
        {"{\"input\":\"x\",\"stream_format\":\"json\"}", 400, "invalid_value"},
        {"{\"input\":\"x\",\"stream_format\":1}", 400, "invalid_type"},
        {"{\"input\":\"x\",\"instructions\":1}", 400, "invalid_type"},
        {"{\"input\":\"x\",\"speed\":\"fast\"}", 400, "invalid_type"},
        {"{\"input\":\"x\",\"speaker\":1.5}", 400, "invalid_value"},
        {"{\"input\":\"x\",\"stream\":1}", 400, "invalid_type"},
        {"{\"input\":\"x\",\"voice\":\"../etc/passwd\"}", 404, "voice_not_found"},
        {"{\"input\":\"x\",\"voice\":\"a/b\"}", 404, "voice_not_found"},
        {"{\"input\":\"x\",\"voice\":7}", 400, "invalid_type"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = sp(bad[i].json, &r, &e);
        CHECKF(rc == -1 && e.status == bad[i].status && !strcmp(e.code, bad[i].code),
               "%s -> %d %d %s", bad[i].json, rc, e.status, e.code ? e.code : "");
    }
    char *js = vx_api_error_json(&e);
    CHECK(js && strstr(js, "{\"error\":{\"message\":") == js &&
          strstr(js, "\"code\":\"invalid_type\""));
    free(js);
}

static void test_misc(void) {
    CHECK(vx_voice_name_ok("espeak:en-us"));
    CHECK(vx_voice_name_ok("en_US-lessac-medium"));
    CHECK(!vx_voice_name_ok(""));
    CHECK(!vx_voice_name_ok(".hidden"));
    CHECK(!vx_voice_name_ok("a..b"));
    CHECK(!vx_voice_name_ok("a/b"));
    CHECK(!vx_voice_name_ok("/etc/passwd"));
    CHECK(!vx_voice_name_ok("voice.onnx"));
    CHECK(!vx_voice_name_ok("espeak:"));
    CHECK(!vx_voice_name_ok("espeak:../x"));
    CHECK(!vx_voice_name_ok("x:y"));
    uint8_t h[44];
    vx_wav_header(h, 22050, UINT64_MAX); /* the server's streaming header */
    CHECK(!memcmp(h, "RIFF\xff\xff\xff\xffWAVEfmt ", 16));
    CHECK(!memcmp(h + 40, "\xff\xff\xff\xff", 4));
    vx_wav_header(h, 16000, 50); /* 50 samples = 100 data bytes */
    CHECK_EQ_INT(h[4] | h[5] << 8, 136);
    CHECK_EQ_INT(h[40] | h[41] << 8, 100);
    CHECK_EQ_INT(h[24] | h[25] << 8, 16000);
    CHECK(vx_auth_ok("Bearer k3y", 10, "k3y"));
    CHECK(!vx_auth_ok("Bearer k3", 9, "k3y"));
    CHECK(!vx_auth_ok("Bearer k3yy", 11, "k3y"));
    CHECK(!vx_auth_ok("Basic k3y", 9, "k3y"));
    CHECK(!vx_auth_ok(NULL, 0, "k3y"));
    CHECK(vx_auth_ok(NULL, 0, NULL));
    size_t n;
    CHECK_EQ_INT(vx_api_utf8_count("\xe2\x82\xac\xf0\x9f\x98\x80", 7, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(vx_api_utf8_count("\xc0\xaf", 2, &n), -1);     /* overlong */
    CHECK_EQ_INT(vx_api_utf8_count("\xed\xa0\x80", 3, &n), -1); /* surrogate */
    CHECK_EQ_INT(vx_api_utf8_count("\xe2\x82", 2, &n), -1);     /* truncated */
}

int main(void) {
    test_head();
    test_dechunk();
    test_speech();
    test_misc();
    TEST_SUMMARY();
}

/* Unit tests of the Wyoming event framing (src/server/wyoming_parse.c): both framings and
 * their merge, payloads, a stream cut at every byte (the same events, nothing early),
 * limits (broken framing vs a bad event the connection survives), the synthesize fields,
 * and our header lines read back. */
#include <string.h>

#include "test.h"
#include "wyoming_parse.h"

static const vx_wy_limits LIM = {VX_WY_MAX_LINE, 1000, 100};

static int parse(const char *s, size_t n, vx_wy_event *ev, size_t *used) {
    char err[200];
    return vx_wy_parse(&LIM, s, n, ev, used, err, sizeof err);
}

static const char *str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void test_framings(void) {
    vx_wy_event ev;
    size_t used;
    /* data after the header (data_length), merged over the header's own data */
    const char *a =
        "{\"type\":\"synthesize\",\"data\":{\"text\":\"old\",\"k\":1},\"data_length\":14}\n"
        "{\"text\":\"new\"}";
    CHECK_EQ_INT(parse(a, strlen(a), &ev, &used), VX_WY_EVENT);
    CHECK_EQ_INT((int)used, (int)strlen(a));
    CHECK_STR(ev.type, "synthesize");
    CHECK_STR(str(ev.data, "text"), "new");
    CHECK(cJSON_GetObjectItemCaseSensitive(ev.data, "k") != NULL);
    CHECK_EQ_INT(cJSON_GetArraySize(ev.data), 2); /* replaced, not duplicated */
    vx_wy_event_free(&ev);
    /* data inline only (old clients), CRLF line end, no data at all */
    const char *b = "{\"type\":\"synthesize\",\"data\":{\"text\":\"hi\"}}\r\n";
    CHECK_EQ_INT(parse(b, strlen(b), &ev, &used), VX_WY_EVENT);
    CHECK_STR(str(ev.data, "text"), "hi");
    vx_wy_event_free(&ev);
    CHECK_EQ_INT(parse("{\"type\":\"describe\"}\n", 20, &ev, &used), VX_WY_EVENT);
    CHECK(cJSON_IsObject(ev.data));
    CHECK_EQ_INT(ev.payload_len, 0);
    vx_wy_event_free(&ev);
    /* a payload after the data */
    const char *c = "{\"type\":\"audio-chunk\",\"data_length\":2,\"payload_length\":4}\n{}ABCD!";
    CHECK_EQ_INT(parse(c, strlen(c), &ev, &used), VX_WY_EVENT);
    CHECK_EQ_INT((int)used, (int)strlen(c) - 1);
    CHECK(ev.payload_len == 4 && !memcmp(ev.payload, "ABCD", 4));
    vx_wy_event_free(&ev);
    /* empty lines between events are skipped */
    CHECK_EQ_INT(parse("\n\r\n", 3, &ev, &used), VX_WY_MORE);
    CHECK_EQ_INT((int)used, 1);
}

/* Fed a byte at a time, the parser says MORE until the event is whole. */
static void test_cut_anywhere(void) {
    const char *s = "{\"type\":\"synthesize-chunk\",\"data_length\":18,\"payload_length\":3}\n"
                    "{\"text\":\"H\\u00e9\"}xyz";
    size_t n = strlen(s);
    int early = 0;
    for (size_t k = 0; k < n; k++) {
        vx_wy_event ev;
        size_t used;
        int rc = parse(s, k, &ev, &used);
        if (rc != VX_WY_MORE || used) early++;
        if (rc == VX_WY_EVENT) vx_wy_event_free(&ev);
    }
    CHECK_EQ_INT(early, 0);
    vx_wy_event ev;
    size_t used;
    CHECK_EQ_INT(parse(s, n, &ev, &used), VX_WY_EVENT);
    CHECK_STR(str(ev.data, "text"), "H\xc3\xa9");
    vx_wy_event_free(&ev);
}

static void test_limits(void) {
    vx_wy_event ev;
    size_t used;
    char big[VX_WY_MAX_LINE + 10];
    memset(big, 'a', sizeof big);
    CHECK_EQ_INT(parse(big, sizeof big, &ev, &used), VX_WY_BROKEN); /* no newline */
    CHECK_EQ_INT(parse(big, 100, &ev, &used), VX_WY_MORE);          /* not yet */
    static const char *broken[] = {
        "{nope\n",
        "[]\n",
        "{\"data\":{}}\n",
        "{\"type\":5}\n",
        "{\"type\":\"x\"} trailing\n",
        "{\"type\":\"x\",\"data_length\":1001}\n",
        "{\"type\":\"x\",\"data_length\":-1}\n",
        "{\"type\":\"x\",\"data_length\":1.5}\n",
        "{\"type\":\"x\",\"payload_length\":\"1\"}\n",
        "{\"type\":\"x\",\"payload_length\":101}\n",
        "{\"type\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n",
    };
    for (size_t i = 0; i < sizeof broken / sizeof *broken; i++)
        CHECKF(parse(broken[i], strlen(broken[i]), &ev, &used) == VX_WY_BROKEN, "%s", broken[i]);
    /* framing holds, the event is bad: consumed, so the next one can be read */
    static const char *bad[] = {
        "{\"type\":\"x\",\"data\":[1]}\n",
        "{\"type\":\"x\",\"data_length\":3}\n[1]",
        "{\"type\":\"x\",\"data_length\":4}\n{\"a\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECKF(parse(bad[i], strlen(bad[i]), &ev, &used) == VX_WY_BAD, "%s", bad[i]);
        CHECK_EQ_INT((int)used, (int)strlen(bad[i]));
    }
}

static void test_synth_fields(void) {
    vx_wy_synth sy;
    char err[160];
    cJSON *d = cJSON_Parse("{\"text\":\"Hi.\",\"voice\":{\"name\":\"v\",\"language\":\"en_US\","
                           "\"speaker\":\"s\"}}");
    CHECK_EQ_INT(vx_wy_get_synth(d, 1, &sy, err, sizeof err), 0);
    CHECK(sy.text_len == 3 && !strcmp(sy.name, "v") && !strcmp(sy.language, "en_US") &&
          !strcmp(sy.speaker, "s"));
    cJSON_Delete(d);
    d = cJSON_Parse("{\"voice\":{\"name\":null}}");
    CHECK_EQ_INT(vx_wy_get_synth(d, 0, &sy, err, sizeof err), 0); /* start: no text */
    CHECK(!sy.text && !sy.name);
    CHECK_EQ_INT(vx_wy_get_synth(d, 1, &sy, err, sizeof err), -1); /* chunk: text needed */
    cJSON_Delete(d);
    static const char *bad[] = {"{\"text\":1}", "{\"text\":\"a\",\"voice\":\"v\"}",
                                "{\"text\":\"a\",\"voice\":{\"name\":2}}",
                                "{\"text\":\"a\",\"voice\":{\"speaker\":[]}}"};
    for (size_t i = 0; i < 4; i++) {
        d = cJSON_Parse(bad[i]);
        CHECKF(vx_wy_get_synth(d, 1, &sy, err, sizeof err) == -1 && err[0], "%s", bad[i]);
        cJSON_Delete(d);
    }
}

static void test_header_roundtrip(void) {
    char h[256], buf[512];
    size_t n = vx_wy_header(h, sizeof h, "audio-chunk", 2, 3);
    CHECK(n > 0 && h[n - 1] == '\n');
    memcpy(buf, h, n);
    memcpy(buf + n, "{}abc", 5);
    vx_wy_event ev;
    size_t used;
    CHECK_EQ_INT(parse(buf, n + 5, &ev, &used), VX_WY_EVENT);
    CHECK_STR(ev.type, "audio-chunk");
    CHECK(ev.payload_len == 3 && !memcmp(ev.payload, "abc", 3));
    vx_wy_event_free(&ev);
    CHECK(strstr(h, "\"version\":\"" VX_WY_VERSION "\"") != NULL);
    n = vx_wy_header(h, sizeof h, "synthesize-stopped", 0, 0);
    CHECK(n && !strstr(h, "data_length") && !strstr(h, "payload_length"));
    CHECK_EQ_INT(vx_wy_header(h, sizeof h, "bad\"type", 0, 0), 0);
    CHECK_EQ_INT(vx_wy_header(h, 10, "audio-chunk", 0, 0), 0);
}

int main(void) {
    test_framings();
    test_cut_anywhere();
    test_limits();
    test_synth_fields();
    test_header_roundtrip();
    TEST_SUMMARY();
}

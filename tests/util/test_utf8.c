#include "test.h"
#include "vox.h"
#include "util/utf8.h"

static int bad_at(const char *s, size_t len, size_t *off) { return vox_utf8_check(s, len, off); }

int main(void) {
    size_t off = 99;
    CHECK_EQ_INT(bad_at("hello", 5, &off), VOX_OK);
    CHECK_EQ_INT(bad_at("", 0, &off), VOX_OK);
    CHECK_EQ_INT(bad_at("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15, &off), VOX_OK);
    /* Each invalid form, with the offset of the first bad byte. */
    struct {
        const char *s;
        size_t len, off;
    } bad[] = {
        {"ab\xff", 3, 2},               /* never valid */
        {"a\xc0\xaf", 3, 1},            /* overlong '/' */
        {"a\xe0\x80\xaf", 4, 1},        /* overlong 3-byte */
        {"\xed\xa0\x80", 3, 0},         /* surrogate U+D800 */
        {"xy\xf4\x90\x80\x80", 6, 2},   /* > U+10FFFF */
        {"abc\xe2\x82", 5, 3},          /* truncated at end */
        {"\x80", 1, 0},                 /* lone continuation */
        {"ok \xc3\x28", 5, 3},          /* bad continuation */
        {"\xf8\x88\x80\x80\x80", 5, 0}, /* 5-byte form */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        off = 99;
        CHECK_EQ_INT(bad_at(bad[i].s, bad[i].len, &off), VOX_ERR_UTF8);
        CHECK_EQ_INT(off, bad[i].off);
    }
    /* Embedded NUL is valid UTF-8 (the synthesizer turns it into a space). */
    CHECK_EQ_INT(bad_at("a\0b", 3, &off), VOX_OK);
    /* encode/decode round trip over the whole range, skipping surrogates */
    int ok = 1;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp += (cp < 0x1000 ? 1 : 97)) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        char b[4];
        size_t n = vx_utf8_encode(cp, b);
        uint32_t back = 0;
        if (vx_utf8_decode((const unsigned char *)b, n, &back) != n || back != cp) ok = 0;
    }
    CHECK(ok);
    CHECK_EQ_INT(vx_utf8_count("h\xc3\xa9\xe2\x82\xac", 6), 3);
    CHECK_STR(vox_strerror(VOX_ERR_UTF8), "invalid UTF-8 in input text");
    CHECK_STR(vox_strerror(12345), "unknown error");
    TEST_SUMMARY();
}

/* WAV writer: header fields, size patching on files, streaming sizes on pipes, and an
 * independent reader (sox's soxi) agreeing with what we wrote. */
#include "test.h"
#include "audio/wav.h"
#include <stdint.h>
#include <unistd.h>

static uint32_t rd32(const uint8_t *p) {
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static long soxi_field(const char *flag, const char *path) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "soxi %s '%s' 2>/dev/null", flag, path);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    long v = -1;
    if (fscanf(p, "%ld", &v) != 1) v = -1;
    pclose(p);
    return v;
}

int main(void) {
    uint8_t h[44];
    vx_wav_header(h, 16000, 1000);
    CHECK(!memcmp(h, "RIFF", 4) && !memcmp(h + 8, "WAVE", 4) && !memcmp(h + 36, "data", 4));
    CHECK_EQ_INT(rd32(h + 4), 36 + 2000);
    CHECK_EQ_INT(rd16(h + 20), 1); /* PCM */
    CHECK_EQ_INT(rd16(h + 22), 1); /* mono */
    CHECK_EQ_INT(rd32(h + 24), 16000);
    CHECK_EQ_INT(rd32(h + 28), 32000);
    CHECK_EQ_INT(rd16(h + 32), 2);
    CHECK_EQ_INT(rd16(h + 34), 16);
    CHECK_EQ_INT(rd32(h + 40), 2000);
    vx_wav_header(h, 22050, UINT64_MAX);
    CHECK_EQ_INT(rd32(h + 4), 0xFFFFFFFFu);
    CHECK_EQ_INT(rd32(h + 40), 0xFFFFFFFFu);
    /* Too long for 32-bit sizes → streaming values rather than a wrapped size. */
    vx_wav_header(h, 22050, (uint64_t)3 << 30);
    CHECK_EQ_INT(rd32(h + 40), 0xFFFFFFFFu);

    /* A file written in pieces: sizes patched at the end; soxi reads it back. */
    char path[] = "/tmp/vox_test_wav_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    vx_wav_writer w;
    CHECK_EQ_INT(vx_wav_begin(&w, f, 22050), 0);
    CHECK(w.seekable);
    int16_t buf[1234];
    for (int i = 0; i < 1234; i++) buf[i] = (int16_t)(i * 7 - 4000);
    for (int k = 0; k < 3; k++) CHECK_EQ_INT(vx_wav_write(&w, buf, 1234), 0);
    CHECK_EQ_INT(vx_wav_end(&w), 0);
    fclose(f);
    CHECK_EQ_INT(soxi_field("-r", path), 22050);
    CHECK_EQ_INT(soxi_field("-c", path), 1);
    CHECK_EQ_INT(soxi_field("-b", path), 16);
    CHECK_EQ_INT(soxi_field("-s", path), 3 * 1234);
    f = fopen(path, "rb");
    uint8_t back[44 + 2 * 3];
    CHECK_EQ_INT(fread(back, 1, sizeof back, f), sizeof back);
    fclose(f);
    CHECK_EQ_INT(rd32(back + 40), 3 * 1234 * 2);
    CHECK_EQ_INT((int16_t)rd16(back + 44), -4000);
    CHECK_EQ_INT((int16_t)rd16(back + 46), -3993);

    /* Through a pipe: streaming sizes, and sox still reads every sample. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sox -t wav - -t raw -e signed -b 16 '%s.raw' 2>/dev/null", path);
    FILE *p = popen(cmd, "w");
    CHECK(p != NULL);
    CHECK_EQ_INT(vx_wav_begin(&w, p, 16000), 0);
    CHECK(!w.seekable);
    CHECK_EQ_INT(vx_wav_write(&w, buf, 1234), 0);
    CHECK_EQ_INT(vx_wav_end(&w), 0);
    pclose(p);
    snprintf(cmd, sizeof cmd, "%s.raw", path);
    f = fopen(cmd, "rb");
    long n = -1;
    if (f) {
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fclose(f);
    }
    CHECK_EQ_INT(n, 1234 * 2);
    unlink(cmd);
    unlink(path);

    /* float → int16: clipping, rounding, NaN. */
    float in[6] = {0.0f, 1.0f, -1.0f, 2.0f, -3.0f, NAN};
    int16_t out[6];
    vx_pcm_f32_to_s16(in, out, 6);
    CHECK_EQ_INT(out[0], 0);
    CHECK_EQ_INT(out[1], 32767);
    CHECK_EQ_INT(out[2], -32767);
    CHECK_EQ_INT(out[3], 32767);
    CHECK_EQ_INT(out[4], -32768);
    CHECK_EQ_INT(out[5], 0);
    TEST_SUMMARY();
}

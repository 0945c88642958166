#include "audio/wav.h"
#include <math.h>
#include <string.h>
#include <sys/stat.h>

static void put32(uint8_t *p, uint32_t v) {
    p[0] = v;
    p[1] = v >> 8;
    p[2] = v >> 16;
    p[3] = v >> 24;
}
static void put16(uint8_t *p, uint16_t v) {
    p[0] = v;
    p[1] = v >> 8;
}

void vx_wav_header_ch(uint8_t h[44], int sample_rate, int channels, uint64_t n_frames) {
    uint32_t align = 2u * (uint32_t)channels;
    uint64_t data = n_frames == UINT64_MAX ? UINT64_MAX : n_frames * align;
    /* RIFF sizes are 32-bit: anything larger (or unknown) uses the streaming value. */
    uint32_t data32 = data > 0xFFFFFFFFull - 36 ? 0xFFFFFFFFu : (uint32_t)data;
    uint32_t riff32 = data32 == 0xFFFFFFFFu ? 0xFFFFFFFFu : data32 + 36;
    memcpy(h, "RIFF", 4);
    put32(h + 4, riff32);
    memcpy(h + 8, "WAVE", 4);
    memcpy(h + 12, "fmt ", 4);
    put32(h + 16, 16);
    put16(h + 20, 1);
    put16(h + 22, (uint16_t)channels);
    put32(h + 24, (uint32_t)sample_rate);
    put32(h + 28, (uint32_t)sample_rate * align);
    put16(h + 32, (uint16_t)align);
    put16(h + 34, 16);
    memcpy(h + 36, "data", 4);
    put32(h + 40, data32);
}

void vx_wav_header(uint8_t h[44], int sample_rate, uint64_t n_samples) {
    vx_wav_header_ch(h, sample_rate, 1, n_samples);
}

int vx_wav_begin(vx_wav_writer *w, FILE *f, int sample_rate) {
    memset(w, 0, sizeof *w);
    w->f = f;
    w->sample_rate = sample_rate;
    struct stat st;
    w->seekable = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && ftell(f) == 0;
    uint8_t h[44];
    vx_wav_header(h, sample_rate, w->seekable ? 0 : UINT64_MAX);
    if (fwrite(h, 1, 44, f) != 44) w->failed = 1;
    return w->failed ? -1 : 0;
}

int vx_wav_write(vx_wav_writer *w, const int16_t *pcm, size_t n) {
    /* WAV is little-endian; so is every target we build for (checked at compile time). */
    _Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host expected");
    if (n && fwrite(pcm, 2, n, w->f) != n) w->failed = 1;
    w->data_bytes += (uint64_t)n * 2;
    return w->failed ? -1 : 0;
}

int vx_wav_end(vx_wav_writer *w) {
    if (w->seekable && !w->failed) {
        uint8_t h[44];
        vx_wav_header(h, w->sample_rate, w->data_bytes / 2);
        if (fseek(w->f, 0, SEEK_SET) || fwrite(h, 1, 44, w->f) != 44 || fseek(w->f, 0, SEEK_END))
            w->failed = 1;
    }
    if (fflush(w->f)) w->failed = 1;
    return w->failed ? -1 : 0;
}

void vx_pcm_f32_to_s16(const float *in, int16_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x = in[i] * 32767.0f;
        if (x != x) x = 0.0f; /* NaN from a broken model must not become UB */
        x = x > 32767.0f ? 32767.0f : x < -32768.0f ? -32768.0f : x;
        out[i] = (int16_t)lrintf(x);
    }
}

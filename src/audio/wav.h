/* WAV (RIFF, 16-bit PCM mono) and raw PCM writers over a FILE*. */
#ifndef VX_WAV_H
#define VX_WAV_H
#include <stdint.h>
#include <stdio.h>

typedef struct vx_wav_writer {
    FILE *f;
    int sample_rate;
    uint64_t data_bytes;
    int seekable; /* header is patched on close; else streaming sizes */
    int failed;   /* a write failed (disk full, closed pipe) */
} vx_wav_writer;

/* Writes the header. On pipes the RIFF and data sizes use the streaming convention
 * (0xFFFFFFFF: "until end of stream"); on seekable files they are fixed up at close. */
int vx_wav_begin(vx_wav_writer *w, FILE *f, int sample_rate);
int vx_wav_write(vx_wav_writer *w, const int16_t *pcm, size_t n);
/* Patches sizes if possible and flushes; does not fclose. 0 on success, -1 if any write failed. */
int vx_wav_end(vx_wav_writer *w);

/* 44-byte canonical header for n_samples (or streaming if n_samples == UINT64_MAX). */
void vx_wav_header(uint8_t hdr[44], int sample_rate, uint64_t n_samples);

/* The same for 16-bit PCM with `channels` interleaved channels; n_frames per channel. */
void vx_wav_header_ch(uint8_t hdr[44], int sample_rate, int channels, uint64_t n_frames);

/* float [-1,1] → int16 with clipping and rounding. */
void vx_pcm_f32_to_s16(const float *in, int16_t *out, size_t n);
#endif

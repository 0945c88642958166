/*
 * resample.h — streaming sample-rate conversion (libsoxr), chunk by chunk.
 *
 * libsoxr rather than our own polyphase kernels: it is Debian's well-kept resampler (SoX's
 * and ffmpeg's high-quality path), its FFT/polyphase stages are SIMD inside (SSE/AVX/NEON
 * chosen at run time), and bench/audio_bench.c shows it costs well under 1% of synthesis
 * time for speech rates — an own kernel could not buy anything measurable.
 *
 * Streaming is exact: the filter state carries across pushes, so splitting the input into
 * chunks of any size gives the same output samples as one push (no clicks at chunk edges;
 * tests/audio/test_resample.c checks both). The output lags by the filter delay; finish
 * flushes the tail, so the total output is round(in * out_rate / in_rate) frames.
 *
 * Limits: rates 8,000–48,000 Hz, channels 1–2.
 */
#ifndef VX_RESAMPLE_H
#define VX_RESAMPLE_H
#include <stddef.h>
#include <stdint.h>

typedef enum { VX_RESAMPLE_MQ = 0, VX_RESAMPLE_HQ = 1, VX_RESAMPLE_VHQ = 2 } vx_resample_quality;

typedef struct vx_resampler vx_resampler;

/* NULL on bad arguments or out of memory (message in err). */
vx_resampler *vx_resampler_create(int in_rate, int out_rate, int channels, vx_resample_quality q,
                                  char *err, size_t errlen);
/* Resample `frames` interleaved input frames. *out points to the frames produced so far
 * (valid until the next call), *out_frames their count (may be 0 early on: filter delay).
 * 0 on success, -1 on error. */
int vx_resampler_push(vx_resampler *r, const float *in, size_t frames, const float **out,
                      size_t *out_frames);
/* End of input: the remaining tail. Pushes after finish fail. */
int vx_resampler_finish(vx_resampler *r, const float **out, size_t *out_frames);
void vx_resampler_free(vx_resampler *r);
#endif

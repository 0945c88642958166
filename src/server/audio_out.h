/*
 * audio_out.h — the speech job's output stage (job.c), protocol-neutral: the voice's 16-bit
 * PCM in, the bytes of the asked format out (encoded, resampled when the rate differs).
 *
 * Rates (want_rate = the job's sample_rate; openai.c asks 24000 for OpenAI's pcm):
 *   pcm, wav, flac sample_rate, else the voice's rate
 *   mp3, aac       sample_rate, else the voice's rate or, if that is not an MPEG rate, the
 *                  next one up (vx_audio_rate_for)
 *   opus           decoders always output 48 kHz; audio is coded from the voice's rate, or
 *                  from sample_rate when that is lower (a bandwidth cap)
 *
 * Bytes leave through the emit callback as soon as the codec produced them. It runs on the
 * loop thread: encoding costs at most ~4% of synthesis time (bench/audio.sh).
 */
#ifndef VX_AUDIO_OUT_H
#define VX_AUDIO_OUT_H
#include <stddef.h>
#include <stdint.h>

#include "audio/encoder.h"
#include "audio/resample.h"

typedef void (*vx_emit_fn)(void *user, const void *data, size_t n);

typedef struct vx_audio_out {
    vx_audio_format fmt;
    int voice_rate, rate; /* rate: what the client decodes (X-Sample-Rate) */
    vx_encoder *enc;
    vx_resampler *rs;
    float *fbuf;
    size_t fcap;
    uint64_t frames_in; /* voice-rate frames pushed */
} vx_audio_out;

/* The rate a client decodes for (format, voice rate, sample_rate or 0); *enc_rate gets the
 * rate the encoder is fed (differs for opus). */
int vx_audio_out_rate(vx_audio_format fmt, int voice_rate, int want_rate, int *enc_rate);
/* want_rate 0 = the default above. 0, or -1 with a message (bad rate/option for the format). */
int vx_audio_out_begin(vx_audio_out *o, vx_audio_format fmt, int voice_rate, int want_rate,
                       const vx_enc_options *eo, char *err, size_t errlen, vx_emit_fn emit,
                       void *user);
int vx_audio_out_push(vx_audio_out *o, const int16_t *pcm, size_t n, vx_emit_fn emit, void *user);
/* Flush the codec. */
int vx_audio_out_end(vx_audio_out *o, vx_emit_fn emit, void *user);
/* After end, for a response buffered whole: bytes that replace the start (see encoder.h). */
void vx_audio_out_patch(const vx_audio_out *o, size_t *offset, const uint8_t **bytes, size_t *len);
void vx_audio_out_free(vx_audio_out *o);
#endif

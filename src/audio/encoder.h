/*
 * encoder.h — one streaming interface over every output format vox writes: mp3 (libmp3lame),
 * opus in Ogg (libopus + libogg), aac in ADTS (libavcodec's native encoder), flac (libFLAC), wav
 * and raw pcm (s16le, f32le).
 *
 * Use: vx_encoder_create → vx_encoder_push_f32/_s16 as synthesis produces audio → after each
 * push take the bytes that are ready (vx_encoder_data, then vx_encoder_consume) → at the end
 * vx_encoder_finish and take the last bytes. Bytes appear as soon as the codec has a whole
 * frame/page, so a stream can start long before synthesis ends. The output buffer holds only
 * what the caller has not consumed yet: a caller that drains after every push keeps memory
 * proportional to one push (plus the codec's fixed state).
 *
 * Limits (all checked in vx_encoder_check, errors name the field and the bounds):
 *   sample rate 8,000–48,000 Hz; mp3 and aac only at the rates their bitstreams define
 *   (8000 11025 12000 16000 22050 24000 32000 44100 48000); channels 1–2.
 *   bitrate (bits/s, 0 = default):  mp3 8,000–160,000 below 32 kHz, 32,000–320,000 from
 *     32 kHz (MPEG-2/2.5 vs MPEG-1; the nearest bitrate of the table is used), default 64,000;
 *     opus 6,000–256,000, default 32,000; aac 16,000–256,000, default 96,000;
 *     pcm/wav/flac: none (must be 0). Defaults are per channel (stereo doubles them); an
 *     explicit bitrate is the whole stream's.
 *   compression (-1 = default): flac 0–8 (default 5); mp3 quality 0 (best, slowest)–9,
 *     default 7; opus complexity 0–10, default 4; others: none (must be -1). The defaults
 *     are chosen for cost (see compression_bounds in encoder.c).
 *
 * Stream start and timing properties, so a client knows what it decodes:
 *   opus: Ogg pre-skip and the final granule position make decoders trim exactly; decoders
 *         output 48 kHz (Opus always runs at 48 kHz; the header records the input rate).
 *   mp3:  a stream starts with a LAME tag frame carrying the encoder delay (the padding and
 *         length are not known yet): decoders that read it (ffmpeg) trim the delay, and the
 *         end keeps less than one frame of padding (1152 samples at >= 32 kHz, else 576);
 *         decoders that ignore tags play that first frame as silence and the delay (576
 *         samples + the decoder's 529). With options.patchable and the patch applied: exact.
 *   aac:  ADTS has no delay field: decoders output 1024 priming samples first, then the
 *         audio, then less than one 1024-sample frame of padding. Dropping the priming
 *         packet instead would lose the overlap the first 1024 samples need (TDAC).
 *   flac, wav, pcm: exact. wav and flac headers of a stream carry "unknown length";
 *         vx_encoder_patch gives the exact header to write over the start when the caller
 *         can (a seekable file, a buffered response).
 */
#ifndef VX_ENCODER_H
#define VX_ENCODER_H
#include <stddef.h>
#include <stdint.h>

typedef enum vx_audio_format {
    VX_AUDIO_MP3 = 0,
    VX_AUDIO_OPUS,
    VX_AUDIO_AAC,
    VX_AUDIO_FLAC,
    VX_AUDIO_WAV,
    VX_AUDIO_PCM,     /* raw s16le */
    VX_AUDIO_PCM_F32, /* raw f32le */
    VX_AUDIO_COUNT
} vx_audio_format;

#define VX_AUDIO_RATE_MIN 8000
#define VX_AUDIO_RATE_MAX 48000

typedef struct vx_enc_options {
    int bitrate;     /* bits per second; 0 = the format's default */
    int compression; /* format-specific effort/level (see above); -1 = default */
    int patchable;   /* 1: the caller will write vx_encoder_patch over the stream start (a
                         file, a buffered response): mp3 then begins with a LAME tag frame
                         (a placeholder until patched) that makes decoders trim the delay
                         and padding, so it decodes to exactly the pushed length */
} vx_enc_options;

typedef struct vx_encoder vx_encoder;

/* Format by name: mp3 opus ogg aac flac wav pcm pcm_s16le s16le pcm_f32le f32le (case
 * sensitive, as OpenAI's response_format). -1 when unknown. */
int vx_audio_format_parse(const char *name, vx_audio_format *out);
const char *vx_audio_format_name(vx_audio_format f);
/* HTTP Content-Type: audio/mpeg, audio/ogg; codecs=opus, audio/aac, audio/flac, audio/wav,
 * audio/pcm (both raw forms; the rate is sent separately). */
const char *vx_audio_content_type(vx_audio_format f);
/* File extension without the dot (mp3 opus aac flac wav pcm f32). */
const char *vx_audio_extension(vx_audio_format f);
/* 1 if the format can encode at this rate without resampling first. */
int vx_audio_rate_supported(vx_audio_format f, int rate);
/* The rate to feed the encoder so that the output is as close to `wanted` as the format
 * allows: wanted itself when supported, else the nearest supported rate above (or below). */
int vx_audio_rate_for(vx_audio_format f, int wanted);
/* The rate a decoder will output for a stream encoded at `rate` (48000 for opus). */
int vx_audio_decoded_rate(vx_audio_format f, int rate);

void vx_enc_options_init(vx_enc_options *o);
/* Validate without creating: 0, or -1 with a message naming the field and bounds. */
int vx_encoder_check(vx_audio_format f, int rate, int channels, const vx_enc_options *o, char *err,
                     size_t errlen);

/* NULL on error (message in err). o may be NULL (defaults). */
vx_encoder *vx_encoder_create(vx_audio_format f, int rate, int channels, const vx_enc_options *o,
                              char *err, size_t errlen);
/* Interleaved samples, `frames` per channel. Floats are in [-1, 1] (clipped; NaN → 0).
 * 0 on success, -1 on a codec error (then vx_encoder_error says why; the encoder is dead). */
int vx_encoder_push_f32(vx_encoder *e, const float *pcm, size_t frames);
int vx_encoder_push_s16(vx_encoder *e, const int16_t *pcm, size_t frames);
/* Flush the codec's buffered audio and write the stream's end. Pushes after it fail. */
int vx_encoder_finish(vx_encoder *e);
/* Bytes ready and not yet consumed (pointer valid until the next call on e). */
const uint8_t *vx_encoder_data(const vx_encoder *e, size_t *len);
void vx_encoder_consume(vx_encoder *e, size_t n);
/* After finish: bytes that replace the stream at byte `*offset` once the whole stream is
 * known (wav sizes, flac STREAMINFO with length and MD5). Returns 0 and sets *len = 0 when
 * the format has nothing to patch. */
int vx_encoder_patch(const vx_encoder *e, size_t *offset, const uint8_t **bytes, size_t *len);
/* Frames pushed so far, per channel. */
uint64_t vx_encoder_frames(const vx_encoder *e);
const char *vx_encoder_error(const vx_encoder *e);
void vx_encoder_free(vx_encoder *e);
#endif

/*
 * api.h — the OpenAI-compatible request layer of voxd: parse and validate a
 * POST /v1/audio/speech body, resolve the voice, format errors. Pure functions (no I/O,
 * no globals), so the fuzzer and unit tests drive them directly.
 */
#ifndef VX_API_H
#define VX_API_H

#include <stddef.h>
#include <stdint.h>

#include "audio/encoder.h"

#define VX_VOICE_NAME_MAX 128

/* A Piper voice's numerics (vox_load_options.precision) chosen by name. */
typedef struct vx_voice_precision {
    char name[VX_VOICE_NAME_MAX];
    int precision; /* VOX_PRECISION_* */
} vx_voice_precision;

#define VX_SPEAKER_NAME_MAX 64
#define VX_MAX_ALIASES      16

/* OpenAI's pcm is 16-bit mono at 24 kHz; clients play it at that rate. */
#define VX_OPENAI_PCM_RATE      24000
#define VX_MAX_SENTENCE_SILENCE 5.0 /* seconds: sentence_silence above is a 400 */

/* The 13 OpenAI voice names (alloy ash ballad coral echo fable onyx nova sage shimmer verse
 * marin cedar); each maps to a configured vox voice (--voice-alias), else the default voice. */
typedef struct vx_alias {
    char name[32];
    char voice[VX_VOICE_NAME_MAX];
} vx_alias;

typedef struct vx_api_config {
    const char *default_voice;
    size_t max_input_chars; /* input limit in Unicode code points */
    const vx_alias *aliases;
    int n_aliases;
} vx_api_config;

typedef struct vx_speech_req {
    char voice[VX_VOICE_NAME_MAX]; /* resolved vox voice name (validated, see below) */
    char *input;                   /* malloc'd NUL-terminated UTF-8; free with vx_speech_free */
    size_t input_len;              /* bytes */
    size_t input_chars;            /* code points */
    vx_audio_format format;        /* response_format; OpenAI's default is mp3 */
    int sample_rate;               /* extension, 8000..48000; 0: pcm 24000, else the voice's */
    vx_enc_options enc;            /* extensions "bitrate" (bits/s), "compression" */
    int sse;                       /* stream_format "sse": base64 audio in server-sent events */
    int stream;                    /* 1: send audio as each sentence is ready */
    float speed;                   /* 1 = normal */
    int speaker_id;                /* -1: by name or default */
    char speaker[VX_SPEAKER_NAME_MAX];
    float noise_scale, noise_w, length_scale, sentence_silence; /* < 0: voice default */
    int text_norm;    /* "text_norm": false -> 0 (Piper's exact phoneme ids) */
    int loudness;     /* "loudness": "steady" | "peak" -> VOX_NORMALIZE_*; -1 = the server's */
    int input_format; /* "input_format": VOX_INPUT_AUTO / _TEXT / _SSML */
} vx_speech_req;

typedef struct vx_api_error {
    int status;        /* HTTP status */
    const char *type;  /* OpenAI error type, e.g. "invalid_request_error" */
    const char *code;  /* machine-readable code, e.g. "unsupported_format" */
    const char *param; /* offending field or NULL */
    char message[256];
} vx_api_error;

/* Parse body[0..len). 0 on success (free with vx_speech_free), else -1 with *err set. */
int vx_speech_parse(const char *body, size_t len, const vx_api_config *cfg, vx_speech_req *out,
                    vx_api_error *err);
void vx_speech_free(vx_speech_req *r);

/*
 * A voice name a client may send: "espeak:<name>" or a Piper voice name. Only
 * [A-Za-z0-9._+-] (and the one "espeak:" prefix), no leading '.', no "..", no path
 * separators, at most VX_VOICE_NAME_MAX-1 bytes, not ending in ".onnx"/".json": so a
 * name can never become a path outside the voice dirs. Returns 1 when acceptable.
 */
int vx_voice_name_ok(const char *name);

/* Fill err; message is printf-formatted. Returns -1 for convenience. */
int vx_api_set_error(vx_api_error *err, int status, const char *type, const char *code,
                     const char *param, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The JSON error body {"error":{"message","type","param","code"}}; malloc'd string. */
char *vx_api_error_json(const vx_api_error *err);

/* Validate UTF-8 and count code points; -1 when invalid. */
int vx_api_utf8_count(const char *s, size_t len, size_t *chars);

/* Constant-time check of "Bearer <key>" against key (time independent of the key). */
int vx_auth_ok(const char *header, size_t header_len, const char *key);

#endif

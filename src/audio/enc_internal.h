/* Internal: the shared encoder state and the per-format back ends (enc_*.c). */
#ifndef VX_ENC_INTERNAL_H
#define VX_ENC_INTERNAL_H
#include "audio/encoder.h"
#include <stdarg.h>

typedef struct vx_enc_ops {
    int wants_float; /* push receives floats (else int16) */
    int (*init)(vx_encoder *e, const vx_enc_options *o);
    /* one of f / s is set, by wants_float; frames per channel, at most VX_ENC_BLOCK */
    int (*push)(vx_encoder *e, const float *f, const int16_t *s, size_t frames);
    int (*finish)(vx_encoder *e);
    void (*destroy)(vx_encoder *e);
} vx_enc_ops;

/* Pushes are cut into blocks of this many frames so conversion scratch stays fixed. */
#define VX_ENC_BLOCK 4096

struct vx_encoder {
    vx_audio_format fmt;
    const vx_enc_ops *ops;
    int rate, channels;
    int bitrate, compression; /* resolved (defaults applied) */
    uint8_t *out;
    size_t out_len, out_cap, out_pos; /* pending bytes: out[out_pos..out_len) */
    float *fbuf;
    int16_t *sbuf; /* conversion scratch, VX_ENC_BLOCK * channels */
    uint64_t frames;
    int finished, failed;
    uint8_t patch[2048];
    size_t patch_off, patch_len; /* a LAME tag frame is <= 1441 bytes */
    int patchable;
    char err[160];
    void *impl;
};

/* Append bytes to the pending output; -1 (and e->failed) when out of memory. */
int vx_enc_emit(vx_encoder *e, const void *p, size_t n);
int vx_enc_fail(vx_encoder *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

extern const vx_enc_ops vx_enc_mp3_ops, vx_enc_opus_ops, vx_enc_aac_ops, vx_enc_flac_ops;
#endif

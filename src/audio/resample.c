#include "audio/resample.h"
#include "audio/encoder.h"
#include <math.h>
#include <soxr.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct vx_resampler {
    soxr_t s;
    int channels;
    double ratio;
    float *out;
    size_t cap; /* frames */
    uint64_t in_total, out_total;
    int finished;
};

vx_resampler *vx_resampler_create(int in_rate, int out_rate, int channels, vx_resample_quality q,
                                  char *err, size_t errlen) {
    if (in_rate < VX_AUDIO_RATE_MIN || in_rate > VX_AUDIO_RATE_MAX ||
        out_rate < VX_AUDIO_RATE_MIN || out_rate > VX_AUDIO_RATE_MAX) {
        snprintf(err, errlen, "resampling %d -> %d Hz: rates must be %d to %d Hz", in_rate,
                 out_rate, VX_AUDIO_RATE_MIN, VX_AUDIO_RATE_MAX);
        return NULL;
    }
    if (channels < 1 || channels > 2) {
        snprintf(err, errlen, "resampling: channels %d out of range (1 or 2)", channels);
        return NULL;
    }
    vx_resampler *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->channels = channels;
    r->ratio = (double)out_rate / in_rate;
    static const unsigned long recipe[] = {SOXR_MQ, SOXR_HQ, SOXR_VHQ};
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t qs = soxr_quality_spec(recipe[q <= VX_RESAMPLE_VHQ ? q : 1], 0);
    soxr_runtime_spec_t rt = soxr_runtime_spec(1); /* the caller owns the threading */
    soxr_error_t e = NULL;
    r->s = soxr_create(in_rate, out_rate, (unsigned)channels, &e, &io, &qs, &rt);
    if (!r->s || e) {
        snprintf(err, errlen, "soxr_create: %s", e ? e : "failed");
        vx_resampler_free(r);
        return NULL;
    }
    return r;
}

static int ensure(vx_resampler *r, size_t frames) {
    if (frames <= r->cap) return 0;
    float *p = realloc(r->out, frames * r->channels * sizeof(float));
    if (!p) return -1;
    r->out = p;
    r->cap = frames;
    return 0;
}

/* Run soxr until it has taken all input (in != NULL) or emptied its tail (in == NULL). */
static int run(vx_resampler *r, const float *in, size_t frames, const float **out, size_t *n) {
    size_t got = 0, used = 0;
    *out = r->out;
    *n = 0;
    for (;;) {
        size_t want = (size_t)ceil((frames - used) * r->ratio) + 256;
        if (ensure(r, got + want)) return -1;
        size_t idone = 0, odone = 0;
        soxr_error_t e = soxr_process(r->s, in ? in + used * r->channels : NULL, frames - used,
                                      &idone, r->out + got * r->channels, want, &odone);
        if (e) return -1;
        used += idone;
        got += odone;
        if (in ? used == frames && odone < want : odone == 0) break;
    }
    *out = r->out;
    *n = got;
    r->out_total += got;
    return 0;
}

int vx_resampler_push(vx_resampler *r, const float *in, size_t frames, const float **out,
                      size_t *out_frames) {
    if (r->finished) return -1;
    r->in_total += frames;
    if (!frames) {
        *out = r->out;
        *out_frames = 0;
        return 0;
    }
    return run(r, in, frames, out, out_frames);
}

int vx_resampler_finish(vx_resampler *r, const float **out, size_t *out_frames) {
    if (r->finished) return -1;
    r->finished = 1;
    return run(r, NULL, 0, out, out_frames);
}

void vx_resampler_free(vx_resampler *r) {
    if (!r) return;
    if (r->s) soxr_delete(r->s);
    free(r->out);
    free(r);
}

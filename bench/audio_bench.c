/* Encoding and resampling cost against synthesis, per format (issue 14: <= 5% of synthesis
 * time for the medium voice). bench/audio.sh builds and runs it.
 *
 * It synthesizes a multi-sentence text with the medium Piper voice on one thread, then
 * encodes that audio in every format (and resamples it to the rates the server produces),
 * pushing it in the chunks synthesis produced. All times are the calling thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), best of BENCH_REPS runs, so other load on a shared machine
 * shifts both sides alike; the ratio is encode CPU / synthesis CPU for the same audio.
 *
 * Resampling: libsoxr only. Its polyphase/FFT stages are already SIMD (chosen at run time)
 * and the rows below show resampling at well under 1% of synthesis, so an own polyphase
 * kernel with its own dispatch could not buy anything measurable; the bench prints the
 * three libsoxr qualities so the HQ choice (src/audio/resample.c) is visible. */
#include "audio/encoder.h"
#include "audio/resample.h"
#include "vox.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
    size_t off, n;
} chunk;

static const char *TEXT =
    "The quick brown fox jumps over the lazy dog. Speech servers stream audio as it is made, "
    "one sentence at a time, so the listener hears the start while the rest is computed. "
    "Every format must keep up with synthesis without adding noticeable cost. "
    "This paragraph is long enough to give a stable measurement of encoding speed. "
    "How fast is fast enough? Far faster than real time, on a single core.";

static float *audio;
static size_t n_audio, n_chunks;
static chunk chunks[256];
static int rate;

/* One encode of all the audio (optionally resampled first); returns CPU seconds, bytes. */
static double encode_once(vx_audio_format f, int out_rate, vx_resample_quality q, size_t *bytes) {
    char err[256];
    double t0 = cpu_now();
    vx_resampler *r = NULL;
    if (out_rate != rate) r = vx_resampler_create(rate, out_rate, 1, q, err, sizeof err);
    vx_encoder *e = (int)f >= 0 ? vx_encoder_create(f, out_rate, 1, NULL, err, sizeof err) : NULL;
    if ((out_rate != rate && !r) || ((int)f >= 0 && !e)) {
        fprintf(stderr, "bench: %s\n", err);
        exit(1);
    }
    size_t total = 0, len;
    for (size_t c = 0; c <= n_chunks; c++) {
        const float *p = audio + (c < n_chunks ? chunks[c].off : 0);
        size_t n = c < n_chunks ? chunks[c].n : 0;
        if (r) {
            int rc =
                c < n_chunks ? vx_resampler_push(r, p, n, &p, &n) : vx_resampler_finish(r, &p, &n);
            if (rc) exit(1);
        }
        if (e) {
            if (n && vx_encoder_push_f32(e, p, n)) exit(1);
            if (c == n_chunks && vx_encoder_finish(e)) exit(1);
            vx_encoder_data(e, &len);
            vx_encoder_consume(e, len);
            total += len;
        }
    }
    vx_encoder_free(e);
    vx_resampler_free(r);
    *bytes = total;
    return cpu_now() - t0;
}

int main(int argc, char **argv) {
    const char *model = argc > 1 ? argv[1] : "../shared/models/en_US-rand-medium.onnx";
    int reps = getenv("BENCH_REPS") ? atoi(getenv("BENCH_REPS")) : 3;
    if (reps < 1) reps = 1;
    vox_load_options lo;
    vox_load_options_init(&lo);
    lo.threads = 1;
    vox_voice *v;
    char err[256];
    if (vox_voice_load(model, &lo, &v, err, sizeof err) != VOX_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    vox_voice_info info;
    vox_voice_get_info(v, &info);
    rate = info.sample_rate;
    vox_synth_options so;
    vox_synth_options_init(&so);
    so.threads = 1;
    struct {
        int fmt;
        int rate;
        vx_resample_quality q;
        const char *label;
    } rows[] = {
        {VX_AUDIO_MP3, 0, VX_RESAMPLE_HQ, "mp3"},
        {VX_AUDIO_OPUS, 0, VX_RESAMPLE_HQ, "opus"},
        {VX_AUDIO_AAC, 0, VX_RESAMPLE_HQ, "aac"},
        {VX_AUDIO_FLAC, 0, VX_RESAMPLE_HQ, "flac"},
        {VX_AUDIO_WAV, 0, VX_RESAMPLE_HQ, "wav"},
        {VX_AUDIO_PCM, 0, VX_RESAMPLE_HQ, "pcm"},
        {VX_AUDIO_PCM, 24000, VX_RESAMPLE_HQ, "pcm (OpenAI 24k)"},
        {VX_AUDIO_MP3, 24000, VX_RESAMPLE_HQ, "mp3 resampled"},
        {VX_AUDIO_MP3, 48000, VX_RESAMPLE_HQ, "mp3 resampled"},
        {VX_AUDIO_AAC, 24000, VX_RESAMPLE_HQ, "aac resampled"},
        {VX_AUDIO_AAC, 48000, VX_RESAMPLE_HQ, "aac resampled"},
        {VX_AUDIO_FLAC, 48000, VX_RESAMPLE_HQ, "flac resampled"},
        {-1, 24000, VX_RESAMPLE_MQ, "soxr MQ only"},
        {-1, 24000, VX_RESAMPLE_HQ, "soxr HQ only"},
        {-1, 24000, VX_RESAMPLE_VHQ, "soxr VHQ only"},
        {-1, 48000, VX_RESAMPLE_HQ, "soxr HQ only"},
        {-1, 8000, VX_RESAMPLE_HQ, "soxr HQ only"},
    };
    enum { NROWS = sizeof rows / sizeof rows[0] };
    double best[NROWS], synth = 1e30;
    size_t bytes[NROWS];
    for (int i = 0; i < NROWS; i++) best[i] = 1e30;
    /* synthesis and every row once per repetition, so a change in machine load during the
     * run hits both sides of the ratio alike */
    for (int rep = 0; rep < reps; rep++) {
        vox_synth *s;
        n_audio = n_chunks = 0;
        double t0 = cpu_now();
        if (vox_synth_start(v, TEXT, strlen(TEXT), &so, &s) != VOX_OK) return 1;
        for (;;) {
            vox_chunk c;
            if (vox_synth_next(s, &c) != VOX_OK) {
                fprintf(stderr, "bench: synthesis failed\n");
                return 1;
            }
            if (c.n_samples && n_chunks < 256) {
                audio = realloc(audio, (n_audio + c.n_samples) * sizeof(float));
                memcpy(audio + n_audio, c.samples, c.n_samples * sizeof(float));
                chunks[n_chunks++] = (chunk){n_audio, c.n_samples};
                n_audio += c.n_samples;
            }
            if (c.last) break;
        }
        double t = cpu_now() - t0;
        vox_synth_free(s);
        if (t < synth) synth = t;
        for (int i = 0; i < NROWS; i++) {
            int r = rows[i].rate ? rows[i].rate : rate;
            double te = encode_once((vx_audio_format)rows[i].fmt, r, rows[i].q, &bytes[i]);
            if (te < best[i]) best[i] = te;
        }
    }
    double secs = (double)n_audio / rate;
    printf("voice %s (%d Hz): %.2f s of audio in %zu chunks, synthesis %.3f s CPU "
           "(%.1f ms per audio second, 1 thread), best of %d\n\n",
           info.name, rate, secs, n_chunks, synth, synth / secs * 1e3, reps);
    printf("%-26s %10s %10s %12s %8s\n", "format @ rate", "bytes", "CPU ms", "ms/audio s",
           "% synth");
    double worst = 0, worst_default = 0;
    for (int i = 0; i < NROWS; i++) {
        int r = rows[i].rate ? rows[i].rate : rate;
        char label[64];
        snprintf(label, sizeof label, "%s @ %d", rows[i].label, r);
        double pct = best[i] / synth * 100;
        if (pct > worst) worst = pct;
        if ((!rows[i].rate || i == 6) && pct > worst_default) worst_default = pct;
        printf("%-26s %10zu %10.2f %12.3f %7.2f%%\n", label, bytes[i], best[i] * 1e3,
               best[i] / secs * 1e3, pct);
    }
    printf("\nserver defaults (voice rate; pcm at 24 kHz): worst %.2f%% of synthesis (budget 5%%): "
           "%s\n",
           worst_default, worst_default <= 5 ? "within budget" : "OVER BUDGET");
    printf("any row: worst %.2f%%: %s\n", worst, worst <= 5 ? "within budget" : "over budget");
    vox_voice_free(v);
    free(audio);
    return worst_default <= 5 ? 0 : 2;
}

/* Chunks from inside a sentence (vox.h: the chunk contract). A Piper voice with
 * normalize OFF or STEADY and chunk_frames > 0 gives several chunks per sentence: same
 * sentence_index and text span, timings with the first, last only at the very end, and
 * the chunks concatenated equal the one-chunk-per-sentence audio bit for bit. STEADY never
 * reaches full scale; PEAK (the default) keeps one chunk per sentence. */
#include "test.h"
#include "vox.h"
#include <math.h>

typedef struct run_out {
    float *x;
    size_t n;
    int chunks, sentences, first_words, later_words, bad_last, bad_span;
    float peak;
} run_out;

static void run(vox_voice *v, const char *text, const vox_synth_options *o, run_out *r) {
    memset(r, 0, sizeof *r);
    vox_synth *s = NULL;
    int rc = vox_synth_start(v, text, strlen(text), o, &s);
    CHECKF(rc == VOX_OK, "start: %d", rc);
    if (rc) return;
    int prev_idx = -1;
    size_t span_off = 0, span_len = 0;
    for (int guard = 0; guard < 100000; guard++) {
        vox_chunk c;
        rc = vox_synth_next(s, &c);
        CHECKF(rc == VOX_OK, "next: %s", vox_synth_error(s));
        if (rc) break;
        if (c.n_samples) {
            float *nx = realloc(r->x, (r->n + c.n_samples) * sizeof(float));
            if (!nx) break;
            r->x = nx;
            memcpy(r->x + r->n, c.samples, c.n_samples * sizeof(float));
            r->n += c.n_samples;
            for (size_t i = 0; i < c.n_samples; i++) r->peak = fmaxf(r->peak, fabsf(c.samples[i]));
            r->chunks++;
            if (c.sentence_index != prev_idx) {
                r->sentences++;
                r->first_words += c.n_words > 0;
                span_off = c.text_offset;
                span_len = c.text_length;
            } else {
                r->later_words += c.n_words > 0;
                r->bad_span += c.text_offset != span_off || c.text_length != span_len;
            }
            prev_idx = c.sentence_index;
        }
        if (c.last) break;
    }
    vox_synth_free(s);
}

int main(void) {
    char path[2048], err[512] = "";
    snprintf(path, sizeof path, "%s/models/en_US-rand-medium.onnx", test_shared_dir());
    vox_voice *v = NULL;
    CHECKF(vox_voice_load(path, NULL, &v, err, sizeof err) == VOX_OK, "%s", err);
    if (!v) TEST_SUMMARY();
    const char *text = "This is a rather long sentence, with commas and clauses, so that streaming "
                       "inside it matters. "
                       "And a second one.";
    vox_synth_options o;
    vox_synth_options_init(&o);
    CHECK_EQ_INT(o.chunk_frames, 8);
    CHECK_EQ_INT(o.normalize, VOX_NORMALIZE_PEAK);
    o.noise_scale = 0.667f;
    o.noise_w = 0.8f;
    o.seed = 99;
    o.timings = 1;
    o.sentence_silence = 0.1f;
    run_out whole, part, steady, steady_whole, peak;
    o.normalize = VOX_NORMALIZE_OFF;
    o.chunk_frames = 0;
    run(v, text, &o, &whole);
    o.chunk_frames = 8;
    run(v, text, &o, &part);
    printf("off: whole %d chunks / %zu samples, streamed %d chunks / %zu samples, %d sentences\n",
           whole.chunks, whole.n, part.chunks, part.n, part.sentences);
    CHECK_EQ_INT(whole.chunks, 2);
    CHECK(part.chunks >= 8);
    CHECK_EQ_INT(part.sentences, 2);
    CHECK_EQ_INT(part.first_words, 2);
    CHECK_EQ_INT(part.later_words, 0);
    CHECK_EQ_INT(part.bad_span, 0);
    CHECK_EQ_INT((int64_t)part.n, (int64_t)whole.n);
    CHECK(part.n == whole.n && part.x && whole.x &&
          !memcmp(part.x, whole.x, part.n * sizeof(float)));
    /* steady: streamed == whole-sentence steady; below full scale */
    o.normalize = VOX_NORMALIZE_STEADY;
    run(v, text, &o, &steady);
    o.chunk_frames = 0;
    run(v, text, &o, &steady_whole);
    printf("steady: %d chunks, peak %.3f\n", steady.chunks, steady.peak);
    CHECK(steady.chunks >= 8);
    CHECK(steady.n == steady_whole.n && steady.x &&
          !memcmp(steady.x, steady_whole.x, steady.n * sizeof(float)));
    CHECK(steady.peak < 1.0f && steady.peak > 0.05f);
    /* peak (Piper's): one chunk per sentence even with chunk_frames */
    o.normalize = VOX_NORMALIZE_PEAK;
    o.chunk_frames = 8;
    run(v, text, &o, &peak);
    CHECK_EQ_INT(peak.chunks, 2);
    CHECK_EQ_INT((int64_t)peak.n, (int64_t)whole.n);
    /* the knob's range */
    vox_synth *s = NULL;
    o.chunk_frames = VOX_CHUNK_FRAMES_MAX + 1;
    CHECK_EQ_INT(vox_synth_start(v, text, strlen(text), &o, &s), VOX_ERR_ARG);
    vox_synth_free(s); /* handed out on error too (vox_synth_error) */
    o.chunk_frames = 8;
    o.normalize = 3;
    CHECK_EQ_INT(vox_synth_start(v, text, strlen(text), &o, &s), VOX_ERR_ARG);
    vox_synth_free(s);
    free(whole.x);
    free(part.x);
    free(steady.x);
    free(steady_whole.x);
    free(peak.x);
    vox_voice_free(v);
    TEST_SUMMARY();
}

/* vox_load_options.precision on a Piper voice (the shared medium model): bf16 and int8
 * give the FP32 sample count and word timings exactly (the text encoder and duration
 * predictor stay FP32) and audio within the SNR floors (bf16 >= 30 dB, int8 >= 20
 * dB against FP32); an out-of-range precision is refused. Noise off so runs compare
 * sample for sample. */
#include "test.h"
#include "vox.h"

typedef struct audio {
    float *x;
    size_t n;
    double ends[64];
    size_t n_words;
} audio;

static int speak(vox_voice *v, const char *text, audio *a, char *err, size_t errlen) {
    memset(a, 0, sizeof *a);
    vox_synth_options o;
    vox_synth_options_init(&o);
    o.noise_scale = 0.0f;
    o.noise_w = 0.0f;
    o.timings = 1;
    vox_synth *s = NULL;
    int rc = vox_synth_start(v, text, strlen(text), &o, &s);
    vox_chunk c;
    while (!rc && !(rc = vox_synth_next(s, &c))) {
        if (c.n_samples) {
            a->x = realloc(a->x, (a->n + c.n_samples) * sizeof *a->x);
            memcpy(a->x + a->n, c.samples, c.n_samples * sizeof *a->x);
            a->n += c.n_samples;
        }
        for (size_t i = 0; i < c.n_words && a->n_words < 64; i++)
            a->ends[a->n_words++] = c.words[i].end;
        if (c.last) break;
    }
    if (rc && err) snprintf(err, errlen, "%s", vox_synth_error(s));
    vox_synth_free(s);
    return rc;
}

int main(void) {
    char med[512], err[1024];
    snprintf(med, sizeof med, "%s/models/en_US-rand-medium.onnx", test_shared_dir());
    /* sanitizer runs (VOX_TEST_SLOW=0): the first sentence only */
    const char *slow = getenv("VOX_TEST_SLOW");
    const char *text =
        slow && !strcmp(slow, "0")
            ? "The quick brown fox jumps over the lazy dog."
            : "The quick brown fox jumps over the lazy dog. It was a bright cold day in April.";
    CHECK_EQ_INT(vox_precision_parse("bf16"), VOX_PRECISION_BF16);
    CHECK_EQ_INT(vox_precision_parse("int8"), VOX_PRECISION_INT8);
    CHECK_EQ_INT(vox_precision_parse("fp16"), -1);
    audio ref = {0};
    static const double floor_db[3] = {0, 30, 20};
    for (int p = VOX_PRECISION_FP32; p <= VOX_PRECISION_INT8; p++) {
        vox_load_options lo;
        vox_load_options_init(&lo);
        lo.threads = 2;
        lo.precision = p;
        vox_voice *v = NULL;
        int rc = vox_voice_load(med, &lo, &v, err, sizeof err);
        CHECKF(rc == VOX_OK, "precision %d: %s", p, err);
        if (rc) continue;
        audio a;
        rc = speak(v, text, &a, err, sizeof err);
        CHECKF(rc == VOX_OK, "precision %d: %s", p, err);
        if (p == VOX_PRECISION_FP32) {
            ref = a;
        } else if (!rc) {
            CHECK_EQ_INT(a.n, ref.n);
            CHECK_EQ_INT(a.n_words, ref.n_words);
            int same = a.n_words == ref.n_words;
            for (size_t i = 0; same && i < a.n_words; i++) same = a.ends[i] == ref.ends[i];
            CHECK(same);
            double s = a.n == ref.n ? test_snr_db(ref.x, a.x, a.n) : -1;
            printf("precision %s: %zu samples, SNR %.1f dB against FP32 (floor %.0f)\n",
                   p == VOX_PRECISION_BF16 ? "bf16" : "int8", a.n, s, floor_db[p]);
            CHECKF(s >= floor_db[p], "precision %d: SNR %.1f dB", p, s);
            free(a.x);
        }
        vox_voice_free(v);
    }
    free(ref.x);
    vox_load_options lo;
    vox_load_options_init(&lo);
    lo.precision = 3;
    vox_voice *v = NULL;
    CHECK_EQ_INT(vox_voice_load(med, &lo, &v, err, sizeof err), VOX_ERR_ARG);
    CHECK(v == NULL);
    TEST_SUMMARY();
}

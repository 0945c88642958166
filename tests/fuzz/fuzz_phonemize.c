/* libFuzzer target: the phonemizer (espeak and text modes) and id conversion on
 * arbitrary valid UTF-8. The first byte picks the mode. One espeak voice per process
 * (env VOX_FUZZ_VOICE, default en-us): libespeak-ng 1.51 itself leaks ~1.3 KB each
 * time the voice changes, which LeakSanitizer would report as ours. */
#include "voice/ids.h"
#include "text/phonemize.h"
#include "voice/piper_config.h"
#include "vox.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static vx_piper_config *g_cfg;

static void load_cfg(void) {
    static const char json[] =
        "{\"audio\":{\"sample_rate\":22050},\"espeak\":{\"voice\":\"en-us\"},\"num_symbols\":200,"
        "\"num_speakers\":1,\"vowel_clusters\":[[\"a\",\"ɪ\"]],\"phoneme_map\":{\"ə\":[\"a\",\"ɪ\"]"
        "},"
        "\"phoneme_id_map\":{\"_\":[0],\"^\":[1],\"$\":[2],\" "
        "\":[3],\"a\":[14],\"ɪ\":[74],\"aɪ\":[161],"
        "\".\":[10],\",\":[8]}}";
    char err[128];
    if (vx_piper_config_parse(json, sizeof json - 1, &g_cfg, err, sizeof err)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *voice;
    if (!voice) voice = getenv("VOX_FUZZ_VOICE") ? getenv("VOX_FUZZ_VOICE") : "en-us";
    if (size < 1 || size > 4096) return 0;
    if (!g_cfg) load_cfg();
    const char *text = (const char *)data + 1;
    size_t len = size - 1, bad;
    if (vox_utf8_check(text, len, &bad) != VOX_OK) return 0;
    vx_phonemize_opts o = {voice, NULL, data[0] & 1};
    vx_sentence *s;
    size_t n;
    char err[256];
    if (vx_phonemize(&o, text, len, &s, &n, err, sizeof err)) return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].offset + s[i].length > len) abort();
        for (size_t w = 0; w < s[i].n_words; w++)
            if (s[i].words[w].offset + s[i].words[w].length > len ||
                s[i].words[w].ph_start > s[i].words[w].ph_end ||
                s[i].words[w].ph_end > s[i].n_phonemes)
                abort();
        int64_t *ids;
        int32_t *src;
        size_t ni;
        if (vx_phonemes_to_ids(g_cfg, s[i].phonemes, s[i].n_phonemes, &ids, &ni, &src, err,
                               sizeof err) == 0) {
            for (size_t k = 0; k < ni; k++)
                if (src[k] >= (int32_t)s[i].n_phonemes) abort();
            free(ids);
            free(src);
        }
    }
    vx_sentences_free(s, n);
    return 0;
}

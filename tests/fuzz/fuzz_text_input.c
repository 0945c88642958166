/* libFuzzer: arbitrary bytes through the text input path (UTF-8 check, control
 * scrubbing, espeak-ng sentence split, synthesis of the first sentence). */
#include "vox.h"
#include <stdlib.h>

static vox_voice *voice;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!voice && vox_voice_load("espeak:en-us", NULL, &voice, NULL, 0) != VOX_OK) abort();
    if (size > 512) return 0; /* long inputs only cost time; limits are tested elsewhere */
    vox_span *sp = NULL;
    size_t n = 0;
    if (vox_split_sentences(voice, (const char *)data, size, &sp, &n, NULL, 0) == VOX_OK) {
        for (size_t i = 0; i < n; i++)
            if (sp[i].offset > size || sp[i].length > size - sp[i].offset) abort();
    }
    free(sp);
    vox_synth *s = NULL;
    if (vox_synth_start(voice, (const char *)data, size, NULL, &s) == VOX_OK) {
        vox_chunk c;
        if (vox_synth_next(s, &c) == VOX_OK && c.text_offset + c.text_length > size) abort();
    }
    vox_synth_free(s);
    return 0;
}

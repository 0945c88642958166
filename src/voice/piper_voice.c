/* Piper (VITS ONNX) voices: placeholder until the engine lands. */
#include "voice/voice.h"
#include <stdio.h>

int vx_piper_voice_load(const char *onnx_path, const vox_load_options *o, vox_voice **out,
                        char *err, size_t errlen) {
    (void)o; *out = NULL;
    snprintf(err, errlen, "Piper voices are not supported by this build yet: '%s'", onnx_path);
    return VOX_ERR_UNSUPPORTED;
}

int vx_piper_voice_print_phonemes(vox_voice *v, const char *text, size_t len, FILE *f,
                                  char *err, size_t errlen) {
    (void)v; (void)text; (void)len; (void)f;
    snprintf(err, errlen, "--phonemes needs a Piper voice");
    return VOX_ERR_UNSUPPORTED;
}

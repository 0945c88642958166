/* Piper (VITS ONNX) voices: placeholder until the engine lands. */
#include "voice/voice.h"
#include <stdio.h>

int vx_piper_voice_load(const char *onnx_path, const vox_load_options *o, vox_voice **out,
                        char *err, size_t errlen) {
    (void)o; *out = NULL;
    snprintf(err, errlen, "Piper voices are not supported by this build yet: '%s'", onnx_path);
    return VOX_ERR_UNSUPPORTED;
}

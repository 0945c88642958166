/* Where Piper voices are looked up by name: one answer for loading and listing. */
#ifndef VX_API_VOICES_H
#define VX_API_VOICES_H
#include <limits.h>
#include "vox.h"

typedef struct vx_voice_dirs {
    const char *const *dirs;
    int n;
    const char *defaults[2];
    char home[PATH_MAX];
} vx_voice_dirs;

/* opt's data_dirs, or the defaults: ~/.local/share/vox/voices (when HOME is set), ".". */
void vx_voice_dirs_get(const vox_load_options *opt, vx_voice_dirs *out);
#endif

/*
 * espeak_names.h — the installed espeak-ng voices, listed once at start-up, so a request
 * for "espeak:<name>" is checked (and put in one canonical spelling) before anything is
 * loaded: an unknown name gets "not found" without touching espeak-ng, and every spelling
 * of one voice shares one registry entry.
 *
 * Accepted, ASCII case-insensitively, as libespeak-ng's espeak_SetVoiceByName would find
 * them: the voice file name ("en-us" for gmw/en-US), the voice's name when it is one word
 * ("afrikaans"), its main language as `vox --list-voices` lists it ("en-gb" for gmw/en);
 * then optionally "+<variant>", a file of espeak-ng's variant list ("f3", "Alex") or a
 * number (1-9: m1..m9, 10-19: f0..f9, espeak-ng's rule). The canonical spelling is
 * "espeak:<file name, lower case>[+<variant file name>]": "espeak:EN-US+13" and
 * "espeak:en-us+f3" are one voice. Variants alone, mbrola voices and names espeak-ng would
 * accept only by ignoring a part ("en-us+nosuch") are refused.
 *
 * Threads: built once (vx_espeak_names_build, under libvox's espeak lock), then immutable:
 * any thread may resolve without a lock.
 */
#ifndef VX_ESPEAK_NAMES_H
#define VX_ESPEAK_NAMES_H

#include <stddef.h>

#define VX_ESPEAK_NAME_MAX 64 /* longer file names, voice names, variants: not listed */

typedef struct vx_espeak_voice_name {
    char file[VX_ESPEAK_NAME_MAX]; /* identifier's last part, lower case: "en-us" */
    char name[VX_ESPEAK_NAME_MAX]; /* espeak-ng's voice name, lower case ("" if not one word) */
    char lang[VX_ESPEAK_NAME_MAX]; /* main language, lower case: "en-us" */
} vx_espeak_voice_name;

typedef struct vx_espeak_names {
    vx_espeak_voice_name *voices;
    int n_voices;
    char (*variants)[VX_ESPEAK_NAME_MAX]; /* variant file names as installed: "f3", "Alex" */
    int n_variants;
} vx_espeak_names;

/* List libespeak-ng's installed voices and variants (its default data dir). Returns a
 * VOX_ERR_* code with a message on failure (t is empty then). */
int vx_espeak_names_build(vx_espeak_names *t, char *err, size_t errlen);
void vx_espeak_names_free(vx_espeak_names *t);
/* Resolve `name` (after "espeak:") into out ("espeak:<canonical>"): 0, or -1 when it is
 * not an installed voice (or variant), or does not fit in outlen. */
int vx_espeak_names_resolve(const vx_espeak_names *t, const char *name, char *out, size_t outlen);

#endif

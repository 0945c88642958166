#include "text/espeak.h"
#include "vox.h"
#include <espeak-ng/speak_lib.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Mirrors libespeak-ng's own global state; see espeak.h. */
static pthread_mutex_t g_espeak_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_espeak_rate;        /* 0 = not initialized */
static char g_espeak_dir[1024];  /* data dir it was initialized with ("" = system) */
static char g_espeak_voice[128]; /* voice currently selected */

void vx_espeak_lock(void) { pthread_mutex_lock(&g_espeak_mu); }
void vx_espeak_unlock(void) { pthread_mutex_unlock(&g_espeak_mu); }

int vx_espeak_init_locked(const char *data_dir, char *err, size_t errlen) {
    const char *dir = data_dir ? data_dir : "";
    if (strlen(dir) >= sizeof g_espeak_dir) {
        snprintf(err, errlen, "espeak-ng data path too long");
        return VOX_ERR_ARG;
    }
    if (g_espeak_rate > 0 && !strcmp(dir, g_espeak_dir)) return g_espeak_rate;
    /* libespeak-ng quietly falls back to its built-in path when the folder given is
     * wrong; a user who named a folder must hear that it is not espeak-ng data. */
    char probe[1100];
    if (*dir && (snprintf(probe, sizeof probe, "%s/phontab", dir) >= (int)sizeof probe ||
                 access(probe, R_OK))) {
        snprintf(err, errlen, "'%s' is not an espeak-ng data folder (no phontab in it)", dir);
        return VOX_ERR_NOT_FOUND;
    }
    if (g_espeak_rate > 0) espeak_Terminate();
    g_espeak_rate = 0;
    g_espeak_voice[0] = 0;
    /* DONT_EXIT: espeak must report a missing data dir, not exit() our process.
     * PHONEME_EVENTS + IPA: synthesis reports each phoneme (in IPA) with its audio
     * position, which gives espeak voices per-phoneme timings. */
    int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, *dir ? dir : NULL,
                                 espeakINITIALIZE_DONT_EXIT | espeakINITIALIZE_PHONEME_EVENTS |
                                     espeakINITIALIZE_PHONEME_IPA);
    if (rate <= 0) {
        snprintf(err, errlen, "cannot initialize espeak-ng with data dir '%s'",
                 *dir ? dir : "(system default)");
        return VOX_ERR_ESPEAK;
    }
    g_espeak_rate = rate;
    memcpy(g_espeak_dir, dir, strlen(dir) + 1);
    return rate;
}

int vx_espeak_set_voice_locked(const char *name, char *err, size_t errlen) {
    if (!strcmp(name, g_espeak_voice)) return 0;
    if (strlen(name) >= sizeof g_espeak_voice || espeak_SetVoiceByName(name) != EE_OK) {
        snprintf(err, errlen, "unknown espeak-ng voice '%s'", name);
        g_espeak_voice[0] = 0;
        return VOX_ERR_NOT_FOUND;
    }
    memcpy(g_espeak_voice, name, strlen(name) + 1);
    return 0;
}

static int ascii_space(char c) { return c == ' ' || (c >= 9 && c <= 13) || c == 0 || c == 1; }

/* Inserted spaces: one before each character that would make a word longer than
 * VX_ESPEAK_MAX_WORD bytes. UTF-8 continuation bytes never start a new piece. */
static size_t break_at(const char *s, size_t i, size_t *run) {
    int cont = ((unsigned char)s[i] & 0xC0) == 0x80;
    if (ascii_space(s[i])) {
        *run = 0;
        return 0;
    }
    if (*run >= VX_ESPEAK_MAX_WORD - 3 && !cont) {
        *run = 1;
        return 1;
    }
    ++*run;
    return 0;
}

int vx_espeak_text(const char *s, size_t len, char **out, size_t *len_out, size_t **at) {
    size_t run = 0, extra = 0;
    for (size_t i = 0; i < len; i++) extra += break_at(s, i, &run);
    *out = malloc(len + extra + 1);
    *at = malloc((len + extra + 2) * sizeof **at);
    if (!*out || !*at) {
        free(*out);
        free(*at);
        *out = NULL;
        *at = NULL;
        return -1;
    }
    size_t j = 0;
    run = 0;
    for (size_t i = 0; i < len; i++) {
        if (break_at(s, i, &run)) {
            (*at)[j] = i;
            (*out)[j++] = ' ';
        }
        (*at)[j] = i;
        (*out)[j++] = (s[i] == 0 || s[i] == 1) ? ' ' : s[i];
    }
    (*out)[j] = 0;
    (*at)[j] = len;
    (*at)[j + 1] = len + 1;
    *len_out = j;
    return 0;
}
